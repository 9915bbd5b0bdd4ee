"""The main window against a real Synapse: conversation list, presence, new conversation.

Alice's side is the window under test; Bob and Carol are second real clients
(their own Engine each) on the same server. Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from engine import events as ev
from engine.engine import Engine
from engine.homeserver import EmbeddedHomeserver
from engine.models import ConnectionState, ConversationInfo, Presence
from tests.helpers.a11y import unnamed_controls
from tests.helpers.engines import wait_for_event
from tests.helpers.main_windows import Session, main_window, peers
from tests.helpers.qt_async import wait_for_signal, wait_until
from tests.helpers.screenshots import check_screenshot
from tests.helpers.users import TestUser
from ui import theme
from ui.banner import BannerKind
from ui.conversation_list_model import ConversationRole
from ui.dialogs import NewConversationDialog
from ui.main_window import MainWindow

pytestmark = [pytest.mark.integration, pytest.mark.gui]

MakeUser = Callable[..., TestUser]
SHOTS = Path("/tmp/shots")


def row(window: MainWindow, room_id: str) -> ConversationInfo | None:
    index = window.model.index_of(room_id)
    return index.data(ConversationRole.CONVERSATION) if index.isValid() else None


def received(session: Session, room_id: str, body: str) -> bool:
    return any(m.body == body for m in session.engine.conversations.messages(room_id))


async def direct_chat_from(peer: Engine, session: Session) -> str:
    """``peer`` starts a direct conversation with Alice; wait until it is in her list."""
    room_id = await peer.conversations.start_direct_conversation(
        session.engine.session.user_id or ""
    )
    await wait_until(lambda: row(session.window, room_id) is not None, 20, "no row appeared")
    return room_id


# -- the conversation list ----------------------------------------------------------


async def test_conversations_show_name_unread_count_and_newest_first(
    make_user: MakeUser, tmp_path: Path, qtbot, qtmodeltester
) -> None:
    alice = make_user("alice", displayname="Alice")
    bob_user = make_user("bob", displayname="Bob Builder")
    carol_user = make_user("carol", displayname="Carol")
    async with (
        main_window(alice, tmp_path / "alice") as s,
        peers(bob_user, carol_user, data_dir=tmp_path) as (bob, carol),
    ):
        model = s.window.model
        qtmodeltester.check(model)  # stays attached: checks every change below too
        resets: list[int] = []
        moves: list[int] = []
        model.modelReset.connect(lambda: resets.append(1))
        model.rowsMoved.connect(lambda *_: moves.append(1))
        assert s.window.empty_label.isVisible()

        bob_room = await direct_chat_from(bob, s)
        await wait_until(lambda: row(s.window, bob_room).display_name == "Bob Builder", 20)
        assert s.window.list_view.isVisible() and not s.window.empty_label.isVisible()

        await bob.conversations.send_text(bob_room, "Hello Alice")
        await bob.conversations.send_text(bob_room, "Are you there?")
        await wait_until(lambda: row(s.window, bob_room).unread_count == 2, 20, "unread != 2")
        index = model.index_of(bob_room)
        assert index.data(ConversationRole.UNREAD_COUNT) == 2
        assert "2 unread messages" in index.data(Qt.ItemDataRole.AccessibleTextRole)

        carol_room = await direct_chat_from(carol, s)
        await carol.conversations.send_text(carol_room, "Hi from Carol")
        # send_text only queues: wait for the server to have it, or Carol's sender
        # could post after Bob's bump below and rightly put Carol back on top.
        await wait_until(lambda: received(s, carol_room, "Hi from Carol"), 20, "no Carol line")
        await wait_until(lambda: model.room_ids()[:1] == [carol_room], 20, "Carol not on top")
        assert model.room_ids()[:2] == [carol_room, bob_room]

        await bob.conversations.send_text(bob_room, "Bumping this")
        await wait_until(lambda: model.room_ids()[:1] == [bob_room], 20, "Bob not back on top")
        assert model.room_ids()[:2] == [bob_room, carol_room]
        assert moves, "the order changed by moving a row"
        assert not resets, "the model is never reset per event"


async def test_presence_selector_reaches_the_other_client_and_back(
    make_user: MakeUser, tmp_path: Path, qtbot
) -> None:
    alice = make_user("alice", displayname="Alice")
    bob_user = make_user("bob", displayname="Bob")
    async with (
        main_window(alice, tmp_path / "alice") as s,
        peers(bob_user, data_dir=tmp_path) as (bob,),
    ):
        bob_room = await direct_chat_from(bob, s)
        combo = s.window.presence_combo
        assert combo.accessibleName() == "Your presence"
        assert combo.currentData() is Presence.AVAILABLE

        seen_by_bob = asyncio.ensure_future(
            wait_for_event(
                bob,
                lambda e: (
                    isinstance(e, ev.PresenceChanged)
                    and e.user_id == alice.user_id
                    and e.presence is Presence.BUSY
                ),
                timeout=30,
            )
        )
        await asyncio.sleep(0)
        combo.setFocus()
        qtbot.keyClick(combo, Qt.Key.Key_Down)  # Available → Busy, as a person would
        assert combo.currentData() is Presence.BUSY
        await seen_by_bob
        await wait_until(lambda: s.engine.presences.own_presence is Presence.BUSY, 10)

        await bob.meeting_presence.choose(Presence.AWAY, None)
        await wait_until(
            lambda: row(s.window, bob_room).peer_presence is Presence.AWAY, 30, "no Away"
        )
        index = s.window.model.index_of(bob_room)
        assert index.data(ConversationRole.SUBTITLE) == "Away"


# -- starting a conversation ----------------------------------------------------------


async def open_new_conversation_dialog(window: MainWindow, qtbot) -> NewConversationDialog:
    window.activateWindow()  # shortcuts work in the active window only
    await wait_until(window.isActiveWindow, 5, "the main window did not become active")
    window.list_view.setFocus()
    qtbot.keyClick(window.list_view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    await wait_until(lambda: window.findChild(NewConversationDialog) is not None, 5)
    dialog = window.findChild(NewConversationDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.focusWidget() is dialog.query_edit, "typing goes straight to the ID field"
    return dialog


async def test_new_conversation_by_matrix_id_opens_it(
    make_user: MakeUser, tmp_path: Path, qtbot
) -> None:
    alice = make_user("alice", displayname="Alice")
    dave = make_user("dave", displayname="Dave")
    async with main_window(alice, tmp_path / "alice") as s:
        dialog = await open_new_conversation_dialog(s.window, qtbot)
        qtbot.keyClicks(dialog.query_edit, dave.user_id)
        opened = asyncio.ensure_future(wait_for_signal(s.window.conversation_opened, 30))
        await asyncio.sleep(0)
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        (room_id,) = await opened
        assert not shiboken6.isValid(dialog) or not dialog.isVisible()
        assert row(s.window, room_id) is not None
        windows = [w for w in s.window.windows.all() if w.isVisible()]
        assert len(windows) == 1
        assert s.window.list_view.currentIndex().data(ConversationRole.ROOM_ID) == room_id

        # Enter on the row opens it again; a second Enter raises it rather than a second window.
        s.window.windows.close_all()
        await wait_until(lambda: not any(w.isVisible() for w in s.window.windows.all()))
        s.window.list_view.setFocus()
        reopened = asyncio.ensure_future(wait_for_signal(s.window.conversation_opened, 10))
        await asyncio.sleep(0)
        qtbot.keyClick(s.window.list_view, Qt.Key.Key_Return)
        assert await reopened == (room_id,)
        qtbot.keyClick(s.window.list_view, Qt.Key.Key_Return)
        assert len([w for w in s.window.windows.all() if w.isVisible()]) == 1


async def test_malformed_and_unknown_ids_are_explained_in_the_dialog(
    make_user: MakeUser, tmp_path: Path, qtbot
) -> None:
    alice = make_user("alice")
    async with main_window(alice, tmp_path / "alice") as s:
        dialog = await open_new_conversation_dialog(s.window, qtbot)
        assert not unnamed_controls(s.window)
        assert not unnamed_controls(dialog)

        qtbot.keyClicks(dialog.query_edit, "@not a valid id")
        qtbot.keyClick(dialog.query_edit, Qt.Key.Key_Return)
        await wait_until(lambda: dialog.error_label.isVisible() and not dialog.is_busy(), 10)
        assert "not a valid user ID" in dialog.error_label.text()
        assert dialog.isVisible()

        nobody = f"@nobody-{uuid.uuid4().hex[:8]}:{alice.user_id.split(':', 1)[1]}"
        dialog.query_edit.clear()
        qtbot.keyClicks(dialog.query_edit, nobody)
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        assert dialog.is_busy()
        await wait_until(lambda: not dialog.is_busy(), 20)
        assert dialog.error_label.text() == f"There is no user {nobody} on the server."
        assert dialog.query_edit.text() == nobody
        assert dialog.isVisible()

        dialog.query_edit.clear()
        qtbot.keyClicks(dialog.query_edit, alice.user_id)
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: not dialog.is_busy(), 20)
        assert "That is you" in dialog.error_label.text()
        assert s.window.model.rowCount() == 0
        dialog.reject()


async def test_directory_search_finds_people_by_name(
    make_user: MakeUser, tmp_path: Path, qtbot
) -> None:
    alice = make_user("alice", displayname="Alice")
    tag = uuid.uuid4().hex[:6]
    erin_user = make_user("erin", displayname=f"Erin {tag}")
    async with (
        main_window(alice, tmp_path / "alice") as s,
        peers(erin_user, data_dir=tmp_path) as (erin,),
    ):
        await direct_chat_from(erin, s)  # the directory lists people who share a room
        dialog = await open_new_conversation_dialog(s.window, qtbot)
        finished = asyncio.ensure_future(wait_for_signal(dialog.search_finished, 20))
        await asyncio.sleep(0)
        qtbot.keyClicks(dialog.query_edit, tag)
        (count,) = await finished
        assert count >= 1
        texts = [dialog.results.item(i).text() for i in range(dialog.results.count())]
        assert any(f"Erin {tag}" in t and erin_user.user_id in t for t in texts), texts
        dialog.results.setCurrentRow(0)
        assert dialog.query_edit.text() == erin_user.user_id
        dialog.reject()


# -- names from other people are text, never markup ----------------------------------


async def test_markup_and_control_characters_in_names_are_shown_as_plain_text(
    make_user: MakeUser, tmp_path: Path, qtbot
) -> None:
    alice = make_user("alice")
    nasty = '<b>Bob</b><script>alert(1)</script><img src="file:///etc/passwd">\u202eevil\x07'
    bob_user = make_user("bob", displayname=nasty)
    async with (
        main_window(alice, tmp_path / "alice") as s,
        peers(bob_user, data_dir=tmp_path) as (bob,),
    ):
        room_id = await direct_chat_from(bob, s)
        await wait_until(lambda: "Bob" in row(s.window, room_id).display_name, 20)
        index = s.window.model.index_of(room_id)
        shown = index.data(Qt.ItemDataRole.DisplayRole)
        assert "<b>Bob</b>" in shown, "markup is kept as literal characters"
        assert "\u202e" not in shown and "\x07" not in shown
        tooltip = index.data(Qt.ItemDataRole.ToolTipRole)
        assert "&lt;b&gt;Bob&lt;/b&gt;" in tooltip and "<b>Bob" not in tooltip
        assert "<img" not in tooltip and "<script" not in tooltip
        # The row paints without trouble (the delegate draws plain text only).
        assert not s.window.list_view.grab().isNull()


# -- connection banner -----------------------------------------------------------------


async def test_connection_banner_follows_the_server_going_away_and_back(
    private_synapse: EmbeddedHomeserver, tmp_path: Path, qtbot
) -> None:
    password = uuid.uuid4().hex
    user_id = private_synapse.register_user_blocking("frank", password)
    frank = TestUser("frank", user_id, password, private_synapse.base_url)
    async with main_window(frank, tmp_path / "frank") as s:
        banner = s.window.connection_banner
        await wait_until(lambda: s.engine.session.connection is ConnectionState.CONNECTED, 10)
        assert not banner.isVisible()

        await private_synapse.stop()
        await wait_until(lambda: banner.isVisible(), 40, "no banner after the server stopped")
        assert banner.text() == "Connection lost: reconnecting…"

        await private_synapse.start()
        await wait_until(lambda: not banner.isVisible(), 60, "banner stayed after reconnecting")
        assert s.engine.session.connection is ConnectionState.CONNECTED


# -- how it looks -----------------------------------------------------------------------


async def test_screenshots_light_and_dark(make_user: MakeUser, tmp_path: Path, qtbot) -> None:
    alice = make_user("alice", displayname="Alice Liddell")
    bob_user = make_user("bob", displayname="Bob Builder")
    carol_user = make_user("carol", displayname="Carol Danvers")
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    light = app.palette()
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with (
        main_window(alice, tmp_path / "alice") as s,
        peers(bob_user, carol_user, data_dir=tmp_path) as (bob, carol),
    ):
        bob_room = await direct_chat_from(bob, s)
        carol_room = await direct_chat_from(carol, s)
        await bob.conversations.send_text(bob_room, "Lunch?")
        await carol.meeting_presence.choose(Presence.BUSY, None)
        await wait_until(lambda: row(s.window, bob_room).unread_count == 1, 20)
        await wait_until(lambda: row(s.window, carol_room).peer_presence is Presence.BUSY, 20)
        s.window.connection_banner.show_message(
            "Connection lost: reconnecting…", BannerKind.ERROR, dismissable=False
        )
        try:
            for name, palette in (("light", light), ("dark", theme.dark_palette())):
                app.setPalette(palette)
                await asyncio.sleep(0.05)
                check_screenshot(
                    s.window,
                    SHOTS / f"main_window_{name}.png",
                    dark=name == "dark",
                    key_widgets=(
                        s.window.list_view,
                        s.window.presence_combo,
                        s.window.new_button,
                        s.window.meet_now_button,
                        s.window.connection_banner,
                    ),
                )
            dialog = s.window.start_new_conversation()
            finished = asyncio.ensure_future(wait_for_signal(dialog.search_finished, 20))
            await asyncio.sleep(0)
            qtbot.keyClicks(dialog.query_edit, "Builder")
            await finished
            for name, palette in (("light", light), ("dark", theme.dark_palette())):
                app.setPalette(palette)
                await asyncio.sleep(0.05)
                check_screenshot(
                    dialog,
                    SHOTS / f"new_conversation_{name}.png",
                    dark=name == "dark",
                    key_widgets=(dialog.query_edit,),
                )
            dialog.reject()
        finally:
            app.setPalette(light)
