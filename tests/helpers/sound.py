"""Waiting on what a participant hears (each wait records short windows).

A "hearer" is anything with ``devices`` (its virtual devices, tests/helpers/pulse.py)
and ``server`` (the sound server's address): a media test's Person, a call test's Phone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

import numpy as np

from engine.media.audio_peer import AudioPeer
from tests.helpers.audio import describe, heard, record
from tests.helpers.engines import eventually
from tests.helpers.pulse import Participant

WINDOW_MS = 400


class Hearer(Protocol):
    @property
    def devices(self) -> Participant: ...

    @property
    def server(self) -> str: ...


async def listen(person: Hearer) -> np.ndarray:
    return await asyncio.to_thread(record, person.server, person.devices.speaker_monitor, WINDOW_MS)


async def until_hears(person: Hearer, *frequencies: float, timeout: float = 15.0) -> None:
    await _until(person, frequencies, heard, "hear", timeout)


async def until_silent(person: Hearer, *frequencies: float, timeout: float = 15.0) -> None:
    await _until(person, frequencies, lambda s, f: not heard(s, f), "stop hearing", timeout)


async def _until(
    person: Hearer,
    frequencies: tuple[float, ...],
    check: Callable[[np.ndarray, float], bool],
    verb: str,
    timeout: float,
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        samples = await listen(person)
        if all(check(samples, f) for f in frequencies):
            return
        if loop.time() > deadline:
            raise AssertionError(
                f"{person.devices.name} did not {verb} {frequencies} within {timeout:.0f} s "
                f"({describe(samples, list(frequencies))})"
            )


async def connect(offerer: AudioPeer, answerer: AudioPeer) -> None:
    answer = await answerer.accept_offer(await offerer.create_offer())
    await offerer.accept_answer(answer)
    await eventually(lambda: offerer.state == answerer.state == "connected")
