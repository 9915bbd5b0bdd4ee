"""A signed-in main window against the real Synapse, set up as the controller does it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from engine.engine import Engine
from tests.helpers.engines import signed_in_engine
from tests.helpers.users import TestUser
from ui.bridge import EngineBridge
from ui.main_window import MainWindow


@dataclass
class Session:
    user: TestUser
    engine: Engine
    bridge: EngineBridge
    window: MainWindow


@asynccontextmanager
async def main_window(user: TestUser, data_dir: Path) -> AsyncIterator[Session]:
    """``user`` signed in with the main window on screen; closed and signed off after."""
    engine = Engine(data_dir)
    info = await engine.session.login(
        user.homeserver_url, user.user_id, user.password, remember=False
    )
    bridge = EngineBridge(engine.session.bus)
    window = MainWindow(engine, bridge)
    try:
        await engine.session.start()
        window.show_session(info)
        window.show()
        yield Session(user, engine, bridge, window)
    finally:
        window.close_quietly()
        bridge.detach()
        await engine.session.close()
        window.deleteLater()
        # Let the requests the close cut short finish cancelling (see _close_chat
        # in tests/ui/test_conversation_window.py).
        await asyncio.sleep(0.05)


@asynccontextmanager
async def peers(*users: TestUser, data_dir: Path) -> AsyncIterator[list[Engine]]:
    """Other people, each a signed-in engine of their own (no window)."""
    engines: list[Engine] = []
    try:
        for user in users:
            engines.append(await signed_in_engine(user, data_dir / user.localpart))
        yield engines
    finally:
        for engine in engines:
            await engine.session.close()
