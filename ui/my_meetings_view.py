"""My meetings: the user's meetings, with Join, Copy link, Copy ID, Options and End.

A tab of the main window. Rows come from MyMeetingsModel (engine events);
every action is a button, a context-menu entry and, for the common ones, a key:
Enter joins, Ctrl+C copies the link, the Menu key or Shift+F10 opens the menu.
Scheduling and calendar export belong to other parts: they plug in through
``set_schedule_handler`` and ``set_export_handler`` (hidden until set).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QContextMenuEvent, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.errors import ConferoError
from engine.meeting_summary_models import ConferenceSummary
from ui.bridge import EngineBridge
from ui.item_menus import menu_target
from ui.meeting_options_dialog import MeetingOptionsDialog
from ui.my_meetings_delegate import MyMeetingsDelegate
from ui.my_meetings_model import MeetingRole, MyMeetingsModel
from ui.tasks import TaskGroup

if TYPE_CHECKING:
    from engine.engine import Engine

log = logging.getLogger(__name__)

EMPTY_TEXT = "No meetings yet.\nMeet Now (Ctrl+M) starts one."
EMPTY_PAST_TEXT = "No upcoming meetings.\nTick “Show past meetings” to see the ones that ended."
END_FAILED = "The meeting could not be ended: {}"
END_QUESTION = "End “{}” for everyone?"
END_DETAIL = "Everyone in it is removed, and nobody can join it again."
END_PERSONAL_DETAIL = (
    "Everyone in it is removed. Your personal meeting stays: its ID, link and planned "
    "times keep working."
)
EXPORT_TIP = "Save the meeting as a calendar file"
EXPORT_UNSCHEDULED_TIP = "Only a meeting with a start and end time can go in a calendar"

ScheduleHandler = Callable[[], None]
ExportHandler = Callable[[ConferenceSummary], None]


class MeetingListView(QListView):
    """The list itself: Enter joins, Ctrl+C copies the link, the menu key opens actions."""

    #: Join the meeting of this row.
    join_requested = Signal(QModelIndex)
    #: Copy the link of this row.
    copy_link_requested = Signal(QModelIndex)
    #: Show the actions of this row at a global point.
    menu_requested = Signal(QModelIndex, object)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        index = self.currentIndex()
        if index.isValid() and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.join_requested.emit(index)
            event.accept()
            return
        if index.isValid() and event.matches(QKeySequence.StandardKey.Copy):
            self.copy_link_requested.emit(index)
            event.accept()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        index, where = menu_target(self, event)
        if not index.isValid():
            event.ignore()
            return
        self.setCurrentIndex(index)
        self.menu_requested.emit(index, where)
        event.accept()


class MyMeetingsView(QWidget):
    """The My meetings tab: list, "Show past meetings", and the actions on a meeting."""

    #: Join (or open, when already in it) the meeting with this room ID.
    join_requested = Signal(str)
    #: Something to tell the user in passing ("Link copied").
    status_message = Signal(str)
    #: An action failed; the text says why.
    problem = Signal(str)

    def __init__(self, engine: Engine, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._tasks = TaskGroup()
        self._schedule_handler: ScheduleHandler | None = None
        self._export_handler: ExportHandler | None = None
        self.last_menu: QMenu | None = None
        self.confirm_box: QMessageBox | None = None
        self.options_dialog: MeetingOptionsDialog | None = None
        self.model = MyMeetingsModel(bridge, self)
        self._build()
        self._connect_signals()
        self.model.sync_with(engine.my_meetings.summaries(include_expired=True))
        self._update_empty_state()
        self._update_actions()

    # -- construction ------------------------------------------------------------

    def _build(self) -> None:
        self.show_past_check = QCheckBox("Show &past meetings", self)
        self.show_past_check.setAccessibleName("Show past meetings")
        self.show_past_check.setToolTip("Also list meetings that ended or whose time has passed")
        self.schedule_button = QPushButton("Schedule…", self)
        self.schedule_button.setAccessibleName("Schedule a meeting")
        self.schedule_button.setToolTip("Plan a meeting for later and invite people to it")
        self.schedule_button.setVisible(False)  # until a scheduler is plugged in

        self.list_view = MeetingListView(self)
        self.list_view.setObjectName("myMeetingsList")
        self.list_view.setModel(self.model)
        self.list_view.setItemDelegate(MyMeetingsDelegate(self.list_view))
        self.list_view.setAccessibleName("My meetings")
        self.list_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list_view.setUniformItemSizes(True)
        self.list_view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)

        self.empty_label = QLabel(EMPTY_TEXT, self)
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAccessibleName("No meetings")

        self.join_action = self._action("&Join", "Join the selected meeting (Enter)", "Join")
        self.copy_link_action = self._action(
            "Copy &link", "Copy the selected meeting's link (Ctrl+C)", "Copy link"
        )
        self.copy_id_action = self._action(
            "Copy meeting &ID", "Copy the selected meeting's 7-digit ID", "Copy ID"
        )
        self.options_action = self._action(
            "Edit &options…",
            "Change the subject, who gets in directly and who presents (presenters only)",
            "Edit options",
        )
        self.export_action = self._action(
            "E&xport to calendar (.ics)…", EXPORT_TIP, "Export to calendar"
        )
        self.export_action.setVisible(False)  # until an exporter is plugged in
        self.end_action = self._action(
            "&End meeting for everyone…",
            "Remove everyone and close the meeting for good (organizer only)",
            "End meeting for everyone",
        )

        self.join_button = QPushButton("Join", self)
        self.join_button.setAccessibleName("Join")
        self.join_button.setToolTip("Join the selected meeting (Enter)")
        self.copy_link_button = QPushButton("Copy link", self)
        self.copy_link_button.setAccessibleName("Copy link")
        self.copy_link_button.setToolTip("Copy the selected meeting's link (Ctrl+C)")
        self.more_button = QToolButton(self)
        self.more_button.setText("More")
        self.more_button.setAccessibleName("More actions")
        self.more_button.setToolTip("Copy ID, Edit options, End meeting for everyone")
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.more_menu = QMenu(self.more_button)
        self.more_menu.setAccessibleName("More actions")
        for action in self._row_actions()[2:]:
            self.more_menu.addAction(action)
        self.more_button.setMenu(self.more_menu)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.show_past_check)
        top.addStretch(1)
        top.addWidget(self.schedule_button)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addStretch(1)
        bottom.addWidget(self.copy_link_button)
        bottom.addWidget(self.more_button)
        bottom.addWidget(self.join_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(8)
        column.addLayout(top)
        column.addWidget(self.list_view, 1)
        column.addWidget(self.empty_label, 1)
        column.addLayout(bottom)
        self.setTabOrder(self.show_past_check, self.list_view)
        self.setTabOrder(self.list_view, self.copy_link_button)
        self.setTabOrder(self.copy_link_button, self.more_button)
        self.setTabOrder(self.more_button, self.join_button)

    def _action(self, text: str, tooltip: str, name: str) -> QAction:
        action = QAction(text, self)
        action.setToolTip(tooltip)
        action.setStatusTip(tooltip)
        action.setObjectName(name)
        return action

    def _row_actions(self) -> list[QAction]:
        return [
            self.join_action,
            self.copy_link_action,
            self.copy_id_action,
            self.options_action,
            self.export_action,
            self.end_action,
        ]

    def _connect_signals(self) -> None:
        self.show_past_check.toggled.connect(self._on_show_past_toggled)
        self.schedule_button.clicked.connect(self._on_schedule_clicked)
        self.list_view.activated.connect(self._on_join_index)
        self.list_view.join_requested.connect(self._on_join_index)
        self.list_view.copy_link_requested.connect(lambda _i: self.copy_link_action.trigger())
        self.list_view.menu_requested.connect(self._on_menu_requested)
        self.list_view.selectionModel().currentChanged.connect(self._update_actions)
        self.join_button.clicked.connect(self.join_action.trigger)
        self.copy_link_button.clicked.connect(self.copy_link_action.trigger)
        self.join_action.triggered.connect(lambda: self._on_join_index(self.current_index()))
        self.copy_link_action.triggered.connect(self._on_copy_link)
        self.copy_id_action.triggered.connect(self._on_copy_id)
        self.options_action.triggered.connect(self._on_options)
        self.export_action.triggered.connect(self._on_export)
        self.end_action.triggered.connect(self._on_end)
        for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset):
            signal.connect(self._update_empty_state)
            signal.connect(self._update_actions)
        self.model.dataChanged.connect(self._update_actions)

    # -- hooks for other parts ---------------------------------------------------

    def set_schedule_handler(self, handler: ScheduleHandler | None) -> None:
        """What "Schedule…" does (the scheduling dialog); hidden while None."""
        self._schedule_handler = handler
        self.schedule_button.setVisible(handler is not None)

    def set_export_handler(self, handler: ExportHandler | None) -> None:
        """What "Export to calendar (.ics)…" does with a meeting; hidden while None."""
        self._export_handler = handler
        self.export_action.setVisible(handler is not None)

    # -- reading -----------------------------------------------------------------

    def current_index(self) -> QModelIndex:
        index = self.list_view.currentIndex()
        return index if index.isValid() else QModelIndex()

    def current_summary(self) -> ConferenceSummary | None:
        index = self.current_index()
        summary = index.data(MeetingRole.SUMMARY) if index.isValid() else None
        return summary if isinstance(summary, ConferenceSummary) else None

    def select(self, room_id: str) -> None:
        index = self.model.index_of(room_id)
        if index.isValid():
            self.list_view.setCurrentIndex(index)

    # -- slots -------------------------------------------------------------------

    def _on_show_past_toggled(self, checked: bool) -> None:
        current = self.current_summary()
        self.model.set_show_past(checked)
        if current is not None:
            self.select(current.room_id)

    def _on_schedule_clicked(self) -> None:
        if self._schedule_handler is not None:
            self._schedule_handler()

    def _on_join_index(self, index: QModelIndex) -> None:
        summary = index.data(MeetingRole.SUMMARY) if index.isValid() else None
        if isinstance(summary, ConferenceSummary) and not summary.ended:
            self.join_requested.emit(summary.room_id)

    def _on_copy_link(self) -> None:
        summary = self.current_summary()
        if summary is not None:
            QGuiApplication.clipboard().setText(summary.link)
            self.status_message.emit(f"Link of “{summary.subject}” copied")

    def _on_copy_id(self) -> None:
        summary = self.current_summary()
        if summary is not None and summary.conference_id:
            QGuiApplication.clipboard().setText(summary.conference_id)
            self.status_message.emit(f"Meeting ID {summary.conference_id} copied")

    def _on_options(self) -> None:
        summary = self.current_summary()
        details = self._engine.conferences.details(summary.room_id) if summary else None
        if details is None or not details.can_change_options:
            return
        dialog = MeetingOptionsDialog(self._engine, details, self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.options_dialog = dialog
        dialog.open()

    def _on_export(self) -> None:
        summary = self.current_summary()
        if summary is not None and summary.start_ms is not None and self._export_handler:
            self._export_handler(summary)

    def _on_end(self) -> None:
        summary = self.current_summary()
        if summary is None or not summary.organized_by_me or summary.ended:
            return
        box = QMessageBox(self.window())
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("End meeting for everyone")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(END_QUESTION.format(summary.subject))
        box.setInformativeText(END_PERSONAL_DETAIL if summary.personal else END_DETAIL)
        end = box.addButton("End meeting", QMessageBox.ButtonRole.DestructiveRole)
        end.setAccessibleName("End meeting for everyone")
        end.setToolTip("Remove everyone and close the meeting for good")
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        cancel.setToolTip("Keep the meeting going")
        box.setDefaultButton(cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: self._end(summary) if button is end else None)
        self.confirm_box = box
        box.open()

    def _end(self, summary: ConferenceSummary) -> None:
        self.end_action.setEnabled(False)
        self.status_message.emit(f"Ending “{summary.subject}”…")
        self._tasks.spawn(self._end_meeting(summary))

    async def _end_meeting(self, summary: ConferenceSummary) -> None:
        try:
            await self._engine.my_meetings.end_for_everyone(summary.room_id)
        except ConferoError as exc:
            self.problem.emit(END_FAILED.format(exc.user_message))
        except Exception:
            log.exception("ending a meeting failed")
            self.problem.emit(END_FAILED.format("something went wrong."))
        else:
            self.status_message.emit(f"“{summary.subject}” ended for everyone")
        finally:
            self._update_actions()

    def _on_menu_requested(self, index: QModelIndex, where: object) -> None:
        summary = index.data(MeetingRole.SUMMARY)
        if not isinstance(summary, ConferenceSummary):
            return
        self._update_actions()
        menu = QMenu(self)
        menu.setAccessibleName(f"Actions for {summary.subject}")
        menu.setToolTipsVisible(True)
        for action in self._row_actions():
            menu.addAction(action)
            if action is self.copy_id_action:
                menu.addSeparator()
        menu.setDefaultAction(self.join_action)
        if self.last_menu is not None:
            self.last_menu.deleteLater()
        self.last_menu = menu
        menu.popup(where)  # type: ignore[arg-type]

    def _update_actions(self, *_args: object) -> None:
        summary = self.current_summary()
        details = self._engine.conferences.details(summary.room_id) if summary else None
        has = summary is not None
        self.join_action.setEnabled(has and not summary.ended)  # type: ignore[union-attr]
        self.copy_link_action.setEnabled(has)
        self.copy_id_action.setEnabled(has and bool(summary.conference_id))  # type: ignore[union-attr]
        self.options_action.setEnabled(details is not None and details.can_change_options)
        # A calendar entry needs times: a meeting without any is not offered.
        scheduled = has and summary.start_ms is not None and summary.end_ms is not None  # type: ignore[union-attr]
        self.export_action.setEnabled(scheduled)
        tip = EXPORT_TIP if scheduled or not has else EXPORT_UNSCHEDULED_TIP
        self.export_action.setToolTip(tip)
        self.export_action.setStatusTip(tip)
        self.end_action.setEnabled(
            has
            and summary.organized_by_me  # type: ignore[union-attr]
            and not summary.ended  # type: ignore[union-attr]
            and not self._tasks.pending()
        )
        self.join_button.setEnabled(self.join_action.isEnabled())
        self.copy_link_button.setEnabled(has)
        self.more_button.setEnabled(has)
        name = f" {summary.subject}" if summary else " the selected meeting"
        self.join_button.setAccessibleName(f"Join{name}")

    def _update_empty_state(self, *_args: object) -> None:
        empty = self.model.rowCount() == 0
        self.empty_label.setText(EMPTY_PAST_TEXT if self.model.hidden_count() else EMPTY_TEXT)
        self.empty_label.setVisible(empty)
        self.list_view.setVisible(not empty)
        if not empty and not self.list_view.currentIndex().isValid():
            self.list_view.setCurrentIndex(self.model.index(0, 0))

    def detach(self) -> None:
        self._tasks.cancel_all()
