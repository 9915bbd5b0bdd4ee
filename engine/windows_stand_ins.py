"""Stand-ins for the two POSIX modules Synapse imports at start, for running it on Windows.

Synapse does not support Windows, yet what stops it there is two imports at
start: ``fcntl`` (``synapse.util.daemonize``, the TCP replication of workers) and
``resource`` (raising the open-file limit, the performance figures of its stats).
An embedded single-process server uses neither daemonizing nor workers, so
``fcntl``'s stand-in only fails when called; ``resource``'s reports no limits
(Synapse logs "Failed to set file or core limit" and goes on) and the process's
CPU times from ``os.times()``. Standard library only: the launcher loads it
before Synapse.
"""

from __future__ import annotations

import errno
import importlib
import mmap
import os
import sys
import types
from typing import Any, NamedTuple

__all__ = ["install"]


class _Usage(NamedTuple):
    """The fields of ``resource.struct_rusage`` that Synapse reads."""

    ru_utime: float
    ru_stime: float
    ru_maxrss: int


def _unsupported(*_args: Any, **_kwargs: Any) -> Any:
    raise OSError(errno.ENOSYS, "not available on this system")


def _no_limits(*_args: Any, **_kwargs: Any) -> Any:
    raise ValueError("no resource limits on this system")


def _getrusage(_who: int) -> _Usage:
    times = os.times()
    return _Usage(ru_utime=times.user, ru_stime=times.system, ru_maxrss=0)


def _fcntl() -> types.ModuleType:
    module = types.ModuleType("fcntl", "Confero's stand-in: every call fails with ENOSYS.")
    module.LOCK_SH, module.LOCK_EX, module.LOCK_NB, module.LOCK_UN = 1, 2, 4, 8
    module.flock = module.lockf = module.ioctl = _unsupported
    return module


def _resource() -> types.ModuleType:
    module = types.ModuleType("resource", "Confero's stand-in: no limits, CPU times only.")
    module.error = OSError
    module.RLIMIT_CORE, module.RLIMIT_NOFILE, module.RLIM_INFINITY = 4, 7, -1
    module.RUSAGE_SELF, module.RUSAGE_CHILDREN = 0, -1
    module.getrlimit = module.setrlimit = _no_limits
    module.getrusage = _getrusage
    module.getpagesize = lambda: mmap.PAGESIZE
    module.struct_rusage = _Usage
    return module


def install() -> list[str]:
    """Put a stand-in in ``sys.modules`` for each of the two that cannot be imported.

    Returns their names (none on a POSIX system).
    """
    installed = []
    for name, make in (("fcntl", _fcntl), ("resource", _resource)):
        try:
            importlib.import_module(name)
        except ImportError:
            sys.modules[name] = make()
            installed.append(name)
    return installed
