"""The window of one conversation, composed of parts with one job each.

- the title (two-party) or the meeting header (``MeetingPane.header``) on top,
- the banner area (``BannerArea``): session bar, lobby bar, encryption note,
  error bar, and room for more (escalation banner, call bar),
- the transcript (``TranscriptPane``): messages, typing line, composer,
- in a meeting, the roster to its right (``MeetingPane.roster``) and, while you
  wait to be let in, the lobby page in its place (``MeetingAccess``).

The window only builds and places the parts, routes the engine's state to them,
and decides whether you may write. Each part connects to the bridge itself,
spawns its work in the window's ``TaskGroup`` (closing the window cancels it),
and has ``detach()``, which the window calls on close. A new part (escalation
banner, call bar) is built in ``__init__`` or ``_become_meeting``, adds its bar
with ``banners.add_bar`` and joins ``self._parts``; the others stay untouched.
One window per conversation: ``ConversationWindows`` (ui/window_registry.py)
raises the open one instead of making a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import shiboken6
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.conference_models import ConferenceDetails, ConferenceSession, Participant, SessionState
from engine.escalation_models import ConferenceEscalation, ConferenceEscalationProgress
from engine.models import ConversationInfo, ConversationKind, ConversationState
from ui.add_people_dialog import AddPeopleDialog
from ui.banner import Banner, BannerKind
from ui.banner_area import BannerArea
from ui.bridge import EngineBridge, disconnect_all
from ui.call_bar import CallBar
from ui.composer import Composer
from ui.engine_calls import spawn_detached
from ui.error_text import CONVERSATION_GONE, SIGNED_OUT
from ui.escalation_banner import EscalationBanner
from ui.escalation_text import ADD_PEOPLE, ADD_PEOPLE_NAME, ADD_PEOPLE_SHORTCUT, ADD_PEOPLE_TIP
from ui.lobby_page import LobbyPage
from ui.meeting_access import MeetingAccess
from ui.meeting_header import MeetingHeader
from ui.meeting_pane import MeetingPane
from ui.message_delegate import dim_color
from ui.message_model import MessageModel
from ui.message_view import MessageView
from ui.roster_view import RosterPanel
from ui.tasks import TaskGroup
from ui.transcript_pane import TranscriptPane
from ui.window_parts import PartContext

if TYPE_CHECKING:
    from engine.engine import Engine
    from ui.network_access import NetworkAccess

ENCRYPTED_NOTE = (
    "This conversation is end-to-end encrypted. Confero cannot read encrypted messages yet."
)
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


class WindowPart(Protocol):
    """What the window needs of a part: to let go of the engine when it closes."""

    def detach(self) -> None: ...


def window_title(name: str) -> str:
    """A title that shows ``name`` literally ("[*]" is special in Qt window titles)."""
    return name.replace("[*]", "[*][*]")


class ConversationWindow(QWidget):
    """A top-level window showing one conversation."""

    #: The window was closed (room_id).
    closed = Signal(str)
    #: The window followed its two-party conversation into a meeting: (old, new room_id).
    room_changed = Signal(str, str)

    def __init__(
        self,
        engine: Engine,
        bridge: EngineBridge,
        room_id: str,
        parent: QWidget | None = None,
        *,
        network: NetworkAccess | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self._network = network
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setObjectName("conversationWindow")
        self._engine = engine
        self._bridge = bridge
        self._room_id = room_id
        self._closing = False
        # The slow part of every part's slots runs here; closing the window cancels it.
        self._tasks = TaskGroup()
        self._session: ConferenceSession | None = engine.conferences.session(room_id)
        self.meeting: MeetingPane | None = None
        self.access: MeetingAccess | None = None
        self._stack: QStackedWidget | None = None
        self._splitter: QSplitter | None = None

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

        self.banners = BannerArea(self)
        # A meeting escalated from a two-party conversation shows its lines above.
        direct = engine.escalation.direct_room_of(room_id) or ""
        self.transcript = TranscriptPane(self._part_context(room_id), self, earlier_room_id=direct)
        #: Every part, detached in this order when the window closes.
        self._parts: list[WindowPart] = [self.transcript]
        self._close_shortcut = QShortcut(QKeySequence("Ctrl+W"), self)
        self._close_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        # Add people… (two-party only): the conversation becomes a meeting.
        self.add_people_button = QPushButton(ADD_PEOPLE, self)
        self.add_people_button.setObjectName("addPeopleButton")
        self.add_people_button.setAccessibleName(ADD_PEOPLE_NAME)
        self.add_people_button.setToolTip(ADD_PEOPLE_TIP)
        self._add_people_shortcut = QShortcut(QKeySequence(ADD_PEOPLE_SHORTCUT), self)
        self._add_people_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        #: The escalation banner (a two-party conversation's Add people… progress).
        self.escalation: EscalationBanner | None = None
        #: The call bar and its Call button (two-party conversations).
        self.call_bar: CallBar | None = None
        if not self._is_meeting_room():
            self.call_bar = CallBar(self._part_context(room_id), self)
            self.banners.add_bar(self.call_bar, 0)  # the call is what matters most
            self._parts.append(self.call_bar)

        self._build_layout()
        self._apply_palette()
        self.resize(560, 680)
        if self._is_meeting_room():
            self._become_meeting()
        else:
            self.escalation = EscalationBanner(self._part_context(room_id))
            self._parts.append(self.escalation)
        self._apply_conversation(engine.conversations.conversation(room_id))
        self._connect_signals()
        self.transcript.composer.setFocus()

    def _part_context(self, room_id: str) -> PartContext:
        return PartContext(
            self._engine, self._bridge, room_id, self.banners, self._tasks, self._network
        )

    def _build_layout(self) -> None:
        self._header = QWidget(self)
        header = QVBoxLayout(self._header)
        header.setContentsMargins(12, 8, 12, 6)
        header.setSpacing(0)
        header.addWidget(self._title)
        header.addWidget(self._subtitle)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 12, 0)
        top.setSpacing(6)
        top.addWidget(self._header, 1)
        if self.call_bar is not None:
            top.addWidget(self.call_bar.call_button, 0, Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(self.add_people_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addWidget(self.banners)
        layout.addWidget(self.transcript, 1)

    def _is_meeting_room(self) -> bool:
        info = self._engine.conversations.conversation(self._room_id)
        return (
            self._engine.conferences.details(self._room_id) is not None
            or self._session is not None
            or bool(info and info.kind is ConversationKind.CONFERENCE)
        )

    def _become_meeting(self) -> None:
        """Add the meeting header, the roster and the lobby page (once)."""
        if self.meeting is not None:
            return
        context = self._part_context(self._room_id)
        self.meeting = MeetingPane(context, self)
        self.access = MeetingAccess(context, self)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        position = layout.indexOf(self.transcript)
        layout.removeWidget(self.transcript)
        self._splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self._splitter.setObjectName("meetingSplitter")
        self._splitter.setChildrenCollapsible(False)
        self._splitter.addWidget(self.transcript)
        self._splitter.addWidget(self.meeting.roster)
        self._splitter.setStretchFactor(0, 3)
        self._splitter.setStretchFactor(1, 1)
        self._stack = QStackedWidget(self)
        self._stack.addWidget(self._splitter)
        self._stack.addWidget(self.access.lobby_page)
        layout.insertWidget(position, self._stack, 1)
        self._header.hide()
        self.add_people_button.hide()
        if self.call_bar is not None:
            self.call_bar.set_available(False)  # the meeting's audio is another matter
        # The meeting header's Invite… takes over the same key (Ctrl+I).
        self._add_people_shortcut.setEnabled(False)
        layout.insertWidget(0, self.meeting.header)
        self._splitter.setSizes([620, 280])
        self.resize(max(self.width(), 900), self.height())

        self._parts += [self.access, self.meeting]
        self.access.close_requested.connect(self.close)
        self.access.rejoin_finished.connect(self._on_rejoin_finished)
        self._apply_details(self._engine.conferences.details(self._room_id))
        self._apply_session(self._session)

    def _connect_signals(self) -> None:
        self._bridge.conversation_changed.connect(self._on_conversation_changed)
        self._bridge.conversation_removed.connect(self._on_conversation_removed)
        self._bridge.signed_out.connect(self._on_signed_out)
        self._bridge.conference_changed.connect(self._on_conference_changed)
        self._bridge.conference_session_changed.connect(self._on_conference_session_changed)
        self._close_shortcut.activated.connect(self.close)
        self.add_people_button.clicked.connect(self.add_people)
        self._add_people_shortcut.activated.connect(self.add_people)
        self._bridge.escalation_changed.connect(self._on_escalation_changed)

    def _disconnect_bridge(self) -> None:
        disconnect_all(
            (
                (self._bridge.conversation_changed, self._on_conversation_changed),
                (self._bridge.conversation_removed, self._on_conversation_removed),
                (self._bridge.signed_out, self._on_signed_out),
                (self._bridge.conference_changed, self._on_conference_changed),
                (self._bridge.conference_session_changed, self._on_conference_session_changed),
                (self._bridge.escalation_changed, self._on_escalation_changed),
            )
        )

    # -- public API ---------------------------------------------------------

    @property
    def room_id(self) -> str:
        return self._room_id

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def tasks(self) -> TaskGroup:
        """The running work of the window's parts (cancelled when it closes)."""
        return self._tasks

    @property
    def is_closing(self) -> bool:
        return self._closing

    @property
    def is_meeting(self) -> bool:
        return self.meeting is not None

    def showing_lobby(self) -> bool:
        return (
            self.access is not None
            and self._stack is not None
            and (self._stack.currentWidget() is self.access.lobby_page)
        )

    def show_lobby_notice(self, participant: Participant, text: str) -> None:
        """Tell about someone who started waiting in the lobby, offering Admit."""
        if self.meeting is not None:
            self.meeting.show_lobby_notice(participant, text)

    def typing_text(self) -> str:
        """The full (not elided) typing line, "" when nobody types."""
        return self.transcript.typing_text()

    # Shortcuts to the parts' widgets, for callers and tests.

    @property
    def model(self) -> MessageModel:
        return self.transcript.model

    @property
    def view(self) -> MessageView:
        return self.transcript.view

    @property
    def composer(self) -> Composer:
        return self.transcript.composer

    @property
    def send_button(self) -> QPushButton:
        return self.transcript.send_button

    @property
    def typing_label(self) -> QLabel:
        return self.transcript.typing_label

    @property
    def encryption_note(self) -> Banner:
        return self.banners.encryption_note

    @property
    def error_banner(self) -> Banner:
        return self.banners.error_bar

    @property
    def session_banner(self) -> Banner:
        """The yellow "You have left the call" bar with Rejoin."""
        return self.banners.session_bar

    @property
    def lobby_banner(self) -> Banner:
        """ "… is waiting in the lobby", with Admit."""
        return self.banners.lobby_bar

    @property
    def meeting_header(self) -> MeetingHeader | None:
        return self.meeting.header if self.meeting else None

    @property
    def roster(self) -> RosterPanel | None:
        return self.meeting.roster if self.meeting else None

    @property
    def lobby_page(self) -> LobbyPage | None:
        return self.access.lobby_page if self.access else None

    # -- conversation state ---------------------------------------------------

    def _apply_conversation(self, info: ConversationInfo | None) -> None:
        name = info.display_name if info else self._room_id
        if self.meeting is not None:
            details = self._engine.conferences.details(self._room_id)
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
        two_party = bool(info and info.kind is ConversationKind.DIRECT) and self.meeting is None
        self.add_people_button.setVisible(two_party)
        self._add_people_shortcut.setEnabled(two_party)
        if self.call_bar is not None:
            self.call_bar.set_available(two_party)
        encrypted = bool(info and info.encrypted)
        ended = bool(info and info.state is ConversationState.TERMINATED)
        if encrypted:
            self.banners.encryption_note.show_message(
                ENCRYPTED_NOTE, BannerKind.INFO, dismissable=False
            )
            placeholder = "Confero cannot send encrypted messages yet."
        else:
            self.banners.encryption_note.clear()
            placeholder = "Write a message…"
        state = self._session.state if self.meeting is not None and self._session else None
        silenced = state in _SILENCED
        if silenced or state is SessionState.CONNECTED:
            ended = False  # the session knows better; if out, the bar says why
        if silenced:
            over = self._session is not None and self._session.ended_by_organizer
            placeholder = "The meeting has ended." if over else "Rejoin the meeting to write here."
        if ended:
            placeholder = "You are no longer in this conversation."
        self.transcript.set_writable(not encrypted and not ended and not silenced, placeholder)

    # -- meeting state ------------------------------------------------------------

    def _apply_details(self, details: ConferenceDetails | None) -> None:
        if self.meeting is None:
            return
        self.meeting.apply_details(details)
        self._apply_conversation(self._engine.conversations.conversation(self._room_id))

    def _apply_session(self, session: ConferenceSession | None) -> None:
        if self.meeting is None or self.access is None or self._stack is None:
            return
        self._session = session
        in_lobby = self.access.in_lobby(session)
        self.meeting.apply_session(session)
        self.access.apply_session(session, self._engine.conferences.details(self._room_id))
        if in_lobby:
            self._stack.setCurrentWidget(self.access.lobby_page)
        else:
            self._stack.setCurrentWidget(self._splitter)
        self.meeting.header.setVisible(not in_lobby)
        self._apply_conversation(self._engine.conversations.conversation(self._room_id))

    def _apply_palette(self) -> None:
        label_palette = self._subtitle.palette()
        label_palette.setColor(self._subtitle.foregroundRole(), dim_color(self.palette()))
        self._subtitle.setPalette(label_palette)
        self.transcript.apply_palette()

    def _alive(self) -> bool:
        return not self._closing and shiboken6.isValid(self)

    # -- events -------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            self.transcript.window_activated()
        elif event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing:
            self._closing = True
            # The parts stop following the engine; what was asked of it goes on.
            for part in self._parts:
                part.detach()
            self._tasks.cancel_all()
            self._disconnect_bridge()
            self.closed.emit(self._room_id)
        super().closeEvent(event)

    # -- slots --------------------------------------------------------------

    def _on_conversation_changed(self, info: ConversationInfo) -> None:
        if info.room_id == self._room_id:
            self._apply_conversation(info)

    def _on_conversation_removed(self, room_id: str) -> None:
        if room_id == self._room_id:
            self.transcript.set_writable(False)
            self.banners.show_error(CONVERSATION_GONE)

    def _on_signed_out(self, _reason: str) -> None:
        self.transcript.set_writable(False)
        self.banners.show_error(SIGNED_OUT)

    def _on_conference_changed(self, details: ConferenceDetails) -> None:
        if details.room_id != self._room_id:
            return
        if self.meeting is None:
            self._become_meeting()
            self._apply_conversation(self._engine.conversations.conversation(self._room_id))
            return
        self._apply_details(details)
        if self.access is not None:
            self.access.apply_details(details)

    def _on_conference_session_changed(self, session: ConferenceSession) -> None:
        if session.room_id != self._room_id:
            return
        self._session = session
        if self.meeting is None:
            self._become_meeting()
            self._apply_conversation(self._engine.conversations.conversation(self._room_id))
            return
        self._apply_session(session)

    def _on_rejoin_finished(self) -> None:
        if self._alive():
            self._apply_session(self._engine.conferences.session(self._room_id))

    # -- adding people: the two-party conversation becomes a meeting ------------

    def add_people(self) -> AddPeopleDialog | None:
        """Open Add people…; accepting it starts the escalation (the banner follows it)."""
        info = self._engine.conversations.conversation(self._room_id)
        if self.meeting is not None or info is None or info.kind is not ConversationKind.DIRECT:
            return None
        if not self.add_people_button.isEnabled():
            return None  # an escalation is under way
        peer_name = self._engine.session.display_name(info.peer_user_id or "")
        dialog = AddPeopleDialog(self._engine, peer_name, self, peer_id=info.peer_user_id or "")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._escalate(dialog.people, dialog.message))
        dialog.open()
        return dialog

    def _escalate(self, people: list[str], message: str) -> None:
        # The escalation outlives the window: half a meeting must not be left behind.
        spawn_detached(self._run_escalation(self._room_id, people, message))

    async def _run_escalation(self, room_id: str, people: list[str], message: str) -> None:
        await self._engine.escalation.escalate(room_id, people, message)

    def _on_escalation_changed(self, escalation: ConferenceEscalation) -> None:
        if escalation.direct_room_id != self._room_id:
            return
        self.add_people_button.setEnabled(not escalation.running)  # one at a time
        if (
            escalation.progress is ConferenceEscalationProgress.COMPLETED
            and escalation.conference_room_id
        ):
            self._follow_into_meeting(escalation.conference_room_id)

    def _follow_into_meeting(self, conference_room_id: str) -> None:
        """The same window becomes the meeting: the two-party lines stay above its own."""
        if self.meeting is not None or not self._alive():
            return
        previous, old = self._room_id, self.transcript
        draft = old.composer.take_text()  # what was being typed goes along
        old.detach()
        self._parts.remove(old)
        self.transcript = TranscriptPane(
            self._part_context(conference_room_id),
            self,
            earlier_room_id=previous,
        )
        self._parts.insert(0, self.transcript)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.replaceWidget(old, self.transcript)
        old.deleteLater()
        if draft:
            self.transcript.composer.restore_text(draft)
        self._room_id = conference_room_id
        self._session = self._engine.conferences.session(conference_room_id)
        self._become_meeting()
        self._apply_conversation(self._engine.conversations.conversation(conference_room_id))
        self._apply_palette()
        self.room_changed.emit(previous, conference_room_id)
