"""A stack of toasts at the top of the main window (invitations, calls ringing).

Each toast is keyed (a room or call ID), the latest for a key replaces an
earlier one, and the stack hides when empty. A desktop notification goes out
when the main window is not in front, with the toast's buttons where the desktop
draws them (ui/desktop_notifier.py); it closes when its toast goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ui.desktop_notifier import DesktopNotifier
from ui.tasks import TaskGroup

ToastT = TypeVar("ToastT", bound=QWidget)


class ToastStack(QWidget, Generic[ToastT]):
    #: A desktop notification was shown (the toast's key).
    notified = Signal(str)
    #: The desktop notification was clicked: bring the main window forward.
    show_requested = Signal()

    def __init__(self, object_name: str, accessible_name: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setAccessibleName(accessible_name)
        self._tasks = TaskGroup()
        self._toasts: dict[str, ToastT] = {}
        self._notifier = DesktopNotifier(self)
        self._notifier.clicked.connect(self.show_requested)
        self._notifier.action_invoked.connect(self._on_notification_action)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)

    def toast(self, key: str) -> ToastT | None:
        return self._toasts.get(key)

    def toasts(self) -> list[ToastT]:
        """The toasts shown, oldest first."""
        return list(self._toasts.values())

    def remove(self, key: str) -> None:
        toast = self._toasts.pop(key, None)
        self._notifier.close(key)
        if toast is not None:
            toast.hide()
            toast.deleteLater()
        self._stack_changed()

    async def wait_idle(self) -> None:
        await self._tasks.wait_idle()

    def _put(self, key: str, toast: ToastT) -> ToastT:
        """Show ``toast`` for ``key``, in place of an earlier one for it."""
        self.remove(key)
        self._toasts[key] = toast
        self._layout.addWidget(toast)
        self._stack_changed()
        return toast

    def _notify(
        self,
        key: str,
        title: str,
        text: str,
        duration_ms: int,
        actions: Sequence[tuple[str, str]] = (),
        *,
        urgent: bool = False,
    ) -> None:
        """The desktop notification for ``key``'s toast; ``actions``: (action key, label)
        buttons, answered in ``_on_notification_action``."""
        shown = self._notifier.notify(
            self.window(), title, text, duration_ms, key=key, actions=actions, urgent=urgent
        )
        if shown:
            self.notified.emit(key)

    def _on_notification_action(self, key: str, action: str) -> None:
        """A button of ``key``'s desktop notification was clicked (stacks with buttons)."""

    def _stop(self) -> None:
        """The window is closing: no more work, no tray icon left behind."""
        self._tasks.cancel_all()
        self._notifier.hide()

    def _stack_changed(self) -> None:
        self.setVisible(bool(self._toasts))
