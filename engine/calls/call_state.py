"""The two-party call state machine: pure, no I/O, tested by feeding it events.

It owns every call this device knows and changes them only in its methods. Each
method returns an ``Outcome``: the calls that changed (to publish), the events to
send, and the media operations for the service (engine/calls/two_party_calls.py)
to run. Time comes from an injected clock (wall-clock seconds).

Decisions where the spec leaves room (see the report of the voip branch):
- Glare (both called at once in one room): the spec's rule, the call with the
  lexicographically lesser call_id is kept; our own greater outgoing call ends
  as REPLACED without an event and the kept incoming one is answered at once.
- A caller hanging up while we ring is HUNG_UP_BY_THEM (a missed call); their
  invite_timeout is NO_ANSWER.
- After the media connected once, a failure is NETWORK_LOST (hangup reason
  ice_timeout, as the spec asks); before, MEDIA_FAILED (ice_failed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from engine.calls import voip_events as ve
from engine.calls.call_models import (
    AvModalityState,
    Call,
    CallDirection,
    CallEndReason,
)
from engine.calls.media_port import PeerState

log = logging.getLogger(__name__)

S = AvModalityState
R = CallEndReason
H = ve.HangupReason

# Their hangup reason -> how the call ended for us.
_END_FOR_HANGUP = {
    H.USER_HANGUP: R.HUNG_UP_BY_THEM,
    H.INVITE_TIMEOUT: R.NO_ANSWER,
    H.USER_BUSY: R.BUSY,
    H.ICE_FAILED: R.MEDIA_FAILED,
    H.ICE_TIMEOUT: R.NETWORK_LOST,
    H.USER_MEDIA_FAILED: R.MEDIA_FAILED,
    H.UNKNOWN_ERROR: R.MEDIA_FAILED,
}


class CallNotFound(LookupError):
    """No call with that ID, or it is not in a state for that action."""


# -- what the service must do --


@dataclass(frozen=True, slots=True)
class Outgoing:
    room_id: str
    event_type: str
    content: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AcceptAnswer:
    """Caller: give the chosen answer's SDP to the peer connection."""

    call_id: str
    sdp: str


@dataclass(frozen=True, slots=True)
class AddCandidates:
    call_id: str
    candidates: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class AcceptRenegotiation:
    """They sent a new offer (hold/resume): answer it with m.call.negotiate."""

    call_id: str
    sdp: str


@dataclass(frozen=True, slots=True)
class AcceptRenegotiationAnswer:
    call_id: str
    sdp: str


@dataclass(frozen=True, slots=True)
class AnswerNow:
    """Glare: answer this incoming call without asking (it replaces our own)."""

    call_id: str


@dataclass(frozen=True, slots=True)
class CloseMedia:
    call_id: str


MediaOp = (
    AcceptAnswer
    | AddCandidates
    | AcceptRenegotiation
    | AcceptRenegotiationAnswer
    | AnswerNow
    | CloseMedia
)


@dataclass(slots=True)
class Outcome:
    changed: list[Call] = field(default_factory=list)
    send: list[Outgoing] = field(default_factory=list)
    media: list[MediaOp] = field(default_factory=list)
    rejection: ve.VoipRejection | None = None

    def extend(self, other: Outcome) -> Outcome:
        self.changed += other.changed
        self.send += other.send
        self.media += other.media
        self.rejection = self.rejection or other.rejection
        return self


@dataclass(slots=True)
class _Book:
    """What the machine remembers about one call besides the Call itself."""

    deadline: float = 0.0  # when an unanswered invite expires
    invite_sent: bool = False
    offer_sdp: str = ""  # callee: the invite's offer, for answering
    has_media: bool = False  # a peer connection exists for it here
    media_connected: bool = False  # it was connected at least once
    announced: bool = False  # IncomingCall was published
    # Candidates that came before there was a peer (or before the answer was chosen),
    # by the party that sent them.
    early_candidates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class CallStateMachine:
    """Every call of one signed-in device; see the module docstring."""

    def __init__(self, own_user_id: str, clock: Callable[[], float] = time.time) -> None:
        self.own_user_id = own_user_id
        self._clock = clock  # wall-clock seconds; tests pass their own
        self._calls: dict[str, Call] = {}
        self._books: dict[str, _Book] = {}
        self._seen_events: set[str] = set()

    # ------------------------------------------------------------ reading

    def call(self, call_id: str) -> Call | None:
        return self._calls.get(call_id)

    def calls(self) -> list[Call]:
        return list(self._calls.values())

    def live_call_in(self, room_id: str) -> Call | None:
        for call in self._calls.values():
            if call.room_id == room_id and call.live:
                return call
        return None

    def offer_of(self, call_id: str) -> str:
        return self._books[call_id].offer_sdp if call_id in self._books else ""

    def deadline_of(self, call_id: str) -> float:
        return self._books[call_id].deadline if call_id in self._books else 0.0

    def take_unannounced(self) -> list[Call]:
        """Incoming calls still ringing after a whole sync, not announced yet (the spec
        rings only after the sync, in case it also holds their hangup)."""
        found = []
        for call_id, book in self._books.items():
            call = self._calls[call_id]
            if call.state is S.NOTIFIED and not book.announced:
                book.announced = True
                found.append(call)
        return found

    # ------------------------------------------------------- local actions

    def place(self, room_id: str, peer: str) -> Call:
        """A new outgoing call (Connecting); the service makes the offer and sends it."""
        call = Call(
            call_id=ve.new_voip_id(),
            room_id=room_id,
            peer=peer,
            direction=CallDirection.OUTGOING,
            state=S.CONNECTING,
            party_id=ve.new_voip_id(8),
            started_at=self._clock(),
        )
        self._calls[call.call_id] = call
        self._books[call.call_id] = _Book(has_media=True)
        return call

    def invite_sent(self, call_id: str, lifetime_ms: int) -> None:
        book = self._books[call_id]
        book.invite_sent = True
        book.deadline = self._clock() + lifetime_ms / 1000

    def answering(self, call_id: str) -> Outcome:
        """The user answers a ringing call: Connecting; early candidates go to the new peer."""
        call = self._require(call_id, {S.NOTIFIED})
        book = self._books[call_id]
        book.has_media = True
        outcome = self._set(call, state=S.CONNECTING)
        early = book.early_candidates.pop(call.peer_party_id, [])
        book.early_candidates.clear()
        if early:
            outcome.media.append(AddCandidates(call_id, tuple(early)))
        return outcome

    def answer_sent(self, call_id: str) -> Outcome:
        call = self._require(call_id, {S.CONNECTING})
        return self._set(call, state=S.CONNECTED if self._connected(call_id) else S.JOINING)

    def decline(self, call_id: str) -> Outcome:
        """Reject a ringing call everywhere (m.call.reject stops our other devices too)."""
        call = self._require(call_id, {S.NOTIFIED})
        outcome = self._end(call, R.DECLINED)
        outcome.send.append(
            Outgoing(call.room_id, ve.REJECT, ve.reject_content(call_id, call.party_id))
        )
        return outcome

    def hang_up(self, call_id: str) -> Outcome:
        call = self._require(call_id, set(S) - {S.DISCONNECTED, S.IDLE})
        if call.state is S.NOTIFIED:
            return self.decline(call_id)
        return self._hang_up(call, H.USER_HANGUP, R.HUNG_UP_BY_YOU)

    def fail(self, call_id: str, reason: ve.HangupReason, end: CallEndReason) -> Outcome:
        """Something here broke the call (media could not start...): tell them and end."""
        call = self._calls.get(call_id)
        if call is None or not call.live:
            return Outcome()
        if call.state is S.NOTIFIED:  # nothing was sent yet; just stop ringing
            return self._end(call, end)
        return self._hang_up(call, reason, end)

    def expire(self, call_id: str) -> Outcome:
        """The invite's lifetime passed: no answer."""
        call = self._calls.get(call_id)
        book = self._books.get(call_id)
        if call is None or book is None or self._clock() < book.deadline:
            return Outcome()
        if call.state is S.NOTIFIED:
            return self._end(call, R.NO_ANSWER)
        if call.direction is CallDirection.OUTGOING and call.state is S.CONNECTING:
            return self._hang_up(call, H.INVITE_TIMEOUT, R.NO_ANSWER)
        return Outcome()

    def set_on_hold(self, call_id: str, on_hold: bool) -> Outcome:
        call = self._require(call_id, {S.CONNECTED, S.ON_HOLD, S.JOINING})
        return self._settle(call, on_hold=on_hold)

    def set_remote_on_hold(self, call_id: str, held: bool) -> Outcome:
        call = self._calls.get(call_id)
        if call is None or not call.live:
            return Outcome()
        return self._settle(call, remote_on_hold=held)

    def set_muted(self, call_id: str, muted: bool) -> Outcome:
        call = self._require(call_id, set(S) - {S.DISCONNECTED, S.IDLE})
        return self._set(call, muted=muted)

    def peer_left(self, room_id: str, user_id: str) -> Outcome:
        """The spec: the peer leaving the room is a hangup of the calls with them."""
        outcome = Outcome()
        for call in list(self._calls.values()):
            if call.room_id == room_id and call.peer == user_id and call.live:
                outcome.extend(self._end(call, R.HUNG_UP_BY_THEM))
        return outcome

    def media_state(self, call_id: str, state: PeerState) -> Outcome:
        """The peer connection's state changed."""
        call = self._calls.get(call_id)
        book = self._books.get(call_id)
        if call is None or book is None or not call.live:
            return Outcome()
        if state is PeerState.CONNECTED:
            first = not book.media_connected
            book.media_connected = True
            if call.state in (S.JOINING, S.CONNECTED, S.ON_HOLD):
                connected_at = self._clock() if call.connected_at is None else call.connected_at
                return self._settle(call, connected_at=connected_at)
            if first:
                return Outcome()
        if state is PeerState.FAILED:
            if book.media_connected:
                return self._hang_up(call, H.ICE_TIMEOUT, R.NETWORK_LOST)
            return self._hang_up(call, H.ICE_FAILED, R.MEDIA_FAILED)
        return Outcome()

    # ------------------------------------------------------ remote events

    def receive(self, event: ve.ReceivedVoip, *, sender_in_room: bool) -> Outcome:
        """One well-formed call event from a room's timeline."""
        message = event.message
        if not sender_in_room:
            return self._reject(event, ve.RejectionKind.NOT_A_MEMBER)
        if event.event_id and event.event_id in self._seen_events:
            return self._reject(event, ve.RejectionKind.REPLAYED, "event seen before")
        if event.event_id:
            self._seen_events.add(event.event_id)
        call = self._calls.get(message.call_id)
        if (
            call is not None
            and event.sender == self.own_user_id
            and (message.party_id == call.party_id)
        ):
            return Outcome()  # the remote echo of our own event
        if isinstance(message, ve.Invite):
            return self._receive_invite(event, message)
        if call is None:
            return self._reject(event, ve.RejectionKind.UNKNOWN_CALL)
        if not call.live:
            return Outcome()  # late events of an ended call: nothing to do
        if call.direction is CallDirection.INCOMING:
            return self._receive_as_callee(event, call)
        return self._receive_as_caller(event, call)

    def _receive_invite(self, event: ve.ReceivedVoip, invite: ve.Invite) -> Outcome:
        if invite.call_id in self._calls:
            return self._reject(event, ve.RejectionKind.REPLAYED, "call already known")
        if event.sender == self.own_user_id:
            return self._reject(event, ve.RejectionKind.NOT_FOR_US, "our own other device")
        if invite.invitee not in (None, self.own_user_id):
            return self._reject(event, ve.RejectionKind.NOT_FOR_US, "invitee is someone else")
        remaining_ms = invite.lifetime_ms - event.age_ms
        if remaining_ms <= 0:
            return self._reject(event, ve.RejectionKind.EXPIRED)
        now = self._clock()
        call = Call(
            call_id=invite.call_id,
            room_id=event.room_id,
            peer=event.sender,
            direction=CallDirection.INCOMING,
            state=S.NOTIFIED,
            party_id=ve.new_voip_id(8),
            peer_party_id=invite.party_id,
            started_at=now,
        )
        ours = self.live_call_in(event.room_id)
        self._calls[call.call_id] = call
        self._books[call.call_id] = _Book(deadline=now + remaining_ms / 1000, offer_sdp=invite.sdp)
        outcome = Outcome(changed=[call])
        if (
            ours is not None
            and ours.direction is CallDirection.OUTGOING
            and ours.state is S.CONNECTING
        ):
            # Glare: keep the lesser call_id (ours wins only once its invite is out).
            if self._books[ours.call_id].invite_sent and ours.call_id < call.call_id:
                log.info("glare in %s: keeping our call %s", event.room_id, ours.call_id)
                del self._calls[call.call_id], self._books[call.call_id]
                return Outcome()
            log.info("glare in %s: their call %s replaces ours", event.room_id, call.call_id)
            outcome.extend(self._end(ours, R.REPLACED))
            self._books[call.call_id].announced = True  # answered at once: never rings
            outcome.media.append(AnswerNow(call.call_id))
        return outcome

    def _receive_as_callee(self, event: ve.ReceivedVoip, call: Call) -> Outcome:
        message = event.message
        from_caller = event.sender == call.peer and message.party_id == call.peer_party_id
        from_us_elsewhere = event.sender == self.own_user_id
        if isinstance(message, ve.Answer | ve.SelectAnswer) and (from_us_elsewhere or from_caller):
            selected = (
                message.selected_party_id
                if isinstance(message, ve.SelectAnswer)
                else message.party_id
            )
            if from_caller and isinstance(message, ve.Answer):
                return self._reject(event, ve.RejectionKind.WRONG_PARTY, "answer from the caller")
            if selected != call.party_id:
                return self._end(call, R.ANSWERED_ELSEWHERE)
            return Outcome()
        if isinstance(message, ve.Reject) and from_us_elsewhere:
            return self._end(call, R.DECLINED)
        if isinstance(message, ve.Hangup) and from_us_elsewhere and call.state is S.NOTIFIED:
            return self._end(call, R.DECLINED)
        if not from_caller:
            return self._reject(event, ve.RejectionKind.WRONG_PARTY)
        return self._receive_from_peer(event, call)

    def _receive_as_caller(self, event: ve.ReceivedVoip, call: Call) -> Outcome:
        message = event.message
        if event.sender == self.own_user_id or event.sender != call.peer:
            return self._reject(event, ve.RejectionKind.WRONG_PARTY)
        book = self._books[call.call_id]
        if isinstance(message, ve.Answer):
            if call.peer_party_id or call.state is not S.CONNECTING:
                return self._reject(event, ve.RejectionKind.WRONG_PARTY, "answered already")
            outcome = self._set(call, state=S.JOINING, peer_party_id=message.party_id)
            outcome.send.append(
                Outgoing(
                    call.room_id,
                    ve.SELECT_ANSWER,
                    ve.select_answer_content(call.call_id, call.party_id, message.party_id),
                )
            )
            outcome.media.append(AcceptAnswer(call.call_id, message.sdp))
            early = book.early_candidates.pop(message.party_id, [])
            book.early_candidates.clear()
            if early:
                outcome.media.append(AddCandidates(call.call_id, tuple(early)))
            return outcome
        if isinstance(message, ve.Reject):
            if call.peer_party_id:  # the spec: a reject after an answer is ignored
                return self._reject(event, ve.RejectionKind.WRONG_PARTY, "call already answered")
            outcome = self._end(call, R.DECLINED)
            return outcome
        if not call.peer_party_id:
            if isinstance(message, ve.Candidates):  # before any answer: keep for later
                book.early_candidates.setdefault(message.party_id, []).extend(message.candidates)
                return Outcome()
            if isinstance(message, ve.Hangup):
                return self._end(call, _END_FOR_HANGUP[message.reason])
            return self._reject(event, ve.RejectionKind.WRONG_PARTY, "no answer chosen yet")
        if message.party_id != call.peer_party_id:
            return self._reject(event, ve.RejectionKind.WRONG_PARTY)
        return self._receive_from_peer(event, call)

    def _receive_from_peer(self, event: ve.ReceivedVoip, call: Call) -> Outcome:
        """An event from the party we are in the call with."""
        message = event.message
        book = self._books[call.call_id]
        if isinstance(message, ve.Hangup):
            return self._end(call, _END_FOR_HANGUP[message.reason])
        if isinstance(message, ve.Candidates):
            if not book.has_media:
                book.early_candidates.setdefault(message.party_id, []).extend(message.candidates)
                return Outcome()
            return Outcome(media=[AddCandidates(call.call_id, message.candidates)])
        if isinstance(message, ve.Negotiate):
            if event.age_ms >= message.lifetime_ms:
                return self._reject(event, ve.RejectionKind.EXPIRED)
            if not book.has_media or call.state not in (S.JOINING, S.CONNECTED, S.ON_HOLD):
                return self._reject(event, ve.RejectionKind.WRONG_PARTY, "call not set up")
            if message.description_type == "offer":
                return Outcome(media=[AcceptRenegotiation(call.call_id, message.sdp)])
            return Outcome(media=[AcceptRenegotiationAnswer(call.call_id, message.sdp)])
        # An invite's own call_id again, select_answer to the caller, reject mid-call:
        return self._reject(event, ve.RejectionKind.WRONG_PARTY, "unexpected here")

    # ------------------------------------------------------------ helpers

    def _require(self, call_id: str, states: set[AvModalityState]) -> Call:
        call = self._calls.get(call_id)
        if call is None or call.state not in states:
            raise CallNotFound(call_id)
        return call

    def _connected(self, call_id: str) -> bool:
        return self._books[call_id].media_connected

    def _set(self, call: Call, **changes: Any) -> Outcome:
        new = replace(call, **changes)
        if new == call:
            return Outcome()
        self._calls[call.call_id] = new
        return Outcome(changed=[new])

    def _settle(self, call: Call, **changes: Any) -> Outcome:
        """Apply hold flags and pick Connected or OnHold once the media connected."""
        held = replace(call, **changes)
        state = held.state
        if self._connected(call.call_id) and state in (S.JOINING, S.CONNECTED, S.ON_HOLD):
            state = S.ON_HOLD if held.on_hold or held.remote_on_hold else S.CONNECTED
        return self._set(call, state=state, **changes)

    def _end(self, call: Call, reason: CallEndReason) -> Outcome:
        book = self._books[call.call_id]
        outcome = self._set(call, state=S.DISCONNECTED, end_reason=reason, ended_at=self._clock())
        book.early_candidates.clear()
        if book.has_media:
            outcome.media.append(CloseMedia(call.call_id))
            book.has_media = False
        return outcome

    def _hang_up(self, call: Call, reason: ve.HangupReason, end: CallEndReason) -> Outcome:
        outcome = self._end(call, end)
        if call.direction is CallDirection.INCOMING or self._books[call.call_id].invite_sent:
            outcome.send.insert(
                0,
                Outgoing(
                    call.room_id, ve.HANGUP, ve.hangup_content(call.call_id, call.party_id, reason)
                ),
            )
        return outcome

    def _reject(self, event: ve.ReceivedVoip, kind: ve.RejectionKind, detail: str = "") -> Outcome:
        event_type = next(t for t, cls in _TYPE_OF.items() if isinstance(event.message, cls))
        call_id = event.message.call_id
        return Outcome(rejection=ve.VoipRejection(kind, event_type, event.sender, call_id, detail))


_TYPE_OF: dict[str, type] = {
    ve.INVITE: ve.Invite,
    ve.ANSWER: ve.Answer,
    ve.SELECT_ANSWER: ve.SelectAnswer,
    ve.CANDIDATES: ve.Candidates,
    ve.HANGUP: ve.Hangup,
    ve.REJECT: ve.Reject,
    ve.NEGOTIATE: ve.Negotiate,
}
