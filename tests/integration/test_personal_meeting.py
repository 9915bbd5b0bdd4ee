"""The personal meeting: one permanent meeting per user, on the real Synapse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from engine.conference_models import AccessLevel, PresenterPolicy, Role
from engine.engine import Engine
from engine.matrix_events import CONFERENCE_STATE
from engine.meeting_schedule import OCCASIONS_KEY
from engine.personal_meeting import PERSONAL_MEETING_DATA
from tests.helpers.engines import eventually

pytestmark = pytest.mark.integration


async def _state(engine: Engine, room_id: str) -> dict[str, Any]:
    path = f"/_matrix/client/v3/rooms/{quote(room_id)}/state/{CONFERENCE_STATE}"
    return await engine.session.api("GET", path)


async def _record(engine: Engine) -> dict[str, Any]:
    user = quote(engine.session.user_id or "")
    return await engine.session.api(
        "GET", f"/_matrix/client/v3/user/{user}/account_data/{PERSONAL_MEETING_DATA}"
    )


async def _alias_target(engine: Engine, conference_id: str) -> str | None:
    alias = quote(f"#{conference_id}:localhost")
    answer = await engine.session.api("GET", f"/_matrix/client/v3/directory/room/{alias}")
    return answer.get("room_id")


async def test_made_after_sign_in_once_with_a_fixed_id_and_recorded(people):
    alice = await people("Alice")
    # Nobody asks for it: the first sync makes it, in the background.
    await eventually(lambda: alice.personal_meeting.room_id() is not None, timeout=30)
    room_id = alice.personal_meeting.room_id()
    assert await alice.personal_meeting.ensure() == room_id
    state = await _state(alice, room_id)
    assert state["personal"] is True
    assert state["organizer"] == alice.session.user_id
    conference_id = state["conference_id"]
    assert len(conference_id) == 7 and conference_id.isdigit()
    assert await _alias_target(alice, conference_id) == room_id
    assert await _record(alice) == {"room_id": room_id, "conference_id": conference_id}
    assert alice.personal_meeting.room_id() == room_id
    # Asking again gives the same meeting, not a new one.
    assert await alice.personal_meeting.ensure() == room_id
    # Conferences learns it from sync like any meeting: the user leads it.
    await eventually(lambda: alice.conferences.details(room_id) is not None)
    await eventually(lambda: alice.conferences.details(room_id).my_role is Role.LEADER)
    details = alice.conferences.details(room_id)
    assert details.conference_id == conference_id
    assert details.link.endswith(f"{conference_id}:localhost")
    assert details.subject == "Alice's personal meeting"


async def test_found_again_after_a_restart_and_from_a_second_device(people, make_user):
    user = make_user("alice", displayname="Alice")
    laptop = await people("Alice", user)
    room_id = await laptop.personal_meeting.ensure()
    phone = await people("Alice", user)  # a second device, syncing at the same time
    await eventually(lambda: phone.personal_meeting.room_id() == room_id)
    assert await phone.personal_meeting.ensure() == room_id
    await laptop.session.close()
    restarted = await people("Alice", user)  # the laptop again, after a restart
    assert await restarted.personal_meeting.ensure() == room_id


async def test_leaving_it_keeps_its_room(people):
    alice = await people("Alice")
    room_id = await alice.personal_meeting.ensure()
    await alice.conferences.join(room_id)
    await alice.conferences.leave(room_id)
    assert alice.conferences.is_member(room_id)
    assert await alice.personal_meeting.ensure() == room_id


async def test_recreated_with_the_same_id_and_its_occasions_after_leaving_its_room(people):
    alice = await people("Alice")
    old_room = await alice.personal_meeting.ensure()
    start = datetime.now(UTC) + timedelta(days=2)
    await alice.scheduling.schedule(
        "Planning", start, start + timedelta(hours=1), use_personal_meeting=True
    )
    await alice.conferences.set_options(
        old_room, access_level=AccessLevel.EVERYONE, presenter_policy=PresenterPolicy.CHOSEN
    )
    old_state = await _state(alice, old_room)
    conference_id = old_state["conference_id"]
    # Another Matrix client (say Element) leaves the room itself.
    client = alice.session.client
    await client.room_leave(old_room)
    await eventually(lambda: not alice.conferences.is_member(old_room))

    new_room = await alice.personal_meeting.ensure()
    assert new_room != old_room
    state = await _state(alice, new_room)
    assert state["personal"] is True
    # The same ID and link: what people were given keeps working; so do the times planned.
    assert state["conference_id"] == conference_id
    assert state[OCCASIONS_KEY] == old_state[OCCASIONS_KEY]
    assert state["presenter_policy"] == PresenterPolicy.CHOSEN.value
    await eventually(lambda: alice.conferences.details(new_room) is not None)
    await eventually(
        lambda: alice.conferences.details(new_room).access_level is AccessLevel.EVERYONE
    )
    assert await _alias_target(alice, conference_id) == new_room
    assert (await _record(alice))["room_id"] == new_room
    await eventually(lambda: alice.personal_meeting.room_id() == new_room)


async def test_recreated_with_a_new_id_when_its_alias_points_elsewhere(people, plain_client):
    alice = await people("Alice")
    old_room = await alice.personal_meeting.ensure()
    conference_id = (await _state(alice, old_room))["conference_id"]
    # The alias is freed and someone else's room takes the ID.
    alias = quote(f"#{conference_id}:localhost")
    await alice.session.api("DELETE", f"/_matrix/client/v3/directory/room/{alias}")
    bob = await plain_client("bob")
    taken = await bob.room_create(alias=conference_id, name="Bob's room")
    assert await _alias_target(alice, conference_id) == taken.room_id

    new_room = await alice.personal_meeting.ensure()
    assert new_room not in (old_room, taken.room_id)
    state = await _state(alice, new_room)
    assert state["personal"] is True and state["conference_id"] != conference_id
    assert await _alias_target(alice, state["conference_id"]) == new_room
    assert await _record(alice) == {"room_id": new_room, "conference_id": state["conference_id"]}


async def test_a_malformed_record_makes_a_new_meeting(people):
    alice = await people("Alice")
    user = quote(alice.session.user_id or "")
    path = f"/_matrix/client/v3/user/{user}/account_data/{PERSONAL_MEETING_DATA}"
    await alice.session.api("PUT", path, {"room_id": 42, "conference_id": ["x"]})
    room_id = await alice.personal_meeting.ensure()
    assert (await _state(alice, room_id))["personal"] is True
    assert (await _record(alice))["room_id"] == room_id


async def test_a_conversation_only_once_something_happens_in_it(people):
    alice, bob = await people("Alice"), await people("Bob")
    await eventually(lambda: alice.personal_meeting.room_id() is not None, timeout=30)
    room_id = alice.personal_meeting.room_id()
    await eventually(lambda: alice.conferences.details(room_id) is not None)
    await alice.conferences.join(room_id)
    # Made at sign-in and joined by its owner alone: in My meetings, not in Conversations.
    assert alice.conversations.conversation(room_id) is None
    await alice.conferences.set_options(room_id, access_level=AccessLevel.EVERYONE)
    await bob.conferences.join(room_id)
    await eventually(lambda: alice.conversations.conversation(room_id) is not None)
