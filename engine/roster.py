"""One meeting's participants and power levels: pure state, no I/O.

Every update touches only the people it concerns and returns the events to
publish, so a 1,000-person meeting costs the same per change as a small one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from engine import events as ev
from engine.conference_models import (
    LEADER_LEVEL,
    PRESENTER_LEVEL,
    Denial,
    Membership,
    Participant,
    Permissions,
    Role,
    role_for,
)
from engine.models import Presence
from engine.sanitize import clean_name

_MEMBERSHIPS = {
    "join": Membership.JOINED,
    "invite": Membership.INVITED,
    "knock": Membership.KNOCKING,
    "leave": Membership.LEFT,
    "ban": Membership.BANNED,
}
_VISIBLE = {Membership.JOINED, Membership.INVITED, Membership.KNOCKING}


def _level(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


@dataclass
class PowerLevels:
    users: dict[str, int] = field(default_factory=dict)
    users_default: int = 0
    invite: int = 0
    kick: int = 50
    ban: int = 50
    state_default: int = 50
    events: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_content(cls, content: Mapping[str, Any]) -> PowerLevels:
        users = content.get("users") if isinstance(content.get("users"), dict) else {}
        events = content.get("events") if isinstance(content.get("events"), dict) else {}
        return cls(
            users={k: _level(v, 0) for k, v in users.items() if isinstance(k, str)},
            users_default=_level(content.get("users_default"), 0),
            invite=_level(content.get("invite"), 0),
            kick=_level(content.get("kick"), 50),
            ban=_level(content.get("ban"), 50),
            state_default=_level(content.get("state_default"), 50),
            events={k: _level(v, 50) for k, v in events.items() if isinstance(k, str)},
        )

    def of(self, user_id: str) -> int:
        return self.users.get(user_id, self.users_default)

    def for_state(self, event_type: str) -> int:
        return self.events.get(event_type, self.state_default)


class Roster:
    def __init__(self, room_id: str, own_user_id: str) -> None:
        self.room_id = room_id
        self.own_user_id = own_user_id
        self.organizer = ""
        self.levels = PowerLevels()
        self._members: dict[str, tuple[Membership, str]] = {}
        self._participants: dict[str, Participant] = {}
        self._presence: dict[str, Presence] = {}

    # -------------------------------------------------------------- reading

    def participants(self) -> list[Participant]:
        return list(self._participants.values())

    def get(self, user_id: str) -> Participant | None:
        return self._participants.get(user_id)

    def name_of(self, user_id: str) -> str | None:
        known = self._members.get(user_id)
        return known[1] if known else None

    def membership_of(self, user_id: str) -> Membership:
        return self._members.get(user_id, (Membership.LEFT, ""))[0]

    def knocking(self) -> list[Participant]:
        return [p for p in self._participants.values() if p.membership == Membership.KNOCKING]

    @property
    def my_level(self) -> int:
        return self.levels.of(self.own_user_id)

    @property
    def my_role(self) -> Role:
        return role_for(self.my_level, self.own_user_id == self.organizer)

    def can_admit(self) -> bool:
        return self.my_level >= self.levels.invite

    def can_change(self, state_event_type: str) -> bool:
        return self.my_level >= self.levels.for_state(state_event_type)

    def permissions(self, user_id: str) -> Permissions:
        """What I may do to ``user_id``; mirrors the server's power-level rules."""
        target = self._participants.get(user_id)
        mine = self.my_level
        if target is not None and target.membership == Membership.INVITED:
            # Taking back an invitation is a kick of the invite.
            may = mine >= self.levels.kick and target.power_level < mine
            return Permissions(False, False, may, None if may else Denial.PRESENTERS_ONLY)
        if target is None or target.membership != Membership.JOINED:
            return Permissions(False, False, False, Denial.NOT_IN_MEETING)
        if target.is_you:
            return Permissions(False, False, False, Denial.IS_YOU)
        theirs = target.power_level
        can_set_levels = mine >= self.levels.for_state("m.room.power_levels")
        if not can_set_levels:
            return Permissions(False, False, False, Denial.PRESENTERS_ONLY)
        if theirs >= mine:
            denial = Denial.LEADER_IS_FIXED if target.role == Role.LEADER else Denial.LEADER_ONLY
            return Permissions(False, False, False, denial)
        return Permissions(
            can_make_presenter=target.role == Role.ATTENDEE and mine >= PRESENTER_LEVEL,
            can_make_attendee=target.role == Role.PRESENTER,
            can_remove=mine >= self.levels.kick,
            denial=None if mine >= self.levels.kick else Denial.PRESENTERS_ONLY,
        )

    # ------------------------------------------------------------- updating

    def apply_member(
        self, user_id: str, membership: str, display_name: str | None
    ) -> list[ev.EngineEvent]:
        state = _MEMBERSHIPS.get(membership)
        if state is None:
            return []
        name = clean_name(display_name or "") or user_id
        self._members[user_id] = (state, name)
        change = self._refresh(user_id)
        return [change] if change is not None else []

    def apply_power_levels(self, content: Mapping[str, Any]) -> list[ev.EngineEvent]:
        old = self.levels
        self.levels = PowerLevels.from_content(content)
        if old.users_default != self.levels.users_default:
            affected = set(self._participants)  # everyone without an explicit level
        else:
            affected = {
                u for u in set(old.users) | set(self.levels.users) if old.of(u) != self.levels.of(u)
            }
        return [e for u in affected if (e := self._refresh(u)) is not None]

    def apply_organizer(self, organizer: str) -> list[ev.EngineEvent]:
        if organizer == self.organizer:
            return []
        previous, self.organizer = self.organizer, organizer
        return [e for u in (previous, organizer) if u and (e := self._refresh(u)) is not None]

    def apply_presence(self, user_id: str, presence: Presence) -> list[ev.EngineEvent]:
        self._presence[user_id] = presence
        current = self._participants.get(user_id)
        if current is None or current.presence == presence:
            return []
        updated = replace(current, presence=presence)
        self._participants[user_id] = updated
        return [ev.ParticipantChanged(self.room_id, updated)]

    def _refresh(self, user_id: str) -> ev.EngineEvent | None:
        membership, name = self._members.get(user_id, (Membership.LEFT, user_id))
        previous = self._participants.get(user_id)
        if membership not in _VISIBLE:
            if previous is None:
                return None
            del self._participants[user_id]
            return ev.ParticipantRemoved(self.room_id, user_id)
        level = min(self.levels.of(user_id), LEADER_LEVEL)
        participant = Participant(
            user_id=user_id,
            display_name=name,
            membership=membership,
            power_level=level,
            role=role_for(level, user_id == self.organizer),
            is_you=user_id == self.own_user_id,
            presence=self._presence.get(user_id, Presence.UNKNOWN),
        )
        if participant == previous:
            return None
        self._participants[user_id] = participant
        if previous is None:
            return ev.ParticipantAdded(self.room_id, participant)
        return ev.ParticipantChanged(self.room_id, participant)
