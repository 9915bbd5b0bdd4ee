"""Invitations (seed 003) between real engines on the real Synapse: every state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from engine import events as ev
from engine.conference_models import PresenterPolicy
from engine.engine import Engine
from engine.invitations import (
    ESCALATED_FROM,
    InvitationFailure,
    InvitationState,
)
from tests.helpers.engines import eventually, expect_event, signed_in_engine
from tests.helpers.users import TestUser

pytestmark = pytest.mark.integration


@pytest.fixture
async def people(
    make_user: Callable[..., TestUser], tmp_path: Path
) -> AsyncIterator[Callable[..., asyncio.Future]]:
    engines: list[Engine] = []

    async def person(name: str) -> Engine:
        engine = await signed_in_engine(make_user(name.lower(), displayname=name), tmp_path / name)
        engines.append(engine)
        return engine

    yield person
    for engine in engines:
        await engine.session.close()


def states_of(engine: Engine, room_id: str, user_id: str) -> list[InvitationState]:
    """Start recording the states an invitation goes through (published events)."""
    seen: list[InvitationState] = []

    def observe(event: ev.EngineEvent) -> None:
        if (
            isinstance(event, ev.InvitationStateChanged)
            and event.invitation.room_id == room_id
            and event.invitation.invitee == user_id
        ):
            seen.append(event.invitation.state)

    engine.session.bus.subscribe(observe)
    return seen


async def test_delivered_then_accepted_with_the_toast_message(people):
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await alice.conferences.meet_now("Budget review")
    seen = states_of(alice, room_id, bob.session.user_id)
    toast = expect_event(bob, lambda e: isinstance(e, ev.IncomingInvitation))
    invitation = await alice.invitations.deliver(room_id, bob.session.user_id, "Join us, please")
    assert invitation.state is InvitationState.DELIVERED and invitation.delivered_ts > 0
    assert seen == [InvitationState.DELIVERING, InvitationState.DELIVERED]
    incoming = await toast
    assert isinstance(incoming, ev.IncomingInvitation)
    assert incoming.room_id == room_id
    assert incoming.inviter == alice.session.user_id and incoming.inviter_name == "Alice"
    assert incoming.subject == "Budget review"
    assert incoming.conference_id == alice.conferences.details(room_id).conference_id
    assert incoming.toast_message == "Join us, please"
    assert [i.room_id for i in bob.invitations.incoming()] == [room_id]

    assert await bob.invitations.join_incoming(room_id) == room_id
    await eventually(
        lambda: (
            alice.invitations.invitation(room_id, bob.session.user_id).state
            is InvitationState.ACCEPTED
        )
    )
    assert seen[-1] is InvitationState.ACCEPTED
    assert bob.invitations.incoming() == []
    assert alice.invitations.expiry_timer(room_id, bob.session.user_id) is None


async def test_declined_and_sent_again(people):
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await alice.conferences.meet_now()
    toast = expect_event(bob, lambda e: isinstance(e, ev.IncomingInvitation))
    await alice.invitations.deliver(room_id, bob.session.user_id, "Quick question")
    await toast
    await bob.invitations.decline_incoming(room_id)
    await eventually(
        lambda: (
            alice.invitations.invitation(room_id, bob.session.user_id).state
            is InvitationState.DECLINED
        )
    )
    # Sent again: the same message goes out, and Bob sees it again.
    toast = expect_event(bob, lambda e: isinstance(e, ev.IncomingInvitation))
    again = await alice.invitations.resend(room_id, bob.session.user_id)
    assert again.state is InvitationState.DELIVERED
    assert (await toast).toast_message == "Quick question"


async def test_expired_invitation_is_withdrawn_and_disappears_for_the_invitee(people):
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await alice.conferences.meet_now()
    toast = expect_event(bob, lambda e: isinstance(e, ev.IncomingInvitation))
    gone = expect_event(
        bob, lambda e: isinstance(e, ev.IncomingInvitationWithdrawn) and e.room_id == room_id
    )
    seen = states_of(alice, room_id, bob.session.user_id)
    await alice.invitations.deliver(room_id, bob.session.user_id, timeout_s=1.0)
    await toast
    await gone
    assert bob.invitations.incoming() == []
    assert seen[-1] is InvitationState.EXPIRED
    assert InvitationState.DECLINED not in seen
    # Withdrawn on the server too: Bob can no longer join as invited.
    await eventually(
        lambda: (
            bob.session.user_id not in [p.user_id for p in alice.conferences.participants(room_id)]
        )
    )


async def test_failures_are_data_with_the_reason(people, make_user):
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await alice.conferences.meet_now()
    invite = alice.invitations.deliver

    malformed = await invite(room_id, "not an id")
    assert (malformed.state, malformed.failure) == (
        InvitationState.FAILED,
        InvitationFailure.INVALID_ID,
    )
    unknown = await invite(room_id, "@nobody-here-at-all:localhost")
    assert unknown.failure is InvitationFailure.UNKNOWN_USER
    myself = await invite(room_id, alice.session.user_id)
    assert myself.failure is InvitationFailure.YOURSELF

    # Someone already in the meeting.
    await invite(room_id, bob.session.user_id)
    await eventually(lambda: bob.invitations.incoming() != [])
    await bob.invitations.join_incoming(room_id)
    await eventually(
        lambda: (
            alice.invitations.invitation(room_id, bob.session.user_id).state
            is InvitationState.ACCEPTED
        )
    )
    present = await invite(room_id, bob.session.user_id)
    assert present.failure is InvitationFailure.ALREADY_IN_MEETING

    # Not allowed: Bob is an attendee where only presenters may invite.
    await alice.conferences.set_options(room_id, presenter_policy=PresenterPolicy.ONLY_ME)
    await eventually(lambda: not bob.conferences.details(room_id).can_invite)
    carol = make_user("carol")
    refused = await bob.invitations.deliver(room_id, carol.user_id)
    assert refused.failure is InvitationFailure.NOT_ALLOWED
    assert refused.detail  # the server's own words are kept

    # Meeting ended (for me): I left it.
    await alice.conferences.leave(room_id)
    ended = await invite(room_id, carol.user_id)
    assert ended.failure is InvitationFailure.MEETING_ENDED


async def test_meeting_ended_on_the_server_side(people, make_user):
    """The server refuses an invite from someone no longer in the room."""
    alice = await people("Alice")
    room_id = await alice.conferences.meet_now()
    client = alice.session.require_client()
    await client.room_leave(room_id)  # behind the engine's back: only the server knows
    carol = make_user("carol")
    ended = await alice.invitations.deliver(room_id, carol.user_id)
    assert ended.failure is InvitationFailure.MEETING_ENDED


async def test_invitations_stack_and_escalation_invites_are_not_shown(people):
    alice, bob = await people("Alice"), await people("Bob")
    first = await alice.conferences.meet_now("One")
    second = await alice.conferences.meet_now("Two")
    third = await alice.conferences.meet_now("Three")
    await alice.invitations.deliver(first, bob.session.user_id)
    await alice.invitations.deliver(second, bob.session.user_id)
    await alice.invitations.deliver(
        third, bob.session.user_id, extra_content={ESCALATED_FROM: "!direct:localhost"}
    )
    await eventually(lambda: len(bob.invitations.incoming()) == 2)
    assert {i.subject for i in bob.invitations.incoming()} == {"One", "Two"}
    assert (
        alice.invitations.invitation(third, bob.session.user_id).state is InvitationState.DELIVERED
    )
