"""A daemon thread running its own asyncio loop, where every aiortc object lives.

The main (Qt) loop never runs media work: it awaits ``run(coro)``, whose result comes
back on the main loop. ``stop`` is bounded so quitting never hangs on a stuck peer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from engine.media.errors import MediaThreadStopped

log = logging.getLogger(__name__)

T = TypeVar("T")
Closer = Callable[[], Awaitable[None]]


class MediaThread:
    def __init__(self, name: str = "confero-media") -> None:
        self._loop = asyncio.new_event_loop()
        self._closers: list[Closer] = []
        self._stopping = False
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def in_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the media loop from any thread."""
        if self._stopping or self._loop.is_closed():
            coro.close()  # never awaited otherwise: avoid the RuntimeWarning
            raise MediaThreadStopped()
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the media loop; await its result on the calling loop.

        Cancelling the caller cancels the work on the media loop too.
        """
        return await asyncio.wrap_future(self.submit(coro))

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> None:
        """Fire and forget ``callback(*args)`` on the media loop."""
        if self._stopping or self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(callback, *args)

    def add_closer(self, closer: Closer) -> Callable[[], None]:
        """Register a coroutine function run on the media loop by ``stop``.

        Returns a function that unregisters it (call it when the object closes itself).
        """
        self._closers.append(closer)

        def remove() -> None:
            if closer in self._closers:
                self._closers.remove(closer)

        return remove

    def stop(self, timeout: float = 3.0) -> bool:
        """Close what registered a closer, then end the loop; wait at most ``timeout`` s.

        Safe from any thread but the media thread itself, and safe to call twice.
        Returns whether the thread has ended (a daemon thread left behind cannot keep
        the process alive).
        """
        if self.in_thread():
            raise RuntimeError("MediaThread.stop() called from the media thread")
        if not self._stopping and not self._loop.is_closed():
            self._stopping = True
            closers, self._closers = list(self._closers), []
            if closers:
                future = asyncio.run_coroutine_threadsafe(self._close_all(closers), self._loop)
                try:
                    future.result(timeout / 2)
                except concurrent.futures.TimeoutError:
                    log.warning("media objects did not close within %.1f s", timeout / 2)
                    future.cancel()
                except Exception:
                    log.exception("closing media objects failed")
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout / 2)
        return not self._thread.is_alive()

    @staticmethod
    async def _close_all(closers: list[Closer]) -> None:
        results = await asyncio.gather(*(closer() for closer in closers), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                log.warning("a media object failed to close: %r", result)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._finish()

    def _finish(self) -> None:
        # Cancel what is left so its cleanup runs, but give it only a moment.
        tasks = asyncio.all_tasks(self._loop)
        for task in tasks:
            task.cancel()
        if tasks:
            self._loop.run_until_complete(asyncio.wait(tasks, timeout=0.5))
        try:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        finally:
            self._loop.close()
