"""Two-party calls between real engines on the real Synapse, with real media: each
engine's own audio (aiortc on its media thread) on virtual devices of a private
PulseAudio server, checked by FFT where the test says so.

The AV modality sequences each side goes through (seed names) are written down
below; a plain matrix-nio client stands for clients that are not Confero.
"""

from __future__ import annotations

import asyncio

import pytest
from nio import CallHangupEvent, CallInviteEvent

from engine.calls import voip_events as ve
from engine.calls.call_errors import NoAudioAvailable
from engine.calls.call_models import AvModalityState, CallDirection, CallEndReason
from engine.calls.two_party_calls import Calls
from tests.calls.conftest import (
    CALLEE_SEQUENCE,
    CALLER_SEQUENCE,
    Phones,
    connected_call,
    two_party,
)
from tests.helpers.audio import TonePlayer
from tests.helpers.engines import eventually
from tests.helpers.plain_clients import sync_until
from tests.helpers.sound import until_hears, until_silent

pytestmark = pytest.mark.integration

S = AvModalityState
R = CallEndReason


async def test_place_answer_and_hang_up_from_the_caller(phones: Phones):
    alice, bob = await phones("Alice"), await phones("Bob")
    room_id, call_id = await connected_call(alice, bob)

    assert alice.states(call_id) == CALLER_SEQUENCE
    assert bob.states(call_id) == CALLEE_SEQUENCE
    ringing = bob.rings[-1]
    assert (ringing.direction, ringing.peer, ringing.room_id) == (
        CallDirection.INCOMING,
        alice.user_id,
        room_id,
    )
    assert alice.calls.call_in(room_id) is not None
    assert alice.calls.call(call_id).connected_at is not None  # the duration counts from here
    # Generated tones into each microphone: each hears the other's, by FFT.
    with (
        TonePlayer(alice.server, alice.devices.mic_sink, 440),
        TonePlayer(bob.server, bob.devices.mic_sink, 660),
    ):
        await until_hears(bob, 440)
        await until_hears(alice, 660)
        await alice.calls.hang_up(call_id)
        await until_silent(bob, 440)

    ended = await bob.reaches(call_id, S.DISCONNECTED)
    assert ended.end_reason is R.HUNG_UP_BY_THEM
    assert alice.calls.call(call_id).end_reason is R.HUNG_UP_BY_YOU
    assert alice.calls.call_in(room_id) is None
    assert alice.states(call_id)[-1] is S.DISCONNECTED


async def test_hang_up_from_the_callee(phones: Phones):
    alice, bob = await phones("Alice"), await phones("Bob")
    _, call_id = await connected_call(alice, bob)
    await bob.calls.hang_up(call_id)
    ended = await alice.reaches(call_id, S.DISCONNECTED)
    assert ended.end_reason is R.HUNG_UP_BY_THEM
    assert bob.calls.call(call_id).end_reason is R.HUNG_UP_BY_YOU


async def test_declined_call(phones: Phones):
    alice, bob = await phones("Alice"), await phones("Bob")
    room_id = await two_party(alice, bob)
    call = await alice.calls.place_call(room_id)
    await bob.rings_for()
    await bob.calls.decline(call.call_id)
    ended = await alice.reaches(call.call_id, S.DISCONNECTED)
    assert ended.end_reason is R.DECLINED
    assert bob.states(call.call_id) == [S.NOTIFIED, S.DISCONNECTED]
    assert alice.states(call.call_id) == [S.CONNECTING, S.DISCONNECTED]


async def test_unanswered_call_ends_when_the_invite_expires(phones: Phones):
    alice, bob = await phones("Alice", lifetime_ms=2_000), await phones("Bob")
    room_id = await two_party(alice, bob)
    call = await alice.calls.place_call(room_id)
    await bob.rings_for()
    assert (await alice.reaches(call.call_id, S.DISCONNECTED)).end_reason is R.NO_ANSWER
    assert (await bob.reaches(call.call_id, S.DISCONNECTED)).end_reason is R.NO_ANSWER


async def test_answered_on_another_device_stops_ringing_here(phones: Phones):
    alice, bob = await phones("Alice"), await phones("Bob")
    bob_laptop = await phones("Bob", user=bob.account)
    room_id = await two_party(alice, bob)
    laptop_client = bob_laptop.engine.session.client
    await eventually(lambda: room_id in laptop_client.rooms)
    call = await alice.calls.place_call(room_id)
    await bob.rings_for()
    await bob_laptop.rings_for()

    await bob.calls.answer(call.call_id)
    await alice.reaches(call.call_id, S.CONNECTED)
    elsewhere = await bob_laptop.reaches(call.call_id, S.DISCONNECTED)
    assert elsewhere.end_reason is R.ANSWERED_ELSEWHERE
    assert bob_laptop.peers == []  # it never set up media
    await bob.reaches(call.call_id, S.CONNECTED)


async def test_declined_on_another_device_stops_ringing_here(phones: Phones):
    alice, bob = await phones("Alice"), await phones("Bob")
    bob_laptop = await phones("Bob", user=bob.account)
    room_id = await two_party(alice, bob)
    await eventually(lambda: room_id in bob_laptop.engine.session.client.rooms)
    call = await alice.calls.place_call(room_id)
    await bob.rings_for()
    await bob_laptop.rings_for()
    await bob.calls.decline(call.call_id)
    assert (await bob_laptop.reaches(call.call_id, S.DISCONNECTED)).end_reason is R.DECLINED
    assert (await alice.reaches(call.call_id, S.DISCONNECTED)).end_reason is R.DECLINED


async def test_hold_and_resume(phones: Phones):
    alice, bob = await phones("Alice"), await phones("Bob")
    _, call_id = await connected_call(alice, bob)

    held = await alice.calls.set_on_hold(call_id, True)
    assert (held.state, held.on_hold) == (S.ON_HOLD, True)
    on_bob = await bob.reaches(call_id, S.ON_HOLD)
    assert on_bob.remote_on_hold and not on_bob.on_hold

    await alice.calls.set_on_hold(call_id, False)
    await alice.reaches(call_id, S.CONNECTED)
    resumed = await bob.reaches(call_id, S.CONNECTED)
    assert not resumed.remote_on_hold
    assert alice.states(call_id) == [*CALLER_SEQUENCE, S.ON_HOLD, S.CONNECTED]
    assert bob.states(call_id) == [*CALLEE_SEQUENCE, S.ON_HOLD, S.CONNECTED]


async def test_mute_keeps_the_call(phones: Phones):
    alice, bob = await phones("Alice"), await phones("Bob")
    _, call_id = await connected_call(alice, bob)
    muted = await alice.calls.set_muted(call_id, True)
    assert muted.muted and muted.state is S.CONNECTED
    assert alice.peers[0].muted


async def test_placing_a_call_without_audio_is_a_clear_error(phones: Phones):
    alice, bob = await phones("Alice"), await phones("Bob")
    room_id = await two_party(alice, bob)
    silent = Calls(alice.engine.session)  # no media factory: no audio on this computer
    with pytest.raises(NoAudioAvailable):
        await silent.place_call(room_id)


async def test_bad_call_events_are_ignored_without_a_crash(phones: Phones, plain_client):
    """Bob's second device is a plain nio client sending a malformed invite, the same
    invite twice, and candidates for a call nobody placed; Alice's side logs and goes on."""
    alice, bob = await phones("Alice"), await phones("Bob")
    room_id = await two_party(alice, bob)
    bob_plain = await plain_client("Bob", user=bob.account)
    await sync_until(bob_plain, lambda: room_id in bob_plain.rooms)

    malformed = {"call_id": "bad call id!", "party_id": "p1", "version": "1", "lifetime": 60000}
    await bob_plain.room_send(room_id, ve.INVITE, malformed)
    valid = ve.invite_content("replayed1", "plainparty", "v=0\r\nm=audio 9 UDP 0\r\n", 60_000)
    await bob_plain.room_send(room_id, ve.INVITE, valid)
    await bob_plain.room_send(room_id, ve.INVITE, valid)
    stray = ve.candidates_content("nosuchcall", "plainparty", [])
    await bob_plain.room_send(room_id, ve.CANDIDATES, stray)

    kinds = {ve.RejectionKind.MALFORMED.value, ve.RejectionKind.REPLAYED.value}
    kinds.add(ve.RejectionKind.UNKNOWN_CALL.value)
    await eventually(lambda: kinds <= {i.reason for i in alice.ignored})
    ringing = await alice.rings_for()
    assert ringing.call_id == "replayed1"  # the first copy rings, once
    assert len(alice.rings) == 1
    # Answering an offer with no usable audio fails the call, not the engine.
    with pytest.raises(Exception, match="could not be set up"):
        await alice.calls.answer("replayed1")
    assert alice.calls.call("replayed1").end_reason is R.MEDIA_FAILED
    # ...and the caller is told so instead of waiting for the invite to expire.
    hangups: list[CallHangupEvent] = []
    bob_plain.add_event_callback(lambda _room, event: hangups.append(event), CallHangupEvent)
    await sync_until(bob_plain, lambda: any(h.call_id == "replayed1" for h in hangups))
    assert hangups[-1].source["content"]["reason"] == ve.HangupReason.USER_MEDIA_FAILED.value


async def test_a_plain_matrix_client_reads_the_invite(phones: Phones, plain_client):
    alice = await phones("Alice")
    bob_plain = await plain_client("Bob")
    room_id = await alice.engine.conversations.start_direct_conversation(bob_plain.user_id)
    await sync_until(bob_plain, lambda: room_id in bob_plain.invited_rooms)
    await bob_plain.join(room_id)
    room = alice.engine.session.client.rooms[room_id]
    await eventually(lambda: bob_plain.user_id in room.users and not room.invited_users)

    seen: list[CallInviteEvent] = []
    bob_plain.add_event_callback(lambda _room, event: seen.append(event), CallInviteEvent)
    call = await alice.calls.place_call(room_id)
    await sync_until(bob_plain, lambda: bool(seen))
    invite = seen[0]
    assert invite.call_id == call.call_id
    assert invite.version == ve.VERSION
    assert "m=audio" in invite.offer["sdp"]
    assert invite.source["content"]["party_id"] == call.party_id
    assert invite.source["content"]["invitee"] == bob_plain.user_id
    await alice.calls.hang_up(call.call_id)


async def test_both_calling_at_once_ends_in_one_call(phones: Phones):
    """Glare: the spec keeps the call with the lesser call_id on both sides."""
    alice, bob = await phones("Alice"), await phones("Bob")
    room_id = await two_party(alice, bob)
    await asyncio.gather(alice.calls.place_call(room_id), bob.calls.place_call(room_id))

    def kept(phone) -> str | None:
        live = phone.calls.call_in(room_id)
        return live.call_id if live and live.state is S.CONNECTED else None

    await eventually(lambda: kept(alice) is not None and kept(alice) == kept(bob))
    for phone in (alice, bob):
        others = [c for c in phone.calls.calls() if c.call_id != kept(phone)]
        assert all(c.end_reason is R.REPLACED for c in others)
        assert all(c.call_id > kept(phone) for c in others if c.direction.value == "outgoing")
    replaced = [c for p in (alice, bob) for c in p.calls.calls() if c.end_reason is R.REPLACED]
    assert len(replaced) == 1


async def test_answering_a_second_call_holds_the_first(phones: Phones):
    """Our choice where the issue is silent: a second call rings; answering it holds the first."""
    alice, bob, carol = await phones("Alice"), await phones("Bob"), await phones("Carol")
    _, first = await connected_call(alice, bob)
    room_id = await two_party(carol, bob)
    second = await carol.calls.place_call(room_id)
    await eventually(lambda: any(c.call_id == second.call_id for c in bob.rings))
    assert bob.calls.call(first).state is S.CONNECTED  # still talking while it rings

    await bob.calls.answer(second.call_id)
    await carol.reaches(second.call_id, S.CONNECTED)
    await bob.reaches(second.call_id, S.CONNECTED)
    held = await bob.reaches(first, S.ON_HOLD)
    assert held.on_hold
    assert (await alice.reaches(first, S.ON_HOLD)).remote_on_hold
