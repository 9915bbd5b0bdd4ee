"""Creating the first account on this computer's server through the welcome page."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.helpers.qt_async import wait_until
from ui.controller import AppController
from ui.main_window import MainWindow
from ui.welcome import WelcomePage


async def create_local_account(
    controller: AppController, qtbot, user: str = "ada", timeout: float = 60
) -> MainWindow:
    """Type a user name and password into the started controller's local account
    page, press Create account, and wait for the main window."""
    page = controller.welcome.local_page
    assert controller.welcome.current_page() is WelcomePage.LOCAL_ACCOUNT
    for edit, text in (
        (page.user_edit, user),
        (page.password_edit, "correct horse"),
        (page.confirm_edit, "correct horse"),
    ):
        edit.clear()
        qtbot.keyClicks(edit, text)
    assert page.submit_button.isVisible() and page.submit_button.isEnabled()
    qtbot.mouseClick(page.submit_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: controller.main_window is not None, timeout, "no main window")
    assert controller.main_window is not None
    return controller.main_window
