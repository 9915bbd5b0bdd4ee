"""My meetings driven through the main window against the real Synapse.

Alice has the main window; Bob is a real engine with a meeting window of his own.
"""

from __future__ import annotations

import time

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QContextMenuEvent, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from engine.calls.call_membership import CALL_MEMBER, member_state_key, membership_content
from engine.conference_models import AccessLevel, SessionState
from tests.helpers.a11y import unnamed_controls
from tests.helpers.qt_async import wait_until
from tests.ui.test_meetings import SLOW, People, action, click, click_radio, shoot, state_of
from ui.meeting_text import ENDED_TEXT
from ui.my_meetings_model import MeetingRole
from ui.my_meetings_view import EXPORT_TIP, EXPORT_UNSCHEDULED_TIP, MyMeetingsView

pytestmark = [pytest.mark.integration, pytest.mark.gui]

HOUR_MS = 3_600_000


def subjects(view: MyMeetingsView) -> list[str]:
    model = view.model
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def open_menu(view: MyMeetingsView, room_id: str):
    index = view.model.index_of(room_id)
    assert index.isValid()
    pos = view.list_view.visualRect(index).center()
    event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, pos, view.list_view.viewport().mapToGlobal(pos)
    )
    QApplication.sendEvent(view.list_view.viewport(), event)
    assert view.last_menu is not None and view.last_menu.isVisible()
    return view.last_menu


async def test_a_mix_of_meetings_with_past_ones_on_request_and_keyboard_actions(
    people: People, qtbot
) -> None:
    alice = await people("Alice", main_window=True)
    bob = await people("Bob")
    main = alice.main
    assert main is not None
    view = main.my_meetings
    main.my_meetings_tab_action.trigger()  # Ctrl+2
    assert main.tabs.currentWidget() is view
    # The personal meeting is there from sign-in, with nobody asking for it.
    await wait_until(lambda: subjects(view) == ["Alice's personal meeting"], SLOW)
    personal = view.model.summary_at(0).room_id
    assert not view.empty_label.isVisible()

    engine = alice.engine.conferences
    now_ms = int(time.time() * 1000)
    left = await engine.meet_now("Left early")
    await engine.leave(left)
    live = await engine.meet_now("Design review")
    await engine.set_options(live, access_level=AccessLevel.EVERYONE)
    await bob.engine.conferences.join(live)
    await engine.set_options(personal, access_level=AccessLevel.EVERYONE)
    await bob.engine.conferences.join(personal)  # Bob waits in Alice's personal meeting
    # Scheduled ones, made as Scheduling makes them (nobody is in them yet).
    await engine.create_meeting(
        "Planning <b>2027</b>",
        access_level=AccessLevel.INVITED,
        extra={"start_ts": now_ms + 26 * HOUR_MS, "end_ts": now_ms + 27 * HOUR_MS},
    )
    await engine.create_meeting(
        "Retrospective",
        access_level=AccessLevel.INVITED,
        extra={"start_ts": now_ms - 30 * HOUR_MS, "end_ts": now_ms - 29 * HOUR_MS},
    )
    theirs = await bob.engine.conferences.meet_now("Bob's stand-up")
    await bob.engine.conferences.set_options(theirs, access_level=AccessLevel.EVERYONE)
    await engine.join(theirs)
    # Bob is in its call from another MatrixRTC client (Element Call, say).
    bob_client = bob.engine.session.client
    await bob_client.room_put_state(
        theirs,
        CALL_MEMBER,
        membership_content("ELEMENT", "s1", int(time.time() * 1000), 600_000),
        state_key=member_state_key(bob.engine.session.user_id, "ELEMENT"),
    )

    # Personal first, then Alice's (live first), then Bob's; the one she left stays,
    # not joined.
    await wait_until(
        lambda: (
            subjects(view)
            == [
                "Alice's personal meeting",
                "Design review",
                "Left early",
                "Planning <b>2027</b>",
                "Bob's stand-up",
            ]
        ),
        SLOW,
    )
    assert view.model.index_of(left).data(MeetingRole.STATUS) == "Not joined"
    assert view.model.index_of(live).data(MeetingRole.STATUS) == "You're in it"
    await wait_until(
        lambda: view.model.index_of(personal).data(MeetingRole.WHEN) == "Now · 1 person", SLOW
    )
    assert view.model.index_of(personal).data(MeetingRole.STATUS) == "Not joined"
    await wait_until(
        lambda: (
            view.model.index_of(theirs).data(MeetingRole.WHEN) == "Now · 2 people · 1 in the call"
        ),
        SLOW,
    )
    await wait_until(lambda: view.model.index_of(live).data(MeetingRole.WHEN) == "Now · 2 people")
    click(view.show_past_check)
    assert subjects(view) == [
        "Alice's personal meeting",
        "Design review",
        "Retrospective",
        "Left early",
        "Planning <b>2027</b>",
        "Bob's stand-up",
    ]
    assert view.model.index_of(theirs).data(MeetingRole.DETAILS).endswith("Everyone")
    assert unnamed_controls(main) == []

    # Enter joins (here: opens, Alice is in it); Ctrl+C copies the link.
    index = view.model.index_of(live)
    view.list_view.setFocus()
    view.list_view.setCurrentIndex(index)
    QTest.keyClick(view.list_view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == alice.engine.conferences.details(live).link
    opened: list[str] = []
    main.conversation_opened.connect(opened.append)
    QTest.keyClick(view.list_view, Qt.Key.Key_Return)
    await wait_until(lambda: opened == [live], SLOW)

    # Only the organizer may end a meeting: not offered on Bob's.
    menu = open_menu(view, theirs)
    assert not action(menu, "End meeting for everyone…").isEnabled()
    assert action(menu, "Copy meeting ID").isEnabled()
    menu.close()
    main.conversations_tab_action.trigger()
    main.my_meetings_tab_action.trigger()
    main.resize(760, 560)
    await shoot(main, "my_meetings", view.list_view)
    await people.close()


async def test_end_meeting_for_everyone_tells_the_others_window(people: People, qtbot) -> None:
    alice = await people("Alice", main_window=True)
    bob = await people("Bob")
    main = alice.main
    assert main is not None
    view = main.my_meetings
    room_id = await alice.engine.conferences.meet_now("All hands")
    await alice.engine.conferences.set_options(room_id, access_level=AccessLevel.EVERYONE)
    await bob.engine.conferences.join(room_id)
    bobs = bob.window(room_id)
    main.my_meetings_tab_action.trigger()
    await wait_until(lambda: view.model.index_of(room_id).isValid(), SLOW)

    menu = open_menu(view, room_id)
    end = action(menu, "End meeting for everyone…")
    assert end.isEnabled()
    end.trigger()
    box = view.confirm_box
    assert box is not None and box.isVisible()
    confirm = next(b for b in box.buttons() if b.text() == "End meeting")
    click(confirm)

    await wait_until(lambda: state_of(bob, room_id) is SessionState.REMOVED, SLOW)
    await wait_until(lambda: bobs.session_banner.text() == ENDED_TEXT, 5)
    assert not bobs.session_banner.action_button.isVisible()  # no Rejoin
    await wait_until(lambda: not view.model.index_of(room_id).isValid(), SLOW)
    assert subjects(view) == ["Alice's personal meeting"]
    await shoot(bobs, "meeting_ended_bar")
    await people.close()


async def test_options_export_and_join_again_from_the_list(
    people: People, qtbot, tmp_path, monkeypatch
) -> None:
    alice = await people("Alice", main_window=True)
    main = alice.main
    assert main is not None
    view = main.my_meetings
    engine = alice.engine
    main.my_meetings_tab_action.trigger()
    now_ms = int(time.time() * 1000)
    start_ms, end_ms = now_ms + 5 * HOUR_MS, now_ms + 6 * HOUR_MS
    planned = await engine.conferences.create_meeting(
        "Budget, Q3; final",
        access_level=AccessLevel.INVITED,
        extra={"start_ts": start_ms, "end_ts": end_ms},
    )
    standup = await engine.conferences.meet_now("Stand-up")
    main.open_conversation(standup)
    await wait_until(lambda: main.windows.find(standup) is not None, SLOW)
    await wait_until(lambda: view.model.index_of(planned).isValid(), SLOW)
    await wait_until(lambda: view.model.index_of(standup).isValid(), SLOW)

    # Export to calendar is for meetings with times: not for the Meet Now one.
    menu = open_menu(view, standup)
    export = action(menu, "Export to calendar (.ics)…")
    assert not export.isEnabled() and export.toolTip() == EXPORT_UNSCHEDULED_TIP
    menu.close()
    # The scheduled one is written where the user says, off the UI thread.
    target = tmp_path / "budget"
    asked: list[str] = []

    def save_as(_parent, _title, suggested, _filter):
        asked.append(suggested)
        return str(target), "Calendar files (*.ics)"

    monkeypatch.setattr("ui.ics_export.QFileDialog.getSaveFileName", save_as)
    menu = open_menu(view, planned)
    export = action(menu, "Export to calendar (.ics)…")
    assert export.isEnabled() and export.toolTip() == EXPORT_TIP
    export.trigger()
    written = target.with_suffix(".ics")
    await wait_until(written.exists, SLOW)
    assert asked and asked[0].endswith("Budget Q3 final.ics")
    text = written.read_bytes().decode("utf-8")
    details = engine.conferences.details(planned)
    assert "\r\nSUMMARY:Budget\\, Q3\\; final\r\n" in text
    assert f"URL:{details.link}" in text and details.conference_id in text
    start = time.gmtime(start_ms / 1000)
    assert f"DTSTART:{time.strftime('%Y%m%dT%H%M%SZ', start)}" in text

    # Edit options… from the list changes the meeting on the server.
    menu = open_menu(view, planned)
    options = action(menu, "Edit options…")
    assert options.isEnabled()
    options.trigger()
    dialog = view.options_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.subject_edit.selectAll()
    QTest.keyClicks(dialog.subject_edit, "Budget review")
    click_radio(dialog.access_buttons[AccessLevel.EVERYONE])
    click(dialog.save_button)
    await wait_until(lambda: not shiboken6.isValid(dialog) or not dialog.isVisible(), SLOW)
    await wait_until(
        lambda: (
            view.model.index_of(planned).data() == "Budget review"
            and view.model.index_of(planned).data(MeetingRole.DETAILS).endswith("Everyone")
        ),
        SLOW,
    )
    await wait_until(
        lambda: engine.conferences.conference_state(planned).get("subject") == "Budget review",
        SLOW,
    )
    assert engine.conferences.conference_state(planned)["start_ts"] == start_ms  # times kept

    # Left, window closed, still a member: Join in the list takes Alice back in.
    await engine.conferences.leave(standup)
    main.windows.close_all()
    await wait_until(lambda: main.windows.find(standup) is None, SLOW)
    await wait_until(
        lambda: view.model.index_of(standup).data(MeetingRole.STATUS) == "Not joined", SLOW
    )
    view.select(standup)
    assert view.join_button.accessibleName() == "Join Stand-up"
    click(view.join_button)
    await wait_until(lambda: state_of(alice, standup) is SessionState.CONNECTED, SLOW)
    await wait_until(lambda: main.windows.find(standup) is not None, SLOW)
    await wait_until(
        lambda: view.model.index_of(standup).data(MeetingRole.STATUS) == "You're in it", SLOW
    )
    await people.close()
