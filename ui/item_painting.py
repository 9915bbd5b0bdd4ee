"""What every custom-painted list row starts with: the style's own background."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem


def draw_row_background(
    delegate: QStyledItemDelegate,
    painter: QPainter,
    option: QStyleOptionViewItem,
    index: QModelIndex | QPersistentModelIndex,
) -> tuple[QStyleOptionViewItem, QColor]:
    """Draw background, selection and focus as the style would; return the option and text colour.

    The returned colour follows selection and the enabled state, so text painted
    with it reads on the row in light and dark palettes alike.
    """
    opt = QStyleOptionViewItem(option)
    delegate.initStyleOption(opt, index)
    widget = opt.widget
    style = widget.style() if widget is not None else None
    opt.text = ""
    opt.icon = QIcon()
    if style is not None:
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
    selected = bool(opt.state & QStyle.StateFlag.State_Selected)
    group = (
        QPalette.ColorGroup.Normal
        if opt.state & QStyle.StateFlag.State_Enabled
        else QPalette.ColorGroup.Disabled
    )
    text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
    return opt, opt.palette.color(group, text_role)
