"""The audio bar and roster follow the engine: a presenter's policy change made
elsewhere, and a participant whose process was killed (network loss).

Real engines on the session's Synapse and real media on the private PulseAudio
server; the killed participant is a separate OS process (tests/helpers/peer_process.py).
"""

from __future__ import annotations

import pytest

from engine.conference_models import AccessLevel, Role
from tests.calls.conftest import TEST_EXPIRY_MS, peer_processes
from tests.helpers.engines import eventually
from tests.helpers.qt_async import wait_until
from tests.ui import test_call_gui
from tests.ui.test_meeting_audio_gui import bar, roster
from tests.ui.test_meetings import SLOW, click

pytestmark = [pytest.mark.integration, pytest.mark.gui]

callers = test_call_gui.callers
__all__ = ["callers", "peer_processes"]  # fixtures, used by name


async def test_the_bar_follows_a_policy_change_made_by_another_presenter(callers):
    alice = await callers("Alice", main_window=False)
    bob = await callers("Bob", main_window=False)
    room_id = await alice.engine.conferences.meet_now("Policy", access_level=AccessLevel.EVERYONE)
    await bob.engine.conferences.join(room_id)
    await alice.engine.conferences.set_role(room_id, bob.user_id, Role.PRESENTER)
    await eventually(
        lambda: any(
            p.is_you and p.role is Role.PRESENTER
            for p in bob.engine.conferences.participants(room_id)
        ),
        SLOW,
    )
    window = alice.windows.open(room_id)
    audio_bar = bar(window)
    await wait_until(lambda: audio_bar.join_button.isEnabled(), SLOW)
    click(audio_bar.join_button)
    await wait_until(lambda: audio_bar.in_audio and audio_bar.isVisible(), SLOW)
    assert not audio_bar.no_unmute_action.isChecked()

    # Bob turns "Attendees can't unmute" on; Alice's menu shows it without reopening.
    await bob.engine.meeting_calls.set_attendees_can_unmute(room_id, False)
    await wait_until(lambda: audio_bar.no_unmute_action.isChecked(), SLOW)
    await bob.engine.meeting_calls.set_attendees_can_unmute(room_id, True)
    await wait_until(lambda: not audio_bar.no_unmute_action.isChecked(), SLOW)


async def test_a_killed_participant_loses_the_audio_mark_in_the_roster(callers, peer_processes):
    alice = await callers("Alice", main_window=False)
    room_id = await alice.engine.conferences.meet_now("Loss", access_level=AccessLevel.EVERYONE)
    window = alice.windows.open(room_id)
    audio_bar = bar(window)
    await wait_until(lambda: audio_bar.join_button.isEnabled(), SLOW)
    click(audio_bar.join_button)
    await wait_until(lambda: audio_bar.in_audio, SLOW)

    dave = await peer_processes("Dave", room_id, expiry_ms=TEST_EXPIRY_MS)
    await dave.ready()
    await wait_until(lambda: roster(window).audio(dave.user_id) is not None, SLOW)
    assert "2 people" in audio_bar.text()

    await dave.kill()
    await wait_until(lambda: roster(window).audio(dave.user_id) is None, TEST_EXPIRY_MS / 1000 + 10)
    assert "1 person" in audio_bar.text()
    assert audio_bar.in_audio
