"""Embedded Synapse homeserver manager.

Confero can act as its own meeting server ("Use this computer as the meeting
server"): it runs the Synapse homeserver that is installed next to it as a child
process, with all of its state (SQLite database, media, signing key, secrets,
logs) in one private data folder. The test suite uses the same class to run one
real Synapse per test session, so the app and the tests exercise the same setup.

Design notes:

* The core methods (``start_blocking``, ``stop_blocking``,
  ``register_user_blocking``) are synchronous and use only the standard library
  (``subprocess``, ``urllib``), so a pytest session fixture can call them without
  an event loop. Each has an ``async`` twin that runs it in a worker thread via
  ``asyncio.to_thread`` so the Qt UI thread never blocks on them.
* Server secrets live in ``<data_dir>/secrets/`` (owner-only permissions) and are
  referenced from ``homeserver.yaml`` through Synapse's ``*_path`` options, so
  the config file itself holds no secrets. The registration shared secret is
  kept private to this object and never logged.
* The listening port is chosen once and remembered in ``state.json`` so the
  same data folder keeps the same URL (and stored client sessions stay valid).
  So is the server name: a Matrix server name is part of every account and
  room ID on the server, so a data folder keeps the name it was created with.
* A lock file makes sure only one process runs a Synapse on a data folder at a
  time, which also lets us safely clean up a Synapse orphaned by a crash.
* No Qt imports here: the engine layer must stay usable headless.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import enum
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any, Final

from engine.server_certificate import (
    CERTIFICATE_FILE,
    KEY_FILE,
    ensure_certificate,
    fingerprint_of_pem,
)
from engine.synapse_launcher import CREATION_FLAGS, launcher_command

__all__ = [
    "DEFAULT_NETWORK_ADDRESS",
    "EmbeddedHomeserver",
    "HomeserverError",
    "HomeserverProfile",
    "UserExistsError",
    "scrub_secrets",
]

logger = logging.getLogger(__name__)

_START_TIMEOUT_S: Final = 60.0
_STOP_TIMEOUT_S: Final = 15.0
_HTTP_TIMEOUT_S: Final = 10.0
_POLL_INTERVAL_S: Final = 0.1
_DIRECTORY_BUILD_TIMEOUT_S: Final = 30.0
_DATABASE_FILE: Final = "homeserver.db"
# What every data folder was named before state.json remembered the name.
_LEGACY_SERVER_NAME: Final = "localhost"

# Names of the files Confero keeps in the data folder.
_CONFIG_FILE: Final = "homeserver.yaml"
_LOG_CONFIG_FILE: Final = "log_config.yaml"
_LOG_FILE: Final = "homeserver.log"
_CONSOLE_LOG_FILE: Final = "homeserver.console.log"
_PID_FILE: Final = "homeserver.pid"
_STATE_FILE: Final = "state.json"
_LOCK_FILE: Final = ".confero-homeserver.lock"
_SIGNING_KEY_FILE: Final = "signing.key"
_SECRETS_DIR: Final = "secrets"
_SECRET_NAMES: Final = (
    "registration_shared_secret",
    "macaroon_secret_key",
    "form_secret",
    "server_admin_password",
)
# The server's own admin account, which creates invitation tokens (see
# create_registration_token_blocking). A "support" user: Synapse keeps it out of
# the user directory, so nobody finds it when searching for people.
_ADMIN_LOCALPART: Final = "confero-server-admin"
# Network access: first choice of port (the Matrix port people know; any free one
# otherwise), and the default address (every IPv4 interface).
_DEFAULT_NETWORK_PORT: Final = 8448
DEFAULT_NETWORK_ADDRESS: Final = "0.0.0.0"

# Every rate limiter this Synapse version reads (see synapse/config/ratelimiting.py).
# Dotted names are nested keys. The TEST profile lifts all of them.
_RATELIMIT_KEYS: Final = (
    "rc_message",
    "rc_registration",
    "rc_registration_token_validity",
    "rc_login.address",
    "rc_login.account",
    "rc_login.failed_attempts",
    "rc_admin_redaction",
    "rc_joins.local",
    "rc_joins.remote",
    "rc_joins_per_room",
    "rc_key_requests",
    "rc_3pid_validation",
    "rc_invites.per_room",
    "rc_invites.per_user",
    "rc_invites.per_issuer",
    "rc_third_party_invite",
    "rc_media_create",
    "rc_presence.per_user",
    "rc_delayed_event_mgmt",
    "rc_room_creation",
    "rc_reports",
    "rc_user_directory",
    "rc_profile",
)
_UNLIMITED: Final = {"per_second": 10000, "burst_count": 10000}
# The desktop profile's limits, written out rather than left to Synapse's
# defaults, so that an upgrade cannot quietly loosen them for people on other
# computers. Signing in and up keep Synapse's own strict defaults (per address
# and per account: a guesser gets 429 after three tries); the rest are set for
# a meeting, where a classroom of people arrives and is let in at once.
_SIGN_IN_UP: Final = {"per_second": 0.17, "burst_count": 3}
_DESKTOP_RATE_LIMITS: Final[dict[str, dict[str, float]]] = {
    "rc_login.address": _SIGN_IN_UP,
    "rc_login.account": _SIGN_IN_UP,
    "rc_login.failed_attempts": _SIGN_IN_UP,
    "rc_registration": _SIGN_IN_UP,
    "rc_registration_token_validity": {"per_second": 0.1, "burst_count": 5},
    # Synapse's default (0.2/s, burst 10) throttles a lively chat.
    "rc_message": {"per_second": 5, "burst_count": 30},
    # Admitting from the lobby is an invitation; Synapse's 10 per room would
    # stall a host letting in a class.
    "rc_invites.per_room": {"per_second": 1, "burst_count": 50},
    "rc_joins_per_room": {"per_second": 1, "burst_count": 50},
}

# Requests to our own loopback server must never go through an HTTP proxy from
# the environment (http_proxy without a matching no_proxy would break them).
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class HomeserverProfile(enum.Enum):
    """How the embedded server is tuned."""

    DESKTOP = "desktop"  # a real meeting server for people on this computer/LAN
    TEST = "test"  # the test suite: no rate limits, fast password hashing


class HomeserverError(Exception):
    """The embedded homeserver failed; ``user_message`` is fit to show in the UI."""

    def __init__(self, message: str, *, user_message: str | None = None) -> None:
        super().__init__(message)
        self.user_message: str = user_message or message


class UserExistsError(HomeserverError):
    """Registration failed because the user ID is already taken."""


class EmbeddedHomeserver:
    """A Synapse homeserver running as a child process of this program."""

    def __init__(
        self,
        data_dir: Path,
        *,
        profile: HomeserverProfile = HomeserverProfile.DESKTOP,
        server_name: str = "localhost",
        bind_host: str = "127.0.0.1",
    ) -> None:
        self._data_dir = Path(data_dir).absolute()
        self._profile = profile
        self._requested_server_name = server_name
        self._server_name: str | None = None  # the data folder's own, once known
        self._bind_host = bind_host
        self._port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._console: IO[bytes] | None = None
        self._lock_fd: int | None = None
        self._registration_shared_secret: str | None = None
        self._admin_token: str | None = None  # in memory only, for the admin API
        self._reconfiguring = False
        self._atexit_registered = False
        # Serialises start/stop (the async wrappers run them in worker threads).
        self._mutex = threading.RLock()
        # Lets stop_blocking() abort a start that is still waiting for the server.
        self._cancel_start = threading.Event()

    def __repr__(self) -> str:
        return (
            f"EmbeddedHomeserver(data_dir={str(self._data_dir)!r}, "
            f"profile={self._profile.name}, running={self.is_running})"
        )

    # ------------------------------------------------------------------ properties

    @property
    def data_dir(self) -> Path:
        return self._data_dir

    @property
    def profile(self) -> HomeserverProfile:
        return self._profile

    @property
    def server_name(self) -> str:
        """The data folder's server name: remembered in ``state.json`` at its first
        start; ``server_name`` from the constructor names new folders only."""
        if self._server_name is None:
            stored = self._load_state().get("server_name")
            if isinstance(stored, str) and stored:
                self._server_name = stored
            elif (self._data_dir / _DATABASE_FILE).exists():
                # A folder from before the name was remembered: they were all "localhost".
                self._server_name = _LEGACY_SERVER_NAME
            else:
                return self._requested_server_name
        return self._server_name

    @property
    def port(self) -> int | None:
        """The remembered port, or None if this data folder never had one."""
        if self._port is None:
            self._port = self._load_state().get("port")
        return self._port

    @property
    def base_url(self) -> str:
        """Client-API URL reachable from this computer, e.g. ``http://127.0.0.1:8448``."""
        port = self.port
        if port is None:
            raise HomeserverError(
                "base_url is unknown before the first start",
                user_message="The local meeting server has not been started yet.",
            )
        host = self._bind_host
        # A wildcard bind is reachable through loopback from this computer.
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    @property
    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The server process's ID while it runs (for supervision and tests)."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def log_path(self) -> Path:
        return self._data_dir / _LOG_FILE

    # -- network access ("Let people on my network join")

    @property
    def network_enabled(self) -> bool:
        """Whether the TLS listener for other computers is configured (off by default)."""
        return bool(self._network_state().get("enabled"))

    @property
    def network_address(self) -> str:
        """The address the network listener binds to (every IPv4 interface by default)."""
        address = self._network_state().get("address")
        return address if isinstance(address, str) and address else DEFAULT_NETWORK_ADDRESS

    @property
    def network_port(self) -> int | None:
        """The network listener's remembered port, or None before it was first turned on."""
        port = self._network_state().get("port")
        return port if isinstance(port, int) else None

    @property
    def reconfiguring(self) -> bool:
        """A restart to turn network access on or off is under way (not a crash)."""
        return self._reconfiguring

    def network_fingerprint(self) -> bytes | None:
        """SHA-256 of the network listener's certificate, None before it exists."""
        path = self._data_dir / _SECRETS_DIR / CERTIFICATE_FILE
        try:
            return fingerprint_of_pem(path.read_bytes())
        except (OSError, ValueError):
            return None

    def network_url(self, host: str) -> str:
        """The URL other computers use, through ``host`` (an address of this computer)."""
        port = self.network_port
        if port is None:
            raise HomeserverError(
                "network access was never turned on",
                user_message="Network access to the meeting server is off.",
            )
        if ":" in host:
            host = f"[{host}]"
        return f"https://{host}:{port}"

    # ------------------------------------------------------------------ async API

    async def start(self) -> None:
        await asyncio.to_thread(self.start_blocking)

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_blocking)

    async def restart(self, *, kill: bool = False) -> None:
        await asyncio.to_thread(self.restart_blocking, kill=kill)

    async def read_log(self, max_lines: int = 200) -> str:
        return await asyncio.to_thread(self.read_log_blocking, max_lines)

    async def failure_summary(self) -> str:
        return await asyncio.to_thread(self._log_tail)

    async def set_network_access(self, enabled: bool, *, address: str | None = None) -> None:
        await asyncio.to_thread(self.set_network_access_blocking, enabled, address=address)

    async def create_registration_token(self, valid_for_s: float) -> str:
        return await asyncio.to_thread(self.create_registration_token_blocking, valid_for_s)

    async def register_user(
        self,
        localpart: str,
        password: str,
        *,
        admin: bool = False,
        displayname: str | None = None,
    ) -> str:
        return await asyncio.to_thread(
            self.register_user_blocking,
            localpart,
            password,
            admin=admin,
            displayname=displayname,
        )

    # ------------------------------------------------------------------ start

    def start_blocking(self) -> None:
        """Start Synapse and wait until it answers; no-op if already running.

        Raises HomeserverError if it cannot be prepared, exits early, or does not
        answer within the timeout.
        """
        self._cancel_start.clear()
        with self._mutex:
            if self.is_running:
                return
            self._cleanup_process()
            self._start_locked(keep_port=False)

    def restart_blocking(self, *, kill: bool = False) -> None:
        """Start Synapse again on the same data folder and port after it died or hung.

        ``kill`` ends a server that is still there with SIGKILL (a stopped or
        hung process ignores SIGTERM). The data-folder lock stays held
        throughout, so no other process can take the folder in between; the
        port never moves, so signed-in clients find the server where it was.
        """
        self._cancel_start.clear()
        with self._mutex:
            proc = self._proc
            if proc is not None and proc.poll() is None:
                if kill:
                    logger.warning("Killing unresponsive homeserver process %d", proc.pid)
                    proc.kill()
                    proc.wait(_STOP_TIMEOUT_S)
                else:
                    self._terminate_process()
            self._cleanup_process(keep_lock=True)
            self._start_locked(keep_port=True)

    def set_network_access_blocking(self, enabled: bool, *, address: str | None = None) -> None:
        """Turn the network listener on or off (and remember it); applies at once.

        A running server is restarted on the same data folder and loopback
        port, so local clients reconnect where they were; when turned off, the
        network listener is gone once the old process has exited, which closes
        every connection of the people on other computers. When the restart
        fails (an address this computer does not have, say), the server is put
        back as it was and the HomeserverError is raised.
        """
        with self._mutex:
            before = self._network_state()
            after = dict(before, enabled=enabled)
            if address is not None:
                after["address"] = address
            if enabled:
                with contextlib.suppress(OSError):
                    self._prepare_data_dir()
                ensure_certificate(self._data_dir / _SECRETS_DIR, self.server_name)
            self._save_state({"network": after})
            if after == before or not self.is_running:
                return
            logger.info("Turning network access %s", "on" if enabled else "off")
            self._reconfiguring = True
            try:
                try:
                    self.restart_blocking()
                except HomeserverError:
                    self._save_state({"network": before})
                    try:
                        self.restart_blocking()
                    except HomeserverError as again:  # the supervisor takes it from here
                        logger.warning("restarting as before failed too: %s", again)
                    raise
            finally:
                self._reconfiguring = False

    def _start_locked(self, *, keep_port: bool) -> None:
        try:
            self._prepare_data_dir()
            self._acquire_data_dir_lock()
        except OSError as exc:
            raise HomeserverError(
                f"cannot prepare data dir {self._data_dir}: {exc}",
                user_message=(
                    "The local meeting server could not start: its data folder "
                    f"{self._data_dir} is not usable ({exc.strerror or exc})."
                ),
            ) from exc
        try:
            self._kill_orphan()
            if "server_name" not in self._load_state():
                self._save_state({"server_name": self.server_name})
            if not keep_port or self.port is None:
                self._choose_port()
            if self.network_enabled:
                try:
                    self._choose_network_port()
                except OSError as exc:
                    address = self.network_address
                    raise HomeserverError(
                        f"network address {address} is not usable: {exc!r}",
                        user_message=(
                            f"this computer cannot listen on the address {address} "
                            f"({exc.strerror or exc})."
                        ),
                    ) from exc
                ensure_certificate(self._data_dir / _SECRETS_DIR, self.server_name)
            config_path = self._write_config()
            self._spawn(config_path)
            self._wait_until_ready()
            self._wait_for_user_directory()
        except BaseException as exc:
            self._terminate_process()
            # A failed restart keeps the folder: the supervisor will try again.
            self._cleanup_process(keep_lock=keep_port)
            if isinstance(exc, OSError):
                raise HomeserverError(
                    f"cannot start homeserver: {exc!r}",
                    user_message=f"The local meeting server could not start: {exc}",
                ) from exc
            raise
        if not self._atexit_registered:
            # Never leave a Synapse behind when the Python process exits normally.
            atexit.register(self._stop_at_exit)
            self._atexit_registered = True
        logger.info("Local homeserver %s is up at %s", self.server_name, self.base_url)

    def _prepare_data_dir(self) -> None:
        self._data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        secrets_dir = self._data_dir / _SECRETS_DIR
        secrets_dir.mkdir(mode=0o700, exist_ok=True)
        for name in _SECRET_NAMES:
            path = secrets_dir / name
            if not path.exists():
                _write_private(path, secrets.token_urlsafe(48) + "\n")
        self._registration_shared_secret = (
            (secrets_dir / "registration_shared_secret").read_text("utf-8").strip()
        )
        key_path = self._data_dir / _SIGNING_KEY_FILE
        if not key_path.exists():
            # Synapse's signing-key file format ("ed25519 <version> <unpadded base64
            # seed>", as written by signedjson.key.write_signing_keys); an ed25519
            # private key is just 32 random bytes, so the stdlib is enough.
            seed = base64.b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")
            _write_private(key_path, f"ed25519 a_{secrets.token_hex(2)} {seed}\n")

    def _acquire_data_dir_lock(self) -> None:
        """Hold an OS lock on the data folder while our Synapse runs.

        Two Synapses on one SQLite database would corrupt it. The OS drops the
        lock when its owner dies, so holding it also proves that any Synapse
        recorded in the pid file is an orphan rather than another window's.
        """
        if self._lock_fd is not None:
            return
        fd = os.open(self._data_dir / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if sys.platform == "win32":
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise HomeserverError(
                f"data dir {self._data_dir} is locked by another process",
                user_message=(
                    "The local meeting server is already running in another "
                    "Confero window or process."
                ),
            ) from exc
        self._lock_fd = fd

    def _release_data_dir_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the lock
            self._lock_fd = None

    def _kill_orphan(self) -> None:
        """Stop a Synapse left running on this data folder by a crashed process."""
        pid_path = self._data_dir / _PID_FILE
        try:
            pid = int(pid_path.read_text("ascii").strip())
        except (OSError, ValueError):
            return
        if _process_cmdline_mentions(pid, str(self._data_dir / _CONFIG_FILE)):
            logger.warning("Stopping orphaned homeserver process %d", pid)
            _terminate_pid(pid, _STOP_TIMEOUT_S)
        with contextlib.suppress(OSError):
            pid_path.unlink()

    def _choose_port(self) -> None:
        port = self.port
        if port is None or not _port_is_free(self._bind_host, port):
            if port is not None:
                logger.info("Port %d is taken; choosing a new one", port)
            port = _find_free_port(self._bind_host)
            self._port = port
            self._save_state({"port": port})

    def _choose_network_port(self) -> None:
        address = self.network_address
        port = self.network_port
        if port is not None and port != self._port and _port_is_free(address, port):
            return
        if port is not None:
            logger.info("Network port %d is taken; choosing a new one", port)
        if self._port != _DEFAULT_NETWORK_PORT and _port_is_free(address, _DEFAULT_NETWORK_PORT):
            port = _DEFAULT_NETWORK_PORT
        else:
            port = _find_free_port(address)
        self._save_state({"network": self._network_state() | {"port": port}})

    def _spawn(self, config_path: Path) -> None:
        # stdout/stderr catch what Synapse prints before its logging is set up
        # (config errors, startup tracebacks); truncated so it describes this run.
        self._console = open(self._data_dir / _CONSOLE_LOG_FILE, "wb")  # noqa: SIM115
        # Through a small launcher that ends Synapse if we die without stopping
        # it (killed, crashed): a meeting server must not outlive its app.
        cmd = [*launcher_command(), str(os.getpid())]
        cmd += ["-c", str(config_path)]
        # Refuse inline secrets: ours are all passed as *_path options.
        cmd.append("--no-secrets-in-config")
        self._proc = subprocess.Popen(
            cmd,
            cwd=self._data_dir,
            stdin=subprocess.DEVNULL,
            stdout=self._console,
            stderr=subprocess.STDOUT,
            # Own session: a Ctrl-C in the terminal goes to us, and we stop Synapse
            # cleanly, rather than both processes racing to die.
            start_new_session=(sys.platform != "win32"),
            creationflags=CREATION_FLAGS,  # Windows: no console window
        )
        (self._data_dir / _PID_FILE).write_text(f"{self._proc.pid}\n", "ascii")
        logger.info(
            "Started homeserver process %d for %s (profile %s)",
            self._proc.pid,
            self._data_dir,
            self._profile.name,
        )

    def _wait_until_ready(self) -> None:
        assert self._proc is not None
        url = f"{self.base_url}/_matrix/client/versions"
        deadline = time.monotonic() + _START_TIMEOUT_S
        while True:
            code = self._proc.poll()
            if code is not None:
                tail = self._log_tail()
                raise HomeserverError(
                    f"homeserver exited with code {code} during start:\n{tail}",
                    user_message=f"The local meeting server could not start: {tail}",
                )
            if self._cancel_start.is_set():
                raise HomeserverError(
                    "homeserver start was cancelled",
                    user_message="Starting the local meeting server was cancelled.",
                )
            if time.monotonic() > deadline:
                tail = self._log_tail()
                raise HomeserverError(
                    f"homeserver did not answer within {_START_TIMEOUT_S:.0f}s:\n{tail}",
                    user_message=(
                        "The local meeting server did not respond within "
                        f"{_START_TIMEOUT_S:.0f} seconds: {tail}"
                    ),
                )
            try:
                with _opener.open(url, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass  # not listening yet
            time.sleep(_POLL_INTERVAL_S)

    def _wait_for_user_directory(self) -> None:
        """On a first start, wait for the user directory's first build (see _write_config).

        Read from the database (read-only): the build has no client API.
        Bounded: a slow build only makes a new account unsearchable for a while.
        """
        deadline = time.monotonic() + _DIRECTORY_BUILD_TIMEOUT_S
        while self._user_directory_building() and time.monotonic() < deadline:
            if self._cancel_start.is_set() or (self._proc and self._proc.poll() is not None):
                return  # _wait_until_ready's checks report it at the next start
            time.sleep(_POLL_INTERVAL_S)

    def _user_directory_building(self) -> bool:
        path = self._data_dir / _DATABASE_FILE
        try:
            db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=2)
            try:
                row = db.execute(
                    "SELECT 1 FROM background_updates"
                    " WHERE update_name LIKE 'populate_user_directory%' LIMIT 1"
                ).fetchone()
            finally:
                db.close()
        except sqlite3.Error:
            return False  # no such table (yet): nothing to wait for
        return row is not None

    # ------------------------------------------------------------------ stop

    def stop_blocking(self) -> None:
        """Stop Synapse (SIGTERM, then SIGKILL after a timeout); no-op if stopped."""
        self._cancel_start.set()
        with self._mutex:
            if self._proc is not None:
                logger.info("Stopping homeserver process %d", self._proc.pid)
            self._terminate_process()
            self._cleanup_process()
            if self._atexit_registered:
                atexit.unregister(self._stop_at_exit)
                self._atexit_registered = False

    def _stop_at_exit(self) -> None:
        with contextlib.suppress(Exception):
            self.stop_blocking()

    def _terminate_process(self) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        if sys.platform != "win32":
            # A stopped (SIGSTOP) server only acts on SIGTERM once it runs again.
            with contextlib.suppress(OSError):
                os.kill(proc.pid, signal.SIGCONT)
        try:
            proc.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            logger.warning("Homeserver did not stop in %.0fs; killing it", _STOP_TIMEOUT_S)
            proc.kill()
            proc.wait(_STOP_TIMEOUT_S)

    def _cleanup_process(self, *, keep_lock: bool = False) -> None:
        """Forget a process that has exited and release what it held."""
        if self._proc is not None and self._proc.poll() is not None:
            self._proc = None
            with contextlib.suppress(OSError):
                (self._data_dir / _PID_FILE).unlink()
        if self._proc is None:
            if self._console is not None:
                self._console.close()
                self._console = None
            if not keep_lock:
                self._release_data_dir_lock()

    # ------------------------------------------------------------------ users

    def register_user_blocking(
        self,
        localpart: str,
        password: str,
        *,
        admin: bool = False,
        displayname: str | None = None,
        user_type: str | None = None,
    ) -> str:
        """Create an account with shared-secret registration; return its user ID.

        Raises UserExistsError if the user ID is taken, HomeserverError otherwise.
        """
        if not self.is_running or self._registration_shared_secret is None:
            raise HomeserverError(
                "homeserver is not running",
                user_message="The local meeting server is not running.",
            )
        url = f"{self.base_url}/_synapse/admin/v1/register"
        try:
            nonce = _request_json("GET", url)["nonce"]
            mac = hmac.new(self._registration_shared_secret.encode("utf-8"), digestmod=hashlib.sha1)
            for part in (nonce, localpart, password):
                mac.update(part.encode("utf-8"))
                mac.update(b"\x00")
            mac.update(b"admin" if admin else b"notadmin")
            if user_type:
                mac.update(b"\x00" + user_type.encode("utf-8"))
            body: dict[str, Any] = {
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
                # Don't create a login session (device) the caller never uses.
                "inhibit_login": True,
            }
            if displayname is not None:
                body["displayname"] = displayname
            if user_type:
                body["user_type"] = user_type
            result = _request_json("POST", url, body)
        except _MatrixHTTPError as exc:
            if exc.errcode == "M_USER_IN_USE":
                raise UserExistsError(
                    f"user {localpart!r} already exists",
                    user_message=f"The account name “{localpart}” is already taken.",
                ) from exc
            raise HomeserverError(
                f"registering {localpart!r} failed: HTTP {exc.status} {exc.errcode} {exc.error}",
                user_message=f"The account “{localpart}” could not be created: {exc.error}",
            ) from exc
        except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
            raise HomeserverError(
                f"registering {localpart!r} failed: {exc!r}",
                user_message=(
                    f"The account “{localpart}” could not be created: the local "
                    "meeting server did not answer properly."
                ),
            ) from exc
        user_id = result.get("user_id")
        if not isinstance(user_id, str):
            raise HomeserverError(
                f"registration response without user_id: {sorted(result)}",
                user_message=f"The account “{localpart}” could not be created.",
            )
        logger.info("Registered %s on the local homeserver", user_id)
        return user_id

    def create_registration_token_blocking(self, valid_for_s: float) -> str:
        """A new single-use invitation token (Synapse registration token) that
        expires after ``valid_for_s`` seconds; created through the admin API on loopback.

        Raises HomeserverError if the server is not running or refuses.
        """
        body = {"uses_allowed": 1, "expiry_time": int((time.time() + valid_for_s) * 1000)}
        url = f"{self.base_url}/_synapse/admin/v1/registration_tokens/new"
        for attempt in range(2):
            token = self._admin_access_token()
            try:
                result = _request_json("POST", url, body, token=token)
            except _MatrixHTTPError as exc:
                if exc.errcode == "M_UNKNOWN_TOKEN" and attempt == 0:
                    self._admin_token = None  # logged out meanwhile: sign in again
                    continue
                raise HomeserverError(
                    f"creating a registration token failed: HTTP {exc.status} {exc.errcode}",
                    user_message="The meeting server could not create an invitation.",
                ) from exc
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise HomeserverError(
                    f"creating a registration token failed: {exc!r}",
                    user_message="The meeting server could not create an invitation.",
                ) from exc
            value = result.get("token")
            if isinstance(value, str) and value:
                return value
            break
        raise HomeserverError(
            "registration token response without a token",
            user_message="The meeting server could not create an invitation.",
        )

    def _admin_access_token(self) -> str:
        """The server admin's access token, signing in (and creating it) the first time.

        The admin is a service account of the server itself, not the host's
        own account: the host's access token also travels to every meeting they
        join, and must not carry admin rights. Its password is a server secret
        next to the registration shared secret (which can make admins anyway),
        and its access token stays in this process's memory.
        """
        if self._admin_token is not None:
            return self._admin_token
        if not self.is_running:
            raise HomeserverError(
                "homeserver is not running",
                user_message="The local meeting server is not running.",
            )
        password = (
            (self._data_dir / _SECRETS_DIR / "server_admin_password").read_text("utf-8").strip()
        )
        login = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": _ADMIN_LOCALPART},
            "password": password,
            "initial_device_display_name": "Confero meeting server",
        }
        url = f"{self.base_url}/_matrix/client/v3/login"
        try:
            try:
                result = _request_json("POST", url, login)
            except _MatrixHTTPError as exc:
                if exc.errcode != "M_FORBIDDEN":
                    raise
                # First use on this data folder: the account does not exist yet.
                with contextlib.suppress(UserExistsError):
                    self.register_user_blocking(
                        _ADMIN_LOCALPART, password, admin=True, user_type="support"
                    )
                result = _request_json("POST", url, login)
        except (_MatrixHTTPError, urllib.error.URLError, OSError, ValueError) as exc:
            raise HomeserverError(
                f"server admin sign-in failed: {exc!r}",
                user_message="The meeting server could not create an invitation.",
            ) from exc
        token = result.get("access_token")
        if not isinstance(token, str):
            raise HomeserverError(
                "server admin sign-in without an access token",
                user_message="The meeting server could not create an invitation.",
            )
        self._admin_token = token
        return token

    # ------------------------------------------------------------------ files

    def _network_state(self) -> dict[str, Any]:
        network = self._load_state().get("network")
        return dict(network) if isinstance(network, dict) else {}

    def _load_state(self) -> dict[str, Any]:
        try:
            data = json.loads((self._data_dir / _STATE_FILE).read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save_state(self, updates: dict[str, Any]) -> None:
        state = self._load_state() | updates
        path = self._data_dir / _STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n", "utf-8")
        os.replace(tmp, path)

    def _write_config(self) -> Path:
        """(Re)write homeserver.yaml and the log config; return the config path."""
        d = self._data_dir
        log_config_path = d / _LOG_CONFIG_FILE
        _write_yaml(log_config_path, _log_config(d / _LOG_FILE))
        assert self._port is not None
        config: dict[str, Any] = {
            "server_name": self.server_name,
            "pid_file": str(d / _PID_FILE),
            "report_stats": False,
            "signing_key_path": str(d / _SIGNING_KEY_FILE),
            "registration_shared_secret_path": str(d / _SECRETS_DIR / "registration_shared_secret"),
            "macaroon_secret_key_path": str(d / _SECRETS_DIR / "macaroon_secret_key"),
            "form_secret_path": str(d / _SECRETS_DIR / "form_secret"),
            "log_config": str(log_config_path),
            "media_store_path": str(d / "media_store"),
            "database": {"name": "sqlite3", "args": {"database": str(d / _DATABASE_FILE)}},
            # Only the client API (which also serves /_synapse/admin); no federation
            # listener: this server is private to the people who use it directly.
            "listeners": [
                {
                    "port": self._port,
                    "bind_addresses": [self._bind_host],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            # Never contact other servers: no notary key servers, no outbound
            # federation (an empty whitelist denies every remote domain).
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "federation_domain_whitelist": [],
            "serve_server_wellknown": False,
            "enable_registration": False,
            "presence": {"enabled": True},
            "user_directory": {"enabled": True, "search_all_users": True},
            # A first start runs Synapse's one-off database updates. Paced (its
            # default), they take a minute, and the user directory's first build
            # starts by emptying it: people who sign up meanwhile cannot be found
            # by name. Unpaced they take a few seconds, which start() waits for.
            "background_updates": {"sleep_enabled": False},
            "default_room_version": "10",
            "url_preview_enabled": False,
        }
        if self.network_enabled and self.network_port is not None:
            self._add_network_listener(config)
        if self._profile is HomeserverProfile.TEST:
            for key in _RATELIMIT_KEYS:
                _set_dotted(config, key, dict(_UNLIMITED))
            config["bcrypt_rounds"] = 4  # hashing at the default cost dominates test time
        else:
            for key, limit in _DESKTOP_RATE_LIMITS.items():
                _set_dotted(config, key, dict(limit))
        config_path = d / _CONFIG_FILE
        _write_yaml(config_path, config)
        return config_path

    def _add_network_listener(self, config: dict[str, Any]) -> None:
        """The TLS listener for other computers, and sign-up by invitation token only."""
        secrets_dir = self._data_dir / _SECRETS_DIR
        config["listeners"].append(
            {
                "port": self.network_port,
                "bind_addresses": [self.network_address],
                "type": "http",
                "tls": True,
                "x_forwarded": False,
                # Synapse serves its admin API with the client API; it needs an
                # admin's access token, and the only admin never leaves loopback.
                "resources": [{"names": ["client"], "compress": False}],
            }
        )
        config["tls_certificate_path"] = str(secrets_dir / CERTIFICATE_FILE)
        config["tls_private_key_path"] = str(secrets_dir / KEY_FILE)
        # Registration opens only together with the token requirement: nobody can
        # sign up without an invitation token the host created.
        config["enable_registration"] = True
        config["registration_requires_token"] = True

    def read_log_blocking(self, max_lines: int = 200) -> str:
        """The last lines of the server's log (and of its console output), secrets removed."""
        lines = _tail_lines(self.log_path, max_lines, keep_blank=True)
        console = _tail_lines(self._data_dir / _CONSOLE_LOG_FILE, max_lines, keep_blank=True)
        if any(ln.strip() for ln in console):
            lines += ["", f"-- {_CONSOLE_LOG_FILE} --", *console]
        return scrub_secrets("\n".join(lines[-max_lines:]), self._secret_values())

    def _secret_values(self) -> list[str]:
        values = []
        for name in _SECRET_NAMES:
            with contextlib.suppress(OSError):
                secret = (self._data_dir / _SECRETS_DIR / name).read_text("utf-8").strip()
                if secret:
                    values.append(secret)
        return values

    def _log_tail(self) -> str:
        """A short, readable account of why Synapse failed, for error messages."""
        summary, source = "", self.log_path
        for name in (_CONSOLE_LOG_FILE, _LOG_FILE):
            source = self._data_dir / name
            summary = _summarize_output(_tail_lines(source, 200))
            if summary:
                break
        summary = summary or "it stopped without saying why."
        summary += f" (Details: {source})"
        # Belt and braces: a secret must never end up in a dialog or a bug report.
        return scrub_secrets(summary, self._secret_values())


# ---------------------------------------------------------------------- helpers


class _MatrixHTTPError(Exception):
    def __init__(self, status: int, errcode: str, error: str) -> None:
        super().__init__(f"HTTP {status} {errcode}: {error}")
        self.status = status
        self.errcode = errcode
        self.error = error


def _request_json(
    method: str, url: str, body: dict[str, Any] | None = None, *, token: str | None = None
) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with _opener.open(req, timeout=_HTTP_TIMEOUT_S) as resp:
            result = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        try:
            err = json.loads(exc.read())
        except ValueError:
            err = {}
        raise _MatrixHTTPError(
            exc.code, str(err.get("errcode", "")), str(err.get("error", exc.reason))
        ) from exc
    if not isinstance(result, dict):
        raise ValueError(f"unexpected response from {url}")
    return result


def _write_private(path: Path, text: str) -> None:
    """Create a new owner-only (0600) file; fails if it already exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def _write_yaml(path: Path, data: dict[str, Any]) -> None:
    # JSON is valid YAML, which keeps this module free of a YAML dependency.
    header = "# Generated by Confero on every start; edits will be overwritten.\n"
    path.write_text(header + json.dumps(data, indent=2) + "\n", "utf-8")


def _set_dotted(config: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = config
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _log_config(log_file: Path) -> dict[str, Any]:
    # Like Synapse's generated default, minus the memory buffer (so a crash's last
    # lines are on disk) and with size-based rotation for a desktop app.
    return {
        "version": 1,
        "formatters": {
            "precise": {
                "format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - "
                "%(request)s - %(message)s"
            }
        },
        "handlers": {
            "file": {
                "class": "logging.handlers.RotatingFileHandler",
                "formatter": "precise",
                "filename": str(log_file),
                "maxBytes": 10 * 1024 * 1024,
                "backupCount": 3,
                "encoding": "utf8",
            }
        },
        # DEBUG on this logger would write access tokens to the log.
        "loggers": {"synapse.storage.SQL": {"level": "INFO"}},
        "root": {"level": "INFO", "handlers": ["file"]},
        "disable_existing_loggers": False,
    }


def _tail_lines(path: Path, max_lines: int, *, keep_blank: bool = False) -> list[str]:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 400 * max_lines))
            raw = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    lines = raw.splitlines()
    if size > 400 * max_lines and lines:
        lines = lines[1:]  # the first line was cut in the middle
    if keep_blank:
        return [ln.rstrip() for ln in lines][-max_lines:]
    # Drop blank lines and the "*****" frames Synapse draws around fatal errors.
    lines = [ln.rstrip() for ln in lines if ln.strip().strip("*")]
    return lines[-max_lines:]


# Access tokens as Synapse issues them, and as they appear in URLs and headers.
_TOKEN_PATTERNS: Final = (
    re.compile(r"\bsyt_[A-Za-z0-9_\-]+"),
    re.compile(r"(access_token=)[^&\s\"']+"),
    re.compile(r"(Bearer )[A-Za-z0-9._~+/=\-]+"),
    # Invitation (registration) tokens, in guest links and the validity check.
    re.compile(r"(org\.confero\.token=)[^&\s\"']+"),
    re.compile(r"(registration_token/validity\?token=)[^&\s\"']+"),
)


def scrub_secrets(text: str, secrets_: list[str]) -> str:
    """Replace the server's secrets and any access token in ``text`` with ***."""
    for secret in secrets_:
        text = text.replace(secret, "***")
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    return text


_EXCEPTION_LINE: Final = re.compile(
    r"^(?:[A-Za-z_][\w]*\.)*([A-Za-z_]\w*(?:Error|Exception|Exit)): ?(.*)$"
)
_MAX_LINE: Final = 160


def _summarize_output(lines: list[str]) -> str:
    """Boil Synapse's console output down to the lines a person can act on.

    For a traceback that is the chain of exception lines (root cause first, module
    path dropped); otherwise (e.g. "Error in configuration: ...") the last lines.
    """
    exceptions = [m for ln in lines if (m := _EXCEPTION_LINE.match(ln))]
    if exceptions:
        picked = [f"{m[1]}: {m[2]}" if m[2] else m[1] for m in exceptions[-3:]]
    else:
        picked = [ln.strip() for ln in lines[-4:]]
    picked = [p if len(p) <= _MAX_LINE else p[: _MAX_LINE - 1] + "…" for p in picked]
    return " ".join(p if p.endswith((".", ":", "…")) else p + "." for p in picked).strip()


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(_family(host), socket.SOCK_STREAM) as s:
        if sys.platform != "win32":
            # Same as Twisted's listener: ignore TIME_WAIT left by our previous run,
            # but still fail if anybody is listening there.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _find_free_port(host: str) -> int:
    with socket.socket(_family(host), socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _process_cmdline_mentions(pid: int, needle: str) -> bool:
    """True if process ``pid`` is alive and its command line contains ``needle``."""
    if pid <= 0 or pid == os.getpid():
        return False
    proc_cmdline = Path(f"/proc/{pid}/cmdline")
    if Path("/proc/self/cmdline").exists():  # Linux: no subprocess needed
        try:
            return needle in proc_cmdline.read_bytes().decode("utf-8", "replace")
        except OSError:
            return False
    if sys.platform == "win32":
        return False  # no cheap check; the orphan's port just gets replaced
    try:
        out = subprocess.run(
            ["ps", "-o", "command=", "-p", str(pid)],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return needle in out


def _terminate_pid(pid: int, timeout: float) -> None:
    """SIGTERM a process that isn't our child, then SIGKILL it after ``timeout``."""
    try:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(_POLL_INTERVAL_S)
            os.kill(pid, 0)  # raises ProcessLookupError once it is gone
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
