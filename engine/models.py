"""The engine's domain model: immutable snapshots the UI renders."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Role(enum.Enum):
    """A meeting role (seed 002); engine.conference_models re-exports it with its kin."""

    LEADER = "Leader"
    PRESENTER = "Presenter"
    ATTENDEE = "Attendee"


class ConversationState(enum.Enum):
    """Conversation life cycle, as in the source documents (seed 002)."""

    IDLE = "Idle"
    ESTABLISHING = "Establishing"
    ACTIVE = "Active"
    INACTIVE = "Inactive"
    TERMINATING = "Terminating"
    TERMINATED = "Terminated"


class ConversationKind(enum.Enum):
    DIRECT = "direct"
    CONFERENCE = "conference"
    GROUP = "group"


class Presence(enum.Enum):
    """What the presence selector offers, mapped to Matrix presence in the engine."""

    AVAILABLE = "Available"
    BUSY = "Busy"
    AWAY = "Away"
    OFFLINE = "Appear offline"
    UNKNOWN = "Unknown"


class ConnectionState(enum.Enum):
    DISCONNECTED = "Disconnected"
    CONNECTING = "Connecting"
    CONNECTED = "Connected"
    RECONNECTING = "Reconnecting"


class ConnectionLoss(enum.Enum):
    """Why the connection is lost, for the UI to put into words."""

    NETWORK = "network"  # our own network, or a server somewhere else
    HOST_GONE = "host-gone"  # a guest's host computer stopped hosting, slept or left


class MessageState(enum.Enum):
    SENDING = "Sending"
    SENT = "Sent"
    FAILED = "Failed"
    RECEIVED = "Received"


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    room_id: str
    kind: ConversationKind
    display_name: str
    state: ConversationState
    last_activity_ts: int
    unread_count: int = 0
    peer_user_id: str | None = None
    peer_presence: Presence = Presence.UNKNOWN
    encrypted: bool = False
    invited: bool = False
    member_count: int = 0


class RoomChangeKind(enum.Enum):
    """What a membership, power-level or name event did to a room."""

    JOINED = "joined"
    LEFT = "left"
    INVITED = "invited"
    ADMITTED = "admitted"  # invited after knocking: let in from the lobby
    DENIED = "denied"  # a knock turned down
    REMOVED = "removed"  # kicked or banned
    ROLE_CHANGED = "role changed"
    SUBJECT_CHANGED = "subject changed"


@dataclass(frozen=True, slots=True)
class RoomChange:
    """One thing that happened to a room, as data: the UI puts it into words.

    ``actor`` did it (a user ID; names are already cleaned for one line of UI);
    ``target`` is whom it was done to, if anyone. ``more`` counts the further
    people of the same event left out of the list (a role change of many).
    """

    kind: RoomChangeKind
    actor: str
    actor_name: str
    target: str = ""
    target_name: str = ""
    role: Role | None = None
    subject: str = ""
    previous_subject: str = ""
    more: int = 0


@dataclass(frozen=True, slots=True)
class Message:
    """One line of a transcript.

    ``key`` is stable for the life of the message: the transaction ID for our
    own messages (so a local echo and its server copy are one row) and the
    event ID for everyone else's. A line about the room itself (someone
    joined, was made presenter, changed the subject) carries ``changes`` and
    an empty body.
    """

    key: str
    room_id: str
    sender: str
    sender_name: str
    body: str
    timestamp_ms: int
    state: MessageState
    html: str | None = None
    event_id: str | None = None
    encrypted: bool = False
    notice: bool = False
    error: str | None = None
    #: Non-empty for a line about the room (joins, roles, subject), not a message.
    changes: tuple[RoomChange, ...] = ()


@dataclass(frozen=True, slots=True)
class UserSummary:
    user_id: str
    display_name: str


@dataclass(frozen=True, slots=True)
class SessionInfo:
    homeserver_url: str
    user_id: str
    device_id: str
    remembered: bool
    remember_problem: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
