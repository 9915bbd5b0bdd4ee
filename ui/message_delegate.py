"""How one transcript row looks: sender, time, body, delivery state.

The delegate lays each row out once per (message, width) and caches both the
height and the laid-out text document, so inserting a row or repainting does
not re-layout the whole transcript, and a 64 KiB message is laid out once.
"""

from __future__ import annotations

import enum
import math
import zlib
from collections import OrderedDict
from dataclasses import dataclass

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QPainter,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
)

from engine.models import Message, MessageState
from ui import message_icons
from ui.message_model import (
    MessageRole,
    RowInfo,
    RowRole,
    format_day,
    format_full_timestamp,
    format_time,
    summary_action_text,
)
from ui.rich_text import SafeTextDocument, build_document, escaped_tooltip
from ui.room_change_text import change_text

_AnyIndex = QModelIndex | QPersistentModelIndex

PAD = 12  # left and right padding of a row
ICON = 16  # state and lock icons
GUTTER = ICON + 8  # room on the right for the state icon
GROUP_GAP = 8  # space above the first message of a group
CHANGE_FLAGS = int(Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap)  # room-change lines
DOC_CACHE_SIZE = 256  # laid-out documents kept for painting

START_TEXT = "Start of the conversation"
FAILED_TEXT = "Not sent."
RETRY_TEXT = "Retry"


class HitKind(enum.Enum):
    RETRY = "retry"
    LINK = "link"
    STATE = "state"
    TIME = "time"
    LOCK = "lock"
    BODY = "body"
    TOGGLE = "toggle"  # a summary row: show or hide its lines


@dataclass(frozen=True, slots=True)
class Hit:
    kind: HitKind
    value: str = ""


@dataclass(slots=True)
class RowGeometry:
    """Where a row's parts are; None for a part the row does not have."""

    height: int
    content: QRect  # the message itself (without date / start lines)
    body: QRect
    start: QRect | None = None
    day: QRect | None = None
    name: QRect | None = None
    time: QRect | None = None
    lock: QRect | None = None
    icon: QRect | None = None
    failed: QRect | None = None
    retry: QRect | None = None
    toggle: QRect | None = None  # a summary row's "Show all lines" / "Hide lines"


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def dim_color(palette: QPalette) -> QColor:
    color = QColor(palette.color(QPalette.ColorRole.Text))
    color.setAlphaF(0.6)
    return color


def error_color(palette: QPalette) -> QColor:
    # No palette role means "error"; pick a red that reads on the current base.
    return QColor("#ff6b6b") if is_dark(palette) else QColor("#c62828")


def sender_color(user_id: str, palette: QPalette) -> QColor:
    """A stable per-person colour, light on dark palettes and dark on light ones."""
    hue = (zlib.crc32(user_id.encode()) % 360) / 360
    return QColor.fromHslF(hue, 0.55, 0.72 if is_dark(palette) else 0.36)


def state_tooltip(message: Message) -> str:
    match message.state:
        case MessageState.SENDING:
            return "Sending…"
        case MessageState.SENT:
            return "Sent"
        case MessageState.FAILED:
            reason = f" {message.error}" if message.error else ""
            return f"Not sent.{reason} Click Retry to send it again."
        case _:
            return ""


@dataclass(frozen=True, slots=True)
class _Fonts:
    base: QFont
    bold: QFont
    small: QFont
    fm: QFontMetrics
    fm_bold: QFontMetrics
    fm_small: QFontMetrics

    @classmethod
    def of(cls, font: QFont) -> _Fonts:
        base = QFont(font)
        bold = QFont(base)
        bold.setBold(True)
        small = QFont(base)
        if base.pointSizeF() > 0:
            small.setPointSizeF(max(base.pointSizeF() * 0.85, 6.0))
        return cls(base, bold, small, QFontMetrics(base), QFontMetrics(bold), QFontMetrics(small))


class MessageDelegate(QStyledItemDelegate):
    """Paints transcript rows of a MessageView."""

    def __init__(self, view: QAbstractItemView) -> None:
        super().__init__(view)
        self._view = view
        self._docs: OrderedDict[str, tuple[Message, int, SafeTextDocument]] = OrderedDict()
        self._heights: dict[str, tuple[Message, int, int]] = {}
        # Row heights by key: (row info, width, height); valid while the RowInfo is the same.
        self._sizes: dict[str, tuple[RowInfo, int, int]] = {}
        self._font_cache: _Fonts | None = None

    # -- caches ------------------------------------------------------------

    def clear_cache(self) -> None:
        """Forget all layouts (the view's font or palette changed)."""
        self._docs.clear()
        self._heights.clear()
        self._sizes.clear()
        self._font_cache = None

    def _body_font(self, message: Message) -> QFont:
        font = QFont(self._view.font())
        if message.encrypted:
            font.setItalic(True)
        return font

    def document(self, message: Message, width: int) -> SafeTextDocument:
        """The laid-out body of ``message`` at ``width`` pixels (cached)."""
        cached = self._docs.get(message.key)
        if (
            cached is not None
            and cached[1] == width
            and (cached[0] is message or cached[0] == message)
        ):
            self._docs.move_to_end(message.key)
            return cached[2]
        doc = build_document(
            plain=message.body,
            rich=message.html,
            font=self._body_font(message),
            link_color=self._view.palette().color(QPalette.ColorRole.Link).name(),
            width=width,
        )
        self._docs[message.key] = (message, width, doc)
        self._docs.move_to_end(message.key)
        while len(self._docs) > DOC_CACHE_SIZE:
            _key, (_m, _w, old) = self._docs.popitem(last=False)
            old.deleteLater()
        self._heights[message.key] = (message, width, math.ceil(doc.size().height()))
        return doc

    def document_for_index(self, index: _AnyIndex) -> SafeTextDocument:
        """The document the row at ``index`` is painted from, at the current width."""
        g = self.geometry(QRect(0, 0, self._view.viewport().width(), 0), index)
        return self.document(index.data(MessageRole), g.body.width())

    def _body_height(self, message: Message, width: int) -> int:
        cached = self._heights.get(message.key)
        if (
            cached is not None
            and cached[1] == width
            and (cached[0] is message or cached[0] == message)
        ):
            return cached[2]
        self.document(message, width)
        return self._heights[message.key][2]

    # -- layout ------------------------------------------------------------

    def _fonts(self) -> _Fonts:
        if self._font_cache is None:
            self._font_cache = _Fonts.of(self._view.font())
        return self._font_cache

    def geometry(self, rect: QRect, index: _AnyIndex) -> RowGeometry:
        """Where each part of the row at ``index`` goes inside ``rect``."""
        info: RowInfo = index.data(RowRole)
        message = info.message
        continuation, day_break, start = info.continuation, info.day_break, info.start_of_history
        fonts = self._fonts()
        fm, fm_bold, fm_small = fonts.fm, fonts.fm_bold, fonts.fm_small
        line = fm.height()
        x0, width = rect.left(), rect.width()
        y = top = rect.top()

        start_rect = day_rect = None
        if start:
            y += 10
            start_rect = QRect(x0, y, width, line)
            y += line + 4
        if day_break:
            y += 8
            day_rect = QRect(x0, y, width, fm_small.height())
            y += fm_small.height() + 2

        content_top = y
        if info.summary and info.run is not None:
            # One line for a whole run, with its "Show all lines" at the right.
            y += 4
            action = summary_action_text(info.run)
            toggle_w = fm_small.horizontalAdvance(action) + 8
            text_rect = QRect(x0 + PAD + toggle_w, y, max(width - 2 * (PAD + toggle_w), 40), 0)
            text_h = fm_small.boundingRect(text_rect, CHANGE_FLAGS, info.run.text()).height()
            body_rect = QRect(
                text_rect.left(), y, text_rect.width(), max(text_h, fm_small.height())
            )
            toggle_rect = QRect(x0 + width - PAD - toggle_w, y, toggle_w, fm_small.height())
            y += body_rect.height() + 4
            return RowGeometry(
                height=y - top,
                content=QRect(x0, content_top, width, y - content_top),
                body=body_rect,
                start=start_rect,
                day=day_rect,
                toggle=toggle_rect,
            )
        if message.changes:
            # A line about the room: small, centred, no header or state icon.
            y += 4
            text_rect = QRect(x0 + PAD, y, max(width - 2 * PAD, 40), 0)
            text_h = fm_small.boundingRect(text_rect, CHANGE_FLAGS, change_text(message)).height()
            body_rect = QRect(
                text_rect.left(), y, text_rect.width(), max(text_h, fm_small.height())
            )
            y += body_rect.height() + 4
            # A room-change line: one small sentence, no sender, time or state.
            return RowGeometry(
                height=y - top,
                content=QRect(x0, content_top, width, y - content_top),
                body=body_rect,
                start=start_rect,
                day=day_rect,
            )
        name_rect = time_rect = None
        if not continuation:
            y += GROUP_GAP
            time_text = format_time(message.timestamp_ms)
            time_w = fm_small.horizontalAdvance(time_text) + 2
            avail = max(width - 2 * PAD - GUTTER - time_w - 8, 20)
            name_w = min(fm_bold.horizontalAdvance(message.sender_name) + 2, avail)
            header_h = fm_bold.height()
            name_rect = QRect(x0 + PAD, y, name_w, header_h)
            time_rect = QRect(name_rect.right() + 9, y, time_w, header_h)
            y += header_h + 2
        else:
            y += 2

        text_left = x0 + PAD
        lock_rect = None
        if message.encrypted:
            lock_rect = QRect(text_left, y + (line - ICON) // 2, ICON, ICON)
            text_left += ICON + 6
        text_width = max(x0 + width - PAD - GUTTER - text_left, 40)
        body_h = self._body_height(message, text_width)
        body_rect = QRect(text_left, y, text_width, max(body_h, line))
        icon_rect = None
        if message.state is not MessageState.RECEIVED:
            icon_rect = QRect(x0 + width - PAD - ICON, y + (line - ICON) // 2, ICON, ICON)
        y += body_rect.height()

        failed_rect = retry_rect = None
        if message.state is MessageState.FAILED:
            y += 2
            failed_rect = QRect(text_left, y, fm.horizontalAdvance(FAILED_TEXT) + 2, line)
            retry_w = fm_bold.horizontalAdvance(RETRY_TEXT) + 12
            retry_rect = QRect(failed_rect.right() + 7, y, retry_w, line)
            y += line
        y += 4
        return RowGeometry(
            height=y - top,
            content=QRect(x0, content_top, width, y - content_top),
            start=start_rect,
            day=day_rect,
            name=name_rect,
            time=time_rect,
            lock=lock_rect,
            body=body_rect,
            icon=icon_rect,
            failed=failed_rect,
            retry=retry_rect,
        )

    def row_rect(self, option_rect: QRect) -> QRect:
        """The row's rectangle, always as wide as the viewport (sizes are cached by width)."""
        return QRect(option_rect.left(), option_rect.top(), self._view.viewport().width(), 0)

    def sizeHint(self, option: QStyleOptionViewItem, index: _AnyIndex) -> QSize:
        if not index.isValid():
            return QSize(0, 0)
        # Called for every row after every insertion: keep the cached path short.
        width = self._view.viewport().width()
        info: RowInfo = index.data(RowRole)
        key = info.message.key
        cached = self._sizes.get(key)
        if cached is not None and cached[0] is info and cached[1] == width:
            return QSize(width, cached[2])
        height = self.geometry(QRect(0, 0, width, 0), index).height
        self._sizes[key] = (info, width, height)
        return QSize(width, height)

    def hit_test(self, option_rect: QRect, index: _AnyIndex, pos: QPoint) -> Hit | None:
        """What is under ``pos`` (viewport coordinates) in the row at ``index``."""
        if not index.isValid():
            return None
        message: Message = index.data(MessageRole)
        g = self.geometry(self.row_rect(option_rect), index)
        if g.toggle is not None:
            info: RowInfo = index.data(RowRole)
            if g.content.contains(pos) and info.run is not None:
                return Hit(HitKind.TOGGLE, summary_action_text(info.run))
            return None
        if g.retry is not None and g.retry.contains(pos):
            return Hit(HitKind.RETRY, message.key)
        if g.icon is not None and g.icon.adjusted(-4, -4, 4, 4).contains(pos):
            return Hit(HitKind.STATE, state_tooltip(message))
        if g.time is not None and g.time.contains(pos):
            return Hit(HitKind.TIME, format_full_timestamp(message.timestamp_ms))
        if g.lock is not None and g.lock.contains(pos):
            return Hit(HitKind.LOCK, "Encrypted message: Confero cannot read it yet.")
        if g.body.contains(pos) and message.changes:
            return Hit(HitKind.TIME, format_full_timestamp(message.timestamp_ms))
        if g.body.contains(pos):
            doc = self.document(message, g.body.width())
            anchor = doc.documentLayout().anchorAt(QPointF(pos - g.body.topLeft()))
            if anchor:
                return Hit(HitKind.LINK, anchor)
            return Hit(HitKind.BODY, format_full_timestamp(message.timestamp_ms))
        return None

    # -- painting ----------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _AnyIndex) -> None:
        message: Message | None = index.data(MessageRole)
        if message is None:
            return
        palette = option.palette
        g = self.geometry(self.row_rect(option.rect), index)
        fonts = self._fonts()
        base, bold, small = fonts.base, fonts.bold, fonts.small
        dim = dim_color(palette)
        painter.save()

        state = option.state
        highlight = QColor(palette.color(QPalette.ColorRole.Highlight))
        if state & QStyle.StateFlag.State_Selected:
            highlight.setAlphaF(0.18)
            painter.fillRect(g.content, highlight)
        elif state & QStyle.StateFlag.State_MouseOver:
            highlight.setAlphaF(0.07)
            painter.fillRect(g.content, highlight)
        if state & QStyle.StateFlag.State_HasFocus and self._view.hasFocus():
            focus = QColor(palette.color(QPalette.ColorRole.Highlight))
            painter.setPen(focus)
            painter.drawRect(g.content.adjusted(1, 0, -2, -1))

        if g.start is not None:
            self._paint_divider(painter, g.start, START_TEXT, base, dim)
        if g.day is not None:
            self._paint_divider(painter, g.day, format_day(message.timestamp_ms), small, dim)

        if g.toggle is not None:
            info: RowInfo = index.data(RowRole)
            if info.run is not None:
                painter.setFont(small)
                painter.setPen(dim)
                painter.drawText(g.body, CHANGE_FLAGS, info.run.text())
                painter.setPen(palette.color(QPalette.ColorRole.Link))
                flags = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                painter.drawText(g.toggle, int(flags), summary_action_text(info.run))
            painter.restore()
            return

        if message.changes:
            painter.setFont(small)
            painter.setPen(dim)
            painter.drawText(g.body, CHANGE_FLAGS, change_text(message))
            painter.restore()
            return

        if g.name is not None and g.time is not None:
            painter.setFont(bold)
            painter.setPen(sender_color(message.sender, palette))
            name = fonts.fm_bold.elidedText(
                message.sender_name, Qt.TextElideMode.ElideRight, g.name.width()
            )
            flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
            painter.drawText(g.name, int(flags | Qt.TextFlag.TextSingleLine), name)
            painter.setFont(small)
            painter.setPen(dim)
            painter.drawText(
                g.time, int(flags | Qt.TextFlag.TextSingleLine), format_time(message.timestamp_ms)
            )

        if g.lock is not None:
            message_icons.draw_lock(painter, QRectF(g.lock), dim)

        self._paint_body(painter, message, g.body, option.rect, palette)

        if g.icon is not None:
            icon = QRectF(g.icon)
            match message.state:
                case MessageState.SENDING:
                    message_icons.draw_clock(painter, icon, dim)
                case MessageState.SENT:
                    message_icons.draw_check(painter, icon, dim)
                case MessageState.FAILED:
                    message_icons.draw_warning(
                        painter, icon, error_color(palette), palette.color(QPalette.ColorRole.Base)
                    )

        if g.failed is not None and g.retry is not None:
            flags = int(
                Qt.AlignmentFlag.AlignLeft
                | Qt.AlignmentFlag.AlignVCenter
                | Qt.TextFlag.TextSingleLine
            )
            painter.setFont(base)
            painter.setPen(error_color(palette))
            painter.drawText(g.failed, flags, FAILED_TEXT)
            painter.setFont(bold)
            link = palette.color(QPalette.ColorRole.Link)
            button = QRectF(g.retry).adjusted(0.5, 0.5, -0.5, -0.5)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(link)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(button, 4, 4)
            painter.drawText(g.retry, int(Qt.AlignmentFlag.AlignCenter), RETRY_TEXT)
        painter.restore()

    def _paint_divider(
        self, painter: QPainter, rect: QRect, text: str, font: QFont, color: QColor
    ) -> None:
        painter.setFont(font)
        painter.setPen(color)
        fm = QFontMetrics(font)
        text_w = fm.horizontalAdvance(text) + 16
        middle = rect.center().y()
        left_end = rect.center().x() - text_w // 2
        right_start = left_end + text_w
        line_color = QColor(color)
        line_color.setAlphaF(0.25)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.setPen(line_color)
        if left_end - PAD > rect.left() + PAD:
            painter.drawLine(rect.left() + PAD, middle, left_end, middle)
            painter.drawLine(right_start, middle, rect.right() - PAD, middle)

    def _paint_body(
        self,
        painter: QPainter,
        message: Message,
        body: QRect,
        visible_rect: QRect,
        palette: QPalette,
    ) -> None:
        doc = self.document(message, body.width())
        context = QAbstractTextDocumentLayout.PaintContext()
        body_palette = QPalette(palette)
        if message.encrypted or message.notice:
            body_palette.setColor(QPalette.ColorRole.Text, dim_color(palette))
        context.palette = body_palette
        # Only the part of a (possibly very tall) row that is on screen gets drawn.
        clip = QRectF(visible_rect.intersected(self._view.viewport().rect()))
        clip.translate(-QPointF(body.topLeft()))
        context.clip = clip
        painter.save()
        if message.state is MessageState.SENDING:
            painter.setOpacity(0.65)
        painter.translate(QPointF(body.topLeft()))
        painter.setClipRect(clip)
        doc.documentLayout().draw(painter, context)
        painter.restore()

    # -- tooltips ----------------------------------------------------------

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: _AnyIndex,
    ) -> bool:
        if event is None or view is None or not index.isValid():
            return False
        hit = self.hit_test(option.rect, index, event.pos())
        text = ""
        if hit is not None:
            text = "Send this message again" if hit.kind is HitKind.RETRY else hit.value
        if not text:
            QToolTip.hideText()
            event.ignore()
            return False
        QToolTip.showText(event.globalPos(), escaped_tooltip(text), view.viewport())
        return True
