"""Scheduling in the personal meeting (issue 9, item 4) on the real Synapse: the same
room, ID and link for every occasion, invitations with the occasion's time, a
reminder for each occasion (with a clock the test moves on), My meetings showing
the next one, past occasions pruned, bad input refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from engine import events as ev
from engine.conference_models import AccessLevel, PresenterPolicy
from engine.engine import Engine
from engine.invitations import InvitationState
from engine.matrix_events import CONFERENCE_STATE
from engine.meeting_schedule import OCCASIONS_KEY
from engine.personal_meeting import PERSONAL_MEETING_DATA
from engine.scheduling import InvalidSchedule
from tests.helpers.clocks import ManualClock
from tests.helpers.engines import eventually, expect_event, signed_in_engine
from tests.helpers.users import TestUser

pytestmark = pytest.mark.integration


@pytest.fixture
async def signed_in(make_user, tmp_path: Path):
    """``await signed_in(name, clock)``: an engine whose reminders, scheduling and
    My meetings go by ``clock``."""
    engines: list[Engine] = []

    async def start(name: str, clock: ManualClock, user: TestUser | None = None) -> Engine:
        user = user or make_user(name.lower(), displayname=name)
        engine = await signed_in_engine(user, tmp_path / f"{name}-{len(engines)}", start=False)
        engine.reminders.clock = clock
        engine.reminders.sleep = clock.sleep
        engine.scheduling.clock = clock
        engine.my_meetings.clock = clock
        await engine.session.start()
        engines.append(engine)
        return engine

    yield start
    for engine in engines:
        await engine.session.close()


def at(clock: ManualClock, minutes: float) -> datetime:
    return datetime.fromtimestamp(clock.now, tz=UTC) + timedelta(minutes=minutes)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


async def server_state(engine: Engine, room_id: str) -> dict[str, Any]:
    path = f"/_matrix/client/v3/rooms/{quote(room_id)}/state/{CONFERENCE_STATE}"
    return await engine.session.api("GET", path)


def reminders_of(engine: Engine) -> list[ev.MeetingReminder]:
    seen: list[ev.MeetingReminder] = []
    engine.session.bus.subscribe(
        lambda e: seen.append(e) if isinstance(e, ev.MeetingReminder) else None
    )
    return seen


async def test_two_occasions_share_the_room_id_and_link_and_invite_with_the_time(signed_in):
    clock = ManualClock()
    alice = await signed_in("Alice", clock)
    bob = await signed_in("Bob", ManualClock(clock.now))
    personal = await alice.personal_meeting.ensure()
    before = await server_state(alice, personal)
    await eventually(lambda: alice.conferences.details(personal) is not None)
    link = alice.conferences.details(personal).link

    toast = expect_event(bob, lambda e: isinstance(e, ev.IncomingInvitation))
    review_start, review_end = at(clock, 120), at(clock, 180)
    room_id = await alice.scheduling.schedule(
        "Design review",
        review_start,
        review_end,
        # Not used: the personal meeting keeps its own options.
        AccessLevel.LOCKED,
        PresenterPolicy.ONLY_ME,
        [bob.session.user_id],
        "Bring the drafts",
        use_personal_meeting=True,
    )
    assert room_id == personal
    # An earlier occasion, scheduled second: kept in order of start.
    retro_start, retro_end = at(clock, 30), at(clock, 45)
    again = await alice.scheduling.schedule(
        "Retro", retro_start, retro_end, use_personal_meeting=True
    )
    assert again == personal

    # Bob is invited to the personal meeting, with the occasion's time and the message.
    incoming = await toast
    assert incoming.room_id == personal
    assert incoming.conference_id == before["conference_id"]
    assert (incoming.start_ms, incoming.end_ms) == (ms(review_start), ms(review_end))
    assert incoming.toast_message == "Bring the drafts"
    invitation = alice.invitations.invitation(personal, bob.session.user_id)
    assert invitation is not None and invitation.state is InvitationState.DELIVERED

    # Same room, same ID and alias; the occasions are in its state, sorted, and the
    # meeting itself has no start or end (it never expires).
    state = await server_state(alice, personal)
    assert state["conference_id"] == before["conference_id"] and state["personal"] is True
    assert state[OCCASIONS_KEY] == [
        {"start_ts": ms(retro_start), "end_ts": ms(retro_end), "subject": "Retro"},
        {"start_ts": ms(review_start), "end_ts": ms(review_end), "subject": "Design review"},
    ]
    assert "start_ts" not in state and "end_ts" not in state
    alias = quote(f"#{before['conference_id']}:localhost")
    target = await alice.session.api("GET", f"/_matrix/client/v3/directory/room/{alias}")
    assert target["room_id"] == personal
    user = quote(alice.session.user_id or "")
    record = await alice.session.api(
        "GET", f"/_matrix/client/v3/user/{user}/account_data/{PERSONAL_MEETING_DATA}"
    )
    assert record == {"room_id": personal, "conference_id": before["conference_id"]}
    details = alice.conferences.details(personal)
    assert details.link == link
    assert details.access_level is AccessLevel.INVITED
    assert details.presenter_policy is PresenterPolicy.EVERYONE

    # My meetings: still first, not expired, at the next occasion's time.
    await eventually(lambda: len(alice.my_meetings.summaries()[0].occasions) == 2)
    row = alice.my_meetings.summaries()[0]
    assert row.room_id == personal and row.personal and not row.expired
    assert (row.start_ms, row.end_ms) == (ms(retro_start), ms(retro_end))
    assert row.link == link
    # Add to calendar gives the occasion asked for, with its own subject.
    entry = alice.scheduling.calendar_entry(personal, ms(review_start))
    assert entry is not None and entry.subject == "Design review" and entry.link == link
    assert (entry.start_ms, entry.end_ms) == (ms(review_start), ms(review_end))


async def test_a_reminder_for_each_occasion_and_my_meetings_moves_on(signed_in):
    clock = ManualClock()
    alice = await signed_in("Alice", clock)
    bob = await signed_in("Bob", ManualClock(clock.now))
    bob_clock = bob.reminders.clock
    assert isinstance(bob_clock, ManualClock)
    personal = await alice.personal_meeting.ensure()
    invited = expect_event(bob, lambda e: isinstance(e, ev.IncomingInvitation))
    first = await alice.scheduling.schedule(
        "Standup",
        at(clock, 10),
        at(clock, 20),
        invitees=[bob.session.user_id],
        use_personal_meeting=True,
    )
    await alice.scheduling.schedule(
        "Planning", at(clock, 60), at(clock, 90), use_personal_meeting=True
    )
    assert first == personal
    await invited
    await bob.scheduling.accept(personal)  # a member now: reminded of every occasion
    await eventually(lambda: bob.conferences.is_member(personal))
    await eventually(lambda: len(bob.reminders.occasions(personal)) == 2)
    await eventually(lambda: len(alice.reminders.occasions(personal)) == 2)
    seen = {"alice": reminders_of(alice), "bob": reminders_of(bob)}

    def advance(minutes: float) -> None:
        clock.advance(minutes * 60)
        bob_clock.advance(minutes * 60)

    at_alice = expect_event(alice, lambda e: isinstance(e, ev.MeetingReminder))
    at_bob = expect_event(bob, lambda e: isinstance(e, ev.MeetingReminder))
    advance(10)  # the first occasion starts
    standup = await at_alice
    assert (standup.room_id, standup.subject) == (personal, "Standup")
    assert (await at_bob).subject == "Standup"

    advance(15)  # the first occasion is over: the row shows the next one
    row = alice.my_meetings.summary(personal)
    assert row is not None and not row.expired
    assert (row.start_ms, row.end_ms) == (ms(at(clock, 35)), ms(at(clock, 65)))
    assert personal in [s.room_id for s in alice.my_meetings.summaries()]

    at_alice = expect_event(alice, lambda e: isinstance(e, ev.MeetingReminder))
    at_bob = expect_event(bob, lambda e: isinstance(e, ev.MeetingReminder))
    advance(35)  # the second occasion starts
    planning = await at_alice
    assert (planning.room_id, planning.subject) == (personal, "Planning")
    assert (await at_bob).subject == "Planning"
    advance(5)  # time goes on: each once
    await eventually(lambda: alice.reminders.fired(personal) and bob.reminders.fired(personal))
    assert [r.subject for r in seen["alice"]] == ["Standup", "Planning"]
    assert [r.subject for r in seen["bob"]] == ["Standup", "Planning"]

    advance(60)  # all over: the personal meeting stays, with no time on its row
    row = alice.my_meetings.summary(personal)
    assert row is not None and not row.expired and row.start_ms is None


async def test_past_occasions_are_ignored_and_pruned(signed_in):
    clock = ManualClock()
    alice = await signed_in("Alice", clock)
    personal = await alice.personal_meeting.ensure()
    # Another device (or an old Confero) left a past occasion and a malformed one.
    state = await server_state(alice, personal)
    hour = 3600 * 1000
    now_ms = int(clock.now * 1000)
    past = {"start_ts": now_ms - 2 * hour, "end_ts": now_ms - hour, "subject": "Old"}
    state[OCCASIONS_KEY] = [past, {"start_ts": "soon"}]
    path = f"/_matrix/client/v3/rooms/{quote(personal)}/state/{CONFERENCE_STATE}"
    await alice.session.api("PUT", path, state)
    seen = reminders_of(alice)
    await eventually(lambda: len(alice.reminders.occasions(personal)) == 1)
    await eventually(lambda: alice.my_meetings.summary(personal) is not None)
    row = alice.my_meetings.summary(personal)
    assert row.start_ms is None and not row.expired  # no time to show, still listed
    assert personal in [s.room_id for s in alice.my_meetings.summaries()]
    nothing = expect_event(alice, lambda e: isinstance(e, ev.MeetingReminder), timeout=0.5)
    with pytest.raises(TimeoutError):
        await nothing
    assert seen == []

    # Adding an occasion drops the past and the malformed ones.
    start, end = at(clock, 30), at(clock, 60)
    await alice.scheduling.schedule("Next", start, end, use_personal_meeting=True)
    assert (await server_state(alice, personal))[OCCASIONS_KEY] == [
        {"start_ts": ms(start), "end_ts": ms(end), "subject": "Next"}
    ]


@pytest.mark.parametrize(
    ("subject", "start_min", "end_min", "invitees", "words"),
    [
        ("", 60, 90, [], "subject"),
        ("Plan", 60, 30, [], "end after"),
        ("Plan", -120, 30, [], "past"),
        ("Plan", -4, -1, [], "end time is in the past"),
        ("Plan", 60, 90, ["bob at example"], "not a valid user ID"),
    ],
)
async def test_bad_input_adds_nothing(signed_in, subject, start_min, end_min, invitees, words):
    clock = ManualClock()
    alice = await signed_in("Alice", clock)
    with pytest.raises(InvalidSchedule) as caught:
        await alice.scheduling.schedule(
            subject,
            at(clock, start_min),
            at(clock, end_min),
            invitees=invitees,
            use_personal_meeting=True,
        )
    assert words in caught.value.user_message
    # Refused before anything was made: not even the personal meeting.
    assert alice.personal_meeting.room_id() is None
    assert alice.reminders.scheduled() == {}


async def test_naive_times_are_refused_for_the_personal_meeting_too(signed_in):
    clock = ManualClock()
    alice = await signed_in("Alice", clock)
    personal = await alice.personal_meeting.ensure()
    naive = datetime.now() + timedelta(hours=1)
    with pytest.raises(InvalidSchedule, match="time zone"):
        await alice.scheduling.schedule(
            "Plan", naive, naive + timedelta(hours=1), use_personal_meeting=True
        )
    assert OCCASIONS_KEY not in await server_state(alice, personal)
