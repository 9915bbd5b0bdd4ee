"""The main window: who you are, your presence, and your conversations."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.errors import ConferoError
from engine.meeting_links import is_guest_link
from engine.models import ConnectionState, Presence, SessionInfo
from engine.settings import Settings
from ui import theme
from ui.banner import Banner, BannerKind
from ui.bridge import EngineBridge
from ui.call_toasts import CallToasts
from ui.conversation_delegate import ConversationDelegate
from ui.conversation_list_model import ConversationListModel, ConversationRole
from ui.conversation_list_view import ConversationListView
from ui.dialogs import AddColleagueDialog, NewConversationDialog
from ui.guest_text import CONNECTION_LOST, GUEST_SERVER_LABEL
from ui.ics_export import export_ics
from ui.invitation_toasts import InvitationToasts
from ui.join_meeting_dialog import JoinMeetingDialog, normalise_reference
from ui.lobby_notifier import LobbyNotifier
from ui.my_meetings_view import MyMeetingsView
from ui.network_access import HostingState, NetworkAccess
from ui.network_access_text import (
    ON_STATUS,
    ON_STATUS_NO_ADDRESS,
    ON_STATUS_TIP,
    ON_STATUS_UNKNOWN,
    TURN_OFF,
    TURN_OFF_TIP,
    TURNING_OFF,
    TURNING_ON,
)
from ui.preferences_dialog import PreferencesDialog
from ui.reminder_toasts import ReminderToasts
from ui.schedule_dialog import ScheduleDialog, open_schedule
from ui.server_log_dialog import ServerLogDialog
from ui.tasks import TaskGroup
from ui.window_registry import ConversationWindows

if TYPE_CHECKING:
    from engine.engine import Engine
    from engine.homeserver import EmbeddedHomeserver
    from ui.lan_servers import LanServers

log = logging.getLogger(__name__)

#: What the presence selector offers, in order.
PRESENCE_CHOICES: tuple[Presence, ...] = (
    Presence.AVAILABLE,
    Presence.BUSY,
    Presence.AWAY,
    Presence.OFFLINE,
)

CONNECTION_GRACE_MS = 1500
SERVER_RESTARTING_TEXT = "The meeting server on this computer stopped. Restarting it…"
SERVER_FAILED_TEXT = "The meeting server on this computer stopped and could not be restarted."


class MainWindow(QMainWindow):
    """Conversation list, presence selector and the app's menus."""

    #: "Sign out" was chosen.
    sign_out_requested = Signal()
    #: "Quit" was chosen or the window was closed.
    quit_requested = Signal()
    #: The preferences were changed (the Settings object, to be saved).
    settings_changed = Signal(object)
    #: A conversation window was opened (room ID).
    conversation_opened = Signal(str)
    #: "Try again" was clicked on the banner of a meeting server that could not restart.
    server_retry_requested = Signal()
    #: A guest link was given (Join a meeting…, the command line), or a server found on
    #: the network picked: (link or "", DiscoveredServer or None). Joining is a guest
    #: session of its own (ui/guest_sessions.py).
    guest_join_asked = Signal(str, object)

    def __init__(
        self,
        engine: Engine,
        bridge: EngineBridge,
        *,
        homeserver: EmbeddedHomeserver | None = None,
        settings: Settings | None = None,
        windows: ConversationWindows | None = None,
        lan_servers: LanServers | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings or Settings()
        self._lan_servers = lan_servers
        self._engine = engine
        self._bridge = bridge
        #: “Let people on my network join” (with this computer's server only).
        self.network_access: NetworkAccess | None = None
        if homeserver is not None:
            self.network_access = NetworkAccess(
                homeserver, self._settings, lambda: self.settings_changed.emit(self._settings), self
            )
        #: The open conversation windows of this session (one per conversation).
        self.windows = windows or ConversationWindows(
            engine, bridge, self, network=self.network_access
        )
        self._homeserver = homeserver
        self._quiet_close = False
        # The meeting server on this computer: "running", "restarting" or "failed";
        # after a restart the banner stays until sync is back ("returning").
        self._server_status = "running"
        # With the server on this computer, a lost connection most likely means it
        # died: give its supervisor a moment to say so before "Connection lost".
        self._connection_grace = QTimer(self)
        self._connection_grace.setSingleShot(True)
        self._connection_grace.setInterval(CONNECTION_GRACE_MS if homeserver else 0)
        self._tasks = TaskGroup()
        self.setWindowTitle("Confero")
        self.setWindowIcon(theme.app_icon())
        self.setObjectName("mainWindow")
        self.resize(420, 640)
        self.setMinimumSize(320, 420)

        self.model = ConversationListModel(bridge, self)
        self._build_header()
        self._build_list()
        self._build_actions()
        self._build_menus()

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(10, 10, 10, 6)
        layout.setSpacing(8)
        self.server_banner = Banner(central)
        self.server_banner.setAccessibleName("Meeting server")
        #: While people on other computers can join: the address, with Turn off.
        self.network_banner = Banner(central)
        self.network_banner.setAccessibleName("Network access")
        self.network_banner.setToolTip(ON_STATUS_TIP)
        self.connection_banner = Banner(central)
        self.notice_banner = Banner(central)
        self.sending_banner = Banner(central)  # messages can't be saved or sent, with Retry
        self.invitation_toasts = InvitationToasts(engine, bridge, central)
        self.call_toasts = CallToasts(engine, bridge, central)
        self.reminder_toasts = ReminderToasts(engine, bridge, central)
        layout.addWidget(self.server_banner)
        layout.addWidget(self.network_banner)
        layout.addWidget(self.connection_banner)
        layout.addWidget(self.notice_banner)
        layout.addWidget(self.sending_banner)
        layout.addWidget(self.call_toasts)
        layout.addWidget(self.invitation_toasts)
        layout.addWidget(self.reminder_toasts)
        layout.addWidget(self._header)
        conversations = QWidget(central)
        page = QVBoxLayout(conversations)
        page.setContentsMargins(0, 6, 0, 0)
        page.addWidget(self.list_view, 1)
        page.addWidget(self.empty_label, 1)
        # Open acts on the list's selection, so it sits under the list (and keeps
        # the action row above wide enough for its three buttons).
        footer = QHBoxLayout()
        footer.addStretch(1)
        footer.addWidget(self.open_button)
        page.addLayout(footer)
        self.my_meetings = MyMeetingsView(engine, bridge, central)
        self.my_meetings.layout().setContentsMargins(0, 6, 0, 0)
        self.tabs = QTabWidget(central)
        self.tabs.setDocumentMode(True)
        self.tabs.setAccessibleName("Conversations and meetings")
        self.tabs.addTab(conversations, "Conversations")
        self.tabs.addTab(self.my_meetings, "My meetings")
        self.tabs.setTabToolTip(0, "Your conversations (Ctrl+1)")
        self.tabs.setTabToolTip(1, "Your meetings: join, copy a link, end one (Ctrl+2)")
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.server_label = QLabel(self)
        self.server_label.setTextFormat(Qt.TextFormat.PlainText)
        self.statusBar().addPermanentWidget(self.server_label, 1)

        self.setTabOrder(self.presence_combo, self.new_button)
        self.setTabOrder(self.new_button, self.meet_now_button)
        self.setTabOrder(self.meet_now_button, self.join_button)
        self.setTabOrder(self.join_button, self.tabs)
        self.setTabOrder(self.tabs, self.list_view)
        self.setTabOrder(self.list_view, self.open_button)
        self.lobby_notifier = LobbyNotifier(engine, bridge, self.windows, self)
        self.invitation_toasts.join_finished.connect(self.open_conversation)
        self.invitation_toasts.audio_failed.connect(self._on_invited_audio_failed)
        self.invitation_toasts.show_requested.connect(self._on_invitation_notification_clicked)
        self.call_toasts.open_requested.connect(self.open_conversation)
        self.call_toasts.show_requested.connect(self._on_invitation_notification_clicked)
        self.reminder_toasts.join_finished.connect(self.open_conversation)
        self.reminder_toasts.show_requested.connect(self._on_invitation_notification_clicked)
        self._apply_timeouts()
        self._apply_audio_devices()
        self._connect_signals()
        self._update_identity()
        self._update_empty_state()
        self._on_network_access_changed()
        if engine.session.connection is ConnectionState.RECONNECTING:
            self._on_connection_state_changed(engine.session.connection, "")

    @property
    def lobby_timeout_s(self) -> float:
        """How long Join a meeting… waits in a lobby (a preference)."""
        return float(self._settings.lobby_timeout_s)

    def _on_preferences_triggered(self) -> None:
        dialog = PreferencesDialog(self._settings, self, network=self.network_access)
        dialog.audio.start()  # devices are listed and the meter runs while it is open
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._on_preferences_accepted(dialog))
        self.preferences_dialog = dialog
        dialog.open()

    def _on_preferences_accepted(self, dialog: PreferencesDialog) -> None:
        dialog.apply_to(self._settings)
        self._apply_timeouts()
        self._apply_audio_devices()
        self.settings_changed.emit(self._settings)

    def _apply_timeouts(self) -> None:
        """The engine's waits that are preferences (the lobby's is passed per join)."""
        self._engine.invitations.timeout_s = float(self._settings.invitation_timeout_s)
        self._engine.escalation.timeout_s = float(self._settings.escalation_timeout_s)

    def _apply_audio_devices(self) -> None:
        """The microphone and speaker chosen in Preferences ("" is the system default)."""
        microphone, speaker = self._settings.microphone or None, self._settings.speaker or None
        self._engine.media.choose_devices(microphone, speaker)  # no I/O: streams reopen later
        self.call_toasts.set_speaker(speaker)

    def _on_invitation_notification_clicked(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    # -- construction ------------------------------------------------------------

    def _build_header(self) -> None:
        self._header = QWidget(self)
        self.name_label = QLabel(self._header)
        self.name_label.setTextFormat(Qt.TextFormat.PlainText)
        self.name_label.setAccessibleName("Your name")
        theme.scale_font(self.name_label, 1.15, bold=True)
        self.user_label = QLabel(self._header)
        self.user_label.setTextFormat(Qt.TextFormat.PlainText)
        self.user_label.setAccessibleName("Your Matrix ID")
        self.user_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.presence_combo = QComboBox(self._header)
        self.presence_combo.setAccessibleName("Your presence")
        self.presence_combo.setToolTip("How you appear to others")
        self.presence_combo.view().setAccessibleName("Presence choices")
        for presence in PRESENCE_CHOICES:
            self.presence_combo.addItem(theme.presence_dot(presence), presence.value, presence)

        self.new_button = QPushButton(theme.icon("new-conversation"), "New conversation", self)
        self.new_button.setAccessibleName("New conversation")
        self.new_button.setToolTip("Start a conversation with someone (Ctrl+N)")
        self.meet_now_button = QPushButton(theme.icon("conference"), "Meet Now", self)
        self.meet_now_button.setAccessibleName("Meet Now")
        self.meet_now_button.setToolTip("Start a meeting now and invite people to it (Ctrl+M)")
        self.join_button = QPushButton("Join a meeting…", self)
        self.join_button.setAccessibleName("Join a meeting")
        self.join_button.setToolTip("Join a meeting by its link or 7-digit ID (Ctrl+J)")
        # Also how assistive tools open a conversation: list items offer only "select".
        self.open_button = QPushButton("Open", self)
        self.open_button.setAccessibleName("Open the selected conversation")
        self.open_button.setToolTip("Open the selected conversation (Enter)")
        self.open_button.setEnabled(False)

        who = QVBoxLayout()
        who.setSpacing(0)
        who.addWidget(self.name_label)
        who.addWidget(self.user_label)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addLayout(who, 1)
        top.addWidget(self.presence_combo, 0, Qt.AlignmentFlag.AlignVCenter)
        column = QVBoxLayout(self._header)
        column.setContentsMargins(2, 0, 2, 0)
        column.addLayout(top)
        actions = QHBoxLayout()
        actions.setSpacing(6)
        actions.addWidget(self.new_button)
        actions.addWidget(self.meet_now_button)
        actions.addWidget(self.join_button)
        actions.addStretch(1)
        column.addLayout(actions)

    def _build_list(self) -> None:
        self.list_view = ConversationListView(self)
        self.list_view.setObjectName("conversationList")
        self.list_view.setModel(self.model)
        self.list_view.setItemDelegate(ConversationDelegate(self.list_view))
        self.list_view.setAccessibleName("Conversations")
        self.list_view.setToolTip("")
        self.list_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list_view.setUniformItemSizes(True)
        self.list_view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)

        self.empty_label = QLabel("No conversations yet.\nPress Ctrl+N to start one.", self)
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAccessibleName("No conversations yet")

    def _build_actions(self) -> None:
        self.new_conversation_action = QAction(
            theme.icon("new-conversation"), "&New conversation…", self
        )
        self.new_conversation_action.setShortcut(QKeySequence.StandardKey.New)
        self.new_conversation_action.setToolTip("Start a conversation with someone (Ctrl+N)")
        self.meet_now_action = QAction(theme.icon("conference"), "&Meet Now", self)
        self.meet_now_action.setShortcut(QKeySequence("Ctrl+M"))
        self.meet_now_action.setToolTip("Start a meeting now and invite people to it (Ctrl+M)")
        self.join_meeting_action = QAction("&Join a meeting…", self)
        self.join_meeting_action.setShortcut(QKeySequence("Ctrl+J"))
        self.join_meeting_action.setToolTip("Join a meeting by its link or 7-digit ID (Ctrl+J)")
        self.schedule_action = QAction("&Schedule a meeting…", self)
        self.schedule_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.schedule_action.setToolTip(
            "Set up a meeting for later and invite people to it (Ctrl+Shift+S)"
        )
        self.personal_meeting_action = QAction(
            theme.icon("conference"), "My pe&rsonal meeting", self
        )
        self.personal_meeting_action.setToolTip(
            "Open your own meeting: its ID and link stay the same, to use again and again"
        )
        self.add_colleague_action = QAction("&Add a colleague's account…", self)
        self.add_colleague_action.setToolTip(
            "Create an account for a colleague on this computer's meeting server"
        )
        self.add_colleague_action.setVisible(self._homeserver is not None)
        self.preferences_action = QAction("&Preferences…", self)
        self.preferences_action.setShortcut(QKeySequence("Ctrl+,"))
        self.preferences_action.setToolTip(
            "Change your microphone and speaker, and how long Confero waits (Ctrl+,)"
        )
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.sign_out_action = QAction("&Sign out", self)
        self.sign_out_action.setToolTip("Sign out and forget this sign-in on this computer")
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcuts(theme.quit_shortcuts())
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.conversations_tab_action = QAction("&Conversations", self)
        self.conversations_tab_action.setShortcut(QKeySequence("Ctrl+1"))
        self.conversations_tab_action.setToolTip("Show your conversations (Ctrl+1)")
        self.my_meetings_tab_action = QAction("My &meetings", self)
        self.my_meetings_tab_action.setShortcut(QKeySequence("Ctrl+2"))
        self.my_meetings_tab_action.setToolTip("Show your meetings (Ctrl+2)")
        self.about_action = QAction("&About Confero", self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        for action in (
            self.new_conversation_action,
            self.meet_now_action,
            self.join_meeting_action,
            self.schedule_action,
            self.preferences_action,
            self.quit_action,
            self.conversations_tab_action,
            self.my_meetings_tab_action,
        ):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)
        # Ctrl+Q quits from every window (a meeting's too), as in other chat apps.
        self.quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)

    def _build_menus(self) -> None:
        menu = self.menuBar().addMenu("&Confero")
        menu.addAction(self.new_conversation_action)
        menu.addAction(self.meet_now_action)
        menu.addAction(self.join_meeting_action)
        menu.addAction(self.schedule_action)
        menu.addAction(self.personal_meeting_action)
        menu.addSeparator()
        menu.addAction(self.add_colleague_action)
        menu.addAction(self.preferences_action)
        menu.addSeparator()
        menu.addAction(self.sign_out_action)
        menu.addAction(self.quit_action)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.conversations_tab_action)
        view_menu.addAction(self.my_meetings_tab_action)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _connect_signals(self) -> None:
        self.lobby_notifier.notice_wanted.connect(self.show_notice)
        self.lobby_notifier.open_requested.connect(self.open_conversation)
        self.new_button.clicked.connect(self.new_conversation_action.trigger)
        self.new_conversation_action.triggered.connect(self._on_new_conversation_triggered)
        self.meet_now_button.clicked.connect(self.meet_now_action.trigger)
        self.meet_now_action.triggered.connect(self._on_meet_now_triggered)
        self.join_button.clicked.connect(self.join_meeting_action.trigger)
        self.join_meeting_action.triggered.connect(self._on_join_meeting_triggered)
        self.schedule_action.triggered.connect(self.schedule_meeting)
        self.add_colleague_action.triggered.connect(self._on_add_colleague_triggered)
        self.personal_meeting_action.triggered.connect(self._on_personal_meeting_triggered)
        self.sign_out_action.triggered.connect(self.sign_out_requested)
        self.quit_action.triggered.connect(self.quit_requested)
        self.about_action.triggered.connect(self._on_about_triggered)
        self.preferences_action.triggered.connect(self._on_preferences_triggered)
        self.presence_combo.activated.connect(self._on_presence_chosen)
        self.list_view.activated.connect(self._on_conversation_activated)
        self.list_view.open_requested.connect(self._on_conversation_activated)
        self.list_view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.open_button.clicked.connect(self._on_open_clicked)
        self.model.rowsInserted.connect(self._update_empty_state)
        self.model.rowsRemoved.connect(self._update_empty_state)
        self.model.modelReset.connect(self._update_empty_state)
        self._bridge.connection_state_changed.connect(self._on_connection_state_changed)
        self._bridge.outbox_problem.connect(self._on_outbox_problem)
        self._bridge.sending_problem.connect(self._on_sending_problem)
        self._bridge.sending_recovered.connect(self.sending_banner.clear)
        self.sending_banner.action_triggered.connect(self._on_sending_retry)
        self._connection_grace.timeout.connect(self._show_connection_lost)
        self._bridge.homeserver_restarting.connect(self._on_homeserver_restarting)
        self._bridge.homeserver_recovered.connect(self._on_homeserver_recovered)
        self._bridge.homeserver_failed.connect(self._on_homeserver_failed)
        self.server_banner.action_triggered.connect(self._on_server_retry_clicked)
        self.server_banner.secondary_action_triggered.connect(self.show_server_log)
        if self.network_access is not None:
            self.network_access.changed.connect(self._on_network_access_changed)
            self.network_access.problem.connect(
                lambda text: self.show_notice(text, BannerKind.ERROR)
            )
            self.network_access.restarted.connect(self._on_network_restarted)
            self.network_banner.action_triggered.connect(self.network_access.turn_off)
        self._bridge.own_presence_changed.connect(self._on_own_presence_changed)
        self._bridge.conversation_added.connect(self._on_conversation_added)
        self.conversations_tab_action.triggered.connect(lambda: self.show_tab(0))
        self.my_meetings_tab_action.triggered.connect(lambda: self.show_tab(1))
        self.my_meetings.join_requested.connect(self.join_meeting_reference)
        self.my_meetings.set_schedule_handler(self.schedule_meeting)
        self.my_meetings.set_export_handler(
            lambda summary: self._tasks.spawn(export_ics(self, summary))
        )
        self.my_meetings.status_message.connect(self._on_status_message)
        self.my_meetings.problem.connect(lambda text: self.show_notice(text, BannerKind.ERROR))

    # -- public API --------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        return self._engine

    def show_session(self, info: SessionInfo) -> None:
        """Fill in the identity and show the keyring problem, if there is one."""
        self._update_identity(info)
        self.model.sync_with(self._engine.conversations.all())
        self._on_own_presence_changed(self._engine.presences.own_presence, "")
        if info.remember_problem:
            self.show_notice(info.remember_problem, BannerKind.WARNING)

    def _on_status_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 4000)

    def show_tab(self, tab: int) -> None:
        """Show Conversations (0) or My meetings (1), with the keyboard in its list."""
        self.tabs.setCurrentIndex(tab)
        view = self.list_view if tab == 0 else self.my_meetings.list_view
        (view if view.isVisible() else self.tabs.currentWidget()).setFocus()

    def show_notice(self, text: str, kind: BannerKind = BannerKind.INFO) -> None:
        self.notice_banner.show_message(text, kind)

    def open_conversation(self, room_id: str) -> None:
        """Open (or raise) the conversation window of ``room_id``."""
        self.windows.open(room_id, self)
        self.conversation_opened.emit(room_id)

    def _on_invited_audio_failed(self, room_id: str, text: str) -> None:
        """Join with audio joined the meeting only: its window (just opened) says why."""
        if (window := self.windows.find(room_id)) is not None:
            window.banners.show_error(text)

    def start_new_conversation(self) -> NewConversationDialog:
        dialog = NewConversationDialog(self._engine, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.conversation_started.connect(self._on_conversation_started)
        dialog.open()
        return dialog

    def meet_now(self) -> None:
        """Create a meeting, join it as its Leader and open its window."""
        self._open_meeting(
            (self.meet_now_action, self.meet_now_button),
            "Starting a meeting…",
            "The meeting could not be started",
            self._engine.conferences.meet_now,
        )

    def _open_meeting(
        self,
        controls: tuple[QAction | QWidget, ...],
        busy_text: str,
        failure: str,
        find_room: Callable[[], Awaitable[str]],
    ) -> None:
        """Run ``find_room`` with its controls greyed out, then open the meeting's window."""
        if not all(control.isEnabled() for control in controls):
            return  # already on its way
        for control in controls:
            control.setEnabled(False)
        self.statusBar().showMessage(busy_text)
        self._tasks.spawn(self._open_meeting_when_found(controls, failure, find_room))

    async def _open_meeting_when_found(
        self,
        controls: tuple[QAction | QWidget, ...],
        failure: str,
        find_room: Callable[[], Awaitable[str]],
    ) -> None:
        try:
            room_id = await find_room()
        except ConferoError as exc:
            self.show_notice(f"{failure}: {exc.user_message}", BannerKind.ERROR)
            return
        except Exception:
            log.exception("%s", failure)
            self.show_notice(f"{failure}.", BannerKind.ERROR)
            return
        finally:
            for control in controls:
                control.setEnabled(True)
            self.statusBar().clearMessage()
        self.notice_banner.clear()
        self.open_conversation(room_id)

    def join_meeting(self) -> JoinMeetingDialog:
        """Ask for a meeting link or ID, then join and open the meeting's window."""
        dialog = JoinMeetingDialog(
            self._engine, self, lobby_timeout_s=self.lobby_timeout_s, servers=self._lan_servers
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.joined.connect(self.open_conversation)
        dialog.guest_join_asked.connect(self.guest_join_asked)
        dialog.open()
        return dialog

    def join_meeting_reference(self, reference: str) -> None:
        """Join ``reference`` (from the command line) without asking, then open it.

        A guest link asks for a name first (guest_join_asked)."""
        if is_guest_link(reference):
            self.guest_join_asked.emit(reference.strip(), None)
            return
        self.statusBar().showMessage("Joining the meeting…")
        self._tasks.spawn(self._join_reference(normalise_reference(reference)))

    async def _join_reference(self, reference: str) -> None:
        try:
            room_id = await self._engine.conferences.join(
                reference, lobby_timeout_s=self.lobby_timeout_s
            )
        except ConferoError as exc:
            self.show_notice(
                f"You could not join the meeting: {exc.user_message}", BannerKind.ERROR
            )
            return
        except Exception:
            log.exception("joining a meeting failed")
            self.show_notice("You could not join the meeting.", BannerKind.ERROR)
            return
        finally:
            self.statusBar().clearMessage()
        self.open_conversation(room_id)

    def schedule_meeting(self) -> ScheduleDialog:
        """Schedule a meeting…: create one for later and invite people to it."""
        return open_schedule(self._engine, self._bridge, self)

    def open_personal_meeting(self) -> None:
        """Make the personal meeting if needed, join it and open its window."""

        async def personal_meeting() -> str:
            room_id = await self._engine.personal_meeting.ensure()
            return await self._engine.conferences.join(
                room_id, lobby_timeout_s=self.lobby_timeout_s
            )

        self._open_meeting(
            (self.personal_meeting_action,),
            "Opening your personal meeting…",
            "Your personal meeting could not be opened",
            personal_meeting,
        )

    def add_colleague(self) -> AddColleagueDialog | None:
        if self._homeserver is None:
            return None
        dialog = AddColleagueDialog(self._homeserver, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def close_quietly(self) -> None:
        """Close without asking the app to quit (used when signing out)."""
        self._quiet_close = True
        self._tasks.cancel_all()
        if self.network_access is not None:
            self.network_access.detach()
        self.lobby_notifier.detach()
        self.invitation_toasts.detach()
        self.call_toasts.detach()
        self.reminder_toasts.detach()
        self.my_meetings.detach()
        self.windows.close_all()
        for child in self.findChildren(QWidget):
            if child.isWindow() and child.isVisible():
                child.close()
        self.close()

    # -- slots -------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self._tasks.cancel_all()
        event.accept()
        if not self._quiet_close:
            self.quit_requested.emit()

    def _on_new_conversation_triggered(self) -> None:
        self.start_new_conversation()

    def _on_meet_now_triggered(self) -> None:
        self.meet_now()

    def _on_join_meeting_triggered(self) -> None:
        self.join_meeting()

    def _on_personal_meeting_triggered(self) -> None:
        self.open_personal_meeting()

    def _on_add_colleague_triggered(self) -> None:
        self.add_colleague()

    def _on_about_triggered(self) -> None:
        from ui.version import version

        box = QMessageBox(self)
        box.setWindowTitle("About Confero")
        box.setIconPixmap(theme.app_icon().pixmap(64, 64))
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(f"Confero {version()}\n\nA conference client on the open Matrix protocol.")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _on_conversation_started(self, room_id: str) -> None:
        index = self.model.index_of(room_id)
        if index.isValid():
            self.list_view.setCurrentIndex(index)
        self.open_conversation(room_id)

    def _on_selection_changed(self, *_args: object) -> None:
        index = self.list_view.chosen_index()
        self.open_button.setEnabled(index.isValid())
        info = index.data(ConversationRole.CONVERSATION) if index.isValid() else None
        self.open_button.setAccessibleName(
            f"Open {info.display_name}" if info else "Open the selected conversation"
        )

    def _on_open_clicked(self) -> None:
        index = self.list_view.chosen_index()
        if index.isValid():
            self._on_conversation_activated(index)

    def _on_conversation_activated(self, index: QModelIndex) -> None:
        room_id = index.data(ConversationRole.ROOM_ID)
        if room_id:
            self.open_conversation(str(room_id))

    def _on_conversation_added(self, _info: object) -> None:
        if not self.name_label.text():
            self._update_identity()  # our display name is known once we share a room
        if not self.list_view.currentIndex().isValid() and self.model.rowCount():
            # Keyboard focus on the first row, without selecting (highlighting) it.
            self.list_view.selectionModel().setCurrentIndex(
                self.model.index(0, 0), QItemSelectionModel.SelectionFlag.NoUpdate
            )

    def _on_presence_chosen(self, row: int) -> None:
        presence = self.presence_combo.itemData(row)
        if isinstance(presence, Presence):
            self._tasks.spawn(self._set_presence(presence))

    async def _set_presence(self, presence: Presence) -> None:
        try:
            await self._engine.meeting_presence.choose(presence, None)
        except ConferoError as exc:
            self.show_notice(
                f"Your presence could not be changed: {exc.user_message}", BannerKind.ERROR
            )
            self._on_own_presence_changed(self._engine.presences.own_presence, "")
        except Exception:
            log.exception("setting presence failed")
            self.show_notice("Your presence could not be changed.", BannerKind.ERROR)
            self._on_own_presence_changed(self._engine.presences.own_presence, "")

    def _on_own_presence_changed(self, presence: Presence, _status: str) -> None:
        row = self.presence_combo.findData(presence)
        if row >= 0 and row != self.presence_combo.currentIndex():
            self.presence_combo.setCurrentIndex(row)

    def _on_connection_state_changed(self, state: ConnectionState, detail: str) -> None:
        if self._server_status == "returning" and state is ConnectionState.CONNECTED:
            self._server_status = "running"
            self.server_banner.clear()
        if self._server_status != "running" or (
            self.network_access is not None and self.network_access.busy
        ):
            # The server's own banner says more than "connection lost": it wins.
            self.connection_banner.clear()
            return
        if state in (ConnectionState.RECONNECTING, ConnectionState.DISCONNECTED):
            if self._quiet_close:
                return
            if self._connection_grace.interval() == 0:
                self._show_connection_lost()
            elif self.connection_banner.isHidden() and not self._connection_grace.isActive():
                self._connection_grace.start()
        elif state is ConnectionState.CONNECTED:
            self._connection_grace.stop()
            self.connection_banner.clear()

    def _show_connection_lost(self) -> None:
        if self._server_status == "running" and not self._quiet_close:
            text = CONNECTION_LOST[self._engine.session.connection_loss]
            self.connection_banner.show_message(text, BannerKind.ERROR, dismissable=False)

    # -- the meeting server on this computer -------------------------------------

    def _on_homeserver_restarting(self, _cause: str, _attempt: int) -> None:
        self._server_status = "restarting"
        self.connection_banner.clear()
        self.server_banner.show_message(
            SERVER_RESTARTING_TEXT, BannerKind.WARNING, dismissable=False
        )

    def _on_homeserver_recovered(self) -> None:
        # Keep saying "restarting" until sync is back, then both banners go.
        self._server_status = "returning"
        self._on_connection_state_changed(self._engine.session.connection, "")

    def _on_homeserver_failed(self, reason: str, _log_path: str) -> None:
        self._server_status = "failed"
        self.connection_banner.clear()
        self.server_banner.show_message(
            f"{SERVER_FAILED_TEXT} {reason}",
            BannerKind.ERROR,
            action_text="Try again",
            action_tooltip="Start the meeting server on this computer again",
            secondary_text="Show log",
            secondary_tooltip="Show the last lines of the meeting server's log",
            dismissable=False,
        )

    def _on_server_retry_clicked(self) -> None:
        self._on_homeserver_restarting("", 0)
        self.server_retry_requested.emit()

    def _on_network_access_changed(self) -> None:
        access = self.network_access
        if access is None or access.state is HostingState.OFF:
            self.network_banner.clear()
            return
        if access.busy:
            self.connection_banner.clear()  # the restart is on purpose: no "connection lost"
            text = TURNING_ON if access.state is HostingState.TURNING_ON else TURNING_OFF
            self.network_banner.show_message(text, BannerKind.INFO, dismissable=False)
            return
        if access.address:
            text = ON_STATUS.format(address=access.address)
        else:
            text = ON_STATUS_NO_ADDRESS if access.looked_up else ON_STATUS_UNKNOWN
        self.network_banner.show_message(
            text,
            BannerKind.INFO,
            action_text=TURN_OFF,
            action_tooltip=TURN_OFF_TIP,
            dismissable=False,
        )
        self.network_banner.action_button.setAccessibleName("Turn off network access")

    def _on_network_restarted(self) -> None:
        # Back on the same loopback port: sync now, not after the backoff.
        self._engine.session.reconnect_now()
        self._on_connection_state_changed(self._engine.session.connection, "")

    def show_server_log(self) -> ServerLogDialog | None:
        """Open the dialog with the last lines of the meeting server's log."""
        if self._homeserver is None:
            return None
        dialog = ServerLogDialog(self._homeserver, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.server_log_dialog = dialog
        dialog.open()
        return dialog

    def _on_outbox_problem(self, _kind: object, text: str) -> None:
        self.show_notice(text, BannerKind.WARNING)

    def _on_sending_problem(self, _kind: object, text: str) -> None:
        self.sending_banner.show_message(
            text,
            BannerKind.ERROR,
            action_text="Retry",
            action_tooltip="Try again to save and send the messages that failed",
        )

    def _on_sending_retry(self) -> None:
        self.sending_banner.clear()  # shown again if it still fails
        self._tasks.spawn(self._retry_sending())

    async def _retry_sending(self) -> None:
        try:
            await self._engine.conversations.retry_sending()
        except ConferoError as exc:
            self._on_sending_problem(None, exc.user_message)

    def _update_identity(self, info: SessionInfo | None = None) -> None:
        user_id = self._engine.session.user_id or (info.user_id if info else "")
        name = self._engine.session.display_name(user_id) if user_id else ""
        self.name_label.setText(name if name != user_id else "")
        self.name_label.setVisible(bool(name) and name != user_id)
        self.user_label.setText(user_id)
        self.setWindowTitle("Confero")
        if self._homeserver is not None:
            self.server_label.setText("Meeting server on this computer")
        elif self._engine.session.pinned_fingerprint is not None:
            address = (self._engine.session.homeserver_url or "").removeprefix("https://")
            self.server_label.setText(GUEST_SERVER_LABEL.format(address=address))
        else:
            self.server_label.setText(f"Server: {self._engine.session.homeserver_url or ''}")
        self.server_label.setToolTip(self._engine.session.homeserver_url or "")

    def _update_empty_state(self) -> None:
        empty = self.model.rowCount() == 0
        self.empty_label.setVisible(empty)
        self.list_view.setVisible(not empty)
