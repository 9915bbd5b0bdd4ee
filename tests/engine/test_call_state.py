"""The call state machine, fed events by hand (pure: no server, no media)."""

from __future__ import annotations

from typing import Any

import pytest

from engine.calls import voip_events as ve
from engine.calls.call_models import AvModalityState, CallDirection, CallEndReason
from engine.calls.call_state import (
    AcceptAnswer,
    AcceptRenegotiation,
    AddCandidates,
    AnswerNow,
    CallNotFound,
    CallStateMachine,
    CloseMedia,
    Outcome,
)
from engine.calls.media_port import PeerState, peer_state

S = AvModalityState
R = CallEndReason
ME = "@me:example.org"
PEER = "@peer:example.org"
ROOM = "!room:example.org"
SDP = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
CANDIDATE = {"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def machine(clock: Clock) -> CallStateMachine:
    return CallStateMachine(ME, clock)


_ids = iter(range(1, 10_000))


def received(
    content: dict[str, Any], event_type: str, sender: str = PEER, age_ms: int = 0
) -> ve.ReceivedVoip:
    source = {
        "type": event_type,
        "sender": sender,
        "event_id": f"$e{next(_ids)}",
        "content": content,
        "unsigned": {"age": age_ms},
    }
    parsed = ve.parse_voip_event(ROOM, source)
    assert isinstance(parsed, ve.ReceivedVoip), parsed
    return parsed


def feed(
    machine: CallStateMachine,
    content: dict[str, Any],
    event_type: str,
    sender: str = PEER,
    *,
    age_ms: int = 0,
    in_room: bool = True,
) -> Outcome:
    return machine.receive(received(content, event_type, sender, age_ms), sender_in_room=in_room)


def ring(machine: CallStateMachine, call_id: str = "call1", lifetime_ms: int = 60_000) -> Outcome:
    return feed(machine, ve.invite_content(call_id, "theirs", SDP, lifetime_ms), ve.INVITE)


def states(outcome: Outcome) -> list[AvModalityState]:
    return [call.state for call in outcome.changed]


# -- callee --


def test_incoming_call_rings_then_answer_connects(machine: CallStateMachine):
    outcome = ring(machine)
    assert states(outcome) == [S.NOTIFIED]
    call = outcome.changed[0]
    assert (call.direction, call.peer, call.peer_party_id) == (
        CallDirection.INCOMING,
        PEER,
        "theirs",
    )
    assert machine.offer_of("call1") == SDP
    assert [c.call_id for c in machine.take_unannounced()] == ["call1"]
    assert machine.take_unannounced() == []  # announced once

    assert states(machine.answering("call1")) == [S.CONNECTING]
    assert states(machine.answer_sent("call1")) == [S.JOINING]
    assert states(machine.media_state("call1", PeerState.CONNECTED)) == [S.CONNECTED]
    assert machine.call("call1").connected_at == 1000.0


def test_candidates_before_answering_wait_for_the_peer(machine: CallStateMachine):
    ring(machine)
    early = feed(machine, ve.candidates_content("call1", "theirs", [CANDIDATE]), ve.CANDIDATES)
    assert early.media == []
    answering = machine.answering("call1")
    assert answering.media == [AddCandidates("call1", (CANDIDATE, {**END}))]


END = {"candidate": "", "sdpMid": "0", "sdpMLineIndex": 0}


def test_caller_hanging_up_while_ringing_is_a_missed_call(machine: CallStateMachine):
    ring(machine)
    outcome = feed(
        machine, ve.hangup_content("call1", "theirs", ve.HangupReason.USER_HANGUP), ve.HANGUP
    )
    assert machine.call("call1").end_reason is R.HUNG_UP_BY_THEM
    assert outcome.send == []
    assert machine.take_unannounced() == []  # a hangup in the same sync: it never rings


def test_ringing_stops_when_the_invite_lifetime_passes(machine: CallStateMachine, clock: Clock):
    ring(machine, lifetime_ms=30_000)
    clock.now += 29
    assert machine.expire("call1").changed == []
    clock.now += 2
    outcome = machine.expire("call1")
    assert states(outcome) == [S.DISCONNECTED]
    assert machine.call("call1").end_reason is R.NO_ANSWER
    assert outcome.send == []


def test_an_expired_invite_does_not_ring(machine: CallStateMachine):
    outcome = feed(
        machine, ve.invite_content("old", "theirs", SDP, 60_000), ve.INVITE, age_ms=61_000
    )
    assert outcome.rejection.kind is ve.RejectionKind.EXPIRED
    assert machine.call("old") is None


def test_replayed_invite_is_refused(machine: CallStateMachine):
    ring(machine)
    again = ring(machine)
    assert again.rejection.kind is ve.RejectionKind.REPLAYED
    assert again.changed == []


def test_same_event_twice_is_refused(machine: CallStateMachine):
    event = received(ve.invite_content("call9", "theirs", SDP, 60_000), ve.INVITE)
    machine.receive(event, sender_in_room=True)
    assert machine.receive(event, sender_in_room=True).rejection.kind is ve.RejectionKind.REPLAYED


def test_events_from_outside_the_room_are_refused(machine: CallStateMachine):
    outcome = feed(machine, ve.invite_content("c", "theirs", SDP, 60_000), ve.INVITE, in_room=False)
    assert outcome.rejection.kind is ve.RejectionKind.NOT_A_MEMBER
    assert machine.call("c") is None


def test_candidates_for_an_unknown_call_are_refused(machine: CallStateMachine):
    outcome = feed(machine, ve.candidates_content("nope", "theirs", [CANDIDATE]), ve.CANDIDATES)
    assert outcome.rejection.kind is ve.RejectionKind.UNKNOWN_CALL


def test_invite_for_someone_else_does_not_ring(machine: CallStateMachine):
    content = ve.invite_content("c", "theirs", SDP, 60_000, invitee="@other:example.org")
    assert feed(machine, content, ve.INVITE).rejection.kind is ve.RejectionKind.NOT_FOR_US


def test_answer_from_our_other_device_stops_the_ringing(machine: CallStateMachine):
    ring(machine)
    outcome = feed(machine, ve.answer_content("call1", "mylaptop", SDP), ve.ANSWER, sender=ME)
    assert states(outcome) == [S.DISCONNECTED]
    assert machine.call("call1").end_reason is R.ANSWERED_ELSEWHERE


def test_select_answer_naming_another_party_ends_our_answer(machine: CallStateMachine):
    ring(machine)
    machine.answering("call1")
    machine.answer_sent("call1")
    mine = machine.call("call1").party_id
    assert (
        feed(machine, ve.select_answer_content("call1", "theirs", mine), ve.SELECT_ANSWER).changed
        == []
    )
    outcome = feed(machine, ve.select_answer_content("call1", "theirs", "other"), ve.SELECT_ANSWER)
    assert machine.call("call1").end_reason is R.ANSWERED_ELSEWHERE
    assert CloseMedia("call1") in outcome.media


def test_reject_from_our_other_device_stops_the_ringing(machine: CallStateMachine):
    ring(machine)
    feed(machine, ve.reject_content("call1", "mylaptop"), ve.REJECT, sender=ME)
    assert machine.call("call1").end_reason is R.DECLINED


def test_decline_sends_reject(machine: CallStateMachine):
    ring(machine)
    outcome = machine.decline("call1")
    assert [o.event_type for o in outcome.send] == [ve.REJECT]
    assert machine.call("call1").end_reason is R.DECLINED
    with pytest.raises(CallNotFound):
        machine.answering("call1")


# -- caller --


def placed(machine: CallStateMachine) -> str:
    call = machine.place(ROOM, PEER)
    machine.invite_sent(call.call_id, 60_000)
    return call.call_id


def test_caller_goes_connecting_joining_connected(machine: CallStateMachine):
    call_id = placed(machine)
    assert machine.call(call_id).state is S.CONNECTING
    outcome = feed(machine, ve.answer_content(call_id, "callee1", SDP), ve.ANSWER)
    assert states(outcome) == [S.JOINING]
    assert [o.event_type for o in outcome.send] == [ve.SELECT_ANSWER]
    assert outcome.send[0].content["selected_party_id"] == "callee1"
    assert outcome.media == [AcceptAnswer(call_id, SDP)]
    assert states(machine.media_state(call_id, PeerState.CONNECTED)) == [S.CONNECTED]


def test_caller_keeps_the_first_answer_only(machine: CallStateMachine):
    call_id = placed(machine)
    feed(machine, ve.answer_content(call_id, "callee1", SDP), ve.ANSWER)
    second = feed(machine, ve.answer_content(call_id, "callee2", SDP), ve.ANSWER)
    assert second.rejection.kind is ve.RejectionKind.WRONG_PARTY
    assert machine.call(call_id).peer_party_id == "callee1"


def test_caller_gets_early_candidates_of_the_chosen_answer(machine: CallStateMachine):
    call_id = placed(machine)
    feed(machine, ve.candidates_content(call_id, "callee2", [CANDIDATE], end=False), ve.CANDIDATES)
    feed(machine, ve.candidates_content(call_id, "callee1", [CANDIDATE], end=False), ve.CANDIDATES)
    outcome = feed(machine, ve.answer_content(call_id, "callee1", SDP), ve.ANSWER)
    assert outcome.media[-1] == AddCandidates(call_id, (CANDIDATE,))


def test_unanswered_call_hangs_up_with_invite_timeout(machine: CallStateMachine, clock: Clock):
    call_id = placed(machine)
    clock.now += 61
    outcome = machine.expire(call_id)
    assert [o.content.get("reason") for o in outcome.send] == ["invite_timeout"]
    assert machine.call(call_id).end_reason is R.NO_ANSWER
    assert CloseMedia(call_id) in outcome.media


def test_reject_ends_the_call_as_declined(machine: CallStateMachine):
    call_id = placed(machine)
    feed(machine, ve.reject_content(call_id, "callee1"), ve.REJECT)
    assert machine.call(call_id).end_reason is R.DECLINED


def test_own_echo_is_not_a_rejection(machine: CallStateMachine):
    call_id = placed(machine)
    call = machine.call(call_id)
    echo = feed(machine, ve.invite_content(call_id, call.party_id, SDP, 60_000), ve.INVITE, ME)
    assert echo == Outcome()


@pytest.mark.parametrize(
    ("reason", "end"),
    [
        (ve.HangupReason.USER_HANGUP, R.HUNG_UP_BY_THEM),
        (ve.HangupReason.USER_BUSY, R.BUSY),
        (ve.HangupReason.ICE_FAILED, R.MEDIA_FAILED),
        (ve.HangupReason.ICE_TIMEOUT, R.NETWORK_LOST),
    ],
)
def test_their_hangup_reason_becomes_our_end_reason(machine: CallStateMachine, reason, end):
    call_id = placed(machine)
    feed(machine, ve.answer_content(call_id, "callee1", SDP), ve.ANSWER)
    feed(machine, ve.hangup_content(call_id, "callee1", reason), ve.HANGUP)
    assert machine.call(call_id).end_reason is end


def test_hangup_from_another_party_is_ignored_mid_call(machine: CallStateMachine):
    call_id = placed(machine)
    feed(machine, ve.answer_content(call_id, "callee1", SDP), ve.ANSWER)
    outcome = feed(
        machine, ve.hangup_content(call_id, "intruder", ve.HangupReason.USER_HANGUP), ve.HANGUP
    )
    assert outcome.rejection.kind is ve.RejectionKind.WRONG_PARTY
    assert machine.call(call_id).live


# -- media, hold, glare --


def connected(machine: CallStateMachine) -> str:
    call_id = placed(machine)
    feed(machine, ve.answer_content(call_id, "callee1", SDP), ve.ANSWER)
    machine.media_state(call_id, PeerState.CONNECTED)
    return call_id


def test_media_failure_before_connecting_is_ice_failed(machine: CallStateMachine):
    call_id = placed(machine)
    feed(machine, ve.answer_content(call_id, "callee1", SDP), ve.ANSWER)
    outcome = machine.media_state(call_id, PeerState.FAILED)
    assert outcome.send[0].content["reason"] == "ice_failed"
    assert machine.call(call_id).end_reason is R.MEDIA_FAILED


def test_media_failure_after_connecting_is_network_lost(machine: CallStateMachine):
    call_id = connected(machine)
    outcome = machine.media_state(call_id, PeerState.FAILED)
    assert outcome.send[0].content["reason"] == "ice_timeout"
    assert machine.call(call_id).end_reason is R.NETWORK_LOST


def test_hold_and_their_hold(machine: CallStateMachine):
    call_id = connected(machine)
    assert states(machine.set_on_hold(call_id, True)) == [S.ON_HOLD]
    assert states(machine.set_remote_on_hold(call_id, True)) == [S.ON_HOLD]
    machine.set_on_hold(call_id, False)
    assert machine.call(call_id).state is S.ON_HOLD  # they still hold us
    assert states(machine.set_remote_on_hold(call_id, False)) == [S.CONNECTED]


def test_their_renegotiation_offer_is_passed_on(machine: CallStateMachine):
    call_id = connected(machine)
    offer = ve.negotiate_content(call_id, "callee1", "offer", SDP)
    assert feed(machine, offer, ve.NEGOTIATE).media == [AcceptRenegotiation(call_id, SDP)]
    stale = ve.negotiate_content(call_id, "callee1", "offer", SDP, lifetime_ms=1000)
    assert (
        feed(machine, stale, ve.NEGOTIATE, age_ms=5000).rejection.kind is ve.RejectionKind.EXPIRED
    )


def test_mute_is_local(machine: CallStateMachine):
    call_id = connected(machine)
    outcome = machine.set_muted(call_id, True)
    assert outcome.changed[0].muted and outcome.send == []


def test_peer_leaving_the_room_ends_the_call(machine: CallStateMachine):
    call_id = connected(machine)
    machine.peer_left(ROOM, PEER)
    assert machine.call(call_id).end_reason is R.HUNG_UP_BY_THEM


def test_glare_their_lesser_call_replaces_ours(machine: CallStateMachine):
    call = machine.place(ROOM, PEER)
    machine.invite_sent(call.call_id, 60_000)
    lesser = "0" + call.call_id  # "0" sorts before letters and other digits
    outcome = ring(machine, lesser)
    assert machine.call(call.call_id).end_reason is R.REPLACED
    assert AnswerNow(lesser) in outcome.media
    assert CloseMedia(call.call_id) in outcome.media
    assert outcome.send == []  # the spec: the greater call is dropped without an event
    assert machine.take_unannounced() == []  # answered at once, never rings


def test_glare_our_lesser_call_is_kept(machine: CallStateMachine):
    call = machine.place(ROOM, PEER)
    machine.invite_sent(call.call_id, 60_000)
    outcome = ring(machine, call.call_id + "z")
    assert outcome == Outcome()
    assert machine.call(call.call_id).state is S.CONNECTING
    assert machine.call(call.call_id + "z") is None


def test_glare_while_preparing_our_invite_their_call_wins(machine: CallStateMachine):
    call = machine.place(ROOM, PEER)  # offer not sent yet
    ring(machine, "~greater")
    assert machine.call(call.call_id).end_reason is R.REPLACED


def test_media_states_map_from_strings():
    assert peer_state("connected") is PeerState.CONNECTED
    assert peer_state("disconnected") is PeerState.CONNECTING
    assert peer_state("weird") is None
