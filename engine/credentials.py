"""Access tokens in the OS credential store (keyring), and nowhere else.

A "slot" names one remembered sign-in: "local" for the embedded server,
"remote" for a server the user signed in to.

The system keyring can take as long as it likes to answer: a locked GNOME
keyring asks the user for a password over D-Bus, and ``get_password`` waits
for them. So every call runs on a thread of the store's own (a daemon thread,
so a call that never returns cannot keep the process alive, and no event loop
executor has to join it at exit), the caller awaits it with a timeout, and the
store reports when a call is slow so the UI can offer to go on without it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import enum
import json
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import keyring
from keyring.backend import KeyringBackend
from keyring.backends.fail import Keyring as FailKeyring
from keyring.errors import KeyringError, NoKeyringError, PasswordDeleteError

from engine.errors import CredentialStoreNotAnswering, CredentialStoreUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

SERVICE = "org.confero.Confero"
#: After this long a keyring call counts as slow: the system is probably asking the user.
SLOW_AFTER_S = 0.5
#: A call that has not answered after this long is given up (a prompt nobody answers).
TIMEOUT_S = 120.0
#: Forgetting a dead token waits at most this long; the deletion still happens later.
FORGET_WAIT_S = 3.0
#: The worker thread ends after this long without work (a new call starts it again).
_IDLE_EXIT_S = 10.0
_BACKEND_ERRORS = (NoKeyringError, KeyringError, RuntimeError)


@dataclass(frozen=True)
class StoredSession:
    homeserver_url: str
    user_id: str
    device_id: str
    access_token: str
    #: SHA-256 (hex) of the server certificate a guest account pins; "" for CA-checked TLS.
    pinned_fingerprint: str = ""

    def __repr__(self) -> str:  # never print the token, even by accident
        return f"StoredSession({self.homeserver_url!r}, {self.user_id!r}, {self.device_id!r}, ***)"


class CredentialStoreState(enum.Enum):
    """What the store is doing, for the UI to put into words."""

    READY = "ready"  # idle, or answering promptly
    WAITING = "waiting"  # a call is slow: the system is probably asking the user something
    SKIPPED = "skipped"  # the person chose to go on without the store (for this run)


StateObserver = Callable[[CredentialStoreState], None]


class _KeyringThread:
    """One daemon thread that runs keyring calls in order, one at a time.

    Keyring backends are not known to be thread-safe, and a prompt serialises
    them anyway; a call queued behind a stuck one waits its turn (and its
    caller gives up at the timeout).
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[tuple[concurrent.futures.Future[Any], Callable[[], Any]]]
        self._jobs = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._busy = False

    def submit(self, work: Callable[[], T]) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._lock:
            self._jobs.put((future, work))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
                self._thread.start()
        return future

    def _serve(self) -> None:
        while True:
            try:
                future, work = self._jobs.get(timeout=_IDLE_EXIT_S)
            except queue.Empty:
                with self._lock:
                    if self._jobs.empty():  # else submit() saw us alive: keep serving
                        self._thread = None
                        return
                continue
            if not future.set_running_or_notify_cancel():
                continue  # given up before it started: never touch the keyring for it
            try:
                result = work()
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)


class CredentialStore:
    """Sign-ins kept in the OS keyring (or in ``backend``, for tests and embedding).

    All methods that touch the keyring are coroutines; the keyring itself is
    only ever called on the store's worker thread.
    """

    def __init__(
        self,
        service: str = SERVICE,
        backend: KeyringBackend | None = None,
        *,
        timeout_s: float = TIMEOUT_S,
        slow_after_s: float = SLOW_AFTER_S,
    ) -> None:
        self._service = service
        self._backend = backend
        self._timeout_s = timeout_s
        self._slow_after_s = slow_after_s
        self._worker = _KeyringThread(f"confero-keyring-{id(self):x}")
        self._state = CredentialStoreState.READY
        self._observers: list[StateObserver] = []
        self._give_ups: set[asyncio.Future[None]] = set()  # one per call being awaited
        self._slow: set[asyncio.Future[None]] = set()  # those of the calls that are slow

    # -- state for the UI ---------------------------------------------------------

    @property
    def state(self) -> CredentialStoreState:
        return self._state

    def subscribe(self, observer: StateObserver) -> Callable[[], None]:
        """Call ``observer(state)`` on every change of ``state``; returns an unsubscribe."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer) if observer in self._observers else None

    def skip(self) -> None:
        """Go on without the keyring for the rest of this run ("Continue without remembering").

        Calls being awaited give up at once, and no later call touches the
        keyring. A save the keyring is still busy with is undone when it
        answers, so the token is not kept after all.
        """
        if self._state is CredentialStoreState.SKIPPED:
            return
        for give_up in list(self._give_ups):
            if not give_up.done():
                give_up.set_result(None)
        self._set_state(CredentialStoreState.SKIPPED)

    # -- the keyring --------------------------------------------------------------

    async def available(self) -> bool:
        """Whether a usable keyring backend is installed (may itself ask D-Bus)."""
        if self._state is CredentialStoreState.SKIPPED:
            return False
        try:
            return await self._call(self._backend_is_usable)
        except CredentialStoreUnavailable:
            return False

    async def save(self, slot: str, session: StoredSession) -> None:
        """Remember ``session``; raises CredentialStoreUnavailable (or …NotAnswering)."""
        secret = json.dumps(asdict(session))
        saved = threading.Event()

        def work() -> None:
            self._keyring().set_password(self._service, slot, secret)
            saved.set()

        def undo() -> None:
            # Runs on the keyring thread after ``work``: if the save landed
            # after all, take it back, so "not remembered" stays true.
            if saved.is_set():
                log.info("the keyring answered after we gave up; forgetting the sign-in again")
                self._delete_work(slot)()

        try:
            await self._call(work, on_give_up=lambda: self._worker.submit(undo))
        except CredentialStoreUnavailable:
            raise
        except _BACKEND_ERRORS as exc:
            log.info("keyring unavailable: %s", type(exc).__name__)
            raise CredentialStoreUnavailable() from exc

    async def load(self, slot: str) -> StoredSession | None:
        """The remembered session, or None (nothing stored, no keyring, or it did not answer)."""
        try:
            raw = await self._call(lambda: self._keyring().get_password(self._service, slot))
        except CredentialStoreUnavailable as exc:
            log.info("no remembered sign-in: %s", type(exc).__name__)
            return None
        except _BACKEND_ERRORS:
            return None
        if not raw:
            return None
        try:
            return StoredSession(**json.loads(raw))
        except (TypeError, ValueError):
            log.warning("ignoring an unreadable keyring entry for slot %s", slot)
            return None

    async def delete(self, slot: str, *, wait_s: float | None = None) -> None:
        """Forget ``slot``. Waits at most ``wait_s`` (default: the store's timeout).

        The deletion itself is not given up: if the keyring is slow, it
        happens when the keyring answers.
        """
        try:
            await self._call(self._delete_work(slot), wait_s=wait_s, keep_queued=True)
        except CredentialStoreUnavailable as exc:
            log.info("the remembered sign-in was not deleted yet: %s", type(exc).__name__)

    def forget(self, slot: str) -> None:
        """Queue the deletion of ``slot`` without waiting for it (a dead token)."""
        if self._state is not CredentialStoreState.SKIPPED:
            self._worker.submit(self._delete_work(slot))

    # -- internals ----------------------------------------------------------------

    def _keyring(self) -> KeyringBackend:
        # keyring.get_keyring() may probe D-Bus the first time: worker thread only.
        return self._backend or keyring.get_keyring()

    def _backend_is_usable(self) -> bool:
        try:
            backend = self._keyring()
            return not isinstance(backend, FailKeyring) and float(backend.priority) > 0
        except Exception:  # a broken backend is as good as none
            return False

    def _delete_work(self, slot: str) -> Callable[[], None]:
        def work() -> None:
            try:
                self._keyring().delete_password(self._service, slot)
            except (PasswordDeleteError, *_BACKEND_ERRORS):
                pass  # nothing stored, or no keyring: forgotten either way

        return work

    async def _call(
        self,
        work: Callable[[], T],
        *,
        wait_s: float | None = None,
        keep_queued: bool = False,
        on_give_up: Callable[[], None] | None = None,
    ) -> T:
        """Run ``work`` on the keyring thread and await it, giving up on timeout or skip.

        Raises CredentialStoreNotAnswering when giving up. A call given up
        before it started never runs, unless ``keep_queued``.
        """
        if self._state is CredentialStoreState.SKIPPED:
            raise CredentialStoreNotAnswering()
        loop = asyncio.get_running_loop()
        job = self._worker.submit(work)
        result: asyncio.Future[T] = loop.create_future()
        job.add_done_callback(lambda done: _hand_over(loop, done, result))
        give_up: asyncio.Future[None] = loop.create_future()
        self._give_ups.add(give_up)
        slow = loop.call_later(self._slow_after_s, self._on_slow, give_up)
        try:
            await asyncio.wait(
                (result, give_up),
                timeout=self._timeout_s if wait_s is None else wait_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            slow.cancel()
            self._give_ups.discard(give_up)
            self._on_call_ended(give_up)
            if not result.done():  # timed out, skipped or cancelled: stop waiting for it
                result.cancel()
                if not keep_queued:
                    job.cancel()  # a job not started yet never runs
                if on_give_up is not None:
                    on_give_up()
        if not result.cancelled():
            return result.result()
        log.info("the keyring did not answer; going on without it")
        raise CredentialStoreNotAnswering()

    def _on_slow(self, give_up: asyncio.Future[None]) -> None:
        self._slow.add(give_up)
        if self._state is CredentialStoreState.READY:
            self._set_state(CredentialStoreState.WAITING)

    def _on_call_ended(self, give_up: asyncio.Future[None]) -> None:
        if give_up in self._slow:
            self._slow.discard(give_up)
            if not self._slow and self._state is CredentialStoreState.WAITING:
                self._set_state(CredentialStoreState.READY)

    def _set_state(self, state: CredentialStoreState) -> None:
        if state is self._state:
            return
        self._state = state
        for observer in list(self._observers):
            try:
                observer(state)
            except Exception:  # an observer's bug must not break sign-in
                log.exception("credential store observer failed")


def _hand_over(
    loop: asyncio.AbstractEventLoop,
    job: concurrent.futures.Future[Any],
    result: asyncio.Future[Any],
) -> None:
    """On the keyring thread: pass the job's outcome to the awaiting loop, if still there."""

    def copy() -> None:
        if result.done():
            return  # given up meanwhile
        if job.cancelled():
            result.cancel()
        elif (error := job.exception()) is not None:
            result.set_exception(error)
        else:
            result.set_result(job.result())

    with contextlib.suppress(Exception):  # the loop is closed: nobody is waiting any more
        loop.call_soon_threadsafe(copy)
