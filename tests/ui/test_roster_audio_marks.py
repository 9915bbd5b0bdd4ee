"""The roster's audio marks with synthetic participants: one row changes per update, the
words a screen reader hears, and one person's devices folded into one mark.

Pure model tests (no engine); the real path is in tests/ui/test_meeting_audio_gui.py.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QShortcut
from PySide6.QtWidgets import QWidget

from engine.calls.meeting_call_events import AudioParticipant
from tests.ui.test_roster_model import meeting
from ui.audio_glyph import paint_mic
from ui.meeting_audio_bar import window_shortcut
from ui.meeting_audio_text import UserAudio, audio_text, bar_text
from ui.roster_audio import fold
from ui.roster_model import RosterModel, RosterRole

pytestmark = pytest.mark.gui


def device(device_id: str, *, muted: bool = False, speaking: bool = False) -> AudioParticipant:
    return AudioParticipant("@bob:hs", device_id, False, muted, False, speaking, True)


def test_set_audio_changes_that_row_only(qtmodeltester) -> None:
    model = RosterModel("!r:hs", None, meeting(), show_lobby=True)
    changed: list[tuple[QModelIndex, QModelIndex]] = []
    model.dataChanged.connect(lambda first, last, _roles: changed.append((first, last)))
    bob = model.index_of("@bob:hs")
    assert bob.data(RosterRole.AUDIO) is None

    model.set_audio("@bob:hs", UserAudio(muted=False, speaking=True))
    assert changed == [(bob, bob)]
    assert bob.data(RosterRole.AUDIO) == UserAudio(muted=False, speaking=True)
    assert bob.data(Qt.ItemDataRole.AccessibleTextRole).endswith("in the call, speaking")
    assert "In the call, speaking" in bob.data(Qt.ItemDataRole.ToolTipRole)

    model.set_audio("@bob:hs", UserAudio(muted=False, speaking=True))  # no change: no signal
    assert len(changed) == 1
    model.set_audio("@bob:hs", UserAudio(muted=True, speaking=False))
    assert bob.data(Qt.ItemDataRole.AccessibleTextRole).endswith("in the call, muted")
    model.set_audio("@bob:hs", None)
    assert bob.data(RosterRole.AUDIO) is None
    assert "in the call" not in bob.data(Qt.ItemDataRole.AccessibleTextRole)
    assert len(changed) == 3
    # Someone not in the roster (yet): kept, no signal; shown once they arrive.
    model.set_audio("@zed:hs", UserAudio(muted=False, speaking=False))
    assert len(changed) == 3 and model.audio("@zed:hs") is not None
    qtmodeltester.check(model)


def test_devices_fold_into_one_mark() -> None:
    assert fold({}) is None
    both = fold({"A": device("A", muted=True), "B": device("B")})
    assert both == UserAudio(muted=False, speaking=False)  # one device still sends
    assert fold({"A": device("A", muted=True), "B": device("B", muted=True)}).muted
    assert fold({"A": device("A"), "B": device("B", speaking=True)}).speaking
    by_presenter = AudioParticipant("@bob:hs", "A", False, True, True, False, True)
    assert fold({"A": by_presenter}) == UserAudio(muted=True, speaking=False, by_presenter=True)
    assert audio_text(fold({"A": by_presenter})) == "in the call, muted by a presenter"


def test_bar_words() -> None:
    assert bar_text(1, muted=False, by_presenter=False, locked=False) == (
        "In the meeting's audio · 1 person"
    )
    assert bar_text(3, muted=True, by_presenter=False, locked=False).endswith("· muted")
    assert bar_text(3, muted=True, by_presenter=True, locked=False).startswith(
        "A presenter muted you"
    )
    assert "Attendees can't unmute" in bar_text(3, muted=True, by_presenter=True, locked=True)


@pytest.mark.parametrize(
    "audio", [UserAudio(False, False), UserAudio(True, False), UserAudio(False, True)]
)
def test_the_glyph_draws_something(audio: UserAudio, qapp) -> None:
    image = QImage(16, 16, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    paint_mic(painter, QRect(0, 0, 16, 16), audio, QColor("#202020"))
    painter.end()
    painted = {image.pixel(x, y) for x in range(16) for y in range(16)} - {0}
    assert len(painted) > 3
    red = any(QColor(p).red() > 150 and QColor(p).green() < 100 for p in painted)
    assert red == audio.muted  # the strike-through says muted


def test_parts_share_a_window_shortcut(qapp) -> None:
    """The call bar's Ctrl+Shift+M stays the only one: two would both go dead."""
    window = QWidget()
    first = window_shortcut(window, "Ctrl+Shift+M")
    assert window_shortcut(window, "Ctrl+Shift+M") is first
    assert window_shortcut(window, "Ctrl+Shift+L") is not first
    assert len(window.findChildren(QShortcut)) == 2
    window.deleteLater()
