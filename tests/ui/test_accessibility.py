"""What a screen reader can do through the accessibility tree, on the real Synapse.

A list item in Qt's tree offers only "Toggle" (select); opening a conversation
and admitting or denying someone must still be possible without the mouse or
the painted buttons: select the row, then press a real, named button.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAccessibleActionInterface, QContextMenuEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from engine.conference_models import Membership, SessionState
from tests.helpers.a11y import actions_of, do_action, item_named
from tests.helpers.engines import signed_in_engine
from tests.helpers.meetings import membership, session_state
from tests.helpers.qt_async import wait_for_signal, wait_until
from tests.helpers.users import TestUser
from ui.bridge import EngineBridge
from ui.engine_calls import wait_for_background_work
from ui.main_window import MainWindow
from ui.window_registry import ConversationWindows

pytestmark = [pytest.mark.integration, pytest.mark.gui]

SLOW = 30.0
MakeUser = Callable[..., TestUser]
PRESS = QAccessibleActionInterface.pressAction()
TOGGLE = QAccessibleActionInterface.toggleAction()


async def test_a_conversation_opens_through_the_accessibility_tree(
    make_user: MakeUser, tmp_path: Path, qtbot
) -> None:
    alice = await signed_in_engine(
        make_user("alice", displayname="Alice"), tmp_path / "a", start=False
    )
    bob = await signed_in_engine(make_user("bob", displayname="Bob Builder"), tmp_path / "b")
    bridge = EngineBridge(alice.session.bus)
    window = MainWindow(alice, bridge)
    try:
        await alice.session.start()
        window.show()
        room_id = await bob.conversations.start_direct_conversation(alice.session.user_id or "")
        await wait_until(lambda: window.model.index_of(room_id).isValid(), SLOW)
        assert not window.open_button.isEnabled()

        item = item_named(window.list_view, "Bob Builder")
        do_action(item, TOGGLE)  # what the item offers: select it
        assert window.open_button.isEnabled()
        assert window.open_button.accessibleName() == "Open Bob Builder"
        assert PRESS in actions_of(window.open_button)
        opened = asyncio.ensure_future(wait_for_signal(window.conversation_opened, SLOW))
        await asyncio.sleep(0)
        do_action(window.open_button, PRESS)
        assert await opened == (room_id,)
        window.windows.close_all()

        # The keyboard: Space opens the current row too, and the Menu key's menu has Open.
        window.list_view.setCurrentIndex(window.model.index_of(room_id))
        window.list_view.setFocus()
        opened = asyncio.ensure_future(wait_for_signal(window.conversation_opened, SLOW))
        await asyncio.sleep(0)
        QTest.keyClick(window.list_view, Qt.Key.Key_Space)
        assert await opened == (room_id,)
        window.windows.close_all()
        QApplication.sendEvent(
            window.list_view.viewport(),
            QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, QPoint(0, 0)),
        )
        menu = window.list_view.last_menu
        assert menu is not None and menu.isVisible()
        assert [a.text().replace("&", "") for a in menu.actions()] == ["Open"]
        menu.close()
    finally:
        window.windows.close_all()
        await wait_for_background_work()
        window.close_quietly()
        bridge.detach()
        await bob.session.close()
        await alice.session.close()
        window.deleteLater()
        await asyncio.sleep(0.05)


async def test_admit_and_deny_one_person_through_the_accessibility_tree(
    make_user: MakeUser, tmp_path: Path, qtbot
) -> None:
    people = {
        name: await signed_in_engine(make_user(name.lower(), displayname=name), tmp_path / name)
        for name in ("Alice", "Bob", "Carol")
    }
    alice, bob, carol = people["Alice"], people["Bob"], people["Carol"]
    bridge = EngineBridge(alice.session.bus)
    windows = ConversationWindows(alice, bridge)
    try:
        room_id = await alice.conferences.meet_now("Planning")
        window = windows.open(room_id)
        roster = window.roster
        assert roster is not None
        cid = alice.conferences.details(room_id).conference_id
        await bob.conferences.join(cid)
        await carol.conferences.join(cid)
        await wait_until(
            lambda: all(
                roster.model.index_of(p.session.user_id or "").isValid()
                and membership(alice, room_id, p.session.user_id or "") is Membership.KNOCKING
                for p in (bob, carol)
            ),
            SLOW,
        )
        assert not roster.admit_button.isVisible() and not roster.deny_button.isVisible()

        # In a narrow roster the count keeps one line of its own above the buttons.
        window.resize(560, 600)
        roster.setFixedWidth(170)
        await wait_until(lambda: roster.width() == 170)
        await asyncio.sleep(0.05)
        label, admit_all = roster.lobby_label, roster.admit_all_button
        assert label.text() == "2 people are waiting in the lobby" == label.toolTip()
        assert label.height() < 2 * label.fontMetrics().height()
        assert (
            label.mapTo(roster, label.rect().bottomLeft()).y()
            < admit_all.mapTo(roster, admit_all.rect().topLeft()).y()
        )
        assert admit_all.mapTo(roster, admit_all.rect().topRight()).x() <= roster.width()
        roster.setMinimumWidth(0)
        roster.setMaximumWidth(16777215)

        do_action(item_named(roster.view, "Bob"), TOGGLE)
        assert roster.admit_button.isVisible()
        assert roster.admit_button.accessibleName() == "Admit Bob"
        do_action(roster.admit_button, PRESS)
        await wait_until(lambda: session_state(bob, room_id) is SessionState.CONNECTED, SLOW)
        do_action(item_named(roster.view, "Carol"), TOGGLE)
        assert roster.deny_button.accessibleName() == "Deny Carol"
        do_action(roster.deny_button, PRESS)
        await wait_until(lambda: session_state(carol, room_id) is SessionState.DENIED, SLOW)
        await wait_until(
            lambda: membership(alice, room_id, bob.session.user_id or "") is Membership.JOINED
        )
    finally:
        windows.close_all()
        await wait_for_background_work()
        bridge.detach()
        for engine in people.values():
            await engine.session.close()
        await asyncio.sleep(0.05)
