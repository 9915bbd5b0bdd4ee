"""A private D-Bus session bus with a test notification server on it.

``dbus-daemon`` (Debian's ``dbus-daemon``; scripts/setup --test installs it) runs on
a socket in a temporary folder with a config of its own (no service activation, so
nothing of the machine's is started), and tests/helpers/notification_server.py owns
org.freedesktop.Notifications on it. The server's reports (one JSON line per Notify
and CloseNotification) are read by a thread into ``events``; ``invoke`` clicks a
button as a person would.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""
#: The repository's root, for the server's import path.
_ROOT = Path(__file__).resolve().parents[2]

Event = dict[str, Any]


class DesktopBus:
    """``start()`` the bus (``address``), then ``start_server()`` for notifications."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.socket = base / "bus"
        self.address = f"unix:path={self.socket}"
        self.events: list[Event] = []
        self._daemon: subprocess.Popen[bytes] | None = None
        self._server: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        binary = shutil.which("dbus-daemon")
        if binary is None:
            raise RuntimeError(
                "dbus-daemon is not installed; scripts/setup --test installs it "
                "(apt-get install dbus-daemon)"
            )
        config = self.base / "bus.conf"
        config.write_text(_CONFIG.format(socket=self.socket))
        self._daemon = subprocess.Popen(
            [binary, f"--config-file={config}", "--nofork", "--print-address=1"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self._daemon.stdout is not None
        line = self._daemon.stdout.readline()  # printed once it listens
        if not line.startswith(b"unix:"):
            raise RuntimeError(f"dbus-daemon did not start: {line!r}")

    def start_server(self) -> None:
        """The notification server, owning its name before this returns."""
        env = {"PATH": "/usr/bin:/bin", "DBUS_SESSION_BUS_ADDRESS": self.address}
        self._server = subprocess.Popen(
            [sys.executable, "-m", "tests.helpers.notification_server"],
            cwd=_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=(self.base / "server.log").open("w"),
            text=True,
            bufsize=1,
        )
        assert self._server.stdout is not None
        first = json.loads(self._server.stdout.readline() or "{}")
        if first.get("event") != "ready":
            raise RuntimeError(f"the notification server did not start: {first}")
        threading.Thread(target=self._read, daemon=True, name="notification-events").start()

    def stop(self) -> None:
        for process in (self._server, self._daemon):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)

    def notifications(self, where: Callable[[Event], bool] = lambda e: True) -> list[Event]:
        """Every Notify the server was sent that matches ``where``, oldest first."""
        with self._lock:
            return [e for e in self.events if e.get("event") == "notify" and where(e)]

    def closed(self, notification_id: int) -> bool:
        """Whether the app took notification ``notification_id`` back (CloseNotification)."""
        with self._lock:
            return any(e == {"event": "close", "id": notification_id} for e in self.events)

    def invoke(self, notification_id: int, action: str) -> None:
        """Click the notification's button ``action`` (the server signals ActionInvoked)."""
        assert self._server is not None and self._server.stdin is not None
        self._server.stdin.write(f"invoke {notification_id} {action}\n")
        self._server.stdin.flush()

    def _read(self) -> None:
        assert self._server is not None and self._server.stdout is not None
        for line in self._server.stdout:
            with self._lock:
                self.events.append(json.loads(line))


def actions_of(event: Event) -> list[tuple[str, str]]:
    """A Notify's actions as (key, label) pairs."""
    flat = event["actions"]
    return list(zip(flat[::2], flat[1::2], strict=True))
