"""Parsing of what people type: Matrix user IDs and homeserver addresses."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from engine.errors import InvalidHomeserverAddress, InvalidUserId

# The spec's grammar for a user ID localpart, plus the historical characters
# servers still accept; the server name is a hostname, IPv4 or [IPv6] with an
# optional port.
_LOCALPART = r"[a-z0-9._=\-/+]+"
_HOST = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(?::\d{1,5})?"
_USER_ID_RE = re.compile(rf"^@(?P<localpart>{_LOCALPART}):(?P<server>{_HOST})$")
_LOCALPART_RE = re.compile(rf"^{_LOCALPART}$")
_HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*$"
)
MAX_USER_ID_LENGTH = 255


def parse_user_id(text: str) -> str:
    """Return a normalised full user ID, or raise InvalidUserId."""
    candidate = text.strip()
    if len(candidate) > MAX_USER_ID_LENGTH or not _USER_ID_RE.match(candidate):
        raise InvalidUserId(
            f"“{_shorten(candidate)}” is not a valid user ID. It looks like @name:example.org."
        )
    return candidate


def user_id_from_login_name(text: str, server_name: str) -> str:
    """Accept either a bare user name or a full user ID for signing in."""
    candidate = text.strip()
    if candidate.startswith("@"):
        return parse_user_id(candidate)
    localpart = candidate.lower()
    if not localpart or not _LOCALPART_RE.match(localpart):
        raise InvalidUserId("A user name may use only letters a–z, digits and . _ = - / +")
    return parse_user_id(f"@{localpart}:{server_name}")


def validate_localpart(text: str) -> str:
    localpart = text.strip().lower()
    if not localpart or not _LOCALPART_RE.match(localpart) or len(localpart) > 200:
        raise InvalidUserId("A user name may use only letters a–z, digits and . _ = - / +")
    return localpart


def server_name_of(user_id: str) -> str:
    return user_id.split(":", 1)[1]


def normalise_homeserver_address(text: str) -> str:
    """Turn what a person typed into a base URL (scheme://host[:port]).

    A bare domain gets https://; an explicit http:// is kept (local servers).
    Paths, queries, credentials and odd schemes are refused rather than guessed at.
    """
    raw = text.strip()
    if not raw or any(ch.isspace() for ch in raw) or len(raw) > 2048:
        raise InvalidHomeserverAddress()
    if "://" not in raw:
        raw = "https://" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise InvalidHomeserverAddress() from exc
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or parts.username or parts.password:
        raise InvalidHomeserverAddress()
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidHomeserverAddress()
    if not (_HOSTNAME_RE.match(host) or _looks_like_ip(host)):
        raise InvalidHomeserverAddress()
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{parts.scheme}://{netloc}"


def _looks_like_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _shorten(text: str, limit: int = 60) -> str:
    cleaned = "".join(ch if ch.isprintable() else "�" for ch in text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
