"""The banner area: bars stack in order, a later part adds its own, errors offer their action."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QVBoxLayout

from ui.banner import Banner, BannerKind
from ui.banner_area import BannerArea

pytestmark = pytest.mark.gui


def test_a_later_bar_goes_where_it_is_put_without_touching_the_others(qtbot) -> None:
    area = BannerArea()
    qtbot.addWidget(area)
    escalation = area.add_bar(Banner(), 0)
    call_bar = area.add_bar(Banner())
    layout = area.layout()
    assert isinstance(layout, QVBoxLayout)
    order = [layout.itemAt(i).widget() for i in range(layout.count())]
    assert order == [
        escalation,
        area.session_bar,
        area.lobby_bar,
        area.encryption_note,
        area.error_bar,
        call_bar,
    ]
    assert escalation.parent() is area


def test_the_error_bar_runs_its_action_once_and_a_success_clears_it(qtbot) -> None:
    area = BannerArea()
    qtbot.addWidget(area)
    area.show()
    runs: list[str] = []
    area.show_error(
        "Earlier messages could not be loaded.",
        action_text="Try again",
        action=lambda: runs.append("retry"),
    )
    assert area.error_bar.isVisible() and area.error_bar.kind is BannerKind.ERROR
    area.error_bar.action_button.click()
    assert runs == ["retry"] and not area.error_bar.isVisible()
    area.error_bar.action_triggered.emit()  # a stale click does not run it again
    assert runs == ["retry"]

    area.show_error("Not sent.")
    area.clear_error()
    assert not area.error_bar.isVisible()
