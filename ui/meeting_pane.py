"""A meeting's header and roster, and what you do with them.

The header (subject, ID, link, Invite…, Options…, Leave) goes on top of the
window, the roster to the right of the transcript; the window places both.
This part keeps them in step with the meeting, leaves it when asked, loads the
participant list once you are in, and shows someone's knock on the lobby bar
with Admit until they are let in or stop waiting.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject

from engine.conference_models import ConferenceDetails, ConferenceSession, Participant, SessionState
from engine.errors import ConferoError
from ui.banner import BannerKind
from ui.engine_calls import finish
from ui.error_text import GENERIC_ERROR
from ui.guest_invite import GuestInvite
from ui.meeting_audio_bar import MeetingAudioBar
from ui.meeting_header import MeetingHeader
from ui.meeting_text import LEAVE_FAILED, PARTICIPANTS_FAILED
from ui.roster_audio import RosterAudio
from ui.roster_model import Section
from ui.roster_view import RosterPanel

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from ui.window_parts import PartContext

log = logging.getLogger(__name__)

#: Session states in which the roster is live (else it shows what was seen last, inert).
_IN_MEETING = (None, SessionState.CONNECTED, SessionState.IDLE)


class MeetingPane(QObject):
    """Owns the meeting header and the roster panel of one meeting window."""

    def __init__(
        self,
        context: PartContext,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        engine, bridge, room_id = context.engine, context.bridge, context.room_id
        self._engine, self._room_id = engine, room_id
        self._banners, self._tasks = context.banners, context.tasks
        self._detached = False
        self._loaded_roster = False
        self._session: ConferenceSession | None = None
        self._lobby_notice_user: str | None = None

        self.header = MeetingHeader(engine, room_id, parent)
        self.roster = RosterPanel(engine, bridge, room_id, parent)
        self.roster.setMinimumWidth(200)
        #: The meeting's audio: Join audio in the header, the audio bar on top of the bars.
        self.audio = MeetingAudioBar(context, parent)
        self.header.add_action(self.audio.join_button)
        context.banners.add_bar(self.audio, 0)
        self.roster_audio = RosterAudio(context, self.roster)
        #: With this computer's server: the offer to let people on the network join,
        #: and Invite from another computer… in the header.
        self.guest_invite: GuestInvite | None = None
        if context.network is not None:
            self.guest_invite = GuestInvite(context, context.network, self.header)

        self.header.leave_requested.connect(self._on_leave_requested)
        self.roster.model.lobby_count_changed.connect(self._on_lobby_count_changed)
        context.banners.lobby_bar.action_triggered.connect(self._on_lobby_bar_action)

    def apply_details(self, details: ConferenceDetails | None) -> None:
        self.header.apply_details(details)
        self.roster.apply_details(details)
        self.audio.apply_details(details)
        if self.guest_invite is not None:
            self.guest_invite.apply_details(details)

    def apply_session(self, session: ConferenceSession | None) -> None:
        """Follow your session: the header's buttons, a live or inert roster."""
        self._session = session
        state = session.state if session else None
        self.header.apply_session(session)
        self.audio.apply_session(session)
        if self.guest_invite is not None:
            self.guest_invite.apply_session(session)
        self.roster.setEnabled(state in _IN_MEETING)
        if state in _IN_MEETING:
            if not self._loaded_roster:
                self._loaded_roster = True
                self._tasks.spawn(self._load_participants())
        else:
            self._loaded_roster = False  # load again after rejoining

    def show_lobby_notice(self, participant: Participant, text: str) -> None:
        """Tell about someone who started waiting in the lobby, offering Admit."""
        self._lobby_notice_user = participant.user_id
        self._banners.lobby_bar.show_message(
            text,
            BannerKind.INFO,
            action_text="Admit",
            action_tooltip="Let them into the meeting",
        )

    def detach(self) -> None:
        """The window is closing: stop following the engine."""
        self._detached = True
        if self.guest_invite is not None:
            self.guest_invite.detach()
        self.audio.detach()
        self.roster_audio.detach()
        self.roster.detach()

    # -- slots -----------------------------------------------------------------------

    def _on_lobby_count_changed(self, count: int) -> None:
        user = self._lobby_notice_user
        if user is None:
            return
        if count == 0 or self.roster.model.section_of_user(user) is not Section.LOBBY:
            self._lobby_notice_user = None
            self._banners.lobby_bar.clear()

    def _on_lobby_bar_action(self) -> None:
        user, self._lobby_notice_user = self._lobby_notice_user, None
        self._banners.lobby_bar.clear()
        if user:
            self.roster.admit(user)

    def _on_leave_requested(self) -> None:
        self.header.leave_button.setEnabled(False)
        self._tasks.spawn(self._leave())

    async def _leave(self) -> None:
        try:
            await finish(self._engine.conferences.leave(self._room_id))
        except ConferoError as exc:
            if self._alive():
                self._banners.show_error(LEAVE_FAILED.format(exc.user_message))
        except Exception:
            log.exception("leaving the meeting failed")
            if self._alive():
                self._banners.show_error(GENERIC_ERROR)
        if self._alive():
            self.header.apply_session(self._session)

    async def _load_participants(self) -> None:
        try:
            await self._engine.conferences.load_participants(self._room_id)
        except ConferoError as exc:
            if self._alive():
                self._loaded_roster = False
                self.roster.error_label.show_error(PARTICIPANTS_FAILED.format(exc.user_message))
        except Exception:
            log.exception("loading participants failed")
            if self._alive():
                self._loaded_roster = False

    def _alive(self) -> bool:
        return not self._detached and shiboken6.isValid(self.header)
