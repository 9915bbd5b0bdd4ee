"""Paints a roster row: a section heading with its open/closed arrow, or a person
(indented under it) with presence dot, name, dimmed marks, Admit / Deny on lobby
rows, and a microphone at the end while they are in the meeting's audio (muted,
speaking), with level bars before it showing how loud they are.

Names are drawn with QPainter.drawText, which never interprets markup. The
Admit and Deny buttons of lobby rows are painted by the style and hit-tested
here; the same actions are in the row's context menu for keyboard and screen
reader users.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QMouseEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOption,
    QStyleOptionButton,
    QStyleOptionViewItem,
    QToolTip,
    QWidget,
)

from engine.models import Presence
from ui import plain_text, theme
from ui.audio_glyph import GLYPH, LEVEL_WIDTH, paint_level, paint_mic
from ui.item_painting import draw_row_background
from ui.roster_model import RosterRole, Section

_AnyIndex = QModelIndex | QPersistentModelIndex

PAD = 6
DOT = 10
BUTTON_GAP = 4
#: People rows start this far in, under their heading's arrow.
INDENT = 14
#: Between the level bars and the microphone.
LEVEL_GAP = 3


class LobbyButton(enum.Enum):
    ADMIT = "Admit"
    DENY = "Deny"


class RosterDelegate(QStyledItemDelegate):
    #: The Admit button of a lobby row was clicked (user_id).
    admit_clicked = Signal(str)
    #: The Deny button of a lobby row was clicked (user_id).
    deny_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hover: tuple[QPersistentModelIndex, LobbyButton] | None = None
        self._pressed: tuple[QPersistentModelIndex, LobbyButton] | None = None

    # -- geometry -----------------------------------------------------------

    def sizeHint(self, option: QStyleOptionViewItem, index: _AnyIndex) -> QSize:
        return QSize(160, max(option.fontMetrics.height() + 12, 26))

    def button_rects(
        self, option: QStyleOptionViewItem, index: _AnyIndex
    ) -> dict[LobbyButton, QRect]:
        """Where Admit and Deny are drawn on a lobby row; empty on other rows."""
        if index.data(RosterRole.SECTION) is not Section.LOBBY or index.data(RosterRole.IS_SECTION):
            return {}
        metrics = option.fontMetrics
        rect = option.rect
        height = min(rect.height() - 4, metrics.height() + 8)
        top = rect.top() + (rect.height() - height) // 2
        right = rect.right() - PAD
        rects: dict[LobbyButton, QRect] = {}
        for button in (LobbyButton.DENY, LobbyButton.ADMIT):
            width = metrics.horizontalAdvance(button.value) + 18
            rects[button] = QRect(right - width + 1, top, width, height)
            right -= width + BUTTON_GAP
        return rects

    def button_at(
        self, option: QStyleOptionViewItem, index: _AnyIndex, pos: QPoint
    ) -> LobbyButton | None:
        for button, rect in self.button_rects(option, index).items():
            if rect.contains(pos):
                return button
        return None

    # -- painting -----------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _AnyIndex) -> None:
        if index.data(RosterRole.IS_SECTION):
            self._paint_heading(painter, option, index)
            return
        painter.save()
        opt, text_colour = draw_row_background(self, painter, option, index)
        rect = opt.rect.adjusted(INDENT, 0, 0, 0)
        dim_colour = QColor(text_colour)
        dim_colour.setAlphaF(0.65)

        # Presence dot, ringed in the base colour so it reads on any row background.
        presence = index.data(RosterRole.PRESENCE) or Presence.UNKNOWN
        dot = QRect(rect.left() + PAD, rect.center().y() - DOT // 2 + 1, DOT, DOT)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(dim_colour if presence is Presence.UNKNOWN else Qt.PenStyle.NoPen)
        painter.setBrush(
            Qt.BrushStyle.NoBrush
            if presence is Presence.UNKNOWN
            else QColor(theme.PRESENCE_COLOURS[presence])
        )
        painter.drawEllipse(dot)

        buttons = self.button_rects(opt, index)
        right = min((r.left() for r in buttons.values()), default=rect.right() + 1) - PAD
        if audio := index.data(RosterRole.AUDIO):
            right -= GLYPH
            glyph = QRect(right + 1, rect.center().y() - GLYPH // 2 + 1, GLYPH, GLYPH)
            paint_mic(painter, glyph, audio, dim_colour)
            if not audio.muted:  # muted: the strike-through says it all
                right -= LEVEL_GAP + LEVEL_WIDTH
                bars = QRect(right + 1, glyph.top(), LEVEL_WIDTH, GLYPH)
                paint_level(painter, bars, audio.level, dim_colour)
            right -= PAD
        left = dot.right() + PAD + 2
        metrics = opt.fontMetrics
        name = str(index.data(RosterRole.NAME) or "")
        marks = str(index.data(RosterRole.MARKS) or "")
        available = max(0, right - left)
        marks_width = (
            metrics.horizontalAdvance(marks) + metrics.horizontalAdvance(" ") if marks else 0
        )
        name_room = max(available - marks_width, min(available, metrics.horizontalAdvance("M…")))
        shown_name = metrics.elidedText(name, Qt.TextElideMode.ElideRight, name_room)
        text_rect = QRect(left, rect.top(), available, rect.height())
        flags = (
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextSingleLine
        )
        painter.setFont(opt.font)
        painter.setPen(text_colour)
        painter.drawText(text_rect, flags, shown_name)
        if marks:
            used = metrics.horizontalAdvance(shown_name) + metrics.horizontalAdvance(" ")
            marks_rect = QRect(left + used, rect.top(), max(0, available - used), rect.height())
            painter.setPen(dim_colour)
            painter.drawText(
                marks_rect,
                flags,
                metrics.elidedText(marks, Qt.TextElideMode.ElideRight, marks_rect.width()),
            )
        painter.restore()

        for button, button_rect in buttons.items():
            self._paint_button(painter, opt, index, button, button_rect)

    def _paint_heading(
        self, painter: QPainter, option: QStyleOptionViewItem, index: _AnyIndex
    ) -> None:
        painter.save()
        opt, text_colour = draw_row_background(self, painter, option, index)
        rect = opt.rect
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is not None:  # the style's own arrow, as a tree branch draws it
            arrow = QStyleOption()
            arrow.initFrom(widget)
            arrow.rect = QRect(rect.left() + 2, rect.top(), INDENT, rect.height())
            arrow.palette.setColor(QPalette.ColorRole.ButtonText, text_colour)
            arrow.palette.setColor(QPalette.ColorRole.WindowText, text_colour)
            element = (
                QStyle.PrimitiveElement.PE_IndicatorArrowDown
                if index.data(RosterRole.EXPANDED)
                else QStyle.PrimitiveElement.PE_IndicatorArrowRight
            )
            style.drawPrimitive(element, arrow, painter, widget)
        font = QFont(opt.font)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(text_colour)
        text_rect = rect.adjusted(INDENT + PAD, 0, -PAD, 0)
        title = QFontMetrics(font).elidedText(
            str(index.data() or ""), Qt.TextElideMode.ElideRight, text_rect.width()
        )
        painter.drawText(
            text_rect,
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextSingleLine,
            title,
        )
        painter.restore()

    def _paint_button(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: _AnyIndex,
        button: LobbyButton,
        rect: QRect,
    ) -> None:
        widget = option.widget
        style = widget.style() if widget is not None else None
        if style is None:
            return
        opt = QStyleOptionButton()
        opt.rect = rect
        opt.text = button.value
        opt.palette = option.palette
        opt.fontMetrics = option.fontMetrics
        opt.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Raised
        key = (QPersistentModelIndex(index), button)
        if self._hover == key:
            opt.state |= QStyle.StateFlag.State_MouseOver
        if self._pressed == key:
            opt.state |= QStyle.StateFlag.State_Sunken
            opt.state &= ~QStyle.StateFlag.State_Raised
        painter.save()
        style.drawControl(QStyle.ControlElement.CE_PushButton, opt, painter, widget)
        painter.restore()

    # -- interaction --------------------------------------------------------

    def editorEvent(
        self,
        event: QEvent,
        model: QAbstractItemModel,
        option: QStyleOptionViewItem,
        index: _AnyIndex,
    ) -> bool:
        kind = event.type()
        if not isinstance(event, QMouseEvent) or kind not in (
            QEvent.Type.MouseMove,
            QEvent.Type.MouseButtonPress,
            QEvent.Type.MouseButtonRelease,
            QEvent.Type.MouseButtonDblClick,
        ):
            return super().editorEvent(event, model, option, index)
        button = self.button_at(option, index, event.position().toPoint())
        key = (QPersistentModelIndex(index), button) if button else None
        if kind is QEvent.Type.MouseMove:
            if key != self._hover:
                self._hover = key
                self._repaint(option)
            return False
        if event.button() != Qt.MouseButton.LeftButton:
            return super().editorEvent(event, model, option, index)
        if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick):
            self._pressed = key
            if key is not None:
                self._repaint(option)
                return True
            return super().editorEvent(event, model, option, index)
        pressed, self._pressed = self._pressed, None
        if key is not None and key == pressed:
            self._repaint(option)
            user_id = str(index.data(RosterRole.USER_ID) or "")
            if user_id:
                (self.admit_clicked if button is LobbyButton.ADMIT else self.deny_clicked).emit(
                    user_id
                )
            return True
        if pressed is not None:
            self._repaint(option)
        return super().editorEvent(event, model, option, index)

    def clear_hover(self) -> None:
        self._hover = None
        self._pressed = None

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: _AnyIndex,
    ) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            button = self.button_at(option, index, event.pos())
            if button is not None:
                name = str(index.data(RosterRole.NAME) or "")
                text = (
                    f"Let {name} into the meeting"
                    if button is LobbyButton.ADMIT
                    else f"Don't let {name} in"
                )
                QToolTip.showText(event.globalPos(), plain_text.tooltip(text), view)
                return True
        return super().helpEvent(event, view, option, index)

    @staticmethod
    def _repaint(option: QStyleOptionViewItem) -> None:
        widget = option.widget
        if isinstance(widget, QAbstractItemView):
            widget.viewport().update(option.rect)
