"""Start-up figures for the benchmark: ``BENCH <label> <seconds since process start>``.

Printed only when the environment has ``CONFERO_BENCH=1``. The origin is the
process start time as the OS reports it (via psutil, when installed), else the
moment ``ui.app`` was imported.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

BENCH_ENV = "CONFERO_BENCH"


class StartupTimer:
    """Prints each labelled moment once, as seconds since the process started."""

    def __init__(self, origin: float, *, enabled: bool, stream: TextIO | None = None) -> None:
        self._origin = origin  # on the time.perf_counter() clock
        self._enabled = enabled
        self._stream = stream
        self._seen: set[str] = set()

    @classmethod
    def from_environment(cls, import_perf: float, import_wall: float) -> StartupTimer:
        enabled = os.environ.get(BENCH_ENV, "") not in ("", "0")
        origin = import_perf
        if enabled:
            origin = import_perf - _seconds_since_process_start(import_wall)
        return cls(origin, enabled=enabled)

    @property
    def enabled(self) -> bool:
        return self._enabled

    def elapsed(self) -> float:
        return time.perf_counter() - self._origin

    def mark(self, label: str) -> None:
        if not self._enabled or label in self._seen:
            return
        self._seen.add(label)
        stream = self._stream or sys.stdout
        print(f"BENCH {label} {self.elapsed():.3f}", file=stream, flush=True)


def _seconds_since_process_start(at_wall: float) -> float:
    """How long the process had been running at wall-clock time ``at_wall``."""
    now_wall = time.time()
    age = _linux_process_age()
    if age is None:
        age = _psutil_process_age()
    if age is None:  # no way to tell: count from the import of ui.app
        return 0.0
    return max(0.0, age - (now_wall - at_wall))


def _linux_process_age() -> float | None:
    """Process age from /proc, both clocks counted from boot (10 ms resolution).

    More exact than psutil's create_time() on Linux, which adds the boot time
    rounded to whole seconds.
    """
    try:
        with open("/proc/self/stat", encoding="ascii") as stat_file:
            stat = stat_file.read()
        with open("/proc/uptime", encoding="ascii") as uptime_file:
            uptime = float(uptime_file.read().split()[0])
        # Field 22 (starttime), counted after the ")" closing the command name.
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
        ticks = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None
    return max(0.0, uptime - start_ticks / ticks)


def _psutil_process_age() -> float | None:
    try:
        import psutil

        return max(0.0, time.time() - psutil.Process().create_time())
    except Exception:  # psutil missing or the OS refuses
        return None
