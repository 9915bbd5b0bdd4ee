"""A three-person mesh in one process: each peer pair has its own connection, and each
person's mixer plays the other two on their speaker."""

from __future__ import annotations

from collections.abc import Callable

from tests.helpers.audio import TonePlayer, heard
from tests.helpers.sound import connect, listen, until_hears, until_silent
from tests.media.conftest import Person

TONES = {"alice": 440.0, "bob": 660.0, "carol": 880.0}


async def test_everyone_hears_the_other_two_and_a_mute_silences_one(
    make_person: Callable[..., Person],
) -> None:
    people = {name: make_person(name) for name in TONES}
    peers = []
    for first, second in (("alice", "bob"), ("alice", "carol"), ("bob", "carol")):
        one, other = people[first].factory.new_peer(), people[second].factory.new_peer()
        await connect(one, other)
        peers.append((first, one))
        peers.append((second, other))
    server = people["alice"].audio.server or ""
    players = [TonePlayer(server, people[n].devices.mic_sink, f).start() for n, f in TONES.items()]
    try:
        for name, person in people.items():
            others = [f for n, f in TONES.items() if n != name]
            await until_hears(person, *others)
            assert not heard(await listen(person), TONES[name])

        for name, peer in peers:
            if name == "alice":
                await peer.set_muted(True)
        await until_silent(people["bob"], TONES["alice"])
        await until_silent(people["carol"], TONES["alice"])
        await until_hears(people["bob"], TONES["carol"])
        await until_hears(people["alice"], TONES["bob"], TONES["carol"])
    finally:
        for player in players:
            player.stop()
        for _, peer in peers:
            await peer.close()
