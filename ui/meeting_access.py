"""Getting into a meeting and back in: the lobby page and the session bar.

While you wait to be let in (or after the lobby turned you away) the window
shows the lobby page, with Cancel, Retry or Ask again. Once out of the meeting
(left, removed, failed) or while the connection is lost, the session bar says
so, with Rejoin where possible. Closing the window while waiting gives up the
wait, as in Lync.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, Signal

from engine.conference_models import ConferenceDetails, ConferenceSession, SessionState
from engine.errors import ConferoError
from engine.models import ConnectionState
from ui.banner import BannerKind
from ui.bridge import disconnect_all
from ui.engine_calls import detached_task, finish, give_up_after, spawn_detached
from ui.error_text import GENERIC_ERROR
from ui.lobby_page import LOBBY_STATES, LobbyPage
from ui.meeting_text import (
    CANCEL_LOBBY_FAILED,
    REJOIN_FAILED,
    REJOINING_TEXT,
    session_bar_text,
)

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from ui.window_parts import PartContext

log = logging.getLogger(__name__)


class MeetingAccess(QObject):
    """Owns the lobby page and the session bar of one meeting window."""

    #: A Rejoin finished (either way): the window shows the session as it now is.
    rejoin_finished = Signal()
    #: The wait is over and the window should close (Close, or Cancel succeeded).
    close_requested = Signal()

    def __init__(
        self,
        context: PartContext,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._engine, self._bridge = context.engine, context.bridge
        self._room_id = context.room_id
        self._banners, self._tasks = context.banners, context.tasks
        self._detached = False
        self._session: ConferenceSession | None = None
        self._reconnecting = False
        self._join_task: asyncio.Task[Any] | None = None  # a Rejoin on its way

        self.lobby_page = LobbyPage(parent)
        self.lobby_page.cancel_requested.connect(self._on_lobby_cancel_requested)
        self.lobby_page.retry_requested.connect(self._on_rejoin_requested)
        self.lobby_page.close_requested.connect(self.close_requested)
        context.banners.session_bar.action_triggered.connect(self._on_rejoin_requested)
        context.bridge.connection_state_changed.connect(self._on_connection_state_changed)

    @staticmethod
    def in_lobby(session: ConferenceSession | None) -> bool:
        """Whether ``session`` is one the lobby page shows (instead of the meeting)."""
        return session is not None and session.state in LOBBY_STATES

    def apply_session(
        self, session: ConferenceSession | None, details: ConferenceDetails | None
    ) -> None:
        self._session = session
        if session is not None and self.in_lobby(session):
            self.lobby_page.apply(session, details)
        else:
            self.lobby_page.stop()
        self._show_session_bar()

    def apply_details(self, details: ConferenceDetails) -> None:
        """The meeting's subject or lobby wait changed while on the lobby page."""
        if self._session is not None and self.in_lobby(self._session):
            self.lobby_page.apply(self._session, details)

    def detach(self) -> None:
        """The window is closing: give up a wait in the lobby, stop following the engine."""
        if self._detached:
            return
        self._detached = True
        if self._session is not None and self._session.state is SessionState.IN_LOBBY:
            # Closing the window is giving up the wait, as in Lync.
            spawn_detached(self._engine.conferences.cancel_lobby(self._room_id))
        elif self._join_task is not None and not self._join_task.done():
            spawn_detached(give_up_after(self._engine, self._room_id, self._join_task))
        disconnect_all([(self._bridge.connection_state_changed, self._on_connection_state_changed)])
        self.lobby_page.stop()

    def _show_session_bar(self) -> None:
        bar = self._banners.session_bar
        words = session_bar_text(self._session, reconnecting=self._reconnecting)
        if words is None:
            bar.clear()
            return
        bar.show_message(
            words.text,
            words.kind,
            action_text=words.action,
            action_tooltip=words.action_tooltip,
            dismissable=False,
        )

    # -- slots -----------------------------------------------------------------------

    def _on_connection_state_changed(self, state: ConnectionState, _detail: str) -> None:
        self._reconnecting = state in (ConnectionState.RECONNECTING, ConnectionState.DISCONNECTED)
        self._show_session_bar()

    def _on_rejoin_requested(self) -> None:
        self._banners.session_bar.show_message(REJOINING_TEXT, BannerKind.INFO, dismissable=False)
        self.lobby_page.retry_button.setEnabled(False)
        self._tasks.spawn(self._rejoin())

    def _on_lobby_cancel_requested(self) -> None:
        self.lobby_page.cancel_button.setEnabled(False)
        self._tasks.spawn(self._cancel_lobby())

    async def _rejoin(self) -> None:
        failure = ""
        self._join_task = detached_task(self._engine.conferences.rejoin(self._room_id))
        try:
            await asyncio.shield(self._join_task)
        except ConferoError as exc:
            failure = exc.user_message
        except Exception:
            log.exception("rejoining the meeting failed")
            failure = GENERIC_ERROR
        if not self._alive():
            return
        self.lobby_page.retry_button.setEnabled(True)
        self.rejoin_finished.emit()
        if failure:
            self._banners.show_error(REJOIN_FAILED.format(failure))

    async def _cancel_lobby(self) -> None:
        try:
            await finish(self._engine.conferences.cancel_lobby(self._room_id))
        except ConferoError as exc:
            if self._alive():
                self._banners.show_error(CANCEL_LOBBY_FAILED.format(exc.user_message))
        except Exception:
            log.exception("leaving the lobby failed")
            if self._alive():
                self._banners.show_error(GENERIC_ERROR)
        else:
            if self._alive():
                self.close_requested.emit()
            return
        if self._alive():
            self.lobby_page.cancel_button.setEnabled(True)

    def _alive(self) -> bool:
        return not self._detached and shiboken6.isValid(self.lobby_page)
