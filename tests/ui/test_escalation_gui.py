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
from engine.invitation_models import InvitationFailure, InvitationState
from engine.models import MessageState, Presence
from engine.presence import IN_A_CONFERENCE_CALL
from tests.helpers.a11y import unnamed_controls
from tests.helpers.engines import eventually
from tests.helpers.holds import HeldAnswers, hold_syncs
from tests.helpers.qt_async import wait_until
from tests.ui.test_meetings import SLOW, People, click, names_in, shoot
from ui.add_people_dialog import AddPeopleDialog
from ui.banner import BannerKind
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


async def test_add_people_refuses_an_unknown_id_and_the_peer(people: People, qtbot) -> None:
    """As in Teams, a mistyped ID is caught before the meeting starts, and adding
    the person you talk to says they follow anyway; a known ID then goes ahead."""
    alice, bob, carol = await people("Alice"), await people("Bob"), await people("Carol")
    room_id = await bob.engine.conversations.start_direct_conversation(alice.user_id)
    await wait_until(lambda: alice.engine.conversations.conversation(room_id) is not None, SLOW)
    window = bob.window(room_id)
    click(window.add_people_button)
    dialog = open_dialog()
    nobody = f"@nobody:{bob.user_id.split(':', 1)[1]}"
    QTest.keyClicks(dialog.query_edit, f"{carol.user_id}, {nobody}")
    click(dialog.start_button)
    await wait_until(lambda: bool(dialog.error_label.text()), SLOW)
    assert dialog.error_label.text() == f"There is no user {nobody} on the server."
    assert dialog.query_edit.selectedText() == nobody  # ready to be typed over
    assert dialog.isVisible() and not window.is_meeting
    assert bob.engine.escalation.progress(room_id) == P.NONE  # nothing started
    await shoot(dialog, "add_people_unknown_user")

    dialog.query_edit.clear()
    QTest.keyClicks(dialog.query_edit, alice.user_id)
    click(dialog.start_button)
    await wait_until(lambda: bool(dialog.error_label.text()), SLOW)
    assert dialog.error_label.text() == (
        "Alice is in this conversation already and follows into the meeting anyway."
    )
    assert dialog.isVisible() and bob.engine.escalation.progress(room_id) == P.NONE

    dialog.query_edit.clear()
    QTest.keyClicks(dialog.query_edit, carol.user_id)
    click(dialog.start_button)
    await wait_until(lambda: window.is_meeting, SLOW)
    await wait_until(lambda: "Carol" in names_in(window, Section.ATTENDEES), SLOW)
    await people.close()


async def test_the_meeting_window_says_who_could_not_be_invited(people: People, qtbot) -> None:
    """An added person whose invitation fails once Completed (here an ID with no
    account, given to the engine directly, as another device might) is named in
    the meeting window with why; adding the peer is harmless (they follow anyway)."""
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await bob.engine.conversations.start_direct_conversation(alice.user_id)
    await wait_until(lambda: alice.engine.conversations.conversation(room_id) is not None, SLOW)
    window = bob.window(room_id)
    nobody = f"@nobody:{bob.user_id.split(':', 1)[1]}"

    result = await bob.engine.escalation.escalate(room_id, [alice.user_id, nobody])

    assert result.result == R.SUCCESS
    assert [(i.invitee, i.failure) for i in result.not_invited] == [
        (nobody, InvitationFailure.UNKNOWN_USER)
    ]
    await wait_until(lambda: window.is_meeting, SLOW)
    banner = window.escalation
    assert banner is not None
    expected = f"Couldn't invite {nobody}: There is no such user on the server."
    await wait_until(lambda: expected in banner.bar.text(), SLOW)
    assert banner.bar.text().startswith("This conversation is now a meeting.")
    assert banner.bar.kind is BannerKind.WARNING and banner.bar.isVisible()
    # Alice (the peer) is in, as a presenter: her only invitation is the one she followed.
    everyone = ["Alice", "Bob"]
    await wait_until(lambda: sorted(names_in(window, Section.PRESENTERS)) == everyone, SLOW)
    assert window.roster is not None
    followed = window.roster.model.invitation(alice.user_id)
    assert followed is not None and followed.state is InvitationState.ACCEPTED
    await shoot(window, "escalation_not_invited", banner.bar)
    await people.close()


async def test_a_line_sent_while_waiting_turns_sent_in_the_meeting_window(
    people: People, qtbot
) -> None:
    """Typed and sent in the two-party window while the banner says Waiting for Bob,
    still sending when the window becomes the meeting: it turns Sent there, Bob gets
    it once, the draft in the composer goes along, and a later two-party line shows."""
    alice, bob, carol = await people("Alice"), await people("Bob"), await people("Carol")
    room_id = await alice.engine.conversations.start_direct_conversation(bob.user_id)
    await wait_until(lambda: bob.engine.conversations.conversation(room_id) is not None, SLOW)
    alice_window, bob_window = alice.window(room_id), bob.window(room_id)
    bob_syncs = await hold_syncs(bob.engine)  # Bob hears nothing: Alice waits for him

    click(alice_window.add_people_button)
    dialog = open_dialog()
    QTest.keyClicks(dialog.query_edit, carol.user_id)
    click(dialog.start_button)
    banner = alice_window.escalation
    assert banner is not None
    await wait_until(lambda: banner.bar.text() == "Waiting for Bob…", SLOW)
    # The request is out (Alice's own sync brought it back): hold her next send.
    await wait_until(
        lambda: any(
            "moved this conversation to a meeting" in m.body and m.event_id
            for m in alice.engine.conversations.messages(room_id)
        ),
        SLOW,
    )
    sends = HeldAnswers(alice.engine, "room_send", before=True)
    line = "Typed while waiting"
    QTest.keyClicks(alice_window.composer, line)
    QTest.keyClick(alice_window.composer, Qt.Key.Key_Return)
    await eventually(lambda: sends.waiting == 1, SLOW)  # held before the server has it
    QTest.keyClicks(alice_window.composer, "half a thought")

    def states(window) -> list[MessageState]:
        return [m.state for m in window.model.messages() if m.body == line]

    assert states(alice_window) == [MessageState.SENDING]
    bob_syncs.release()
    await wait_until(lambda: alice_window.is_meeting and bob_window.is_meeting, SLOW)
    assert states(alice_window) == [MessageState.SENDING]  # in the meeting window now
    assert alice_window.composer.toPlainText() == "half a thought"
    sends.release()
    await wait_until(lambda: states(alice_window) == [MessageState.SENT], SLOW)

    # Bob got it exactly once, in the two-party room and in his meeting window.
    await wait_until(lambda: len(states(bob_window)) == 1, SLOW)
    await wait_until(lambda: states(bob_window) == [MessageState.RECEIVED], SLOW)
    bodies = [m.body for m in bob.engine.conversations.messages(room_id)]
    assert bodies.count(line) == 1
    # A line that still comes in the two-party room (another device) shows too.
    await bob.engine.conversations.send_text(room_id, "From my phone")
    await wait_until(
        lambda: "From my phone" in [m.body for m in alice_window.model.messages()], SLOW
    )
    assert [m.body for m in alice_window.model.messages()].count(line) == 1
    await people.close()
