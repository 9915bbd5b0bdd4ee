"""The meeting's audio in its window: the Join audio button and the audio bar.

A window part: **Join audio** sits in the meeting header (the meeting pane places
it); the bar sits in the banner area while you are in the audio: "In the
meeting's audio · 3 people" with **Mute** / **Unmute**, **Leave audio** and, for
presenters, **Presenter controls** (Mute all attendees, Attendees can't unmute).
When a presenter muted you the bar says so, and while attendees can't unmute,
Unmute is greyed out with the reason as its tooltip. Without a microphone the
audio goes on receive-only and the bar says so plainly on a second line, looked
at again every few seconds (off the UI thread) so that plugging one in (or
unplugging the last one) shows. The engine does the work
and makes the rules (engine.meeting_calls: whether I may unmute too); the bar
follows its events, the presenters' policy changes among them. Failures show in the
window's error bar, worded for people (ui/meeting_audio_text.py). Closing the
window leaves the audio (not the meeting).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QWidget,
)

from engine.calls.meeting_call_errors import MeshLimitReached
from engine.calls.meeting_call_events import (
    AudioParticipant,
    AudioParticipantChanged,
    AudioPolicyChanged,
    MeetingAudioChanged,
    MeetingAudioStateChanged,
)
from engine.conference_models import ConferenceDetails, ConferenceSession, Role, SessionState
from engine.errors import ConferoError
from engine.media.errors import MediaError, NoMicrophone
from ui import audio_bar_style as style
from ui import theme
from ui.accessibility import announce
from ui.bridge import disconnect_all
from ui.engine_calls import failure_words, spawn_detached
from ui.meeting_audio_text import (
    CANNOT_UNMUTE_REASON,
    CONNECTING,
    JOIN_AUDIO,
    JOIN_AUDIO_OTHERS_TIP,
    JOIN_AUDIO_SHORTCUT,
    JOIN_AUDIO_TIP,
    LEAVE_AUDIO,
    LEAVE_AUDIO_SHORTCUT,
    LEAVE_AUDIO_TIP,
    MUTE,
    MUTE_ALL,
    MUTE_ALL_TIP,
    MUTE_SHORTCUT,
    MUTE_TIP,
    NO_MICROPHONE_NOTE,
    NO_UNMUTE,
    NO_UNMUTE_TIP,
    NOT_IN_MEETING_REASON,
    ONLY_PRESENTERS_REASON,
    PRESENTER_CONTROLS,
    PRESENTER_CONTROLS_TIP,
    UNMUTE,
    UNMUTE_TIP,
    bar_text,
    mesh_full_text,
    people_text,
    state_words,
)

if TYPE_CHECKING:
    from ui.window_parts import PartContext


log = logging.getLogger(__name__)

_PRESENTING = (Role.LEADER, Role.PRESENTER)
#: How often the microphone is looked for while in the audio (a thread each time).
MICROPHONE_CHECK_MS = 3000
# (background, border, text): fixed pale colours with dark text, like the call bar.


def window_shortcut(window: QWidget, keys: str) -> QShortcut:
    """The window's shortcut for ``keys``, made if it has none.

    A window that was a two-party conversation keeps its call bar and that bar's
    Ctrl+Shift+M / Ctrl+Shift+S: two QShortcuts on one key would both go dead as
    ambiguous, so the parts share one and each acts only when its button shows.
    """
    sequence = QKeySequence(keys)
    for shortcut in window.findChildren(QShortcut):
        if shortcut.key() == sequence and shortcut.context() == Qt.ShortcutContext.WindowShortcut:
            return shortcut
    shortcut = QShortcut(sequence, window)
    shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
    return shortcut


class MeetingAudioBar(QFrame):
    """One meeting's audio for you: join, mute, leave, and the presenters' controls."""

    def __init__(self, context: PartContext, parent: QWidget) -> None:
        super().__init__(parent)
        self._engine, self._bridge = context.engine, context.bridge
        self._room_id = context.room_id
        self._banners, self._tasks = context.banners, context.tasks
        self._details: ConferenceDetails | None = context.engine.conferences.details(self._room_id)
        self._session: ConferenceSession | None = context.engine.conferences.session(self._room_id)
        self._participants: dict[tuple[str, str], AudioParticipant] = {}
        self._pending: set[QWidget | QAction] = set()
        self._joining = False
        self._colours: tuple[str, str, str] | None = None
        #: Why others can't hear you ("" while a microphone is there): a second line.
        self.device_note = ""
        self._checking_microphone = False
        self._microphone_timer = QTimer(self)
        self._microphone_timer.setInterval(MICROPHONE_CHECK_MS)
        self._microphone_timer.timeout.connect(self._spawn_microphone_check)
        #: Every line shown, in order (for tests and the screen-reader log).
        self.history: list[str] = []
        self.setObjectName("meetingAudioBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Meeting audio")

        #: Join audio, for the meeting header.
        self.join_button = QPushButton(theme.icon("phone"), JOIN_AUDIO, parent)
        self.join_button.setObjectName("joinAudioButton")
        self.join_button.setAccessibleName(JOIN_AUDIO)
        self.join_button.setToolTip(JOIN_AUDIO_TIP)
        self.join_button.setAutoDefault(False)

        self.label = QLabel(self)
        self.label.setObjectName("meetingAudioText")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.mute_button = self._button("meetingAudioMute", MUTE, MUTE_TIP)
        self.leave_button = self._button("meetingAudioLeave", LEAVE_AUDIO, LEAVE_AUDIO_TIP)
        self.controls_button = self._button(
            "presenterControls", f"{PRESENTER_CONTROLS} ▾", PRESENTER_CONTROLS_TIP
        )
        self.controls_button.setAccessibleName(PRESENTER_CONTROLS)
        # Opened with popup(), not as the button's own menu: that one runs a nested
        # event loop (exec), which would hold the window's asyncio work while open.
        self.controls_menu = QMenu(self.controls_button)
        self.controls_menu.setAccessibleName(PRESENTER_CONTROLS)
        self.controls_menu.setToolTipsVisible(True)
        self.mute_all_action = self.controls_menu.addAction(MUTE_ALL)
        self.mute_all_action.setToolTip(MUTE_ALL_TIP)
        self.no_unmute_action = self.controls_menu.addAction(NO_UNMUTE)
        self.no_unmute_action.setCheckable(True)
        self.no_unmute_action.setToolTip(NO_UNMUTE_TIP)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.label, 1)
        for widget in (self.mute_button, self.controls_button, self.leave_button):
            layout.addWidget(widget)

        window = parent.window()
        self._shortcuts: list[tuple[QShortcut, Callable[[], None]]] = [
            (window_shortcut(window, JOIN_AUDIO_SHORTCUT), self._on_join_keys),
            (window_shortcut(window, MUTE_SHORTCUT), lambda: self._click(self.mute_button)),
            (window_shortcut(window, LEAVE_AUDIO_SHORTCUT), lambda: self._click(self.leave_button)),
        ]
        self._connect_signals()
        self.hide()
        self._reload()

    def _button(self, name: str, text: str, tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setAccessibleName(text)
        button.setToolTip(tip)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.setAutoDefault(False)
        return button

    def _connect_signals(self) -> None:
        self._bridge.meeting_audio_changed.connect(self._on_meeting_audio_changed)
        self._bridge.meeting_audio_state_changed.connect(self._on_audio_state_changed)
        self._bridge.audio_participant_changed.connect(self._on_audio_participant_changed)
        self._bridge.audio_policy_changed.connect(self._on_audio_policy_changed)
        self.join_button.clicked.connect(self.join)
        self.mute_button.clicked.connect(self.toggle_mute)
        self.leave_button.clicked.connect(self.leave)
        self.controls_button.clicked.connect(self.open_controls)
        self.mute_all_action.triggered.connect(self.mute_all)
        self.no_unmute_action.triggered.connect(self._on_no_unmute_triggered)
        for shortcut, slot in self._shortcuts:
            shortcut.activated.connect(slot)

    def detach(self) -> None:
        """The window is closing: leave the audio too (you stay in the meeting's chat).

        Nothing would show any more that your microphone is live, nor offer Mute.
        """
        if self.in_audio:
            spawn_detached(self._engine.meeting_calls.leave_audio(self._room_id))
        disconnect_all(
            [
                (self._bridge.meeting_audio_changed, self._on_meeting_audio_changed),
                (self._bridge.meeting_audio_state_changed, self._on_audio_state_changed),
                (self._bridge.audio_participant_changed, self._on_audio_participant_changed),
                (self._bridge.audio_policy_changed, self._on_audio_policy_changed),
                *((shortcut.activated, slot) for shortcut, slot in self._shortcuts),
            ]
        )

    # -- public API -----------------------------------------------------------------

    @property
    def in_audio(self) -> bool:
        return self._engine.meeting_calls.in_audio(self._room_id)

    def text(self) -> str:
        """The line on show, "" while the bar is hidden."""
        return "" if self.isHidden() else self.label.text()

    def apply_details(self, details: ConferenceDetails | None) -> None:
        """Follow the meeting (my role decides the presenters' controls)."""
        self._details = details
        self._update()

    def apply_session(self, session: ConferenceSession | None) -> None:
        """Follow my session: Join audio only while I am in the meeting."""
        self._session = session
        self._reload()  # leaving the meeting left its audio too

    def open_controls(self) -> QMenu | None:
        """Show the presenters' controls under their button (mouse, Space or Enter)."""
        if not self._presenting():
            return None
        self._update_controls()
        button = self.controls_button
        self.controls_menu.popup(button.mapToGlobal(button.rect().bottomLeft()))
        return self.controls_menu

    def join(self) -> None:
        if not self.join_button.isVisible() or not self.join_button.isEnabled():
            return
        self._joining = True
        self._act(self.join_button, self._engine.meeting_calls.join_audio(self._room_id))

    def leave(self) -> None:
        if self.in_audio:
            self._act(self.leave_button, self._engine.meeting_calls.leave_audio(self._room_id))

    def toggle_mute(self) -> None:
        if self.in_audio:
            muted = not self._engine.meeting_calls.muted(self._room_id)
            self._act(self.mute_button, self._engine.meeting_calls.set_muted(self._room_id, muted))

    def mute_all(self) -> None:
        if self._presenting():
            self._act(
                self.mute_all_action, self._engine.meeting_calls.mute_all_attendees(self._room_id)
            )

    def set_attendees_can_unmute(self, allowed: bool) -> None:
        if self._presenting():
            work = self._engine.meeting_calls.set_attendees_can_unmute(self._room_id, allowed)
            self._act(self.no_unmute_action, work)

    # -- internals ------------------------------------------------------------------

    def _reload(self) -> None:
        participants = self._engine.meeting_calls.participants_in_audio(self._room_id)
        self._participants = {(p.user_id, p.device_id): p for p in participants}
        self._update()

    def _own(self) -> AudioParticipant | None:
        return next((p for p in self._participants.values() if p.is_you), None)

    def _count(self) -> int:
        return len({user_id for user_id, _device in self._participants})

    def _presenting(self) -> bool:
        return self._details is not None and self._details.my_role in _PRESENTING

    def _update(self) -> None:
        in_audio = self.in_audio
        if in_audio:
            self._joining = False
        self._follow_microphone(in_audio)
        connected = self._session is None or self._session.state is SessionState.CONNECTED
        count = self._count()
        self.join_button.setVisible(not in_audio)
        self.join_button.setEnabled(
            connected and not self._joining and self.join_button not in self._pending
        )
        if not connected:
            self.join_button.setToolTip(NOT_IN_MEETING_REASON)
        elif count:
            self.join_button.setToolTip(JOIN_AUDIO_OTHERS_TIP.format(count=people_text(count)))
        else:
            self.join_button.setToolTip(JOIN_AUDIO_TIP)
        self._update_controls()
        if not in_audio and not self._joining:
            self.hide()
            return
        joining = state_words(self._engine.meeting_calls.audio_state(self._room_id))
        if not in_audio:
            self._show_text(joining or CONNECTING, style.STARTING)  # clicked: on its way
            self.mute_button.hide()
            self.leave_button.hide()
            self.controls_button.hide()
            self.show()
            return
        own = self._own()
        muted = self._engine.meeting_calls.muted(self._room_id)
        by_presenter = bool(own and own.muted_by_presenter)
        locked = muted and not self._engine.meeting_calls.can_unmute(self._room_id)
        self.mute_button.show()
        self.leave_button.show()
        self.controls_button.show()
        text = UNMUTE if muted else MUTE
        self.mute_button.setText(text)
        self.mute_button.setAccessibleName(text)
        self.mute_button.setEnabled(not locked and self.mute_button not in self._pending)
        tip = CANNOT_UNMUTE_REASON if locked else UNMUTE_TIP if muted else MUTE_TIP
        self.mute_button.setToolTip(tip)
        self.mute_button.setAccessibleDescription(CANNOT_UNMUTE_REASON if locked else "")
        self.leave_button.setEnabled(self.leave_button not in self._pending)
        colours = style.HELD if by_presenter or locked else style.LIVE
        if joining:  # Connecting, Joining: the state, until the first link is up
            self._show_text(joining, style.STARTING)
        else:
            self._show_text(
                bar_text(count, muted=muted, by_presenter=by_presenter, locked=locked), colours
            )
        self.show()

    def _follow_microphone(self, in_audio: bool) -> None:
        """Look for a microphone while in the audio (at once on joining), not after."""
        if in_audio and not self._microphone_timer.isActive():
            self._microphone_timer.start()
            self._spawn_microphone_check()
        elif not in_audio and self._microphone_timer.isActive():
            self._microphone_timer.stop()
            self.device_note = ""

    def _spawn_microphone_check(self) -> None:
        if not self._checking_microphone:
            self._checking_microphone = True
            self._tasks.spawn(self._check_microphone())

    async def _check_microphone(self) -> None:
        """No microphone: the audio goes on receive-only; the bar says so."""
        note = ""
        try:
            await asyncio.to_thread(self._engine.media.check_microphone)
        except NoMicrophone:
            note = NO_MICROPHONE_NOTE
        except MediaError as exc:  # no sound server at all
            note = exc.user_message
        except Exception:
            log.exception("looking for a microphone failed")
        finally:
            self._checking_microphone = False
        if shiboken6.isValid(self) and self.in_audio and note != self.device_note:
            self.device_note = note
            self._update()

    def _update_controls(self) -> None:
        presenting = self._presenting()
        self.controls_button.setEnabled(presenting)
        self.controls_button.setToolTip(
            PRESENTER_CONTROLS_TIP if presenting else ONLY_PRESENTERS_REASON
        )
        self.controls_button.setAccessibleDescription("" if presenting else ONLY_PRESENTERS_REASON)
        policy = self._engine.meeting_calls.policy(self._room_id)
        self.no_unmute_action.setChecked(not policy.attendees_can_unmute)
        actions = ((self.mute_all_action, MUTE_ALL_TIP), (self.no_unmute_action, NO_UNMUTE_TIP))
        for action, tip in actions:
            action.setEnabled(presenting and action not in self._pending)
            action.setToolTip(tip if presenting else ONLY_PRESENTERS_REASON)

    def _show_text(self, text: str, colours: tuple[str, str, str]) -> None:
        if self.device_note:  # no microphone: said on a second line, in the warning colours
            text, colours = f"{text}\n{self.device_note}", style.HELD
        self._apply_colours(colours)
        if self.label.text() == text:
            return
        self.label.setText(text)
        self.setAccessibleDescription(text)
        self.history.append(text)
        announce(self, text)

    @staticmethod
    def _click(button: QPushButton) -> None:
        """A shortcut does what its button does, only when the button is on offer."""
        if button.isVisible() and button.isEnabled():
            button.click()

    def _act(self, what: QWidget | QAction, work: Coroutine[Any, Any, Any]) -> None:
        """Hand an engine call to the window's tasks; the bar follows the engine's events."""
        if what in self._pending:
            work.close()
            return
        self._pending.add(what)
        self._banners.clear_error()
        self._update()
        self._tasks.spawn(self._run(what, work))

    async def _run(self, what: QWidget | QAction, work: Awaitable[Any]) -> None:
        error = await failure_words(work, "a meeting audio action", self._words)
        if not shiboken6.isValid(self):
            return
        self._pending.discard(what)
        if what is self.join_button:
            self._joining = False
        self._reload()
        if error:
            self._banners.show_error(error)

    def _words(self, exc: ConferoError) -> str:
        if isinstance(exc, MeshLimitReached):
            return mesh_full_text(exc.limit)
        return exc.user_message

    def _apply_colours(self, colours: style.Colours) -> None:
        if colours == self._colours:
            return  # a style sheet costs: not on every "speaking" tick
        self._colours = colours
        self.setStyleSheet(
            style.bar_style_sheet(
                "meetingAudioBar", "meetingAudioText", colours, red="meetingAudioLeave"
            )
        )

    def _on_join_keys(self) -> None:
        self._click(self.join_button)

    def _on_no_unmute_triggered(self, checked: bool) -> None:
        self.set_attendees_can_unmute(not checked)

    def _on_meeting_audio_changed(self, event: MeetingAudioChanged) -> None:
        if event.room_id != self._room_id:
            return
        self._participants = {(p.user_id, p.device_id): p for p in event.participants}
        self._update()

    def _on_audio_state_changed(self, event: MeetingAudioStateChanged) -> None:
        if event.room_id == self._room_id:
            self._update()

    def _on_audio_policy_changed(self, event: AudioPolicyChanged) -> None:
        if event.room_id == self._room_id:
            self._update()

    def _on_audio_participant_changed(self, event: AudioParticipantChanged) -> None:
        if event.room_id != self._room_id:
            return
        participant = event.participant
        self._participants[(participant.user_id, participant.device_id)] = participant
        self._update()
