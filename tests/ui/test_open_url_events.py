"""A matrix: link that macOS opens with Confero (a QFileOpenEvent) becomes a link to open."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from ui.open_url_events import OpenUrlEvents


def test_a_matrix_link_opened_by_the_system_is_handed_on(qtbot: QtBot, qapp: QApplication) -> None:
    events = OpenUrlEvents(qapp)
    link = "matrix:r/caf%C3%A9-sync:example.org?action=join&via=example.org"
    try:
        with qtbot.waitSignal(events.link_received) as received:
            QApplication.sendEvent(qapp, QFileOpenEvent(QUrl(link)))
        assert received.args == [link]
    finally:
        qapp.removeEventFilter(events)
        events.deleteLater()


def test_a_file_opened_by_the_system_is_not_a_link(qtbot: QtBot, qapp: QApplication) -> None:
    events = OpenUrlEvents(qapp)
    received: list[str] = []
    events.link_received.connect(received.append)
    try:
        QApplication.sendEvent(qapp, QFileOpenEvent(QUrl.fromLocalFile("/tmp/notes.txt")))
        QApplication.sendEvent(qapp, QFileOpenEvent(QUrl("matrix:u/alice:example.org")))
        assert received == ["matrix:u/alice:example.org"]
    finally:
        qapp.removeEventFilter(events)
        events.deleteLater()
