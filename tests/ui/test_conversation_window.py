"""The conversation window, driven like a user against a real Synapse.

Two real engines (Alice and Bob) talk through the session homeserver; Alice's
side is the window under test. Clicks and keystrokes go through QTest; what
arrives is checked in Bob's engine. No engine or server is mocked.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from nio import AsyncClient, LoginResponse, RoomCreateResponse, RoomPreset
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel

from engine.engine import Engine
from engine.homeserver import EmbeddedHomeserver
from engine.models import ConnectionState, Message, MessageState
from tests.helpers.engines import message_state, signed_in_engine
from tests.helpers.qt_async import wait_until
from tests.helpers.screenshots import check_screenshot
from tests.helpers.users import TestUser
from ui.bridge import EngineBridge
from ui.conversation_window import ENCRYPTED_NOTE, ConversationWindow
from ui.message_delegate import HitKind
from ui.message_model import StartOfHistoryRole
from ui.rich_text import build_document
from ui.typing_notifier import TypingNotifier, typing_text
from ui.window_registry import ConversationWindows

pytestmark = [pytest.mark.integration, pytest.mark.gui]

SHOTS = Path("/tmp/shots")
#: Seconds to wait for something that crosses the server (a send, then the other's sync).
CROSSING_S = 30.0


# -- fixtures and helpers -------------------------------------------------------


@dataclass
class Chat:
    alice: Engine
    bob: Engine
    alice_user: TestUser
    bob_user: TestUser
    bridge: EngineBridge  # Alice's
    room_id: str
    tmp_path: Path
    windows: ConversationWindows  # Alice's

    def open_window(self) -> ConversationWindow:
        return self.windows.open(self.room_id)


MakeRoom = Callable[[Engine], Awaitable[str]]


async def _start_chat(
    alice_user: TestUser, bob_user: TestUser, tmp_path: Path, make_room: MakeRoom | None = None
) -> Chat:
    """Sign both in; the room is Alice's direct chat with Bob unless ``make_room`` makes one."""
    alice = await signed_in_engine(alice_user, tmp_path / "alice")
    bob = await signed_in_engine(bob_user, tmp_path / "bob")
    if make_room is None:
        room_id = await alice.conversations.start_direct_conversation(bob.session.user_id)
    else:
        room_id = await make_room(alice)
    await wait_until(lambda: _both_joined(alice, bob, room_id), timeout=20)
    bridge = EngineBridge(alice.session.bus)
    windows = ConversationWindows(alice, bridge)
    return Chat(alice, bob, alice_user, bob_user, bridge, room_id, tmp_path, windows)


def _both_joined(alice: Engine, bob: Engine, room_id: str) -> bool:
    mine, theirs = (
        alice.conversations.conversation(room_id),
        bob.conversations.conversation(room_id),
    )
    return bool(mine and theirs and mine.member_count == 2 and theirs.member_count == 2)


async def _close_chat(chat: Chat) -> None:
    chat.windows.close_all()
    await asyncio.sleep(0)  # let the windows' last tasks (typing off) start
    chat.bridge.detach()
    await chat.alice.session.close()
    await chat.bob.session.close()
    # Let the requests the close cut short finish cancelling (aiohttp's body
    # writers): a task still pending when the test's loop closes is reported,
    # as "coroutine ... was never awaited", in whichever test comes next.
    await asyncio.sleep(0.05)


@pytest.fixture
async def chat(make_user: Callable[..., TestUser], tmp_path: Path) -> AsyncIterator[Chat]:
    """Alice and Bob signed in, in a direct conversation Alice started."""
    alice_user = make_user("alice", displayname="Alice")
    bob_user = make_user("bob", displayname="Bob")
    chat = await _start_chat(alice_user, bob_user, tmp_path)
    try:
        yield chat
    finally:
        await _close_chat(chat)


async def _raw_client(user: TestUser) -> AsyncClient:
    """A plain matrix-nio client for what Confero's engine does not send (HTML, state)."""
    client = AsyncClient(user.homeserver_url, user.user_id)
    response = await client.login(user.password, device_name="test tool")
    assert isinstance(response, LoginResponse), response
    return client


async def _raw_direct_room(bob_raw: AsyncClient, alice_user_id: str) -> str:
    """A direct room Bob created as its only admin (Alice has power level 0)."""
    response = await bob_raw.room_create(
        is_direct=True, invite=[alice_user_id], preset=RoomPreset.private_chat
    )
    assert isinstance(response, RoomCreateResponse), response
    return response.room_id


async def _set_events_default(client: AsyncClient, room_id: str, level: int) -> None:
    state = await client.room_get_state_event(room_id, "m.room.power_levels")
    content = dict(state.content)
    content["events_default"] = level
    response = await client.room_put_state(room_id, "m.room.power_levels", content)
    assert getattr(response, "event_id", None), response


def _bodies_from(engine: Engine, room_id: str, sender: str) -> list[str]:
    return [m.body for m in engine.conversations.messages(room_id) if m.sender == sender]


def _bob_got(chat: Chat, body: str) -> bool:
    return body in _bodies_from(chat.bob, chat.room_id, chat.alice.session.user_id)


def _events_default(engine: Engine, room_id: str) -> int | None:
    """The room's events_default as the engine's client has synced it."""
    room = engine.session.require_client().rooms.get(room_id)
    return room.power_levels.defaults.events_default if room else None


async def _marker_arrived(chat: Chat, room_id: str) -> None:
    """Alice sends one more message and Bob receives it: what was sent before has arrived."""
    marker = f"marker {uuid.uuid4().hex[:8]}"
    await chat.alice.conversations.send_text(room_id, marker)
    await wait_until(
        lambda: marker in _bodies_from(chat.bob, room_id, chat.alice.session.user_id), 30
    )


def _row_with(window: ConversationWindow, body: str) -> Message | None:
    for message in window.model.messages():
        if message.body == body:
            return message
    return None


async def _row_settled(
    window: ConversationWindow, body: str, state: MessageState, timeout: float = 10.0
) -> Message:
    await wait_until(
        lambda: (m := _row_with(window, body)) is not None and m.state is state, timeout
    )
    message = _row_with(window, body)
    assert message is not None
    return message


async def _activate(window: ConversationWindow) -> None:
    window.activateWindow()
    await wait_until(window.isActiveWindow, timeout=5)


async def _shown(window: ConversationWindow) -> None:
    """Let the window lay out and paint."""
    for _ in range(3):
        await asyncio.sleep(0.05)
    window.grab()


def _light_palette() -> QPalette:
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#efefef"),
        (QPalette.ColorRole.WindowText, "#1b1b1b"),
        (QPalette.ColorRole.Base, "#ffffff"),
        (QPalette.ColorRole.AlternateBase, "#f5f5f5"),
        (QPalette.ColorRole.Text, "#1b1b1b"),
        (QPalette.ColorRole.Button, "#e8e8e8"),
        (QPalette.ColorRole.ButtonText, "#1b1b1b"),
        (QPalette.ColorRole.Highlight, "#2f6fd0"),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.Link, "#1a5fb4"),
        (QPalette.ColorRole.Mid, "#b8b8b8"),
        (QPalette.ColorRole.PlaceholderText, "#7a7a7a"),
    ):
        palette.setColor(role, QColor(colour))
    return palette


def _dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#2b2b2b"),
        (QPalette.ColorRole.WindowText, "#e6e6e6"),
        (QPalette.ColorRole.Base, "#1e1e1e"),
        (QPalette.ColorRole.AlternateBase, "#2b2b2b"),
        (QPalette.ColorRole.Text, "#e6e6e6"),
        (QPalette.ColorRole.Button, "#353535"),
        (QPalette.ColorRole.ButtonText, "#e6e6e6"),
        (QPalette.ColorRole.Highlight, "#3d7dd8"),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.Link, "#7fb2ff"),
        (QPalette.ColorRole.Mid, "#555555"),
        (QPalette.ColorRole.PlaceholderText, "#8a8a8a"),
    ):
        palette.setColor(role, QColor(colour))
    return palette


# -- sending and receiving --------------------------------------------------------


async def test_composer_sends_with_enter_ctrl_enter_and_button(chat: Chat, qtbot) -> None:
    window = chat.open_window()
    composer = window.composer
    assert window.windowTitle() == "Bob"
    assert composer.accessibleName()
    assert window.focusWidget() is composer, "typing goes straight to the composer"

    qtbot.keyClicks(composer, "Hello Bob")
    QTest.keyClick(composer, Qt.Key.Key_Return)
    assert composer.toPlainText() == ""
    await wait_until(lambda: _bob_got(chat, "Hello Bob"))
    await _row_settled(window, "Hello Bob", MessageState.SENT)

    qtbot.keyClicks(composer, "first line")
    QTest.keyClick(composer, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(composer, "second line")
    assert composer.toPlainText() == "first line\nsecond line"
    QTest.keyClick(composer, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    await wait_until(
        lambda: (
            "first line\nsecond line"
            in _bodies_from(chat.bob, chat.room_id, chat.alice.session.user_id)
        )
    )

    qtbot.keyClicks(composer, "   ")
    assert window.send_button.isEnabled()
    QTest.keyClick(composer, Qt.Key.Key_Return)  # blank: nothing is sent
    assert composer.toPlainText() == "   "
    composer.clear()
    assert not window.send_button.isEnabled()

    qtbot.keyClicks(composer, "sent with the button")
    qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    await wait_until(
        lambda: (
            "sent with the button"
            in _bodies_from(chat.bob, chat.room_id, chat.alice.session.user_id)
        )
    )
    sent = await _row_settled(window, "sent with the button", MessageState.SENT)
    await _shown(window)

    # The state icon explains itself.
    row = window.model.row_of(sent.key)
    assert row is not None
    index = window.model.index(row, 0)
    window.view.scrollTo(index)
    await _shown(window)
    geometry = window.view.delegate.geometry(
        window.view.delegate.row_rect(window.view.visualRect(index)), index
    )
    assert geometry.icon is not None
    hit = window.view.delegate.hit_test(
        window.view.visualRect(index), index, geometry.icon.center()
    )
    assert hit is not None and hit.kind is HitKind.STATE and hit.value == "Sent"


async def test_message_from_bob_appears_and_model_is_sound(
    chat: Chat, qtbot, qtmodeltester
) -> None:
    window = chat.open_window()
    qtmodeltester.check(window.model)
    await chat.bob.conversations.send_text(chat.room_id, "Hi Alice, how are you?")
    await wait_until(lambda: _row_with(window, "Hi Alice, how are you?") is not None)
    message = _row_with(window, "Hi Alice, how are you?")
    assert message is not None and message.sender_name == "Bob"
    assert message.state is MessageState.RECEIVED
    await _shown(window)
    assert window.view.is_at_bottom()
    # The newest row is on screen.
    last = window.model.index(window.model.rowCount() - 1, 0)
    assert window.view.viewport().rect().intersects(window.view.visualRect(last))
    qtmodeltester.check(window.model)


async def test_one_window_per_conversation_and_ctrl_w_closes(chat: Chat, qtbot) -> None:
    first = chat.open_window()
    again = chat.open_window()
    assert again is first
    closed: list[str] = []
    first.closed.connect(closed.append)
    await _activate(first)
    QTest.keyClick(first.composer, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert closed == [chat.room_id]
    fresh = chat.open_window()
    assert fresh is not first
    await _activate(fresh)
    QTest.keyClick(fresh.composer, Qt.Key.Key_Escape)  # Esc does nothing, like Element
    assert fresh.isVisible()


# -- history ----------------------------------------------------------------------


async def test_scrolling_to_top_loads_history_until_the_start(
    make_user: Callable[..., TestUser], tmp_path: Path, qtbot, qtmodeltester, monkeypatch
) -> None:
    alice_user = make_user("alice", displayname="Alice")
    bob_user = make_user("bob", displayname="Bob")
    early = await _start_chat(alice_user, bob_user, tmp_path / "early")
    room_id = early.room_id
    try:
        for i in range(60):
            await early.bob.conversations.send_text(room_id, f"history {i:02d}")
        await wait_until(
            lambda: (
                sum(
                    m.state is MessageState.SENT and not m.changes
                    for m in early.bob.conversations.messages(room_id)
                )
                == 60
            ),
            timeout=60,
        )
    finally:
        await _close_chat(early)

    # Alice signs in on a new device afterwards: only the last page is synced.
    async def same_room(_alice: Engine) -> str:
        return room_id

    chat = await _start_chat(alice_user, bob_user, tmp_path / "late", same_room)
    try:
        window = chat.open_window()
        window.resize(480, 360)  # smaller than the first page of messages
        qtmodeltester.check(window.model)
        loading: list[bool] = []
        original = window.view.set_loading

        def spy(value: bool) -> None:
            loading.append(value)
            original(value)

        monkeypatch.setattr(window.view, "set_loading", spy)
        await _shown(window)
        bar = window.view.verticalScrollBar()
        wanted = [f"history {i:02d}" for i in range(60)]

        def loaded() -> list[str]:
            return [m.body for m in window.model.messages() if m.body.startswith("history")]

        assert len(loaded()) < 60  # the rest needs scrolling
        for _ in range(20):
            if window.model.start_reached:
                break
            before = window.model.rowCount()
            bar.setValue(bar.minimum())  # the user drags to the top
            await wait_until(
                lambda before=before: (
                    window.model.rowCount() > before or window.model.start_reached
                ),
                timeout=15,
            )
            await _shown(window)
            if window.model.rowCount() > before and not window.model.start_reached:
                # The messages the user was reading stay in place, not pushed away.
                assert bar.value() > bar.minimum()
        assert window.model.start_reached
        assert loaded() == wanted
        assert True in loading and loading[-1] is False
        assert not window.view.is_loading_visible()
        first = window.model.index(0, 0)
        assert first.data(StartOfHistoryRole) is True
        bar.setValue(bar.minimum())
        await _shown(window)
        geometry = window.view.delegate.geometry(
            window.view.delegate.row_rect(window.view.visualRect(first)), first
        )
        assert geometry.start is not None  # "Start of the conversation" is drawn
    finally:
        await _close_chat(chat)


# -- big, rich and hostile messages -------------------------------------------------


async def test_64_kib_message_from_the_composer_arrives_intact(chat: Chat, qtbot) -> None:
    window = chat.open_window()
    line = "All work and no play makes Jack a dull boy. "
    text = ""
    n = 0
    while len(text.encode()) < 64 * 1024:
        text += f"{n:04d} {line}" + ("\n" if n % 7 == 6 else "")
        n += 1
    text = text[: 64 * 1024].strip()
    assert len(text.encode()) >= 64 * 1024 - 64
    window.composer.setFocus()
    window.composer.insertPlainText(text)  # as when pasting
    QTest.keyClick(window.composer, Qt.Key.Key_Return)
    assert window.composer.toPlainText() == ""

    def received() -> str:
        return "".join(_bodies_from(chat.bob, chat.room_id, chat.alice.session.user_id))

    await wait_until(lambda: len(received()) >= len(text), timeout=30)
    assert received() == text
    await wait_until(
        lambda: all(
            m.state is MessageState.SENT
            for m in window.model.messages()
            if m.sender == chat.alice.session.user_id
        )
    )
    await _shown(window)
    # Long text wraps to the window instead of widening it.
    assert window.view.horizontalScrollBar().maximum() == 0
    assert window.width() < 1000


async def test_html_from_bob_is_rich_but_never_runs_or_fetches(chat: Chat, qtbot) -> None:
    bob_raw = await _raw_client(chat.bob_user)
    try:
        window = chat.open_window()
        response = await bob_raw.room_send(
            chat.room_id,
            "m.room.message",
            {
                "msgtype": "m.text",
                "body": "bold",
                "format": "org.matrix.custom.html",
                "formatted_body": "<b>bold</b><script>alert(1)</script>"
                '<img src="https://example.org/x.png">',
            },
        )
        assert getattr(response, "event_id", None), response
        echo = await chat.bob.conversations.send_text(
            chat.room_id, "<b>not bold</b> <script>alert(2)</script>"
        )
        # Bob's message goes through his outbox (a synced SQLite write) before the
        # server: under load that alone can take seconds, so wait as for any crossing.
        await wait_until(
            lambda: message_state(chat.bob, chat.room_id, echo.key) is MessageState.SENT,
            CROSSING_S,
            "Bob's own engine did not get his message to the server",
        )
        await wait_until(lambda: _row_with(window, "bold") is not None, CROSSING_S)
        await wait_until(
            lambda: _row_with(window, "<b>not bold</b> <script>alert(2)</script>") is not None,
            CROSSING_S,
            "Bob's message reached the server but not Alice's window",
        )
        await _shown(window)

        rich = _row_with(window, "bold")
        assert rich is not None and rich.html
        index = window.model.index(window.model.row_of(rich.key), 0)
        doc = window.view.delegate.document_for_index(index)
        assert doc.toPlainText().strip() == "bold"
        assert "alert" not in doc.toPlainText()
        cursor = doc.find("bold")
        assert cursor.charFormat().fontWeight() >= QFont.Weight.Bold
        assert "<img" not in doc.toHtml()
        assert doc.refused == []  # nothing was even asked for

        plain = _row_with(window, "<b>not bold</b> <script>alert(2)</script>")
        assert plain is not None and plain.html is None
        index = window.model.index(window.model.row_of(plain.key), 0)
        doc = window.view.delegate.document_for_index(index)
        assert doc.toPlainText() == "<b>not bold</b> <script>alert(2)</script>"
        cursor = doc.find("not bold")
        assert cursor.charFormat().fontWeight() < QFont.Weight.Bold

        # A display name with markup shows literally, in the title and the header.
        await bob_raw.set_displayname("<b>Bob</b><script>x</script>")
        await wait_until(lambda: window.windowTitle() == "<b>Bob</b><script>x</script>", CROSSING_S)
        title = window.findChild(QLabel, "conversationTitle")
        assert title.text() == "<b>Bob</b><script>x</script>"
        assert title.textFormat() == Qt.TextFormat.PlainText
    finally:
        await bob_raw.close()


def test_documents_refuse_remote_resources(qtbot) -> None:
    """Even HTML that slipped past the engine's sanitiser cannot fetch an image."""
    doc = build_document(
        plain="",
        rich='<p>look <img src="https://example.org/x.png"></p>'
        '<p style="background-image: url(https://example.org/bg.png)">x</p>',
        font=QFont(),
        link_color="#0000ff",
        width=300,
    )
    image = QImage(300, 200, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    doc.drawContents(painter)
    painter.end()
    assert "https://example.org/x.png" in doc.refused


# -- typing, read markers, encryption ---------------------------------------------------


async def test_typing_shows_and_is_sent_throttled(chat: Chat, qtbot) -> None:
    window = chat.open_window()
    assert window.typing_text() == ""
    await chat.bob.conversations.set_typing(chat.room_id, True)
    await wait_until(lambda: window.typing_text() == "Bob is typing…")
    assert window.typing_label.text() == "Bob is typing…"
    await chat.bob.conversations.set_typing(chat.room_id, False)
    await wait_until(lambda: window.typing_text() == "")

    qtbot.keyClicks(window.composer, "I am wri")
    await wait_until(lambda: chat.bob.conversations.typing_names(chat.room_id) == ("Alice",))
    qtbot.keyClicks(window.composer, "ting")
    QTest.keyClick(window.composer, Qt.Key.Key_Return)
    await wait_until(lambda: chat.bob.conversations.typing_names(chat.room_id) == ())


def test_typing_notifier_throttles_and_formats(qtbot) -> None:
    now = [100.0]
    notifier = TypingNotifier(clock=lambda: now[0])
    sent: list[bool] = []
    notifier.typing_changed.connect(sent.append)
    for _ in range(10):
        notifier.user_typed()
        now[0] += 0.3  # 3 s of typing
    assert sent == [True]
    now[0] += 1.5
    notifier.user_typed()  # more than 4 s after the first notice: renew it
    assert sent == [True, True]
    notifier.stop()
    assert sent == [True, True, False]
    notifier.stop()
    assert sent == [True, True, False]
    assert typing_text(["Ann", "Ben"]) == "Ann and Ben are typing…"
    assert typing_text(["A", "B", "C", "D", "E"]) == "A, B and 3 others are typing…"


async def test_marks_read_when_active_and_messages_arrive(chat: Chat, qtbot) -> None:
    window = chat.open_window()
    await _activate(window)
    echo = await chat.bob.conversations.send_text(chat.room_id, "did you read this?")
    await wait_until(
        lambda: any(
            m.key == echo.key and m.event_id and m.state is MessageState.SENT
            for m in chat.bob.conversations.messages(chat.room_id)
        )
    )
    event_id = next(
        m.event_id for m in chat.bob.conversations.messages(chat.room_id) if m.key == echo.key
    )
    await wait_until(lambda: _row_with(window, "did you read this?") is not None)

    alice_raw = await _raw_client(chat.alice_user)
    try:
        path = (
            f"/_matrix/client/v3/user/{quote(chat.alice.session.user_id)}/rooms/"
            f"{quote(chat.room_id)}/account_data/m.fully_read"
        )
        headers = {"Authorization": f"Bearer {alice_raw.access_token}"}

        async def fully_read() -> str | None:
            response = await alice_raw.send("GET", path, headers=headers)
            data = await response.json(content_type=None)
            return data.get("event_id")

        for _ in range(100):
            if await fully_read() == event_id:
                break
            await asyncio.sleep(0.1)
        assert await fully_read() == event_id
    finally:
        await alice_raw.close()
    await wait_until(lambda: chat.alice.conversations.conversation(chat.room_id).unread_count == 0)


async def test_encrypted_conversation_is_explained(
    make_user: Callable[..., TestUser], tmp_path: Path, qtbot
) -> None:
    alice_user = make_user("alice", displayname="Alice")
    bob_user = make_user("bob", displayname="Bob")
    bob_raw = await _raw_client(bob_user)
    alice = await signed_in_engine(alice_user, tmp_path / "alice")
    bridge = EngineBridge(alice.session.bus)
    windows = ConversationWindows(alice, bridge)
    try:
        room_id = await _raw_direct_room(bob_raw, alice.session.user_id)
        await wait_until(
            lambda: (
                (c := alice.conversations.conversation(room_id)) is not None and c.member_count == 2
            )
        )
        await bob_raw.room_put_state(
            room_id, "m.room.encryption", {"algorithm": "m.megolm.v1.aes-sha2"}
        )
        await bob_raw.room_send(
            room_id,
            "m.room.encrypted",
            {
                "algorithm": "m.megolm.v1.aes-sha2",
                "ciphertext": "AwgAEnAC",
                "device_id": "BOBDEVICE",
                "sender_key": "c2VuZGVyIGtleQ",
                "session_id": "c2Vzc2lvbg",
            },
        )
        window = windows.open(room_id)
        await wait_until(lambda: window.encryption_note.text() == ENCRYPTED_NOTE)
        await wait_until(lambda: any(m.encrypted for m in window.model.messages()))
        assert not window.composer.isEnabled()
        await _shown(window)
        encrypted = next(m for m in window.model.messages() if m.encrypted)
        index = window.model.index(window.model.row_of(encrypted.key), 0)
        geometry = window.view.delegate.geometry(
            window.view.delegate.row_rect(window.view.visualRect(index)), index
        )
        assert geometry.lock is not None  # drawn with a lock, in italics
        assert window.view.delegate.document_for_index(index).defaultFont().italic()
    finally:
        windows.close_all()
        bridge.detach()
        await alice.session.close()
        await bob_raw.close()


# -- failures ------------------------------------------------------------------------


async def test_refused_message_shows_failed_and_retry_sends_it_once(
    make_user: Callable[..., TestUser], tmp_path: Path, qtbot
) -> None:
    alice_user = make_user("alice", displayname="Alice")
    bob_user = make_user("bob", displayname="Bob")
    bob_raw = await _raw_client(bob_user)

    async def bobs_room(alice: Engine) -> str:
        return await _raw_direct_room(bob_raw, alice.session.user_id)

    chat = await _start_chat(alice_user, bob_user, tmp_path, bobs_room)
    room_id = chat.room_id
    try:
        window = chat.open_window()
        await _set_events_default(bob_raw, room_id, 50)  # Alice may no longer speak
        await wait_until(lambda: _events_default(chat.alice, room_id) == 50)
        qtbot.keyClicks(window.composer, "please let me speak")
        QTest.keyClick(window.composer, Qt.Key.Key_Return)
        failed = await _row_settled(window, "please let me speak", MessageState.FAILED)
        assert failed.error
        await _shown(window)

        await _set_events_default(bob_raw, room_id, 0)
        row = window.model.row_of(failed.key)
        assert row is not None
        index = window.model.index(row, 0)
        window.view.scrollTo(index)
        await _shown(window)
        rect = window.view.visualRect(index)
        geometry = window.view.delegate.geometry(window.view.delegate.row_rect(rect), index)
        assert geometry.retry is not None
        hit = window.view.delegate.hit_test(rect, index, geometry.icon.center())
        assert hit is not None and "Not sent" in hit.value  # the icon's tooltip says why
        QTest.mouseClick(
            window.view.viewport(), Qt.MouseButton.LeftButton, pos=geometry.retry.center()
        )
        await _row_settled(window, "please let me speak", MessageState.SENT)
        await wait_until(
            lambda: (
                "please let me speak" in _bodies_from(chat.bob, room_id, chat.alice.session.user_id)
            )
        )
        await _marker_arrived(chat, room_id)  # a duplicate would have come before it
        assert (
            _bodies_from(chat.bob, room_id, chat.alice.session.user_id).count("please let me speak")
            == 1
        )
        assert [m.body for m in window.model.messages()].count("please let me speak") == 1
    finally:
        await bob_raw.close()
        await _close_chat(chat)


@pytest.mark.timeout(180)
async def test_message_sent_while_server_is_down_goes_out_once_when_back(
    private_synapse: EmbeddedHomeserver, tmp_path: Path, qtbot
) -> None:
    users = []
    for name in ("alice", "bob"):
        password = f"{name}-secret-password"
        user_id = await private_synapse.register_user(
            f"{name}-offline", password, displayname=name.title()
        )
        users.append(TestUser(f"{name}-offline", user_id, password, private_synapse.base_url))
    chat = await _start_chat(users[0], users[1], tmp_path)
    try:
        window = chat.open_window()
        await private_synapse.stop()
        qtbot.keyClicks(window.composer, "written on the train")
        QTest.keyClick(window.composer, Qt.Key.Key_Return)
        pending = await _row_settled(window, "written on the train", MessageState.SENDING)
        await wait_until(lambda: chat.alice.session.connection is ConnectionState.RECONNECTING, 60)
        assert _row_with(window, "written on the train").state is not MessageState.SENT
        await _shown(window)

        await private_synapse.start()
        await _row_settled(window, "written on the train", MessageState.SENT, timeout=60)
        await wait_until(
            lambda: (
                "written on the train"
                in _bodies_from(chat.bob, chat.room_id, chat.alice.session.user_id)
            ),
            timeout=60,
        )
        await _marker_arrived(chat, chat.room_id)  # a duplicate would have come before it
        assert (
            _bodies_from(chat.bob, chat.room_id, chat.alice.session.user_id).count(
                "written on the train"
            )
            == 1
        )
        assert window.model.row_of(pending.key) is not None
    finally:
        await _close_chat(chat)


# -- how it looks -------------------------------------------------------------------------


async def test_screenshots_light_and_dark(
    make_user: Callable[..., TestUser], tmp_path: Path, qtbot
) -> None:
    """A realistic conversation, saved for a person to look at, and checked: not blank,
    the palette's background, text contrast, the transcript and composer in view."""
    alice_user = make_user("alice", displayname="Alice Martin")
    bob_user = make_user("bob", displayname="Bob Okafor")
    bob_raw = await _raw_client(bob_user)

    async def bobs_room(alice: Engine) -> str:
        return await _raw_direct_room(bob_raw, alice.session.user_id)

    chat = await _start_chat(alice_user, bob_user, tmp_path, bobs_room)
    room_id = chat.room_id
    app = QApplication.instance()
    previous_palette = app.palette()
    try:
        window = chat.open_window()
        window.resize(620, 760)
        for text in (
            "Morning Alice! Did you get the agenda for Thursday?",
            "I typed <b>this</b> by hand, it should not be bold.",
        ):
            await chat.bob.conversations.send_text(room_id, text)
            await wait_until(lambda text=text: _row_with(window, text) is not None)
        await bob_raw.room_send(
            room_id,
            "m.room.message",
            {
                "msgtype": "m.text",
                "body": "Agenda: budget, hiring, offsite",
                "format": "org.matrix.custom.html",
                "formatted_body": "<b>Agenda</b><ul><li>Budget</li><li>Hiring</li>"
                '<li>Offsite, see <a href="https://example.org/offsite">the plan</a></li></ul>',
            },
        )
        await wait_until(lambda: _row_with(window, "Agenda: budget, hiring, offsite") is not None)
        qtbot.keyClicks(window.composer, "Got it, thanks. Here are my notes from last time:")
        QTest.keyClick(window.composer, Qt.Key.Key_Return)
        await _row_settled(
            window, "Got it, thanks. Here are my notes from last time:", MessageState.SENT
        )
        notes = " ".join(
            f"Point {i}: we agreed to review the numbers again before the next meeting."
            for i in range(1, 13)
        )
        window.composer.insertPlainText(notes)
        QTest.keyClick(window.composer, Qt.Key.Key_Return)
        await _row_settled(window, notes, MessageState.SENT)
        await _set_events_default(bob_raw, room_id, 50)
        await asyncio.sleep(0.5)
        qtbot.keyClicks(window.composer, "And one more thing!")
        QTest.keyClick(window.composer, Qt.Key.Key_Return)
        await _row_settled(window, "And one more thing!", MessageState.FAILED)
        await chat.bob.conversations.set_typing(room_id, True)
        await wait_until(lambda: window.typing_text() == "Bob Okafor is typing…")
        qtbot.keyClicks(window.composer, "Draft reply")
        window.view.scroll_to_end()

        SHOTS.mkdir(parents=True, exist_ok=True)
        for name, palette in (("light", _light_palette()), ("dark", _dark_palette())):
            app.setPalette(palette)
            await _shown(window)
            window.view.scroll_to_end()
            await _shown(window)
            parts = (window.view, window.composer, window.send_button)
            dark = name == "dark"
            check_screenshot(window, SHOTS / f"conv_{name}.png", dark=dark, key_widgets=parts)
            window.view.verticalScrollBar().setValue(0)
            await _shown(window)
            check_screenshot(window, SHOTS / f"conv_{name}_top.png", dark=dark, key_widgets=parts)
        # Tooltips and the failed row are reachable by mouse position too.
        failed = _row_with(window, "And one more thing!")
        index = window.model.index(window.model.row_of(failed.key), 0)
        window.view.scrollTo(index)
        await _shown(window)
        assert window.view.indexAt(QPoint(5, window.view.visualRect(index).center().y())) == index
    finally:
        app.setPalette(previous_palette)
        await chat.bob.conversations.set_typing(room_id, False)
        await bob_raw.close()
        await _close_chat(chat)
