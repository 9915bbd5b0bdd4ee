"""The escalation vocabulary of seeds 001 and 002, as data (no I/O)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from engine.invitation_models import ConferenceInvitation

#: Marks the message in the two-party room that asks the peer to follow into the meeting.
ESCALATE_KEY = "org.confero.escalate"
#: Marks the peer's invite to the meeting (and the meeting's state) with the two-party room.
ESCALATED_FROM = "org.confero.escalated_from"
DEFAULT_ESCALATION_TIMEOUT_S = 60.0


class ConferenceEscalationProgress(enum.Enum):
    """Where an escalation is, with the Lync client's names (seed 002)."""

    NONE = "None"
    CONNECTING_TO_CONFERENCE = "ConnectingToConference"
    JOINING_LOCAL_MEDIA = "JoiningLocalMedia"
    WAITING_FOR_PEER = "WaitingForPeer"
    COMPLETED = "Completed"


class ConferenceEscalationResult(enum.Enum):
    """How an escalation ended; NONE while it is under way (the UI words each one)."""

    NONE = "None"
    SUCCESS = "Success"
    DECLINED = "Declined"  # the peer rejected the meeting's invite
    NO_ANSWER = "NoAnswer"  # the peer is online but did not join within the timeout
    PEER_OFFLINE = "PeerOffline"  # the peer was offline for the whole timeout
    NETWORK_ERROR = "NetworkError"  # our server could not be reached
    ENCRYPTED = "Encrypted"  # refused: the two-party room is end-to-end encrypted
    NOT_TWO_PARTY = "NotTwoParty"  # refused: only a two-party conversation escalates
    REFUSED = "Refused"  # the server said no (detail says why)


@dataclass(frozen=True, slots=True)
class ConferenceEscalation:
    """One two-party conversation's escalation, as the seed's properties."""

    direct_room_id: str
    progress: ConferenceEscalationProgress = ConferenceEscalationProgress.NONE
    result: ConferenceEscalationResult = ConferenceEscalationResult.NONE
    conference_room_id: str = ""
    conferencing_uri: str = ""
    peer: str = ""
    #: True on the peer's side (it follows an escalation the other side started).
    incoming: bool = False
    detail: str = ""
    #: A two-party call's audio went on in the meeting's audio (JoiningLocalMedia).
    audio_moved: bool = False
    #: Why it could not (user words, e.g. the mesh limit): the meeting still went
    #: ahead and the two-party call was kept. Empty when it moved or there was no call.
    media_failed: str = ""
    #: The added people whose invitation failed once Completed (each with why),
    #: in the order they were given; the meeting went ahead without them.
    not_invited: tuple[ConferenceInvitation, ...] = ()

    @property
    def failed(self) -> bool:
        return self.result not in (
            ConferenceEscalationResult.NONE,
            ConferenceEscalationResult.SUCCESS,
        )

    @property
    def running(self) -> bool:
        return (
            self.result == ConferenceEscalationResult.NONE
            and self.progress != ConferenceEscalationProgress.NONE
        )
