"""Reminders of scheduled meetings: a toast in the main window and a desktop notification.

At a meeting's start (engine Reminders' MeetingReminder) the toast says which
meeting starts, with Join (the usual join path: the meeting's window opens via
``join_finished``) and Dismiss. A desktop notification goes out as well where
the desktop shows them and the main window is not in front.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from engine.errors import ConferoError
from engine.events import MeetingReminder
from ui import theme
from ui.accessibility import announce
from ui.bridge import EngineBridge, disconnect_all
from ui.error_text import GENERIC_ERROR
from ui.form_widgets import ErrorLabel
from ui.toast_stack import ToastStack

if TYPE_CHECKING:
    from engine.engine import Engine

log = logging.getLogger(__name__)

NOTIFICATION_MS = 30_000
#: A reminder this late says "started at" (the meeting is under way).
LATE_MS = 90_000
TITLE = "Meeting starting"
JOIN = "&Join"
JOIN_TIP = "Join the meeting now"
DISMISS = "D&ismiss"
DISMISS_TIP = "Hide this reminder"
JOIN_FAILED = "You could not join the meeting: {}"
#: The desktop notification's buttons' action keys.
JOIN_ACTION, DISMISS_ACTION = "join", "dismiss"


def reminder_text(subject: str, start_ms: int, now_ms: int | None = None) -> str:
    start = QDateTime.fromMSecsSinceEpoch(start_ms)
    now = QDateTime.currentMSecsSinceEpoch() if now_ms is None else now_ms
    if now - start_ms > LATE_MS:  # Confero was started after the meeting began
        return f"“{subject}” started at {start.toString('HH:mm')}."
    return f"“{subject}” starts at {start.toString('HH:mm')}."


class ReminderToast(QFrame):
    join_clicked = Signal(str)
    dismiss_clicked = Signal(str)

    def __init__(self, reminder: MeetingReminder, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reminder = reminder
        self.setObjectName("reminderToast")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # Fixed pale colours with dark text, like the invitation toasts.
        self.setStyleSheet(
            "#reminderToast { background: #e6eefa; border: 1px solid #7f9fd0;"
            " border-radius: 6px; } QLabel#toastText { color: #112244; }"
        )
        text = reminder_text(reminder.subject, reminder.start_ms)
        self.text_label = QLabel(text, self)
        self.text_label.setObjectName("toastText")
        self.text_label.setTextFormat(Qt.TextFormat.PlainText)
        self.text_label.setWordWrap(True)
        theme.scale_font(self.text_label, 1.0, bold=True)
        self.error_label = ErrorLabel(self)
        self.join_button = QPushButton(JOIN, self)
        self.join_button.setAccessibleName(f"Join {reminder.subject}")
        self.join_button.setToolTip(JOIN_TIP)
        self.dismiss_button = QPushButton(DISMISS, self)
        self.dismiss_button.setAccessibleName(f"Dismiss the reminder of {reminder.subject}")
        self.dismiss_button.setToolTip(DISMISS_TIP)
        self.setAccessibleName(TITLE)
        self.setAccessibleDescription(text)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.dismiss_button)
        buttons.addWidget(self.join_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        layout.addWidget(self.text_label)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        room_id = reminder.room_id
        self.join_button.clicked.connect(lambda: self.join_clicked.emit(room_id))
        self.dismiss_button.clicked.connect(lambda: self.dismiss_clicked.emit(room_id))

    def set_busy(self, busy: bool) -> None:
        self.join_button.setEnabled(not busy)
        self.dismiss_button.setEnabled(not busy)


class ReminderToasts(ToastStack[ReminderToast]):
    """The reminders shown (by meeting room), answered with Join or Dismiss."""

    #: Join worked: open the meeting's window (room_id).
    join_finished = Signal(str)

    def __init__(self, engine: Engine, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__("reminderToasts", "Meeting reminders", parent)
        self._engine = engine
        self._bridge = bridge
        bridge.meeting_reminder.connect(self._on_reminder)
        self._stack_changed()

    def detach(self) -> None:
        self._stop()
        disconnect_all(((self._bridge.meeting_reminder, self._on_reminder),))

    def _on_reminder(self, reminder: MeetingReminder) -> None:
        toast = ReminderToast(reminder, self)
        toast.join_clicked.connect(self._on_join_clicked)
        toast.dismiss_clicked.connect(self.remove)
        self._put(reminder.room_id, toast)
        text = toast.accessibleDescription()
        announce(toast, text)
        actions = ((JOIN_ACTION, JOIN), (DISMISS_ACTION, DISMISS))
        self._notify(reminder.room_id, TITLE, text, NOTIFICATION_MS, actions)

    def _on_notification_action(self, key: str, action: str) -> None:
        """The desktop notification's Join and Dismiss do what the toast's do."""
        if action == JOIN_ACTION:
            self._on_join_clicked(key)
        elif action == DISMISS_ACTION:
            self.remove(key)

    def _on_join_clicked(self, room_id: str) -> None:
        if toast := self._toasts.get(room_id):
            toast.set_busy(True)
            toast.error_label.clear_error()
            self._tasks.spawn(self._join(room_id))

    async def _join(self, room_id: str) -> None:
        error = ""
        try:
            await self._engine.conferences.join(room_id)
        except ConferoError as exc:
            error = JOIN_FAILED.format(exc.user_message)
        except Exception:
            log.exception("joining from a reminder failed")
            error = JOIN_FAILED.format(GENERIC_ERROR)
        if not shiboken6.isValid(self):
            return
        if error:
            if toast := self._toasts.get(room_id):
                toast.set_busy(False)
                toast.error_label.show_error(error)
            return
        self.remove(room_id)
        self.join_finished.emit(room_id)
