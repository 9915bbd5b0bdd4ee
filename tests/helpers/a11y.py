"""Accessibility checks shared by the GUI tests."""

from __future__ import annotations

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
