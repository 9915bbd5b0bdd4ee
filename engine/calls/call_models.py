"""A two-party call as data: the seed's AV modality states, direction, end reason."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class AvModalityState(enum.Enum):
    """The seed's AV modality states (the call's state as both windows show it)."""

    IDLE = "Idle"
    NOTIFIED = "Notified"  # an incoming call rings here
    CONNECTING = "Connecting"  # caller: invite sent, waiting; callee: answering
    JOINING = "Joining"  # offer and answer exchanged; media connects
    CONNECTED = "Connected"
    ON_HOLD = "OnHold"  # held by us or by them
    DISCONNECTED = "Disconnected"  # see ``end_reason``


#: States in which a call is still going (ringing counts).
LIVE_STATES = frozenset(
    {
        AvModalityState.NOTIFIED,
        AvModalityState.CONNECTING,
        AvModalityState.JOINING,
        AvModalityState.CONNECTED,
        AvModalityState.ON_HOLD,
    }
)


class CallDirection(enum.Enum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"


class CallEndReason(enum.Enum):
    """Why a call is Disconnected; the UI words each one."""

    HUNG_UP_BY_YOU = "HungUpByYou"
    HUNG_UP_BY_THEM = "HungUpByThem"
    DECLINED = "Declined"  # by the callee (here, on another device, or over there)
    NO_ANSWER = "NoAnswer"  # the invite's lifetime passed
    ANSWERED_ELSEWHERE = "AnsweredElsewhere"  # another device of ours took the call
    BUSY = "Busy"
    MEDIA_FAILED = "MediaFailed"  # no media connection could be set up
    NETWORK_LOST = "NetworkLost"  # the media connection broke after it worked
    REPLACED = "Replaced"  # glare: both called at once, the other call was kept
    #: Escalation (seed 002): the call's audio went on in the meeting the conversation
    #: became, on both sides, whichever of them sent the hangup.
    MOVED_TO_MEETING = "MovedToMeeting"


@dataclass(frozen=True, slots=True)
class Call:
    """One two-party call as last seen. Times are wall-clock seconds (time.time())."""

    call_id: str
    room_id: str
    peer: str  # the other side's user ID
    direction: CallDirection
    state: AvModalityState
    party_id: str  # ours
    peer_party_id: str = ""  # theirs, once known (caller's from the invite, callee's answer)
    started_at: float = 0.0
    connected_at: float | None = None
    ended_at: float | None = None
    muted: bool = False
    on_hold: bool = False  # we hold them
    remote_on_hold: bool = False  # they hold us
    end_reason: CallEndReason | None = None

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES

    def duration_s(self, now: float) -> float:
        """Time since the call connected (0 before), up to its end."""
        if self.connected_at is None:
            return 0.0
        return max(0.0, (self.ended_at or now) - self.connected_at)
