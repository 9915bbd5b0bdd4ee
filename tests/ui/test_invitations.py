"""Invitations driven through the UI against the real Synapse (seed 003).

Alice invites through her meeting's Invite… dialog (typing, searching,
clicking) and watches her roster follow each invitee's state; Bob and Carol
answer through the toasts in their main windows. Nothing is mocked.
"""

from __future__ import annotations

import asyncio

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from engine.conference_models import SessionState
from engine.invitation_models import InvitationState
from tests.helpers.a11y import unnamed_controls
from tests.helpers.qt_async import wait_until
from tests.ui.test_meetings import (
    SLOW,
    People,
    action,
    click,
    context_menu,
    meeting_of,
    names_in,
    shoot,
    state_of,
)
from ui.invite_dialog import InviteDialog
from ui.roster_model import Section

pytestmark = [pytest.mark.integration, pytest.mark.gui]


def mark_of(window, user_id: str) -> str:
    index = window.roster.model.index_of(user_id)
    return str(index.data()) if index.isValid() else ""


async def test_invite_two_people_through_the_dialog_and_follow_their_answers(
    people: People, qtbot
) -> None:
    alice = await people("Alice")
    bob = await people("Bob", main_window=True)
    carol = await people("Carol", main_window=True)
    room_id, window = await meeting_of(alice)
    assert window.meeting_header is not None and bob.main and carol.main

    dialog = window.meeting_header.open_invite()
    assert isinstance(dialog, InviteDialog)
    # Search as you type: part of Bob's name finds him; Enter on the match adds him.
    # (The server is shared by the whole session: other Bobs exist, so type his user name.)
    QTest.keyClicks(dialog.query_edit, bob.user_id[1:].split(":")[0])
    await wait_until(lambda: dialog.results.count() > 0, SLOW)
    dialog.results.setCurrentRow(0)
    assert bob.user_id in dialog.results.item(0).text()
    QTest.keyClick(dialog.results, Qt.Key.Key_Return)
    assert not dialog.is_busy()  # Enter on a match adds it; it does not send yet
    assert dialog.pending() == [bob.user_id]
    # A full ID and Enter adds Carol; a malformed one and yourself fail on their own.
    for typed in (carol.user_id, "not-an-id", alice.user_id):
        QTest.keyClicks(dialog.query_edit, typed)
        QTest.keyClick(dialog.query_edit, Qt.Key.Key_Return)
    assert dialog.pending() == [bob.user_id, carol.user_id, "not-an-id", alice.user_id]
    QTest.keyClicks(dialog.message_edit, "Budget numbers at 3")
    assert unnamed_controls(dialog) == []
    await shoot(dialog, "invite_dialog_filled", dialog.invite_button)
    click(dialog.invite_button)
    await wait_until(lambda: not dialog.is_busy() and "Invited" in dialog.hint_label.text(), SLOW)
    lines = [dialog.invitees.item(row).text() for row in range(dialog.invitees.count())]
    assert lines[0].endswith("invited.") and lines[1].endswith("invited.")
    assert "not a valid user ID" in lines[2]
    assert "That is you" in lines[3]
    await shoot(dialog, "invite_dialog_outcomes", dialog.invite_button)
    dialog.close()

    # Alice's roster: both Invited under Attendees.
    await wait_until(
        lambda: (
            mark_of(window, bob.user_id) == "Bob Invited"
            and mark_of(window, carol.user_id) == "Carol Invited"
        ),
        SLOW,
    )
    # Each invitee gets a toast with who, the subject and the message.
    await wait_until(lambda: bob.main.invitation_toasts.toast(room_id) is not None, SLOW)
    await wait_until(lambda: carol.main.invitation_toasts.toast(room_id) is not None, SLOW)
    toast = bob.main.invitation_toasts.toast(room_id)
    assert toast.title_label.text() == "Alice invites you to “Quarterly planning”"
    assert toast.message_label.text() == "“Budget numbers at 3”"
    assert unnamed_controls(toast) == []
    await shoot(bob.main, "invitation_toast", toast.join_button)

    # Carol declines: Alice sees Declined, and can invite her again.
    click(carol.main.invitation_toasts.toast(room_id).decline_button)
    await wait_until(lambda: carol.main.invitation_toasts.toast(room_id) is None, SLOW)
    await wait_until(lambda: mark_of(window, carol.user_id) == "Carol Declined", SLOW)
    assert "Carol" in names_in(window, Section.ATTENDEES)

    # Bob joins: his meeting window opens and Alice's roster shows him there.
    click(toast.join_button)
    await wait_until(lambda: bob.windows.find(room_id) is not None, SLOW)
    assert state_of(bob, room_id) is SessionState.CONNECTED
    await wait_until(lambda: mark_of(window, bob.user_id) == "Bob", SLOW)
    window.resize(980, 620)
    await shoot(window, "roster_invitees")

    # Invite again, from Carol's row menu: Invited again, and her toast is back.
    menu = await context_menu(window.roster, carol.user_id)
    again = action(menu, "Invite again")
    assert again.isEnabled()
    again.trigger()
    await wait_until(lambda: mark_of(window, carol.user_id) == "Carol Invited", SLOW)
    await wait_until(lambda: carol.main.invitation_toasts.toast(room_id) is not None, SLOW)
    await people.close()


async def test_no_answer_then_withdrawn_and_toasts_stack(people: People, qtbot) -> None:
    alice = await people("Alice")
    bob = await people("Bob", main_window=True)
    room_id, window = await meeting_of(alice)
    other = await alice.engine.conferences.meet_now("Design review")
    assert bob.main is not None
    toasts = bob.main.invitation_toasts
    await alice.engine.invitations.deliver(other, bob.user_id, "When you have a minute")
    await alice.engine.invitations.deliver(room_id, bob.user_id, timeout_s=3.0)
    # Two invitations stack, the older first.
    await wait_until(lambda: len(toasts.toasts()) == 2, SLOW)
    assert [t.invitation.room_id for t in toasts.toasts()] == [other, room_id]
    await shoot(bob.main, "invitation_toasts_stacked", toasts.toasts()[0].join_button)
    # No answer: withdrawn, so Bob's toast disappears and Alice's roster says so.
    await wait_until(lambda: toasts.toast(room_id) is None, SLOW)
    await wait_until(lambda: mark_of(window, bob.user_id) == "Bob No answer", SLOW)
    assert (
        alice.engine.invitations.invitation(room_id, bob.user_id).state is InvitationState.EXPIRED
    )
    assert [t.invitation.room_id for t in toasts.toasts()] == [other]
    await shoot(window, "roster_no_answer")
    # Keyboard: the Menu key on the row offers Invite again.
    menu = await context_menu(window.roster, bob.user_id)
    assert action(menu, "Invite again").isEnabled()
    menu.close()
    remaining = toasts.toasts()[0]
    assert shiboken6.isValid(remaining)
    await asyncio.sleep(0)
    await people.close()
