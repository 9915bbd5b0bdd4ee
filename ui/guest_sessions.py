"""Guest sessions beside your own account: a guest link opened while signed in.

Someone signed in to their own account who opens a guest link (Join a
meeting…, the command line, a link handed over by a second launch) keeps
their account: the guest sign-in is a second session of its own, in a window
of its own ("Confero — guest at …"), as Zoom or Teams open a meeting of
another organisation without signing you out. Closing that window ends the
guest session; its sign-in stays in the keyring (one per host, see
engine.network_hosting.guest_slot).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QLayout, QVBoxLayout, QWidget

from engine.errors import ConferoError
from ui import guest_text as text
from ui.error_text import GENERIC_ERROR
from ui.guest_page import GuestJoinForm
from ui.tasks import TaskGroup

if TYPE_CHECKING:
    from engine.credentials import CredentialStore
    from engine.engine import Engine
    from engine.lan_discovery import DiscoveredServer
    from engine.meeting_links import GuestLink
    from engine.settings import Settings
    from ui.bridge import EngineBridge
    from ui.lan_servers import LanServers
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)

GUESTS_DIR = "guests"


def guest_data_dir(data_dir: Path, slot: str) -> Path:
    """Where a guest session keeps its files: apart from your own account's."""
    return data_dir / GUESTS_DIR / slot


class GuestJoinDialog(QDialog):
    """The guest form in a dialog (over the main window of your own account)."""

    def __init__(self, servers: LanServers | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(text.GUEST_HEADING)
        self.form = GuestJoinForm(servers, self, heading=False, back_text="Cancel")
        self.form.setMinimumWidth(500)
        layout = QVBoxLayout(self)
        # Grows with the wrapped lines of what the link says (no clipped text).
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        layout.addWidget(self.form)
        self.form.back_requested.connect(self.reject)

    def done(self, result: int) -> None:
        self.form.stop_looking()
        super().done(result)


class _GuestSession:
    def __init__(self, engine: Engine, bridge: EngineBridge, window: MainWindow) -> None:
        self.engine, self.bridge, self.window = engine, bridge, window


class GuestSessions(QObject):
    """Opens the guest dialog and runs the guest sessions it starts."""

    #: Quit was chosen in a guest window.
    quit_requested = Signal()
    #: A guest session's window is on screen (MainWindow).
    opened = Signal(object)

    def __init__(
        self,
        data_dir: Path,
        credentials: CredentialStore,
        settings: Settings,
        servers: LanServers | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._data_dir = data_dir
        self._credentials = credentials
        self._settings = settings
        self._servers = servers
        self._sessions: list[_GuestSession] = []
        self._tasks = TaskGroup()
        self.dialog: GuestJoinDialog | None = None

    @property
    def windows(self) -> list[MainWindow]:
        return [s.window for s in self._sessions]

    def ask(
        self, link: str, parent: QWidget | None, picked: DiscoveredServer | None = None
    ) -> GuestJoinDialog:
        """Show the guest dialog with ``link`` filled in (one dialog at a time)."""
        if self.dialog is not None:
            if link:
                self.dialog.form.set_link(link)
        else:
            self.dialog = GuestJoinDialog(self._servers, parent)
            self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.dialog.form.join_requested.connect(self._on_join_requested)
            self.dialog.finished.connect(self._on_dialog_finished)
            self.dialog.form.set_link(link)
            self.dialog.form.set_name(self._settings.guest_name)
        if picked is not None:
            self.dialog.form.pick_server(picked)
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
        self.dialog.form.focus_first_empty()
        return self.dialog

    async def wait_idle(self) -> None:
        await self._tasks.wait_idle()

    async def close_all(self) -> None:
        """Quitting: close every guest session (their sign-ins stay in the keyring)."""
        self._tasks.cancel_all()
        if self.dialog is not None:
            self.dialog.reject()
        for session in list(self._sessions):
            await self._close(session)

    # -- internals ----------------------------------------------------------------

    def _on_dialog_finished(self, _result: int) -> None:
        self.dialog = None

    def _on_join_requested(self, link: GuestLink, name: str) -> None:
        dialog = self.dialog
        if dialog is None:
            return
        dialog.form.set_busy(True, text.SIGNING_UP)
        self._tasks.spawn(self._join(dialog, link, name))

    async def _join(self, dialog: GuestJoinDialog, link: GuestLink, name: str) -> None:
        from engine.engine import Engine
        from engine.network_hosting import guest_slot
        from ui.bridge import EngineBridge
        from ui.main_window import MainWindow

        slot = guest_slot(link.fingerprint)
        engine = Engine(guest_data_dir(self._data_dir, slot), self._credentials)
        try:
            info = await engine.session.register_with_token(
                link.base_url, link.fingerprint, name, link.token, slot=slot
            )
            dialog.form.set_busy(True, text.JOINING)
            await engine.session.start()
        except ConferoError as exc:
            await engine.session.close()
            dialog.form.show_error(exc)
            return
        except Exception:
            log.exception("a guest sign-up failed")
            await engine.session.close()
            dialog.form.show_error(GENERIC_ERROR)
            return
        self._settings.guest_name = name
        try:
            self._settings.save(self._data_dir)  # the name is offered next time
        except OSError as exc:
            log.warning("settings could not be saved: %s", exc)
        bridge = EngineBridge(engine.session.bus, self)
        window = MainWindow(engine, bridge, settings=self._settings)
        # Ctrl+Q stays your own window's (two application shortcuts would cancel
        # out); the guest window's Quit still quits, closing it ends the session.
        window.quit_action.setShortcuts([])
        window.quit_action.triggered.disconnect()
        window.quit_action.triggered.connect(self.quit_requested)
        session = _GuestSession(engine, bridge, window)
        self._sessions.append(session)
        window.quit_requested.connect(lambda: self._tasks.spawn(self._close(session)))
        window.sign_out_requested.connect(lambda: self._tasks.spawn(self._sign_out(session)))
        bridge.signed_out.connect(lambda _reason: self._tasks.spawn(self._close(session)))
        window.show_session(info)
        window.setWindowTitle(text.GUEST_WINDOW_TITLE.format(host=link.host))
        window.show()
        dialog.form.set_busy(False)
        dialog.accept()
        self.opened.emit(window)
        window.join_meeting_reference(link.alias)

    async def _sign_out(self, session: _GuestSession) -> None:
        try:
            await session.engine.session.logout()
        except Exception as exc:
            log.warning("a guest's sign-out failed: %r", exc)
        await self._close(session)

    async def _close(self, session: _GuestSession) -> None:
        if session not in self._sessions:
            return
        self._sessions.remove(session)
        session.bridge.detach()
        session.window.close_quietly()
        session.window.deleteLater()
        session.bridge.deleteLater()
        try:
            await session.engine.session.close()
        except Exception as exc:
            log.warning("closing a guest session failed: %r", exc)
