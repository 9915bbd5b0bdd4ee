import pytest

from engine.models import Presence
from engine.presence import IN_A_CONFERENCE_CALL, from_matrix, to_matrix


@pytest.mark.parametrize(
    "presence", [Presence.AVAILABLE, Presence.BUSY, Presence.AWAY, Presence.OFFLINE]
)
def test_round_trip(presence):
    assert from_matrix(*to_matrix(presence)) == presence


def test_in_a_conference_call_is_busy():
    assert to_matrix(Presence.BUSY, IN_A_CONFERENCE_CALL) == ("unavailable", IN_A_CONFERENCE_CALL)
    assert from_matrix("unavailable", IN_A_CONFERENCE_CALL) == Presence.BUSY
    assert from_matrix("unavailable", "lunch") == Presence.AWAY
    assert from_matrix(None, None) == Presence.UNKNOWN
