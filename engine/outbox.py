"""The persistent outbox: messages waiting to reach the server.

Each entry keeps the transaction ID it was first given, so sending it again
after a lost connection or an app restart cannot create a second copy: the
server recognises the ID from the same device and returns the first event.

Storage is one SQLite file per account (WAL mode). The entries live in memory
for reads; every change is also handed to a single writer thread, which
commits whatever has queued up in one transaction. So queuing 140 parts of a
long paste is one commit, a confirmation deletes one row, and the event loop
never waits on the disk. A file or row that cannot be read is set aside (never
deleted) and reported in ``problems``; it never stops sign-in.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import enum
import hashlib
import json
import logging
import queue
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from engine.errors import OutboxStoreError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    txn_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    room_id TEXT NOT NULL,
    content TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    failed_reason TEXT,
    extra TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS unreadable (
    set_aside_ms INTEGER NOT NULL,
    row TEXT NOT NULL
);
"""
_COLUMNS = "txn_id, position, room_id, content, created_ms, failed_reason, extra"
# Long enough to ride out a checkpoint or a backup tool; short enough that a
# second copy of Confero holding the file shows up as a problem, not a hang.
DEFAULT_BUSY_TIMEOUT_S = 3.0


def new_transaction_id() -> str:
    return f"confero-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class OutboxEntry:
    txn_id: str
    room_id: str
    content: dict[str, Any]
    created_ms: int
    failed_reason: str | None = None  # set when it could not be sent; cleared on retry
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.failed_reason is not None


class OutboxProblemKind(enum.Enum):
    #: The whole file could not be read (corrupt, wrong shape); it was set aside.
    UNREADABLE_FILE = "unreadable-file"
    #: Some entries could not be read; they were set aside, the rest kept.
    BAD_ENTRIES = "bad-entries"
    #: No file can be opened or created at all: messages cannot be saved.
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class LoadProblem:
    kind: OutboxProblemKind
    detail: str = ""  # the file set aside, or the number of entries, or the reason
    count: int = 0


def _outbox_name(user_id: str) -> str:
    return f"outbox-{hashlib.sha256(user_id.encode()).hexdigest()[:16]}"


def store_error_text(exc: BaseException) -> str:
    """A reason a person can read, for an OSError or SQLite error from the store."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return "the message store is in use by another program"
    if "full" in text:
        return "the disk is full"
    if "readonly" in text or "read-only" in text or "permission" in text:
        return "the folder cannot be written to"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return "the message store cannot be opened"


def _aside_path(path: Path) -> Path:
    candidate = path.with_name(path.name + ".unreadable")
    n = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.{n}.unreadable")
        n += 1
    return candidate


def _entry_from_row(row: tuple[Any, ...]) -> tuple[int, OutboxEntry] | None:
    """The entry in a database row, or None when the row holds bad data."""
    try:
        txn_id, position, room_id, content, created_ms, failed_reason, extra = row
        content, extra = json.loads(content), json.loads(extra)
    except (ValueError, TypeError):
        return None
    entry = _entry_from_fields(
        txn_id=txn_id,
        room_id=room_id,
        content=content,
        created_ms=created_ms,
        failed_reason=failed_reason,
        extra=extra,
    )
    if entry is None or not isinstance(position, int):
        return None
    return position, entry


def _entry_from_fields(**fields: Any) -> OutboxEntry | None:
    """A checked entry: the shapes the sender relies on, or None."""
    content, extra = fields.get("content"), fields.get("extra", {})
    ok = (
        isinstance(fields.get("txn_id"), str)
        and bool(fields["txn_id"])
        and isinstance(fields.get("room_id"), str)
        and fields["room_id"].startswith("!")
        and isinstance(content, dict)
        and isinstance(content.get("msgtype"), str)
        and isinstance(content.get("body"), str)
        and isinstance(fields.get("created_ms"), int)
        and not isinstance(fields["created_ms"], bool)
        and (fields.get("failed_reason") is None or isinstance(fields["failed_reason"], str))
        and isinstance(extra, dict)
        and set(fields) <= {"txn_id", "room_id", "content", "created_ms", "failed_reason", "extra"}
    )
    return OutboxEntry(**fields) if ok else None


def _row(position: int, entry: OutboxEntry) -> tuple[Any, ...]:
    return (
        entry.txn_id,
        position,
        entry.room_id,
        json.dumps(entry.content),
        entry.created_ms,
        entry.failed_reason,
        json.dumps(entry.extra),
    )


@dataclass
class _Loaded:
    entries: list[tuple[int, OutboxEntry]]
    problems: list[LoadProblem]


class _Writer:
    """Owns the SQLite connection on its own thread; runs batches of writes."""

    def __init__(self, directory: Path, name: str, busy_timeout_s: float) -> None:
        self.path = directory / f"{name}.sqlite3"
        self.json_path = directory / f"{name}.json"
        self._directory = directory
        self._busy_timeout_s = busy_timeout_s
        self._conn: sqlite3.Connection | None = None
        self._queue: queue.SimpleQueue[tuple[Any, concurrent.futures.Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self._stale_deletes: set[str] = set()  # confirmed, but the delete did not commit yet
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="confero-outbox", daemon=True)
        self._thread.start()

    # -- called from the event loop's thread

    def submit(self, op: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        if self._stopped:
            future.set_exception(OutboxStoreError("the message store is closed"))
        else:
            self._queue.put((op, future))
        return future

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self) -> concurrent.futures.Future[Any]:
        future = self.submit(("close",))
        self._stopped = True
        self._queue.put(None)
        return future

    # -- the writer thread

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < 2000:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # handled after this batch
                    break
                batch.append(more)
            self._run_batch(batch)

    def _run_batch(self, batch: list[tuple[Any, concurrent.futures.Future[Any]]]) -> None:
        special = [(op, f) for op, f in batch if op[0] in ("load", "close")]
        writes = [(op, f) for op, f in batch if op[0] not in ("load", "close")]
        if writes:
            try:
                self._write([op for op, _ in writes])
            except (OSError, sqlite3.Error) as exc:
                log.warning("outbox write failed: %s", exc)
                error = OutboxStoreError(store_error_text(exc))
                for _, future in writes:
                    future.set_exception(error)
            else:
                for _, future in writes:
                    future.set_result(None)
        for op, future in special:
            try:
                future.set_result(self._load() if op[0] == "load" else self._close())
            except Exception as exc:  # never leave the loop waiting
                future.set_exception(exc)

    def _write(self, ops: list[Any]) -> None:
        # Deletes are remembered until they commit: if this batch fails, the
        # next one (or the next start) still drops the confirmed entries.
        for op in ops:
            if op[0] == "delete":
                self._stale_deletes.update(op[1])
        conn = self._conn or self._connect()
        with conn:  # one transaction for the whole batch
            for op in ops:
                if op[0] == "upsert":
                    conn.executemany(
                        f"INSERT INTO outbox ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT(txn_id) DO UPDATE SET failed_reason = excluded.failed_reason",
                        op[1],
                    )
            if self._stale_deletes:
                conn.executemany(
                    "DELETE FROM outbox WHERE txn_id = ?", [(t,) for t in self._stale_deletes]
                )
        self._stale_deletes.clear()

    def _connect(self) -> sqlite3.Connection:
        self._directory.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout_s, isolation_level=None)
        try:
            conn.isolation_level = ""  # "with conn" opens and commits transactions
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # a queued message survives power loss
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute(f"SELECT {_COLUMNS} FROM outbox LIMIT 0")
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _load(self) -> _Loaded:
        problems: list[LoadProblem] = []
        try:
            conn = self._open_or_set_aside(problems)
        except (OSError, sqlite3.Error) as exc:
            log.error("outbox cannot be opened: %s", exc)
            problems.append(LoadProblem(OutboxProblemKind.UNAVAILABLE, store_error_text(exc)))
            return _Loaded([], problems)
        entries, bad = [], []
        for row in conn.execute(f"SELECT {_COLUMNS} FROM outbox ORDER BY position"):
            if (loaded := _entry_from_row(row)) is not None:
                entries.append(loaded)
            else:
                bad.append(row)
        if bad:
            log.error("%d outbox rows unreadable; setting them aside", len(bad))
            with conn:
                conn.executemany(
                    "INSERT INTO unreadable (set_aside_ms, row) "
                    "VALUES (CAST(strftime('%s','now') AS INTEGER) * 1000, ?)",
                    [(json.dumps([repr(v) for v in row]),) for row in bad],
                )
                conn.executemany("DELETE FROM outbox WHERE txn_id IS ?", [(r[0],) for r in bad])
            problems.append(LoadProblem(OutboxProblemKind.BAD_ENTRIES, count=len(bad)))
        entries += self._migrate_json(conn, entries, problems)
        return _Loaded(entries, problems)

    def _open_or_set_aside(self, problems: list[LoadProblem]) -> sqlite3.Connection:
        try:
            return self._connect()
        except sqlite3.DatabaseError as exc:
            situation = isinstance(exc, sqlite3.OperationalError) and (
                "locked" in str(exc) or "readonly" in str(exc)
            )
            if not self.path.exists() or situation:
                raise  # nothing to set aside: the file is fine, the situation is not
            log.error("outbox file unreadable (%s); setting it aside", exc)
        aside = _aside_path(self.path)
        self.path.rename(aside)
        for suffix in ("-wal", "-shm"):
            sidecar = self.path.with_name(self.path.name + suffix)
            if sidecar.exists():
                sidecar.rename(aside.with_name(aside.name + suffix))
        problems.append(LoadProblem(OutboxProblemKind.UNREADABLE_FILE, aside.name))
        return self._connect()

    def _migrate_json(
        self,
        conn: sqlite3.Connection,
        known: list[tuple[int, OutboxEntry]],
        problems: list[LoadProblem],
    ) -> list[tuple[int, OutboxEntry]]:
        """Move the outbox of versions before SQLite into the database, once."""
        try:
            raw = json.loads(self.json_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            raw = None
        items = raw if isinstance(raw, list) else []
        good = [e for item in items if isinstance(item, dict) and (e := _entry_from_fields(**item))]
        seen = {entry.txn_id for _, entry in known}
        position = max((p for p, _ in known), default=0)
        added = []
        for entry in good:
            if entry.txn_id not in seen:
                position += 1
                seen.add(entry.txn_id)
                added.append((position, entry))
        with conn:
            conn.executemany(
                f"INSERT OR IGNORE INTO outbox ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [_row(p, e) for p, e in added],
            )
        if raw is None or not isinstance(raw, list):
            aside = _aside_path(self.json_path)
            self.json_path.rename(aside)
            problems.append(LoadProblem(OutboxProblemKind.UNREADABLE_FILE, aside.name))
        elif len(good) < len(items):
            aside = _aside_path(self.json_path)
            self.json_path.rename(aside)
            problems.append(
                LoadProblem(OutboxProblemKind.BAD_ENTRIES, aside.name, len(items) - len(good))
            )
        else:
            self.json_path.unlink()
        return added


class Outbox:
    """Ordered entries for one account: read from memory, saved off the event loop.

    Write methods change the entries at once and return a future that resolves
    when the change is on disk, or fails with OutboxStoreError. Entries whose
    first save has not committed are not ``pending()``: nothing is sent that
    would be lost by quitting.
    """

    def __init__(self, writer: _Writer, loaded: _Loaded) -> None:
        self._writer = writer
        self._entries: dict[str, OutboxEntry] = {e.txn_id: e for _, e in loaded.entries}
        self._positions: dict[str, int] = {e.txn_id: p for p, e in loaded.entries}
        self._next_position = max(self._positions.values(), default=0) + 1
        self._unsaved: set[str] = set()
        self._local_failures: set[str] = set()  # failed here (store, bug), not by the server
        self.problems: tuple[LoadProblem, ...] = tuple(loaded.problems)
        self._healthy = not any(p.kind is OutboxProblemKind.UNAVAILABLE for p in loaded.problems)
        #: Called on the event loop when saving starts failing (the error) or works again (None).
        self.on_health_change: Callable[[OutboxStoreError | None], None] | None = None

    @classmethod
    async def open(
        cls, directory: Path, user_id: str, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S
    ) -> Outbox:
        writer = _Writer(directory, _outbox_name(user_id), busy_timeout_s)
        loaded = await asyncio.wrap_future(writer.submit(("load",)))
        return cls(writer, loaded)

    @property
    def path(self) -> Path:
        return self._writer.path

    @property
    def healthy(self) -> bool:
        """False while saving fails (disk full, file locked, folder not writable)."""
        return self._healthy

    async def close(self) -> None:
        """Finish the writes already queued, then stop the writer thread."""
        if not self._writer.stopped:
            await asyncio.wrap_future(self._writer.stop())

    def entries(self) -> list[OutboxEntry]:
        return list(self._entries.values())

    def pending(self) -> list[OutboxEntry]:
        return [e for e in self._entries.values() if not e.failed and e.txn_id not in self._unsaved]

    def locally_failed(self) -> list[OutboxEntry]:
        return [e for e in self._entries.values() if e.txn_id in self._local_failures]

    def get(self, txn_id: str) -> OutboxEntry | None:
        return self._entries.get(txn_id)

    def add(self, entries: Iterable[OutboxEntry]) -> asyncio.Future[None]:
        """Queue entries, in order, saved in one transaction."""
        rows = []
        for entry in entries:
            self._entries[entry.txn_id] = entry
            self._positions[entry.txn_id] = self._next_position
            self._next_position += 1
            self._unsaved.add(entry.txn_id)
            rows.append(_row(self._positions[entry.txn_id], entry))
        return self._save(rows)

    def mark_failed(self, txn_id: str, reason: str, *, local: bool = False) -> asyncio.Future[None]:
        if entry := self._entries.get(txn_id):
            self._entries[txn_id] = entry = replace(entry, failed_reason=reason)
            if local:
                self._local_failures.add(txn_id)
            return self._save([_row(self._positions[txn_id], entry)])
        return self._done()

    def mark_pending(self, txn_id: str) -> asyncio.Future[None]:
        """Clear the failure; saves the whole entry again in case it was never saved."""
        if entry := self._entries.get(txn_id):
            self._entries[txn_id] = entry = replace(entry, failed_reason=None)
            self._local_failures.discard(txn_id)
            self._unsaved.add(txn_id)
            return self._save([_row(self._positions[txn_id], entry)])
        return self._done()

    def remove(self, txn_id: str) -> asyncio.Future[None]:
        """Forget a confirmed entry. Callers need not await: failures are reported."""
        if self._entries.pop(txn_id, None) is None:
            return self._done()
        self._positions.pop(txn_id, None)
        self._unsaved.discard(txn_id)
        self._local_failures.discard(txn_id)
        return self._track(self._writer.submit(("delete", [txn_id])), ())

    # -- internals

    def _save(self, rows: list[tuple[Any, ...]]) -> asyncio.Future[None]:
        return self._track(self._writer.submit(("upsert", rows)), [r[0] for r in rows])

    def _track(
        self, future: concurrent.futures.Future[Any], txn_ids: Iterable[str]
    ) -> asyncio.Future[None]:
        txn_ids = list(txn_ids)
        result = asyncio.wrap_future(future)

        def done(f: asyncio.Future[None]) -> None:
            error = f.exception() if not f.cancelled() else None  # marks it retrieved
            if error is None:
                self._unsaved.difference_update(txn_ids)
            self._set_health(error if isinstance(error, OutboxStoreError) else None)

        result.add_done_callback(done)
        return result

    def _set_health(self, error: OutboxStoreError | None) -> None:
        if (error is None) != self._healthy:
            self._healthy = error is None
            if self.on_health_change is not None:
                self.on_health_change(error)

    @staticmethod
    def _done() -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future
