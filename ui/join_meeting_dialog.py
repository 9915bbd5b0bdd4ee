"""Join a meeting…: paste a link, URI, alias or room ID, or type the 7-digit meeting ID."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.errors import ConferoError
from engine.meeting_links import is_guest_link
from ui.form_widgets import BusyIndicator, ErrorLabel, make_line_edit
from ui.lan_server_list import LanServerList
from ui.tasks import TaskGroup

if TYPE_CHECKING:
    from engine.engine import Engine
    from engine.lan_discovery import DiscoveredServer
    from ui.lan_servers import LanServers

log = logging.getLogger(__name__)

EMPTY_ERROR = "Paste the meeting link, or type the 7-digit meeting ID."
_GROUPED_DIGITS = re.compile(r"^[\d\s\-]+$")


def normalise_reference(text: str) -> str:
    """Trim what was pasted; "123 4567" and "123-4567" become "1234567"."""
    text = text.strip()
    if _GROUPED_DIGITS.match(text):
        return re.sub(r"[\s\-]", "", text)
    return text


class JoinMeetingDialog(QDialog):
    """Asks for a meeting reference and joins it; errors are shown in the dialog."""

    #: The meeting was joined, or its lobby entered (room ID); the dialog has closed.
    joined = Signal(str)
    #: A guest link was pasted, or a server found nearby picked: (link or "",
    #: DiscoveredServer or None); the dialog has closed.
    guest_join_asked = Signal(str, object)

    def __init__(
        self,
        engine: Engine,
        parent: QWidget | None = None,
        *,
        lobby_timeout_s: float | None = None,
        servers: LanServers | None = None,
    ) -> None:
        super().__init__(parent)
        self._engine = engine
        self._lobby_timeout_s = lobby_timeout_s
        self._tasks = TaskGroup()
        self.setWindowTitle("Join a meeting")
        self.setMinimumWidth(480)

        intro = QLabel(
            "Paste the meeting link you were sent, or type the meeting ID. If the meeting "
            "lets you in only when someone admits you, you wait in its lobby.",
            self,
        )
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        self.reference_edit = make_line_edit(
            self,
            "Meeting link or ID",
            placeholder="https://matrix.to/#/#1234567:example.org  or  1234567",
            tooltip="A matrix.to link, a matrix: link, #alias:server, or the 7-digit meeting ID",
        )
        intro.setBuddy(self.reference_edit)
        self.error_label = ErrorLabel(self)
        self.busy = BusyIndicator(self)
        # Guests of a meeting hosted on a computer nearby start from one of these.
        self.server_list = LanServerList(servers, self)

        self.buttons = QDialogButtonBox(self)
        self.join_button = QPushButton("Join", self)
        self.join_button.setAccessibleName("Join the meeting")
        self.join_button.setToolTip("Join the meeting (Enter)")
        self.join_button.setDefault(True)
        self.buttons.addButton(self.join_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName("Cancel")

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.reference_edit)
        layout.addWidget(self.error_label)
        layout.addWidget(self.busy)
        layout.addWidget(self.server_list)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.reference_edit.setFocus()
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.buttons.accepted.connect(self._on_join_requested)
        self.buttons.rejected.connect(self.reject)
        self.reference_edit.textEdited.connect(self._on_reference_edited)
        self.server_list.picked.connect(self._on_server_picked)

    # -- public API ---------------------------------------------------------

    def is_busy(self) -> bool:
        return self.busy.isVisibleTo(self)

    def done(self, result: int) -> None:
        self._tasks.cancel_all()
        self.server_list.stop_looking()
        super().done(result)

    # -- slots --------------------------------------------------------------

    def _on_reference_edited(self, _text: str) -> None:
        self.error_label.clear_error()

    def _on_join_requested(self) -> None:
        if self.is_busy():
            return
        reference = normalise_reference(self.reference_edit.text())
        if not reference:
            self._show_error(EMPTY_ERROR)
            return
        if is_guest_link(reference):
            # A meeting on another computer's server: joining it is a guest
            # session of its own, which asks for a name first.
            self.accept()
            self.guest_join_asked.emit(reference, None)
            return
        self._set_busy(True)
        self._tasks.spawn(self._join(reference))

    async def _join(self, reference: str) -> None:
        try:
            room_id = await self._engine.conferences.join(
                reference, lobby_timeout_s=self._lobby_timeout_s
            )
        except ConferoError as exc:
            self._show_error(exc.user_message)
            return
        except Exception:
            log.exception("joining a meeting failed")
            self._show_error("You could not join the meeting. Please try again.")
            return
        self._set_busy(False)
        self.joined.emit(room_id)
        self.accept()

    def _on_server_picked(self, server: DiscoveredServer) -> None:
        if self.is_busy():
            return
        reference = normalise_reference(self.reference_edit.text())
        self.accept()
        self.guest_join_asked.emit(reference if is_guest_link(reference) else "", server)

    def _set_busy(self, busy: bool) -> None:
        self.reference_edit.setEnabled(not busy)
        self.join_button.setEnabled(not busy)
        if busy:
            self.error_label.clear_error()
            self.busy.start("Joining the meeting…")
        else:
            self.busy.stop()

    def _show_error(self, text: str) -> None:
        self._set_busy(False)
        self.error_label.show_error(text)
        self.reference_edit.setFocus()
        self.reference_edit.selectAll()
