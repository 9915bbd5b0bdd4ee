"""The AV modality state of a meeting's audio, and invitations to a meeting whose
call is on (seed 002's invited side), between real engines on the real Synapse with
real media on the private PulseAudio server's virtual devices."""

from __future__ import annotations

import asyncio

import pytest

from engine.calls.call_membership import CALL_MEMBER, member_state_key
from engine.calls.call_models import AvModalityState
from engine.calls.meeting_call_events import MeetingAudioStateChanged
from engine.invitation_models import LIVE_AUDIO_KEY, InvitationState
from tests.calls.conftest import (
    INVITED_AUDIO_SEQUENCE,
    JOIN_AUDIO_SEQUENCE,
    Phone,
    Phones,
    meeting_of,
)
from tests.helpers.audio import TonePlayer
from tests.helpers.engines import eventually
from tests.helpers.sound import until_hears

pytestmark = pytest.mark.integration

S = AvModalityState


def links_up_when_connected(phone: Phone, room_id: str) -> list[bool]:
    """Whenever ``phone``'s meeting audio turns Connected: was a link up then?"""
    seen: list[bool] = []
    meeting_calls = phone.engine.meeting_calls

    def look(event: object) -> None:
        if (
            isinstance(event, MeetingAudioStateChanged)
            and event.room_id == room_id
            and event.state is S.CONNECTED
        ):
            others = [p for p in meeting_calls.participants_in_audio(room_id) if not p.is_you]
            seen.append(any(p.connected for p in others))

    phone.engine.session.bus.subscribe(look)
    return seen


def invitation_to(phone: Phone, room_id: str):
    found = [i for i in phone.engine.invitations.incoming() if i.room_id == room_id]
    return found[0] if found else None


async def test_joining_goes_connecting_joining_connected_and_leaving_disconnected(
    phones: Phones,
):
    alice, bob = await phones("Alice"), await phones("Bob")
    room_id = await meeting_of(alice, bob)
    assert alice.engine.meeting_calls.audio_state(room_id) is S.IDLE

    # Alone in the call: Connected as soon as the membership is in.
    await alice.engine.meeting_calls.join_audio(room_id)
    assert alice.meeting_states(room_id) == JOIN_AUDIO_SEQUENCE
    # With someone in it: Connected once the first link is up.
    bob_links = links_up_when_connected(bob, room_id)
    await bob.engine.meeting_calls.join_audio(room_id)
    await eventually(lambda: bob.engine.meeting_calls.audio_state(room_id) is S.CONNECTED, 30)
    assert bob.meeting_states(room_id) == JOIN_AUDIO_SEQUENCE
    assert bob_links == [True]
    with TonePlayer(alice.server, alice.devices.mic_sink, 440):
        await until_hears(bob, 440)

    await bob.engine.meeting_calls.leave_audio(room_id)
    assert bob.meeting_states(room_id) == [*JOIN_AUDIO_SEQUENCE, S.DISCONNECTED]
    # A conference goes on with one person in it: Alice stays Connected.
    await eventually(
        lambda: (
            [p.user_id for p in alice.engine.meeting_calls.participants_in_audio(room_id)]
            == [alice.user_id]
        )
    )
    assert alice.meeting_states(room_id) == JOIN_AUDIO_SEQUENCE
    # Joining again starts over; leaving the meeting leaves its audio too.
    await bob.engine.meeting_calls.join_audio(room_id)
    await eventually(lambda: bob.engine.meeting_calls.audio_state(room_id) is S.CONNECTED, 30)
    await bob.engine.conferences.leave(room_id)
    await eventually(lambda: bob.engine.meeting_calls.audio_state(room_id) is S.DISCONNECTED)
    assert bob.meeting_states(room_id) == [*JOIN_AUDIO_SEQUENCE, S.DISCONNECTED] * 2


async def test_joining_again_while_the_last_stay_still_ends_keeps_the_new_one(
    phones: Phones,
):
    alice, bob = await phones("Alice"), await phones("Bob")
    room_id = await meeting_of(alice, bob)
    await alice.engine.meeting_calls.join_audio(room_id)
    await bob.engine.meeting_calls.join_audio(room_id)
    await eventually(lambda: bob.engine.meeting_calls.audio_state(room_id) is S.CONNECTED, 30)

    # Leave audio, and Join audio again before the leaving is done (a quick click).
    # His media is slow to close (aiortc can be): the old stay ends after the new began.
    for peer in bob.peers:
        close = peer.close

        async def slow_close(close=close) -> None:
            await asyncio.sleep(1.0)
            await close()

        peer.close = slow_close  # type: ignore[method-assign]
    leaving = asyncio.ensure_future(bob.engine.meeting_calls.leave_audio(room_id))
    await eventually(lambda: not bob.engine.meeting_calls.in_audio(room_id))
    await bob.engine.meeting_calls.join_audio(room_id)
    await leaving

    # The old stay's empty membership did not land after the new one.
    key = member_state_key(bob.user_id, bob.engine.session.client.device_id)
    state = await alice.engine.session.client.room_get_state_event(room_id, CALL_MEMBER, key)
    assert state.content.get("session_id")
    await eventually(lambda: bob.engine.meeting_calls.audio_state(room_id) is S.CONNECTED, 30)
    with TonePlayer(alice.server, alice.devices.mic_sink, 440):
        await until_hears(bob, 440)


async def test_an_invitation_to_a_meeting_whose_call_is_on_joins_it_with_audio(
    phones: Phones, plain_client
):
    alice, bob = await phones("Alice"), await phones("Bob")
    room_id = await meeting_of(alice)
    await alice.engine.meeting_calls.join_audio(room_id)

    invited = await alice.engine.invitations.deliver(room_id, bob.user_id, "Join us")

    assert invited.state is InvitationState.DELIVERED
    # The invite's member event says the call is on, for any client that reads it.
    member = await alice.engine.session.client.room_get_state_event(
        room_id, "m.room.member", bob.user_id
    )
    assert member.content["membership"] == "invite"
    assert member.content[LIVE_AUDIO_KEY] == {"live": True}
    assert member.content["reason"] == "Join us"
    await eventually(lambda: invitation_to(bob, room_id) is not None)
    assert invitation_to(bob, room_id).with_audio
    assert bob.engine.meeting_calls.audio_state(room_id) is S.NOTIFIED

    bob_links = links_up_when_connected(bob, room_id)
    await bob.engine.meeting_calls.accept_with_audio(room_id)

    await eventually(lambda: bob.engine.meeting_calls.audio_state(room_id) is S.CONNECTED, 30)
    assert bob.meeting_states(room_id) == INVITED_AUDIO_SEQUENCE
    assert bob_links == [True]
    assert invitation_to(bob, room_id) is None
    await eventually(
        lambda: (
            alice.engine.invitations.invitation(room_id, bob.user_id).state
            is InvitationState.ACCEPTED
        )
    )
    with (
        TonePlayer(alice.server, alice.devices.mic_sink, 440),
        TonePlayer(bob.server, bob.devices.mic_sink, 660),
    ):
        await until_hears(bob, 440)
        await until_hears(alice, 660)


async def test_declined_withdrawn_or_joined_without_audio_it_ends_disconnected(
    phones: Phones,
):
    alice, bob, carol = await phones("Alice"), await phones("Bob"), await phones("Carol")
    dave = await phones("Dave")
    room_id = await meeting_of(alice)
    await alice.engine.meeting_calls.join_audio(room_id)

    await alice.engine.invitations.deliver(room_id, bob.user_id)
    await alice.engine.invitations.deliver(room_id, carol.user_id, timeout_s=2.0)
    await alice.engine.invitations.deliver(room_id, dave.user_id)
    for phone in (bob, carol, dave):
        await eventually(
            lambda ph=phone: ph.engine.meeting_calls.audio_state(room_id) is S.NOTIFIED
        )

    # Dave joins without the audio (plain Join): no longer Notified, not in the call.
    await dave.engine.invitations.join_incoming(room_id)
    assert dave.meeting_states(room_id) == [S.NOTIFIED, S.DISCONNECTED]
    assert not dave.engine.meeting_calls.in_audio(room_id)

    # Bob declines; Carol does not answer and the invitation is withdrawn.
    await bob.engine.invitations.decline_incoming(room_id)
    await eventually(lambda: bob.engine.meeting_calls.audio_state(room_id) is S.DISCONNECTED)
    await eventually(lambda: carol.engine.meeting_calls.audio_state(room_id) is S.DISCONNECTED)
    assert bob.meeting_states(room_id) == [S.NOTIFIED, S.DISCONNECTED]
    assert carol.meeting_states(room_id) == [S.NOTIFIED, S.DISCONNECTED]
    assert not bob.engine.meeting_calls.in_audio(room_id)

    # Nobody in the call any more: a new invitation is a plain one, nothing rings.
    await alice.engine.meeting_calls.leave_audio(room_id)
    await eventually(lambda: not alice.engine.meeting_calls.participants_in_audio(room_id))
    again = await alice.engine.invitations.resend(room_id, bob.user_id)
    assert again.state is InvitationState.DELIVERED
    await eventually(lambda: invitation_to(bob, room_id) is not None)
    assert not invitation_to(bob, room_id).with_audio
    assert bob.meeting_states(room_id) == [S.NOTIFIED, S.DISCONNECTED]
