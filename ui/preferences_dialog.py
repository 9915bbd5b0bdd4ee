"""Preferences: the few settings a person may want to change."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QWidget

from engine.settings import Settings

MIN_LOBBY_MINUTES, MAX_LOBBY_MINUTES = 1, 120


class PreferencesDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.lobby_minutes = QSpinBox(self)
        self.lobby_minutes.setRange(MIN_LOBBY_MINUTES, MAX_LOBBY_MINUTES)
        self.lobby_minutes.setSuffix(" min")
        self.lobby_minutes.setValue(
            max(MIN_LOBBY_MINUTES, min(MAX_LOBBY_MINUTES, round(settings.lobby_timeout_s / 60)))
        )
        self.lobby_minutes.setAccessibleName("Longest wait in a meeting's lobby, in minutes")
        self.lobby_minutes.setToolTip(
            "When you join a meeting whose presenters let people in, stop waiting after this long"
        )
        hint = QLabel("After this, Confero stops asking to be let in; you can ask again.", self)
        hint.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Wait in a meeting's &lobby for at most:", self.lobby_minutes)
        form.addRow(hint)
        form.addRow(buttons)

    def apply_to(self, settings: Settings) -> None:
        settings.lobby_timeout_s = self.lobby_minutes.value() * 60
