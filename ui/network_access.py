"""“Let people on my network join”: the one switch every window of the session shares.

Preferences, the main window's status banner, and each meeting's offer and
Invite from another computer… all follow this object, so they never disagree.
Turning it on or off restarts the embedded server (seconds): that runs on a
worker thread, and ``state`` says meanwhile that it is on its way.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from engine.errors import ConferoError
from engine.homeserver import DEFAULT_NETWORK_ADDRESS, HomeserverError
from engine.network_hosting import INVITATION_VALID_S, create_guest_link, local_network_addresses
from engine.server_certificate import format_fingerprint
from engine.settings import Settings
from ui.error_text import GENERIC_ERROR
from ui.network_access_text import ROLLED_BACK, TURN_OFF_FAILED, TURN_ON_FAILED
from ui.tasks import TaskGroup

if TYPE_CHECKING:
    from engine.homeserver import EmbeddedHomeserver

log = logging.getLogger(__name__)

#: How many meetings' offers are remembered as shown (the oldest are forgotten).
_OFFERS_KEPT = 200


def fingerprint_lines(fingerprint: str) -> str:
    """``AA:BB:…`` on two lines of 16 pairs, to read and compare aloud."""
    pairs = fingerprint.split(":")
    if len(pairs) < 2:
        return fingerprint
    half = (len(pairs) + 1) // 2
    return ":".join(pairs[:half]) + ":\n" + ":".join(pairs[half:])


class HostingState(enum.Enum):
    OFF = "off"
    TURNING_ON = "turning on"
    ON = "on"
    TURNING_OFF = "turning off"


@dataclass(frozen=True)
class GuestInvitation:
    """A guest link just made, and what the host is shown with it."""

    link: str
    expires_at: float  # time.time() seconds
    fingerprint: str  # AA:BB:… for comparison


class NetworkAccess(QObject):
    """Whether the embedded server also serves other computers, and the work of changing it."""

    #: The state, the address or the fingerprint changed.
    changed = Signal()
    #: Turning it on or off failed (the worded reason).
    problem = Signal(str)
    #: A restart for it has finished (on or off): local clients may reconnect now.
    restarted = Signal()

    def __init__(
        self,
        homeserver: EmbeddedHomeserver,
        settings: Settings,
        save_settings: Callable[[], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._homeserver = homeserver
        self._settings = settings
        self._save_settings = save_settings
        self._tasks = TaskGroup()
        self._state = HostingState.ON if homeserver.network_enabled else HostingState.OFF
        self._host = ""  # the address other computers use, once looked up
        self._fingerprint = ""
        self._looked_up = False
        if self._state is HostingState.ON:
            self._tasks.spawn(self._look_up())

    # -- what it is ---------------------------------------------------------------

    @property
    def state(self) -> HostingState:
        return self._state

    @property
    def is_on(self) -> bool:
        return self._state is HostingState.ON

    @property
    def busy(self) -> bool:
        return self._state in (HostingState.TURNING_ON, HostingState.TURNING_OFF)

    @property
    def address(self) -> str:
        """``192.0.2.2:8448`` for other computers ("" while unknown or off-network)."""
        port = self._homeserver.network_port
        if not self._host or port is None:
            return ""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{host}:{port}"

    @property
    def looked_up(self) -> bool:
        """Whether ``address`` has been looked up (else "" only means "not yet")."""
        return self._looked_up

    @property
    def fingerprint(self) -> str:
        """The certificate's fingerprint, ``AA:BB:…`` ("" before it exists)."""
        return self._fingerprint

    # -- changing it --------------------------------------------------------------

    def set_enabled(self, enabled: bool) -> None:
        """Turn network access on or off; ``changed`` follows at once and when done."""
        if self.busy or enabled == self.is_on:
            return
        self._set_state(HostingState.TURNING_ON if enabled else HostingState.TURNING_OFF)
        self._tasks.spawn(self._apply(enabled))

    def turn_on(self) -> None:
        self.set_enabled(True)

    def turn_off(self) -> None:
        self.set_enabled(False)

    async def invite(self, alias: str) -> GuestInvitation:
        """A new guest link to the meeting ``alias`` (single use, expiring).

        Raises ConferoError or HomeserverError, each with a message for the host.
        """
        expires_at = time.time() + INVITATION_VALID_S
        host = self._host or None
        link = await create_guest_link(self._homeserver, alias, host=host)
        return GuestInvitation(link, expires_at, self._fingerprint)

    def detach(self) -> None:
        """The session ends: stop the work in flight (a restart under way still finishes)."""
        self._tasks.cancel_all()

    # -- "never nag twice": the meetings whose offer was shown --------------------

    def offer_shown(self, room_id: str) -> bool:
        return room_id in self._settings.network_offers_shown

    def note_offer_shown(self, room_id: str) -> None:
        shown = [r for r in self._settings.network_offers_shown if r != room_id] + [room_id]
        self._settings.network_offers_shown = shown[-_OFFERS_KEPT:]
        self._save_settings()

    # -- internals ----------------------------------------------------------------

    def _set_state(self, state: HostingState) -> None:
        self._state = state
        self.changed.emit()

    async def _apply(self, enabled: bool) -> None:
        failed = TURN_ON_FAILED if enabled else TURN_OFF_FAILED
        try:
            await self._homeserver.set_network_access(enabled)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = _reason(exc)
            log.warning("turning network access %s failed: %r", "on" if enabled else "off", exc)
            if enabled and not self._homeserver.network_enabled:
                reason += ROLLED_BACK  # the server put itself back as it was
            self._set_state(
                HostingState.ON if self._homeserver.network_enabled else HostingState.OFF
            )
            self.restarted.emit()
            self.problem.emit(failed.format(reason=reason))
            return
        if enabled:
            await self._look_up(announce=False)
        self._set_state(HostingState.ON if enabled else HostingState.OFF)
        self.restarted.emit()

    async def _look_up(self, *, announce: bool = True) -> None:
        """The address and fingerprint to show (a DNS look-up and a file: not on the UI thread)."""
        bound = self._homeserver.network_address
        if bound == DEFAULT_NETWORK_ADDRESS:
            addresses = await asyncio.to_thread(local_network_addresses)
            self._host = addresses[0] if addresses else ""
        else:
            self._host = bound
        digest = await asyncio.to_thread(self._homeserver.network_fingerprint)
        self._fingerprint = format_fingerprint(digest) if digest else ""
        self._looked_up = True
        if announce:
            self.changed.emit()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConferoError):
        return exc.user_message
    if isinstance(exc, HomeserverError):
        return exc.user_message
    if isinstance(exc, OSError):
        return f"the meeting server's data folder is not usable ({exc.strerror or exc})."
    return GENERIC_ERROR
