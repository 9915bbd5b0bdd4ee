"""Signed-in engines for tests: real accounts on the real Synapse."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from engine.engine import Engine
from engine.events import EngineEvent, EventBus
from engine.models import MessageState
from tests.helpers.users import TestUser


async def signed_in_engine(user: TestUser, data_dir: Path, *, start: bool = True) -> Engine:
    engine = Engine(data_dir)
    await engine.session.login(user.homeserver_url, user.user_id, user.password, remember=False)
    if start:
        await engine.session.start()
    return engine


def expect_event(
    engine: Engine,
    predicate: Callable[[EngineEvent], bool],
    timeout: float = 15.0,
) -> asyncio.Future[EngineEvent]:
    """Start watching now for an event matching ``predicate``; await the result later.

    Subscribing before the action that causes the event means it cannot be missed.
    """
    return expect_on_bus(engine.session.bus, predicate, timeout)


def expect_on_bus(
    bus: EventBus,
    predicate: Callable[[EngineEvent], bool],
    timeout: float = 15.0,
) -> asyncio.Future[EngineEvent]:
    """``expect_event`` on any bus (the embedded server's supervisor has one of its own)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[EngineEvent] = loop.create_future()

    def observe(event: EngineEvent) -> None:
        if not future.done() and predicate(event):
            future.set_result(event)

    unsubscribe = bus.subscribe(observe)
    handle = loop.call_later(
        timeout,
        lambda: future.done() or future.set_exception(TimeoutError(f"no event in {timeout} s")),
    )
    future.add_done_callback(lambda _: (unsubscribe(), handle.cancel()))
    return future


async def wait_for_event(
    engine: Engine,
    predicate: Callable[[EngineEvent], bool],
    timeout: float = 15.0,
) -> EngineEvent:
    return await expect_event(engine, predicate, timeout)


async def eventually(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll ``predicate`` until it holds; fail with a clear error otherwise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout:.0f} s")
        await asyncio.sleep(0.05)


def message_state(engine: Engine, room_id: str, key: str) -> MessageState | None:
    """The state of one message, found by its key, not by its place in the list.

    Room-change lines (someone joined, ...) may be synced after one's own message.
    """
    found = [m.state for m in engine.conversations.messages(room_id) if m.key == key]
    return found[0] if found else None
