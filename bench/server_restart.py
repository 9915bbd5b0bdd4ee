"""Server restart benchmark: the embedded server killed under the running app. Prints figures only.

Runs the real app controller (offscreen, on a qasync loop) in local mode on a
fresh data folder, signs in, then several times: SIGKILLs the embedded Synapse,
queues messages at once (as a person typing on), and waits until the restarted
server has them all. Reports:
- seconds from the server's death to the outbox flushed on the restarted server
  (median, min and max over the runs),
- the longest UI-thread stall during the restarts (a 5 ms heartbeat timer;
  target: never over 50 ms).

The supervisor runs with its production timings, except that each run counts as
a first death (no growing backoff across runs).

Run: .venv/bin/python -m bench.server_restart [--runs N] [--messages N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import tempfile
import time
from pathlib import Path

from bench.file_keyring import PATH_ENV, FileKeyring
from bench.harness import run_on_qt_loop, wait_until
from engine.credentials import CredentialStore
from engine.homeserver import HomeserverProfile
from engine.homeserver_supervisor import SupervisorTiming
from engine.models import MessageState
from tests.helpers.stalls import StallMeter
from ui.controller import AppController


async def run(runs: int, messages: int) -> None:
    with tempfile.TemporaryDirectory(prefix="confero-bench-") as tmp:
        os.environ[PATH_ENV] = str(Path(tmp) / "keyring.json")
        controller = AppController(
            Path(tmp) / "data",
            local=True,
            homeserver_profile=HomeserverProfile.DESKTOP,
            credentials=CredentialStore(backend=FileKeyring()),
            supervisor_timing=SupervisorTiming(stable_after_s=0.0),
        )
        try:
            await controller.start()
            controller.welcome.local_account_requested.emit("Bench", "bench", "bench-pw-1", False)
            await wait_until(lambda: controller.main_window is not None)
            engine, server = controller.engine, controller.homeserver
            assert engine is not None and server is not None
            room_id = await engine.conferences.meet_now("Restart bench")

            def flushed() -> bool:
                return all(
                    m.state is MessageState.SENT for m in engine.conversations.messages(room_id)
                )

            meter = StallMeter()
            durations: list[float] = []
            stalls: list[float] = []
            for i in range(runs):
                await wait_until(lambda: controller.main_window.server_banner.isHidden())
                await asyncio.sleep(1.0)  # settle: the meter measures the restart only
                pid = server.pid
                assert pid is not None
                meter.start()
                started = time.perf_counter()
                os.kill(pid, signal.SIGKILL)
                for n in range(messages):
                    await engine.conversations.send_text(room_id, f"run {i} message {n}")
                await wait_until(flushed)
                durations.append(time.perf_counter() - started)
                await wait_until(lambda: controller.main_window.server_banner.isHidden())
                stalls.append(meter.stop())
                print(
                    f"  run {i + 1}: flushed after {durations[-1]:.2f} s, "
                    f"longest UI stall {stalls[-1] * 1000:.1f} ms"
                )
            print(f"server killed (SIGKILL) → {messages} queued messages on the restarted server:")
            print(
                f"  median {statistics.median(durations):.2f} s "
                f"(min {min(durations):.2f} s, max {max(durations):.2f} s, {runs} runs)"
            )
            print(f"  longest UI-thread stall during a restart: {max(stalls) * 1000:.1f} ms")
            print("  target: under 50 ms")
        finally:
            await controller.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--messages", type=int, default=5)
    args = parser.parse_args()
    run_on_qt_loop(run(args.runs, args.messages))


if __name__ == "__main__":
    main()
