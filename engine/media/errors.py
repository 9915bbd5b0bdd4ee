"""Media error types, in the style of engine/errors.py."""

from __future__ import annotations

from engine.errors import ConferoError


class MediaError(ConferoError):
    default_message = "Audio is not working."


class NoMicrophone(MediaError):
    """No microphone to capture from: a call still works, receive-only."""

    default_message = "No microphone was found. Others can't hear you, but you can hear them."


class NoSoundServer(MediaError):
    default_message = "The sound system is not running, so there is no audio."


class MediaThreadStopped(MediaError):
    default_message = "Audio has stopped."


class InvalidSdp(MediaError, ValueError):
    """A session description that cannot be parsed or carries no audio."""

    default_message = "The other side sent a call description this app cannot use."
