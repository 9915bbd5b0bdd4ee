"""What Confero says about letting people on other computers join (the host's side)."""

from __future__ import annotations

from typing import Final

LET_IN: Final = "Let people on my network join"
LET_IN_TIP: Final = (
    "Also serve meetings on this computer to other computers on your network, "
    "over an encrypted connection"
)
EXPLANATION: Final = (
    "When on, people using Confero on other computers of your network (an office, a "
    "classroom) can join the meetings you host here, with a link you make with "
    "“Invite from another computer…”: each link lets one person in and expires after "
    "a day. The connection is encrypted, and their Confero checks this computer's "
    "certificate fingerprint, so no other machine can pose as it."
)
TURNING_ON: Final = "Letting people on your network join… (the meeting server restarts)"
TURNING_OFF: Final = "Turning off network access… (the meeting server restarts)"
ON_STATUS: Final = "People on your network can join: {address}"
ON_STATUS_UNKNOWN: Final = "People on your network can join meetings on this computer"
ON_STATUS_NO_ADDRESS: Final = (
    "People on your network can join, but this computer is not on a network right now"
)
ON_STATUS_TIP: Final = (
    "The meeting server on this computer also listens on your network. "
    "Turn it off to close it to other computers at once."
)
TURN_OFF: Final = "Turn off"
TURN_OFF_TIP: Final = "Stop serving other computers: they are disconnected at once"
ADDRESS: Final = "Address for other computers: {address}"
NO_ADDRESS: Final = "This computer is not on a network: other computers cannot reach it."
FINGERPRINT: Final = "Certificate fingerprint:"
FINGERPRINT_TIP: Final = (
    "The other computer shows the same fingerprint when it joins; compare them if in doubt"
)
TURN_ON_FAILED: Final = "People on your network could not be let in: {reason}"
TURN_OFF_FAILED: Final = "Network access could not be turned off: {reason}"
ROLLED_BACK: Final = " Network access is off again."

#: The offer in a meeting's window while network access is off.
OFFER: Final = "People on other computers can't join this meeting yet."
OFFER_TIP: Final = "Serve this computer's meetings to other computers on your network too"

#: Invite from another computer… (the meeting header).
INVITE_REMOTE: Final = "Invite from another computer…"
INVITE_REMOTE_NAME: Final = "Invite from another computer"
INVITE_REMOTE_TIP: Final = (
    "Make a link that lets one person on another computer of your network join"
)
INVITE_REMOTE_OFF_TIP: Final = (
    "People on other computers can't join yet: this offers to let people on your network join"
)
ASK_TURN_ON_TITLE: Final = "Invite from another computer"
ASK_TURN_ON: Final = (
    "People on other computers can't join meetings on this computer yet.\n\n"
    "Let people on your network join? The meeting server restarts, which takes a few "
    "seconds; then Confero makes the link."
)

#: The guest link dialog.
LINK_TITLE: Final = "Invite from another computer"
LINK_INTRO: Final = (
    "Send this link to the person on the other computer. In Confero there, they "
    "paste it into Join a meeting (or run “confero <link>”), give their name, and "
    "wait in the lobby until you let them in."
)
LINK_MAKING: Final = "Making a link…"
LINK_ONCE: Final = (
    "This link lets one person in, until {expiry}. For someone else, make a new link."
)
LINK_FAILED: Final = "The link could not be made: {reason}"
COPY_LINK: Final = "Copy link"
COPY_LINK_TIP: Final = "Copy the link for the other computer to the clipboard"
NEW_LINK: Final = "New link"
NEW_LINK_TIP: Final = "Make another link, for one more person"
LINK_COPIED: Final = "Link copied"
