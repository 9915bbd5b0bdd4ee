"""The roster panel of a meeting window: who is here, who waits, and what you may do.

A list of section headings and people (RosterModel + RosterDelegate), a lobby bar
while people wait (Admit and Deny for the selected person, Admit all), and a
context menu per row: Admit / Deny
on lobby rows; Make presenter, Make attendee and Remove from meeting on the
others (and Invite again after a declined or unanswered invitation), each
enabled as ``engine.conferences.permissions`` says, with its reason as the tooltip when
not. What the server refuses is shown under the list.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QContextMenuEvent,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from engine.conference_models import ConferenceDetails, Membership, Participant, Role
from engine.errors import ConferoError
from engine.invitation_models import RESENDABLE_STATES, InvitationState
from ui.bridge import EngineBridge
from ui.error_text import GENERIC_ERROR
from ui.form_widgets import ErrorLabel
from ui.invitation_text import (
    INVITE_AGAIN,
    INVITE_AGAIN_FAILED,
    INVITE_AGAIN_NOT_NOW,
    INVITE_AGAIN_TIP,
    failure_text,
)
from ui.item_menus import menu_target
from ui.meeting_text import denial_text, waiting_text
from ui.roster_delegate import RosterDelegate
from ui.roster_model import RosterModel, RosterRole, Section
from ui.tasks import TaskGroup

if TYPE_CHECKING:
    from engine.engine import Engine

log = logging.getLogger(__name__)


class ElidedLabel(QLabel):
    """One line of plain text drawn with "…" when narrow; text() and the tooltip keep it all."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_full_text(self, text: str) -> None:
        self.setText(text)
        self.setToolTip(text)
        self.setAccessibleName(text)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, rect.width()
        )
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(
            rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), shown
        )


class PeopleSelection(QItemSelectionModel):
    """Selects people only: heading rows are left out of every selection.

    The model leaves ``flags`` to Qt (a Python one would be called for every row
    on each layout of a 10,000-person list), so headings are "selectable"
    there; this keeps them out, by mouse, keyboard and accessibility alike.
    """

    def select(
        self,
        selection: QItemSelection | QModelIndex | QPersistentModelIndex,
        command: QItemSelectionModel.SelectionFlag,
    ) -> None:
        if isinstance(selection, QModelIndex | QPersistentModelIndex):
            index = QModelIndex(selection)
            selection = QItemSelection(index, index) if index.isValid() else QItemSelection()
        people = QItemSelection()
        for part in selection:
            for index in part.indexes():
                if not index.data(RosterRole.IS_SECTION):
                    people.select(index, index)
        super().select(people, command)


class RosterList(QListView):
    """The roster's rows. A heading shows or hides its people by click, Space, Enter,
    Left and Right (as a tree's branch would); the Menu key asks for a person's menu."""

    #: A context menu is wanted for a row: (index, global position).
    menu_requested = Signal(QModelIndex, QPoint)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Every row the same height: the layout then never asks the model for a
        # row's size, so a 10,000-person list lays out in C++ alone.
        self.setUniformItemSizes(True)
        self.clicked.connect(self._on_clicked)

    def roster(self) -> RosterModel:
        model = self.model()
        assert isinstance(model, RosterModel)
        return model

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        index, where = menu_target(self, event)
        if index.isValid():
            self.menu_requested.emit(index, where)
            event.accept()
        else:
            event.ignore()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        index = self.currentIndex()
        section = index.data(RosterRole.SECTION) if index.isValid() else None
        key = Qt.Key(event.key())
        if section is not None and not event.modifiers():
            model = self.roster()
            if index.data(RosterRole.IS_SECTION):
                expanded = model.is_expanded(section)
                wanted = {
                    Qt.Key.Key_Space: not expanded,
                    Qt.Key.Key_Return: not expanded,
                    Qt.Key.Key_Enter: not expanded,
                    Qt.Key.Key_Left: False,
                    Qt.Key.Key_Right: True,
                }.get(key)
                if wanted is not None:
                    model.set_expanded(section, wanted)
                    event.accept()
                    return
            elif key == Qt.Key.Key_Left:  # from a person to their section's heading
                self.setCurrentIndex(model.section_index(section))
                event.accept()
                return
        super().keyPressEvent(event)

    def _on_clicked(self, index: QModelIndex) -> None:
        if index.data(RosterRole.IS_SECTION):
            section = index.data(RosterRole.SECTION)
            self.roster().set_expanded(section, not self.roster().is_expanded(section))


class RosterPanel(QWidget):
    """The roster of one meeting, with the actions on its people."""

    #: An action on someone finished: (description, error text or "").
    action_finished = Signal(str, str)

    def __init__(
        self,
        engine: Engine,
        bridge: EngineBridge,
        room_id: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("rosterPanel")
        self._engine = engine
        self._bridge = bridge
        self._room_id = room_id
        self._tasks = TaskGroup()
        self._busy: set[str] = set()
        self._menu: QMenu | None = None
        #: Other parts add their items to a person's menu (the meeting's audio: Mute).
        self.menu_extensions: list[Callable[[QMenu, Participant], None]] = []
        details = engine.conferences.details(room_id)

        self.model = RosterModel(
            room_id,
            bridge,
            engine.conferences.participants(room_id),
            show_lobby=bool(details and details.can_admit),
            parent=self,
        )
        self.model.set_own_presence(engine.presences.own_presence)
        for invitation in engine.invitations.invitations(room_id):
            self.model.set_invitation(invitation)
        self.view = RosterList(self)
        self.view.setObjectName("roster")
        self.view.setModel(self.model)
        old_selection = self.view.selectionModel()
        self.view.setSelectionModel(PeopleSelection(self.model, self.view))
        old_selection.deleteLater()
        self.delegate = RosterDelegate(self.view)
        self.view.setItemDelegate(self.delegate)
        self.view.setMouseTracking(True)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setAccessibleName("Participants")
        self.view.setAccessibleDescription(
            "People in the meeting by role, under section headings. Space on a heading "
            "shows or hides its people; the Menu key on a person opens their actions."
        )
        self.view.setToolTip("")

        self.lobby_label = ElidedLabel(self)
        self.admit_all_button = QPushButton("Admit all", self)
        self.admit_all_button.setAccessibleName("Admit everyone waiting in the lobby")
        self.admit_all_button.setToolTip("Let everyone waiting in the lobby in (Ctrl+Shift+A)")
        self.admit_all_button.setShortcut(QKeySequence("Ctrl+Shift+A"))
        # Admit and Deny for the selected lobby row: the row's painted buttons are
        # not in the accessibility tree (its items offer only "select").
        self.admit_button = QPushButton("Admit", self)
        self.deny_button = QPushButton("Deny", self)
        self._lobby_bar = QWidget(self)
        self._lobby_bar.setObjectName("lobbyBar")
        # The count on its own line above the buttons: beside them, a narrow
        # roster wrapped it word by word.
        bar = QVBoxLayout(self._lobby_bar)
        bar.setContentsMargins(6, 4, 4, 4)
        bar.setSpacing(4)
        bar.addWidget(self.lobby_label)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        buttons.addWidget(self.admit_button)
        buttons.addWidget(self.deny_button)
        buttons.addStretch(1)
        buttons.addWidget(self.admit_all_button)
        bar.addLayout(buttons)

        self.error_label = ErrorLabel(self)
        self.error_label.setContentsMargins(6, 2, 6, 4)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._lobby_bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.error_label)
        self._connect_signals()
        self._update_lobby_bar()

    def _connect_signals(self) -> None:
        self.view.menu_requested.connect(self._on_menu_requested)
        self.delegate.admit_clicked.connect(self.admit)
        self.delegate.deny_clicked.connect(self.deny)
        self.admit_all_button.clicked.connect(self._on_admit_all_clicked)
        self.admit_button.clicked.connect(self._on_admit_selected_clicked)
        self.deny_button.clicked.connect(self._on_deny_selected_clicked)
        self.view.selectionModel().selectionChanged.connect(self._update_lobby_bar)
        self.model.rowsMoved.connect(self._update_lobby_bar)
        self.model.lobby_count_changed.connect(self._update_lobby_bar)
        self.model.rowsInserted.connect(self._update_lobby_bar)
        self.model.rowsRemoved.connect(self._update_lobby_bar)

    # -- public API ---------------------------------------------------------

    @property
    def room_id(self) -> str:
        return self._room_id

    @property
    def last_menu(self) -> QMenu | None:
        """The context menu shown last (for tests and accessibility checks)."""
        return self._menu if self._menu is not None and shiboken6.isValid(self._menu) else None

    def detach(self) -> None:
        """Stop following the engine (the window is closing)."""
        self._tasks.cancel_all()
        self.model.detach()

    async def wait_idle(self) -> None:
        await self._tasks.wait_idle()

    def build_menu(self, index: QModelIndex) -> QMenu | None:
        """The context menu of a person's row, actions enabled as permitted."""
        person = index.data(RosterRole.PARTICIPANT)
        if not isinstance(person, Participant):
            return None
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        menu.setAccessibleName(f"Actions for {person.display_name or person.user_id}")
        if index.data(RosterRole.SECTION) is Section.LOBBY:
            self._add(
                menu,
                "&Admit",
                "Let them into the meeting",
                True,
                "",
                lambda: self.admit(person.user_id),
            )
            self._add(
                menu, "&Deny", "Don't let them in", True, "", lambda: self.deny(person.user_id)
            )
            return menu
        invitation = self.model.invitation(person.user_id)
        if invitation is not None and person.membership is not Membership.JOINED:
            self._add(
                menu,
                INVITE_AGAIN,
                INVITE_AGAIN_TIP,
                invitation.state in RESENDABLE_STATES,
                INVITE_AGAIN_NOT_NOW,
                lambda: self.invite_again(person.user_id),
            )
            menu.addSeparator()
        allowed = self._engine.conferences.permissions(self._room_id, person.user_id)
        reason = denial_text(allowed.denial)
        self._add(
            menu,
            "Make &presenter",
            "They can share, admit people and change roles",
            allowed.can_make_presenter,
            reason,
            lambda: self.set_role(person.user_id, Role.PRESENTER),
        )
        self._add(
            menu,
            "Make &attendee",
            "They can watch and chat",
            allowed.can_make_attendee,
            reason,
            lambda: self.set_role(person.user_id, Role.ATTENDEE),
        )
        menu.addSeparator()
        remove_text = (
            "&Cancel invitation"
            if person.membership is Membership.INVITED
            else "&Remove from meeting"
        )
        self._add(
            menu,
            remove_text,
            "Take them out of the meeting",
            allowed.can_remove,
            reason,
            lambda: self.remove(person.user_id),
        )
        for extend in self.menu_extensions:
            extend(menu, person)
        return menu

    @staticmethod
    def _add(
        menu: QMenu,
        text: str,
        tip: str,
        enabled: bool,
        reason: str,
        slot: Callable[[], None],
    ) -> QAction:
        action = menu.addAction(text)
        action.setEnabled(enabled)
        action.setToolTip(tip if enabled or not reason else reason)
        action.setStatusTip(action.toolTip())
        action.triggered.connect(slot)
        return action

    # -- actions ------------------------------------------------------------

    def admit(self, user_id: str) -> None:
        name = self._name(user_id)
        self._start(
            user_id,
            f"{name} could not be let in",
            lambda: self._engine.conferences.admit(self._room_id, user_id),
        )

    def deny(self, user_id: str) -> None:
        name = self._name(user_id)
        self._start(
            user_id,
            f"{name} could not be turned away",
            lambda: self._engine.conferences.deny(self._room_id, user_id),
        )

    def admit_all(self) -> None:
        self._start(
            "*lobby*",
            "The people in the lobby could not be let in",
            lambda: self._engine.conferences.admit_all(self._room_id),
        )

    def set_role(self, user_id: str, role: Role) -> None:
        name = self._name(user_id)
        what = "a presenter" if role is Role.PRESENTER else "an attendee"
        self._start(
            user_id,
            f"{name} could not be made {what}",
            lambda: self._engine.conferences.set_role(self._room_id, user_id, role),
        )

    def remove(self, user_id: str) -> None:
        name = self._name(user_id)
        self._start(
            user_id,
            f"{name} could not be removed",
            lambda: self._engine.conferences.remove(self._room_id, user_id),
        )

    def invite_again(self, user_id: str) -> None:
        """Send a declined or unanswered invitation again."""
        name = self._name(user_id)
        self._start(user_id, INVITE_AGAIN_FAILED.format(name), lambda: self._resend(user_id))

    async def _resend(self, user_id: str) -> None:
        sent = await self._engine.invitations.resend(self._room_id, user_id)
        if sent.state is InvitationState.FAILED:
            raise ConferoError(failure_text(sent.failure, sent.detail))

    def _start(self, key: str, failure: str, call: Callable[[], Awaitable[object]]) -> None:
        if key in self._busy:
            return  # the same action is still on its way
        self._busy.add(key)
        self.error_label.clear_error()
        self._tasks.spawn(self._run(key, failure, call))

    async def _run(self, key: str, failure: str, call: Callable[[], Awaitable[object]]) -> None:
        error = ""
        try:
            await call()
        except ConferoError as exc:
            error = f"{failure}: {exc.user_message}"
        except Exception:
            log.exception("roster action failed")
            error = f"{failure}. {GENERIC_ERROR}"
        finally:
            self._busy.discard(key)
        if not shiboken6.isValid(self):
            return
        if error:
            self.error_label.show_error(error)
        self.action_finished.emit(failure, error)

    def _name(self, user_id: str) -> str:
        person = self.model.participant(user_id)
        return (person.display_name if person else "") or user_id

    # -- slots --------------------------------------------------------------

    def _on_menu_requested(self, index: QModelIndex, where: QPoint) -> None:
        menu = self.build_menu(index)
        if menu is None:
            return
        if self._menu is not None and shiboken6.isValid(self._menu):
            self._menu.deleteLater()
        self._menu = menu
        menu.popup(where)

    def _on_admit_all_clicked(self) -> None:
        self.admit_all()

    def _on_admit_selected_clicked(self) -> None:
        if person := self.selected_waiting():
            self.admit(person.user_id)

    def _on_deny_selected_clicked(self) -> None:
        if person := self.selected_waiting():
            self.deny(person.user_id)

    def selected_waiting(self) -> Participant | None:
        """The person selected in the Lobby section, if any.

        Selection, not the current row: an assistive tool's "Toggle" selects.
        """
        for index in self.view.selectionModel().selectedIndexes():
            person = index.data(RosterRole.PARTICIPANT)
            if index.data(RosterRole.SECTION) is Section.LOBBY and isinstance(person, Participant):
                return person
        return None

    def _update_lobby_bar(self, *_args: object) -> None:
        waiting = self.model.count(Section.LOBBY) if self.model.lobby_shown else 0
        self.lobby_label.set_full_text(waiting_text(waiting))
        self._lobby_bar.setVisible(waiting > 0)
        self.admit_all_button.setEnabled(waiting > 0)
        person = self.selected_waiting() if waiting else None
        name = (person.display_name or person.user_id) if person else ""
        for button, verb, tip in (
            (self.admit_button, "Admit", "Let {} into the meeting"),
            (self.deny_button, "Deny", "Don't let {} in"),
        ):
            # Shown only with someone selected: the bar stays narrow otherwise.
            button.setVisible(person is not None)
            button.setEnabled(person is not None)
            button.setAccessibleName(f"{verb} {name}" if name else f"{verb} the selected person")
            button.setToolTip(
                tip.format(name) if name else f"Select someone in the lobby first, then {verb}"
            )

    def apply_details(self, details: ConferenceDetails | None) -> None:
        """Follow the meeting's details (whether I can admit)."""
        self.model.set_lobby_shown(bool(details and details.can_admit))
        self._update_lobby_bar()
