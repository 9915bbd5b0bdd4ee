"""Escalating a call (seed 002) between real engines on the real Synapse, with real media.

Alice calls Bob; Bob adds Carol: the conversation becomes a meeting, the call's audio
moves into the meeting's audio on both sides, the two-party call ends as moved, and
everyone hears everyone. Each microphone is a virtual source of the private PulseAudio
server fed a generated tone (Alice 440 Hz, Bob 660 Hz, Carol 880 Hz); what each hears
is recorded from their virtual speaker and checked by FFT.
"""

from __future__ import annotations

import asyncio

import pytest

from engine import events as ev
from engine.calls.call_models import AvModalityState, CallEndReason
from engine.escalation_models import ConferenceEscalationProgress, ConferenceEscalationResult
from engine.models import Presence
from engine.presence import IN_A_CONFERENCE_CALL
from tests.calls.conftest import (
    CALLEE_SEQUENCE,
    CALLER_SEQUENCE,
    INVITED_AUDIO_SEQUENCE,
    JOIN_AUDIO_SEQUENCE,
    Phone,
    Phones,
    connected_call,
    two_party,
)
from tests.helpers.audio import TonePlayer
from tests.helpers.engines import eventually, expect_event
from tests.helpers.escalations import INITIATOR_SEQUENCE, PEER_SEQUENCE, record
from tests.helpers.proxy import FaultyProxy
from tests.helpers.sound import until_hears

pytestmark = pytest.mark.integration

S = AvModalityState
P = ConferenceEscalationProgress
R = ConferenceEscalationResult


def in_audio(phone: Phone, room_id: str) -> set[str]:
    """Whom ``phone`` sees in the meeting's audio, with a live link (user IDs)."""
    return {
        p.user_id for p in phone.engine.meeting_calls.participants_in_audio(room_id) if p.connected
    }


async def test_a_call_escalated_into_a_meeting_where_all_three_hear_each_other(
    phones: Phones,
):
    alice, bob, carol = await phones("Alice"), await phones("Bob"), await phones("Carol")
    room_id, call_id = await connected_call(alice, bob)
    alice_log, bob_log = record(alice.engine), record(bob.engine)
    with (
        TonePlayer(alice.server, alice.devices.mic_sink, 440),
        TonePlayer(bob.server, bob.devices.mic_sink, 660),
        TonePlayer(carol.server, carol.devices.mic_sink, 880),
    ):
        await until_hears(bob, 440)
        await until_hears(alice, 660)

        result = await bob.engine.escalation.escalate(room_id, [carol.user_id])

        assert result.result is R.SUCCESS
        assert (result.audio_moved, result.media_failed) == (True, "")
        conf = result.conference_room_id
        assert bob_log.progress(room_id) == INITIATOR_SEQUENCE
        await eventually(lambda: alice.engine.escalation.progress(room_id) is P.COMPLETED, 30)
        assert alice_log.progress(room_id) == PEER_SEQUENCE
        assert alice.engine.escalation.escalation(room_id).audio_moved
        # The two-party call ended as moved on both sides; seed 002's sequences.
        on_bob = await bob.reaches(call_id, S.DISCONNECTED)
        on_alice = await alice.reaches(call_id, S.DISCONNECTED)
        assert on_bob.end_reason is CallEndReason.MOVED_TO_MEETING
        assert on_alice.end_reason is CallEndReason.MOVED_TO_MEETING
        assert bob.states(call_id) == [*CALLEE_SEQUENCE, S.ON_HOLD, S.DISCONNECTED]
        assert alice.states(call_id) == [*CALLER_SEQUENCE, S.DISCONNECTED]
        await eventually(lambda: in_audio(alice, conf) == {alice.user_id, bob.user_id}, 30)
        await eventually(lambda: in_audio(bob, conf) == {alice.user_id, bob.user_id}, 30)
        # The call is over, yet they still hear each other: through the meeting.
        await until_hears(bob, 440)
        await until_hears(alice, 660)

        # Seed 002, the escalating side (Bob, user2): the call OnHold while the
        # meeting's audio joins, then Connected in the meeting and the call Disconnected.
        # Bob is alone in the meeting when he joins its audio: Connected at once.
        meeting = [("meeting", state) for state in JOIN_AUDIO_SEQUENCE]
        call = [("call", state) for state in CALLEE_SEQUENCE]
        assert bob.modality_of(call_id, conf) == [
            *call,
            ("call", S.ON_HOLD),
            *meeting,
            ("call", S.DISCONNECTED),
        ]
        # The peer who follows (Alice, user1): the meeting's audio Connecting, Joining,
        # Connected (her link with Bob up), and only then her call hung up as moved.
        assert alice.modality_of(call_id, conf) == [
            *[("call", state) for state in CALLER_SEQUENCE],
            *meeting,
            ("call", S.DISCONNECTED),
        ]

        # The invited side (Carol, user3): the invitation says the call is on, so her
        # meeting audio is Notified; Join with audio: Connecting, Joining, Connected.
        await eventually(
            lambda: any(i.room_id == conf for i in carol.engine.invitations.incoming())
        )
        (invitation,) = [i for i in carol.engine.invitations.incoming() if i.room_id == conf]
        assert invitation.with_audio
        assert carol.engine.meeting_calls.audio_state(conf) is S.NOTIFIED
        await carol.engine.meeting_calls.accept_with_audio(conf)
        await eventually(lambda: carol.engine.meeting_calls.audio_state(conf) is S.CONNECTED, 30)
        assert carol.meeting_states(conf) == INVITED_AUDIO_SEQUENCE
        everyone = {alice.user_id, bob.user_id, carol.user_id}
        for phone in (alice, bob, carol):
            await eventually(lambda ph=phone: in_audio(ph, conf) == everyone, 30)
        await until_hears(alice, 660, 880)
        await until_hears(bob, 440, 880)
        await until_hears(carol, 440, 660)

    for phone in (alice, bob, carol):
        await eventually(lambda ph=phone: ph.engine.presences.own_presence is Presence.BUSY)
        assert phone.engine.presences.own_status == IN_A_CONFERENCE_CALL
        # Carol joining changed nobody's state: a conference call stays Connected.
        assert phone.engine.meeting_calls.audio_state(conf) is S.CONNECTED
    assert alice.calls.call_in(room_id) is None and bob.calls.call_in(room_id) is None


async def test_escalating_without_a_call_joins_no_audio(phones: Phones):
    alice, bob = await phones("Alice"), await phones("Bob")
    room_id = await two_party(alice, bob)

    result = await bob.engine.escalation.escalate(room_id)

    assert result.result is R.SUCCESS
    assert (result.audio_moved, result.media_failed) == (False, "")
    conf = result.conference_room_id
    await eventually(lambda: alice.engine.escalation.progress(room_id) is P.COMPLETED)
    for phone in (alice, bob):
        assert not phone.engine.meeting_calls.in_audio(conf)
        assert phone.calls.calls() == []
    assert not alice.engine.escalation.escalation(room_id).audio_moved


async def test_the_initiator_cannot_join_the_audio_and_keeps_the_call(phones: Phones):
    alice, bob = await phones("Alice"), await phones("Bob")
    room_id, call_id = await connected_call(alice, bob)
    bob.engine.meeting_calls.mesh_limit = -1  # this computer can carry no meeting audio

    result = await bob.engine.escalation.escalate(room_id)

    # Still a meeting, but the call was resumed, not lost, and the reason is kept.
    assert result.result is R.SUCCESS
    assert not result.audio_moved
    assert "too many people" in result.media_failed
    conf = result.conference_room_id
    assert not bob.engine.meeting_calls.in_audio(conf)
    assert bob.calls.call(call_id).state is S.CONNECTED
    assert bob.states(call_id) == [*CALLEE_SEQUENCE, S.ON_HOLD, S.CONNECTED]
    await eventually(lambda: alice.engine.escalation.progress(room_id) is P.COMPLETED)
    # The request said the audio did not move: Alice keeps the call, no meeting audio.
    assert not alice.engine.meeting_calls.in_audio(conf)
    assert alice.calls.call(call_id).state is S.CONNECTED
    assert alice.states(call_id) == CALLER_SEQUENCE
    with (
        TonePlayer(alice.server, alice.devices.mic_sink, 440),
        TonePlayer(bob.server, bob.devices.mic_sink, 660),
    ):
        await until_hears(bob, 440)
        await until_hears(alice, 660)


async def test_the_peer_cannot_join_the_audio_and_the_call_goes_on(phones: Phones):
    alice, bob = await phones("Alice"), await phones("Bob")
    room_id, call_id = await connected_call(alice, bob)
    alice.engine.meeting_calls.mesh_limit = 0  # Alice's computer cannot carry Bob's link
    bob.engine.call_escalation.peer_hangup_wait_s = 2
    resumed = expect_event(
        bob.engine,
        lambda e: (
            isinstance(e, ev.CallStateChanged)
            and e.call.call_id == call_id
            and e.call.state is S.CONNECTED
            and not e.call.on_hold
        ),
        30,
    )

    result = await bob.engine.escalation.escalate(room_id)

    assert result.result is R.SUCCESS and result.audio_moved
    await eventually(lambda: alice.engine.escalation.progress(room_id) is P.COMPLETED, 30)
    on_alice = alice.engine.escalation.escalation(room_id)
    assert not on_alice.audio_moved and "too many people" in on_alice.media_failed
    assert not alice.engine.meeting_calls.in_audio(result.conference_room_id)
    # Bob waited for Alice's audio in vain: the call goes on for both.
    await resumed
    assert bob.states(call_id) == [*CALLEE_SEQUENCE, S.ON_HOLD, S.CONNECTED]
    assert alice.states(call_id) == CALLER_SEQUENCE
    assert not alice.calls.moving(call_id) and not bob.calls.moving(call_id)
    with (
        TonePlayer(alice.server, alice.devices.mic_sink, 440),
        TonePlayer(bob.server, bob.devices.mic_sink, 660),
    ):
        await until_hears(bob, 440)
        await until_hears(alice, 660)


async def test_an_escalation_nobody_follows_resumes_the_call(phones: Phones, synapse):
    proxy = FaultyProxy(synapse.base_url)
    await proxy.start()
    try:
        alice, bob = await phones("Alice", via=proxy), await phones("Bob")
        room_id, call_id = await connected_call(alice, bob)
        proxy.hold_sync()  # Alice's client learns nothing more: she never follows

        result = await bob.engine.escalation.escalate(room_id, timeout_s=2)

        assert result.failed and result.audio_moved  # moved, then given up with the meeting
        assert not bob.engine.meeting_calls.in_audio(result.conference_room_id)
        resumed = await bob.reaches(call_id, S.CONNECTED)
        assert not resumed.on_hold and not bob.calls.moving(call_id)
        assert bob.states(call_id) == [*CALLEE_SEQUENCE, S.ON_HOLD, S.CONNECTED]
        assert alice.calls.call(call_id).state is S.CONNECTED
        with (
            TonePlayer(alice.server, alice.devices.mic_sink, 440),
            TonePlayer(bob.server, bob.devices.mic_sink, 660),
        ):
            await until_hears(bob, 440)
            await until_hears(alice, 660)
    finally:
        await proxy.close()


async def test_both_escalating_a_call_at_once_move_into_one_meetings_audio(phones: Phones):
    alice, bob = await phones("Alice"), await phones("Bob")
    room_id, call_id = await connected_call(alice, bob)

    ours, theirs = await asyncio.gather(
        alice.engine.escalation.escalate(room_id), bob.engine.escalation.escalate(room_id)
    )

    assert ours.result is R.SUCCESS and theirs.result is R.SUCCESS
    conf = ours.conference_room_id
    assert theirs.conference_room_id == conf
    for phone in (alice, bob):
        ended = await phone.reaches(call_id, S.DISCONNECTED)
        assert ended.end_reason is CallEndReason.MOVED_TO_MEETING
        await eventually(lambda ph=phone: in_audio(ph, conf) == {alice.user_id, bob.user_id}, 30)
        # The losing side's own meeting was left, and its audio with it.
        meetings = [m.room_id for m in phone.engine.conferences.sessions()]
        assert [m for m in meetings if phone.engine.meeting_calls.in_audio(m)] == [conf]
    with (
        TonePlayer(alice.server, alice.devices.mic_sink, 440),
        TonePlayer(bob.server, bob.devices.mic_sink, 660),
    ):
        await until_hears(bob, 440)
        await until_hears(alice, 660)
