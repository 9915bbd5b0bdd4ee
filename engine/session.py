"""The session core: one signed-in Matrix account and its connection.

Sign-in, restore and sign-out (with the keyring), the supervised sync loop, the
event bus, the request helpers and the background task group. Feature services
(conversations, conferences, presence, ...) are built on this class's public
interface: they register hooks for the pieces of each sync they care about and
for the session's life cycle, and the session never calls a service by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    LoginResponse,
    MatrixRoom,
    ProfileGetDisplayNameResponse,
    SyncResponse,
    WhoamiResponse,
)
from nio.responses import RoomInfo

from engine import events as ev
from engine.credentials import FORGET_WAIT_S, CredentialStore, StoredSession
from engine.discovery import discover_homeserver
from engine.errors import (
    ConferoError,
    CredentialStoreUnavailable,
    GuestNameMissing,
    HomeserverUnreachable,
    InvalidUserId,
    InvitationNotValid,
    LoginFailed,
    NotSignedIn,
    ServerRefused,
    SessionExpired,
    WrongServerCertificate,
)
from engine.ids import parse_user_id, validate_localpart
from engine.matrix_client import MatrixClient
from engine.models import ConnectionLoss, ConnectionState, SessionInfo
from engine.sanitize import clean_name

log = logging.getLogger(__name__)

#: What every sync asks for: members are lazy-loaded (a big meeting's member list
#: comes once, on demand), and a room's newest 30 events.
SYNC_FILTER: dict[str, Any] = {
    "room": {"timeline": {"limit": 30}, "state": {"lazy_load_members": True}},
}

T = TypeVar("T")

DEVICE_NAME = "Confero desktop"
SYNC_TIMEOUT_MS = 30_000
BACKOFF_STEPS = (0.5, 1.0, 2.0, 4.0, 8.0)
CONNECTION_ERRORS = (aiohttp.ClientError, TimeoutError, ConnectionError, OSError)
# Quitting leaves meetings and puts the presence back, but never waits long for it.
FAREWELL_TIMEOUT_S = 3.0
#: What a guest on another computer's server sees when that server goes away.
SERVER_GONE = "The meeting server is no longer reachable. Reconnecting…"
_REGISTRATION_TOKEN = "m.login.registration_token"
_GUEST_NAME_TRIES = 3

# Hook signatures (see the ``on_*`` methods of Session).
SignedInHook = Callable[[str], Awaitable[None]]
LifecycleHook = Callable[[], None]
AsyncHook = Callable[[], Awaitable[None]]
AccountDataHook = Callable[[str, dict[str, Any]], None]
InviteHook = Callable[[str, list[Any]], bool]
RoomEventHook = Callable[[MatrixRoom, dict[str, Any], bool], None]
JoinedRoomHook = Callable[[MatrixRoom, RoomInfo], None]
LeftRoomHook = Callable[[str, list[dict[str, Any]]], None]
PresenceHook = Callable[[str, str, str], None]
ToDeviceHook = Callable[[dict[str, Any]], None]


def raw_event(event: Any) -> dict[str, Any]:
    """The event as the server sent it (nio moves "content" out for some types)."""
    source = dict(getattr(event, "source", None) or {})
    if "content" not in source and isinstance(getattr(event, "content", None), dict):
        source["content"] = event.content
    return source


class Session:
    """One account's connection to its homeserver, shared by every feature service."""

    def __init__(self, data_dir: Path, credentials: CredentialStore | None = None) -> None:
        self.bus = ev.EventBus()
        self._data_dir = data_dir
        self._credentials = credentials or CredentialStore()
        self._client: AsyncClient | None = None
        self._slot = "remote"
        self._pin: bytes | None = None  # the pinned certificate of a guest's host
        self._own_display_name = ""
        self._closed = False
        self._connection = ConnectionState.DISCONNECTED
        self._sync_task: asyncio.Task[None] | None = None
        self._reconnect = asyncio.Event()
        self._background: set[asyncio.Future[None]] = set()
        self._sync_presence: Callable[[], str] = lambda: "online"
        self._signed_in_hooks: list[SignedInHook] = []
        self._starting_hooks: list[LifecycleHook] = []
        self._started_hooks: list[LifecycleHook] = []
        self._account_data_hooks: list[AccountDataHook] = []
        self._invite_hooks: list[InviteHook] = []
        self._room_event_hooks: list[RoomEventHook] = []
        self._joined_room_hooks: list[JoinedRoomHook] = []
        self._left_room_hooks: list[LeftRoomHook] = []
        self._presence_hooks: list[PresenceHook] = []
        self._to_device_hooks: list[ToDeviceHook] = []
        self._synced_hooks: list[LifecycleHook] = []
        self._reconnect_hooks: list[LifecycleHook] = []
        self._farewell_hooks: list[AsyncHook] = []
        self._close_hooks: list[AsyncHook] = []

    # ------------------------------------------------------------ reading

    @property
    def client(self) -> AsyncClient | None:
        """The matrix-nio client (None before sign-in); requests go through call()."""
        return self._client

    @property
    def user_id(self) -> str | None:
        return self._client.user_id if self._client else None

    @property
    def homeserver_url(self) -> str | None:
        return self._client.homeserver if self._client else None

    @property
    def data_dir(self) -> Path:
        return self._data_dir

    @property
    def connection(self) -> ConnectionState:
        return self._connection

    @property
    def connection_loss(self) -> ConnectionLoss:
        """Why a lost connection is lost: a guest's server is someone's computer,
        which can stop hosting, sleep or leave the network at any time."""
        return ConnectionLoss.HOST_GONE if self._pin is not None else ConnectionLoss.NETWORK

    @property
    def pinned_fingerprint(self) -> bytes | None:
        """The certificate a guest's session pins (None: a CA-checked or local server)."""
        return self._pin

    @property
    def own_display_name(self) -> str:
        """The signed-in user's display name (their user ID if they have none)."""
        return self._own_display_name or (self.user_id or "")

    @property
    def busy(self) -> bool:
        """Work handed to spawn() is still running."""
        return any(not task.done() for task in self._background)

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

    def require_client(self) -> AsyncClient:
        if self._client is None or not self._client.access_token:
            raise NotSignedIn()
        return self._client

    # -------------------------------------------------------------- hooks
    # Services register these when they are built; each runs in registration order.

    def on_signed_in(self, hook: SignedInHook) -> None:
        """After sign-in or restore, before the session is saved: open per-account stores."""
        self._signed_in_hooks.append(hook)

    def on_starting(self, hook: LifecycleHook) -> None:
        """start() begins, before the first sync (show what was kept on disk)."""
        self._starting_hooks.append(hook)

    def on_started(self, hook: LifecycleHook) -> None:
        """The first sync is done (or failed) and the sync loop runs: start own loops."""
        self._started_hooks.append(hook)

    def on_account_data(self, hook: AccountDataHook) -> None:
        """Each global account-data event of a sync: (type, content)."""
        self._account_data_hooks.append(hook)

    def on_invite(self, hook: InviteHook) -> None:
        """Each invited room of a sync: (room_id, invite state). True claims the invite:
        hooks registered later do not see it."""
        self._invite_hooks.append(hook)

    def on_room_event(self, hook: RoomEventHook) -> None:
        """Each event of a joined room, state first then timeline, in order:
        (room, raw event, in_timeline)."""
        self._room_event_hooks.append(hook)

    def on_joined_room(self, hook: JoinedRoomHook) -> None:
        """A joined room of a sync, after all its events went to on_room_event hooks."""
        self._joined_room_hooks.append(hook)

    def on_left_room(self, hook: LeftRoomHook) -> None:
        """A room we left (or were removed from): (room_id, its raw state and timeline events)."""
        self._left_room_hooks.append(hook)

    def on_presence(self, hook: PresenceHook) -> None:
        """Each presence event of a sync: (user_id, Matrix state, status message)."""
        self._presence_hooks.append(hook)

    def on_to_device(self, hook: ToDeviceHook) -> None:
        """Each to-device event of a sync, as the server sent it (type, sender, content)."""
        self._to_device_hooks.append(hook)

    def on_synced(self, hook: LifecycleHook) -> None:
        """After every successful sync was applied."""
        self._synced_hooks.append(hook)

    def on_reconnect_now(self, hook: LifecycleHook) -> None:
        """reconnect_now() was called: retry what waits for the connection."""
        self._reconnect_hooks.append(hook)

    def on_farewell(self, hook: AsyncHook, *, first: bool = False) -> None:
        """Quitting or signing out, while the token still works; all hooks share a short
        time limit (FAREWELL_TIMEOUT_S). Return at once when there is nothing to do.
        ``first``: run before the hooks registered so far (leave a call before its room)."""
        if first:
            self._farewell_hooks.insert(0, hook)
        else:
            self._farewell_hooks.append(hook)

    def on_close(self, hook: AsyncHook) -> None:
        """close(): stop own loops and close own stores (after the farewell)."""
        self._close_hooks.append(hook)

    def provide_sync_presence(self, provider: Callable[[], str]) -> None:
        """Where each sync reads the Matrix presence state it announces."""
        self._sync_presence = provider

    # ---------------------------------------------------- request helpers

    async def call(self, request: Awaitable[T]) -> T:
        """Await a matrix-nio request; a lost connection becomes HomeserverUnreachable."""
        try:
            return await request
        except aiohttp.ServerFingerprintMismatch as exc:
            raise WrongServerCertificate() from exc
        except CONNECTION_ERRORS as exc:
            raise HomeserverUnreachable(
                "The server cannot be reached right now. Try again when you are back online."
            ) from exc

    async def api(
        self, method: str, path: str, body: Any = None, *, token: str | None = None
    ) -> Any:
        """A raw client-server API call for what matrix-nio does not cover."""
        client = self.require_client()
        headers = {
            "Authorization": f"Bearer {token or client.access_token}",
            "Content-Type": "application/json",
        }
        data = None if body is None else json.dumps(body)
        try:
            response = await client.send(method, path, data, headers)
            async with response:
                return await response.json(content_type=None)
        except aiohttp.ServerFingerprintMismatch as exc:
            raise WrongServerCertificate() from exc
        except (*CONNECTION_ERRORS, ValueError) as exc:
            raise HomeserverUnreachable() from exc

    def spawn(self, coroutine: Awaitable[None]) -> None:
        """Run short work in the background; close() cancels what is left of it."""
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ------------------------------------------------------------ sign-in

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
        except CONNECTION_ERRORS as exc:
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
        self._pin = None
        for hook in self._signed_in_hooks:
            await hook(response.user_id)
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
        pin = bytes.fromhex(stored.pinned_fingerprint) if stored.pinned_fingerprint else None
        client = self._new_client(base_url, stored.user_id, pin)
        client.restore_login(stored.user_id, stored.device_id, stored.access_token)
        try:
            response = await client.whoami()
        except aiohttp.ServerFingerprintMismatch as exc:
            await client.close()
            raise WrongServerCertificate() from exc
        except CONNECTION_ERRORS as exc:
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
        self._pin = pin
        for hook in self._signed_in_hooks:
            await hook(stored.user_id)
        if homeserver_url and homeserver_url != stored.homeserver_url:
            with contextlib.suppress(CredentialStoreUnavailable):
                await self._credentials.save(slot, self._stored_session())
        return SessionInfo(base_url, stored.user_id, stored.device_id, remembered=True)

    async def logout(self) -> None:
        client = self.require_client()
        await self._farewell()  # while the token still works
        with contextlib.suppress(*CONNECTION_ERRORS):
            await client.logout()
        await self._credentials.delete(self._slot, wait_s=FORGET_WAIT_S)
        await self.close()
        self.bus.publish(ev.SignedOut("You signed out."))

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._farewell()
        for hook in self._close_hooks:
            try:
                await hook()
            except Exception:  # one service failing to close must not keep the others open
                log.exception("a service failed to close")
        for task in (self._sync_task, *self._background):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._sync_task = None
        if self._client:
            await self._client.close()
        self.set_connection(ConnectionState.DISCONNECTED)

    async def _farewell(self) -> None:
        """Let services leave meetings and put presence back, briefly.

        What does not make it in time stays on disk: the next start restores it.
        """
        if self._client is None or not self._client.access_token:
            return

        async def run_all() -> None:
            for hook in self._farewell_hooks:
                await hook()

        try:
            await asyncio.wait_for(run_all(), FAREWELL_TIMEOUT_S)
        except (TimeoutError, ConferoError, *CONNECTION_ERRORS) as exc:
            log.info("could not leave meetings or restore presence on close: %r", exc)

    def _login_name(self, user: str) -> str:
        text = user.strip()
        if not text:
            raise InvalidUserId("Enter your user name.")
        return parse_user_id(text) if text.startswith("@") else validate_localpart(text)

    def _new_client(self, base_url: str, user: str, pin: bytes | None = None) -> AsyncClient:
        config = AsyncClientConfig(
            max_timeouts=0,  # we own retries: the sync supervisor and the outbox
            max_limit_exceeded=5,
            request_timeout=SYNC_TIMEOUT_MS / 1000 + 15,
            store_sync_tokens=False,
        )
        # A pinned server: aiohttp compares the SHA-256 of the certificate the
        # server presents with the pin right after the TLS handshake, before any
        # request is sent; no CA and no host name are consulted (Python's
        # SSLContext has no hook to check a certificate's hash itself).
        ssl = aiohttp.Fingerprint(pin) if pin is not None else None
        return MatrixClient(base_url, user, config=config, ssl=ssl)

    def _stored_session(self) -> StoredSession:
        client = self.require_client()
        return StoredSession(
            client.homeserver,
            client.user_id,
            client.device_id or "",
            client.access_token,
            self._pin.hex() if self._pin is not None else "",
        )

    # ------------------------------------------------------ guest sign-up

    async def register_with_token(
        self,
        base_url: str,
        pinned_fp: bytes,
        name: str,
        token: str,
        *,
        remember: bool = True,
        slot: str,
    ) -> SessionInfo:
        """Create an account on a host's server with its invitation token, and sign in.

        For people on another computer: the server is reached at ``base_url``
        (https) with its certificate pinned to ``pinned_fp`` (SHA-256). The user
        name and password are generated (the person only gives their ``name``,
        which becomes the display name); the access token goes to the keyring
        like any other sign-in, the password nowhere.
        """
        display_name = clean_name(name)
        if not display_name:
            raise GuestNameMissing()
        if not base_url.startswith("https://"):
            raise ServerRefused("A guest sign-up needs an encrypted (https) connection.")
        client = self._new_client(base_url, "", pinned_fp)
        try:
            result = await self._register_guest(client, token)
            client.restore_login(result["user_id"], result["device_id"], result["access_token"])
            await self.call(client.set_displayname(display_name))
        except BaseException:
            await client.close()
            raise
        self._client = client
        self._slot = slot
        self._pin = pinned_fp
        self._own_display_name = display_name
        for hook in self._signed_in_hooks:
            await hook(client.user_id)
        remembered, problem = remember, None
        if remember:
            try:
                await self._credentials.save(slot, self._stored_session())
            except CredentialStoreUnavailable as exc:
                remembered, problem = False, exc.user_message
        return SessionInfo(base_url, client.user_id, client.device_id or "", remembered, problem)

    async def _register_guest(self, client: AsyncClient, token: str) -> dict[str, str]:
        """The m.login.registration_token UIA flow; returns user_id, device_id, access_token."""
        for _ in range(_GUEST_NAME_TRIES):
            body: dict[str, Any] = {
                "username": f"guest-{secrets.token_hex(5)}",
                "password": secrets.token_urlsafe(24),
                "initial_device_display_name": DEVICE_NAME,
            }
            status, answer = await self._post_register(client, body)
            if answer.get("errcode") == "M_USER_IN_USE":
                continue  # ten random hex digits taken: draw again
            completed: list[str] = []
            for _ in range(4):  # two stages at most; a server going round in circles stops
                if status != 401 or "session" not in answer:
                    break
                if answer.get("errcode") in ("M_UNAUTHORIZED", "M_FORBIDDEN"):
                    raise InvitationNotValid()
                stage = _next_stage(answer, completed)
                auth: dict[str, Any] = {"type": stage, "session": answer["session"]}
                if stage == _REGISTRATION_TOKEN:
                    auth["token"] = token
                status, answer = await self._post_register(client, body | {"auth": auth})
                completed = list(answer.get("completed") or [])
            if status == 200 and all(
                isinstance(answer.get(k), str) for k in ("user_id", "device_id", "access_token")
            ):
                return {k: answer[k] for k in ("user_id", "device_id", "access_token")}
            if status == 401:
                raise InvitationNotValid()
            if answer.get("errcode") == "M_FORBIDDEN":
                raise ServerRefused("This meeting server does not take guests at the moment.")
            raise ServerRefused(
                f"The meeting server refused the sign-up: {answer.get('error') or status}"
            )
        raise ServerRefused("The meeting server refused the sign-up. Please try again.")

    async def _post_register(
        self, client: AsyncClient, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": "application/json"}
        try:
            response = await client.send(
                "POST", "/_matrix/client/v3/register", json.dumps(body), headers
            )
            async with response:
                answer = await response.json(content_type=None)
        except aiohttp.ServerFingerprintMismatch as exc:
            raise WrongServerCertificate() from exc
        except (*CONNECTION_ERRORS, ValueError) as exc:
            raise HomeserverUnreachable(
                "The meeting server cannot be reached. Check that you are on the same "
                "network as the host, and that they still let people on the network join."
            ) from exc
        return response.status, answer if isinstance(answer, dict) else {}

    # --------------------------------------------------------------- sync

    async def start(self) -> None:
        """First sync, then keep syncing in the background."""
        client = self.require_client()
        for hook in self._starting_hooks:
            hook()
        self.set_connection(ConnectionState.CONNECTING)
        try:
            profile = await client.get_displayname()
            if isinstance(profile, ProfileGetDisplayNameResponse) and profile.displayname:
                self._own_display_name = clean_name(profile.displayname)
            await self._sync_once(client, timeout_ms=0)
        except CONNECTION_ERRORS as exc:
            log.info("first sync failed (%s); will keep trying", type(exc).__name__)
            self.set_connection(ConnectionState.RECONNECTING, self._lost_text())
        self._sync_task = asyncio.create_task(self._sync_forever(client), name="confero-sync")
        for hook in self._started_hooks:
            hook()

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
                self.set_connection(ConnectionState.DISCONNECTED, "Signed out by the server.")
                self.bus.publish(ev.SignedOut(SessionExpired.default_message))
                return
            except (*CONNECTION_ERRORS, ServerRefused) as exc:
                delay = BACKOFF_STEPS[min(failures, len(BACKOFF_STEPS) - 1)]
                failures += 1
                log.info("sync failed (%s); retrying in %.1fs", type(exc).__name__, delay)
                self.set_connection(ConnectionState.RECONNECTING, self._lost_text())
                await self._backoff(delay)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug in processing must not end syncing for good
                log.exception("unexpected error while syncing")
                await asyncio.sleep(BACKOFF_STEPS[-1])

    def _lost_text(self) -> str:
        # A guest's server is someone's computer, which can stop hosting at any time.
        return SERVER_GONE if self._pin is not None else "Connection lost: reconnecting…"

    def reconnect_now(self) -> None:
        """The server is back (e.g. restarted): retry syncing (and what services wait with)."""
        self._reconnect.set()
        for hook in self._reconnect_hooks:
            hook()

    async def _backoff(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less if reconnect_now() is called meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._reconnect.wait(), delay)
        self._reconnect.clear()

    async def _sync_once(self, client: AsyncClient, timeout_ms: int) -> None:
        response = await client.sync(
            timeout=timeout_ms,
            sync_filter=SYNC_FILTER,
            set_presence=self._sync_presence(),
        )
        if isinstance(response, ErrorResponse):
            if response.status_code in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
                raise SessionExpired()
            raise ServerRefused(f"Sync failed: {response.message}")
        self.set_connection(ConnectionState.CONNECTED)
        await self._apply_sync(client, response)
        for hook in self._synced_hooks:
            hook()

    def set_connection(self, state: ConnectionState, detail: str = "") -> None:
        if state != self._connection:
            self._connection = state
            loss = self.connection_loss if state is ConnectionState.RECONNECTING else None
            self.bus.publish(ev.ConnectionStateChanged(state, detail, loss))

    async def _apply_sync(self, client: AsyncClient, response: SyncResponse) -> None:
        """Hand each piece of the sync to the services that registered for it."""
        for event in response.account_data_events:
            # matrix-nio keeps no source for types it does not know (m.direct, ours).
            source = getattr(event, "source", None) or vars(event)
            event_type, content = source.get("type"), source.get("content")
            if isinstance(event_type, str) and isinstance(content, dict):
                for account_hook in self._account_data_hooks:
                    account_hook(event_type, content)
        for room_id, invite in response.rooms.invite.items():
            for invite_hook in self._invite_hooks:
                if invite_hook(room_id, invite.invite_state):
                    break
        for count, (room_id, info) in enumerate(response.rooms.join.items(), 1):
            if count % ROOMS_PER_SLICE == 0:
                # A first sync of hundreds of meetings: let the window turn in between.
                await asyncio.sleep(0)
            room = client.rooms.get(room_id)
            if room is None:
                continue
            for event in info.state:
                self._room_event(room, raw_event(event), in_timeline=False)
            for event in info.timeline.events:
                self._room_event(room, raw_event(event), in_timeline=True)
            for joined_hook in self._joined_room_hooks:
                joined_hook(room, info)
        for room_id, left in response.rooms.leave.items():
            events = [raw_event(e) for e in (*left.state, *left.timeline.events)]
            for left_hook in self._left_room_hooks:
                left_hook(room_id, events)
        for count, event in enumerate(response.presence_events, 1):
            for presence_hook in self._presence_hooks:
                presence_hook(event.user_id, event.presence, event.status_msg or "")
            if count % PRESENCES_PER_SLICE == 0:
                # Everyone in a big meeting: let the window turn in between.
                await asyncio.sleep(0)
        for event in response.to_device_events:
            for to_device_hook in self._to_device_hooks:
                to_device_hook(raw_event(event))

    def _room_event(self, room: MatrixRoom, source: dict[str, Any], *, in_timeline: bool) -> None:
        for hook in self._room_event_hooks:
            hook(room, source, in_timeline)


#: Joined rooms applied per turn of the event loop (a first sync brings every one).
ROOMS_PER_SLICE = 20
#: Presence events applied per turn of the event loop (a first sync in a big
#: meeting brings one per person).
PRESENCES_PER_SLICE = 500


def _next_stage(answer: dict[str, Any], completed: list[str]) -> str:
    """The next stage of the registration-token flow the server offers."""
    for flow in answer.get("flows") or []:
        stages = flow.get("stages") if isinstance(flow, dict) else None
        if isinstance(stages, list) and _REGISTRATION_TOKEN in stages:
            for stage in stages:
                if stage not in completed:
                    if stage not in (_REGISTRATION_TOKEN, "m.login.dummy"):
                        break
                    return str(stage)
    raise ServerRefused("This meeting server does not take guests with an invitation.")
