"""The focus: what a meeting's audio needs from a media topology.

MatrixRTC calls the thing media flows through a "focus". The first one is a full
mesh (engine/calls/mesh_focus.py: one peer connection per other device); a
server-side mixer for large meetings can implement the same protocol, and
MeetingCalls, the roster and the UI stay as they are. Everything runs on the main loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from engine.calls.call_membership import DeviceKey


@dataclass(frozen=True, slots=True)
class FocusMember:
    """Another device in the call: who, and which stay of theirs (session_id)."""

    key: DeviceKey
    session_id: str


@dataclass(frozen=True, slots=True)
class RemoteAudio:
    """What the focus knows of one other device's audio."""

    connected: bool
    muted: bool
    muted_by_presenter: bool
    level: float  # RMS of their latest audio, 0..1 of full scale


class Focus(Protocol):
    async def join(self, participants: Iterable[FocusMember]) -> None:
        """Start: connect to everyone already in the call."""
        ...

    async def add_participant(self, member: FocusMember) -> None:
        """Someone joined (or rejoined with a new session_id)."""
        ...

    async def remove_participant(self, key: DeviceKey) -> None:
        """Someone left, or their membership expired."""
        ...

    async def set_muted(self, muted: bool, *, by_presenter: bool = False) -> None:
        """Send silence (or the microphone again) to everyone, and tell them."""
        ...

    def set_silenced(self, keys: frozenset[DeviceKey]) -> None:
        """Play none of these devices' audio here (presenters' policy), the rest again;
        at once, without renegotiating."""
        ...

    def remote_audio(self) -> dict[DeviceKey, RemoteAudio]:
        """The devices we have (or are setting up) audio with."""
        ...

    def handle_signal(self, event_type: str, sender: str, content: dict[str, Any]) -> bool:
        """A to-device message of this room's call (``conf_id``); True if it was ours."""
        ...

    async def close(self) -> None:
        """Leave: tell the others (or the server) and stop all media."""
        ...
