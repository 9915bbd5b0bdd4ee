"""Two AudioPeers in one process, audio through the private PulseAudio server.

Each person's microphone is fed a generated sine tone (tests/helpers/audio.py); what
their speaker plays is recorded from its monitor and checked by FFT.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.media.audio_peer import AudioPeer
from tests.helpers.audio import TonePlayer, heard
from tests.helpers.engines import eventually
from tests.helpers.sound import connect, listen, until_hears, until_silent
from tests.media.conftest import Person

People = Callable[..., Person]


def _server(person: Person) -> str:
    return person.audio.server or ""


async def _call(make_person: People) -> tuple[Person, Person, AudioPeer, AudioPeer]:
    alice, bob = make_person("alice"), make_person("bob")
    a, b = alice.factory.new_peer(), bob.factory.new_peer()
    await connect(a, b)
    return alice, bob, a, b


async def test_each_side_hears_the_others_tone(make_person: People) -> None:
    alice, bob, a, b = await _call(make_person)
    with (
        TonePlayer(_server(alice), alice.devices.mic_sink, 440),
        TonePlayer(_server(bob), bob.devices.mic_sink, 660),
    ):
        await until_hears(bob, 440)
        await until_hears(alice, 660)
        # Each speaker plays only the other side: no echo of one's own microphone.
        assert not heard(await listen(bob), 660)
        assert not heard(await listen(alice), 440)
        await eventually(lambda: b.remote_level.rms > 0.05)  # bob's "speaking" indicator
    await a.close()
    await b.close()
    assert a.state == b.state == "closed"


async def test_mute_sends_silence_and_unmute_brings_the_voice_back(make_person: People) -> None:
    alice, bob, a, b = await _call(make_person)
    with (
        TonePlayer(_server(alice), alice.devices.mic_sink, 440),
        TonePlayer(_server(bob), bob.devices.mic_sink, 660),
    ):
        await until_hears(bob, 440)
        await a.set_muted(True)
        await until_silent(bob, 440)
        await until_hears(alice, 660)  # the call goes on the other way
        assert a.state == "connected"
        await a.set_muted(False)
        await until_hears(bob, 440)
    await a.close()
    await b.close()


async def test_hold_and_resume_by_renegotiation(make_person: People) -> None:
    alice, bob, a, b = await _call(make_person)
    with (
        TonePlayer(_server(alice), alice.devices.mic_sink, 440),
        TonePlayer(_server(bob), bob.devices.mic_sink, 660),
    ):
        await until_hears(bob, 440)
        await until_hears(alice, 660)

        offer = await a.create_offer(on_hold=True)
        assert "a=sendonly" in offer
        answer = await b.accept_offer(offer)
        assert "a=recvonly" in answer
        await a.accept_answer(answer)
        assert b.remote_on_hold and not a.remote_on_hold
        await until_silent(bob, 440)
        await until_silent(alice, 660)
        assert a.state == b.state == "connected"

        answer = await b.accept_offer(await a.create_offer(on_hold=False))
        await a.accept_answer(answer)
        assert not b.remote_on_hold
        await until_hears(bob, 440)
        await until_hears(alice, 660)
    await a.close()
    await b.close()


async def test_the_answering_side_holds_and_resumes(make_person: People) -> None:
    """Renegotiation the other way round: the offers now come from the side that answered."""
    alice, bob, a, b = await _call(make_person)
    with TonePlayer(_server(alice), alice.devices.mic_sink, 440):
        await until_hears(bob, 440)
        await b.accept_answer(await a.accept_offer(await b.create_offer(on_hold=True)))
        assert a.remote_on_hold
        await until_silent(bob, 440)
        await b.accept_answer(await a.accept_offer(await b.create_offer(on_hold=False)))
        assert not a.remote_on_hold
        await until_hears(bob, 440)
    await a.close()
    await b.close()
