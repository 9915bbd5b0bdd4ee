"""The invitation vocabulary of seed 003 (ConferenceInvitation and its states), as data.

Kept apart from engine/invitations.py so that engine/events.py can name these
classes without importing the service.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

#: How long an invitation waits for an answer before it is withdrawn (a setting).
DEFAULT_INVITATION_TIMEOUT_S = 120.0
#: The reason given when an unanswered invitation is withdrawn.
EXPIRED_REASON = "The invitation expired"
#: Invite content key of a scheduled meeting's invite: {"start_ts": ms, "end_ts": ms}.
SCHEDULE_KEY = "org.confero.schedule"
#: Invite content key of an invitation to a meeting whose audio is live (seed 002: a
#: call escalated into a meeting): ``{"live": true}``. Confero offers "Join with
#: audio"; other clients ignore the key and show a plain invite.
LIVE_AUDIO_KEY = "org.confero.meeting_audio"


class InvitationState(enum.Enum):
    IDLE = "Idle"
    DELIVERING = "Delivering"
    DELIVERED = "Delivered"  # the server accepted the invite
    ACCEPTED = "Accepted"  # the invitee joined
    DECLINED = "Declined"  # the invitee rejected it
    FAILED = "Failed"  # see ``failure``
    EXPIRED = "Expired"  # no answer in time; the invite was withdrawn


#: States after which nothing more happens unless the invitation is sent again.
FINAL_STATES = frozenset(
    {
        InvitationState.ACCEPTED,
        InvitationState.DECLINED,
        InvitationState.FAILED,
        InvitationState.EXPIRED,
    }
)
#: States from which resend() may send the invitation again.
RESENDABLE_STATES = frozenset(
    {InvitationState.DECLINED, InvitationState.EXPIRED, InvitationState.FAILED}
)


class InvitationFailure(enum.Enum):
    """Why an invitation failed; the UI words each one (ui/invitation_text.py)."""

    INVALID_ID = "InvalidId"
    UNKNOWN_USER = "UnknownUser"
    YOURSELF = "Yourself"
    ALREADY_IN_MEETING = "AlreadyInMeeting"
    NOT_ALLOWED = "NotAllowed"
    MEETING_ENDED = "MeetingEnded"
    UNREACHABLE = "Unreachable"
    REFUSED = "Refused"  # any other refusal by the server (its words in ``detail``)


@dataclass(frozen=True, slots=True)
class ConferenceInvitation:
    """One invitee's invitation to one meeting, as last seen."""

    room_id: str
    invitee: str
    inviter: str
    toast_message: str
    state: InvitationState
    failure: InvitationFailure | None = None
    detail: str = ""
    delivered_ts: int = 0


@dataclass(frozen=True, slots=True)
class IncomingInvitation:
    """Someone invited me to a meeting; I have not answered yet."""

    room_id: str
    inviter: str
    inviter_name: str
    subject: str
    conference_id: str
    toast_message: str
    #: A scheduled meeting's start and end (ms since the epoch, UTC); None if not scheduled.
    start_ms: int | None = None
    end_ms: int | None = None
    #: The meeting's audio was live when I was invited: accepting can join it too.
    with_audio: bool = False


def scheduled_times(invite_content: dict[str, object]) -> dict[str, int]:
    """``start_ms``/``end_ms`` of a scheduled meeting's invite; {} when absent or malformed."""
    schedule = invite_content.get(SCHEDULE_KEY)
    if not isinstance(schedule, dict):
        return {}
    start, end = schedule.get("start_ts"), schedule.get("end_ts")
    if type(start) is not int or type(end) is not int or end <= start:
        return {}
    return {"start_ms": start, "end_ms": end}


def live_audio_content() -> dict[str, object]:
    """The invite content that says the meeting's audio is live."""
    return {LIVE_AUDIO_KEY: {"live": True}}


def says_live_audio(invite_content: dict[str, object]) -> bool:
    """Whether an invite says the meeting's audio is live (malformed: it does not)."""
    value = invite_content.get(LIVE_AUDIO_KEY)
    return isinstance(value, dict) and value.get("live") is True
