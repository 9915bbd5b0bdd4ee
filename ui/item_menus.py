"""Where an item view's context menu is for: the row under the mouse, or the current one.

The Menu key and Shift+F10 send a keyboard context-menu event with no useful
position; the menu then belongs to the current row and opens over its middle.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QAbstractItemView


def menu_target(view: QAbstractItemView, event: QContextMenuEvent) -> tuple[QModelIndex, QPoint]:
    """The row the menu acts on (invalid when none) and the global point to show it at."""
    if event.reason() == QContextMenuEvent.Reason.Mouse:
        return view.indexAt(event.pos()), event.globalPos()
    index = view.currentIndex()
    rect = view.visualRect(index)
    return index, view.viewport().mapToGlobal(rect.center() if index.isValid() else QPoint())
