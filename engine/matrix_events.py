"""Translating Matrix events into the engine's model: pure functions, no I/O."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from engine.models import Message, MessageState
from engine.sanitize import clean_name, clean_text, sanitize_html

CONFERENCE_STATE = "org.confero.conference"
ENCRYPTED_PLACEHOLDER = "encrypted: Confero cannot read this yet"
# A Matrix event may not exceed 64 KiB as a whole; longer text is sent as
# several consecutive messages rather than refused or lost.
MAX_BODY_BYTES = 30_000
_TEXT_MSGTYPES = {"m.text", "m.notice", "m.emote"}


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
