"""One WebRTC peer connection carrying one Opus audio stream each way.

AudioPeer satisfies engine/calls/media_port.py's CallMediaPeer structurally (same names
and signatures; not imported, see the media contract). Call it from the main loop: each
method hops to the MediaThread, where the RTCPeerConnection lives, and returns there.
State callbacks fire on the main loop with the RTCPeerConnection's connectionState
strings: "new", "connecting", "connected", "failed", "closed".

Hold uses the SDP direction (Matrix VoIP "negotiate"): the holder offers "sendonly".
aiortc does not stop RTP when the direction changes, so while either side holds,
the outgoing track sends silence and the remote track is left out of the mix.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack
from aiortc.sdp import SessionDescription, candidate_from_sdp

from engine.media.devices import AudioDevices, Level
from engine.media.errors import InvalidSdp, MediaError, MediaThreadStopped
from engine.media.jitter import use_low_latency_buffer
from engine.media.media_thread import MediaThread
from engine.media.tracks import MicrophoneTrack, PlaybackMixer

log = logging.getLogger(__name__)

#: close() gives up waiting after this long (the contract says at most 2 s).
CLOSE_TIMEOUT = 1.5
_HOLDING_DIRECTIONS = ("sendonly", "inactive")
_peer_numbers = itertools.count(1)


def audio_direction(sdp: str) -> str:
    """The direction of the first audio m-line of ``sdp``; InvalidSdp if there is none."""
    try:
        description = SessionDescription.parse(sdp)
    except Exception as error:  # aiortc's parser raises whatever its regexes hit
        raise InvalidSdp() from error
    for media in description.media:
        if media.kind == "audio":
            return media.direction or "sendrecv"
    raise InvalidSdp("The other side's call description has no audio.")


def as_dtls_server(offer_sdp: str, answer_sdp: str) -> str:
    """Our first answer to an "actpass" offer takes the DTLS server role ("passive").

    aiortc's DTLS client offers only ECDSA cipher suites, so it cannot complete a
    handshake with a server whose certificate is RSA, as GStreamer's webrtcbin (nheko)
    makes: a call from nheko failed right after ICE. As server, aiortc picks the suite
    and any client can follow. RFC 5763 lets the answerer to an "actpass" offer choose
    either role; "passive" only means the handshake starts once the offerer has our
    answer. An offer that asks for a role ("active" or "passive") gets it unchanged.
    """
    if "a=setup:actpass" not in offer_sdp:
        return answer_sdp
    return answer_sdp.replace("a=setup:active", "a=setup:passive")


def reported_state(connection_state: str, ice_states: list[str]) -> str:
    """The state to report for aiortc's ``connectionState``.

    When the other side stops answering (its process killed, its network gone), aioice's
    consent checks (RFC 7675) give up after about 30 s and aiortc *closes* the
    connection, with its ICE transport "failed". An orderly close from the other side
    (a hangup) closes it with ICE fine. Only the first is a lost connection: "failed".
    """
    if connection_state == "closed" and "failed" in ice_states:
        return "failed"
    return connection_state


class AudioPeer:
    def __init__(
        self,
        thread: MediaThread,
        devices: AudioDevices,
        mixer: PlaybackMixer,
        *,
        ice_servers: list[RTCIceServer] | None = None,
        track_factory: Callable[[], MediaStreamTrack] | None = None,
    ) -> None:
        self._thread = thread
        self._devices = devices
        self._mixer = mixer
        self._ice_servers = list(ice_servers or [])
        self._track_factory = track_factory
        self._key = f"peer-{next(_peer_numbers)}"
        self._main_loop: asyncio.AbstractEventLoop | None = None
        try:
            self._main_loop = asyncio.get_running_loop()
        except RuntimeError:
            self._main_loop = None
        self._callbacks: list[Callable[[str], None]] = []
        self._state = "new"
        self._closed = False
        self._local_hold = False
        self._remote_hold = False
        self._muted = False
        self._silenced = False  # their audio not played (presenters' policy)
        # media-thread side
        self._pc: RTCPeerConnection | None = None
        self._transceiver: RTCRtpTransceiver | None = None
        self._track: MediaStreamTrack | None = None
        self._unregister = thread.add_closer(self._close_on_thread)

    # --- CallMediaPeer -----------------------------------------------------------------

    async def create_offer(self, *, on_hold: bool = False) -> str:
        return await self._run(self._create_offer(on_hold))

    async def accept_offer(self, sdp: str) -> str:
        remote_direction = audio_direction(sdp)  # InvalidSdp before touching the peer
        return await self._run(self._accept_offer(sdp, remote_direction))

    async def accept_answer(self, sdp: str) -> None:
        remote_direction = audio_direction(sdp)
        await self._run(self._accept_answer(sdp, remote_direction))

    async def add_remote_candidates(self, candidates: list[dict[str, Any]]) -> None:
        await self._run(self._add_candidates(list(candidates)))

    def local_candidates(self) -> list[dict[str, Any]]:
        return []  # aiortc gathers before it returns an SDP, so they are all in there

    async def set_muted(self, muted: bool) -> None:
        self._muted = muted
        await self._run(self._apply_gates())

    async def set_silenced(self, silenced: bool) -> None:
        self._silenced = silenced
        await self._run(self._apply_gates())

    @property
    def remote_on_hold(self) -> bool:
        return self._remote_hold

    @property
    def state(self) -> str:
        return self._state

    def on_state_change(self, callback: Callable[[str], None]) -> None:
        self._callbacks.append(callback)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._unregister()
        try:
            await asyncio.wait_for(self._thread.run(self._close_on_thread()), CLOSE_TIMEOUT)
        except TimeoutError:
            log.warning("%s: closing took too long; left to finish on its own", self._key)
        except MediaThreadStopped:
            pass
        self._set_state("closed")

    # --- extras for the UI (not in the contract) ----------------------------------------

    @property
    def muted(self) -> bool:
        return self._muted

    @property
    def local_on_hold(self) -> bool:
        return self._local_hold

    @property
    def remote_level(self) -> Level:
        """How loud the other side is right now (for a "speaking" indicator)."""
        source = self._mixer.source(self._key)
        return source.level if source is not None else Level()

    @property
    def microphone_problem(self) -> MediaError | None:
        """NoMicrophone (or another MediaError) while the call is receive-only."""
        return self._devices.capture().problem if self._track_factory is None else None

    # --- plumbing ---------------------------------------------------------------------

    async def _run(self, coro: Any) -> Any:
        if self._main_loop is None:
            self._main_loop = asyncio.get_running_loop()
        if self._closed:
            coro.close()
            raise MediaError("The call has ended.")
        return await self._thread.run(coro)

    def _set_state(self, state: str) -> None:
        """Main loop: record the state and tell the listeners once per change."""
        if state == self._state or (self._state == "closed"):
            return
        self._state = state
        for callback in list(self._callbacks):
            try:
                callback(state)
            except Exception:
                log.exception("%s: a state callback failed", self._key)

    # --- media thread -----------------------------------------------------------------

    def _ensure_pc(self) -> RTCPeerConnection:
        if self._pc is not None:
            return self._pc
        pc = RTCPeerConnection(RTCConfiguration(iceServers=self._ice_servers))
        self._pc = pc
        main_loop = self._main_loop

        @pc.on("connectionstatechange")
        def _on_state() -> None:
            ice_states = [
                t.receiver.transport.transport.state
                for t in pc.getTransceivers()
                if t.receiver.transport is not None
            ]
            state = reported_state(pc.connectionState, ice_states)
            if main_loop is not None and not main_loop.is_closed():
                main_loop.call_soon_threadsafe(self._set_state, state)

        @pc.on("track")
        def _on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio":
                # Before any RTP arrives: aiortc's default buffer costs 80 ms.
                for transceiver in pc.getTransceivers():
                    if transceiver.kind == "audio":
                        use_low_latency_buffer(transceiver.receiver)
                self._mixer.add(self._key, track)
                self._apply_gates_now()

        return pc

    def _ensure_transceiver(self, direction: str) -> RTCRtpTransceiver:
        pc = self._ensure_pc()
        if self._transceiver is None:
            if self._track_factory is not None:
                self._track = self._track_factory()
            else:
                self._track = MicrophoneTrack(self._devices.capture())
            self._transceiver = pc.addTransceiver(self._track, direction=direction)
            opus = [
                codec
                for codec in RTCRtpSender.getCapabilities("audio").codecs
                if codec.mimeType.lower() == "audio/opus"
            ]
            self._transceiver.setCodecPreferences(opus)
        else:
            self._transceiver.direction = direction
        return self._transceiver

    def _our_direction(self) -> str:
        return "sendonly" if self._local_hold else "sendrecv"

    async def _create_offer(self, on_hold: bool) -> str:
        self._local_hold = on_hold
        self._ensure_transceiver(self._our_direction())
        pc = self._ensure_pc()
        await pc.setLocalDescription(await pc.createOffer())
        self._apply_gates_now()
        return pc.localDescription.sdp

    async def _accept_offer(self, sdp: str, remote_direction: str) -> str:
        self._ensure_transceiver(self._our_direction())
        pc = self._ensure_pc()
        first = pc.localDescription is None  # a re-offer keeps the DTLS roles it has
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except Exception as error:
            raise InvalidSdp() from error
        self._remote_hold = remote_direction in _HOLDING_DIRECTIONS
        answer = await pc.createAnswer()
        if first:
            answer = RTCSessionDescription(sdp=as_dtls_server(sdp, answer.sdp), type="answer")
        await pc.setLocalDescription(answer)
        self._apply_gates_now()
        return pc.localDescription.sdp

    async def _accept_answer(self, sdp: str, remote_direction: str) -> None:
        pc = self._ensure_pc()
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        except Exception as error:
            raise InvalidSdp() from error
        self._remote_hold = remote_direction in _HOLDING_DIRECTIONS
        self._apply_gates_now()

    async def _add_candidates(self, candidates: list[dict[str, Any]]) -> None:
        pc = self._ensure_pc()
        for entry in candidates:
            try:
                text = entry["candidate"]
                if not isinstance(text, str):
                    raise TypeError("candidate is not a string")
                if text == "":
                    await pc.addIceCandidate(None)  # end of candidates
                    continue
                candidate = candidate_from_sdp(text.removeprefix("candidate:"))
                candidate.sdpMid = entry.get("sdpMid")
                candidate.sdpMLineIndex = entry.get("sdpMLineIndex")
                await pc.addIceCandidate(candidate)
            except Exception as error:
                log.warning("%s: skipped a bad ICE candidate (%s)", self._key, error)

    async def _apply_gates(self) -> None:
        self._apply_gates_now()

    def _apply_gates_now(self) -> None:
        held = self._local_hold or self._remote_hold
        gate = getattr(self._track, "gate", None)
        if gate is not None:
            gate.muted = self._muted
            gate.held = held
        source = self._mixer.source(self._key)
        if source is not None:
            source.set_enabled(not held and not self._silenced)

    async def _close_on_thread(self) -> None:
        self._mixer.remove(self._key)
        if self._track is not None:
            self._track.stop()
        pc, self._pc = self._pc, None
        if pc is not None:
            await pc.close()


class AudioPeerFactory:
    """Makes AudioPeers that share one microphone and one speaker mix.

    ``ice_servers`` are STUN/TURN servers (e.g. from the homeserver's /voip/turnServer);
    none by default, so nothing is contacted but the peer itself.
    """

    def __init__(
        self,
        media_thread: MediaThread,
        devices: AudioDevices,
        *,
        ice_servers: list[RTCIceServer] | None = None,
    ) -> None:
        self.media_thread = media_thread
        self.devices = devices
        self.mixer = PlaybackMixer(devices)
        self.ice_servers = list(ice_servers or [])

    def new_peer(self) -> AudioPeer:
        return AudioPeer(self.media_thread, self.devices, self.mixer, ice_servers=self.ice_servers)

    def set_ice_servers(self, servers: list[dict[str, Any]]) -> None:
        """Matrix /voip/turnServer style entries: {"uris"|"urls", "username", "password"}."""
        self.ice_servers = [
            RTCIceServer(
                urls=entry.get("uris") or entry.get("urls") or [],
                username=entry.get("username"),
                credential=entry.get("password") or entry.get("credential"),
            )
            for entry in servers
        ]
