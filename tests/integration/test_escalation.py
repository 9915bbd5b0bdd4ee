"""Escalating a two-party conversation into a meeting, with real clients on Synapse.

Seed 002's sequences: the initiator goes ConnectingToConference, JoiningLocalMedia,
WaitingForPeer, Completed; the peer ConnectingToConference, JoiningLocalMedia,
Completed. Peers that are not Confero are plain matrix-nio clients.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from nio import AsyncClient, InviteMemberEvent, RoomMessageNotice

from engine.conference_models import Membership, Role, SessionState
from engine.engine import Engine
from engine.errors import InvalidUserId
from engine.escalation_models import (
    ESCALATE_KEY,
    ESCALATED_FROM,
    ConferenceEscalationProgress,
    ConferenceEscalationResult,
)
from engine.invitation_models import InvitationState
from engine.models import ConnectionState, ConversationKind, Presence
from engine.presence import IN_A_CONFERENCE_CALL
from tests.helpers.engines import eventually, signed_in_engine
from tests.helpers.escalations import INITIATOR_SEQUENCE, PEER_SEQUENCE, record
from tests.helpers.holds import hold_syncs
from tests.helpers.plain_clients import sync_until
from tests.helpers.proxy import FaultyProxy
from tests.helpers.users import TestUser

pytestmark = pytest.mark.integration

P = ConferenceEscalationProgress
R = ConferenceEscalationResult


@pytest.fixture
async def people(
    make_user: Callable[..., TestUser], tmp_path: Path
) -> AsyncIterator[Callable[..., Any]]:
    engines: list[Engine] = []

    accounts: dict[str, TestUser] = {}

    async def person(name: str, *, via: FaultyProxy | None = None, again: bool = False) -> Engine:
        """``again=True``: the same account starting over, on a fresh data folder."""
        user = accounts[name] if again else make_user(name.lower(), displayname=name)
        accounts[name] = user
        if via is not None:
            user = replace(user, homeserver_url=via.base_url)
        engine = await signed_in_engine(user, tmp_path / f"{name}-{len(engines)}")
        engines.append(engine)
        return engine

    yield person
    for engine in engines:
        await engine.session.close()


async def two_party(alice: Engine, bob_id: str, bob: Engine | None = None) -> str:
    room_id = await alice.conversations.start_direct_conversation(bob_id)
    if bob is not None:
        await eventually(lambda: bob.conversations.conversation(room_id) is not None)
    return room_id


async def plain_join(client: AsyncClient, room_id: str) -> None:
    """The plain client accepts the two-party invite; Alice's side sees it."""
    for _ in range(100):
        await client.sync(timeout=500, set_presence="offline")
        if room_id in client.invited_rooms or room_id in client.rooms:
            break
    await client.join(room_id)


async def test_escalation_succeeds_on_both_sides_with_the_seed_sequences(people):
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await two_party(alice, bob.session.user_id, bob)
    alice_log, bob_log = record(alice), record(bob)

    result = await alice.escalation.escalate(room_id)

    assert result.result == R.SUCCESS and result.progress == P.COMPLETED
    conf = result.conference_room_id
    assert alice_log.progress(room_id) == INITIATOR_SEQUENCE
    await eventually(lambda: bob.escalation.progress(room_id) == P.COMPLETED)
    assert bob_log.progress(room_id) == PEER_SEQUENCE
    assert bob.escalation.result(room_id) == R.SUCCESS
    assert [r.conference_room_id for r in bob_log.requests] == [conf]
    assert bob_log.requests[0].escalator == alice.session.user_id
    assert bob.escalation.conference_for(room_id) == conf
    assert alice.escalation.conferencing_uri(room_id).startswith("matrix:r/")
    assert alice.escalation.conferencing_uri(room_id) == bob.escalation.conferencing_uri(room_id)
    # The escalator is the Leader; the peer is a presenter, both connected.
    assert alice.conferences.details(conf).my_role == Role.LEADER
    await eventually(lambda: bob.conferences.details(conf) is not None)
    await eventually(lambda: bob.conferences.details(conf).my_role == Role.PRESENTER)
    for engine in (alice, bob):
        assert engine.conferences.session(conf).state == SessionState.CONNECTED
        await eventually(lambda e=engine: e.presences.own_presence == Presence.BUSY)
        assert engine.presences.own_status == IN_A_CONFERENCE_CALL
    # The two-party conversation is still there, with the request line in it.
    assert alice.conversations.conversation(room_id).kind == ConversationKind.DIRECT
    await eventually(
        lambda: any(
            "moved this conversation to a meeting" in m.body
            for m in bob.conversations.messages(room_id)
        )
    )


async def test_the_peer_follows_on_the_invite_alone(people, monkeypatch):
    """Bob's Confero follows on the invite itself, not on the request message that
    comes after it (that one is for other clients): here Alice posts none."""
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await two_party(alice, bob.session.user_id, bob)
    bob_log = record(bob)

    async def no_request_message(*args: Any, **kwargs: Any) -> None:
        return None

    monkeypatch.setattr(alice.escalation, "_post_request", no_request_message)
    result = await alice.escalation.escalate(room_id, timeout_s=30)

    assert result.result == R.SUCCESS
    await eventually(lambda: bob.escalation.progress(room_id) == P.COMPLETED)
    assert bob_log.progress(room_id) == PEER_SEQUENCE
    assert [r.conference_room_id for r in bob_log.requests] == [result.conference_room_id]
    assert not any(
        "moved this conversation to a meeting" in m.body
        for m in bob.conversations.messages(room_id)
    )


async def test_an_invite_from_someone_else_does_not_move_a_conversation(people):
    """Carol's invite claims Bob's conversation with Alice: Bob does not follow it."""
    alice, bob, carol = await people("Alice"), await people("Bob"), await people("Carol")
    room_id = await two_party(alice, bob.session.user_id, bob)
    bob_log = record(bob)
    impostor = await carol.conferences.meet_now("Not yours")
    forged = {"conference_room": impostor, "uri": "", "link": "", "audio": False}
    invitation = await carol.invitations.deliver(
        impostor,
        bob.session.user_id,
        extra_content={ESCALATED_FROM: room_id, ESCALATE_KEY: forged},
    )
    assert invitation.state == InvitationState.DELIVERED
    # A line Alice sends afterwards: once Bob has it, his sync has seen the invite.
    await alice.conversations.send_text(room_id, "after the invite")
    await eventually(
        lambda: any(m.body == "after the invite" for m in bob.conversations.messages(room_id))
    )
    assert bob.escalation.progress(room_id) == P.NONE
    assert bob_log.requests == []
    assert not bob.conferences.is_member(impostor)


async def test_added_people_are_invited_once_the_peer_follows(people):
    alice, bob, carol = await people("Alice"), await people("Bob"), await people("Carol")
    room_id = await two_party(alice, bob.session.user_id, bob)
    result = await alice.escalation.escalate(room_id, [carol.session.user_id], "Join us")
    conf = result.conference_room_id
    assert result.result == R.SUCCESS
    await eventually(
        lambda: any(
            p.user_id == carol.session.user_id and p.membership == Membership.INVITED
            for p in alice.conferences.participants(conf)
        )
    )


async def test_a_declined_invite_leaves_the_conversation_two_party(people, plain_client):
    alice, bob = await people("Alice"), await plain_client("Bob")
    room_id = await two_party(alice, bob.user_id)
    await plain_join(bob, room_id)
    await eventually(lambda: alice.conversations.conversation(room_id).member_count == 2)

    async def reject_the_meeting() -> None:
        def invited() -> bool:
            return any(r != room_id for r in bob.invited_rooms)

        await sync_until(bob, invited)
        for invited_room in list(bob.invited_rooms):
            if invited_room != room_id:
                await bob.room_leave(invited_room)

    escalating = asyncio.ensure_future(alice.escalation.escalate(room_id, timeout_s=30))
    await reject_the_meeting()
    result = await escalating

    assert result.result == R.DECLINED
    assert alice.escalation.conference_for(room_id) is None
    assert alice.conferences.session(result.conference_room_id).state == SessionState.LEFT
    assert alice.conversations.conversation(room_id).kind == ConversationKind.DIRECT
    # Nothing typed is lost: the two-party room still takes messages.
    await alice.conversations.send_text(room_id, "still here")
    await eventually(
        lambda: any(m.body == "still here" for m in alice.conversations.messages(room_id))
    )


async def test_no_answer_within_the_timeout(people, plain_client):
    alice, bob = await people("Alice"), await plain_client("Bob")
    room_id = await two_party(alice, bob.user_id)
    await plain_join(bob, room_id)
    # Bob is online (his client syncs) but never answers.
    await sync_until(bob, lambda: alice.presences.presence_of(bob.user_id) == Presence.AVAILABLE)

    result = await alice.escalation.escalate(room_id, timeout_s=2)

    assert result.result == R.NO_ANSWER
    assert result.progress == P.WAITING_FOR_PEER  # where it stopped
    await sync_until(bob, lambda: result.conference_room_id not in bob.invited_rooms)


async def test_peer_offline_for_the_whole_timeout(people, plain_client):
    alice, bob = await people("Alice"), await plain_client("Bob")
    room_id = await two_party(alice, bob.user_id)
    await plain_join(bob, room_id)  # joined once, never online since

    result = await alice.escalation.escalate(room_id, timeout_s=2)

    assert result.result == R.PEER_OFFLINE


async def test_peer_offline_joins_when_back(people, synapse):
    proxy = FaultyProxy(synapse.base_url)
    await proxy.start()
    try:
        alice, bob = await people("Alice"), await people("Bob", via=proxy)
        room_id = await two_party(alice, bob.session.user_id, bob)
        proxy.hold_sync()  # Bob's client learns nothing until released
        escalating = asyncio.ensure_future(alice.escalation.escalate(room_id, timeout_s=60))
        await eventually(lambda: alice.escalation.progress(room_id) == P.WAITING_FOR_PEER)
        assert bob.escalation.progress(room_id) == P.NONE
        proxy.release_sync()
        result = await escalating
        assert result.result == R.SUCCESS
        await eventually(lambda: bob.escalation.progress(room_id) == P.COMPLETED)
    finally:
        await proxy.close()


async def test_network_drop_fails_and_try_again_works(people, synapse):
    proxy = FaultyProxy(synapse.base_url)
    await proxy.start()
    try:
        alice, bob = await people("Alice", via=proxy), await people("Bob")
        room_id = await two_party(alice, bob.session.user_id, bob)
        proxy.go_dark()
        result = await alice.escalation.escalate(room_id)
        assert result.result == R.NETWORK_ERROR
        assert alice.conversations.conversation(room_id).kind == ConversationKind.DIRECT
        proxy.go_light()
        again = await alice.escalation.try_again(room_id)
        assert again.result == R.SUCCESS
        await eventually(lambda: bob.escalation.result(room_id) == R.SUCCESS)
    finally:
        await proxy.close()


async def test_an_encrypted_conversation_is_refused(people):
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await two_party(alice, bob.session.user_id, bob)
    client = alice.session.require_client()
    await client.room_put_state(room_id, "m.room.encryption", {"algorithm": "m.megolm.v1.aes-sha2"})
    await eventually(lambda: alice.conversations.conversation(room_id).encrypted)
    log = record(alice)

    result = await alice.escalation.escalate(room_id)

    assert result.result == R.ENCRYPTED
    assert log.progress(room_id) == [P.NONE]  # nothing was started
    assert alice.conferences.sessions() == []


async def test_bad_input_is_refused_before_anything_starts(people):
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await two_party(alice, bob.session.user_id, bob)
    with pytest.raises(InvalidUserId):
        await alice.escalation.escalate(room_id, ["not an id"])
    assert alice.escalation.progress(room_id) == P.NONE
    meeting = await alice.conferences.meet_now("Not two-party")
    assert (await alice.escalation.escalate(meeting)).result == R.NOT_TWO_PARTY


async def test_both_sides_escalating_at_once_make_one_meeting(people):
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await two_party(alice, bob.session.user_id, bob)

    ours, theirs = await asyncio.gather(
        alice.escalation.escalate(room_id), bob.escalation.escalate(room_id)
    )

    assert ours.result == R.SUCCESS and theirs.result == R.SUCCESS
    assert ours.conference_room_id == theirs.conference_room_id
    conf = ours.conference_room_id
    for engine in (alice, bob):
        assert engine.escalation.conference_for(room_id) == conf
        assert engine.conferences.session(conf).state == SessionState.CONNECTED
    # The losing side's own meeting was left: only one stays connected on each side.
    for engine in (alice, bob):
        connected = [s for s in engine.conferences.sessions() if s.state == SessionState.CONNECTED]
        assert [s.room_id for s in connected] == [conf]


async def test_another_matrix_client_sees_the_link_and_joins(people, plain_client):
    alice, bob = await people("Alice"), await plain_client("Bob")
    room_id = await two_party(alice, bob.user_id)
    await plain_join(bob, room_id)
    escalating = asyncio.ensure_future(alice.escalation.escalate(room_id, timeout_s=30))
    notices: list[RoomMessageNotice] = []
    invites: list[InviteMemberEvent] = []

    def on_notice(room: Any, event: RoomMessageNotice) -> None:
        if room.room_id == room_id:
            notices.append(event)

    def on_invite(room: Any, event: InviteMemberEvent) -> None:
        invites.append(event)

    bob.add_event_callback(on_notice, RoomMessageNotice)
    bob.add_event_callback(on_invite, InviteMemberEvent)
    await sync_until(bob, lambda: bool(notices))
    notice = notices[-1]
    link = notice.source["content"][ESCALATE_KEY]["link"]
    assert notice.body == f"Alice moved this conversation to a meeting: {link}"
    assert link.startswith("https://matrix.to/#/")
    conf = notice.source["content"][ESCALATE_KEY]["conference_room"]
    assert conf in bob.invited_rooms  # an ordinary invite
    await bob.join(conf)  # an ordinary join
    result = await escalating
    assert result.result == R.SUCCESS and result.conference_room_id == conf
    with contextlib.suppress(Exception):
        await bob.room_leave(conf)


async def test_sending_in_a_meeting_keeps_busy(people):
    """Synapse bumps "unavailable" to "online" on every event we send; Busy comes back."""
    alice = await people("Alice")
    conf = await alice.conferences.meet_now("Stand-up")
    await eventually(lambda: alice.presences.own_presence == Presence.BUSY)
    await alice.conversations.send_text(conf, "hello")
    await eventually(
        lambda: any(m.body == "hello" and m.event_id for m in alice.conversations.messages(conf))
    )
    probe = alice.session.require_client()

    async def server_says_busy() -> bool:
        answer = await probe.get_presence(alice.session.user_id)
        return answer.presence == "unavailable" and answer.status_msg == IN_A_CONFERENCE_CALL

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while not await server_says_busy():
        assert loop.time() < deadline, "the server kept the bumped presence"
        await asyncio.sleep(0.1)
    assert alice.presences.own_presence == Presence.BUSY


async def test_a_restart_still_knows_which_conversation_a_meeting_came_from(people):
    """The link lives in the meeting's own state, so starting over finds it again;
    a meeting someone else made cannot claim the conversation."""
    alice, bob, carol = await people("Alice"), await people("Bob"), await people("Carol")
    room_id = await two_party(alice, bob.session.user_id, bob)
    conf = (await alice.escalation.escalate(room_id)).conference_room_id
    assert conf
    # Carol's meeting pretends to come from Alice and Bob's conversation.
    impostor = await carol.conferences.meet_now("Not yours", escalated_from=room_id)
    await carol.conferences.invite(impostor, alice.session.user_id)

    restarted = await people("Alice", again=True)
    await eventually(lambda: restarted.escalation.direct_room_of(conf) == room_id)
    assert restarted.escalation.conference_for(room_id) == conf
    await restarted.conferences.join(impostor)
    await eventually(
        lambda: restarted.conferences.session(impostor).state == SessionState.CONNECTED
    )
    assert restarted.escalation.direct_room_of(impostor) is None
    assert restarted.escalation.conference_for(room_id) == conf


async def test_network_drop_while_waiting_fails_and_try_again_works(people, synapse):
    """The network goes while the banner says Waiting for Bob: the result says so,
    the conversation stays two-party, the half-made meeting is cleaned up once the
    network is back, and Try again makes one meeting Bob follows."""
    proxy = FaultyProxy(synapse.base_url)
    await proxy.start()
    try:
        alice, bob = await people("Alice", via=proxy), await people("Bob")
        room_id = await two_party(alice, bob.session.user_id, bob)
        bob_syncs = await hold_syncs(bob)  # Bob hears nothing: Alice keeps waiting
        escalating = asyncio.ensure_future(alice.escalation.escalate(room_id, timeout_s=10))
        # Waiting, with the request posted (Alice's sync brought it back).
        await eventually(lambda: alice.escalation.progress(room_id) == P.WAITING_FOR_PEER)
        await eventually(
            lambda: any(
                "moved this conversation to a meeting" in m.body and m.event_id
                for m in alice.conversations.messages(room_id)
            )
        )
        first = alice.escalation.escalation(room_id).conference_room_id
        proxy.go_dark()
        await eventually(lambda: alice.session.connection != ConnectionState.CONNECTED)
        result = await escalating
        assert result.result == R.NETWORK_ERROR
        assert result.progress == P.WAITING_FOR_PEER  # where it stopped
        assert alice.escalation.conference_for(room_id) is None
        assert alice.conversations.conversation(room_id).kind == ConversationKind.DIRECT

        proxy.go_light()
        await eventually(lambda: alice.session.connection == ConnectionState.CONNECTED, 30)
        # The first meeting is given up for good: Alice left it, Bob's invite is withdrawn.
        await eventually(lambda: alice.conferences.session(first).state == SessionState.LEFT, 30)
        await eventually(
            lambda: all(
                p.membership not in (Membership.INVITED, Membership.JOINED)
                for p in alice.conferences.participants(first)
                if p.user_id == bob.session.user_id
            ),
            30,
        )
        retrying = asyncio.ensure_future(alice.escalation.try_again(room_id))
        await eventually(lambda: alice.escalation.progress(room_id) == P.WAITING_FOR_PEER)
        bob_syncs.release()  # Bob hears both requests now: only the second one counts
        again = await retrying
        assert again.result == R.SUCCESS
        second = again.conference_room_id
        assert second != first
        await eventually(lambda: bob.escalation.result(room_id) == R.SUCCESS)
        assert bob.escalation.conference_for(room_id) == second
        await eventually(lambda: bob.conferences.session(second).state == SessionState.CONNECTED)
        bob_first = bob.conferences.session(first)
        assert bob_first is None or bob_first.state != SessionState.CONNECTED
    finally:
        await proxy.close()
