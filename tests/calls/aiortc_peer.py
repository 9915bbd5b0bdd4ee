"""A small real media peer for the signalling tests: aiortc with a silence source.

It satisfies engine/calls/media_port.CallMediaPeer. The real media layer
(engine/media/, written in parallel) replaces it when the branches merge; until
then these tests check the signalling against a real WebRTC stack on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from aiortc import (
    AudioStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.sdp import candidate_from_sdp

HOLD_DIRECTIONS = ("sendonly", "inactive")


def _audio_direction(sdp: str) -> str:
    """The direction attribute of the first audio section (sendrecv if none)."""
    in_audio = False
    for line in sdp.splitlines():
        if line.startswith("m="):
            in_audio = line.startswith("m=audio")
        elif in_audio and line[2:] in ("sendrecv", "sendonly", "recvonly", "inactive"):
            return line[2:]
    return "sendrecv"


class AiortcPeer:
    def __init__(self) -> None:
        # No STUN server: loopback only (aiortc would ask a public one by default).
        self._pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._pc.addTrack(AudioStreamTrack())  # silence
        self._callbacks: list[Callable[[str], None]] = []
        self._remote_on_hold = False
        self.muted = False
        self.remote_candidates: list[dict[str, Any]] = []

        @self._pc.on("connectionstatechange")
        def _changed() -> None:
            for callback in list(self._callbacks):
                callback(self._pc.connectionState)

    async def create_offer(self, *, on_hold: bool = False) -> str:
        transceiver = self._pc.getTransceivers()[0]
        transceiver.direction = "sendonly" if on_hold else "sendrecv"
        await self._pc.setLocalDescription(await self._pc.createOffer())
        return self._pc.localDescription.sdp

    async def accept_offer(self, sdp: str) -> str:
        if "m=audio" not in sdp:
            raise ValueError("the offer has no audio")
        await self._pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
        self._remote_on_hold = _audio_direction(sdp) in HOLD_DIRECTIONS
        await self._pc.setLocalDescription(await self._pc.createAnswer())
        return self._pc.localDescription.sdp

    async def accept_answer(self, sdp: str) -> None:
        await self._pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))

    async def add_remote_candidates(self, candidates: list[dict[str, Any]]) -> None:
        for entry in candidates:
            self.remote_candidates.append(entry)
            text = entry.get("candidate", "")
            if not text:
                continue  # end-of-candidates
            with contextlib.suppress(ValueError, IndexError):
                candidate = candidate_from_sdp(text.removeprefix("candidate:"))
                candidate.sdpMid = entry.get("sdpMid")
                candidate.sdpMLineIndex = entry.get("sdpMLineIndex")
                await self._pc.addIceCandidate(candidate)

    def local_candidates(self) -> list[dict[str, Any]]:
        return []  # aiortc puts them in the SDP

    async def set_muted(self, muted: bool) -> None:
        self.muted = muted

    @property
    def remote_on_hold(self) -> bool:
        return self._remote_on_hold

    @property
    def state(self) -> str:
        return self._pc.connectionState

    def on_state_change(self, callback: Callable[[str], None]) -> None:
        self._callbacks.append(callback)

    async def close(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._pc.close(), 2.0)


class AiortcFactory:
    def __init__(self) -> None:
        self.peers: list[AiortcPeer] = []

    def new_peer(self) -> AiortcPeer:
        peer = AiortcPeer()
        self.peers.append(peer)
        return peer
