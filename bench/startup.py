"""Start-up benchmark: prints figures, asserts nothing.

For each run, starts the real ``confero --local`` in a fresh process on a
prepared data directory (an embedded server with one account whose sign-in is
remembered) and reports:
- seconds from process start to the first window shown,
- seconds from process start to signed in and synced (includes starting Synapse),
- resident memory of the app process at idle after sign-in (Synapse excluded).

With a frozen bundle (packaging/bundle/build-bundle.sh; ``--bundle PATH``, by
default dist/confero/confero when it exists) it also starts the bundle the same
way and prints its installed size and time to the first window next to the
source figures. The bundle carries no test keyring, so its runs stop at the
first window (the sign-in figures are the source's only).

Run: .venv/bin/python -m bench.startup [--runs N] [--bundle PATH | --no-bundle]
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
DEFAULT_BUNDLE = ROOT / "dist" / "confero" / "confero"


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


def run_once(data_dir: Path, keyring_path: Path, bundle: Path | None = None) -> dict[str, float]:
    """One start from source, or of the frozen ``bundle`` (until its first window)."""
    env = dict(os.environ)
    env.update(CONFERO_BENCH="1", QT_QPA_PLATFORM=env.get("QT_QPA_PLATFORM", "offscreen"))
    if bundle is None:
        env.update(PYTHON_KEYRING_BACKEND="bench.file_keyring.FileKeyring", PYTHONPATH=str(ROOT))
        confero = Path(sys.executable).with_name("confero")
        last = "signed_in_synced"
    else:
        env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
        confero, last = bundle, "first_window_shown"
    env[PATH_ENV] = str(keyring_path)
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
            if last in figures or time.monotonic() > deadline:
                break
        if bundle is None:
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
    parser.add_argument("--bundle", type=Path, help="the frozen bundle's executable")
    parser.add_argument("--no-bundle", action="store_true", help="measure the source only")
    args = parser.parse_args()
    bundle: Path | None = args.bundle
    if bundle is None and not args.no_bundle and DEFAULT_BUNDLE.exists():
        bundle = DEFAULT_BUNDLE
    with tempfile.TemporaryDirectory(prefix="confero-bench-") as tmp:
        data_dir, keyring_path = Path(tmp) / "data", Path(tmp) / "keyring.json"
        prepare(data_dir, keyring_path)
        runs, bundle_runs = [], []
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            runs.append(run_once(data_dir, keyring_path))
            if bundle is not None:
                bundle_runs.append(run_once(data_dir, keyring_path, bundle))
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
    if bundle is not None:
        print_bundle_figures(bundle, runs, bundle_runs)


def _files_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())


def print_bundle_figures(
    bundle: Path, runs: list[dict[str, float]], bundle_runs: list[dict[str, float]]
) -> None:
    folder = bundle.resolve().parent
    size = _files_size(folder)
    venv = _files_size(Path(sys.prefix))
    print(f"Source install {sys.prefix} (the virtual environment, test tools included)")
    print(f"  installed size: {venv / 2**20:.0f} MiB ({venv / 1e6:.0f} MB)")
    print(f"Frozen bundle {folder} (what the .deb installs in /opt/confero)")
    print(f"  installed size: {size / 2**20:.0f} MiB ({size / 1e6:.0f} MB)")
    for image in sorted(folder.parent.glob("*.AppImage")):
        print(f"  {image.name}: {image.stat().st_size / 1e6:.0f} MB, one file")
    key = "first_window_shown"
    source = [r[key] for r in runs if key in r]
    frozen = [r[key] for r in bundle_runs if key in r]
    if not frozen:
        print("  first window shown: no figure (run the bundle by hand to see why)")
        return
    print(
        f"  first window shown: min {min(frozen):.3f} s, median {statistics.median(frozen):.3f} s"
    )
    if source:
        ratio = statistics.median(frozen) / statistics.median(source)
        print(f"  frozen / source start (medians): {ratio:.2f}x")


if __name__ == "__main__":
    main()
