"""The call bar of a two-party conversation window, and its Call button.

A window part: the Call button sits in the window's header (the window places
it); the bar sits in the banner area and follows the engine's call in this
conversation: "Calling Bob…", "Bob is calling…" with Answer and Decline,
"Connecting…", "Connected 01:23" ticking every second with Mute, Hold and Hang
up, "On hold" / "You are on hold", then "Call ended: …", which can be dismissed
and fades away by itself after a few seconds. Every button has a window
shortcut (see ui/call_text.py). The engine does the calling; failures show in
the window's error bar.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Coroutine
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QEasingCurve, QPropertyAnimation, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsOpacityEffect,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QWidget,
)

from engine.calls.call_models import AvModalityState, Call
from engine.media.errors import MediaError, NoMicrophone
from ui import audio_bar_style as style
from ui import theme
from ui.accessibility import announce
from ui.banner import BannerKind
from ui.bridge import disconnect_all
from ui.call_text import (
    ANSWER,
    ANSWER_SHORTCUT,
    ANSWER_TIP,
    CALL,
    CALL_NAME,
    CALL_SHORTCUT,
    CALL_TIP,
    DECLINE,
    DECLINE_SHORTCUT,
    DECLINE_TIP,
    DISMISS_TIP,
    HANG_UP,
    HANG_UP_SHORTCUT,
    HANG_UP_TIP,
    HOLD,
    HOLD_SHORTCUT,
    HOLD_TIP,
    MUTE,
    MUTE_SHORTCUT,
    MUTE_TIP,
    NO_MICROPHONE_NOTE,
    RESUME,
    RESUME_TIP,
    UNMUTE,
    UNMUTE_TIP,
    call_state_text,
)
from ui.engine_calls import failure_words

if TYPE_CHECKING:
    from ui.window_parts import PartContext


S = AvModalityState
#: How long "Call ended: …" stays before it fades (ms), and the fade.
ENDED_VISIBLE_MS = 6_000
FADE_MS = 600
_TICK_MS = 1_000
_CLOCK = re.compile(r" ?\d+:\d\d(:\d\d)?")


class CallBar(QFrame):
    """The call of one two-party conversation: its state in words and its buttons."""

    def __init__(self, context: PartContext, parent: QWidget) -> None:
        super().__init__(parent)
        self._engine, self._bridge = context.engine, context.bridge
        self._room_id = context.room_id
        self._banners = context.banners
        self._tasks = context.tasks
        self._call: Call | None = None
        self._available = True  # a two-party conversation (the window says)
        self._pending: set[QPushButton] = set()  # buttons whose action is on its way
        self._mic_checked: set[str] = set()  # calls whose microphone was looked at
        #: Every line shown, in order (for tests and the screen-reader log).
        self.history: list[str] = []
        self.setObjectName("callBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Call")

        #: The Call button, for the window's header.
        self.call_button = QPushButton(theme.icon("phone"), CALL, parent)
        self.call_button.setObjectName("callButton")
        self.call_button.setAccessibleName(CALL_NAME)
        self.call_button.setToolTip(CALL_TIP.format(name=self._peer_name()))

        self.label = QLabel(self)
        self.label.setObjectName("callText")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.answer_button = self._button("callAnswer", ANSWER, ANSWER_TIP)
        self.decline_button = self._button("callDecline", DECLINE, DECLINE_TIP)
        self.mute_button = self._button("callMute", MUTE, MUTE_TIP)
        self.hold_button = self._button("callHold", HOLD, HOLD_TIP)
        self.hang_up_button = self._button("callHangUp", HANG_UP, HANG_UP_TIP)
        self.dismiss_button = QToolButton(self)
        self.dismiss_button.setObjectName("callDismiss")
        self.dismiss_button.setText("✕")
        self.dismiss_button.setAccessibleName("Dismiss the call's end")
        self.dismiss_button.setToolTip(DISMISS_TIP)
        self.dismiss_button.setAutoRaise(True)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.label, 1)
        for widget in (
            self.decline_button,
            self.answer_button,
            self.mute_button,
            self.hold_button,
            self.hang_up_button,
            self.dismiss_button,
        ):
            layout.addWidget(widget)

        window = parent.window()
        self._shortcuts = {
            CALL_SHORTCUT: self.place_call,
            ANSWER_SHORTCUT: lambda: self._click(self.answer_button),
            DECLINE_SHORTCUT: lambda: self._click(self.decline_button),
            MUTE_SHORTCUT: lambda: self._click(self.mute_button),
            HOLD_SHORTCUT: lambda: self._click(self.hold_button),
            HANG_UP_SHORTCUT: lambda: self._click(self.hang_up_button),
        }
        # Each key works only while its button shows: a meeting window's own
        # Ctrl+Shift+C/D/H (Copy link, Copy ID, Leave) would otherwise be ambiguous
        # with Call/Decline/Hang up, and Qt fires neither.
        buttons = {
            CALL_SHORTCUT: self.call_button,
            ANSWER_SHORTCUT: self.answer_button,
            DECLINE_SHORTCUT: self.decline_button,
            MUTE_SHORTCUT: self.mute_button,
            HOLD_SHORTCUT: self.hold_button,
            HANG_UP_SHORTCUT: self.hang_up_button,
        }
        self._key_buttons: list[tuple[QShortcut, QPushButton]] = []
        for keys, slot in self._shortcuts.items():
            shortcut = QShortcut(QKeySequence(keys), window)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
            self._key_buttons.append((shortcut, buttons[keys]))

        self._ticker = QTimer(self)
        self._ticker.setInterval(_TICK_MS)
        self._fade_timer = QTimer(self)
        self._fade_timer.setSingleShot(True)
        self._fade_timer.setInterval(ENDED_VISIBLE_MS)
        self._opacity = QGraphicsOpacityEffect(self)
        self._opacity.setOpacity(1.0)
        self._opacity.setEnabled(False)  # only while fading: it blurs nothing, but costs
        self.setGraphicsEffect(self._opacity)
        self._fade = QPropertyAnimation(self._opacity, b"opacity", self)
        self._fade.setDuration(FADE_MS)
        self._fade.setStartValue(1.0)
        self._fade.setEndValue(0.0)
        self._fade.setEasingCurve(QEasingCurve.Type.InQuad)

        self._connect_signals()
        self.hide()
        self.show_call(self._engine.calls.call_in(self._room_id))

    def _button(self, name: str, text: str, tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setAccessibleName(text)
        button.setToolTip(tip)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.hide()
        return button

    def _connect_signals(self) -> None:
        self._bridge.call_state_changed.connect(self._on_call_state_changed)
        self._bridge.incoming_call.connect(self._on_call_state_changed)
        self.call_button.clicked.connect(self.place_call)
        self.answer_button.clicked.connect(self.answer)
        self.decline_button.clicked.connect(self.decline)
        self.mute_button.clicked.connect(self.toggle_mute)
        self.hold_button.clicked.connect(self.toggle_hold)
        self.hang_up_button.clicked.connect(self.hang_up)
        self.dismiss_button.clicked.connect(self._dismiss)
        self._ticker.timeout.connect(self._tick)
        self._fade_timer.timeout.connect(self._start_fade)
        self._fade.finished.connect(self._dismiss)

    def detach(self) -> None:
        self._ticker.stop()
        self._fade_timer.stop()
        disconnect_all(
            (
                (self._bridge.call_state_changed, self._on_call_state_changed),
                (self._bridge.incoming_call, self._on_call_state_changed),
            )
        )

    # -- public API -----------------------------------------------------------------

    @property
    def call(self) -> Call | None:
        """The call on show (live or just ended), if any."""
        return self._call

    def text(self) -> str:
        """The line on show, "" while the bar is hidden."""
        return "" if self.isHidden() else self.label.text()

    def set_available(self, available: bool) -> None:
        """Calls only in two-party conversations: the window says which this is."""
        self._available = available
        self.call_button.setVisible(available)
        self._update_call_button()
        self._sync_shortcuts()

    def place_call(self) -> None:
        if not self.call_button.isVisible() or not self.call_button.isEnabled():
            return
        self._act(self.call_button, self._engine.calls.place_call(self._room_id))

    def answer(self) -> None:
        if self._call is not None and self._call.state is S.NOTIFIED:
            self._act(self.answer_button, self._engine.calls.answer(self._call.call_id))

    def decline(self) -> None:
        if self._call is not None and self._call.state is S.NOTIFIED:
            self._act(self.decline_button, self._engine.calls.decline(self._call.call_id))

    def toggle_mute(self) -> None:
        if self._call is not None and self._call.live:
            muted = not self._call.muted
            self._act(self.mute_button, self._engine.calls.set_muted(self._call.call_id, muted))

    def toggle_hold(self) -> None:
        call = self._call
        if call is not None and call.state in (S.CONNECTED, S.ON_HOLD):
            work = self._engine.calls.set_on_hold(call.call_id, not call.on_hold)
            self._act(self.hold_button, work)

    def hang_up(self) -> None:
        if self._call is not None and self._call.live:
            self._act(self.hang_up_button, self._engine.calls.hang_up(self._call.call_id))

    def show_call(self, call: Call | None) -> None:
        """Show ``call`` (None: no call, the bar goes)."""
        self._show_call(call)
        self._sync_shortcuts()

    def _sync_shortcuts(self) -> None:
        window = self.window()
        for shortcut, button in self._key_buttons:
            shortcut.setEnabled(button.isVisibleTo(window))

    def _show_call(self, call: Call | None) -> None:
        self._call = call
        self._update_call_button()
        if call is None:
            self._ticker.stop()
            self.hide()
            return
        self._stop_fading()
        state = call.state
        ringing = state is S.NOTIFIED
        connected = state in (S.CONNECTED, S.ON_HOLD)
        live = call.live
        self.answer_button.setVisible(ringing)
        self.decline_button.setVisible(ringing)
        self.mute_button.setVisible(live and not ringing)
        self.hold_button.setVisible(connected)
        self.hang_up_button.setVisible(live and not ringing)
        self.dismiss_button.setVisible(not live)
        self._set_label(self.mute_button, UNMUTE if call.muted else MUTE)
        self.mute_button.setToolTip(UNMUTE_TIP if call.muted else MUTE_TIP)
        self._set_label(self.hold_button, RESUME if call.on_hold else HOLD)
        self.hold_button.setToolTip(RESUME_TIP if call.on_hold else HOLD_TIP)
        for button in self._buttons():
            button.setEnabled(button not in self._pending)
        if connected:
            if not self._ticker.isActive():
                self._ticker.start()
        else:
            self._ticker.stop()
        if not live:
            self._fade_timer.start()
        if state is S.CONNECTED and call.call_id not in self._mic_checked:
            self._mic_checked.add(call.call_id)
            self._tasks.spawn(self._check_microphone())
        self._apply_colours(call)
        self._show_text(call_state_text(call, self._peer_name(call.peer), time.time()))
        self.show()

    # -- internals ------------------------------------------------------------------

    def _buttons(self) -> tuple[QPushButton, ...]:
        return (
            self.answer_button,
            self.decline_button,
            self.mute_button,
            self.hold_button,
            self.hang_up_button,
        )

    @staticmethod
    def _set_label(button: QPushButton, text: str) -> None:
        button.setText(text)
        button.setAccessibleName(text)

    @staticmethod
    def _click(button: QPushButton) -> None:
        """A shortcut does what its button does, only when the button is on offer."""
        if button.isVisible() and button.isEnabled():
            button.click()

    def _show_text(self, text: str) -> None:
        self.label.setText(text)
        self.setAccessibleDescription(text)
        if not self.history or _kind(self.history[-1]) != _kind(text):
            self.history.append(text)
            announce(self, text)  # not every tick of the clock

    def _tick(self) -> None:
        if self._call is not None and self._call.live:
            self._show_text(call_state_text(self._call, self._peer_name(), time.time()))

    def _update_call_button(self) -> None:
        live = self._call is not None and self._call.live
        placing = self.call_button in self._pending
        self.call_button.setEnabled(self._available and not live and not placing)
        self.call_button.setToolTip(CALL_TIP.format(name=self._peer_name()))

    def _peer_name(self, user_id: str = "") -> str:
        if not user_id:
            if self._call is not None:
                user_id = self._call.peer
            elif info := self._engine.conversations.conversation(self._room_id):
                user_id = info.peer_user_id or ""
        return self._engine.session.display_name(user_id) if user_id else "them"

    def _act(self, button: QPushButton, work: Coroutine[Any, Any, Any]) -> None:
        """Hand an engine call to the window's tasks; the bar follows the call's events.

        Only the button clicked waits for its action: Hang up stays usable while the
        call is still being placed.
        """
        if button in self._pending:
            work.close()
            return
        self._pending.add(button)
        self._update_buttons()
        self._banners.clear_error()
        self._tasks.spawn(self._run(button, work))

    def _update_buttons(self) -> None:
        for button in self._buttons():
            button.setEnabled(button not in self._pending)
        self._update_call_button()
        self._sync_shortcuts()

    async def _run(self, button: QPushButton, work: Awaitable[Any]) -> None:
        error = await failure_words(work, "a call action")
        if not shiboken6.isValid(self):
            return
        self._pending.discard(button)
        self._update_buttons()
        if error:
            self._banners.show_error(error)

    async def _check_microphone(self) -> None:
        """A call without a microphone goes on receive-only: say so plainly."""
        devices = self._engine.media.devices
        if devices is None:
            return
        try:
            await asyncio.to_thread(devices.check_microphone)
        except NoMicrophone:
            if shiboken6.isValid(self):
                self._banners.error_bar.show_message(NO_MICROPHONE_NOTE, BannerKind.WARNING)
        except MediaError as exc:
            if shiboken6.isValid(self):
                self._banners.error_bar.show_message(exc.user_message, BannerKind.WARNING)

    def _on_call_state_changed(self, call: Call) -> None:
        if call.room_id != self._room_id:
            return
        current = self._call
        older = current is not None and current.call_id != call.call_id and current.live
        if older and not call.live:
            return  # an older call's end must not hide the live one
        self.show_call(call)

    def _start_fade(self) -> None:
        self._opacity.setEnabled(True)
        self._fade.start()

    def _stop_fading(self) -> None:
        self._fade_timer.stop()
        self._fade.stop()
        self._opacity.setOpacity(1.0)
        self._opacity.setEnabled(False)

    def _dismiss(self) -> None:
        self._stop_fading()
        if self._call is not None and not self._call.live:
            self._call = None
            self._ticker.stop()
            self.hide()
            self._update_call_button()
            self._sync_shortcuts()

    def _apply_colours(self, call: Call) -> None:
        if not call.live:
            colours = style.ENDED
        elif call.on_hold or call.remote_on_hold:
            colours = style.HELD
        elif call.state is S.CONNECTED:
            colours = style.LIVE
        else:
            colours = style.STARTING
        sheet = style.bar_style_sheet(
            "callBar", "callText", colours, red="callHangUp", green="callAnswer"
        )
        text = colours[2]
        self.setStyleSheet(
            sheet
            + f"""
            QToolButton#callDismiss {{ color: {text}; background: transparent; border: none;
                padding: 2px 6px; }}
            QToolButton#callDismiss:focus {{ border: 1px solid {text}; }}
            """
        )


def _kind(text: str) -> str:
    """The line without its ticking clock: "Connected 01:23" counts as "Connected"."""
    return _CLOCK.sub("", text)
