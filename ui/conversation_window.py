"""The window of one conversation: transcript, typing line and composer.

One window per conversation: ``open_conversation_window`` raises the open one
instead of making a second. The window only calls the engine (send, retry,
load older history, typing, read markers) and renders what the bridge says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from engine.errors import ConferoError
from engine.models import ConversationInfo, ConversationKind, ConversationState, Message
from ui.banner import Banner, BannerKind
from ui.bridge import EngineBridge
from ui.composer import Composer
from ui.message_delegate import dim_color
from ui.message_model import MessageModel
from ui.message_view import MessageView
from ui.typing_notifier import TypingNotifier, typing_text

if TYPE_CHECKING:
    from engine.engine import Engine

log = logging.getLogger(__name__)

ENCRYPTED_NOTE = (
    "This conversation is end-to-end encrypted. Confero cannot read encrypted messages yet."
)
MARK_READ_DELAY_MS = 300
GENERIC_ERROR = "Something went wrong. Please try again."


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
        self._loading_history = False
        self._history_failed = False
        self._read_pending = True
        self._typing_names: tuple[str, ...] = ()
        self._banner_action: Callable[[], None] | None = None

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
        self._apply_conversation(engine.conversation(room_id))
        self._show_typing(engine.typing_names(room_id))
        self._connect_signals()
        self.resize(560, 680)
        self._composer.setFocus()

    def _build_layout(self) -> None:
        header = QVBoxLayout()
        header.setContentsMargins(12, 8, 12, 6)
        header.setSpacing(0)
        header.addWidget(self._title)
        header.addWidget(self._subtitle)

        notes = QVBoxLayout()
        notes.setContentsMargins(8, 0, 8, 6)
        notes.setSpacing(4)
        notes.addWidget(self._encryption_note)
        notes.addWidget(self._error_banner)

        composer_row = QHBoxLayout()
        composer_row.setContentsMargins(8, 0, 8, 8)
        composer_row.setSpacing(6)
        composer_row.addWidget(self._composer, 1)
        composer_row.addWidget(self._send_button, 0, Qt.AlignmentFlag.AlignBottom)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addLayout(notes)
        layout.addWidget(self._view, 1)
        typing_row = QHBoxLayout()
        typing_row.setContentsMargins(12, 2, 12, 2)
        typing_row.addWidget(self._typing_label)
        layout.addLayout(typing_row)
        layout.addLayout(composer_row)

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

    def _disconnect_bridge(self) -> None:
        for signal, slot in (
            (self._bridge.conversation_changed, self._on_conversation_changed),
            (self._bridge.conversation_removed, self._on_conversation_removed),
            (self._bridge.typing_changed, self._on_typing_changed),
            (self._bridge.signed_out, self._on_signed_out),
        ):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                log.debug("slot was not connected", exc_info=True)
        self._model.detach()

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
    def is_closing(self) -> bool:
        return self._closing

    def typing_text(self) -> str:
        """The full (not elided) typing line, "" when nobody types."""
        return typing_text(self._typing_names)

    # -- conversation state ---------------------------------------------------

    def _apply_conversation(self, info: ConversationInfo | None) -> None:
        name = info.display_name if info else self._room_id
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
        if ended:
            self._composer.setPlaceholderText("You are no longer in this conversation.")
        self._composer.setEnabled(not encrypted and not ended)
        self._update_send_button()

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
        self._load_older()

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
            self._mark_read()

    @asyncSlot()
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
        self._send(text)

    @asyncSlot(str)
    async def _send(self, text: str) -> None:
        try:
            await self._engine.send_text(self._room_id, text)
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

    @asyncSlot(str)
    async def _on_retry_requested(self, key: str) -> None:
        try:
            await self._engine.retry(self._room_id, key)
        except ConferoError as exc:
            if self._alive():
                self._show_error(exc.user_message)
        except Exception:
            log.exception("retry failed")
            if self._alive():
                self._show_error(GENERIC_ERROR)

    @asyncSlot(bool)
    async def _on_own_typing_changed(self, typing: bool) -> None:
        try:
            await self._engine.set_typing(self._room_id, typing)
        except Exception:  # a lost typing notice is not worth bothering anyone
            log.debug("typing notification failed", exc_info=True)

    @asyncSlot()
    async def _mark_read(self) -> None:
        try:
            await self._engine.mark_read(self._room_id)
        except Exception:  # the unread count stays; the next message tries again
            log.debug("marking read failed", exc_info=True)


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
