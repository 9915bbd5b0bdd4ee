"""Errors of meeting audio (engine/calls/meeting_calls.py), each with words for the UI."""

from __future__ import annotations

from engine.errors import ConferoError


class MeshLimitReached(ConferoError):
    """``limit``: the other devices this computer carries in a meeting's audio."""

    default_message = (
        "The meeting's audio is full on this computer: too many people are in it for "
        "everyone to hear each other well."
    )

    def __init__(self, limit: int, user_message: str | None = None) -> None:
        super().__init__(user_message)
        self.limit = limit


class AttendeesCannotUnmute(ConferoError):
    default_message = "A presenter has turned off unmuting for attendees."


class NotInMeetingAudio(ConferoError):
    default_message = "You are not in this meeting's audio."


class MeetingAudioNotPossible(ConferoError):
    default_message = "Join the meeting first, then its audio."


class OnlyPresenters(ConferoError):
    default_message = "Only presenters can do that."
