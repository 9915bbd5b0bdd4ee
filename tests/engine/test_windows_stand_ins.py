"""Synapse starts and serves with no fcntl and no resource module, as on Windows."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine import homeserver, windows_stand_ins
from engine.homeserver import EmbeddedHomeserver, HomeserverProfile

ROOT = Path(__file__).resolve().parents[2]

# The launcher, run in an interpreter where importing fcntl or resource fails as
# it does on Windows (None in sys.modules), with the stand-ins the launcher
# installs there. Twisted's POSIX reactor (which Windows does not use: it has its
# own) is loaded first with the real fcntl; what imports them later, Synapse and
# its helpers, gets the stand-ins.
_LAUNCHER_WITHOUT_POSIX_MODULES = (
    "import sys\n"
    "import twisted.internet.default, twisted.internet.epollreactor\n"
    "import twisted.internet.fdesc, twisted.internet.process, twisted.internet.tcp\n"
    "sys.modules['fcntl'] = None\n"
    "sys.modules['resource'] = None\n"
    "from engine import synapse_launcher, windows_stand_ins\n"
    "print('stand-ins:', *windows_stand_ins.install(), flush=True)\n"
    "synapse_launcher.main(sys.argv[1:])\n"
)


def test_on_a_posix_system_nothing_is_replaced() -> None:
    assert windows_stand_ins.install() == []


def test_synapse_serves_with_the_stand_ins_for_fcntl_and_resource(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        homeserver,
        "launcher_command",
        lambda: [sys.executable, "-c", _LAUNCHER_WITHOUT_POSIX_MODULES],
    )
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the server runs in its data folder
    server = EmbeddedHomeserver(tmp_path / "server", profile=HomeserverProfile.TEST)
    server.start_blocking()  # returns once Synapse answers its client API
    try:
        user_id = server.register_user_blocking("windows-stand-in", "a-long-password-1")
        assert user_id.startswith("@windows-stand-in:")
        console = (tmp_path / "server" / "homeserver.console.log").read_text("utf-8")
        assert "stand-ins: fcntl resource" in console
    finally:
        server.stop_blocking()
