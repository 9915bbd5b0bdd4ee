"""Invitations to meetings (seed 003): the ones I send, and the ones I get.

Sending: ``deliver`` takes a ConferenceInvitation through Idle → Delivering →
Delivered (the server accepted the invite) or Failed, and the sync then moves
it to Accepted (the invitee joined) or Declined (they rejected it); with no
answer within the timeout the invite is withdrawn and it is Expired. Every
change is published as InvitationStateChanged. Per-invitee problems are data
(InvitationFailure), never exceptions, so one bad address does not stop the
others of a batch.

Getting: an invite to a meeting that nobody else claimed (a two-party invite
is Conversations', a lobby admission Conferences', an escalation's invite
carries ``org.confero.escalated_from`` and is Escalation's) is published as
IncomingInvitation until it is answered or withdrawn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from nio import ErrorResponse

from engine import events as ev
from engine.conference_models import Membership, SessionState
from engine.conferences import Conferences
from engine.errors import (
    ConferoError,
    HomeserverUnreachable,
    InvalidUserId,
    ServerRefused,
    UnknownUser,
)
from engine.ids import parse_user_id
from engine.invitation_models import (
    DEFAULT_INVITATION_TIMEOUT_S,
    EXPIRED_REASON,
    FINAL_STATES,
    RESENDABLE_STATES,
    ConferenceInvitation,
    IncomingInvitation,
    InvitationFailure,
    InvitationState,
    says_live_audio,
    scheduled_times,
)
from engine.matrix_events import refusal_text
from engine.sanitize import clean_name
from engine.session import Session
from engine.user_directory import require_user

__all__ = [
    "DEFAULT_INVITATION_TIMEOUT_S",
    "ESCALATED_FROM",
    "ConferenceInvitation",
    "IncomingInvitation",
    "InvitationFailure",
    "InvitationState",
    "Invitations",
]

log = logging.getLogger(__name__)

#: Invite content key of an escalation's invite (the two-party room it came from).
ESCALATED_FROM = "org.confero.escalated_from"
MAX_TOAST_LENGTH = 500
#: Session states in which I can no longer invite anyone to a meeting.
_GONE = (SessionState.LEFT, SessionState.REMOVED, SessionState.DENIED, SessionState.FAILED)

_Key = tuple[str, str]  # (room_id, invitee)
#: Extra invite content for a meeting, asked at each invite (meeting audio: "live").
ContentProvider = Callable[[str], dict[str, Any]]


class Invitations:
    """ConferenceInvitation per (meeting, invitee) I invited, and invitations to me."""

    def __init__(self, session: Session, conferences: Conferences) -> None:
        self._session = session
        self._conferences = conferences
        #: Default wait for an answer, in seconds; the UI sets it from the settings.
        self.timeout_s = DEFAULT_INVITATION_TIMEOUT_S
        self._sent: dict[_Key, ConferenceInvitation] = {}
        self._extra: dict[_Key, dict[str, Any]] = {}
        self._timers: dict[_Key, asyncio.Task[None]] = {}
        self._incoming: dict[str, IncomingInvitation] = {}
        self._providers: list[ContentProvider] = []
        session.on_invite(self._apply_invite)
        session.on_room_event(self._apply_room_event)
        session.on_left_room(self._apply_left_room)
        session.on_close(self._close)

    # -------------------------------------------------------------- reading

    def invitations(self, room_id: str) -> list[ConferenceInvitation]:
        """The invitations I sent to one meeting, latest state of each."""
        return [i for (room, _), i in self._sent.items() if room == room_id]

    def invitation(self, room_id: str, user_id: str) -> ConferenceInvitation | None:
        return self._sent.get((room_id, user_id))

    def incoming(self) -> list[IncomingInvitation]:
        """Invitations to me not answered yet, oldest first."""
        return list(self._incoming.values())

    def expiry_timer(self, room_id: str, user_id: str) -> asyncio.Task[None] | None:
        """The running wait for an answer, if any (tests wait for it to end)."""
        return self._timers.get((room_id, user_id))

    # -------------------------------------------------------------- sending

    def add_invite_content(self, provider: ContentProvider) -> None:
        """Another service adds keys to every invite to a meeting (meeting audio says
        whether the audio is live); ``extra_content`` of a deliver wins over them."""
        self._providers.append(provider)

    async def deliver(
        self,
        room_id: str,
        user_id: str,
        toast_message: str = "",
        *,
        timeout_s: float | None = None,
        extra_content: dict[str, Any] | None = None,
        known_user: bool = False,
    ) -> ConferenceInvitation:
        """Invite ``user_id``; returns once Delivered or Failed (never raises for the invitee).

        ``known_user``: the invitee surely exists (the peer of a two-party
        conversation), so the profile check that finds unknown IDs is skipped.
        """
        own = self._session.require_client().user_id
        toast = toast_message.strip()[:MAX_TOAST_LENGTH]
        try:
            invitee = parse_user_id(user_id)
        except InvalidUserId as exc:
            return self._fail_early(room_id, user_id.strip(), own, toast, exc)
        key = (room_id, invitee)
        current = self._sent.get(key)
        if current is not None and current.state not in FINAL_STATES:
            return current  # already on its way or waiting for an answer
        invitation = ConferenceInvitation(room_id, invitee, own, toast, InvitationState.IDLE)
        self._sent[key] = invitation
        self._extra[key] = dict(extra_content or {})
        if problem := self._local_problem(room_id, invitee, own):
            return self._set(key, InvitationState.FAILED, failure=problem)
        self._set(key, InvitationState.DELIVERING)
        try:
            failure, detail = await self._send_invite(
                room_id, invitee, toast, self._extra[key], check_profile=not known_user
            )
        except HomeserverUnreachable as exc:
            failure, detail = InvitationFailure.UNREACHABLE, exc.user_message
        if failure is not None:
            return self._set(key, InvitationState.FAILED, failure=failure, detail=detail)
        latest = self._sent[key]
        if latest.state is not InvitationState.DELIVERING:
            return latest  # the sync already brought the answer
        delivered = self._set(key, InvitationState.DELIVERED, delivered_ts=int(time.time() * 1000))
        wait = self.timeout_s if timeout_s is None else timeout_s
        self._timers[key] = asyncio.ensure_future(self._expire_after(key, wait))
        return delivered

    async def resend(self, room_id: str, user_id: str) -> ConferenceInvitation:
        """Send a Declined, Expired or Failed invitation again, with the same message."""
        previous = self._sent.get((room_id, user_id))
        if previous is not None and previous.state not in RESENDABLE_STATES:
            return previous
        toast = previous.toast_message if previous else ""
        extra = self._extra.get((room_id, user_id))
        return await self.deliver(room_id, user_id, toast, extra_content=extra)

    def _provided(self, room_id: str) -> dict[str, Any]:
        content: dict[str, Any] = {}
        for provider in self._providers:
            try:
                content.update(provider(room_id))
            except Exception:  # an extra key is not worth an invitation
                log.exception("an invite content provider failed")
        return content

    def _fail_early(
        self, room_id: str, invitee: str, own: str, toast: str, error: ConferoError
    ) -> ConferenceInvitation:
        """A malformed ID: failed before anything was sent (and not kept: it names no one)."""
        failed = ConferenceInvitation(
            room_id,
            invitee,
            own,
            toast,
            InvitationState.FAILED,
            InvitationFailure.INVALID_ID,
            error.user_message,
        )
        self._session.bus.publish(ev.InvitationStateChanged(failed))
        return failed

    def _local_problem(self, room_id: str, invitee: str, own: str) -> InvitationFailure | None:
        if invitee == own:
            return InvitationFailure.YOURSELF
        session = self._conferences.session(room_id)
        if session is not None and session.state in _GONE:
            return InvitationFailure.MEETING_ENDED
        for person in self._conferences.participants(room_id):
            if person.user_id == invitee and person.membership is Membership.JOINED:
                return InvitationFailure.ALREADY_IN_MEETING
        return None

    async def _send_invite(
        self,
        room_id: str,
        invitee: str,
        toast: str,
        extra: dict[str, Any],
        *,
        check_profile: bool = True,
    ) -> tuple[InvitationFailure | None, str]:
        """The profile check and the invite itself; (failure, server's words) or (None, "")."""
        if check_profile:
            try:
                await require_user(self._session, invitee)
            except UnknownUser as exc:
                return InvitationFailure.UNKNOWN_USER, exc.user_message
        room = quote(room_id, safe="")
        extra = self._provided(room_id) | extra  # asked now: what is true at this invite
        if extra:
            # Extra keys on the invite need the member event itself (the
            # /invite endpoint takes only a reason).
            content: dict[str, Any] = {"membership": "invite", **extra}
            if toast:
                content["reason"] = toast
            path = f"/_matrix/client/v3/rooms/{room}/state/m.room.member/{quote(invitee, safe='')}"
            answer = await self._session.api("PUT", path, content)
        else:
            body: dict[str, Any] = {"user_id": invitee}
            if toast:
                body["reason"] = toast
            path = f"/_matrix/client/v3/rooms/{room}/invite"
            answer = await self._session.api("POST", path, body)
        if not isinstance(answer, dict) or "errcode" not in answer:
            return None, ""
        return _failure_of(str(answer.get("errcode")), str(answer.get("error") or ""))

    async def _expire_after(self, key: _Key, delay: float) -> None:
        """No answer in time: withdraw the invite (a kick of it) and say Expired."""
        try:
            await asyncio.sleep(max(0.0, delay))
            if self._sent[key].state is not InvitationState.DELIVERED:
                return
            room_id, invitee = key
            path = (
                f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}"
                f"/state/m.room.member/{quote(invitee, safe='')}"
            )
            member = await self._session.api("GET", path)
            if isinstance(member, dict) and member.get("membership") != "invite":
                return  # answered meanwhile; the sync brings which way
            self._set(key, InvitationState.EXPIRED)
            answer = await self._session.api(
                "POST",
                f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/kick",
                {"user_id": invitee, "reason": EXPIRED_REASON},
            )
            if isinstance(answer, dict) and "errcode" in answer:
                log.info("could not withdraw an expired invitation: %s", refusal_text(answer))
        except ConferoError as exc:
            log.info("could not withdraw an expired invitation: %s", exc.user_message)
        finally:
            if self._timers.get(key) is asyncio.current_task():
                del self._timers[key]

    def _set(self, key: _Key, state: InvitationState, **changes: Any) -> ConferenceInvitation:
        timer = self._timers.pop(key, None) if state in FINAL_STATES else None
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()
        if state is not InvitationState.FAILED:
            changes.setdefault("failure", None)
            changes.setdefault("detail", "")
        updated = replace(self._sent[key], state=state, **changes)
        self._sent[key] = updated
        self._session.bus.publish(ev.InvitationStateChanged(updated))
        return updated

    # ----------------------------------------------------- sync: sent ones

    def _apply_room_event(self, room: Any, source: dict[str, Any], in_timeline: bool) -> None:
        if source.get("type") != "m.room.member":
            return
        member = source.get("state_key")
        content = source.get("content") or {}
        membership = content.get("membership")
        if member == self._session.user_id:
            if membership == "join" and room.room_id in self._incoming:
                self._drop_incoming(room.room_id)  # answered on another device
            return
        key = (room.room_id, member)
        invitation = self._sent.get(key)
        if invitation is None or invitation.state in FINAL_STATES:
            return
        if membership == "join":
            self._set(key, InvitationState.ACCEPTED)
        elif membership in ("leave", "ban") and invitation.state is InvitationState.DELIVERED:
            # Their own leave is a no; someone else's is the invite taken back.
            if source.get("sender") == member:
                self._set(key, InvitationState.DECLINED)
            else:
                self._set(key, InvitationState.EXPIRED)

    def _apply_left_room(self, room_id: str, events: list[dict[str, Any]]) -> None:
        own = self._session.user_id
        if room_id in self._incoming:
            self._drop_incoming(room_id)
        for source in events:
            if source.get("type") == "m.room.member" and source.get("state_key") == own:
                # I left the meeting: what I sent there can no longer be followed.
                for (room, _), invitation in list(self._sent.items()):
                    if room == room_id and invitation.state not in FINAL_STATES:
                        self._set(
                            (room, invitation.invitee),
                            InvitationState.FAILED,
                            failure=InvitationFailure.MEETING_ENDED,
                        )
                return

    # ------------------------------------------------------ sync: incoming

    def _apply_invite(self, room_id: str, invite_state: list[Any]) -> bool:
        own = self._session.user_id or ""
        if room_id in self._incoming:
            return True
        session = self._conferences.session(room_id)
        if session is not None and session.state is SessionState.CONNECTING:
            return False  # my own join on its way (a trusted join invites me first)
        found = _read_invite(invite_state, own)
        if found is None or ESCALATED_FROM in found["content"]:
            return False  # not an invitation to show (escalation's to handle)
        inviter = str(found["sender"] or "")
        incoming = IncomingInvitation(
            room_id=room_id,
            inviter=inviter,
            inviter_name=found["names"].get(inviter) or self._session.display_name(inviter),
            subject=found["subject"],
            conference_id=found["conference_id"],
            toast_message=clean_name(str(found["content"].get("reason") or ""))[:MAX_TOAST_LENGTH],
            **scheduled_times(found["content"]),
            with_audio=says_live_audio(found["content"]),
        )
        self._incoming[room_id] = incoming
        self._session.bus.publish(incoming)
        return True

    async def join_incoming(self, room_id: str) -> str:
        """Accept an invitation: join the meeting (no lobby: I am invited)."""
        invitation = self._incoming.pop(room_id, None)
        try:
            return await self._conferences.join(room_id)
        except ConferoError:
            if invitation is not None:
                self._incoming[room_id] = invitation  # still there to answer
            raise

    async def decline_incoming(self, room_id: str) -> None:
        """Say no to an invitation (the inviter sees Declined)."""
        invitation = self._incoming.pop(room_id, None)
        client = self._session.require_client()
        try:
            response = await self._session.call(client.room_leave(room_id))
        except ConferoError:
            if invitation is not None:
                self._incoming[room_id] = invitation
            raise
        if isinstance(response, ErrorResponse):
            if invitation is not None:
                self._incoming[room_id] = invitation
            raise ServerRefused(refusal_text(response))

    def _drop_incoming(self, room_id: str) -> None:
        if self._incoming.pop(room_id, None) is not None:
            self._session.bus.publish(ev.IncomingInvitationWithdrawn(room_id))

    async def _close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        for timer in list(self._timers.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await timer
        self._timers.clear()


def _failure_of(errcode: str, message: str) -> tuple[InvitationFailure, str]:
    """The server's refusal of an invite, as a reason the UI can word."""
    lowered = message.lower()
    if errcode == "M_NOT_FOUND" or "unknown user" in lowered:
        return InvitationFailure.UNKNOWN_USER, message
    if errcode == "M_FORBIDDEN":
        if "not in room" in lowered or "not in the room" in lowered:
            return InvitationFailure.MEETING_ENDED, message
        if "already in the room" in lowered:
            return InvitationFailure.ALREADY_IN_MEETING, message
        return InvitationFailure.NOT_ALLOWED, message
    return InvitationFailure.REFUSED, message


def _read_invite(invite_state: list[Any], own: str) -> dict[str, Any] | None:
    """Inviter, my invite's content, the room's name and meeting ID from the invite state."""
    found: dict[str, Any] = {"sender": None, "content": {}, "names": {}}
    subject = alias = ""
    for event in invite_state:
        source = getattr(event, "source", None) or {}
        # nio moves "content" out of the source dict for invite-state events.
        content = getattr(event, "content", None) or source.get("content") or {}
        kind = source.get("type")
        if kind == "m.room.member":
            member = source.get("state_key")
            if isinstance(content.get("displayname"), str) and isinstance(member, str):
                found["names"][member] = clean_name(content["displayname"])
            if member == own and content.get("membership") == "invite":
                if content.get("is_direct") is True:
                    return None  # a two-party conversation, not a meeting
                found["sender"] = source.get("sender")
                found["content"] = dict(content)
        elif kind == "m.room.name":
            subject = clean_name(str(content.get("name") or ""))
        elif kind == "m.room.canonical_alias":
            alias = str(content.get("alias") or "")
    if not found["sender"]:
        return None
    localpart = alias[1:].split(":", 1)[0] if alias.startswith("#") else ""
    found["subject"] = subject
    found["conference_id"] = localpart if localpart.isdigit() else ""
    return found
