"""A participant in a separate OS process, for tests that kill it (network loss).

Run as ``python -m tests.helpers.peer_process DATA_DIR ROOM_ID MIC SPEAKER EXPIRY_MS``
with ``CONFERO_PEER_URL``, ``CONFERO_PEER_USER`` and ``CONFERO_PEER_PASSWORD`` in its
environment (not argv: other processes can read a command line). It signs a real
Engine in, joins the meeting and its audio with the given virtual devices of the test
session's sound server (PULSE_SERVER is inherited), and prints ``READY`` once its
audio link with every other device in the call is up. Then it waits to be killed.
``call`` instead of the meeting: places a two-party call in ROOM_ID (a conversation)
and prints ``READY`` once that call is Connected.

It prints nothing else on stdout, and never the password.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from engine.calls.call_models import AvModalityState
from engine.engine import Engine


async def _until(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("not ready in time")
        await asyncio.sleep(0.05)


async def _join_meeting_audio(engine: Engine, room_id: str) -> None:
    await engine.conferences.join(room_id)
    await engine.meeting_calls.join_audio(room_id)

    def linked() -> bool:
        others = [p for p in engine.meeting_calls.participants_in_audio(room_id) if not p.is_you]
        return bool(others) and all(p.connected for p in others)

    await _until(linked)


async def _place_call(engine: Engine, room_id: str) -> None:
    client = engine.session.require_client()
    await _until(lambda: room_id in client.rooms)
    call = await engine.calls.place_call(room_id)

    def connected() -> bool:
        current = engine.calls.call(call.call_id)
        return current is not None and current.state is AvModalityState.CONNECTED

    await _until(connected)


async def main(argv: list[str]) -> None:
    data_dir, room_id, mic, speaker, expiry_ms = argv[:5]
    mode = argv[5] if len(argv) > 5 else "meeting"
    engine = Engine(Path(data_dir))
    await engine.session.login(
        os.environ["CONFERO_PEER_URL"],
        os.environ["CONFERO_PEER_USER"],
        os.environ["CONFERO_PEER_PASSWORD"],
        remember=False,
    )
    await engine.session.start()
    engine.media.choose_devices(mic, speaker)
    engine.meeting_calls.expiry_ms = int(expiry_ms)
    if mode == "call":
        await _place_call(engine, room_id)
    else:
        await _join_meeting_audio(engine, room_id)
    print("READY", flush=True)
    await asyncio.Event().wait()  # until SIGKILL: no farewell, no hangup, nothing sent


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
