"""The main window's banners for the outbox: can't save (with Retry), and files set aside.

Real Synapse, real SQLite outbox; the failure is another program holding the
outbox file's write lock, which fails for root as for anyone.
"""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from PySide6.QtCore import Qt

from engine.models import MessageState
from tests.helpers.engines import eventually
from tests.helpers.main_windows import main_window
from tests.helpers.qt_async import wait_until
from ui.banner import BannerKind

pytestmark = [pytest.mark.integration, pytest.mark.gui]


async def test_cannot_save_shows_a_banner_and_retry_sends(make_user, tmp_path, qtbot):
    alice, bob = make_user("alice"), make_user("bob")
    async with main_window(alice, tmp_path / "alice") as s:
        window = s.window
        engine = window.engine
        room_id = await engine.conversations.start_direct_conversation(bob.user_id)
        other = sqlite3.connect(engine.conversations.outbox.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another program holds the file
        try:
            echo = await engine.conversations.send_text(room_id, "saved later")
            banner = window.sending_banner
            await wait_until(lambda: banner.text().startswith("Messages can't be saved:"))
            assert banner.kind is BannerKind.ERROR
            assert banner.action_button.isVisible() and banner.action_button.text() == "Retry"
            assert banner.action_button.toolTip()
            # By key: a room-change line (Bob joining) may come after the message.
            mine = [m for m in engine.conversations.messages(room_id) if m.key == echo.key]
            assert [m.state for m in mine] == [MessageState.FAILED]
        finally:
            other.execute("ROLLBACK")
            other.close()
        qtbot.mouseClick(banner.action_button, Qt.MouseButton.LeftButton)
        await eventually(
            lambda: any(
                m.key == echo.key and m.state is MessageState.SENT
                for m in engine.conversations.messages(room_id)
            ),
            30,
        )
        await wait_until(lambda: banner.text() == "")


async def test_outbox_set_aside_is_shown_after_sign_in(make_user, tmp_path):
    alice = make_user("alice")
    outbox_dir = tmp_path / "alice" / "outbox"
    outbox_dir.mkdir(parents=True)
    digest = hashlib.sha256(alice.user_id.encode()).hexdigest()[:16]
    (outbox_dir / f"outbox-{digest}.json").write_text('{"not": "a list"}')
    async with main_window(alice, tmp_path / "alice") as s:
        window = s.window
        await wait_until(lambda: "set aside" in window.notice_banner.text())
        assert window.notice_banner.kind is BannerKind.WARNING
        assert window.sending_banner.text() == ""
