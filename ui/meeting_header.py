"""The top of a meeting's window: subject, meeting ID, link, and what you can do with them.

Copy link and Copy ID put the text on the clipboard; Invite… and Options…
open their dialogs; Leave asks the window to leave (it owns the session bar).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from engine.conference_models import ConferenceDetails, ConferenceSession, SessionState
from ui import plain_text, theme
from ui.accessibility import announce
from ui.invite_dialog import InviteDialog
from ui.meeting_options_dialog import MeetingOptionsDialog
from ui.message_delegate import dim_color

if TYPE_CHECKING:
    from engine.engine import Engine

COPIED_NOTE_MS = 3000
NO_OPTIONS_REASON = "Only the meeting's leader can change its options"
NO_INVITE_REASON = "Only presenters can invite people to this meeting"

#: Session states in which Leave makes sense.
_IN_MEETING = (SessionState.CONNECTED, SessionState.CONNECTING)


def meeting_id_text(conference_id: str) -> str:
    return f"Meeting ID {conference_id}"


class MeetingHeader(QWidget):
    """Subject, ID and link of a meeting, with Copy link, Copy ID, Invite…, Options…, Leave."""

    #: Leave was clicked.
    leave_requested = Signal()
    #: Something was put on the clipboard (what: "link" or "id").
    copied = Signal(str)

    def __init__(self, engine: Engine, room_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("meetingHeader")
        self._engine = engine
        self._room_id = room_id
        self._details: ConferenceDetails | None = None
        self._dialog: QDialog | None = None

        self.subject_label = QLabel(self)
        self.subject_label.setObjectName("meetingSubject")
        self.subject_label.setTextFormat(Qt.TextFormat.PlainText)
        self.subject_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subject_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        theme.scale_font(self.subject_label, 1.2, bold=True)

        self.id_label = QLabel(self)
        self.id_label.setObjectName("meetingId")
        self.id_label.setTextFormat(Qt.TextFormat.PlainText)
        self.id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.link_edit = QLineEdit(self)
        self.link_edit.setObjectName("meetingLink")
        self.link_edit.setReadOnly(True)
        self.link_edit.setFrame(False)
        self.link_edit.setAccessibleName("Meeting link")
        self.link_edit.setToolTip("Send this link to people you want in the meeting")
        self.link_edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # Reads as text on the header, whatever the palette: only the base is see-through.
        palette = self.link_edit.palette()
        palette.setColor(QPalette.ColorRole.Base, Qt.GlobalColor.transparent)
        self.link_edit.setPalette(palette)
        self.link_edit.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # Copy link is for the keyboard
        self.copied_label = QLabel(self)
        self.copied_label.setTextFormat(Qt.TextFormat.PlainText)
        self.copied_label.setAccessibleName("Copied")

        self.copy_link_button = self._button(
            "Copy link", "Copy the meeting link to the clipboard", "Ctrl+Shift+C"
        )
        self.copy_id_button = self._button(
            "Copy ID", "Copy the 7-digit meeting ID to the clipboard", "Ctrl+Shift+D"
        )
        self.invite_button = self._button("Invite…", "Invite someone to this meeting", "Ctrl+I")
        self.options_button = self._button(
            "Options…", "Subject, who gets in directly, and who presents", "Ctrl+Shift+O"
        )
        self.leave_button = self._button("Leave", "Leave the meeting", "Ctrl+Shift+H")
        self.leave_button.setObjectName("leaveButton")

        self._copied_timer = QTimer(self)
        self._copied_timer.setSingleShot(True)
        self._copied_timer.setInterval(COPIED_NOTE_MS)

        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(self.subject_label, 1)
        top.addWidget(self.leave_button)
        self._top = top
        where = QHBoxLayout()
        where.setSpacing(10)
        where.addWidget(self.id_label)
        where.addWidget(self.link_edit, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        for button in (
            self.copy_link_button,
            self.copy_id_button,
            self.invite_button,
            self.options_button,
        ):
            buttons.addWidget(button)
        self._buttons = buttons
        buttons.addWidget(self.copied_label)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 6)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addLayout(where)
        layout.addLayout(buttons)

        self._apply_palette()
        self._connect_signals()
        self.apply_details(engine.conferences.details(room_id))

    def _button(self, text: str, tip: str, shortcut: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setAccessibleName(text.rstrip("…"))
        button.setShortcut(QKeySequence(shortcut))
        key = QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)
        button.setToolTip(f"{tip} ({key})")
        button.setProperty("baseToolTip", button.toolTip())
        button.setAutoDefault(False)
        return button

    def _connect_signals(self) -> None:
        self.copy_link_button.clicked.connect(self._on_copy_link_clicked)
        self.copy_id_button.clicked.connect(self._on_copy_id_clicked)
        self.invite_button.clicked.connect(self._on_invite_clicked)
        self.options_button.clicked.connect(self._on_options_clicked)
        self.leave_button.clicked.connect(self.leave_requested)
        self._copied_timer.timeout.connect(self.copied_label.clear)

    # -- public API ---------------------------------------------------------

    @property
    def details(self) -> ConferenceDetails | None:
        return self._details

    @property
    def dialog(self) -> QDialog | None:
        """The Invite or Options dialog opened last, while it is open."""
        dialog = self._dialog
        if dialog is None or not shiboken6.isValid(dialog) or not dialog.isVisible():
            return None
        return dialog

    def add_action(self, widget: QWidget) -> None:
        """Another part's button on the top row, before Leave (the audio's Join audio)."""
        self._top.insertWidget(self._top.indexOf(self.leave_button), widget)

    def add_invite_action(self, widget: QWidget) -> None:
        """Another part's button right after Invite… (Invite from another computer…)."""
        self._buttons.insertWidget(self._buttons.indexOf(self.invite_button) + 1, widget)

    def apply_details(self, details: ConferenceDetails | None) -> None:
        self._details = details
        subject = (details.subject if details else "") or "Meeting"
        self.subject_label.setText(subject)
        self.subject_label.setToolTip(plain_text.tooltip(subject))
        self.subject_label.setAccessibleName(f"Meeting: {subject}")
        self.id_label.setText(meeting_id_text(details.conference_id) if details else "")
        self.id_label.setVisible(bool(details and details.conference_id))
        link = details.link if details else ""
        if self.link_edit.text() != link:
            self.link_edit.setText(link)
            self.link_edit.setCursorPosition(0)
        self.link_edit.setVisible(bool(link))
        self.copy_link_button.setEnabled(bool(link))
        self.copy_id_button.setEnabled(bool(details and details.conference_id))
        self._allow(self.invite_button, bool(details and details.can_invite), NO_INVITE_REASON)
        self._allow(
            self.options_button, bool(details and details.can_change_options), NO_OPTIONS_REASON
        )

    def apply_session(self, session: ConferenceSession | None) -> None:
        in_meeting = session is None or session.state in _IN_MEETING
        self.leave_button.setEnabled(in_meeting)

    def copy_link(self) -> str:
        link = self._details.link if self._details else ""
        if link:
            QGuiApplication.clipboard().setText(link)
            self._note_copied("Link copied", "link")
        return link

    def copy_id(self) -> str:
        digits = self._details.conference_id if self._details else ""
        if digits:
            QGuiApplication.clipboard().setText(digits)
            self._note_copied("Meeting ID copied", "id")
        return digits

    def open_invite(self) -> QDialog:
        dialog = InviteDialog(self._engine, self._room_id, self.window())
        self._show_dialog(dialog)
        return dialog

    def open_options(self) -> QDialog | None:
        if self._details is None:
            return None
        dialog = MeetingOptionsDialog(self._engine, self._details, self.window())
        self._show_dialog(dialog)
        return dialog

    # -- internals ----------------------------------------------------------

    @staticmethod
    def _allow(button: QPushButton, allowed: bool, reason: str) -> None:
        button.setEnabled(allowed)
        base = str(button.property("baseToolTip") or "")
        button.setToolTip(base if allowed else reason)
        button.setAccessibleDescription("" if allowed else reason)

    def _note_copied(self, text: str, what: str) -> None:
        self.copied_label.setText(text)
        self._copied_timer.start()
        announce(self, text)
        self.copied.emit(what)

    def _show_dialog(self, dialog: QDialog) -> None:
        previous = self.dialog
        if previous is not None:
            previous.close()
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialog = dialog
        dialog.open()

    def _apply_palette(self) -> None:
        dim = dim_color(self.palette())
        for label in (self.id_label, self.copied_label):
            palette = label.palette()
            palette.setColor(label.foregroundRole(), dim)
            label.setPalette(palette)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()

    # -- slots --------------------------------------------------------------

    def _on_copy_link_clicked(self) -> None:
        self.copy_link()

    def _on_copy_id_clicked(self) -> None:
        self.copy_id()

    def _on_invite_clicked(self) -> None:
        self.open_invite()

    def _on_options_clicked(self) -> None:
        self.open_options()
