"""Reading what people paste to join a meeting, and writing meeting links.

Accepted: https://matrix.to/#/<alias or room id>, matrix:r/<alias>,
matrix:roomid/<id>, #alias:server, !roomid:server, and the bare 7-digit
conference ID (looked up on the user's own server).

Guest links, for people on other computers joining a meeting hosted on this
computer's embedded server, are matrix: URIs with namespaced extra parameters
(the URI scheme's rule for non-standard ones, so other Matrix clients ignore them):

    matrix:r/1234567:host.local?action=join&org.confero.server=192.168.1.20:8448
        &org.confero.fp=<SHA-256 of the certificate, 64 hex digits>&org.confero.token=<token>

``server`` is where the client API listens (https is implied: the certificate is
pinned, with no CA); the alias's server name need not resolve.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from engine.errors import InvalidGuestLink, InvalidMeetingLink
from engine.server_certificate import parse_fingerprint

CONFERENCE_ID_DIGITS = 7
_SERVER = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(?::\d{1,5})?"
_ALIAS_RE = re.compile(rf"^#[^\s:#]{{1,200}}:{_SERVER}$")
_ROOM_ID_RE = re.compile(rf"^![A-Za-z0-9._~+/=\-]{{1,200}}:{_SERVER}$")
_DIGITS_RE = re.compile(rf"^\d{{{CONFERENCE_ID_DIGITS}}}$")
GUEST_SERVER, GUEST_FINGERPRINT, GUEST_TOKEN = (
    "org.confero.server",
    "org.confero.fp",
    "org.confero.token",
)
_HOST_PORT_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]{1,253}):(\d{1,5})$")
# Synapse's registration tokens: [A-Za-z0-9._~-], at most 64 characters.
_TOKEN_RE = re.compile(r"^[A-Za-z0-9._~\-]{1,64}$")


@dataclass(frozen=True, slots=True)
class MeetingReference:
    """Either an alias (#…) or a room ID (!…), plus servers to try."""

    target: str
    via: tuple[str, ...] = ()

    @property
    def is_alias(self) -> bool:
        return self.target.startswith("#")


def parse_meeting_reference(text: str, own_server: str) -> MeetingReference:
    raw = text.strip()
    compact = raw.replace("-", "").replace(" ", "")  # "123 4567" as read out on a call
    if _DIGITS_RE.match(compact):
        return MeetingReference(f"#{compact}:{own_server}")
    if not raw or len(raw) > 2048 or any(ch.isspace() or not ch.isprintable() for ch in raw):
        raise InvalidMeetingLink()
    if raw.startswith(("#", "!")):
        return _checked(raw, ())
    if raw.lower().startswith("matrix:"):
        return _from_matrix_uri(raw)
    if raw.lower().startswith(("https://matrix.to/", "http://matrix.to/")):
        return _from_matrix_to(raw)
    raise InvalidMeetingLink()


def _from_matrix_to(raw: str) -> MeetingReference:
    fragment = urlsplit(raw).fragment  # "/#alias:server?via=x" or "/!id:server"
    if not fragment.startswith("/"):
        raise InvalidMeetingLink()
    target, _, query = fragment[1:].partition("?")
    return _checked(unquote(target), _via(query))


def _from_matrix_uri(raw: str) -> MeetingReference:
    body, _, query = raw[len("matrix:") :].partition("?")
    kind, _, rest = body.partition("/")
    rest = unquote(rest.split("/", 1)[0])
    if kind == "r":
        return _checked("#" + rest, _via(query))
    if kind == "roomid":
        return _checked("!" + rest, _via(query))
    raise InvalidMeetingLink()


def _via(query: str) -> tuple[str, ...]:
    return tuple(
        unquote(value)
        for key, _, value in (p.partition("=") for p in query.split("&"))
        if key == "via"
    )


def _checked(target: str, via: tuple[str, ...]) -> MeetingReference:
    if _ALIAS_RE.match(target) or _ROOM_ID_RE.match(target):
        return MeetingReference(target, via)
    raise InvalidMeetingLink()


def matrix_to_link(alias_or_room_id: str) -> str:
    return "https://matrix.to/#/" + quote(alias_or_room_id, safe="#!:@")


def matrix_uri(alias: str) -> str:
    return "matrix:r/" + quote(alias.lstrip("#"), safe=":@")


@dataclass(frozen=True, slots=True)
class GuestLink:
    """What another computer needs to join a meeting on this computer's server."""

    alias: str  # "#1234567:server_name"
    host: str  # an address of the host computer (IPv6 without brackets)
    port: int
    fingerprint: bytes  # SHA-256 of the server's certificate
    token: str  # single-use invitation (Synapse registration) token

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    def __repr__(self) -> str:  # the token is a secret until it is used
        return f"GuestLink({self.alias!r}, {self.host!r}, {self.port}, ***)"


def guest_link(alias: str, host: str, port: int, fingerprint: bytes, token: str) -> str:
    """The link a host sends to people on other computers."""
    server = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return (
        f"{matrix_uri(alias)}?action=join&{GUEST_SERVER}={server}"
        f"&{GUEST_FINGERPRINT}={fingerprint.hex()}&{GUEST_TOKEN}={quote(token, safe='')}"
    )


def is_guest_link(text: str) -> bool:
    """Whether ``text`` looks like a guest link (to offer the guest sign-up, not a join)."""
    raw = text.strip()
    return raw.lower().startswith("matrix:") and f"{GUEST_TOKEN}=" in raw


def parse_guest_link(text: str) -> GuestLink:
    """Read a guest link; InvalidGuestLink says which part is missing or wrong."""
    raw = text.strip()
    if not raw.lower().startswith("matrix:") or len(raw) > 2048:
        raise InvalidGuestLink("That is not a guest link: it should start with “matrix:”.")
    if any(ch.isspace() or not ch.isprintable() for ch in raw):
        raise InvalidGuestLink("The guest link contains spaces or line breaks: copy it again.")
    body, _, query = raw[len("matrix:") :].partition("?")
    kind, _, rest = body.partition("/")
    alias = "#" + unquote(rest)
    if kind != "r" or not _ALIAS_RE.match(alias):
        raise InvalidGuestLink("The guest link does not name a meeting (matrix:r/…).")
    params: dict[str, str] = {}
    for key, _, value in (p.partition("=") for p in query.split("&") if p):
        if key in params:
            raise InvalidGuestLink(f"The guest link has “{key}” twice.")
        params[key] = unquote(value)
    server = params.get(GUEST_SERVER, "")
    match = _HOST_PORT_RE.match(server)
    if not server:
        raise InvalidGuestLink("The guest link has no server address.")
    if not match or not 0 < int(match[2]) < 65536:
        raise InvalidGuestLink("The server address in the guest link is not valid.")
    if not params.get(GUEST_FINGERPRINT):
        raise InvalidGuestLink("The guest link has no certificate fingerprint.")
    try:
        fingerprint = parse_fingerprint(params[GUEST_FINGERPRINT])
    except ValueError:
        raise InvalidGuestLink(
            "The certificate fingerprint in the guest link is not valid."
        ) from None
    token = params.get(GUEST_TOKEN, "")
    if not token:
        raise InvalidGuestLink("The guest link has no invitation.")
    if not _TOKEN_RE.match(token):
        raise InvalidGuestLink("The invitation in the guest link is not valid.")
    return GuestLink(alias, match[1].strip("[]"), int(match[2]), fingerprint, token)
