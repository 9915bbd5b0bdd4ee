"""engine/ics.py: RFC 5545 text of a scheduled meeting, hostile subjects included."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from engine.ics import escape_text, fold, to_ics
from engine.scheduling_errors import InvalidSchedule

START = 1_795_000_000_000  # 2026-11-18T11:06:40Z
END = START + 30 * 60 * 1000


@dataclass(frozen=True)
class Meeting:
    room_id: str = "!abc:example.org"
    conference_id: str = "1234567"
    subject: str = "Budget review"
    link: str = "https://matrix.to/#/#1234567:example.org"
    start_ms: int | None = START
    end_ms: int | None = END


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_a_calendar_with_one_event_in_utc():
    text = to_ics(Meeting(), now_ms=START - 1000)
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    assert lines.index("BEGIN:VEVENT") < lines.index("END:VEVENT")
    assert "UID:!abc:example.org" in lines
    assert "DTSTART:20261118T110640Z" in lines
    assert "DTEND:20261118T113640Z" in lines
    assert "DTSTAMP:20261118T110639Z" in lines
    assert "SUMMARY:Budget review" in lines
    assert "URL:https://matrix.to/#/#1234567:example.org" in lines
    description = next(line for line in lines if line.startswith("DESCRIPTION:"))
    assert "https://matrix.to/#/#1234567:example.org" in description
    assert "Meeting ID: 1234567" in description


def test_every_line_ends_with_crlf_and_none_is_over_75_octets():
    text = to_ics(Meeting(subject="Ü" * 120, link="https://matrix.to/#/" + "x" * 200))
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75
    text.encode("utf-8").decode("utf-8")  # no character was cut in half
    assert "SUMMARY:" + "Ü" * 120 in unfold(text)


def test_hostile_subject_cannot_add_properties_or_break_lines():
    subject = "Lunch\r\nEND:VEVENT\r\nBEGIN:VEVENT;X=1,2\\ \x00\x1b[31m\u2028ok"
    lines = unfold(to_ics(Meeting(subject=subject)))
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    summary = next(line for line in lines if line.startswith("SUMMARY:"))
    assert summary == "SUMMARY:Lunch\\nEND:VEVENT\\nBEGIN:VEVENT\\;X=1\\,2\\\\ [31mok"


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a,b", "a\\,b"),
        ("a;b", "a\\;b"),
        ("a\\b", "a\\\\b"),
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\nb"),
        ("a\rb", "a\\nb"),
        ("tab\there", "tab\there"),
    ],
)
def test_text_escaping(raw, escaped):
    assert escape_text(raw) == escaped


def test_folding_keeps_short_lines_and_splits_long_ones_at_75_octets():
    assert fold("A" * 75) == "A" * 75
    folded = fold("A" * 76)
    assert folded == "A" * 75 + "\r\n " + "A"
    # A 2-octet character at the boundary moves whole to the next line.
    folded = fold("A" * 74 + "é")
    assert folded.split("\r\n ")[0] == "A" * 74


def test_a_link_with_line_breaks_does_not_escape_the_url_line():
    lines = unfold(to_ics(Meeting(link="https://matrix.to/#/#1:x\r\nX-EVIL:1")))
    assert not any(line.startswith("X-EVIL") for line in lines)


@pytest.mark.parametrize(
    ("start", "end"), [(None, END), (START, None), (END, START), (START, START), (True, END)]
)
def test_no_usable_times_is_an_error_not_a_broken_file(start, end):
    with pytest.raises(InvalidSchedule):
        to_ics(Meeting(start_ms=start, end_ms=end))
