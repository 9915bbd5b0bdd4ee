"""My meetings against the real Synapse: the list, its order, and ending a meeting."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from engine import events as ev
from engine.conference_models import AccessLevel, Denial, Membership, SessionState
from engine.errors import NotPermitted, UnknownConference
from engine.personal_meeting import PERSONAL_MEETING_DATA
from tests.helpers.engines import eventually, expect_event
from tests.helpers.meetings import membership, session_state

pytestmark = pytest.mark.integration

HOUR_MS = 3_600_000


def listed(engine, include_expired: bool = False) -> list[str]:
    return [s.subject for s in engine.my_meetings.summaries(include_expired)]


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
    await alice.conferences.join(theirs)
    await alice.conferences.leave(left)

    await eventually(lambda: len(alice.my_meetings.summaries(include_expired=True)) == 6)
    # Mine first (live ones first, then by start/created time), then the ones of others.
    assert listed(alice) == ["Mine now", "Odd", "Backwards", "Tomorrow", "Bob's"]
    assert listed(alice, include_expired=True) == [
        "Mine now",
        "Odd",
        "Backwards",
        "Yesterday",
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
    assert now.access_level == AccessLevel.INVITED
    tomorrow = by_subject["Tomorrow"]
    assert tomorrow.start_ms == now_ms + 24 * HOUR_MS and tomorrow.end_ms == now_ms + 25 * HOUR_MS
    assert not tomorrow.expired and not tomorrow.live  # not started yet
    assert by_subject["Yesterday"].expired
    assert (by_subject["Odd"].start_ms, by_subject["Odd"].end_ms) == (None, None)
    assert (by_subject["Backwards"].start_ms, by_subject["Backwards"].end_ms) == (None, None)
    bobs = by_subject["Bob's"]
    assert not bobs.organized_by_me and bobs.organizer == bob.session.user_id
    assert bobs.people_here == 2 and bobs.live and bobs.access_level == AccessLevel.EVERYONE
    assert "Left one" not in listed(alice, include_expired=True)


async def test_the_personal_meeting_comes_first_and_counts_change_incrementally(people):
    alice, bob = await people("Alice"), await people("Bob")
    await alice.conferences.meet_now("Ordinary")
    personal = await alice.conferences.meet_now("Alice's personal meeting")
    await alice.conferences.set_options(personal, access_level=AccessLevel.EVERYONE)
    await eventually(lambda: len(alice.my_meetings.summaries()) == 2)
    marked = expect_event(alice, lambda e: isinstance(e, ev.SummaryChanged) and e.summary.personal)
    own = quote(alice.session.user_id)
    await alice.session.api(
        "PUT",
        f"/_matrix/client/v3/user/{own}/account_data/{PERSONAL_MEETING_DATA}",
        {"room_id": personal},
    )
    await marked
    assert listed(alice) == ["Alice's personal meeting", "Ordinary"]

    grew = expect_event(
        alice,
        lambda e: (
            isinstance(e, ev.SummaryChanged)
            and e.summary.room_id == personal
            and e.summary.people_here == 2
        ),
    )
    await bob.conferences.join(personal)
    await grew
    gone = expect_event(alice, lambda e: isinstance(e, ev.SummaryRemoved) and e.room_id == personal)
    await alice.conferences.leave(personal)
    await gone
    assert listed(alice) == ["Ordinary"]


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
