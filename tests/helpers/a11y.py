"""Accessibility checks shared by the GUI tests."""

from __future__ import annotations

from PySide6.QtGui import QAccessible, QAccessibleInterface
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QLineEdit,
    QProgressBar,
    QWidget,
)

CONTROLS = (QAbstractButton, QLineEdit, QComboBox, QAbstractItemView, QProgressBar)


def unnamed_controls(root: QWidget) -> list[str]:
    """Inputs and buttons under ``root`` that a screen reader could not name."""
    widgets = [root, *root.findChildren(QWidget)]
    return [
        f"{type(w).__name__} {w.objectName()!r}"
        for w in widgets
        if isinstance(w, CONTROLS)
        and not w.accessibleName()
        and not w.objectName().startswith("qt_")  # Qt's own internals (scroll bars, popups)
    ]


def item_interfaces(view: QAbstractItemView) -> list[QAccessibleInterface]:
    """The accessibility tree's items of a list or tree view (rows, not headers)."""
    root = QAccessible.queryAccessibleInterface(view)
    assert root is not None, "the view has no accessible interface"
    children = [root.child(i) for i in range(root.childCount())]
    return [
        c
        for c in children
        if c is not None and c.role() in (QAccessible.Role.ListItem, QAccessible.Role.TreeItem)
    ]


def item_named(view: QAbstractItemView, prefix: str) -> QAccessibleInterface:
    """The item whose accessible name starts with ``prefix``."""
    items = item_interfaces(view)
    for item in items:
        if item.text(QAccessible.Text.Name).startswith(prefix):
            return item
    names = [i.text(QAccessible.Text.Name) for i in items]
    raise AssertionError(f"no item named {prefix!r} in {names}")


def actions_of(target: QWidget | QAccessibleInterface) -> list[str]:
    """What an assistive tool can do with a widget or an item."""
    iface = QAccessible.queryAccessibleInterface(target) if isinstance(target, QWidget) else target
    actions = iface.actionInterface() if iface is not None else None
    return list(actions.actionNames()) if actions is not None else []


def do_action(target: QWidget | QAccessibleInterface, name: str) -> None:
    """Do ``name`` through the accessibility interface, as a screen reader would."""
    assert name in actions_of(target), f"{name!r} not offered: {actions_of(target)}"
    iface = QAccessible.queryAccessibleInterface(target) if isinstance(target, QWidget) else target
    iface.actionInterface().doAction(name)
