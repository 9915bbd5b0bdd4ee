"""Network loss mid-call: the peer's process is killed (SIGKILL), nothing is said.

The peer is a real separate OS process (tests/helpers/peer_process.py) with its own
engine and virtual devices on the test session's sound server; it hangs up nothing,
leaves nothing and stops syncing the moment it dies. Its audio is a generated tone
played into its virtual microphone, checked by FFT before the kill.
"""

from __future__ import annotations

import pytest

from engine.calls.call_models import AvModalityState, CallEndReason
from engine.calls.meeting_call_events import MeetingAudioChanged
from tests.calls.conftest import TEST_EXPIRY_MS, Phones, meeting_of
from tests.helpers.audio import TonePlayer
from tests.helpers.engines import eventually, expect_event
from tests.helpers.sound import until_hears

pytestmark = pytest.mark.integration

#: Past the peer's membership expiry: sync delivering its last refresh, a watcher tick.
SLACK_S = 10


def in_call(phone, room_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {p.user_id for p in phone.engine.meeting_calls.participants_in_audio(room_id)}


async def test_a_killed_peer_drops_out_of_the_meeting_audio_within_its_expiry(
    phones: Phones, peer_processes
):
    alice = await phones("Alice")
    room_id = await meeting_of(alice)
    await alice.engine.meeting_calls.join_audio(room_id)
    dave = await peer_processes("Dave", room_id, expiry_ms=TEST_EXPIRY_MS)
    await dave.ready()
    await eventually(lambda: in_call(alice, room_id) == {alice.user_id, dave.user_id}, 30)
    with TonePlayer(dave.server, dave.devices.mic_sink, 550):
        await until_hears(alice, 550)  # his audio really flows before he dies

    left = expect_event(
        alice.engine,
        lambda e: (
            isinstance(e, MeetingAudioChanged)
            and e.room_id == room_id
            and e.in_audio
            and {p.user_id for p in e.participants} == {alice.user_id}
        ),
        TEST_EXPIRY_MS / 1000 + SLACK_S,
    )
    await dave.kill()
    await left  # the published event the roster's audio marks follow
    assert in_call(alice, room_id) == {alice.user_id}
    assert alice.engine.meeting_calls.in_audio(room_id)  # her audio goes on


async def test_a_two_party_call_ends_when_the_peer_process_is_killed(
    phones: Phones, peer_processes, make_user
):
    alice = await phones("Alice")
    dave_account = make_user("dave", displayname="Dave")
    room_id = await alice.engine.conversations.start_direct_conversation(dave_account.user_id)
    dave = await peer_processes("Dave", room_id, user=dave_account, mode="call")
    ringing = await alice.rings_for(60)
    await alice.calls.answer(ringing.call_id)
    await dave.ready()
    await alice.reaches(ringing.call_id, AvModalityState.CONNECTED)
    with TonePlayer(dave.server, dave.devices.mic_sink, 550):
        await until_hears(alice, 550)

    await dave.kill()
    ended = await alice.reaches(ringing.call_id, AvModalityState.DISCONNECTED, 60)
    assert ended.end_reason is CallEndReason.NETWORK_LOST
    assert AvModalityState.CONNECTED in alice.states(ringing.call_id)
