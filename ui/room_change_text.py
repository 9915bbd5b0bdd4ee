"""The words for lines about a room (joins, roles, subject): all in one place.

The engine reports what happened as data (``RoomChange``); this module turns
it into the short sentence the transcript shows and a screen reader reads.
"""

from __future__ import annotations

from engine.conference_models import Role
from engine.models import Message, RoomChange, RoomChangeKind

_ROLE_WORDS = {
    Role.LEADER: "the Leader",
    Role.PRESENTER: "a presenter",
    Role.ATTENDEE: "an attendee",
}


def describe(change: RoomChange) -> str:
    """One sentence for one change, e.g. "Alice made Bob a presenter"."""
    actor, target = change.actor_name, change.target_name
    match change.kind:
        case RoomChangeKind.JOINED:
            text = f"{target} joined"
        case RoomChangeKind.LEFT:
            text = f"{target} left"
        case RoomChangeKind.INVITED:
            text = f"{actor} invited {target}"
        case RoomChangeKind.ADMITTED:
            text = f"{actor} admitted {target} from the lobby"
        case RoomChangeKind.DENIED:
            text = f"{actor} did not let {target} in"
        case RoomChangeKind.REMOVED:
            text = f"{actor} removed {target}"
        case RoomChangeKind.ROLE_CHANGED:
            role = _ROLE_WORDS.get(change.role, "an attendee") if change.role else "an attendee"
            text = f"{actor} made {target} {role}"
        case RoomChangeKind.SUBJECT_CHANGED if not change.subject:
            text = f"{actor} removed the subject"
        case RoomChangeKind.SUBJECT_CHANGED if not change.previous_subject:
            text = f"{actor} set the subject to “{change.subject}”"
        case RoomChangeKind.SUBJECT_CHANGED:
            text = f"{actor} changed the subject to “{change.subject}”"
        case _:
            text = f"{actor} changed the room"
    if change.more:
        people = "person" if change.more == 1 else "people"
        text += f", and changed the role of {change.more} more {people}"
    return text


def change_text(message: Message) -> str:
    """The whole line for a room-change row: one sentence per change, one per line."""
    return "\n".join(describe(change) for change in message.changes)


def plain_text(message: Message) -> str:
    """What a row says as plain text (to copy, or for a screen reader)."""
    return change_text(message) if message.changes else message.body
