"""Whose audio we do not play: the presenters' policy enforced by the receiving side.

Each client mutes itself as ``org.confero.audio_policy`` asks (MeetingCalls), but an
attendee whose client ignores it (a modified client, another MatrixRTC app, a race)
would still be heard. So every client also silences, in its own playback, the
devices the policy says must be muted, by the same rule the muted person's client
follows on itself:

- a presenter's mute request for a user, or "Mute all attendees" for an attendee,
  holds each of their devices in the call until that device says it unmuted (its
  stream metadata) at a time it was allowed to;
- while "Attendees can't unmute" is on, every attendee is held (and stays held after
  it is turned off, until they unmute, as their own client keeps them muted);
- presenters (and the leader) are never silenced.

Requests made before we joined are done, as they are for the muted person when they
join. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from engine.calls.audio_policy import AudioPolicy
from engine.calls.call_membership import DeviceKey
from engine.conference_models import Role

RoleOf = Callable[[str], Role | None]


@dataclass
class RemoteMutes:
    """Per meeting stay: the policy's counters seen so far and the devices held."""

    seen_requests: dict[str, int] = field(default_factory=dict)
    seen_mute_all: int = 0
    held: set[DeviceKey] = field(default_factory=set)

    @classmethod
    def starting(cls, policy: AudioPolicy) -> RemoteMutes:
        """Joining: the requests already made are done."""
        return cls(dict(policy.mute_requests), policy.mute_all)

    def apply_policy(
        self, policy: AudioPolicy, devices: Iterable[DeviceKey], role_of: RoleOf
    ) -> None:
        """A (possibly) new policy: requests that went up hold those users' devices."""
        for key in devices:
            requested = policy.requests_for(key.user_id) > self.seen_requests.get(key.user_id, 0)
            all_muted = policy.mute_all > self.seen_mute_all
            if requested or (all_muted and role_of(key.user_id) is Role.ATTENDEE):
                self.held.add(key)
        self.seen_requests = dict(policy.mute_requests)
        self.seen_mute_all = policy.mute_all

    def said_unmuted(self, key: DeviceKey, policy: AudioPolicy, role_of: RoleOf) -> bool:
        """Their device says it unmuted: no longer held, unless they may not unmute
        (False then: our view of the policy may lag theirs, worth a reload)."""
        if locked(policy, role_of(key.user_id)):
            return False
        self.held.discard(key)
        return True

    def silenced(
        self, policy: AudioPolicy, devices: Iterable[DeviceKey], role_of: RoleOf
    ) -> frozenset[DeviceKey]:
        """The devices whose audio must not play now."""
        result: set[DeviceKey] = set()
        for key in devices:
            role = role_of(key.user_id)
            if role in (Role.PRESENTER, Role.LEADER):
                self.held.discard(key)  # made a presenter: heard from now on
                continue
            if locked(policy, role):
                self.held.add(key)
            if role is Role.ATTENDEE and key in self.held:
                result.add(key)
        return frozenset(result)


def locked(policy: AudioPolicy, role: Role | None) -> bool:
    """An attendee while presenters keep attendees from unmuting."""
    return not policy.attendees_can_unmute and role is Role.ATTENDEE
