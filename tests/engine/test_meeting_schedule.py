"""engine/meeting_schedule.py: checking a new schedule, reading one from a meeting's state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from engine.meeting_schedule import (
    MAX_OCCASIONS,
    OCCASIONS_KEY,
    Occasion,
    all_occasions,
    check_schedule,
    next_occasion,
    occasions_of,
    schedule_of,
    with_occasion,
)
from engine.scheduling_errors import InvalidSchedule

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


def test_a_good_schedule_gives_the_cleaned_subject():
    start = NOW + timedelta(hours=1)
    assert check_schedule(
        "  Budget\nreview ", start, start + timedelta(minutes=30), NOW.timestamp()
    ) == ("Budget review")


def test_any_time_zone_is_fine():
    berlin = timezone(timedelta(hours=1))
    start = (NOW + timedelta(hours=2)).astimezone(berlin)
    check_schedule("Plan", start, start + timedelta(hours=1), NOW.timestamp())


@pytest.mark.parametrize(
    ("subject", "start", "end", "words"),
    [
        ("", NOW + timedelta(hours=1), NOW + timedelta(hours=2), "subject"),
        (" \u200b ", NOW + timedelta(hours=1), NOW + timedelta(hours=2), "subject"),
        ("Plan", datetime(2026, 11, 24, 9), datetime(2026, 11, 24, 10, tzinfo=UTC), "time zone"),
        ("Plan", datetime(2026, 11, 24, 9, tzinfo=UTC), datetime(2026, 11, 24, 10), "time zone"),
        ("Plan", NOW + timedelta(hours=2), NOW + timedelta(hours=1), "end after"),
        ("Plan", NOW + timedelta(hours=2), NOW + timedelta(hours=2), "end after"),
        ("Plan", NOW - timedelta(hours=1), NOW + timedelta(hours=1), "past"),
        # Starts within the grace for a dialog left open, but is already over.
        ("Plan", NOW - timedelta(minutes=4), NOW - timedelta(minutes=1), "end time is in the past"),
    ],
)
def test_bad_input_is_refused_with_clear_words(subject, start, end, words):
    with pytest.raises(InvalidSchedule) as caught:
        check_schedule(subject, start, end, NOW.timestamp())
    assert words in caught.value.user_message


def test_a_start_a_few_minutes_ago_is_still_fine():
    start = NOW - timedelta(minutes=2)
    check_schedule("Plan", start, start + timedelta(minutes=30), NOW.timestamp())


@pytest.mark.parametrize(
    "state",
    [
        None,
        {},
        {"start_ts": "1", "end_ts": 2},
        {"start_ts": 5, "end_ts": 4},
        {"start_ts": 5, "end_ts": 5},
        {"start_ts": True, "end_ts": 9},
        {"start_ts": 1.5, "end_ts": 9},
        {"start_ts": 1},
    ],
)
def test_malformed_schedules_in_state_are_ignored(state):
    assert schedule_of(state) is None


def test_a_schedule_in_state():
    found = schedule_of({"start_ts": 1, "end_ts": 2, "subject": "x"})
    assert found is not None and (found.start_ms, found.end_ms) == (1, 2)


# -- the personal meeting's occasions ------------------------------------------------

H = 3600 * 1000
NOW_MS = int(NOW.timestamp() * 1000)


def test_occasions_are_read_sorted_and_malformed_ones_left_out():
    state = {
        OCCASIONS_KEY: [
            {"start_ts": NOW_MS + 2 * H, "end_ts": NOW_MS + 3 * H, "subject": "Later"},
            {"start_ts": NOW_MS + H, "end_ts": NOW_MS + 2 * H, "subject": " Sooner\n"},
            {"start_ts": NOW_MS + H, "end_ts": NOW_MS, "subject": "Ends first"},
            {"start_ts": True, "end_ts": NOW_MS + H},
            "not an occasion",
        ]
    }
    assert occasions_of(state) == [
        Occasion(NOW_MS + H, NOW_MS + 2 * H, "Sooner"),
        Occasion(NOW_MS + 2 * H, NOW_MS + 3 * H, "Later"),
    ]
    assert occasions_of({OCCASIONS_KEY: "nope"}) == [] and occasions_of(None) == []


def test_all_occasions_include_a_meetings_own_schedule():
    state = {
        "start_ts": NOW_MS + 5 * H,
        "end_ts": NOW_MS + 6 * H,
        OCCASIONS_KEY: [{"start_ts": NOW_MS + H, "end_ts": NOW_MS + 2 * H, "subject": "A"}],
    }
    assert all_occasions(state) == [
        Occasion(NOW_MS + H, NOW_MS + 2 * H, "A"),
        Occasion(NOW_MS + 5 * H, NOW_MS + 6 * H),
    ]


def test_the_next_occasion_is_the_first_not_over():
    past = Occasion(NOW_MS - 2 * H, NOW_MS - H, "Past")
    going_on = Occasion(NOW_MS - H, NOW_MS + H, "Now")
    later = Occasion(NOW_MS + 2 * H, NOW_MS + 3 * H, "Later")
    assert next_occasion([past, going_on, later], NOW_MS) == going_on
    assert next_occasion([past, later], NOW_MS) == later
    assert next_occasion([past], NOW_MS) is None


def test_adding_an_occasion_sorts_prunes_past_ones_and_drops_repeats():
    past = Occasion(NOW_MS - 2 * H, NOW_MS - H, "Past")
    later = Occasion(NOW_MS + 2 * H, NOW_MS + 3 * H, "Later")
    sooner = Occasion(NOW_MS + H, NOW_MS + 2 * H, "Sooner")
    assert with_occasion([past, later], sooner, NOW_MS) == [sooner, later]
    assert with_occasion([sooner, later], sooner, NOW_MS) == [sooner, later]


def test_a_personal_meeting_holds_a_limited_number_of_occasions():
    full = [Occasion(NOW_MS + i * H, NOW_MS + i * H + H // 2) for i in range(MAX_OCCASIONS)]
    with pytest.raises(InvalidSchedule, match="already has"):
        with_occasion(full, Occasion(NOW_MS + 999 * H, NOW_MS + 1000 * H), NOW_MS)
