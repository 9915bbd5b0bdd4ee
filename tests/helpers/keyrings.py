"""Keyring backends for tests, so the real OS keyring is never touched."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

import keyring.core
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import NoKeyringError, PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class NoKeyring(KeyringBackend):
    """What a system without any usable credential store looks like."""

    priority = 0  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise NoKeyringError("No recommended backend was available.")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NoKeyringError("No recommended backend was available.")

    def delete_password(self, service: str, username: str) -> None:
        raise NoKeyringError("No recommended backend was available.")


class BlockingKeyring(MemoryKeyring):
    """A keyring that answers only once released, like a locked one whose prompt is up.

    ``asked`` is set as soon as a call is waiting. ``release()`` lets every
    call through (and later ones answer at once); ``release_after(s)`` is a
    safety net so a test of code that waits on the UI thread ends instead of
    hanging forever.
    """

    def __init__(self) -> None:
        super().__init__()
        self.asked = threading.Event()
        self.calls: list[str] = []
        self._released = threading.Event()
        self._timers: list[threading.Timer] = []

    def release(self) -> None:
        self._released.set()

    def release_after(self, seconds: float) -> None:
        timer = threading.Timer(seconds, self.release)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def close(self) -> None:
        """End of test: let any stuck call go and stop the safety timers."""
        self.release()
        for timer in self._timers:
            timer.cancel()

    def _wait(self, what: str) -> None:
        self.calls.append(what)
        self.asked.set()
        self._released.wait()

    def get_password(self, service: str, username: str) -> str | None:
        self._wait("get")
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._wait("set")
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._wait("delete")
        super().delete_password(service, username)


# -- keeping the suite away from the developer's own keyring ------------------------

#: Modules of the keyring backends that talk to a real OS credential store.
REAL_BACKEND_MODULES = (
    "keyring.backends.SecretService",
    "keyring.backends.libsecret",
    "keyring.backends.kwallet",
    "keyring.backends.macOS",
    "keyring.backends.Windows",
    "keyring.backends.chainer",
)


class RealKeyringReached(AssertionError):
    """A test reached a real OS keyring backend (or keyring's own backend detection)."""


def real_backend_classes() -> list[type[KeyringBackend]]:
    """The real backends' classes that can be imported here."""
    found: list[type[KeyringBackend]] = []
    for name in REAL_BACKEND_MODULES:
        try:
            module = importlib.import_module(name)
        except Exception:  # not for this OS (macOS, Windows): nothing to guard
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, KeyringBackend)
                and value.__module__.startswith(name)
            ):
                found.append(value)
    return found


def guard_real_keyrings(monkeypatch: pytest.MonkeyPatch, hits: list[str]) -> None:
    """Make every way into a real keyring record a hit and raise RealKeyringReached."""

    def refuse(what: str) -> Callable[..., Any]:
        def refused(*_args: Any, **_kwargs: Any) -> Any:
            hits.append(what)
            raise RealKeyringReached(f"a test reached the real keyring ({what})")

        return refused

    for cls in real_backend_classes():
        for method in ("get_password", "set_password", "delete_password", "get_credential"):
            if method in vars(cls):
                monkeypatch.setattr(cls, method, refuse(f"{cls.__module__}.{method}"))
    # The default backend is chosen by detection; tests set one, so detection is a leak.
    monkeypatch.setattr(keyring.core, "init_backend", refuse("keyring.core.init_backend"))
