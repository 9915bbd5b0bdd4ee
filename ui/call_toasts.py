"""Incoming calls: a toast in the main window, a desktop notification and the ring tone.

Like the invitation toasts (ui/invitation_toasts.py): each ringing call gets a
toast saying who calls, with Answer and Decline; a desktop notification with
the same two buttons goes out when the main window is not in front (the tray's
message, without buttons, where the desktop has no notification server). The ring tone loops
while any call rings here. A call answered or declined (here, in its window, or on
another device) or given up by the caller takes its toast away and stops the ring.
Answer asks for the conversation's window (``open_requested``), whose call bar
follows the call from there.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.calls.call_models import AvModalityState, Call
from ui import theme
from ui.accessibility import announce
from ui.bridge import EngineBridge, disconnect_all
from ui.call_sounds import SoundPlayer, ring_samples
from ui.call_text import (
    ANSWER,
    ANSWER_TIP,
    DECLINE,
    DECLINE_TIP,
    TOAST_TITLE,
    toast_text,
)
from ui.engine_calls import failure_words
from ui.form_widgets import ErrorLabel
from ui.toast_stack import ToastStack

if TYPE_CHECKING:
    from engine.engine import Engine


NOTIFICATION_MS = 30_000
ANSWER_ACTION, DECLINE_ACTION = "answer", "decline"
#: The desktop notification's buttons: (action key, label).
NOTIFICATION_ACTIONS = ((ANSWER_ACTION, ANSWER), (DECLINE_ACTION, DECLINE))


class CallToast(QFrame):
    """One ringing call: who calls, Answer and Decline."""

    answer_clicked = Signal(str)
    decline_clicked = Signal(str)

    def __init__(self, call: Call, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.call = call
        self.setObjectName("callToast")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # Fixed pale colours with dark text, like the banners: a toast on light and dark alike.
        self.setStyleSheet(
            "#callToast { background: #dbe9ff; border: 1px solid #8fb6f2; border-radius: 6px; }"
            " QLabel#toastText { color: #0b2a5b; }"
            " #callToast QPushButton { color: #0b2a5b; background: rgba(255, 255, 255, 0.6);"
            " border: 1px solid #8fb6f2; border-radius: 4px; padding: 3px 12px; }"
            " #callToast QPushButton:focus { border: 2px solid #0b2a5b; }"
            " #callToast QPushButton#callAnswer { color: #ffffff; background: #1e7b34;"
            " border-color: #16602a; }"
            " #callToast QPushButton#callAnswer:focus { border: 2px solid #062b10; }"
        )
        headline = toast_text(name)
        self.icon_label = QLabel(self)
        self.icon_label.setPixmap(theme.icon("phone").pixmap(22, 22))
        self.title_label = QLabel(headline, self)
        self.title_label.setObjectName("toastText")
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.title_label.setWordWrap(True)
        theme.scale_font(self.title_label, 1.0, bold=True)
        self.error_label = ErrorLabel(self)
        self.answer_button = QPushButton(ANSWER, self)
        self.answer_button.setObjectName("callAnswer")
        self.answer_button.setAccessibleName(f"Answer the call from {name}")
        self.answer_button.setToolTip(ANSWER_TIP)
        self.decline_button = QPushButton(DECLINE, self)
        self.decline_button.setObjectName("callDecline")
        self.decline_button.setAccessibleName(f"Decline the call from {name}")
        self.decline_button.setToolTip(DECLINE_TIP)
        self.setAccessibleName(TOAST_TITLE)
        self.setAccessibleDescription(headline)

        top = QHBoxLayout()
        top.addWidget(self.icon_label, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.title_label, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.decline_button)
        buttons.addWidget(self.answer_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        call_id = call.call_id
        self.answer_button.clicked.connect(lambda: self.answer_clicked.emit(call_id))
        self.decline_button.clicked.connect(lambda: self.decline_clicked.emit(call_id))

    def set_busy(self, busy: bool) -> None:
        self.answer_button.setEnabled(not busy)
        self.decline_button.setEnabled(not busy)


class CallToasts(ToastStack[CallToast]):
    """The calls ringing here (by call ID), answered with Answer or Decline."""

    #: Answer was clicked: open the conversation's window (room_id).
    open_requested = Signal(str)

    def __init__(self, engine: Engine, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__("callToasts", "Incoming calls", parent)
        #: The ring tone's player (on the speaker chosen in Preferences).
        self.ringer = SoundPlayer()
        self._ring = ring_samples()
        self._engine = engine
        self._bridge = bridge
        bridge.incoming_call.connect(self._on_incoming)
        bridge.call_state_changed.connect(self._on_call_state_changed)
        for call in engine.calls.calls():
            if call.state is AvModalityState.NOTIFIED:
                self._add(call)
        self._stack_changed()

    @property
    def ringing(self) -> bool:
        return self.ringer.playing

    def set_speaker(self, name: str | None) -> None:
        self.ringer.speaker = name

    def detach(self) -> None:
        self._stop()
        self.ringer.stop()
        disconnect_all(
            (
                (self._bridge.incoming_call, self._on_incoming),
                (self._bridge.call_state_changed, self._on_call_state_changed),
            )
        )

    # -- internals ----------------------------------------------------------

    def _name(self, call: Call) -> str:
        return self._engine.session.display_name(call.peer)

    def _on_incoming(self, call: Call) -> None:
        if call.state is not AvModalityState.NOTIFIED:
            return
        toast = self._add(call)
        announce(toast, toast.accessibleDescription(), assertive=True)
        self._notify(
            call.call_id,
            TOAST_TITLE,
            toast_text(self._name(call)),
            NOTIFICATION_MS,
            NOTIFICATION_ACTIONS,
            urgent=True,  # stays up while it rings, where the desktop allows
        )

    def _on_notification_action(self, key: str, action: str) -> None:
        if action == ANSWER_ACTION:
            self._on_answer_clicked(key)
        elif action == DECLINE_ACTION:
            self._on_decline_clicked(key)

    def _on_call_state_changed(self, call: Call) -> None:
        if call.call_id in self._toasts and call.state is not AvModalityState.NOTIFIED:
            self.remove(call.call_id)  # answered, declined, or the caller gave up

    def _add(self, call: Call) -> CallToast:
        toast = CallToast(call, self._name(call), self)
        toast.answer_clicked.connect(self._on_answer_clicked)
        toast.decline_clicked.connect(self._on_decline_clicked)
        return self._put(call.call_id, toast)

    def _stack_changed(self) -> None:
        """The ring plays while any call rings here."""
        super()._stack_changed()
        if self._toasts and not self.ringer.playing and len(self._ring):
            self.ringer.play(self._ring, loop=True)
        elif not self._toasts:
            self.ringer.stop()

    def _on_answer_clicked(self, call_id: str) -> None:
        if toast := self._toasts.get(call_id):
            toast.set_busy(True)
            toast.error_label.clear_error()
            self.ringer.stop()
            # The window first: its call bar shows "Connecting…" while the answer goes out.
            self.open_requested.emit(toast.call.room_id)
            self._tasks.spawn(self._answer(call_id, self._engine.calls.answer(call_id)))

    def _on_decline_clicked(self, call_id: str) -> None:
        if toast := self._toasts.get(call_id):
            toast.set_busy(True)
            toast.error_label.clear_error()
            self._tasks.spawn(self._answer(call_id, self._engine.calls.decline(call_id)))

    async def _answer(self, call_id: str, work: Awaitable[Any]) -> None:
        error = await failure_words(work, "answering a call")
        if not shiboken6.isValid(self):
            return
        toast = self._toasts.get(call_id)
        if error and toast is not None:
            toast.set_busy(False)
            toast.error_label.show_error(error)
        elif toast is not None:
            self.remove(call_id)
