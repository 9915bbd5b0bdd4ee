"""A keyring backend for benchmarks only: a 0600 JSON file in the benchmark's temp dir.

The benchmark starts the real app in fresh processes that must sign in from a
remembered token; CI machines have no desktop keyring, so this stands in for
one. Selected with PYTHON_KEYRING_BACKEND=bench.file_keyring.FileKeyring.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

PATH_ENV = "CONFERO_BENCH_KEYRING"


class FileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def _path(self) -> Path:
        return Path(os.environ[PATH_ENV])

    def _read(self) -> dict[str, str]:
        try:
            return json.loads(self._path().read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def _write(self, entries: dict[str, str]) -> None:
        path = self._path()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(entries, handle)

    def get_password(self, service: str, username: str) -> str | None:
        return self._read().get(f"{service}\n{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        entries = self._read()
        entries[f"{service}\n{username}"] = password
        self._write(entries)

    def delete_password(self, service: str, username: str) -> None:
        entries = self._read()
        if entries.pop(f"{service}\n{username}", None) is None:
            raise PasswordDeleteError(username)
        self._write(entries)
