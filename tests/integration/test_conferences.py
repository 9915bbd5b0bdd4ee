"""Meetings with two and three real engines on the real Synapse."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from engine import events as ev
from engine.conference_models import (
    AccessLevel,
    Denial,
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
    room_id = await alice.conferences.meet_now("Budget review")
    details = alice.conferences.details(room_id)
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
    # meet_now returns on the server's answer; the list entry comes with sync
    # (which may bring a new room in pieces, the meeting's state last).
    await eventually(
        lambda: (
            getattr(alice.conversations.conversation(room_id), "kind", None)
            == ConversationKind.CONFERENCE
        )
    )
    await eventually(lambda: alice.presences.own_presence == Presence.BUSY)
    assert alice.presences.own_status == IN_A_CONFERENCE_CALL
    await alice.conferences.leave(room_id)
    assert session_state(alice, room_id) == SessionState.LEFT
    await eventually(lambda: alice.presences.own_presence == Presence.AVAILABLE)


@pytest.mark.parametrize("form", ["digits", "matrix.to", "matrix:", "alias", "room id"])
async def test_every_join_form_works_when_everyone_may_join(people, form):
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await alice.conferences.meet_now("Open meeting")
    await alice.conferences.set_options(room_id, access_level=AccessLevel.EVERYONE)
    details = alice.conferences.details(room_id)
    reference = {
        "digits": details.conference_id,
        "matrix.to": details.link,
        "matrix:": details.matrix_uri,
        "alias": details.alias,
        "room id": room_id,
    }[form]
    assert await bob.conferences.join(reference) == room_id
    assert session_state(bob, room_id) == SessionState.CONNECTED
    await alice.conferences.load_participants(room_id)
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) == Membership.JOINED)
    await eventually(lambda: bob.presences.own_presence == Presence.BUSY)


async def test_lobby_admit_deny_and_admit_all(people):
    alice, bob, carol, dave = [await people(n) for n in ("Alice", "Bob", "Carol", "Dave")]
    room_id = await alice.conferences.meet_now("Lobby")
    cid = alice.conferences.details(room_id).conference_id

    knock = expect_event(
        alice,
        lambda e: isinstance(e, ev.LobbyKnock) and e.participant.user_id == bob.session.user_id,
    )
    await bob.conferences.join(cid)
    assert session_state(bob, room_id) == SessionState.IN_LOBBY
    assert bob.conferences.session(room_id).lobby_since_ms is not None
    preview = bob.conferences.details(room_id)  # what the lobby page shows
    assert (preview.subject, preview.conference_id) == ("Lobby", cid)
    assert not preview.can_admit and not preview.can_change_options
    await knock
    assert membership(alice, room_id, bob.session.user_id) == Membership.KNOCKING

    await alice.conferences.admit(room_id, bob.session.user_id)
    await eventually(lambda: session_state(bob, room_id) == SessionState.CONNECTED)
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) == Membership.JOINED)

    await carol.conferences.join(cid)
    await eventually(
        lambda: membership(alice, room_id, carol.session.user_id) == Membership.KNOCKING
    )
    await alice.conferences.deny(room_id, carol.session.user_id)
    await eventually(lambda: session_state(carol, room_id) == SessionState.DENIED)
    assert carol.conferences.session(room_id).by == "Alice"
    await eventually(lambda: membership(alice, room_id, carol.session.user_id) is None)

    await carol.conferences.rejoin(room_id)
    await dave.conferences.join(cid)
    await eventually(
        lambda: membership(alice, room_id, dave.session.user_id) == Membership.KNOCKING
    )
    await eventually(
        lambda: membership(alice, room_id, carol.session.user_id) == Membership.KNOCKING
    )
    assert await alice.conferences.admit_all(room_id) == 2
    await eventually(lambda: session_state(carol, room_id) == SessionState.CONNECTED)
    await eventually(lambda: session_state(dave, room_id) == SessionState.CONNECTED)


async def test_lobby_timeout_withdraws_the_knock_and_retry_asks_again(people):
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await alice.conferences.meet_now()
    await bob.conferences.join(
        alice.conferences.details(room_id).conference_id, lobby_timeout_s=1.5
    )
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) == Membership.KNOCKING)
    await eventually(lambda: session_state(bob, room_id) == SessionState.LOBBY_TIMED_OUT, 10)
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) is None)
    await bob.conferences.rejoin(room_id)
    assert session_state(bob, room_id) == SessionState.IN_LOBBY


async def test_cancel_and_admitting_someone_who_already_left(people):
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await alice.conferences.meet_now()
    await bob.conferences.join(alice.conferences.details(room_id).conference_id)
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) == Membership.KNOCKING)
    await bob.conferences.cancel_lobby(room_id)
    assert session_state(bob, room_id) == SessionState.LEFT
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) is None)
    with pytest.raises(ServerRefused, match="no longer waiting"):
        await alice.conferences.admit(room_id, bob.session.user_id)


async def test_two_presenters_admit_the_same_person_at_once(people):
    alice, bob, carol = await people("Alice"), await people("Bob"), await people("Carol")
    room_id = await alice.conferences.meet_now()
    await alice.conferences.set_options(room_id, access_level=AccessLevel.EVERYONE)
    await bob.conferences.join(room_id)
    await alice.conferences.set_options(room_id, access_level=AccessLevel.INVITED)
    await eventually(lambda: bob.conferences.details(room_id).access_level == AccessLevel.INVITED)
    await carol.conferences.join(room_id)
    await eventually(
        lambda: membership(alice, room_id, carol.session.user_id) == Membership.KNOCKING
    )
    await eventually(lambda: membership(bob, room_id, carol.session.user_id) == Membership.KNOCKING)
    await asyncio.gather(
        alice.conferences.admit(room_id, carol.session.user_id),
        bob.conferences.admit(room_id, carol.session.user_id),
    )
    await eventually(lambda: session_state(carol, room_id) == SessionState.CONNECTED)


async def test_bad_references_and_a_locked_meeting(people):
    alice, bob = await people("Alice"), await people("Bob")
    for bad in ("", "12345", "https://example.org/#/x", "matrix:u/bob:hs", "#no server", "hello"):
        with pytest.raises(InvalidMeetingLink):
            await bob.conferences.join(bad)
    with pytest.raises(UnknownConference):
        await bob.conferences.join("0000000")
    room_id = await alice.conferences.meet_now()
    await alice.conferences.set_options(room_id, access_level=AccessLevel.LOCKED)
    with pytest.raises(MeetingLocked):
        await bob.conferences.join(alice.conferences.details(room_id).conference_id)
    assert session_state(bob, room_id) == SessionState.FAILED
    # Invited people still get into a locked meeting, directly.
    await alice.conferences.invite(room_id, bob.session.user_id)
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) == Membership.INVITED)
    await bob.conferences.join(room_id)
    assert session_state(bob, room_id) == SessionState.CONNECTED


async def test_roles_permissions_and_removal(people):
    alice, bob, carol = await people("Alice"), await people("Bob"), await people("Carol")
    room_id = await alice.conferences.meet_now()
    await alice.conferences.set_options(
        room_id, access_level=AccessLevel.EVERYONE, presenter_policy=PresenterPolicy.CHOSEN
    )
    await bob.conferences.join(room_id)
    await carol.conferences.join(room_id)
    await alice.conferences.load_participants(room_id)
    await bob.conferences.load_participants(room_id)

    def role(engine: Engine, user_id: str) -> Role | None:
        found = [p.role for p in engine.conferences.participants(room_id) if p.user_id == user_id]
        return found[0] if found else None

    await eventually(lambda: role(alice, bob.session.user_id) == Role.ATTENDEE)
    assert role(alice, alice.session.user_id) == Role.LEADER
    # An attendee may not change roles or remove anyone.
    await eventually(lambda: role(bob, carol.session.user_id) == Role.ATTENDEE)
    assert not bob.conferences.permissions(room_id, carol.session.user_id).can_make_presenter
    assert bob.conferences.permissions(room_id, carol.session.user_id).denial
    with pytest.raises(ServerRefused):
        await bob.conferences.set_role(room_id, carol.session.user_id, Role.PRESENTER)

    await alice.conferences.set_role(room_id, bob.session.user_id, Role.PRESENTER)
    await eventually(lambda: role(bob, bob.session.user_id) == Role.PRESENTER)
    await eventually(lambda: role(alice, bob.session.user_id) == Role.PRESENTER)
    await alice.conferences.set_role(room_id, carol.session.user_id, Role.PRESENTER)
    await eventually(lambda: role(bob, carol.session.user_id) == Role.PRESENTER)
    # A presenter cannot demote another presenter, nor touch the Leader.
    assert not bob.conferences.permissions(room_id, carol.session.user_id).can_make_attendee
    denial = bob.conferences.permissions(room_id, carol.session.user_id).denial
    assert denial is Denial.LEADER_ONLY
    assert not bob.conferences.permissions(room_id, alice.session.user_id).can_remove
    with pytest.raises(ServerRefused):
        await bob.conferences.set_role(room_id, carol.session.user_id, Role.ATTENDEE)

    await alice.conferences.remove(room_id, carol.session.user_id)
    await eventually(lambda: session_state(carol, room_id) == SessionState.REMOVED)
    session = carol.conferences.session(room_id)
    assert session.by == "Alice"
    assert session.can_rejoin
    await eventually(lambda: membership(alice, room_id, carol.session.user_id) is None)
    await carol.conferences.rejoin(room_id)
    assert session_state(carol, room_id) == SessionState.CONNECTED  # Everyone may join
    await eventually(lambda: membership(alice, room_id, carol.session.user_id) == Membership.JOINED)
    await carol.conferences.leave(room_id)
    await eventually(lambda: membership(alice, room_id, carol.session.user_id) is None)
    await carol.conferences.rejoin(room_id)
    await eventually(lambda: membership(alice, room_id, carol.session.user_id) == Membership.JOINED)


async def test_trusted_join_bypasses_the_lobby(people, synapse, tmp_path):
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await alice.conferences.meet_now()
    with pytest.raises(ServerRefused, match="trusted join"):
        await bob.conferences.join(room_id, mode=JoinMode.TRUSTED_PARTICIPANT)

    localpart, password = f"bot-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    synapse.register_user_blocking(localpart, password, admin=True, displayname="Announcer")
    bot = Engine(tmp_path / "bot")
    await bot.session.login(synapse.base_url, localpart, password, remember=False)
    await bot.session.start()
    try:
        await bot.conferences.join(
            alice.conferences.details(room_id).conference_id, mode=JoinMode.TRUSTED_PARTICIPANT
        )
        assert session_state(bot, room_id) == SessionState.CONNECTED
        await eventually(
            lambda: membership(alice, room_id, bot.session.user_id) == Membership.JOINED
        )
    finally:
        await bot.session.close()


async def test_same_enterprise_lets_people_of_this_server_in_directly(people):
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await alice.conferences.meet_now()
    await alice.conferences.set_options(room_id, access_level=AccessLevel.SAME_ENTERPRISE)
    await eventually(
        lambda: alice.conferences.details(room_id).access_level == AccessLevel.SAME_ENTERPRISE
    )
    await bob.conferences.join(alice.conferences.details(room_id).conference_id)
    assert session_state(bob, room_id) == SessionState.CONNECTED
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) == Membership.JOINED)
