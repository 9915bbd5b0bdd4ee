"""Seed 002 end to end: user2 adds user3 to a two-party conversation through the GUI.

Three real engines on the real Synapse. Bob (user2) clicks Add people…, types
Carol's ID and confirms; his window and Alice's (user1) follow into the meeting;
Carol (user3) is invited, then joins with her engine. Nothing is mocked.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from nio import AsyncClient, LoginResponse
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from engine.conference_models import Membership
from engine.escalation_models import (
    ConferenceEscalation,
    ConferenceEscalationProgress,
    ConferenceEscalationResult,
)
from engine.models import Presence
from engine.presence import IN_A_CONFERENCE_CALL
from tests.helpers.a11y import unnamed_controls
from tests.helpers.qt_async import wait_until
from tests.ui.test_meetings import SLOW, People, click, names_in, shoot
from ui.add_people_dialog import AddPeopleDialog
from ui.roster_model import Section

pytestmark = [pytest.mark.integration, pytest.mark.gui]

SHOTS = Path("/tmp/shots")
P = ConferenceEscalationProgress
R = ConferenceEscalationResult


def open_dialog() -> AddPeopleDialog:
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, AddPeopleDialog)]
    visible = [d for d in dialogs if d.isVisible()]
    assert visible, "Add people… did not open"
    return visible[-1]


async def test_seed_002_user2_adds_user3_through_the_gui(people: People, qtbot) -> None:
    alice, bob, carol = await people("Alice"), await people("Bob"), await people("Carol")
    room_id = await bob.engine.conversations.start_direct_conversation(alice.user_id)
    await wait_until(lambda: alice.engine.conversations.conversation(room_id) is not None, SLOW)
    bob_window, alice_window = bob.window(room_id), alice.window(room_id)
    await alice.engine.conversations.send_text(room_id, "Can we loop Carol in?")
    await bob.engine.conversations.send_text(room_id, "Sure, adding her")
    await wait_until(lambda: len(bob_window.model.messages()) >= 2, SLOW)
    assert bob_window.add_people_button.isVisible()
    assert not unnamed_controls(bob_window)
    await shoot(bob_window, "escalation_two_party")

    click(bob_window.add_people_button)
    dialog = open_dialog()
    QTest.keyClicks(dialog.query_edit, carol.user_id)
    QTest.keyClicks(dialog.message_edit, "Budget talk")
    click(dialog.start_button)

    # Both windows follow the conversation into the meeting.
    await wait_until(lambda: bob_window.is_meeting and alice_window.is_meeting, SLOW)
    conf = bob.engine.escalation.conference_for(room_id)
    assert conf and bob_window.room_id == conf and alice_window.room_id == conf
    assert bob.windows.find(conf) is bob_window  # the meeting's window now
    assert bob.engine.escalation.result(room_id) == ConferenceEscalationResult.SUCCESS
    assert bob_window.escalation is not None and alice_window.escalation is not None
    assert bob_window.escalation.history == [
        "Connecting to the meeting…",
        "Joining media…",
        "Waiting for Alice…",
        "This conversation is now a meeting.",
    ]
    assert alice_window.escalation.history == [
        "Connecting to the meeting…",
        "Joining media…",
        "Bob made this conversation a meeting.",
    ]
    # The earlier two-party messages are still there, above the meeting's own.
    bodies = [m.body for m in bob_window.model.messages()]
    assert "Can we loop Carol in?" in bodies and "Sure, adding her" in bodies
    assert bob_window.roster is not None and bob_window.meeting_header is not None
    # The meeting's Ctrl+Shift+C (Copy link) works in the window that was a two-party
    # conversation: the call bar's Call key steps aside once its button is gone.
    QApplication.clipboard().clear()
    bob_window.activateWindow()
    QApplication.setActiveWindow(bob_window)
    keys = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    QTest.keyClick(bob_window.composer, Qt.Key.Key_C, keys)
    link = bob.engine.conferences.details(conf).link
    await wait_until(lambda: QApplication.clipboard().text() == link)

    # Carol is invited: under Attendees as Invited on the escalating side.
    await wait_until(lambda: "Carol" in names_in(bob_window, Section.ATTENDEES), SLOW)
    invited = [p for p in bob_window.roster.model.people(Section.ATTENDEES)]
    assert [p.membership for p in invited] == [Membership.INVITED]
    await shoot(bob_window, "escalation_roster_invited")

    await carol.engine.conferences.join(conf)
    carol_window = carol.window(conf)
    everyone = ["Alice", "Bob", "Carol"]
    for window in (bob_window, alice_window, carol_window):
        await wait_until(lambda w=window: sorted(names_in(w, Section.PRESENTERS)) == everyone, SLOW)
        assert names_in(window, Section.ATTENDEES) == []
    for person in (alice, bob, carol):
        await wait_until(lambda p=person: p.engine.presences.own_presence == Presence.BUSY, SLOW)
        assert person.engine.presences.own_status == IN_A_CONFERENCE_CALL
    await shoot(bob_window, "escalation_completed")
    # Carol was not in the two-party conversation: none of its lines reach her.
    assert "Can we loop Carol in?" not in [m.body for m in carol_window.model.messages()]
    # Closing the meeting's window and opening it again keeps the two-party lines above.
    alice_window.close()
    await wait_until(lambda: alice.windows.find(conf) is None)
    reopened = alice.window(conf)
    assert reopened is not alice_window and reopened.is_meeting
    assert "Can we loop Carol in?" in [m.body for m in reopened.model.messages()]
    await people.close()


async def test_add_people_keyboard_and_bad_input(people: People, qtbot) -> None:
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await bob.engine.conversations.start_direct_conversation(alice.user_id)
    await wait_until(lambda: alice.engine.conversations.conversation(room_id) is not None, SLOW)
    window = bob.window(room_id)
    window.composer.setPlainText("half a thought")
    window.activateWindow()  # shortcuts work in the active window only
    await wait_until(window.isActiveWindow, 5, "the window did not become active")
    QTest.keyClick(window.composer, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    await wait_until(lambda: window.findChild(AddPeopleDialog) is not None, 5)
    dialog = open_dialog()
    QTest.keyClicks(dialog.query_edit, "not an id")
    click(dialog.start_button)
    await wait_until(lambda: bool(dialog.error_label.text()), SLOW)
    assert dialog.isVisible() and not window.is_meeting
    dialog.query_edit.clear()
    QTest.keyClicks(dialog.query_edit, bob.user_id)
    click(dialog.start_button)
    await wait_until(lambda: "That is you" in dialog.error_label.text(), SLOW)
    dialog.reject()
    assert window.composer.toPlainText() == "half a thought"
    await people.close()


async def test_declined_then_try_again_from_the_banner(people: People, make_user, qtbot) -> None:
    """Bob uses another Matrix client: he turns the first meeting down, joins the second."""
    alice, carol = await people("Alice"), make_user("carol", displayname="Carol")
    bob_user = make_user("bob", displayname="Bob")
    bob = AsyncClient(bob_user.homeserver_url, bob_user.user_id)
    assert isinstance(await bob.login(bob_user.password), LoginResponse)
    try:
        room_id = await alice.engine.conversations.start_direct_conversation(bob.user_id)
        await bob.sync(timeout=0)
        await bob.join(room_id)
        window = alice.window(room_id)
        await wait_until(
            lambda: alice.engine.conversations.conversation(room_id).member_count == 2, SLOW
        )

        async def answer_invite(join: bool) -> str:
            while True:
                await bob.sync(timeout=500)
                for invited in list(bob.invited_rooms):
                    if invited != room_id:
                        await (bob.join(invited) if join else bob.room_leave(invited))
                        del bob.invited_rooms[invited]
                        return invited

        click(window.add_people_button)
        dialog = open_dialog()
        QTest.keyClicks(dialog.query_edit, carol.user_id)
        click(dialog.start_button)
        await answer_invite(join=False)
        banner = window.escalation
        assert banner is not None
        await wait_until(lambda: "Bob declined the meeting" in banner.bar.text(), SLOW)
        assert banner.bar.action_button.text() == "Try again"
        assert not window.is_meeting
        await shoot(window, "escalation_declined", banner.bar)

        click(banner.bar.action_button)
        conf = await answer_invite(join=True)
        await wait_until(lambda: window.is_meeting, SLOW)
        assert window.room_id == conf
        await wait_until(lambda: "Carol" in names_in(window, Section.ATTENDEES), SLOW)
    finally:
        await bob.close()
    await people.close()


async def test_banner_words_and_looks_for_each_state(people: People, qtbot) -> None:
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await alice.engine.conversations.start_direct_conversation(bob.user_id)
    window = alice.window(room_id)
    banner = window.escalation
    assert banner is not None
    expected = {
        P.CONNECTING_TO_CONFERENCE: "Connecting to the meeting…",
        P.JOINING_LOCAL_MEDIA: "Joining media…",
        P.WAITING_FOR_PEER: "Waiting for Bob…",
        P.COMPLETED: "This conversation is now a meeting.",
    }
    for progress, text in expected.items():
        banner.show(ConferenceEscalation(room_id, progress, peer=bob.user_id))
        assert banner.bar.text() == text and not banner.bar.action_button.isVisible()
        await shoot(window, f"escalation_{progress.value}", banner.bar)
    failures = {
        R.DECLINED: ("Bob declined the meeting.", True),
        R.NO_ANSWER: ("Bob did not answer in time.", True),
        R.PEER_OFFLINE: ("Bob is offline", True),
        R.NETWORK_ERROR: ("The server cannot be reached", True),
        R.ENCRYPTED: ("end-to-end encrypted", False),
    }
    for result, (words, retry) in failures.items():
        banner.show(ConferenceEscalation(room_id, P.WAITING_FOR_PEER, result, peer=bob.user_id))
        assert words in banner.bar.text()
        assert banner.bar.action_button.isVisible() is retry
        await shoot(window, f"escalation_{result.value}", banner.bar)
    await people.close()
