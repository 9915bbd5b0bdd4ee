"""Matrix VoIP events (spec version "1"), built and read as plain data (no I/O).

Content builders return the dicts to send; ``parse_voip_event`` turns a raw room
event into a typed message or a typed ``VoipRejection`` (malformed, expired...),
never an exception, because it runs inside the sync callback.
"""

from __future__ import annotations

import enum
import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

INVITE = "m.call.invite"
ANSWER = "m.call.answer"
SELECT_ANSWER = "m.call.select_answer"
CANDIDATES = "m.call.candidates"
HANGUP = "m.call.hangup"
REJECT = "m.call.reject"
NEGOTIATE = "m.call.negotiate"
CALL_EVENT_TYPES = frozenset({INVITE, ANSWER, SELECT_ANSWER, CANDIDATES, HANGUP, REJECT, NEGOTIATE})

VERSION = "1"
#: The spec's minimal recommended invite lifetime.
DEFAULT_LIFETIME_MS = 90_000
#: How long a hold/resume renegotiation may take before the peer ignores it.
NEGOTIATE_LIFETIME_MS = 30_000
#: The grammar of call_id and party_id (opaque IDs, 1-255 characters).
_VOIP_ID = re.compile(r"^[0-9a-zA-Z._~-]{1,255}$")
_ID_ALPHABET = string.ascii_letters + string.digits


class HangupReason(enum.Enum):
    ICE_FAILED = "ice_failed"
    ICE_TIMEOUT = "ice_timeout"
    INVITE_TIMEOUT = "invite_timeout"
    USER_HANGUP = "user_hangup"
    USER_MEDIA_FAILED = "user_media_failed"
    USER_BUSY = "user_busy"
    UNKNOWN_ERROR = "unknown_error"


class RejectionKind(enum.Enum):
    """Why a call event was not acted on."""

    MALFORMED = "malformed"
    REPLAYED = "replayed"
    UNKNOWN_CALL = "unknown call"
    NOT_A_MEMBER = "sender not in the room"
    EXPIRED = "expired"
    NOT_FOR_US = "not for us"
    WRONG_PARTY = "from a party not in the call"


@dataclass(frozen=True, slots=True)
class VoipRejection:
    kind: RejectionKind
    event_type: str
    sender: str
    call_id: str = ""
    detail: str = ""

    def log_text(self) -> str:
        call = f" call {self.call_id}" if self.call_id else ""
        more = f": {self.detail}" if self.detail else ""
        return f"ignored {self.event_type} from {self.sender}{call} ({self.kind.value}{more})"


# -- messages (the content of each event type) --


@dataclass(frozen=True, slots=True)
class Invite:
    call_id: str
    party_id: str
    sdp: str
    lifetime_ms: int
    invitee: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    call_id: str
    party_id: str
    sdp: str


@dataclass(frozen=True, slots=True)
class SelectAnswer:
    call_id: str
    party_id: str
    selected_party_id: str


@dataclass(frozen=True, slots=True)
class Candidates:
    call_id: str
    party_id: str
    candidates: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Hangup:
    call_id: str
    party_id: str
    reason: HangupReason


@dataclass(frozen=True, slots=True)
class Reject:
    call_id: str
    party_id: str


@dataclass(frozen=True, slots=True)
class Negotiate:
    call_id: str
    party_id: str
    description_type: str  # "offer" or "answer"
    sdp: str
    lifetime_ms: int


VoipMessage = Invite | Answer | SelectAnswer | Candidates | Hangup | Reject | Negotiate


@dataclass(frozen=True, slots=True)
class ReceivedVoip:
    """A well-formed call event as it arrived in a room."""

    room_id: str
    sender: str
    event_id: str
    age_ms: int  # how old the event was when the server sent it to us
    message: VoipMessage


# -- ids --


def new_voip_id(length: int = 16) -> str:
    """A fresh call_id or party_id (the spec recommends at least 8 alphanumerics)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def is_voip_id(value: object) -> bool:
    return isinstance(value, str) and bool(_VOIP_ID.match(value))


# -- building --


def _common(call_id: str, party_id: str) -> dict[str, Any]:
    return {"call_id": call_id, "party_id": party_id, "version": VERSION}


def invite_content(
    call_id: str, party_id: str, sdp: str, lifetime_ms: int, invitee: str | None = None
) -> dict[str, Any]:
    content = {
        **_common(call_id, party_id),
        "lifetime": lifetime_ms,
        "offer": {"type": "offer", "sdp": sdp},
    }
    if invitee:
        content["invitee"] = invitee
    return content


def answer_content(call_id: str, party_id: str, sdp: str) -> dict[str, Any]:
    return {**_common(call_id, party_id), "answer": {"type": "answer", "sdp": sdp}}


def select_answer_content(call_id: str, party_id: str, selected_party_id: str) -> dict[str, Any]:
    return {**_common(call_id, party_id), "selected_party_id": selected_party_id}


def candidates_content(
    call_id: str, party_id: str, candidates: list[dict[str, Any]], *, end: bool = True
) -> dict[str, Any]:
    """One batch of candidates; ``end`` appends the empty end-of-candidates entry."""
    batch = list(candidates)
    if end:
        batch.append({"candidate": "", "sdpMid": "0", "sdpMLineIndex": 0})
    return {**_common(call_id, party_id), "candidates": batch}


def hangup_content(call_id: str, party_id: str, reason: HangupReason) -> dict[str, Any]:
    return {**_common(call_id, party_id), "reason": reason.value}


def reject_content(call_id: str, party_id: str) -> dict[str, Any]:
    return _common(call_id, party_id)


def negotiate_content(
    call_id: str,
    party_id: str,
    description_type: str,
    sdp: str,
    lifetime_ms: int = NEGOTIATE_LIFETIME_MS,
) -> dict[str, Any]:
    return {
        **_common(call_id, party_id),
        "lifetime": lifetime_ms,
        "description": {"type": description_type, "sdp": sdp},
    }


# -- reading --


class _Malformed(Exception):
    pass


def _description(content: dict[str, Any], key: str) -> dict[str, Any]:
    value = content.get(key)
    if not isinstance(value, dict):
        raise _Malformed(f"no {key}")
    sdp = value.get("sdp")
    if not isinstance(sdp, str) or not sdp.strip():
        raise _Malformed(f"{key} has no SDP")
    return value


def _lifetime(content: dict[str, Any], default: int) -> int:
    lifetime = content.get("lifetime", default)
    if isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime <= 0:
        raise _Malformed("bad lifetime")
    return lifetime


def _candidate_list(content: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    raw = content.get("candidates")
    if not isinstance(raw, list):
        raise _Malformed("no candidate list")
    kept = tuple(
        c
        for c in raw
        if isinstance(c, dict)
        and isinstance(c.get("candidate"), str)
        and isinstance(c.get("sdpMid", ""), str | None)
        and isinstance(c.get("sdpMLineIndex", 0), int | None)
    )
    if raw and not kept:
        raise _Malformed("no readable candidate")
    return kept


def _message(event_type: str, content: dict[str, Any]) -> VoipMessage:
    call_id = content.get("call_id")
    if not is_voip_id(call_id):
        raise _Malformed("bad call_id")
    assert isinstance(call_id, str)
    version = content.get("version", 0)
    party_id = content.get("party_id")
    if version in (0, "0") and party_id is None:
        party_id = ""  # version 0 clients send no party_id: one party per user
    elif not is_voip_id(party_id):
        raise _Malformed("bad party_id")
    assert isinstance(party_id, str)
    if event_type == INVITE:
        offer = _description(content, "offer")
        invitee = content.get("invitee")
        if invitee is not None and not isinstance(invitee, str):
            raise _Malformed("bad invitee")
        return Invite(call_id, party_id, offer["sdp"], _lifetime(content, 0), invitee)
    if event_type == ANSWER:
        return Answer(call_id, party_id, _description(content, "answer")["sdp"])
    if event_type == SELECT_ANSWER:
        selected = content.get("selected_party_id")
        if not is_voip_id(selected):
            raise _Malformed("bad selected_party_id")
        assert isinstance(selected, str)
        return SelectAnswer(call_id, party_id, selected)
    if event_type == CANDIDATES:
        return Candidates(call_id, party_id, _candidate_list(content))
    if event_type == HANGUP:
        # A missing reason is version 0's user_hangup; an unknown one is still an end.
        reason_text = content.get("reason", HangupReason.USER_HANGUP.value)
        try:
            reason = HangupReason(reason_text)
        except ValueError:
            reason = HangupReason.UNKNOWN_ERROR
        return Hangup(call_id, party_id, reason)
    if event_type == REJECT:
        return Reject(call_id, party_id)
    # NEGOTIATE: the spec's text says "description"; its first schema said "offer".
    key = "description" if "description" in content else "offer"
    description = _description(content, key)
    kind = description.get("type", "offer")
    if kind not in ("offer", "answer"):
        raise _Malformed("bad description type")
    return Negotiate(
        call_id, party_id, kind, description["sdp"], _lifetime(content, NEGOTIATE_LIFETIME_MS)
    )


def parse_voip_event(room_id: str, source: dict[str, Any]) -> ReceivedVoip | VoipRejection | None:
    """A raw room event as a call message, a rejection, or None (not a call event)."""
    event_type = source.get("type")
    if event_type not in CALL_EVENT_TYPES:
        return None
    assert isinstance(event_type, str)
    sender = source.get("sender")
    sender = sender if isinstance(sender, str) else ""
    content = source.get("content")
    raw_call_id = content.get("call_id") if isinstance(content, dict) else None
    call_id = raw_call_id if isinstance(raw_call_id, str) else ""
    try:
        if not sender:
            raise _Malformed("no sender")
        if not isinstance(content, dict):
            raise _Malformed("no content")
        message = _message(event_type, content)
    except _Malformed as exc:
        return VoipRejection(RejectionKind.MALFORMED, event_type, sender, call_id[:64], str(exc))
    unsigned = source.get("unsigned")
    age = unsigned.get("age", 0) if isinstance(unsigned, dict) else 0
    age_ms = age if isinstance(age, int) and not isinstance(age, bool) and age > 0 else 0
    event_id = source.get("event_id")
    return ReceivedVoip(
        room_id, sender, event_id if isinstance(event_id, str) else "", age_ms, message
    )
