"""Keeps the embedded meeting server alive: notices when it dies or hangs, restarts it.

The supervisor watches the ``EmbeddedHomeserver`` this app started. Every
``check_interval_s`` it looks whether the process still runs and asks
``/_matrix/client/versions``. A process that exited is restarted at once; one
that stops answering ``failures_before_restart`` times in a row is taken as
hung, killed with SIGKILL (a stopped process ignores SIGTERM) and restarted.
Restarts keep the data folder, its lock and the port, and back off (about 1, 2,
4, 8 s). When every try has failed the supervisor goes to FAILED with a reason
read from the server's log, and waits for ``try_again()``.

The decisions (when is it hung, how long to wait, when to give up) live in
``RestartPolicy``, which does no I/O and is unit-tested on its own; the
supervisor is the thin asyncio shell around it. No Qt here: the UI observes the
events on ``bus`` through its bridge.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import aiohttp

from engine import events as ev
from engine.homeserver import EmbeddedHomeserver, HomeserverError

__all__ = [
    "HomeserverSupervisor",
    "RestartPolicy",
    "ServerState",
    "SupervisorTiming",
    "explain_failure",
]

log = logging.getLogger(__name__)


class ServerState(enum.Enum):
    """What the supervisor knows about the server."""

    STOPPED = "stopped"  # not supervising (before start() or after stop())
    RUNNING = "running"
    RESTARTING = "restarting"  # found dead or hung; starting it again
    FAILED = "failed"  # every try failed; waiting for try_again()


@dataclass(frozen=True, slots=True)
class SupervisorTiming:
    """How closely the server is watched; tests shorten these."""

    #: Time between two looks at the server.
    check_interval_s: float = 1.0
    #: How long one health request may take before it counts as a failure.
    check_timeout_s: float = 2.0
    #: Failed health checks in a row after which a running process counts as hung.
    failures_before_restart: int = 3
    #: Wait before each restart try; one try per entry, then FAILED.
    backoff_s: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 8.0, 8.0)
    #: Up this long after a restart, the next death starts the backoff afresh.
    stable_after_s: float = 60.0


class RestartPolicy:
    """The supervisor's decisions, without I/O or clocks of its own (``now`` is passed in)."""

    def __init__(self, timing: SupervisorTiming) -> None:
        self._timing = timing
        self._failures = 0
        self._attempts = 0
        self._up_since: float | None = None

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    @property
    def attempts(self) -> int:
        """Restart tries since the server last ran stably."""
        return self._attempts

    def health_checked(self, ok: bool, now: float) -> bool:
        """Record one health check; True means the server is hung and must be restarted."""
        if ok:
            self._failures = 0
            if self._up_since is not None and now - self._up_since >= self._timing.stable_after_s:
                self._attempts = 0  # it has run well for a while: a new death starts afresh
            return False
        self._failures += 1
        return self._failures >= self._timing.failures_before_restart

    def next_delay(self) -> float | None:
        """Seconds to wait before the next restart try, or None: give up."""
        if self._attempts >= len(self._timing.backoff_s):
            return None
        delay = self._timing.backoff_s[self._attempts]
        self._attempts += 1
        return delay

    def restarted(self, now: float) -> None:
        """A restart try succeeded: the server answers again."""
        self._failures = 0
        self._up_since = now

    def reset(self) -> None:
        """Start over (the person chose Try again)."""
        self._failures = 0
        self._attempts = 0
        self._up_since = None


# What a person can act on, from the words a failing Synapse leaves in its log.
_KNOWN_FAILURES: Final = tuple(
    (re.compile(pattern, re.IGNORECASE), reason)
    for pattern, reason in (
        (r"address already in use|couldn't listen", "another program is using its port"),
        (r"no space left on device|disk is full", "the disk is full"),
        (r"database is locked", "its database is locked by another program"),
        (r"database disk image is malformed|file is not a database", "its database is damaged"),
        (r"read-only file system|permission denied", "its data folder cannot be written to"),
    )
)


def explain_failure(summary: str, port: int | None = None) -> str:
    """A short reason for the banner, from the log summary of the last failed start."""
    for pattern, reason in _KNOWN_FAILURES:
        if pattern.search(summary):
            if reason.endswith("its port") and port is not None:
                reason += f" ({port})"
            return f"{reason[0].upper()}{reason[1:]}."
    return summary or "It stopped without saying why."


class HomeserverSupervisor:
    """Watches an EmbeddedHomeserver and restarts it when it dies or hangs."""

    def __init__(
        self,
        homeserver: EmbeddedHomeserver,
        *,
        timing: SupervisorTiming | None = None,
        bus: ev.EventBus | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._homeserver = homeserver
        self._timing = timing or SupervisorTiming()
        self.bus = bus or ev.EventBus()
        self._clock = clock
        self._policy = RestartPolicy(self._timing)
        self._state = ServerState.STOPPED
        self._reason = ""
        self._task: asyncio.Task[None] | None = None
        self._try_again = asyncio.Event()
        self._wake = asyncio.Event()
        self._http: aiohttp.ClientSession | None = None
        self.restarts = 0  # successful restarts, for tests and the bench

    @property
    def state(self) -> ServerState:
        return self._state

    @property
    def reason(self) -> str:
        """Why the server could not be restarted (FAILED only)."""
        return self._reason

    @property
    def consecutive_failures(self) -> int:
        return self._policy.consecutive_failures

    @property
    def homeserver(self) -> EmbeddedHomeserver:
        return self._homeserver

    def start(self) -> None:
        """Begin watching (the server is expected to be up already)."""
        if self._task is None:
            self._state = ServerState.RUNNING
            self._task = asyncio.create_task(self._watch(), name="confero-homeserver-supervisor")

    async def stop(self) -> None:
        """Stop watching; the server itself is left as it is (stop it next)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._http is not None:
            await self._http.close()
            self._http = None
        self._state = ServerState.STOPPED

    def check_now(self) -> None:
        """Look at the server at once (e.g. a client just lost its connection to it)."""
        self._wake.set()

    def try_again(self) -> None:
        """After FAILED: start over with a fresh round of restart tries."""
        if self._state is ServerState.FAILED:
            self._try_again.set()

    # -- the loop --------------------------------------------------------------

    async def _watch(self) -> None:
        while True:
            if self._state is ServerState.FAILED:
                await self._try_again.wait()
                self._try_again.clear()
                self._policy.reset()
                await self._recover("You asked to try again.", kill=True)
                continue
            started = self._clock()
            if self._homeserver.reconfiguring:
                # Turning network access on or off restarts it on purpose: not a crash.
                self._policy.health_checked(True, started)
                await asyncio.sleep(self._timing.check_interval_s)
                continue
            if not self._homeserver.is_running:
                log.warning("the meeting server process has exited; restarting it")
                await self._recover("The server process exited.", kill=False)
                continue
            ok = await self._healthy()
            if self._policy.health_checked(ok, self._clock()):
                log.warning("the meeting server stopped answering; restarting it")
                await self._recover("The server stopped answering.", kill=True)
                continue
            elapsed = self._clock() - started
            with contextlib.suppress(TimeoutError):
                wait = max(0.0, self._timing.check_interval_s - elapsed)
                await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()

    async def _healthy(self) -> bool:
        if self._http is None:
            # A fresh connection per check: a kept-alive one could hide a new hang.
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True), trust_env=False
            )
        try:
            url = f"{self._homeserver.base_url}/_matrix/client/versions"
            timeout = aiohttp.ClientTimeout(total=self._timing.check_timeout_s)
            async with self._http.get(url, timeout=timeout) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError, OSError, HomeserverError):
            return False

    async def _recover(self, cause: str, *, kill: bool) -> None:
        """Restart with backoff until it answers, or end in FAILED."""
        self._state = ServerState.RESTARTING
        down_since = self._clock()
        last_error = ""
        while (delay := self._policy.next_delay()) is not None:
            attempt = self._policy.attempts
            self.bus.publish(ev.HomeserverRestarting(cause, attempt))
            await asyncio.sleep(delay)
            try:
                await self._homeserver.restart(kill=kill)
            except Exception as exc:  # any failure is one failed try, never the end of watching
                log.warning("restart %d of the meeting server failed: %s", attempt, exc)
                last_error = getattr(exc, "user_message", "") or str(exc)
                kill = True
                continue
            self._policy.restarted(self._clock())
            self.restarts += 1
            self._state = ServerState.RUNNING
            log.info("the meeting server is back after %d tries", attempt)
            self.bus.publish(ev.HomeserverRecovered(attempt, self._clock() - down_since))
            return
        summary = await self._homeserver.failure_summary()
        self._reason = explain_failure(summary or last_error, self._homeserver.port)
        self._state = ServerState.FAILED
        log.error("the meeting server could not be restarted: %s", self._reason)
        self.bus.publish(ev.HomeserverFailed(self._reason, str(self._homeserver.log_path)))
