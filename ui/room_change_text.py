"""The words for lines about a room (joins, roles, subject): all in one place.

The engine reports what happened as data (``RoomChange``); this module turns
it into the short sentence the transcript shows and a screen reader reads.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from engine.conference_models import Role
from engine.models import Message, RoomChange, RoomChangeKind

_ROLE_WORDS = {
    Role.LEADER: "the Leader",
    Role.PRESENTER: "a presenter",
    Role.ATTENDEE: "an attendee",
}


def describe(change: RoomChange) -> str:
    """One sentence for one change, e.g. "Alice made Bob a presenter"."""
    actor, target = line_name(change.actor_name), line_name(change.target_name)
    match change.kind:
        case RoomChangeKind.JOINED:
            text = f"{target} joined"
        case RoomChangeKind.LEFT:
            text = f"{target} left"
        case RoomChangeKind.INVITED:
            text = f"{actor} invited {target}"
        case RoomChangeKind.ADMITTED:
            text = f"{actor} admitted {target} from the lobby"
        case RoomChangeKind.DENIED:
            text = f"{actor} did not let {target} in"
        case RoomChangeKind.REMOVED:
            text = f"{actor} removed {target}"
        case RoomChangeKind.ROLE_CHANGED:
            role = _ROLE_WORDS.get(change.role, "an attendee") if change.role else "an attendee"
            text = f"{actor} made {target} {role}"
        case RoomChangeKind.SUBJECT_CHANGED if not change.subject:
            text = f"{actor} removed the subject"
        case RoomChangeKind.SUBJECT_CHANGED if not change.previous_subject:
            text = f"{actor} set the subject to “{change.subject}”"
        case RoomChangeKind.SUBJECT_CHANGED:
            text = f"{actor} changed the subject to “{change.subject}”"
        case _:
            text = f"{actor} changed the room"
    if change.more:
        people = "person" if change.more == 1 else "people"
        text += f", and changed the role of {change.more} more {people}"
    return text


def change_text(message: Message) -> str:
    """The whole line for a room-change row: one sentence per change, one per line."""
    return "\n".join(describe(change) for change in message.changes)


def plain_text(message: Message) -> str:
    """What a row says as plain text (to copy, or for a screen reader)."""
    return change_text(message) if message.changes else message.body


# -- summaries of consecutive lines ("Alice, Bob and 9,998 others joined") ------------

#: Longest name a summary shows before eliding it with "…".
SUMMARY_NAME_LIMIT = 32
#: Longest name one line about the room shows.
LINE_NAME_LIMIT = 128
#: How many names a summary lists before "and N others".
SUMMARY_NAMES = 2

# What happened to people, said after their names or their count:
# (for one person, for several). The subject has its own words.
_SUMMARY_VERBS: dict[RoomChangeKind, tuple[str, str]] = {
    RoomChangeKind.JOINED: ("joined", "joined"),
    RoomChangeKind.LEFT: ("left", "left"),
    RoomChangeKind.INVITED: ("was invited", "were invited"),
    RoomChangeKind.ADMITTED: ("was let in from the lobby", "were let in from the lobby"),
    RoomChangeKind.DENIED: ("was not let in", "were not let in"),
    RoomChangeKind.REMOVED: ("was removed", "were removed"),
    RoomChangeKind.ROLE_CHANGED: ("got a new role", "got a new role"),
}
# Kept in a name: joiners (emoji sequences); dropped: the other invisible
# format characters, such as bidi overrides that would flip the sentence.
_KEPT_FORMAT = {"\u200c", "\u200d"}


def short_name(name: str) -> str:
    """A name fit for a one-line list: no control or format characters, one line, elided."""
    return line_name(name, SUMMARY_NAME_LIMIT)


def line_name(name: str, limit: int = LINE_NAME_LIMIT) -> str:
    """``name`` without control or format characters, on one line, elided after ``limit``."""
    # Look at a bounded prefix only: a name may be megabytes long.
    raw = name[: limit * 4]
    kept = []
    for char in raw:
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp"):
            kept.append(" ")
        elif category != "Cf" or char in _KEPT_FORMAT:
            kept.append(char)
    cleaned = " ".join("".join(kept).split())
    if len(cleaned) > limit or (cleaned and len(name) > len(raw)):
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return cleaned or "Someone"


class ChangeTally:
    """Who had what happen in a run of room-change lines, counted as lines arrive.

    Adding a line at the end costs O(its changes); the words are made from the
    counts and the first names only, so a run of 10,000 joins reads as quickly
    as a run of three.
    """

    def __init__(self, messages: Iterable[Message] = ()) -> None:
        # Kind → {person's user ID: name}, in order of first appearance.
        self._people: dict[RoomChangeKind, dict[str, str]] = {}
        self._extra: dict[RoomChangeKind, int] = {}  # people left out of big role changes
        self._subjects = 0
        self.lines = 0
        for message in messages:
            self.add(message)

    def add(self, message: Message) -> None:
        self.lines += 1
        for change in message.changes:
            if change.kind is RoomChangeKind.SUBJECT_CHANGED:
                self._people.setdefault(change.kind, {})
                self._subjects += 1
                continue
            people = self._people.setdefault(change.kind, {})
            person = change.target or change.target_name
            people.setdefault(person, change.target_name)
            if change.more:
                self._extra[change.kind] = self._extra.get(change.kind, 0) + change.more

    def _count(self, kind: RoomChangeKind) -> int:
        if kind is RoomChangeKind.SUBJECT_CHANGED:
            return self._subjects
        return len(self._people[kind]) + self._extra.get(kind, 0)

    def text(self) -> str:
        """The summary sentence, e.g. "Alice, Bob and 9,998 others joined"."""
        kinds = list(self._people)
        if not kinds:
            return f"{self.lines:,} changes to the room"
        if len(kinds) == 1:
            return _capitalised(self._named_clause(kinds[0]))
        if (alone := self._one_person(kinds)) is not None:
            verbs = [_SUMMARY_VERBS[kind][0] for kind in kinds]
            return f"{short_name(alone)} {_listed(verbs)}"
        if all(self._count(k) <= SUMMARY_NAMES for k in kinds):  # few: name them all
            return _capitalised(_listed([self._named_clause(kind) for kind in kinds]))
        clauses = [self._counted_clause(kind, first=i == 0) for i, kind in enumerate(kinds)]
        return _capitalised(_listed(clauses))

    def _one_person(self, kinds: list[RoomChangeKind]) -> str | None:
        """The name when every line is about one person (e.g. "Alice joined and left")."""
        if self._subjects or self._extra or any(len(self._people[k]) != 1 for k in kinds):
            return None
        people = {next(iter(self._people[k].items())) for k in kinds}
        return next(iter(people))[1] if len({p[0] for p in people}) == 1 else None

    def _named_clause(self, kind: RoomChangeKind) -> str:
        count = self._count(kind)
        if kind is RoomChangeKind.SUBJECT_CHANGED:
            return _subject_clause(count)
        names = [short_name(n) for n in list(self._people[kind].values())[: SUMMARY_NAMES + 1]]
        if count <= SUMMARY_NAMES + 1:
            who = _listed(names[:count]) if len(names) >= count else _people(count)
        else:
            others = count - SUMMARY_NAMES
            who = f"{', '.join(names[:SUMMARY_NAMES])} and {others:,} others"
        return f"{who} {_SUMMARY_VERBS[kind][count != 1]}"

    def _counted_clause(self, kind: RoomChangeKind, *, first: bool) -> str:
        count = self._count(kind)
        if kind is RoomChangeKind.SUBJECT_CHANGED:
            return _subject_clause(count)
        who = _people(count) if first else f"{count:,}"
        return f"{who} {_SUMMARY_VERBS[kind][count != 1]}"


def _people(count: int) -> str:
    return "1 person" if count == 1 else f"{count:,} people"


def _subject_clause(count: int) -> str:
    return "the subject changed" if count == 1 else f"the subject changed {count:,} times"


def _listed(parts: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
