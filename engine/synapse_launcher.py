"""Runs Synapse for EmbeddedHomeserver, and stops it if the app that started it dies.

Usage: python -m engine.synapse_launcher <parent pid> <synapse arguments…>

A frozen Confero (the PyInstaller bundle) has no ``python -m``: there the
homeserver is its own executable started as ``confero --run-homeserver <parent
pid> <synapse arguments…>``, which ``ui.app`` hands to ``main`` before Qt is
imported.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
import threading
import time

#: The hidden first argument that makes a frozen Confero run Synapse instead of the app.
RUN_HOMESERVER_FLAG = "--run-homeserver"


def launcher_command() -> list[str]:
    """The start of the command line that runs this launcher, frozen or from source."""
    if getattr(sys, "frozen", False):
        return [sys.executable, RUN_HOMESERVER_FLAG]
    return [sys.executable, "-m", "engine.synapse_launcher"]


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:  # re-parented: the app is gone
            os.kill(os.getpid(), signal.SIGTERM)
            return


def main(argv: list[str] | None = None) -> None:
    """Run Synapse with ``argv`` (default ``sys.argv[1:]``): ``<parent pid> <arguments…>``."""
    args = sys.argv[1:] if argv is None else argv
    parent_pid = int(args[0])
    sys.argv = ["synapse.app.homeserver", *args[1:]]
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    runpy.run_module("synapse.app.homeserver", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
