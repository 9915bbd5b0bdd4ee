"""Meetings with two and three real engines on the real Synapse."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from engine import events as ev
from engine.conference_models import (
    AccessLevel,
    JoinMode,
    Membership,
    PresenterPolicy,
    Role,
    SessionState,
)
from engine.engine import Engine
from engine.errors import InvalidMeetingLink, MeetingLocked, ServerRefused, UnknownConference
from engine.models import ConversationKind, Presence
from engine.presence import IN_A_CONFERENCE_CALL
from tests.helpers.engines import eventually, expect_event
from tests.helpers.meetings import membership, session_state

pytestmark = pytest.mark.integration


async def test_meet_now_makes_a_conference_led_by_its_creator(people):
    alice = await people("Alice")
    room_id = await alice.meet_now("Budget review")
    details = alice.conference(room_id)
    assert details is not None
    assert len(details.conference_id) == 7 and details.conference_id.isdigit()
    assert details.subject == "Budget review"
    assert details.alias == f"#{details.conference_id}:localhost"
    assert details.link == f"https://matrix.to/#/%23{details.conference_id}:localhost" or (
        details.link == f"https://matrix.to/#/#{details.conference_id}:localhost"
    )
    assert details.matrix_uri == f"matrix:r/{details.conference_id}:localhost"
    assert details.access_level == AccessLevel.INVITED
    assert details.presenter_policy == PresenterPolicy.EVERYONE
    assert details.my_role == Role.LEADER and details.can_admit and details.can_change_options
    assert session_state(alice, room_id) == SessionState.CONNECTED
    assert alice.conversation(room_id).kind == ConversationKind.CONFERENCE
    await eventually(lambda: alice.own_presence == Presence.BUSY)
    assert alice.own_status == IN_A_CONFERENCE_CALL
    await alice.leave_conference(room_id)
    assert session_state(alice, room_id) == SessionState.LEFT
    await eventually(lambda: alice.own_presence == Presence.AVAILABLE)


@pytest.mark.parametrize("form", ["digits", "matrix.to", "matrix:", "alias", "room id"])
async def test_every_join_form_works_when_everyone_may_join(people, form):
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await alice.meet_now("Open meeting")
    await alice.set_meeting_options(room_id, access_level=AccessLevel.EVERYONE)
    details = alice.conference(room_id)
    reference = {
        "digits": details.conference_id,
        "matrix.to": details.link,
        "matrix:": details.matrix_uri,
        "alias": details.alias,
        "room id": room_id,
    }[form]
    assert await bob.join_conference(reference) == room_id
    assert session_state(bob, room_id) == SessionState.CONNECTED
    await alice.load_participants(room_id)
    await eventually(lambda: membership(alice, room_id, bob.user_id) == Membership.JOINED)
    await eventually(lambda: bob.own_presence == Presence.BUSY)


async def test_lobby_admit_deny_and_admit_all(people):
    alice, bob, carol, dave = [await people(n) for n in ("Alice", "Bob", "Carol", "Dave")]
    room_id = await alice.meet_now("Lobby")
    cid = alice.conference(room_id).conference_id

    knock = expect_event(
        alice, lambda e: isinstance(e, ev.LobbyKnock) and e.participant.user_id == bob.user_id
    )
    await bob.join_conference(cid)
    assert session_state(bob, room_id) == SessionState.IN_LOBBY
    assert bob.conference_session(room_id).lobby_since_ms is not None
    preview = bob.conference(room_id)  # what the lobby page shows
    assert (preview.subject, preview.conference_id) == ("Lobby", cid)
    assert not preview.can_admit and not preview.can_change_options
    await knock
    assert membership(alice, room_id, bob.user_id) == Membership.KNOCKING

    await alice.admit(room_id, bob.user_id)
    await eventually(lambda: session_state(bob, room_id) == SessionState.CONNECTED)
    await eventually(lambda: membership(alice, room_id, bob.user_id) == Membership.JOINED)

    await carol.join_conference(cid)
    await eventually(lambda: membership(alice, room_id, carol.user_id) == Membership.KNOCKING)
    await alice.deny(room_id, carol.user_id)
    await eventually(lambda: session_state(carol, room_id) == SessionState.DENIED)
    assert "Alice" in carol.conference_session(room_id).detail
    await eventually(lambda: membership(alice, room_id, carol.user_id) is None)

    await carol.rejoin_conference(room_id)
    await dave.join_conference(cid)
    await eventually(lambda: membership(alice, room_id, dave.user_id) == Membership.KNOCKING)
    await eventually(lambda: membership(alice, room_id, carol.user_id) == Membership.KNOCKING)
    assert await alice.admit_all(room_id) == 2
    await eventually(lambda: session_state(carol, room_id) == SessionState.CONNECTED)
    await eventually(lambda: session_state(dave, room_id) == SessionState.CONNECTED)


async def test_lobby_timeout_withdraws_the_knock_and_retry_asks_again(people):
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await alice.meet_now()
    await bob.join_conference(alice.conference(room_id).conference_id, lobby_timeout_s=1.5)
    await eventually(lambda: membership(alice, room_id, bob.user_id) == Membership.KNOCKING)
    await eventually(lambda: session_state(bob, room_id) == SessionState.LOBBY_TIMED_OUT, 10)
    assert "Nobody let you in" in bob.conference_session(room_id).detail
    await eventually(lambda: membership(alice, room_id, bob.user_id) is None)
    await bob.rejoin_conference(room_id)
    assert session_state(bob, room_id) == SessionState.IN_LOBBY


async def test_cancel_and_admitting_someone_who_already_left(people):
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await alice.meet_now()
    await bob.join_conference(alice.conference(room_id).conference_id)
    await eventually(lambda: membership(alice, room_id, bob.user_id) == Membership.KNOCKING)
    await bob.cancel_lobby(room_id)
    assert session_state(bob, room_id) == SessionState.LEFT
    await eventually(lambda: membership(alice, room_id, bob.user_id) is None)
    with pytest.raises(ServerRefused, match="no longer waiting"):
        await alice.admit(room_id, bob.user_id)


async def test_two_presenters_admit_the_same_person_at_once(people):
    alice, bob, carol = await people("Alice"), await people("Bob"), await people("Carol")
    room_id = await alice.meet_now()
    await alice.set_meeting_options(room_id, access_level=AccessLevel.EVERYONE)
    await bob.join_conference(room_id)
    await alice.set_meeting_options(room_id, access_level=AccessLevel.INVITED)
    await eventually(lambda: bob.conference(room_id).access_level == AccessLevel.INVITED)
    await carol.join_conference(room_id)
    await eventually(lambda: membership(alice, room_id, carol.user_id) == Membership.KNOCKING)
    await eventually(lambda: membership(bob, room_id, carol.user_id) == Membership.KNOCKING)
    await asyncio.gather(alice.admit(room_id, carol.user_id), bob.admit(room_id, carol.user_id))
    await eventually(lambda: session_state(carol, room_id) == SessionState.CONNECTED)


async def test_bad_references_and_a_locked_meeting(people):
    alice, bob = await people("Alice"), await people("Bob")
    for bad in ("", "12345", "https://example.org/#/x", "matrix:u/bob:hs", "#no server", "hello"):
        with pytest.raises(InvalidMeetingLink):
            await bob.join_conference(bad)
    with pytest.raises(UnknownConference):
        await bob.join_conference("0000000")
    room_id = await alice.meet_now()
    await alice.set_meeting_options(room_id, access_level=AccessLevel.LOCKED)
    with pytest.raises(MeetingLocked):
        await bob.join_conference(alice.conference(room_id).conference_id)
    assert session_state(bob, room_id) == SessionState.FAILED
    # Invited people still get into a locked meeting, directly.
    await alice.invite(room_id, bob.user_id)
    await eventually(lambda: membership(alice, room_id, bob.user_id) == Membership.INVITED)
    await bob.join_conference(room_id)
    assert session_state(bob, room_id) == SessionState.CONNECTED


async def test_roles_permissions_and_removal(people):
    alice, bob, carol = await people("Alice"), await people("Bob"), await people("Carol")
    room_id = await alice.meet_now()
    await alice.set_meeting_options(
        room_id, access_level=AccessLevel.EVERYONE, presenter_policy=PresenterPolicy.CHOSEN
    )
    await bob.join_conference(room_id)
    await carol.join_conference(room_id)
    await alice.load_participants(room_id)
    await bob.load_participants(room_id)

    def role(engine: Engine, user_id: str) -> Role | None:
        found = [p.role for p in engine.conferences.participants(room_id) if p.user_id == user_id]
        return found[0] if found else None

    await eventually(lambda: role(alice, bob.user_id) == Role.ATTENDEE)
    assert role(alice, alice.user_id) == Role.LEADER
    # An attendee may not change roles or remove anyone.
    await eventually(lambda: role(bob, carol.user_id) == Role.ATTENDEE)
    assert not bob.permissions(room_id, carol.user_id).can_make_presenter
    assert bob.permissions(room_id, carol.user_id).reason
    with pytest.raises(ServerRefused):
        await bob.set_role(room_id, carol.user_id, Role.PRESENTER)

    await alice.set_role(room_id, bob.user_id, Role.PRESENTER)
    await eventually(lambda: role(bob, bob.user_id) == Role.PRESENTER)
    await eventually(lambda: role(alice, bob.user_id) == Role.PRESENTER)
    await alice.set_role(room_id, carol.user_id, Role.PRESENTER)
    await eventually(lambda: role(bob, carol.user_id) == Role.PRESENTER)
    # A presenter cannot demote another presenter, nor touch the Leader.
    assert not bob.permissions(room_id, carol.user_id).can_make_attendee
    assert "Leader" in bob.permissions(room_id, carol.user_id).reason
    assert not bob.permissions(room_id, alice.user_id).can_remove
    with pytest.raises(ServerRefused):
        await bob.set_role(room_id, carol.user_id, Role.ATTENDEE)

    await alice.remove_participant(room_id, carol.user_id)
    await eventually(lambda: session_state(carol, room_id) == SessionState.REMOVED)
    session = carol.conference_session(room_id)
    assert session.detail == "Alice removed you from the meeting."
    assert session.can_rejoin
    await eventually(lambda: membership(alice, room_id, carol.user_id) is None)
    await carol.rejoin_conference(room_id)
    assert session_state(carol, room_id) == SessionState.CONNECTED  # Everyone may join
    await eventually(lambda: membership(alice, room_id, carol.user_id) == Membership.JOINED)
    await carol.leave_conference(room_id)
    await eventually(lambda: membership(alice, room_id, carol.user_id) is None)
    await carol.rejoin_conference(room_id)
    await eventually(lambda: membership(alice, room_id, carol.user_id) == Membership.JOINED)


async def test_trusted_join_bypasses_the_lobby(people, synapse, tmp_path):
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await alice.meet_now()
    with pytest.raises(ServerRefused, match="trusted join"):
        await bob.join_conference(room_id, mode=JoinMode.TRUSTED_PARTICIPANT)

    localpart, password = f"bot-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    synapse.register_user_blocking(localpart, password, admin=True, displayname="Announcer")
    bot = Engine(tmp_path / "bot")
    await bot.session.login(synapse.base_url, localpart, password, remember=False)
    await bot.session.start()
    try:
        await bot.conferences.join(
            alice.conference(room_id).conference_id, mode=JoinMode.TRUSTED_PARTICIPANT
        )
        assert session_state(bot, room_id) == SessionState.CONNECTED
        await eventually(
            lambda: membership(alice, room_id, bot.session.user_id) == Membership.JOINED
        )
    finally:
        await bot.session.close()


async def test_same_enterprise_lets_people_of_this_server_in_directly(people):
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await alice.meet_now()
    await alice.set_meeting_options(room_id, access_level=AccessLevel.SAME_ENTERPRISE)
    await eventually(lambda: alice.conference(room_id).access_level == AccessLevel.SAME_ENTERPRISE)
    await bob.join_conference(alice.conference(room_id).conference_id)
    assert session_state(bob, room_id) == SessionState.CONNECTED
    await eventually(lambda: membership(alice, room_id, bob.user_id) == Membership.JOINED)
