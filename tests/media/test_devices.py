"""Devices on the private PulseAudio server: listing, level meter, no microphone,
and a microphone or a speaker unplugged mid-call."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

import pytest

from engine.media.audio_peer import AudioPeerFactory
from engine.media.devices import AudioDevices
from engine.media.errors import NoMicrophone
from engine.media.media_thread import MediaThread
from tests.helpers.audio import TonePlayer, describe, heard, record
from tests.helpers.engines import eventually
from tests.helpers.pulse import PulseServer
from tests.helpers.sound import WINDOW_MS, connect, until_hears, until_silent
from tests.media.conftest import Person

People = Callable[..., Person]
_numbers = itertools.count()


async def test_lists_microphones_without_monitors_and_speakers(
    pulse_server: PulseServer, make_person: People
) -> None:
    alice = make_person("alice")
    n = next(_numbers)
    feed = pulse_server.add_sink(f"headsetfeed{n}")
    mic = pulse_server.add_microphone(f"headset{n}", f"{feed}.monitor")
    try:
        inputs = {d.name: d for d in alice.audio.list_inputs()}
        outputs = {d.name: d for d in alice.audio.list_outputs()}
        assert mic in inputs and inputs[mic].description
        assert not any(name.endswith(".monitor") for name in inputs)
        assert alice.devices.speaker in outputs
        assert sum(d.is_default for d in outputs.values()) == 1
    finally:
        pulse_server.remove(mic)


async def test_level_meter_follows_the_microphone(make_person: People) -> None:
    alice = make_person("alice")
    capture = alice.audio.capture()
    with TonePlayer(alice.audio.server or "", alice.devices.mic_sink, 440, amplitude=0.5):
        await eventually(lambda: capture.level.peak > 0.3 and capture.level.rms > 0.2)
    await eventually(lambda: capture.level.peak < 0.01)


async def test_no_microphone_is_reported_and_the_call_is_receive_only(
    make_person: People,
) -> None:
    # The private server has no microphone at all, only monitors of outputs.
    alice, dora = make_person("alice"), make_person("dora", microphone=False)
    with pytest.raises(NoMicrophone) as raised:
        dora.audio.check_microphone()
    assert "microphone" in raised.value.user_message

    a, d = alice.factory.new_peer(), dora.factory.new_peer()
    await connect(d, a)
    await eventually(lambda: isinstance(d.microphone_problem, NoMicrophone))
    with TonePlayer(alice.audio.server or "", alice.devices.mic_sink, 440):
        await until_hears(dora, 440)
    await until_silent(alice, 440, 660)  # nothing comes from dora
    await a.close()
    await d.close()


async def test_an_unplugged_microphone_falls_back_to_the_default_and_back(
    pulse_server: PulseServer, make_person: People
) -> None:
    n = next(_numbers)
    usb_feed = pulse_server.add_sink(f"usbfeed{n}")
    built_in_feed = pulse_server.add_sink(f"builtinfeed{n}")
    built_in = pulse_server.add_microphone(f"builtin{n}", f"{built_in_feed}.monitor")
    pulse_server.set_default_source(built_in)
    usb = pulse_server.add_microphone(f"usb{n}", f"{usb_feed}.monitor")
    try:
        alice, bob = make_person("alice", microphone=usb), make_person("bob")
        a, b = alice.factory.new_peer(), bob.factory.new_peer()
        await connect(a, b)
        server = pulse_server.server
        with TonePlayer(server, usb_feed, 440), TonePlayer(server, built_in_feed, 550):
            await until_hears(bob, 440)
            await until_silent(bob, 550)

            pulse_server.remove(usb)  # unplugged mid-call
            await until_hears(bob, 550)
            assert a.state == b.state == "connected"

            pulse_server.add_microphone(usb, f"{usb_feed}.monitor")  # plugged back in
            await until_hears(bob, 440)
            await until_silent(bob, 550)
        await a.close()
        await b.close()
    finally:
        pulse_server.remove(usb)
        pulse_server.remove(built_in)


async def test_an_unplugged_speaker_falls_back_to_the_default_and_back(
    pulse_server: PulseServer, make_person: People, media_thread: MediaThread
) -> None:
    n = next(_numbers)
    built_in = pulse_server.add_sink(f"builtinspk{n}")
    pulse_server.set_default_sink(built_in)
    headset = pulse_server.add_sink(f"headsetspk{n}")
    server = pulse_server.server
    alice = make_person("alice")
    bob_devices = pulse_server.participant(f"bob{n}")
    bob_audio = AudioDevices(bob_devices.mic, headset, server=server)
    try:
        a = alice.factory.new_peer()
        b = AudioPeerFactory(media_thread, bob_audio).new_peer()
        await connect(a, b)
        with TonePlayer(server, alice.devices.mic_sink, 440):
            await until_plays(server, headset, 440)
            await until_plays(server, built_in, 440, silent=True)

            pulse_server.remove(headset)  # unplugged mid-call
            await until_plays(server, built_in, 440)
            assert a.state == b.state == "connected"

            pulse_server.add_sink(headset)  # plugged back in
            await until_plays(server, headset, 440)
            await until_plays(server, built_in, 440, silent=True)
            assert a.state == b.state == "connected"
        await a.close()
        await b.close()
    finally:
        bob_audio.close()
        pulse_server.remove(headset)
        pulse_server.remove(built_in)


async def until_plays(
    server: str, sink: str, frequency: float, *, silent: bool = False, timeout: float = 15.0
) -> None:
    """Until ``sink`` plays ``frequency`` (or, ``silent``, no longer does)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        samples = await asyncio.to_thread(record, server, f"{sink}.monitor", WINDOW_MS)
        if heard(samples, frequency) != silent:
            return
        if loop.time() > deadline:
            verb = "stop playing" if silent else "play"
            raise AssertionError(
                f"{sink} did not {verb} {frequency:.0f} Hz within {timeout:.0f} s "
                f"({describe(samples, [frequency])})"
            )
