"""The receiving side's rule for whom not to play (a pure state machine: no I/O)."""

from __future__ import annotations

from dataclasses import replace

from engine.calls.audio_policy import AudioPolicy
from engine.calls.call_membership import DeviceKey
from engine.calls.remote_mutes import RemoteMutes
from engine.conference_models import Role

BOB = DeviceKey("@bob:x", "B1")
CAROL = DeviceKey("@carol:x", "C1")
ROLES = {"@bob:x": Role.ATTENDEE, "@carol:x": Role.PRESENTER}
DEVICES = [BOB, CAROL]


def role_of(user_id: str) -> Role | None:
    return ROLES.get(user_id)


def test_a_mute_request_holds_until_they_unmute_while_allowed():
    policy = AudioPolicy()
    mutes = RemoteMutes.starting(policy)
    assert mutes.silenced(policy, DEVICES, role_of) == frozenset()
    policy = policy.with_mute_request(BOB.user_id)
    mutes.apply_policy(policy, DEVICES, role_of)
    assert mutes.silenced(policy, DEVICES, role_of) == {BOB}
    mutes.apply_policy(policy, DEVICES, role_of)  # the same policy again: no new request
    assert mutes.said_unmuted(BOB, policy, role_of)
    assert mutes.silenced(policy, DEVICES, role_of) == frozenset()


def test_requests_made_before_joining_are_done():
    policy = AudioPolicy().with_mute_request(BOB.user_id)
    mutes = RemoteMutes.starting(policy)
    mutes.apply_policy(policy, DEVICES, role_of)
    assert mutes.silenced(policy, DEVICES, role_of) == frozenset()


def test_attendees_cannot_unmute_holds_attendees_until_they_unmute_after_it():
    policy = replace(AudioPolicy(), attendees_can_unmute=False)
    mutes = RemoteMutes.starting(AudioPolicy())
    mutes.apply_policy(policy, DEVICES, role_of)
    assert mutes.silenced(policy, DEVICES, role_of) == {BOB}  # presenters are never
    assert not mutes.said_unmuted(BOB, policy, role_of)  # not allowed: still held
    allowed = replace(policy, attendees_can_unmute=True)
    mutes.apply_policy(allowed, DEVICES, role_of)
    assert mutes.silenced(allowed, DEVICES, role_of) == {BOB}  # no unmute since
    assert mutes.said_unmuted(BOB, allowed, role_of)
    assert mutes.silenced(allowed, DEVICES, role_of) == frozenset()


def test_mute_all_holds_attendees_only_and_a_new_presenter_is_heard():
    policy = AudioPolicy()
    mutes = RemoteMutes.starting(policy)
    policy = replace(policy, mute_all=1)
    mutes.apply_policy(policy, DEVICES, role_of)
    assert mutes.silenced(policy, DEVICES, role_of) == {BOB}
    promoted = {**ROLES, BOB.user_id: Role.PRESENTER}.get
    assert mutes.silenced(policy, DEVICES, promoted) == frozenset()
    assert mutes.silenced(policy, DEVICES, role_of) == frozenset()  # the hold went with it


def test_someone_whose_role_is_not_known_is_not_silenced():
    policy = replace(AudioPolicy(), attendees_can_unmute=False)
    mutes = RemoteMutes.starting(policy)
    assert mutes.silenced(policy, [DeviceKey("@dave:x", "D1")], role_of) == frozenset()
