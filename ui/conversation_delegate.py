"""Paints one row of the conversation list: icon, presence dot, name, status, unread badge.

Names are drawn with QPainter.drawText, which never interprets markup, so a
display name such as ``<b>x</b>`` shows exactly as typed.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from engine.models import ConversationKind, Presence
from ui import theme
from ui.conversation_list_model import ConversationRole
from ui.item_painting import draw_row_background

_ICON = 36
_PAD = 8
_DOT = 12

_AnyIndex = QModelIndex | QPersistentModelIndex


class ConversationDelegate(QStyledItemDelegate):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    def sizeHint(self, option: QStyleOptionViewItem, index: _AnyIndex) -> QSize:
        metrics = option.fontMetrics
        height = max(_ICON, metrics.height() * 2 + 4) + 2 * _PAD
        return QSize(200, height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _AnyIndex) -> None:
        painter.save()
        opt, text_colour = draw_row_background(self, painter, option, index)
        rect = opt.rect
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        dim_colour = QColor(text_colour)
        dim_colour.setAlphaF(0.7)

        # Icon with the presence dot on its corner.
        icon_rect = QRect(rect.left() + _PAD, rect.center().y() - _ICON // 2, _ICON, _ICON)
        kind = index.data(ConversationRole.KIND)
        icon_name = "conference" if kind is ConversationKind.CONFERENCE else "person"
        theme.icon(icon_name).paint(painter, icon_rect)
        presence = index.data(ConversationRole.PRESENCE)
        if kind is ConversationKind.DIRECT and presence not in (None, Presence.UNKNOWN):
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            dot = QRect(icon_rect.right() - _DOT + 3, icon_rect.bottom() - _DOT + 3, _DOT, _DOT)
            painter.setPen(opt.palette.color(QPalette.ColorRole.Base))
            painter.setBrush(QColor(theme.PRESENCE_COLOURS[presence]))
            painter.drawEllipse(dot)

        # Unread badge on the right.
        unread = int(index.data(ConversationRole.UNREAD_COUNT) or 0)
        right = rect.right() - _PAD
        bold = QFont(opt.font)
        bold.setBold(True)
        if unread:
            badge_text = "99+" if unread > 99 else str(unread)
            metrics = QFontMetrics(bold)
            badge_h = metrics.height() + 2
            badge_w = max(badge_h, metrics.horizontalAdvance(badge_text) + 12)
            badge = QRect(right - badge_w, rect.center().y() - badge_h // 2, badge_w, badge_h)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            highlight = opt.palette.color(QPalette.ColorRole.Highlight)
            painter.setBrush(
                opt.palette.color(QPalette.ColorRole.HighlightedText) if selected else highlight
            )
            painter.drawRoundedRect(badge, badge_h / 2, badge_h / 2)
            painter.setFont(bold)
            painter.setPen(
                highlight if selected else opt.palette.color(QPalette.ColorRole.HighlightedText)
            )
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, badge_text)
            right = badge.left() - _PAD

        # Name (bold when unread) and the subtitle line.
        left = icon_rect.right() + _PAD + 2
        text_width = max(0, right - left)
        name = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        subtitle = str(index.data(ConversationRole.SUBTITLE) or "")
        name_font = bold if unread else QFont(opt.font)
        name_metrics = QFontMetrics(name_font)
        line_h = name_metrics.height()
        top = (
            rect.center().y() - (line_h * 2 + 2) // 2
            if subtitle
            else (rect.center().y() - line_h // 2)
        )
        painter.setFont(name_font)
        painter.setPen(text_colour)
        painter.drawText(
            QRect(left, top, text_width, line_h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            name_metrics.elidedText(name, Qt.TextElideMode.ElideRight, text_width),
        )
        if subtitle:
            small = QFont(opt.font)
            painter.setFont(small)
            painter.setPen(dim_colour)
            metrics = QFontMetrics(small)
            painter.drawText(
                QRect(left, top + line_h + 2, text_width, metrics.height()),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                metrics.elidedText(subtitle, Qt.TextElideMode.ElideRight, text_width),
            )
        painter.restore()
