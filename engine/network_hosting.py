"""Meetings for people on other computers, served by this computer's embedded server.

The host side: which addresses of this computer other computers can reach, and
guest links (engine/meeting_links.py) with a fresh single-use invitation token.
The guest side: sign up on the host's server through the link and knock on
its meeting. The embedded server itself (listener, certificate, tokens) is
engine/homeserver.py.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from typing import TYPE_CHECKING, Final

from engine.errors import HomeserverUnreachable
from engine.meeting_links import GuestLink, guest_link, parse_guest_link

if TYPE_CHECKING:
    from engine.engine import Engine
    from engine.homeserver import EmbeddedHomeserver

__all__ = [
    "GUEST_SLOT_PREFIX",
    "INVITATION_VALID_S",
    "create_guest_link",
    "guest_slot",
    "join_as_guest",
    "local_network_addresses",
]

#: How long a guest link's invitation can be used: a day covers "send it the
#: evening before the workshop"; each link still lets in one person only.
INVITATION_VALID_S: Final = 24 * 3600.0
#: Keyring slots of guest sign-ins start with this; the rest names the host.
GUEST_SLOT_PREFIX: Final = "guest-"


def guest_slot(fingerprint: bytes) -> str:
    """The keyring slot of the guest sign-in on the host whose certificate is ``fingerprint``.

    One per host: the certificate is what identifies a host (its address can
    change from one day to the next), so joining a second host's meeting keeps
    the first host's sign-in.
    """
    return GUEST_SLOT_PREFIX + fingerprint.hex()[:32]


def local_network_addresses() -> list[str]:
    """This computer's IPv4 addresses other computers may reach, best guess first.

    The first is the one the default route leaves from (a UDP "connect" sends
    nothing); then every other non-loopback address of the host name.
    """
    found: list[str] = []
    with (
        contextlib.suppress(OSError),
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe,
    ):
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere for real
        found.append(str(probe.getsockname()[0]))
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(str(info[4][0]))
    usable = []
    for address in found:
        ip = ipaddress.ip_address(address)
        if not (ip.is_loopback or ip.is_unspecified or ip.is_link_local) and address not in usable:
            usable.append(address)
    return usable


async def create_guest_link(
    homeserver: EmbeddedHomeserver,
    alias: str,
    *,
    host: str | None = None,
    valid_for_s: float = INVITATION_VALID_S,
) -> str:
    """A guest link to the meeting ``alias`` with a new single-use invitation.

    ``host`` is the address guests use (default: the first of
    local_network_addresses()). Network access must be on.
    """
    fingerprint = homeserver.network_fingerprint()
    port = homeserver.network_port
    if not homeserver.network_enabled or fingerprint is None or port is None:
        raise HomeserverUnreachable(
            "Turn on “Let people on my network join” to invite people from other computers."
        )
    if host is None:
        addresses = local_network_addresses()
        if not addresses:
            raise HomeserverUnreachable(
                "This computer is not on a network: people on other computers cannot reach it."
            )
        host = addresses[0]
    token = await homeserver.create_registration_token(valid_for_s)
    return guest_link(alias, host, port, fingerprint, token)


async def join_as_guest(
    engine: Engine, link: str | GuestLink, name: str, *, lobby_timeout_s: float | None = None
) -> str:
    """Sign up on the host's server with the link's invitation, then ask to join its
    meeting (the lobby, unless the meeting lets everyone in); returns the room ID.

    ``engine`` must not be signed in yet. The sign-in is kept in the keyring
    under guest_slot(the host's certificate), with the pin. Raises InvalidGuestLink,
    WrongServerCertificate, InvitationNotValid, GuestNameMissing or
    HomeserverUnreachable, each with a message for the person.
    """
    guest = parse_guest_link(link) if isinstance(link, str) else link
    await engine.session.register_with_token(
        guest.base_url, guest.fingerprint, name, guest.token, slot=guest_slot(guest.fingerprint)
    )
    await engine.session.start()
    return await engine.conferences.join(guest.alias, lobby_timeout_s=lobby_timeout_s)
