"""Waiting on what a participant hears (each wait records short windows)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np

from engine.media.audio_peer import AudioPeer
from tests.helpers.audio import describe, heard, record
from tests.helpers.engines import eventually
from tests.media.conftest import Person

WINDOW_MS = 400


async def listen(person: Person) -> np.ndarray:
    return await asyncio.to_thread(
        record, person.audio.server or "", person.devices.speaker_monitor, WINDOW_MS
    )


async def until_hears(person: Person, *frequencies: float, timeout: float = 15.0) -> None:
    await _until(person, frequencies, heard, "hear", timeout)


async def until_silent(person: Person, *frequencies: float, timeout: float = 15.0) -> None:
    await _until(person, frequencies, lambda s, f: not heard(s, f), "stop hearing", timeout)


async def _until(
    person: Person,
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
