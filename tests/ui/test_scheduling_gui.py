"""Schedule a meeting… and its reminder, driven through the UI against the real Synapse.

Alice schedules through the dialog from her Confero menu; Bob gets the
invitation as a toast saying when, and accepts it (no meeting window: it is for
later). A reminder toast at a meeting's start joins it through the usual path.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDateTime, QPoint, Qt
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtTest import QTest

from engine.conference_models import AccessLevel, Membership, PresenterPolicy, SessionState
from engine.ics import to_ics
from engine.invitation_models import InvitationState
from tests.helpers.a11y import unnamed_controls
from tests.helpers.qt_async import wait_until
from tests.ui.test_meetings import SLOW, People, click, shoot, state_of
from ui.ics_export import write_ics
from ui.schedule_dialog import ScheduleDialog

pytestmark = [pytest.mark.integration, pytest.mark.gui]


def membership(engine, room_id: str, user_id: str) -> Membership | None:
    found = [p for p in engine.conferences.participants(room_id) if p.user_id == user_id]
    return found[0].membership if found else None


async def test_schedule_through_the_dialog_and_the_invitee_accepts(people: People, qtbot):
    alice = await people("Alice", main_window=True)
    bob = await people("Bob", main_window=True)
    assert alice.main and bob.main
    # The menu action and its shortcut.
    action = alice.main.schedule_action
    assert action.shortcut() == QKeySequence("Ctrl+Shift+S")
    assert action in alice.main.menuBar().actions()[0].menu().actions()
    action.trigger()
    dialog = alice.main.findChild(ScheduleDialog)
    assert dialog is not None and dialog.isVisible()
    # Defaults: the next half hour, for 30 minutes, in the local time zone (named).
    start = dialog.start_edit.dateTime()
    assert start > QDateTime.currentDateTime() and start.time().minute() % 30 == 0
    assert start.secsTo(dialog.end_edit.dateTime()) == 30 * 60
    assert "time zone" in dialog.zone_label.text() and "UTC" in dialog.zone_label.text()
    # Moving the start keeps the length.
    dialog.start_edit.setDateTime(start.addSecs(3600))
    assert dialog.start_edit.dateTime().secsTo(dialog.end_edit.dateTime()) == 30 * 60

    # No subject: the dialog says so and creates nothing.
    click(dialog.invite_button)
    assert "subject" in dialog.error_label.text()
    QTest.keyClicks(dialog.subject_edit, "Roadmap review")
    # End before start: said in the dialog too.
    dialog.end_edit.setDateTime(dialog.start_edit.dateTime().addSecs(-60))
    click(dialog.invite_button)
    assert "end after it starts" in dialog.error_label.text()
    dialog.end_edit.setDateTime(dialog.start_edit.dateTime().addSecs(45 * 60))
    dialog.access_combo.setCurrentIndex(dialog.access_combo.findData(AccessLevel.LOCKED))
    dialog.presenter_combo.setCurrentIndex(dialog.presenter_combo.findData(PresenterPolicy.ONLY_ME))
    QTest.keyClicks(dialog.query_edit, bob.user_id)
    QTest.keyClick(dialog.query_edit, Qt.Key.Key_Return)
    assert dialog.pending() == [bob.user_id]
    QTest.keyClicks(dialog.message_edit, "Bring the numbers")
    assert unnamed_controls(dialog) == []
    dialog.resize(560, dialog.sizeHint().height())
    await shoot(dialog, "schedule_dialog_filled", dialog.invite_button, dialog.end_edit)

    chosen_start = dialog.start_edit.dateTime().toMSecsSinceEpoch()
    click(dialog.invite_button)
    await wait_until(lambda: dialog.result_box.isVisible(), SLOW)
    room_id = dialog.room_id
    details = alice.engine.conferences.details(room_id)
    assert details is not None
    assert (
        dialog.link_edit.text() == details.link and dialog.id_edit.text() == details.conference_id
    )
    assert details.access_level is AccessLevel.LOCKED
    assert "invited" in dialog.invitees.item(0).text()
    assert not dialog.invite_button.isVisible() and dialog.cancel_button.text() == "Close"
    click(dialog.copy_link_button)
    assert QGuiApplication.clipboard().text() == details.link
    click(dialog.copy_id_button)
    assert QGuiApplication.clipboard().text() == details.conference_id
    # Scheduling did not put Alice in the meeting: no window, no session.
    assert alice.windows.find(room_id) is None and state_of(alice, room_id) is None
    assert unnamed_controls(dialog) == []
    await shoot(dialog, "schedule_dialog_done", dialog.copy_link_button, dialog.copy_id_button)
    dialog.close()

    # Bob's toast says when, and offers Accept rather than joining now.
    toasts = bob.main.invitation_toasts
    await wait_until(lambda: toasts.toast(room_id) is not None, SLOW)
    toast = toasts.toast(room_id)
    assert toast.for_later and toast.when_label.isVisible()
    when = QDateTime.fromMSecsSinceEpoch(chosen_start).toString("HH:mm")
    assert when in toast.when_label.text()
    assert toast.join_button.text().replace("&", "") == "Accept"
    assert toast.message_label.text() == "“Bring the numbers”"
    assert unnamed_controls(toast) == []
    await shoot(bob.main, "scheduled_invitation_toast", toast.join_button)
    click(toast.join_button)
    await wait_until(lambda: toasts.toast(room_id) is None, SLOW)
    await wait_until(lambda: bob.engine.conferences.is_member(room_id), SLOW)
    assert bob.windows.find(room_id) is None and state_of(bob, room_id) is None
    await wait_until(
        lambda: (
            alice.engine.invitations.invitation(room_id, bob.user_id).state
            is InvitationState.ACCEPTED
        ),
        SLOW,
    )
    await people.close()


async def test_a_reminder_toast_joins_the_meeting(people: People, qtbot, tmp_path: Path):
    alice = await people("Alice", main_window=True)
    assert alice.main
    toasts = alice.main.reminder_toasts
    assert not toasts.isVisible()
    now = datetime.now(tz=UTC)
    # Started just now (or two minutes ago): the reminders are due at once.
    room_id = await alice.engine.scheduling.schedule(
        "Standup", now - timedelta(seconds=20), now + timedelta(minutes=14)
    )
    later = await alice.engine.scheduling.schedule(
        "Retro", now - timedelta(minutes=2), now + timedelta(minutes=20)
    )
    await wait_until(lambda: toasts.toast(room_id) is not None, SLOW)
    await wait_until(lambda: toasts.toast(later) is not None, SLOW)
    toast = toasts.toast(room_id)
    assert "“Standup” starts at" in toast.text_label.text()
    assert "“Retro” started at" in toasts.toast(later).text_label.text()
    assert toasts.isVisible() and unnamed_controls(toasts) == []
    await shoot(alice.main, "reminder_toasts", toast.join_button)

    # Dismiss one: gone, and it does not come back.
    click(toasts.toast(later).dismiss_button)
    assert toasts.toast(later) is None
    # Join the other: the meeting window opens, Alice is in it.
    click(toast.join_button)
    await wait_until(lambda: alice.windows.find(room_id) is not None, SLOW)
    assert state_of(alice, room_id) is SessionState.CONNECTED
    assert toasts.toast(room_id) is None

    # The .ics of a scheduled meeting, written as the export does (no file dialog).
    entry = alice.engine.scheduling.calendar_entry(later)
    assert entry is not None and entry.subject == "Retro"
    path = await write_ics(alice.main, tmp_path / "retro.ics", to_ics(entry))
    assert path is not None
    data = path.read_bytes()
    assert b"SUMMARY:Retro\r\n" in data and entry.link.encode() in data
    assert alice.engine.reminders.fired(later) and time.time() > 0
    await people.close()


async def test_schedule_in_the_personal_meeting_through_the_dialog(people: People, qtbot):
    alice = await people("Alice", main_window=True)
    bob = await people("Bob", main_window=True)
    assert alice.main and bob.main
    personal = await alice.engine.personal_meeting.ensure()
    await wait_until(lambda: alice.engine.conferences.details(personal) is not None, SLOW)
    details = alice.engine.conferences.details(personal)

    async def schedule(subject: str, hours_on: int, invitee: str = "") -> ScheduleDialog:
        alice.main.schedule_action.trigger()
        dialog = next(d for d in alice.main.findChildren(ScheduleDialog) if d.isVisible())
        check = dialog.personal_check
        # Off by default; the tooltip says what it does.
        assert not check.isChecked() and "permanent meeting ID and link" in check.toolTip()
        assert dialog.access_combo.isEnabled() and not dialog.personal_note.isVisible()
        QTest.mouseClick(
            check, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(8, 8)
        )
        assert check.isChecked()
        # The personal meeting keeps its own options: those fields are off, and it says so.
        assert not dialog.access_combo.isEnabled() and not dialog.presenter_combo.isEnabled()
        assert dialog.personal_note.isVisible() and "own options" in dialog.personal_note.text()
        QTest.keyClicks(dialog.subject_edit, subject)
        dialog.start_edit.setDateTime(dialog.start_edit.dateTime().addSecs(hours_on * 3600))
        if invitee:
            QTest.keyClicks(dialog.query_edit, invitee)
            QTest.keyClick(dialog.query_edit, Qt.Key.Key_Return)
            QTest.keyClicks(dialog.message_edit, "Same link as always")
        assert unnamed_controls(dialog) == []
        click(dialog.invite_button)
        await wait_until(lambda: dialog.result_box.isVisible(), SLOW)
        return dialog

    first = await schedule("Design review", 2, bob.user_id)
    assert first.room_id == personal
    assert "in your personal meeting" in first.result_label.text()
    assert first.link_edit.text() == details.link
    assert first.id_edit.text() == details.conference_id
    assert "invited" in first.invitees.item(0).text()
    start_ms = first.start_edit.dateTime().toMSecsSinceEpoch()
    await shoot(first, "schedule_dialog_personal_done", first.copy_link_button)
    first.close()

    second = await schedule("Retro", 4)
    assert second.room_id == personal and second.id_edit.text() == details.conference_id
    second.close()

    # Bob is invited to the personal meeting, and his toast says when.
    toasts = bob.main.invitation_toasts
    await wait_until(lambda: toasts.toast(personal) is not None, SLOW)
    toast = toasts.toast(personal)
    assert toast.for_later
    assert QDateTime.fromMSecsSinceEpoch(start_ms).toString("HH:mm") in toast.when_label.text()
    # Alice's My meetings row of the personal meeting shows the next occasion.
    await wait_until(
        lambda: (
            (row := alice.engine.my_meetings.summary(personal)) is not None
            and len(row.occasions) == 2
        ),
        SLOW,
    )
    assert alice.engine.my_meetings.summary(personal).start_ms == start_ms
    await people.close()
