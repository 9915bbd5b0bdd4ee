"""The conference vocabulary of the source documents (seeds 000 and 002), as data."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from engine.errors import ConferoError

# Role lives with the models (a room-change line names one too); importable from here as well.
from engine.models import Presence, Role

PRESENTER_LEVEL = 50
LEADER_LEVEL = 100
DEFAULT_LOBBY_TIMEOUT_S = 15 * 60


class Membership(enum.Enum):
    JOINED = "joined"
    INVITED = "invited"
    KNOCKING = "knocking"
    LEFT = "left"
    BANNED = "banned"


class AccessLevel(enum.Enum):
    """Who gets in, and who waits in the lobby (mapping.md: join rules)."""

    LOCKED = "Locked"
    INVITED = "Invited"
    SAME_ENTERPRISE = "SameEnterprise"
    EVERYONE = "Everyone"


class PresenterPolicy(enum.Enum):
    """ "Who's a presenter?" in the meeting options."""

    EVERYONE = "Everyone"
    CHOSEN = "People I choose"
    ONLY_ME = "Only me"


class JoinMode(enum.Enum):
    DEFAULT = "Default"
    TRUSTED_PARTICIPANT = "TrustedParticipant"


class Denial(enum.Enum):
    """Why a roster action is not open to you (the UI words it)."""

    NOT_IN_MEETING = "not in the meeting"
    IS_YOU = "that is you"
    PRESENTERS_ONLY = "only presenters may"
    LEADER_IS_FIXED = "the Leader cannot be removed or demoted"
    LEADER_ONLY = "only the Leader may change another presenter"
    ORGANIZER_ONLY = "only the organizer may"


class SessionState(enum.Enum):
    IDLE = "Idle"
    CONNECTING = "Connecting"
    IN_LOBBY = "InLobby"
    CONNECTED = "Connected"
    LEFT = "Left"
    REMOVED = "Removed"
    DENIED = "Denied"
    LOBBY_TIMED_OUT = "LobbyTimedOut"
    FAILED = "Failed"


def role_for(power_level: int, is_organizer: bool) -> Role:
    if is_organizer or power_level >= LEADER_LEVEL:
        return Role.LEADER
    return Role.PRESENTER if power_level >= PRESENTER_LEVEL else Role.ATTENDEE


@dataclass(frozen=True, slots=True)
class Participant:
    user_id: str
    display_name: str
    membership: Membership
    power_level: int
    role: Role
    is_you: bool
    presence: Presence = Presence.UNKNOWN


@dataclass(frozen=True, slots=True)
class ConferenceDetails:
    room_id: str
    conference_id: str
    subject: str
    organizer: str
    link: str
    matrix_uri: str
    alias: str
    access_level: AccessLevel
    presenter_policy: PresenterPolicy
    my_role: Role
    can_change_options: bool
    can_admit: bool
    can_invite: bool


@dataclass(frozen=True, slots=True)
class ConferenceSession:
    room_id: str
    state: SessionState
    #: Display name of who removed you (REMOVED) or turned you away (DENIED).
    by: str = ""
    #: Why joining failed (FAILED); the UI words it.
    error: ConferoError | None = None
    lobby_since_ms: int | None = None
    lobby_timeout_s: float = DEFAULT_LOBBY_TIMEOUT_S
    can_rejoin: bool = True
    #: The organizer ended the meeting for everyone (with REMOVED or DENIED).
    ended_by_organizer: bool = False


@dataclass(frozen=True, slots=True)
class Permissions:
    can_make_presenter: bool
    can_make_attendee: bool
    can_remove: bool
    #: Why something above is not allowed; None when all of it is.
    denial: Denial | None = None
