"""MediaThread: results come back on the caller's loop; stop is bounded."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from engine.media.audio_peer import AudioPeerFactory
from engine.media.errors import MediaThreadStopped
from engine.media.media_thread import MediaThread
from tests.helpers.engines import eventually
from tests.helpers.sound import connect
from tests.media.conftest import Person


async def test_run_returns_on_the_callers_loop_and_call_soon_runs_there(
    media_thread: MediaThread,
) -> None:
    async def where() -> str:
        await asyncio.sleep(0)
        return threading.current_thread().name

    assert await media_thread.run(where()) == "confero-media"
    seen: list[bool] = []
    media_thread.call_soon(lambda: seen.append(media_thread.in_thread()))
    await eventually(lambda: seen == [True])

    async def fail() -> None:
        raise KeyError("from the media loop")

    with pytest.raises(KeyError):
        await media_thread.run(fail())


async def test_cancelling_the_caller_cancels_the_work(media_thread: MediaThread) -> None:
    started, cancelled = threading.Event(), threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    task = asyncio.ensure_future(media_thread.run(forever()))
    await eventually(started.is_set)
    task.cancel()
    await eventually(cancelled.is_set)


async def test_stop_while_a_peer_runs_ends_the_thread(
    make_person: Callable[..., Person],
) -> None:
    alice, bob = make_person("alice"), make_person("bob")
    own = MediaThread(name="confero-media-stop-test")
    a = AudioPeerFactory(own, alice.audio).new_peer()
    b = bob.factory.new_peer()
    await connect(a, b)

    async def stuck() -> None:
        await asyncio.sleep(3600)  # a task that never ends on its own

    own.submit(stuck())
    ended = await asyncio.to_thread(own.stop, 3.0)
    assert ended and not own.is_alive()
    assert own.stop(1.0)  # twice is fine
    with pytest.raises(MediaThreadStopped):
        await own.run(asyncio.sleep(0))
    await a.close()  # after the thread: no hang, no error
    await eventually(lambda: b.state in ("failed", "closed", "disconnected"), timeout=60)
    await b.close()
