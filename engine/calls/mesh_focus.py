"""A full mesh: one audio peer connection to each other device in the meeting's call.

Signalling is the Matrix VoIP events sent to one device (to-device), with the group
fields of MSC3401 as element-call's mesh sent them: ``conf_id`` (the room ID),
``device_id`` (the sender's), ``sender_session_id``/``dest_session_id`` (which stay in
the call each side is in) and ``seq``. Of each pair, the lower (user_id, device_id)
offers and the other answers, so both never offer at once. Mute state travels as
``org.matrix.call.sdp_stream_metadata_changed`` (MSC3077 stream metadata).

``set_silenced`` keeps devices' audio out of our playback (the presenters' policy
enforced on the receiving side, engine/calls/remote_mutes.py): the link stays up and
nothing is renegotiated, so they are heard again the moment it is lifted.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.calls import voip_events as ve
from engine.calls.call_membership import DeviceKey
from engine.calls.focus import FocusMember, RemoteAudio
from engine.calls.media_port import CallMediaFactory, CallMediaPeer
from engine.errors import ConferoError

log = logging.getLogger(__name__)

METADATA_CHANGED = "org.matrix.call.sdp_stream_metadata_changed"
STREAM_METADATA = "org.matrix.msc3077.sdp_stream_metadata"
MUTED_BY_PRESENTER = "org.confero.muted_by_presenter"
_STREAM_ID = "confero-microphone"
#: An offerer tries again this often when a link fails (ICE, a lost answer).
MAX_ATTEMPTS = 3
RETRY_DELAY_S = 1.0
#: How long an invite (offer) is valid, as in m.call.invite.
INVITE_LIFETIME_MS = 30_000
#: Invites kept until their sender's link is made (its membership on its way): a
#: mesh's worth; beyond, the oldest goes. Each is kept at most its lifetime.
MAX_PENDING_INVITES = 16
#: Call IDs remembered per link, to tell a replayed invite from a new one.
_SEEN_CALL_IDS = 8

#: Sends one to-device message: (to whom, event type, content).
Send = Callable[[DeviceKey, str, dict[str, Any]], Awaitable[None]]
Spawn = Callable[[Awaitable[None]], None]


@dataclass
class _Link:
    member: FocusMember
    offerer: bool
    call_id: str = ""
    peer: CallMediaPeer | None = None
    state: str = "new"
    answered: bool = False
    ended: bool = False  # they hung up this stay: do not call them again
    muted: bool = False
    muted_by_presenter: bool = False
    attempts: int = 0
    #: Their invites' call IDs answered (or refused) in this link, latest last.
    seen_invites: list[str] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(frozen=True, slots=True)
class _PendingInvite:
    content: dict[str, Any]
    expires_at: float  # time.monotonic()


class MeshFocus:
    def __init__(
        self,
        room_id: str,
        own: DeviceKey,
        session_id: str,
        factory: CallMediaFactory,
        send: Send,
        spawn: Spawn,
        *,
        on_change: Callable[[], None] = lambda: None,
        on_ignored: Callable[[str, str], None] = lambda sender, reason: None,
        on_said_unmuted: Callable[[DeviceKey], None] = lambda key: None,
    ) -> None:
        self.room_id = room_id
        self.own = own
        self.session_id = session_id
        self._factory = factory
        self._send_to = send
        self._spawn = spawn
        self._on_change = on_change
        self._on_ignored = on_ignored
        self._on_said_unmuted = on_said_unmuted
        self._silenced: frozenset[DeviceKey] = frozenset()
        self._party_id = ve.new_voip_id(8)
        self._links: dict[DeviceKey, _Link] = {}
        self._pending_invites: dict[DeviceKey, _PendingInvite] = {}
        self._muted = False
        self._by_presenter = False
        self._closed = False
        self._seq = itertools.count()

    # ------------------------------------------------------------ Focus

    async def join(self, participants: Iterable[FocusMember]) -> None:
        await asyncio.gather(*(self.add_participant(m) for m in participants))

    async def add_participant(self, member: FocusMember) -> None:
        if self._closed or member.key == self.own:
            return
        link = self._links.get(member.key)
        if link is not None:
            if link.member.session_id == member.session_id:
                return
            await self._drop(link, hang_up=False)  # a new stay of theirs replaces the old one
        link = _Link(member, offerer=self.own < member.key)
        self._links[member.key] = link
        if link.offerer:
            await self._offer(link)
        elif (pending := self._pending_invites.pop(member.key, None)) is not None:
            if pending.expires_at > time.monotonic():
                await self._on_invite(member.key, pending.content)
            else:
                log.info("mesh %s: %s's invite expired before its link", self.room_id, member.key)

    async def remove_participant(self, key: DeviceKey) -> None:
        self._pending_invites.pop(key, None)
        if (link := self._links.pop(key, None)) is not None:
            await self._drop(link, hang_up=False)
            self._on_change()

    async def set_muted(self, muted: bool, *, by_presenter: bool = False) -> None:
        self._muted, self._by_presenter = muted, by_presenter and muted
        for link in list(self._links.values()):
            if link.peer is not None and not link.ended:
                with contextlib.suppress(Exception):
                    # The wish now, not this call's: a later call may have changed it
                    # while we waited on an earlier link.
                    await link.peer.set_muted(self._muted)
                content = {**self._group_fields(link), STREAM_METADATA: self._metadata()}
                content.update(call_id=link.call_id, party_id=self._party_id, version=ve.VERSION)
                await self._send(link, METADATA_CHANGED, content)

    def set_silenced(self, keys: frozenset[DeviceKey]) -> None:
        """Play nothing of these devices (and count no level for them); others again."""
        before, self._silenced = self._silenced, keys
        for key in before ^ keys:
            link = self._links.get(key)
            if link is not None and link.peer is not None:
                self._spawn(self._guard(link.peer.set_silenced(key in keys)))

    def remote_audio(self) -> dict[DeviceKey, RemoteAudio]:
        return {
            key: RemoteAudio(
                link.state == "connected",
                link.muted,
                link.muted_by_presenter,
                _level_of(link.peer),
            )
            for key, link in self._links.items()
            if not link.ended
        }

    def handle_signal(self, event_type: str, sender: str, content: dict[str, Any]) -> bool:
        if content.get("conf_id") != self.room_id:
            return False
        device_id = content.get("device_id")
        if not isinstance(device_id, str) or not ve.is_voip_id(content.get("call_id")):
            self._on_ignored(sender, f"{event_type} without device_id or call_id")
            return True
        if content.get("dest_session_id") != self.session_id:
            self._on_ignored(sender, f"{event_type} for another stay in the call")
            return True
        key = DeviceKey(sender, device_id)
        handler = {
            ve.INVITE: self._on_invite,
            ve.ANSWER: self._on_answer,
            ve.CANDIDATES: self._on_candidates,
            ve.HANGUP: self._on_hangup,
            METADATA_CHANGED: self._on_metadata,
        }.get(event_type)
        if handler is not None and not self._closed:
            self._spawn(self._guard(handler(key, content)))
        return True

    async def close(self) -> None:
        """Hang up on everyone (briefly) and close every peer."""
        self._closed = True
        links, self._links = list(self._links.values()), {}
        self._pending_invites.clear()
        await asyncio.gather(*(self._drop(link, hang_up=True) for link in links))

    # ------------------------------------------------------------ offer/answer

    async def _offer(self, link: _Link) -> None:
        async with link.lock:
            if self._closed or link.ended:
                return
            if link.peer is not None:
                await link.peer.close()
            link.attempts += 1
            link.call_id, link.answered, link.state = ve.new_voip_id(), False, "connecting"
            peer = self._new_peer(link)
            sdp = await peer.create_offer()
            content = ve.invite_content(link.call_id, self._party_id, sdp, INVITE_LIFETIME_MS)
            content.update(self._group_fields(link), **{STREAM_METADATA: self._metadata()})
            await self._send(link, ve.INVITE, content)
            await self._send_end_of_candidates(link, peer)

    async def _answer(self, link: _Link, invite: dict[str, Any]) -> None:
        offer = invite.get("offer")
        sdp = offer.get("sdp") if isinstance(offer, dict) else None
        if not isinstance(sdp, str):
            self._on_ignored(link.member.key.user_id, "m.call.invite without an offer")
            return
        async with link.lock:
            if self._closed or link.ended:
                return
            link.seen_invites = [*link.seen_invites, invite["call_id"]][-_SEEN_CALL_IDS:]
            if link.peer is not None:
                await link.peer.close()
            link.call_id, link.state, link.answered = invite["call_id"], "connecting", True
            self._read_metadata(link, invite)
            peer = self._new_peer(link)
            try:
                answer = await peer.accept_offer(sdp)
            except Exception as exc:  # an SDP without audio, or one that cannot be read
                log.warning("mesh %s: could not answer %s: %r", self.room_id, link.member.key, exc)
                self._on_ignored(link.member.key.user_id, "m.call.invite with a bad offer")
                await peer.close()
                link.peer, link.state = None, "failed"
                return
            content = ve.answer_content(link.call_id, self._party_id, answer)
            content.update(self._group_fields(link), **{STREAM_METADATA: self._metadata()})
            await self._send(link, ve.ANSWER, content)
            await self._send_end_of_candidates(link, peer)

    def _new_peer(self, link: _Link) -> CallMediaPeer:
        peer = self._factory.new_peer()
        link.peer = peer
        call_id = link.call_id
        peer.on_state_change(lambda text: self._on_peer_state(link, call_id, text))
        if self._muted:
            self._spawn(self._guard(peer.set_muted(True)))
        if link.member.key in self._silenced:
            self._spawn(self._guard(peer.set_silenced(True)))
        return peer

    # ------------------------------------------------------------ inbound

    async def _on_invite(self, key: DeviceKey, content: dict[str, Any]) -> None:
        link = self._links.get(key)
        sender_session = content.get("sender_session_id")
        if link is None or link.member.session_id != sender_session:
            self._keep_pending(key, content)  # their membership is on its way
            return
        if link.offerer:
            self._on_ignored(key.user_id, "m.call.invite from the side that should answer")
            return
        if link.ended:
            self._on_ignored(key.user_id, "m.call.invite in a call they hung up")
            return
        if content["call_id"] in link.seen_invites:
            self._on_ignored(key.user_id, "m.call.invite replayed (a call_id already seen)")
            return
        await self._answer(link, content)

    def _keep_pending(self, key: DeviceKey, content: dict[str, Any]) -> None:
        """Keep an invite until its sender's link is made: the latest per device, at most
        MAX_PENDING_INVITES devices (the oldest goes), each until its lifetime ends."""
        lifetime = content.get("lifetime")
        if not isinstance(lifetime, int) or isinstance(lifetime, bool) or lifetime <= 0:
            lifetime = INVITE_LIFETIME_MS
        lifetime = min(lifetime, INVITE_LIFETIME_MS)
        now = time.monotonic()
        for old_key in [k for k, p in self._pending_invites.items() if p.expires_at <= now]:
            del self._pending_invites[old_key]
        self._pending_invites.pop(key, None)  # re-inserted last: the newest
        while len(self._pending_invites) >= MAX_PENDING_INVITES:
            oldest = next(iter(self._pending_invites))
            del self._pending_invites[oldest]
            self._on_ignored(oldest.user_id, "m.call.invite dropped: too many waiting")
        self._pending_invites[key] = _PendingInvite(content, now + lifetime / 1000)

    async def _on_answer(self, key: DeviceKey, content: dict[str, Any]) -> None:
        link = self._current(key, content)
        answer = content.get("answer")
        sdp = answer.get("sdp") if isinstance(answer, dict) else None
        if link is None or not link.offerer or not isinstance(sdp, str):
            self._on_ignored(key.user_id, "m.call.answer to no offer of ours")
            return
        async with link.lock:
            if link.answered or link.peer is None:
                return
            link.answered = True
            self._read_metadata(link, content)
            try:
                await link.peer.accept_answer(sdp)
            except Exception as exc:
                log.warning("mesh %s: their answer did not work: %r", self.room_id, exc)
                link.state = "failed"
                self._retry_later(link)

    async def _on_candidates(self, key: DeviceKey, content: dict[str, Any]) -> None:
        link = self._current(key, content)
        candidates = content.get("candidates")
        if link is None or link.peer is None or not isinstance(candidates, list):
            self._on_ignored(key.user_id, "m.call.candidates for no call of ours")
            return
        await link.peer.add_remote_candidates([c for c in candidates if isinstance(c, dict)])

    async def _on_hangup(self, key: DeviceKey, content: dict[str, Any]) -> None:
        link = self._current(key, content)
        if link is None:
            return
        link.ended = True
        await self._drop(link, hang_up=False)
        self._on_change()

    async def _on_metadata(self, key: DeviceKey, content: dict[str, Any]) -> None:
        if (link := self._current(key, content)) is not None:
            self._read_metadata(link, content)
            self._on_change()

    def _on_peer_state(self, link: _Link, call_id: str, text: str) -> None:
        if link.call_id != call_id or link.ended:
            return  # an earlier attempt's peer
        link.state = "connecting" if text == "disconnected" else text
        if text == "failed":
            self._retry_later(link)
        self._on_change()

    def _retry_later(self, link: _Link) -> None:
        if link.offerer and link.attempts < MAX_ATTEMPTS and not self._closed:

            async def retry() -> None:
                await asyncio.sleep(RETRY_DELAY_S)
                if self._links.get(link.member.key) is link:
                    await self._offer(link)

            self._spawn(self._guard(retry()))

    # ------------------------------------------------------------ helpers

    def _current(self, key: DeviceKey, content: dict[str, Any]) -> _Link | None:
        link = self._links.get(key)
        if link is None or link.call_id != content.get("call_id"):
            return None
        return link

    def _read_metadata(self, link: _Link, content: dict[str, Any]) -> None:
        metadata = content.get(STREAM_METADATA)
        streams = (
            [s for s in metadata.values() if isinstance(s, dict)]
            if isinstance(metadata, dict)
            else []
        )
        if streams:
            link.muted = any(s.get("audio_muted") is True for s in streams)
            link.muted_by_presenter = link.muted and any(
                s.get(MUTED_BY_PRESENTER) is True for s in streams
            )
            if not link.muted:
                self._on_said_unmuted(link.member.key)

    def _metadata(self) -> dict[str, Any]:
        return {
            _STREAM_ID: {
                "purpose": "m.usermedia",
                "audio_muted": self._muted,
                "video_muted": True,
                MUTED_BY_PRESENTER: self._by_presenter,
            }
        }

    def _group_fields(self, link: _Link) -> dict[str, Any]:
        return {
            "conf_id": self.room_id,
            "device_id": self.own.device_id,
            "sender_session_id": self.session_id,
            "dest_session_id": link.member.session_id,
            "seq": next(self._seq),
        }

    async def _send_end_of_candidates(self, link: _Link, peer: CallMediaPeer) -> None:
        content = ve.candidates_content(link.call_id, self._party_id, peer.local_candidates())
        content.update(self._group_fields(link))
        await self._send(link, ve.CANDIDATES, content)

    async def _send(self, link: _Link, event_type: str, content: dict[str, Any]) -> None:
        try:
            await self._send_to(link.member.key, event_type, content)
        except ConferoError as exc:
            log.info("mesh %s: could not send %s: %s", self.room_id, event_type, exc)

    async def _drop(self, link: _Link, *, hang_up: bool) -> None:
        peer, link.peer = link.peer, None
        link.state = "closed"
        if hang_up and peer is not None and link.call_id:
            content = ve.hangup_content(link.call_id, self._party_id, ve.HangupReason.USER_HANGUP)
            content.update(self._group_fields(link))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._send(link, ve.HANGUP, content), 2.0)
        if peer is not None:
            with contextlib.suppress(Exception):
                await peer.close()

    async def _guard(self, work: Awaitable[None]) -> None:
        try:
            await work
        except Exception:  # one link's trouble must not break the others
            log.exception("mesh %s: a link operation failed", self.room_id)


def _level_of(peer: CallMediaPeer | None) -> float:
    level = getattr(peer, "remote_level", None)
    return float(getattr(level, "rms", 0.0)) if level is not None else 0.0
