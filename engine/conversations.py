"""Conversations: the conversation list, transcripts, typing, read markers, sending.

Two-party conversations are recorded in m.direct and start without an accept
dialog; queued messages live in the outbox (engine/outbox.py) until the server
confirms them. Built on the session's public interface; meetings are asked
only through Conferences' public ``is_conference``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from nio import (
    AsyncClient,
    ErrorResponse,
    MatrixRoom,
    MessageDirection,
    RoomCreateResponse,
    RoomMessagesResponse,
    RoomPreset,
    RoomSendResponse,
)
from nio.responses import RoomInfo

from engine import events as ev
from engine.errors import (
    HomeserverUnreachable,
    InvalidUserId,
    NotSignedIn,
    OutboxStoreError,
    ServerRefused,
    UnknownUser,
)
from engine.ids import parse_user_id
from engine.matrix_events import (
    direct_inviter,
    member_name,
    message_from_event,
    refusal_text,
    split_body,
)
from engine.models import (
    ConnectionState,
    ConversationInfo,
    ConversationKind,
    ConversationState,
    Message,
    MessageState,
    Presence,
)
from engine.outbox import (
    LoadProblem,
    Outbox,
    OutboxEntry,
    OutboxProblemKind,
    new_transaction_id,
)
from engine.presences import Presences
from engine.sanitize import clean_name
from engine.session import BACKOFF_STEPS, CONNECTION_ERRORS, Session
from engine.timeline import Appended, Changed, Timeline, TimelineChange

if TYPE_CHECKING:
    from engine.conferences import Conferences

log = logging.getLogger(__name__)

_NOW_ENCRYPTED = (
    "Not sent: this conversation is now end-to-end encrypted. "
    "Confero cannot send encrypted messages yet."
)


def _now_ms() -> int:
    return int(time.time() * 1000)


class Conversations:
    """Every room as a conversation, with its transcript and the outbox's sender."""

    def __init__(self, session: Session, presences: Presences, conferences: Conferences) -> None:
        self._session = session
        self._presences = presences
        self._conferences = conferences
        self._outbox: Outbox | None = None
        self._conversations: dict[str, ConversationInfo] = {}
        self._timelines: dict[str, Timeline] = {}
        self._typing: dict[str, tuple[str, ...]] = {}
        self._direct_peers: dict[str, str] = {}  # room_id -> peer user_id, from m.direct
        self._sender_task: asyncio.Task[None] | None = None
        self._outbox_kick = asyncio.Event()
        self._room_seen: dict[str, asyncio.Event] = {}
        self._accepting: set[str] = set()
        session.on_signed_in(self._open_outbox)
        session.on_starting(self._restore_outbox_echoes)
        session.on_started(self._start_sender)
        session.on_account_data(self._apply_account_data)
        session.on_invite(self._apply_invite)
        session.on_room_event(self._apply_room_event)
        session.on_joined_room(self._apply_joined_room)
        session.on_left_room(self._apply_left_room)
        session.on_synced(self._outbox_kick.set)
        session.on_reconnect_now(self._outbox_kick.set)
        session.on_close(self._close)
        presences.on_change(self._apply_presence)

    # ------------------------------------------------------------ reading

    def all(self) -> list[ConversationInfo]:
        """Every conversation, the most recently active first."""
        return sorted(self._conversations.values(), key=lambda c: -c.last_activity_ts)

    def conversation(self, room_id: str) -> ConversationInfo | None:
        return self._conversations.get(room_id)

    def messages(self, room_id: str) -> list[Message]:
        timeline = self._timelines.get(room_id)
        return timeline.messages() if timeline else []

    def typing_names(self, room_id: str) -> tuple[str, ...]:
        return self._typing.get(room_id, ())

    @property
    def outbox(self) -> Outbox:
        """The account's outbox (messages waiting for the server's confirmation)."""
        return self._require_outbox()

    # ------------------------------------------------------ life cycle

    def _start_sender(self) -> None:
        client = self._session.require_client()
        self._sender_task = asyncio.create_task(self._send_forever(client), name="confero-send")
        self._outbox_kick.set()

    async def _close(self) -> None:
        if self._sender_task is not None:
            self._sender_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sender_task
            self._sender_task = None
        if self._outbox is not None:
            await self._outbox.close()  # what is queued stays on disk

    # ------------------------------------------------------- applying a sync

    def _apply_account_data(self, event_type: str, content: dict[str, Any]) -> None:
        if event_type == "m.direct":
            self._apply_direct_map(content)

    def _apply_invite(self, room_id: str, invite_state: list[Any]) -> bool:
        client = self._session.require_client()
        inviter = direct_inviter(invite_state, client.user_id)
        if inviter and room_id not in self._accepting:
            self._accepting.add(room_id)
            self._session.spawn(self._accept_direct_invite(room_id, inviter))
        return bool(inviter)

    def _apply_room_event(
        self, room: MatrixRoom, source: dict[str, Any], in_timeline: bool
    ) -> None:
        if in_timeline:
            timeline = self._timelines.setdefault(room.room_id, Timeline(room.room_id))
            self._apply_timeline_event(room, timeline, source)

    def _apply_joined_room(self, room: MatrixRoom, info: RoomInfo) -> None:
        timeline = self._timelines.setdefault(room.room_id, Timeline(room.room_id))
        if timeline.prev_batch is None and not timeline.reached_start:
            # The first page we see of a room is where history loading starts.
            timeline.prev_batch = info.timeline.prev_batch
        self._apply_ephemeral(room, info.ephemeral)
        self._refresh_conversation(room)
        if waiter := self._room_seen.get(room.room_id):
            waiter.set()

    def _apply_left_room(self, room_id: str, events: list[dict[str, Any]]) -> None:
        if room_id in self._conversations:
            info = self._conversations[room_id]
            self._publish_conversation(replace(info, state=ConversationState.TERMINATED))

    def _apply_presence(self, user_id: str, presence: Presence) -> None:
        if user_id == self._session.user_id:
            return
        for info in list(self._conversations.values()):
            if info.peer_user_id == user_id and info.peer_presence != presence:
                self._publish_conversation(replace(info, peer_presence=presence))

    def _apply_direct_map(self, content: dict[str, Any]) -> None:
        for peer, rooms in content.items():
            if isinstance(rooms, list):
                for room_id in rooms:
                    if isinstance(room_id, str):
                        self._direct_peers[room_id] = peer

    async def _accept_direct_invite(self, room_id: str, inviter: str) -> None:
        """A two-party chat just starts, as in Teams: no accept dialog."""
        client = self._session.require_client()
        try:
            await client.join(room_id)
            self._direct_peers[room_id] = inviter
            await self._store_direct_room(inviter, room_id)
        except CONNECTION_ERRORS:
            pass  # the invite is still there at the next sync
        finally:
            self._accepting.discard(room_id)

    def _apply_timeline_event(self, room: MatrixRoom, timeline: Timeline, source: dict) -> None:
        message = self._message_from_event(room, source)
        if message is None:
            return
        txn_id = (source.get("unsigned") or {}).get("transaction_id")
        change = timeline.add_remote(message, transaction_id=txn_id)
        if txn_id and self._outbox and self._outbox.get(txn_id):
            self._outbox.remove(txn_id)
        self._publish_timeline_change(change)

    def _message_from_event(self, room: MatrixRoom, source: dict) -> Message | None:
        names = self._timelines.setdefault(room.room_id, Timeline(room.room_id)).member_names
        if named := member_name(source):
            names[named[0]] = named[1]
        return message_from_event(
            source,
            room.room_id,
            room.own_user_id,
            lambda user: room.user_name(user) or names.get(user) or user,
        )

    def _apply_ephemeral(self, room: MatrixRoom, events: list) -> None:
        for event in events:
            source = getattr(event, "source", None) or {}
            if source.get("type") == "m.typing" or type(event).__name__ == "TypingNoticeEvent":
                users = getattr(event, "users", None) or source.get("content", {}).get(
                    "user_ids", []
                )
                names = tuple(
                    clean_name(room.user_name(u) or u) for u in users if u != room.own_user_id
                )
                if names != self._typing.get(room.room_id, ()):
                    self._typing[room.room_id] = names
                    self._session.bus.publish(ev.TypingChanged(room.room_id, names))

    def _refresh_conversation(self, room: MatrixRoom) -> None:
        kind = self._kind_of(room)
        timeline = self._timelines.get(room.room_id)
        if not _anything_happened(timeline, room.own_user_id) and (
            (
                kind == ConversationKind.CONFERENCE
                and self._conferences.conference_state(room.room_id).get("personal") is True
            )
            or _still_being_set_up(room)
        ):
            # The personal meeting exists from sign-in (My meetings lists it); it is
            # a conversation once something happens in it, not before. (Listed already
            # if sync brought its first pieces before its meeting state.)
            if self._conversations.pop(room.room_id, None) is not None:
                self._session.bus.publish(ev.ConversationRemoved(room.room_id))
            return
        peer = self._peer_of(room) if kind == ConversationKind.DIRECT else None
        if kind == ConversationKind.DIRECT and peer:
            name = room.user_name(peer) or peer
        else:
            name = room.display_name or room.room_id
        last_ts = 0
        if timeline and len(timeline):
            last_ts = timeline.last().timestamp_ms
        previous = self._conversations.get(room.room_id)
        if previous and previous.last_activity_ts > last_ts:
            last_ts = previous.last_activity_ts
        if not last_ts:
            last_ts = _now_ms()
        unread = room.unread_notifications or 0
        conversation = ConversationInfo(
            room_id=room.room_id,
            kind=kind,
            display_name=clean_name(name) or room.room_id,
            state=ConversationState.ACTIVE,
            last_activity_ts=last_ts,
            unread_count=unread,
            peer_user_id=peer,
            peer_presence=self._presences.presence_of(peer) if peer else Presence.UNKNOWN,
            encrypted=bool(room.encrypted),
            member_count=room.member_count,
        )
        self._publish_conversation(conversation)

    def _kind_of(self, room: MatrixRoom) -> ConversationKind:
        if self._conferences.is_conference(room.room_id):
            return ConversationKind.CONFERENCE
        if room.room_id in self._direct_peers:
            return ConversationKind.DIRECT
        if room.member_count <= 2 and not room.name:
            return ConversationKind.DIRECT
        return ConversationKind.GROUP

    def _peer_of(self, room: MatrixRoom) -> str | None:
        if peer := self._direct_peers.get(room.room_id):
            return peer
        others = [u for u in room.users if u != room.own_user_id]
        others += [u for u in room.invited_users if u != room.own_user_id]
        return others[0] if others else None

    def _publish_conversation(self, conversation: ConversationInfo) -> None:
        previous = self._conversations.get(conversation.room_id)
        if previous == conversation:
            return
        self._conversations[conversation.room_id] = conversation
        if previous is None:
            self._session.bus.publish(ev.ConversationAdded(conversation))
        else:
            self._session.bus.publish(ev.ConversationChanged(conversation))

    def _publish_timeline_change(self, change: TimelineChange | None) -> None:
        if isinstance(change, Appended):
            self._session.bus.publish(ev.MessageAdded(change.message))
        elif isinstance(change, Changed):
            self._session.bus.publish(ev.MessageChanged(change.message))

    # -------------------------------------------------------------- sending
    # Queued messages live in the outbox (engine/outbox.py) until the server
    # confirms them. The sender is supervised like the sync loop: no error
    # ends it; a message it cannot deliver shows Failed with the reason.

    async def send_text(self, room_id: str, body: str) -> Message:
        """Queue text for sending and return its local echo (the first part).

        Text longer than one Matrix event can hold goes out as several
        consecutive messages, in order; nothing is cut off. If the parts cannot
        be saved, they show Failed and a SendingProblem is published.
        """
        client = self._session.require_client()
        outbox = self._require_outbox()
        info = self._conversations.get(room_id)
        if info and info.encrypted:
            raise ServerRefused(
                "This conversation is end-to-end encrypted. Confero cannot send "
                "encrypted messages yet."
            )
        text = body.strip("\n")
        if not text.strip():
            raise ServerRefused("The message is empty.")
        timeline = self._timelines.setdefault(room_id, Timeline(room_id))
        now = _now_ms()
        entries = [
            OutboxEntry(new_transaction_id(), room_id, {"msgtype": "m.text", "body": part}, now)
            for part in split_body(text)
        ]
        saved = outbox.add(entries)  # one transaction, written off the event loop
        for entry in entries:
            self._publish_timeline_change(timeline.add_local_echo(self._echo_for(client, entry)))
        self._touch_conversation(room_id)
        await self._kick_when_saved(saved, [e.txn_id for e in entries])
        return timeline.get(entries[0].txn_id) or self._echo_for(client, entries[0])

    async def retry(self, room_id: str, key: str) -> None:
        outbox = self._require_outbox()
        if outbox.get(key) is None:
            return
        await self._requeue([key])

    async def retry_sending(self) -> None:
        """Try again every message that failed here (not saved, sender error)."""
        await self._requeue([e.txn_id for e in self._require_outbox().locally_failed()])
        self._outbox_kick.set()

    async def _requeue(self, txn_ids: list[str]) -> None:
        outbox = self._require_outbox()
        saves = [outbox.mark_pending(txn_id) for txn_id in txn_ids]
        for txn_id in txn_ids:
            if (entry := outbox.get(txn_id)) is not None:
                self._set_message_state(entry, MessageState.SENDING)
        await self._kick_when_saved(asyncio.gather(*saves), txn_ids)

    async def _kick_when_saved(self, saved: Awaitable[Any], txn_ids: list[str]) -> None:
        try:
            await saved
        except OutboxStoreError as exc:
            # Reported as a SendingProblem by the outbox's health hook.
            for txn_id in txn_ids:
                self._fail_locally(txn_id, f"Not saved: {exc.reason}.")
            return
        self._outbox_kick.set()

    async def _send_forever(self, client: AsyncClient) -> None:
        failures = 0
        while True:
            if failures:  # connection trouble: try again soon even without a sync
                delay = BACKOFF_STEPS[min(failures - 1, len(BACKOFF_STEPS) - 1)]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._outbox_kick.wait(), delay)
            else:
                await self._outbox_kick.wait()
            self._outbox_kick.clear()
            try:
                delivered = await self._send_pending(client)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not end sending for the session
                log.exception("unexpected error in the sender")
                delivered = False
            failures = 0 if delivered else failures + 1

    async def _send_pending(self, client: AsyncClient) -> bool:
        """Send what is pending, in order; False means the connection is down."""
        if self._session.connection is not ConnectionState.CONNECTED:
            # The next successful sync kicks us, with the rooms' state (encryption) current.
            return True
        outbox = self._require_outbox()
        for entry in outbox.pending():
            if outbox.get(entry.txn_id) != entry:
                continue  # confirmed by a sync or failed meanwhile
            try:
                if not await self._send_entry(client, entry):
                    return False
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("unexpected error sending a message")
                self._fail_locally(entry.txn_id, "Not sent: something went wrong.")
                self._session.bus.publish(
                    ev.SendingProblem(
                        ev.SendingProblemKind.SENDER_FAILED,
                        "Messages can't be sent: something went wrong.",
                    )
                )
        return True

    async def _send_entry(self, client: AsyncClient, entry: OutboxEntry) -> bool:
        """Send one queued message; False means the connection is down."""
        outbox = self._require_outbox()
        room = client.rooms.get(entry.room_id)
        if room is not None and room.encrypted:
            # It became encrypted while the message waited: never send it in plain text.
            outbox.mark_failed(entry.txn_id, _NOW_ENCRYPTED)
            self._set_message_state(entry, MessageState.FAILED, _NOW_ENCRYPTED)
            return True
        try:
            response = await client.room_send(
                entry.room_id, "m.room.message", entry.content, tx_id=entry.txn_id
            )
        except CONNECTION_ERRORS:
            return False
        timeline = self._timelines.setdefault(entry.room_id, Timeline(entry.room_id))
        if isinstance(response, RoomSendResponse):
            outbox.remove(entry.txn_id)  # not awaited: store failures reach the health hook
            self._publish_timeline_change(timeline.mark_sent(entry.txn_id, response.event_id))
            return True
        status = getattr(response, "transport_response", None)
        http_status = getattr(status, "status", 0) or 0
        if http_status >= 500 or response.status_code == "M_LIMIT_EXCEEDED":
            return False
        reason = refusal_text(response)
        outbox.mark_failed(entry.txn_id, reason)
        self._set_message_state(entry, MessageState.FAILED, reason)
        return True

    def _fail_locally(self, txn_id: str, reason: str) -> None:
        """Failed here, not by the server: the sending banner's Retry picks it up."""
        outbox = self._require_outbox()
        if (entry := outbox.get(txn_id)) is not None:
            outbox.mark_failed(txn_id, reason, local=True)
            self._set_message_state(entry, MessageState.FAILED, reason)

    def _set_message_state(
        self, entry: OutboxEntry, state: MessageState, error: str | None = None
    ) -> None:
        timeline = self._timelines.setdefault(entry.room_id, Timeline(entry.room_id))
        self._publish_timeline_change(timeline.set_state(entry.txn_id, state, error))

    def _echo_for(self, client: AsyncClient, entry: OutboxEntry) -> Message:
        state = MessageState.FAILED if entry.failed else MessageState.SENDING
        return Message(
            key=entry.txn_id,
            room_id=entry.room_id,
            sender=client.user_id,
            sender_name=self._session.display_name(client.user_id),
            body=str(entry.content.get("body", "")),
            timestamp_ms=entry.created_ms,
            state=state,
            error=entry.failed_reason,
        )

    def _restore_outbox_echoes(self) -> None:
        """After a restart, show what is still waiting, and what could not be read."""
        client = self._session.require_client()
        outbox = self._require_outbox()
        for entry in outbox.entries():
            timeline = self._timelines.setdefault(entry.room_id, Timeline(entry.room_id))
            if timeline.get(entry.txn_id) is None:
                self._publish_timeline_change(
                    timeline.add_local_echo(self._echo_for(client, entry))
                )
        problems, outbox.problems = outbox.problems, ()
        for problem in problems:
            if problem.kind is OutboxProblemKind.UNAVAILABLE:
                self._on_outbox_health(OutboxStoreError(problem.detail))
            else:
                self._session.bus.publish(
                    ev.OutboxProblem(problem.kind, _outbox_problem_text(problem))
                )

    async def _open_outbox(self, user_id: str) -> None:
        """Signed in: open this account's outbox (the one of an earlier account closes)."""
        if self._outbox is not None:
            await self._outbox.close()
        outbox = await Outbox.open(self._session.data_dir / "outbox", user_id)
        outbox.on_health_change = self._on_outbox_health
        self._outbox = outbox

    def _on_outbox_health(self, error: OutboxStoreError | None) -> None:
        if error is None:
            self._session.bus.publish(ev.SendingRecovered())
        else:
            self._session.bus.publish(
                ev.SendingProblem(ev.SendingProblemKind.NOT_SAVED, error.user_message)
            )

    def _touch_conversation(self, room_id: str) -> None:
        if info := self._conversations.get(room_id):
            self._publish_conversation(replace(info, last_activity_ts=_now_ms()))

    def _require_outbox(self) -> Outbox:
        if self._outbox is None:
            raise NotSignedIn()
        return self._outbox

    # -------------------------------------------------------------- history

    async def load_older(self, room_id: str, limit: int = 30) -> bool:
        """Load older messages; True once the start of the conversation is reached."""
        client = self._session.require_client()
        timeline = self._timelines.setdefault(room_id, Timeline(room_id))
        room = client.rooms.get(room_id)
        if timeline.reached_start or room is None:
            return True
        older: list[Message] = []
        token = timeline.prev_batch
        # Skip over pages of state events (joins, names) so a scroll always
        # brings messages when there are any left.
        while len(older) < limit:
            response = await self._session.call(
                client.room_messages(
                    room_id, start=token, direction=MessageDirection.back, limit=limit
                )
            )
            if not isinstance(response, RoomMessagesResponse):
                raise ServerRefused(refusal_text(response))
            for event in response.chunk:
                message = self._message_from_event(room, getattr(event, "source", {}) or {})
                if message is not None:
                    older.append(message)
            token = response.end
            if not response.chunk or not token:
                timeline.reached_start = True
                break
        timeline.prev_batch = token
        added = timeline.prepend(list(reversed(older)))
        self._session.bus.publish(
            ev.MessagesPrepended(room_id, tuple(added), timeline.reached_start)
        )
        return timeline.reached_start

    async def set_typing(self, room_id: str, typing: bool) -> None:
        client = self._session.require_client()
        with contextlib.suppress(*CONNECTION_ERRORS):
            await client.room_typing(room_id, typing_state=typing, timeout=10_000)

    async def mark_read(self, room_id: str) -> None:
        client = self._session.require_client()
        timeline = self._timelines.get(room_id)
        event_id = timeline.last_event_id() if timeline else None
        if not event_id:
            return
        with contextlib.suppress(*CONNECTION_ERRORS):
            await client.room_read_markers(room_id, event_id, event_id)
        if (info := self._conversations.get(room_id)) and info.unread_count:
            self._publish_conversation(replace(info, unread_count=0))

    async def start_direct_conversation(self, user_id: str) -> str:
        """Open the two-party conversation with ``user_id``, creating it if needed."""
        client = self._session.require_client()
        peer = parse_user_id(user_id)
        if peer == client.user_id:
            raise InvalidUserId("That is you. Choose someone else to talk to.")
        for room_id, info in self._conversations.items():
            if (
                info.kind == ConversationKind.DIRECT
                and info.peer_user_id == peer
                and info.state == ConversationState.ACTIVE
            ):
                return room_id
        profile = await self._session.call(client.get_profile(peer))
        if isinstance(profile, ErrorResponse):
            if (
                profile.status_code in ("M_NOT_FOUND", "M_UNKNOWN")
                or "not" in (profile.message or "").lower()
            ):
                raise UnknownUser(f"There is no user {peer} on the server.")
            raise ServerRefused(refusal_text(profile))
        response = await self._session.call(
            client.room_create(
                is_direct=True, invite=[peer], preset=RoomPreset.trusted_private_chat
            )
        )
        if not isinstance(response, RoomCreateResponse):
            raise ServerRefused(refusal_text(response))
        room_id = response.room_id
        self._direct_peers[room_id] = peer
        await self._store_direct_room(peer, room_id)
        await self._wait_for_room(room_id)
        return room_id

    async def _wait_for_room(self, room_id: str, timeout: float = 15.0) -> None:
        if room_id in self._conversations:
            return
        waiter = self._room_seen.setdefault(room_id, asyncio.Event())
        try:
            await asyncio.wait_for(waiter.wait(), timeout)
        except TimeoutError:
            log.info("room %s not seen in sync yet", room_id)
        finally:
            self._room_seen.pop(room_id, None)

    async def _store_direct_room(self, peer: str, room_id: str) -> None:
        """Record the room in m.direct so every client shows it as a two-party chat."""
        client = self._session.require_client()
        mapping: dict[str, list[str]] = {}
        for known_room, known_peer in self._direct_peers.items():
            mapping.setdefault(known_peer, []).append(known_room)
        if room_id not in mapping.setdefault(peer, []):
            mapping[peer].append(room_id)
        path = f"/_matrix/client/v3/user/{quote(client.user_id)}/account_data/m.direct"
        with contextlib.suppress(HomeserverUnreachable):
            await self._session.api("PUT", path, mapping)


def _outbox_problem_text(problem: LoadProblem) -> str:
    if problem.kind is OutboxProblemKind.BAD_ENTRIES:
        count = problem.count
        noun = "message" if count == 1 else "messages"
        return (
            f"{count} {noun} waiting to be sent could not be read and "
            f"{'was' if count == 1 else 'were'} set aside. The others will be sent."
        )
    return (
        "The saved list of messages waiting to be sent could not be read and was "
        f"set aside as {problem.detail}. New messages are saved as usual."
    )


def _still_being_set_up(room: MatrixRoom) -> bool:
    """Only us in it, no name, no meeting state yet: a room whose creation sync
    caught halfway (the rest comes with the next sync), not an "Empty Room" to list."""
    return room.member_count <= 1 and not room.invited_users and not room.name


def _anything_happened(timeline: Timeline | None, own_user_id: str) -> bool:
    """A message, or someone else coming or going: more than our own setting up."""
    return timeline is not None and any(
        not line.changes or line.sender != own_user_id for line in timeline.messages()
    )
