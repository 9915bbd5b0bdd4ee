"""State events become transcript lines as data (who did what to whom): pure, no server."""

from __future__ import annotations

from typing import Any

import pytest

from engine.conference_models import Role
from engine.matrix_events import MAX_ROLE_CHANGES_LISTED, message_from_event
from engine.models import Message, RoomChangeKind
from engine.sanitize import MAX_NAME_LENGTH

ROOM = "!room:hs"
NAMES = {"@alice:hs": "Alice", "@bob:hs": "Bob"}


def name_of(user_id: str) -> str:
    return NAMES.get(user_id, user_id)


def state(
    event_type: str,
    content: dict[str, Any],
    *,
    sender: str = "@alice:hs",
    state_key: str = "",
    previous: dict[str, Any] | None = None,
) -> Message | None:
    source: dict[str, Any] = {
        "type": event_type,
        "content": content,
        "sender": sender,
        "state_key": state_key,
        "event_id": f"${event_type}{state_key}",
        "origin_server_ts": 1_700_000_000_000,
    }
    if previous is not None:
        source["unsigned"] = {"prev_content": previous}
    return message_from_event(source, ROOM, "@alice:hs", name_of)


def member(membership: str, *, before: str | None, sender: str, target: str, **extra: Any):
    previous = {"membership": before} if before else None
    return state(
        "m.room.member",
        {"membership": membership, **extra},
        sender=sender,
        state_key=target,
        previous=previous,
    )


def kinds(message: Message | None) -> list[tuple[RoomChangeKind, str, str]]:
    assert message is not None and message.body == ""
    return [(c.kind, c.actor_name, c.target_name) for c in message.changes]


@pytest.mark.parametrize(
    ("membership", "before", "sender", "line"),
    [
        ("join", None, "@bob:hs", (RoomChangeKind.JOINED, "Bob", "Bob")),
        ("leave", "join", "@bob:hs", (RoomChangeKind.LEFT, "Bob", "Bob")),
        ("invite", "knock", "@alice:hs", (RoomChangeKind.ADMITTED, "Alice", "Bob")),
        ("invite", None, "@alice:hs", (RoomChangeKind.INVITED, "Alice", "Bob")),
        ("leave", "knock", "@alice:hs", (RoomChangeKind.DENIED, "Alice", "Bob")),
        ("leave", "join", "@alice:hs", (RoomChangeKind.REMOVED, "Alice", "Bob")),
        ("ban", "join", "@alice:hs", (RoomChangeKind.REMOVED, "Alice", "Bob")),
    ],
)
def test_memberships_say_who_did_what_to_whom(
    membership: str, before: str | None, sender: str, line: tuple[RoomChangeKind, str, str]
) -> None:
    assert kinds(member(membership, before=before, sender=sender, target="@bob:hs")) == [line]


def test_changes_that_show_nothing_give_no_line() -> None:
    # A new display name, a knock (the lobby shows it), a withdrawn knock.
    assert member("join", before="join", sender="@bob:hs", target="@bob:hs") is None
    assert member("knock", before=None, sender="@bob:hs", target="@bob:hs") is None
    assert member("leave", before="knock", sender="@bob:hs", target="@bob:hs") is None
    assert state("m.room.topic", {"topic": "x"}) is None
    assert state("m.room.power_levels", {"users": {"@alice:hs": 100}}) is None  # creation


def test_role_changes_come_from_the_power_levels_diff() -> None:
    before = {"users": {"@alice:hs": 100}, "users_default": 0}
    after = {"users": {"@alice:hs": 100, "@bob:hs": 50}, "users_default": 0}
    made = state("m.room.power_levels", after, previous=before)
    assert made is not None
    (change,) = made.changes
    assert (change.kind, change.actor_name, change.target_name, change.role) == (
        RoomChangeKind.ROLE_CHANGED,
        "Alice",
        "Bob",
        Role.PRESENTER,
    )
    back = state("m.room.power_levels", before, previous=after)
    assert back is not None and back.changes[0].role is Role.ATTENDEE
    # A level that changes nobody's role (0 → 10) is no line; junk levels count as the default.
    assert state("m.room.power_levels", {"users": {"@bob:hs": 10}}, previous={"users": {}}) is None
    junk = {"users": {"@bob:hs": "50", "@carol:hs": True}, "users_default": 0}
    assert state("m.room.power_levels", junk, previous={"users": {}}) is None


def test_a_huge_role_change_lists_a_few_and_counts_the_rest() -> None:
    many = {f"@u{i:04d}:hs": 50 for i in range(500)}
    message = state("m.room.power_levels", {"users": many}, previous={"users": {}})
    assert message is not None
    assert len(message.changes) == MAX_ROLE_CHANGES_LISTED
    assert message.changes[-1].more == 500 - MAX_ROLE_CHANGES_LISTED


def test_subject_changes_carry_old_and_new_subject() -> None:
    message = state("m.room.name", {"name": "Budget"}, previous={"name": "Weekly"})
    assert message is not None
    (change,) = message.changes
    assert change.kind is RoomChangeKind.SUBJECT_CHANGED
    assert (change.subject, change.previous_subject) == ("Budget", "Weekly")
    assert state("m.room.name", {"name": "Same"}, previous={"name": "Same"}) is None


def test_hostile_names_are_cleaned() -> None:
    hostile = "\u202eevil\x00\x1b[31m" + "x" * 5000
    join = member("join", before=None, sender="@eve:hs", target="@eve:hs", displayname=hostile)
    assert join is not None
    (change,) = join.changes
    assert "\u202e" not in change.target_name and "\x00" not in change.target_name
    assert "\x1b" not in change.target_name
    assert len(change.target_name) <= MAX_NAME_LENGTH
    subject = state("m.room.name", {"name": "line\nbreak\u200b" + "y" * 500})
    assert subject is not None
    assert "\n" not in subject.changes[0].subject
    assert len(subject.changes[0].subject) <= MAX_NAME_LENGTH
    # Wrong types from a hostile client are no line, never a crash.
    assert state("m.room.name", {"name": 12}, previous={"name": 13}) is None
    assert member("join", before=None, sender="@eve:hs", target="", displayname=3) is None
