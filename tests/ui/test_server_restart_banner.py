"""The banner when the meeting server on this computer dies: restarting, back, or failed.

The app's own controller starts the embedded server and its supervisor (with
short timings); the test kills that server like a crash or the OOM killer would.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from engine.homeserver_supervisor import ServerState, SupervisorTiming
from engine.models import ConnectionState
from tests.helpers.a11y import unnamed_controls
from tests.helpers.local_accounts import create_local_account
from tests.helpers.qt_async import wait_for_signal, wait_until
from tests.ui.conftest import MakeController
from ui.banner import BannerKind
from ui.controller import AppController
from ui.main_window import SERVER_FAILED_TEXT, SERVER_RESTARTING_TEXT, MainWindow
from ui.server_log_dialog import ServerLogDialog

pytestmark = [pytest.mark.integration, pytest.mark.gui]

FAST = SupervisorTiming(check_interval_s=0.2, check_timeout_s=0.5, backoff_s=(0.3, 0.3, 0.3))


def click(qtbot, widget: QWidget) -> None:
    assert widget.isVisible() and widget.isEnabled(), f"{widget.accessibleName()} is not usable"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


async def signed_in_locally(controller: AppController, qtbot) -> MainWindow:
    await controller.start()
    main = await create_local_account(controller, qtbot)
    assert main is not None and controller.supervisor is not None
    assert controller.supervisor.state is ServerState.RUNNING
    assert main.server_banner.text() == ""
    return main


def connected_and_quiet(main: MainWindow) -> bool:
    return (
        main.engine.session.connection is ConnectionState.CONNECTED
        and main.server_banner.isHidden()
        and main.connection_banner.isHidden()
    )


async def test_killed_server_shows_restarting_then_the_banner_goes(
    make_controller: MakeController, tmp_path: Path, qtbot
) -> None:
    controller = make_controller(data_dir=tmp_path / "local", local=True, supervisor_timing=FAST)
    main = await signed_in_locally(controller, qtbot)
    bridge = controller.bridge
    assert bridge is not None and controller.homeserver is not None
    pid = controller.homeserver.pid
    assert pid is not None

    # While the server restarts, "Connection lost" must never show beside it.
    seen_connection_texts: list[str] = []
    bridge.connection_state_changed.connect(
        lambda *_: seen_connection_texts.append(main.connection_banner.text())
    )
    restarting = asyncio.ensure_future(wait_for_signal(bridge.homeserver_restarting, 30))
    os.kill(pid, signal.SIGKILL)
    await restarting
    assert main.server_banner.text() == SERVER_RESTARTING_TEXT
    assert main.server_banner.kind is BannerKind.WARNING
    assert main.connection_banner.isHidden()

    await wait_until(lambda: connected_and_quiet(main), 60, "the banner did not go away")
    assert controller.homeserver.pid not in (None, pid)
    assert seen_connection_texts and all(text == "" for text in seen_connection_texts)


async def test_failed_restart_offers_show_log_and_try_again(
    make_controller: MakeController, tmp_path: Path, qtbot
) -> None:
    controller = make_controller(data_dir=tmp_path / "local", local=True, supervisor_timing=FAST)
    main = await signed_in_locally(controller, qtbot)
    server, bridge = controller.homeserver, controller.bridge
    assert server is not None and bridge is not None and server.port is not None
    pid = server.pid
    assert pid is not None

    failed = asyncio.ensure_future(wait_for_signal(bridge.homeserver_failed, 60))
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        os.kill(pid, signal.SIGKILL)

        def take_port() -> bool:  # as soon as the dead server lets go of it
            try:
                squatter.bind(("127.0.0.1", server.port))
            except OSError:
                return False
            squatter.listen()
            return True

        await wait_until(take_port, 10, "the port stayed busy")
        await failed
        banner = main.server_banner
        assert banner.kind is BannerKind.ERROR
        assert banner.text().startswith(SERVER_FAILED_TEXT)
        assert f"Another program is using its port ({server.port})." in banner.text()
        assert main.connection_banner.isHidden()
        assert banner.action_button.text() == "Try again"
        assert banner.secondary_button.text() == "Show log"
        assert banner.action_button.toolTip() and banner.secondary_button.toolTip()
        assert unnamed_controls(main) == []

        click(qtbot, banner.secondary_button)
        dialog = main.findChild(ServerLogDialog)
        assert dialog is not None and dialog.isVisible()
        await wait_until(lambda: dialog.loaded, 10, "the log did not load")
        text = dialog.text_view.toPlainText()
        assert "Address already in use" in text
        assert len(text.splitlines()) <= 200 + 2
        secret = (server.data_dir / "secrets" / "registration_shared_secret").read_text().strip()
        assert secret not in text
        assert dialog.text_view.isReadOnly()
        assert dialog.text_view.horizontalScrollBar().value() == 0  # the lines' starts show
        assert (
            dialog.text_view.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
        )
        assert unnamed_controls(dialog) == []
        click(qtbot, dialog.copy_button)
        assert QApplication.clipboard().text() == text
        click(qtbot, dialog.close_button)
        await wait_until(lambda: not dialog.isVisible(), 5)
    finally:
        squatter.close()

    click(qtbot, main.server_banner.action_button)  # Try again
    assert main.server_banner.text() == SERVER_RESTARTING_TEXT
    await wait_until(lambda: connected_and_quiet(main), 60, "the banner did not go away")
    assert controller.supervisor is not None
    assert controller.supervisor.state is ServerState.RUNNING
