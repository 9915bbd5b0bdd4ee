"""Engine events of meeting audio (engine/calls/meeting_calls.py).

Plain frozen dataclasses like those of engine/events.py (to join its EngineEvent union).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.calls.audio_policy import AudioPolicy
from engine.calls.call_models import AvModalityState


@dataclass(frozen=True, slots=True)
class AudioParticipant:
    """One device in a meeting's audio, as the roster shows it."""

    user_id: str
    device_id: str
    is_you: bool
    muted: bool
    muted_by_presenter: bool
    speaking: bool
    connected: bool  # our audio link with them is up (always True for ourselves)
    level: float = 0.0  # how loud they are now, 0..1 in tenths (engine/calls/audio_levels.py)


@dataclass(frozen=True, slots=True)
class MeetingAudioChanged:
    """Who is in a meeting's audio changed, or whether we are (``in_audio``)."""

    room_id: str
    in_audio: bool
    participants: tuple[AudioParticipant, ...]


@dataclass(frozen=True, slots=True)
class MeetingAudioStateChanged:
    """Our AV modality state in a meeting's audio changed: the seed's states, as a
    two-party call has them. Joining goes Connecting → Joining (our membership is in
    the room, media connects) → Connected (the first link is up, or at once when no
    one else is in); leaving is Disconnected. Invited to a meeting whose audio is
    live, it is Notified first (Disconnected if declined or withdrawn)."""

    room_id: str
    state: AvModalityState


@dataclass(frozen=True, slots=True)
class AudioParticipantChanged:
    """One participant's muted, speaking, level or connected changed."""

    room_id: str
    participant: AudioParticipant


@dataclass(frozen=True, slots=True)
class CallMemberIgnored:
    """An m.call.member or meeting signalling event was not acted on (for tests and logs)."""

    room_id: str
    sender: str
    reason: str


@dataclass(frozen=True, slots=True)
class AudioPolicyChanged:
    """The presenters' audio controls of a meeting changed (its policy state, or our view
    of it): "Attendees can't unmute", mute requests, "Mute all attendees"."""

    room_id: str
    policy: AudioPolicy
