"""Awaiting Qt things from async tests running on the qasync loop.

Never call the blocking ``qtbot.wait*`` helpers inside an async test: while
they block, the asyncSlot tasks cannot run. Await these instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any


async def wait_for_signal(signal: Any, timeout: float = 10.0) -> tuple[Any, ...]:
    """Wait for the next emission of ``signal``; return its arguments."""
    future: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()

    def on_emitted(*args: Any) -> None:
        if not future.done():
            future.set_result(args)

    signal.connect(on_emitted)
    try:
        return await asyncio.wait_for(future, timeout)
    except TimeoutError:
        raise AssertionError(f"signal not emitted within {timeout:g} s") from None
    finally:
        with contextlib.suppress(RuntimeError, TypeError):
            signal.disconnect(on_emitted)


async def wait_until(
    predicate: Callable[[], object], timeout: float = 10.0, message: str = ""
) -> None:
    """Poll ``predicate`` (letting the loop run) until it is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(message or f"condition not met within {timeout:g} s")
        await asyncio.sleep(0.02)
