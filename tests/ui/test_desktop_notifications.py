"""Native desktop notifications with buttons, over a real D-Bus.

Each test starts a private session bus (dbus-daemon) and, on it, a small notification
server of the tests' own (tests/helpers/notification_server.py, speaking
org.freedesktop.Notifications as a desktop's does, strict about the call's D-Bus
types). The app's notifier finds it by DBUS_SESSION_BUS_ADDRESS. Calls and
invitations come from second engines on the session's Synapse; a click on a
notification's button is the server's ActionInvoked, as a desktop sends it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QWidget

from engine.calls.call_models import AvModalityState
from engine.conference_models import SessionState
from tests.helpers.desktop_bus import DesktopBus, Event, actions_of
from tests.helpers.gui_people import People
from tests.helpers.qt_async import wait_until
from tests.ui.test_call_gui import Callers, callers, conversation, state
from tests.ui.test_meetings import SLOW, click
from ui.freedesktop_notifications import FreedesktopNotifications, notification

pytestmark = [pytest.mark.integration, pytest.mark.gui]
__all__ = ["callers"]  # the fixture, used by name


@pytest.fixture
def desktop_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DesktopBus]:
    """A private session bus with the test notification server on it."""
    bus = DesktopBus(tmp_path / "dbus")
    bus.base.mkdir()
    bus.start()
    try:
        bus.start_server()
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
        yield bus
    finally:
        bus.stop()


def in_front(qtbot) -> QWidget:
    """Another app's window in front: the main window is behind it, as when notified."""
    other = QWidget()
    other.setWindowTitle("Another app")
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    QApplication.setActiveWindow(other)
    return other


def one_notification(bus: DesktopBus, words: str) -> Event:
    found = bus.notifications(lambda e: words in e["body"])
    assert len(found) == 1, bus.events
    return found[0]


async def test_an_incoming_call_notifies_with_answer_and_decline(
    callers: Callers, desktop_bus: DesktopBus, qtbot
) -> None:
    alice, bob = await callers("Alice", main_window=False), await callers("Bob")
    room_id, _window = await conversation(alice, bob)
    in_front(qtbot)
    assert bob.main is not None and not bob.main.isActiveWindow()
    click(alice.bar(room_id).call_button)

    # Bob's desktop shows who calls, with Answer and Decline.
    await wait_until(lambda: desktop_bus.notifications(), SLOW)
    shown = one_notification(desktop_bus, "Alice is calling you")
    assert shown["summary"] == "Incoming call" and shown["app_name"] == "Confero"
    assert ("answer", "Answer") in actions_of(shown)
    assert ("decline", "Decline") in actions_of(shown)
    assert "urgency" in shown["hints"]  # stays up while it rings
    assert len(bob.main.call_toasts.toasts()) == 1  # and the toast in the window

    # Answer on the notification: the call connects on both sides, the toast goes.
    desktop_bus.invoke(shown["id"], "answer")
    await wait_until(
        lambda: (
            state(alice, room_id) is AvModalityState.CONNECTED
            and state(bob, room_id) is AvModalityState.CONNECTED
        ),
        SLOW,
    )
    await wait_until(lambda: bob.windows.find(room_id) is not None, SLOW)  # his window opened
    await wait_until(lambda: not bob.main.call_toasts.toasts(), SLOW)
    await wait_until(lambda: not bob.main.call_toasts.ringing, SLOW)
    click(bob.bar(room_id).hang_up_button)
    await wait_until(lambda: alice.bar(room_id).text() == "Call ended: Bob hung up", SLOW)

    # Decline on the next call's notification: Alice is told Bob declined.
    click(alice.bar(room_id).dismiss_button)
    in_front(qtbot)
    click(alice.bar(room_id).call_button)
    await wait_until(lambda: len(desktop_bus.notifications()) == 2, SLOW)
    second = desktop_bus.notifications()[-1]
    desktop_bus.invoke(second["id"], "decline")
    await wait_until(lambda: alice.bar(room_id).text() == "Call ended: Bob declined", SLOW)
    await wait_until(lambda: not bob.main.call_toasts.toasts(), SLOW)
    await callers.close()


async def test_a_call_answered_on_another_device_closes_its_notification(
    callers: Callers, desktop_bus: DesktopBus, qtbot
) -> None:
    alice = await callers("Alice", main_window=False)
    bob = await callers("Bob")
    bobs_phone = await callers("Bob", main_window=False, user=bob.user)
    assert bob.main is not None
    room_id, _window = await conversation(alice, bob)
    in_front(qtbot)
    click(alice.bar(room_id).call_button)
    await wait_until(lambda: desktop_bus.notifications(), SLOW)
    shown = one_notification(desktop_bus, "Alice is calling you")
    call = alice.engine.calls.call_in(room_id)
    assert call is not None
    await wait_until(lambda: bobs_phone.engine.calls.call(call.call_id) is not None, SLOW)
    await bobs_phone.engine.calls.answer(call.call_id)
    # Answered elsewhere: the toast goes, and the notification is taken back.
    await wait_until(lambda: desktop_bus.closed(shown["id"]), SLOW)
    assert not bob.main.call_toasts.toasts()
    await callers.close()


async def test_an_invitation_notifies_with_join_and_join_works(
    people: People, desktop_bus: DesktopBus, qtbot
) -> None:
    alice = await people("Alice")
    bob = await people("Bob", main_window=True)
    assert bob.main is not None
    room_id = await alice.engine.conferences.meet_now("Budget review")
    other = await alice.engine.conferences.meet_now("Design review")
    in_front(qtbot)
    await alice.engine.invitations.deliver(room_id, bob.user_id, "Numbers are in")
    await wait_until(lambda: desktop_bus.notifications(), SLOW)
    shown = one_notification(desktop_bus, "Alice invites you to “Budget review”")
    assert shown["summary"] == "Invitation to a meeting"
    assert "Numbers are in" in shown["body"]
    assert ("join", "Join") in actions_of(shown)  # the toast's "&Join", no mnemonic
    assert ("decline", "Decline") in actions_of(shown)

    desktop_bus.invoke(shown["id"], "join")
    await wait_until(lambda: bob.windows.find(room_id) is not None, SLOW)
    session = bob.engine.conferences.session(room_id)
    assert session is not None and session.state is SessionState.CONNECTED
    assert bob.main.invitation_toasts.toast(room_id) is None

    # An invitation that times out closes its notification.
    in_front(qtbot)
    await alice.engine.invitations.deliver(other, bob.user_id, timeout_s=3.0)
    await wait_until(lambda: len(desktop_bus.notifications()) == 2, SLOW)
    expiring = desktop_bus.notifications()[-1]
    await wait_until(lambda: desktop_bus.closed(expiring["id"]), SLOW)
    assert bob.main.invitation_toasts.toast(other) is None
    await people.close()


async def test_no_notification_server_falls_back(tmp_path: Path, qtbot) -> None:
    """A bus without a notification server: ``failed``, so the tray's message is used."""
    bus = DesktopBus(tmp_path / "dbus")
    bus.base.mkdir()
    bus.start()
    notifier = FreedesktopNotifications(bus.address)
    try:
        with qtbot.waitSignal(notifier.failed, timeout=10_000) as failed:
            notifier.notify(notification("call-1", "Incoming call", "Alice is calling you"))
        assert failed.args == ["call-1"]
        assert FreedesktopNotifications("").possible is False  # no bus at all: at once
    finally:
        notifier.stop()
        bus.stop()


async def test_a_notification_closed_before_it_showed_is_taken_back(
    desktop_bus: DesktopBus, qtbot
) -> None:
    """Closed while Notify is on its way (a call given up at once): closed when it shows."""
    notifier = FreedesktopNotifications(desktop_bus.address)
    try:
        notifier.notify(notification("call-2", "Incoming call", "Bob is calling you <3 & more"))
        notifier.close("call-2")
        await wait_until(lambda: desktop_bus.notifications(), SLOW)
        (shown,) = desktop_bus.notifications()
        await wait_until(lambda: desktop_bus.closed(shown["id"]), SLOW)
        # The test server reads no markup (no "body-markup"): the words go as they are.
        assert shown["body"] == "Bob is calling you <3 & more"
    finally:
        notifier.stop()


async def test_a_meeting_reminder_notifies_with_join_and_join_works(
    people: People, desktop_bus: DesktopBus, qtbot
) -> None:
    alice = await people("Alice", main_window=True)
    assert alice.main is not None
    in_front(qtbot)
    now = datetime.now(tz=UTC)
    # Started just now: the reminder is due at once.
    room_id = await alice.engine.scheduling.schedule(
        "Standup", now - timedelta(seconds=20), now + timedelta(minutes=14)
    )
    await wait_until(lambda: desktop_bus.notifications(), SLOW)
    shown = one_notification(desktop_bus, "“Standup” starts at")
    assert shown["summary"] == "Meeting starting"
    assert ("join", "Join") in actions_of(shown)
    assert ("dismiss", "Dismiss") in actions_of(shown)
    desktop_bus.invoke(shown["id"], "join")
    await wait_until(lambda: alice.windows.find(room_id) is not None, SLOW)
    session = alice.engine.conferences.session(room_id)
    assert session is not None and session.state is SessionState.CONNECTED
    assert alice.main.reminder_toasts.toast(room_id) is None
    await people.close()
