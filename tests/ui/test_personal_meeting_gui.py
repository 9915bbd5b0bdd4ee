"""Confero → My personal meeting: made on first use, the same meeting every time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.conference_models import Role, SessionState
from tests.helpers.main_windows import main_window, peers
from tests.helpers.meetings import session_state
from tests.helpers.qt_async import wait_for_signal, wait_until
from tests.helpers.users import TestUser

pytestmark = [pytest.mark.integration, pytest.mark.gui]

MakeUser = Callable[..., TestUser]
SLOW = 30.0


async def test_my_personal_meeting_opens_the_same_meeting_every_time(
    make_user: MakeUser, tmp_path: Path
) -> None:
    alice_user = make_user("alice", displayname="Alice")
    async with main_window(alice_user, tmp_path / "alice") as alice:
        main = alice.window
        action = main.personal_meeting_action
        confero_menu = main.menuBar().actions()[0].menu()
        assert action in confero_menu.actions()
        assert action.toolTip() and action.text().replace("&", "") == "My personal meeting"

        opened = asyncio.ensure_future(wait_for_signal(main.conversation_opened, SLOW))
        await asyncio.sleep(0)
        action.trigger()
        assert not action.isEnabled(), "one click at a time"
        (room_id,) = await opened
        assert room_id == alice.engine.personal_meeting.room_id()
        window = main.windows.find(room_id)
        assert window is not None and window.isVisible() and window.is_meeting
        details = alice.engine.conferences.details(room_id)
        assert details is not None and details.my_role is Role.LEADER
        header = window.meeting_header
        assert header is not None
        await wait_until(lambda: header.link_edit.text() == details.link, SLOW)
        assert header.id_label.text() == f"Meeting ID {details.conference_id}"
        assert header.subject_label.text() == "Alice's personal meeting"
        assert session_state(alice.engine, room_id) is SessionState.CONNECTED
        await wait_until(action.isEnabled, SLOW)

        # Closed and opened again: the same meeting, with the same link.
        window.close()
        await wait_until(lambda: main.windows.find(room_id) is None, SLOW)
        opened = asyncio.ensure_future(wait_for_signal(main.conversation_opened, SLOW))
        await asyncio.sleep(0)
        action.trigger()
        assert await opened == (room_id,)
        assert alice.engine.conferences.details(room_id).link == details.link

        # Alice's other device finds the same meeting.
        async with peers(alice_user, data_dir=tmp_path / "phone") as (phone,):
            assert await phone.personal_meeting.ensure() == room_id
        assert not main.notice_banner.text()
