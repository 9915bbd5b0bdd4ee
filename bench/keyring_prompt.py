"""Keyring prompt benchmark: the UI thread while the system keyring takes its time.

A remembered sign-in is restored at start-up while the keyring blocks, as a
locked GNOME keyring does while its unlock prompt is on screen; the keyring
answers after PROMPT_S seconds. Prints, over several runs (the real welcome
window and controller, offscreen, against a private embedded server):
- the longest UI-thread stall while the keyring is asked (a 5 ms heartbeat timer),
- when "Waiting for the system password store…" appeared,
- the time from the keyring's answer to the main window, and the longest
  stall over the whole restore (first sync and building the main window included).
Target: the stall during the prompt stays under 50 ms. Prints figures; asserts nothing.

Run: .venv/bin/python -m bench.keyring_prompt [--runs N] [--prompt SECONDS]
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
from engine.credentials import CredentialStore
from engine.engine import Engine  # imported up front: its import is not the prompt's stall
from engine.homeserver import EmbeddedHomeserver
from engine.settings import Settings
from tests.helpers.keyrings import BlockingKeyring, MemoryKeyring
from tests.helpers.stalls import StallMeter
from ui.controller import KEYRING_WAITING, AppController

PROMPT_S = 2.0


async def remember_sign_in(server: EmbeddedHomeserver, data_dir: Path) -> MemoryKeyring:
    password = secrets.token_urlsafe(16)
    await server.register_user("bench", password, displayname="Bench User")
    keyring = MemoryKeyring()
    engine = Engine(data_dir, CredentialStore(backend=keyring))
    await engine.session.login(server.base_url, "bench", password, remember=True)
    await engine.session.close()
    settings = Settings(last_mode="remote", last_address=server.base_url, last_user="bench")
    settings.save(data_dir)
    return keyring


async def one_run(data_dir: Path, remembered: MemoryKeyring, prompt_s: float) -> dict[str, float]:
    backend = BlockingKeyring()
    backend.entries.update(remembered.entries)
    controller = AppController(data_dir, credentials=CredentialStore(backend=backend))
    meter = StallMeter()
    figures: dict[str, float] = {}
    began = time.perf_counter()
    meter.start()
    controller.show_first_window()
    startup = asyncio.ensure_future(controller.start())
    try:
        while not backend.asked.is_set() or controller.welcome.banner.text() != KEYRING_WAITING:
            await asyncio.sleep(0.005)
        figures["notice_after"] = time.perf_counter() - began
        while time.perf_counter() - began < prompt_s:
            await asyncio.sleep(0.005)
        figures["prompt_stall"] = meter.longest
        backend.release()
        answered = time.perf_counter()
        while controller.main_window is None or not controller.main_window.isVisible():
            await asyncio.sleep(0.005)
        figures["to_main_window"] = time.perf_counter() - answered
        figures["restore_stall"] = meter.stop()
        await startup
    finally:
        backend.close()
        await controller.shutdown()
        controller.welcome.deleteLater()
    return figures


async def bench(runs: int, prompt_s: float) -> None:
    with tempfile.TemporaryDirectory(prefix="confero-bench-keyring-") as tmp:
        root = Path(tmp)
        async with embedded_server(root / "server") as server:
            remembered = await remember_sign_in(server, root / "app")
            results = [await one_run(root / "app", remembered, prompt_s) for _ in range(runs)]

    def line(label: str, key: str, scale: float, unit: str) -> None:
        values = [r[key] * scale for r in results]
        print(
            f"  {label}: median {statistics.median(values):.1f} {unit}, "
            f"worst {max(values):.1f} {unit}"
        )

    print(f"Keyring prompt of {prompt_s:.1f} s while restoring the sign-in, {runs} runs:")
    line("longest UI-thread stall during the prompt", "prompt_stall", 1000, "ms")
    line("'Waiting for the system password store…' shown after", "notice_after", 1000, "ms")
    line("keyring answer to main window", "to_main_window", 1000, "ms")
    line("longest UI-thread stall over the whole restore", "restore_stall", 1000, "ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--prompt", type=float, default=PROMPT_S, help="seconds the keyring blocks")
    args = parser.parse_args()
    run_on_qt_loop(bench(args.runs, args.prompt))


if __name__ == "__main__":
    main()
