"""Engine calls that outlive the window that asked for them.

A window's own work lives in its ``TaskGroup`` and stops when it closes. What
the user asked of the engine (send, leave, rejoin) must finish anyway: the
window awaits it through a shield, so closing cancels only the waiting. Calls
that only touch the engine (typing, leaving a lobby on close) run detached.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from engine.conference_models import SessionState
from engine.errors import ConferoError
from ui.error_text import GENERIC_ERROR

if TYPE_CHECKING:
    from engine.engine import Engine

log = logging.getLogger(__name__)

T = TypeVar("T")

# Strong references: asyncio keeps only weak ones to running tasks.
_detached: set[asyncio.Task[Any]] = set()


def spawn_detached(work: Coroutine[Any, Any, None]) -> None:
    """Run engine-only work that outlives the window (errors are logged, not shown)."""

    async def guarded() -> None:
        try:
            await work
        except Exception:
            log.info("background meeting call failed", exc_info=True)

    task = asyncio.ensure_future(guarded())
    _detached.add(task)
    task.add_done_callback(_detached.discard)


def detached_task(work: Awaitable[T]) -> asyncio.Task[T]:
    """A task that outlives the window; its error is retrieved (and logged) even if unawaited."""
    task = asyncio.ensure_future(work)
    _detached.add(task)

    def done(finished: asyncio.Task[T]) -> None:
        _detached.discard(finished)
        if not finished.cancelled() and (error := finished.exception()) is not None:
            log.debug("engine call of a window failed: %r", error)

    task.add_done_callback(done)
    return task


async def finish(work: Awaitable[T]) -> T:
    """An engine call the user asked for: it completes even if the window closes meanwhile."""
    return await asyncio.shield(detached_task(work))


async def failure_words(
    work: Awaitable[Any],
    doing: str,
    words: Callable[[ConferoError], str] = lambda exc: exc.user_message,
) -> str:
    """Finish an engine call the user asked for: "" if it worked, else what to show.

    The engine's errors carry their own words (``words`` may say more); anything else
    is a bug, logged as ``doing`` failed, and worded in general.
    """
    try:
        await finish(work)
    except ConferoError as exc:
        return words(exc)
    except Exception:
        log.exception("%s failed", doing)
        return GENERIC_ERROR
    return ""


async def give_up_after(engine: Engine, room_id: str, join: asyncio.Task[Any]) -> None:
    """The window closed during a Rejoin: once it has reached the lobby, leave the lobby."""
    with contextlib.suppress(Exception):
        await join
    session = engine.conferences.session(room_id)
    if session is not None and session.state is SessionState.IN_LOBBY:
        await engine.conferences.cancel_lobby(room_id)


async def wait_for_background_work() -> None:
    """Wait for the work closed windows left running (leaving a lobby on close)."""
    while pending := [t for t in _detached if not t.done()]:
        await asyncio.wait(pending)
