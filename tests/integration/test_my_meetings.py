"""My meetings against the real Synapse: the list, its order, and ending a meeting."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from engine import events as ev
from engine.conference_models import AccessLevel, Denial, Membership, SessionState
from engine.errors import NotPermitted, UnknownConference
from tests.helpers.engines import eventually, expect_event
from tests.helpers.meetings import membership, session_state

pytestmark = pytest.mark.integration

HOUR_MS = 3_600_000


def listed(engine, include_expired: bool = False) -> list[str]:
    return [s.subject for s in engine.my_meetings.summaries(include_expired)]


async def personal_of(engine) -> str:
    """The personal meeting made in the background after sign-in, once My meetings has it."""
    await eventually(lambda: any(s.personal for s in engine.my_meetings.summaries()), timeout=30)
    return engine.my_meetings.summaries()[0].room_id


async def test_the_list_holds_organized_joined_scheduled_and_hides_expired_and_left(people):
    alice, bob = await people("Alice"), await people("Bob")
    now_ms = int(time.time() * 1000)
    mine = await alice.conferences.meet_now("Mine now")
    await alice.conferences.meet_now(
        "Tomorrow", start_ts=now_ms + 24 * HOUR_MS, end_ts=now_ms + 25 * HOUR_MS
    )
    await alice.conferences.meet_now(
        "Yesterday", start_ts=now_ms - 25 * HOUR_MS, end_ts=now_ms - 24 * HOUR_MS
    )
    # Malformed schedules are ignored, never a crash.
    await alice.conferences.meet_now("Odd", start_ts="soon", end_ts=True)
    await alice.conferences.meet_now("Backwards", start_ts=now_ms + HOUR_MS, end_ts=now_ms)
    left = await alice.conferences.meet_now("Left one")
    theirs = await bob.conferences.meet_now("Bob's")
    await bob.conferences.set_options(theirs, access_level=AccessLevel.EVERYONE)
    visited = await bob.conferences.meet_now("Bob's visited")
    await bob.conferences.set_options(visited, access_level=AccessLevel.EVERYONE)
    await alice.conferences.join(theirs)
    await alice.conferences.join(visited)
    await alice.conferences.leave(left)
    await alice.conferences.leave(visited)
    await personal_of(alice)

    await eventually(lambda: len(alice.my_meetings.summaries(include_expired=True)) == 8)
    # The personal meeting, then mine (live ones first, then by start/created time), then
    # the ones of others. One she organizes stays after she left it; one she only
    # visited goes.
    assert listed(alice) == [
        "Alice's personal meeting",
        "Mine now",
        "Odd",
        "Backwards",
        "Left one",
        "Tomorrow",
        "Bob's",
    ]
    assert listed(alice, include_expired=True) == [
        "Alice's personal meeting",
        "Mine now",
        "Odd",
        "Backwards",
        "Yesterday",
        "Left one",
        "Tomorrow",
        "Bob's",
    ]
    by_subject = {s.subject: s for s in alice.my_meetings.summaries(include_expired=True)}
    now = by_subject["Mine now"]
    details = alice.conferences.details(mine)
    assert (now.conference_id, now.link, now.matrix_uri) == (
        details.conference_id,
        details.link,
        details.matrix_uri,
    )
    assert now.organized_by_me and now.live and now.people_here == 1 and not now.expired
    assert now.joined and now.access_level == AccessLevel.INVITED
    gone = by_subject["Left one"]
    assert gone.organized_by_me and not gone.joined and not gone.live and gone.people_here == 0
    tomorrow = by_subject["Tomorrow"]
    assert tomorrow.start_ms == now_ms + 24 * HOUR_MS and tomorrow.end_ms == now_ms + 25 * HOUR_MS
    assert not tomorrow.expired and not tomorrow.live  # not started yet
    assert by_subject["Yesterday"].expired
    assert (by_subject["Odd"].start_ms, by_subject["Odd"].end_ms) == (None, None)
    assert (by_subject["Backwards"].start_ms, by_subject["Backwards"].end_ms) == (None, None)
    bobs = by_subject["Bob's"]
    assert not bobs.organized_by_me and bobs.organizer == bob.session.user_id
    assert bobs.people_here == 2 and bobs.live and bobs.access_level == AccessLevel.EVERYONE
    assert "Bob's visited" not in listed(alice, include_expired=True)


async def test_the_personal_meeting_is_there_from_sign_in_first_and_survives_leaving(people):
    alice, bob = await people("Alice"), await people("Bob")
    await alice.conferences.meet_now("Ordinary")
    # Nobody asked for it: it is made after the first sync, and listed first.
    personal = await personal_of(alice)
    await eventually(lambda: len(alice.my_meetings.summaries()) == 2)
    assert listed(alice) == ["Alice's personal meeting", "Ordinary"]
    assert alice.personal_meeting.room_id() == personal
    row = alice.my_meetings.summary(personal)
    assert not row.joined and not row.live and row.people_here == 0
    await alice.conferences.set_options(personal, access_level=AccessLevel.EVERYONE)

    grew = expect_event(
        alice,
        lambda e: (
            isinstance(e, ev.SummaryChanged)
            and e.summary.room_id == personal
            and e.summary.people_here == 1
            and e.summary.live
        ),
    )
    await bob.conferences.join(personal)
    await grew  # Bob is in it; Alice is not (yet)
    assert not alice.my_meetings.summary(personal).joined
    await alice.conferences.join(personal)
    await eventually(lambda: alice.my_meetings.summary(personal).people_here == 2)
    assert alice.my_meetings.summary(personal).joined

    left = expect_event(
        alice,
        lambda e: (
            isinstance(e, ev.SummaryChanged)
            and e.summary.room_id == personal
            and not e.summary.joined
        ),
    )
    await alice.conferences.leave(personal)
    await left
    assert listed(alice) == ["Alice's personal meeting", "Ordinary"]
    assert alice.my_meetings.summary(personal).people_here == 1  # Bob
    # The same meeting, not a new one, and Alice gets back in.
    assert await alice.personal_meeting.ensure() == personal
    await alice.conferences.join(personal)
    assert session_state(alice, personal) is SessionState.CONNECTED


async def test_a_locked_meeting_you_organize_lets_you_back_in_after_leave_and_quitting(
    people, make_user
):
    user = make_user("alice", displayname="Alice")
    alice, bob = await people("Alice", user), await people("Bob")
    room_id = await alice.conferences.meet_now("Board", access_level=AccessLevel.LOCKED)
    await alice.conferences.invite(room_id, bob.session.user_id)
    await eventually(lambda: room_id in bob.session.client.invited_rooms)
    await bob.conferences.join(room_id)
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) is Membership.JOINED)

    await alice.conferences.leave(room_id)
    assert session_state(alice, room_id) is SessionState.LEFT
    row = alice.my_meetings.summary(room_id)
    assert row is not None and not row.joined and row.live and row.people_here == 1
    # Locked lets nobody in uninvited, its organizer included had she left the room.
    await alice.conferences.join(room_id)
    assert session_state(alice, room_id) is SessionState.CONNECTED
    assert alice.my_meetings.summary(room_id).joined

    await alice.session.close()  # quitting leaves the meeting
    again = await people("Alice", user)  # started again
    await eventually(lambda: again.my_meetings.summary(room_id) is not None)
    row = again.my_meetings.summary(room_id)
    assert row.organized_by_me and not row.joined and session_state(again, room_id) is None
    await again.conferences.join(room_id)
    assert session_state(again, room_id) is SessionState.CONNECTED
    # And it can still be ended for everyone from the list.
    await again.my_meetings.end_for_everyone(room_id)
    await eventually(lambda: session_state(bob, room_id) is SessionState.REMOVED)
    assert bob.conferences.session(room_id).ended_by_organizer
    assert again.my_meetings.summary(room_id) is None


async def test_ending_the_personal_meeting_keeps_it_and_its_occasions(people):
    alice, bob = await people("Alice"), await people("Bob")
    personal = await personal_of(alice)
    start = datetime.now(UTC) + timedelta(days=1)
    await alice.scheduling.schedule(
        "Weekly", start, start + timedelta(hours=1), use_personal_meeting=True
    )
    await eventually(lambda: len(alice.my_meetings.summary(personal).occasions) == 1)
    await alice.conferences.set_options(personal, access_level=AccessLevel.EVERYONE)
    await bob.conferences.join(personal)
    await alice.conferences.join(personal)

    await alice.my_meetings.end_for_everyone(personal)
    await eventually(lambda: session_state(bob, personal) is SessionState.REMOVED)
    assert bob.conferences.session(personal).ended_by_organizer
    row = alice.my_meetings.summary(personal)
    assert row is not None and row.personal and not row.ended and not row.joined
    assert [o.subject for o in row.occasions] == ["Weekly"]
    assert await alice.personal_meeting.ensure() == personal
    # Its link still works: Bob can come back for the next occasion.
    await bob.conferences.join(personal)
    assert session_state(bob, personal) is SessionState.CONNECTED


async def test_end_meeting_for_everyone_removes_all_and_admits_nobody(people):
    alice, bob, carol, dave, erin = [
        await people(n) for n in ("Alice", "Bob", "Carol", "Dave", "Erin")
    ]
    room_id = await alice.conferences.meet_now("Ends today")
    cid = alice.conferences.details(room_id).conference_id
    # Bob is in, Carol waits in the lobby, Dave has an invitation he has not answered.
    knock = expect_event(
        alice,
        lambda e: isinstance(e, ev.LobbyKnock) and e.participant.user_id == bob.session.user_id,
    )
    await bob.conferences.join(cid)
    await knock
    await alice.conferences.admit(room_id, bob.session.user_id)
    await eventually(lambda: session_state(bob, room_id) == SessionState.CONNECTED)
    await carol.conferences.join(cid)
    assert session_state(carol, room_id) == SessionState.IN_LOBBY
    invited = expect_event(dave, lambda e: isinstance(e, ev.IncomingInvitation))
    await alice.conferences.invite(room_id, dave.session.user_id)
    await invited

    with pytest.raises(NotPermitted) as refused:
        await bob.my_meetings.end_for_everyone(room_id)
    assert refused.value.denial is Denial.ORGANIZER_ONLY

    withdrawn = expect_event(
        dave, lambda e: isinstance(e, ev.IncomingInvitationWithdrawn) and e.room_id == room_id
    )
    await eventually(lambda: alice.my_meetings.summary(room_id) is not None)
    await alice.my_meetings.end_for_everyone(room_id)
    assert alice.my_meetings.summary(room_id) is None
    own = alice.conferences.session(room_id)
    assert own.state is SessionState.LEFT and own.ended_by_organizer and not own.can_rejoin

    await eventually(lambda: session_state(bob, room_id) == SessionState.REMOVED)
    removed = bob.conferences.session(room_id)
    assert removed.ended_by_organizer and not removed.can_rejoin
    await eventually(lambda: session_state(carol, room_id) == SessionState.DENIED)
    assert carol.conferences.session(room_id).ended_by_organizer
    await withdrawn
    await eventually(lambda: bob.my_meetings.summary(room_id) is None)
    # Nobody gets in afterwards, by its ID or its room, Bob neither.
    with pytest.raises(UnknownConference):
        await erin.conferences.join(cid)
    with pytest.raises(UnknownConference):
        await bob.conferences.join(room_id)
    assert membership(alice, room_id, bob.session.user_id) in (Membership.LEFT, None)


async def test_a_scheduled_meeting_is_listed_for_its_organizer_and_who_accepted(people):
    alice, bob, carol = await people("Alice"), await people("Bob"), await people("Carol")
    start = datetime.now(UTC) + timedelta(hours=3)
    end = start + timedelta(minutes=30)
    invited = expect_event(bob, lambda e: isinstance(e, ev.IncomingInvitation))
    carols = expect_event(carol, lambda e: isinstance(e, ev.IncomingInvitation))
    room_id = await alice.scheduling.schedule(
        "Roadmap",
        start,
        end,
        AccessLevel.LOCKED,
        invitees=[bob.session.user_id, carol.session.user_id],
        message="Bring ideas",
    )
    await eventually(lambda: alice.my_meetings.summary(room_id) is not None)
    mine = alice.my_meetings.summary(room_id)
    details = alice.conferences.details(room_id)
    assert mine.organized_by_me and mine.subject == "Roadmap"
    assert (mine.start_ms, mine.end_ms) == (
        int(start.timestamp() * 1000),
        int(end.timestamp() * 1000),
    )
    assert (mine.conference_id, mine.link) == (details.conference_id, details.link)
    assert mine.access_level is AccessLevel.LOCKED
    assert not mine.live and not mine.joined and not mine.expired
    # After her personal meeting, before nothing else.
    await personal_of(alice)
    assert listed(alice) == ["Alice's personal meeting", "Roadmap"]

    await invited
    await carols
    assert bob.my_meetings.summary(room_id) is None  # an invitation is not yet his meeting
    await bob.scheduling.accept(room_id)
    await eventually(lambda: bob.my_meetings.summary(room_id) is not None)
    his = bob.my_meetings.summary(room_id)
    assert not his.organized_by_me and his.organizer == alice.session.user_id
    assert (his.start_ms, his.end_ms, his.conference_id) == (
        mine.start_ms,
        mine.end_ms,
        mine.conference_id,
    )
    assert not his.live and not his.joined
    # Carol did not answer: not hers.
    assert carol.my_meetings.summary(room_id) is None
    # Not going on before it starts, though two are members now.
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) is Membership.JOINED)
    assert not alice.my_meetings.summary(room_id).live
