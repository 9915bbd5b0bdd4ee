"""Invite… of a meeting: several people at once, found by name as you type, with a message.

Type a Matrix ID (Enter adds it) or part of a name (the directory's matches
appear; Enter or a double-click on one adds it) to build the list of people to
invite; an optional message goes with the invitations (other Matrix apps show
it too). **Invite** sends them all at once; each person's line then says how it
went, so a bad address does not hold up the others.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.invitation_models import ConferenceInvitation, InvitationState
from engine.invitations import MAX_TOAST_LENGTH
from ui import plain_text, theme
from ui.accessibility import announce
from ui.dialogs import _USER_ID_ROLE, PersonPickerDialog
from ui.form_widgets import make_line_edit
from ui.invitation_text import failure_text, outcome_text

if TYPE_CHECKING:
    from engine.engine import Engine

_STATUS_ROLE = Qt.ItemDataRole.UserRole + 2
_PENDING, _SENT, _FAILED = "pending", "sent", "failed"


class InviteDialog(PersonPickerDialog):
    """Invites people to one meeting; stays open so more can be invited after."""

    #: Someone was invited (their Matrix ID).
    invited = Signal(str)
    #: A round of invitations finished (the invitations, as returned by the engine).
    round_finished = Signal(list)

    TITLE = "Invite to the meeting"
    INTRO = (
        "Who do you want to invite? Type a Matrix ID or a name, and press Enter to add "
        "each person. They get an invitation in Confero (or any Matrix app) and appear "
        "under Attendees as “Invited” until they join."
    )
    ACTION = "Invite"
    ACTION_TIP = "Invite everyone on the list (Ctrl+Enter)"
    BUSY = "Inviting…"
    FAILURE = "The invitations could not be sent."

    def __init__(self, engine: Engine, room_id: str, parent: QWidget | None = None) -> None:
        super().__init__(engine, parent)
        self._room_id = room_id
        self.setMinimumWidth(480)
        self.invite_button = self.start_button
        self.invite_button.setDefault(False)
        self.invite_button.setAutoDefault(False)
        self.cancel_button.setText("Close")
        self.cancel_button.setAccessibleName("Close")
        self.cancel_button.setAutoDefault(False)  # Enter adds a person, it never closes

        self.add_button = QPushButton("&Add", self)
        self.add_button.setAccessibleName("Add to the list")
        self.add_button.setToolTip("Add the person typed or chosen to the list (Enter)")
        self.add_button.setAutoDefault(False)
        self.invitees = QListWidget(self)
        self.invitees.setAccessibleName("People to invite")
        self.invitees.setToolTip("People on the list; press Delete to take someone off")
        self.invitees.setMinimumHeight(90)
        # Outcomes are sentences: wrap them rather than scroll sideways.
        self.invitees.setWordWrap(True)
        self.invitees.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.invitees.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.remove_button = QPushButton("&Remove", self)
        self.remove_button.setAccessibleName("Remove from the list")
        self.remove_button.setToolTip("Take the selected person off the list (Delete)")
        self.remove_button.setAutoDefault(False)
        invitees_label = QLabel("People to &invite:", self)
        invitees_label.setBuddy(self.invitees)
        self.message_edit = make_line_edit(
            self,
            "Message (optional)",
            placeholder="A message with the invitation (optional)",
            tooltip="Shown with the invitation, in Confero and in other Matrix apps",
        )
        self.message_edit.setMaxLength(MAX_TOAST_LENGTH)
        message_label = QLabel("&Message:", self)
        message_label.setBuddy(self.message_edit)

        query_row = QHBoxLayout()
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.removeWidget(self.query_edit)
        query_row.addWidget(self.query_edit, 1)
        query_row.addWidget(self.add_button)
        layout.insertLayout(1, query_row)
        list_row = QHBoxLayout()
        list_row.addWidget(self.invitees, 1)
        side = QVBoxLayout()
        side.addWidget(self.remove_button)
        side.addStretch(1)
        list_row.addLayout(side)
        position = layout.indexOf(self.hint_label)
        layout.insertWidget(position, invitees_label)
        layout.insertLayout(position + 1, list_row)
        layout.insertWidget(position + 2, message_label)
        layout.insertWidget(position + 3, self.message_edit)
        self.results.setMinimumHeight(100)
        self.setTabOrder(self.query_edit, self.add_button)
        self.setTabOrder(self.add_button, self.results)
        self.setTabOrder(self.results, self.invitees)
        self.setTabOrder(self.invitees, self.remove_button)
        self.setTabOrder(self.remove_button, self.message_edit)
        self.setTabOrder(self.message_edit, self.invite_button)

        self.query_edit.returnPressed.connect(self._on_query_return)
        self.query_edit.textEdited.connect(self._on_typed_again)
        self.add_button.clicked.connect(self.add_typed)
        self.remove_button.clicked.connect(self.remove_selected)
        self.invitees.currentItemChanged.connect(self._update_buttons)
        self.message_edit.returnPressed.connect(self._on_start_requested)
        for keys, slot in (
            (QKeySequence.StandardKey.Delete, self.remove_selected),
            (QKeySequence("Ctrl+Return"), self._on_start_requested),
            (QKeySequence("Ctrl+Enter"), self._on_start_requested),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(slot)
        self._update_buttons()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter never presses a default button here: it adds a person (or sends, on an
        empty line), and on a focused button it presses that button."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():
            focused = self.focusWidget()
            if isinstance(focused, QPushButton) and focused.isEnabled():
                focused.click()
            event.accept()
            return
        super().keyPressEvent(event)

    # -- the list -------------------------------------------------------------

    def pending(self) -> list[str]:
        """The Matrix IDs on the list not invited yet."""
        return [
            str(item.data(_USER_ID_ROLE))
            for item in self._items()
            if item.data(_STATUS_ROLE) == _PENDING
        ]

    def add_person(self, user_id: str, name: str = "") -> None:
        """Put someone on the list (once)."""
        user_id = user_id.strip()
        if not user_id:
            return
        for item in self._items():
            if item.data(_USER_ID_ROLE) == user_id:
                if item.data(_STATUS_ROLE) != _PENDING:
                    self._set_item(item, _PENDING, self._pending_text(user_id, name))
                return
        item = QListWidgetItem(theme.icon("person"), self._pending_text(user_id, name))
        item.setData(_USER_ID_ROLE, user_id)
        item.setData(_STATUS_ROLE, _PENDING)
        self.invitees.addItem(item)
        self.invitees.setCurrentItem(item)
        self._update_buttons()

    def add_typed(self) -> None:
        """Add what is typed (a Matrix ID), or the match chosen in the results."""
        current = self.results.currentItem()
        text = self.query_edit.text().strip()
        if current is not None and current.data(_USER_ID_ROLE) == text:
            self.add_person(text, current.text().split("  (")[0])
        elif text:
            self.add_person(text)
        else:
            return
        self.query_edit.clear()
        self.results.clear()
        self.query_edit.setFocus()

    def remove_selected(self) -> None:
        item = self.invitees.currentItem()
        if item is not None and not self.is_busy():
            self.invitees.takeItem(self.invitees.row(item))
            self._update_buttons()

    def _items(self) -> list[QListWidgetItem]:
        return [self.invitees.item(row) for row in range(self.invitees.count())]

    @staticmethod
    def _pending_text(user_id: str, name: str) -> str:
        return f"{name}  ({user_id})" if name and name != user_id else user_id

    def _set_item(self, item: QListWidgetItem, status: str, text: str) -> None:
        item.setData(_STATUS_ROLE, status)
        item.setText(text)
        item.setToolTip(plain_text.tooltip(text))
        if status == _FAILED:
            item.setForeground(theme.error_colour(self.palette()))
        elif status == _SENT:
            item.setForeground(theme.success_colour(self.palette()))
        else:
            item.setData(Qt.ItemDataRole.ForegroundRole, None)

    def _update_buttons(self, *_args: object) -> None:
        self.remove_button.setEnabled(self.invitees.currentItem() is not None)

    # -- sending --------------------------------------------------------------

    def _on_query_return(self) -> None:
        if self.query_edit.text().strip():
            self.add_typed()
        else:
            self._on_start_requested()

    def _on_result_activated(self, item: QListWidgetItem) -> None:
        self._on_result_chosen(item)
        self.add_typed()

    def _on_start_requested(self) -> None:
        if self.is_busy():
            return
        if self.query_edit.text().strip():
            self.add_typed()
        if not self.pending():
            self.error_label.show_error("Add someone first: type a Matrix ID or a name.")
            self.query_edit.setFocus()
            return
        self._search_timer.stop()
        self._search_generation += 1
        self._set_busy(True)
        self._tasks.spawn(self._start(""))

    async def _act(self, _user: str) -> None:
        message = self.message_edit.text()
        people = self.pending()
        invite = self._engine.invitations.deliver
        results: list[ConferenceInvitation] = await asyncio.gather(
            *(invite(self._room_id, user_id, message) for user_id in people)
        )
        self._set_busy(False)
        self._show_outcomes(people, results)
        self.round_finished.emit(results)

    def _show_outcomes(self, people: list[str], results: list[ConferenceInvitation]) -> None:
        by_user = dict(zip(people, results, strict=True))
        sent, failed = [], []
        for item in self._items():
            user_id = str(item.data(_USER_ID_ROLE))
            result = by_user.get(user_id)
            if result is None:
                continue
            name = item.text().split("  (")[0]
            if result.state is InvitationState.FAILED:
                words = failure_text(result.failure, result.detail)
                self._set_item(item, _FAILED, outcome_text(name, result.state, words))
                failed.append(name)
            else:
                self._set_item(item, _SENT, outcome_text(name, result.state))
                sent.append(name)
                self.invited.emit(user_id)
        self._show_summary(sent, failed)

    def _show_summary(self, sent: list[str], failed: list[str]) -> None:
        parts = []
        if sent:
            parts.append(f"Invited {', '.join(sent)}.")
        if failed:
            who = failed[0] if len(failed) == 1 else f"{len(failed)} people"
            parts.append(f"{who} could not be invited: see the list.")
        parts.append("You can invite someone else, or close this window.")
        text = " ".join(parts)
        palette = self.hint_label.palette()
        colour = theme.error_colour(palette) if failed else theme.success_colour(palette)
        palette.setColor(self.hint_label.foregroundRole(), colour)
        self.hint_label.setPalette(palette)
        self.hint_label.setText(text)
        announce(self.hint_label, text)
        self.query_edit.setFocus()

    def _on_typed_again(self, _text: str) -> None:
        self.hint_label.setPalette(self.palette())  # back from the summary's colour
