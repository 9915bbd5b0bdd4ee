"""A connection aiortc closes because the other side stopped answering reads as failed.

The end-to-end case (the peer's process killed) is tests/calls/test_network_loss.py;
this pins the rule that tells it from an orderly close.
"""

from __future__ import annotations

from engine.media.audio_peer import reported_state


def test_closed_with_ice_failed_is_a_lost_connection():
    assert reported_state("closed", ["failed"]) == "failed"


def test_an_orderly_close_stays_closed():
    assert reported_state("closed", ["completed"]) == "closed"
    assert reported_state("closed", []) == "closed"


def test_other_states_pass_through():
    for state in ("new", "connecting", "connected", "failed"):
        assert reported_state(state, ["completed"]) == state
