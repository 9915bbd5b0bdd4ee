"""A system keyring that takes its time (a locked keyring asking for its password).

The keyring backend here blocks until the test releases it, as GNOME's does
while its unlock prompt is on screen. The window must keep painting, say what
it waits for, and let the person sign in without remembering.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import keyring
import pytest

from engine.errors import CredentialStoreNotAnswering
from engine.settings import Settings
from tests.helpers.keyrings import BlockingKeyring, MemoryKeyring
from tests.helpers.qt_async import wait_until
from tests.helpers.stalls import StallMeter
from tests.helpers.users import TestUser
from tests.ui.conftest import MakeController
from tests.ui.test_welcome import click, fill_sign_in, main_window_of, open_sign_in
from ui.controller import (
    CONTINUE_WITHOUT_KEYRING,
    KEYRING_WAITING,
    SIGN_IN_WITHOUT_KEYRING,
    AppController,
)
from ui.welcome import WelcomePage

pytestmark = [pytest.mark.integration, pytest.mark.gui]

MakeUser = Callable[..., TestUser]

#: The event loop must never stand still this long while the keyring is busy.
#: A liveness check (the old code froze for the whole prompt), not a speed test.
MAX_STALL_S = 0.25
#: Lets a keyring call through anyway, so a test of code that waits on the UI
#: thread fails on its assertions instead of hanging.
SAFETY_RELEASE_S = 10.0


@pytest.fixture
def slow_keyring(memory_keyring: MemoryKeyring) -> Iterator[BlockingKeyring]:
    backend = BlockingKeyring()
    backend.release_after(SAFETY_RELEASE_S)
    yield backend
    backend.close()


async def remembered_sign_in(
    make_controller: MakeController, user: TestUser, qtbot
) -> AppController:
    """Sign in once with Keep me signed in (the in-memory keyring answers at once)."""
    first = make_controller()
    page = await open_sign_in(first, qtbot)
    fill_sign_in(qtbot, page, user.homeserver_url, user.localpart, user.password)
    click(qtbot, page.submit_button)
    await main_window_of(first)
    await first.shutdown()
    return first


async def restart_with_slow_keyring(
    make_controller: MakeController,
    user: TestUser,
    memory_keyring: MemoryKeyring,
    slow_keyring: BlockingKeyring,
    qtbot,
) -> AppController:
    """A remembered sign-in, then a new controller (not started) whose keyring is slow."""
    first = await remembered_sign_in(make_controller, user, qtbot)
    slow_keyring.entries.update(memory_keyring.entries)
    keyring.set_keyring(slow_keyring)
    return make_controller(data_dir=first.data_dir)


async def waiting_notice_of(controller: AppController) -> None:
    banner = controller.welcome.banner
    await wait_until(lambda: banner.text() == KEYRING_WAITING, 20, "no word of the keyring wait")
    assert banner.action_button.isVisible()
    assert banner.action_button.text() == CONTINUE_WITHOUT_KEYRING
    assert banner.action_button.accessibleName() == CONTINUE_WITHOUT_KEYRING
    assert banner.action_button.toolTip()


async def test_restore_keeps_painting_while_the_keyring_asks_then_signs_in(
    make_controller: MakeController,
    make_user: MakeUser,
    memory_keyring: MemoryKeyring,
    slow_keyring: BlockingKeyring,
    qtbot,
) -> None:
    user = make_user("slowring")
    second = await restart_with_slow_keyring(
        make_controller, user, memory_keyring, slow_keyring, qtbot
    )
    meter = StallMeter()
    meter.start()
    startup = asyncio.ensure_future(second.start())
    await waiting_notice_of(second)
    stall = meter.stop()
    assert slow_keyring.calls == ["get"]
    assert second.welcome.current_page() is WelcomePage.BUSY
    assert stall < MAX_STALL_S, f"the event loop stood still for {stall * 1000:.0f} ms"

    slow_keyring.release()  # the person typed the keyring's password
    main = await main_window_of(second)
    assert main.user_label.text() == user.user_id
    await asyncio.wait_for(startup, 10)
    assert second.welcome.banner.text() == ""


async def test_continue_without_remembering_on_restore_asks_to_sign_in(
    make_controller: MakeController,
    make_user: MakeUser,
    memory_keyring: MemoryKeyring,
    slow_keyring: BlockingKeyring,
    qtbot,
) -> None:
    user = make_user("skipring")
    second = await restart_with_slow_keyring(
        make_controller, user, memory_keyring, slow_keyring, qtbot
    )
    startup = asyncio.ensure_future(second.start())
    await waiting_notice_of(second)
    click(qtbot, second.welcome.banner.action_button)
    await asyncio.wait_for(startup, 10)

    welcome = second.welcome
    assert second.main_window is None
    assert welcome.current_page() is WelcomePage.SIGN_IN
    assert welcome.sign_in_page.user_edit.text() == user.localpart
    # Says why it asks for the password although the sign-in was remembered.
    assert welcome.banner.text() == SIGN_IN_WITHOUT_KEYRING
    assert slow_keyring.calls == ["get"]


async def test_sign_in_with_a_slow_keyring_continues_without_remembering(
    make_controller: MakeController,
    make_user: MakeUser,
    slow_keyring: BlockingKeyring,
    qtbot,
) -> None:
    keyring.set_keyring(slow_keyring)
    user = make_user("promptring")
    controller = make_controller()
    page = await open_sign_in(controller, qtbot)
    assert page.remember_check.isChecked()
    fill_sign_in(qtbot, page, user.homeserver_url, user.localpart, user.password)

    meter = StallMeter()
    meter.start()
    click(qtbot, page.submit_button)  # signs in on the server, then stores the token
    await waiting_notice_of(controller)
    stall = meter.stop()
    assert slow_keyring.calls == ["set"]
    assert stall < MAX_STALL_S, f"the event loop stood still for {stall * 1000:.0f} ms"

    click(qtbot, controller.welcome.banner.action_button)
    main = await main_window_of(controller)
    assert main.user_label.text() == user.user_id
    assert main.notice_banner.isVisible()
    assert main.notice_banner.text() == CredentialStoreNotAnswering.default_message
    assert "cannot remember your sign-in" in main.notice_banner.text()

    # The keyring answers late after all: what the person was told stays true.
    slow_keyring.release()
    await wait_until(lambda: slow_keyring.calls == ["set", "delete"], 10)
    assert not slow_keyring.entries
    # Signing out later does not ask the keyring again in this run.
    controller.main_window.sign_out_action.trigger()
    await wait_until(lambda: controller.welcome.isVisible(), 20)
    assert slow_keyring.calls == ["set", "delete"]
    assert Settings.load(controller.data_dir).last_mode == ""
