"""The window of one conversation: transcript, typing line and composer.

One window per conversation: ``open_conversation_window`` raises the open one
instead of making a second. The window only calls the engine (send, retry,
load older history, typing, read markers) and renders what the bridge says.

A meeting's window adds the meeting header on top and the roster on the right,
swaps the transcript for the lobby page while you wait to be let in, and shows
the yellow "You have left the call" bar with Rejoin. Two-party windows look
exactly as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import shiboken6
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.conference_models import (
    ConferenceDetails,
    ConferenceSession,
    Participant,
    SessionState,
)
from engine.errors import ConferoError
from engine.models import (
    ConnectionState,
    ConversationInfo,
    ConversationKind,
    ConversationState,
    Message,
)
from ui.banner import Banner, BannerKind
from ui.bridge import EngineBridge, disconnect_all
from ui.composer import Composer
from ui.lobby_page import LOBBY_STATES, LobbyPage
from ui.meeting_header import MeetingHeader
from ui.message_delegate import dim_color
from ui.message_model import MessageModel
from ui.message_view import MessageView
from ui.roster_model import Section
from ui.roster_view import RosterPanel
from ui.tasks import TaskGroup
from ui.typing_notifier import TypingNotifier, typing_text

if TYPE_CHECKING:
    from engine.engine import Engine

log = logging.getLogger(__name__)

T = TypeVar("T")

ENCRYPTED_NOTE = (
    "This conversation is end-to-end encrypted. Confero cannot read encrypted messages yet."
)
MARK_READ_DELAY_MS = 300
GENERIC_ERROR = "Something went wrong. Please try again."
LEFT_TEXT = "You have left the call"
REMOVED_TEXT = "You were removed from the meeting"
RECONNECTING_TEXT = "Connection lost: reconnecting…"
REJOINING_TEXT = "Rejoining the meeting…"
#: Session states in which you cannot write in the meeting.
_SILENCED = (
    SessionState.IN_LOBBY,
    SessionState.LEFT,
    SessionState.REMOVED,
    SessionState.DENIED,
    SessionState.LOBBY_TIMED_OUT,
    SessionState.FAILED,
    SessionState.CONNECTING,
)


def window_title(name: str) -> str:
    """A title that shows ``name`` literally ("[*]" is special in Qt window titles)."""
    return name.replace("[*]", "[*][*]")


class ConversationWindow(QWidget):
    """A top-level window showing one conversation."""

    #: The window was closed (room_id).
    closed = Signal(str)

    def __init__(
        self,
        engine: Engine,
        bridge: EngineBridge,
        room_id: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setObjectName("conversationWindow")
        self._engine = engine
        self._bridge = bridge
        self._room_id = room_id
        self._closing = False
        # The slow part of every slot runs here; closing the window cancels it.
        self._tasks = TaskGroup()
        self._join_task: asyncio.Task[Any] | None = None  # a Rejoin on its way
        self._loading_history = False
        self._history_failed = False
        self._read_pending = True
        self._typing_names: tuple[str, ...] = ()
        self._banner_action: Callable[[], None] | None = None
        self._meeting = False
        self._session: ConferenceSession | None = engine.conference_session(room_id)
        self._loaded_roster = False
        self._reconnecting = False
        self._lobby_notice_user: str | None = None
        self.meeting_header: MeetingHeader | None = None
        self.roster: RosterPanel | None = None
        self.lobby_page: LobbyPage | None = None
        self._splitter: QSplitter | None = None
        self._stack: QStackedWidget | None = None

        self._model = MessageModel(room_id, bridge, engine.messages(room_id), self)
        self._view = MessageView(self)
        self._view.setModel(self._model)
        self._view.set_placeholder_text("No messages yet.")

        self._title = QLabel(self)
        self._title.setObjectName("conversationTitle")
        self._title.setTextFormat(Qt.TextFormat.PlainText)
        title_font = self._title.font()
        title_font.setBold(True)
        title_font.setPointSizeF(max(title_font.pointSizeF() * 1.15, 1.0))
        self._title.setFont(title_font)
        self._subtitle = QLabel(self)
        self._subtitle.setTextFormat(Qt.TextFormat.PlainText)
        self._subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self._encryption_note = Banner(self)
        self._error_banner = Banner(self)
        self._session_banner = Banner(self)
        self._lobby_banner = Banner(self)

        self._typing_label = QLabel(self)
        self._typing_label.setObjectName("typingIndicator")
        self._typing_label.setTextFormat(Qt.TextFormat.PlainText)
        self._typing_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._typing_label.setFixedHeight(self._typing_label.fontMetrics().height() + 4)
        self._typing_label.setAccessibleName("Typing")

        self._composer = Composer(self)
        self._send_button = QPushButton("Send", self)
        self._send_button.setAccessibleName("Send message")
        self._send_button.setToolTip("Send (Enter)")
        self._send_button.setEnabled(False)

        self._typing = TypingNotifier(self)
        self._mark_read_timer = QTimer(self)
        self._mark_read_timer.setSingleShot(True)
        self._mark_read_timer.setInterval(MARK_READ_DELAY_MS)

        self._close_shortcut = QShortcut(QKeySequence("Ctrl+W"), self)
        self._close_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)

        self._build_layout()
        self._apply_palette()
        self.resize(560, 680)
        if self._is_meeting_room():
            self._become_meeting()
        self._apply_conversation(engine.conversation(room_id))
        self._show_typing(engine.typing_names(room_id))
        self._connect_signals()
        self._composer.setFocus()

    def _build_layout(self) -> None:
        self._header = QWidget(self)
        header = QVBoxLayout(self._header)
        header.setContentsMargins(12, 8, 12, 6)
        header.setSpacing(0)
        header.addWidget(self._title)
        header.addWidget(self._subtitle)

        notes = QVBoxLayout()
        notes.setContentsMargins(8, 0, 8, 6)
        notes.setSpacing(4)
        notes.addWidget(self._session_banner)
        notes.addWidget(self._lobby_banner)
        notes.addWidget(self._encryption_note)
        notes.addWidget(self._error_banner)

        composer_row = QHBoxLayout()
        composer_row.setContentsMargins(8, 0, 8, 8)
        composer_row.setSpacing(6)
        composer_row.addWidget(self._composer, 1)
        composer_row.addWidget(self._send_button, 0, Qt.AlignmentFlag.AlignBottom)

        # Transcript, typing line and composer: the whole window for two people,
        # the left of the splitter in a meeting.
        self._transcript = QWidget(self)
        self._transcript.setObjectName("transcriptPane")
        transcript = QVBoxLayout(self._transcript)
        transcript.setContentsMargins(0, 0, 0, 0)
        transcript.setSpacing(0)
        transcript.addWidget(self._view, 1)
        typing_row = QHBoxLayout()
        typing_row.setContentsMargins(12, 2, 12, 2)
        typing_row.addWidget(self._typing_label)
        transcript.addLayout(typing_row)
        transcript.addLayout(composer_row)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._header)
        layout.addLayout(notes)
        layout.addWidget(self._transcript, 1)

    def _is_meeting_room(self) -> bool:
        info = self._engine.conversation(self._room_id)
        return (
            self._engine.conference(self._room_id) is not None
            or self._session is not None
            or bool(info and info.kind is ConversationKind.CONFERENCE)
        )

    def _become_meeting(self) -> None:
        """Add the meeting header, the roster and the lobby page (once)."""
        if self._meeting:
            return
        self._meeting = True
        self.meeting_header = MeetingHeader(self._engine, self._room_id, self)
        self.roster = RosterPanel(self._engine, self._bridge, self._room_id, self)
        self.roster.setMinimumWidth(200)
        self.lobby_page = LobbyPage(self)

        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        position = layout.indexOf(self._transcript)
        layout.removeWidget(self._transcript)
        self._splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self._splitter.setObjectName("meetingSplitter")
        self._splitter.setChildrenCollapsible(False)
        self._splitter.addWidget(self._transcript)
        self._splitter.addWidget(self.roster)
        self._splitter.setStretchFactor(0, 3)
        self._splitter.setStretchFactor(1, 1)
        self._stack = QStackedWidget(self)
        self._stack.addWidget(self._splitter)
        self._stack.addWidget(self.lobby_page)
        layout.insertWidget(position, self._stack, 1)
        self._header.hide()
        layout.insertWidget(0, self.meeting_header)
        self._splitter.setSizes([620, 280])
        self.resize(max(self.width(), 900), self.height())

        self.meeting_header.leave_requested.connect(self._on_leave_requested)
        self.lobby_page.cancel_requested.connect(self._on_lobby_cancel_requested)
        self.lobby_page.retry_requested.connect(self._on_rejoin_requested)
        self.lobby_page.close_requested.connect(self.close)
        self._session_banner.action_triggered.connect(self._on_rejoin_requested)
        self._lobby_banner.action_triggered.connect(self._on_lobby_banner_action)
        self.roster.model.lobby_count_changed.connect(self._on_lobby_count_changed)
        self._apply_details(self._engine.conference(self._room_id))
        self._apply_session(self._session)

    def _connect_signals(self) -> None:
        self._bridge.conversation_changed.connect(self._on_conversation_changed)
        self._bridge.conversation_removed.connect(self._on_conversation_removed)
        self._bridge.typing_changed.connect(self._on_typing_changed)
        self._bridge.signed_out.connect(self._on_signed_out)
        self._model.message_appended.connect(self._on_message_appended)
        self._model.start_reached_changed.connect(self._on_start_reached_changed)
        self._view.near_top.connect(self._on_near_top)
        self._view.retry_requested.connect(self._on_retry_requested)
        self._composer.submitted.connect(self._on_send_requested)
        self._composer.edited.connect(self._on_composer_edited)
        self._send_button.clicked.connect(self._on_send_requested)
        self._typing.typing_changed.connect(self._on_own_typing_changed)
        self._mark_read_timer.timeout.connect(self._on_mark_read_due)
        self._close_shortcut.activated.connect(self.close)
        self._error_banner.action_triggered.connect(self._on_banner_action)
        self._bridge.conference_changed.connect(self._on_conference_changed)
        self._bridge.conference_session_changed.connect(self._on_conference_session_changed)
        self._bridge.connection_state_changed.connect(self._on_connection_state_changed)

    def _disconnect_bridge(self) -> None:
        disconnect_all(
            (
                (self._bridge.conversation_changed, self._on_conversation_changed),
                (self._bridge.conversation_removed, self._on_conversation_removed),
                (self._bridge.typing_changed, self._on_typing_changed),
                (self._bridge.signed_out, self._on_signed_out),
                (self._bridge.conference_changed, self._on_conference_changed),
                (self._bridge.conference_session_changed, self._on_conference_session_changed),
                (self._bridge.connection_state_changed, self._on_connection_state_changed),
            )
        )
        self._model.detach()
        if self.roster is not None:
            self.roster.detach()
        if self.lobby_page is not None:
            self.lobby_page.stop()

    # -- public API ---------------------------------------------------------

    @property
    def room_id(self) -> str:
        return self._room_id

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def model(self) -> MessageModel:
        return self._model

    @property
    def view(self) -> MessageView:
        return self._view

    @property
    def composer(self) -> Composer:
        return self._composer

    @property
    def send_button(self) -> QPushButton:
        return self._send_button

    @property
    def typing_label(self) -> QLabel:
        return self._typing_label

    @property
    def encryption_note(self) -> Banner:
        return self._encryption_note

    @property
    def error_banner(self) -> Banner:
        return self._error_banner

    @property
    def tasks(self) -> TaskGroup:
        """The window's running work (cancelled when it closes)."""
        return self._tasks

    @property
    def is_closing(self) -> bool:
        return self._closing

    @property
    def is_meeting(self) -> bool:
        return self._meeting

    @property
    def session_banner(self) -> Banner:
        """The yellow "You have left the call" bar with Rejoin."""
        return self._session_banner

    @property
    def lobby_banner(self) -> Banner:
        """ "… is waiting in the lobby", with Admit."""
        return self._lobby_banner

    def showing_lobby(self) -> bool:
        return self._stack is not None and self._stack.currentWidget() is self.lobby_page

    def show_lobby_notice(self, participant: Participant, text: str) -> None:
        """Tell about someone who started waiting in the lobby, offering Admit."""
        if self.roster is None:
            return
        self._lobby_notice_user = participant.user_id
        self._lobby_banner.show_message(
            text,
            BannerKind.INFO,
            action_text="Admit",
            action_tooltip="Let them into the meeting",
        )

    def typing_text(self) -> str:
        """The full (not elided) typing line, "" when nobody types."""
        return typing_text(self._typing_names)

    # -- conversation state ---------------------------------------------------

    def _apply_conversation(self, info: ConversationInfo | None) -> None:
        name = info.display_name if info else self._room_id
        if self._meeting:
            details = self._engine.conference(self._room_id)
            name = (details.subject if details else "") or (info.display_name if info else "")
            name = name or "Meeting"
        self.setWindowTitle(window_title(name))
        self._title.setText(name)
        self._title.setAccessibleName(f"Conversation with {name}")
        subtitle = ""
        if info is not None:
            if info.kind is ConversationKind.DIRECT and info.peer_user_id:
                subtitle = info.peer_user_id
            elif info.member_count:
                subtitle = f"{info.member_count} people"
        self._subtitle.setText(subtitle)
        self._subtitle.setVisible(bool(subtitle))
        encrypted = bool(info and info.encrypted)
        ended = bool(info and info.state is ConversationState.TERMINATED)
        if encrypted:
            self._encryption_note.show_message(ENCRYPTED_NOTE, BannerKind.INFO, dismissable=False)
            self._composer.setPlaceholderText("Confero cannot send encrypted messages yet.")
        else:
            self._encryption_note.clear()
            self._composer.setPlaceholderText("Write a message…")
        silenced = self._meeting_silenced()
        if silenced or self._meeting_connected():
            ended = False  # the session knows better; if out, the bar says why
        if silenced:
            self._composer.setPlaceholderText("Rejoin the meeting to write here.")
        if ended:
            self._composer.setPlaceholderText("You are no longer in this conversation.")
        self._composer.setEnabled(not encrypted and not ended and not silenced)
        self._update_send_button()

    def _meeting_connected(self) -> bool:
        return bool(
            self._meeting and self._session and self._session.state is SessionState.CONNECTED
        )

    def _meeting_silenced(self) -> bool:
        return bool(self._meeting and self._session and self._session.state in _SILENCED)

    # -- meeting state ------------------------------------------------------------

    def _apply_details(self, details: ConferenceDetails | None) -> None:
        if self.meeting_header is None or self.roster is None:
            return
        self.meeting_header.apply_details(details)
        self.roster.apply_details(details)
        self._apply_conversation(self._engine.conversation(self._room_id))

    def _apply_session(self, session: ConferenceSession | None) -> None:
        if (
            self.meeting_header is None
            or self.lobby_page is None
            or self._stack is None
            or self.roster is None
        ):
            return
        self._session = session
        state = session.state if session else None
        self.meeting_header.apply_session(session)
        in_lobby = session is not None and state in LOBBY_STATES
        if in_lobby:
            assert session is not None
            self.lobby_page.apply(session, self._engine.conference(self._room_id))
            self._stack.setCurrentWidget(self.lobby_page)
        else:
            self.lobby_page.stop()
            self._stack.setCurrentWidget(self._splitter)
        self.meeting_header.setVisible(not in_lobby)
        # Out of the meeting, the roster is what was seen last: shown, but inert.
        self.roster.setEnabled(state in (None, SessionState.CONNECTED, SessionState.IDLE))
        self._show_session_bar(session)
        self._apply_conversation(self._engine.conversation(self._room_id))
        if state in (None, SessionState.CONNECTED, SessionState.IDLE):
            if not self._loaded_roster:
                self._loaded_roster = True
                self._tasks.spawn(self._load_participants())
        else:
            self._loaded_roster = False  # load again after rejoining

    def _show_session_bar(self, session: ConferenceSession | None) -> None:
        bar = self._session_banner
        state = session.state if session else None
        if state is SessionState.LEFT:
            bar.show_message(
                LEFT_TEXT,
                BannerKind.WARNING,
                action_text="Rejoin",
                action_tooltip="Join the meeting again",
                dismissable=False,
            )
        elif state is SessionState.REMOVED:
            assert session is not None
            bar.show_message(
                (session.detail or REMOVED_TEXT).rstrip("."),
                BannerKind.WARNING,
                action_text="Rejoin" if session.can_rejoin else None,
                action_tooltip="Ask to join the meeting again",
                dismissable=False,
            )
        elif state is SessionState.FAILED:
            assert session is not None
            bar.show_message(
                session.detail or "You could not join the meeting.",
                BannerKind.ERROR,
                action_text="Try again" if session.can_rejoin else None,
                dismissable=False,
            )
        elif state is SessionState.CONNECTING:
            bar.show_message(REJOINING_TEXT, BannerKind.INFO, dismissable=False)
        elif self._reconnecting and state in (None, SessionState.CONNECTED, SessionState.IDLE):
            bar.show_message(RECONNECTING_TEXT, BannerKind.WARNING, dismissable=False)
        else:
            bar.clear()

    def _apply_palette(self) -> None:
        dim = dim_color(self.palette())
        for label in (self._subtitle, self._typing_label):
            label_palette = label.palette()
            label_palette.setColor(label.foregroundRole(), dim)
            label.setPalette(label_palette)
        font = self._typing_label.font()
        font.setItalic(True)
        self._typing_label.setFont(font)

    def _show_typing(self, names: tuple[str, ...]) -> None:
        self._typing_names = tuple(names)
        text = typing_text(self._typing_names)
        width = max(self._typing_label.width(), 50)
        elided = self._typing_label.fontMetrics().elidedText(
            text, Qt.TextElideMode.ElideRight, width
        )
        self._typing_label.setText(elided)
        self._typing_label.setToolTip(text if elided != text else "")

    def _show_error(
        self,
        text: str,
        *,
        action_text: str | None = None,
        action: Callable[[], None] | None = None,
    ) -> None:
        self._banner_action = action
        self._error_banner.show_message(text, BannerKind.ERROR, action_text=action_text)

    def _alive(self) -> bool:
        return not self._closing and shiboken6.isValid(self)

    def _update_send_button(self) -> None:
        self._send_button.setEnabled(
            self._composer.isEnabled() and not self._composer.document().isEmpty()
        )

    # -- events -------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            if self._read_pending:
                self._mark_read_timer.start()
        elif event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._show_typing(self._typing_names)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing:
            self._closing = True
            self._mark_read_timer.stop()
            if self._typing.typing:
                # Tell the others we stopped; the task only touches the engine.
                self._typing.stop()
            if self._session is not None and self._session.state is SessionState.IN_LOBBY:
                # Closing the window is giving up the wait, as in Lync.
                _spawn_detached(self._engine.cancel_lobby(self._room_id))
            elif self._join_task is not None and not self._join_task.done():
                _spawn_detached(_give_up_after(self._engine, self._room_id, self._join_task))
            # What the window was doing stops with it; what it asked of the engine goes on.
            self._tasks.cancel_all()
            self._disconnect_bridge()
            _forget_window(self)
            self.closed.emit(self._room_id)
        super().closeEvent(event)

    # -- slots --------------------------------------------------------------

    def _on_conversation_changed(self, info: ConversationInfo) -> None:
        if info.room_id == self._room_id:
            self._apply_conversation(info)

    def _on_conversation_removed(self, room_id: str) -> None:
        if room_id != self._room_id:
            return
        self._composer.setEnabled(False)
        self._update_send_button()
        self._show_error("You are no longer in this conversation.")

    def _on_conference_changed(self, details: ConferenceDetails) -> None:
        if details.room_id != self._room_id:
            return
        if not self._meeting:
            self._become_meeting()
            self._apply_conversation(self._engine.conversation(self._room_id))
            return
        self._apply_details(details)
        session = self._session
        if self.lobby_page is not None and session is not None and session.state in LOBBY_STATES:
            self.lobby_page.apply(session, details)

    def _on_conference_session_changed(self, session: ConferenceSession) -> None:
        if session.room_id != self._room_id:
            return
        self._session = session
        if not self._meeting:
            self._become_meeting()
            self._apply_conversation(self._engine.conversation(self._room_id))
            return
        self._apply_session(session)

    def _on_connection_state_changed(self, state: ConnectionState, _detail: str) -> None:
        if not self._meeting:
            return
        self._reconnecting = state in (ConnectionState.RECONNECTING, ConnectionState.DISCONNECTED)
        self._show_session_bar(self._session)

    def _on_lobby_count_changed(self, count: int) -> None:
        user = self._lobby_notice_user
        if self.roster is None or user is None:
            return
        if count == 0 or self.roster.model.section_of_user(user) is not Section.LOBBY:
            self._lobby_notice_user = None
            self._lobby_banner.clear()

    def _on_lobby_banner_action(self) -> None:
        user, self._lobby_notice_user = self._lobby_notice_user, None
        self._lobby_banner.clear()
        if user and self.roster is not None:
            self.roster.admit(user)

    def _on_leave_requested(self) -> None:
        if self.meeting_header is not None:
            self.meeting_header.leave_button.setEnabled(False)
        self._tasks.spawn(self._leave())

    def _on_rejoin_requested(self) -> None:
        self._session_banner.show_message(REJOINING_TEXT, BannerKind.INFO, dismissable=False)
        if self.lobby_page is not None:
            self.lobby_page.retry_button.setEnabled(False)
        self._tasks.spawn(self._rejoin())

    def _on_lobby_cancel_requested(self) -> None:
        if self.lobby_page is not None:
            self.lobby_page.cancel_button.setEnabled(False)
        self._tasks.spawn(self._cancel_lobby())

    async def _leave(self) -> None:
        try:
            await _finish(self._engine.leave_conference(self._room_id))
        except ConferoError as exc:
            if self._alive():
                self._show_error(f"You could not leave the meeting: {exc.user_message}")
        except Exception:
            log.exception("leaving the meeting failed")
            if self._alive():
                self._show_error(GENERIC_ERROR)
        if self._alive() and self.meeting_header is not None:
            self.meeting_header.apply_session(self._session)

    async def _rejoin(self) -> None:
        failure = ""
        self._join_task = _detached_task(self._engine.rejoin_conference(self._room_id))
        try:
            await asyncio.shield(self._join_task)
        except ConferoError as exc:
            failure = exc.user_message
        except Exception:
            log.exception("rejoining the meeting failed")
            failure = GENERIC_ERROR
        if not self._alive():
            return
        if self.lobby_page is not None:
            self.lobby_page.retry_button.setEnabled(True)
        self._apply_session(self._engine.conference_session(self._room_id))
        if failure:
            self._show_error(f"You could not rejoin the meeting: {failure}")

    async def _cancel_lobby(self) -> None:
        try:
            await _finish(self._engine.cancel_lobby(self._room_id))
        except ConferoError as exc:
            if self._alive():
                self._show_error(f"You are still in the lobby: {exc.user_message}")
        except Exception:
            log.exception("leaving the lobby failed")
            if self._alive():
                self._show_error(GENERIC_ERROR)
        else:
            if self._alive():
                self.close()
            return
        if self._alive() and self.lobby_page is not None:
            self.lobby_page.cancel_button.setEnabled(True)

    async def _load_participants(self) -> None:
        try:
            await self._engine.load_participants(self._room_id)
        except ConferoError as exc:
            if self._alive() and self.roster is not None:
                self._loaded_roster = False
                self.roster.error_label.show_error(
                    f"The list of participants could not be loaded: {exc.user_message}"
                )
        except Exception:
            log.exception("loading participants failed")
            if self._alive():
                self._loaded_roster = False

    def _on_signed_out(self, _reason: str) -> None:
        self._composer.setEnabled(False)
        self._update_send_button()
        self._show_error("You are signed out.")

    def _on_typing_changed(self, room_id: str, names: tuple[str, ...]) -> None:
        if room_id == self._room_id:
            self._show_typing(names)

    def _on_message_appended(self, message: Message) -> None:
        if message.sender == self._engine.user_id:
            return
        self._read_pending = True
        if self.isActiveWindow():
            self._mark_read_timer.start()

    def _on_start_reached_changed(self, reached: bool) -> None:
        if reached:
            self._view.set_loading(False)

    def _on_near_top(self) -> None:
        if self._loading_history or self._history_failed or self._model.start_reached:
            return
        self._tasks.spawn(self._load_older())

    def _on_banner_action(self) -> None:
        action, self._banner_action = self._banner_action, None
        self._error_banner.clear()
        if action is not None:
            action()

    def _retry_history(self) -> None:
        self._history_failed = False
        self._view.check_near_top()

    def _on_composer_edited(self) -> None:
        self._update_send_button()
        if self._composer.document().isEmpty():
            self._typing.stop()
        else:
            self._typing.user_typed()

    def _on_mark_read_due(self) -> None:
        if self.isActiveWindow() and self._read_pending:
            self._read_pending = False
            self._tasks.spawn(self._mark_read())

    async def _load_older(self) -> None:
        self._loading_history = True
        self._view.set_loading(True)
        failure: str | None = None
        reached = False
        try:
            reached = await self._engine.load_older(self._room_id)
        except ConferoError as exc:
            failure = exc.user_message
        except Exception:
            log.exception("loading older messages failed")
            failure = GENERIC_ERROR
        if not self._alive():
            return
        self._loading_history = False
        self._view.set_loading(False)
        if failure is not None:
            self._history_failed = True
            self._show_error(
                f"Earlier messages could not be loaded. {failure}",
                action_text="Try again",
                action=self._retry_history,
            )
        elif reached:
            self._model.mark_start_reached()
        else:
            self._view.check_near_top()

    def _on_send_requested(self) -> None:
        if not self._composer.isEnabled():
            return
        text = self._composer.toPlainText()
        if not text.strip():
            return
        # Emptied at once, so a second Enter cannot send the same text twice.
        self._composer.take_text()
        self._update_send_button()
        self._typing.stop()
        self._view.scroll_to_end()
        self._tasks.spawn(self._send(text))

    async def _send(self, text: str) -> None:
        try:
            await _finish(self._engine.send_text(self._room_id, text))
        except ConferoError as exc:
            if self._alive():
                self._composer.restore_text(text)
                self._update_send_button()
                self._show_error(exc.user_message)
        except Exception:
            log.exception("sending failed")
            if self._alive():
                self._composer.restore_text(text)
                self._update_send_button()
                self._show_error(GENERIC_ERROR)
        else:
            if self._alive() and self._error_banner.kind is BannerKind.ERROR:
                self._error_banner.clear()

    def _on_retry_requested(self, key: str) -> None:
        self._tasks.spawn(self._retry(key))

    async def _retry(self, key: str) -> None:
        try:
            await _finish(self._engine.retry(self._room_id, key))
        except ConferoError as exc:
            if self._alive():
                self._show_error(exc.user_message)
        except Exception:
            log.exception("retry failed")
            if self._alive():
                self._show_error(GENERIC_ERROR)

    def _on_own_typing_changed(self, typing: bool) -> None:
        # Engine-only, and "stopped typing" must still go out when the window closes.
        _spawn_detached(self._engine.set_typing(self._room_id, typing))

    async def _mark_read(self) -> None:
        try:
            await self._engine.mark_read(self._room_id)
        except Exception:  # the unread count stays; the next message tries again
            log.debug("marking read failed", exc_info=True)


_detached: set[asyncio.Task[Any]] = set()


def _spawn_detached(work: Coroutine[Any, Any, None]) -> None:
    """Run engine-only work that outlives the window (errors are logged, not shown)."""

    async def guarded() -> None:
        try:
            await work
        except Exception:
            log.info("background meeting call failed", exc_info=True)

    task = asyncio.ensure_future(guarded())
    _detached.add(task)
    task.add_done_callback(_detached.discard)


def _detached_task(work: Awaitable[T]) -> asyncio.Task[T]:
    """A task that outlives the window; its error is retrieved (and logged) even if unawaited."""
    task = asyncio.ensure_future(work)
    _detached.add(task)

    def done(finished: asyncio.Task[T]) -> None:
        _detached.discard(finished)
        if not finished.cancelled() and (error := finished.exception()) is not None:
            log.debug("engine call of a window failed: %r", error)

    task.add_done_callback(done)
    return task


async def _finish(work: Awaitable[T]) -> T:
    """An engine call the user asked for: it completes even if the window closes meanwhile."""
    return await asyncio.shield(_detached_task(work))


async def _give_up_after(engine: Engine, room_id: str, join: asyncio.Task[Any]) -> None:
    """The window closed during a Rejoin: once it has reached the lobby, leave the lobby."""
    with contextlib.suppress(Exception):
        await join
    session = engine.conference_session(room_id)
    if session is not None and session.state is SessionState.IN_LOBBY:
        await engine.cancel_lobby(room_id)


async def wait_for_background_work() -> None:
    """Wait for the work closed windows left running (leaving a lobby on close)."""
    while pending := [t for t in _detached if not t.done()]:
        await asyncio.wait(pending)


# -- one window per conversation ----------------------------------------------

_windows: dict[tuple[int, str], ConversationWindow] = {}


def _forget_window(window: ConversationWindow) -> None:
    key = (id(window.engine), window.room_id)
    if _windows.get(key) is window:
        del _windows[key]


def open_conversation_window(
    engine: Engine,
    bridge: EngineBridge,
    room_id: str,
    parent: QWidget | None = None,
) -> ConversationWindow:
    """Show the window of ``room_id``, reusing and raising it if it is already open."""
    key = (id(engine), room_id)
    window = _windows.get(key)
    if (
        window is None
        or not shiboken6.isValid(window)
        or window.is_closing
        or window.engine is not engine
    ):
        window = ConversationWindow(engine, bridge, room_id, parent)
        _windows[key] = window
    if window.isMinimized():
        window.showNormal()
    else:
        window.show()
    window.raise_()
    window.activateWindow()
    return window


def conversation_windows(engine: Engine) -> list[ConversationWindow]:
    """The open conversation windows of ``engine``."""
    return [
        w
        for (engine_id, _room), w in _windows.items()
        if engine_id == id(engine) and shiboken6.isValid(w) and not w.is_closing
    ]


def close_conversation_windows(engine: Engine) -> None:
    """Close every conversation window of ``engine`` (on sign-out, for example)."""
    for window in conversation_windows(engine):
        window.close()
