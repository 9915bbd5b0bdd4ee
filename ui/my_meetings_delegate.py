"""Paints one row of My meetings: the subject and the details line (ID, when, access).

Text is drawn with QPainter.drawText, which never interprets markup, so a
subject such as ``<b>x</b>`` shows exactly as typed.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from engine.meeting_summary_models import ConferenceSummary
from ui import theme
from ui.item_painting import draw_row_background
from ui.my_meetings_model import MeetingRole

_ICON = 28
_PAD = 8
_AnyIndex = QModelIndex | QPersistentModelIndex


class MyMeetingsDelegate(QStyledItemDelegate):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    def sizeHint(self, option: QStyleOptionViewItem, index: _AnyIndex) -> QSize:
        return QSize(200, max(_ICON, option.fontMetrics.height() * 2 + 4) + 2 * _PAD)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _AnyIndex) -> None:
        summary = index.data(MeetingRole.SUMMARY)
        if not isinstance(summary, ConferenceSummary):
            return
        painter.save()
        opt, text_colour = draw_row_background(self, painter, option, index)
        rect = opt.rect
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        dim_colour = QColor(text_colour)
        dim_colour.setAlphaF(0.7 if not summary.expired else 0.55)

        icon_rect = QRect(rect.left() + _PAD, rect.center().y() - _ICON // 2, _ICON, _ICON)
        theme.icon("conference").paint(painter, icon_rect)
        left = icon_rect.right() + _PAD + 2
        right = rect.right() - _PAD
        bold = QFont(opt.font)
        bold.setBold(True)
        metrics = QFontMetrics(bold)
        line_h = metrics.height()
        top = rect.center().y() - (line_h * 2 + 2) // 2

        title_right = right
        status = str(index.data(MeetingRole.STATUS) or "")
        if status:
            small_bold = QFont(opt.font)
            small_bold.setBold(summary.joined)
            status_metrics = QFontMetrics(small_bold)
            status_w = status_metrics.horizontalAdvance(status)
            painter.setFont(small_bold)
            painter.setPen(text_colour if summary.joined or selected else dim_colour)
            painter.drawText(
                QRect(right - status_w, top, status_w, line_h),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                status,
            )
            title_right = right - status_w - 2 * _PAD
        subject = summary.subject
        if summary.personal and "personal" not in subject.lower():
            subject = f"{subject} (personal)"
        width = max(0, title_right - left)
        painter.setFont(bold)
        painter.setPen(dim_colour if summary.expired and not selected else text_colour)
        painter.drawText(
            QRect(left, top, width, line_h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            metrics.elidedText(subject, Qt.TextElideMode.ElideRight, width),
        )
        small = QFont(opt.font)
        small_metrics = QFontMetrics(small)
        details = str(index.data(MeetingRole.DETAILS) or "")
        width = max(0, right - left)
        painter.setFont(small)
        painter.setPen(dim_colour)
        painter.drawText(
            QRect(left, top + line_h + 2, width, small_metrics.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            small_metrics.elidedText(details, Qt.TextElideMode.ElideRight, width),
        )
        painter.restore()
