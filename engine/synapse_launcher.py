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

#: Popen ``creationflags`` for the launcher. Windows: CREATE_NO_WINDOW, so no console
#: window opens for the server (from source python.exe is a console program; the
#: frozen, windowed confero.exe would open none anyway). Elsewhere nothing.
CREATION_FLAGS: int = 0x08000000 if sys.platform == "win32" else 0


def launcher_command() -> list[str]:
    """The start of the command line that runs this launcher, frozen or from source."""
    if getattr(sys, "frozen", False):
        return [sys.executable, RUN_HOMESERVER_FLAG]
    return [sys.executable, "-m", "engine.synapse_launcher"]


def _watch_parent(parent_pid: int) -> None:
    if sys.platform == "win32":
        _wait_for_windows_process(parent_pid)
    else:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent_pid:  # re-parented: the app is gone
                break
    # POSIX: Synapse shuts down cleanly on SIGTERM. Windows: TerminateProcess.
    os.kill(os.getpid(), signal.SIGTERM)


def _wait_for_windows_process(pid: int) -> None:
    """Return once process ``pid`` has ended (at once if it cannot be opened).

    Windows never re-parents a process, so ``os.getppid()`` keeps the dead
    parent's pid: wait on the parent's process handle instead.
    """
    import ctypes
    from ctypes import wintypes

    synchronize, infinite = 0x00100000, 0xFFFFFFFF
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    kernel32.OpenProcess.restype = wintypes.HANDLE
    kernel32.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
    kernel32.WaitForSingleObject.argtypes = (wintypes.HANDLE, wintypes.DWORD)
    handle = kernel32.OpenProcess(synchronize, False, pid)
    if not handle:  # already gone (or never ours): stop as the POSIX watch would
        return
    kernel32.WaitForSingleObject(handle, infinite)
    kernel32.CloseHandle(handle)


def main(argv: list[str] | None = None) -> None:
    """Run Synapse with ``argv`` (default ``sys.argv[1:]``): ``<parent pid> <arguments…>``."""
    args = sys.argv[1:] if argv is None else argv
    parent_pid = int(args[0])
    sys.argv = ["synapse.app.homeserver", *args[1:]]
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    if sys.platform == "win32":
        from engine import windows_stand_ins

        windows_stand_ins.install()  # fcntl and resource, which Synapse imports
    runpy.run_module("synapse.app.homeserver", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
