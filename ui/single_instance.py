"""One Confero per user and data folder: a second launch hands its link over.

The first instance holds a lock file in its data folder and listens on a
local socket named after the user and that folder (two data folders are two
separate Confero instances, as they are two accounts). A second launch finds
the lock taken, sends its meeting link (or nothing: "show yourself") to the
socket and exits; the running one raises its window and joins the meeting.

The lock (QLockFile) notices a holder that crashed: its process is gone, so
the lock is taken over and the socket file it left behind is removed before
listening again. The running instance reads hand-overs with signals only, so
a slow or silent second process never holds up its UI thread.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import time
from pathlib import Path

from PySide6.QtCore import QByteArray, QLockFile, QObject, QTimer, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

LOCK_FILE = "instance.lock"
#: A hand-over is one line of JSON; anything longer is not from Confero.
MAX_MESSAGE_BYTES = 16_384
#: How long the second launch waits for the running one to answer.
HAND_OVER_TIMEOUT_MS = 5_000
#: How long the running instance keeps a connection that sends nothing.
IDLE_CONNECTION_MS = 5_000
_ACK = b"ok\n"
#: Handed over so the desktop lets the running instance take the focus.
_ACTIVATION_VARIABLES = ("XDG_ACTIVATION_TOKEN", "DESKTOP_STARTUP_ID")


def server_name(data_dir: Path) -> str:
    """The local socket's name: per user and per data folder, short enough for
    a Unix socket path."""
    user = getpass.getuser()
    folder = str(data_dir.expanduser().resolve())
    digest = hashlib.sha256(f"{user}\0{folder}".encode()).hexdigest()[:20]
    return f"confero-{digest}"


class SingleInstance(QObject):
    """The running instance's end: the lock, the server, and hand-overs as signals."""

    #: A second launch asked to be shown; the link is "" when it had none.
    link_received = Signal(str)

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._data_dir = data_dir
        self._name = server_name(data_dir)
        self._lock: QLockFile | None = None
        self._server: QLocalServer | None = None
        self._buffers: dict[QLocalSocket, bytearray] = {}

    @property
    def name(self) -> str:
        return self._name

    def claim(self) -> bool:
        """True if this is the only instance; False if another runs. Call
        ``listen()`` next, once the QApplication exists.

        If the lock cannot be made at all (a read-only folder), Confero runs
        without single-instance: better two windows than none.
        """
        try:
            self._data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("no single-instance lock: %s", exc)
            return True
        lock = QLockFile(str(self._data_dir / LOCK_FILE))
        lock.setStaleLockTime(0)  # stale only when its process is gone
        if not lock.tryLock(0):
            if lock.error() == QLockFile.LockError.LockFailedError:
                return False
            log.warning("no single-instance lock: error %s", lock.error())
            return True
        self._lock = lock
        return True

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    def listen(self) -> None:
        """Take hand-overs from now on (only after a successful claim())."""
        if self._lock is None or self._server is not None:
            return
        # We hold the lock, so a socket of this name is a crashed instance's leftover.
        QLocalServer.removeServer(self._name)
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        server.newConnection.connect(self._on_new_connection)
        if not server.listen(self._name):
            log.warning("cannot listen for other launches: %s", server.errorString())
            return
        self._server = server

    def _on_new_connection(self) -> None:
        server = self._server
        while server is not None and (socket := server.nextPendingConnection()) is not None:
            self._buffers[socket] = bytearray()
            socket.readyRead.connect(lambda s=socket: self._on_ready_read(s))
            socket.disconnected.connect(lambda s=socket: self._forget(s))
            QTimer.singleShot(IDLE_CONNECTION_MS, socket, socket.abort)
            if socket.bytesAvailable():
                self._on_ready_read(socket)

    def _on_ready_read(self, socket: QLocalSocket) -> None:
        buffer = self._buffers.get(socket)
        if buffer is None:
            return
        buffer += bytes(socket.readAll().data())
        if len(buffer) > MAX_MESSAGE_BYTES:
            socket.abort()
            return
        line, newline, _rest = bytes(buffer).partition(b"\n")
        if not newline:
            return
        self._buffers.pop(socket, None)
        socket.write(QByteArray(_ACK))
        socket.disconnectFromServer()
        message = _decode(line)
        if message is None:
            log.info("ignored a malformed hand-over")
            return
        link, activation = message
        for variable, value in activation.items():
            os.environ[variable] = value
        self.link_received.emit(link)

    def _forget(self, socket: QLocalSocket) -> None:
        self._buffers.pop(socket, None)
        socket.deleteLater()


def hand_over(data_dir: Path, link: str | None) -> bool:
    """Give ``link`` to the running instance (blocking: for the second launch only,
    which has no window). True once the running instance has it."""
    message = {"link": link or ""}
    message.update({v: os.environ[v] for v in _ACTIVATION_VARIABLES if os.environ.get(v)})
    payload = json.dumps(message).encode() + b"\n"
    socket = QLocalSocket()
    # The lock holder may be a moment away from listening: try a few times.
    for _ in range(10):
        socket.connectToServer(server_name(data_dir))
        if socket.waitForConnected(HAND_OVER_TIMEOUT_MS // 10):
            break
        socket.abort()
        time.sleep(HAND_OVER_TIMEOUT_MS / 10_000)  # no window here: waiting is fine
    else:
        return False
    socket.write(QByteArray(payload))
    if not socket.waitForBytesWritten(HAND_OVER_TIMEOUT_MS):
        return False
    answer = b""
    while len(answer) < len(_ACK) and socket.waitForReadyRead(HAND_OVER_TIMEOUT_MS):
        answer += bytes(socket.readAll().data())
    socket.abort()
    return answer.startswith(_ACK)


def _decode(line: bytes) -> tuple[str, dict[str, str]] | None:
    try:
        message = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(message, dict) or not isinstance(message.get("link", ""), str):
        return None
    activation = {
        v: message[v]
        for v in _ACTIVATION_VARIABLES
        if isinstance(message.get(v), str) and message[v].isprintable()
    }
    return message.get("link", "").strip(), activation
