"""Translating Matrix events into the engine's model: pure functions, no I/O."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from engine.conference_models import role_for
from engine.models import Message, MessageState, RoomChange, RoomChangeKind
from engine.sanitize import clean_name, clean_text, sanitize_html

CONFERENCE_STATE = "org.confero.conference"
ENCRYPTED_PLACEHOLDER = "encrypted: Confero cannot read this yet"
# A Matrix event may not exceed 64 KiB as a whole; longer text is sent as
# several consecutive messages rather than refused or lost.
MAX_BODY_BYTES = 30_000
_TEXT_MSGTYPES = {"m.text", "m.notice", "m.emote"}
# One power-level event may change thousands of users (a hostile one, or a
# policy change): the line names this many and counts the rest.
MAX_ROLE_CHANGES_LISTED = 10


def message_from_event(
    source: dict[str, Any],
    room_id: str,
    own_user_id: str,
    name_of: Callable[[str], str],
) -> Message | None:
    """A transcript line for a room event, or None for events that are not messages."""
    event_type = source.get("type")
    content = source.get("content") or {}
    sender = source.get("sender") or ""
    event_id = source.get("event_id")
    if not event_id or not isinstance(content, dict) or not isinstance(sender, str):
        return None
    sender_name = clean_name(name_of(sender)) or sender
    timestamp = source.get("origin_server_ts")
    common: dict[str, Any] = {
        "key": event_id,
        "room_id": room_id,
        "sender": sender,
        "sender_name": sender_name,
        "timestamp_ms": timestamp if isinstance(timestamp, int) else int(time.time() * 1000),
        "event_id": event_id,
        "state": MessageState.SENT if sender == own_user_id else MessageState.RECEIVED,
    }
    if event_type == "m.room.encrypted":
        return Message(**common, body=ENCRYPTED_PLACEHOLDER, encrypted=True)
    if "state_key" in source:
        changes = room_changes(source, name_of)
        return Message(**common, body="", changes=changes) if changes else None
    msgtype = content.get("msgtype")
    body = content.get("body")
    if event_type != "m.room.message" or msgtype not in _TEXT_MSGTYPES or not isinstance(body, str):
        return None
    html = None
    formatted = content.get("formatted_body")
    if content.get("format") == "org.matrix.custom.html" and isinstance(formatted, str):
        html = sanitize_html(formatted) or None
    text = clean_text(body)
    if msgtype == "m.emote":
        text, html = f"* {sender_name} {text}", None
    return Message(**common, body=text, html=html, notice=msgtype == "m.notice")


def member_name(source: dict[str, Any]) -> tuple[str, str] | None:
    """(user ID, cleaned display name) a member event names, from it or its previous content."""
    if source.get("type") != "m.room.member" or not isinstance(source.get("content"), dict):
        return None
    user_id = source.get("state_key")
    given = source["content"].get("displayname") or _previous_content(source).get("displayname")
    name = _name_field(given)
    return (user_id, name) if isinstance(user_id, str) and user_id and name else None


def room_changes(source: dict[str, Any], name_of: Callable[[str], str]) -> tuple[RoomChange, ...]:
    """What a state event changed that belongs in the transcript, as data.

    Membership (joined, left, invited, let in from the lobby, turned away,
    removed), roles (power levels) and the subject (room name). Other state
    events, and ones that change nothing visible (a new display name), give ().
    """
    event_type = source.get("type")
    content = source.get("content")
    sender = source.get("sender")
    if not isinstance(content, dict) or not isinstance(sender, str) or not sender:
        return ()
    previous = _previous_content(source)
    actor = _Person(sender, _name(name_of, sender))
    if event_type == "m.room.member":
        change = _membership_change(source, content, previous, actor, name_of)
        return (change,) if change else ()
    if event_type == "m.room.power_levels":
        return _role_changes(content, previous, actor, name_of)
    if event_type == "m.room.name":
        subject = _name_field(content.get("name"))
        before = _name_field(previous.get("name"))
        if subject == before:
            return ()
        return (
            RoomChange(
                RoomChangeKind.SUBJECT_CHANGED,
                actor.user_id,
                actor.name,
                subject=subject,
                previous_subject=before,
            ),
        )
    return ()


@dataclass(frozen=True, slots=True)
class _Person:
    user_id: str
    name: str


def _name(name_of: Callable[[str], str], user_id: str, given: object = None) -> str:
    """A cleaned one-line name: the one the event carries, else the room's, else the ID."""
    if isinstance(given, str) and (cleaned := clean_name(given)):
        return cleaned
    return clean_name(name_of(user_id) or "") or clean_name(user_id) or "Someone"


def _name_field(value: object) -> str:
    return clean_name(value) if isinstance(value, str) else ""


def _previous_content(source: dict[str, Any]) -> dict[str, Any]:
    unsigned = source.get("unsigned")
    previous = unsigned.get("prev_content") if isinstance(unsigned, dict) else None
    if previous is None:
        previous = source.get("prev_content")  # where older servers put it
    return previous if isinstance(previous, dict) else {}


def _membership_change(
    source: dict[str, Any],
    content: dict[str, Any],
    previous: dict[str, Any],
    actor: _Person,
    name_of: Callable[[str], str],
) -> RoomChange | None:
    target = source.get("state_key")
    if not isinstance(target, str) or not target:
        return None
    membership = content.get("membership")
    before = previous.get("membership")
    # A leave carries no display name; the one from before it does.
    name = _name(name_of, target, content.get("displayname") or previous.get("displayname"))
    by_self = target == actor.user_id
    kind: RoomChangeKind | None = None
    if membership == "join" and before != "join":
        kind = RoomChangeKind.JOINED
    elif membership == "invite" and not by_self:
        kind = RoomChangeKind.ADMITTED if before == "knock" else RoomChangeKind.INVITED
    elif membership == "leave" and by_self:
        kind = RoomChangeKind.LEFT if before == "join" else None  # a withdrawn knock or invite
    elif membership == "leave":
        if before == "knock":
            kind = RoomChangeKind.DENIED
        elif before == "join":
            kind = RoomChangeKind.REMOVED
    elif membership == "ban" and not by_self:
        kind = RoomChangeKind.DENIED if before == "knock" else RoomChangeKind.REMOVED
    if kind is None:
        return None
    # Someone who just left is no longer in the room's member list: their own
    # event carries the name they had.
    actor_name = name if by_self else actor.name
    return RoomChange(kind, actor.user_id, actor_name, target, name)


def _level(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _role_changes(
    content: dict[str, Any],
    previous: dict[str, Any],
    actor: _Person,
    name_of: Callable[[str], str],
) -> tuple[RoomChange, ...]:
    if not previous:
        return ()  # the room's first power levels: nobody's role changed
    old_users = previous.get("users") if isinstance(previous.get("users"), dict) else {}
    new_users = content.get("users") if isinstance(content.get("users"), dict) else {}
    old_default = _level(previous.get("users_default"), 0)
    new_default = _level(content.get("users_default"), 0)
    changed: list[RoomChange] = []
    # Only people named in either list: a new default alone is a policy, not a person's role.
    for user_id in sorted(set(old_users) | set(new_users)):
        if not isinstance(user_id, str):
            continue
        before = role_for(_level(old_users.get(user_id), old_default), is_organizer=False)
        after = role_for(_level(new_users.get(user_id), new_default), is_organizer=False)
        if before != after:
            changed.append(
                RoomChange(
                    RoomChangeKind.ROLE_CHANGED,
                    actor.user_id,
                    actor.name,
                    user_id,
                    _name(name_of, user_id),
                    role=after,
                )
            )
    if len(changed) > MAX_ROLE_CHANGES_LISTED:
        listed = changed[:MAX_ROLE_CHANGES_LISTED]
        last = listed[-1]
        more = len(changed) - MAX_ROLE_CHANGES_LISTED
        changed = [*listed[:-1], replace(last, more=more)]
    return tuple(changed)


def split_body(text: str) -> list[str]:
    """Split text into parts that each fit one event, preferring line breaks.

    Works on the UTF-8 bytes once (linear in the text's length): cuts fall on
    character boundaries, and on a line break or space in the part's second
    half when there is one.
    """
    data = text.encode("utf-8")
    parts: list[str] = []
    start = 0
    while len(data) - start > MAX_BODY_BYTES:
        end = start + MAX_BODY_BYTES
        while data[end] & 0xC0 == 0x80:  # a continuation byte: not a character boundary
            end -= 1
        for separator in (b"\n", b" "):
            index = data.rfind(separator, start, end)
            if index - start > (end - start) // 2:
                end = index + 1
                break
        parts.append(data[start:end].decode("utf-8"))
        start = end
    if start < len(data):
        parts.append(data[start:].decode("utf-8"))
    return parts


def refusal_text(response: Any) -> str:
    message = getattr(response, "message", "") or "unknown error"
    code = getattr(response, "status_code", "") or ""
    if code == "M_TOO_LARGE":
        return "The server refused the message: it is too large."
    if code == "M_FORBIDDEN":
        return f"Not allowed: {message}"
    return f"The server refused: {message}"


def direct_inviter(invite_state: list, own_user_id: str) -> str | None:
    """The inviter, if this invite is to a two-party chat (is_direct, no conference)."""
    inviter = None
    for event in invite_state:
        source = getattr(event, "source", None) or {}
        if source.get("type") == CONFERENCE_STATE:
            return None
        # nio moves "content" out of the source dict for invite-state events.
        content = getattr(event, "content", None) or source.get("content") or {}
        if (
            source.get("type") == "m.room.member"
            and source.get("state_key") == own_user_id
            and content.get("membership") == "invite"
            and content.get("is_direct") is True
        ):
            inviter = source.get("sender")
    return inviter
