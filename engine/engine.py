"""The engine: one signed-in Matrix account, its conversations and their transcripts.

This is the only module that talks to matrix-nio. It keeps its own small,
immutable view of the world (ConversationInfo, Message) and publishes every
change on ``self.bus``; the UI renders those and never sees a Matrix detail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    LoginResponse,
    MatrixRoom,
    MessageDirection,
    ProfileGetDisplayNameResponse,
    RoomCreateResponse,
    RoomMessagesResponse,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
    WhoamiResponse,
)

from engine import events as ev
from engine import presence as presence_map
from engine.conference_models import (
    AccessLevel,
    ConferenceDetails,
    ConferenceSession,
    JoinMode,
    Participant,
    Permissions,
    PresenterPolicy,
    Role,
)
from engine.conferences import Conferences
from engine.credentials import FORGET_WAIT_S, CredentialStore, StoredSession
from engine.discovery import discover_homeserver
from engine.errors import (
    ConferoError,
    CredentialStoreUnavailable,
    HomeserverUnreachable,
    InvalidUserId,
    LoginFailed,
    NotSignedIn,
    OutboxStoreError,
    ServerRefused,
    SessionExpired,
    UnknownUser,
)
from engine.ids import parse_user_id, validate_localpart
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
    SessionInfo,
    UserSummary,
)
from engine.outbox import (
    LoadProblem,
    Outbox,
    OutboxEntry,
    OutboxProblemKind,
    new_transaction_id,
)
from engine.sanitize import clean_name
from engine.timeline import Appended, Changed, Timeline, TimelineChange

log = logging.getLogger(__name__)

T = TypeVar("T")

DEVICE_NAME = "Confero desktop"
SYNC_TIMEOUT_MS = 30_000
_BACKOFF_STEPS = (0.5, 1.0, 2.0, 4.0, 8.0)
_CONNECTION_ERRORS = (aiohttp.ClientError, TimeoutError, ConnectionError, OSError)
# Quitting leaves meetings and puts the presence back, but never waits long for it.
FAREWELL_TIMEOUT_S = 3.0
_NOW_ENCRYPTED = (
    "Not sent: this conversation is now end-to-end encrypted. "
    "Confero cannot send encrypted messages yet."
)


def _now_ms() -> int:
    return int(time.time() * 1000)


class Engine:
    def __init__(self, data_dir: Path, credentials: CredentialStore | None = None) -> None:
        self.bus = ev.EventBus()
        self._data_dir = data_dir
        self._credentials = credentials or CredentialStore()
        self._client: AsyncClient | None = None
        self._slot = "remote"
        self._outbox: Outbox | None = None
        self._conversations: dict[str, ConversationInfo] = {}
        self._timelines: dict[str, Timeline] = {}
        self._typing: dict[str, tuple[str, ...]] = {}
        self._presence: dict[str, tuple[Presence, str]] = {}
        self._direct_peers: dict[str, str] = {}  # room_id -> peer user_id, from m.direct
        self._own_presence = Presence.AVAILABLE
        self._own_display_name = ""
        self._own_status = ""
        # Presence writes go out one at a time; a write overtaken by a newer
        # choice while it waited is skipped (the newer one carries the latest).
        self._presence_lock = asyncio.Lock()
        self._presence_wanted = 0  # generation of the latest choice
        self._presence_written = 0  # generation the server last confirmed
        self._presence_confirmed: tuple[Presence, str] = (Presence.AVAILABLE, "")
        self._presence_checked = False
        self._closed = False
        self._connection = ConnectionState.DISCONNECTED
        self._sync_task: asyncio.Task[None] | None = None
        self._sender_task: asyncio.Task[None] | None = None
        self._outbox_kick = asyncio.Event()
        self._reconnect = asyncio.Event()
        self._room_seen: dict[str, asyncio.Event] = {}
        self._conferences = Conferences(self)
        self._accepting: set[str] = set()
        self._background: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ state

    @property
    def user_id(self) -> str | None:
        return self._client.user_id if self._client else None

    @property
    def homeserver_url(self) -> str | None:
        return self._client.homeserver if self._client else None

    @property
    def connection(self) -> ConnectionState:
        return self._connection

    @property
    def own_display_name(self) -> str:
        """The signed-in user's display name (their user ID if they have none)."""
        return self._own_display_name or (self.user_id or "")

    @property
    def own_presence(self) -> Presence:
        return self._own_presence

    @property
    def own_status(self) -> str:
        return self._own_status

    def conversations(self) -> list[ConversationInfo]:
        return sorted(self._conversations.values(), key=lambda c: -c.last_activity_ts)

    def conversation(self, room_id: str) -> ConversationInfo | None:
        return self._conversations.get(room_id)

    def messages(self, room_id: str) -> list[Message]:
        timeline = self._timelines.get(room_id)
        return timeline.messages() if timeline else []

    def typing_names(self, room_id: str) -> tuple[str, ...]:
        return self._typing.get(room_id, ())

    def display_name(self, user_id: str) -> str:
        if user_id == self.user_id and self._own_display_name:
            return self._own_display_name
        if self._client:
            for room in self._client.rooms.values():
                if user_id in room.users:
                    name = room.user_name(user_id)
                    if name:
                        return clean_name(name) or user_id
        return user_id

    def presence_of(self, user_id: str) -> Presence:
        return self._presence.get(user_id, (Presence.UNKNOWN, ""))[0]

    # --------------------------------------------------------------- sign-in

    async def login(
        self, address: str, user: str, password: str, *, remember: bool, slot: str = "remote"
    ) -> SessionInfo:
        login_name = self._login_name(user)
        if not password:
            raise LoginFailed("Enter your password.")
        base_url = await discover_homeserver(address)
        client = self._new_client(base_url, login_name)
        try:
            response = await client.login(password, device_name=DEVICE_NAME)
        except _CONNECTION_ERRORS as exc:
            await client.close()
            raise HomeserverUnreachable() from exc
        except asyncio.CancelledError:  # quitting while the server is silent
            await client.close()
            raise
        if not isinstance(response, LoginResponse):
            await client.close()
            if response.status_code in ("M_FORBIDDEN", "M_INVALID_USERNAME", "M_USER_DEACTIVATED"):
                raise LoginFailed()
            raise ServerRefused(f"The server refused the sign-in: {response.message}")
        self._client = client
        self._slot = slot
        self._outbox = await self._open_outbox(response.user_id)
        remembered, problem = True, None
        if remember:
            try:
                await self._credentials.save(slot, self._stored_session())
            except CredentialStoreUnavailable as exc:
                remembered, problem = False, exc.user_message
        else:
            await self._credentials.delete(slot, wait_s=FORGET_WAIT_S)
            remembered = False
        return SessionInfo(base_url, response.user_id, response.device_id, remembered, problem)

    async def restore(
        self, slot: str = "remote", homeserver_url: str | None = None
    ) -> SessionInfo | None:
        stored = await self._credentials.load(slot)
        if stored is None:
            return None
        base_url = homeserver_url or stored.homeserver_url
        client = self._new_client(base_url, stored.user_id)
        client.restore_login(stored.user_id, stored.device_id, stored.access_token)
        try:
            response = await client.whoami()
        except _CONNECTION_ERRORS as exc:
            await client.close()
            raise HomeserverUnreachable() from exc
        except asyncio.CancelledError:  # quitting while the server is silent
            await client.close()
            raise
        if not isinstance(response, WhoamiResponse):
            await client.close()
            if response.status_code in ("M_UNKNOWN_TOKEN", "M_FORBIDDEN", "M_MISSING_TOKEN"):
                await self._credentials.delete(slot, wait_s=FORGET_WAIT_S)
                raise SessionExpired()
            raise ServerRefused(f"The server refused the sign-in: {response.message}")
        self._client = client
        self._slot = slot
        self._outbox = await self._open_outbox(stored.user_id)
        if homeserver_url and homeserver_url != stored.homeserver_url:
            with contextlib.suppress(CredentialStoreUnavailable):
                await self._credentials.save(slot, self._stored_session())
        return SessionInfo(base_url, stored.user_id, stored.device_id, remembered=True)

    async def logout(self) -> None:
        client = self._require_client()
        await self._farewell()  # while the token still works
        with contextlib.suppress(*_CONNECTION_ERRORS):
            await client.logout()
        await self._credentials.delete(self._slot, wait_s=FORGET_WAIT_S)
        await self.close()
        self.bus.publish(ev.SignedOut("You signed out."))

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._farewell()
        self._conferences.close()
        for task in (self._sync_task, self._sender_task, *self._background):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._sync_task = self._sender_task = None
        if self._outbox is not None:
            await self._outbox.close()  # what is queued stays on disk
        if self._client:
            await self._client.close()
        self._set_connection(ConnectionState.DISCONNECTED)

    async def _farewell(self) -> None:
        """Leave meetings and put the presence from before them back, briefly.

        What does not make it in time stays on disk: the next start restores it.
        """
        if self._client is None or not self._client.access_token:
            return
        if not self._conferences.needs_farewell():
            return
        try:
            await asyncio.wait_for(self._conferences.farewell(), FAREWELL_TIMEOUT_S)
        except (TimeoutError, ConferoError, *_CONNECTION_ERRORS) as exc:
            log.info("could not leave meetings or restore presence on close: %r", exc)

    def _login_name(self, user: str) -> str:
        text = user.strip()
        if not text:
            raise InvalidUserId("Enter your user name.")
        return parse_user_id(text) if text.startswith("@") else validate_localpart(text)

    def _new_client(self, base_url: str, user: str) -> AsyncClient:
        config = AsyncClientConfig(
            max_timeouts=0,  # we own retries: the sync supervisor and the outbox
            max_limit_exceeded=5,
            request_timeout=SYNC_TIMEOUT_MS / 1000 + 15,
            store_sync_tokens=False,
        )
        return AsyncClient(base_url, user, config=config)

    def _stored_session(self) -> StoredSession:
        client = self._require_client()
        return StoredSession(
            client.homeserver, client.user_id, client.device_id or "", client.access_token
        )

    def _require_client(self) -> AsyncClient:
        if self._client is None or not self._client.access_token:
            raise NotSignedIn()
        return self._client

    # ------------------------------------------------------------------ sync

    async def start(self) -> None:
        """First sync, then keep syncing and sending in the background."""
        client = self._require_client()
        self._restore_outbox_echoes()
        self._set_connection(ConnectionState.CONNECTING)
        try:
            profile = await client.get_displayname()
            if isinstance(profile, ProfileGetDisplayNameResponse) and profile.displayname:
                self._own_display_name = clean_name(profile.displayname)
            await self._sync_once(client, timeout_ms=0)
        except _CONNECTION_ERRORS as exc:
            log.info("first sync failed (%s); will keep trying", type(exc).__name__)
            self._set_connection(ConnectionState.RECONNECTING, "Connection lost: reconnecting…")
        self._sync_task = asyncio.create_task(self._sync_forever(client), name="confero-sync")
        self._sender_task = asyncio.create_task(self._send_forever(client), name="confero-send")
        self._outbox_kick.set()

    async def _sync_forever(self, client: AsyncClient) -> None:
        failures = 0
        while True:
            try:
                # Right after a failure, ask for an immediate answer so the
                # user sees "connected" as soon as the server is back.
                await self._sync_once(client, timeout_ms=0 if failures else SYNC_TIMEOUT_MS)
                failures = 0
            except SessionExpired:
                self._credentials.forget(self._slot)
                self._set_connection(ConnectionState.DISCONNECTED, "Signed out by the server.")
                self.bus.publish(ev.SignedOut(SessionExpired.default_message))
                return
            except (*_CONNECTION_ERRORS, ServerRefused) as exc:
                delay = _BACKOFF_STEPS[min(failures, len(_BACKOFF_STEPS) - 1)]
                failures += 1
                log.info("sync failed (%s); retrying in %.1fs", type(exc).__name__, delay)
                self._set_connection(ConnectionState.RECONNECTING, "Connection lost: reconnecting…")
                await self._backoff(delay)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug in processing must not end syncing for good
                log.exception("unexpected error while syncing")
                await asyncio.sleep(_BACKOFF_STEPS[-1])

    def reconnect_now(self) -> None:
        """The server is back (e.g. restarted): retry syncing and sending without waiting."""
        self._reconnect.set()
        self._outbox_kick.set()

    async def _backoff(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less if reconnect_now() is called meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._reconnect.wait(), delay)
        self._reconnect.clear()

    async def _sync_once(self, client: AsyncClient, timeout_ms: int) -> None:
        sync_filter = {
            "room": {"timeline": {"limit": 30}, "state": {"lazy_load_members": True}},
        }
        state, _ = presence_map.to_matrix(self._own_presence, self._own_status)
        response = await client.sync(
            timeout=timeout_ms,
            sync_filter=sync_filter,
            set_presence=state,
        )
        if isinstance(response, ErrorResponse):
            if response.status_code in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
                raise SessionExpired()
            raise ServerRefused(f"Sync failed: {response.message}")
        self._set_connection(ConnectionState.CONNECTED)
        self._apply_sync(client, response)
        self._outbox_kick.set()

    def _set_connection(self, state: ConnectionState, detail: str = "") -> None:
        if state != self._connection:
            self._connection = state
            self.bus.publish(ev.ConnectionStateChanged(state, detail))

    # ------------------------------------------------------- applying a sync

    def _apply_sync(self, client: AsyncClient, response: SyncResponse) -> None:
        for event in response.account_data_events:
            source = getattr(event, "source", {}) or {}
            if source.get("type") == "m.direct":
                self._apply_direct_map(source.get("content") or {})
        for room_id, invite in response.rooms.invite.items():
            if self._conferences.apply_invite(room_id):
                continue
            inviter = direct_inviter(invite.invite_state, client.user_id)
            if inviter and room_id not in self._accepting:
                self._accepting.add(room_id)
                self._spawn(self._accept_direct_invite(room_id, inviter))
        for room_id, info in response.rooms.join.items():
            room = client.rooms.get(room_id)
            if room is None:
                continue
            timeline = self._timelines.setdefault(room_id, Timeline(room_id))
            if timeline.prev_batch is None and not timeline.reached_start:
                # The first page we see of a room is where history loading starts.
                timeline.prev_batch = info.timeline.prev_batch
            for event in info.state:
                self._conferences.apply_state_event(room_id, _raw(event))
            for event in info.timeline.events:
                self._conferences.apply_state_event(room_id, _raw(event))
                self._apply_timeline_event(room, timeline, event.source)
            self._apply_ephemeral(room, info.ephemeral)
            self._refresh_conversation(room)
            if waiter := self._room_seen.get(room_id):
                waiter.set()
        for room_id, info in response.rooms.leave.items():
            self._conferences.apply_left_room(
                room_id, [_raw(e) for e in (*info.state, *info.timeline.events)]
            )
            if room_id in self._conversations:
                info = self._conversations[room_id]
                self._publish_conversation(replace(info, state=ConversationState.TERMINATED))
        for event in response.presence_events:
            self._apply_presence(event.user_id, event.presence, event.status_msg or "")

    def _apply_direct_map(self, content: dict[str, Any]) -> None:
        for peer, rooms in content.items():
            if isinstance(rooms, list):
                for room_id in rooms:
                    if isinstance(room_id, str):
                        self._direct_peers[room_id] = peer

    async def _accept_direct_invite(self, room_id: str, inviter: str) -> None:
        """A two-party chat just starts, as in Teams: no accept dialog."""
        client = self._require_client()
        try:
            await client.join(room_id)
            self._direct_peers[room_id] = inviter
            await self._store_direct_room(inviter, room_id)
        except _CONNECTION_ERRORS:
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
                    self.bus.publish(ev.TypingChanged(room.room_id, names))

    def _apply_presence(self, user_id: str, state: str, status: str) -> None:
        presence = presence_map.from_matrix(state, status)
        status = clean_name(status)
        if user_id == self.user_id:
            if self._presence_written != self._presence_wanted:
                return  # the echo of an older write; ours is on its way
            if presence_map.to_matrix(self._own_presence, self._own_status) == (state, status):
                presence = self._own_presence  # Busy with a status of its own reads as Away
        if self._presence.get(user_id) == (presence, status):
            self._check_own_presence_once(user_id)
            return
        self._presence[user_id] = (presence, status)
        self._conferences.apply_presence(user_id, presence)
        if user_id == self.user_id:
            self._own_presence, self._own_status = presence, status
            self._presence_confirmed = (presence, status)
            self.bus.publish(ev.OwnPresenceChanged(presence, status))
            self._check_own_presence_once(user_id)
            return
        self.bus.publish(ev.PresenceChanged(user_id, presence, status))
        for info in list(self._conversations.values()):
            if info.peer_user_id == user_id and info.peer_presence != presence:
                self._publish_conversation(replace(info, peer_presence=presence))

    def _check_own_presence_once(self, user_id: str) -> None:
        """The first own presence of a run may be a meeting's that outlived it."""
        if user_id == self.user_id and not self._presence_checked:
            self._presence_checked = True
            self._conferences.check_presence_at_start()

    def _refresh_conversation(self, room: MatrixRoom) -> None:
        kind = self._kind_of(room)
        peer = self._peer_of(room) if kind == ConversationKind.DIRECT else None
        if kind == ConversationKind.DIRECT and peer:
            name = room.user_name(peer) or peer
        else:
            name = room.display_name or room.room_id
        timeline = self._timelines.get(room.room_id)
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
            peer_presence=self.presence_of(peer) if peer else Presence.UNKNOWN,
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
            self.bus.publish(ev.ConversationAdded(conversation))
        else:
            self.bus.publish(ev.ConversationChanged(conversation))

    def _publish_timeline_change(self, change: TimelineChange | None) -> None:
        if isinstance(change, Appended):
            self.bus.publish(ev.MessageAdded(change.message))
        elif isinstance(change, Changed):
            self.bus.publish(ev.MessageChanged(change.message))

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
        client = self._require_client()
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
                delay = _BACKOFF_STEPS[min(failures - 1, len(_BACKOFF_STEPS) - 1)]
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
        if self._connection is not ConnectionState.CONNECTED:
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
                self.bus.publish(
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
        except _CONNECTION_ERRORS:
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
            sender_name=self.display_name(client.user_id),
            body=str(entry.content.get("body", "")),
            timestamp_ms=entry.created_ms,
            state=state,
            error=entry.failed_reason,
        )

    def _restore_outbox_echoes(self) -> None:
        """After a restart, show what is still waiting, and what could not be read."""
        client = self._require_client()
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
                self.bus.publish(ev.OutboxProblem(problem.kind, _outbox_problem_text(problem)))

    async def _open_outbox(self, user_id: str) -> Outbox:
        if self._outbox is not None:
            await self._outbox.close()
        outbox = await Outbox.open(self._data_dir / "outbox", user_id)
        outbox.on_health_change = self._on_outbox_health
        return outbox

    def _on_outbox_health(self, error: OutboxStoreError | None) -> None:
        if error is None:
            self.bus.publish(ev.SendingRecovered())
        else:
            self.bus.publish(ev.SendingProblem(ev.SendingProblemKind.NOT_SAVED, error.user_message))

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
        client = self._require_client()
        timeline = self._timelines.setdefault(room_id, Timeline(room_id))
        room = client.rooms.get(room_id)
        if timeline.reached_start or room is None:
            return True
        older: list[Message] = []
        token = timeline.prev_batch
        # Skip over pages of state events (joins, names) so a scroll always
        # brings messages when there are any left.
        while len(older) < limit:
            response = await self._call(
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
        self.bus.publish(ev.MessagesPrepended(room_id, tuple(added), timeline.reached_start))
        return timeline.reached_start

    # -------------------------------------------------------------- meetings
    # The meeting logic lives in engine/conferences.py; these are its doors.

    def conference(self, room_id: str) -> ConferenceDetails | None:
        return self._conferences.details(room_id)

    def conference_session(self, room_id: str) -> ConferenceSession | None:
        return self._conferences.session(room_id)

    def participants(self, room_id: str) -> list[Participant]:
        return self._conferences.participants(room_id)

    def permissions(self, room_id: str, user_id: str) -> Permissions:
        return self._conferences.permissions(room_id, user_id)

    async def meet_now(self, subject: str = "") -> str:
        """Create a meeting with a fresh conference ID, joined as its Leader."""
        return await self._conferences.meet_now(subject)

    async def join_conference(
        self,
        reference: str,
        *,
        mode: JoinMode = JoinMode.DEFAULT,
        lobby_timeout_s: float | None = None,
    ) -> str:
        """Join by link, URI, alias, room ID or digits; returns once in or in the lobby."""
        return await self._conferences.join(reference, mode=mode, lobby_timeout_s=lobby_timeout_s)

    async def cancel_lobby(self, room_id: str) -> None:
        await self._conferences.cancel_lobby(room_id)

    async def leave_conference(self, room_id: str) -> None:
        await self._conferences.leave(room_id)

    async def rejoin_conference(self, room_id: str) -> None:
        await self._conferences.rejoin(room_id)

    async def load_participants(self, room_id: str) -> None:
        await self._conferences.load_participants(room_id)

    async def admit(self, room_id: str, user_id: str) -> None:
        await self._conferences.admit(room_id, user_id)

    async def deny(self, room_id: str, user_id: str) -> None:
        await self._conferences.deny(room_id, user_id)

    async def admit_all(self, room_id: str) -> int:
        return await self._conferences.admit_all(room_id)

    async def set_role(self, room_id: str, user_id: str, role: Role) -> None:
        await self._conferences.set_role(room_id, user_id, role)

    async def remove_participant(self, room_id: str, user_id: str) -> None:
        await self._conferences.remove(room_id, user_id)

    async def invite(self, room_id: str, user_id: str) -> None:
        await self._conferences.invite(room_id, user_id)

    async def set_meeting_options(
        self,
        room_id: str,
        *,
        subject: str | None = None,
        access_level: AccessLevel | None = None,
        presenter_policy: PresenterPolicy | None = None,
    ) -> None:
        await self._conferences.set_options(
            room_id, subject=subject, access_level=access_level, presenter_policy=presenter_policy
        )

    # ------------------------------------------------------- other actions

    async def set_typing(self, room_id: str, typing: bool) -> None:
        client = self._require_client()
        with contextlib.suppress(*_CONNECTION_ERRORS):
            await client.room_typing(room_id, typing_state=typing, timeout=10_000)

    async def set_presence(self, presence: Presence, status_message: str | None = None) -> None:
        """The user's choice of presence (during a meeting, it also stays after it)."""
        await self._conferences.set_own_presence(presence, status_message)

    async def _write_presence(self, presence: Presence, status_message: str | None) -> None:
        """The one way our presence reaches the server: in order, the latest choice last."""
        client = self._require_client()
        state, status = presence_map.to_matrix(presence, status_message)
        self._presence_wanted += 1
        generation = self._presence_wanted
        # Take the new choice at once: a sync running meanwhile sends our
        # presence too, and must not put the old one back on the server.
        self._own_presence, self._own_status = presence, status
        async with self._presence_lock:
            if generation != self._presence_wanted:
                return  # overtaken by a newer choice, which is written next
            try:
                response = await self._call(client.set_presence(state, status))
                if isinstance(response, ErrorResponse):
                    raise ServerRefused(refusal_text(response))
            except ConferoError:
                if generation == self._presence_wanted:
                    self._presence_written = generation
                    self._own_presence, self._own_status = self._presence_confirmed
                raise
            self._presence_written = generation
            self._presence_confirmed = (presence, status)
        self._presence[client.user_id] = (presence, status)
        self._conferences.apply_presence(client.user_id, presence)
        self.bus.publish(ev.OwnPresenceChanged(presence, status))

    async def mark_read(self, room_id: str) -> None:
        client = self._require_client()
        timeline = self._timelines.get(room_id)
        event_id = timeline.last_event_id() if timeline else None
        if not event_id:
            return
        with contextlib.suppress(*_CONNECTION_ERRORS):
            await client.room_read_markers(room_id, event_id, event_id)
        if (info := self._conversations.get(room_id)) and info.unread_count:
            self._publish_conversation(replace(info, unread_count=0))

    async def search_users(self, term: str, limit: int = 20) -> list[UserSummary]:
        client = self._require_client()
        term = term.strip()
        if not term:
            return []
        del client
        data = await self._api(
            "POST",
            "/_matrix/client/v3/user_directory/search",
            {"search_term": term[:200], "limit": limit},
        )
        results = data.get("results", []) if isinstance(data, dict) else []
        found = []
        for item in results:
            if not isinstance(item, dict) or not isinstance(item.get("user_id"), str):
                continue
            user_id = item["user_id"]
            name = clean_name(str(item.get("display_name") or "")) or user_id
            found.append(UserSummary(user_id, name))
        return found

    async def start_direct_conversation(self, user_id: str) -> str:
        """Open the two-party conversation with ``user_id``, creating it if needed."""
        client = self._require_client()
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
        profile = await self._call(client.get_profile(peer))
        if isinstance(profile, ErrorResponse):
            if (
                profile.status_code in ("M_NOT_FOUND", "M_UNKNOWN")
                or "not" in (profile.message or "").lower()
            ):
                raise UnknownUser(f"There is no user {peer} on the server.")
            raise ServerRefused(refusal_text(profile))
        response = await self._call(
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
        client = self._require_client()
        mapping: dict[str, list[str]] = {}
        for known_room, known_peer in self._direct_peers.items():
            mapping.setdefault(known_peer, []).append(known_room)
        if room_id not in mapping.setdefault(peer, []):
            mapping[peer].append(room_id)
        path = f"/_matrix/client/v3/user/{quote(client.user_id)}/account_data/m.direct"
        with contextlib.suppress(HomeserverUnreachable):
            await self._api("PUT", path, mapping)

    async def _api(
        self, method: str, path: str, body: Any = None, *, token: str | None = None
    ) -> Any:
        """A raw client-server API call for what matrix-nio does not cover."""
        client = self._require_client()
        headers = {
            "Authorization": f"Bearer {token or client.access_token}",
            "Content-Type": "application/json",
        }
        data = None if body is None else json.dumps(body)
        try:
            response = await client.send(method, path, data, headers)
            async with response:
                return await response.json(content_type=None)
        except (*_CONNECTION_ERRORS, ValueError) as exc:
            raise HomeserverUnreachable() from exc

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _call(self, request: Awaitable[T]) -> T:
        try:
            return await request
        except _CONNECTION_ERRORS as exc:
            raise HomeserverUnreachable(
                "The server cannot be reached right now. Try again when you are back online."
            ) from exc


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


def _raw(event: Any) -> dict[str, Any]:
    """The event as the server sent it (nio moves "content" out for some types)."""
    source = dict(getattr(event, "source", None) or {})
    if "content" not in source and isinstance(getattr(event, "content", None), dict):
        source["content"] = event.content
    return source
