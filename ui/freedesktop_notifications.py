"""Native desktop notifications with buttons: org.freedesktop.Notifications over D-Bus.

GNOME, KDE, XFCE, dunst and the like all serve this interface on the session bus.
A notification can carry actions (our Answer / Decline, Join / Decline): the server
draws them as buttons and says which was clicked with ActionInvoked; "default" is
a click on the notification itself. A notification we no longer need (the call was
answered elsewhere) is taken back with CloseNotification.

The D-Bus talk runs on a thread of its own (jeepney's blocking connection, woken
by a pipe), never on the UI thread; what comes back is handed to the UI thread
through Qt signals (queued, since this object lives there). Why not QtDBus: from
Python it cannot send a D-Bus ``uint`` (Notify's replaces_id and CloseNotification's
id), and servers built on GDBus reject the call with an ``int`` in its place.
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
import queue
import select
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
NOTIFY_SIGNATURE = "susssasa{sv}i"
APP_NAME = "Confero"
DESKTOP_ENTRY = "confero"
#: The spec's urgencies (hint "urgency", a byte).
NORMAL, CRITICAL = 1, 2
#: Connecting and the first calls to the bus give up after this long (on the thread).
CONNECT_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Notification:
    key: str  # ours: the toast's key (a call or room ID)
    title: str
    body: str
    actions: tuple[tuple[str, str], ...]  # (action key, label); "default": the body
    timeout_ms: int
    urgent: bool = False


class FreedesktopNotifications(QObject):
    """Shows notifications with actions through the session bus's notification server.

    ``notify`` and ``close`` never wait; ``failed`` says a notification could not be
    shown (no bus, no server, or it refused), so the caller can fall back.
    """

    #: The server shows it (key).
    shown = Signal(str)
    #: It could not be shown: no session bus or no notification server (key).
    failed = Signal(str)
    #: A button (action key) or the notification itself ("default") was clicked (key, action).
    action_invoked = Signal(str, str)
    #: It went away: clicked, dismissed, expired or closed by us (key).
    closed = Signal(str)

    def __init__(self, address: str | None = None, parent: QObject | None = None) -> None:
        """``address``: the bus's address; None for DBUS_SESSION_BUS_ADDRESS (read when
        the first notification goes out)."""
        super().__init__(parent)
        self._address = address
        self._lock = threading.Lock()
        self._thread: _BusThread | None = None

    @property
    def possible(self) -> bool:
        """Whether there is a session bus to try (no bus: use the fallback at once)."""
        return bool(self._address or os.environ.get("DBUS_SESSION_BUS_ADDRESS"))

    def notify(self, notification: Notification) -> None:
        """Show it (replacing one of ours with the same key)."""
        command = ("notify", notification)
        with self._lock:
            if self._thread is None or not self._thread.put(command):
                # None yet, or it ended (no bus then): a new connection tries again.
                address = self._address or os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
                self._thread = _BusThread(address, self)
                self._thread.put(command)
                self._thread.start()

    def close(self, key: str) -> None:
        """Take back our notification for ``key``, if one is on show or on its way."""
        with self._lock:
            if self._thread is not None:
                self._thread.put(("close", key))

    def stop(self) -> None:
        """Close the connection (our notifications stay as they are); returns at once."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.put(("stop", None))


class _BusThread(threading.Thread):
    """One connection to the bus and the notifications it put up."""

    def __init__(self, address: str, owner: FreedesktopNotifications) -> None:
        super().__init__(name="confero-notifications", daemon=True)
        self._address = address
        # Emitted from this thread: Qt queues them to the owner's (the UI) thread.
        self._shown, self._failed = owner.shown, owner.failed
        self._action, self._closed = owner.action_invoked, owner.closed
        self._commands: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._put_lock = threading.Lock()
        self._ending = False  # no more commands: the thread is on its way out
        self._wake_read, self._wake_write = os.pipe()
        self._ids: dict[str, int] = {}  # our key -> the server's notification ID
        self._keys: dict[int, str] = {}
        self._pending: dict[int, str] = {}  # Notify's serial -> key, until its reply
        self._unwanted: set[str] = set()  # closed before the server told us its ID
        self._markup = False  # the server reads a little markup in bodies: escape ours

    def put(self, command: tuple[str, Any]) -> bool:
        """Hand the thread a command; False once it is ending (it would never see it)."""
        with self._put_lock:
            if self._ending:
                return False
            self._commands.put(command)
            with contextlib.suppress(OSError):
                os.write(self._wake_write, b"x")
            return True

    def run(self) -> None:
        try:
            connection = self._connect()
        except Exception as exc:
            log.info("no desktop notification bus (%s): using the tray", exc)
            self._fail_all()
            self._close_pipe()
            return
        try:
            self._serve(connection)
        except ConnectionError as exc:  # the bus went away (logged out, restarted)
            log.info("the desktop notification bus went away: %s", exc)
        except Exception:
            log.exception("desktop notifications stopped")
        finally:
            self._fail_all()
            connection.close()
            self._close_pipe()

    def _close_pipe(self) -> None:
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)

    # -- internals (on the thread) ------------------------------------------------------

    def _connect(self) -> Any:
        from jeepney import DBusAddress, MessageType, new_method_call
        from jeepney.bus_messages import MatchRule, message_bus
        from jeepney.io.blocking import open_dbus_connection

        if not self._address:
            raise OSError("DBUS_SESSION_BUS_ADDRESS is not set")
        connection = open_dbus_connection(self._address, auth_timeout=CONNECT_TIMEOUT_S)
        rule = MatchRule(type="signal", interface=SERVICE, path=PATH)
        connection.send_and_get_reply(message_bus.AddMatch(rule), timeout=CONNECT_TIMEOUT_S)
        address = DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE)
        reply = connection.send_and_get_reply(
            new_method_call(address, "GetCapabilities"), timeout=CONNECT_TIMEOUT_S
        )
        if reply.header.message_type is MessageType.error:
            connection.close()
            raise OSError(f"no notification server: {reply.body}")
        self._markup = "body-markup" in reply.body[0]
        return connection

    def _serve(self, connection: Any) -> None:
        while True:
            readable, _, _ = select.select([connection.sock, self._wake_read], [], [])
            if self._wake_read in readable:
                os.read(self._wake_read, 4096)
                while not self._commands.empty():
                    command, value = self._commands.get()
                    if command == "stop":
                        return
                    if command == "notify":
                        self._send_notify(connection, value)
                    elif command == "close":
                        self._send_close(connection, value)
            if connection.sock in readable:
                self._drain(connection)

    def _send_notify(self, connection: Any, notification: Notification) -> None:
        from jeepney import DBusAddress, new_method_call

        replaces = self._ids.get(notification.key, 0)
        self._unwanted.discard(notification.key)
        actions = [word for pair in notification.actions for word in pair]
        hints: dict[str, tuple[str, Any]] = {
            "desktop-entry": ("s", DESKTOP_ENTRY),
            "urgency": ("y", CRITICAL if notification.urgent else NORMAL),
        }
        body = (
            APP_NAME,
            replaces,
            DESKTOP_ENTRY,
            notification.title,
            html.escape(notification.body, quote=False) if self._markup else notification.body,
            actions,
            hints,
            notification.timeout_ms,
        )
        address = DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE)
        message = new_method_call(address, "Notify", NOTIFY_SIGNATURE, body)
        serial = next(connection.outgoing_serial)
        self._pending[serial] = notification.key
        connection.send(message, serial=serial)

    def _send_close(self, connection: Any, key: str) -> None:
        from jeepney import DBusAddress, new_method_call

        notification_id = self._ids.get(key)
        if notification_id is None:
            if key in self._pending.values():
                self._unwanted.add(key)  # closed as soon as its ID comes
            return
        address = DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE)
        connection.send(new_method_call(address, "CloseNotification", "u", (notification_id,)))

    def _drain(self, connection: Any) -> None:
        """Every message that arrived (replies to Notify, the server's signals)."""
        while True:
            try:
                message = connection.receive(timeout=0)
            except TimeoutError:
                return
            self._handle(connection, message)

    def _handle(self, connection: Any, message: Any) -> None:
        from jeepney import HeaderFields, MessageType

        header = message.header
        kind = header.message_type
        if kind in (MessageType.method_return, MessageType.error):
            key = self._pending.pop(header.fields.get(HeaderFields.reply_serial, -1), None)
            if key is None:
                return
            if kind is MessageType.error:
                log.info("the notification server refused: %s", message.body)
                self._unwanted.discard(key)
                self._emit(self._failed, key)
                return
            notification_id = int(message.body[0])
            self._ids[key] = notification_id
            self._keys[notification_id] = key
            self._emit(self._shown, key)
            if key in self._unwanted:
                self._unwanted.discard(key)
                self._send_close(connection, key)
        elif kind is MessageType.signal and header.fields.get(HeaderFields.interface) == SERVICE:
            member = header.fields.get(HeaderFields.member)
            if member == "ActionInvoked" and len(message.body) == 2:
                key = self._keys.get(int(message.body[0]))
                if key is not None:
                    self._emit(self._action, key, str(message.body[1]))
            elif member == "NotificationClosed" and message.body:
                key = self._keys.pop(int(message.body[0]), None)
                if key is not None and self._ids.get(key) == int(message.body[0]):
                    del self._ids[key]
                    self._emit(self._closed, key)

    @staticmethod
    def _emit(signal: Any, *args: object) -> None:
        """To the UI thread (queued); nothing if the notifier is gone meanwhile."""
        with contextlib.suppress(RuntimeError):
            signal.emit(*args)

    def _fail_all(self) -> None:
        """Ending: no more commands, and every notification still asked for falls back."""
        with self._put_lock:
            self._ending = True
        while not self._commands.empty():
            command, value = self._commands.get()
            if command == "notify":
                self._emit(self._failed, value.key)


def notification(
    key: str,
    title: str,
    body: str,
    actions: Sequence[tuple[str, str]] = (),
    timeout_ms: int = -1,
    *,
    urgent: bool = False,
) -> Notification:
    return Notification(key, title, body, tuple(actions), timeout_ms, urgent)
