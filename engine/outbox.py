"""The persistent outbox: messages waiting to reach the server.

Each entry keeps the transaction ID it was first given, so sending it again
after a lost connection or an app restart cannot create a second copy: the
server recognises the ID from the same device and returns the first event.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def new_transaction_id() -> str:
    return f"confero-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class OutboxEntry:
    txn_id: str
    room_id: str
    content: dict[str, Any]
    created_ms: int
    failed_reason: str | None = None  # set when the server refused; cleared on retry
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.failed_reason is not None


class Outbox:
    """Ordered entries for one account, written to disk on every change."""

    def __init__(self, directory: Path, user_id: str) -> None:
        digest = hashlib.sha256(user_id.encode()).hexdigest()[:16]
        self._path = directory / f"outbox-{digest}.json"
        self._entries: dict[str, OutboxEntry] = {}
        self._load()

    def _load(self) -> None:
        try:
            raw = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError):
            log.error("outbox file unreadable; keeping it aside")
            self._path.rename(self._path.with_suffix(".unreadable"))
            return
        for item in raw:
            entry = OutboxEntry(**item)
            self._entries[entry.txn_id] = entry

    def _save(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps([asdict(e) for e in self._entries.values()]), encoding="utf-8")
        os.replace(tmp, self._path)

    def entries(self) -> list[OutboxEntry]:
        return list(self._entries.values())

    def pending(self) -> list[OutboxEntry]:
        return [e for e in self._entries.values() if not e.failed]

    def get(self, txn_id: str) -> OutboxEntry | None:
        return self._entries.get(txn_id)

    def add(self, entry: OutboxEntry) -> None:
        self._entries[entry.txn_id] = entry
        self._save()

    def mark_failed(self, txn_id: str, reason: str) -> None:
        if entry := self._entries.get(txn_id):
            self._entries[txn_id] = replace(entry, failed_reason=reason)
            self._save()

    def mark_pending(self, txn_id: str) -> None:
        if entry := self._entries.get(txn_id):
            self._entries[txn_id] = replace(entry, failed_reason=None)
            self._save()

    def remove(self, txn_id: str) -> None:
        if self._entries.pop(txn_id, None) is not None:
            self._save()
