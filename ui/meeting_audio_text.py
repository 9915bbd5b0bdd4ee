"""The words of a meeting's audio: the Join audio button, the audio bar, the roster's marks.

Shortcuts reuse the two-party call's Teams keys where they mean the same thing
(ui/call_text.py): Ctrl+Shift+M mutes and unmutes, Ctrl+Shift+S ("answer") joins
the audio. The meeting header already gives Ctrl+Shift+H to Leave (the meeting),
so Leave audio is Ctrl+Shift+L. In a window that was a two-party conversation
with a call, both bars answer the same key: each acts only when its button is on
show (see ui/meeting_audio_bar.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.calls.call_models import AvModalityState

JOIN_AUDIO = "Join audio"
JOIN_AUDIO_TIP = "Join the meeting's audio: hear everyone and speak (Ctrl+Shift+S)"
JOIN_AUDIO_OTHERS_TIP = "{count} in the meeting's audio. Join to hear them and speak (Ctrl+Shift+S)"
JOIN_AUDIO_SHORTCUT = "Ctrl+Shift+S"
NOT_IN_MEETING_REASON = "Join the meeting first, then its audio"
MUTE = "Mute"
MUTE_TIP = "Stop sending your microphone to the meeting (Ctrl+Shift+M)"
UNMUTE = "Unmute"
UNMUTE_TIP = "Send your microphone to the meeting again (Ctrl+Shift+M)"
MUTE_SHORTCUT = "Ctrl+Shift+M"
#: The audio bar's second line while there is no microphone (receive-only).
NO_MICROPHONE_NOTE = "No microphone was found: you can hear the meeting, but no one can hear you."
CANNOT_UNMUTE_REASON = "A presenter has turned off unmuting for attendees"
LEAVE_AUDIO = "Leave audio"
LEAVE_AUDIO_TIP = "Stop hearing the meeting; you stay in its chat (Ctrl+Shift+L)"
LEAVE_AUDIO_SHORTCUT = "Ctrl+Shift+L"
PRESENTER_CONTROLS = "Presenter controls"
PRESENTER_CONTROLS_TIP = "Mute all attendees, or keep them from unmuting"
MUTE_ALL = "Mute all attendees"
MUTE_ALL_TIP = "Mute everyone who is not a presenter; they can unmute unless you stop them"
NO_UNMUTE = "Attendees can't unmute"
NO_UNMUTE_TIP = "Keep attendees muted until you turn this off"
ONLY_PRESENTERS_REASON = "Only presenters can mute others"

MUTE_PERSON = "M&ute"
MUTE_PERSON_TIP = "Mute them in the meeting's audio; they can unmute unless attendees can't"
NOT_IN_AUDIO_REASON = "They are not in the meeting's audio"
ALREADY_MUTED_REASON = "They are already muted"
MUTE_YOURSELF_REASON = "Use Mute in the audio bar for yourself"

JOINING = "Joining the meeting's audio…"
CONNECTING = "Connecting to the meeting's audio…"
MUTED_BY_PRESENTER = "A presenter muted you"
LOCKED_NOTE = "Attendees can't unmute"


def people_text(count: int) -> str:
    return "1 person" if count == 1 else f"{count} people"


def bar_text(count: int, *, muted: bool, by_presenter: bool, locked: bool) -> str:
    """The audio bar's line while you are in the meeting's audio."""
    if locked:  # short: the bar must not wrap beside its buttons
        return f"{MUTED_BY_PRESENTER} · {LOCKED_NOTE} · {people_text(count)}"
    if by_presenter:
        return f"{MUTED_BY_PRESENTER} · {people_text(count)} in the audio"
    line = f"In the meeting's audio · {people_text(count)}"
    return f"{line} · muted" if muted else line


def state_words(state: AvModalityState) -> str:
    """The bar's line while the audio joins (the seed's Connecting, then Joining); ""
    in the other states, where the bar says who is in instead."""
    if state is AvModalityState.CONNECTING:
        return CONNECTING
    return JOINING if state is AvModalityState.JOINING else ""


def mesh_full_text(limit: int) -> str:
    """MeshLimitReached: ``limit`` other people is what this computer carries."""
    return (
        f"The meeting's audio is full on this computer ({people_text(limit + 1)}). "
        "You can still follow the chat."
    )


@dataclass(frozen=True, slots=True)
class UserAudio:
    """One person in a meeting's audio, over all their devices, as the roster shows it."""

    muted: bool  # every device of theirs in the call is muted
    speaking: bool
    by_presenter: bool = False
    level: float = 0.0  # the loudest of their devices, 0..1 in tenths (the level bars)

    def same_words(self, other: UserAudio | None) -> bool:
        """Whether ``other`` reads the same (only the level differs: no new words)."""
        return other is not None and audio_text(self) == audio_text(other)


def audio_text(audio: UserAudio | None) -> str:
    """The roster's spoken words for someone's audio ("" when not in the call)."""
    if audio is None:
        return ""
    if audio.speaking:
        return "in the call, speaking"
    if audio.by_presenter:
        return "in the call, muted by a presenter"
    return "in the call, muted" if audio.muted else "in the call"
