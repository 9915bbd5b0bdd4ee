"""Two AudioPeers in one process, audio through the private PulseAudio server."""

from __future__ import annotations

from collections.abc import Callable

from tests.helpers.audio import TonePlayer
from tests.media.conftest import Person
from tests.media.sound import connect, until_hears, until_silent


async def test_each_side_hears_the_others_tone(make_person: Callable[..., Person]) -> None:
    alice, bob = make_person("alice"), make_person("bob")
    a, b = alice.factory.new_peer(), bob.factory.new_peer()
    server = alice.audio.server or ""
    with (
        TonePlayer(server, alice.devices.mic_sink, 440),
        TonePlayer(server, bob.devices.mic_sink, 660),
    ):
        await connect(a, b)
        await until_hears(bob, 440)
        await until_hears(alice, 660)
    await a.close()
    await b.close()
    assert a.state == b.state == "closed"
