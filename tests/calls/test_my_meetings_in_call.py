"""My meetings' "· N in the call": the count follows the meeting's MatrixRTC members.

Real engines with real audio on the test session's sound server (tests/calls/conftest.py).
"""

from __future__ import annotations

import pytest

from tests.calls.conftest import Phones, meeting_of
from tests.helpers.engines import eventually
from ui.my_meetings_model import when_text

pytestmark = pytest.mark.integration


async def test_people_in_the_call_goes_up_when_someone_joins_its_audio_and_back_down(
    phones: Phones,
):
    alice, bob = await phones("Alice"), await phones("Bob")
    room_id = await meeting_of(alice, bob)

    def line():
        summary = alice.engine.my_meetings.summary(room_id)
        assert summary is not None
        return summary

    await eventually(lambda: line().people_here == 2)
    assert line().people_in_call == 0 and line().live
    assert "in the call" not in when_text(line())

    await bob.engine.meeting_calls.join_audio(room_id)
    await eventually(lambda: line().people_in_call == 1, 30)
    assert when_text(line()) == "Now · 2 people · 1 in the call"
    # Bob's own list counts him the same way.
    await eventually(lambda: bob.engine.my_meetings.summary(room_id).people_in_call == 1)

    await bob.engine.meeting_calls.leave_audio(room_id)
    await eventually(lambda: line().people_in_call == 0, 30)
    assert when_text(line()) == "Now · 2 people"
    assert line().people_here == 2  # still in the meeting, only out of its call
