"""The presenters' audio controls as the engine tells them: whether I may unmute, an
event when the policy changes, and an unmute right after it is allowed again.

Real engines on the real Synapse, real media on virtual devices; a generated tone in
Bob's virtual microphone, heard (FFT) at Alice's speaker.
"""

from __future__ import annotations

import pytest

from engine.calls.meeting_call_events import AudioPolicyChanged
from engine.conference_models import Role
from tests.calls.conftest import Phone, Phones, meeting_of
from tests.helpers.audio import TonePlayer
from tests.helpers.engines import eventually, expect_event
from tests.helpers.proxy import FaultyProxy
from tests.helpers.sound import until_hears, until_silent

pytestmark = pytest.mark.integration


async def attendee_in_audio(alice: Phone, bob: Phone) -> str:
    """Alice (leader) and Bob (attendee) both in a meeting's audio, linked."""
    room_id = await meeting_of(alice, bob)
    await alice.engine.meeting_calls.join_audio(room_id)
    await alice.engine.conferences.set_role(room_id, bob.user_id, Role.ATTENDEE)
    await eventually(
        lambda: any(
            p.is_you and p.role is Role.ATTENDEE
            for p in bob.engine.conferences.participants(room_id)
        )
    )
    await bob.engine.meeting_calls.join_audio(room_id)
    for phone in (alice, bob):
        await eventually(
            lambda ph=phone: (
                len(parts := ph.engine.meeting_calls.participants_in_audio(room_id)) == 2
                and all(p.connected for p in parts)
            ),
            30,
        )
    return room_id


def policy_event(phone: Phone, room_id: str, can_unmute: bool):  # type: ignore[no-untyped-def]
    return expect_event(
        phone.engine,
        lambda e: (
            isinstance(e, AudioPolicyChanged)
            and e.room_id == room_id
            and e.policy.attendees_can_unmute is can_unmute
        ),
    )


async def test_the_engine_says_who_can_unmute_and_publishes_policy_changes(phones: Phones):
    alice, bob = await phones("Alice"), await phones("Bob")
    room_id = await attendee_in_audio(alice, bob)
    calls_a, calls_b = alice.engine.meeting_calls, bob.engine.meeting_calls
    assert calls_a.can_unmute(room_id) and calls_b.can_unmute(room_id)

    seen_by_bob = policy_event(bob, room_id, False)
    seen_by_alice = policy_event(alice, room_id, False)
    await calls_a.set_attendees_can_unmute(room_id, False)
    await seen_by_alice  # the presenter's own change, without waiting for its echo
    await seen_by_bob
    assert not calls_b.can_unmute(room_id)
    assert calls_a.can_unmute(room_id)  # presenters are not attendees

    allowed = policy_event(bob, room_id, True)
    await calls_a.set_attendees_can_unmute(room_id, True)
    await allowed
    assert calls_b.can_unmute(room_id)


async def test_an_unmute_right_after_unmuting_is_allowed_again_is_not_lost(phones: Phones, synapse):
    proxy = FaultyProxy(synapse.base_url)
    await proxy.start()
    try:
        alice, bob = await phones("Alice"), await phones("Bob", via=proxy)
        room_id = await attendee_in_audio(alice, bob)
        with TonePlayer(bob.server, bob.devices.mic_sink, 660):
            await until_hears(alice, 660)
            await alice.engine.meeting_calls.set_attendees_can_unmute(room_id, False)
            await until_silent(alice, 660)
            await eventually(lambda: not bob.engine.meeting_calls.can_unmute(room_id))

            # The presenter allows unmuting; Bob's sync has not brought the news yet
            # when he unmutes (say the presenter told him so by voice).
            proxy.hold_sync()
            await alice.engine.meeting_calls.set_attendees_can_unmute(room_id, True)
            await bob.engine.meeting_calls.set_muted(room_id, False)
            proxy.release_sync()
            await until_hears(alice, 660)
            assert not bob.engine.meeting_calls.muted(room_id)
            assert bob.engine.meeting_calls.can_unmute(room_id)
    finally:
        await proxy.close()
