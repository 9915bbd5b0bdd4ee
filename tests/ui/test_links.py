"""Links open Confero: the command line, and a second launch handing its link to
the running instance (two real processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import shiboken6
from nio import AsyncClient, LoginResponse
from PySide6.QtCore import Qt
from PySide6.QtNetwork import QLocalSocket
from PySide6.QtTest import QTest

from engine.conference_models import AccessLevel, SessionState
from engine.engine import Engine
from engine.errors import InvalidMeetingLink, NotAMeeting
from engine.meeting_links import matrix_uri
from tests.helpers.engines import signed_in_engine
from tests.helpers.qt_async import wait_until
from tests.helpers.users import TestUser
from ui.app import parse_arguments
from ui.controller import AppController
from ui.main_window import MainWindow
from ui.single_instance import SingleInstance, server_name

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
SLOW = 30.0


def _env() -> dict[str, str]:
    # The suite's environment: in-memory keyring, temporary XDG folders.
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}


def _launch(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    """``confero --data-dir DATA_DIR ARGS`` as a real process."""
    return subprocess.Popen(
        [sys.executable, "-m", "ui.app", "--data-dir", str(data_dir), *args],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def _exit_of(process: subprocess.Popen[str]) -> tuple[int, str]:
    """Wait (letting the loop run: we are the instance it talks to) for the exit."""
    try:
        await wait_until(lambda: process.poll() is not None, SLOW, "the launch did not exit")
    finally:
        if process.poll() is None:
            process.kill()
    _out, err = process.communicate()
    return process.returncode, err


async def _signed_in(make_controller, user: TestUser, data_dir: Path) -> AppController:
    controller = make_controller(data_dir)
    await controller.start()
    welcome = controller.welcome
    QTest.mouseClick(welcome.choice_page.remote_button, Qt.MouseButton.LeftButton)
    page = welcome.sign_in_page
    QTest.keyClicks(page.address_edit, user.homeserver_url)
    QTest.keyClicks(page.user_edit, user.localpart)
    QTest.keyClicks(page.password_edit, user.password)
    QTest.mouseClick(page.submit_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: controller.main_window is not None, SLOW, "not signed in")
    return controller


async def _open_meeting(engine: Engine, subject: str) -> str:
    room_id = await engine.conferences.meet_now(subject)
    await engine.conferences.set_options(room_id, access_level=AccessLevel.EVERYONE)
    return room_id


def _connected(engine: Engine, room_id: str) -> bool:
    session = engine.conferences.session(room_id)
    return session is not None and session.state is SessionState.CONNECTED


def _running_instance(data_dir: Path, controller: AppController) -> SingleInstance:
    """What ui/app.py sets up for the running instance."""
    instance = SingleInstance(data_dir)
    assert instance.claim(), "no other instance holds this data folder"
    instance.listen()
    instance.link_received.connect(controller.open_link)
    return instance


async def test_a_second_launch_hands_its_link_over_and_exits(
    make_controller, make_user, tmp_path: Path, qtbot
) -> None:
    alice = await signed_in_engine(make_user("alice", "Alice"), tmp_path / "alice")
    room_id = await _open_meeting(alice, "Handed over")
    link = alice.conferences.details(room_id).link
    data_dir = tmp_path / "bob"
    controller = await _signed_in(make_controller, make_user("bob", "Bob"), data_dir)
    instance = _running_instance(data_dir, controller)
    main = controller.main_window
    assert isinstance(main, MainWindow)
    main.showMinimized()
    try:
        # A connection that never finishes its message holds nothing up.
        silent = QLocalSocket()
        silent.connectToServer(server_name(data_dir))
        silent.write(b'{"link": ')

        status, err = await _exit_of(_launch(data_dir, link))
        assert status == 0, err
        assert "Traceback" not in err, err
        engine = controller.engine
        assert engine is not None
        await wait_until(lambda: _connected(engine, room_id), SLOW, "not joined")
        await wait_until(lambda: main.windows.find(room_id) is not None, SLOW, "no window")
        assert not main.isMinimized() and main.isVisible()
        assert controller.pending_meeting is None
        silent.abort()

        # No link: the running instance only comes forward.
        main.showMinimized()
        status, err = await _exit_of(_launch(data_dir))
        assert status == 0, err
        await wait_until(lambda: not main.isMinimized(), SLOW, "not raised")

        # A bad link on the second command line: the running one says why.
        status, err = await _exit_of(_launch(data_dir, "https://example.org/meeting/42"))
        assert status == 0, err
        await wait_until(
            lambda: InvalidMeetingLink.default_message in main.notice_banner.text(), SLOW
        )
        assert all(shiboken6.isValid(w) for w in main.windows.all())
    finally:
        instance.release()
        main.windows.close_all()
        await alice.session.close()


async def test_two_data_folders_are_two_instances(tmp_path: Path, qtbot) -> None:
    first, second = SingleInstance(tmp_path / "one"), SingleInstance(tmp_path / "two")
    again = SingleInstance(tmp_path / "one")
    try:
        assert first.claim() and second.claim()
        assert first.name != second.name
        assert not again.claim(), "the same folder is taken"
    finally:
        first.release()
        second.release()
    assert again.claim(), "free again once released"
    again.release()


_CRASHING_INSTANCE = """
import sys
from pathlib import Path
from PySide6.QtCore import QCoreApplication
from ui.single_instance import SingleInstance
app = QCoreApplication([])
instance = SingleInstance(Path(sys.argv[1]))
assert instance.claim()
instance.listen()
print("listening", flush=True)
app.exec()
"""


async def test_a_crashed_instance_leaves_nothing_in_the_way(tmp_path: Path, qtbot) -> None:
    data_dir = tmp_path / "data"
    crashed = subprocess.Popen(
        [sys.executable, "-c", _CRASHING_INSTANCE, str(data_dir)],
        env=_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert crashed.stdout is not None and crashed.stdout.readline() == "listening\n"
        assert not SingleInstance(data_dir).claim(), "it holds the folder while it runs"
    finally:
        crashed.send_signal(signal.SIGKILL)
        crashed.wait()
    # Its lock file and its socket are still there; a new start takes over.
    assert (data_dir / "instance.lock").exists()
    instance = SingleInstance(data_dir)
    received: list[str] = []
    instance.link_received.connect(received.append)
    try:
        assert instance.claim()
        instance.listen()
        status, err = await _exit_of(_launch(data_dir, "1234567"))
        assert status == 0, err
        await wait_until(lambda: received == ["1234567"], SLOW)
    finally:
        instance.release()


async def test_bad_links_on_the_command_line_say_why(
    make_controller, make_user, tmp_path: Path, qtbot
) -> None:
    alice_user = make_user("alice", "Alice")
    alice = await signed_in_engine(alice_user, tmp_path / "alice")
    plain = AsyncClient(alice_user.homeserver_url, alice_user.user_id)
    assert isinstance(await plain.login(alice_user.password), LoginResponse)
    localpart = f"plainroom{os.getpid()}{id(plain) % 100000}"
    chat = await plain.room_create(alias=localpart, name="Just a room", is_direct=False)
    await plain.room_put_state(chat.room_id, "m.room.join_rules", {"join_rule": "public"})
    gone = await _open_meeting(alice, "Gone soon")
    gone_id = alice.conferences.details(gone).conference_id
    await alice.session.api("DELETE", f"/_matrix/client/v3/directory/room/%23{gone_id}:localhost")

    controller = await _signed_in(make_controller, make_user("bob", "Bob"), tmp_path / "bob")
    main = controller.main_window
    assert main is not None
    engine = controller.engine
    assert engine is not None

    async def notice_for(link: str) -> str:
        main.notice_banner.clear()
        controller.open_link(link)  # what the command line and a second launch do
        await wait_until(lambda: main.notice_banner.text(), SLOW, f"no message for {link}")
        return main.notice_banner.text()

    try:
        assert InvalidMeetingLink.default_message in await notice_for("matrix:u/bob:localhost")
        assert NotAMeeting.default_message in await notice_for(f"#{localpart}:localhost")
        assert f"no meeting with ID {gone_id}" in await notice_for(gone_id)
        assert main.windows.all() == []
        assert chat.room_id not in (engine.session.require_client().rooms or {})
    finally:
        await plain.close()
        await alice.session.close()


async def test_every_kind_of_link_opens_the_meeting(
    make_controller, make_user, tmp_path: Path, qtbot
) -> None:
    alice = await signed_in_engine(make_user("alice", "Alice"), tmp_path / "alice")
    controller = await _signed_in(make_controller, make_user("bob", "Bob"), tmp_path / "bob")
    main = controller.main_window
    engine = controller.engine
    assert main is not None and engine is not None
    forms = {
        "matrix:": lambda d: matrix_uri(d.alias),
        "matrix.to": lambda d: d.link,
        "alias": lambda d: d.alias,
        "meeting ID": lambda d: d.conference_id,
    }
    try:
        for name, form in forms.items():
            room_id = await _open_meeting(alice, f"By {name}")
            link = form(alice.conferences.details(room_id))
            # As typed after ``confero`` (Qt's own options around it stay Qt's).
            assert parse_arguments(["-style", "fusion", link])[0].meeting == link
            controller.open_link(link)
            await wait_until(lambda r=room_id: _connected(engine, r), SLOW, f"{name}: not joined")
            await wait_until(lambda r=room_id: main.windows.find(r) is not None, SLOW)
        assert not main.notice_banner.text()
    finally:
        main.windows.close_all()
        await alice.session.close()


async def test_a_link_handed_over_before_sign_in_opens_once_signed_in(
    make_controller, make_user, tmp_path: Path, qtbot
) -> None:
    alice = await signed_in_engine(make_user("alice", "Alice"), tmp_path / "alice")
    room_id = await _open_meeting(alice, "Waiting for sign-in")
    link = alice.conferences.details(room_id).link
    bob = make_user("bob", "Bob")
    data_dir = tmp_path / "bob"
    controller = make_controller(data_dir)
    await controller.start()
    instance = _running_instance(data_dir, controller)
    welcome = controller.welcome
    welcome.showMinimized()
    try:
        # Still on the welcome window: the link waits for the sign-in.
        status, err = await _exit_of(_launch(data_dir, link))
        assert status == 0, err
        await wait_until(lambda: controller.pending_meeting == link, SLOW, "link not handed")
        assert controller.main_window is None
        assert welcome.isVisible() and not welcome.isMinimized()

        QTest.mouseClick(welcome.choice_page.remote_button, Qt.MouseButton.LeftButton)
        page = welcome.sign_in_page
        QTest.keyClicks(page.address_edit, bob.homeserver_url)
        QTest.keyClicks(page.user_edit, bob.localpart)
        QTest.keyClicks(page.password_edit, bob.password)
        QTest.mouseClick(page.submit_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: controller.main_window is not None, SLOW, "not signed in")
        main = controller.main_window
        engine = controller.engine
        assert isinstance(main, MainWindow) and engine is not None
        await wait_until(lambda: _connected(engine, room_id), SLOW, "not joined")
        await wait_until(lambda: main.windows.find(room_id) is not None, SLOW, "no window")
        assert controller.pending_meeting is None
    finally:
        instance.release()
        if controller.main_window is not None:
            controller.main_window.windows.close_all()
        await alice.session.close()
