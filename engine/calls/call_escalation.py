"""Escalating a call (seed 002): a running two-party call moves into the meeting's audio.

``CallEscalation.join_media`` is the escalation's media joiner (engine/escalation.py
calls it at JoiningLocalMedia on both sides; it does not import calls). It is made
of the two call services' public methods:

- The initiator, when a connected (or held) call runs in the two-party room: marks
  it moving and puts it OnHold (locally: the peer stays Connected and the media keeps
  running, so no one hears a gap), joins the meeting's audio and says so in its
  request (``"audio": true``). No call: nothing happens, as before.
- The peer, when the request says the audio moves: marks its call moving, joins the
  meeting's audio, waits (at most ``link_wait_s``) until its link with the initiator
  is up, then hangs the two-party call up. Both sides end it as MOVED_TO_MEETING:
  the peer's own hangup, and on the initiator the hangup of a call marked moving.
  It joins the audio even when its call already ended (the request says so).
- The initiator hangs up itself ``peer_hangup_wait_s`` after Completed if the peer
  has not, when the peer is in the meeting's audio. When it is not (a client that
  does not speak meeting audio, or its join failed), the call is resumed instead:
  it is the peer's only way to hear us, and we are heard in both.
- Joining the audio fails (mesh limit, no media...): the call is resumed (initiator)
  or left alone (peer), the error goes up to the escalation, which completes anyway
  and records it as ``media_failed``. The escalation failing or being given up
  (declined, no answer, the peer's own escalation won) resumes the call; leaving the
  meeting leaves its audio (engine/calls/meeting_calls.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from engine import events as ev
from engine.calls.call_models import AvModalityState
from engine.calls.meeting_calls import MeetingCalls
from engine.calls.two_party_calls import Calls
from engine.errors import ConferoError
from engine.escalation_models import ConferenceEscalationResult
from engine.session import Session

log = logging.getLogger(__name__)

#: Calls in these states move; a call still ringing or connecting stays where it is.
_MOVABLE = frozenset({AvModalityState.CONNECTED, AvModalityState.ON_HOLD})
DEFAULT_LINK_WAIT_S = 10.0
DEFAULT_PEER_HANGUP_WAIT_S = 15.0


class CallEscalation:
    """The media joiner of engine/escalation.py, for two-party calls and meeting audio."""

    def __init__(self, session: Session, calls: Calls, meeting_calls: MeetingCalls) -> None:
        self._session = session
        self._calls = calls
        self._meeting_calls = meeting_calls
        #: Peer: how long to wait for the link with the initiator before hanging up.
        self.link_wait_s = DEFAULT_LINK_WAIT_S
        #: Initiator: how long after Completed the peer has to hang up itself.
        self.peer_hangup_wait_s = DEFAULT_PEER_HANGUP_WAIT_S
        # Initiator: two-party room -> (meeting, call) whose audio moved, until settled.
        self._moved: dict[str, tuple[str, str]] = {}
        session.bus.subscribe(self._on_event)

    async def join_media(
        self, direct_room_id: str, meeting_room_id: str, audio_moves: bool | None
    ) -> bool:
        """See the module docstring; True when a call's audio went on in the meeting."""
        if audio_moves is None:
            return await self._move_as_initiator(direct_room_id, meeting_room_id)
        return await self._move_as_peer(direct_room_id, meeting_room_id, audio_moves)

    # ------------------------------------------------------------ the initiator

    async def _move_as_initiator(self, direct: str, meeting: str) -> bool:
        call = self._calls.call_in(direct)
        if call is None or call.state not in _MOVABLE:
            return False
        await self._calls.hold_for_move(call.call_id)
        await self._join_audio(meeting, call.call_id)
        self._moved[direct] = (meeting, call.call_id)
        return True

    def _on_event(self, event: object) -> None:
        if not isinstance(event, ev.EscalationProgressChanged):
            return
        escalation = event.escalation
        moved = self._moved.get(escalation.direct_room_id)
        if moved is None:
            return
        meeting, call_id = moved
        if escalation.incoming or escalation.conference_room_id not in ("", meeting):
            # The peer's escalation won: ours was given up, following theirs decides.
            del self._moved[escalation.direct_room_id]
        elif escalation.result is ConferenceEscalationResult.SUCCESS:
            del self._moved[escalation.direct_room_id]
            self._session.spawn(self._settle_after_completed(meeting, call_id))
        elif escalation.failed or not escalation.running:
            del self._moved[escalation.direct_room_id]
            self._session.spawn(self._resume(call_id))

    async def _settle_after_completed(self, meeting: str, call_id: str) -> None:
        """The peer hangs up once its audio is in; if it does not, we decide."""
        ended = await self._until(lambda: not self._live(call_id), self.peer_hangup_wait_s)
        call = self._calls.call(call_id)
        if ended or call is None:
            return
        if self._in_audio(meeting, call.peer):
            log.info("call %s: the peer is in the meeting's audio; hanging up as moved", call_id)
            with contextlib.suppress(ConferoError):
                await self._calls.end_as_moved(call_id)
        else:
            log.info("call %s: the peer's audio did not follow; the call goes on", call_id)
            await self._resume(call_id)

    async def _resume(self, call_id: str) -> None:
        with contextlib.suppress(ConferoError):
            await self._calls.cancel_move(call_id)

    # ------------------------------------------------------------ the peer

    async def _move_as_peer(self, direct: str, meeting: str, audio_moves: bool) -> bool:
        call = self._calls.call_in(direct)
        if not audio_moves:
            # Their call did not move (or they had none): ours, if we held it for our
            # own escalation that lost to theirs, goes on.
            if call is not None and self._calls.moving(call.call_id):
                await self._calls.cancel_move(call.call_id)
            return False
        if call is not None:
            self._calls.mark_moving(call.call_id)
        await self._join_audio(meeting, call.call_id if call else None)
        if call is not None and self._live(call.call_id):
            peer = call.peer
            linked = await self._until(lambda: self._in_audio(meeting, peer), self.link_wait_s)
            if not linked:
                log.info("meeting audio %s: no link with %s yet; moving anyway", meeting, peer)
            if self._live(call.call_id):
                with contextlib.suppress(ConferoError):
                    await self._calls.end_as_moved(call.call_id)
        return True

    # ------------------------------------------------------------ helpers

    async def _join_audio(self, meeting: str, call_id: str | None) -> None:
        """Join the meeting's audio; if that fails, the call stays as it was."""
        try:
            await self._meeting_calls.join_audio(meeting)
        except Exception as exc:
            if call_id is not None:
                await self._calls.cancel_move(call_id)
            if isinstance(exc, ConferoError):
                raise
            # A bug must not cost the escalation: it goes on, the reason is kept.
            log.exception("meeting audio %s: joining failed", meeting)
            raise ConferoError("The meeting's audio could not be joined.") from exc

    def _live(self, call_id: str) -> bool:
        call = self._calls.call(call_id)
        return call is not None and call.live

    def _in_audio(self, meeting: str, user_id: str) -> bool:
        """``user_id`` is in the meeting's audio and our link with them is up."""
        return any(
            p.user_id == user_id and p.connected and not p.is_you
            for p in self._meeting_calls.participants_in_audio(meeting)
        )

    async def _until(self, check: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``check`` holds, looking again at each engine event (call state,
        meeting audio); False if it still does not after ``timeout`` seconds."""
        if check():
            return True
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def look(_event: object) -> None:
            if not done.done() and check():
                done.set_result(True)

        unsubscribe = self._session.bus.subscribe(look)
        try:
            return await asyncio.wait_for(done, timeout)
        except TimeoutError:
            return check()
        finally:
            unsubscribe()
