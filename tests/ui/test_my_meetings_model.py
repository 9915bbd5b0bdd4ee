"""MyMeetingsModel fed by summaries: sorted inserts, moves, hiding past meetings."""

from __future__ import annotations

from dataclasses import replace

from engine.conference_models import AccessLevel
from engine.meeting_summary_models import ConferenceSummary
from ui.my_meetings_model import MyMeetingsModel, when_text


def summary(room: str, **changes: object) -> ConferenceSummary:
    base = ConferenceSummary(
        room_id=room,
        conference_id="1234567",
        subject=room,
        link="https://matrix.to/#/%231234567:localhost",
        matrix_uri="matrix:r/1234567:localhost",
        access_level=AccessLevel.INVITED,
        organizer="@a:localhost",
        organized_by_me=True,
        start_ms=None,
        end_ms=None,
        created_ms=1000,
        expired=False,
        ended=False,
        personal=False,
        people_here=1,
        people_in_call=0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def subjects(model: MyMeetingsModel) -> list[str]:
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def test_rows_follow_the_engine_order_incrementally(qtmodeltester) -> None:
    model = MyMeetingsModel()
    qtmodeltester.check(model)
    resets: list[None] = []
    model.modelReset.connect(lambda: resets.append(None))
    model._on_summary_changed(summary("theirs", organized_by_me=False))
    model._on_summary_changed(summary("mine", created_ms=5))
    model._on_summary_changed(summary("past", expired=True, end_ms=2000, start_ms=1000))
    model._on_summary_changed(summary("personal", personal=True))
    assert subjects(model) == ["personal", "mine", "theirs"]
    model._on_summary_changed(summary("theirs", organized_by_me=False, live=True, occupied=True))
    model._on_summary_changed(summary("mine", created_ms=5, expired=True))  # now past: hidden
    assert subjects(model) == ["personal", "theirs"]
    assert resets == []  # no reset per event
    model.set_show_past(True)
    assert subjects(model) == ["personal", "mine", "past", "theirs"]
    model._on_summary_removed("past")
    assert subjects(model) == ["personal", "mine", "theirs"]
    assert model.hidden_count() == 0
    qtmodeltester.check(model)


def test_when_text() -> None:
    assert when_text(summary("x", live=True, people_here=3)) == "Now · 3 people"
    assert when_text(summary("x", ended=True, expired=True)) == "Ended"
    assert when_text(summary("x", personal=True)) == "Any time"
