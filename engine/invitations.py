"""Invitations to meetings (seed 003), MINIMAL: only what escalation uses.

The invitations branch replaces this module with the full service; the types
and ``deliver`` follow /work/briefs/invitations_contract.md exactly.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from engine.errors import ConferoError, InvalidUserId
from engine.ids import parse_user_id
from engine.session import Session


class InvitationState(enum.Enum):
    IDLE = "Idle"
    DELIVERING = "Delivering"
    DELIVERED = "Delivered"
    ACCEPTED = "Accepted"
    DECLINED = "Declined"
    FAILED = "Failed"
    EXPIRED = "Expired"


class InvitationFailure(enum.Enum):
    INVALID_ID = "InvalidId"
    UNKNOWN_USER = "UnknownUser"
    YOURSELF = "Yourself"
    ALREADY_IN_MEETING = "AlreadyInMeeting"
    NOT_ALLOWED = "NotAllowed"
    MEETING_ENDED = "MeetingEnded"
    UNREACHABLE = "Unreachable"
    REFUSED = "Refused"


@dataclass(frozen=True)
class ConferenceInvitation:
    room_id: str
    invitee: str
    inviter: str
    toast_message: str
    state: InvitationState
    failure: InvitationFailure | None = None
    detail: str = ""
    delivered_ts: int = 0


class Invitations:
    """Sends meeting invites; the full service also follows their answers."""

    def __init__(self, session: Session, conferences: Any = None) -> None:
        self._session = session
        self._invitations: dict[tuple[str, str], ConferenceInvitation] = {}

    def invitations(self, room_id: str) -> list[ConferenceInvitation]:
        return [i for (room, _), i in self._invitations.items() if room == room_id]

    async def deliver(
        self,
        room_id: str,
        user_id: str,
        toast_message: str = "",
        *,
        timeout_s: float | None = None,
        extra_content: dict[str, Any] | None = None,
    ) -> ConferenceInvitation:
        own = self._session.require_client().user_id
        invitation = ConferenceInvitation(
            room_id, user_id, own, toast_message, InvitationState.DELIVERING
        )
        try:
            invitee = parse_user_id(user_id)
        except InvalidUserId as exc:
            return self._keep(
                replace(
                    invitation,
                    state=InvitationState.FAILED,
                    failure=InvitationFailure.INVALID_ID,
                    detail=exc.user_message,
                )
            )
        invitation = replace(invitation, invitee=invitee)
        if invitee == own:
            return self._keep(
                replace(
                    invitation, state=InvitationState.FAILED, failure=InvitationFailure.YOURSELF
                )
            )
        body: dict[str, Any] = {"user_id": invitee, **(extra_content or {})}
        if toast_message:
            body["reason"] = toast_message
        try:
            answer = await self._session.api(
                "POST", f"/_matrix/client/v3/rooms/{quote(room_id)}/invite", body
            )
        except ConferoError as exc:
            return self._keep(
                replace(
                    invitation,
                    state=InvitationState.FAILED,
                    failure=InvitationFailure.UNREACHABLE,
                    detail=exc.user_message,
                )
            )
        if isinstance(answer, dict) and "errcode" in answer:
            return self._keep(
                replace(
                    invitation,
                    state=InvitationState.FAILED,
                    failure=_failure_of(answer),
                    detail=str(answer.get("error") or ""),
                )
            )
        return self._keep(
            replace(
                invitation,
                state=InvitationState.DELIVERED,
                delivered_ts=int(time.time() * 1000),
            )
        )

    def _keep(self, invitation: ConferenceInvitation) -> ConferenceInvitation:
        self._invitations[(invitation.room_id, invitation.invitee)] = invitation
        return invitation


def _failure_of(answer: dict[str, Any]) -> InvitationFailure:
    code = answer.get("errcode")
    text = str(answer.get("error") or "").lower()
    if code == "M_NOT_FOUND" or "unknown user" in text:
        return InvitationFailure.UNKNOWN_USER
    if "already in the room" in text:
        return InvitationFailure.ALREADY_IN_MEETING
    if code == "M_FORBIDDEN":
        return InvitationFailure.NOT_ALLOWED
    return InvitationFailure.REFUSED
