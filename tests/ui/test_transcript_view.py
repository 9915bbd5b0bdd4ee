"""A meeting window's transcript shows lines for joins, admissions and roles (real Synapse).

Three or more such lines in a row show as one summary row, which the keyboard
(Space, Enter) and a click expand and collapse.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QAccessible

from engine.conference_models import Membership, Role
from tests.helpers.engines import signed_in_engine
from tests.helpers.qt_async import wait_until
from tests.helpers.users import TestUser
from ui.bridge import EngineBridge
from ui.engine_calls import wait_for_background_work
from ui.message_model import MessageRole
from ui.room_change_text import change_text
from ui.window_registry import ConversationWindows

pytestmark = [pytest.mark.integration, pytest.mark.gui]

SLOW = 30.0


def member(engine, room_id: str, user_id: str) -> Membership | None:
    found = [p for p in engine.conferences.participants(room_id) if p.user_id == user_id]
    return found[0].membership if found else None


async def test_the_meeting_window_shows_who_came_and_who_changed_roles(
    make_user: Callable[..., TestUser], tmp_path: Path, qtbot
) -> None:
    alice = await signed_in_engine(make_user("alice", displayname="Alice"), tmp_path / "a")
    bob = await signed_in_engine(make_user("bob", displayname="Bob"), tmp_path / "b")
    bridge = EngineBridge(alice.session.bus)
    windows = ConversationWindows(alice, bridge)
    try:
        room_id = await alice.conferences.meet_now("Planning")
        window = windows.open(room_id)
        window.resize(520, 600)
        await bob.conferences.join(alice.conferences.details(room_id).conference_id)
        await wait_until(
            lambda: member(alice, room_id, bob.session.user_id) is Membership.KNOCKING, SLOW
        )
        await alice.conferences.admit(room_id, bob.session.user_id)
        await wait_until(
            lambda: member(alice, room_id, bob.session.user_id) is Membership.JOINED, SLOW
        )
        await alice.conferences.set_role(room_id, bob.session.user_id, Role.ATTENDEE)
        await alice.conversations.send_text(room_id, "Welcome, Bob")

        model = window.model
        wanted = ["Alice admitted Bob from the lobby", "Bob joined", "Alice made Bob an attendee"]

        def shown_lines() -> list[str]:
            return [
                model.index(row, 0).data()
                for row in range(model.rowCount())
                if model.message_at(row).changes
            ]

        def loaded_lines() -> list[str]:
            return [change_text(m) for m in model.messages() if m.changes]

        await wait_until(lambda: all(line in loaded_lines() for line in wanted), SLOW)
        # Alice's own joining, the subject, the admission and Bob's joining are
        # consecutive: one summary row stands for them, until expanded.
        summarised = wanted[:2]
        summary = next(r for r in range(model.rowCount()) if model.is_summary(r))
        assert not any(line in shown_lines() for line in summarised)
        summary_index = model.index(summary, 0)
        assert summary_index.data() == (
            "Alice and Bob joined, the subject changed and Bob was let in from the lobby"
        )
        assert summary_index.data(Qt.ItemDataRole.AccessibleDescriptionRole).startswith(
            "Show all lines"
        )
        view = window.view
        view.setFocus()
        view.setCurrentIndex(summary_index)
        collapsed_rows = model.rowCount()
        qtbot.keyClick(view, Qt.Key.Key_Space)
        assert all(line in shown_lines() for line in wanted)
        assert model.rowCount() > collapsed_rows
        assert view.currentIndex().row() == summary  # the summary keeps the focus
        rows = {model.index(r, 0).data(): r for r in range(model.rowCount())}
        role_row = model.index(rows["Alice made Bob an attendee"], 0)
        assert role_row.data(Qt.ItemDataRole.AccessibleTextRole).startswith(
            "Alice made Bob an attendee, "
        )
        # A room line never joins a message group, and the message after it has its header.
        message_row = next(
            r for r in range(model.rowCount()) if model.message_at(r).body == "Welcome, Bob"
        )
        assert not model.index(message_row, 0).data(MessageRole).changes
        view.scrollTo(role_row)
        for _ in range(3):
            await asyncio.sleep(0.05)
        # Drawn as a small line: lower than a message with its header, inside the viewport.
        line_height = view.visualRect(role_row).height()
        message_height = view.visualRect(model.index(message_row, 0)).height()
        assert 0 < line_height < message_height
        assert QRect(view.viewport().rect()).intersects(view.visualRect(role_row))
        # The accessibility tree reads the line out.
        iface = QAccessible.queryAccessibleInterface(view)
        texts = [
            iface.child(i).text(QAccessible.Text.Name)
            for i in range(iface.childCount())
            if iface.child(i) is not None
        ]
        assert any(t.startswith("Alice made Bob an attendee") for t in texts), texts
        # The summary says what it stands for and how to hide its lines again.
        descriptions = [
            iface.child(i).text(QAccessible.Text.Description)
            for i in range(iface.childCount())
            if iface.child(i) is not None
        ]
        assert "Hide lines: press Enter or Space, or click." in descriptions, descriptions
        # Enter on the summary hides the lines again; a click on it shows them.
        view.setCurrentIndex(model.index(summary, 0))
        qtbot.keyClick(view, Qt.Key.Key_Return)
        assert model.rowCount() == collapsed_rows
        assert not any(line in shown_lines() for line in summarised)
        view.scrollTo(model.index(summary, 0))
        await asyncio.sleep(0.05)
        index = model.index(summary, 0)
        # On the summary itself (not on the date line above it).
        summary_line = view.delegate.geometry(view.delegate.row_rect(view.visualRect(index)), index)
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=summary_line.body.center())
        await wait_until(lambda: all(line in shown_lines() for line in wanted), 5)
    finally:
        windows.close_all()
        await wait_for_background_work()
        bridge.detach()
        await bob.session.close()
        await alice.session.close()
        await asyncio.sleep(0.05)
