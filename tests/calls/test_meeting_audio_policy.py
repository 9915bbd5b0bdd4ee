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
from tests.helpers.audio import TonePlayer, heard
from tests.helpers.engines import eventually, expect_event
from tests.helpers.proxy import FaultyProxy
from tests.helpers.sound import listen, until_hears, until_silent

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


def row(phone: Phone, room_id: str, user_id: str):  # type: ignore[no-untyped-def]
    """``user_id``'s row in ``phone``'s roster of the meeting's audio."""
    rows = phone.engine.meeting_calls.participants_in_audio(room_id)
    return next(p for p in rows if p.user_id == user_id)


async def test_an_attendee_whose_client_ignores_the_policy_is_not_heard(
    phones: Phones, monkeypatch: pytest.MonkeyPatch
):
    """Bob (attendee) runs a client that never mutes itself for the presenters: his
    engine's self-enforcement is patched out, so his microphone stays open and his
    stream metadata keeps saying "not muted", as a MatrixRTC client that does not know
    ``org.confero.audio_policy`` would. Alice (leader) and Carol (presenter) enforce
    the policy in their own playback: they do not hear him while it keeps him muted,
    and hear him again once he may unmute and does. Carol is always heard."""
    alice, bob, carol = await phones("Alice"), await phones("Bob"), await phones("Carol")
    room_id = await meeting_of(alice, bob, carol)
    calls_a, calls_b = alice.engine.meeting_calls, bob.engine.meeting_calls

    async def ignore_the_policy(*args: object) -> None:
        return None

    monkeypatch.setattr(calls_b, "_enforce_locked", ignore_the_policy)
    await calls_a.join_audio(room_id)
    await alice.engine.conferences.set_role(room_id, bob.user_id, Role.ATTENDEE)
    for phone in (alice, bob, carol):
        await eventually(
            lambda ph=phone: any(
                p.user_id == bob.user_id and p.role is Role.ATTENDEE
                for p in ph.engine.conferences.participants(room_id)
            )
        )
    await calls_b.join_audio(room_id)
    await carol.engine.meeting_calls.join_audio(room_id)
    for phone in (alice, bob, carol):
        await eventually(
            lambda ph=phone: (
                len(parts := ph.engine.meeting_calls.participants_in_audio(room_id)) == 3
                and all(p.connected for p in parts)
            ),
            30,
        )
    listeners = (alice, carol)
    with (
        TonePlayer(alice.server, alice.devices.mic_sink, 440),
        TonePlayer(bob.server, bob.devices.mic_sink, 660),
        TonePlayer(carol.server, carol.devices.mic_sink, 880),
    ):
        for phone in listeners:
            await until_hears(phone, 660)

        # "Mute" on Bob: his client does not mute, the others do not play him.
        await calls_a.mute_participant(room_id, bob.user_id)
        for phone in listeners:
            await until_silent(phone, 660)
            await eventually(lambda ph=phone: row(ph, room_id, bob.user_id).muted_by_presenter)
            await eventually(lambda ph=phone: row(ph, room_id, bob.user_id).level == 0.0)
            assert not row(phone, room_id, bob.user_id).speaking
        assert not calls_b.muted(room_id)  # the rogue's microphone is still open
        await until_hears(alice, 880)  # a presenter is heard
        # Unmuting is allowed: he presses Unmute and is heard again.
        await calls_b.set_muted(room_id, False)
        for phone in listeners:
            await until_hears(phone, 660)
            await eventually(lambda ph=phone: not row(ph, room_id, bob.user_id).muted)

        # "Attendees can't unmute": not heard; presenters are.
        await calls_a.set_attendees_can_unmute(room_id, False)
        for phone in listeners:
            await until_silent(phone, 660)
            await eventually(lambda ph=phone: row(ph, room_id, bob.user_id).muted_by_presenter)
        await until_hears(alice, 880)
        await until_hears(bob, 440, 880)
        # Made a presenter, he is heard at once; an attendee again, not.
        await alice.engine.conferences.set_role(room_id, bob.user_id, Role.PRESENTER)
        for phone in listeners:
            await until_hears(phone, 660)
        await alice.engine.conferences.set_role(room_id, bob.user_id, Role.ATTENDEE)
        for phone in listeners:
            await until_silent(phone, 660)

        # Allowed again, but he has not unmuted since: still not played.
        await calls_a.set_attendees_can_unmute(room_id, True)
        await eventually(lambda: carol.engine.meeting_calls.can_unmute(room_id))
        await eventually(lambda: calls_b.can_unmute(room_id))
        for phone in listeners:
            assert phone.engine.meeting_calls.policy(room_id).attendees_can_unmute
            assert not heard(await listen(phone), 660)
            assert row(phone, room_id, bob.user_id).muted_by_presenter
        await calls_b.set_muted(room_id, False)
        for phone in listeners:
            await until_hears(phone, 660)
            await eventually(lambda ph=phone: not row(ph, room_id, bob.user_id).muted)

        # "Mute all attendees": Bob is not played, Carol (a presenter) is.
        await calls_a.mute_all_attendees(room_id)
        for phone in listeners:
            await until_silent(phone, 660)
        await until_hears(alice, 880)
