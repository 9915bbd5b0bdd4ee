"""Runs Synapse for EmbeddedHomeserver, and stops it if the app that started it dies.

Usage: python -m engine.synapse_launcher <parent pid> <synapse arguments…>
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
import threading
import time


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:  # re-parented: the app is gone
            os.kill(os.getpid(), signal.SIGTERM)
            return


def main() -> None:
    parent_pid = int(sys.argv[1])
    sys.argv = ["synapse.app.homeserver", *sys.argv[2:]]
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    runpy.run_module("synapse.app.homeserver", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
