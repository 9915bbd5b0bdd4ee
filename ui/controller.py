"""Start-up orchestration: which window to show, signing in and out.

The controller owns the session's objects (engine, bridge, embedded server,
main window) and moves between the welcome window and the main window. All
protocol work is the engine's; this module only decides what to call when.

Importing it is cheap on purpose: asyncio, qasync, the main window, matrix-nio
and Synapse are imported only after the first window is on screen. Slots hand
their work to ``_spawn``, which keeps the tasks so shutdown can cancel them and
turns any unexpected error into a message instead of a crash.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal

from engine.errors import ConferoError, InvalidUserId, SessionExpired
from engine.ids import validate_localpart
from engine.models import ConnectionState, SessionInfo
from engine.settings import Settings
from ui import guest_text
from ui.banner import BannerKind
from ui.error_text import GENERIC_ERROR
from ui.guest_sessions import GuestSessions, guest_data_dir
from ui.lan_servers import BrowserFactory, LanServers, discovery_enabled
from ui.startup_timing import StartupTimer
from ui.tasks import TaskGroup
from ui.welcome import LocalAccountMode, WelcomePage, WelcomeWindow

if TYPE_CHECKING:
    from engine.credentials import CredentialStore, CredentialStoreState
    from engine.engine import Engine
    from engine.events import EngineEvent
    from engine.homeserver import EmbeddedHomeserver, HomeserverProfile
    from engine.homeserver_supervisor import HomeserverSupervisor, SupervisorTiming
    from engine.lan_discovery import LanAnnouncer
    from engine.meeting_links import GuestLink
    from ui.bridge import EngineBridge
    from ui.main_window import MainWindow
    from ui.welcome import LocalAccountPage, SignInPage

log = logging.getLogger(__name__)

LOCAL = "local"
REMOTE = "remote"
#: A guest of a meeting hosted on another computer (signed up there with a guest link).
GUEST = "guest"
UNEXPECTED_ERROR = GENERIC_ERROR
KEYRING_WAITING = "Waiting for the system password store…"
CONTINUE_WITHOUT_KEYRING = "Continue without remembering"
SIGN_IN_WITHOUT_KEYRING = (
    "Confero went on without the system password store, so it could not read your "
    "remembered sign-in. Sign in with your password; it will not be remembered this time."
)
#: Upper bounds of the steps of shutdown, so quitting ends whatever hangs.
_TASKS_STOP_S = 5.0
_SESSION_CLOSE_S = 5.0
_SERVER_STOP_S = 20.0


class AppController(QObject):
    """Moves the app between welcome, sign-in and the signed-in main window."""

    #: The app should exit (Ctrl+Q or a window closed); call ``shutdown()`` next.
    quit_requested = Signal()
    #: Signed in and first sync done; the main window is on screen (MainWindow).
    signed_in = Signal(object)
    #: The session ended and the welcome window is back.
    signed_out = Signal()

    def __init__(
        self,
        data_dir: Path,
        *,
        local: bool = False,
        homeserver_profile: HomeserverProfile | None = None,
        credentials: CredentialStore | None = None,
        timer: StartupTimer | None = None,
        meeting: str | None = None,
        supervisor_timing: SupervisorTiming | None = None,
        lan_browser: BrowserFactory | None = None,
        lan_announcer: Callable[[], LanAnnouncer] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        #: A meeting link or ID to join once signed in (from the command line).
        self.pending_meeting = meeting.strip() if meeting and meeting.strip() else None
        self._data_dir = Path(data_dir)
        self._local_requested = local
        self._homeserver_profile = homeserver_profile
        self._supervisor_timing = supervisor_timing
        self._credentials = credentials
        self._watching_credentials = False
        self._timer = timer or StartupTimer(0.0, enabled=False)
        self._settings = Settings.load(self._data_dir)
        self._retry: Callable[[], Awaitable[None]] | None = None
        self._keyring_notice = False  # the welcome banner offers to go on without it
        self._signing_out = False
        self._shutting_down = False
        self._session_mode: str | None = None
        self._tasks = TaskGroup()

        self.engine: Engine | None = None
        self.bridge: EngineBridge | None = None
        self.homeserver: EmbeddedHomeserver | None = None
        #: Restarts the embedded server when it dies or hangs (local mode only).
        self.supervisor: HomeserverSupervisor | None = None
        self.main_window: MainWindow | None = None
        #: Meeting servers found on the network (the welcome window and Join a meeting).
        self.lan_servers = LanServers(lan_browser, self)
        #: Announces the embedded server on the network while its network access is on.
        self._announcer: LanAnnouncer | None = None
        self._announcer_factory = lan_announcer  # tests: one inside a network namespace
        #: Guest sessions opened beside your own account (created when first needed).
        self._guest_sessions: GuestSessions | None = None
        self.welcome = WelcomeWindow(servers=self.lan_servers)
        self._connect_signals()

    def _connect_signals(self) -> None:
        w = self.welcome
        w.local_chosen.connect(self._on_local_chosen)
        w.sign_in_requested.connect(self._on_sign_in_requested)
        w.local_account_requested.connect(self._on_local_account_requested)
        w.local_sign_in_requested.connect(self._on_local_sign_in_requested)
        w.local_back_requested.connect(self._on_local_back_requested)
        w.guest_join_requested.connect(self._on_guest_join_requested)
        w.banner_action_triggered.connect(self._on_banner_action_triggered)
        w.quit_requested.connect(self.quit_requested)

    # -- start-up ------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self._data_dir

    @property
    def settings(self) -> Settings:
        return self._settings

    def open_link(self, link: str) -> None:
        """Another launch handed over (single instance): come to the front and
        join ``link`` now if signed in, else once signed in ("" only raises)."""
        if self._shutting_down:
            return
        main = self.main_window
        window = main if main is not None and main.isVisible() else self.welcome
        window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
        window.show()
        window.raise_()
        window.activateWindow()
        link = link.strip()
        if not link:
            return
        if main is not None:
            main.join_meeting_reference(link)
        elif self._is_guest_link(link) and self.welcome.current_page() in (
            WelcomePage.CHOICE,
            WelcomePage.GUEST,
            WelcomePage.SIGN_IN,
            WelcomePage.LOCAL_ACCOUNT,
        ):
            self.welcome.show_guest(link, self._settings.guest_name)
        else:
            self.pending_meeting = link

    def show_first_window(self) -> WelcomeWindow:
        """Show the welcome window at once, on the page start-up will most likely need."""
        if self._local_requested or self._settings.last_mode == LOCAL:
            self.welcome.show_busy("Starting the meeting server on this computer…")
        elif self._settings.last_mode in (REMOTE, GUEST):
            self.welcome.show_busy("Signing in…")
        else:
            self._show_choice_or_guest()
        self.welcome.show()
        return self.welcome

    async def start(self) -> None:
        """Restore the remembered session, or leave the person on the welcome window."""
        import asyncio

        if not self.welcome.isVisible():
            self.show_first_window()
        # A task of the group, so shutdown cancels it like any other wait.
        work = self._tasks.spawn(self._guarded(self._restore_or_welcome()))
        await asyncio.wait([work])

    async def _restore_or_welcome(self) -> None:
        if self._local_requested or self._settings.last_mode == LOCAL:
            await self._enter_local_mode(restore=True)
        elif self._settings.last_mode == REMOTE:
            await self._restore_remote()
        elif self._settings.last_mode == GUEST and self._settings.last_guest_slot:
            await self._restore_guest()
        else:
            self._show_choice_or_guest()

    def _show_choice_or_guest(self) -> None:
        """Nobody to sign in again: a guest link given at start asks for a name."""
        link = self.pending_meeting
        if link and self._is_guest_link(link):
            self.pending_meeting = None
            self.welcome.show_guest(link, self._settings.guest_name)
        elif self.welcome.current_page() is not WelcomePage.GUEST:
            self.welcome.show_choice()

    @staticmethod
    def _is_guest_link(text: str) -> bool:
        from engine.meeting_links import is_guest_link

        return is_guest_link(text)

    async def _restore_guest(self) -> None:
        """Sign in again as the guest of the host last joined, with its pinned certificate."""
        self.welcome.clear_notice()
        self.welcome.show_busy("Signing in…")
        slot = self._settings.last_guest_slot
        await self._engine_ready()
        engine = self._new_engine(guest_data_dir(self._data_dir, slot))
        try:
            info = await engine.session.restore(slot)
        except ConferoError as exc:
            from engine.errors import HomeserverUnreachable

            await self._discard_engine()
            self._show_choice_or_guest()
            message = exc.user_message
            if isinstance(exc, HomeserverUnreachable):
                address = self._settings.last_guest_address or "the host's computer"
                message = guest_text.RESTORE_UNREACHABLE.format(address=address)
            if isinstance(exc, SessionExpired):
                self.welcome.show_notice(message, BannerKind.WARNING)
            else:
                self._offer_retry(message, self._restore_guest)
            return
        except Exception:
            log.exception("restoring the guest session failed")
            await self._discard_engine()
            self._show_choice_or_guest()
            self.welcome.show_notice(UNEXPECTED_ERROR, BannerKind.ERROR)
            return
        if info is None:
            await self._discard_engine()
            self._show_choice_or_guest()
            return
        if not await self._enter_session(info, slot):
            self._show_choice_or_guest()
            self._offer_retry(
                guest_text.RESTORE_UNREACHABLE.format(address=self._settings.last_guest_address),
                self._restore_guest,
            )

    def _on_guest_join_requested(self, link: GuestLink, name: str) -> None:
        self.welcome.guest_page.form.set_busy(True, guest_text.SIGNING_UP)
        self._spawn(self._join_as_guest(link, name))

    async def _join_as_guest(self, link: GuestLink, name: str) -> None:
        """Sign up on the host's server with the link's invitation; into its lobby."""
        from engine.network_hosting import guest_slot

        form = self.welcome.guest_page.form
        await self._engine_ready()
        slot = guest_slot(link.fingerprint)
        engine = self._new_engine(guest_data_dir(self._data_dir, slot))
        try:
            info = await engine.session.register_with_token(
                link.base_url, link.fingerprint, name, link.token, slot=slot
            )
        except ConferoError as exc:
            await self._discard_engine()
            form.show_error(exc)
            return
        self._settings.guest_name = name
        self._settings.last_guest_slot = slot
        self._settings.last_guest_address = f"{link.host}:{link.port}"
        self._remember_choice(GUEST, None, None)
        form.set_busy(True, guest_text.JOINING)
        self.pending_meeting = link.alias  # the main window joins it: into the lobby
        entered = await self._enter_session(info, slot)
        form.set_busy(False)
        if not entered and not self._shutting_down:
            self.pending_meeting = None
            form.show_error(guest_text.RESTORE_UNREACHABLE.format(address=link.host))

    async def _restore_remote(self) -> None:
        self.welcome.clear_notice()
        self.welcome.show_busy("Signing in…")
        address, user = self._settings.last_address, self._settings.last_user
        await self._engine_ready()
        engine = self._new_engine()
        try:
            info = await engine.session.restore(REMOTE)
        except SessionExpired as exc:
            await self._discard_engine()
            self.welcome.show_sign_in(address, user, error=exc.user_message)
            return
        except ConferoError as exc:
            await self._discard_engine()
            self.welcome.show_sign_in(address, user)
            self._offer_retry(exc.user_message, self._restore_remote)
            return
        except Exception:
            log.exception("restoring the remote session failed")
            await self._discard_engine()
            self.welcome.show_sign_in(address, user, error=UNEXPECTED_ERROR)
            return
        if info is None:
            await self._discard_engine()
            self.welcome.show_sign_in(address, user)
            if self._keyring_skipped():
                self.welcome.show_notice(SIGN_IN_WITHOUT_KEYRING, BannerKind.INFO)
            return
        if not await self._enter_session(info, REMOTE):
            self.welcome.show_sign_in(address, user)

    async def _enter_local_mode(self, *, restore: bool) -> None:
        """Start the embedded server, then restore the local session or ask for an account."""
        from engine.homeserver import HomeserverError

        self.welcome.clear_notice()
        self.welcome.show_busy("Starting the meeting server on this computer…")
        try:
            homeserver = await self._ensure_homeserver()
        except HomeserverError as exc:
            log.warning("embedded homeserver did not start: %s", exc)
            self.welcome.show_choice()
            self._offer_retry(exc.user_message, lambda: self._enter_local_mode(restore=restore))
            return
        if self._shutting_down:
            return
        notice = ""
        if restore:
            self.welcome.show_busy("Signing in…")
            await self._engine_ready()
            engine = self._new_engine()
            try:
                info = await engine.session.restore(LOCAL, homeserver_url=homeserver.base_url)
            except ConferoError as exc:
                info, notice = None, exc.user_message
            except Exception:
                log.exception("restoring the local session failed")
                info = None
            if info is not None and await self._enter_session(info, LOCAL):
                return
            await self._discard_engine()
            if info is None and not notice and self._keyring_skipped():
                notice = SIGN_IN_WITHOUT_KEYRING
        known_user = self._settings.last_user if self._settings.last_mode == LOCAL else ""
        mode = LocalAccountMode.SIGN_IN if known_user else LocalAccountMode.CREATE
        self.welcome.show_local_account(mode, user=known_user, notice=notice)

    async def _ensure_homeserver(self) -> EmbeddedHomeserver:
        from engine.homeserver import EmbeddedHomeserver, HomeserverProfile

        if self.homeserver is None:
            profile = self._homeserver_profile or HomeserverProfile.DESKTOP
            self.homeserver = EmbeddedHomeserver(self._data_dir / "homeserver", profile=profile)
        if not self.homeserver.is_running:
            await self._stop_supervisor()
            await self.homeserver.start()
            if not self._shutting_down:
                self._start_supervisor(self.homeserver)
                self.update_announcement()
        return self.homeserver

    def update_announcement(self) -> None:
        """Announce this computer's meeting server on the network while its network
        access is on, and withdraw it when it is off: call after turning it on or off."""
        looking = discovery_enabled() or self._announcer_factory is not None
        if self.homeserver is not None and looking and not self._shutting_down:
            self._tasks.spawn(self._follow_network_access(self.homeserver))

    async def _follow_network_access(self, homeserver: EmbeddedHomeserver) -> None:
        import asyncio
        import importlib

        try:
            module = await asyncio.to_thread(importlib.import_module, "engine.lan_discovery")
            if self._announcer is None:
                make = self._announcer_factory or module.LanAnnouncer
                self._announcer = make()
            await module.announce_homeserver(self._announcer, homeserver)
        except Exception as exc:  # no network or no multicast: nobody finds it, that is all
            log.info("the meeting server could not be announced on the network: %r", exc)

    async def _withdraw_announcement(self) -> None:
        announcer, self._announcer = self._announcer, None
        if announcer is not None:
            try:
                await announcer.withdraw()
            except Exception as exc:
                log.info("withdrawing the announcement failed: %r", exc)

    def _start_supervisor(self, homeserver: EmbeddedHomeserver) -> None:
        from engine.homeserver_supervisor import HomeserverSupervisor

        self.supervisor = HomeserverSupervisor(homeserver, timing=self._supervisor_timing)
        self.supervisor.bus.subscribe(self._on_supervisor_event)
        self.supervisor.start()

    async def _stop_supervisor(self) -> None:
        supervisor, self.supervisor = self.supervisor, None
        if supervisor is not None:
            await supervisor.stop()

    def _on_supervisor_event(self, event: EngineEvent) -> None:
        from engine.events import HomeserverRecovered

        # The server is back: sync and send now rather than after the backoff.
        if isinstance(event, HomeserverRecovered) and self.engine is not None:
            self.engine.session.reconnect_now()
        if isinstance(event, HomeserverRecovered):
            self.update_announcement()  # its port may be new after a restart

    # -- welcome window slots ----------------------------------------------------

    def _on_local_chosen(self) -> None:
        self.welcome.clear_notice()
        self.welcome.show_busy("Starting the meeting server on this computer…")
        self._spawn(self._enter_local_mode(restore=True))

    def _on_sign_in_requested(self, address: str, user: str, password: str, remember: bool) -> None:
        page = self.welcome.sign_in_page
        page.set_busy(True, "Signing in…")  # at once, before the task gets to run
        self._spawn(self._sign_in(page, REMOTE, address, user, password, remember))

    def _on_local_account_requested(
        self, display_name: str, user: str, password: str, remember: bool
    ) -> None:
        self.welcome.local_page.set_busy(True, "Creating your account…")
        self._spawn(self._create_local_account(display_name, user, password, remember))

    def _on_local_sign_in_requested(self, user: str, password: str, remember: bool) -> None:
        page = self.welcome.local_page
        if self.homeserver is None or not self.homeserver.is_running:
            page.show_error("The meeting server on this computer is not running.")
            return
        url = self.homeserver.base_url
        page.set_busy(True, "Signing in…")
        self._spawn(self._sign_in(page, LOCAL, url, user, password, remember))

    def _on_local_back_requested(self) -> None:
        self.welcome.local_page.clear_error()
        self.welcome.show_choice()

    def _on_banner_action_triggered(self) -> None:
        if self._keyring_notice and self.welcome.banner.text() == KEYRING_WAITING:
            self._continue_without_keyring()
            return
        retry, self._retry = self._retry, None
        self.welcome.clear_notice()
        if retry is not None:
            self._spawn(retry())

    async def _create_local_account(
        self, display_name: str, user: str, password: str, remember: bool
    ) -> None:
        from engine.homeserver import HomeserverError, UserExistsError

        page = self.welcome.local_page
        try:
            localpart = validate_localpart(user)
        except InvalidUserId as exc:
            page.show_error(exc)
            return
        page.set_busy(True, "Creating your account…")
        try:
            homeserver = await self._ensure_homeserver()
            await homeserver.register_user(localpart, password, displayname=display_name or None)
        except UserExistsError as exc:
            page.offer_sign_in(f"{exc.user_message} If it is yours, enter its password to sign in.")
            return
        except HomeserverError as exc:
            page.show_error(exc.user_message)
            return
        await self._sign_in(page, LOCAL, homeserver.base_url, localpart, password, remember)

    async def _sign_in(
        self,
        page: SignInPage | LocalAccountPage,
        slot: str,
        address: str,
        user: str,
        password: str,
        remember: bool,
    ) -> None:
        page.set_busy(True, "Signing in…")
        await self._engine_ready()
        engine = self._new_engine()
        try:
            info = await engine.session.login(address, user, password, remember=remember, slot=slot)
        except ConferoError as exc:
            await self._discard_engine()
            page.show_error(exc)
            return
        self._remember_choice(slot, address if slot == REMOTE else "", user)
        page.set_busy(True, "Loading your conversations…")
        entered = await self._enter_session(info, slot)
        page.set_busy(False)
        if not entered and not self._shutting_down:
            page.show_error("Signed in, but your conversations could not be loaded. Try again.")

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run a slot's work as a task that shutdown can cancel."""
        self._tasks.spawn(self._guarded(work))

    async def wait_idle(self) -> None:
        """Wait until the work started by the windows' signals has finished."""
        await self._tasks.wait_idle()
        if self._guest_sessions is not None:
            await self._guest_sessions.wait_idle()

    async def _guarded(self, work: Awaitable[None]) -> None:
        """Run a slot's work; an unexpected error becomes a message, never a crash."""
        try:
            await work
        except Exception:
            log.exception("unexpected error")
            if self.main_window is not None:  # signed in: keep the session, say so
                self.main_window.setEnabled(True)
                self.main_window.show_notice(UNEXPECTED_ERROR, BannerKind.ERROR)
                return
            await self._discard_engine()
            forms: dict[WelcomePage, SignInPage | LocalAccountPage] = {
                WelcomePage.SIGN_IN: self.welcome.sign_in_page,
                WelcomePage.LOCAL_ACCOUNT: self.welcome.local_page,
            }
            form = forms.get(self.welcome.current_page())
            if form is not None:
                form.show_error(UNEXPECTED_ERROR)
            else:
                self.welcome.show_choice()
                self.welcome.show_notice(UNEXPECTED_ERROR, BannerKind.ERROR)

    # -- the session -------------------------------------------------------------

    async def _engine_ready(self) -> None:
        """Import the engine (matrix-nio: about half a second) on a worker thread.

        Imported on the UI thread it would freeze the busy page at start-up.
        """
        import asyncio
        import importlib
        import sys

        if "engine.engine" not in sys.modules:
            await asyncio.to_thread(importlib.import_module, "engine.engine")
            from ui.gui_thread_gc import GuiThreadGarbageCollector

            GuiThreadGarbageCollector.freeze_long_lived()

    def _new_engine(self, data_dir: Path | None = None) -> Engine:
        from engine.engine import Engine

        if self.engine is None:
            self.engine = Engine(data_dir or self._data_dir, self._credential_store())
        return self.engine

    def guest_sessions(self) -> GuestSessions:
        """The guest sessions beside your own account (ui/guest_sessions.py)."""
        if self._guest_sessions is None:
            self._guest_sessions = GuestSessions(
                self._data_dir, self._credential_store(), self._settings, self.lan_servers, self
            )
            self._guest_sessions.quit_requested.connect(self.quit_requested)
        return self._guest_sessions

    def _on_guest_join_asked(self, link: str, picked: object) -> None:
        if self._shutting_down:
            return
        # Beside the session you are in (your account, or a guest's of another host).
        self.guest_sessions().ask(link, self.main_window, picked)  # type: ignore[arg-type]

    # -- the system password store -------------------------------------------------

    def _credential_store(self) -> CredentialStore:
        """One store for the whole run, so "Continue without remembering" lasts."""
        from engine.credentials import CredentialStore

        if self._credentials is None:
            self._credentials = CredentialStore()
        if not self._watching_credentials:
            self._credentials.subscribe(self._on_credential_store_state)
            self._watching_credentials = True
        return self._credentials

    def _on_credential_store_state(self, state: CredentialStoreState) -> None:
        from engine.credentials import CredentialStoreState

        waiting = state is CredentialStoreState.WAITING
        if waiting and self.main_window is None and not self._shutting_down:
            # Sign-in waits on the keyring (a locked keyring asks for its
            # password): say so, and let the person go on without it.
            self._keyring_notice = True
            self.welcome.banner.show_message(
                KEYRING_WAITING,
                BannerKind.INFO,
                action_text=CONTINUE_WITHOUT_KEYRING,
                action_tooltip="Sign in now; Confero will not remember the sign-in this time",
                dismissable=False,
            )
        elif not waiting and self._keyring_notice:
            self._keyring_notice = False
            self.welcome.clear_notice()

    def _keyring_skipped(self) -> bool:
        from engine.credentials import CredentialStoreState

        store = self._credentials
        return store is not None and store.state is CredentialStoreState.SKIPPED

    def _continue_without_keyring(self) -> None:
        self._keyring_notice = False
        self.welcome.clear_notice()
        if self._credentials is not None:
            self._credentials.skip()

    async def _discard_engine(self) -> None:
        engine, self.engine = self.engine, None
        if engine is not None:
            with contextlib.suppress(Exception):
                await engine.session.close()

    async def _enter_session(self, info: SessionInfo, slot: str) -> bool:
        """Sync once, then swap the welcome window for the main window."""
        from ui.bridge import EngineBridge
        from ui.main_window import MainWindow

        engine = self.engine
        if engine is None or self._shutting_down:
            return False
        bridge = EngineBridge(engine.session.bus, self)
        main = MainWindow(
            engine,
            bridge,
            homeserver=self.homeserver if slot == LOCAL else None,
            settings=self._settings,
            lan_servers=self.lan_servers,
        )
        try:
            await engine.session.start()
        except Exception as exc:
            log.warning("first sync failed: %r", exc)
            bridge.detach()
            bridge.deleteLater()
            main.deleteLater()
            await self._discard_engine()
            return False
        if self._shutting_down:
            bridge.detach()
            main.deleteLater()
            return False
        self.bridge = bridge
        self.main_window = main
        self._session_mode = slot
        main.sign_out_requested.connect(self._on_sign_out_requested)
        main.quit_requested.connect(self.quit_requested)
        main.settings_changed.connect(self._on_settings_changed)
        main.guest_join_asked.connect(self._on_guest_join_asked)
        if main.network_access is not None:
            # Turned on or off in Preferences or the banner: other computers' lists follow.
            main.network_access.restarted.connect(self.update_announcement)
        bridge.signed_out.connect(self._on_signed_out)
        if slot == LOCAL and self.supervisor is not None:
            bridge.watch(self.supervisor.bus)
            bridge.connection_state_changed.connect(self._on_local_connection_changed)
            main.server_retry_requested.connect(self._on_server_retry_requested)
        main.show_session(info)
        if self.welcome.isVisible():
            main.move(self.welcome.pos())
        main.show()
        main.raise_()
        main.activateWindow()
        self.welcome.hide()
        self.welcome.reset_forms()
        self.welcome.clear_notice()
        self._timer.mark("signed_in_synced")
        self.signed_in.emit(main)
        meeting, self.pending_meeting = self.pending_meeting, None
        if meeting:
            main.join_meeting_reference(meeting)
        return True

    def _on_local_connection_changed(self, state: ConnectionState, _detail: str) -> None:
        # Lost the connection to our own server: has it died? Ask now, not in a second.
        if state is not ConnectionState.CONNECTED and self.supervisor is not None:
            self.supervisor.check_now()

    def _on_server_retry_requested(self) -> None:
        if self.supervisor is not None:
            self.supervisor.try_again()

    def _on_settings_changed(self, settings: Settings) -> None:
        try:
            settings.save(self._data_dir)
        except OSError as exc:
            log.warning("could not save settings: %s", exc)

    def _on_sign_out_requested(self) -> None:
        self._spawn(self.sign_out())

    async def sign_out(self) -> None:
        """Sign out on the server, forget the remembered session, show the welcome window."""
        engine = self.engine
        if engine is None or self._signing_out:
            return
        self._signing_out = True
        try:
            if self.main_window is not None:
                self.main_window.setEnabled(False)
                self.main_window.statusBar().showMessage("Signing out…")
            try:
                await engine.session.logout()
            except Exception as exc:
                log.warning("logout failed: %r", exc)
            self._remember_choice("", None, None)
            await self._end_session()
            self._show_welcome_again()
        finally:
            self._signing_out = False

    def _on_signed_out(self, reason: str) -> None:
        if not self._signing_out and not self._shutting_down:
            self._spawn(self._session_ended(reason))

    async def _session_ended(self, reason: str) -> None:
        """The server ended the session (token revoked, account deactivated)."""
        mode = self._session_mode
        await self._end_session()
        self._show_welcome_again(reason, mode)

    def _show_welcome_again(self, reason: str = "", mode: str | None = None) -> None:
        w = self.welcome
        if mode == LOCAL:
            w.show_local_account(LocalAccountMode.SIGN_IN, user=self._settings.last_user)
        elif mode == REMOTE:
            w.show_sign_in(self._settings.last_address, self._settings.last_user)
        else:
            w.show_choice()
        if reason:
            w.show_notice(reason, BannerKind.WARNING)
        w.show()
        w.raise_()
        w.activateWindow()
        self.signed_out.emit()

    async def _end_session(self) -> None:
        main, self.main_window = self.main_window, None
        bridge, self.bridge = self.bridge, None
        engine, self.engine = self.engine, None
        self._session_mode = None
        if bridge is not None:
            bridge.detach()
        if main is not None:
            if self.welcome.isHidden():
                self.welcome.move(main.pos())
            main.close_quietly()
            main.deleteLater()
        if bridge is not None:
            bridge.deleteLater()
        if engine is not None:
            try:
                await engine.session.close()
            except Exception as exc:
                log.warning("closing the engine failed: %r", exc)

    # -- shutting down -------------------------------------------------------------

    async def shutdown(self) -> None:
        """Close the session (staying signed in) and stop the embedded server."""
        if self._shutting_down:
            return
        self._shutting_down = True
        import asyncio

        # Every step is bounded: quitting must end whatever the app waits on
        # (a keyring prompt runs on a daemon thread and is simply left behind).
        current = asyncio.current_task()
        pending = [t for t in self._tasks.pending() if t is not current]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=_TASKS_STOP_S)
        self.welcome.hide()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.lan_servers.close(), _TASKS_STOP_S)
        with contextlib.suppress(Exception):  # goodbye packets: browsers drop it at once
            await asyncio.wait_for(self._withdraw_announcement(), _TASKS_STOP_S)
        if self._guest_sessions is not None:
            try:
                await asyncio.wait_for(self._guest_sessions.close_all(), _SESSION_CLOSE_S)
            except TimeoutError:
                log.warning("closing the guest sessions took too long; quitting anyway")
        try:
            await asyncio.wait_for(self._end_session(), _SESSION_CLOSE_S)
        except TimeoutError:
            log.warning("closing the session took too long; quitting anyway")
        await self._stop_supervisor()  # first, or it would restart the server we stop
        homeserver, self.homeserver = self.homeserver, None
        if homeserver is not None:
            try:
                # Stopping also aborts a start still waiting for the server.
                await asyncio.wait_for(homeserver.stop(), _SERVER_STOP_S)
            except TimeoutError:
                log.warning("the meeting server did not stop in time")
            except Exception as exc:
                log.warning("stopping the meeting server failed: %r", exc)

    # -- helpers -------------------------------------------------------------------

    def _offer_retry(self, text: str, retry: Callable[[], Awaitable[None]]) -> None:
        self._retry = retry
        self.welcome.show_notice(text, BannerKind.ERROR, action_text="Try again")

    def _remember_choice(self, mode: str, address: str | None, user: str | None) -> None:
        settings = self._settings
        settings.last_mode = mode
        if address:
            settings.last_address = address
        if user:
            settings.last_user = user
        try:
            settings.save(self._data_dir)
        except OSError as exc:
            log.warning("settings could not be saved: %s", exc)
