"""Start-up benchmark: prints figures, asserts nothing.

For each run, starts the real ``confero --local`` in a fresh process on a
prepared data directory (an embedded server with one account whose sign-in is
remembered) and reports:
- seconds from process start to the first window shown,
- seconds from process start to signed in and synced (includes starting Synapse),
- resident memory of the app process at idle after sign-in (Synapse excluded).

Run: .venv/bin/python -m bench.startup [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench.file_keyring import PATH_ENV, FileKeyring
from engine.credentials import CredentialStore
from engine.engine import Engine
from engine.homeserver import EmbeddedHomeserver
from engine.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
IDLE_SECONDS = 3.0


def prepare(data_dir: Path, keyring_path: Path) -> None:
    """An embedded server with one account whose sign-in the keyring remembers."""
    os.environ[PATH_ENV] = str(keyring_path)
    server = EmbeddedHomeserver(data_dir / "homeserver")
    server.start_blocking()
    try:
        password = secrets.token_urlsafe(16)
        server.register_user_blocking("bench", password, displayname="Bench User")

        async def sign_in() -> None:
            engine = Engine(data_dir, CredentialStore(backend=FileKeyring()))
            await engine.session.login(
                server.base_url, "bench", password, remember=True, slot="local"
            )
            await engine.session.close()

        asyncio.run(sign_in())
        settings = Settings.load(data_dir)
        settings.last_mode = "local"
        settings.save(data_dir)
    finally:
        server.stop_blocking()


def run_once(data_dir: Path, keyring_path: Path) -> dict[str, float]:
    env = dict(os.environ)
    env.update(
        CONFERO_BENCH="1",
        QT_QPA_PLATFORM=env.get("QT_QPA_PLATFORM", "offscreen"),
        PYTHON_KEYRING_BACKEND="bench.file_keyring.FileKeyring",
        PYTHONPATH=str(ROOT),
    )
    env[PATH_ENV] = str(keyring_path)
    confero = Path(sys.executable).with_name("confero")
    process = subprocess.Popen(
        [str(confero), "--local", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    figures: dict[str, float] = {}
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 120
        for line in process.stdout:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "BENCH":
                figures[parts[1]] = float(parts[2])
            if "signed_in_synced" in figures or time.monotonic() > deadline:
                break
        time.sleep(IDLE_SECONDS)
        figures["rss_mb"] = psutil.Process(process.pid).memory_info().rss / 2**20
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="confero-bench-") as tmp:
        data_dir, keyring_path = Path(tmp) / "data", Path(tmp) / "keyring.json"
        prepare(data_dir, keyring_path)
        runs = [run_once(data_dir, keyring_path) for _ in range(args.runs)]
    labels = {
        "first_window_shown": ("first window shown", "s"),
        "signed_in_synced": ("signed in and synced (incl. starting Synapse)", "s"),
        "rss_mb": (f"resident memory at idle ({IDLE_SECONDS:.0f} s after sync)", "MB"),
    }
    print(f"Confero start-up, {args.runs} runs, {os.cpu_count()} cores")
    for key, (label, unit) in labels.items():
        values = [r[key] for r in runs if key in r]
        if not values:
            print(f"  {label}: no figure (see the app's output)")
            continue
        print(
            f"  {label}: min {min(values):.3f} {unit}, "
            f"median {statistics.median(values):.3f} {unit}"
        )


if __name__ == "__main__":
    main()
