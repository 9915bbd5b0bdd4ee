"""Schedule a meeting…: subject, when, who gets in, who presents, whom to invite.

The people part is Invite…'s (ui/invite_dialog.py): type a Matrix ID or a name,
Enter adds the person. **Schedule** creates the meeting now with its times
(engine Scheduling) and sends the invitations with the message; then the
dialog shows the meeting's link and ID with Copy buttons, and how each
invitation went. Times are edited in this computer's time zone, which the
dialog names; the engine gets them as aware datetimes.

**Use my personal meeting ID** schedules the time in the user's personal
meeting instead of a new one: people join with its permanent ID and link, and
its own options (who gets in, who presents) stay, so those fields are off.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QDateTime, Qt, QTimeZone, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QFrame,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.conference_models import AccessLevel, PresenterPolicy
from engine.invitation_models import ConferenceInvitation
from engine.meeting_schedule import to_ms
from ui.accessibility import announce
from ui.bridge import EngineBridge
from ui.form_widgets import make_line_edit
from ui.ics_export import export_ics
from ui.invite_dialog import InviteDialog
from ui.meeting_options_dialog import ACCESS_CHOICES, PRESENTER_CHOICES, SUBJECT_MAX

if TYPE_CHECKING:
    from engine.engine import Engine

DATE_TIME_FORMAT = "ddd d MMM yyyy  HH:mm"
DEFAULT_LENGTH_MIN = 30
PERSONAL_TIP = (
    "People join with your permanent meeting ID and link, the same every time, "
    "instead of a new ID for this meeting"
)
PERSONAL_NOTE = "Your personal meeting keeps its own options for who gets in and who presents."


def next_half_hour(now: QDateTime) -> QDateTime:
    """The next :00 or :30 after ``now`` (local time), seconds dropped."""
    time = now.time()
    minutes_on = 30 - time.minute() % 30
    start = now.addSecs(minutes_on * 60 - time.second())
    return start.addMSecs(-start.time().msec())


def aware(moment: QDateTime) -> datetime:
    """A QDateTime as the engine wants it: an aware datetime (UTC)."""
    return datetime.fromtimestamp(moment.toSecsSinceEpoch(), tz=UTC)


def zone_text() -> str:
    """This computer's time zone, the way the dialog names it."""
    zone = QTimeZone.systemTimeZone()
    now = QDateTime.currentDateTime()
    offset = zone.offsetFromUtc(now) // 60
    sign = "+" if offset >= 0 else "−"
    hours, minutes = divmod(abs(offset), 60)
    name = zone.displayName(now, QTimeZone.NameType.LongName) or str(zone.id(), "utf-8")
    return f"Times are in your time zone: {name} (UTC{sign}{hours:02d}:{minutes:02d})."


class ScheduleDialog(InviteDialog):
    """Schedules one meeting; after that it shows the link and ID to share."""

    #: The meeting was created (room ID).
    scheduled = Signal(str)

    TITLE = "Schedule a meeting"
    INTRO = (
        "Invite people (optional): type a Matrix ID or a name, and press Enter to add each "
        "person. They get an invitation with the time; those who accept get a reminder "
        "when it starts."
    )
    ACTION = "&Schedule"
    ACTION_TIP = "Create the meeting and send the invitations (Ctrl+Enter)"
    BUSY = "Scheduling the meeting…"
    FAILURE = "The meeting could not be scheduled."

    def __init__(
        self, engine: Engine, bridge: EngineBridge | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(engine, "", parent)
        self._bridge = bridge
        self.room_id = ""
        self.setMinimumWidth(520)
        self.invite_button.setAccessibleName("Schedule")
        self.invite_button.setText(self.ACTION)
        self.cancel_button.setText("Cancel")
        self.cancel_button.setAccessibleName("Cancel")
        self.cancel_button.setToolTip("Close without scheduling (Esc)")

        self.subject_edit = make_line_edit(
            self,
            "Subject",
            placeholder="What the meeting is about",
            tooltip="The meeting's name, shown in the invitation and to everyone in it",
        )
        self.subject_edit.setMaxLength(SUBJECT_MAX)
        start = next_half_hour(QDateTime.currentDateTime())
        self.start_edit = self._date_time_edit("Start", "When the meeting starts", start)
        self.end_edit = self._date_time_edit(
            "End", "When the meeting ends", start.addSecs(DEFAULT_LENGTH_MIN * 60)
        )
        self.zone_label = QLabel(zone_text(), self)
        self.zone_label.setTextFormat(Qt.TextFormat.PlainText)
        self.zone_label.setWordWrap(True)
        self.access_combo = self._choice_combo(
            "Who gets in directly", ACCESS_CHOICES, AccessLevel.INVITED
        )
        self.presenter_combo = self._choice_combo(
            "Who's a presenter", PRESENTER_CHOICES, PresenterPolicy.EVERYONE
        )
        self.personal_check = QCheckBox("Use m&y personal meeting ID", self)
        self.personal_check.setAccessibleName("Use my personal meeting ID")
        self.personal_check.setToolTip(PERSONAL_TIP)
        self.personal_check.setAccessibleDescription(PERSONAL_TIP)
        self.personal_note = QLabel(PERSONAL_NOTE, self)
        self.personal_note.setTextFormat(Qt.TextFormat.PlainText)
        self.personal_note.setWordWrap(True)
        self.personal_note.hide()
        form = QFormLayout()
        form.addRow("S&ubject:", self.subject_edit)
        form.addRow("S&tart:", self.start_edit)
        form.addRow("E&nd:", self.end_edit)
        form.addRow("", self.zone_label)
        form.addRow("", self.personal_check)
        form.addRow("", self.personal_note)
        form.addRow("Who gets in &directly:", self.access_combo)
        form.addRow("Who's a &presenter:", self.presenter_combo)
        self.result_box = self._result_box()
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertLayout(0, form)
        layout.insertSpacing(1, 8)  # the meeting above, the people below
        # A smaller search and list than Invite…'s: the form above needs the room.
        self.results.setMinimumHeight(60)
        self.results.setMaximumHeight(110)
        layout.insertWidget(layout.indexOf(self.error_label), self.result_box)

        self.setTabOrder(self.subject_edit, self.start_edit)
        self.setTabOrder(self.start_edit, self.end_edit)
        self.setTabOrder(self.end_edit, self.personal_check)
        self.setTabOrder(self.personal_check, self.access_combo)
        self.setTabOrder(self.access_combo, self.presenter_combo)
        self.setTabOrder(self.presenter_combo, self.query_edit)
        self._length_s = DEFAULT_LENGTH_MIN * 60
        self._start_ms = 0  # the scheduled start, to pick the occasion for the calendar
        self.personal_check.toggled.connect(self._on_personal_toggled)
        self.start_edit.dateTimeChanged.connect(self._on_start_changed)
        self.end_edit.dateTimeChanged.connect(self._on_end_changed)
        self.subject_edit.setFocus()

    # -- building -----------------------------------------------------------

    def _date_time_edit(self, name: str, tip: str, value: QDateTime) -> QDateTimeEdit:
        edit = QDateTimeEdit(value, self)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat(DATE_TIME_FORMAT)
        edit.setAccessibleName(name)
        edit.setToolTip(f"{tip}, in your time zone; arrow keys change the part under the cursor")
        return edit

    def _choice_combo(self, name: str, choices: dict, current: object) -> QComboBox:
        combo = QComboBox(self)
        combo.setAccessibleName(name)
        combo.view().setAccessibleName(f"{name}: choices")
        for value, (text, explanation) in choices.items():
            combo.addItem(text.replace("&", ""), value)
            combo.setItemData(combo.count() - 1, explanation, Qt.ItemDataRole.ToolTipRole)
        combo.setCurrentIndex(combo.findData(current))
        combo.currentIndexChanged.connect(lambda _: self._explain(combo))
        self._explain(combo)
        return combo

    @staticmethod
    def _explain(combo: QComboBox) -> None:
        explanation = str(combo.currentData(Qt.ItemDataRole.ToolTipRole) or "")
        combo.setToolTip(explanation)
        combo.setAccessibleDescription(explanation)

    def _result_box(self) -> QFrame:
        box = QFrame(self)
        box.setObjectName("scheduledBox")
        box.setFrameShape(QFrame.Shape.StyledPanel)
        box.setAccessibleName("The scheduled meeting")
        self.result_label = QLabel(box)
        self.result_label.setTextFormat(Qt.TextFormat.PlainText)
        self.result_label.setWordWrap(True)
        self.link_edit = QLineEdit(box)
        self.link_edit.setReadOnly(True)
        self.link_edit.setAccessibleName("Meeting link")
        self.link_edit.setToolTip("The link people use to join")
        self.id_edit = QLineEdit(box)
        self.id_edit.setReadOnly(True)
        self.id_edit.setAccessibleName("Meeting ID")
        self.id_edit.setToolTip("The 7-digit ID people can type in Join a meeting…")
        self.copy_link_button = QPushButton("Copy &link", box)
        self.copy_link_button.setAccessibleName("Copy the meeting link")
        self.copy_link_button.setToolTip("Copy the link to the clipboard")
        self.copy_link_button.setAutoDefault(False)
        self.copy_id_button = QPushButton("Copy &ID", box)
        self.copy_id_button.setAccessibleName("Copy the meeting ID")
        self.copy_id_button.setToolTip("Copy the meeting ID to the clipboard")
        self.copy_id_button.setAutoDefault(False)
        self.calendar_button = QPushButton("Add to &calendar…", box)
        self.calendar_button.setAccessibleName("Add to calendar")
        self.calendar_button.setToolTip("Save the meeting as an .ics file for your calendar app")
        self.calendar_button.setAutoDefault(False)
        grid = QGridLayout(box)
        grid.addWidget(self.result_label, 0, 0, 1, 3)
        link_label = QLabel("Link:", box)
        link_label.setBuddy(self.link_edit)
        id_label = QLabel("ID:", box)
        id_label.setBuddy(self.id_edit)
        grid.addWidget(link_label, 1, 0)
        grid.addWidget(self.link_edit, 1, 1)
        grid.addWidget(self.copy_link_button, 1, 2)
        grid.addWidget(id_label, 2, 0)
        grid.addWidget(self.id_edit, 2, 1)
        grid.addWidget(self.copy_id_button, 2, 2)
        grid.addWidget(self.calendar_button, 3, 2)
        grid.setColumnStretch(1, 1)
        self.copy_link_button.clicked.connect(lambda: self._copy(self.link_edit.text(), "Link"))
        self.copy_id_button.clicked.connect(lambda: self._copy(self.id_edit.text(), "Meeting ID"))
        self.calendar_button.clicked.connect(self._on_calendar_clicked)
        box.hide()
        return box

    def _on_calendar_clicked(self) -> None:
        entry = self._engine.scheduling.calendar_entry(self.room_id, self._start_ms)
        if entry is None:
            self.error_label.show_error("The meeting's times are not known yet. Try again.")
            return
        self._tasks.spawn(export_ics(self, entry))

    # -- the personal meeting -------------------------------------------------

    def _on_personal_toggled(self, on: bool) -> None:
        self.personal_note.setVisible(on)
        self._enable_options()
        if on:
            announce(self.personal_note, PERSONAL_NOTE)

    def _enable_options(self) -> None:
        """Who gets in and who presents: the personal meeting's own when it is used."""
        free = not self.personal_check.isChecked() and not self.is_busy() and not self.room_id
        self.access_combo.setEnabled(free)
        self.presenter_combo.setEnabled(free)

    # -- times ----------------------------------------------------------------

    def _on_start_changed(self, start: QDateTime) -> None:
        # Moving the start keeps the meeting's length, as calendars do.
        self.end_edit.blockSignals(True)
        self.end_edit.setDateTime(start.addSecs(self._length_s))
        self.end_edit.blockSignals(False)
        self.error_label.clear_error()

    def _on_end_changed(self, end: QDateTime) -> None:
        self._length_s = max(0, self.start_edit.dateTime().secsTo(end))
        self.error_label.clear_error()

    # -- scheduling -----------------------------------------------------------

    def _on_start_requested(self) -> None:
        if self.is_busy() or self.room_id:
            return
        if self.query_edit.text().strip():
            self.add_typed()
        if not self.subject_edit.text().strip():
            self.error_label.show_error("Give the meeting a subject.")
            self.subject_edit.setFocus()
            return
        if self.end_edit.dateTime() <= self.start_edit.dateTime():
            self.error_label.show_error("The meeting must end after it starts.")
            self.end_edit.setFocus()
            return
        self._search_timer.stop()
        self._search_generation += 1
        self._set_busy(True)
        self._tasks.spawn(self._start(""))

    async def _act(self, _user: str) -> None:
        people = self.pending()
        start = aware(self.start_edit.dateTime())
        room_id = await self._engine.scheduling.schedule(
            self.subject_edit.text(),
            start,
            aware(self.end_edit.dateTime()),
            self.access_combo.currentData(),
            self.presenter_combo.currentData(),
            people,
            self.message_edit.text(),
            use_personal_meeting=self.personal_check.isChecked(),
        )
        self._start_ms = to_ms(start)
        self.room_id = room_id
        self._set_busy(False)
        self._show_scheduled(room_id)
        results = [self._engine.invitations.invitation(room_id, person) for person in people]
        found: list[ConferenceInvitation] = [r for r in results if r is not None]
        if found:
            self._show_outcomes([r.invitee for r in found], found)
        self.scheduled.emit(room_id)

    def _show_scheduled(self, room_id: str) -> None:
        details = self._engine.conferences.details(room_id)
        when = self.start_edit.dateTime().toString(DATE_TIME_FORMAT)
        if self.personal_check.isChecked():
            text = f"Scheduled for {when} in your personal meeting. Share its link or ID:"
        else:
            text = f"Scheduled for {when}. Share the link or the ID:"
        self.result_label.setText(text)
        self.link_edit.setText(details.link if details else "")
        self.id_edit.setText(details.conference_id if details else "")
        self.result_box.show()
        for widget in self._form_widgets():
            widget.setEnabled(False)
        # Done: no more people to pick; their outcomes stay in the list.
        for widget in (self.intro_label, self.query_edit, self.results, self.add_button):
            widget.hide()
        self.remove_button.setEnabled(False)
        self.invite_button.hide()
        self.cancel_button.setText("Close")
        self.cancel_button.setAccessibleName("Close")
        self.cancel_button.setToolTip("Close this window (Esc)")
        self.hint_label.clear()
        announce(self.result_label, self.result_label.text())
        self.copy_link_button.setFocus()

    def _show_summary(self, sent: list[str], failed: list[str]) -> None:
        super()._show_summary(sent, failed)
        # Invite…'s last words ("invite someone else") do not fit here.
        self.hint_label.setText(self.hint_label.text().rsplit(" You can invite", 1)[0])
        self.copy_link_button.setFocus()

    def _form_widgets(self) -> list[QWidget]:
        return [
            self.subject_edit,
            self.start_edit,
            self.end_edit,
            self.personal_check,
            self.access_combo,
            self.presenter_combo,
            self.message_edit,
        ]

    def _set_busy(self, busy: bool) -> None:
        super()._set_busy(busy)
        for widget in self._form_widgets():
            widget.setEnabled(not busy)
        self._enable_options()

    def _show_error(self, text: str) -> None:
        super()._show_error(text)
        self.subject_edit.setFocus()

    def _copy(self, text: str, what: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.hint_label.setText(f"{what} copied.")
        announce(self.hint_label, f"{what} copied.")


def open_schedule(
    engine: Engine, bridge: EngineBridge | None, parent: QWidget | None = None
) -> ScheduleDialog:
    """Open Schedule a meeting… (not modal to the app: the main window stays usable)."""
    dialog = ScheduleDialog(engine, bridge, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
