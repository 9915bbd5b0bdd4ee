"""An admission that crosses the user giving up the lobby (Cancel, the timeout).

Two real engines on the real Synapse. The crossing is made to happen every
time by holding back the answer of one real request (tests/helpers/holds.py)
or a presenter's view of the room, never by replacing the server.
"""

from __future__ import annotations

import pytest

from engine.conference_models import Membership, SessionState
from engine.models import Presence
from tests.helpers.engines import eventually
from tests.helpers.holds import HeldAnswers, SeenAfter, hold_syncs, settled
from tests.helpers.meetings import membership, session_state

pytestmark = pytest.mark.integration


async def bob_in_alices_lobby(people, lobby_timeout_s: float | None = None):
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await alice.conferences.meet_now("Lobby races")
    syncs = HeldAnswers(bob, "sync", held=False)  # counts Bob's syncs
    await bob.conferences.join(
        alice.conferences.details(room_id).conference_id, lobby_timeout_s=lobby_timeout_s
    )
    assert session_state(bob, room_id) is SessionState.IN_LOBBY
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) == Membership.KNOCKING)
    return alice, bob, room_id, syncs


async def test_cancel_while_the_admission_is_joining_stays_out(people):
    alice, bob, room_id, _ = await bob_in_alices_lobby(people)
    bobs_syncs = await hold_syncs(bob)  # Bob's app hears of his join only by its answer
    joins = HeldAnswers(bob, "join")
    await alice.conferences.admit(room_id, bob.session.user_id)
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) == Membership.INVITED)
    bobs_syncs.release(until=lambda answer: room_id in answer.rooms.invite)
    # Bob's app joined on the server, but has not heard back yet: he cancels.
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) == Membership.JOINED)
    assert joins.waiting == 1
    await bob.conferences.cancel_lobby(room_id)
    assert session_state(bob, room_id) is SessionState.LEFT
    seen = SeenAfter(bob)
    joins.release()
    await eventually(lambda: joins.answered == 1)
    bobs_syncs.release()
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) is None)
    await settled(bob, bobs_syncs)
    assert session_state(bob, room_id) is SessionState.LEFT
    assert "CONNECTED" not in seen.states and "BUSY" not in seen.presences  # not even briefly
    assert bob.presences.own_presence is Presence.AVAILABLE
    assert membership(alice, room_id, bob.session.user_id) is None


@pytest.mark.parametrize("give_up", ["cancel", "timeout"])
async def test_an_admission_after_giving_up_is_declined(people, give_up):
    alice, bob, room_id, syncs = await bob_in_alices_lobby(
        people, lobby_timeout_s=2.0 if give_up == "timeout" else None
    )
    # Alice's app has not heard that Bob gave up: she admits his stale knock.
    alices_syncs = await hold_syncs(alice)
    if give_up == "cancel":
        await bob.conferences.cancel_lobby(room_id)
        assert session_state(bob, room_id) is SessionState.LEFT
    else:
        await eventually(lambda: session_state(bob, room_id) is SessionState.LOBBY_TIMED_OUT)
    assert membership(alice, room_id, bob.session.user_id) == Membership.KNOCKING
    await alice.conferences.admit(
        room_id, bob.session.user_id
    )  # the server accepts: an invite for Bob
    alices_syncs.release()
    # Bob's app says no to it: he is neither in the meeting nor left "Invited".
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) is None)
    await settled(bob, syncs)
    assert session_state(bob, room_id) in (SessionState.LEFT, SessionState.LOBBY_TIMED_OUT)
    assert bob.presences.own_presence is Presence.AVAILABLE
    assert membership(alice, room_id, bob.session.user_id) is None


async def test_an_admission_on_its_way_when_the_lobby_times_out_gets_in(people):
    alice, bob, room_id, syncs = await bob_in_alices_lobby(people, lobby_timeout_s=3.0)
    timer = bob.conferences.lobby_timer(room_id)
    bobs_syncs = await hold_syncs(bob)  # Bob's app hears of the admission only by its join
    await alice.conferences.admit(room_id, bob.session.user_id)
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) == Membership.INVITED)
    joins = HeldAnswers(bob, "join")
    bobs_syncs.release(until=lambda answer: room_id in answer.rooms.invite)
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) == Membership.JOINED)
    await eventually(timer.done)  # the wait ran out while the join was on its way
    bobs_syncs.release()
    joins.release()
    # Let in at the last moment: in the meeting, on both sides, and Busy.
    await eventually(lambda: session_state(bob, room_id) is SessionState.CONNECTED)
    await settled(bob, syncs)
    assert session_state(bob, room_id) is SessionState.CONNECTED
    assert membership(alice, room_id, bob.session.user_id) == Membership.JOINED
    assert bob.presences.own_presence is Presence.BUSY
