"""The words of a summary row: counts, first names, and names that try to misbehave."""

from __future__ import annotations

from engine.models import Message, MessageState, RoomChange, RoomChangeKind
from ui.room_change_text import SUMMARY_NAME_LIMIT, ChangeTally, change_text, short_name

K = RoomChangeKind


def line(name: str, kind: RoomChangeKind = K.JOINED, user: str | None = None, **extra) -> Message:
    user = user or f"@{abs(hash(name))}:example.org"
    return Message(
        key=f"${user}{kind.value}{name}",
        room_id="!r:example.org",
        sender=user,
        sender_name=name,
        body="",
        timestamp_ms=0,
        state=MessageState.RECEIVED,
        changes=(RoomChange(kind, "@alice:example.org", "Alice", user, name, **extra),),
    )


def summary(*messages: Message) -> str:
    return ChangeTally(messages).text()


def test_one_kind_names_the_first_people_and_counts_the_rest() -> None:
    assert summary(line("Ann"), line("Bob"), line("Cy")) == "Ann, Bob and Cy joined"
    many = [line(f"P{i}") for i in range(10_000)]
    assert summary(*many) == "P0, P1 and 9,998 others joined"
    assert summary(line("Ann", K.REMOVED), line("Bob", K.REMOVED), line("Cy", K.REMOVED)) == (
        "Ann, Bob and Cy were removed"
    )


def test_several_kinds_are_counted() -> None:
    lines = [line("Ann"), line("Bob"), line("Cy"), line("Dee", K.LEFT)]
    assert summary(*lines) == "3 people joined and 1 left"
    lines.append(line("Ed", K.REMOVED))
    lines.append(line("Fay", K.REMOVED))
    assert summary(*lines) == "3 people joined, 1 left and 2 were removed"


def test_the_same_person_is_counted_once_and_named_when_alone() -> None:
    ann = "@ann:example.org"
    assert summary(line("Ann", user=ann), line("Ann", K.LEFT, ann), line("Ann", user=ann)) == (
        "Ann joined and left"
    )
    assert (
        summary(line("Ann", user=ann), line("Ann", user=ann), line("Bob")) == "Ann and Bob joined"
    )


def test_few_people_of_several_kinds_are_named() -> None:
    lines = [line("Ann"), line("", K.SUBJECT_CHANGED, subject="S"), line("Bob", K.ADMITTED)]
    assert summary(*lines) == "Ann joined, the subject changed and Bob was let in from the lobby"


def test_subject_and_role_changes() -> None:
    subject = [line("", K.SUBJECT_CHANGED, subject=f"S{i}") for i in range(3)]
    assert summary(*subject) == "The subject changed 3 times"
    roles = [line("Ann", K.ROLE_CHANGED), line("Bob", K.ROLE_CHANGED, more=4), line("Cy")]
    assert summary(*roles) == "6 people got a new role and 1 joined"


def test_hostile_names_are_plain_one_line_and_short() -> None:
    html = "<b>Boss</b><img src=x onerror=alert(1)>"
    huge = "A" * 1_000_000
    control = "Eve\x00\x1b[31m\nrm -rf\u202egnp.exe\u2028"
    text = summary(line(html), line(huge), line(control), line("Dan"))
    first_line = text.splitlines()
    assert len(first_line) == 1  # no line breaks from names
    assert "\x00" not in text and "\x1b" not in text and "\u202e" not in text
    assert text.startswith("<b>Boss</b><img src=x onerror=a…, AAAA")  # shown as typed, elided
    assert text.endswith(" and 2 others joined")
    assert len(text) < 3 * SUMMARY_NAME_LIMIT + 40
    assert short_name(control) == "Eve [31m rm -rfgnp.exe"
    assert short_name("  \n\t ") == "Someone"
    assert short_name(huge).endswith("…") and len(short_name(huge)) == SUMMARY_NAME_LIMIT
    # Emoji sequences keep their joiners.
    assert short_name("👩\u200d💻 Dev") == "👩\u200d💻 Dev"


def test_one_line_about_the_room_cannot_be_flipped_or_broken_by_a_name() -> None:
    message = line("Mallory\u202e\nevil")
    assert change_text(message) == "Mallory evil joined"
    assert change_text(line("B" * 10_000)) == "B" * 127 + "… joined"
