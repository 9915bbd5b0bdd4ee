"""Escalating a two-party conversation into a meeting (seeds 001 and 002).

The Matrix realisation follows ../shared/design/mapping.md. The initiator
creates the meeting (ConnectingToConference), joins its media (JoiningLocalMedia:
the media joiner hook, engine/calls/call_escalation.py, moves a running call into
the meeting's audio), invites the peer (WaitingForPeer), and is Completed when
the peer joins. The invite carries the request, ``org.confero.escalate`` (with
``"audio": true`` when the call's audio moved, and when it was asked): the
peer's Confero answers it by joining on its own, no prompt, since it is the same
conversation. A message in the two-party room with the meeting's link tells
other clients; it goes out once the peer has joined, or after
ANNOUNCE_AFTER_S without an answer, so that it does not compete at the server
with the peer's join. When both sides escalate at once, the request with the
lower (asked_at, meeting room ID) wins and the other side follows it: one
meeting (both sides compare the same two invites).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from nio import ErrorResponse, MatrixRoom

from engine import events as ev
from engine.conference_models import AccessLevel
from engine.conferences import Conferences
from engine.conversations import Conversations
from engine.errors import ConferoError, HomeserverUnreachable, ServerRefused
from engine.escalation_models import (
    DEFAULT_ESCALATION_TIMEOUT_S,
    ESCALATE_KEY,
    ESCALATED_FROM,
    ConferenceEscalation,
    ConferenceEscalationProgress,
    ConferenceEscalationResult,
)
from engine.ids import parse_user_id
from engine.invitations import ConferenceInvitation, InvitationFailure, Invitations, InvitationState
from engine.matrix_events import CONFERENCE_STATE, refusal_text
from engine.models import ConnectionState, ConversationKind, Presence
from engine.presences import Presences
from engine.session import Session

log = logging.getLogger(__name__)

#: How long the initiator waits for the peer's join before telling other clients
#: in the two-party room (a Confero peer follows on the invite well before).
ANNOUNCE_AFTER_S = 1.0

Progress = ConferenceEscalationProgress
Result = ConferenceEscalationResult
#: Joins the meeting's media for a two-party room at JoiningLocalMedia:
#: (direct room, meeting room, audio_moves) -> whether a call's audio went on in the
#: meeting. ``audio_moves`` is None on the initiator's side (the joiner looks for a
#: running call itself) and, on the peer's side, what the initiator's request says.
#: A ConferoError from it means the audio could not move: the escalation goes on
#: and records the reason (``media_failed``); the joiner keeps the call going.
MediaJoiner = Callable[[str, str, bool | None], Awaitable[bool]]


async def _no_media(direct_room_id: str, conference_room_id: str, audio_moves: bool | None) -> bool:
    """Without audio there is no call to move."""
    return False


@dataclass(frozen=True, slots=True)
class _Request:
    """An escalation message seen in a two-party room."""

    order: tuple[int, str]  # (asked_at, meeting room ID): the lower one wins a tie
    conference_room_id: str
    uri: str
    sender: str
    audio: bool = False  # the initiator's call audio moved into the meeting


class _Outcome:
    """Why the initiator stopped waiting for the peer."""

    JOINED = "joined"
    DECLINED = "declined"


class Escalation:
    """Each two-party conversation's escalation, both as initiator and as peer."""

    def __init__(
        self,
        session: Session,
        presences: Presences,
        conferences: Conferences,
        conversations: Conversations,
        invitations: Invitations,
    ) -> None:
        self._session = session
        self._presences = presences
        self._conferences = conferences
        self._conversations = conversations
        self._invitations = invitations
        #: How long the initiator waits for the peer (Settings.escalation_timeout_s).
        self.timeout_s = DEFAULT_ESCALATION_TIMEOUT_S
        self._media_joiner: MediaJoiner = _no_media
        self._escalations: dict[str, ConferenceEscalation] = {}
        self._pending_invitees: dict[str, tuple[tuple[str, ...], str]] = {}
        self._conference_of: dict[str, str] = {}  # two-party room -> meeting room (Completed)
        self._direct_of: dict[str, str] = {}  # meeting room -> two-party room
        # What each meeting's own state says it was escalated from: survives a restart.
        self._claimed: dict[str, tuple[str, str]] = {}  # meeting -> (two-party room, by whom)
        # Initiator bookkeeping for the room it waits in.
        # meeting room -> (two-party room, peer, what ends the wait)
        self._waiting: dict[str, tuple[str, str, asyncio.Future[Any]]] = {}
        self._own_request: dict[str, _Request] = {}
        self._peer_request: dict[str, _Request] = {}
        self._seen: set[str] = set()  # meetings whose invite was already handled
        # The peer's newest request per two-party room: an older one is not followed.
        self._latest_peer_request: dict[str, _Request] = {}
        # Meetings given up (declined, no answer, network): they claim no conversation.
        self._abandoned: set[str] = set()
        # Given-up meetings whose withdrawal did not reach the server: meeting -> peer.
        self._unfinished: dict[str, str] = {}
        self._cleaning = False
        session.on_room_event(self._apply_room_event)
        session.on_invite(self._apply_invite)
        session.on_synced(self._on_synced)

    # -------------------------------------------------------------- reading

    def escalation(self, direct_room_id: str) -> ConferenceEscalation:
        return self._escalations.get(direct_room_id) or ConferenceEscalation(direct_room_id)

    def progress(self, direct_room_id: str) -> ConferenceEscalationProgress:
        return self.escalation(direct_room_id).progress

    def result(self, direct_room_id: str) -> ConferenceEscalationResult:
        return self.escalation(direct_room_id).result

    def conferencing_uri(self, direct_room_id: str) -> str:
        return self.escalation(direct_room_id).conferencing_uri

    def conference_for(self, direct_room_id: str) -> str | None:
        """The meeting a two-party conversation became, once Completed."""
        if conf := self._conference_of.get(direct_room_id):
            return conf
        for conf, (direct, _) in self._claimed.items():
            if direct == direct_room_id and self._trusted_claim(conf):
                return conf
        return None

    def direct_room_of(self, conference_room_id: str) -> str | None:
        """The two-party conversation a meeting you are in was escalated from."""
        if direct := self._direct_of.get(conference_room_id):
            return direct
        if self._trusted_claim(conference_room_id):
            return self._claimed[conference_room_id][0]
        return None

    def _trusted_claim(self, conference_room_id: str) -> bool:
        """A meeting you are in, escalated by you or by that conversation's peer
        (no one else's meeting can claim one of your two-party conversations)."""
        if conference_room_id not in self._claimed or conference_room_id in self._abandoned:
            return False
        direct, claimant = self._claimed[conference_room_id]
        info = self._conversations.conversation(direct)
        return (
            self._conferences.is_member(conference_room_id)
            and info is not None
            and info.kind is ConversationKind.DIRECT
            and claimant in (self._session.user_id, info.peer_user_id)
        )

    def set_media_joiner(self, joiner: MediaJoiner) -> None:
        """Calls plug in here (engine/engine.py): move a running call into the meeting."""
        self._media_joiner = joiner

    # -------------------------------------------------------------- actions

    async def escalate(
        self,
        direct_room_id: str,
        invitees: Sequence[str] = (),
        toast_message: str = "",
        *,
        timeout_s: float | None = None,
    ) -> ConferenceEscalation:
        """Add people to a two-party conversation: it becomes a meeting (seed 001).

        Bad IDs among ``invitees`` raise InvalidUserId before anything starts;
        everything else ends as the returned escalation's result (a failure
        leaves the conversation two-party, and escalate() may be called again).
        """
        added = tuple(dict.fromkeys(parse_user_id(user) for user in invitees))
        current = self.escalation(direct_room_id)
        if current.running or current.result == Result.SUCCESS:
            if current.result == Result.SUCCESS and added:
                await self._invite_added(current.conference_room_id, added, toast_message)
            return current
        info = self._conversations.conversation(direct_room_id)
        if info is None or info.kind != ConversationKind.DIRECT or not info.peer_user_id:
            return self._set(ConferenceEscalation(direct_room_id, result=Result.NOT_TWO_PARTY))
        peer = info.peer_user_id
        if info.encrypted:
            return self._set(
                ConferenceEscalation(direct_room_id, result=Result.ENCRYPTED, peer=peer)
            )
        # The peer follows anyway, and we are in it: adding either is no one new.
        added = tuple(u for u in added if u not in (peer, self._session.user_id))
        self._pending_invitees[direct_room_id] = (added, toast_message)
        self._peer_request.pop(direct_room_id, None)
        self._own_request.pop(direct_room_id, None)
        try:
            return await self._initiate(direct_room_id, peer, timeout_s or self.timeout_s)
        except HomeserverUnreachable as exc:
            return self._fail(direct_room_id, Result.NETWORK_ERROR, exc.user_message)
        except ConferoError as exc:
            return self._fail(direct_room_id, Result.REFUSED, exc.user_message)

    async def try_again(self, direct_room_id: str) -> ConferenceEscalation:
        """Escalate again after a failure, with the people and message given before."""
        added, message = self._pending_invitees.get(direct_room_id, ((), ""))
        return await self.escalate(direct_room_id, added, message)

    # ------------------------------------------------------ the initiator

    async def _initiate(self, direct: str, peer: str, timeout: float) -> ConferenceEscalation:
        base = ConferenceEscalation(direct, Progress.CONNECTING_TO_CONFERENCE, peer=peer)
        self._set(base)
        peer_name = self._session.display_name(peer)
        subject = f"{self._session.own_display_name} and {peer_name}"
        conf = await self._conferences.meet_now(
            subject, access_level=AccessLevel.LOCKED, escalated_from=direct
        )
        details = self._conferences.details(conf)
        uri = details.matrix_uri if details else ""
        link = details.link if details else conf
        self._direct_of[conf] = direct
        self._set(replace(base, conference_room_id=conf, conferencing_uri=uri))
        self._set(replace(self.escalation(direct), progress=Progress.JOINING_LOCAL_MEDIA))
        audio = await self._join_media(direct, conf, None)
        if request := self._peer_request.get(direct):
            # The peer escalated first and we have not asked yet: follow theirs.
            await self._abandon(conf, peer)
            return await self._follow(direct, request)
        self._set(replace(self.escalation(direct), progress=Progress.WAITING_FOR_PEER))
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[conf] = (direct, peer, waiter)
        try:
            # Asked before the invite goes: a crossing invite of the peer's is
            # then settled by comparing the two, as the peer compares them.
            asked_at = _now_ms()
            own = self._session.user_id or ""
            self._own_request[direct] = _Request((asked_at, conf), conf, uri, own, audio)
            request = {**_request_content(conf, uri, link, audio), "asked_at": asked_at}
            # The peer is in the two-party room: no need to ask whether they exist.
            invitation = await self._invitations.deliver(
                conf,
                peer,
                "",
                extra_content={ESCALATED_FROM: direct, ESCALATE_KEY: request},
                known_user=True,
            )
            if invitation.state == InvitationState.FAILED:
                await self._abandon(conf, peer)
                return self._fail(direct, *_invitation_failure(invitation))
            self._session.spawn(self._announce(direct, conf, uri, link, audio, waiter))
            try:
                outcome = await asyncio.wait_for(asyncio.shield(waiter), timeout)
            except TimeoutError:
                outcome = None
        finally:
            self._waiting.pop(conf, None)
        if outcome == _Outcome.JOINED:
            return await self._complete(direct)
        if isinstance(outcome, _Request):
            await self._abandon(conf, peer)
            return await self._follow(direct, outcome)
        await self._abandon(conf, peer)
        if outcome == _Outcome.DECLINED:
            return self._fail(direct, Result.DECLINED)
        return self._fail(direct, self._silence_reason(peer))

    async def _join_media(self, direct: str, conf: str, audio_moves: bool | None) -> bool:
        """JoiningLocalMedia: a failure to move the audio is data, not the end."""
        try:
            moved = await self._media_joiner(direct, conf, audio_moves)
        except ConferoError as exc:
            log.info("the call's audio in %s did not move: %s", direct, exc.user_message)
            self._set(replace(self.escalation(direct), media_failed=exc.user_message))
            return False
        if moved:
            self._set(replace(self.escalation(direct), audio_moved=True))
        return moved

    async def _announce(
        self, direct: str, conf: str, uri: str, link: str, audio: bool, waiter: asyncio.Future[Any]
    ) -> None:
        """Tell the two-party room, once the peer joined or has not for a moment."""
        await asyncio.wait({waiter}, timeout=ANNOUNCE_AFTER_S)
        current = self.escalation(direct)
        succeeded = current.result == Result.SUCCESS
        if current.conference_room_id != conf or not (current.running or succeeded):
            return  # given up meanwhile, or the peer's own escalation won
        try:
            await self._post_request(direct, conf, uri, link, audio)
        except ConferoError as exc:  # the invite went: the meeting does not hang on this
            log.info("could not post the escalation message in %s: %s", direct, exc.user_message)

    async def _post_request(
        self, direct: str, conf: str, uri: str, link: str, audio: bool = False
    ) -> None:
        """The request in the two-party room; other clients show its body and link."""
        client = self._session.require_client()
        body = f"{self._session.own_display_name} moved this conversation to a meeting: {link}"
        content = {
            "msgtype": "m.notice",
            "body": body,
            ESCALATE_KEY: _request_content(conf, uri, link, audio),
        }
        response = await self._session.call(client.room_send(direct, "m.room.message", content))
        if isinstance(response, ErrorResponse):
            raise ServerRefused(refusal_text(response))

    def _silence_reason(self, peer: str) -> ConferenceEscalationResult:
        if self._session.connection != ConnectionState.CONNECTED:
            return Result.NETWORK_ERROR
        if self._presences.presence_of(peer) in (Presence.OFFLINE, Presence.UNKNOWN):
            return Result.PEER_OFFLINE
        return Result.NO_ANSWER

    async def _abandon(self, conf: str, peer: str) -> None:
        """The meeting is not needed: withdraw the peer's invite and leave it.

        Without a network that waits for the connection to come back (the next
        sync): the peer must not follow into it later, nor we stay in it.
        """
        self._direct_of.pop(conf, None)
        self._abandoned.add(conf)
        client = self._session.require_client()
        try:
            with contextlib.suppress(ServerRefused):
                await self._session.call(
                    client.room_kick(conf, peer, "The conversation stayed two-party")
                )
            with contextlib.suppress(ServerRefused):
                await self._conferences.leave(conf, for_good=True)
        except ConferoError as exc:  # unreachable: try again once the connection is back
            log.info("could not give up meeting %s yet: %s", conf, exc.user_message)
            self._unfinished[conf] = peer
        else:
            self._unfinished.pop(conf, None)

    def _on_synced(self) -> None:
        if self._unfinished and not self._cleaning:
            self._cleaning = True
            self._session.spawn(self._finish_abandoning())

    async def _finish_abandoning(self) -> None:
        try:
            for conf, peer in list(self._unfinished.items()):
                await self._abandon(conf, peer)
                if conf in self._unfinished:
                    return  # still unreachable; the next sync tries again
        finally:
            self._cleaning = False

    async def _complete(self, direct: str) -> ConferenceEscalation:
        escalation = self.escalation(direct)
        conf = escalation.conference_room_id
        self._conference_of[direct] = conf
        self._direct_of[conf] = direct
        self._set(replace(escalation, progress=Progress.COMPLETED, result=Result.SUCCESS))
        added, message = self._pending_invitees.pop(direct, ((), ""))
        await self._invite_added(conf, added, message)
        return self.escalation(direct)

    async def _invite_added(self, conf: str, added: Sequence[str], message: str) -> None:
        """Invite the added people; the ones that failed become part of the escalation
        (``not_invited``), so its window says who is missing and why."""
        for user_id in added:
            invitation = await self._invitations.deliver(conf, user_id, message)
            direct = self._direct_of.get(conf)
            if invitation.state is InvitationState.FAILED and direct is not None:
                current = self.escalation(direct)
                if current.conference_room_id == conf:
                    failed = (*current.not_invited, invitation)
                    self._set(replace(current, not_invited=failed))

    def _fail(
        self, direct: str, result: ConferenceEscalationResult, detail: str = ""
    ) -> ConferenceEscalation:
        escalation = self.escalation(direct)
        return self._set(replace(escalation, result=result, detail=detail))

    # ---------------------------------------------------------- the peer

    async def _follow(self, direct: str, request: _Request) -> ConferenceEscalation:
        """Join the meeting the peer moved our conversation to, without a prompt."""
        conf = request.conference_room_id
        if self._superseded(direct, request):
            return self.escalation(direct)  # a newer request came in the same sync
        self._session.bus.publish(
            ev.EscalateToConferenceRequested(direct, conf, request.uri, request.sender)
        )
        base = ConferenceEscalation(
            direct,
            Progress.CONNECTING_TO_CONFERENCE,
            conference_room_id=conf,
            conferencing_uri=request.uri,
            peer=request.sender,
            incoming=True,
        )
        self._set(base)
        self._direct_of[conf] = direct
        try:
            # The peer invited us to it and said so in our conversation: a meeting.
            await self._conferences.join_invited(conf, until_synced=request.audio)
            self._set(replace(base, progress=Progress.JOINING_LOCAL_MEDIA))
            await self._join_media(direct, conf, request.audio)
        except HomeserverUnreachable as exc:
            return self._fail(direct, Result.NETWORK_ERROR, exc.user_message)
        except ConferoError as exc:
            # The initiator gave up meanwhile (its invite was withdrawn): nothing to follow.
            log.info("could not follow the escalation of %s: %s", direct, exc.user_message)
            if self._direct_of.get(conf) == direct:
                self._direct_of.pop(conf, None)
            if self.escalation(direct).conference_room_id != conf:
                return self.escalation(direct)  # a newer request is being followed
            return self._set(ConferenceEscalation(direct))
        return await self._complete(direct)

    def _superseded(self, direct: str, request: _Request) -> bool:
        latest = self._latest_peer_request.get(direct)
        return latest is not None and latest.order > request.order

    # ------------------------------------------------------------- sync

    def _apply_room_event(
        self, room: MatrixRoom, source: dict[str, Any], in_timeline: bool
    ) -> None:
        if source.get("type") == "m.room.member" and room.room_id in self._waiting:
            self._apply_peer_membership(room.room_id, source)
        elif source.get("type") == CONFERENCE_STATE and source.get("state_key") == "":
            content = source.get("content")
            direct = content.get("escalated_from") if isinstance(content, dict) else None
            if isinstance(direct, str) and direct:
                self._claimed[room.room_id] = (direct, str(source.get("sender") or ""))

    def _apply_peer_membership(self, conf: str, source: dict[str, Any]) -> None:
        _direct, peer, waiter = self._waiting[conf]
        if source.get("state_key") != peer or waiter.done():
            return
        membership = (source.get("content") or {}).get("membership")
        if membership == "join":
            waiter.set_result(_Outcome.JOINED)
        elif membership in ("leave", "ban") and source.get("sender") == peer:
            waiter.set_result(_Outcome.DECLINED)

    def _apply_invite(self, room_id: str, invite_state: list[Any]) -> bool:
        """The peer's invite to the meeting it moved our conversation to: follow it.

        Only the conversation's own peer can move it, and only by an invite that
        carries the request with when it was asked (too old a one is not followed).
        """
        own = self._session.user_id
        for event in invite_state:
            source = getattr(event, "source", None) or {}
            content = getattr(event, "content", None) or source.get("content") or {}
            if source.get("type") != "m.room.member" or source.get("state_key") != own:
                continue
            direct, data = content.get(ESCALATED_FROM), content.get(ESCALATE_KEY)
            if content.get("membership") != "invite" or not isinstance(data, dict):
                return False
            info = self._conversations.conversation(direct) if isinstance(direct, str) else None
            asked_at = data.get("asked_at")
            if (
                info is None
                or info.kind is not ConversationKind.DIRECT
                or info.peer_user_id != source.get("sender")
                or data.get("conference_room") != room_id
                or not isinstance(asked_at, int)
            ):
                return False
            audio = data.get("audio") is True
            uri = str(data.get("uri") or "")
            request = _Request((asked_at, room_id), room_id, uri, info.peer_user_id, audio)
            self._apply_request(info.room_id, request)
            return True
        return False

    def _apply_request(self, direct: str, request: _Request) -> None:
        conf = request.conference_room_id
        if conf in self._seen:
            return
        self._seen.add(conf)
        if _now_ms() - request.order[0] > self.timeout_s * 1000:
            return  # an old invite (seen at start): the initiator gave up long ago
        latest = self._latest_peer_request.get(direct)
        if latest is not None and latest.order > request.order:
            return  # the initiator has asked again since: this one was given up
        self._latest_peer_request[direct] = request
        current = self.escalation(direct)
        if current.running and not current.incoming:
            self._peer_request[direct] = request
            self._settle_tie(direct)
            return  # not asked yet: _initiate sees the request and follows it
        if current.result == Result.SUCCESS and self._conference_of.get(direct) == conf:
            return
        self._session.spawn(self._follow_quietly(direct, request))

    async def _follow_quietly(self, direct: str, request: _Request) -> None:
        with contextlib.suppress(ConferoError):
            await self._follow(direct, request)

    def _settle_tie(self, direct: str) -> None:
        """Both sides asked: the lower (asked_at, meeting) wins, the other side follows it."""
        own, theirs = self._own_request.get(direct), self._peer_request.get(direct)
        if own is None or theirs is None or theirs.order > own.order:
            return
        for _, (waiting_direct, _, waiter) in self._waiting.items():
            if waiting_direct == direct and not waiter.done():
                waiter.set_result(theirs)

    def _set(self, escalation: ConferenceEscalation) -> ConferenceEscalation:
        if self._escalations.get(escalation.direct_room_id) != escalation:
            self._escalations[escalation.direct_room_id] = escalation
            self._session.bus.publish(ev.EscalationProgressChanged(escalation))
        return escalation


def _now_ms() -> int:
    return int(time.time() * 1000)


def _request_content(conf: str, uri: str, link: str, audio: bool) -> dict[str, Any]:
    """What an escalation request says, in the message and in the peer's invite."""
    return {"conference_room": conf, "uri": uri, "link": link, "audio": audio}


def _invitation_failure(
    invitation: ConferenceInvitation,
) -> tuple[ConferenceEscalationResult, str]:
    if invitation.failure == InvitationFailure.UNREACHABLE:
        return Result.NETWORK_ERROR, invitation.detail
    return Result.REFUSED, invitation.detail
