"""engine/meeting_schedule.py: checking a new schedule, reading one from a meeting's state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from engine.meeting_schedule import check_schedule, schedule_of
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
