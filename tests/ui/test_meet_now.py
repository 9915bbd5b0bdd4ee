"""Meet Now shows its window with the link at once, and sync arriving later changes nothing.

Alice clicks Meet Now in the real main window on the real Synapse while her
engine hears nothing from sync (its answers are held, see tests/helpers/holds.py):
the meeting window must already show the ID and the link, from what Confero
itself sent in createRoom. Then sync delivers the room; the window, the roster
and the conversation list must not gain a second copy of anything. Bob, a real
engine, joins by the link the window shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from engine import events as ev
from engine.conference_models import Role, SessionState
from tests.helpers.engines import eventually
from tests.helpers.holds import hold_syncs, settled
from tests.helpers.main_windows import main_window, peers
from tests.helpers.meetings import session_state
from tests.helpers.qt_async import wait_for_signal, wait_until
from tests.helpers.users import TestUser
from ui.conversation_window import ConversationWindow
from ui.roster_model import Section

pytestmark = [pytest.mark.integration, pytest.mark.gui]

MakeUser = Callable[..., TestUser]
# Well under the 15 s the window used to wait for sync before showing anything.
QUICK = 8.0
SLOW = 30.0


def presenters(window: ConversationWindow) -> list[str]:
    assert window.roster is not None
    return [p.display_name for p in window.roster.model.people(Section.PRESENTERS)]


def roster_rows(window: ConversationWindow) -> list[str]:
    assert window.roster is not None
    return [p.user_id for s in Section for p in window.roster.model.people(s)]


async def test_meet_now_shows_the_link_before_sync_and_sync_adds_no_duplicates(
    make_user: MakeUser, tmp_path: Path
) -> None:
    alice_user = make_user("alice", displayname="Alice")
    bob_user = make_user("bob", displayname="Bob")
    async with (
        main_window(alice_user, tmp_path / "alice") as alice,
        peers(bob_user, data_dir=tmp_path) as (bob,),
    ):
        main = alice.window
        seen: list[ev.EngineEvent] = []
        alice.engine.session.bus.subscribe(seen.append)
        syncs = await hold_syncs(alice.engine)

        opened = asyncio.ensure_future(wait_for_signal(main.conversation_opened, QUICK))
        await asyncio.sleep(0)
        QTest.mouseClick(main.meet_now_button, Qt.MouseButton.LeftButton)
        (room_id,) = await opened

        # Sync has said nothing about the room, yet the window shows the meeting.
        window = main.windows.find(room_id)
        assert window is not None and window.isVisible() and window.is_meeting
        header = window.meeting_header
        assert header is not None
        details = alice.engine.conferences.details(room_id)
        assert details is not None
        assert details.my_role is Role.LEADER and details.can_invite
        assert header.link_edit.isVisible()
        assert header.link_edit.text() == details.link
        assert details.link == f"https://matrix.to/#/#{details.conference_id}:localhost"
        assert header.id_label.text() == f"Meeting ID {details.conference_id}"
        assert header.subject_label.text() == "Alice's meeting"
        assert header.invite_button.isEnabled() and header.options_button.isEnabled()
        assert session_state(alice.engine, room_id) is SessionState.CONNECTED
        await wait_until(lambda: presenters(window) == ["Alice"], QUICK, "Alice not listed")
        assert main.model.row_of(room_id) is None  # the list entry comes with sync

        # Sync brings the room: one list entry, one window, one roster row, same details.
        seen.clear()
        syncs.release()
        await wait_until(lambda: main.model.row_of(room_id) is not None, SLOW, "not listed")
        await settled(alice.engine, syncs)
        assert main.model.room_ids().count(room_id) == 1
        assert [w.room_id for w in main.windows.all()] == [room_id]
        assert roster_rows(window) == [alice.user.user_id]
        assert presenters(window) == ["Alice"]
        assert alice.engine.conferences.details(room_id) == details
        assert header.link_edit.text() == details.link
        repeated = [
            e
            for e in seen
            if isinstance(e, ev.ConferenceChanged | ev.ParticipantAdded | ev.ParticipantRemoved)
            and getattr(e, "room_id", getattr(getattr(e, "details", None), "room_id", None))
            == room_id
        ]
        assert repeated == []

        # Bob joins by the link the window shows; Alice lets him in; her roster fills.
        await bob.conferences.join(header.link_edit.text())
        assert session_state(bob, room_id) is SessionState.IN_LOBBY
        await wait_until(
            lambda: bob_user.user_id in roster_rows(window), SLOW, "Bob not in the lobby"
        )
        await alice.engine.conferences.admit(room_id, bob_user.user_id)
        await eventually(lambda: session_state(bob, room_id) is SessionState.CONNECTED, SLOW)
        await wait_until(lambda: presenters(window) == ["Alice", "Bob"], SLOW, "Bob not in")
        assert roster_rows(window).count(alice.user.user_id) == 1
        assert main.model.room_ids().count(room_id) == 1
