"""The words of joining a meeting on another computer, and of servers found nearby."""

from __future__ import annotations

from engine.models import ConnectionLoss
from engine.server_certificate import format_fingerprint

CONNECTION_LOST = {
    ConnectionLoss.NETWORK: "Connection lost: reconnecting…",
    # A guest's meeting server is the host's computer: it may have stopped
    # hosting, gone to sleep or left the network. Confero keeps trying.
    ConnectionLoss.HOST_GONE: "The meeting server is no longer reachable. Reconnecting…",
}

GUEST_CHOICE_TITLE = "Join a meeting as a guest"
GUEST_CHOICE_TEXT = "Someone on your network sent you a link to a meeting on their computer."
GUEST_HEADING = "Join a meeting as a guest"
GUEST_INTRO = (
    "Paste the guest link the host sent you, then enter your name as the others in "
    "the meeting will see it. You wait in the lobby until someone lets you in."
)
LINK_PLACEHOLDER = "matrix:r/1234567:…?action=join&org.confero.server=…"
LINK_MISSING = "Paste the guest link the host sent you: it carries your invitation."
NAME_MISSING = "Enter your name."
JOINING = "Joining the meeting…"
SIGNING_UP = "Connecting to the host's computer…"
MEETING_LINE = "Meeting {meeting} on the computer at {address}"
FINGERPRINT_LABEL = "Certificate fingerprint:"
FINGERPRINT_HINT = (
    "Confero checks that the host's computer has this certificate, so no other computer "
    "can pose as it. To be doubly sure, compare it with what the host sees."
)
MATCHES_FOUND = "✓ This is “{name}”, found on your network."
ADDRESS_MOVED = "“{name}” is now at {address}: Confero uses that address."
OTHER_SERVER_PICKED = (
    "This guest link is for a different meeting server than “{name}”, the one you picked."
)
GUEST_WINDOW_TITLE = "Confero — guest at {host}"
GUEST_SERVER_LABEL = "Guest on the meeting server at {address}"


def fingerprint_lines(digest: bytes) -> str:
    """The fingerprint on two lines of 16 pairs, narrow enough to read without scrolling."""
    pairs = format_fingerprint(digest).split(":")
    half = len(pairs) // 2
    return ":".join(pairs[:half]) + ":\n" + ":".join(pairs[half:])


FOUND_HEADING = "Meeting servers on your network"
FOUND_NONE = "None found yet. Servers appear here when someone lets people on the network join."
FOUND_OFF = "Looking for meeting servers on your network is turned off."
FOUND_ITEM = "{name} — {address}\n{fingerprint}"
FOUND_PICKED = (
    "You picked “{name}” at {address}. Paste the guest link its host sent you: "
    "it carries your invitation."
)
FOUND_TOOLTIP = (
    "Computers on your network that host meetings. Compare the fingerprint with the "
    "one the host sees; joining still needs their guest link."
)

RESTORE_UNREACHABLE = (
    "The meeting server at {address} cannot be reached: the host's computer may be off, "
    "asleep or no longer letting people on the network join."
)
GUEST_SESSION_FAILED = "You could not join the meeting on the other computer: {reason}"
