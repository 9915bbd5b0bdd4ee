"""Options… of a meeting: subject, who gets in directly, who presents."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from engine.conference_models import AccessLevel, ConferenceDetails, PresenterPolicy
from engine.errors import ConferoError
from ui.form_widgets import BusyIndicator, ErrorLabel, make_line_edit
from ui.message_delegate import dim_color
from ui.tasks import TaskGroup

if TYPE_CHECKING:
    from engine.engine import Engine

log = logging.getLogger(__name__)

#: (choice text, explanation) of each access level, in the order offered.
ACCESS_CHOICES: dict[AccessLevel, tuple[str, str]] = {
    AccessLevel.LOCKED: (
        "&Locked",
        "Only people invited from the meeting can join; nobody can wait in the lobby.",
    ),
    AccessLevel.INVITED: (
        "&Invited people",
        "Invited people join directly; others wait in the lobby.",
    ),
    AccessLevel.SAME_ENTERPRISE: (
        "People on &this server",
        "People with an account on this meeting server join directly; others wait in the lobby.",
    ),
    AccessLevel.EVERYONE: ("&Everyone", "Everyone with the link or ID joins directly."),
}

PRESENTER_CHOICES: dict[PresenterPolicy, tuple[str, str]] = {
    PresenterPolicy.EVERYONE: ("Every&one", "Everyone who joins is a presenter."),
    PresenterPolicy.CHOSEN: (
        "&People I choose",
        "People join as attendees; make them presenters from the roster.",
    ),
    PresenterPolicy.ONLY_ME: ("Only &me", "You are the only presenter."),
}

SUBJECT_MAX = 255


class MeetingOptionsDialog(QDialog):
    """Change a meeting's subject, access level and presenter policy."""

    #: The options were saved on the server; the dialog has closed.
    saved = Signal()

    def __init__(
        self, engine: Engine, details: ConferenceDetails, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._engine = engine
        self._details = details
        self._tasks = TaskGroup()
        self._explanations: list[QLabel] = []
        self.setWindowTitle("Meeting options")
        self.setMinimumWidth(460)

        self.subject_edit = make_line_edit(
            self,
            "Subject",
            placeholder="What the meeting is about",
            tooltip="The meeting's name, shown to everyone in it",
        )
        self.subject_edit.setMaxLength(SUBJECT_MAX)
        self.subject_edit.setText(details.subject)
        form = QFormLayout()
        form.addRow("&Subject:", self.subject_edit)

        self.access_group = QButtonGroup(self)
        self.access_buttons: dict[AccessLevel, QRadioButton] = {}
        access_box = self._radio_box(
            "Who gets in directly?", ACCESS_CHOICES, self.access_group, self.access_buttons
        )
        self.presenter_group = QButtonGroup(self)
        self.presenter_buttons: dict[PresenterPolicy, QRadioButton] = {}
        presenter_box = self._radio_box(
            "Who's a presenter?", PRESENTER_CHOICES, self.presenter_group, self.presenter_buttons
        )
        self.access_buttons[details.access_level].setChecked(True)
        self.presenter_buttons[details.presenter_policy].setChecked(True)

        self.error_label = ErrorLabel(self)
        self.busy = BusyIndicator(self)
        self.buttons = QDialogButtonBox(self)
        self.save_button = QPushButton("Save", self)
        self.save_button.setAccessibleName("Save options")
        self.save_button.setToolTip("Save these options for everyone in the meeting (Enter)")
        self.save_button.setDefault(True)
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName("Cancel")

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(access_box)
        layout.addWidget(presenter_box)
        layout.addStretch(1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.busy)
        layout.addWidget(self.buttons)
        self._apply_palette()
        self._connect_signals()
        self.subject_edit.setFocus()

    def _radio_box(
        self,
        title: str,
        choices: Mapping[Any, tuple[str, str]],
        group: QButtonGroup,
        buttons: dict[Any, QRadioButton],
    ) -> QGroupBox:
        box = QGroupBox(title, self)
        column = QVBoxLayout(box)
        column.setSpacing(2)
        for value, (text, explanation) in choices.items():
            radio = QRadioButton(text, box)
            radio.setAccessibleName(text.replace("&", ""))
            radio.setAccessibleDescription(explanation)
            radio.setToolTip(explanation)
            note = QLabel(explanation, box)
            note.setTextFormat(Qt.TextFormat.PlainText)
            note.setWordWrap(True)
            indent = radio.style().pixelMetric(radio.style().PixelMetric.PM_ExclusiveIndicatorWidth)
            note.setContentsMargins(indent + 8, 0, 0, 6)
            self._explanations.append(note)
            group.addButton(radio)
            buttons[value] = radio
            column.addWidget(radio)
            column.addWidget(note)
        return box

    def _connect_signals(self) -> None:
        self.buttons.accepted.connect(self._on_save_requested)
        self.buttons.rejected.connect(self.reject)

    # -- public API ---------------------------------------------------------

    def chosen_access_level(self) -> AccessLevel:
        return next(v for v, b in self.access_buttons.items() if b.isChecked())

    def chosen_presenter_policy(self) -> PresenterPolicy:
        return next(v for v, b in self.presenter_buttons.items() if b.isChecked())

    def is_busy(self) -> bool:
        return self.busy.isVisibleTo(self)

    def done(self, result: int) -> None:
        self._tasks.cancel_all()
        super().done(result)

    # -- internals ----------------------------------------------------------

    def _apply_palette(self) -> None:
        dim = dim_color(self.palette())
        for note in self._explanations:
            palette = note.palette()
            palette.setColor(note.foregroundRole(), dim)
            note.setPalette(palette)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()

    def _on_save_requested(self) -> None:
        if self.is_busy():
            return
        subject = self.subject_edit.text().strip()
        if not subject:
            self.error_label.show_error("Give the meeting a subject.")
            self.subject_edit.setFocus()
            return
        details = self._details
        access = self.chosen_access_level()
        policy = self.chosen_presenter_policy()
        changes: dict[str, object] = {}
        if subject != details.subject:
            changes["subject"] = subject
        if access is not details.access_level:
            changes["access_level"] = access
        if policy is not details.presenter_policy:
            changes["presenter_policy"] = policy
        if not changes:
            self.accept()
            return
        self._set_busy(True)
        self._tasks.spawn(self._save(changes))

    async def _save(self, changes: dict[str, object]) -> None:
        try:
            await self._engine.conferences.set_options(self._details.room_id, **changes)  # type: ignore[arg-type]
        except ConferoError as exc:
            self._show_error(f"The options could not be saved: {exc.user_message}")
            return
        except Exception:
            log.exception("saving meeting options failed")
            self._show_error("The options could not be saved. Please try again.")
            return
        self._set_busy(False)
        self.saved.emit()
        self.accept()

    def _set_busy(self, busy: bool) -> None:
        for widget in (
            self.subject_edit,
            self.save_button,
            *self.access_buttons.values(),
            *self.presenter_buttons.values(),
        ):
            widget.setEnabled(not busy)
        if busy:
            self.error_label.clear_error()
            self.busy.start("Saving…")
        else:
            self.busy.stop()

    def _show_error(self, text: str) -> None:
        self._set_busy(False)
        self.error_label.show_error(text)
