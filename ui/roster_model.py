"""The roster of a meeting as one flat list: a heading row per section, then its people.

The sections are "Lobby (n)" (only for those who can admit), "Presenters (n)"
and "Attendees (n)"; each heading row is followed by that section's people
unless the section is collapsed.
People invited but not yet there are listed under Attendees, marked "Invited";
someone who declined or did not answer stays there, marked "Declined" or "No
answer" (a row the engine's roster no longer has: the model keeps it from the
invitation's state), until they are invited again.

Every engine event becomes the smallest row operation that describes it: an
insert at the sorted position, a dataChanged on the row, a move when a role or
membership change puts someone in another section, a remove. Each section keeps
a sorted list of sort keys next to its participants and a dict maps user IDs
to their section and key, so finding a row is a bisection, never a scan: a
1,000-person meeting costs O(log n) per event.

Why flat, not a tree: a view lays out every row after each insert or move. A
QTreeView asks a Python model for each row's index and children (two Python
calls per row, 10,000 people: over 100 ms per layout); a QListView with uniform
row sizes asks only ``rowCount``, which is a cached number here. For the same
reason the model has no ``flags`` of its own (Qt's, in C++, say selectable and
enabled); the view keeps heading rows out of the selection.

A big list (the window opening on a 10,000-person meeting, the full list after
loading) still goes in a batch at a time: the people wait in a sorted queue and
go in by runs of rows (one insert per run), the event loop turning between
batches. The full list after loading is compared with what is shown, so it
only touches the rows that differ; the model is never reset.
"""

from __future__ import annotations

import bisect
import enum
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QIcon

from engine.conference_models import ConferenceDetails, Membership, Participant, Role
from engine.invitation_models import ConferenceInvitation, InvitationState
from engine.models import Presence
from ui import plain_text, theme
from ui.bridge import EngineBridge, disconnect_all
from ui.invitation_text import ROSTER_MARKS, ROSTER_STATUS
from ui.meeting_audio_text import UserAudio, audio_text
from ui.presence_text import presence_text

_AnyIndex = QModelIndex | QPersistentModelIndex
_SortKey = tuple[int, int, str, str]
#: Invitation states that keep someone listed after their invite is gone.
_KEPT_STATES = frozenset({InvitationState.DECLINED, InvitationState.EXPIRED})


class Section(enum.Enum):
    LOBBY = "Lobby"
    PRESENTERS = "Presenters"
    ATTENDEES = "Attendees"


#: Order of the sections. The lobby comes first: those rows need someone to act.
SECTION_ORDER: tuple[Section, ...] = (Section.LOBBY, Section.PRESENTERS, Section.ATTENDEES)
#: People put in per turn of the event loop when many arrive at once: as many as
#: keep building their rows (sort keys, lookups) well under 50 ms.
BATCH_ROWS = 5000
#: People sorted into place per turn of the event loop while a big list is read.
KEY_ROWS = 2500
#: Rows put in at once when a list bigger than a batch arrives (more than a window shows).
FIRST_ROWS = 200


class RosterRole(enum.IntEnum):
    USER_ID = Qt.ItemDataRole.UserRole + 1
    PARTICIPANT = enum.auto()  # the Participant itself (None on section rows)
    SECTION = enum.auto()  # the Section of the row, or of its person
    IS_SECTION = enum.auto()  # a heading row
    EXPANDED = enum.auto()  # whether a heading's people are shown (heading rows only)
    COUNT = enum.auto()  # people in a section (section rows only)
    NAME = enum.auto()  # the display name alone
    MARKS = enum.auto()  # "(Leader) (you)", "Invited" … shown dimmed after the name
    PRESENCE = enum.auto()
    AUDIO = enum.auto()  # UserAudio while they are in the meeting's audio, else None


#: What changes on someone's row when their audio does.
_AUDIO_ROLES = [
    RosterRole.AUDIO,
    Qt.ItemDataRole.AccessibleTextRole,
    Qt.ItemDataRole.ToolTipRole,
]
#: ...when only their level does: screen readers hear nothing new (a few times a second).
_LEVEL_ROLES = [RosterRole.AUDIO]


def section_of(participant: Participant) -> Section | None:
    """Where someone is listed, or None if they are not in the meeting (left, banned)."""
    # Plain comparisons, not a match statement: this runs for every person of a big list.
    membership = participant.membership
    if membership is Membership.JOINED:
        role = participant.role
        presenter = role is Role.LEADER or role is Role.PRESENTER
        return Section.PRESENTERS if presenter else Section.ATTENDEES
    if membership is Membership.INVITED:
        return Section.ATTENDEES
    if membership is Membership.KNOCKING:
        return Section.LOBBY
    return None


def sort_key(participant: Participant) -> _SortKey:
    """Leader first, people who are there before those only invited, then by name."""
    return (
        0 if participant.role is Role.LEADER else 1,
        1 if participant.membership in (Membership.INVITED, Membership.LEFT) else 0,
        participant.display_name.casefold(),
        participant.user_id,
    )


def marks_of(participant: Participant) -> str:
    """The notes after a name: "(Leader)", "(you)", "Invited"."""
    marks = []
    if participant.role is Role.LEADER and participant.membership is Membership.JOINED:
        marks.append("(Leader)")
    if participant.is_you:
        marks.append("(you)")
    if participant.membership is Membership.INVITED:
        marks.append("Invited")
    return " ".join(marks)


def label_of(participant: Participant) -> str:
    marks = marks_of(participant)
    name = participant.display_name or participant.user_id
    return f"{name} {marks}" if marks else name


def section_title(section: Section, count: int) -> str:
    return f"{section.value} ({count})"


_dots: dict[Presence, QIcon] = {}


def _presence_icon(presence: Presence) -> QIcon:
    icon = _dots.get(presence)
    if icon is None:
        icon = _dots[presence] = theme.presence_dot(presence, 10)
    return icon


@dataclass
class _Rows:
    """One section's people, sorted; ``keys[i]`` is ``sort_key(people[i])``."""

    keys: list[_SortKey] = field(default_factory=list)
    people: list[Participant] = field(default_factory=list)

    def position(self, key: _SortKey) -> int:
        return bisect.bisect_left(self.keys, key)

    def insert(self, key: _SortKey, person: Participant) -> int:
        row = self.position(key)
        self.keys.insert(row, key)
        self.people.insert(row, person)
        return row

    def pop(self, row: int) -> Participant:
        del self.keys[row]
        return self.people.pop(row)

    def clear(self) -> None:
        self.keys.clear()
        self.people.clear()


class RosterModel(QAbstractListModel):
    """Sections and participants of one meeting, updated row by row."""

    #: The number of people waiting in the lobby changed (new count).
    lobby_count_changed = Signal(int)
    #: Everyone queued by a big list is shown (the last batch went in).
    loading_finished = Signal()

    def __init__(
        self,
        room_id: str,
        bridge: EngineBridge | None = None,
        participants: Iterable[Participant] = (),
        *,
        show_lobby: bool = False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._room_id = room_id
        self._bridge = bridge
        self._rows: dict[Section, _Rows] = {s: _Rows() for s in SECTION_ORDER}
        self._where: dict[str, tuple[Section, _SortKey]] = {}
        self._show_lobby = show_lobby
        self._own_user_id = ""
        self._own_presence: Presence | None = None  # the engine reports ours separately
        self._invitations: dict[str, ConferenceInvitation] = {}  # the ones I sent, by invitee
        self._invitee_names: dict[str, str] = {}  # their names, for a row kept after they left
        self._audio: dict[str, UserAudio] = {}  # who is in the meeting's audio (ui/roster_audio.py)
        self._visible: list[Section] = self._visible_sections()
        self._collapsed: set[Section] = set()
        # Row of each shown heading, and the row count: rowCount is asked once
        # per row on every layout, so it returns a number kept up to date.
        self._heading_rows: dict[Section, int] = {}
        # The counts the headings show: set after a row operation ends, with
        # its own dataChanged (a heading is the neighbour of its first person,
        # and a row next to an insert must not change during it).
        self._heading_counts: dict[Section, int] = dict.fromkeys(SECTION_ORDER, 0)
        self._total = 0
        self._recount()
        # People known but not shown yet, and their order of going in (user IDs;
        # ones no longer in _pending were handled meanwhile and are skipped).
        self._pending: dict[str, tuple[Section, _SortKey, Participant]] = {}
        # People of a big list not even sorted into place yet (KEY_ROWS per turn).
        self._incoming: dict[str, Participant] = {}
        self._queue: list[str] = []
        self._queue_at = 0
        self.batch_rows = BATCH_ROWS
        self._drain_timer = QTimer(self)
        self._drain_timer.setSingleShot(True)
        self._drain_timer.setInterval(0)
        self._drain_timer.timeout.connect(self._drain_batch)
        self._enqueue({p.user_id: self._with_own_presence(p) for p in participants}.values())
        if bridge is not None:
            self._connect_signals()

    def _connect_signals(self) -> None:
        assert self._bridge is not None
        self._bridge.participants_reset.connect(self._on_participants_reset)
        self._bridge.participant_added.connect(self._on_participant_added)
        self._bridge.participant_changed.connect(self._on_participant_changed)
        self._bridge.participant_removed.connect(self._on_participant_removed)
        self._bridge.presence_changed.connect(self._on_presence_changed)
        self._bridge.own_presence_changed.connect(self._on_own_presence_changed)
        self._bridge.conference_changed.connect(self._on_conference_changed)
        self._bridge.invitation_state_changed.connect(self.set_invitation)

    def detach(self) -> None:
        """Stop following the bridge (the window is closing)."""
        if self._bridge is None:
            return
        bridge, self._bridge = self._bridge, None
        disconnect_all(
            (
                (bridge.participants_reset, self._on_participants_reset),
                (bridge.participant_added, self._on_participant_added),
                (bridge.participant_changed, self._on_participant_changed),
                (bridge.participant_removed, self._on_participant_removed),
                (bridge.presence_changed, self._on_presence_changed),
                (bridge.own_presence_changed, self._on_own_presence_changed),
                (bridge.conference_changed, self._on_conference_changed),
                (bridge.invitation_state_changed, self.set_invitation),
            )
        )

    # -- public API ---------------------------------------------------------

    @property
    def room_id(self) -> str:
        return self._room_id

    @property
    def lobby_shown(self) -> bool:
        return self._show_lobby

    @property
    def loading(self) -> bool:
        """Whether some people are still queued to go in (a big list arrived)."""
        return bool(self._pending or self._incoming)

    def count(self, section: Section) -> int:
        """People shown in ``section`` (the queued ones are not counted yet)."""
        return len(self._rows[section].people)

    def people(self, section: Section) -> list[Participant]:
        """The people of ``section`` in display order (a copy)."""
        return list(self._rows[section].people)

    def participant(self, user_id: str) -> Participant | None:
        where = self._where.get(user_id)
        if where is None:
            queued = self._pending.get(user_id)
            return queued[2] if queued else self._incoming.get(user_id)
        rows = self._rows[where[0]]
        return rows.people[rows.position(where[1])]

    def section_of_user(self, user_id: str) -> Section | None:
        where = self._where.get(user_id) or self._pending.get(user_id)
        if where is None and (arriving := self._incoming.get(user_id)) is not None:
            return self._section(arriving)
        return where[0] if where else None

    def index_of(self, user_id: str) -> QModelIndex:
        """The index of ``user_id``'s row, invalid if not shown (queued, section hidden)."""
        where = self._where.get(user_id)
        if where is None or not self._people_shown(where[0]):
            return QModelIndex()
        section, key = where
        return self.index(self._row_of(section, self._rows[section].position(key)))

    def section_index(self, section: Section) -> QModelIndex:
        """The index of ``section``'s heading row, invalid if the section is not shown."""
        row = self._heading_rows.get(section)
        return QModelIndex() if row is None else self.index(row)

    def is_expanded(self, section: Section) -> bool:
        return section not in self._collapsed

    def set_expanded(self, section: Section, expanded: bool) -> None:
        """Show or hide a section's people under its heading."""
        if expanded == self.is_expanded(section):
            return
        heading = self._heading_rows.get(section)
        count = len(self._rows[section].people)
        if heading is None or not count:  # nothing to insert or take out
            self._collapsed.symmetric_difference_update({section})
            self._count_changed(section)
            return
        if expanded:
            self.beginInsertRows(QModelIndex(), heading + 1, heading + count)
            self._collapsed.discard(section)
            self._recount()
            self.endInsertRows()
        else:
            self.beginRemoveRows(QModelIndex(), heading + 1, heading + count)
            self._collapsed.add(section)
            self._recount()
            self.endRemoveRows()
        self._count_changed(section)

    def set_lobby_shown(self, shown: bool) -> None:
        """Show or hide the Lobby section (only those who can admit see it)."""
        if shown == self._show_lobby:
            return
        self._show_lobby = shown
        lobby = Section.LOBBY
        people = len(self._rows[lobby].people) if self.is_expanded(lobby) else 0
        if shown:
            later = SECTION_ORDER[SECTION_ORDER.index(lobby) + 1 :]
            shown_later = [self._heading_rows[s] for s in later if s in self._heading_rows]
            row = min(shown_later, default=self._total)
            self.beginInsertRows(QModelIndex(), row, row + people)
            self._visible = self._visible_sections()
            self._recount()
            self.endInsertRows()
        else:
            row = self._heading_rows[lobby]
            self.beginRemoveRows(QModelIndex(), row, row + people)
            self._visible = self._visible_sections()
            self._recount()
            self.endRemoveRows()

    def invitation(self, user_id: str) -> ConferenceInvitation | None:
        """The latest state of my invitation to ``user_id``, if I sent one."""
        return self._invitations.get(user_id)

    def set_invitation(self, invitation: ConferenceInvitation) -> None:
        """Follow an invitation I sent: its mark, and a kept row after Declined / No answer."""
        if invitation.room_id != self._room_id:
            return
        user_id = invitation.invitee
        self._invitations[user_id] = invitation
        current = self.participant(user_id)
        if invitation.state in _KEPT_STATES:
            if current is None or current.membership is Membership.LEFT:
                self.upsert(self._kept_row(user_id, current))
            return
        if current is None:
            return
        if current.membership is Membership.LEFT and invitation.state is InvitationState.ACCEPTED:
            self.remove(user_id)  # they are there: the engine's row comes next
            return
        where = self._where.get(user_id)
        if where is None:
            return  # still queued: its row shows the mark when it goes in
        self._row_changed(where[0], self._rows[where[0]].position(where[1]))

    def audio(self, user_id: str) -> UserAudio | None:
        return self._audio.get(user_id)

    def set_audio(self, user_id: str, audio: UserAudio | None) -> None:
        """Someone joined or left the meeting's audio, muted, spoke or got louder: their
        row only, and only the audio role when the words stay the same (a level change)."""
        before = self._audio.get(user_id)
        if before == audio:
            return
        roles = _LEVEL_ROLES if audio is not None and audio.same_words(before) else _AUDIO_ROLES
        if audio is None:
            del self._audio[user_id]
        else:
            self._audio[user_id] = audio
        index = self.index_of(user_id)  # the row lookup every event uses
        if index.isValid():
            self.dataChanged.emit(index, index, roles)

    def reset(self, participants: Iterable[Participant]) -> None:
        """Make the roster the full list that arrived, touching only the rows that differ.

        Usually most of the list is shown already (sync brought it): comparing
        costs a dict lookup per person, where a model reset would make the view
        lay out every row again. People new to the model are queued.
        """
        latest = {p.user_id: self._with_own_presence(p) for p in participants}
        for user_id, invitation in self._invitations.items():
            if invitation.state in _KEPT_STATES and user_id not in latest:
                latest[user_id] = self._kept_row(user_id, None)
        gone: list[str] = []
        changed: list[Participant] = []
        for rows in self._rows.values():
            for shown in rows.people:
                new = latest.pop(shown.user_id, None)
                if new is None:
                    gone.append(shown.user_id)
                elif new != shown:
                    changed.append(new)
        for user_id in [u for u in self._pending if u not in latest]:
            del self._pending[user_id]
        for user_id in [u for u in self._incoming if u not in latest]:
            del self._incoming[user_id]
        for user_id in gone:
            self.remove(user_id)
        for person in changed:
            self.upsert(person)
        self._enqueue(latest.values())  # new to the model, or still queued

    def set_own_presence(self, presence: Presence) -> None:
        """Our own presence, which the participants the engine sends do not carry."""
        self._own_presence = presence
        me = self.participant(self._own_user_id) if self._own_user_id else None
        if me is not None and me.presence is not presence:
            self.upsert(replace(me, presence=presence))

    def upsert(self, participant: Participant) -> None:
        """Add ``participant``, or apply their change (moving them if needed)."""
        participant = self._with_own_presence(participant)
        # Queued: goes in now, as it is now.
        self._pending.pop(participant.user_id, None)
        self._incoming.pop(participant.user_id, None)
        old = self._where.get(participant.user_id)
        new_section = self._section(participant)
        if old is None:
            if new_section is not None:
                self._insert(new_section, participant)
            return
        if new_section is None:
            self.remove(participant.user_id)
            return
        old_section, old_key = old
        new_key = sort_key(participant)
        if old_section is new_section:
            self._change_within(old_section, old_key, new_key, participant)
        else:
            self._move_between(old_section, old_key, new_section, new_key, participant)

    def remove(self, user_id: str) -> None:
        queued = self._pending.pop(user_id, None)
        arriving = self._incoming.pop(user_id, None)
        person = queued[2] if queued else arriving
        if person is not None and user_id in self._invitations:
            self._invitee_names[user_id] = person.display_name
        where = self._where.pop(user_id, None)
        if where is None:
            return
        section, key = where
        rows = self._rows[section]
        row = rows.position(key)
        if user_id in self._invitations:
            self._invitee_names[user_id] = rows.people[row].display_name
        shown = self._people_shown(section)
        if shown:
            flat = self._row_of(section, row)
            self.beginRemoveRows(QModelIndex(), flat, flat)
        rows.pop(row)
        if shown:
            self._recount()
            self.endRemoveRows()
        self._count_changed(section)

    # -- Qt model API ---------------------------------------------------------

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        # Asked for every row on each layout (through index()): a kept number.
        return 0 if parent.isValid() else self._total

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = index.row()
        for section in reversed(self._visible):
            heading = self._heading_rows[section]
            if row > heading:
                people = self._rows[section].people
                if row - heading > len(people) or section in self._collapsed:
                    return None
                return self._person_data(section, people[row - heading - 1], role)
            if row == heading:
                return self._section_data(section, role)
        return None

    def roleNames(self) -> dict[int, bytes]:
        names = dict(super().roleNames())
        names.update({role: role.name.lower().encode() for role in RosterRole})
        return names

    # -- internals ----------------------------------------------------------

    def _visible_sections(self) -> list[Section]:
        return [s for s in SECTION_ORDER if s is not Section.LOBBY or self._show_lobby]

    def _recount(self) -> None:
        """Heading rows and the row count after a change of sections or their people."""
        row = 0
        self._heading_rows = {}
        for section in self._visible:
            self._heading_rows[section] = row
            row += 1 if section in self._collapsed else 1 + len(self._rows[section].people)
        self._total = row

    def _people_shown(self, section: Section) -> bool:
        return section in self._heading_rows and section not in self._collapsed

    def _row_of(self, section: Section, row: int) -> int:
        """The list row of the ``row``-th person of a shown section."""
        return self._heading_rows[section] + 1 + row

    def _enqueue(self, people: Iterable[Participant]) -> None:
        """Queue people not shown yet, in display order, and put the first batch in.

        A big list is sorted into place over several turns of the event loop
        (KEY_ROWS people each), then goes in batch by batch.
        """
        for person in people:
            self._pending.pop(person.user_id, None)
            self._incoming[person.user_id] = person
        if len(self._incoming) > self.batch_rows:
            self._drain_timer.start()
        else:
            self._key_incoming(len(self._incoming))

    def _key_incoming(self, count: int) -> None:
        """Sort ``count`` arriving people into the queue; once all are, start putting them in."""
        incoming, pending = self._incoming, self._pending
        for user_id in list(itertools.islice(incoming, count)):
            person = incoming.pop(user_id)
            section = self._section(person)
            if section is not None:
                pending[user_id] = (section, sort_key(person), person)
        if incoming or not pending:
            return
        # Section order first, then the key: one sort of plain tuples, no key function.
        order = {s: i for i, s in enumerate(SECTION_ORDER)}
        ranked = sorted(
            (order[section], key, user_id) for user_id, (section, key, _) in pending.items()
        )
        self._queue = [user_id for _, _, user_id in ranked]
        self._queue_at = 0
        # A big list: a screenful at once, so it never looks empty, and the rest
        # batch by batch, the event loop turning in between.
        self._drain_batch(FIRST_ROWS if len(self._queue) > self.batch_rows else None)

    def _drain_batch(self, limit: int | None = None) -> None:
        """Put the next batch of queued people in; the rest after the loop has turned."""
        if self._incoming:
            self._key_incoming(KEY_ROWS)
            if self._incoming:
                self._drain_timer.start()
            return
        if not self._queue:
            return
        batch: dict[Section, list[tuple[_SortKey, Participant]]] = {}
        taken = 0
        limit = min(limit or self.batch_rows, self.batch_rows)
        while taken < limit and self._queue_at < len(self._queue):
            entry = self._pending.pop(self._queue[self._queue_at], None)
            self._queue_at += 1
            if entry is not None:
                batch.setdefault(entry[0], []).append((entry[1], entry[2]))
                taken += 1
        for section, entries in batch.items():
            self._insert_sorted(section, entries)
        if self._queue_at < len(self._queue):
            self._drain_timer.start()
            return
        self._queue, self._queue_at = [], 0
        self._pending.clear()  # (nothing is left that the queue does not hold)
        self.loading_finished.emit()

    def _insert_sorted(self, section: Section, entries: list[tuple[_SortKey, Participant]]) -> None:
        """Insert people sorted by key: one row insert per run that lands between two rows."""
        rows = self._rows[section]
        keys = [key for key, _ in entries]
        shown = self._people_shown(section)
        start = 0
        while start < len(entries):
            row = rows.position(keys[start])
            # Everyone up to the next row already there goes in at once.
            end = (
                len(keys)
                if row == len(rows.keys)
                else bisect.bisect_left(keys, rows.keys[row], start)
            )
            if shown:
                flat = self._row_of(section, row)
                self.beginInsertRows(QModelIndex(), flat, flat + end - start - 1)
            rows.keys[row:row] = keys[start:end]
            rows.people[row:row] = [person for _, person in entries[start:end]]
            for key, person in entries[start:end]:
                self._where[person.user_id] = (section, key)
            self._recount()
            if shown:
                self.endInsertRows()
            start = end
        self._count_changed(section)

    def _section(self, participant: Participant) -> Section | None:
        if participant.membership is Membership.LEFT and self._kept(participant.user_id):
            return Section.ATTENDEES  # declined or no answer: still listed
        return section_of(participant)

    def _kept(self, user_id: str) -> bool:
        invitation = self._invitations.get(user_id)
        return invitation is not None and invitation.state in _KEPT_STATES

    def _kept_row(self, user_id: str, current: Participant | None) -> Participant:
        """The row of someone whose invitation was declined or not answered."""
        return Participant(
            user_id=user_id,
            display_name=current.display_name
            if current
            else self._invitee_names.get(user_id, user_id),
            membership=Membership.LEFT,
            power_level=0,
            role=Role.ATTENDEE,
            is_you=False,
            presence=current.presence if current else Presence.UNKNOWN,
        )

    def _marks(self, person: Participant) -> str:
        invitation = self._invitations.get(person.user_id)
        if invitation is not None and person.membership in (Membership.INVITED, Membership.LEFT):
            return ROSTER_MARKS.get(invitation.state, "") or marks_of(person)
        return marks_of(person)

    def _label(self, person: Participant) -> str:
        marks = self._marks(person)
        name = person.display_name or person.user_id
        return f"{name} {marks}" if marks else name

    def _with_own_presence(self, participant: Participant) -> Participant:
        if not participant.is_you:
            return participant
        self._own_user_id = participant.user_id
        own = self._own_presence
        if own is None or participant.presence is not Presence.UNKNOWN:
            return participant
        return replace(participant, presence=own)

    def _section_data(self, section: Section, role: int) -> Any:
        count = self._heading_counts[section]
        match role:
            case Qt.ItemDataRole.DisplayRole | Qt.ItemDataRole.AccessibleTextRole:
                return section_title(section, count)
            case RosterRole.SECTION:
                return section
            case RosterRole.IS_SECTION:
                return True
            case RosterRole.EXPANDED:
                return section not in self._collapsed
            case Qt.ItemDataRole.AccessibleDescriptionRole:
                state = "collapsed" if section in self._collapsed else "expanded"
                return f"Section, {state}. Space shows or hides its people."
            case RosterRole.COUNT:
                return count
            case RosterRole.NAME:
                return section.value
        return None

    def _person_data(self, section: Section, person: Participant, role: int) -> Any:
        match role:
            case Qt.ItemDataRole.DisplayRole:
                return self._label(person)
            case Qt.ItemDataRole.AccessibleTextRole:
                presence = presence_text(person.presence, own=person.is_you)
                words = [self._label(person), presence, audio_text(self._audio.get(person.user_id))]
                return ", ".join(w for w in words if w)
            case Qt.ItemDataRole.DecorationRole:
                return _presence_icon(person.presence)
            case Qt.ItemDataRole.ToolTipRole:
                return self._tooltip(section, person)
            case RosterRole.USER_ID:
                return person.user_id
            case RosterRole.PARTICIPANT:
                return person
            case RosterRole.SECTION:
                return section
            case RosterRole.IS_SECTION:
                return False
            case RosterRole.NAME:
                return person.display_name or person.user_id
            case RosterRole.MARKS:
                return self._marks(person)
            case RosterRole.PRESENCE:
                return person.presence
            case RosterRole.AUDIO:
                return self._audio.get(person.user_id)
        return None

    def _tooltip(self, section: Section, person: Participant) -> str:
        invitation = self._invitations.get(person.user_id)
        if section is Section.LOBBY:
            status = "Waiting in the lobby"
        elif invitation is not None and person.membership in (
            Membership.INVITED,
            Membership.LEFT,
        ):
            status = ROSTER_STATUS[invitation.state]
        elif person.membership is Membership.INVITED:
            status = "Invited, not here yet"
        else:
            status = person.role.value
        lines = [person.display_name or person.user_id, person.user_id, status]
        if presence := presence_text(person.presence, own=person.is_you):
            lines.append(presence)
        if audio := audio_text(self._audio.get(person.user_id)):
            lines.append(audio[0].upper() + audio[1:])
        return plain_text.tooltip("\n".join(lines))

    def _count_changed(self, section: Section) -> None:
        self._heading_counts[section] = len(self._rows[section].people)
        index = self.section_index(section)
        if index.isValid():
            self.dataChanged.emit(index, index)
        if section is Section.LOBBY:
            self.lobby_count_changed.emit(self.count(Section.LOBBY))

    def _insert(self, section: Section, person: Participant) -> None:
        key = sort_key(person)
        rows = self._rows[section]
        row = rows.position(key)
        shown = self._people_shown(section)
        if shown:
            flat = self._row_of(section, row)
            self.beginInsertRows(QModelIndex(), flat, flat)
        rows.insert(key, person)
        self._where[person.user_id] = (section, key)
        self._recount()
        if shown:
            self.endInsertRows()
        self._count_changed(section)

    def _change_within(
        self, section: Section, old_key: _SortKey, new_key: _SortKey, person: Participant
    ) -> None:
        rows = self._rows[section]
        row = rows.position(old_key)
        self._where[person.user_id] = (section, new_key)
        if new_key == old_key:
            rows.people[row] = person
            self._row_changed(section, row)
            return
        # Where it goes once taken out: bisect the keys around the old row.
        left = bisect.bisect_left(rows.keys, new_key, 0, row)
        target = left if left < row else bisect.bisect_left(rows.keys, new_key, row + 1) - 1
        if target == row:  # still in order: same row, new content
            rows.keys[row] = new_key
            rows.people[row] = person
            self._row_changed(section, row)
            return
        shown = self._people_shown(section)
        if shown:
            destination = self._row_of(section, target if target < row else target + 1)
            flat = self._row_of(section, row)
            self.beginMoveRows(QModelIndex(), flat, flat, QModelIndex(), destination)
        rows.pop(row)
        rows.keys.insert(target, new_key)
        rows.people.insert(target, person)
        if shown:
            self.endMoveRows()
            self._row_changed(section, target)

    def _move_between(
        self,
        old_section: Section,
        old_key: _SortKey,
        new_section: Section,
        new_key: _SortKey,
        person: Participant,
    ) -> None:
        source, target = self._rows[old_section], self._rows[new_section]
        row = source.position(old_key)
        new_row = target.position(new_key)
        old_shown, new_shown = self._people_shown(old_section), self._people_shown(new_section)
        # Rows as they are before the change (a heading always sits between
        # two sections, so the destination is never the row itself or the next).
        flat = self._row_of(old_section, row) if old_shown else -1
        new_flat = self._row_of(new_section, new_row) if new_shown else -1
        if old_shown and new_shown:
            self.beginMoveRows(QModelIndex(), flat, flat, QModelIndex(), new_flat)
        elif old_shown:
            self.beginRemoveRows(QModelIndex(), flat, flat)
        elif new_shown:
            self.beginInsertRows(QModelIndex(), new_flat, new_flat)
        source.pop(row)
        target.insert(new_key, person)
        self._where[person.user_id] = (new_section, new_key)
        self._recount()
        if old_shown and new_shown:
            self.endMoveRows()
            self._row_changed(new_section, new_row)
        elif old_shown:
            self.endRemoveRows()
        elif new_shown:
            self.endInsertRows()
        self._count_changed(old_section)
        self._count_changed(new_section)

    def _row_changed(self, section: Section, row: int) -> None:
        if self._people_shown(section):
            index = self.index(self._row_of(section, row))
            self.dataChanged.emit(index, index)

    # -- slots --------------------------------------------------------------

    def _on_participants_reset(self, room_id: str, participants: tuple[Participant, ...]) -> None:
        if room_id == self._room_id:
            self.reset(participants)

    def _on_participant_added(self, room_id: str, participant: Participant) -> None:
        if room_id == self._room_id:
            self.upsert(participant)

    def _on_participant_changed(self, room_id: str, participant: Participant) -> None:
        if room_id == self._room_id:
            self.upsert(participant)

    def _on_participant_removed(self, room_id: str, user_id: str) -> None:
        if room_id != self._room_id:
            return
        if self._kept(user_id):  # declined or no answer: the row stays, marked so
            self.upsert(self._kept_row(user_id, self.participant(user_id)))
        else:
            self.remove(user_id)

    def _on_presence_changed(self, user_id: str, presence: Presence, _status: str) -> None:
        person = self.participant(user_id)
        if person is not None and person.presence is not presence:
            self.upsert(replace(person, presence=presence))

    def _on_own_presence_changed(self, presence: Presence, _status: str) -> None:
        self.set_own_presence(presence)

    def _on_conference_changed(self, details: ConferenceDetails) -> None:
        if details.room_id == self._room_id:
            self.set_lobby_shown(details.can_admit)
