"""The roster model with synthetic participants: sections, marks, incremental changes."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication

from engine.conference_models import Membership, Participant, Role
from engine.models import Presence
from ui.roster_model import BATCH_ROWS, FIRST_ROWS, RosterModel, RosterRole, Section

pytestmark = pytest.mark.gui


def person(
    user_id: str,
    name: str,
    membership: Membership = Membership.JOINED,
    role: Role = Role.ATTENDEE,
    *,
    you: bool = False,
    presence: Presence = Presence.AVAILABLE,
) -> Participant:
    level = {Role.LEADER: 100, Role.PRESENTER: 50, Role.ATTENDEE: 0}[role]
    return Participant(user_id, name, membership, level, role, you, presence)


def titles(model: RosterModel) -> list[str]:
    """The heading rows, in list order."""
    rows = (model.index(row) for row in range(model.rowCount()))
    return [index.data() for index in rows if index.data(RosterRole.IS_SECTION)]


def labels(model: RosterModel, section: Section) -> list[str]:
    """The rows between ``section``'s heading and the next heading (or the end)."""
    row = model.section_index(section).row() + 1
    shown = []
    while row < model.rowCount() and not model.index(row).data(RosterRole.IS_SECTION):
        shown.append(model.index(row).data())
        row += 1
    return shown


def meeting() -> list[Participant]:
    return [
        person("@alice:hs", "Alice", role=Role.LEADER, you=True),
        person("@bob:hs", "bob", role=Role.PRESENTER),
        person("@carol:hs", "Carol"),
        person("@dan:hs", "Dan", Membership.INVITED),
        person("@erin:hs", "Erin", Membership.KNOCKING),
        person("@gone:hs", "Gone", Membership.LEFT),
    ]


def test_sections_counts_and_marks(qtmodeltester) -> None:
    model = RosterModel("!r:hs", None, meeting(), show_lobby=True)
    qtmodeltester.check(model)
    assert titles(model) == ["Lobby (1)", "Presenters (2)", "Attendees (2)"]
    assert labels(model, Section.PRESENTERS) == ["Alice (Leader) (you)", "bob"]
    # The invited come after those who are there, marked.
    assert labels(model, Section.ATTENDEES) == ["Carol", "Dan Invited"]
    assert labels(model, Section.LOBBY) == ["Erin"]
    dan = model.index_of("@dan:hs")
    assert dan.data(RosterRole.MARKS) == "Invited"
    assert dan.data(RosterRole.NAME) == "Dan"
    assert "Invited, not here yet" in dan.data(0x03)  # ToolTipRole
    assert model.participant("@gone:hs") is None


def test_lobby_is_only_shown_to_those_who_can_admit(qtmodeltester) -> None:
    model = RosterModel("!r:hs", None, meeting(), show_lobby=False)
    qtmodeltester.check(model)
    assert titles(model) == ["Presenters (2)", "Attendees (2)"]
    assert not model.index_of("@erin:hs").isValid()
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda parent, a, b: inserted.append((a, b)))
    model.set_lobby_shown(True)
    assert inserted == [(0, 1)]  # the heading and Erin under it
    assert titles(model)[0] == "Lobby (1)"
    model.set_lobby_shown(False)
    assert titles(model) == ["Presenters (2)", "Attendees (2)"]
    # Someone admitted while the lobby is hidden simply appears.
    model.upsert(person("@erin:hs", "Erin"))
    assert labels(model, Section.ATTENDEES) == ["Carol", "Erin", "Dan Invited"]


def test_changes_are_row_operations_never_resets(qtmodeltester) -> None:
    model = RosterModel("!r:hs", None, meeting(), show_lobby=True)
    qtmodeltester.check(model)
    resets: list[int] = []
    moves: list[tuple[int, int]] = []
    changed: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsMoved.connect(lambda _p, start, _e, _d, row: moves.append((start, row)))
    model.dataChanged.connect(lambda a, _b, _r=(): changed.append(a.row()))

    # Admitted: Lobby → Attendees, a move between parents.
    model.upsert(person("@erin:hs", "Erin"))
    assert moves and model.section_of_user("@erin:hs") is Section.ATTENDEES
    assert titles(model) == ["Lobby (0)", "Presenters (2)", "Attendees (3)"]
    # Made presenter: Attendees → Presenters.
    model.upsert(person("@carol:hs", "Carol", role=Role.PRESENTER))
    assert labels(model, Section.PRESENTERS) == ["Alice (Leader) (you)", "bob", "Carol"]
    # A rename reorders within the section.
    model.upsert(person("@bob:hs", "Zed", role=Role.PRESENTER))
    assert labels(model, Section.PRESENTERS) == ["Alice (Leader) (you)", "Carol", "Zed"]
    # Presence: the same row, new data.
    changed.clear()
    model.upsert(replace(model.participant("@carol:hs"), presence=Presence.BUSY))
    assert changed == [3]  # Lobby heading, Presenters heading, Alice, Carol
    assert model.index_of("@carol:hs").data(RosterRole.PRESENCE) is Presence.BUSY
    # The invited accepts: moves up, loses the mark.
    model.upsert(person("@dan:hs", "Dan"))
    assert labels(model, Section.ATTENDEES) == ["Dan", "Erin"]
    # Leaving removes the row.
    model.upsert(person("@dan:hs", "Dan", Membership.LEFT))
    model.remove("@erin:hs")
    assert labels(model, Section.ATTENDEES) == []
    assert resets == []
    # The full list is compared with what is shown: row operations again, no reset.
    model.reset(meeting())
    assert resets == []
    assert titles(model) == ["Lobby (1)", "Presenters (2)", "Attendees (2)"]
    assert labels(model, Section.PRESENTERS) == ["Alice (Leader) (you)", "bob"]
    assert labels(model, Section.ATTENDEES) == ["Carol", "Dan Invited"]


def test_random_changes_keep_every_section_sorted(qtmodeltester) -> None:
    model = RosterModel("!r:hs", None, show_lobby=True)
    qtmodeltester.check(model)
    rng = random.Random(7)
    names = ["ann", "Bea", "cy", "Dee", "<b>x</b>", "Ünal", ""]
    for step in range(1500):
        user_id = f"@u{rng.randrange(80)}:hs"
        if rng.random() < 0.15:
            model.remove(user_id)
        else:
            model.upsert(
                person(
                    user_id,
                    rng.choice(names),
                    rng.choice(list(Membership)),
                    rng.choice(list(Role)),
                    presence=rng.choice(list(Presence)),
                )
            )
        if step % 200 == 0:
            model.set_lobby_shown(not model.lobby_shown)
    for section in Section:
        people = model.people(section)
        keys = [
            (
                p.role is not Role.LEADER,
                p.membership is Membership.INVITED,
                p.display_name.casefold(),
                p.user_id,
            )
            for p in people
        ]
        assert keys == sorted(keys)


def test_a_thousand_people_change_row_by_row() -> None:
    """Each change touches its own row only: no reset, no layout change, one move per promotion.

    How fast that is belongs to bench/roster.py, not to an assertion here.
    """
    everyone = [person(f"@p{i:04d}:hs", f"Person {i:04d}") for i in range(1000)]
    model = RosterModel("!r:hs", None, everyone, show_lobby=True)
    resets: list[int] = []
    layouts: list[int] = []
    moved: list[str] = []
    changed: list[tuple[str, str]] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.layoutChanged.connect(lambda *_: layouts.append(1))
    model.rowsInserted.connect(lambda *_: pytest.fail("a change inserted rows"))
    model.rowsRemoved.connect(lambda *_: pytest.fail("a change removed rows"))
    model.rowsMoved.connect(
        lambda parent, start, end, _dest, row: moved.extend(
            model.index(row).data(RosterRole.USER_ID) for _ in range(end - start + 1)
        )
    )
    model.dataChanged.connect(
        lambda top, bottom, _roles=(): changed.append(
            (top.data(RosterRole.USER_ID) or "", bottom.data(RosterRole.USER_ID) or "")
        )
    )
    for i in range(0, 1000, 2):  # half become presenters, one event each
        model.upsert(person(f"@p{i:04d}:hs", f"Person {i:04d}", role=Role.PRESENTER))
    promoted = [f"@p{i:04d}:hs" for i in range(0, 1000, 2)]
    assert sorted(moved) == promoted
    changed.clear()
    for i in range(1000):
        model.upsert(
            person(
                f"@p{i:04d}:hs",
                f"Person {i:04d}",
                role=Role.PRESENTER if i % 2 == 0 else Role.ATTENDEE,
                presence=Presence.AWAY,
            )
        )
    # A presence change is one dataChanged on that person's row and nothing else.
    assert changed == [(f"@p{i:04d}:hs", f"@p{i:04d}:hs") for i in range(1000)]
    assert resets == [] and layouts == []
    assert model.count(Section.PRESENTERS) == 500 and model.count(Section.ATTENDEES) == 500
    assert all(
        model.index_of(f"@p{i:04d}:hs").data(RosterRole.PRESENCE) is Presence.AWAY
        for i in range(1000)
    )
    assert model.rowCount(QModelIndex()) == 3 + 1000  # the headings and everyone


def test_others_offline_reads_offline_but_your_own_setting_keeps_its_name() -> None:
    model = RosterModel(
        "!r:hs",
        None,
        [
            person("@alice:hs", "Alice", role=Role.LEADER, you=True, presence=Presence.OFFLINE),
            person("@bob:hs", "Bob", presence=Presence.OFFLINE),
        ],
        show_lobby=True,
    )
    bob = model.index_of("@bob:hs")
    assert bob.data(Qt.ItemDataRole.AccessibleTextRole) == "Bob, Offline"
    assert "Offline" in bob.data(Qt.ItemDataRole.ToolTipRole)
    assert "Appear offline" not in bob.data(Qt.ItemDataRole.ToolTipRole)
    alice = model.index_of("@alice:hs")
    assert alice.data(Qt.ItemDataRole.AccessibleTextRole).endswith("Appear offline")


def sort_keys(people: list[Participant]) -> list[tuple[bool, bool, str, str]]:
    return [
        (
            p.role is not Role.LEADER,
            p.membership is Membership.INVITED,
            p.display_name.casefold(),
            p.user_id,
        )
        for p in people
    ]


def crowd(count: int) -> list[Participant]:
    """Everyone joined; every fifth a presenter, every seventh invited, the first the Leader."""
    people = []
    for i in range(count):
        role = Role.LEADER if i == 0 else Role.PRESENTER if i % 5 == 0 else Role.ATTENDEE
        membership = Membership.INVITED if i % 7 == 3 else Membership.JOINED
        people.append(person(f"@p{i:05d}:hs", f"Person {(i * 7919) % count:05d}", membership, role))
    return people


def expected_sections(people: list[Participant]) -> dict[Section, list[str]]:
    """Each section's user IDs in display order, computed from scratch."""
    shown: dict[Section, list[Participant]] = {s: [] for s in Section}
    for p in people:
        if p.membership is Membership.KNOCKING:
            shown[Section.LOBBY].append(p)
        elif p.membership is Membership.INVITED:
            shown[Section.ATTENDEES].append(p)
        elif p.membership is Membership.JOINED:
            presenter = p.role in (Role.LEADER, Role.PRESENTER)
            shown[Section.PRESENTERS if presenter else Section.ATTENDEES].append(p)
    return {
        s: [p.user_id for _, p in sorted(zip(sort_keys(ps), ps, strict=True))]
        for s, ps in shown.items()
    }


def shown_sections(model: RosterModel) -> dict[Section, list[str]]:
    return {s: [p.user_id for p in model.people(s)] for s in Section}


def test_a_big_list_goes_in_batch_by_batch(qtbot, qtmodeltester) -> None:
    everyone = crowd(2500)
    model = RosterModel("!r:hs", None, show_lobby=True)
    model.batch_rows = 1000
    qtmodeltester.check(model)
    inserted: list[int] = []
    resets: list[int] = []
    model.rowsInserted.connect(lambda parent, a, b: inserted.append(b - a + 1))
    model.modelReset.connect(lambda: resets.append(1))

    model.reset(everyone)
    # Nothing holds the caller: the list is sorted into place over the next turns
    # of the event loop, then a screenful goes in first, then the rest batch by batch.
    assert model.loading and sum(model.count(s) for s in Section) == 0
    shown_per_turn = []
    while model.loading:
        QApplication.processEvents()
        shown_per_turn.append(sum(model.count(s) for s in Section))
    firsts = [count for count in shown_per_turn if count]
    assert firsts[0] == FIRST_ROWS
    assert not model.loading
    assert shown_sections(model) == expected_sections(everyone)
    expected = expected_sections(everyone)
    assert titles(model) == [f"{s.value} ({len(expected[s])})" for s in Section]
    # Runs of rows, not a row at a time: each batch is a few inserts per section.
    assert sum(inserted) == 2500 and len(inserted) <= 3 * 2 * 3
    assert resets == []


def test_changes_in_the_middle_of_a_load_land_in_place(qtbot, qtmodeltester) -> None:
    everyone = crowd(BATCH_ROWS + 1000)
    model = RosterModel("!r:hs", None, everyone, show_lobby=True)
    model.batch_rows = 400
    qtmodeltester.check(model)
    qtbot.waitUntil(lambda: model.count(Section.ATTENDEES) > 0)
    assert model.loading
    shown = {p.user_id for s in Section for p in model.people(s)}
    queued = [p for p in everyone if p.user_id not in shown]
    latest = {p.user_id: p for p in everyone}

    def change(p: Participant) -> None:
        latest[p.user_id] = p
        model.upsert(p)

    # Queued people: renamed, promoted, knocking, leaving; shown people too; a newcomer.
    change(replace(queued[0], display_name="Aaron"))
    change(replace(queued[1], role=Role.PRESENTER, power_level=50))
    change(replace(queued[2], membership=Membership.KNOCKING))
    model.remove(queued[3].user_id)
    del latest[queued[3].user_id]
    some_shown = next(p for p in everyone if p.user_id in shown and p.role is not Role.LEADER)
    change(replace(some_shown, display_name="Zoe", presence=Presence.BUSY))
    change(person("@new:hs", "Newcomer"))
    assert model.participant(queued[0].user_id).display_name == "Aaron"

    with qtbot.waitSignal(model.loading_finished):
        pass
    # The queued ones changed meanwhile went in as they are now, once.
    assert shown_sections(model) == expected_sections(list(latest.values()))
    assert model.section_of_user(queued[2].user_id) is Section.LOBBY
    assert model.participant(queued[3].user_id) is None
    ids = [p.user_id for s in Section for p in model.people(s)]
    assert len(ids) == len(set(ids)) == len(latest)
    assert titles(model)[0] == "Lobby (1)"


def test_the_full_list_after_loading_only_touches_what_differs(qtbot) -> None:
    everyone = crowd(1500)
    model = RosterModel("!r:hs", None, everyone, show_lobby=True)
    qtbot.waitUntil(lambda: not model.loading)
    inserted: list[int] = []
    removed: list[int] = []
    changed: list[str] = []
    model.rowsInserted.connect(lambda parent, a, b: inserted.append(b - a + 1))
    model.rowsRemoved.connect(lambda parent, a, b: removed.append(b - a + 1))
    model.dataChanged.connect(
        lambda top, _bottom, _roles=(): changed.append(top.data(RosterRole.USER_ID) or "")
    )
    full = [*everyone[:-1], person("@late:hs", "Late")]  # one left, one came
    full[10] = replace(full[10], presence=Presence.AWAY)
    model.reset(full)
    assert not model.loading
    assert inserted == [1] and removed == [1]
    assert everyone[10].user_id in changed
    assert shown_sections(model) == expected_sections(full)


def test_section_rows_stay_out_of_the_selection(qtbot) -> None:
    """The model leaves flags to Qt (sections "selectable"); the view's selection skips them."""
    from PySide6.QtCore import QItemSelection, QItemSelectionModel

    from ui.roster_view import PeopleSelection, RosterList

    model = RosterModel("!r:hs", None, meeting(), show_lobby=True)
    view = RosterList()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setSelectionModel(PeopleSelection(model, view))
    selection = view.selectionModel()
    flag = QItemSelectionModel.SelectionFlag.ClearAndSelect
    carol = model.index_of("@carol:hs")
    selection.select(carol, flag)
    assert selection.selectedIndexes() == [carol]
    # A section row by index, by range, or by clicking on it: nothing selected.
    attendees = model.section_index(Section.ATTENDEES)
    selection.select(attendees, flag)
    assert selection.selectedIndexes() == []
    selection.select(QItemSelection(attendees, attendees), flag)
    assert selection.selectedIndexes() == []
    view.show()
    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(carol).center()
    )
    assert selection.selectedIndexes() == [carol]
    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(attendees).center()
    )
    assert selection.selectedIndexes() == []


def test_the_full_list_arriving_in_the_middle_of_a_load(qtbot) -> None:
    from_sync = crowd(BATCH_ROWS + 600)
    model = RosterModel("!r:hs", None, from_sync, show_lobby=True)
    model.batch_rows = 500
    assert model.loading
    # The server's list: a third of them gone, some renamed, newcomers.
    full = [
        replace(p, display_name=f"Renamed {i}") if i % 10 == 0 else p
        for i, p in enumerate(from_sync)
        if i % 3 != 1
    ]
    full += [person(f"@n{i}:hs", f"New {i}") for i in range(300)]
    model.reset(full)
    qtbot.waitUntil(lambda: not model.loading)
    assert shown_sections(model) == expected_sections(full)
    ids = [p.user_id for s in Section for p in model.people(s)]
    assert len(ids) == len(set(ids)) == len(full)


def test_a_heading_hides_and_shows_its_people_by_mouse_and_keyboard(qtbot, qtmodeltester) -> None:
    from ui.roster_view import PeopleSelection, RosterList

    model = RosterModel("!r:hs", None, meeting(), show_lobby=True)
    qtmodeltester.check(model)
    view = RosterList()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setSelectionModel(PeopleSelection(model, view))
    view.resize(240, 300)
    view.show()
    removed: list[tuple[int, int]] = []
    model.rowsRemoved.connect(lambda _parent, a, b: removed.append((a, b)))
    presenters = model.section_index(Section.PRESENTERS)
    assert presenters.data(RosterRole.EXPANDED)

    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(presenters).center()
    )
    assert removed == [(3, 4)]  # Lobby heading, Erin, Presenters heading, then its two people
    assert labels(model, Section.PRESENTERS) == []
    assert not model.index_of("@bob:hs").isValid()
    assert "collapsed" in presenters.data(Qt.ItemDataRole.AccessibleDescriptionRole)
    # Changes while it is closed: the count follows, no row appears under it.
    model.upsert(person("@carol:hs", "Carol", role=Role.PRESENTER))
    assert titles(model) == ["Lobby (1)", "Presenters (3)", "Attendees (1)"]
    assert labels(model, Section.PRESENTERS) == []

    view.setCurrentIndex(model.section_index(Section.PRESENTERS))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert labels(model, Section.PRESENTERS) == ["Alice (Leader) (you)", "bob", "Carol"]
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert labels(model, Section.PRESENTERS) == []
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert model.is_expanded(Section.PRESENTERS)
    # From a person, Left goes up to their heading (as in a tree).
    view.setCurrentIndex(model.index_of("@bob:hs"))
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert view.currentIndex() == model.section_index(Section.PRESENTERS)
    assert model.is_expanded(Section.PRESENTERS)
    # A closed lobby stays closed when it is hidden and shown again.
    model.set_expanded(Section.LOBBY, False)
    model.set_lobby_shown(False)
    model.set_lobby_shown(True)
    assert titles(model)[0] == "Lobby (1)" and labels(model, Section.LOBBY) == []
