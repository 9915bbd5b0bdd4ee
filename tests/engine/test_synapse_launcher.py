"""How the embedded homeserver is started, from source and from the frozen bundle."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from engine import synapse_launcher

ROOT = Path(__file__).resolve().parents[2]


def test_from_source_the_launcher_is_a_python_module() -> None:
    assert synapse_launcher.launcher_command() == [sys.executable, "-m", "engine.synapse_launcher"]


def test_frozen_the_launcher_is_the_app_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    # A PyInstaller bundle has no "python -m": its own executable runs Synapse.
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert synapse_launcher.launcher_command() == [
        sys.executable,
        synapse_launcher.RUN_HOMESERVER_FLAG,
    ]


def test_the_app_hands_the_hidden_flag_to_synapse_before_qt() -> None:
    # What the frozen bundle runs, from source: Synapse answers (its --help), and
    # the app's own start (Qt, the command line) never begins.
    code = (
        "import sys, ui.app\n"
        "try:\n"
        "    status = ui.app.main(sys.argv[1:])\n"
        "except SystemExit as exit:\n"  # Synapse's argparse ends --help so
        "    status = exit.code\n"
        "print('Qt imported' if 'PySide6.QtWidgets' in sys.modules else 'no Qt')\n"
        "sys.exit(status)\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            synapse_launcher.RUN_HOMESERVER_FLAG,
            str(os.getpid()),
            "--help",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Synapse Homeserver" in result.stdout
    assert "meeting link" not in result.stdout  # not Confero's own --help
    assert result.stdout.rstrip().endswith("no Qt")


@pytest.mark.skipif(sys.platform != "win32", reason="Windows never re-parents a process")
def test_on_windows_the_watch_ends_when_the_app_process_ends() -> None:
    # The launcher's stand-in for "re-parented": a wait on the app's process handle.
    app = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        watch = threading.Thread(
            target=synapse_launcher._wait_for_windows_process, args=(app.pid,), daemon=True
        )
        watch.start()
        assert watch.is_alive()
        app.kill()
        app.wait()
        watch.join(timeout=30)
        assert not watch.is_alive()
    finally:
        app.kill()


def test_the_server_process_gets_no_console_window_on_windows() -> None:
    # CREATE_NO_WINDOW there; nothing (Popen's default) everywhere else.
    expected = subprocess.CREATE_NO_WINDOW if sys.platform == "win32" else 0  # type: ignore[attr-defined]
    assert expected == synapse_launcher.CREATION_FLAGS
