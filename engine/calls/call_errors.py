"""Errors of the Calls service; each carries a message a person can read."""

from __future__ import annotations

from engine.errors import ConferoError


class NoAudioAvailable(ConferoError):
    default_message = "Calls need audio, and audio is not available on this computer."


class CallNotPossible(ConferoError):
    default_message = "You can call only in a conversation with one other person."


class UnknownCall(ConferoError):
    default_message = "That call has ended."


class CallFailed(ConferoError):
    default_message = "The call could not be set up."
