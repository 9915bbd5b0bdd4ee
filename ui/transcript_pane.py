"""A conversation's transcript: the messages, who is typing, and the composer.

It loads earlier history as you scroll up, sends what you write (Enter or
Send), retries a failed message, says when you type, and marks the room read
while its window is in front. Failures go to the error bar of the window's
banner area. The window decides whether you may write (``set_writable``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from engine.errors import ConferoError
from engine.models import Message
from ui.bridge import disconnect_all
from ui.composer import Composer
from ui.engine_calls import finish, spawn_detached
from ui.error_text import GENERIC_ERROR, HISTORY_FAILED
from ui.message_delegate import dim_color
from ui.message_model import MessageModel
from ui.message_view import MessageView
from ui.typing_notifier import TypingNotifier, typing_text

if TYPE_CHECKING:
    from ui.window_parts import PartContext

log = logging.getLogger(__name__)

MARK_READ_DELAY_MS = 300


class TranscriptPane(QWidget):
    """Message view, typing line and composer of one conversation."""

    def __init__(
        self,
        context: PartContext,
        parent: QWidget | None = None,
        *,
        earlier_room_id: str = "",
    ) -> None:
        """``earlier_room_id``: the room whose lines show above this room's own (a
        two-party conversation's, when its window follows it into a meeting); they
        keep their own room, so they go on changing (Sending → Sent) and a late
        one still shows."""
        super().__init__(parent)
        self.setObjectName("transcriptPane")
        engine, bridge, room_id = context.engine, context.bridge, context.room_id
        self._engine, self._bridge, self._room_id = engine, bridge, room_id
        self._banners, self._tasks = context.banners, context.tasks
        self._detached = False
        self._loading_history = False
        self._history_failed = False
        self._read_pending = True
        self._typing_names: tuple[str, ...] = ()

        earlier = engine.conversations.messages(earlier_room_id) if earlier_room_id else []
        lines = earlier + engine.conversations.messages(room_id)
        self.model = MessageModel(room_id, bridge, lines, self, earlier_room_id=earlier_room_id)
        #: Rooms with lines that arrived since they were last marked read.
        self._unread_rooms: set[str] = {room_id}
        self.view = MessageView(self)
        self.view.setModel(self.model)
        self.view.set_placeholder_text("No messages yet.")

        self.typing_label = QLabel(self)
        self.typing_label.setObjectName("typingIndicator")
        self.typing_label.setTextFormat(Qt.TextFormat.PlainText)
        self.typing_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.typing_label.setFixedHeight(self.typing_label.fontMetrics().height() + 4)
        self.typing_label.setAccessibleName("Typing")

        self.composer = Composer(self)
        self.send_button = QPushButton("Send", self)
        self.send_button.setAccessibleName("Send message")
        self.send_button.setToolTip("Send (Enter)")
        self.send_button.setEnabled(False)

        self._typing = TypingNotifier(self)
        self._mark_read_timer = QTimer(self)
        self._mark_read_timer.setSingleShot(True)
        self._mark_read_timer.setInterval(MARK_READ_DELAY_MS)

        self._build_layout()
        self.apply_palette()
        self._show_typing(engine.conversations.typing_names(room_id))
        self._connect_signals()

    def _build_layout(self) -> None:
        composer_row = QHBoxLayout()
        composer_row.setContentsMargins(8, 0, 8, 8)
        composer_row.setSpacing(6)
        composer_row.addWidget(self.composer, 1)
        composer_row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        typing_row = QHBoxLayout()
        typing_row.setContentsMargins(12, 2, 12, 2)
        typing_row.addWidget(self.typing_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view, 1)
        layout.addLayout(typing_row)
        layout.addLayout(composer_row)

    def _connect_signals(self) -> None:
        self._bridge.typing_changed.connect(self._on_typing_changed)
        self.model.message_appended.connect(self._on_message_appended)
        self.model.start_reached_changed.connect(self._on_start_reached_changed)
        self.view.near_top.connect(self._on_near_top)
        self.view.retry_requested.connect(self._on_retry_requested)
        self.composer.submitted.connect(self._on_send_requested)
        self.composer.edited.connect(self._on_composer_edited)
        self.send_button.clicked.connect(self._on_send_requested)
        self._typing.typing_changed.connect(self._on_own_typing_changed)
        self._mark_read_timer.timeout.connect(self._on_mark_read_due)

    # -- what the window tells it ----------------------------------------------------

    def set_writable(self, writable: bool, placeholder: str | None = None) -> None:
        """Enable or disable the composer (with the reason as its placeholder)."""
        if placeholder is not None:
            self.composer.setPlaceholderText(placeholder)
        self.composer.setEnabled(writable)
        self._update_send_button()

    def window_activated(self) -> None:
        """The window came to the front: mark what arrived meanwhile as read."""
        if self._read_pending:
            self._mark_read_timer.start()

    def detach(self) -> None:
        """The window is closing: stop following the engine; "stopped typing" still goes out."""
        self._detached = True
        self._mark_read_timer.stop()
        if self._typing.typing:
            self._typing.stop()  # the task only touches the engine
        disconnect_all([(self._bridge.typing_changed, self._on_typing_changed)])
        self.model.detach()

    def typing_text(self) -> str:
        """The full (not elided) typing line, "" when nobody types."""
        return typing_text(self._typing_names)

    def apply_palette(self) -> None:
        dim = dim_color(self.palette())
        label_palette = self.typing_label.palette()
        label_palette.setColor(self.typing_label.foregroundRole(), dim)
        self.typing_label.setPalette(label_palette)
        font = self.typing_label.font()
        font.setItalic(True)
        self.typing_label.setFont(font)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._show_typing(self._typing_names)

    # -- typing ----------------------------------------------------------------------

    def _show_typing(self, names: tuple[str, ...]) -> None:
        self._typing_names = tuple(names)
        text = typing_text(self._typing_names)
        width = max(self.typing_label.width(), 50)
        elided = self.typing_label.fontMetrics().elidedText(
            text, Qt.TextElideMode.ElideRight, width
        )
        self.typing_label.setText(elided)
        self.typing_label.setToolTip(text if elided != text else "")

    def _on_typing_changed(self, room_id: str, names: tuple[str, ...]) -> None:
        if room_id == self._room_id:
            self._show_typing(names)

    def _on_composer_edited(self) -> None:
        self._update_send_button()
        if self.composer.document().isEmpty():
            self._typing.stop()
        else:
            self._typing.user_typed()

    def _on_own_typing_changed(self, typing: bool) -> None:
        # Engine-only, and "stopped typing" must still go out when the window closes.
        spawn_detached(self._engine.conversations.set_typing(self._room_id, typing))

    # -- read markers ----------------------------------------------------------------

    def _on_message_appended(self, message: Message) -> None:
        if message.sender == self._engine.session.user_id:
            return
        self._read_pending = True
        self._unread_rooms.add(message.room_id)
        if self.isActiveWindow():
            self._mark_read_timer.start()

    def _on_mark_read_due(self) -> None:
        if self.isActiveWindow() and self._read_pending:
            self._read_pending = False
            self._tasks.spawn(self._mark_read())

    async def _mark_read(self) -> None:
        rooms, self._unread_rooms = self._unread_rooms or {self._room_id}, set()
        for room_id in rooms:
            try:
                await self._engine.conversations.mark_read(room_id)
            except Exception:  # the unread count stays; the next message tries again
                log.debug("marking read failed", exc_info=True)

    # -- earlier history -------------------------------------------------------------

    def _on_start_reached_changed(self, reached: bool) -> None:
        if reached:
            self.view.set_loading(False)

    def _on_near_top(self) -> None:
        if self._loading_history or self._history_failed or self.model.start_reached:
            return
        self._tasks.spawn(self._load_older())

    def _retry_history(self) -> None:
        self._history_failed = False
        self.view.check_near_top()

    async def _load_older(self) -> None:
        self._loading_history = True
        self.view.set_loading(True)
        failure: str | None = None
        reached = False
        try:
            reached = await self._engine.conversations.load_older(self._room_id)
        except ConferoError as exc:
            failure = exc.user_message
        except Exception:
            log.exception("loading older messages failed")
            failure = GENERIC_ERROR
        if not self._alive():
            return
        self._loading_history = False
        self.view.set_loading(False)
        if failure is not None:
            self._history_failed = True
            self._banners.show_error(
                HISTORY_FAILED.format(failure),
                action_text="Try again",
                action=self._retry_history,
            )
        elif reached:
            self.model.mark_start_reached()
        else:
            self.view.check_near_top()

    # -- sending ---------------------------------------------------------------------

    def _on_send_requested(self) -> None:
        if not self.composer.isEnabled():
            return
        text = self.composer.toPlainText()
        if not text.strip():
            return
        # Emptied at once, so a second Enter cannot send the same text twice.
        self.composer.take_text()
        self._update_send_button()
        self._typing.stop()
        self.view.scroll_to_end()
        self._tasks.spawn(self._send(text))

    async def _send(self, text: str) -> None:
        try:
            await finish(self._engine.conversations.send_text(self._room_id, text))
        except ConferoError as exc:
            if self._alive():
                self._give_back(text, exc.user_message)
        except Exception:
            log.exception("sending failed")
            if self._alive():
                self._give_back(text, GENERIC_ERROR)
        else:
            if self._alive():
                self._banners.clear_error()

    def _give_back(self, text: str, failure: str) -> None:
        """A message that could not be sent returns to the composer."""
        self.composer.restore_text(text)
        self._update_send_button()
        self._banners.show_error(failure)

    def _on_retry_requested(self, key: str) -> None:
        self._tasks.spawn(self._retry(key))

    async def _retry(self, key: str) -> None:
        # A two-party line above a meeting's is sent again in its own room.
        row = self.model.row_of(key)
        room_id = self.model.message_at(row).room_id if row is not None else self._room_id
        try:
            await finish(self._engine.conversations.retry(room_id, key))
        except ConferoError as exc:
            if self._alive():
                self._banners.show_error(exc.user_message)
        except Exception:
            log.exception("retry failed")
            if self._alive():
                self._banners.show_error(GENERIC_ERROR)

    def _update_send_button(self) -> None:
        self.send_button.setEnabled(
            self.composer.isEnabled() and not self.composer.document().isEmpty()
        )

    def _alive(self) -> bool:
        return not self._detached and shiboken6.isValid(self)
