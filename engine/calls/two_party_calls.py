"""Two-party calls on the session: Matrix VoIP signalling around a media peer.

The pure CallStateMachine (call_state.py) decides; this service feeds it the
room events of each sync and the peer connection's state, publishes what
changed on the bus, and runs what it asks for (sending m.call.* events, media
operations) one at a time, in order, in the background.

A call arriving while we are in another one rings as usual; answering it puts
the other call on hold (as Teams does), the user resumes it later.

A call whose audio moves into a meeting (escalation, engine/calls/call_escalation.py)
is marked "moving": a hangup of it from either side, and our own, ends it as
MOVED_TO_MEETING rather than "hung up". The initiator's hold for the move is local
(``hold_for_move``): no renegotiation, so the peer stays Connected as seed 002 shows
for the invited side, and the media keeps running so no one hears a gap while the
meeting's audio connects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from nio import MatrixRoom, RoomSendResponse

from engine.calls import voip_events as ve
from engine.calls.call_errors import CallFailed, CallNotPossible, NoAudioAvailable, UnknownCall
from engine.calls.call_events import CallEventIgnored, CallStateChanged, IncomingCall
from engine.calls.call_models import AvModalityState, Call, CallEndReason
from engine.calls.call_state import (
    AcceptAnswer,
    AcceptRenegotiation,
    AcceptRenegotiationAnswer,
    AddCandidates,
    AnswerNow,
    CallNotFound,
    CallStateMachine,
    CloseMedia,
    MediaOp,
    Outcome,
)
from engine.calls.media_port import CallMediaFactory, CallMediaPeer, peer_state
from engine.errors import ConferoError, NotSignedIn, ServerRefused
from engine.session import Session

log = logging.getLogger(__name__)

S = AvModalityState


class Calls:
    """place_call / answer / decline / hang_up / set_on_hold / set_muted, and the events."""

    def __init__(
        self,
        session: Session,
        media_factory: CallMediaFactory | None = None,
        *,
        lifetime_ms: int = ve.DEFAULT_LIFETIME_MS,
    ) -> None:
        self._session = session
        self._factory = media_factory
        #: How long our invites ring before we give up (the spec recommends 90 s or more).
        self.lifetime_ms = lifetime_ms
        self._machine: CallStateMachine | None = None
        self._peers: dict[str, CallMediaPeer] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._io: asyncio.Lock | None = None  # one media/send operation at a time, in order
        self._negotiating: dict[str, asyncio.Future[None]] = {}  # our offer waits for an answer
        self._moving: set[str] = set()  # calls whose audio moves into a meeting
        self._held_for_move: set[str] = set()  # of those, the ones hold_for_move held
        session.on_signed_in(self._signed_in)
        session.on_room_event(self._apply_room_event)
        session.on_synced(self._announce_ringing)
        session.on_farewell(self._hang_up_all)
        session.on_close(self._close)

    # ------------------------------------------------------------ reading

    @property
    def audio_available(self) -> bool:
        return self._factory is not None

    def call(self, call_id: str) -> Call | None:
        return self._view(self._machine.call(call_id) if self._machine else None)

    def call_in(self, room_id: str) -> Call | None:
        """The live call in a conversation (ringing counts), if any."""
        return self._view(self._machine.live_call_in(room_id) if self._machine else None)

    def calls(self) -> list[Call]:
        return [self._moved_view(c) for c in self._machine.calls()] if self._machine else []

    def moving(self, call_id: str) -> bool:
        """The call's audio is moving into a meeting (see the module docstring)."""
        return call_id in self._moving

    # ------------------------------------------------------------ actions

    async def place_call(self, room_id: str) -> Call:
        """Call the other person of a two-party conversation: Connecting until they answer."""
        factory = self._require_factory()
        machine = self._require_machine()
        client = self._session.require_client()
        room = client.rooms.get(room_id)
        others = [u for u in (room.users if room else {}) if u != machine.own_user_id]
        if len(others) != 1:
            raise CallNotPossible()
        if room is not None and room.encrypted:  # the engine has no end-to-end encryption yet
            raise CallNotPossible("Calls are not available in encrypted conversations yet.")
        if self.call_in(room_id) is not None:
            raise CallNotPossible("There is already a call in this conversation.")
        call = machine.place(room_id, others[0])
        self._publish(Outcome(changed=[call]))
        async with self._lock():
            peer = self._new_peer(factory, call.call_id)
            try:
                sdp = await peer.create_offer()
            except Exception as exc:
                log.warning("could not make an offer: %r", exc)
                await self._now(
                    machine.fail(
                        call.call_id, ve.HangupReason.USER_MEDIA_FAILED, CallEndReason.MEDIA_FAILED
                    )
                )
                raise CallFailed() from exc
            current = machine.call(call.call_id)
            if current is None or current.state is not S.CONNECTING:
                return current or call  # their call replaced ours meanwhile (glare)
            # From here on the peer may see our invite: glare compares call IDs.
            machine.invite_sent(call.call_id, self.lifetime_ms)
            try:
                await self._send(
                    room_id,
                    ve.INVITE,
                    ve.invite_content(
                        call.call_id, call.party_id, sdp, self.lifetime_ms, invitee=call.peer
                    ),
                )
            except ConferoError:
                await self._now(
                    machine.fail(
                        call.call_id, ve.HangupReason.UNKNOWN_ERROR, CallEndReason.NETWORK_LOST
                    )
                )
                raise
            self._expire_at(call.call_id, machine.deadline_of(call.call_id))
            await self._send_candidates(call, peer)
        return machine.call(call.call_id) or call

    async def answer(self, call_id: str) -> Call:
        """Answer a ringing call; other calls in progress go on hold."""
        factory = self._require_factory()
        machine = self._require_machine()
        for other in machine.calls():
            if other.call_id != call_id and other.state is S.CONNECTED and not other.on_hold:
                with contextlib.suppress(ConferoError):
                    await self._hold(other.call_id, True)  # not waiting for their answer
        async with self._lock():
            try:
                outcome = machine.answering(call_id)
            except CallNotFound as exc:
                raise UnknownCall() from exc
            self._publish(outcome)
            peer = self._new_peer(factory, call_id)
            call = machine.call(call_id)
            assert call is not None
            try:
                sdp = await peer.accept_offer(machine.offer_of(call_id))
            except Exception as exc:  # an SDP without audio, or one that cannot be read
                log.warning("could not answer call %s: %r", call_id, exc)
                await self._now(
                    machine.fail(
                        call_id, ve.HangupReason.USER_MEDIA_FAILED, CallEndReason.MEDIA_FAILED
                    )
                )
                raise CallFailed() from exc
            await self._run_media(outcome.media)  # candidates that came while it rang
            if not (machine.call(call_id) or call).live:
                return machine.call(call_id) or call  # they hung up meanwhile
            try:
                await self._send(
                    call.room_id, ve.ANSWER, ve.answer_content(call_id, call.party_id, sdp)
                )
            except ConferoError:
                await self._now(
                    machine.fail(call_id, ve.HangupReason.UNKNOWN_ERROR, CallEndReason.NETWORK_LOST)
                )
                raise
            with contextlib.suppress(CallNotFound):
                self._publish(machine.answer_sent(call_id))
            await self._send_candidates(call, peer)
        return machine.call(call_id) or call

    async def decline(self, call_id: str) -> Call:
        """Reject a ringing call; it stops ringing on our other devices too."""
        return await self._local(call_id, lambda m: m.decline(call_id))

    async def hang_up(self, call_id: str) -> Call:
        return await self._local(call_id, lambda m: m.hang_up(call_id))

    async def set_on_hold(self, call_id: str, on_hold: bool) -> Call:
        """Hold (our audio goes sendonly) or resume, renegotiated with m.call.negotiate.

        Returns once the peer answered (or the negotiation's lifetime passed), so a
        resume right after a hold never crosses the hold's answer.
        """
        answered = await self._hold(call_id, on_hold)
        if answered is not None:
            try:
                await asyncio.wait_for(asyncio.shield(answered), ve.NEGOTIATE_LIFETIME_MS / 1000)
            except TimeoutError:
                log.info("call %s: no answer to our renegotiation", call_id)
                if self._negotiating.get(call_id) is answered:
                    del self._negotiating[call_id]
        return self._current(call_id)

    async def _hold(self, call_id: str, on_hold: bool) -> asyncio.Future[None] | None:
        """Send the hold/resume offer; the future is done when the peer answered it."""
        machine = self._require_machine()
        if pending := self._negotiating.get(call_id):
            await asyncio.wait([pending], timeout=ve.NEGOTIATE_LIFETIME_MS / 1000)
        async with self._lock():
            call = machine.call(call_id)
            peer = self._peers.get(call_id)
            if call is None or peer is None or call.state not in (S.CONNECTED, S.ON_HOLD):
                raise UnknownCall("The call is not connected.")
            if call.on_hold == on_hold:
                return None
            sdp = await peer.create_offer(on_hold=on_hold)
            answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._negotiating[call_id] = answered
            await self._send(
                call.room_id,
                ve.NEGOTIATE,
                ve.negotiate_content(call_id, call.party_id, "offer", sdp),
            )
            self._publish(machine.set_on_hold(call_id, on_hold))
        return answered

    async def set_muted(self, call_id: str, muted: bool) -> Call:
        """Send silence (or the microphone again); the stream stays up."""
        machine = self._require_machine()
        peer = self._peers.get(call_id)
        if peer is not None:
            await peer.set_muted(muted)
        try:
            self._publish(machine.set_muted(call_id, muted))
        except CallNotFound as exc:
            raise UnknownCall() from exc
        return self._current(call_id)

    # ------------------------------------------- moving into a meeting's audio

    def mark_moving(self, call_id: str, moving: bool = True) -> None:
        """From now on, a hangup from either side ends the call as MOVED_TO_MEETING."""
        if moving:
            self._moving.add(call_id)
        else:
            self._moving.discard(call_id)

    async def hold_for_move(self, call_id: str) -> Call:
        """OnHold here while the audio moves; nothing is sent and the media keeps running."""
        machine = self._require_machine()
        self.mark_moving(call_id)
        call = self._current(call_id)
        if not call.on_hold:
            try:
                self._publish(machine.set_on_hold(call_id, True))
            except CallNotFound as exc:
                raise UnknownCall("The call is not connected.") from exc
            self._held_for_move.add(call_id)
        return self._current(call_id)

    async def cancel_move(self, call_id: str) -> Call | None:
        """The audio did not move: the call goes on as before (resumed if we held it)."""
        self.mark_moving(call_id, False)
        call = self.call(call_id)
        if call_id in self._held_for_move:
            self._held_for_move.discard(call_id)
            if call is not None and call.live and self._machine is not None:
                with contextlib.suppress(CallNotFound):
                    self._publish(self._machine.set_on_hold(call_id, False))
        return self.call(call_id)

    async def end_as_moved(self, call_id: str) -> Call:
        """Hang up a call whose audio went on in a meeting: MOVED_TO_MEETING on both sides
        (the other side's Confero marked it moving too; other clients see a hangup)."""
        self.mark_moving(call_id)
        return await self.hang_up(call_id)

    # ------------------------------------------------------ sync and media

    def _apply_room_event(
        self, room: MatrixRoom, source: dict[str, Any], in_timeline: bool
    ) -> None:
        if not in_timeline:
            return
        try:
            parsed = ve.parse_voip_event(room.room_id, source)
            if parsed is None:
                if source.get("type") == "m.room.member":
                    self._member_changed(room, source)
                return
            machine = self._require_machine()
            if isinstance(parsed, ve.VoipRejection):
                self._ignored(room.room_id, parsed)
                return
            outcome = machine.receive(parsed, sender_in_room=parsed.sender in room.users)
            self._apply(outcome, room.room_id)
        except Exception:  # a bug here must never break syncing
            log.exception("could not handle a call event in %s", room.room_id)

    def _member_changed(self, room: MatrixRoom, source: dict[str, Any]) -> None:
        """The spec: the peer leaving the room hangs up the call with them."""
        content = source.get("content") or {}
        if content.get("membership") in ("leave", "ban") and self._machine:
            self._apply(self._machine.peer_left(room.room_id, source.get("state_key", "")))

    def _announce_ringing(self) -> None:
        if self._machine is None:
            return
        for call in self._machine.take_unannounced():
            self._session.bus.publish(IncomingCall(call))

    def _on_peer_state(self, call_id: str, text: str) -> None:
        state = peer_state(text)
        if state is None or self._machine is None:
            log.info("call %s: unknown media state %r", call_id, text)
            return
        self._apply(self._machine.media_state(call_id, state))

    def _expire(self, call_id: str) -> None:
        self._timers.pop(call_id, None)
        if self._machine is not None:
            self._apply(self._machine.expire(call_id))

    # ------------------------------------------------------------ helpers

    def _apply(self, outcome: Outcome, room_id: str = "") -> None:
        """Publish now; send and run media operations in the background, in order."""
        self._publish(outcome)
        if outcome.rejection is not None:
            self._ignored(room_id, outcome.rejection)
        for answer_now in [op for op in outcome.media if isinstance(op, AnswerNow)]:
            self._session.spawn(self._answer_quietly(answer_now.call_id))
        if outcome.send or outcome.media:
            self._session.spawn(self._later(outcome))

    async def _later(self, outcome: Outcome) -> None:
        async with self._lock():
            try:
                await self._perform(outcome)
            except Exception:  # the call ends by its own rules; log what went wrong
                log.exception("a call operation failed")

    async def _now(self, outcome: Outcome) -> None:
        """Publish and perform at once (the caller holds the I/O lock)."""
        self._publish(outcome)
        with contextlib.suppress(ConferoError):
            await self._perform(outcome)

    async def _perform(self, outcome: Outcome) -> None:
        for message in outcome.send:
            await self._send(message.room_id, message.event_type, message.content)
        await self._run_media(outcome.media)

    async def _run_media(self, ops: list[MediaOp]) -> None:
        for op in ops:
            if isinstance(op, AnswerNow):
                continue  # spawned by _apply: answering takes the I/O lock itself
            if isinstance(op, CloseMedia):
                self._cancel_timer(op.call_id)
                if (answered := self._negotiating.pop(op.call_id, None)) and not answered.done():
                    answered.set_result(None)  # a hold waiting on the answer stops waiting
                if peer := self._peers.pop(op.call_id, None):
                    await peer.close()
                continue
            peer = self._peers.get(op.call_id)
            if peer is None:
                continue  # the call ended meanwhile
            if isinstance(op, AddCandidates):
                await peer.add_remote_candidates(list(op.candidates))
            elif isinstance(op, AcceptAnswer):
                await self._guarded(op.call_id, peer.accept_answer(op.sdp))
            elif isinstance(op, AcceptRenegotiationAnswer):
                # Only the answer to the offer we wait on; a stale one would break the peer.
                answered = self._negotiating.get(op.call_id)
                if answered is None or answered.done():
                    log.info("call %s: ignored an answer to no renegotiation", op.call_id)
                    continue
                await self._guarded(op.call_id, peer.accept_answer(op.sdp))
                answered.set_result(None)
            elif isinstance(op, AcceptRenegotiation):
                await self._renegotiate(op.call_id, peer, op.sdp)

    async def _renegotiate(self, call_id: str, peer: CallMediaPeer, sdp: str) -> None:
        """They sent a new offer (hold or resume): answer it and show their hold."""
        machine = self._require_machine()
        call = machine.call(call_id)
        answer = await self._guarded(call_id, peer.accept_offer(sdp))
        if call is None or answer is None:
            return
        await self._send(
            call.room_id,
            ve.NEGOTIATE,
            ve.negotiate_content(call_id, call.party_id, "answer", answer),
        )
        self._publish(machine.set_remote_on_hold(call_id, peer.remote_on_hold))

    async def _guarded(self, call_id: str, work: Awaitable[Any]) -> Any:
        """Media work on their SDP; a bad one ends the call as failed media."""
        try:
            return await work
        except Exception as exc:
            log.warning("call %s: their session description did not work: %r", call_id, exc)
            await self._now(
                self._require_machine().fail(
                    call_id, ve.HangupReason.UNKNOWN_ERROR, CallEndReason.MEDIA_FAILED
                )
            )
            return None

    async def _answer_quietly(self, call_id: str) -> None:
        try:
            await self.answer(call_id)
        except ConferoError as exc:
            log.info("could not answer call %s after glare: %s", call_id, exc)

    async def _local(self, call_id: str, action: Callable[[CallStateMachine], Outcome]) -> Call:
        machine = self._require_machine()
        try:
            outcome = action(machine)
        except CallNotFound as exc:
            raise UnknownCall() from exc
        self._publish(outcome)
        async with self._lock():
            await self._perform(outcome)
        return self._current(call_id)

    async def _send_candidates(self, call: Call, peer: CallMediaPeer) -> None:
        """One batch: what the peer has beyond its SDP, then end-of-candidates."""
        content = ve.candidates_content(call.call_id, call.party_id, peer.local_candidates())
        with contextlib.suppress(ConferoError):
            await self._send(call.room_id, ve.CANDIDATES, content)

    async def _send(self, room_id: str, event_type: str, content: dict[str, Any]) -> None:
        client = self._session.require_client()
        response = await self._session.call(
            client.room_send(room_id, event_type, content, ignore_unverified_devices=True)
        )
        if not isinstance(response, RoomSendResponse):
            raise ServerRefused(f"The server refused the call event: {response.message}")

    def _new_peer(self, factory: CallMediaFactory, call_id: str) -> CallMediaPeer:
        peer = factory.new_peer()
        self._peers[call_id] = peer
        peer.on_state_change(lambda text: self._on_peer_state(call_id, text))
        return peer

    def _view(self, call: Call | None) -> Call | None:
        return self._moved_view(call) if call is not None else None

    def _moved_view(self, call: Call) -> Call:
        """A moving call's hangup, from either side, reads as moved to the meeting."""
        if call.call_id in self._moving and call.end_reason in (
            CallEndReason.HUNG_UP_BY_YOU,
            CallEndReason.HUNG_UP_BY_THEM,
        ):
            return replace(call, end_reason=CallEndReason.MOVED_TO_MEETING)
        return call

    def _publish(self, outcome: Outcome) -> None:
        for call in outcome.changed:
            self._session.bus.publish(CallStateChanged(self._moved_view(call)))
            if call.state is S.NOTIFIED:
                self._expire_at(call.call_id, self._require_machine().deadline_of(call.call_id))

    def _ignored(self, room_id: str, rejection: ve.VoipRejection) -> None:
        log.info("%s in %s", rejection.log_text(), room_id)
        self._session.bus.publish(
            CallEventIgnored(room_id, rejection.event_type, rejection.sender, rejection.kind.value)
        )

    def _expire_at(self, call_id: str, deadline: float) -> None:
        if call_id in self._timers or not deadline:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, deadline - time.time())
        self._timers[call_id] = loop.call_later(delay, self._expire, call_id)

    def _cancel_timer(self, call_id: str) -> None:
        if timer := self._timers.pop(call_id, None):
            timer.cancel()

    def _lock(self) -> asyncio.Lock:
        if self._io is None:
            self._io = asyncio.Lock()
        return self._io

    def _current(self, call_id: str) -> Call:
        call = self.call(call_id)
        if call is None:
            raise UnknownCall()
        return call

    def _require_factory(self) -> CallMediaFactory:
        if self._factory is None:
            raise NoAudioAvailable()
        return self._factory

    def _require_machine(self) -> CallStateMachine:
        user_id = self._session.user_id
        if not user_id:
            raise NotSignedIn()
        if self._machine is None or self._machine.own_user_id != user_id:
            self._machine = CallStateMachine(user_id)
        return self._machine

    # ------------------------------------------------------------ life cycle

    async def _signed_in(self, user_id: str) -> None:
        self._machine = CallStateMachine(user_id)

    async def _hang_up_all(self) -> None:
        """Quitting: end live calls so the other side does not wait for a timeout."""
        for call in self.calls():
            if call.live:
                with contextlib.suppress(ConferoError, CallNotFound):
                    await self.hang_up(call.call_id)

    async def _close(self) -> None:
        for call_id in list(self._timers):
            self._cancel_timer(call_id)
        peers, self._peers = list(self._peers.values()), {}
        for peer in peers:
            with contextlib.suppress(Exception):
                await peer.close()
