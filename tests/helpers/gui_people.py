"""People in GUI tests: each a signed-in engine with its windows (and a main window)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from engine.engine import Engine
from tests.helpers.engines import signed_in_engine
from tests.helpers.users import TestUser
from ui.bridge import EngineBridge
from ui.conversation_window import ConversationWindow
from ui.engine_calls import wait_for_background_work
from ui.main_window import MainWindow
from ui.window_registry import ConversationWindows

MakeUser = Callable[..., TestUser]


@dataclass
class Person:
    name: str
    user: TestUser
    engine: Engine
    bridge: EngineBridge
    windows: ConversationWindows
    main: MainWindow | None = None

    @property
    def user_id(self) -> str:
        return self.engine.session.user_id or ""

    def window(self, room_id: str) -> ConversationWindow:
        return self.windows.open(room_id)


@dataclass
class People:
    make_user: MakeUser
    tmp_path: Path
    everyone: list[Person] = field(default_factory=list)

    async def __call__(self, name: str, *, main_window: bool = False) -> Person:
        user = self.make_user(name.lower(), displayname=name)
        engine = await signed_in_engine(user, self.tmp_path / name, start=not main_window)
        bridge = EngineBridge(engine.session.bus)
        windows = ConversationWindows(engine, bridge)
        person = Person(name, user, engine, bridge, windows)
        if main_window:
            person.main = MainWindow(engine, bridge, windows=windows)
            await engine.session.start()
            person.main.show()
        self.everyone.append(person)
        return person

    async def close(self) -> None:
        """Close windows and engines; call it at the end of every test.

        It must run inside the test: pytest-qt processes Qt events before fixture
        teardown, which would step the engines' background tasks (presence updates
        after a session change) with no asyncio loop running.
        """
        everyone, self.everyone = self.everyone, []
        await close_people(everyone)


class _WithWindows(Protocol):
    engine: Engine
    bridge: EngineBridge
    windows: ConversationWindows
    main: MainWindow | None


async def close_people(everyone: Sequence[_WithWindows]) -> None:
    """Close each person's windows, then their engines (see People.close)."""
    for person in everyone:
        person.windows.close_all()
        if person.main is not None:
            person.main.close_quietly()
            person.main.deleteLater()
    await wait_for_background_work()
    for person in everyone:
        person.bridge.detach()
        await person.engine.session.close()
    await asyncio.sleep(0.05)
