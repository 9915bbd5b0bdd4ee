"""Typed engine events and the small bus that carries them to observers.

Events are immutable; observers (the UI bridge, tests, bots) subscribe with a
plain callable. The bus never awaits observers, so a slow one cannot stall sync.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass

from engine.calls.call_events import CallEventIgnored, CallStateChanged, IncomingCall
from engine.calls.meeting_call_events import (
    AudioParticipantChanged,
    AudioPolicyChanged,
    CallMemberIgnored,
    MeetingAudioChanged,
    MeetingAudioStateChanged,
)
from engine.conference_models import ConferenceDetails, ConferenceSession, Participant
from engine.escalation_models import (
    ConferenceEscalation,
    ConferenceEscalationProgress,
    ConferenceEscalationResult,
)
from engine.invitation_models import ConferenceInvitation, IncomingInvitation
from engine.meeting_summary_models import ConferenceSummary
from engine.models import ConnectionLoss, ConnectionState, ConversationInfo, Message, Presence
from engine.outbox import OutboxProblemKind

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ConversationAdded:
    conversation: ConversationInfo


@dataclass(frozen=True, slots=True)
class ConversationChanged:
    conversation: ConversationInfo


@dataclass(frozen=True, slots=True)
class ConversationRemoved:
    room_id: str


@dataclass(frozen=True, slots=True)
class MessageAdded:
    """A message appended at the end of a transcript (live or local echo)."""

    message: Message


@dataclass(frozen=True, slots=True)
class MessagesPrepended:
    """Older history loaded at the top of a transcript, oldest first."""

    room_id: str
    messages: tuple[Message, ...]
    reached_start: bool


@dataclass(frozen=True, slots=True)
class MessageChanged:
    """A message changed state (Sending → Sent, Failed) or got its server copy."""

    message: Message


@dataclass(frozen=True, slots=True)
class PresenceChanged:
    user_id: str
    presence: Presence
    status_message: str


@dataclass(frozen=True, slots=True)
class OwnPresenceChanged:
    presence: Presence
    status_message: str


@dataclass(frozen=True, slots=True)
class TypingChanged:
    room_id: str
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ConnectionStateChanged:
    state: ConnectionState
    detail: str = ""
    #: Why, when the connection is lost (None otherwise).
    loss: ConnectionLoss | None = None


@dataclass(frozen=True, slots=True)
class SignedOut:
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ConferenceChanged:
    """A meeting's subject, access level, presenter policy or my permissions changed."""

    details: ConferenceDetails


@dataclass(frozen=True, slots=True)
class ConferenceSessionChanged:
    """My own state in a meeting: connecting, in the lobby, connected, left, removed…"""

    session: ConferenceSession


@dataclass(frozen=True, slots=True)
class ParticipantsReset:
    """The full participant list, after loading it from the server."""

    room_id: str
    participants: tuple[Participant, ...]


@dataclass(frozen=True, slots=True)
class ParticipantAdded:
    room_id: str
    participant: Participant


@dataclass(frozen=True, slots=True)
class ParticipantChanged:
    room_id: str
    participant: Participant


@dataclass(frozen=True, slots=True)
class ParticipantRemoved:
    room_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class LobbyKnock:
    """Someone started waiting in the lobby of a meeting I can admit them to."""

    room_id: str
    participant: Participant


@dataclass(frozen=True, slots=True)
class EscalationProgressChanged:
    """A two-party conversation's escalation moved on (seed 002's progress and result)."""

    escalation: ConferenceEscalation

    @property
    def direct_room_id(self) -> str:
        return self.escalation.direct_room_id

    @property
    def progress(self) -> ConferenceEscalationProgress:
        return self.escalation.progress

    @property
    def result(self) -> ConferenceEscalationResult:
        return self.escalation.result

    @property
    def conference_room_id(self) -> str:
        return self.escalation.conference_room_id

    @property
    def conferencing_uri(self) -> str:
        return self.escalation.conferencing_uri


@dataclass(frozen=True, slots=True)
class EscalateToConferenceRequested:
    """The peer of a two-party conversation moved it to a meeting; we follow (seed 001)."""

    direct_room_id: str
    conference_room_id: str
    conferencing_uri: str
    escalator: str


@dataclass(frozen=True, slots=True)
class OutboxProblem:
    """Saved messages could not all be read at sign-in; the readable ones are kept."""

    kind: OutboxProblemKind
    message: str


class SendingProblemKind(enum.Enum):
    #: Messages cannot be saved on this computer (disk full, file locked, folder read-only).
    NOT_SAVED = "not-saved"
    #: Sending failed in an unexpected way; the affected messages show Failed.
    SENDER_FAILED = "sender-failed"


@dataclass(frozen=True, slots=True)
class SendingProblem:
    """Messages can't be saved or sent; Conversations.retry_sending() tries again."""

    kind: SendingProblemKind
    message: str


@dataclass(frozen=True, slots=True)
class SendingRecovered:
    """Saving works again after a SendingProblem."""


# -- invitations (engine/invitations.py) --


@dataclass(frozen=True, slots=True)
class InvitationStateChanged:
    """An invitation I sent moved on (Delivering, Delivered, Accepted, Declined…)."""

    invitation: ConferenceInvitation


@dataclass(frozen=True, slots=True)
class IncomingInvitationWithdrawn:
    """An invitation to me is gone: withdrawn, expired, or answered elsewhere."""

    room_id: str


# -- the meeting server on this computer (published by HomeserverSupervisor) --


@dataclass(frozen=True, slots=True)
class HomeserverRestarting:
    """The embedded server died or hung; restart try ``attempt`` (from 1) is under way."""

    cause: str
    attempt: int


@dataclass(frozen=True, slots=True)
class HomeserverRecovered:
    """The embedded server answers again after ``attempts`` restart tries."""

    attempts: int
    downtime_s: float


@dataclass(frozen=True, slots=True)
class HomeserverFailed:
    """Every restart try failed; ``reason`` comes from the server's log."""

    reason: str
    log_path: str


# -- scheduled meetings (published by Reminders) --


@dataclass(frozen=True, slots=True)
class MeetingReminder:
    """A scheduled meeting I organize or accepted starts now (once per start)."""

    room_id: str
    subject: str
    start_ms: int


@dataclass(frozen=True, slots=True)
class SummaryChanged:
    """A line of My meetings appeared or changed (engine/my_meetings.py)."""

    summary: ConferenceSummary


@dataclass(frozen=True, slots=True)
class SummaryRemoved:
    """A meeting left My meetings (we left it, or were removed)."""

    room_id: str


EngineEvent = (
    ConversationAdded
    | ConversationChanged
    | ConversationRemoved
    | MessageAdded
    | MessagesPrepended
    | MessageChanged
    | PresenceChanged
    | OwnPresenceChanged
    | TypingChanged
    | ConnectionStateChanged
    | SignedOut
    | ConferenceChanged
    | ConferenceSessionChanged
    | ParticipantsReset
    | ParticipantAdded
    | ParticipantChanged
    | ParticipantRemoved
    | LobbyKnock
    | EscalationProgressChanged
    | EscalateToConferenceRequested
    | OutboxProblem
    | SendingProblem
    | SendingRecovered
    | HomeserverRestarting
    | HomeserverRecovered
    | HomeserverFailed
    | InvitationStateChanged
    | IncomingInvitation
    | IncomingInvitationWithdrawn
    | CallStateChanged
    | IncomingCall
    | CallEventIgnored
    | MeetingAudioChanged
    | MeetingAudioStateChanged
    | AudioParticipantChanged
    | CallMemberIgnored
    | AudioPolicyChanged
    | MeetingReminder
    | SummaryChanged
    | SummaryRemoved
)

Observer = Callable[[EngineEvent], None]


class EventBus:
    def __init__(self) -> None:
        self._observers: list[Observer] = []

    def subscribe(self, observer: Observer) -> Callable[[], None]:
        self._observers.append(observer)
        return lambda: self._observers.remove(observer) if observer in self._observers else None

    def publish(self, event: EngineEvent) -> None:
        for observer in list(self._observers):
            try:
                observer(event)
            except Exception:  # an observer's bug must not break the engine
                log.exception("observer failed on %s", type(event).__name__)
