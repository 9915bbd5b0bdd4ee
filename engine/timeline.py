"""One room's transcript as the engine knows it: pure state, no I/O.

It merges three sources into one ordered list without duplicates: live
events from sync, older history from pagination, and our own local echoes
(keyed by transaction ID until the server's copy arrives).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from engine.models import Message, MessageState


@dataclass(frozen=True, slots=True)
class Appended:
    message: Message


@dataclass(frozen=True, slots=True)
class Changed:
    message: Message


TimelineChange = Appended | Changed


class Timeline:
    def __init__(self, room_id: str) -> None:
        self.room_id = room_id
        self._messages: list[Message] = []
        self._index_by_key: dict[str, int] = {}
        self._key_by_event_id: dict[str, str] = {}
        self.prev_batch: str | None = None  # token for loading older history
        self.reached_start = False
        # Names from member events seen so far: history can name people who
        # have left the room since (the room's member list no longer has them).
        self.member_names: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._messages)

    def messages(self) -> list[Message]:
        return list(self._messages)

    def get(self, key: str) -> Message | None:
        index = self._index_by_key.get(key)
        return None if index is None else self._messages[index]

    def last(self) -> Message:
        return self._messages[-1]

    def last_event_id(self) -> str | None:
        for message in reversed(self._messages):
            if message.event_id:
                return message.event_id
        return None

    def add_local_echo(self, message: Message) -> Appended:
        self._append(message)
        return Appended(message)

    def add_remote(
        self, message: Message, transaction_id: str | None = None
    ) -> TimelineChange | None:
        """Add a live event; our own echo (same transaction ID) becomes Sent instead."""
        if message.event_id and message.event_id in self._key_by_event_id:
            key = self._key_by_event_id[message.event_id]
            return self._settle(key, message.event_id, message.timestamp_ms)
        if transaction_id and transaction_id in self._index_by_key:
            return self._settle(transaction_id, message.event_id, message.timestamp_ms)
        self._append(message)
        return Appended(message)

    def mark_sent(self, key: str, event_id: str) -> Changed | None:
        return self._settle(key, event_id, None)

    def set_state(self, key: str, state: MessageState, error: str | None = None) -> Changed | None:
        current = self.get(key)
        if current is None or (current.state == state and current.error == error):
            return None
        return self._replace(key, replace(current, state=state, error=error))

    def prepend(self, older: list[Message]) -> list[Message]:
        """Insert older history (oldest first) at the top, skipping what we have."""
        fresh = [m for m in older if not (m.event_id and m.event_id in self._key_by_event_id)]
        if not fresh:
            return []
        self._messages[:0] = fresh
        self._reindex()
        return fresh

    def _settle(self, key: str, event_id: str | None, timestamp_ms: int | None) -> Changed | None:
        current = self.get(key)
        if current is None:
            return None
        if current.state == MessageState.RECEIVED or (
            current.state == MessageState.SENT and current.event_id == event_id
        ):
            return None
        updated = replace(
            current,
            state=MessageState.SENT,
            event_id=event_id or current.event_id,
            error=None,
            timestamp_ms=timestamp_ms or current.timestamp_ms,
        )
        return self._replace(key, updated)

    def _replace(self, key: str, message: Message) -> Changed:
        self._messages[self._index_by_key[key]] = message
        if message.event_id:
            self._key_by_event_id[message.event_id] = key
        return Changed(message)

    def _append(self, message: Message) -> None:
        self._index_by_key[message.key] = len(self._messages)
        self._messages.append(message)
        if message.event_id:
            self._key_by_event_id[message.event_id] = message.key

    def _reindex(self) -> None:
        self._index_by_key = {m.key: i for i, m in enumerate(self._messages)}
        self._key_by_event_id = {m.event_id: m.key for m in self._messages if m.event_id}
