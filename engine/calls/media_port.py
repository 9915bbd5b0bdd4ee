"""What the call signalling needs from the media layer (see briefs/media_contract.md).

engine/media/audio_peer.py satisfies these protocols structurally; neither side
imports the other. Everything is called on the main asyncio loop.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, Protocol


class PeerState(enum.Enum):
    """The peer connection's state (RTCPeerConnection.connectionState)."""

    NEW = "new"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    FAILED = "failed"
    CLOSED = "closed"


# "disconnected" is transient in WebRTC (ICE may recover): treat it as connecting again.
_ALIASES = {"disconnected": PeerState.CONNECTING}


def peer_state(text: str) -> PeerState | None:
    """The enum for a state string of the media layer; None for one we do not know."""
    try:
        return PeerState(text)
    except ValueError:
        return _ALIASES.get(text)


class CallMediaPeer(Protocol):
    """One WebRTC peer connection carrying one audio stream each way (Opus)."""

    async def create_offer(self, *, on_hold: bool = False) -> str:
        """The local SDP offer; on_hold=True makes our audio "sendonly"."""
        ...

    async def accept_offer(self, sdp: str) -> str:
        """Set the remote offer and return the local answer; ValueError for a bad SDP."""
        ...

    async def accept_answer(self, sdp: str) -> None: ...

    async def add_remote_candidates(self, candidates: list[dict[str, Any]]) -> None: ...

    def local_candidates(self) -> list[dict[str, Any]]: ...

    async def set_muted(self, muted: bool) -> None: ...

    async def set_silenced(self, silenced: bool) -> None:
        """Play nothing of their audio (and measure no level), or play it again."""
        ...

    @property
    def remote_on_hold(self) -> bool: ...

    @property
    def state(self) -> str: ...

    def on_state_change(self, callback: Callable[[str], None]) -> None: ...

    async def close(self) -> None: ...


class CallMediaFactory(Protocol):
    def new_peer(self) -> CallMediaPeer: ...
