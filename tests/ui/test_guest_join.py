"""Joining a meeting hosted on another computer, as its guest (issue 10), in the GUI.

The host is an embedded server of the test's own with network access on, on a
non-loopback address of this machine; the guest's Confero reaches it only
there, over TLS pinned by the guest link. The host admits through its engine
(a second user is a second engine).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from zeroconf import IPVersion, Zeroconf

from engine.conference_models import Membership
from engine.credentials import SERVICE
from engine.errors import InvitationNotValid, WrongServerCertificate
from engine.homeserver import EmbeddedHomeserver
from engine.lan_discovery import LanAnnouncer, LanBrowser
from engine.meeting_links import parse_guest_link
from engine.models import ConnectionState
from engine.network_hosting import guest_slot
from engine.server_certificate import format_fingerprint
from engine.settings import Settings
from tests.helpers.a11y import unnamed_controls
from tests.helpers.keyrings import MemoryKeyring
from tests.helpers.lan_peers import peers_in
from tests.helpers.local_accounts import create_local_account
from tests.helpers.meetings import membership
from tests.helpers.netns import loopback_namespace, made_in_namespace
from tests.helpers.network_hosts import NetworkHost, lan_address, network_host
from tests.helpers.qt_async import wait_until
from tests.helpers.screenshots import check_screenshot
from tests.helpers.widgets import click, type_into
from tests.ui.conftest import MakeController
from ui import guest_text, theme
from ui.controller import AppController
from ui.conversation_window import ConversationWindow
from ui.guest_page import GuestJoinForm
from ui.lan_servers import BrowserFactory
from ui.main_window import MainWindow
from ui.welcome import WelcomePage

pytestmark = [pytest.mark.integration, pytest.mark.gui]

SLOW = 60.0
SHOTS = Path("/tmp/shots")


@pytest.fixture
async def host(tmp_path: Path) -> AsyncIterator[NetworkHost]:
    async with network_host(tmp_path / "host-computer") as running:
        yield running


async def guest_page(controller: AppController, qtbot) -> GuestJoinForm:
    await controller.start()
    welcome = controller.welcome
    assert welcome.current_page() is WelcomePage.CHOICE
    click(qtbot, welcome.choice_page.guest_button)
    assert welcome.current_page() is WelcomePage.GUEST
    return welcome.guest_page.form


async def submitted_with_error(qtbot, form: GuestJoinForm, link: str, name: str = "Gustav") -> str:
    type_into(qtbot, form.link_edit, link)
    type_into(qtbot, form.name_edit, name)
    click(qtbot, form.join_button)
    await wait_until(lambda: not form.is_busy() and form.error_label.isVisible(), SLOW)
    return form.error_label.text()


async def meeting_window(main: MainWindow, room_id: str) -> ConversationWindow:
    await wait_until(lambda: main.windows.find(room_id) is not None, SLOW, "no meeting window")
    window = main.windows.find(room_id)
    assert window is not None
    return window


async def test_a_guest_link_on_the_welcome_screen_asks_a_name_and_lands_in_the_lobby(
    host: NetworkHost, make_controller: MakeController, qtbot, memory_keyring: MemoryKeyring
) -> None:
    room_id, link = await host.meeting_and_link()
    fingerprint = parse_guest_link(link).fingerprint
    controller = make_controller()
    form = await guest_page(controller, qtbot)
    assert not form.details.isVisible()
    assert unnamed_controls(controller.welcome) == []

    type_into(qtbot, form.link_edit, link)
    # What the link says about the host, before anything is sent anywhere.
    assert form.meeting_label.text().startswith("Meeting ")
    assert f"{host.address}:{host.server.network_port}" in form.meeting_label.text()
    assert form.fingerprint_label.text() == guest_text.fingerprint_lines(fingerprint)
    assert form.fingerprint_label.text().replace("\n", "") == format_fingerprint(fingerprint)
    assert controller.welcome.focusWidget() is form.link_edit
    type_into(qtbot, form.name_edit, "Gustav")
    qtbot.keyClick(form.name_edit, Qt.Key.Key_Return)
    assert form.is_busy()

    await wait_until(lambda: controller.main_window is not None, SLOW, "no main window")
    main = controller.main_window
    assert main is not None
    window = await meeting_window(main, room_id)
    await wait_until(window.showing_lobby, SLOW, "the guest is not in the lobby")
    assert not controller.welcome.isVisible()
    assert main.server_label.text().startswith("Guest on the meeting server at")

    guest_id = main.engine.session.user_id
    await wait_until(
        lambda: membership(host.engine, room_id, guest_id) is Membership.KNOCKING, SLOW
    )
    await host.engine.conferences.admit(room_id, guest_id)
    await wait_until(lambda: not window.showing_lobby(), SLOW, "still in the lobby")
    qtbot.keyClicks(window.composer, "hello from the next desk")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    await wait_until(
        lambda: any(
            m.body == "hello from the next desk" and m.sender == guest_id
            for m in host.engine.conversations.messages(room_id)
        ),
        SLOW,
    )
    await host.engine.conversations.send_text(room_id, "welcome, Gustav")
    await wait_until(
        lambda: any(
            m.body == "welcome, Gustav" for m in main.engine.conversations.messages(room_id)
        ),
        SLOW,
    )

    # Kept like any sign-in: in the keyring, under this host's slot, with the pin.
    slot = guest_slot(fingerprint)
    stored = json.loads(memory_keyring.get_password(SERVICE, slot) or "{}")
    assert stored["user_id"] == guest_id and stored["pinned_fingerprint"] == fingerprint.hex()
    settings = Settings.load(controller.data_dir)
    assert (settings.last_mode, settings.last_guest_slot) == ("guest", slot)
    assert settings.guest_name == "Gustav"
    assert settings.last_guest_address == f"{host.address}:{host.server.network_port}"
    assert settings.last_address == "", "a remote server's address is kept for its own form"

    # The host stops letting people in from the network: the guest is told so, in words
    # of its own, and is back by itself when the host turns it on again.
    await host.server.set_network_access(False)
    await wait_until(main.connection_banner.isVisible, SLOW, "no connection banner")
    assert (
        main.connection_banner.text()
        == guest_text.CONNECTION_LOST[main.engine.session.connection_loss]
    )
    assert main.connection_banner.text() == (
        "The meeting server is no longer reachable. Reconnecting…"
    )
    await host.server.set_network_access(True, address=host.address)
    await wait_until(lambda: main.engine.session.connection is ConnectionState.CONNECTED, SLOW)
    await wait_until(lambda: not main.connection_banner.isVisible(), SLOW)

    # Next start: signed in again from the keyring, with the pinned certificate.
    data_dir = controller.data_dir
    await controller.shutdown()
    again = make_controller(data_dir)
    await again.start()
    await wait_until(lambda: again.main_window is not None, SLOW, "not signed in again")
    assert again.main_window is not None
    assert again.main_window.engine.session.user_id == guest_id
    assert again.main_window.engine.session.pinned_fingerprint == fingerprint
    session = again.main_window.engine.session
    await wait_until(lambda: session.connection is ConnectionState.CONNECTED, SLOW)

    # The host's computer is not letting people in when Confero starts: say so, and
    # Try again signs in once it is back.
    await again.shutdown()
    await host.server.set_network_access(False)
    third = make_controller(data_dir)
    await third.start()
    banner = third.welcome.banner
    await wait_until(banner.isVisible, SLOW, "no notice")
    assert banner.text() == guest_text.RESTORE_UNREACHABLE.format(
        address=f"{host.address}:{host.server.network_port}"
    )
    assert third.main_window is None
    await host.server.set_network_access(True, address=host.address)
    click(qtbot, banner.action_button)
    await wait_until(lambda: third.main_window is not None, SLOW, "not signed in again")


async def test_a_bad_guest_link_a_wrong_certificate_and_a_used_invitation_say_so(
    host: NetworkHost, make_controller: MakeController, qtbot
) -> None:
    room_id, link = await host.meeting_and_link()
    controller = make_controller()
    form = await guest_page(controller, qtbot)

    # Nothing typed; half a link; no name.
    click(qtbot, form.join_button)
    assert form.error_label.text() == guest_text.LINK_MISSING
    cut = link.split("&org.confero.token=")[0]
    assert await submitted_with_error(qtbot, form, cut) == "The guest link has no invitation."
    type_into(qtbot, form.link_edit, link)
    form.name_edit.clear()
    click(qtbot, form.join_button)
    assert form.error_label.text() == "Enter your name."
    assert controller.welcome.focusWidget() is form.name_edit

    # Someone else's certificate at the host's address: refused before anything is sent.
    good = parse_guest_link(link).fingerprint.hex()
    bad = link.replace(good, f"{(int(good[0], 16) ^ 1):x}{good[1:]}")
    assert await submitted_with_error(qtbot, form, bad) == WrongServerCertificate.default_message

    # Nobody listening at that address any more (the host left the network).
    moved = parse_guest_link(link)
    gone = link.replace(f"{moved.host}:{moved.port}", f"{moved.host}:1")
    error = await submitted_with_error(qtbot, form, gone)
    assert error.startswith("The meeting server cannot be reached.")

    # The invitation works once (the wrong certificate above did not use it up).
    type_into(qtbot, form.link_edit, link)
    click(qtbot, form.join_button)
    await wait_until(lambda: controller.main_window is not None, SLOW, "no main window")
    assert controller.main_window is not None
    await meeting_window(controller.main_window, room_id)
    await controller.sign_out()
    await wait_until(lambda: controller.welcome.isVisible(), SLOW)
    form = await guest_page_again(controller, qtbot)
    assert await submitted_with_error(qtbot, form, link, "Second") == (
        InvitationNotValid.default_message
    )
    assert controller.main_window is None


async def guest_page_again(controller: AppController, qtbot) -> GuestJoinForm:
    welcome = controller.welcome
    assert welcome.current_page() is WelcomePage.CHOICE
    click(qtbot, welcome.choice_page.guest_button)
    return welcome.guest_page.form


async def signed_in(controller: AppController, user, qtbot) -> MainWindow:
    await controller.start()
    welcome = controller.welcome
    click(qtbot, welcome.choice_page.remote_button)
    page = welcome.sign_in_page
    type_into(qtbot, page.address_edit, user.homeserver_url)
    type_into(qtbot, page.user_edit, user.localpart)
    type_into(qtbot, page.password_edit, user.password)
    click(qtbot, page.submit_button)
    await wait_until(lambda: controller.main_window is not None, SLOW, "not signed in")
    assert controller.main_window is not None
    return controller.main_window


async def test_a_guest_link_in_join_a_meeting_opens_a_guest_session_beside_your_account(
    host: NetworkHost, make_controller: MakeController, make_user, qtbot
) -> None:
    room_id, link = await host.meeting_and_link()
    user = make_user("own", displayname="Olga")
    controller = make_controller()
    own = await signed_in(controller, user, qtbot)

    dialog = own.join_meeting()
    qtbot.keyClicks(dialog.reference_edit, link)
    click(qtbot, dialog.join_button)
    await wait_until(lambda: controller.guest_sessions().dialog is not None, SLOW)
    guest_dialog = controller.guest_sessions().dialog
    assert guest_dialog is not None and guest_dialog.isVisible()
    assert not dialog.isVisible()
    form = guest_dialog.form
    assert form.link_edit.text() == link
    assert guest_dialog.focusWidget() is form.name_edit
    assert unnamed_controls(guest_dialog) == []
    qtbot.keyClicks(form.name_edit, "Olga")
    click(qtbot, form.join_button)

    sessions = controller.guest_sessions()
    await wait_until(lambda: len(sessions.windows) == 1, SLOW, "no guest window")
    guest = sessions.windows[0]
    assert guest.windowTitle() == f"Confero — guest at {host.address}"
    window = await meeting_window(guest, room_id)
    await wait_until(window.showing_lobby, SLOW, "the guest is not in the lobby")
    # Your own account carries on, in its own window.
    assert controller.main_window is own and own.isVisible()
    assert own.engine.session.user_id == user.user_id
    assert guest.engine.session.user_id != user.user_id

    # The command line / a second launch hands over another guest link: the same dialog.
    _, second = await host.meeting_and_link("Second workshop")
    controller.open_link(second)
    await wait_until(lambda: sessions.dialog is not None, SLOW)
    assert sessions.dialog is not None and sessions.dialog.form.link_edit.text() == second
    sessions.dialog.reject()

    # Closing the guest window ends that session only.
    guest.close()
    await wait_until(lambda: not sessions.windows, SLOW)
    assert controller.main_window is own and own.engine.session.user_id == user.user_id


async def test_a_guest_link_handed_over_before_sign_in_opens_the_guest_page(
    host: NetworkHost, make_controller: MakeController, qtbot
) -> None:
    _, link = await host.meeting_and_link()
    # `confero <link>` on a computer that never signed in anywhere.
    controller = make_controller(meeting=link)
    await controller.start()
    assert controller.welcome.current_page() is WelcomePage.GUEST
    form = controller.welcome.guest_page.form
    assert form.link_edit.text() == link
    assert controller.welcome.focusWidget() is form.name_edit
    # And one handed over by a second launch while the welcome window is open.
    controller.welcome.show_choice()
    _, other = await host.meeting_and_link("Other")
    controller.open_link(other)
    assert controller.welcome.current_page() is WelcomePage.GUEST
    assert form.link_edit.text() == other


# -- meeting servers on the network ---------------------------------------------------


@pytest.fixture
def namespace() -> Iterator[str]:
    with loopback_namespace() as name:
        yield name


def browser_in(namespace: str) -> BrowserFactory:
    """The app's discovery browser, its sockets inside the test's namespace."""

    def zeroconf() -> Zeroconf:
        return made_in_namespace(
            namespace, lambda: Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
        )

    return lambda observer: LanBrowser(observer, zeroconf_factory=zeroconf)


async def shots(widget: QWidget, name: str) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    light = app.palette()
    try:
        for shade, colours in (("light", light), ("dark", theme.dark_palette())):
            app.setPalette(colours)
            await asyncio.sleep(0.05)  # let the palette change reach every child
            check_screenshot(widget, SHOTS / f"{name}_{shade}.png", dark=shade == "dark")
    finally:
        app.setPalette(light)


async def test_servers_found_on_the_network_are_offered_with_their_fingerprint(
    host: NetworkHost, make_controller: MakeController, namespace: str, qtbot
) -> None:
    room_id, link = await host.meeting_and_link()
    fingerprint = host.server.network_fingerprint()
    assert fingerprint is not None
    port = str(host.server.network_port)
    async with peers_in(namespace) as peer:
        announcer = await peer(
            "announce", "Hannah's laptop", host.server.server_name, port, fingerprint.hex(),
            host.address,
        )  # fmt: skip
        await announcer.until("announced")
        controller = make_controller(lan_browser=browser_in(namespace))
        form = await guest_page(controller, qtbot)
        servers = form.server_list
        await wait_until(lambda: len(servers.servers()) == 1, SLOW, "nothing found")
        found = servers.servers()[0]
        assert (found.instance, found.host, found.port) == (
            "Hannah's laptop",
            host.address,
            host.server.network_port,
        )
        assert servers.list.item(0).text() == (
            f"Hannah's laptop — {host.address}:{port}\n{guest_text.fingerprint_lines(fingerprint)}"
        )
        # The link is for that server: said so, for the person to compare.
        # Its address is stale (the host's computer got a new one): the server
        # found with the same certificate is where Confero goes.
        parsed = parse_guest_link(link)
        stale = link.replace(f"{parsed.host}:{parsed.port}", f"{parsed.host}:1")
        type_into(qtbot, form.link_edit, stale)
        assert form.found_label.text() == (
            f"“Hannah's laptop” is now at {host.address}:{port}: Confero uses that address."
        )
        type_into(qtbot, form.link_edit, link)
        assert form.found_label.text() == "✓ This is “Hannah's laptop”, found on your network."
        type_into(qtbot, form.name_edit, "Gustav")
        controller.welcome.resize(640, 600)  # its size at first start
        await shots(controller.welcome, "i10guest-guest-page")
        type_into(qtbot, form.link_edit, stale)
        click(qtbot, form.join_button)
        await wait_until(lambda: controller.main_window is not None, SLOW, "no main window")
        assert controller.main_window is not None
        window = await meeting_window(controller.main_window, room_id)
        await wait_until(window.showing_lobby, SLOW, "the guest is not in the lobby")

        # Join a meeting offers them too; picking one opens the guest form for it.
        dialog = controller.main_window.join_meeting()
        await wait_until(lambda: len(dialog.server_list.servers()) == 1, SLOW)
        await shots(dialog, "i10guest-join-dialog")
        dialog.server_list.list.setCurrentRow(0)
        qtbot.keyClick(dialog.server_list.list, Qt.Key.Key_Return)
        sessions = controller.guest_sessions()
        await wait_until(lambda: sessions.dialog is not None, SLOW)
        assert sessions.dialog is not None
        shown = sessions.dialog.form.fingerprint_label.text()
        assert shown == guest_text.fingerprint_lines(fingerprint)
        assert "Hannah's laptop" in sessions.dialog.form.meeting_label.text()
        await shots(sessions.dialog, "i10guest-guest-dialog")
        sessions.dialog.reject()

        # The host turns network access off: the server leaves the list.
        await announcer.send("withdraw")
        await announcer.until("withdrawn")
        dialog = controller.main_window.join_meeting()
        await wait_until(lambda: not dialog.server_list.servers(), SLOW, "still listed")
        assert dialog.server_list.empty_label.text() == guest_text.FOUND_NONE
        dialog.reject()


async def test_this_computers_server_is_announced_while_network_access_is_on(
    make_controller: MakeController, namespace: str, tmp_path: Path, qtbot
) -> None:
    data_dir = tmp_path / "hosting"
    address = lan_address()
    # Network access was turned on in an earlier run (Preferences, i10host's side).
    EmbeddedHomeserver(data_dir / "homeserver").set_network_access_blocking(True, address=address)

    def announcer() -> LanAnnouncer:
        return LanAnnouncer(
            zeroconf_factory=lambda: made_in_namespace(
                namespace,
                lambda: Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only),
            )
        )

    async with peers_in(namespace) as peer:
        browser = await peer("browse")
        await browser.until("browsing")
        controller = make_controller(data_dir, local=True, lan_announcer=announcer)
        await controller.start()
        assert controller.homeserver is not None and controller.homeserver.network_enabled
        fingerprint = controller.homeserver.network_fingerprint()
        assert fingerprint is not None
        found = await browser.servers_until(lambda s: len(s) == 1)
        assert found[0]["fingerprint"] == fingerprint.hex()
        assert (found[0]["host"], found[0]["port"]) == (
            address,
            controller.homeserver.network_port,
        )
        assert found[0]["server_name"] == controller.homeserver.server_name
        # Turned off and on again from the main window: withdrawn, then announced again.
        main = await create_local_account(controller, qtbot, "hannah")
        access = main.network_access
        assert access is not None and access.is_on
        access.turn_off()
        assert await browser.servers_until(lambda s: not s) == []
        access.turn_on()
        again = await browser.servers_until(lambda s: len(s) == 1)
        assert again[0]["fingerprint"] == fingerprint.hex()
        # Quitting withdraws it: other computers' lists drop it at once.
        await controller.shutdown()
        assert await browser.servers_until(lambda s: not s) == []
