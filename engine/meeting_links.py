"""Reading what people paste to join a meeting, and writing meeting links.

Accepted: https://matrix.to/#/<alias or room id>, matrix:r/<alias>,
matrix:roomid/<id>, #alias:server, !roomid:server, and the bare 7-digit
conference ID (looked up on the user's own server).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from engine.errors import InvalidMeetingLink

CONFERENCE_ID_DIGITS = 7
_SERVER = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(?::\d{1,5})?"
_ALIAS_RE = re.compile(rf"^#[^\s:#]{{1,200}}:{_SERVER}$")
_ROOM_ID_RE = re.compile(rf"^![A-Za-z0-9._~+/=\-]{{1,200}}:{_SERVER}$")
_DIGITS_RE = re.compile(rf"^\d{{{CONFERENCE_ID_DIGITS}}}$")


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
