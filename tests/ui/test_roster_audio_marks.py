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
from ui.audio_glyph import (
    BAR,
    BAR_GAP,
    GLYPH,
    LEVEL_WIDTH,
    SPEAKING,
    lit_bars,
    paint_level,
    paint_mic,
)
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


def test_a_level_change_repaints_that_row_and_says_nothing_new(qtmodeltester) -> None:
    model = RosterModel("!r:hs", None, meeting(), show_lobby=True)
    changes: list[tuple[QModelIndex, QModelIndex, list[int]]] = []
    model.dataChanged.connect(lambda first, last, roles: changes.append((first, last, roles)))
    bob = model.index_of("@bob:hs")
    model.set_audio("@bob:hs", UserAudio(muted=False, speaking=True, level=0.3))
    words = bob.data(Qt.ItemDataRole.AccessibleTextRole)
    model.set_audio("@bob:hs", UserAudio(muted=False, speaking=True, level=0.7))
    assert changes[-1] == (bob, bob, [RosterRole.AUDIO])  # only the bars repaint
    assert bob.data(RosterRole.AUDIO).level == 0.7
    assert bob.data(Qt.ItemDataRole.AccessibleTextRole) == words
    model.set_audio("@bob:hs", UserAudio(muted=True, speaking=False, level=0.0))
    first, last, roles = changes[-1]
    assert (first, last) == (bob, bob) and Qt.ItemDataRole.AccessibleTextRole in roles
    assert len(changes) == 3
    qtmodeltester.check(model)


def test_devices_fold_into_one_mark() -> None:
    assert fold({}) is None
    both = fold({"A": device("A", muted=True), "B": device("B")})
    assert both == UserAudio(muted=False, speaking=False)  # one device still sends
    assert fold({"A": device("A", muted=True), "B": device("B", muted=True)}).muted
    assert fold({"A": device("A"), "B": device("B", speaking=True)}).speaking
    loud = AudioParticipant("@bob:hs", "B", False, False, False, True, True, 0.8)
    assert fold({"A": device("A"), "B": loud}).level == 0.8  # the loudest device
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


@pytest.mark.parametrize(
    ("level", "lit"), [(0.0, 0), (0.1, 1), (0.3, 2), (0.5, 2), (0.7, 3), (1.0, 4)]
)
def test_level_bars_light_with_the_level(level: float, lit: int, qapp) -> None:
    assert lit_bars(level) == lit
    image = QImage(LEVEL_WIDTH, GLYPH, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    paint_level(painter, QRect(0, 0, LEVEL_WIDTH, GLYPH), level, QColor("#202020"))
    painter.end()
    green = {
        x // (BAR + BAR_GAP)
        for x in range(LEVEL_WIDTH)
        for y in range(GLYPH)
        if QColor(image.pixel(x, y)) == SPEAKING
    }
    assert green == set(range(lit))


def test_parts_share_a_window_shortcut(qapp) -> None:
    """The call bar's Ctrl+Shift+M stays the only one: two would both go dead."""
    window = QWidget()
    first = window_shortcut(window, "Ctrl+Shift+M")
    assert window_shortcut(window, "Ctrl+Shift+M") is first
    assert window_shortcut(window, "Ctrl+Shift+L") is not first
    assert len(window.findChildren(QShortcut)) == 2
    window.deleteLater()
