"""How the embedded homeserver is started, from source and from the frozen bundle."""

from __future__ import annotations

import os
import subprocess
import sys
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
