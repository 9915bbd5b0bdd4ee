"""Fixtures for the audio tests: a private PulseAudio server, a MediaThread, participants."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass

import pytest

from engine.media.audio_peer import AudioPeerFactory
from engine.media.devices import AudioDevices
from engine.media.media_thread import MediaThread
from tests.helpers.pulse import Participant, PulseServer


@pytest.fixture
async def media_thread() -> AsyncIterator[MediaThread]:
    thread = MediaThread()
    yield thread
    assert thread.stop(5), "the media thread did not stop"


@dataclass
class Person:
    """A participant's virtual devices and the call media made with them."""

    devices: Participant
    audio: AudioDevices
    factory: AudioPeerFactory

    @property
    def server(self) -> str:
        return self.audio.server or ""


_numbers = itertools.count()


@pytest.fixture
def make_person(
    pulse_server: PulseServer, media_thread: MediaThread
) -> Iterator[Callable[..., Person]]:
    made: list[Person] = []

    def make(name: str, *, microphone: bool | str = True) -> Person:
        """``microphone``: True for the person's own virtual mic, False for none (the
        default, which may not exist), or the name of another source."""
        devices = pulse_server.participant(f"{name}{next(_numbers)}")
        mic = devices.mic if microphone is True else (microphone or None)
        audio = AudioDevices(mic, devices.speaker, server=pulse_server.server)
        person = Person(devices, audio, AudioPeerFactory(media_thread, audio))
        made.append(person)
        return person

    yield make
    for person in made:
        person.audio.close()
