"""Scheduling (issue 9) on the real Synapse: the round trip to an invitee, bad input,
and reminders at the start with a clock the test moves on (no real waiting)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine import events as ev
from engine.conference_models import AccessLevel, Membership, PresenterPolicy
from engine.engine import Engine
from engine.invitations import InvitationState
from engine.matrix_events import CONFERENCE_STATE
from engine.reminders import FIRED_FILE
from engine.scheduling import InvalidSchedule
from tests.helpers.clocks import ManualClock
from tests.helpers.engines import eventually, expect_event, signed_in_engine
from tests.helpers.meetings import membership, session_state
from tests.helpers.users import TestUser

pytestmark = pytest.mark.integration

Start = Callable[..., "AsyncIterator[Engine]"]


@pytest.fixture
async def signed_in(make_user, tmp_path: Path):
    """``await signed_in(user, folder, clock)``: an engine whose reminders use ``clock``."""
    engines: list[Engine] = []

    async def start(
        user: TestUser, folder: str, clock: ManualClock | None = None, *, sync: bool = True
    ) -> Engine:
        engine = await signed_in_engine(user, tmp_path / folder, start=False)
        if clock is not None:
            engine.reminders.clock = clock
            engine.reminders.sleep = clock.sleep
            engine.scheduling.clock = clock
        if sync:
            await engine.session.start()
        engines.append(engine)
        return engine

    yield start
    for engine in engines:
        await engine.session.close()


def in_minutes(minutes: float, clock: ManualClock | None = None) -> datetime:
    now = clock.now if clock is not None else time.time()
    return datetime.fromtimestamp(now, tz=UTC) + timedelta(minutes=minutes)


def reminders_of(engine: Engine) -> list[ev.MeetingReminder]:
    seen: list[ev.MeetingReminder] = []
    engine.session.bus.subscribe(
        lambda e: seen.append(e) if isinstance(e, ev.MeetingReminder) else None
    )
    return seen


async def test_schedule_round_trip_with_an_invitee(make_user, signed_in):
    alice = await signed_in(make_user("alice", displayname="Alice"), "alice")
    bob = await signed_in(make_user("bob", displayname="Bob"), "bob")
    start = in_minutes(60)
    end = start + timedelta(minutes=45)
    toast = expect_event(bob, lambda e: isinstance(e, ev.IncomingInvitation))
    room_id = await alice.scheduling.schedule(
        "Quarterly plan",
        start,
        end,
        AccessLevel.LOCKED,
        PresenterPolicy.ONLY_ME,
        [bob.session.user_id],
        "See you there",
    )
    # The meeting exists with its link and ID, and its times in its state...
    details = alice.conferences.details(room_id)
    assert details is not None and len(details.conference_id) == 7
    entry = alice.scheduling.calendar_entry(room_id)  # known at once, for Add to calendar
    assert entry is not None and entry.link == details.link
    assert (entry.start_ms, entry.end_ms) == (
        int(start.timestamp() * 1000),
        int(end.timestamp() * 1000),
    )
    assert details.subject == "Quarterly plan"
    assert details.access_level is AccessLevel.LOCKED
    assert details.presenter_policy is PresenterPolicy.ONLY_ME
    state = await alice.session.api(
        "GET", f"/_matrix/client/v3/rooms/{room_id}/state/{CONFERENCE_STATE}"
    )
    assert state["start_ts"] == int(start.timestamp() * 1000)
    assert state["end_ts"] == int(end.timestamp() * 1000)
    assert state["organizer"] == alice.session.user_id
    # ...Alice is a member but not in the meeting (no window, not "in a meeting").
    assert alice.conferences.is_member(room_id)
    assert session_state(alice, room_id) is None and not alice.conferences.in_call()
    invitation = alice.invitations.invitation(room_id, bob.session.user_id)
    assert invitation.state is InvitationState.DELIVERED

    incoming = await toast
    assert incoming.room_id == room_id and incoming.subject == "Quarterly plan"
    assert incoming.toast_message == "See you there"
    assert incoming.conference_id == details.conference_id
    assert (incoming.start_ms, incoming.end_ms) == (state["start_ts"], state["end_ts"])

    # Bob accepts ahead of time: a member, not in the meeting, and Alice sees Accepted.
    await bob.scheduling.accept(room_id)
    await eventually(
        lambda: (
            alice.invitations.invitation(room_id, bob.session.user_id).state
            is InvitationState.ACCEPTED
        )
    )
    await eventually(lambda: bob.conferences.is_member(room_id))
    assert session_state(bob, room_id) is None
    assert bob.invitations.incoming() == []
    # Later syncs (Alice's own join echoed back) still leave nobody "in" it.
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) is Membership.JOINED)
    assert session_state(alice, room_id) is None and session_state(bob, room_id) is None

    # At the start they join it for real through the usual path.
    assert await bob.conferences.join(room_id) == room_id
    await eventually(lambda: bob.conferences.in_call())


@pytest.mark.parametrize(
    ("subject", "start_min", "end_min", "words"),
    [
        ("", 60, 90, "subject"),
        ("Plan", 60, 30, "end after"),
        ("Plan", 60, 60, "end after"),
        ("Plan", -120, 30, "past"),
    ],
)
async def test_bad_input_creates_nothing(make_user, signed_in, subject, start_min, end_min, words):
    alice = await signed_in(make_user("alice"), "alice")
    with pytest.raises(InvalidSchedule) as caught:
        now = in_minutes(0)
        await alice.scheduling.schedule(
            subject, now + timedelta(minutes=start_min), now + timedelta(minutes=end_min)
        )
    assert words in caught.value.user_message
    assert alice.conferences.sessions() == [] and alice.reminders.scheduled() == {}


async def test_naive_times_and_bad_invitees_are_refused(make_user, signed_in):
    alice = await signed_in(make_user("alice"), "alice")
    naive = datetime.now() + timedelta(hours=1)
    with pytest.raises(InvalidSchedule, match="time zone"):
        await alice.scheduling.schedule("Plan", naive, naive + timedelta(hours=1))
    with pytest.raises(InvalidSchedule, match="not a valid user ID"):
        await alice.scheduling.schedule(
            "Plan", in_minutes(60), in_minutes(90), invitees=["bob at example"]
        )
    assert alice.reminders.scheduled() == {}


async def test_reminders_at_the_start_for_organizer_and_who_accepted(make_user, signed_in):
    clock = ManualClock()
    alice = await signed_in(make_user("alice"), "alice", clock)
    bob = await signed_in(make_user("bob"), "bob", ManualClock(clock.now))
    carol = await signed_in(make_user("carol"), "carol", ManualClock(clock.now))
    bob_clock, carol_clock = bob.reminders.clock, carol.reminders.clock
    invited = [bob.session.user_id, carol.session.user_id]
    both = expect_event(carol, lambda e: isinstance(e, ev.IncomingInvitation))
    room_id = await alice.scheduling.schedule(
        "Standup", in_minutes(10, clock), in_minutes(25, clock), invitees=invited
    )
    await both
    await bob.scheduling.accept(room_id)  # Carol does not answer
    await eventually(lambda: bob.conferences.is_member(room_id))
    await eventually(lambda: room_id in bob.reminders.scheduled())
    seen = {
        name: reminders_of(engine)
        for name, engine in [("alice", alice), ("bob", bob), ("carol", carol)]
    }

    clock.advance(9 * 60)  # a minute early: nothing yet
    bob_clock.advance(9 * 60)
    carol_clock.advance(9 * 60)
    early = expect_event(alice, lambda e: isinstance(e, ev.MeetingReminder), timeout=0.5)
    with pytest.raises(TimeoutError):
        await early
    assert seen["alice"] == [] and seen["bob"] == []

    at_alice = expect_event(alice, lambda e: isinstance(e, ev.MeetingReminder))
    at_bob = expect_event(bob, lambda e: isinstance(e, ev.MeetingReminder))
    for each in (clock, bob_clock, carol_clock):
        each.advance(60)
    reminder = await at_alice
    assert reminder == ev.MeetingReminder(
        room_id, "Standup", int(in_minutes(0, clock).timestamp() * 1000)
    )
    assert (await at_bob).room_id == room_id
    for each in (clock, bob_clock, carol_clock):
        each.advance(60)  # time goes on: still only once
    await eventually(lambda: alice.reminders.fired(room_id) and bob.reminders.fired(room_id))
    assert len(seen["alice"]) == 1 and len(seen["bob"]) == 1
    assert seen["carol"] == []  # invited, not accepted: no reminder


async def test_a_restart_does_not_repeat_a_reminder_and_past_ones_never_fire(make_user, signed_in):
    user = make_user("alice")
    clock = ManualClock()
    alice = await signed_in(user, "alice", clock)
    soon = await alice.scheduling.schedule("Soon", in_minutes(5, clock), in_minutes(20, clock))
    short = await alice.scheduling.schedule("Short", in_minutes(1, clock), in_minutes(3, clock))
    fired = expect_event(alice, lambda e: isinstance(e, ev.MeetingReminder) and e.room_id == soon)
    clock.advance(6 * 60)  # both started, the short one is already over
    await fired
    assert not alice.reminders.fired(short)
    await eventually(lambda: (alice.session.data_dir / FIRED_FILE).exists())
    await alice.session.close()

    # Same account and data folder, later: the meeting is still on, but it was reminded of.
    again = ManualClock(clock.now + 60)
    restarted = await signed_in(user, "alice", again, sync=False)
    seen = reminders_of(restarted)
    await restarted.session.start()
    await eventually(lambda: soon in restarted.reminders.scheduled())
    await eventually(lambda: restarted.reminders.fired(soon))
    again.advance(60)
    nothing = expect_event(restarted, lambda e: isinstance(e, ev.MeetingReminder), timeout=0.5)
    with pytest.raises(TimeoutError):
        await nothing
    assert seen == []
    assert session_state(restarted, soon) is None  # a member, not put "in" it at sign-in


async def test_a_meeting_under_way_at_sign_in_is_reminded_once(make_user, signed_in):
    user = make_user("alice")
    first = await signed_in(user, "first")
    room_id = await first.scheduling.schedule("Ongoing", in_minutes(1), in_minutes(30))
    await first.session.close()
    # Signed in again (another data folder: nothing fired there) after it started.
    clock = ManualClock(time.time() + 120)
    engine = await signed_in(user, "second", clock, sync=False)
    seen = reminders_of(engine)
    reminded = expect_event(engine, lambda e: isinstance(e, ev.MeetingReminder))
    await engine.session.start()
    assert (await reminded).room_id == room_id
    clock.advance(60)
    await eventually(lambda: engine.reminders.fired(room_id))
    assert len(seen) == 1


async def test_the_calendar_entry_is_there_as_soon_as_scheduled(make_user, signed_in):
    alice = await signed_in(make_user("alice"), "alice")
    start = in_minutes(30)
    room_id = await alice.scheduling.schedule("Plan", start, start + timedelta(minutes=30))
    entry = alice.scheduling.calendar_entry(room_id)
    assert entry is not None and entry.subject == "Plan"
    assert entry.start_ms == int(start.timestamp() * 1000)
