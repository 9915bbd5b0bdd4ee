"""The ``confero`` entry point, run as a real process (headless)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}, **extra)
    return env


def test_version_needs_no_gui() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ui.app", "--version"],
        env=_env(QT_QPA_PLATFORM="none-such"),  # Qt is never loaded for --version
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert result.stdout.startswith("Confero ")


def test_importing_the_entry_point_loads_no_engine_or_qt() -> None:
    probe = (
        "import sys, ui.app; "
        "heavy = [m for m in ('nio', 'synapse', 'engine.engine', 'PySide6', 'aiohttp') "
        "if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=_env(), capture_output=True, text=True, timeout=30
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_first_start_shows_the_window_reports_timing_and_quits_cleanly(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "ui.app", "--data-dir", str(tmp_path / "data")],
        env=_env(CONFERO_BENCH="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        label, seconds = line.split()[1:3]
        assert line.startswith("BENCH ") and label == "first_window_shown"
        assert float(seconds) > 0
        time.sleep(0.5)  # the event loop is running by now
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Traceback" not in (process.stderr.read() if process.stderr else "")
