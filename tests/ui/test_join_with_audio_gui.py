"""Seed 002's invited side through the GUI: an invitation to a meeting whose call is
on offers Join with audio; the meeting audio bar says Connecting and Joining.

Real engines on the session's Synapse with virtual devices on the private PulseAudio
server; Alice's generated 440 Hz tone is checked by FFT in what Bob hears. Bob acts
through his main window's toast and his meeting window, by keyboard and by click.
"""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from engine.calls.call_membership import CALL_MEMBER, member_state_key, membership_content
from engine.calls.call_models import AvModalityState
from engine.conference_models import AccessLevel
from tests.helpers.a11y import unnamed_controls
from tests.helpers.audio import TonePlayer
from tests.helpers.qt_async import wait_until
from tests.helpers.sound import until_hears
from tests.ui import test_call_gui
from tests.ui.test_call_gui import Callers
from tests.ui.test_meetings import SLOW, click, shoot
from ui.meeting_audio_text import CONNECTING, JOINING, mesh_full_text

pytestmark = [pytest.mark.integration, pytest.mark.gui]

S = AvModalityState
callers = test_call_gui.callers


async def test_join_with_audio_from_the_toast_and_the_bar_says_how_far_it_got(
    callers: Callers, qtbot, plain_client
) -> None:
    alice = await callers("Alice", main_window=False)
    bob = await callers("Bob")
    assert bob.main is not None
    room_id = await alice.engine.conferences.meet_now(
        "Budget call", access_level=AccessLevel.EVERYONE
    )
    await alice.engine.meeting_calls.join_audio(room_id)
    await alice.engine.invitations.deliver(room_id, bob.user_id, "We are on the call")

    # The toast says the call is on and offers Join with audio beside Join and Decline.
    toasts = bob.main.invitation_toasts
    await wait_until(lambda: toasts.toast(room_id) is not None, SLOW)
    toast = toasts.toast(room_id)
    assert toast.audio_button.isVisible()
    assert toast.audio_button.accessibleName() == "Join Budget call with audio"
    assert toast.audio_button.text() == "Join with &audio"
    assert "call is on" in toast.accessibleDescription()
    assert unnamed_controls(toast) == []
    assert bob.engine.meeting_calls.audio_state(room_id) is S.NOTIFIED
    await shoot(bob.main, "invitation_toast_with_audio", toast.audio_button)

    # From the keyboard: Tab reaches it, Space presses it.
    toast.audio_button.setFocus(Qt.FocusReason.TabFocusReason)
    QTest.keyClick(toast.audio_button, Qt.Key.Key_Space)
    await wait_until(lambda: bob.windows.find(room_id) is not None, SLOW)
    window = bob.windows.find(room_id)
    assert window.meeting is not None
    bob_bar = window.meeting.audio
    await wait_until(lambda: bob_bar.text() == "In the meeting's audio · 2 people", SLOW)
    assert bob.engine.meeting_calls.audio_state(room_id) is S.CONNECTED
    assert toasts.toast(room_id) is None
    with TonePlayer(alice.server, alice.devices.mic_sink, 440):
        await until_hears(bob, 440, timeout=30)

    # Joining again through the bar: its words follow the seed's states.
    click(bob_bar.leave_button)
    await wait_until(lambda: bob_bar.text() == "", SLOW)
    shown = len(bob_bar.history)
    click(bob_bar.join_button)
    await wait_until(lambda: bob_bar.text() == "In the meeting's audio · 2 people", SLOW)
    assert bob_bar.history[shown:] == [CONNECTING, JOINING, "In the meeting's audio · 2 people"]

    # Someone in the call who never answers: the bar stays at Joining, with Leave.
    aaron = await plain_client("Aaron")  # sorts before Bob: Bob waits for his offer
    await aaron.join(room_id)
    click(bob_bar.leave_button)
    await wait_until(lambda: bob_bar.text() == "", SLOW)
    await aaron.room_put_state(
        room_id,
        CALL_MEMBER,
        membership_content("SILENT", "s1", int(time.time() * 1000), 600_000),
        state_key=member_state_key(aaron.user_id, "SILENT"),
    )
    await alice.engine.meeting_calls.leave_audio(room_id)
    await wait_until(
        lambda: (
            {p.user_id for p in bob.engine.meeting_calls.participants_in_audio(room_id)}
            == {aaron.user_id}
        ),
        SLOW,
    )
    click(bob_bar.join_button)
    await wait_until(lambda: bob_bar.text() == JOINING, SLOW)
    assert bob_bar.leave_button.isVisible() and bob_bar.leave_button.isEnabled()
    window.resize(900, 560)
    await shoot(window, "meeting_audio_joining", bob_bar)
    click(bob_bar.leave_button)
    await wait_until(lambda: bob.engine.meeting_calls.audio_state(room_id) is S.DISCONNECTED, SLOW)


async def test_join_with_audio_when_the_audio_cannot_start_opens_the_meeting_and_says_why(
    callers: Callers, qtbot
) -> None:
    alice = await callers("Alice", main_window=False)
    bob = await callers("Bob")
    assert bob.main is not None
    room_id = await alice.engine.conferences.meet_now(
        "Budget call", access_level=AccessLevel.EVERYONE
    )
    await alice.engine.meeting_calls.join_audio(room_id)
    bob.engine.meeting_calls.mesh_limit = 0  # this computer carries nobody else's audio
    await alice.engine.invitations.deliver(room_id, bob.user_id)
    toasts = bob.main.invitation_toasts
    await wait_until(lambda: toasts.toast(room_id) is not None, SLOW)

    click(toasts.toast(room_id).audio_button)

    # In the meeting (its window opens), not in its call, and told why there.
    await wait_until(lambda: bob.windows.find(room_id) is not None, SLOW)
    window = bob.windows.find(room_id)
    await wait_until(lambda: window.error_banner.text() != "", SLOW)
    assert window.error_banner.text() == mesh_full_text(0)
    assert "You can still follow the chat" in window.error_banner.text()
    assert toasts.toast(room_id) is None
    assert bob.engine.meeting_calls.audio_state(room_id) is S.DISCONNECTED
    assert not bob.engine.meeting_calls.in_audio(room_id)
    bob_bar = window.meeting.audio
    await wait_until(lambda: bob_bar.join_button.isEnabled(), SLOW)
    await shoot(window, "join_with_audio_failed", window.error_banner, bob_bar.join_button)
