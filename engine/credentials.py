"""Access tokens in the OS credential store (keyring), and nowhere else.

A "slot" names one remembered sign-in: "local" for the embedded server,
"remote" for a server the user signed in to.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import asdict, dataclass

import keyring
from keyring.backend import KeyringBackend
from keyring.backends.fail import Keyring as FailKeyring
from keyring.errors import KeyringError, NoKeyringError, PasswordDeleteError

from engine.errors import CredentialStoreUnavailable

log = logging.getLogger(__name__)

SERVICE = "org.confero.Confero"


@dataclass(frozen=True)
class StoredSession:
    homeserver_url: str
    user_id: str
    device_id: str
    access_token: str

    def __repr__(self) -> str:  # never print the token, even by accident
        return f"StoredSession({self.homeserver_url!r}, {self.user_id!r}, {self.device_id!r}, ***)"


class CredentialStore:
    """Sign-ins kept in the OS keyring (or in ``backend``, for tests and embedding)."""

    def __init__(self, service: str = SERVICE, backend: KeyringBackend | None = None) -> None:
        self._service = service
        self._backend = backend

    def _keyring(self) -> KeyringBackend:
        return self._backend or keyring.get_keyring()

    def available(self) -> bool:
        try:
            backend = self._keyring()
            return not isinstance(backend, FailKeyring) and float(backend.priority) > 0
        except Exception:  # a broken backend is as good as none
            return False

    def save(self, slot: str, session: StoredSession) -> None:
        try:
            self._keyring().set_password(self._service, slot, json.dumps(asdict(session)))
        except (NoKeyringError, KeyringError, RuntimeError) as exc:
            log.info("keyring unavailable: %s", type(exc).__name__)
            raise CredentialStoreUnavailable() from exc

    def load(self, slot: str) -> StoredSession | None:
        try:
            raw = self._keyring().get_password(self._service, slot)
        except (NoKeyringError, KeyringError, RuntimeError):
            return None
        if not raw:
            return None
        try:
            return StoredSession(**json.loads(raw))
        except (TypeError, ValueError):
            log.warning("ignoring an unreadable keyring entry for slot %s", slot)
            return None

    def delete(self, slot: str) -> None:
        with contextlib.suppress(PasswordDeleteError, NoKeyringError, KeyringError, RuntimeError):
            self._keyring().delete_password(self._service, slot)
