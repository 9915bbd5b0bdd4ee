"""Paste benchmark: prints figures, asserts nothing.

Against a real embedded Synapse (test profile, so rate limits do not pace the
sending), queues a 4 MB paste of mixed-width text in a direct conversation and
reports, per run:
- time to split the text,
- time for ``send_text`` to return (parts queued, saved, echoes shown),
- time until the server has confirmed every part,
- the longest UI-thread stall from queueing to the last confirmation (the engine
  runs on a qasync loop, as in the app; a 5 ms heartbeat timer).

Run: .venv/bin/python -m bench.paste [--runs N] [--megabytes M]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from bench.harness import embedded_server, run_on_qt_loop
from engine.engine import Engine
from engine.homeserver import EmbeddedHomeserver
from engine.matrix_events import split_body
from engine.models import MessageState
from tests.helpers.stalls import StallMeter


def make_text(megabytes: float) -> str:
    line = "Grüße aus Zürich, 世界! 😀 the quick brown fox " * 3 + "\n"
    return line * int(megabytes * 1_000_000 / len(line.encode("utf-8")))


async def one_run(server: EmbeddedHomeserver, data_dir: Path, text: str) -> dict[str, float]:
    accounts = []
    for prefix in ("alice", "bob"):
        localpart, password = f"{prefix}-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
        await server.register_user(localpart, password)
        accounts.append((localpart, password))
    alice = Engine(data_dir / "alice")
    await alice.session.login(server.base_url, *accounts[0], remember=False)
    await alice.session.start()
    try:
        room_id = await alice.conversations.start_direct_conversation(
            f"@{accounts[1][0]}:{server.server_name}"
        )
        started = time.perf_counter()
        parts = split_body(text)
        split_s = time.perf_counter() - started
        meter = StallMeter()
        meter.start()
        await asyncio.sleep(0.02)  # the meter is ticking before the paste
        started = time.perf_counter()
        await alice.conversations.send_text(room_id, text)
        queued_s = time.perf_counter() - started
        while not (
            len(
                mine := [
                    m
                    for m in alice.conversations.messages(room_id)
                    if m.sender == alice.session.user_id
                ]
            )
            >= len(parts)
            and all(m.state is MessageState.SENT for m in mine)
        ):
            await asyncio.sleep(0.05)
        confirmed_s = time.perf_counter() - started
        meter.stop()
        return {
            "parts": len(parts),
            "split_ms": split_s * 1000,
            "queue_ms": queued_s * 1000,
            "confirmed_s": confirmed_s,
            "stall_ms": meter.longest * 1000,
        }
    finally:
        await alice.session.close()


async def bench(runs: int, text: str) -> None:
    with tempfile.TemporaryDirectory(prefix="confero-bench-") as tmp:
        async with embedded_server(Path(tmp) / "homeserver") as server:
            results = [await one_run(server, Path(tmp) / f"run{i}", text) for i in range(runs)]
    for i, r in enumerate(results, 1):
        print(
            f"run {i}: {r['parts']:.0f} parts; split {r['split_ms']:.1f} ms; "
            f"send_text returned in {r['queue_ms']:.1f} ms; all confirmed in "
            f"{r['confirmed_s']:.1f} s; longest UI-thread stall {r['stall_ms']:.1f} ms"
        )
    for key, label in (("queue_ms", "queue (ms)"), ("stall_ms", "longest stall (ms)")):
        print(f"median {label}: {statistics.median(r[key] for r in results):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--megabytes", type=float, default=4.0)
    args = parser.parse_args()
    text = make_text(args.megabytes)
    print(f"paste: {len(text.encode('utf-8')) / 1e6:.1f} MB, {len(text):,} characters")
    run_on_qt_loop(bench(args.runs, text))


if __name__ == "__main__":
    main()
