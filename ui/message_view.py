"""The transcript view: a list of message rows that behaves like a chat log.

It keeps to the bottom while new messages arrive (unless the user scrolled
up), keeps the visible messages in place when older history is inserted
above them, asks for more history near the top, and turns clicks on a failed
message's "Retry" into a request.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QContextMenuEvent,
    QDesktopServices,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
)
from PySide6.QtWidgets import QAbstractItemView, QLabel, QListView, QMenu, QWidget

from engine.models import Message, MessageState
from ui.message_delegate import Hit, HitKind, MessageDelegate, dim_color
from ui.message_model import MessageModel, MessageRole, RowInfo, RowRole, summary_action_text

_OPENABLE_SCHEMES = {"http", "https", "mailto"}
_BOTTOM_SLACK = 4  # pixels from the end that still count as "at the bottom"


class MessageView(QListView):
    """Shows a MessageModel; owns scrolling behaviour and row interaction."""

    #: The user asked to send a failed message again (Message.key).
    retry_requested = Signal(str)
    #: The top of the loaded history is (nearly) visible: time to load older messages.
    near_top = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._delegate = MessageDelegate(self)
        self.setItemDelegate(self._delegate)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(False)
        self.setLayoutMode(QListView.LayoutMode.SinglePass)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setMouseTracking(True)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.setFrameShape(QListView.Shape.NoFrame)
        # The room above a short transcript (see _align_to_bottom) looks like the rest.
        self.setBackgroundRole(QPalette.ColorRole.Base)
        self.setAutoFillBackground(True)
        self.setAccessibleName("Messages")
        self.setAccessibleDescription(
            "Conversation transcript. Press Enter on a message that was not sent to retry it,"
            " and on a summary of room changes to show or hide its lines."
        )
        self._placeholder = ""
        self._stick_to_bottom = True
        self._adjusting = False
        self._anchor: tuple[QPersistentModelIndex, int] | None = None
        self._loading = QLabel("Loading earlier messages…", self.viewport())
        self._loading.setTextFormat(Qt.TextFormat.PlainText)
        self._loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._loading.setAccessibleName("Loading earlier messages")
        self._loading.setObjectName("historyLoadingIndicator")
        self._loading.setStyleSheet(
            "QLabel#historyLoadingIndicator { background: palette(alternate-base);"
            " color: palette(text); border: 1px solid palette(mid); border-radius: 10px;"
            " padding: 2px 12px; }"
        )
        self._loading.hide()
        self._near_top_check = QTimer(self)
        self._near_top_check.setSingleShot(True)
        self._near_top_check.setInterval(0)
        self._connect_signals()

    def _connect_signals(self) -> None:
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._on_scroll_range_changed)
        bar.valueChanged.connect(self._on_scroll_value_changed)
        self._near_top_check.timeout.connect(self._on_near_top_check)

    # -- public API ----------------------------------------------------------

    @property
    def delegate(self) -> MessageDelegate:
        return self._delegate

    def setModel(self, model: QAbstractItemModel | None) -> None:
        old = self.model()
        if old is not None:
            old.rowsAboutToBeInserted.disconnect(self._on_rows_about_to_be_inserted)
            old.dataChanged.disconnect(self._on_data_changed)
        super().setModel(model)
        self._delegate.clear_cache()
        if model is not None:
            model.rowsAboutToBeInserted.connect(self._on_rows_about_to_be_inserted)
            model.dataChanged.connect(self._on_data_changed)

    def set_placeholder_text(self, text: str) -> None:
        """Text shown while the transcript is empty."""
        self._placeholder = text
        self.viewport().update()

    def set_loading(self, loading: bool) -> None:
        """Show or hide the "Loading earlier messages…" indicator."""
        self._loading.setVisible(loading)
        if loading:
            self._place_loading_indicator()
            self._loading.raise_()

    def is_loading_visible(self) -> bool:
        return self._loading.isVisible()

    def scroll_to_end(self) -> None:
        """Follow the newest message again (after sending, for example)."""
        self._stick_to_bottom = True
        self._anchor = None
        self._set_scroll(self.verticalScrollBar().maximum())
        self.scrollToBottom()

    def toggle_summary(self, index: QModelIndex) -> None:
        """Show or hide the lines of the summary row at ``index``, keeping that row in place."""
        model = self.model()
        if not isinstance(model, MessageModel) or not model.is_summary(index.row()):
            return
        self._anchor = (QPersistentModelIndex(index), self.visualRect(index).top())
        self._stick_to_bottom = False
        model.toggle_expanded(index.row())
        self.setCurrentIndex(model.index(index.row(), 0))

    def is_at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - _BOTTOM_SLACK

    def check_near_top(self) -> None:
        """Emit near_top soon if the top of the history is in view."""
        self._near_top_check.start()

    # -- scrolling -----------------------------------------------------------

    def _set_scroll(self, value: int) -> None:
        self._adjusting = True
        try:
            self.verticalScrollBar().setValue(value)
        finally:
            self._adjusting = False

    def _on_rows_about_to_be_inserted(self, parent: QModelIndex, first: int, _last: int) -> None:
        model = self.model()
        if parent.isValid() or model is None or model.rowCount() == 0:
            return
        if self._stick_to_bottom:
            return
        # Older history goes in above (also older lines of an expanded summary, just
        # under it): remember which row is at the top of the viewport and where, so
        # it stays put once the new rows are laid out.
        top = self.indexAt(QPoint(1, 1))
        if not top.isValid():
            top = model.index(0, 0)
        if first > top.row() or (first != 0 and self._anchor is not None):
            return
        self._anchor = (QPersistentModelIndex(top), self.visualRect(top).top())

    def _on_scroll_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._stick_to_bottom:
            self._set_scroll(maximum)
        elif self._anchor is not None:
            index, offset = self._anchor
            if index.isValid():
                delta = self.visualRect(QModelIndex(index)).top() - offset
                if delta:
                    self._set_scroll(self.verticalScrollBar().value() + delta)
        self.check_near_top()

    def _on_scroll_value_changed(self, value: int) -> None:
        if not self._adjusting:
            # The user (or Qt on their behalf) moved the view: stop pinning.
            self._anchor = None
            self._stick_to_bottom = value >= self.verticalScrollBar().maximum() - _BOTTOM_SLACK
        self._place_loading_indicator()
        self.check_near_top()

    def _on_near_top_check(self) -> None:
        model = self.model()
        if model is None or not self.isVisible():
            return
        # Decide on the real layout, not on the empty one before rows are placed.
        self.executeDelayedItemsLayout()
        bar = self.verticalScrollBar()
        if bar.value() - bar.minimum() <= self.viewport().height() // 2:
            self.near_top.emit()

    def _on_data_changed(
        self, top_left: QModelIndex, bottom_right: QModelIndex, *_roles: object
    ) -> None:
        # A row's height may have changed (e.g. a "Retry" line appeared).
        for row in range(top_left.row(), bottom_right.row() + 1):
            self._delegate.sizeHintChanged.emit(self.model().index(row, 0))

    # -- events ----------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_loading_indicator()
        self.check_near_top()

    def showEvent(self, event: QEvent) -> None:
        super().showEvent(event)
        self.check_near_top()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            self._delegate.clear_cache()
            self.scheduleDelayedItemsLayout()
        super().changeEvent(event)

    def updateGeometries(self) -> None:
        super().updateGeometries()
        self._align_to_bottom()

    def _align_to_bottom(self) -> None:
        """Keep a short transcript at the bottom, next to the composer, as chats do."""
        available = self.height() - 2 * self.frameWidth()
        spare = max(0, available - self.contentsSize().height())
        if self.viewportMargins().top() != spare:
            self.setViewportMargins(0, spare, 0, 0)

    def _place_loading_indicator(self) -> None:
        hint = self._loading.sizeHint()
        x = (self.viewport().width() - hint.width()) // 2
        self._loading.setGeometry(x, 6, hint.width(), hint.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if self._placeholder and (model is None or model.rowCount() == 0):
            painter = QPainter(self.viewport())
            painter.setPen(dim_color(self.palette()))
            painter.drawText(
                self.viewport().rect().adjusted(24, 0, -24, 0),
                int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                self._placeholder,
            )
            painter.end()

    def _hit_at(self, pos: QPoint) -> tuple[QModelIndex, Hit | None]:
        index = self.indexAt(pos)
        if not index.isValid():
            return index, None
        return index, self._delegate.hit_test(self.visualRect(index), index, pos)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)
        _index, hit = self._hit_at(event.position().toPoint())
        if hit is not None and hit.kind in (HitKind.RETRY, HitKind.LINK, HitKind.TOGGLE):
            self.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.viewport().unsetCursor()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            index, hit = self._hit_at(event.position().toPoint())
            if hit is not None and hit.kind is HitKind.TOGGLE:
                self.toggle_summary(index)
                event.accept()
                return
            if hit is not None and hit.kind is HitKind.RETRY:
                self.retry_requested.emit(hit.value)
                event.accept()
                return
            if hit is not None and hit.kind is HitKind.LINK:
                self._open_link(hit.value)
                event.accept()
                return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        message = self._current_message()
        if event.matches(QKeySequence.StandardKey.Copy) and message is not None:
            QGuiApplication.clipboard().setText(self.currentIndex().data() or "")
            event.accept()
            return
        current = self.currentIndex()
        if (
            event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space)
            and current.isValid()
            and isinstance(current.data(RowRole), RowInfo)
            and current.data(RowRole).summary
        ):
            self.toggle_summary(current)
            event.accept()
            return
        if (
            event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and message is not None
            and message.state is MessageState.FAILED
        ):
            self.retry_requested.emit(message.key)
            event.accept()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if event.reason() == QContextMenuEvent.Reason.Mouse:
            index, hit = self._hit_at(event.pos())
        else:
            index, hit = self.currentIndex(), None
        if not index.isValid():
            return
        message: Message = index.data(MessageRole)
        info: RowInfo = index.data(RowRole)
        text: str = index.data() or ""
        menu = QMenu(self)
        if info.summary and info.run is not None:
            persistent = QPersistentModelIndex(index)
            toggle = menu.addAction(summary_action_text(info.run))
            toggle.triggered.connect(lambda: self.toggle_summary(QModelIndex(persistent)))
            menu.setDefaultAction(toggle)
        elif message.state is MessageState.FAILED:
            retry = menu.addAction("Retry sending")
            retry.triggered.connect(lambda: self.retry_requested.emit(message.key))
            menu.setDefaultAction(retry)
        copy = menu.addAction("Copy text")
        copy.triggered.connect(lambda: QGuiApplication.clipboard().setText(text))
        if hit is not None and hit.kind is HitKind.LINK:
            href = hit.value
            menu.addAction("Copy link address").triggered.connect(
                lambda: QGuiApplication.clipboard().setText(href)
            )
        menu.exec(event.globalPos())
        menu.deleteLater()

    def _current_message(self) -> Message | None:
        index = self.currentIndex()
        return index.data(MessageRole) if index.isValid() else None

    def _open_link(self, href: str) -> None:
        url = QUrl(href)
        if url.isValid() and url.scheme().lower() in _OPENABLE_SCHEMES:
            QDesktopServices.openUrl(url)
