"""The words for invitations: states in the roster, failures, the toast.

The engine reports states and failures as data (engine/invitation_models.py);
this is the one place they become words.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QDateTime

from engine.errors import InvalidUserId, UnknownUser
from engine.invitation_models import IncomingInvitation, InvitationFailure, InvitationState

#: The mark after an invitee's name in the roster, by state (none once they are there).
ROSTER_MARKS: dict[InvitationState, str] = {
    InvitationState.IDLE: "Inviting…",
    InvitationState.DELIVERING: "Inviting…",
    InvitationState.DELIVERED: "Invited",
    InvitationState.DECLINED: "Declined",
    InvitationState.EXPIRED: "No answer",
    InvitationState.FAILED: "Not invited",
}
#: The tooltip line of an invitee's roster row, by state.
ROSTER_STATUS: dict[InvitationState, str] = {
    InvitationState.IDLE: "Sending the invitation",
    InvitationState.DELIVERING: "Sending the invitation",
    InvitationState.DELIVERED: "Invited, not here yet",
    InvitationState.DECLINED: "Declined the invitation",
    InvitationState.EXPIRED: "Did not answer the invitation in time",
    InvitationState.FAILED: "The invitation could not be sent",
}

_FAILURES: dict[InvitationFailure, str] = {
    # The same sentences as the engine's errors for these (one wording, kept there).
    InvitationFailure.INVALID_ID: InvalidUserId.default_message,
    InvitationFailure.UNKNOWN_USER: UnknownUser.default_message,
    InvitationFailure.YOURSELF: "That is you: you are already in this meeting.",
    InvitationFailure.ALREADY_IN_MEETING: "Already in the meeting.",
    InvitationFailure.NOT_ALLOWED: "You are not allowed to invite people to this meeting.",
    InvitationFailure.MEETING_ENDED: "You are no longer in this meeting.",
    InvitationFailure.UNREACHABLE: "The server cannot be reached right now. Try again later.",
    InvitationFailure.REFUSED: "The server refused the invitation.",
}

INVITE_AGAIN = "Invite &again"
INVITE_AGAIN_TIP = "Send the invitation again, with the same message"
INVITE_AGAIN_NOT_NOW = "They have an invitation already, or are here"
INVITE_AGAIN_FAILED = "{} could not be invited again"

TOAST_TITLE = "Invitation to a meeting"
JOIN = "&Join"
JOIN_TIP = "Join the meeting now"
DECLINE = "&Decline"
DECLINE_TIP = "Say no to this invitation"
JOIN_FAILED = "You could not join the meeting: {}"
JOIN_WITH_AUDIO = "Join with &audio"
JOIN_WITH_AUDIO_TIP = "Join the meeting and its call: its audio is on now"
AUDIO_LIVE = "The meeting's call is on."
AUDIO_FAILED = "You are in the meeting, but not in its call: {}"
ACCEPT = "&Accept"
ACCEPT_TIP = "Say yes: you get a reminder when the meeting starts"
ACCEPT_FAILED = "The invitation could not be accepted: {}"
DECLINE_FAILED = "The invitation could not be declined: {}"


def failure_text(failure: InvitationFailure | None, detail: str = "") -> str:
    """Why an invitation failed, in a sentence."""
    if failure is None:
        return _FAILURES[InvitationFailure.REFUSED]
    if failure is InvitationFailure.REFUSED and detail:
        return f"The server refused the invitation: {detail}"
    return _FAILURES[failure]


def outcome_text(name: str, state: InvitationState, failure_words: str = "") -> str:
    """One line per invitee in the Invite dialog, after sending."""
    if state is InvitationState.FAILED:
        return f"{name}: not invited. {failure_words}"
    if state is InvitationState.ACCEPTED:
        return f"{name} has joined."
    return f"{name}: invited."


def toast_text(inviter_name: str, subject: str) -> str:
    """The first line of an incoming invitation."""
    if subject:
        return f"{inviter_name} invites you to “{subject}”"
    return f"{inviter_name} invites you to a meeting"


def scheduled_for_later(invitation: IncomingInvitation) -> bool:
    """An invitation to a scheduled meeting that has not started yet."""
    return invitation.start_ms is not None and invitation.start_ms > time.time() * 1000


def when_text(start_ms: int, end_ms: int | None) -> str:
    """When a scheduled meeting is, in this computer's time zone."""
    start = QDateTime.fromMSecsSinceEpoch(start_ms)
    text = f"Scheduled for {start.toString('ddd d MMM yyyy, HH:mm')}"
    if end_ms is not None:
        end = QDateTime.fromMSecsSinceEpoch(end_ms)
        same_day = end.date() == start.date()
        text += f"–{end.toString('HH:mm' if same_day else 'ddd d MMM, HH:mm')}"
    return text
