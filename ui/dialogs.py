"""Dialogs of the main window: start a new conversation, add a colleague's account.

``PersonPickerDialog`` (type a Matrix ID or search the directory) is shared with
the meeting's Invite dialog.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.errors import ConferoError, InvalidUserId, UnknownUser
from engine.ids import validate_localpart
from engine.models import UserSummary
from ui import plain_text, theme
from ui.form_widgets import BusyIndicator, ErrorLabel, make_line_edit
from ui.tasks import TaskGroup

if TYPE_CHECKING:
    from engine.engine import Engine
    from engine.homeserver import EmbeddedHomeserver

log = logging.getLogger(__name__)

#: How long typing must pause before the user directory is searched.
SEARCH_DELAY_MS = 300
_USER_ID_ROLE = Qt.ItemDataRole.UserRole + 1


class PersonPickerDialog(QDialog):
    """Type a Matrix ID or search the user directory, then do something with that person.

    Subclasses set the texts and implement ``_act``.
    """

    #: A directory search finished (number of results); for tests and screen readers.
    search_finished = Signal(int)

    TITLE = "Choose someone"
    INTRO = "Who?"
    ACTION = "OK"
    ACTION_TIP = "Go ahead with this person (Enter)"
    BUSY = "Working…"
    FAILURE = "That did not work. Please try again."

    def __init__(self, engine: Engine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._search_generation = 0
        self._tasks = TaskGroup()
        self.setWindowTitle(self.TITLE)
        self.setMinimumWidth(440)

        intro = QLabel(self.INTRO, self)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        self.intro_label = intro
        self.query_edit = make_line_edit(
            self,
            "Matrix ID or name",
            placeholder="@name:example.org, or a name to search for",
            tooltip="Type a full Matrix ID, or part of a name to search the user directory",
        )
        intro.setBuddy(self.query_edit)
        self.results = QListWidget(self)
        self.results.setAccessibleName("People found")
        self.results.setToolTip("People found in the user directory; double-click to start")
        self.results.setMinimumHeight(140)
        self.results.setUniformItemSizes(True)
        self.hint_label = QLabel(self)
        self.hint_label.setTextFormat(Qt.TextFormat.PlainText)
        self.hint_label.setWordWrap(True)
        self.hint_label.setAccessibleName("Search status")
        self.error_label = ErrorLabel(self)
        self.busy = BusyIndicator(self)

        self.buttons = QDialogButtonBox(self)
        self.start_button = QPushButton(self.ACTION, self)
        self.start_button.setAccessibleName(self.ACTION)
        self.start_button.setToolTip(self.ACTION_TIP)
        self.start_button.setDefault(True)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName("Cancel")
        self.buttons.addButton(self.start_button, QDialogButtonBox.ButtonRole.AcceptRole)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.query_edit)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.hint_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.busy)
        layout.addWidget(self.buttons)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self.setTabOrder(self.query_edit, self.results)
        self.query_edit.setFocus()
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.query_edit.textEdited.connect(self._on_query_edited)
        self._search_timer.timeout.connect(self._on_search_due)
        self.results.currentItemChanged.connect(self._on_result_chosen)
        self.results.itemActivated.connect(self._on_result_activated)
        self.buttons.accepted.connect(self._on_start_requested)
        self.buttons.rejected.connect(self.reject)

    # -- searching ---------------------------------------------------------------

    def _on_query_edited(self, text: str) -> None:
        self.error_label.clear_error()
        if text.strip():
            self._search_timer.start()
        else:
            self._search_timer.stop()
            self._search_generation += 1
            self.results.clear()
            self.hint_label.clear()

    def done(self, result: int) -> None:
        """Closing the dialog abandons the search or start still running."""
        self._search_timer.stop()
        self._tasks.cancel_all()
        super().done(result)

    def _on_search_due(self) -> None:
        term = self.query_edit.text().strip()
        if term:
            self._search_generation += 1
            self._tasks.spawn(self._search(term, self._search_generation))

    async def _search(self, term: str, generation: int) -> None:
        # Here, not at the top: it imports matrix-nio, which the engine has loaded by now.
        from engine.user_directory import search_users

        try:
            found = await search_users(self._engine.session, term)
        except ConferoError as exc:
            if generation == self._search_generation:
                self.hint_label.setText(f"Search is not available: {exc.user_message}")
            return
        except Exception:
            log.exception("user directory search failed")
            return
        if generation != self._search_generation:
            return  # a newer search is on its way
        self._show_results(found)

    def _show_results(self, found: list[UserSummary]) -> None:
        self.results.clear()
        for summary in found:
            if summary.display_name and summary.display_name != summary.user_id:
                text = f"{summary.display_name}  ({summary.user_id})"
            else:
                text = summary.user_id
            item = QListWidgetItem(theme.icon("person"), text)
            item.setData(_USER_ID_ROLE, summary.user_id)
            item.setToolTip(plain_text.tooltip(f"{summary.display_name}\n{summary.user_id}"))
            self.results.addItem(item)
        if found:
            self.hint_label.setText(
                "1 person found." if len(found) == 1 else f"{len(found)} people found."
            )
        else:
            self.hint_label.setText(
                "No one found in the directory. You can still type a full Matrix ID."
            )
        self.search_finished.emit(len(found))

    def _on_result_chosen(self, item: QListWidgetItem | None, _previous: object = None) -> None:
        if item is not None:
            self.query_edit.setText(str(item.data(_USER_ID_ROLE)))
            self.error_label.clear_error()

    def _on_result_activated(self, item: QListWidgetItem) -> None:
        self._on_result_chosen(item)
        self._on_start_requested()

    # -- starting ----------------------------------------------------------------

    def is_busy(self) -> bool:
        return self.busy.isVisibleTo(self)

    def _on_start_requested(self) -> None:
        if self.is_busy():
            return
        text = self.query_edit.text().strip()
        if not text:
            self.error_label.show_error("Type a Matrix ID such as @name:example.org.")
            self.query_edit.setFocus()
            return
        self._search_timer.stop()
        self._search_generation += 1  # a search still under way no longer matters
        self._set_busy(True)
        self._tasks.spawn(self._start(text))

    async def _start(self, text: str) -> None:
        try:
            await self._act(text)
        except (InvalidUserId, UnknownUser) as exc:
            self._show_error(exc.user_message)
        except ConferoError as exc:
            self._show_error(exc.user_message)
        except Exception:
            log.exception("%s failed", type(self).__name__)
            self._show_error(self.FAILURE)

    async def _act(self, user: str) -> None:
        """Do the dialog's work for ``user`` (as typed); raise ConferoError to show an error."""
        raise NotImplementedError

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.query_edit, self.results, self.start_button):
            widget.setEnabled(not busy)
        if busy:
            self.error_label.clear_error()
            self.busy.start(self.BUSY)
        else:
            self.busy.stop()

    def _show_error(self, text: str) -> None:
        self._set_busy(False)
        self.error_label.show_error(text)
        self.query_edit.setFocus()
        self.query_edit.selectAll()


class NewConversationDialog(PersonPickerDialog):
    """Type a Matrix ID or search the user directory, then start a direct conversation."""

    #: The conversation exists now (room ID); the dialog has closed.
    conversation_started = Signal(str)

    TITLE = "New conversation"
    INTRO = "Who do you want to talk to?"
    ACTION = "Start conversation"
    ACTION_TIP = "Open a conversation with this person (Enter)"
    BUSY = "Starting the conversation…"
    FAILURE = "The conversation could not be started."

    async def _act(self, user: str) -> None:
        room_id = await self._engine.conversations.start_direct_conversation(user)
        self._set_busy(False)
        self.conversation_started.emit(room_id)
        self.accept()


class AddColleagueDialog(QDialog):
    """Create an account for a colleague on the meeting server of this computer."""

    #: An account was created (its user ID).
    account_created = Signal(str)

    def __init__(self, homeserver: EmbeddedHomeserver, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._homeserver = homeserver
        self._tasks = TaskGroup()
        self.setWindowTitle("Add a colleague's account")
        self.setMinimumWidth(460)

        intro = QLabel(
            "Create an account on this computer's meeting server for a colleague. "
            "Afterwards, give them the user name, the password and the server address.",
            self,
        )
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        self.display_name_edit = make_line_edit(
            self,
            "Colleague's display name",
            placeholder="Their name as others will see it",
            tooltip="The name shown to the people they talk to",
        )
        self.user_edit = make_line_edit(
            self,
            "Colleague's user name",
            placeholder="letters, digits and . _ -",
            tooltip="The name they sign in with",
        )
        self.password_edit = make_line_edit(
            self, "Password", tooltip="A password for the new account", password=True
        )
        self.confirm_edit = make_line_edit(
            self, "Confirm password", tooltip="Type the password again", password=True
        )
        form = QFormLayout()
        form.addRow("&Display name:", self.display_name_edit)
        form.addRow("&User name:", self.user_edit)
        form.addRow("&Password:", self.password_edit)
        form.addRow("&Confirm password:", self.confirm_edit)

        self.error_label = ErrorLabel(self)
        self.success_label = QLabel(self)
        self.success_label.setTextFormat(Qt.TextFormat.PlainText)
        self.success_label.setWordWrap(True)
        self.success_label.setAccessibleName("Result")
        self.success_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.success_label.hide()
        self.busy = BusyIndicator(self)

        self.buttons = QDialogButtonBox(self)
        self.create_button = QPushButton("Create account", self)
        self.create_button.setAccessibleName("Create account")
        self.create_button.setToolTip("Create the account (Enter)")
        self.create_button.setDefault(True)
        self.buttons.addButton(self.create_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setAccessibleName("Close")

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.success_label)
        layout.addWidget(self.busy)
        layout.addWidget(self.buttons)
        self.display_name_edit.setFocus()
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.buttons.accepted.connect(self._on_create_requested)
        self.buttons.rejected.connect(self.reject)

    def is_busy(self) -> bool:
        return self.busy.isVisibleTo(self)

    def done(self, result: int) -> None:
        self._tasks.cancel_all()
        super().done(result)

    def _on_create_requested(self) -> None:
        if self.is_busy():
            return
        self.success_label.hide()
        password = self.password_edit.text()
        try:
            localpart = validate_localpart(self.user_edit.text())
        except InvalidUserId as exc:
            self._show_error(exc.user_message, self.user_edit)
            return
        if not password:
            self._show_error("Choose a password.", self.password_edit)
            return
        if password != self.confirm_edit.text():
            self._show_error("The two passwords are not the same.", self.confirm_edit)
            return
        display_name = self.display_name_edit.text().strip() or None
        self._set_busy(True)
        self._tasks.spawn(self._create(localpart, password, display_name))

    async def _create(self, localpart: str, password: str, display_name: str | None) -> None:
        from engine.homeserver import HomeserverError

        try:
            user_id = await self._homeserver.register_user(
                localpart, password, displayname=display_name
            )
        except HomeserverError as exc:
            self._show_error(exc.user_message, self.user_edit)
            return
        except Exception:
            log.exception("registering a colleague failed")
            self._show_error("The account could not be created.", self.user_edit)
            return
        self._set_busy(False)
        for edit in (self.display_name_edit, self.user_edit, self.password_edit, self.confirm_edit):
            edit.clear()
        palette = self.success_label.palette()
        palette.setColor(self.success_label.foregroundRole(), theme.success_colour(palette))
        self.success_label.setPalette(palette)
        self.success_label.setText(
            f"Created the account {user_id}. Your colleague chooses “Sign in to a server” "
            f"in Confero, enters {self._homeserver.base_url} as the address, and signs in "
            "with that user name and the password you chose."
        )
        self.success_label.show()
        self.account_created.emit(user_id)
        self.display_name_edit.setFocus()

    def _set_busy(self, busy: bool) -> None:
        for widget in (
            self.display_name_edit,
            self.user_edit,
            self.password_edit,
            self.confirm_edit,
            self.create_button,
        ):
            widget.setEnabled(not busy)
        if busy:
            self.error_label.clear_error()
            self.busy.start("Creating the account…")
        else:
            self.busy.stop()

    def _show_error(self, text: str, field: QWidget) -> None:
        self._set_busy(False)
        self.error_label.show_error(text)
        field.setFocus()
