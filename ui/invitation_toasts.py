"""Invitations to me: an in-app toast per invitation, and a desktop notification.

The toasts stack at the top of the main window, newest last: who invites, the
meeting's subject and their message, with Join and Decline. One withdrawn
meanwhile (expired, taken back, or answered on another device) disappears. A
desktop notification goes out through the system tray where the desktop has
one and the main window is not in front. Join asks for the meeting's window
(``join_finished``); this part knows nothing of the main window. An invitation to
a meeting whose call is on (seed 002: a call escalated into a meeting) also offers
Join with audio: the meeting and its audio in one click.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

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

from engine.calls.meeting_call_errors import MeshLimitReached
from engine.errors import ConferoError
from engine.invitation_models import IncomingInvitation
from ui import theme
from ui.accessibility import announce
from ui.bridge import EngineBridge, disconnect_all
from ui.error_text import GENERIC_ERROR
from ui.form_widgets import ErrorLabel
from ui.invitation_text import (
    ACCEPT,
    ACCEPT_FAILED,
    ACCEPT_TIP,
    AUDIO_FAILED,
    AUDIO_LIVE,
    DECLINE,
    DECLINE_FAILED,
    DECLINE_TIP,
    JOIN,
    JOIN_FAILED,
    JOIN_TIP,
    JOIN_WITH_AUDIO,
    JOIN_WITH_AUDIO_TIP,
    TOAST_TITLE,
    scheduled_for_later,
    toast_text,
    when_text,
)
from ui.meeting_audio_text import mesh_full_text
from ui.toast_stack import ToastStack

if TYPE_CHECKING:
    from engine.engine import Engine

log = logging.getLogger(__name__)

NOTIFICATION_MS = 15_000
#: The desktop notification's buttons' action keys.
JOIN_ACTION, DECLINE_ACTION = "join", "decline"


class InvitationToast(QFrame):
    """One invitation: the words, Join and Decline."""

    join_clicked = Signal(str)
    join_with_audio_clicked = Signal(str)
    decline_clicked = Signal(str)

    def __init__(self, invitation: IncomingInvitation, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.invitation = invitation
        self.setObjectName("invitationToast")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # Fixed pale colours with dark text, like the banners: a toast on light and dark alike.
        self.setStyleSheet(
            "#invitationToast { background: #e4f4e4; border: 1px solid #86c286;"
            " border-radius: 6px; } QLabel#toastText { color: #113311; }"
        )
        room_id = invitation.room_id
        headline = toast_text(invitation.inviter_name or invitation.inviter, invitation.subject)
        self.title_label = QLabel(headline, self)
        self.title_label.setObjectName("toastText")
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.title_label.setWordWrap(True)
        theme.scale_font(self.title_label, 1.0, bold=True)
        self.message_label = QLabel(self)
        self.message_label.setObjectName("toastText")
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setWordWrap(True)
        if invitation.toast_message:
            self.message_label.setText(f"“{invitation.toast_message}”")
        self.message_label.setVisible(bool(invitation.toast_message))
        # A meeting scheduled for later: say when; Accept instead of joining now.
        self.for_later = scheduled_for_later(invitation)
        self.when_label = QLabel(self)
        self.when_label.setObjectName("toastText")
        self.when_label.setTextFormat(Qt.TextFormat.PlainText)
        if self.for_later and invitation.start_ms is not None:
            self.when_label.setText(when_text(invitation.start_ms, invitation.end_ms))
        self.when_label.setVisible(self.for_later)
        self.error_label = ErrorLabel(self)

        subject = invitation.subject or "the meeting"
        # Mnemonics: Alt+J and Alt+D; both buttons take Tab focus.
        self.join_button = QPushButton(ACCEPT if self.for_later else JOIN, self)
        self.join_button.setDefault(False)
        if self.for_later:
            self.join_button.setAccessibleName(f"Accept the invitation to {subject}")
            self.join_button.setToolTip(ACCEPT_TIP)
        else:
            self.join_button.setAccessibleName(f"Join {subject}")
            self.join_button.setToolTip(JOIN_TIP)
        # The meeting's call is on: say so, and Join with audio (Alt+A) beside Join.
        self.with_audio = invitation.with_audio and not self.for_later
        self.audio_label = QLabel(AUDIO_LIVE, self)
        self.audio_label.setObjectName("toastText")
        self.audio_label.setVisible(self.with_audio)
        self.audio_button = QPushButton(theme.icon("phone"), JOIN_WITH_AUDIO, self)
        self.audio_button.setAccessibleName(f"Join {subject} with audio")
        self.audio_button.setToolTip(JOIN_WITH_AUDIO_TIP)
        self.audio_button.setVisible(self.with_audio)
        self.decline_button = QPushButton(DECLINE, self)
        self.decline_button.setAccessibleName(f"Decline the invitation to {subject}")
        self.decline_button.setToolTip(DECLINE_TIP)
        self.setAccessibleName(TOAST_TITLE)
        description = f"{headline}. {self.when_label.text()}" if self.for_later else headline
        if self.with_audio:
            description = f"{description}. {AUDIO_LIVE}"
        self.setAccessibleDescription(
            f"{description}. {invitation.toast_message}"
            if invitation.toast_message
            else description
        )

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.decline_button)
        buttons.addWidget(self.join_button)
        buttons.addWidget(self.audio_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        layout.addWidget(self.title_label)
        layout.addWidget(self.when_label)
        layout.addWidget(self.audio_label)
        layout.addWidget(self.message_label)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        self.join_button.clicked.connect(lambda: self.join_clicked.emit(room_id))
        self.audio_button.clicked.connect(lambda: self.join_with_audio_clicked.emit(room_id))
        self.decline_button.clicked.connect(lambda: self.decline_clicked.emit(room_id))

    def set_busy(self, busy: bool) -> None:
        self.join_button.setEnabled(not busy)
        self.audio_button.setEnabled(not busy)
        self.decline_button.setEnabled(not busy)


class InvitationToasts(ToastStack[InvitationToast]):
    """The stack of invitations to me (by meeting room), answered with Join or Decline."""

    #: Join worked: open the meeting's window (room_id).
    join_finished = Signal(str)
    #: Join with audio joined the meeting, not its audio: (room_id, why, in words).
    audio_failed = Signal(str, str)

    def __init__(self, engine: Engine, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__("invitationToasts", "Invitations", parent)
        self._engine = engine
        self._bridge = bridge
        bridge.incoming_invitation.connect(self._on_incoming)
        bridge.incoming_invitation_withdrawn.connect(self.remove)
        for invitation in engine.invitations.incoming():
            self._add(invitation)
        self._stack_changed()

    def detach(self) -> None:
        self._stop()
        disconnect_all(
            (
                (self._bridge.incoming_invitation, self._on_incoming),
                (self._bridge.incoming_invitation_withdrawn, self.remove),
            )
        )

    # -- internals ----------------------------------------------------------

    def _on_incoming(self, invitation: IncomingInvitation) -> None:
        toast = self._add(invitation)
        announce(toast, toast.accessibleDescription())
        self._notify_desktop(invitation)

    def _add(self, invitation: IncomingInvitation) -> InvitationToast:
        toast = InvitationToast(invitation, self)
        toast.join_clicked.connect(self._on_join_clicked)
        toast.join_with_audio_clicked.connect(self._on_join_with_audio_clicked)
        toast.decline_clicked.connect(self._on_decline_clicked)
        return self._put(invitation.room_id, toast)  # the same meeting again: the latest counts

    def _notify_desktop(self, invitation: IncomingInvitation) -> None:
        """With Join (Accept for later) and Decline where the desktop draws buttons."""
        text = toast_text(invitation.inviter_name or invitation.inviter, invitation.subject)
        if scheduled_for_later(invitation) and invitation.start_ms is not None:
            text = f"{text}\n{when_text(invitation.start_ms, invitation.end_ms)}"
        if invitation.toast_message:
            text = f"{text}\n{invitation.toast_message}"
        later = scheduled_for_later(invitation)
        actions = ((JOIN_ACTION, ACCEPT if later else JOIN), (DECLINE_ACTION, DECLINE))
        self._notify(invitation.room_id, TOAST_TITLE, text, NOTIFICATION_MS, actions)

    def _on_notification_action(self, key: str, action: str) -> None:
        if action == JOIN_ACTION:
            self._on_join_clicked(key)  # accepts a meeting for later, as the toast's button
        elif action == DECLINE_ACTION:
            self._on_decline_clicked(key)

    def _on_join_clicked(self, room_id: str) -> None:
        if toast := self._toasts.get(room_id):
            toast.set_busy(True)
            toast.error_label.clear_error()
            if toast.for_later:
                self._tasks.spawn(self._accept(room_id))
            else:
                self._tasks.spawn(self._answer(room_id, join=True))

    def _on_join_with_audio_clicked(self, room_id: str) -> None:
        if toast := self._toasts.get(room_id):
            toast.set_busy(True)
            toast.error_label.clear_error()
            self._tasks.spawn(self._answer(room_id, join=True, audio=True))

    async def _accept(self, room_id: str) -> None:
        """Accept a scheduled meeting: a member now, reminded at its start."""
        error = ""
        try:
            await self._engine.scheduling.accept(room_id)
        except ConferoError as exc:
            error = ACCEPT_FAILED.format(exc.user_message)
        except Exception:
            log.exception("accepting an invitation failed")
            error = ACCEPT_FAILED.format(GENERIC_ERROR)
        if not shiboken6.isValid(self):
            return
        if error and (toast := self._toasts.get(room_id)):
            toast.set_busy(False)
            toast.error_label.show_error(error)
        elif not error:
            self.remove(room_id)

    def _on_decline_clicked(self, room_id: str) -> None:
        if toast := self._toasts.get(room_id):
            toast.set_busy(True)
            toast.error_label.clear_error()
            self._tasks.spawn(self._answer(room_id, join=False))

    async def _answer(self, room_id: str, *, join: bool, audio: bool = False) -> None:
        failure = JOIN_FAILED if join else DECLINE_FAILED
        error = reason = ""
        try:
            if audio:
                await self._engine.meeting_calls.accept_with_audio(room_id)
            elif join:
                await self._engine.invitations.join_incoming(room_id)
            else:
                await self._engine.invitations.decline_incoming(room_id)
        except ConferoError as exc:
            # The mesh's own words say you are in the chat; others get that said first.
            full = isinstance(exc, MeshLimitReached)
            reason = mesh_full_text(exc.limit) if full else AUDIO_FAILED.format(exc.user_message)
            error = failure.format(exc.user_message)
        except Exception:
            log.exception("answering an invitation failed")
            reason, error = AUDIO_FAILED.format(GENERIC_ERROR), failure.format(GENERIC_ERROR)
        if not shiboken6.isValid(self):
            return
        toast = self._toasts.get(room_id)
        still_invited = any(i.room_id == room_id for i in self._engine.invitations.incoming())
        if error and audio and not still_invited:
            # In the meeting, only its audio failed: the invitation is answered; the
            # meeting's window says why and offers Join audio again.
            self.remove(room_id)
            self.join_finished.emit(room_id)
            self.audio_failed.emit(room_id, reason)
            return
        if error:
            if toast is not None:
                toast.set_busy(False)
                toast.error_label.show_error(error)
            return
        self.remove(room_id)
        if join:
            self.join_finished.emit(room_id)
