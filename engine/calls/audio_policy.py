"""Presenters' audio controls as room state: ``org.confero.audio_policy`` (state_key "").

Only presenters can send it (the meeting's ``state_default`` is the presenter level),
and each client enforces it on itself: ``attendees_can_unmute`` false keeps attendees
muted; ``mute_requests`` counts, per user, how often a presenter muted them;
``mute_all`` counts "Mute all attendees". A count that goes up while a client is in
the call mutes it once (it may unmute again unless unmuting is off). Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

AUDIO_POLICY = "org.confero.audio_policy"


@dataclass(frozen=True, slots=True)
class AudioPolicy:
    attendees_can_unmute: bool = True
    mute_requests: MappingProxyType[str, int] = field(default_factory=lambda: MappingProxyType({}))
    mute_all: int = 0

    def requests_for(self, user_id: str) -> int:
        return self.mute_requests.get(user_id, 0)

    def with_mute_request(self, user_id: str) -> AudioPolicy:
        requests = {**self.mute_requests, user_id: self.requests_for(user_id) + 1}
        return replace(self, mute_requests=MappingProxyType(requests))

    def content(self) -> dict[str, Any]:
        return {
            "attendees_can_unmute": self.attendees_can_unmute,
            "mute_requests": dict(self.mute_requests),
            "mute_all": self.mute_all,
        }


def parse_policy(content: object) -> AudioPolicy:
    """Whatever the state holds; missing or bad fields read as the defaults."""
    if not isinstance(content, dict):
        return AudioPolicy()
    can_unmute = content.get("attendees_can_unmute", True)
    raw_requests = content.get("mute_requests")
    requests = {
        user: count
        for user, count in (raw_requests.items() if isinstance(raw_requests, dict) else ())
        if isinstance(user, str) and isinstance(count, int) and not isinstance(count, bool)
    }
    mute_all = content.get("mute_all", 0)
    return AudioPolicy(
        can_unmute if isinstance(can_unmute, bool) else True,
        MappingProxyType(requests),
        mute_all if isinstance(mute_all, int) and not isinstance(mute_all, bool) else 0,
    )
