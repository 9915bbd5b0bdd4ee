"""A meeting as an iCalendar file (RFC 5545) for people's calendars.

One VEVENT in a VCALENDAR: times in UTC, the subject as SUMMARY, the link as
URL and, with the meeting ID, in DESCRIPTION. Text values are escaped (\\ ; ,
and line breaks) and stripped of control characters; lines are folded at 75
octets without splitting a UTF-8 character; lines end with CRLF.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol

from engine.scheduling_errors import InvalidSchedule

PRODID = "-//Confero//Confero meetings//EN"
MAX_LINE_OCTETS = 75


class CalendarMeeting(Protocol):
    """What an .ics needs of a meeting (ConferenceSummary has all of it)."""

    @property
    def room_id(self) -> str: ...
    @property
    def conference_id(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def link(self) -> str: ...
    @property
    def start_ms(self) -> int | None: ...
    @property
    def end_ms(self) -> int | None: ...


def to_ics(meeting: CalendarMeeting, *, now_ms: int | None = None) -> str:
    """The meeting as RFC 5545 text; InvalidSchedule if it has no usable times."""
    start, end = meeting.start_ms, meeting.end_ms
    if type(start) is not int or type(end) is not int or end <= start:
        raise InvalidSchedule("This meeting has no time to put in a calendar.")
    stamp = int(time.time() * 1000) if now_ms is None else now_ms
    description = f"Join the meeting: {meeting.link}"
    if meeting.conference_id:
        description += f"\nMeeting ID: {meeting.conference_id}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{escape_text(meeting.room_id)}",
        f"DTSTAMP:{utc_time(stamp)}",
        f"DTSTART:{utc_time(start)}",
        f"DTEND:{utc_time(end)}",
        f"SUMMARY:{escape_text(meeting.subject or 'Meeting')}",
        f"URL:{_uri(meeting.link)}",
        f"LOCATION:{escape_text(meeting.link)}",
        f"DESCRIPTION:{escape_text(description)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)


def utc_time(ms: int) -> str:
    """A DATE-TIME in UTC ("Z" form), to the second."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): \\ ; , escaped, line breaks as \\n, no controls."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = "".join(ch for ch in value if ch in "\n\t" or not _is_control(ch))
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _uri(link: str) -> str:
    """A URI value is not escaped; it just may not carry controls or spaces."""
    return "".join(ch for ch in link if not _is_control(ch) and not ch.isspace())


def _is_control(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0 or ch in "\u2028\u2029"


def fold(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets (RFC 5545 3.1).

    Continuation lines start with one space, which counts toward their 75.
    A UTF-8 character is never split.
    """
    pieces: list[str] = []
    current = ""
    size = 0
    limit = MAX_LINE_OCTETS
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, MAX_LINE_OCTETS - 1
        current += ch
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)
