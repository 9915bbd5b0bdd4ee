"""The host's side of meetings for people on other computers, in the GUI (issue 10).

The app's own controller runs the embedded server (TEST profile) with its
network listener on a non-loopback address of this machine; a guest is a
second engine that reaches it only there, with the link made in the dialog.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from engine import events as ev
from engine.engine import Engine
from engine.homeserver import EmbeddedHomeserver, HomeserverProfile
from engine.meeting_links import parse_guest_link
from engine.models import ConnectionState
from engine.network_hosting import join_as_guest, local_network_addresses
from engine.server_certificate import format_fingerprint
from engine.settings import Settings
from tests.helpers.a11y import unnamed_controls
from tests.helpers.engines import expect_event
from tests.helpers.local_accounts import create_local_account
from tests.helpers.qt_async import wait_for_signal, wait_until
from tests.ui.conftest import MakeController
from tests.ui.test_meetings import SLOW, click, click_radio, shoot
from ui.conversation_window import ConversationWindow
from ui.guest_link_dialog import GuestLinkDialog
from ui.main_window import MainWindow
from ui.network_access import HostingState, NetworkAccess
from ui.network_access_text import LINK_ONCE, OFFER, ON_STATUS

pytestmark = [pytest.mark.integration, pytest.mark.gui]

_ADDRESSES = local_network_addresses()
if not _ADDRESSES:
    pytest.skip("this machine has no non-loopback IPv4 address", allow_module_level=True)
LAN_ADDRESS = _ADDRESSES[0]
RESTART = 60.0  # seconds a restart of the embedded server may take on a busy machine


async def hosting(
    make_controller: MakeController, tmp_path: Path, qtbot, address: str = LAN_ADDRESS
) -> tuple[MainWindow, EmbeddedHomeserver]:
    """Signed in on this computer's server, whose network listener (when on) uses
    ``address`` (the LAN address) rather than every interface."""
    data_dir = tmp_path / "local"
    (data_dir / "homeserver").mkdir(parents=True)
    EmbeddedHomeserver(
        data_dir / "homeserver", profile=HomeserverProfile.TEST
    ).set_network_access_blocking(False, address=address)
    controller = make_controller(data_dir=data_dir, local=True)
    await controller.start()
    main = await create_local_account(controller, qtbot, "hannah", RESTART)
    server = controller.homeserver
    assert main is not None and main.network_access is not None and server is not None
    return main, server


async def meeting_window(main: MainWindow) -> ConversationWindow:
    opened = asyncio.ensure_future(wait_for_signal(main.conversation_opened, SLOW))
    await asyncio.sleep(0)
    click(main.meet_now_button)
    (room_id,) = await opened
    window = main.windows.find(room_id)
    assert window is not None and window.meeting is not None
    assert window.meeting.guest_invite is not None
    await wait_until(lambda: window.meeting_header is not None and window.meeting_header.details)
    return window


async def refused(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(LAN_ADDRESS, port)
    except OSError:
        return True
    writer.close()
    return False


async def test_turn_on_in_preferences_invite_a_guest_and_turn_off_from_the_banner(
    make_controller: MakeController, tmp_path: Path, qtbot
) -> None:
    main, server = await hosting(make_controller, tmp_path, qtbot)
    access = main.network_access
    assert access is not None and access.state is HostingState.OFF
    assert main.network_banner.isHidden()

    # Preferences: off by default, explained; the switch acts at once, with progress.
    main.preferences_action.trigger()
    dialog = main.preferences_dialog
    section = dialog.network
    assert section is not None and section.isVisible()
    assert not section.check.isChecked() and section.explanation.isVisible()
    assert section.address_label.isHidden() and section.fingerprint_label.isHidden()
    await shoot(dialog, "network_preferences_off")
    click_radio(section.check)  # its box: the row is wider than its text
    assert access.state is HostingState.TURNING_ON
    assert section.busy.isVisible() and not section.check.isEnabled()
    assert main.network_banner.isVisible() and main.connection_banner.isHidden()
    await wait_until(lambda: access.is_on, RESTART, "network access did not come on")
    port = server.network_port
    assert server.network_enabled and port is not None
    address = f"{LAN_ADDRESS}:{port}"
    fingerprint = server.network_fingerprint()
    assert fingerprint is not None
    assert section.check.isChecked() and section.check.isEnabled() and section.busy.isHidden()
    assert section.address_label.isVisible() and address in section.address_label.text()
    shown = section.fingerprint_label.text()
    assert shown.replace("\n", "") == format_fingerprint(fingerprint) and shown.count("\n") == 1
    assert unnamed_controls(dialog) == []
    await shoot(dialog, "network_preferences_on", section.fingerprint_label)
    dialog.accept()

    # The main window says so, with the address and a one-click Turn off.
    banner = main.network_banner
    assert banner.isVisible() and banner.text() == ON_STATUS.format(address=address)
    assert banner.action_button.text() == "Turn off" and banner.action_button.toolTip()
    assert banner.action_button.accessibleName() == "Turn off network access"
    await wait_until(
        lambda: main.engine.session.connection is ConnectionState.CONNECTED, RESTART, "no sync"
    )
    await shoot(main, "network_main_banner", banner)
    # The next start finds it on (the server remembers), and says so again.
    restored = NetworkAccess(server, Settings(), lambda: None)
    assert restored.is_on
    await wait_until(lambda: restored.looked_up, 10, "no address")
    assert restored.address == address and restored.fingerprint == format_fingerprint(fingerprint)
    restored.deleteLater()

    # Invite from another computer… makes a single-use link to this meeting.
    window = await meeting_window(main)
    guest_invite = window.meeting.guest_invite
    assert guest_invite.offer_bar.isHidden()  # it is on already: nothing to offer
    click(guest_invite.button)
    link_dialog = guest_invite.dialog
    assert isinstance(link_dialog, GuestLinkDialog) and link_dialog.isVisible()
    await wait_until(lambda: link_dialog.invitation is not None, SLOW, "no link")
    invitation = link_dialog.invitation
    assert invitation is not None
    parsed = parse_guest_link(invitation.link)
    details = window.meeting_header.details
    assert (parsed.host, parsed.port, parsed.fingerprint) == (LAN_ADDRESS, port, fingerprint)
    assert parsed.alias == details.alias
    assert link_dialog.fingerprint_label.text().replace("\n", "") == format_fingerprint(fingerprint)
    assert link_dialog.once_label.text().startswith(LINK_ONCE.split("{")[0])
    click(link_dialog.copy_button)
    assert QGuiApplication.clipboard().text() == invitation.link
    assert unnamed_controls(link_dialog) == []
    await shoot(link_dialog, "network_guest_link", link_dialog.link_edit)

    # The guest, "on another computer", uses it and knocks.
    guest = Engine(tmp_path / "guest")
    try:
        knock = expect_event(main.engine, lambda e: isinstance(e, ev.LobbyKnock), timeout=SLOW)
        assert await join_as_guest(guest, invitation.link, "Gustav") == details.room_id
        await knock
        # New link: another one, for the next person.
        click(link_dialog.new_button)
        await wait_until(lambda: link_dialog.invitation is not None, SLOW, "no new link")
        assert link_dialog.invitation.link != invitation.link
        link_dialog.close()

        # Turn off: the listener closes, the banner goes, the guest is cut off.
        click(banner.action_button)
        assert access.state is HostingState.TURNING_OFF
        assert not banner.action_button.isVisible()
        await wait_until(lambda: access.state is HostingState.OFF, RESTART, "still on")
        assert banner.isHidden() and not server.network_enabled
        assert await refused(port)
        assert guest_invite.button.isEnabled()  # now it offers to turn it on again
        assert "can't join" in guest_invite.button.toolTip()
    finally:
        await guest.session.close()


async def test_a_meeting_offers_network_access_once_and_invite_turns_it_on(
    make_controller: MakeController, tmp_path: Path, qtbot
) -> None:
    main, server = await hosting(make_controller, tmp_path, qtbot)
    access = main.network_access
    assert access is not None

    # Meet Now while it is off: the offer, once, dismissable.
    window = await meeting_window(main)
    room_id = window.meeting_header.details.room_id
    offer = window.meeting.guest_invite.offer_bar
    await wait_until(lambda: offer.isVisible(), SLOW, "no offer")
    assert offer.text() == OFFER and offer.action_button.text() == "Let people on my network join"
    assert unnamed_controls(window) == []
    await shoot(window, "network_meeting_offer", offer, window.meeting.guest_invite.button)
    click(offer._close)
    assert offer.isHidden()
    window.close()
    await wait_until(lambda: main.windows.find(room_id) is None)
    main.open_conversation(room_id)
    again = main.windows.find(room_id)
    assert again is not None and again.meeting is not None
    await asyncio.sleep(0.2)
    assert again.meeting.guest_invite.offer_bar.isHidden()  # never twice for one meeting
    saved = json.loads((tmp_path / "local" / "settings.json").read_text())
    assert room_id in saved["network_offers_shown"]
    again.close()

    # Invite from another computer… while off: it asks, turns it on, then makes the link.
    window = await meeting_window(main)
    guest_invite = window.meeting.guest_invite
    await wait_until(lambda: guest_invite.offer_bar.isVisible(), SLOW, "no offer")
    assert "(Ctrl+Shift+I)" in guest_invite.button.toolTip()
    assert guest_invite.button.shortcut().toString() == "Ctrl+Shift+I"
    guest_invite.button.setFocus()  # from the keyboard
    QTest.keyClick(guest_invite.button, Qt.Key.Key_Space)
    box = guest_invite.dialog
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert unnamed_controls(box) == []
    await shoot(box, "network_ask_turn_on")
    turn_on = next(b for b in box.buttons() if b.text() == "Let people on my network join")
    click(turn_on)
    await wait_until(lambda: access.state is HostingState.TURNING_ON, 5)
    await wait_until(lambda: isinstance(guest_invite.dialog, GuestLinkDialog), RESTART, "no link")
    assert server.network_enabled and guest_invite.offer_bar.isHidden()
    link_dialog = guest_invite.dialog
    await wait_until(lambda: link_dialog.invitation is not None, SLOW, "no link")
    link_dialog.close()
    main.network_banner.action_button.click()
    await wait_until(lambda: access.state is HostingState.OFF, RESTART, "still on")


async def test_when_turning_on_fails_it_says_why_and_the_server_is_back_as_before(
    make_controller: MakeController, tmp_path: Path, qtbot
) -> None:
    # An address this machine does not have (TEST-NET-1): the listener cannot bind.
    main, server = await hosting(make_controller, tmp_path, qtbot, address="192.0.2.123")
    access = main.network_access
    assert access is not None
    main.preferences_action.trigger()
    section = main.preferences_dialog.network
    assert section is not None
    click_radio(section.check)
    await wait_until(lambda: access.state is HostingState.OFF, 2 * RESTART, "still turning on")
    await wait_until(lambda: section.error.isVisible(), 5, "no error shown")
    text = section.error.text()
    assert text.startswith("People on your network could not be let in: ")
    assert text.endswith("Network access is off again."), text
    assert not section.check.isChecked() and section.check.isEnabled()
    assert main.notice_banner.text() == text  # the main window says it too
    assert main.network_banner.isHidden()
    assert not server.network_enabled and server.is_running
    await wait_until(
        lambda: main.engine.session.connection is ConnectionState.CONNECTED, RESTART, "no sync"
    )
    await shoot(main.preferences_dialog, "network_preferences_failed", section.error)
