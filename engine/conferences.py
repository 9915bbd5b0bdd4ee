"""Meetings: Meet Now, joining (with the lobby), roles, removal, leave and rejoin.

The Matrix realisation follows ../shared/design/mapping.md: a meeting is a room
carrying ``org.confero.conference`` state; the lobby is a knock; presenters
admit by inviting and deny by kicking the knock; roles are power levels.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from nio import (
    ErrorResponse,
    JoinResponse,
    MatrixRoom,
    RoomCreateResponse,
    RoomKnockResponse,
    RoomPreset,
    RoomResolveAliasResponse,
)

from engine import events as ev
from engine.conference_models import (
    DEFAULT_LOBBY_TIMEOUT_S,
    LEADER_LEVEL,
    PRESENTER_LEVEL,
    AccessLevel,
    ConferenceDetails,
    ConferenceSession,
    Denial,
    JoinMode,
    Membership,
    Participant,
    Permissions,
    PresenterPolicy,
    Role,
    SessionState,
)
from engine.errors import (
    ConferoError,
    HomeserverUnreachable,
    InvalidUserId,
    MeetingLocked,
    NotAMeeting,
    NotPermitted,
    ServerRefused,
    UnknownConference,
    UnknownUser,
)
from engine.ids import parse_user_id, server_name_of
from engine.matrix_events import CONFERENCE_STATE, refusal_text
from engine.meeting_links import (
    CONFERENCE_ID_DIGITS,
    MeetingReference,
    matrix_to_link,
    matrix_uri,
    parse_meeting_reference,
)
from engine.member_events import MEMBERS_PER_SLICE, member_events
from engine.models import Presence
from engine.presences import Presences
from engine.roster import Roster
from engine.sanitize import clean_name
from engine.session import CONNECTION_ERRORS, Session

log = logging.getLogger(__name__)

JOIN_RULE_OF = {
    AccessLevel.LOCKED: "invite",
    AccessLevel.INVITED: "knock",
    AccessLevel.SAME_ENTERPRISE: "knock_restricted",
    AccessLevel.EVERYONE: "public",
}
ACCESS_LEVEL_OF = {rule: level for level, rule in JOIN_RULE_OF.items()}
MAX_SUBJECT_LENGTH = 200
# The space whose members count as "the same enterprise": everyone on the server.
ORGANISATION_SPACE = "confero-organisation"
_ALIAS_ATTEMPTS = 8
#: The removal reason of End meeting for everyone: all a lobby waiter can read of
#: it (the meeting's state is not theirs to see).
ENDED_REASON = "The organizer ended the meeting."

SessionListener = Callable[[ConferenceSession], None]


def conference_power_levels(organizer: str, policy: PresenterPolicy) -> dict[str, Any]:
    """Power levels that make the roles mean what the documents say (mapping.md)."""
    return {
        "users": {organizer: LEADER_LEVEL},
        "users_default": PRESENTER_LEVEL if policy == PresenterPolicy.EVERYONE else 0,
        "invite": PRESENTER_LEVEL,
        "kick": PRESENTER_LEVEL,
        "ban": PRESENTER_LEVEL,
        "redact": PRESENTER_LEVEL,
        "state_default": PRESENTER_LEVEL,
        "events_default": 0,
        "events": {
            "m.room.power_levels": PRESENTER_LEVEL,
            "m.room.name": PRESENTER_LEVEL,
            # Everyone may say they are in the meeting's call (MatrixRTC membership).
            "m.call.member": 0,
        },
    }


def meeting_create_request(
    organizer: str,
    conference_id: str,
    title: str,
    state: dict[str, Any],
    access_level: AccessLevel,
) -> dict[str, Any]:
    """The createRoom arguments of a new meeting (matrix-nio ``room_create`` keywords).

    Everything the meeting needs goes in this one request (no state put after it),
    so the meeting is complete the moment the server answers.
    """
    policy = PresenterPolicy(state.get("presenter_policy", PresenterPolicy.EVERYONE.value))
    return {
        "alias": conference_id,
        "name": title,
        "room_version": "10",
        "preset": RoomPreset.private_chat,
        "initial_state": [
            {"type": CONFERENCE_STATE, "state_key": "", "content": state},
            {
                "type": "m.room.join_rules",
                "state_key": "",
                "content": {"join_rule": JOIN_RULE_OF[access_level]},
            },
            {
                "type": "m.room.history_visibility",
                "state_key": "",
                "content": {"history_visibility": "shared"},
            },
            {
                "type": "m.room.guest_access",
                "state_key": "",
                "content": {"guest_access": "forbidden"},
            },
        ],
        "power_level_override": conference_power_levels(organizer, policy),
    }


class Conferences:
    """Meetings (ConferenceSession per room), the lobby, roles and rosters."""

    def __init__(self, session: Session, presences: Presences) -> None:
        self._session = session
        self._rosters: dict[str, Roster] = {}
        self._state: dict[str, dict[str, Any]] = {}  # org.confero.conference content
        self._join_rules: dict[str, str] = {}
        self._aliases: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._details: dict[str, ConferenceDetails] = {}
        self._sessions: dict[str, ConferenceSession] = {}
        self._knocked: dict[str, float] = {}  # room_id -> lobby timeout in seconds
        self._lobby_timers: dict[str, asyncio.Task[None]] = {}
        # Lobby waits the user gave up (Cancel, window closed, timeout): a late
        # admission to one of these is declined, never joined.
        self._gave_up: set[str] = set()
        self._admitting: set[str] = set()  # admission joins on their way
        self._leaving: set[str] = set()  # declines and leave-agains on their way
        self._details_waiters: dict[str, asyncio.Event] = {}
        # Rooms join_invited(until_synced=True) waits for sync to bring.
        self._sync_waiters: dict[str, asyncio.Event] = {}
        self._session_listeners: list[SessionListener] = []
        # Registered before Conversations: a lobby's admission is ours to answer.
        session.on_invite(self._apply_invite)
        session.on_room_event(self._apply_room_event)
        session.on_left_room(self._apply_left_room)
        session.on_farewell(self._farewell)
        session.on_close(self._close)
        presences.on_change(self._apply_presence)

    # -------------------------------------------------------------- hooks

    def on_session_changed(self, listener: SessionListener) -> None:
        """A meeting's ConferenceSession changed (also published on the bus)."""
        self._session_listeners.append(listener)

    # -------------------------------------------------------------- reading

    def is_conference(self, room_id: str) -> bool:
        return room_id in self._state

    def details(self, room_id: str) -> ConferenceDetails | None:
        return self._details.get(room_id)

    def conference_state(self, room_id: str) -> dict[str, Any]:
        """The meeting's ``org.confero.conference`` content as last seen (a copy)."""
        return dict(self._state.get(room_id) or {})

    def organized_by_me(self, room_id: str) -> bool:
        """The meeting's state names us its organizer."""
        own = self._session.user_id
        return bool(own) and (self._state.get(room_id) or {}).get("organizer") == own

    def was_ended(self, room_id: str) -> bool:
        """The organizer ended the meeting for everyone (its state says so)."""
        return "ended_ts" in (self._state.get(room_id) or {})

    def session(self, room_id: str) -> ConferenceSession | None:
        return self._sessions.get(room_id)

    def sessions(self) -> list[ConferenceSession]:
        return list(self._sessions.values())

    def in_call(self) -> bool:
        """Connected to at least one meeting."""
        return any(s.state == SessionState.CONNECTED for s in self._sessions.values())

    def lobby_timer(self, room_id: str) -> asyncio.Task[None] | None:
        """The running lobby wait of a meeting, if any (tests wait for it to end)."""
        return self._lobby_timers.get(room_id)

    def participants(self, room_id: str) -> list[Participant]:
        roster = self._rosters.get(room_id)
        return roster.participants() if roster else []

    def is_member(self, room_id: str) -> bool:
        """You are joined to the meeting's room (in its call or not, e.g. after a crash)."""
        roster = self._rosters.get(room_id)
        return roster is not None and roster.membership_of(roster.own_user_id) is Membership.JOINED

    def permissions(self, room_id: str, user_id: str) -> Permissions:
        roster = self._rosters.get(room_id)
        if roster is None:
            return Permissions(False, False, False, Denial.NOT_IN_MEETING)
        return roster.permissions(user_id)

    # ------------------------------------------------------- sync (inbound)

    def _apply_state_event(self, room_id: str, source: dict[str, Any]) -> None:
        """Feed one state event of a joined room (from sync or /members)."""
        event_type = source.get("type")
        content = source.get("content")
        if "state_key" not in source or not isinstance(content, dict):
            return
        roster = self._roster(room_id)
        changes: list[ev.EngineEvent] = []
        if event_type == "m.room.member":
            user_id = source.get("state_key") or ""
            membership = content.get("membership")
            name = (
                content.get("displayname") if isinstance(content.get("displayname"), str) else None
            )
            was_knocking = roster.membership_of(user_id) == Membership.KNOCKING
            changes = roster.apply_member(user_id, str(membership), name)
            if user_id == roster.own_user_id:
                self._on_own_membership(
                    room_id,
                    str(membership),
                    source.get("sender") or "",
                    ended=content.get("reason") == ENDED_REASON,
                )
            elif membership == "knock" and not was_knocking and self.is_conference(room_id):
                participant = roster.get(user_id)
                if participant and roster.can_admit():
                    changes.append(ev.LobbyKnock(room_id, participant))
        elif event_type == "m.room.power_levels":
            changes = roster.apply_power_levels(content)
        elif event_type == CONFERENCE_STATE:
            self._state[room_id] = content
            organizer = content.get("organizer")
            changes = roster.apply_organizer(organizer if isinstance(organizer, str) else "")
        elif event_type == "m.room.join_rules":
            self._join_rules[room_id] = str(content.get("join_rule", "invite"))
        elif event_type == "m.room.canonical_alias":
            alias = content.get("alias")
            self._aliases[room_id] = alias if isinstance(alias, str) else ""
        elif event_type == "m.room.name":
            self._names[room_id] = clean_name(str(content.get("name") or ""))
        else:
            return
        if self.is_conference(room_id):
            for change in changes:
                self._session.bus.publish(change)
            self._refresh_details(room_id)

    def _apply_presence(self, user_id: str, presence: Presence) -> None:
        for room_id, roster in self._rosters.items():
            for change in roster.apply_presence(user_id, presence):
                if self.is_conference(room_id):
                    self._session.bus.publish(change)

    def _apply_room_event(
        self, room: MatrixRoom, source: dict[str, Any], in_timeline: bool
    ) -> None:
        self._apply_state_event(room.room_id, source)
        if waiter := self._sync_waiters.get(room.room_id):
            waiter.set()

    def _apply_invite(self, room_id: str, invite_state: list[Any]) -> bool:
        """An invite arrived; True if it admits us from a lobby (and we join or decline)."""
        if room_id in self._knocked:
            if room_id not in self._admitting:
                self._admitting.add(room_id)
                self._session.spawn(self._join_after_admission(room_id))
            return True
        if room_id in self._gave_up:
            # The admission crossed our Cancel (or the timeout): say no to it.
            self._session.spawn(self._leave_quietly(room_id))
            return True
        return False

    def _apply_left_room(self, room_id: str, member_events: list[dict[str, Any]]) -> None:
        """Our membership ended (we left, were removed, or our knock was denied)."""
        own = self._session.user_id
        # The meeting's own state first: "the organizer ended it" comes with the kick.
        for source in member_events:
            if source.get("type") == CONFERENCE_STATE:
                self._apply_state_event(room_id, source)
        members = [e for e in member_events if e.get("type") == "m.room.member"]
        # Others first: the remover's name comes with them; then our own leave.
        members.sort(key=lambda source: source.get("state_key") == own)
        for source in members:
            self._apply_state_event(room_id, source)

    def _on_own_membership(
        self, room_id: str, membership: str, sender: str, *, ended: bool = False
    ) -> None:
        current = self._sessions.get(room_id)
        own = self._session.user_id
        if membership == "join":
            if room_id in self._gave_up:
                # A join that landed after the user gave up the lobby: not theirs to keep.
                self._session.spawn(self._leave_quietly(room_id, only_if_joined=True))
                return
            if self._is_standing(room_id) and (
                current is None
                or current.state not in (SessionState.CONNECTING, SessionState.IN_LOBBY)
            ):
                # A member of a scheduled meeting ahead of time, of one they organize
                # and left, or after a restart: not in it until they join it.
                return
            if self.is_conference(room_id) and (
                current is None or current.state != SessionState.CONNECTED
            ):
                self._knocked.pop(room_id, None)
                self._cancel_lobby_timer(room_id)
                self._set_session(room_id, SessionState.CONNECTED)
            return
        if membership not in ("leave", "ban") or current is None:
            return
        if sender and sender != own:
            remover = self._roster(room_id).name_of(sender) or self._session.display_name(sender)
            ended = ended or self.was_ended(room_id)
            if current.state == SessionState.IN_LOBBY:
                self._knocked.pop(room_id, None)
                self._cancel_lobby_timer(room_id)
                self._set_session(
                    room_id,
                    SessionState.DENIED,
                    by=remover,
                    can_rejoin=membership != "ban" and not ended,
                    ended_by_organizer=ended,
                )
            elif current.state == SessionState.CONNECTED:
                self._set_session(
                    room_id,
                    SessionState.REMOVED,
                    by=remover,
                    can_rejoin=membership != "ban"
                    and not ended
                    and self._join_rules.get(room_id) in ("knock", "public", "knock_restricted"),
                    ended_by_organizer=ended,
                )
        elif current.state == SessionState.CONNECTED:
            self._set_session(room_id, SessionState.LEFT)

    # ---------------------------------------------------- actions (outbound)

    async def meet_now(
        self, subject: str = "", *, access_level: AccessLevel = AccessLevel.INVITED, **extra: Any
    ) -> str:
        """Create a meeting and join it as its Leader; ``extra`` goes into its
        org.confero.conference state (escalation records ``escalated_from``)."""
        room_id = await self.create_meeting(subject, access_level=access_level, extra=extra)
        self._set_session(room_id, SessionState.CONNECTED)
        return room_id

    async def create_meeting(
        self,
        subject: str,
        *,
        access_level: AccessLevel,
        presenter_policy: PresenterPolicy = PresenterPolicy.EVERYONE,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """Create a meeting room with a free conference ID as its alias; we are its
        Leader and a member, but not in it (no session) until someone joins it."""
        client = self._session.require_client()
        own = client.user_id
        title = (
            clean_name(subject)[:MAX_SUBJECT_LENGTH]
            or f"{self._session.own_display_name}'s meeting"
        )
        for _ in range(_ALIAS_ATTEMPTS):
            conference_id = str(
                secrets.randbelow(9 * 10 ** (CONFERENCE_ID_DIGITS - 1))
                + 10 ** (CONFERENCE_ID_DIGITS - 1)
            )
            alias = f"#{conference_id}:{server_name_of(own)}"
            state = {
                "conference_id": conference_id,
                "subject": title,
                "organizer": own,
                "created_ts": int(time.time() * 1000),
                "presenter_policy": presenter_policy.value,
                **(extra or {}),
            }
            request = meeting_create_request(own, conference_id, title, state, access_level)
            response = await self._session.call(client.room_create(**request))
            if isinstance(response, RoomCreateResponse):
                room_id = response.room_id
                self._apply_created(room_id, alias, request)
                return room_id
            if response.status_code != "M_ROOM_IN_USE":
                raise ServerRefused(refusal_text(response))
        raise ServerRefused("Could not find a free meeting ID. Please try again.")

    def _apply_created(self, room_id: str, alias: str, request: dict[str, Any]) -> None:
        """Know the new meeting now, not when sync brings it back.

        Its state is what we just sent, and the server's answer means it holds:
        feed it through the same path sync uses, so the meeting's details, our
        role and our roster row are there at once (the window shows the link
        without waiting). When sync then delivers the room, the same state
        changes nothing, so nothing is published twice.
        """
        # Also when sync was quicker: it may have brought only the first pieces
        # of the room (Synapse writes a new room's state one event at a time).
        own = self._session.user_id or ""
        created: list[dict[str, Any]] = [
            *request["initial_state"],
            {
                "type": "m.room.power_levels",
                "state_key": "",
                "content": request["power_level_override"],
            },
            {"type": "m.room.name", "state_key": "", "content": {"name": request["name"]}},
            {"type": "m.room.canonical_alias", "state_key": "", "content": {"alias": alias}},
            {
                "type": "m.room.member",
                "state_key": own,
                "sender": own,
                "content": {"membership": "join", "displayname": self._session.own_display_name},
            },
        ]
        for source in created:
            self._apply_state_event(room_id, source)

    async def join(
        self,
        reference: str,
        *,
        mode: JoinMode = JoinMode.DEFAULT,
        lobby_timeout_s: float | None = None,
    ) -> str:
        client = self._session.require_client()
        target = parse_meeting_reference(reference, server_name_of(client.user_id))
        room_id = await self._resolve(target)
        if (
            self._rosters.get(room_id)
            and self._rosters[room_id].membership_of(client.user_id) == Membership.JOINED
        ):
            self._set_session(room_id, SessionState.CONNECTED)
            return room_id
        timeout = lobby_timeout_s if lobby_timeout_s is not None else DEFAULT_LOBBY_TIMEOUT_S
        self._gave_up.discard(room_id)  # a new attempt: admissions count again
        previewed = room_id not in self._details and await self._preview(room_id)
        if previewed and not self.is_conference(room_id):
            raise NotAMeeting()  # a room we can see, but no meeting: don't knock on it
        self._set_session(room_id, SessionState.CONNECTING, lobby_timeout_s=timeout)
        try:
            if mode == JoinMode.TRUSTED_PARTICIPANT:
                await self._trusted_join(room_id)
            else:
                await self._default_join(room_id, target, timeout)
        except ConferoError as exc:
            self._set_session(room_id, SessionState.FAILED, error=exc)
            raise
        return room_id

    async def join_invited(self, room_id: str, *, until_synced: bool = False) -> None:
        """Join a meeting you were invited to by someone you trust to have made one
        (the peer of an escalation): no preview, no lobby, and no wait for sync.

        After the join, the room's state comes in one request and is applied as
        sync would apply it, so the meeting is complete the moment this returns;
        when sync then brings the same state, nothing changes. ``until_synced``:
        wait for sync all the same (the meeting's audio needs the client's room).
        """
        client = self._session.require_client()
        if self.is_member(room_id):
            self._set_session(room_id, SessionState.CONNECTED)
            return
        self._set_session(room_id, SessionState.CONNECTING)
        try:
            response = await self._session.call(client.join(room_id))
            if not isinstance(response, JoinResponse):
                if response.status_code == "M_NOT_FOUND":
                    raise UnknownConference()
                raise ServerRefused(refusal_text(response))
            state = await self._session.api(
                "GET", f"/_matrix/client/v3/rooms/{quote(room_id)}/state"
            )
            events = [e for e in state if isinstance(e, dict)] if isinstance(state, list) else []
            # The meeting's own state first: the rest is published as a meeting's.
            events.sort(key=lambda source: source.get("type") != CONFERENCE_STATE)
            for source in events:
                self._apply_state_event(room_id, source)
            if not self.is_conference(room_id):
                await self._wait_for_details(room_id)  # an odd answer: sync brings it
            if not self.is_conference(room_id):
                await self._leave_quietly(room_id)
                raise NotAMeeting()
            if until_synced and room_id not in client.rooms:
                waiter = self._sync_waiters.setdefault(room_id, asyncio.Event())
                try:
                    await asyncio.wait_for(waiter.wait(), 15.0)
                except TimeoutError:
                    log.info("meeting %s not seen in sync yet", room_id)
                finally:
                    self._sync_waiters.pop(room_id, None)
        except ConferoError as exc:
            self._set_session(room_id, SessionState.FAILED, error=exc)
            raise
        self._set_session(room_id, SessionState.CONNECTED)

    async def rejoin(self, room_id: str) -> None:
        session = self._sessions.get(room_id)
        timeout = session.lobby_timeout_s if session else DEFAULT_LOBBY_TIMEOUT_S
        await self.join(room_id, lobby_timeout_s=timeout)

    async def cancel_lobby(self, room_id: str) -> None:
        self._cancel_lobby_timer(room_id)
        self._gave_up.add(room_id)
        try:
            await self._withdraw_knock(room_id)
        except ConferoError:
            session = self._sessions.get(room_id)
            if session is not None and session.state == SessionState.IN_LOBBY:
                # Still waiting after all: a later admission is welcome again.
                self._gave_up.discard(room_id)
                self._knocked[room_id] = session.lobby_timeout_s
                self._arm_lobby_timer(room_id, self._lobby_time_left(session))
            raise
        self._set_session(room_id, SessionState.LEFT)

    async def leave(self, room_id: str, *, for_good: bool = False) -> None:
        """Leave the meeting (and so its call).

        A meeting you organize stays yours: you leave it, not its room, so you
        can join it again later, even when it is Locked or has a lobby (an
        invite-only or knock room lets nobody back in uninvited, and a room
        its last member leaves is gone for good). Who is in the meeting's call
        is its ``m.call.member`` state, as other MatrixRTC clients read it.
        ``for_good`` leaves the room too (a meeting ended or no longer needed).
        """
        ended = self.was_ended(room_id)
        if for_good or ended or not self.organized_by_me(room_id) or not self.is_member(room_id):
            client = self._session.require_client()
            response = await self._session.call(client.room_leave(room_id))
            if isinstance(response, ErrorResponse):
                raise ServerRefused(refusal_text(response))
            self._record_own_leave(room_id)
        self._set_session(
            room_id, SessionState.LEFT, can_rejoin=not ended, ended_by_organizer=ended
        )

    async def load_participants(self, room_id: str) -> None:
        """Fetch every member (with lazy loading, sync only brings those who speak).

        A big meeting's list is read and applied a slice at a time, the event
        loop turning in between, so the window stays live while it loads.
        """
        text = await self._members_text(room_id)
        roster = self._roster(room_id)
        try:
            for count, source in enumerate(member_events(text), 1):
                if isinstance(source, dict) and source.get("type") == "m.room.member":
                    content = source.get("content")
                    content = content if isinstance(content, dict) else {}
                    name = content.get("displayname")
                    roster.apply_member(
                        str(source.get("state_key")),
                        str(content.get("membership")),
                        name if isinstance(name, str) else None,
                    )
                if count % MEMBERS_PER_SLICE == 0:
                    await asyncio.sleep(0)
        except ValueError as exc:  # not JSON: the same as an unreadable answer in api()
            raise HomeserverUnreachable() from exc
        self._session.bus.publish(ev.ParticipantsReset(room_id, tuple(roster.participants())))

    async def _members_text(self, room_id: str) -> str:
        """The /members answer as text (api() would decode all of it in one go)."""
        client = self._session.require_client()
        path = f"/_matrix/client/v3/rooms/{quote(room_id)}/members"
        try:
            response = await client.send(
                "GET", path, None, {"Authorization": f"Bearer {client.access_token}"}
            )
            async with response:
                return await response.text(encoding="utf-8")
        except (*CONNECTION_ERRORS, ValueError) as exc:
            raise HomeserverUnreachable() from exc

    async def admit(self, room_id: str, user_id: str) -> None:
        roster = self._roster(room_id)
        membership = roster.membership_of(user_id)
        if membership in (Membership.INVITED, Membership.JOINED):
            return  # another presenter was quicker: the result is what we wanted
        if membership != Membership.KNOCKING:
            raise ServerRefused(
                f"{self._session.display_name(user_id)} is no longer waiting in the lobby."
            )
        client = self._session.require_client()
        response = await self._session.call(client.room_invite(room_id, user_id))
        if isinstance(response, ErrorResponse) and roster.membership_of(user_id) not in (
            Membership.INVITED,
            Membership.JOINED,
        ):
            if "already" in (response.message or "").lower():
                return
            raise ServerRefused(refusal_text(response))

    async def deny(self, room_id: str, user_id: str) -> None:
        roster = self._roster(room_id)
        if roster.membership_of(user_id) != Membership.KNOCKING:
            raise ServerRefused(
                f"{self._session.display_name(user_id)} is no longer waiting in the lobby."
            )
        await self._kick(room_id, user_id, "Not admitted to the meeting")

    async def admit_all(self, room_id: str) -> int:
        admitted = 0
        for participant in self._roster(room_id).knocking():
            with contextlib.suppress(ServerRefused):
                await self.admit(room_id, participant.user_id)
                admitted += 1
        return admitted

    async def remove(self, room_id: str, user_id: str) -> None:
        allowed = self.permissions(room_id, user_id)
        if not allowed.can_remove:
            raise NotPermitted(allowed.denial)
        await self._kick(room_id, user_id, "Removed from the meeting")

    async def set_role(self, room_id: str, user_id: str, role: Role) -> None:
        if role not in (Role.PRESENTER, Role.ATTENDEE):
            raise ServerRefused("A meeting has one Leader: its organizer.")
        content = await self._current_power_levels(room_id)
        users = dict(content.get("users") or {})
        users[user_id] = PRESENTER_LEVEL if role == Role.PRESENTER else 0
        await self._put_state(room_id, "m.room.power_levels", {**content, "users": users})

    async def invite(self, room_id: str, user_id: str) -> None:
        client = self._session.require_client()
        target = parse_user_id(user_id)
        if target == client.user_id:
            raise InvalidUserId("You are already in this meeting.")
        profile = await self._session.call(client.get_profile(target))
        if isinstance(profile, ErrorResponse):
            raise UnknownUser(f"There is no user {target} on the server.")
        response = await self._session.call(client.room_invite(room_id, target))
        if isinstance(response, ErrorResponse):
            raise ServerRefused(refusal_text(response))

    async def set_options(
        self,
        room_id: str,
        *,
        subject: str | None = None,
        access_level: AccessLevel | None = None,
        presenter_policy: PresenterPolicy | None = None,
    ) -> None:
        state = dict(self._state.get(room_id) or {})
        if subject is not None:
            title = clean_name(subject)[:MAX_SUBJECT_LENGTH]
            if not title:
                raise ServerRefused("The meeting needs a subject.")
            await self._put_state(room_id, "m.room.name", {"name": title})
            state["subject"] = title
        if access_level is not None:
            rule: dict[str, Any] = {"join_rule": JOIN_RULE_OF[access_level]}
            if access_level == AccessLevel.SAME_ENTERPRISE:
                space_id = await self._organisation_space(create=True)
                rule["allow"] = [{"type": "m.room_membership", "room_id": space_id}]
            await self._put_state(room_id, "m.room.join_rules", rule)
        if presenter_policy is not None:
            content = await self._current_power_levels(room_id)
            users = dict(content.get("users") or {})
            if presenter_policy == PresenterPolicy.ONLY_ME:
                users = {u: level for u, level in users.items() if level >= LEADER_LEVEL}
            default = PRESENTER_LEVEL if presenter_policy == PresenterPolicy.EVERYONE else 0
            await self._put_state(
                room_id,
                "m.room.power_levels",
                {**content, "users": users, "users_default": default},
            )
            state["presenter_policy"] = presenter_policy.value
        if state != self._state.get(room_id):
            # Over the server's copy, not ours: what another device or Scheduling
            # wrote since our last sync (the personal meeting's occasions) stays.
            current = await self._server_state(room_id)
            changed = {k: state[k] for k in ("subject", "presenter_policy") if k in state}
            await self._put_state(room_id, CONFERENCE_STATE, {**current, **changed})

    async def _organisation_space(self, *, create: bool) -> str | None:
        """The space of everyone on our server (SameEnterprise); we become a member.

        Returns None when it does not exist (and ``create`` is false).
        """
        client = self._session.require_client()
        server = server_name_of(client.user_id)
        alias = f"#{ORGANISATION_SPACE}:{server}"
        response = await self._session.call(client.room_resolve_alias(alias))
        if isinstance(response, RoomResolveAliasResponse):
            space_id = response.room_id
        elif not create:
            return None
        else:
            created = await self._session.call(
                client.room_create(
                    alias=ORGANISATION_SPACE,
                    name=f"Everyone at {server}",
                    space=True,
                    preset=RoomPreset.public_chat,
                    federate=False,
                )
            )
            if isinstance(created, RoomCreateResponse):
                return created.room_id
            again = await self._session.call(client.room_resolve_alias(alias))  # a race
            if not isinstance(again, RoomResolveAliasResponse):
                raise ServerRefused(refusal_text(created))
            space_id = again.room_id
        joined = await self._session.call(client.join(space_id))
        if not isinstance(joined, JoinResponse):
            return None
        return space_id

    async def _close(self) -> None:
        for task in self._lobby_timers.values():
            task.cancel()
        self._lobby_timers.clear()

    # ------------------------------------------------------------ internals

    def _roster(self, room_id: str) -> Roster:
        roster = self._rosters.get(room_id)
        if roster is None:
            roster = self._rosters[room_id] = Roster(room_id, self._session.user_id or "")
        return roster

    async def _resolve(self, target: MeetingReference) -> str:
        if not target.is_alias:
            return target.target
        client = self._session.require_client()
        response = await self._session.call(client.room_resolve_alias(target.target))
        if isinstance(response, RoomResolveAliasResponse):
            return response.room_id
        if response.status_code == "M_NOT_FOUND":
            localpart = target.target[1:].split(":", 1)[0]
            shown = f"with ID {localpart}" if localpart.isdigit() else target.target
            raise UnknownConference(f"There is no meeting {shown}.")
        raise ServerRefused(refusal_text(response))

    async def _preview(self, room_id: str) -> bool:
        """What a joiner may see before getting in (the room summary), for the lobby
        page; False if the server shows nothing."""
        try:
            summary = await self._session.api(
                "GET", f"/_matrix/client/v1/room_summary/{quote(room_id)}"
            )
        except ConferoError:
            return False
        if not isinstance(summary, dict) or "room_id" not in summary:
            return False
        alias = summary.get("canonical_alias")
        if isinstance(alias, str):
            self._aliases[room_id] = alias
            localpart = alias[1:].split(":", 1)[0]
            if localpart.isdigit():
                self._state.setdefault(room_id, {"conference_id": localpart})
        if isinstance(summary.get("name"), str):
            self._names[room_id] = clean_name(summary["name"])
        if isinstance(summary.get("join_rule"), str):
            self._join_rules[room_id] = summary["join_rule"]
        if self.is_conference(room_id):
            self._refresh_details(room_id)
        return True

    async def _default_join(self, room_id: str, target: MeetingReference, timeout: float) -> None:
        client = self._session.require_client()
        was_member = self.is_member(room_id)
        response = await self._session.call(client.join(room_id))
        if isinstance(response, JoinResponse):
            if not self.is_conference(room_id) and not await self._has_conference_state(room_id):
                if not was_member:
                    await self._leave_quietly(room_id)
                raise NotAMeeting()
            await self._wait_for_details(room_id)
            if self.is_conference(room_id):
                self._set_session(room_id, SessionState.CONNECTED)
            return
        if response.status_code == "M_NOT_FOUND" or _nobody_left(response.message or ""):
            raise UnknownConference()
        if response.status_code != "M_FORBIDDEN":
            raise ServerRefused(refusal_text(response))
        # People of the organisation get in directly where the meeting allows
        # it (SameEnterprise); membership of its space is what proves that.
        if await self._organisation_space(create=False):
            response = await self._session.call(client.join(room_id))
            if isinstance(response, JoinResponse):
                await self._wait_for_details(room_id)
                self._set_session(room_id, SessionState.CONNECTED)
                return
        # Not invited: ask to be let in, which is what the lobby is.
        knock = await self._session.call(
            client.room_knock(room_id, reason="Asking to join the meeting")
        )
        if not isinstance(knock, RoomKnockResponse):
            if knock.status_code == "M_NOT_FOUND":
                raise UnknownConference()
            raise MeetingLocked()
        self._knocked[room_id] = timeout
        self._set_session(
            room_id,
            SessionState.IN_LOBBY,
            lobby_since_ms=int(time.time() * 1000),
            lobby_timeout_s=timeout,
        )
        self._arm_lobby_timer(room_id, timeout)

    async def _server_state(self, room_id: str) -> dict[str, Any]:
        """The meeting's org.confero.conference content as the server has it now."""
        path = f"/_matrix/client/v3/rooms/{quote(room_id)}/state/{CONFERENCE_STATE}"
        content = await self._session.api("GET", path)
        if not isinstance(content, dict) or "errcode" in content:
            return dict(self._state.get(room_id) or {})
        return content

    async def _has_conference_state(self, room_id: str) -> bool:
        path = f"/_matrix/client/v3/rooms/{quote(room_id)}/state/{CONFERENCE_STATE}"
        content = await self._session.api("GET", path)
        return isinstance(content, dict) and "errcode" not in content

    def _arm_lobby_timer(self, room_id: str, delay: float) -> None:
        self._cancel_lobby_timer(room_id)
        session = self._sessions.get(room_id)
        timeout = session.lobby_timeout_s if session else delay
        task = asyncio.ensure_future(self._lobby_timeout(room_id, timeout, delay))
        self._lobby_timers[room_id] = task

    @staticmethod
    def _lobby_time_left(session: ConferenceSession) -> float:
        if session.lobby_since_ms is None:
            return session.lobby_timeout_s
        waited = time.time() - session.lobby_since_ms / 1000
        return max(0.0, session.lobby_timeout_s - waited)

    async def _trusted_join(self, room_id: str) -> None:
        """Join bypassing the lobby (seed 000's trusted join), with a server-admin token.

        Like Lync's impersonation API: the admin acts briefly as a presenter of
        the meeting to invite us, so the join needs nobody's approval.
        """
        client = self._session.require_client()
        room = quote(room_id)
        state = await self._session.api("GET", f"/_synapse/admin/v1/rooms/{room}/state")
        if not isinstance(state, dict) or "state" not in state:
            raise ServerRefused(
                "A trusted join needs a server-admin account: "
                + str((state or {}).get("error", "the server refused it"))
            )
        inviter = _local_presenter(state["state"], server_name_of(client.user_id))
        if inviter is None:
            raise ServerRefused("No presenter of this meeting is on this server.")
        puppet = await self._session.api(
            "POST",
            f"/_synapse/admin/v1/users/{quote(inviter)}/login",
            {"valid_until_ms": int(time.time() * 1000) + 60_000},
        )
        token = puppet.get("access_token") if isinstance(puppet, dict) else None
        if not token:
            raise ServerRefused("The server refused the trusted join.")
        await self._session.api(
            "POST",
            f"/_matrix/client/v3/rooms/{room}/invite",
            {"user_id": client.user_id},
            token=token,
        )
        with contextlib.suppress(ConferoError):
            await self._session.api("POST", "/_matrix/client/v3/logout", {}, token=token)
        response = await self._session.call(client.join(room_id))
        if not isinstance(response, JoinResponse):
            raise ServerRefused(refusal_text(response))
        await self._wait_for_details(room_id)
        self._set_session(room_id, SessionState.CONNECTED)

    async def _join_after_admission(self, room_id: str) -> None:
        """A presenter let us in: join, unless the user gave up the wait meanwhile."""
        client = self._session.require_client()
        try:
            response = await self._session.call(client.join(room_id))
        except ConferoError:
            response = None
        finally:
            self._admitting.discard(room_id)
        if not isinstance(response, JoinResponse):
            session = self._sessions.get(room_id)
            if room_id in self._knocked and session and session.state == SessionState.IN_LOBBY:
                # Still waiting: the lobby's clock goes on from where it was.
                self._arm_lobby_timer(room_id, self._lobby_time_left(session))
            return
        if room_id in self._gave_up:
            # Cancel, a closed window or the timeout came first: leave again.
            await self._leave_quietly(room_id)
            return
        self._knocked.pop(room_id, None)
        self._cancel_lobby_timer(room_id)
        await self._wait_for_details(room_id)
        session = self._sessions.get(room_id)
        if room_id in self._gave_up or session is None:
            return
        if session.state == SessionState.IN_LOBBY:
            self._set_session(room_id, SessionState.CONNECTED)

    async def _lobby_timeout(self, room_id: str, timeout: float, delay: float) -> None:
        await asyncio.sleep(delay)
        session = self._sessions.get(room_id)
        if session is None or session.state != SessionState.IN_LOBBY:
            return
        if room_id in self._admitting:
            return  # let in at the last moment: the admission decides (and re-arms if it fails)
        self._lobby_timers.pop(room_id, None)
        self._gave_up.add(room_id)
        with contextlib.suppress(ConferoError):
            await self._withdraw_knock(room_id)
        self._set_session(
            room_id,
            SessionState.LOBBY_TIMED_OUT,
            lobby_timeout_s=timeout,
        )

    async def _leave_quietly(self, room_id: str, *, only_if_joined: bool = False) -> None:
        """Leave (or decline an invite) for a meeting the user no longer waits for."""
        roster = self._roster(room_id)
        if room_id in self._leaving or (
            only_if_joined and roster.membership_of(roster.own_user_id) != Membership.JOINED
        ):
            return
        self._leaving.add(room_id)
        try:
            client = self._session.require_client()
            with contextlib.suppress(ConferoError):
                await self._session.call(client.room_leave(room_id))
        finally:
            self._leaving.discard(room_id)
        self._record_own_leave(room_id)

    async def _withdraw_knock(self, room_id: str) -> None:
        self._knocked.pop(room_id, None)
        client = self._session.require_client()
        response = await self._session.call(client.room_leave(room_id))
        if isinstance(response, ErrorResponse):
            raise ServerRefused(refusal_text(response))
        self._record_own_leave(room_id)

    def _record_own_leave(self, room_id: str) -> None:
        """Our leave is known before sync says so; a rejoin must not think we are in."""
        roster = self._roster(room_id)
        for change in roster.apply_member(roster.own_user_id, "leave", None):
            if self.is_conference(room_id):
                self._session.bus.publish(change)

    def _cancel_lobby_timer(self, room_id: str) -> None:
        task = self._lobby_timers.pop(room_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _kick(self, room_id: str, user_id: str, reason: str) -> None:
        client = self._session.require_client()
        response = await self._session.call(client.room_kick(room_id, user_id, reason))
        if isinstance(response, ErrorResponse):
            raise ServerRefused(refusal_text(response))

    async def _current_power_levels(self, room_id: str) -> dict[str, Any]:
        client = self._session.require_client()
        response = await self._session.call(
            client.room_get_state_event(room_id, "m.room.power_levels")
        )
        if isinstance(response, ErrorResponse):
            raise ServerRefused(refusal_text(response))
        return dict(response.content)

    async def _put_state(self, room_id: str, event_type: str, content: dict[str, Any]) -> None:
        client = self._session.require_client()
        response = await self._session.call(client.room_put_state(room_id, event_type, content))
        if isinstance(response, ErrorResponse):
            raise ServerRefused(refusal_text(response))

    def _set_session(self, room_id: str, state: SessionState, **changes: Any) -> None:
        """``by``, ``error`` and ``ended_by_organizer`` belong to the state they come
        with: not carried over."""
        previous = self._sessions.get(room_id)
        base = previous or ConferenceSession(room_id, state)
        changes = {"by": "", "error": None, "ended_by_organizer": False} | changes
        session = replace(base, state=state, **changes)
        if state != SessionState.IN_LOBBY:
            session = replace(session, lobby_since_ms=None)
        if session == previous:
            return
        self._sessions[room_id] = session
        self._session.bus.publish(ev.ConferenceSessionChanged(session))
        for listener in self._session_listeners:
            listener(session)

    async def _farewell(self) -> None:
        """Quitting: leave every meeting (as Leave does), withdraw lobby waits."""
        if not self._needs_farewell():
            return
        for task in self._lobby_timers.values():
            task.cancel()
        self._lobby_timers.clear()
        goodbyes = []
        for room_id, session in list(self._sessions.items()):
            if session.state == SessionState.CONNECTED:
                goodbyes.append(self.leave(room_id))
            elif session.state == SessionState.IN_LOBBY or room_id in self._knocked:
                goodbyes.append(self.cancel_lobby(room_id))
        await asyncio.gather(*goodbyes, return_exceptions=True)

    def _needs_farewell(self) -> bool:
        return bool(
            self._knocked
            or any(
                s.state in (SessionState.CONNECTED, SessionState.IN_LOBBY)
                for s in self._sessions.values()
            )
        )

    def _refresh_details(self, room_id: str) -> None:
        roster = self._roster(room_id)
        state = self._state.get(room_id) or {}
        conference_id = str(state.get("conference_id") or "")
        alias = self._aliases.get(room_id) or ""
        shared = alias or room_id
        known_levels = bool(roster.levels.users)
        try:
            policy = PresenterPolicy(state.get("presenter_policy"))
        except ValueError:
            policy = (
                PresenterPolicy.EVERYONE
                if roster.levels.users_default >= PRESENTER_LEVEL
                else PresenterPolicy.CHOSEN
            )
        details = ConferenceDetails(
            room_id=room_id,
            conference_id=conference_id,
            subject=self._names.get(room_id)
            or clean_name(str(state.get("subject") or ""))
            or "Meeting",
            organizer=str(state.get("organizer") or ""),
            link=matrix_to_link(shared),
            matrix_uri=matrix_uri(alias) if alias else f"matrix:roomid/{room_id.lstrip('!')}",
            alias=alias,
            access_level=ACCESS_LEVEL_OF.get(
                self._join_rules.get(room_id, "invite"), AccessLevel.LOCKED
            ),
            presenter_policy=policy,
            my_role=roster.my_role,
            # Before we are in, the power levels are unknown: nothing is allowed.
            can_change_options=known_levels and roster.can_change("m.room.join_rules"),
            can_admit=known_levels and roster.can_admit(),
            can_invite=known_levels and roster.can_admit(),
        )
        if self._details.get(room_id) != details:
            self._details[room_id] = details
            self._session.bus.publish(ev.ConferenceChanged(details))
        if (
            details.conference_id
            and details.my_role
            and (waiter := self._details_waiters.get(room_id))
        ):
            waiter.set()

    def _is_standing(self, room_id: str) -> bool:
        """A meeting one stays a member of between sessions: scheduled, personal,
        or organized by us."""
        state = self._state.get(room_id)
        return bool(state) and (
            isinstance(state.get("start_ts"), int)
            or state.get("personal") is True
            or self.organized_by_me(room_id)
        )

    async def _wait_for_details(self, room_id: str, timeout: float = 15.0) -> None:
        """Wait until sync has brought the meeting's state (a new room arrives in pieces)."""
        if room_id in self._details and self._roster(room_id).levels.users:
            return
        waiter = self._details_waiters.setdefault(room_id, asyncio.Event())
        try:
            await asyncio.wait_for(waiter.wait(), timeout)
        except TimeoutError:
            log.info("meeting %s state not seen in sync yet", room_id)
        finally:
            self._details_waiters.pop(room_id, None)


def _local_presenter(state: list[Any], server_name: str) -> str | None:
    """A joined member on our server allowed to invite (from an admin state dump)."""
    levels: dict[str, Any] = {}
    joined: list[str] = []
    for event in state:
        if not isinstance(event, dict):
            continue
        if event.get("type") == "m.room.power_levels":
            levels = event.get("content") or {}
        elif (
            event.get("type") == "m.room.member"
            and (event.get("content") or {}).get("membership") == "join"
        ):
            joined.append(str(event.get("state_key")))
    invite_level = levels.get("invite", 0)
    users = levels.get("users") or {}
    default = levels.get("users_default", 0)
    candidates = [
        u for u in joined if u.endswith(f":{server_name}") and users.get(u, default) >= invite_level
    ]
    return max(candidates, key=lambda u: users.get(u, default), default=None)


def _nobody_left(message: str) -> bool:
    """Synapse's words for a room nobody on it is in any more (e.g. an ended meeting)."""
    return "no known servers" in message or "no servers that are in the room" in message
