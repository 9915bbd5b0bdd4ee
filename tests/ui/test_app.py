"""The ``confero`` entry point, run as a real process (headless)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
#: How long quitting may take at most (the steps of shutdown are bounded well within it).
QUIT_BOUND_S = 45.0


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
        # The window is up; the event loop may not be running yet: SIGTERM
        # must mean a clean quit from the start anyway.
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=QUIT_BOUND_S) == 0
    finally:
        _kill(process)
    assert "Traceback" not in (process.stderr.read() if process.stderr else "")


# -- SIGTERM / SIGINT at any moment of start-up --------------------------------------

#: Runs the real entry point with an audit hook that sends the process a signal
#: at one exact moment of start-up (the first time ``event`` matches).
_SIGNAL_AT = """
import os, runpy, signal, sys

EVENT, NEEDLE, SIGNUM = {event!r}, {needle!r}, {signum}
fired = []

def hook(event, args):
    if not fired and event == EVENT and NEEDLE in repr(args[:2]):
        fired.append(True)
        os.kill(os.getpid(), SIGNUM)

sys.addaudithook(hook)
sys.argv = ["confero", *sys.argv[1:]]
runpy.run_module("ui.app", run_name="__main__", alter_sys=True)
"""


def _start_with_signal_at(
    event: str, needle: str, data_dir: Path, *args: str, signum: int = signal.SIGTERM
) -> subprocess.Popen[str]:
    script = _SIGNAL_AT.format(event=event, needle=needle, signum=int(signum))
    return subprocess.Popen(
        [sys.executable, "-c", script, "--data-dir", str(data_dir), *args],
        env=_env(CONFERO_BENCH="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def _servers_left(data_dir: Path) -> list[int]:
    """Processes still running on ``data_dir`` (a Synapse the app left behind)."""
    import psutil

    left = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info.get("cmdline") or [])
        if str(data_dir) in cmdline:
            left.append(proc.info["pid"])
    return left


def _ended_cleanly(process: subprocess.Popen[str], data_dir: Path) -> str:
    """Wait for the exit; it must be status 0 with no server left. Returns stdout."""
    try:
        out, err = process.communicate(timeout=QUIT_BOUND_S)
    finally:
        _kill(process)
    assert process.returncode == 0, f"exit status {process.returncode}: {err[-2000:]}"
    assert "Traceback" not in err, err[-2000:]
    # Checked at once: the server's own watchdog would end an orphan a moment later.
    assert _servers_left(data_dir) == [], "a meeting server outlived Confero"
    assert not (data_dir / "homeserver" / "homeserver.pid").exists()
    return out


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_signal_before_the_first_window_quits_cleanly(tmp_path: Path, signum: int) -> None:
    data_dir = tmp_path / "data"
    # While Qt is being imported: long before the event loop exists.
    process = _start_with_signal_at(
        "import", "PySide6.QtWidgets", data_dir, "--local", signum=signum
    )
    out = _ended_cleanly(process, data_dir)
    assert "first_window_shown" not in out, "nothing more is started once asked to quit"


def test_sigterm_while_the_local_server_starts_stops_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    # The moment the meeting server's process is spawned.
    process = _start_with_signal_at(
        "subprocess.Popen", "engine.synapse_launcher", data_dir, "--local"
    )
    out = _ended_cleanly(process, data_dir)
    assert "first_window_shown" in out
    assert (data_dir / "homeserver" / "homeserver.yaml").exists(), "the server was starting"


def test_sigterm_once_the_window_is_up_with_the_local_server(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    process = subprocess.Popen(
        [sys.executable, "-m", "ui.app", "--data-dir", str(data_dir), "--local"],
        env=_env(CONFERO_BENCH="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        line = process.stdout.readline()
    except BaseException:
        _kill(process)
        raise
    assert line.startswith("BENCH first_window_shown")
    process.send_signal(signal.SIGTERM)
    _ended_cleanly(process, data_dir)
