"""The conversation list widget: opens a conversation by mouse, keyboard or menu.

Qt's accessibility tree offers a list item only "Toggle" (select), never
"open", and adding actions to item interfaces is out of reach from Python.
So everything that opens a conversation also exists as a real control: the
main window's Open button (Press, for the selected row), Enter and Space, and
a context menu (Menu key or Shift+F10) with Open.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QContextMenuEvent, QKeyEvent
from PySide6.QtWidgets import QListView, QMenu, QWidget

from ui.conversation_list_model import ConversationRole
from ui.item_menus import menu_target


class ConversationListView(QListView):
    #: A conversation is to be opened (its index).
    open_requested = Signal(QModelIndex)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.last_menu: QMenu | None = None

    def chosen_index(self) -> QModelIndex:
        """The conversation an Open acts on: the selected one, else the current one.

        An assistive tool's "Toggle" selects a row without making it current.
        """
        model = self.selectionModel()
        selected = model.selectedIndexes() if model is not None else []
        return selected[0] if selected else self.currentIndex()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if (
            event.key() == Qt.Key.Key_Space
            and event.modifiers()
            in (
                Qt.KeyboardModifier.NoModifier,
                Qt.KeyboardModifier.KeypadModifier,
            )
            and self.currentIndex().isValid()
        ):
            self.open_requested.emit(self.currentIndex())
            event.accept()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        index, where = menu_target(self, event)
        if not index.isValid():
            event.ignore()
            return
        name = str(index.data(ConversationRole.CONVERSATION).display_name)
        menu = QMenu(self)
        menu.setAccessibleName(f"Actions for {name}")
        action = menu.addAction("&Open")
        action.setToolTip(f"Open the conversation with {name}")
        action.triggered.connect(lambda: self.open_requested.emit(QModelIndex(index)))
        menu.setDefaultAction(action)
        if self.last_menu is not None:
            self.last_menu.deleteLater()
        self.last_menu = menu
        menu.popup(where)
        event.accept()
