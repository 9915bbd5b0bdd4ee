"""The meeting servers found on the local network, for the windows that offer them.

One shared browser (engine/lan_discovery.py) runs while at least one window
shows the list (``acquire``/``release``); zeroconf is imported and started off
the UI thread. ``CONFERO_DISCOVERY=off`` turns looking off (the test suite's
default: no test sends multicast on this machine's real interfaces).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from ui.tasks import TaskGroup

if TYPE_CHECKING:
    from engine.lan_discovery import ChangeObserver, DiscoveredServer, LanBrowser

log = logging.getLogger(__name__)

DISCOVERY_ENV = "CONFERO_DISCOVERY"
#: Makes the browser (tests give one whose sockets live in a network namespace).
BrowserFactory = Callable[["ChangeObserver"], "LanBrowser"]
#: Going from one window with the list to another keeps looking (and what was found).
LINGER_MS = 10_000


def discovery_enabled() -> bool:
    return os.environ.get(DISCOVERY_ENV, "").strip().lower() not in ("off", "0", "no")


class LanServers(QObject):
    """Servers announced nearby; ``changed`` carries the whole list each time."""

    changed = Signal(list)

    def __init__(
        self, factory: BrowserFactory | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._factory = factory
        self._browser: LanBrowser | None = None
        self._servers: list[DiscoveredServer] = []
        self._users = 0
        self._tasks = TaskGroup()
        self._linger = QTimer(self)
        self._linger.setSingleShot(True)
        self._linger.setInterval(LINGER_MS)
        self._linger.timeout.connect(self._on_linger_over)

    @property
    def enabled(self) -> bool:
        return self._factory is not None or discovery_enabled()

    @property
    def servers(self) -> list[DiscoveredServer]:
        return list(self._servers)

    def find(self, fingerprint: bytes) -> DiscoveredServer | None:
        """The server found nearby with this certificate, if any."""
        return next((s for s in self._servers if s.fingerprint == fingerprint), None)

    def acquire(self) -> None:
        """A window shows the list: look (if nobody was looking yet)."""
        self._users += 1
        self._linger.stop()
        if self._users == 1 and self.enabled:
            self._tasks.spawn(self._start())

    def release(self) -> None:
        """A window no longer shows it: stop looking when nobody else does."""
        self._users = max(0, self._users - 1)
        if self._users == 0:
            self._linger.start()

    def _on_linger_over(self) -> None:
        if self._users == 0:
            self._tasks.spawn(self._stop())

    async def close(self) -> None:
        self._users = 0
        self._linger.stop()
        self._tasks.cancel_all()
        await self._stop()

    async def wait_idle(self) -> None:
        await self._tasks.wait_idle()

    async def _start(self) -> None:
        import asyncio
        import importlib

        if self._browser is not None:
            return
        try:
            module = await asyncio.to_thread(importlib.import_module, "engine.lan_discovery")
            factory = self._factory or (lambda observer: module.LanBrowser(observer))
            browser = factory(self._on_changed)
            self._browser = browser
            await browser.start()
        except Exception as exc:  # no network, no multicast: the list just stays empty
            log.info("cannot look for meeting servers on the network: %r", exc)
            self._browser = None
            return
        if self._users == 0:
            await self._stop()

    async def _stop(self) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            try:
                await browser.stop()
            except Exception as exc:
                log.info("stopping the discovery browser failed: %r", exc)
        if self._servers:
            self._servers = []
            self.changed.emit([])

    def _on_changed(self, servers: list[DiscoveredServer]) -> None:
        self._servers = list(servers)
        self.changed.emit(self.servers)
