"""Meeting audio between real engines on the real Synapse: MatrixRTC membership,
full-mesh media over to-device signalling, presenters' controls.

Audio is real: each participant's microphone is a virtual source of the private
PulseAudio server, fed a generated tone (tests/helpers/audio.py); what each hears is
recorded from their virtual speaker and checked by FFT. A plain matrix-nio client
stands for other (or misbehaving) Matrix clients.
"""

from __future__ import annotations

import time

import pytest

from engine.calls.call_membership import CALL_MEMBER, member_state_key, membership_content
from engine.calls.meeting_call_errors import AttendeesCannotUnmute, MeshLimitReached
from engine.calls.meeting_call_events import CallMemberIgnored, MeetingAudioChanged
from engine.conference_models import Role
from tests.calls.conftest import Phone, Phones, crash, meeting_of, plain_member
from tests.helpers.audio import TonePlayer, heard
from tests.helpers.engines import eventually, expect_event
from tests.helpers.sound import listen, until_hears, until_silent

pytestmark = pytest.mark.integration

#: A tone at 0.3 of full scale shows at least this level on the others' rosters.
LOUD = 0.5


def in_call(phone: Phone, room_id: str) -> set[str]:
    """Whom ``phone`` sees in the meeting's audio (user IDs)."""
    return {p.user_id for p in phone.engine.meeting_calls.participants_in_audio(room_id)}


def seen(phone: Phone, room_id: str, user_id: str):
    found = [
        p for p in phone.engine.meeting_calls.participants_in_audio(room_id) if p.user_id == user_id
    ]
    return found[0] if found else None


async def all_connected(room_id: str, *phones: Phone) -> None:
    everyone = {p.user_id for p in phones}
    for phone in phones:
        await eventually(
            lambda ph=phone: (
                in_call(ph, room_id) == everyone
                and all(p.connected for p in ph.engine.meeting_calls.participants_in_audio(room_id))
            ),
            30,
        )


async def test_three_people_hear_each_other_and_not_a_muted_one(phones: Phones):
    alice, bob, carol = await phones("Alice"), await phones("Bob"), await phones("Carol")
    room_id = await meeting_of(alice, bob, carol)
    joined = expect_event(
        alice.engine,
        lambda e: isinstance(e, MeetingAudioChanged) and len(e.participants) == 3,
        30,
    )
    for phone in (alice, bob, carol):
        await phone.engine.meeting_calls.join_audio(room_id)
    await joined
    await all_connected(room_id, alice, bob, carol)
    tones = [(alice, 440), (bob, 660), (carol, 880)]
    with (
        TonePlayer(alice.server, alice.devices.mic_sink, 440),
        TonePlayer(bob.server, bob.devices.mic_sink, 660),
        TonePlayer(carol.server, carol.devices.mic_sink, 880),
    ):
        for phone, own in tones:
            others = [f for p, f in tones if p is not phone]
            await until_hears(phone, *others)
            assert not heard(await listen(phone), own), f"{phone.devices.name} hears itself"
        # Someone speaking shows as speaking on the others' rosters, with their level
        # (tones at 0.3 of full scale: about -13 dBFS, 0.7 on the meter); ours too.
        await eventually(lambda: seen(alice, room_id, bob.user_id).speaking)
        await eventually(lambda: seen(alice, room_id, bob.user_id).level >= LOUD)
        await eventually(lambda: seen(carol, room_id, bob.user_id).level >= LOUD)
        await eventually(lambda: seen(bob, room_id, bob.user_id).level >= LOUD)

        await bob.engine.meeting_calls.set_muted(room_id, True)
        await until_silent(alice, 660)
        await until_silent(carol, 660)
        await until_hears(alice, 880)  # carol still heard
        await eventually(lambda: seen(alice, room_id, bob.user_id).muted)
        await eventually(lambda: not seen(carol, room_id, bob.user_id).speaking)
        await eventually(lambda: seen(carol, room_id, bob.user_id).level == 0.0)
        assert seen(bob, room_id, bob.user_id).level == 0.0  # muted: nothing goes out
        assert seen(alice, room_id, carol.user_id).level >= LOUD  # carol still speaks

        await bob.engine.meeting_calls.set_muted(room_id, False)
        await until_hears(carol, 660)
        await eventually(lambda: not seen(alice, room_id, bob.user_id).muted)
    # Silence (the tones stopped, nobody muted) shows as 0.
    for phone in (alice, bob, carol):
        for other in (alice, bob, carol):
            await eventually(lambda p=phone, o=other: seen(p, room_id, o.user_id).level == 0.0)

    # Leaving the meeting leaves its audio; the others drop that person.
    await carol.engine.conferences.leave(room_id)
    assert not carol.engine.meeting_calls.in_audio(room_id)
    await eventually(lambda: in_call(alice, room_id) == {alice.user_id, bob.user_id})
    await eventually(lambda: in_call(bob, room_id) == {alice.user_id, bob.user_id})


async def test_presenter_mutes_an_attendee_who_cannot_unmute(phones: Phones):
    alice, bob = await phones("Alice"), await phones("Bob")
    room_id = await meeting_of(alice, bob)
    await alice.engine.meeting_calls.join_audio(room_id)  # the Leader lets attendees in
    await alice.engine.conferences.set_role(room_id, bob.user_id, Role.ATTENDEE)
    await eventually(
        lambda: any(
            p.is_you and p.role is Role.ATTENDEE
            for p in bob.engine.conferences.participants(room_id)
        )
    )
    await bob.engine.meeting_calls.join_audio(room_id)
    await all_connected(room_id, alice, bob)
    with TonePlayer(bob.server, bob.devices.mic_sink, 660):
        await until_hears(alice, 660)

        await alice.engine.meeting_calls.set_attendees_can_unmute(room_id, False)
        await until_silent(alice, 660)
        await eventually(lambda: bob.engine.meeting_calls.muted(room_id))
        with pytest.raises(AttendeesCannotUnmute):
            await bob.engine.meeting_calls.set_muted(room_id, False)
        await eventually(lambda: seen(alice, room_id, bob.user_id).muted_by_presenter)
        assert seen(bob, room_id, bob.user_id).muted_by_presenter

        await alice.engine.meeting_calls.set_attendees_can_unmute(room_id, True)
        await eventually(lambda: bob.engine.meeting_calls.policy(room_id).attendees_can_unmute)
        await bob.engine.meeting_calls.set_muted(room_id, False)
        await until_hears(alice, 660)

        # "Mute" on one attendee: muted, and (unmuting allowed) free to speak again.
        await alice.engine.meeting_calls.mute_participant(room_id, bob.user_id)
        await until_silent(alice, 660)
        await eventually(lambda: seen(alice, room_id, bob.user_id).muted_by_presenter)
        await bob.engine.meeting_calls.set_muted(room_id, False)
        await until_hears(alice, 660)

        await alice.engine.meeting_calls.mute_all_attendees(room_id)
        await until_silent(alice, 660)
        assert not alice.engine.meeting_calls.muted(room_id)  # presenters are not attendees


async def test_a_crashed_device_drops_out_within_the_expiry(phones: Phones):
    alice, bob = await phones("Alice"), await phones("Bob")
    room_id = await meeting_of(alice, bob)
    await alice.engine.meeting_calls.join_audio(room_id)
    await bob.engine.meeting_calls.join_audio(room_id)
    await all_connected(room_id, alice, bob)
    # While alive, bob refreshes his membership: he is still in after its first expiry.
    client = alice.engine.session.client
    key = member_state_key(bob.user_id, bob.engine.session.client.device_id)

    async def bob_expires_at() -> int:
        state = await client.room_get_state_event(room_id, CALL_MEMBER, key)
        return state.content["created_ts"] + state.content["expires"]

    first_expiry = await bob_expires_at()
    await eventually(lambda: time.time() * 1000 > first_expiry + 500, 15)
    assert await bob_expires_at() > first_expiry
    assert in_call(alice, room_id) == {alice.user_id, bob.user_id}

    dropped = expect_event(
        alice.engine,
        lambda e: (
            isinstance(e, MeetingAudioChanged)
            and {p.user_id for p in e.participants} == {alice.user_id}
        ),
        30,
    )
    await crash(bob)
    await dropped
    assert in_call(alice, room_id) == {alice.user_id}


async def test_memberships_that_are_malformed_or_not_theirs_are_ignored(
    phones: Phones, plain_client
):
    alice = await phones("Alice")
    room_id = await meeting_of(alice)
    mallory = await plain_member(alice, room_id, plain_client, "Mallory")
    await alice.engine.meeting_calls.join_audio(room_id)

    malformed = expect_event(
        alice.engine,
        lambda e: isinstance(e, CallMemberIgnored) and "focus_active" in e.reason,
    )
    await mallory.room_put_state(
        room_id,
        CALL_MEMBER,
        {"application": "m.call", "call_id": "", "device_id": "EVIL", "expires": "soon"},
        state_key=member_state_key(mallory.user_id, "EVIL"),
    )
    await malformed
    not_theirs = expect_event(
        alice.engine,
        lambda e: isinstance(e, CallMemberIgnored) and "another user" in e.reason,
    )
    await mallory.room_put_state(
        room_id,
        CALL_MEMBER,
        membership_content("FAKE", "s1", int(time.time() * 1000), 60_000),
        state_key=member_state_key(alice.user_id, "FAKE"),
    )
    await not_theirs
    assert in_call(alice, room_id) == {alice.user_id}
    assert alice.engine.meeting_calls.in_audio(room_id)


async def test_a_member_who_left_the_room_is_not_counted(phones: Phones, plain_client):
    alice = await phones("Alice")
    room_id = await meeting_of(alice)
    mallory = await plain_member(alice, room_id, plain_client, "Mallory")
    now_ms = int(time.time() * 1000)
    await mallory.room_put_state(
        room_id,
        CALL_MEMBER,
        membership_content("GHOST", "s1", now_ms, 600_000),
        state_key=member_state_key(mallory.user_id, "GHOST"),
    )
    await eventually(lambda: mallory.user_id in in_call(alice, room_id))
    await mallory.room_leave(room_id)
    await eventually(lambda: mallory.user_id not in in_call(alice, room_id))


async def test_joining_beyond_the_mesh_limit_is_refused_plainly(phones: Phones, plain_client):
    alice = await phones("Alice")
    room_id = await meeting_of(alice)
    other = await plain_member(alice, room_id, plain_client, "Other")
    now_ms = int(time.time() * 1000)
    for device in ("ONE", "TWO"):  # one person on two devices: two links for a mesh
        await other.room_put_state(
            room_id,
            CALL_MEMBER,
            membership_content(device, device, now_ms, 600_000),
            state_key=member_state_key(other.user_id, device),
        )
    await eventually(lambda: len(alice.engine.meeting_calls.participants_in_audio(room_id)) == 2)
    alice.engine.meeting_calls.mesh_limit = 1
    with pytest.raises(MeshLimitReached) as refused:
        await alice.engine.meeting_calls.join_audio(room_id)
    assert "too many people" in refused.value.user_message
    assert refused.value.limit == 1  # the UI words the count from the error itself
    assert not alice.engine.meeting_calls.in_audio(room_id)
