"""Invite… of a meeting: type a Matrix ID or search the directory, invite, repeat."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from ui import theme
from ui.accessibility import announce
from ui.dialogs import PersonPickerDialog

if TYPE_CHECKING:
    from engine.engine import Engine


class InviteDialog(PersonPickerDialog):
    """Invites people to one meeting; stays open so several can be invited in a row."""

    #: Someone was invited (the Matrix ID as typed or chosen).
    invited = Signal(str)

    TITLE = "Invite to the meeting"
    INTRO = (
        "Who do you want to invite? They get an invitation in Confero (or any Matrix app) "
        "and appear under Attendees as “Invited” until they join."
    )
    ACTION = "Invite"
    ACTION_TIP = "Invite this person to the meeting (Enter)"
    BUSY = "Inviting…"
    FAILURE = "The invitation could not be sent."

    def __init__(self, engine: Engine, room_id: str, parent: QWidget | None = None) -> None:
        super().__init__(engine, parent)
        self._room_id = room_id
        self.invite_button = self.start_button
        self.cancel_button.setText("Close")
        self.cancel_button.setAccessibleName("Close")
        self.query_edit.textEdited.connect(self._on_typed_again)

    async def _act(self, user: str) -> None:
        await self._engine.conferences.invite(self._room_id, user)
        self._set_busy(False)
        self.query_edit.clear()
        self.results.clear()
        text = f"Invited {user}. You can invite someone else, or close this window."
        palette = self.hint_label.palette()
        palette.setColor(self.hint_label.foregroundRole(), theme.success_colour(palette))
        self.hint_label.setPalette(palette)
        self.hint_label.setText(text)
        announce(self.hint_label, text)
        self.invited.emit(user)
        self.query_edit.setFocus()

    def _on_typed_again(self, _text: str) -> None:
        self.hint_label.setPalette(self.palette())  # back from the success green
