"""Add people… of a two-party conversation: choose who joins, with an optional message.

Accepting starts the escalation (the window's banner shows how it goes). The
dialog first checks each ID, as Teams does: well formed, not you, not the
person you are talking to (they follow anyway), and known to the server (a
profile lookup, so a mistyped ID is caught before the meeting starts).
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QVBoxLayout, QWidget

from engine.errors import InvalidUserId
from engine.ids import parse_user_id
from engine.user_directory import require_user
from ui.dialogs import PersonPickerDialog
from ui.escalation_text import PEER_FOLLOWS, YOURSELF
from ui.form_widgets import make_line_edit

if TYPE_CHECKING:
    from engine.engine import Engine

_SEPARATORS = re.compile(r"[,;\s]+")


class AddPeopleDialog(PersonPickerDialog):
    """Picks the people to add; ``people`` and ``message`` hold the choice once accepted."""

    TITLE = "Add people"
    INTRO = (
        "Who do you want to add? This conversation becomes a meeting: {peer} follows "
        "into it, and the people you add are invited."
    )
    ACTION = "Add"
    ACTION_TIP = "Make this conversation a meeting and invite these people (Enter)"
    BUSY = "Checking…"
    FAILURE = "These people could not be added."

    def __init__(
        self, engine: Engine, peer_name: str, parent: QWidget | None = None, *, peer_id: str = ""
    ) -> None:
        super().__init__(engine, parent)
        self._peer_id, self._peer_name = peer_id, peer_name
        self.intro_label.setText(self.INTRO.format(peer=peer_name))
        self.query_edit.setPlaceholderText("@name:example.org, several separated by commas")
        self.message_edit = make_line_edit(
            self,
            "Message",
            placeholder="Message for the invitation (optional)",
            tooltip="Shown with the invitation, also in other Matrix apps",
        )
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(layout.indexOf(self.buttons), self.message_edit)
        self.setTabOrder(self.results, self.message_edit)
        self.people: list[str] = []
        self.message = ""
        self._wrong = ""  # the entry an error is about, selected when it shows

    async def _act(self, text: str) -> None:
        people = [token for token in _SEPARATORS.split(text) if token]
        own = self._engine.session.user_id
        chosen: list[str] = []
        for token in people:
            self._wrong = token
            if not token.startswith("@"):
                raise InvalidUserId(f"Choose {token!r} from the list, or type a full Matrix ID.")
            user_id = parse_user_id(token)
            if user_id == own:
                raise InvalidUserId(YOURSELF)
            if user_id == self._peer_id:
                raise InvalidUserId(PEER_FOLLOWS.format(peer=self._peer_name))
            chosen.append(user_id)
        chosen = list(dict.fromkeys(chosen))
        checks = [require_user(self._engine.session, user) for user in chosen]
        for user, outcome in zip(
            chosen, await asyncio.gather(*checks, return_exceptions=True), strict=True
        ):
            if isinstance(outcome, BaseException):
                self._wrong = user
                raise outcome
        self._wrong = ""
        self.people = chosen
        self.message = self.message_edit.text().strip()
        self._set_busy(False)
        self.accept()

    def _show_error(self, text: str) -> None:
        """As the base, but only the wrong entry is selected, to type over it."""
        super()._show_error(text)
        at = self.query_edit.text().find(self._wrong) if self._wrong else -1
        if at >= 0:
            self.query_edit.setSelection(at, len(self._wrong))
