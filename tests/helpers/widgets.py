"""Driving widgets as a user does: a click on an enabled control, typing into a field."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget


def click(qtbot, widget: QWidget) -> None:
    assert widget.isEnabled(), f"{widget.accessibleName()} is disabled"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def type_into(qtbot, edit: QWidget, text: str) -> None:
    edit.clear()
    qtbot.keyClicks(edit, text)
