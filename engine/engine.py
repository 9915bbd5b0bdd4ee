"""The engine: the composition root of one signed-in account's services.

``Engine`` builds the session core (engine/session.py) and the feature services
on it, and holds them as attributes: ``session``, ``presences``,
``conferences``, ``conversations``, ``invitations``, ``meeting_presence``. New features (e.g.
invitations, escalation, calls) are new services built here on the same
session, using the other services' public methods only.

This is the only module that imports every service; matrix-nio is imported by
the services, so the UI imports this module off its thread (see ui/controller.py).
"""

from __future__ import annotations

from pathlib import Path

from engine import events as ev
from engine.conference_models import (
    AccessLevel,
    ConferenceDetails,
    ConferenceSession,
    JoinMode,
    Participant,
    Permissions,
    PresenterPolicy,
    Role,
)
from engine.conferences import Conferences
from engine.conversations import Conversations
from engine.credentials import CredentialStore
from engine.invitations import Invitations
from engine.meeting_presence import MeetingPresence
from engine.models import (
    ConnectionState,
    ConversationInfo,
    Message,
    Presence,
    SessionInfo,
    UserSummary,
)
from engine.presences import Presences
from engine.session import DEVICE_NAME, FAREWELL_TIMEOUT_S, SYNC_TIMEOUT_MS, Session
from engine.user_directory import search_users

__all__ = ["DEVICE_NAME", "FAREWELL_TIMEOUT_S", "SYNC_TIMEOUT_MS", "Engine"]


class Engine:
    def __init__(self, data_dir: Path, credentials: CredentialStore | None = None) -> None:
        self.session = Session(data_dir, credentials)
        self.bus: ev.EventBus = self.session.bus
        # The order matters where services share a sync piece: hooks run in the
        # order they were registered (Conferences answers lobby admissions before
        # Conversations accepts two-party invites; meetings are left at quitting
        # before the presence from before them is put back).
        self.presences = Presences(self.session)
        self.conferences = Conferences(self.session, self.presences)
        self.conversations = Conversations(self.session, self.presences, self.conferences)
        # After Conversations: two-party invites are theirs, the rest are invitations.
        self.invitations = Invitations(self.session, self.conferences)
        self.meeting_presence = MeetingPresence(self.session, self.presences, self.conferences)

    # ======================================================================
    # Kept for the UI during the move; callers move to the services next.
    # Each is a one-line delegation: no logic may be added here.
    # ======================================================================

    # session
    @property
    def user_id(self) -> str | None:
        return self.session.user_id

    @property
    def homeserver_url(self) -> str | None:
        return self.session.homeserver_url

    @property
    def connection(self) -> ConnectionState:
        return self.session.connection

    @property
    def own_display_name(self) -> str:
        return self.session.own_display_name

    def display_name(self, user_id: str) -> str:
        return self.session.display_name(user_id)

    async def login(
        self, address: str, user: str, password: str, *, remember: bool, slot: str = "remote"
    ) -> SessionInfo:
        return await self.session.login(address, user, password, remember=remember, slot=slot)

    async def restore(
        self, slot: str = "remote", homeserver_url: str | None = None
    ) -> SessionInfo | None:
        return await self.session.restore(slot, homeserver_url)

    async def start(self) -> None:
        await self.session.start()

    async def logout(self) -> None:
        await self.session.logout()

    async def close(self) -> None:
        await self.session.close()

    def reconnect_now(self) -> None:
        self.session.reconnect_now()

    async def search_users(self, term: str, limit: int = 20) -> list[UserSummary]:
        return await search_users(self.session, term, limit)

    # presence
    @property
    def own_presence(self) -> Presence:
        return self.presences.own_presence

    @property
    def own_status(self) -> str:
        return self.presences.own_status

    def presence_of(self, user_id: str) -> Presence:
        return self.presences.presence_of(user_id)

    async def set_presence(self, presence: Presence, status_message: str | None = None) -> None:
        await self.meeting_presence.choose(presence, status_message)

    # conversations (``engine.conversations()`` still works: the service is callable)
    def conversation(self, room_id: str) -> ConversationInfo | None:
        return self.conversations.conversation(room_id)

    def messages(self, room_id: str) -> list[Message]:
        return self.conversations.messages(room_id)

    def typing_names(self, room_id: str) -> tuple[str, ...]:
        return self.conversations.typing_names(room_id)

    async def send_text(self, room_id: str, body: str) -> Message:
        return await self.conversations.send_text(room_id, body)

    async def retry(self, room_id: str, key: str) -> None:
        await self.conversations.retry(room_id, key)

    async def retry_sending(self) -> None:
        await self.conversations.retry_sending()

    async def load_older(self, room_id: str, limit: int = 30) -> bool:
        return await self.conversations.load_older(room_id, limit)

    async def set_typing(self, room_id: str, typing: bool) -> None:
        await self.conversations.set_typing(room_id, typing)

    async def mark_read(self, room_id: str) -> None:
        await self.conversations.mark_read(room_id)

    async def start_direct_conversation(self, user_id: str) -> str:
        return await self.conversations.start_direct_conversation(user_id)

    # meetings
    def conference(self, room_id: str) -> ConferenceDetails | None:
        return self.conferences.details(room_id)

    def conference_session(self, room_id: str) -> ConferenceSession | None:
        return self.conferences.session(room_id)

    def participants(self, room_id: str) -> list[Participant]:
        return self.conferences.participants(room_id)

    def permissions(self, room_id: str, user_id: str) -> Permissions:
        return self.conferences.permissions(room_id, user_id)

    async def meet_now(self, subject: str = "") -> str:
        return await self.conferences.meet_now(subject)

    async def join_conference(
        self,
        reference: str,
        *,
        mode: JoinMode = JoinMode.DEFAULT,
        lobby_timeout_s: float | None = None,
    ) -> str:
        return await self.conferences.join(reference, mode=mode, lobby_timeout_s=lobby_timeout_s)

    async def cancel_lobby(self, room_id: str) -> None:
        await self.conferences.cancel_lobby(room_id)

    async def leave_conference(self, room_id: str) -> None:
        await self.conferences.leave(room_id)

    async def rejoin_conference(self, room_id: str) -> None:
        await self.conferences.rejoin(room_id)

    async def load_participants(self, room_id: str) -> None:
        await self.conferences.load_participants(room_id)

    async def admit(self, room_id: str, user_id: str) -> None:
        await self.conferences.admit(room_id, user_id)

    async def deny(self, room_id: str, user_id: str) -> None:
        await self.conferences.deny(room_id, user_id)

    async def admit_all(self, room_id: str) -> int:
        return await self.conferences.admit_all(room_id)

    async def set_role(self, room_id: str, user_id: str, role: Role) -> None:
        await self.conferences.set_role(room_id, user_id, role)

    async def remove_participant(self, room_id: str, user_id: str) -> None:
        await self.conferences.remove(room_id, user_id)

    async def invite(self, room_id: str, user_id: str) -> None:
        await self.conferences.invite(room_id, user_id)

    async def set_meeting_options(
        self,
        room_id: str,
        *,
        subject: str | None = None,
        access_level: AccessLevel | None = None,
        presenter_policy: PresenterPolicy | None = None,
    ) -> None:
        await self.conferences.set_options(
            room_id, subject=subject, access_level=access_level, presenter_policy=presenter_policy
        )

    # ======================================================================
    # End of the block kept for the UI during the move.
    # ======================================================================
