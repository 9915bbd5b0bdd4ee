"""Engine error types. Each carries a message a person can read in the UI."""

from __future__ import annotations


class ConferoError(Exception):
    """Base of every error the engine raises on purpose."""

    default_message = "Something went wrong."

    def __init__(self, user_message: str | None = None) -> None:
        self.user_message = user_message or self.default_message
        super().__init__(self.user_message)


class InvalidHomeserverAddress(ConferoError):
    default_message = "That is not a server address. Try something like example.org."


class HomeserverUnreachable(ConferoError):
    default_message = "The server cannot be reached. Check the address and your connection."


class InvalidUserId(ConferoError):
    default_message = "That is not a valid user ID. It looks like @name:example.org."


class UnknownUser(ConferoError):
    default_message = "There is no such user on the server."


class LoginFailed(ConferoError):
    default_message = "The user name or password is wrong."


class SessionExpired(ConferoError):
    default_message = "Your sign-in has expired. Please sign in again."


class NotSignedIn(ConferoError):
    default_message = "You are not signed in."


class ServerRefused(ConferoError):
    """The server understood the request and said no (M_FORBIDDEN and friends)."""

    default_message = "The server refused the request."


class NotPermitted(ConferoError):
    """Your role in the meeting does not allow this; ``denial`` says why."""

    default_message = "You are not allowed to do that in this meeting."

    def __init__(self, denial: object = None) -> None:
        super().__init__()
        self.denial = denial  # a conference_models.Denial (not imported here: no cycle)


class CredentialStoreUnavailable(ConferoError):
    default_message = (
        "Confero cannot remember your sign-in on this system: no password store "
        "(keyring) is available. You will be asked to sign in next time."
    )


class CredentialStoreNotAnswering(CredentialStoreUnavailable):
    """The system password store did not answer in time, or the person went on without it."""

    default_message = (
        "Confero cannot remember your sign-in this time: the system password store "
        "did not answer. You will be asked to sign in next time."
    )


class InvalidMeetingLink(ConferoError):
    default_message = (
        "That is not a meeting link or ID. Paste the whole link "
        "(https://matrix.to/#/…) or type the 7-digit meeting ID."
    )


class UnknownConference(ConferoError):
    default_message = "There is no meeting with that link or ID."


class NotAMeeting(ConferoError):
    default_message = "That link leads to a Matrix room that is not a meeting."


class MeetingLocked(ConferoError):
    default_message = "This meeting is locked: only people who were invited can join."


class OutboxStoreError(ConferoError):
    """Messages waiting to be sent cannot be saved on this computer."""

    default_message = "Messages can't be saved."

    def __init__(self, reason: str = "") -> None:
        self.reason = reason  # e.g. "the disk is full"
        super().__init__(f"Messages can't be saved: {reason}." if reason else None)


class InvalidGuestLink(InvalidMeetingLink):
    """A link for guests from another computer with a part missing or malformed."""

    default_message = "That guest link is incomplete. Ask the host to send it again."


class WrongServerCertificate(ConferoError):
    """The server's certificate is not the one the guest link pinned."""

    default_message = (
        "This is not the meeting server the link was made for: its certificate does "
        "not match. Ask the host for a new link, and compare the fingerprint."
    )


class InvitationNotValid(ConferoError):
    """The invitation token was used already, has expired, or never existed."""

    default_message = (
        "This invitation has already been used or has expired. Ask the host for a new link."
    )


class GuestNameMissing(ConferoError):
    default_message = "Enter your name."
