"""The screenshot checks catch what they claim to: a blank picture, the wrong palette."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from tests.helpers.screenshots import check_screenshot

pytestmark = pytest.mark.gui


def _panel(background: str, text: str) -> QWidget:
    widget = QWidget()
    palette = widget.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor(background))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(text))
    widget.setPalette(palette)
    widget.setAutoFillBackground(True)
    layout = QVBoxLayout(widget)
    for line in ("Quarterly planning", "Alice, Bob and Carol", "Start of the conversation"):
        layout.addWidget(QLabel(line, widget))
    widget.resize(320, 200)
    return widget


def test_a_good_picture_passes_and_bad_ones_fail(qtbot, tmp_path: Path) -> None:
    light = _panel("#ffffff", "#202020")
    qtbot.addWidget(light)
    light.show()
    check_screenshot(light, tmp_path / "light.png", dark=False, key_widgets=(light,))
    with pytest.raises(AssertionError, match="dark background is light"):
        check_screenshot(light, tmp_path / "wrong.png", dark=True)

    blank = QWidget()
    qtbot.addWidget(blank)
    blank.resize(320, 200)
    blank.show()
    with pytest.raises(AssertionError, match="looks blank"):
        check_screenshot(blank, tmp_path / "blank.png", dark=False)

    faint = _panel("#ffffff", "#dddddd")  # text too pale to read
    qtbot.addWidget(faint)
    faint.show()
    with pytest.raises(AssertionError, match="contrast"):
        check_screenshot(faint, tmp_path / "faint.png", dark=False)

    hidden = QLabel("off the edge", light)
    hidden.setGeometry(300, 180, 200, 40)
    hidden.show()
    with pytest.raises(AssertionError, match="cut off"):
        check_screenshot(light, tmp_path / "clipped.png", dark=False, key_widgets=(hidden,))
