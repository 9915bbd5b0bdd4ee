"""Holding back the answers of one real client call, to force an interleaving.

The request goes to the real server as usual; only the engine's view of the
answer waits until ``release()``. This is how a test makes "the presenter's
admission reached the server, but the user's app has not heard back yet"
happen every time, with no server or engine replaced.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from engine.engine import Engine
from tests.helpers.engines import eventually


class HeldAnswers:
    """``before=True`` holds the request itself instead: it reaches the server only
    at release() (a message that stays Sending, even for the account's own sync)."""

    def __init__(
        self, engine: Engine, method: str, *, held: bool = True, before: bool = False
    ) -> None:
        client = engine.session.require_client()
        self._real = getattr(client, method)
        self._before = before
        self._open = asyncio.Event()
        if not held:
            self._open.set()
        self.waiting = 0  # answers the engine has not been given yet
        self.answered = 0  # answers handed over
        self._hold_after: Callable[[Any], bool] | None = None
        setattr(client, method, self._call)

    async def _call(self, *args: Any, **kwargs: Any) -> Any:
        answer = None if self._before else await self._real(*args, **kwargs)
        self.waiting += 1
        try:
            await self._open.wait()
        finally:
            self.waiting -= 1
        if self._before:
            answer = await self._real(*args, **kwargs)
        self.answered += 1
        if self._hold_after is not None and self._hold_after(answer):
            self._hold_after = None
            self._open.clear()
        return answer

    def release(self, *, until: Callable[[Any], bool] | None = None) -> None:
        """Hand the answers over; with ``until``, hold again after the one it matches."""
        self._hold_after = until
        self._open.set()

    async def answered_more(self, count: int = 1, timeout: float = 15.0) -> None:
        """Wait until ``count`` more answers were handed over (from now)."""
        target = self.answered + count
        await eventually(lambda: self.answered >= target, timeout)


async def wake_sync(engine: Engine) -> None:
    """Give the account's sync something to answer at once (a marker in its own data)."""
    user = quote(engine.session.user_id or "")
    path = f"/_matrix/client/v3/user/{user}/account_data/org.confero.test.marker"
    await engine.session.api("PUT", path, {"nonce": secrets.token_hex(4)})


async def hold_syncs(engine: Engine) -> HeldAnswers:
    """From now on the engine hears nothing new from the server, until release()."""
    held = HeldAnswers(engine, "sync")
    while held.waiting == 0:  # the sync already on its way was not wrapped: let it end
        await wake_sync(engine)
        await asyncio.sleep(0.05)
    return held


async def settled(engine: Engine, syncs: HeldAnswers) -> None:
    """Everything the server had said is applied, and our presence writes are done.

    A marker in the account's own data wakes its sync twice: the second answer
    was asked for after everything before it had been applied.
    """
    for _ in range(2):
        before = syncs.answered
        await wake_sync(engine)
        await eventually(lambda before=before: syncs.answered > before)
    # The work those answers started (joins, declines) is over, up to its own timeouts.
    await eventually(lambda: not engine.session.busy, 30)
    # Our own presence writes are done too (one writer, see Presences.write).
    await eventually(lambda: engine.presences.writes_done)


class SeenAfter:
    """Every session state and own presence the engine shows from now on."""

    def __init__(self, engine: Engine) -> None:
        self.states: list[str] = []
        self.presences: list[str] = []
        self.stop = engine.session.bus.subscribe(self._observe)

    def _observe(self, event: Any) -> None:
        session = getattr(event, "session", None)
        if session is not None:
            self.states.append(session.state.name)
        if type(event).__name__ == "OwnPresenceChanged":
            self.presences.append(event.presence.name)
