"""The welcome window and sign-in, driven like a user against a real Synapse.

Clicks and keystrokes go through QTest; the controller makes real engine
calls to the session homeserver (or to an embedded server of the test's own).
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from pathlib import Path

import keyring
import pytest
from nio import AsyncClient, LoginResponse
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from engine.engine import Engine
from engine.errors import (
    CredentialStoreUnavailable,
    InvalidHomeserverAddress,
    LoginFailed,
    SessionExpired,
)
from engine.homeserver import EmbeddedHomeserver
from engine.settings import Settings
from tests.helpers.a11y import unnamed_controls
from tests.helpers.keyrings import MemoryKeyring, NoKeyring
from tests.helpers.qt_async import wait_for_signal, wait_until
from tests.helpers.screenshots import check_screenshot
from tests.helpers.users import TestUser
from tests.helpers.widgets import click, type_into
from tests.ui.conftest import MakeController
from ui import theme
from ui.controller import AppController
from ui.dialogs import AddColleagueDialog
from ui.main_window import MainWindow
from ui.startup_timing import StartupTimer
from ui.welcome import LocalAccountMode, SignInPage, WelcomePage, WelcomeWindow

pytestmark = [pytest.mark.integration, pytest.mark.gui]

MakeUser = Callable[..., TestUser]
SHOTS = Path("/tmp/shots")


async def main_window_of(controller: AppController, timeout: float = 30.0) -> MainWindow:
    await wait_until(
        lambda: controller.main_window is not None and controller.main_window.isVisible(),
        timeout,
        "the main window did not appear",
    )
    assert controller.main_window is not None
    return controller.main_window


async def settled(page: SignInPage, timeout: float = 20.0) -> None:
    """Wait until the form is no longer busy (the request has finished)."""
    await wait_until(lambda: not page.is_busy(), timeout, "the form stayed busy")


async def open_sign_in(controller: AppController, qtbot) -> SignInPage:
    await controller.start()
    welcome = controller.welcome
    assert welcome.isVisible()
    assert welcome.windowTitle() == "Confero"
    assert welcome.current_page() is WelcomePage.CHOICE
    click(qtbot, welcome.choice_page.remote_button)
    assert welcome.current_page() is WelcomePage.SIGN_IN
    return welcome.sign_in_page


def fill_sign_in(qtbot, page: SignInPage, address: str, user: str, password: str) -> None:
    type_into(qtbot, page.address_edit, address)
    type_into(qtbot, page.user_edit, user)
    type_into(qtbot, page.password_edit, password)


# -- signing in to a server -------------------------------------------------------


async def test_sign_in_to_a_server_shows_the_main_window(
    make_controller: MakeController, make_user: MakeUser, qtbot
) -> None:
    user = make_user("signin")
    controller = make_controller()
    page = await open_sign_in(controller, qtbot)
    assert page.remember_check.isChecked(), "Keep me signed in is on by default"

    fill_sign_in(qtbot, page, user.homeserver_url, user.localpart, user.password)
    click(qtbot, page.submit_button)
    assert page.is_busy()
    assert not page.submit_button.isEnabled() and not page.password_edit.isEnabled()

    main = await main_window_of(controller)
    assert main.user_label.text() == user.user_id
    assert main.windowTitle() == "Confero"
    assert not controller.welcome.isVisible()
    assert not page.password_edit.text(), "the password does not linger in the hidden form"
    assert not main.add_colleague_action.isVisible(), "only the local server adds accounts"
    settings = Settings.load(controller.data_dir)
    assert settings.last_mode == "remote"
    assert settings.last_address == user.homeserver_url

    # Ctrl+Q asks the app to quit (app.py then shuts the controller down).
    main.activateWindow()
    await wait_until(main.isActiveWindow, 5, "the main window did not become active")
    quit_asked = asyncio.ensure_future(wait_for_signal(controller.quit_requested, 5))
    await asyncio.sleep(0)
    qtbot.keyClick(main, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    await quit_asked


async def test_enter_submits_the_form(
    make_controller: MakeController, make_user: MakeUser, qtbot
) -> None:
    user = make_user("enter")
    controller = make_controller()
    page = await open_sign_in(controller, qtbot)
    fill_sign_in(qtbot, page, user.homeserver_url, user.user_id, user.password)
    qtbot.keyClick(page.password_edit, Qt.Key.Key_Return)
    main = await main_window_of(controller)
    assert main.user_label.text() == user.user_id


async def test_wrong_password_shows_the_error_and_keeps_the_form(
    make_controller: MakeController, make_user: MakeUser, qtbot
) -> None:
    user = make_user("wrongpw")
    controller = make_controller()
    page = await open_sign_in(controller, qtbot)
    fill_sign_in(qtbot, page, user.homeserver_url, user.localpart, "not the password")
    click(qtbot, page.submit_button)
    await settled(page)

    assert page.error_label.isVisible()
    assert page.error_label.text() == LoginFailed.default_message
    assert page.error_label.accessibleName() == "Error"
    assert controller.welcome.focusWidget() is page.password_edit
    assert page.password_edit.selectedText() == "not the password", "ready to retype"
    assert page.address_edit.text() == user.homeserver_url
    assert page.user_edit.text() == user.localpart
    assert page.password_edit.text() == "not the password"
    assert page.submit_button.isEnabled()
    assert controller.main_window is None

    # Correcting the password then works from the same form.
    type_into(qtbot, page.password_edit, user.password)
    click(qtbot, page.submit_button)
    main = await main_window_of(controller)
    assert main.user_label.text() == user.user_id


@pytest.mark.parametrize("address", ["http://exa mple", "ftp://x"])
async def test_malformed_address_is_refused(
    make_controller: MakeController, qtbot, address: str
) -> None:
    controller = make_controller()
    page = await open_sign_in(controller, qtbot)
    fill_sign_in(qtbot, page, address, "someone", "secret")
    click(qtbot, page.submit_button)
    await settled(page)
    assert page.error_label.text() == InvalidHomeserverAddress.default_message
    assert controller.welcome.focusWidget() is page.address_edit, "focus goes to the culprit"
    assert page.address_edit.text() == address


async def test_unreachable_server_reports_it_without_freezing(
    make_controller: MakeController, qtbot
) -> None:
    controller = make_controller()
    page = await open_sign_in(controller, qtbot)
    fill_sign_in(qtbot, page, "http://127.0.0.1:1", "someone", "secret")
    click(qtbot, page.submit_button)
    assert page.is_busy() and page.busy.text() == "Signing in…"
    await settled(page)
    text = page.error_label.text()
    assert "cannot be reached" in text, text
    assert page.submit_button.isEnabled() and page.address_edit.isEnabled()


async def test_empty_fields_are_pointed_out_before_any_request(
    make_controller: MakeController, qtbot
) -> None:
    controller = make_controller()
    page = await open_sign_in(controller, qtbot)
    click(qtbot, page.submit_button)
    assert "server address" in page.error_label.text()
    assert not page.is_busy()
    type_into(qtbot, page.address_edit, "example.org")
    click(qtbot, page.submit_button)
    assert "user name" in page.error_label.text()


async def test_back_returns_to_the_choice(make_controller: MakeController, qtbot) -> None:
    controller = make_controller()
    page = await open_sign_in(controller, qtbot)
    click(qtbot, page.back_button)
    assert controller.welcome.current_page() is WelcomePage.CHOICE


# -- remembering the sign-in ---------------------------------------------------------


async def test_keep_me_signed_in_restores_without_asking(
    make_controller: MakeController, make_user: MakeUser, memory_keyring: MemoryKeyring, qtbot
) -> None:
    user = make_user("remember")
    first = make_controller()
    page = await open_sign_in(first, qtbot)
    fill_sign_in(qtbot, page, user.homeserver_url, user.localpart, user.password)
    click(qtbot, page.submit_button)
    await main_window_of(first)
    assert memory_keyring.entries, "the session went to the keyring"
    assert all(user.password not in secret for secret in memory_keyring.entries.values())
    await first.shutdown()

    second = make_controller(data_dir=first.data_dir)
    second.show_first_window()
    assert second.welcome.current_page() is WelcomePage.BUSY
    await second.start()
    main = await main_window_of(second)
    assert main.user_label.text() == user.user_id
    assert not main.notice_banner.isVisible()


async def test_not_kept_means_asked_again_with_the_form_prefilled(
    make_controller: MakeController, make_user: MakeUser, memory_keyring: MemoryKeyring, qtbot
) -> None:
    user = make_user("forget")
    first = make_controller()
    page = await open_sign_in(first, qtbot)
    page.remember_check.setFocus()
    qtbot.keyClick(page.remember_check, Qt.Key.Key_Space)
    assert not page.remember_check.isChecked()
    fill_sign_in(qtbot, page, user.homeserver_url, user.localpart, user.password)
    click(qtbot, page.submit_button)
    await main_window_of(first)
    assert not memory_keyring.entries
    await first.shutdown()

    second = make_controller(data_dir=first.data_dir)
    await second.start()
    assert second.main_window is None
    assert second.welcome.current_page() is WelcomePage.SIGN_IN
    assert second.welcome.sign_in_page.address_edit.text() == user.homeserver_url
    assert second.welcome.sign_in_page.user_edit.text() == user.localpart
    assert not second.welcome.sign_in_page.password_edit.text()


async def test_without_a_keyring_signs_in_and_says_it_cannot_remember(
    make_controller: MakeController, make_user: MakeUser, qtbot
) -> None:
    keyring.set_keyring(NoKeyring())
    user = make_user("nokeyring")
    controller = make_controller()
    page = await open_sign_in(controller, qtbot)
    assert page.remember_check.isChecked()
    fill_sign_in(qtbot, page, user.homeserver_url, user.localpart, user.password)
    click(qtbot, page.submit_button)
    main = await main_window_of(controller)
    assert main.user_label.text() == user.user_id
    assert main.notice_banner.isVisible()
    assert main.notice_banner.text() == CredentialStoreUnavailable.default_message


async def test_sign_out_returns_to_the_welcome_screen_and_forgets(
    make_controller: MakeController, make_user: MakeUser, memory_keyring: MemoryKeyring, qtbot
) -> None:
    user = make_user("signout")
    controller = make_controller()
    page = await open_sign_in(controller, qtbot)
    fill_sign_in(qtbot, page, user.homeserver_url, user.localpart, user.password)
    click(qtbot, page.submit_button)
    main = await main_window_of(controller)
    assert memory_keyring.entries

    main.sign_out_action.trigger()
    await wait_until(lambda: controller.welcome.isVisible(), 20, "welcome did not come back")
    assert controller.main_window is None
    assert controller.welcome.current_page() is WelcomePage.CHOICE
    assert not memory_keyring.entries, "signing out forgets the remembered session"
    assert Settings.load(controller.data_dir).last_mode == ""


async def test_session_ended_by_the_server_returns_to_sign_in_with_the_reason(
    make_controller: MakeController, make_user: MakeUser, qtbot
) -> None:
    user = make_user("revoked")
    controller = make_controller()
    page = await open_sign_in(controller, qtbot)
    fill_sign_in(qtbot, page, user.homeserver_url, user.localpart, user.password)
    click(qtbot, page.submit_button)
    await main_window_of(controller)

    # The same person signs out everywhere from another client.
    other = AsyncClient(user.homeserver_url, user.user_id)
    assert isinstance(await other.login(user.password), LoginResponse)
    await other.logout(all_devices=True)
    await other.close()

    welcome = controller.welcome
    await wait_until(lambda: welcome.isVisible(), 60, "the expired session was not noticed")
    assert controller.main_window is None
    assert welcome.current_page() is WelcomePage.SIGN_IN
    assert welcome.sign_in_page.user_edit.text() == user.localpart
    assert welcome.banner.text() == SessionExpired.default_message


async def test_restore_while_the_server_is_down_offers_to_try_again(
    make_controller: MakeController, private_synapse: EmbeddedHomeserver, qtbot
) -> None:
    password = "pw-" + private_synapse.server_name
    user_id = private_synapse.register_user_blocking("offline", password)
    first = make_controller()
    page = await open_sign_in(first, qtbot)
    fill_sign_in(qtbot, page, private_synapse.base_url, user_id, password)
    click(qtbot, page.submit_button)
    await main_window_of(first)
    await first.shutdown()
    await private_synapse.stop()

    second = make_controller(data_dir=first.data_dir)
    await second.start()
    welcome = second.welcome
    assert welcome.current_page() is WelcomePage.SIGN_IN
    assert "cannot be reached" in welcome.banner.text()
    assert welcome.banner.action_button.isVisible()
    assert welcome.banner.action_button.text() == "Try again"

    await private_synapse.start()
    click(qtbot, welcome.banner.action_button)
    main = await main_window_of(second)
    assert main.user_label.text() == user_id


async def test_startup_timing_is_reported_when_asked(
    make_controller: MakeController, make_user: MakeUser, qtbot
) -> None:
    user = make_user("bench")
    out = io.StringIO()
    timer = StartupTimer(time.perf_counter(), enabled=True, stream=out)
    controller = make_controller(timer=timer)
    page = await open_sign_in(controller, qtbot)
    fill_sign_in(qtbot, page, user.homeserver_url, user.localpart, user.password)
    click(qtbot, page.submit_button)
    await main_window_of(controller)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("BENCH signed_in_synced ")
    assert float(lines[0].split()[2]) > 0


def test_every_control_has_an_accessible_name(qtbot) -> None:
    welcome = WelcomeWindow()
    qtbot.addWidget(welcome)
    assert not unnamed_controls(welcome)


# -- this computer as the meeting server --------------------------------------------


async def test_local_server_account_then_existing_account_offers_sign_in(
    make_controller: MakeController, tmp_path: Path, qtbot
) -> None:
    controller = make_controller(data_dir=tmp_path / "local")
    await controller.start()
    welcome = controller.welcome
    click(qtbot, welcome.choice_page.local_button)
    assert welcome.current_page() is WelcomePage.BUSY
    await wait_until(
        lambda: welcome.current_page() is WelcomePage.LOCAL_ACCOUNT, 90, "server did not start"
    )
    page = welcome.local_page
    assert page.mode is LocalAccountMode.CREATE
    assert page.display_name_edit.isVisible() and page.confirm_edit.isVisible()

    type_into(qtbot, page.display_name_edit, "Ada Lovelace")
    type_into(qtbot, page.user_edit, "ada")
    type_into(qtbot, page.password_edit, "correct horse")
    type_into(qtbot, page.confirm_edit, "correct horse battery")
    click(qtbot, page.submit_button)
    assert "not the same" in page.error_label.text()
    type_into(qtbot, page.confirm_edit, "correct horse")
    click(qtbot, page.submit_button)

    main = await main_window_of(controller, 60)
    assert main.user_label.text() == "@ada:localhost"
    assert main.add_colleague_action.isVisible()
    assert controller.homeserver is not None and controller.homeserver.is_running

    # "Add a colleague's account…" creates an account the colleague can sign in with.
    main.add_colleague_action.trigger()
    dialog = main.findChild(AddColleagueDialog)
    assert dialog is not None and dialog.isVisible()
    type_into(qtbot, dialog.display_name_edit, "Charles Babbage")
    type_into(qtbot, dialog.user_edit, "charles")
    type_into(qtbot, dialog.password_edit, "difference engine")
    type_into(qtbot, dialog.confirm_edit, "difference engine")
    click(qtbot, dialog.create_button)
    assert dialog.is_busy()
    await wait_until(lambda: dialog.success_label.isVisible(), 30, "no account created")
    assert "@charles:localhost" in dialog.success_label.text()
    assert not dialog.password_edit.text()
    colleague = Engine(tmp_path / "charles")
    await colleague.session.login(
        controller.homeserver.base_url, "charles", "difference engine", remember=False
    )
    assert colleague.session.user_id == "@charles:localhost"
    await colleague.session.close()
    type_into(qtbot, dialog.user_edit, "charles")
    type_into(qtbot, dialog.password_edit, "x")
    type_into(qtbot, dialog.confirm_edit, "x")
    click(qtbot, dialog.create_button)
    await wait_until(lambda: not dialog.is_busy(), 30)
    assert "already taken" in dialog.error_label.text()
    dialog.reject()

    # Sign out, then try to create the same account again: Confero offers to sign in.
    main.sign_out_action.trigger()
    await wait_until(lambda: welcome.isVisible(), 20)
    click(qtbot, welcome.choice_page.local_button)
    await wait_until(lambda: welcome.current_page() is WelcomePage.LOCAL_ACCOUNT, 30)
    assert page.mode is LocalAccountMode.CREATE
    type_into(qtbot, page.user_edit, "ada")
    type_into(qtbot, page.password_edit, "correct horse")
    type_into(qtbot, page.confirm_edit, "correct horse")
    click(qtbot, page.submit_button)
    await wait_until(lambda: page.mode is LocalAccountMode.SIGN_IN, 30)
    assert "already taken" in page.error_label.text()
    assert not page.confirm_edit.isVisible()
    assert page.user_edit.text() == "ada"
    type_into(qtbot, page.password_edit, "correct horse")
    click(qtbot, page.submit_button)
    main = await main_window_of(controller, 30)
    assert main.user_label.text() == "@ada:localhost"

    server = controller.homeserver
    await controller.shutdown()
    assert not server.is_running, "quitting stops the embedded server"


async def test_local_flag_restores_the_remembered_local_session(
    make_controller: MakeController, tmp_path: Path, qtbot
) -> None:
    data_dir = tmp_path / "local"
    first = make_controller(data_dir=data_dir, local=True)
    first.show_first_window()
    assert first.welcome.current_page() is WelcomePage.BUSY
    await first.start()
    page = first.welcome.local_page
    assert first.welcome.current_page() is WelcomePage.LOCAL_ACCOUNT
    type_into(qtbot, page.user_edit, "grace")
    type_into(qtbot, page.password_edit, "hopper-123")
    type_into(qtbot, page.confirm_edit, "hopper-123")
    click(qtbot, page.submit_button)
    await main_window_of(first, 60)
    await first.shutdown()

    second = make_controller(data_dir=data_dir, local=True)
    await second.start()
    main = await main_window_of(second, 60)
    assert main.user_label.text() == "@grace:localhost"


# -- how it looks -----------------------------------------------------------------------


def test_screenshots_light_and_dark(qtbot) -> None:
    """Welcome, sign-in and local account pages in both palettes: saved for people to
    look at, and checked (not blank, the palette's background, text contrast)."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    light = app.palette()
    SHOTS.mkdir(parents=True, exist_ok=True)
    welcome = WelcomeWindow()
    qtbot.addWidget(welcome)
    welcome.show()
    try:
        for name, palette in (("light", light), ("dark", theme.dark_palette())):
            app.setPalette(palette)
            app.processEvents()
            dark = name == "dark"
            welcome.show_choice()
            check_screenshot(welcome, SHOTS / f"welcome_{name}.png", dark=dark)
            welcome.show_sign_in("example.org", "ada")
            welcome.sign_in_page.show_error(LoginFailed())
            page = welcome.sign_in_page
            check_screenshot(
                welcome,
                SHOTS / f"sign_in_{name}.png",
                dark=dark,
                key_widgets=(page.error_label,),
            )
            welcome.show_local_account()
            check_screenshot(welcome, SHOTS / f"local_account_{name}.png", dark=dark)
            welcome.show_busy("Starting the meeting server on this computer…")
            check_screenshot(welcome, SHOTS / f"busy_{name}.png", dark=dark)
    finally:
        app.setPalette(light)


async def test_wait_preferences_are_saved_and_used(
    make_controller: MakeController, make_user: MakeUser, qtbot
) -> None:
    user = make_user("prefs")
    controller = make_controller()
    page = await open_sign_in(controller, qtbot)
    fill_sign_in(qtbot, page, user.homeserver_url, user.localpart, user.password)
    click(qtbot, page.submit_button)
    main = await main_window_of(controller)
    assert main.lobby_timeout_s == 15 * 60  # the documents' default LobbyTimeout

    main.preferences_action.trigger()
    dialog = main.preferences_dialog
    assert dialog.isVisible()
    dialog.lobby_minutes.clear()
    qtbot.keyClicks(dialog.lobby_minutes, "5")
    dialog.invitation_minutes.clear()
    qtbot.keyClicks(dialog.invitation_minutes, "3")
    dialog.escalation_seconds.clear()
    qtbot.keyClicks(dialog.escalation_seconds, "90")
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert main.lobby_timeout_s == 5 * 60
    saved = Settings.load(controller.data_dir)
    assert saved.lobby_timeout_s == 5 * 60
    # The waits the engine keeps follow at once (the lobby's is passed per join).
    assert saved.invitation_timeout_s == 3 * 60
    assert main.engine.invitations.timeout_s == 3 * 60
    assert saved.escalation_timeout_s == 90
    assert main.engine.escalation.timeout_s == 90
