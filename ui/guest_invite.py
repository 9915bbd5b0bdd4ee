"""A meeting's part for people on other computers (with this computer's server only).

- Invite from another computer… in the header, next to Invite…: opens the
  guest link dialog; while network access is off it first asks to turn it on.
- While network access is off, a small bar offers to turn it on: “People on
  other computers can't join this meeting yet.” It is shown once per meeting,
  ever (dismissing it is final), and only to people who may invite.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMessageBox, QPushButton

from engine.conference_models import ConferenceDetails, ConferenceSession, SessionState
from ui.banner import Banner, BannerKind
from ui.guest_link_dialog import GuestLinkDialog
from ui.network_access import HostingState, NetworkAccess
from ui.network_access_text import (
    ASK_TURN_ON,
    ASK_TURN_ON_TITLE,
    INVITE_REMOTE,
    INVITE_REMOTE_NAME,
    INVITE_REMOTE_OFF_TIP,
    INVITE_REMOTE_TIP,
    LET_IN,
    OFFER,
    OFFER_TIP,
    TURNING_ON,
)

if TYPE_CHECKING:
    from ui.meeting_header import MeetingHeader
    from ui.window_parts import PartContext

NO_REMOTE_INVITE_REASON = "Only presenters can invite people to this meeting"
SHORTCUT = "Ctrl+Shift+I"


class GuestInvite:
    """Invite from another computer… and the offer to let people on the network join."""

    def __init__(self, context: PartContext, network: NetworkAccess, header: MeetingHeader) -> None:
        self._context = context
        self._network = network
        self._header = header
        self._room_id = context.room_id
        self._details: ConferenceDetails | None = None
        self._session: ConferenceSession | None = None
        self._asked = False  # this window asked to turn it on: say how it went
        self._open_when_on = False  # then make the link at once
        #: The guest link dialog or the "turn it on?" question, while open.
        self.dialog: GuestLinkDialog | QMessageBox | None = None

        self.button = QPushButton(INVITE_REMOTE, header)
        self.button.setObjectName("inviteRemoteButton")
        self.button.setAccessibleName(INVITE_REMOTE_NAME)
        self.button.setAutoDefault(False)
        self.button.setShortcut(QKeySequence(SHORTCUT))
        self._key = QKeySequence(SHORTCUT).toString(QKeySequence.SequenceFormat.NativeText)
        header.add_invite_action(self.button)

        self.offer_bar = context.banners.add_bar(Banner(context.banners))
        self.offer_bar.setAccessibleName("Network access offer")
        self.offer_bar.setToolTip(OFFER_TIP)

        self.button.clicked.connect(self.invite)
        self.offer_bar.action_triggered.connect(self._on_offer_accepted)
        network.changed.connect(self._follow)
        network.problem.connect(self._on_problem)
        self._follow()

    # -- what the meeting window tells it --------------------------------------

    def apply_details(self, details: ConferenceDetails | None) -> None:
        self._details = details
        self._follow()

    def apply_session(self, session: ConferenceSession | None) -> None:
        self._session = session
        self._follow()

    def detach(self) -> None:
        self._network.changed.disconnect(self._follow)
        self._network.problem.disconnect(self._on_problem)
        self._close_dialog()

    # -- actions ---------------------------------------------------------------

    def invite(self) -> GuestLinkDialog | QMessageBox | None:
        """Open the guest link dialog, or (network access off) ask to turn it on first."""
        alias = self._alias()
        if not alias:
            return None
        if self._network.is_on:
            return self._open_link_dialog(alias)
        self._open_when_on = True
        if self._network.busy:
            return None  # it is on its way: the link follows
        self._close_dialog()
        box = QMessageBox(
            QMessageBox.Icon.Question, ASK_TURN_ON_TITLE, ASK_TURN_ON, parent=self._header.window()
        )
        turn_on = box.addButton(LET_IN, QMessageBox.ButtonRole.AcceptRole)
        turn_on.setAccessibleName(LET_IN)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        cancel.setAccessibleName("Cancel")
        box.setDefaultButton(turn_on)

        def answered() -> None:
            if box.clickedButton() is turn_on:
                self._turn_on()
            else:
                self._open_when_on = False

        box.finished.connect(lambda _result: answered())
        self.dialog = box
        box.open()
        return box

    def _open_link_dialog(self, alias: str) -> GuestLinkDialog:
        self._close_dialog()
        dialog = GuestLinkDialog(self._network, alias, self._header.window())
        self.dialog = dialog
        dialog.open()
        return dialog

    def _turn_on(self) -> None:
        self._asked = True
        self._network.turn_on()

    def _on_offer_accepted(self) -> None:
        self._turn_on()

    # -- following the switch and the meeting ------------------------------------

    def _follow(self) -> None:
        if not shiboken6.isValid(self.button):
            return
        network, details = self._network, self._details
        can_invite = bool(details and details.can_invite and details.alias)
        self.button.setEnabled(can_invite)
        if not can_invite:
            self.button.setToolTip(NO_REMOTE_INVITE_REASON)
        elif network.is_on:
            self.button.setToolTip(f"{INVITE_REMOTE_TIP} ({self._key})")
        else:
            self.button.setToolTip(f"{INVITE_REMOTE_OFF_TIP} ({self._key})")
        self._follow_offer(can_invite)
        if network.state is HostingState.ON:
            self._asked = False
            if self._open_when_on:
                self._open_when_on = False
                alias = self._alias()
                if alias:
                    self._open_link_dialog(alias)
        elif network.state is HostingState.OFF and not network.busy:
            self._open_when_on = self._open_when_on and self._asked

    def _follow_offer(self, can_invite: bool) -> None:
        network, bar = self._network, self.offer_bar
        if network.state is HostingState.TURNING_ON and not bar.isHidden():
            bar.show_message(TURNING_ON, BannerKind.INFO, dismissable=False)
            return
        if network.state is not HostingState.OFF:
            bar.clear()
            return
        if not bar.isHidden():
            if bar.text() != OFFER:  # turning it on failed: offer it again
                self._show_offer()
            return
        in_meeting = self._session is not None and self._session.state is SessionState.CONNECTED
        if can_invite and in_meeting and not network.offer_shown(self._room_id):
            network.note_offer_shown(self._room_id)
            self._show_offer()

    def _show_offer(self) -> None:
        self.offer_bar.show_message(OFFER, BannerKind.INFO, action_text=LET_IN)
        self.offer_bar.action_button.setToolTip(OFFER_TIP)

    def _on_problem(self, text: str) -> None:
        if self._asked:
            self._asked = False
            self._open_when_on = False
            self._context.banners.show_error(text)

    def _alias(self) -> str:
        return self._details.alias if self._details and self._details.alias else ""

    def _close_dialog(self) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None and shiboken6.isValid(dialog) and dialog.isVisible():
            dialog.close()
