"""Meeting audio through the GUI: Join audio, the audio bar, the roster's marks, presenters'
controls.

Three real engines on the session's Synapse, each with its own virtual microphone and
speaker on the test session's private PulseAudio server (tests/helpers/pulse.py).
Tones are generated (sine waves: 440, 660 and 880 Hz) and played into each person's
virtual microphone; what each hears is recorded from their virtual speaker and checked
by FFT. Every action is a click, a key or a context menu in the windows. Nothing is
mocked.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAccessible, QAccessibleActionInterface, QContextMenuEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

from engine.conference_models import AccessLevel, PresenterPolicy, Role, SessionState
from tests.helpers.a11y import do_action, item_named, unnamed_controls
from tests.helpers.audio import TonePlayer, heard
from tests.helpers.pulse import server_without_microphone
from tests.helpers.qt_async import wait_until
from tests.helpers.sound import listen, until_hears, until_silent
from tests.ui import test_call_gui
from tests.ui.test_call_gui import Caller, Callers, press
from tests.ui.test_meetings import SLOW, action, click, context_menu, shoot
from ui.conversation_window import ConversationWindow
from ui.join_meeting_dialog import JoinMeetingDialog
from ui.meeting_audio_bar import MeetingAudioBar
from ui.meeting_audio_text import (
    CANNOT_UNMUTE_REASON,
    MUTED_BY_PRESENTER,
    NO_MICROPHONE_NOTE,
    ONLY_PRESENTERS_REASON,
    mesh_full_text,
)
from ui.roster_model import RosterModel

pytestmark = [pytest.mark.integration, pytest.mark.gui]

TONES = {"Alice": 440.0, "Bob": 660.0, "Carol": 880.0}
#: The two-party call tests' people: engines with devices of their own, by name.
callers = test_call_gui.callers


def bar(window: ConversationWindow) -> MeetingAudioBar:
    assert window.meeting is not None
    return window.meeting.audio


def roster(window: ConversationWindow) -> RosterModel:
    assert window.roster is not None
    return window.roster.model


def in_call(window: ConversationWindow, *people: Caller) -> bool:
    return all(roster(window).audio(p.user_id) is not None for p in people)


async def join_by_link(person: Caller, link: str) -> ConversationWindow:
    """Join through Join a meeting…, as a person would with the link they were sent."""
    dialog = JoinMeetingDialog(person.engine)
    dialog.joined.connect(lambda room_id: person.windows.open(room_id))
    dialog.show()
    QTest.keyClicks(dialog.reference_edit, link)
    click(dialog.join_button)
    await wait_until(lambda: bool(person.windows.all()), SLOW)
    window = person.windows.all()[0]
    await wait_until(
        lambda: (
            (s := person.engine.conferences.session(window.room_id)) is not None
            and s.state is SessionState.CONNECTED
        ),
        SLOW,
    )
    await wait_until(lambda: bar(window).join_button.isEnabled(), SLOW)
    dialog.close()
    dialog.deleteLater()  # on the GUI thread, not whenever garbage collection finds it
    return window


async def three_in_a_meeting(
    callers: Callers,
) -> tuple[list[Caller], str, list[ConversationWindow]]:
    """Alice's meeting (she presents, Bob and Carol attend), each in their own window."""
    alice = await callers("Alice", main_window=False)
    bob = await callers("Bob", main_window=False)
    carol = await callers("Carol", main_window=False)
    room_id = await alice.engine.conferences.meet_now("Audio check")
    await alice.engine.conferences.set_options(
        room_id, access_level=AccessLevel.EVERYONE, presenter_policy=PresenterPolicy.CHOSEN
    )
    alices = alice.windows.open(room_id)
    header = alices.meeting_header
    assert header is not None
    await wait_until(lambda: header.link_edit.text() != "", SLOW)
    link = header.link_edit.text()
    windows = [alices, await join_by_link(bob, link), await join_by_link(carol, link)]
    for window in windows:
        await wait_until(lambda w=window: roster(w).participant(alice.user_id) is not None, SLOW)
    return [alice, bob, carol], room_id, windows


def keyboard_menu(window: ConversationWindow, user_id: str) -> QMenu:
    """The Menu key on someone's row (the current row)."""
    panel = window.roster
    assert panel is not None
    index = panel.model.index_of(user_id)
    assert index.isValid()
    panel.view.setCurrentIndex(index)
    panel.view.setFocus()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, QPoint(0, 0))
    QApplication.sendEvent(panel.view, event)
    menu = panel.last_menu
    assert menu is not None and menu.isVisible()
    return menu


async def test_three_hear_each_other_mute_and_presenters_controls(
    callers: Callers,
    qtbot,
) -> None:
    (alice, bob, carol), room_id, (alices, bobs, carols) = await three_in_a_meeting(callers)
    assert unnamed_controls(alices) == [] and unnamed_controls(bobs) == []
    alice_bar, bob_bar, carol_bar = bar(alices), bar(bobs), bar(carols)
    assert alice_bar.join_button.accessibleName() == "Join audio"
    assert "Ctrl+Shift+S" in alice_bar.join_button.toolTip()
    assert alice_bar.text() == ""  # no bar until you are in the audio

    # Bob clicks Join audio; Carol presses Ctrl+Shift+S.
    click(bob_bar.join_button)
    press(carols, Qt.Key.Key_S)
    await wait_until(lambda: bob_bar.text().startswith("In the meeting's audio · 2 people"), SLOW)
    await wait_until(lambda: carol_bar.text().startswith("In the meeting's audio · 2 people"), SLOW)
    # Alice sees who is in before joining herself.
    await wait_until(lambda: in_call(alices, bob, carol), SLOW)
    assert "2 people in the meeting's audio" in alice_bar.join_button.toolTip()

    # This computer carries only one other: Alice is told plainly, the others go on.
    alice.engine.meeting_calls.mesh_limit = 1
    click(alice_bar.join_button)
    await wait_until(lambda: alices.error_banner.text() != "", SLOW)
    assert alices.error_banner.text() == mesh_full_text(1)
    assert alices.error_banner.text() == (
        "The meeting's audio is full on this computer (2 people). You can still follow the chat."
    )
    assert alice_bar.text() == "" and alice_bar.join_button.isEnabled()
    await shoot(alices, "meeting_audio_full", alices.error_banner, alice_bar.join_button)
    alice.engine.meeting_calls.mesh_limit = 8
    click(alice_bar.join_button)
    for window in (alices, bobs, carols):
        await wait_until(
            lambda w=window: bar(w).text().startswith("In the meeting's audio · 3 people"), SLOW
        )
        await wait_until(lambda w=window: in_call(w, alice, bob, carol), SLOW)
    assert alices.error_banner.text() == ""
    assert not alice_bar.join_button.isVisible() and alice_bar.mute_button.isVisible()
    for window in (alices, bobs, carols):
        assert unnamed_controls(window) == []

    with (
        TonePlayer(alice.server, alice.devices.mic_sink, TONES["Alice"]),
        TonePlayer(bob.server, bob.devices.mic_sink, TONES["Bob"]),
        TonePlayer(carol.server, carol.devices.mic_sink, TONES["Carol"]),
    ):
        for person in (alice, bob, carol):
            others = [hz for name, hz in TONES.items() if name != person.name]
            await until_hears(person, *others, timeout=30)
            assert not heard(await listen(person), TONES[person.name]), f"{person.name} echoes"

        # The one with a tone shows as speaking, in words too.
        await wait_until(lambda: (a := roster(alices).audio(bob.user_id)) and a.speaking, SLOW)
        assert window_item(alices, "Bob").endswith("in the call, speaking")
        # With their level beside the microphone, on every roster, ours too.
        for window in (alices, bobs, carols):
            await wait_until(lambda w=window: roster(w).audio(bob.user_id).level >= 0.5, SLOW)
        await shoot(alices, "meeting_audio_speaking", alice_bar, alices.roster)

        # Bob mutes: nobody hears him, everyone's roster shows him muted.
        click(bob_bar.mute_button)
        await wait_until(lambda: bob_bar.text().endswith("· muted"), SLOW)
        assert bob_bar.mute_button.text() == "Unmute"
        assert bob_bar.mute_button.accessibleName() == "Unmute"
        await until_silent(alice, TONES["Bob"])
        await until_silent(carol, TONES["Bob"])
        await until_hears(alice, TONES["Carol"])  # Carol still heard
        for window in (alices, bobs, carols):
            await wait_until(lambda w=window: roster(w).audio(bob.user_id).muted, SLOW)
            await wait_until(lambda w=window: roster(w).audio(bob.user_id).level == 0.0, SLOW)
        assert window_item(alices, "Bob").endswith("in the call, muted")
        # Ctrl+Shift+M unmutes him again.
        press(bobs, Qt.Key.Key_M)
        await wait_until(lambda: bob_bar.mute_button.text() == "Mute", SLOW)
        await until_hears(carol, TONES["Bob"])
        await wait_until(lambda: not roster(alices).audio(bob.user_id).muted, SLOW)

        # Alice, presenting, mutes Carol from the roster: silent, and Carol is told.
        menu = await context_menu(alices.roster, carol.user_id)
        mute = action(menu, "Mute")
        assert mute.isEnabled()
        mute.trigger()
        await until_silent(alice, TONES["Carol"])
        await until_silent(bob, TONES["Carol"])
        await wait_until(lambda: MUTED_BY_PRESENTER in carol_bar.text(), SLOW)
        await wait_until(lambda: roster(alices).audio(carol.user_id).muted, SLOW)
        assert carol_bar.mute_button.isEnabled()  # unmuting is still allowed
        await shoot(carols, "meeting_audio_muted_by_presenter", carol_bar.mute_button)
        menu = await context_menu(alices.roster, carol.user_id)
        assert not action(menu, "Mute").isEnabled()  # already muted: says so
        assert action(menu, "Mute").toolTip() == "They are already muted"
        menu.close()
        # Attendees get Mute greyed out, with the reason.
        menu = await context_menu(bobs.roster, carol.user_id)
        assert not action(menu, "Mute").isEnabled()
        assert action(menu, "Mute").toolTip() == ONLY_PRESENTERS_REASON
        menu.close()
        click(carol_bar.mute_button)  # Unmute
        await until_hears(alice, TONES["Carol"])

        # Attendees can't unmute: both are muted and their Unmute is greyed out, with why.
        assert not bob_bar.controls_button.isEnabled()
        assert bob_bar.controls_button.toolTip() == ONLY_PRESENTERS_REASON
        click(alice_bar.controls_button)
        controls = alice_bar.controls_menu
        await wait_until(controls.isVisible, 5)
        assert not alice_bar.no_unmute_action.isChecked()
        alice_bar.no_unmute_action.trigger()
        await until_silent(alice, TONES["Bob"], TONES["Carol"])
        for attendee in (bob_bar, carol_bar):
            await wait_until(lambda b=attendee: not b.mute_button.isEnabled(), SLOW)
            assert attendee.mute_button.text() == "Unmute"
            assert attendee.mute_button.toolTip() == CANNOT_UNMUTE_REASON
            assert "Attendees can't unmute" in attendee.text()
        press(bobs, Qt.Key.Key_M)  # the key does nothing either
        policy = alice.engine.meeting_calls.policy
        await wait_until(lambda: policy(room_id).attendees_can_unmute is False, SLOW)
        assert bob.engine.meeting_calls.muted(room_id)
        await shoot(bobs, "meeting_audio_cannot_unmute", bob_bar.mute_button, bob_bar.leave_button)
        await until_hears(bob, TONES["Alice"])  # presenters still speak
        click(alice_bar.controls_button)
        await wait_until(controls.isVisible, 5)
        assert alice_bar.no_unmute_action.isChecked()
        alice_bar.no_unmute_action.trigger()
        await wait_until(lambda: bob_bar.mute_button.isEnabled(), SLOW)
        # Wait for the engine to finish applying the change (see the report: an unmute
        # while it re-mutes can be lost).
        await wait_until(lambda: MUTED_BY_PRESENTER not in bob_bar.text(), SLOW)
        click(bob_bar.mute_button)
        await until_hears(alice, TONES["Bob"])

        # Mute all attendees: Bob and Carol (Carol is still muted), not Alice.
        click(carol_bar.mute_button)
        await until_hears(alice, TONES["Carol"])
        click(alice_bar.controls_button)
        await wait_until(controls.isVisible, 5)
        alice_bar.mute_all_action.trigger()
        await until_silent(alice, TONES["Bob"], TONES["Carol"])
        await until_hears(bob, TONES["Alice"])
        assert not alice.engine.meeting_calls.muted(room_id)
        await wait_until(lambda: MUTED_BY_PRESENTER in bob_bar.text(), SLOW)

    # Carol leaves the meeting: she leaves its audio too, and the others see it.
    assert carols.meeting_header is not None
    click(carols.meeting_header.leave_button)
    await wait_until(lambda: carol_bar.text() == "", SLOW)
    assert not carol_bar.join_button.isEnabled()
    await wait_until(lambda: roster(alices).audio(carol.user_id) is None, SLOW)
    await wait_until(lambda: alice_bar.text().startswith("In the meeting's audio · 2 people"), SLOW)
    # Bob leaves the audio alone: Join audio is back, he stays in the meeting.
    click(bob_bar.leave_button)
    await wait_until(lambda: bob_bar.text() == "" and bob_bar.join_button.isVisible(), SLOW)
    assert bob.engine.conferences.session(room_id).state is SessionState.CONNECTED
    await wait_until(lambda: roster(alices).audio(bob.user_id) is None, SLOW)
    await callers.close()


def window_item(window: ConversationWindow, name: str) -> str:
    """What a screen reader says for someone's row."""
    assert window.roster is not None
    return item_named(window.roster.view, name).text(QAccessible.Text.Name)


async def test_meeting_audio_by_keyboard_and_accessibility_only(
    callers: Callers,
    qtbot,
) -> None:
    (alice, bob, carol), room_id, (alices, bobs, _carols) = await three_in_a_meeting(callers)
    alice_bar, bob_bar = bar(alices), bar(bobs)
    press(alices, Qt.Key.Key_S)  # Join audio
    await wait_until(lambda: alice_bar.text().startswith("In the meeting's audio · 1 person"), SLOW)
    # A screen reader presses Join audio through the accessibility interface.
    do_action(bob_bar.join_button, QAccessibleActionInterface.pressAction())
    await wait_until(lambda: in_call(alices, alice, bob) and in_call(bobs, alice, bob), SLOW)
    with TonePlayer(bob.server, bob.devices.mic_sink, TONES["Bob"]):
        await until_hears(alice, TONES["Bob"], timeout=30)
        # The Menu key on Bob's row, then M&ute's letter.
        menu = keyboard_menu(alices, bob.user_id)
        assert menu.accessibleName() == "Actions for Bob"
        QTest.keyClick(menu, Qt.Key.Key_U)
        await until_silent(alice, TONES["Bob"])
        await wait_until(lambda: MUTED_BY_PRESENTER in bob_bar.text(), SLOW)
        press(bobs, Qt.Key.Key_M)  # Unmute: allowed
        await until_hears(alice, TONES["Bob"])
        # Presenter controls: Tab to the button, Space opens them, Enter picks.
        alice_bar.controls_button.setFocus()
        QTest.keyClick(alice_bar.controls_button, Qt.Key.Key_Space)
        menu = alice_bar.controls_menu
        await wait_until(menu.isVisible, 5)
        QTest.keyClick(menu, Qt.Key.Key_Down)
        QTest.keyClick(menu, Qt.Key.Key_Down)
        QTest.keyClick(menu, Qt.Key.Key_Return)  # Attendees can't unmute
        await wait_until(lambda: not bob_bar.mute_button.isEnabled(), SLOW)
        await until_silent(alice, TONES["Bob"])
    press(bobs, Qt.Key.Key_L)  # Leave audio
    await wait_until(lambda: bob_bar.text() == "" and bob_bar.join_button.isVisible(), SLOW)
    await wait_until(lambda: roster(alices).audio(bob.user_id) is None, SLOW)
    assert alice.engine.meeting_calls.policy(room_id).attendees_can_unmute is False
    assert carol.engine.conferences.participants(room_id)  # Carol followed along
    assert any(p.role is Role.ATTENDEE for p in alice.engine.conferences.participants(room_id))

    # Ctrl+W closes Alice's window: her audio goes with it, she stays in the meeting.
    assert alice.engine.meeting_calls.in_audio(room_id)
    alices.activateWindow()
    QApplication.setActiveWindow(alices)
    QTest.keyClick(alices.composer, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    await wait_until(lambda: not alice.engine.meeting_calls.in_audio(room_id), SLOW)
    assert alice.engine.conferences.session(room_id).state is SessionState.CONNECTED
    await wait_until(lambda: not bob.engine.meeting_calls.participants_in_audio(room_id), SLOW)
    await callers.close()


async def test_no_microphone_joins_receive_only_and_the_bar_says_so(
    callers: Callers, tmp_path: Path, qtbot
) -> None:
    alice = await callers("Alice", main_window=False)
    dora = await callers("Dora", main_window=False)
    # Dora's computer has a speaker and no microphone (a sound server of her own).
    pulse, doras_ears = server_without_microphone(tmp_path / "dora-pulse", "dora")
    try:
        dora.engine.media.use_sound_server(pulse.server)
        dora.engine.media.choose_devices(None, doras_ears.devices.speaker)
        room_id = await alice.engine.conferences.meet_now("No mic")
        await alice.engine.conferences.set_options(room_id, access_level=AccessLevel.EVERYONE)
        alices = alice.windows.open(room_id)
        header = alices.meeting_header
        assert header is not None
        await wait_until(lambda: header.link_edit.text() != "", SLOW)
        doras = await join_by_link(dora, header.link_edit.text())
        click(bar(alices).join_button)
        click(bar(doras).join_button)

        # She is in, told plainly that no one hears her; she hears the others.
        await wait_until(lambda: NO_MICROPHONE_NOTE in bar(doras).text(), SLOW)
        await wait_until(
            lambda: bar(doras).text().startswith("In the meeting's audio · 2 people"), SLOW
        )
        await wait_until(lambda: in_call(alices, alice, dora) and in_call(doras, alice, dora), SLOW)
        with TonePlayer(alice.server, alice.devices.mic_sink, TONES["Alice"]):
            await until_hears(doras_ears, TONES["Alice"], timeout=30)
        assert roster(alices).audio(dora.user_id).level == 0.0
        assert NO_MICROPHONE_NOTE not in bar(alices).text()
        await shoot(doras, "meeting_audio_no_microphone", bar(doras).label, bar(doras).mute_button)

        # She plugs a headset in: the note goes, and she is heard.
        feed = pulse.add_sink("headsetfeed")
        pulse.add_microphone("headset", f"{feed}.monitor")
        await wait_until(lambda: NO_MICROPHONE_NOTE not in bar(doras).text(), SLOW)
        with TonePlayer(pulse.server, feed, TONES["Bob"]):
            await until_hears(alice, TONES["Bob"], timeout=30)
        await callers.close()
    finally:
        pulse.stop()
