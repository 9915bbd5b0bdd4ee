"""MatrixRTC call membership: the ``m.call.member`` state of a meeting's audio.

One state event per device (MSC4143 as matrix-js-sdk's MatrixRTCSession writes it):
state_key ``_{user_id}_{device_id}``, content ``application`` "m.call", ``call_id`` ""
(the room's one call), ``scope`` "m.room", ``device_id``, ``focus_active`` and
``foci_preferred`` (here ``{"type": "mesh"}``: the full mesh of MSC3401), ``created_ts``
and ``expires`` (ms after ``created_ts``; refreshed while in the call, so a crashed
client drops out when it passes). ``session_id`` (as MSC3401 had it) tells a rejoin
from the device's earlier stay. Leaving is empty content. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CALL_MEMBER = "m.call.member"
APPLICATION = "m.call"
ROOM_SCOPE = "m.room"
MESH_FOCUS_TYPE = "mesh"
#: What matrix-js-sdk assumes when ``expires`` is missing (DEFAULT_EXPIRE_DURATION).
SPEC_DEFAULT_EXPIRES_MS = 4 * 60 * 60 * 1000


@dataclass(frozen=True, slots=True, order=True)
class DeviceKey:
    """One device in a call; the order decides who offers in the mesh."""

    user_id: str
    device_id: str


@dataclass(frozen=True, slots=True)
class CallMember:
    """A device in the room's call, as its (unexpired or not) state says."""

    user_id: str
    device_id: str
    session_id: str
    focus_type: str
    expires_at_ms: int

    @property
    def key(self) -> DeviceKey:
        return DeviceKey(self.user_id, self.device_id)

    def live(self, now_ms: int) -> bool:
        return now_ms < self.expires_at_ms


@dataclass(frozen=True, slots=True)
class MembershipLeft:
    user_id: str
    device_id: str


@dataclass(frozen=True, slots=True)
class MembershipRejected:
    """A membership event nobody acts on, with a reason for the log."""

    sender: str
    state_key: str
    reason: str


ParsedMembership = CallMember | MembershipLeft | MembershipRejected


def member_state_key(user_id: str, device_id: str) -> str:
    return f"_{user_id}_{device_id}"


def membership_content(
    device_id: str, session_id: str, created_ts: int, expires_ms: int
) -> dict[str, Any]:
    focus = {"type": MESH_FOCUS_TYPE}
    return {
        "application": APPLICATION,
        "call_id": "",
        "scope": ROOM_SCOPE,
        "device_id": device_id,
        "session_id": session_id,
        "created_ts": created_ts,
        "expires": expires_ms,
        "focus_active": focus,
        "foci_preferred": [focus],
    }


def parse_membership(source: dict[str, Any]) -> ParsedMembership:
    """Read one m.call.member state event. Whether its sender is in the room is the
    caller's question: it is asked whenever members are counted, not only now."""
    sender = source.get("sender")
    state_key = source.get("state_key")
    content = source.get("content")
    if not isinstance(sender, str) or not isinstance(state_key, str):
        return MembershipRejected(str(sender), str(state_key), "no sender or state key")
    prefix = f"_{sender}_"
    if not state_key.startswith(prefix) or len(state_key) == len(prefix):
        return MembershipRejected(sender, state_key, "state key of another user's device")
    device_id = state_key[len(prefix) :]
    if not isinstance(content, dict):
        return MembershipRejected(sender, state_key, "content is not an object")
    if not content:
        return MembershipLeft(sender, device_id)
    if content.get("application") != APPLICATION or content.get("call_id") != "":
        return MembershipRejected(sender, state_key, "not the room's call")
    if content.get("device_id") != device_id:
        return MembershipRejected(sender, state_key, "device_id does not match the state key")
    focus = content.get("focus_active")
    if not isinstance(focus, dict) or not isinstance(focus.get("type"), str):
        return MembershipRejected(sender, state_key, "focus_active has no type")
    if not isinstance(content.get("foci_preferred"), list):
        return MembershipRejected(sender, state_key, "foci_preferred is not a list")
    created = content.get("created_ts", source.get("origin_server_ts"))
    expires = content.get("expires", SPEC_DEFAULT_EXPIRES_MS)
    if not _is_int(created) or not _is_int(expires) or expires <= 0:
        return MembershipRejected(sender, state_key, "created_ts or expires is not a number")
    session_id = content.get("session_id", "")
    return CallMember(
        sender,
        device_id,
        session_id if isinstance(session_id, str) else "",
        focus["type"],
        created + expires,
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
