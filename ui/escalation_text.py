"""The words for adding people to a two-party conversation (escalation).

The engine reports progress and result as data (engine/escalation_models.py);
every sentence the escalation banner and the Add people… dialog show lives here.
"""

from __future__ import annotations

from engine.escalation_models import (
    ConferenceEscalation,
    ConferenceEscalationProgress,
    ConferenceEscalationResult,
)
from ui.banner import BannerKind
from ui.invitation_text import failure_text

P = ConferenceEscalationProgress
R = ConferenceEscalationResult

ADD_PEOPLE = "Add people…"
ADD_PEOPLE_NAME = "Add people"
ADD_PEOPLE_TIP = "Add people to this conversation: it becomes a meeting (Ctrl+I)"
ADD_PEOPLE_SHORTCUT = "Ctrl+I"
#: The Add people… dialog refuses these (the meeting has them anyway).
YOURSELF = "That is you: you are in the meeting anyway."
PEER_FOLLOWS = "{peer} is in this conversation already and follows into the meeting anyway."
TRY_AGAIN = "Try again"
TRY_AGAIN_TIP = "Try again to make this conversation a meeting"

_PROGRESS = {
    P.CONNECTING_TO_CONFERENCE: "Connecting to the meeting…",
    P.JOINING_LOCAL_MEDIA: "Joining media…",
    P.WAITING_FOR_PEER: "Waiting for {peer}…",
    P.COMPLETED: "This conversation is now a meeting.",
}
_STAYS = " The conversation stays between the two of you."
_FAILURE = {
    R.DECLINED: "{peer} declined the meeting." + _STAYS,
    R.NO_ANSWER: "{peer} did not answer in time." + _STAYS,
    R.PEER_OFFLINE: "{peer} is offline, so the meeting could not start." + _STAYS,
    R.NETWORK_ERROR: "The server cannot be reached, so the meeting could not start." + _STAYS,
    R.ENCRYPTED: (
        "People cannot be added to an end-to-end encrypted conversation yet. "
        "Start a meeting with Meet Now and invite everyone instead."
    ),
    R.NOT_TWO_PARTY: "Only a two-party conversation can become a meeting.",
    R.REFUSED: "The meeting could not start: {detail}" + _STAYS,
}
_FINAL_FAILURES = (R.ENCRYPTED, R.NOT_TWO_PARTY)
#: After Completed, one of the added people whose invitation failed (the meeting went on).
NOT_INVITED = "Couldn't invite {who}: {why}"


def escalation_text(escalation: ConferenceEscalation, peer_name: str) -> str:
    """What the banner says about ``escalation`` ("" when there is nothing to say)."""
    text = _progress_text(escalation, peer_name)
    for invitation in escalation.not_invited:
        why = failure_text(invitation.failure, invitation.detail)
        text += f" {NOT_INVITED.format(who=invitation.invitee, why=why)}"
    return text


def _progress_text(escalation: ConferenceEscalation, peer_name: str) -> str:
    if escalation.failed:
        detail = escalation.detail or "the server said no."
        return _FAILURE[escalation.result].format(peer=peer_name, detail=detail)
    if escalation.progress is P.NONE:
        return ""
    if escalation.progress is P.COMPLETED and escalation.media_failed:
        return (
            "This conversation is now a meeting, but your call did not move into its audio: "
            f"{escalation.media_failed.rstrip('.')}. The call goes on."
        )
    if escalation.progress is P.COMPLETED and escalation.incoming:
        return f"{peer_name} made this conversation a meeting."
    if escalation.progress is P.COMPLETED and escalation.audio_moved:
        return "This conversation is now a meeting, and your call moved into its audio."
    return _PROGRESS[escalation.progress].format(peer=peer_name)


def escalation_kind(escalation: ConferenceEscalation) -> BannerKind:
    if escalation.failed:
        return BannerKind.ERROR
    partly = escalation.media_failed or escalation.not_invited
    return BannerKind.WARNING if partly else BannerKind.INFO


def can_try_again(escalation: ConferenceEscalation) -> bool:
    return escalation.failed and escalation.result not in _FINAL_FAILURES
