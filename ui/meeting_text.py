"""The words for your place in a meeting: lobby, left, removed, denied, knocks.

Every sentence the UI shows about getting into, waiting for or being out of a
meeting lives here, so the lobby page, the window's bars, the roster and the
lobby notifier say the same thing the same way. The engine gives reasons as
data (who removed you, the error that stopped a join, a Denial); they are
worded here.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.conference_models import ConferenceSession, Denial, SessionState
from ui.banner import BannerKind

# -- the bar above a meeting's transcript ------------------------------------------

LEFT_TEXT = "You have left the call"
REMOVED_TEXT = "You were removed from the meeting"
REMOVED_BY_TEXT = "{} removed you from the meeting"
ENDED_TEXT = "The organizer ended the meeting."
YOU_ENDED_TEXT = "You ended the meeting for everyone."
FAILED_TEXT = "You could not join the meeting."
RECONNECTING_TEXT = "Connection lost: reconnecting…"
REJOINING_TEXT = "Rejoining the meeting…"

# -- the lobby page ----------------------------------------------------------------

WAITING_TITLE = "Waiting in the lobby: someone in the meeting will let you in"
TIMED_OUT_TITLE = "Nobody let you in"
DENIED_TITLE = "You were not let in"
CONNECTING_TITLE = "Joining the meeting…"
TIMED_OUT_DETAIL = "Nobody in the meeting answered in time."
TIMED_OUT_RETRY = " Retry to wait in the lobby again."
DENIED_DETAIL = "Someone in the meeting turned down your request to join."
DENIED_BY_DETAIL = "{} did not let you into the meeting."

# -- why a roster action is greyed out (its tooltip) --------------------------------

DENIAL_TEXT = {
    Denial.NOT_IN_MEETING: "Not in the meeting.",
    Denial.IS_YOU: "That is you.",
    Denial.PRESENTERS_ONLY: "Only presenters can do that.",
    Denial.LEADER_IS_FIXED: "The Leader cannot be removed or demoted.",
    Denial.LEADER_ONLY: "Only the Leader can change another presenter's role.",
    Denial.ORGANIZER_ONLY: "Only the organizer can do that.",
}

# -- someone knocking --------------------------------------------------------------

KNOCK_TITLE = "Someone is waiting in the lobby"

# -- a meeting action that failed (followed by the engine's reason) ----------------

LEAVE_FAILED = "You could not leave the meeting: {}"
REJOIN_FAILED = "You could not rejoin the meeting: {}"
CANCEL_LOBBY_FAILED = "You are still in the lobby: {}"
PARTICIPANTS_FAILED = "The list of participants could not be loaded: {}"


@dataclass(frozen=True, slots=True)
class BarText:
    """What the session bar shows: text, colour and an optional action."""

    text: str
    kind: BannerKind
    action: str | None = None
    action_tooltip: str | None = None


def session_bar_text(session: ConferenceSession | None, *, reconnecting: bool) -> BarText | None:
    """The bar for being out of (or losing) the meeting; None when all is well."""
    state = session.state if session else None
    if session is not None and session.ended_by_organizer:
        if state is SessionState.LEFT:
            return BarText(YOU_ENDED_TEXT, BannerKind.INFO)
        if state is SessionState.REMOVED:
            return BarText(ENDED_TEXT, BannerKind.WARNING)
    if state is SessionState.LEFT:
        return BarText(LEFT_TEXT, BannerKind.WARNING, "Rejoin", "Join the meeting again")
    if state is SessionState.REMOVED:
        assert session is not None
        return BarText(
            REMOVED_BY_TEXT.format(session.by) if session.by else REMOVED_TEXT,
            BannerKind.WARNING,
            "Rejoin" if session.can_rejoin else None,
            "Ask to join the meeting again",
        )
    if state is SessionState.FAILED:
        assert session is not None
        return BarText(
            session.error.user_message if session.error else FAILED_TEXT,
            BannerKind.ERROR,
            "Try again" if session.can_rejoin else None,
        )
    if state is SessionState.CONNECTING:
        return BarText(REJOINING_TEXT, BannerKind.INFO)
    if reconnecting and state in (None, SessionState.CONNECTED, SessionState.IDLE):
        return BarText(RECONNECTING_TEXT, BannerKind.WARNING)
    return None


def lobby_page_text(session: ConferenceSession) -> tuple[str, str]:
    """Title and detail of the lobby page for ``session``."""
    match session.state:
        case SessionState.IN_LOBBY:
            return WAITING_TITLE, ""
        case SessionState.CONNECTING:
            return CONNECTING_TITLE, ""
        case SessionState.LOBBY_TIMED_OUT:
            return TIMED_OUT_TITLE, TIMED_OUT_DETAIL + (
                TIMED_OUT_RETRY if session.can_rejoin else ""
            )
        case _ if session.ended_by_organizer:
            return DENIED_TITLE, ENDED_TEXT
        case _:
            return DENIED_TITLE, DENIED_BY_DETAIL.format(
                session.by
            ) if session.by else DENIED_DETAIL


def denial_text(denial: Denial | None) -> str:
    """Why a roster action is not open to you; empty when it is."""
    return DENIAL_TEXT[denial] if denial else ""


def knock_text(name: str, subject: str) -> str:
    """Someone started waiting in the lobby of a meeting you can admit them to."""
    if subject:
        return f"{name} is waiting in the lobby of “{subject}”."
    return f"{name} is waiting in the lobby."


def waiting_text(count: int) -> str:
    """How many people wait in the lobby (above the roster)."""
    if count == 1:
        return "1 person is waiting in the lobby"
    return f"{count} people are waiting in the lobby"
