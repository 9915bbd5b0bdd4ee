"""Meetings driven through the UI against the real Synapse, with two to four real engines.

Alice starts the meeting and drives her windows; Bob, Carol and Dave are real
engines of their own, some with windows of their own. Clicks go through QTest
(including the painted Admit / Deny buttons of the roster); what happens is
checked on both sides. Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QContextMenuEvent, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QMenu,
    QRadioButton,
    QStyleOptionViewItem,
    QWidget,
)

from engine.conference_models import AccessLevel, Membership, PresenterPolicy, SessionState
from engine.models import Presence
from tests.helpers.a11y import unnamed_controls
from tests.helpers.gui_people import People, Person
from tests.helpers.holds import HeldAnswers, SeenAfter, hold_syncs, settled
from tests.helpers.qt_async import wait_for_signal, wait_until
from tests.helpers.screenshots import check_screenshot
from ui import theme
from ui.conversation_window import ConversationWindow
from ui.engine_calls import wait_for_background_work
from ui.join_meeting_dialog import EMPTY_ERROR, JoinMeetingDialog
from ui.meeting_options_dialog import MeetingOptionsDialog
from ui.meeting_text import DENIED_TITLE, LEFT_TEXT, TIMED_OUT_TITLE, WAITING_TITLE
from ui.roster_delegate import LobbyButton
from ui.roster_model import Section
from ui.roster_view import RosterPanel

pytestmark = [pytest.mark.integration, pytest.mark.gui]

SHOTS = Path("/tmp/shots")
SLOW = 30.0  # seconds to wait for something that crosses the server twice


# -- fixtures and helpers -------------------------------------------------------


def state_of(person: Person, room_id: str) -> SessionState | None:
    session = person.engine.conferences.session(room_id)
    return session.state if session else None


def membership_of(viewer: Person, room_id: str, person: Person) -> Membership | None:
    found = [
        p for p in viewer.engine.conferences.participants(room_id) if p.user_id == person.user_id
    ]
    return found[0].membership if found else None


def names_in(window: ConversationWindow, section: Section) -> list[str]:
    assert window.roster is not None
    return [p.display_name for p in window.roster.model.people(section)]


async def shown(widget: QWidget) -> None:
    for _ in range(3):
        await asyncio.sleep(0.05)
    widget.grab()


def click(widget: QWidget) -> None:
    assert widget.isVisible() and widget.isEnabled(), widget.objectName() or widget
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)


def click_radio(radio: QRadioButton) -> None:
    """Click on the round indicator (the button's middle may be blank space)."""
    assert radio.isVisible() and radio.isEnabled()
    QTest.mouseClick(
        radio,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        QPoint(8, radio.height() // 2),
    )


async def click_lobby_button(panel: RosterPanel, user_id: str, which: LobbyButton) -> None:
    """Click the Admit or Deny button painted on someone's lobby row."""
    index = panel.model.index_of(user_id)
    assert index.isValid(), f"{user_id} is not in the roster"
    panel.view.scrollTo(index)
    await shown(panel)
    option = QStyleOptionViewItem()
    option.rect = panel.view.visualRect(index)
    option.fontMetrics = panel.view.fontMetrics()
    rects = panel.delegate.button_rects(option, index)
    assert which in rects, "no buttons on this row"
    QTest.mouseClick(
        panel.view.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        rects[which].center(),
    )


async def context_menu(panel: RosterPanel, user_id: str) -> QMenu:
    """Right-click someone's row; returns the menu that popped up."""
    index = panel.model.index_of(user_id)
    assert index.isValid(), f"{user_id} is not in the roster"
    panel.view.scrollTo(index)
    await shown(panel)
    pos = panel.view.visualRect(index).center()
    event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, pos, panel.view.viewport().mapToGlobal(pos)
    )
    QApplication.sendEvent(panel.view.viewport(), event)
    menu = panel.last_menu
    assert menu is not None and menu.isVisible()
    return menu


def action(menu: QMenu, text: str):
    for candidate in menu.actions():
        if candidate.text().replace("&", "") == text:
            return candidate
    raise AssertionError(f"no {text!r} in {[a.text() for a in menu.actions()]}")


async def meeting_of(alice: Person, **options: object) -> tuple[str, ConversationWindow]:
    room_id = await alice.engine.conferences.meet_now("Quarterly planning")
    if options:
        await alice.engine.conferences.set_options(room_id, **options)  # type: ignore[arg-type]
    window = alice.window(room_id)
    await wait_until(lambda: names_in(window, Section.PRESENTERS) == ["Alice"], SLOW)
    return room_id, window


async def join_by_dialog(
    person: Person, text: str, lobby_timeout_s: float | None = None
) -> JoinMeetingDialog:
    dialog = JoinMeetingDialog(person.engine, lobby_timeout_s=lobby_timeout_s)
    dialog.joined.connect(lambda room_id: person.window(room_id))
    dialog.show()
    QTest.keyClicks(dialog.reference_edit, text)
    click(dialog.join_button)
    return dialog


def window_of(person: Person, room_id: str) -> ConversationWindow:
    return person.window(room_id)


@asynccontextmanager
async def palette(name: str) -> AsyncIterator[None]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    previous = app.palette()
    app.setPalette(theme.dark_palette() if name == "dark" else app.style().standardPalette())
    try:
        yield
    finally:
        app.setPalette(previous)


async def shoot(widget: QWidget, stem: str, *key_widgets: QWidget) -> None:
    """Save ``widget`` in both palettes and check each picture (see check_screenshot)."""
    for name in ("light", "dark"):
        async with palette(name):
            await shown(widget)
            check_screenshot(
                widget, SHOTS / f"{stem}_{name}.png", dark=name == "dark", key_widgets=key_widgets
            )


# -- Meet Now ---------------------------------------------------------------------


async def test_meet_now_opens_the_meeting_with_its_id_and_link(people: People, qtbot) -> None:
    alice = await people("Alice", main_window=True)
    bob = await people("Bob")
    assert alice.main is not None
    await shoot(alice.main, "meeting_main_window")
    opened = asyncio.ensure_future(wait_for_signal(alice.main.conversation_opened, SLOW))
    await asyncio.sleep(0)
    click(alice.main.meet_now_button)
    (room_id,) = await opened
    window = alice.window(room_id)
    header = window.meeting_header
    assert window.is_meeting and header is not None and window.roster is not None
    details = alice.engine.conferences.details(room_id)
    assert details is not None
    assert header.subject_label.text() == details.subject == "Alice's meeting"
    assert window.windowTitle() == details.subject
    assert header.id_label.text() == f"Meeting ID {details.conference_id}"
    assert header.link_edit.text() == details.link
    click(header.copy_link_button)
    assert QGuiApplication.clipboard().text() == details.link
    assert header.copied_label.text() == "Link copied"
    click(header.copy_id_button)
    assert QGuiApplication.clipboard().text() == details.conference_id
    assert header.options_button.isEnabled() and header.invite_button.isEnabled()
    await wait_until(
        lambda: names_in(window, Section.PRESENTERS) == ["Alice"], SLOW, "Alice not listed"
    )
    me = window.roster.model.index_of(alice.user_id)
    assert me.data() == "Alice (Leader) (you)"
    assert window.roster.model.is_expanded(Section.PRESENTERS)  # sections start open
    assert window.roster.model.lobby_shown
    assert unnamed_controls(window) == []

    # Someone knocks: the roster's Lobby lists them and the window says so.
    await bob.engine.conferences.join(details.conference_id)
    assert state_of(bob, room_id) is SessionState.IN_LOBBY
    await wait_until(lambda: names_in(window, Section.LOBBY) == ["Bob"], SLOW, "no knock")
    await wait_until(lambda: "Bob is waiting in the lobby" in window.lobby_banner.text(), SLOW)
    assert window.roster.lobby_label.text() == "1 person is waiting in the lobby"
    # The banner's Admit lets him in.
    click(window.lobby_banner.action_button)
    await wait_until(lambda: state_of(bob, room_id) is SessionState.CONNECTED, SLOW)
    await wait_until(lambda: "Bob" in names_in(window, Section.PRESENTERS), SLOW)
    assert names_in(window, Section.LOBBY) == []
    assert not window.lobby_banner.isVisible()

    # With the meeting's window closed (and no system tray), the main window tells.
    window.close()
    carol = await people("Carol")
    await carol.engine.conferences.join(details.conference_id)
    await wait_until(
        lambda: (
            alice.main.notice_banner.text() == "Carol is waiting in the lobby of “Alice's meeting”."
        ),
        SLOW,
    )

    # Ctrl+M and Ctrl+J are on the main window (and in its menu).
    assert alice.main.meet_now_action.shortcut().toString() == "Ctrl+M"
    assert alice.main.join_meeting_action.shortcut().toString() == "Ctrl+J"
    await people.close()


# -- the lobby, from both sides -------------------------------------------------------


async def test_admit_from_the_roster_shows_them_in_both_rosters(people: People, qtbot) -> None:
    alice, bob = await people("Alice"), await people("Bob")
    room_id, window = await meeting_of(alice)
    digits = alice.engine.conferences.details(room_id).conference_id
    assert alice.engine.conferences.details(room_id).access_level is AccessLevel.INVITED

    dialog = await join_by_dialog(bob, digits)
    await wait_until(lambda: state_of(bob, room_id) is SessionState.IN_LOBBY, SLOW)
    await wait_until(lambda: not dialog.isVisible(), SLOW, "the Join dialog stayed open")
    bobs = window_of(bob, room_id)
    assert bobs.showing_lobby()
    assert bobs.lobby_page.title_label.text() == WAITING_TITLE
    assert bobs.lobby_page.cancel_button.isVisible()
    assert bobs.lobby_page.elapsed_label.text().startswith("Waited 0:0")
    assert bobs.lobby_page.remaining_label.text().endswith("left")
    assert unnamed_controls(bobs) == []

    await wait_until(lambda: names_in(window, Section.LOBBY) == ["Bob"], SLOW)
    await click_lobby_button(window.roster, bob.user_id, LobbyButton.ADMIT)
    await wait_until(lambda: state_of(bob, room_id) is SessionState.CONNECTED, SLOW)
    await wait_until(lambda: names_in(window, Section.PRESENTERS) == ["Alice", "Bob"], SLOW)
    await wait_until(lambda: not bobs.showing_lobby(), SLOW)
    await wait_until(lambda: names_in(bobs, Section.PRESENTERS) == ["Alice", "Bob"], SLOW)
    assert bobs.meeting_header.id_label.text() == f"Meeting ID {digits}"
    assert bobs.composer.isEnabled()
    await people.close()


async def test_deny_then_ask_again_then_admit_all(people: People, qtbot) -> None:
    alice, bob, carol = await people("Alice"), await people("Bob"), await people("Carol")
    room_id, window = await meeting_of(alice)
    digits = alice.engine.conferences.details(room_id).conference_id

    await join_by_dialog(bob, digits)
    await wait_until(lambda: names_in(window, Section.LOBBY) == ["Bob"], SLOW)
    bobs = window_of(bob, room_id)
    assert bobs.showing_lobby()
    await shoot(bobs, "meeting_lobby_wait")

    await click_lobby_button(window.roster, bob.user_id, LobbyButton.DENY)
    await wait_until(lambda: state_of(bob, room_id) is SessionState.DENIED, SLOW)
    await wait_until(lambda: bobs.lobby_page.title_label.text() == DENIED_TITLE, SLOW)
    assert bobs.lobby_page.detail_label.text() == "Alice did not let you into the meeting."
    assert bobs.showing_lobby()
    assert bobs.lobby_page.retry_button.text() == "Ask again"
    await wait_until(lambda: names_in(window, Section.LOBBY) == [], SLOW)
    await shoot(bobs, "meeting_lobby_denied")

    click(bobs.lobby_page.retry_button)
    await wait_until(lambda: state_of(bob, room_id) is SessionState.IN_LOBBY, SLOW)
    await wait_until(lambda: bobs.lobby_page.title_label.text() == WAITING_TITLE, SLOW)
    await carol.engine.conferences.join(digits)
    carol_window = window_of(carol, room_id)
    await wait_until(lambda: names_in(window, Section.LOBBY) == ["Bob", "Carol"], SLOW)
    assert window.roster.lobby_label.text() == "2 people are waiting in the lobby"
    click(window.roster.admit_all_button)
    await wait_until(lambda: state_of(bob, room_id) is SessionState.CONNECTED, SLOW)
    await wait_until(lambda: state_of(carol, room_id) is SessionState.CONNECTED, SLOW)
    await wait_until(
        lambda: names_in(window, Section.PRESENTERS) == ["Alice", "Bob", "Carol"], SLOW
    )
    await wait_until(lambda: not window.roster.admit_all_button.isVisible(), SLOW)
    await wait_until(lambda: not carol_window.showing_lobby(), SLOW)
    await wait_until(lambda: len(names_in(carol_window, Section.PRESENTERS)) == 3, SLOW)
    await people.close()


async def test_lobby_times_out_then_retry_and_cancel(people: People, qtbot) -> None:
    alice, bob = await people("Alice"), await people("Bob")
    room_id, window = await meeting_of(alice)
    digits = alice.engine.conferences.details(room_id).conference_id

    await join_by_dialog(bob, digits, lobby_timeout_s=3)
    await wait_until(lambda: state_of(bob, room_id) is SessionState.IN_LOBBY, SLOW)
    bobs = window_of(bob, room_id)
    page = bobs.lobby_page
    # The countdown's form, not its wall-clock value: a slow machine may be a second late.
    assert re.fullmatch(r"0:0[0-3] left", page.remaining_label.text())
    assert re.fullmatch(r"Waited 0:0[0-3]", page.elapsed_label.text())
    assert 0 <= page.progress.value() <= page.progress.maximum()
    await wait_until(lambda: state_of(bob, room_id) is SessionState.LOBBY_TIMED_OUT, SLOW)
    await wait_until(lambda: page.title_label.text() == TIMED_OUT_TITLE, 5)
    assert page.retry_button.isVisible() and not page.cancel_button.isVisible()
    assert not page.progress.isVisible()
    await wait_until(lambda: names_in(window, Section.LOBBY) == [], SLOW)
    await shoot(bobs, "meeting_lobby_timed_out")
    # Alice's Admit came too late: the server's answer shows in her roster panel.
    finished = asyncio.ensure_future(wait_for_signal(window.roster.action_finished, SLOW))
    await asyncio.sleep(0)
    window.roster.admit(bob.user_id)
    _what, error = await finished
    assert "no longer waiting in the lobby" in error
    assert window.roster.error_label.isVisible()
    assert window.roster.error_label.text() == error

    click(page.retry_button)
    await wait_until(lambda: state_of(bob, room_id) is SessionState.IN_LOBBY, SLOW)
    await wait_until(lambda: page.title_label.text() == WAITING_TITLE, 5)
    await wait_until(lambda: names_in(window, Section.LOBBY) == ["Bob"], SLOW)
    closed = asyncio.ensure_future(wait_for_signal(bobs.closed, SLOW))
    await asyncio.sleep(0)
    click(page.cancel_button)
    await closed
    assert state_of(bob, room_id) is SessionState.LEFT
    await wait_until(lambda: names_in(window, Section.LOBBY) == [], SLOW)
    await people.close()


async def test_closing_the_lobby_window_as_the_admission_arrives_stays_out(
    people: People, qtbot
) -> None:
    alice, bob = await people("Alice"), await people("Bob")
    room_id, window = await meeting_of(alice)
    await join_by_dialog(bob, alice.engine.conferences.details(room_id).conference_id)
    await wait_until(lambda: state_of(bob, room_id) is SessionState.IN_LOBBY, SLOW)
    bobs = window_of(bob, room_id)
    await wait_until(lambda: names_in(window, Section.LOBBY) == ["Bob"], SLOW)
    # Alice admits; Bob's app joins, but has not heard back when he closes the window.
    bobs_syncs = await hold_syncs(bob.engine)
    joins = HeldAnswers(bob.engine, "join")
    await click_lobby_button(window.roster, bob.user_id, LobbyButton.ADMIT)
    await wait_until(lambda: membership_of(alice, room_id, bob) is Membership.INVITED, SLOW)
    bobs_syncs.release(until=lambda answer: room_id in answer.rooms.invite)
    await wait_until(lambda: membership_of(alice, room_id, bob) is Membership.JOINED, SLOW)
    assert bobs.showing_lobby()
    bobs.close()
    await wait_for_background_work()
    assert state_of(bob, room_id) is SessionState.LEFT
    seen = SeenAfter(bob.engine)
    joins.release()
    bobs_syncs.release()
    await wait_until(lambda: membership_of(alice, room_id, bob) is None, SLOW)
    await settled(bob.engine, bobs_syncs)
    assert state_of(bob, room_id) is SessionState.LEFT
    assert "CONNECTED" not in seen.states and "BUSY" not in seen.presences  # not even briefly
    assert bob.engine.presences.own_presence is Presence.AVAILABLE
    assert names_in(window, Section.PRESENTERS) == ["Alice"]
    await people.close()


# -- leaving, rejoining, being removed ----------------------------------------------


async def bob_attends_alices_meeting(people: People):
    """Alice's open meeting (attendees by default) with Bob in it; both windows open."""
    alice, bob = await people("Alice"), await people("Bob")
    room_id, window = await meeting_of(
        alice, access_level=AccessLevel.EVERYONE, presenter_policy=PresenterPolicy.CHOSEN
    )
    await bob.engine.conferences.join(room_id)
    bobs = window_of(bob, room_id)
    await wait_until(lambda: names_in(window, Section.ATTENDEES) == ["Bob"], SLOW)
    return bob, room_id, window, bobs


async def test_leave_shows_the_yellow_bar_and_rejoin_works(people: People, qtbot) -> None:
    bob, room_id, window, bobs = await bob_attends_alices_meeting(people)
    assert bobs.meeting_header is not None
    assert not bobs.meeting_header.options_button.isEnabled()
    assert bobs.meeting_header.options_button.toolTip()  # says why

    click(bobs.meeting_header.leave_button)
    await wait_until(lambda: state_of(bob, room_id) is SessionState.LEFT, SLOW)
    await wait_until(lambda: bobs.session_banner.text() == LEFT_TEXT, 5)
    assert bobs.session_banner.action_button.text() == "Rejoin"
    assert not bobs.session_banner.findChild(QWidget, "bannerClose").isVisible()
    assert not bobs.composer.isEnabled()
    assert not bobs.meeting_header.leave_button.isEnabled()
    await wait_until(lambda: names_in(window, Section.ATTENDEES) == [], SLOW)
    await shoot(bobs, "meeting_left_bar")

    click(bobs.session_banner.action_button)
    await wait_until(lambda: state_of(bob, room_id) is SessionState.CONNECTED, SLOW)
    await wait_until(lambda: not bobs.session_banner.isVisible(), 5)
    assert bobs.composer.isEnabled()
    assert bobs.meeting_header.leave_button.isEnabled()
    await people.close()


async def test_closing_the_window_while_leaving_stops_its_task_not_the_leave(
    people: People, qtbot
) -> None:
    bob, room_id, window, bobs = await bob_attends_alices_meeting(people)
    leaves = HeldAnswers(bob.engine, "room_leave")
    click(bobs.meeting_header.leave_button)
    await wait_until(lambda: leaves.waiting == 1, SLOW)  # the server has it, the window waits
    (task,) = bobs.tasks.pending()
    bobs.close()
    await wait_until(task.done, 5)
    assert task.cancelled() and bobs.tasks.pending() == []
    leaves.release()
    await wait_for_background_work()  # the leave itself goes on without the window
    assert state_of(bob, room_id) is SessionState.LEFT
    await wait_until(lambda: names_in(window, Section.ATTENDEES) == [], SLOW)
    await people.close()


async def test_rejoin_after_leaving_is_seen_by_the_others(people: People, qtbot) -> None:
    bob, room_id, window, bobs = await bob_attends_alices_meeting(people)
    click(bobs.meeting_header.leave_button)
    await wait_until(lambda: names_in(window, Section.ATTENDEES) == [], SLOW)
    click(bobs.session_banner.action_button)
    await wait_until(lambda: state_of(bob, room_id) is SessionState.CONNECTED, SLOW)
    try:
        await wait_until(lambda: names_in(window, Section.ATTENDEES) == ["Bob"], 15)
    finally:
        await people.close()


async def test_removed_by_the_leader_shows_who_did_it(people: People, qtbot) -> None:
    bob, room_id, window, bobs = await bob_attends_alices_meeting(people)

    menu = await context_menu(window.roster, bob.user_id)
    remove = action(menu, "Remove from meeting")
    assert remove.isEnabled()
    remove.trigger()
    await wait_until(lambda: state_of(bob, room_id) is SessionState.REMOVED, SLOW)
    await wait_until(lambda: bobs.session_banner.text() == "Alice removed you from the meeting", 5)
    assert bobs.session_banner.action_button.isVisible()  # everyone may join: can rejoin
    assert not bobs.composer.isEnabled()
    await wait_until(lambda: names_in(window, Section.ATTENDEES) == [], SLOW)
    await shoot(bobs, "meeting_removed_bar")
    await people.close()


# -- roles ----------------------------------------------------------------------------


async def test_roles_from_the_context_menu_and_a_full_roster(people: People, qtbot) -> None:
    alice, bob, carol = await people("Alice"), await people("Bob"), await people("Carol")
    dave, erin = await people("Dave"), await people("Erin")
    room_id, window = await meeting_of(
        alice, access_level=AccessLevel.EVERYONE, presenter_policy=PresenterPolicy.CHOSEN
    )
    await bob.engine.conferences.join(room_id)
    await carol.engine.conferences.join(room_id)
    await wait_until(lambda: names_in(window, Section.ATTENDEES) == ["Bob", "Carol"], SLOW)
    moves: list[int] = []
    resets: list[int] = []
    window.roster.model.rowsMoved.connect(lambda *_: moves.append(1))
    window.roster.model.modelReset.connect(lambda: resets.append(1))

    menu = await context_menu(window.roster, bob.user_id)
    make_presenter = action(menu, "Make presenter")
    assert make_presenter.isEnabled()
    assert not action(menu, "Make attendee").isEnabled()
    make_presenter.trigger()
    await wait_until(lambda: names_in(window, Section.PRESENTERS) == ["Alice", "Bob"], SLOW)
    assert names_in(window, Section.ATTENDEES) == ["Carol"]
    assert moves and not resets, "a role change is a row move, not a reset"

    # The Menu key opens the same menu for the current row.
    window.roster.view.setCurrentIndex(window.roster.model.index_of(carol.user_id))
    window.roster.view.setFocus()
    QApplication.sendEvent(
        window.roster.view.viewport(),
        QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, QPoint(0, 0)),
    )
    menu = window.roster.last_menu
    assert menu is not None and menu.accessibleName() == "Actions for Carol"
    assert action(menu, "Make presenter").isEnabled()
    menu.close()

    # Carol, an attendee, may not change roles: disabled, with the reason as tooltip.
    carols = window_of(carol, room_id)
    await wait_until(lambda: names_in(carols, Section.PRESENTERS) == ["Alice", "Bob"], SLOW)
    assert carols.roster is not None and not carols.roster.model.lobby_shown
    menu = await context_menu(carols.roster, bob.user_id)
    for text in ("Make presenter", "Make attendee", "Remove from meeting"):
        item = action(menu, text)
        assert not item.isEnabled()
        assert item.toolTip() == "Only presenters can do that."
    assert menu.toolTipsVisible()
    menu.close()
    # Bob, a presenter now, cannot touch the Leader.
    bobs = window_of(bob, room_id)
    await wait_until(lambda: names_in(bobs, Section.PRESENTERS) == ["Alice", "Bob"], SLOW)
    menu = await context_menu(bobs.roster, alice.user_id)
    assert not action(menu, "Remove from meeting").isEnabled()
    assert "Leader" in action(menu, "Remove from meeting").toolTip()
    menu.close()

    # Make attendee moves Bob back; a refusal would show in the panel.
    menu = await context_menu(window.roster, bob.user_id)
    action(menu, "Make attendee").trigger()
    await wait_until(lambda: names_in(window, Section.ATTENDEES) == ["Bob", "Carol"], SLOW)

    # Invited (through Invite…) and someone in the lobby complete the roster.
    assert window.meeting_header is not None
    invite = window.meeting_header.open_invite()
    QTest.keyClicks(invite.query_edit, dave.user_id)
    click(invite.start_button)
    await wait_until(lambda: "Invited" in invite.hint_label.text(), SLOW)
    invite.close()
    await wait_until(lambda: "Dave" in names_in(window, Section.ATTENDEES), SLOW)
    assert window.roster.model.index_of(dave.user_id).data() == "Dave Invited"
    await alice.engine.conferences.set_options(room_id, access_level=AccessLevel.INVITED)
    await erin.engine.conferences.join(room_id)
    await wait_until(lambda: names_in(window, Section.LOBBY) == ["Erin"], SLOW)
    await bob.engine.conversations.send_text(
        room_id, "Morning all! I'll share the numbers in five minutes."
    )
    await wait_until(
        lambda: (
            window.model.rowCount() > 0
            and any(m.body.startswith("Morning all") for m in window.model.messages())
        ),
        SLOW,
    )
    window.resize(980, 620)
    assert window.composer.isEnabled()
    assert window.composer.placeholderText() == "Write a message…"
    await shoot(window, "meeting_roster")
    menu = await context_menu(window.roster, erin.user_id)
    assert [a.text().replace("&", "") for a in menu.actions()] == ["Admit", "Deny"]
    menu.close()
    assert not resets
    await people.close()


# -- the Join dialog and the options --------------------------------------------------


async def test_join_dialog_explains_bad_input(people: People, qtbot) -> None:
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await alice.engine.conferences.meet_now("Locked room")
    await alice.engine.conferences.set_options(room_id, access_level=AccessLevel.LOCKED)
    digits = alice.engine.conferences.details(room_id).conference_id

    dialog = JoinMeetingDialog(bob.engine)
    dialog.show()
    click(dialog.join_button)
    assert dialog.error_label.text() == EMPTY_ERROR

    async def attempt(text: str) -> str:
        dialog.reference_edit.clear()
        QTest.keyClicks(dialog.reference_edit, text)
        click(dialog.join_button)
        await wait_until(lambda: not dialog.is_busy(), SLOW)
        assert dialog.isVisible()
        return dialog.error_label.text()

    assert "not a meeting link" in await attempt("https://example.org/meeting/42")
    assert "not a meeting link" in await attempt("12345")
    assert await attempt("0000000") == "There is no meeting with ID 0000000."
    assert "locked" in await attempt(f"{digits[:3]} {digits[3:]}")
    assert dialog.error_label.isVisible() and dialog.reference_edit.isEnabled()
    check_screenshot(
        dialog,
        SHOTS / "meeting_join_error.png",
        dark=False,
        key_widgets=(dialog.error_label, dialog.reference_edit, dialog.join_button),
    )
    assert unnamed_controls(dialog) == []
    dialog.close()
    await people.close()


async def test_options_dialog_saves_and_explains(people: People, qtbot) -> None:
    alice = await people("Alice")
    room_id, window = await meeting_of(alice)
    assert window.meeting_header is not None
    dialog = window.meeting_header.open_options()
    assert isinstance(dialog, MeetingOptionsDialog)
    assert dialog.access_buttons[AccessLevel.INVITED].isChecked()
    assert dialog.presenter_buttons[PresenterPolicy.EVERYONE].isChecked()
    assert unnamed_controls(dialog) == []
    await shoot(dialog, "meeting_options")
    dialog.subject_edit.clear()
    QTest.keyClicks(dialog.subject_edit, "Budget <b>review</b>")
    click_radio(dialog.access_buttons[AccessLevel.EVERYONE])
    click_radio(dialog.presenter_buttons[PresenterPolicy.CHOSEN])
    assert dialog.chosen_access_level() is AccessLevel.EVERYONE
    assert dialog.chosen_presenter_policy() is PresenterPolicy.CHOSEN
    click(dialog.save_button)
    await wait_until(
        lambda: not shiboken6.isValid(dialog) or not dialog.isVisible(), SLOW, "still open"
    )

    await wait_until(
        lambda: window.meeting_header.subject_label.text() == "Budget <b>review</b>", SLOW
    )
    await wait_until(
        lambda: alice.engine.conferences.details(room_id).access_level is AccessLevel.EVERYONE, SLOW
    )
    await wait_until(
        lambda: (
            alice.engine.conferences.details(room_id).presenter_policy is PresenterPolicy.CHOSEN
        ),
        SLOW,
    )
    assert window.windowTitle() == "Budget <b>review</b>"
    await people.close()


# -- the command line ---------------------------------------------------------------


async def test_meeting_on_the_command_line_is_joined_after_sign_in(
    people: People, make_controller, qtbot
) -> None:
    from ui.app import parse_arguments

    alice = await people("Alice")
    room_id = await alice.engine.conferences.meet_now("From the command line")
    await alice.engine.conferences.set_options(room_id, access_level=AccessLevel.EVERYONE)
    link = alice.engine.conferences.details(room_id).link
    assert parse_arguments([link, "-style", "fusion"])[0].meeting == link
    assert parse_arguments(["-style", "fusion"])[0].meeting is None

    bob_user = people.make_user("bob", displayname="Bob")
    controller = make_controller(meeting=link)
    await controller.start()
    welcome = controller.welcome
    click(welcome.choice_page.remote_button)
    page = welcome.sign_in_page
    QTest.keyClicks(page.address_edit, bob_user.homeserver_url)
    QTest.keyClicks(page.user_edit, bob_user.localpart)
    QTest.keyClicks(page.password_edit, bob_user.password)
    click(page.submit_button)
    await wait_until(lambda: controller.main_window is not None, SLOW, "no main window")
    engine = controller.engine
    assert engine is not None

    def joined() -> bool:
        session = engine.conferences.session(room_id)
        return session is not None and session.state is SessionState.CONNECTED

    await wait_until(joined, SLOW, "the meeting was not joined")
    main = controller.main_window
    assert main is not None
    await wait_until(lambda: main.windows.find(room_id) is not None, SLOW)
    assert controller.pending_meeting is None
    await wait_until(
        lambda: any(
            p.user_id == engine.session.user_id and p.membership is Membership.JOINED
            for p in alice.engine.conferences.participants(room_id)
        ),
        SLOW,
    )
    for window in main.windows.all():
        assert shiboken6.isValid(window)
    await people.close()
