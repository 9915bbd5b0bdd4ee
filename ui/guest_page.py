"""Join a meeting as a guest: the guest link, the host's certificate, and your name.

Used on the welcome window (nobody signed in yet) and in a dialog when someone
signed in to their own account opens a guest link. Like the other forms it
only collects and checks what was typed; whoever shows it makes the engine calls.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.errors import ConferoError, GuestNameMissing, InvalidGuestLink
from engine.meeting_links import GuestLink, parse_guest_link
from ui import guest_text as text
from ui import theme
from ui.form_widgets import BusyIndicator, ErrorLabel, make_line_edit
from ui.lan_server_list import LanServerList

if TYPE_CHECKING:
    from engine.lan_discovery import DiscoveredServer
    from ui.lan_servers import LanServers


def _label(parent: QWidget, *, selectable: bool = False) -> QLabel:
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def meeting_number(alias: str) -> str:
    """ "#1234567:host" as people read it out: "123 4567" (other aliases as they are)."""
    local = alias.lstrip("#").split(":", 1)[0]
    return f"{local[:3]} {local[3:]}" if local.isdigit() and len(local) == 7 else local


class GuestJoinForm(QWidget):
    """The guest link, what it says about the host, your name, and servers found nearby."""

    #: Join asked for: (GuestLink, name). The link's address may be one found nearby.
    join_requested = Signal(object, str)
    #: Back (welcome) or Cancel (dialog) was clicked.
    back_requested = Signal()

    def __init__(
        self,
        servers: LanServers | None,
        parent: QWidget | None = None,
        *,
        heading: bool = True,
        back_text: str = "Back",
    ) -> None:
        super().__init__(parent)
        self._servers = servers
        self._picked: DiscoveredServer | None = None
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(10)
        if heading:
            title = _label(self)
            title.setText(text.GUEST_HEADING)
            title.setAccessibleName(text.GUEST_HEADING)
            theme.scale_font(title, 1.5, bold=True)
            column.addWidget(title)
        intro = _label(self)
        intro.setText(text.GUEST_INTRO)
        column.addWidget(intro)

        self.link_edit = make_line_edit(
            self,
            "Guest link",
            placeholder=text.LINK_PLACEHOLDER,
            tooltip="The matrix: link the host sent you (it starts with “matrix:r/”)",
        )
        self.name_edit = make_line_edit(
            self,
            "Your name",
            placeholder="Your name as the others will see it",
            tooltip="The name shown to the others in the meeting",
        )
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Guest &link:", self.link_edit)
        form.addRow("Your &name:", self.name_edit)
        column.addLayout(form)

        self.details = QWidget(self)
        details = QVBoxLayout(self.details)
        details.setContentsMargins(0, 0, 0, 0)
        details.setSpacing(2)
        self.meeting_label = _label(self.details, selectable=True)
        self.meeting_label.setAccessibleName("Meeting and host")
        fingerprint_title = _label(self.details)
        fingerprint_title.setText(text.FINGERPRINT_LABEL)
        self.fingerprint_label = _label(self.details, selectable=True)
        self.fingerprint_label.setAccessibleName("Certificate fingerprint")
        self.fingerprint_label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.fingerprint_label.setToolTip(text.FINGERPRINT_HINT)
        self.found_label = _label(self.details)
        self.found_label.setAccessibleName("Found on your network")
        for label in (self.meeting_label, fingerprint_title, self.fingerprint_label):
            details.addWidget(label)
        details.addWidget(self.found_label)
        column.addWidget(self.details)

        self.server_list = LanServerList(servers, self)
        column.addWidget(self.server_list)
        self.error_label = ErrorLabel(self)
        self.busy = BusyIndicator(self)
        column.addWidget(self.error_label)
        column.addWidget(self.busy)

        self.back_button = QPushButton(back_text, self)
        self.back_button.setAccessibleName(back_text)
        self.back_button.setToolTip("Do not join the meeting")
        self.join_button = QPushButton("Join meeting", self)
        self.join_button.setAccessibleName("Join meeting")
        self.join_button.setToolTip("Join the meeting as a guest (Enter)")
        self.join_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.join_button)
        column.addLayout(buttons)
        for first, second in (
            (self.link_edit, self.name_edit),
            (self.name_edit, self.server_list.list),
            (self.server_list.list, self.join_button),
            (self.join_button, self.back_button),
        ):
            self.setTabOrder(first, second)

        self.link_edit.textChanged.connect(self._update_details)
        self.link_edit.returnPressed.connect(self._on_submit)
        self.name_edit.returnPressed.connect(self._on_submit)
        self.name_edit.textEdited.connect(lambda _t: self.error_label.clear_error())
        self.join_button.clicked.connect(self._on_submit)
        self.back_button.clicked.connect(self.back_requested)
        self.server_list.picked.connect(self._on_server_picked)
        if servers is not None:
            servers.changed.connect(self._on_servers_changed)
        self._update_details()

    # -- public API -----------------------------------------------------------

    def set_link(self, link: str) -> None:
        self.link_edit.setText(link.strip())
        self.link_edit.setCursorPosition(0)  # "matrix:r/…": the start says what it is
        self._picked = None
        self.error_label.clear_error()

    def set_name(self, name: str) -> None:
        if name and not self.name_edit.text():
            self.name_edit.setText(name)

    def focus_first_empty(self) -> None:
        edit = self.name_edit if self.link_edit.text() else self.link_edit
        edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def is_busy(self) -> bool:
        return self.busy.isVisibleTo(self)

    def set_busy(self, busy: bool, status: str = "") -> None:
        for widget in (self.link_edit, self.name_edit, self.join_button, self.server_list):
            widget.setEnabled(not busy)
        if busy:
            self.error_label.clear_error()
            self.busy.start(status or text.JOINING)
        else:
            self.busy.stop()

    def show_error(self, error: ConferoError | str) -> None:
        message = error.user_message if isinstance(error, ConferoError) else error
        self.set_busy(False)
        self.error_label.show_error(message)
        field = self.name_edit if isinstance(error, GuestNameMissing) else self.link_edit
        field.setFocus(Qt.FocusReason.OtherFocusReason)
        field.selectAll()

    def pick_server(self, server: DiscoveredServer) -> None:
        """As if ``server`` was picked in the list of servers found nearby."""
        self._on_server_picked(server)

    def stop_looking(self) -> None:
        self.server_list.stop_looking()

    def chosen_link(self) -> GuestLink:
        """The guest link typed, at the address its server is found at nearby.

        Raises InvalidGuestLink with what is wrong with it.
        """
        raw = self.link_edit.text().strip()
        if not raw:
            raise InvalidGuestLink(text.LINK_MISSING)
        link = parse_guest_link(raw)
        picked = self._picked
        if picked is not None and picked.fingerprint != link.fingerprint:
            raise InvalidGuestLink(text.OTHER_SERVER_PICKED.format(name=picked.instance))
        # The certificate is what is trusted, not the address: the host's computer
        # found nearby with the same certificate is the one the link means, even
        # if its address changed since the link was made.
        found = picked or (self._servers.find(link.fingerprint) if self._servers else None)
        if found is not None and (found.host, found.port) != (link.host, link.port):
            link = dataclasses.replace(link, host=found.host, port=found.port)
        return link

    # -- internals ----------------------------------------------------------------

    def _update_details(self) -> None:
        if not self.link_edit.text().strip() and self._picked is not None:
            server = self._picked
            self.details.setVisible(True)
            self.meeting_label.setText(
                text.FOUND_PICKED.format(name=server.instance, address=server.address)
            )
            self.fingerprint_label.setText(text.fingerprint_lines(server.fingerprint))
            self.found_label.setText("")
            return
        try:
            link = self.chosen_link()
        except InvalidGuestLink as exc:
            self.details.setVisible(bool(self.link_edit.text().strip()))
            self.meeting_label.setText(exc.user_message)
            self.fingerprint_label.setText("")
            self.found_label.setText("")
            return
        raw = parse_guest_link(self.link_edit.text())
        self.details.setVisible(True)
        self.meeting_label.setText(
            text.MEETING_LINE.format(
                meeting=meeting_number(link.alias), address=f"{raw.host}:{raw.port}"
            )
        )
        self.fingerprint_label.setText(text.fingerprint_lines(link.fingerprint))
        found = self._servers.find(link.fingerprint) if self._servers else None
        if found is None:
            self.found_label.setText("")
        elif (raw.host, raw.port) != (found.host, found.port):
            self.found_label.setText(
                text.ADDRESS_MOVED.format(name=found.instance, address=found.address)
            )
        else:
            self.found_label.setText(text.MATCHES_FOUND.format(name=found.instance))

    def _on_servers_changed(self, _servers: list[DiscoveredServer]) -> None:
        self._update_details()

    def _on_server_picked(self, server: DiscoveredServer) -> None:
        self._picked = server
        self.error_label.clear_error()
        self._update_details()
        if not self.link_edit.text().strip():
            self.link_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_submit(self) -> None:
        if self.is_busy():
            return
        try:
            link = self.chosen_link()
        except InvalidGuestLink as exc:
            self.show_error(exc)
            return
        name = self.name_edit.text().strip()
        if not name:
            self.show_error(GuestNameMissing())
            return
        self.error_label.clear_error()
        self.join_requested.emit(link, name)
