"""Network namespaces of a test's own, for traffic that must not reach real interfaces."""

from __future__ import annotations

import ctypes
import os
import secrets
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import pytest

T = TypeVar("T")
_CLONE_NEWNET = 0x40000000


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)


@contextmanager
def loopback_namespace() -> Iterator[str]:
    """A new network namespace with only a loopback (multicast on); deleted afterwards.

    Skips the test when namespaces cannot be made here (no iproute2, not root).
    """
    if shutil.which("ip") is None:
        pytest.skip("iproute2's `ip` is not installed (scripts/setup --test installs it)")
    name = f"confero-t-{secrets.token_hex(3)}"
    made = _ip("netns", "add", name)
    if made.returncode != 0:
        pytest.skip(f"cannot make a network namespace here: {made.stderr.strip()}")
    try:
        for step in (("link", "set", "lo", "up"), ("link", "set", "lo", "multicast", "on")):
            done = _ip("netns", "exec", name, "ip", *step)
            assert done.returncode == 0, done.stderr
        yield name
    finally:
        _ip("netns", "del", name)


def made_in_namespace(namespace: str, make: Callable[[], T]) -> T:
    """Call ``make`` on a thread of its own that entered ``namespace`` first.

    Sockets belong to the namespace they were made in, so what ``make`` opens
    talks only inside it, while the rest of the process stays where it is
    (the thread ends right after; only it ever entered the namespace).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    result: list[T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            fd = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
            try:
                if libc.setns(fd, _CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns failed")
            finally:
                os.close(fd)
            result.append(make())
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=run, name=f"netns-{namespace}")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]
