"""A meeting's transcript keeps small lines for who came, went, was let in or turned
away, who changed roles and the subject: on the real Synapse, live and from history."""

from __future__ import annotations

import pytest

from engine.conference_models import Membership, Role, SessionState
from engine.engine import Engine
from engine.models import RoomChangeKind as K
from tests.helpers.engines import eventually
from tests.helpers.meetings import membership

pytestmark = pytest.mark.integration

Line = tuple[K, str, str, object]


def lines(engine: Engine, room_id: str) -> list[Line]:
    """The room-change lines of a transcript, as (kind, actor, target, role or subject)."""
    return [
        (c.kind, c.actor_name, c.target_name, c.role or c.subject)
        for m in engine.conversations.messages(room_id)
        for c in m.changes
    ]


def in_order(expected: list[Line], actual: list[Line]) -> bool:
    remaining = iter(actual)
    return all(any(line == seen for seen in remaining) for line in expected)


async def test_the_meeting_transcript_says_who_came_went_and_changed_what(
    people, make_user, tmp_path
):
    alice_user = make_user("alice", displayname="Alice")
    alice = await people("Alice", alice_user)
    bob, carol = await people("Bob"), await people("Carol")
    room_id = await alice.conferences.meet_now(
        "Planning"
    )  # presenters let people in; everyone presents
    cid = alice.conferences.details(room_id).conference_id

    # Bob knocks and is let in.
    await bob.conferences.join(cid)
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) == Membership.KNOCKING)
    await alice.conferences.admit(room_id, bob.session.user_id)
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) == Membership.JOINED)
    # Carol knocks and is turned away, asks again, is let in, then removed.
    await carol.conferences.join(cid)
    await eventually(
        lambda: membership(alice, room_id, carol.session.user_id) == Membership.KNOCKING
    )
    await alice.conferences.deny(room_id, carol.session.user_id)
    await eventually(lambda: membership(alice, room_id, carol.session.user_id) is None)
    await carol.conferences.rejoin(room_id)
    await eventually(
        lambda: membership(alice, room_id, carol.session.user_id) == Membership.KNOCKING
    )
    await alice.conferences.admit(room_id, carol.session.user_id)
    await eventually(lambda: membership(alice, room_id, carol.session.user_id) == Membership.JOINED)
    # Roles and the subject.
    await alice.conferences.set_role(room_id, bob.session.user_id, Role.ATTENDEE)
    await alice.conferences.set_role(room_id, bob.session.user_id, Role.PRESENTER)
    await alice.conferences.set_options(room_id, subject="Planning, part two")
    await alice.conferences.remove(room_id, carol.session.user_id)
    await eventually(
        lambda: carol.conferences.session(room_id).state == SessionState.REMOVED  # type: ignore[union-attr]
    )
    await bob.conferences.leave(room_id)

    expected: list[Line] = [
        (K.JOINED, "Alice", "Alice", ""),
        (K.ADMITTED, "Alice", "Bob", ""),
        (K.JOINED, "Bob", "Bob", ""),
        (K.DENIED, "Alice", "Carol", ""),
        (K.ADMITTED, "Alice", "Carol", ""),
        (K.JOINED, "Carol", "Carol", ""),
        (K.ROLE_CHANGED, "Alice", "Bob", Role.ATTENDEE),
        (K.ROLE_CHANGED, "Alice", "Bob", Role.PRESENTER),
        (K.SUBJECT_CHANGED, "Alice", "", "Planning, part two"),
        (K.REMOVED, "Alice", "Carol", ""),
        (K.LEFT, "Bob", "Bob", ""),
    ]
    await eventually(lambda: in_order(expected, lines(alice, room_id)), 30)
    subject = next(
        c
        for m in alice.conversations.messages(room_id)
        for c in m.changes
        if c.subject == "Planning, part two"
    )
    assert subject.previous_subject == "Planning"
    # Those who were in see the lines too, not just the one who acted.
    assert in_order(expected[6:8], lines(bob, room_id))

    # History loaded by scrolling up has the same lines: Alice on a new device,
    # after enough messages that the first sync brings only the latest page.
    for i in range(40):
        await alice.conversations.send_text(room_id, f"later {i}")
    await eventually(lambda: all(m.event_id for m in alice.conversations.messages(room_id)), 30)
    again = await people("Alice", alice_user)
    await eventually(lambda: again.conversations.conversation(room_id) is not None)
    first_page = lines(again, room_id)
    assert not in_order(expected, first_page)  # the early lines are not in the first page
    while not await again.conversations.load_older(room_id, limit=20):
        pass
    assert in_order(expected, lines(again, room_id))
