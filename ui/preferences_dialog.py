"""Preferences: the few settings a person may want to change (audio devices first)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QWidget

from engine.settings import Settings
from ui.audio_preferences import AudioPreferences
from ui.network_preferences import NetworkPreferences

if TYPE_CHECKING:
    from ui.network_access import NetworkAccess

MIN_LOBBY_MINUTES, MAX_LOBBY_MINUTES = 1, 120
MIN_INVITATION_MINUTES, MAX_INVITATION_MINUTES = 1, 60
MIN_ESCALATION_SECONDS, MAX_ESCALATION_SECONDS = 15, 600


class PreferencesDialog(QDialog):
    def __init__(
        self,
        settings: Settings,
        parent: QWidget | None = None,
        *,
        network: NetworkAccess | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        #: Microphone, speaker, level meter, Test sound (``start()`` when showing it).
        self.audio = AudioPreferences(settings.microphone, settings.speaker, self)
        self.finished.connect(self.audio.stop)
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
        self.invitation_minutes = QSpinBox(self)
        self.invitation_minutes.setRange(MIN_INVITATION_MINUTES, MAX_INVITATION_MINUTES)
        self.invitation_minutes.setSuffix(" min")
        self.invitation_minutes.setValue(
            max(
                MIN_INVITATION_MINUTES,
                min(MAX_INVITATION_MINUTES, round(settings.invitation_timeout_s / 60)),
            )
        )
        self.invitation_minutes.setAccessibleName(
            "How long an invitation waits for an answer, in minutes"
        )
        self.invitation_minutes.setToolTip(
            "When someone you invite does not answer within this time, the invitation "
            "is withdrawn and shows as “No answer”"
        )
        self.escalation_seconds = QSpinBox(self)
        self.escalation_seconds.setRange(MIN_ESCALATION_SECONDS, MAX_ESCALATION_SECONDS)
        self.escalation_seconds.setSingleStep(15)
        self.escalation_seconds.setSuffix(" s")
        self.escalation_seconds.setValue(
            max(
                MIN_ESCALATION_SECONDS,
                min(MAX_ESCALATION_SECONDS, round(settings.escalation_timeout_s)),
            )
        )
        self.escalation_seconds.setAccessibleName(
            "How long Add people waits for the other person, in seconds"
        )
        self.escalation_seconds.setToolTip(
            "When you add people to a two-party conversation and the other person's app does "
            "not follow into the meeting within this time, the conversation stays two-party"
        )
        #: “Let people on my network join” (with this computer's server only).
        self.network = NetworkPreferences(network, self) if network is not None else None
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        for button in buttons.buttons():
            button.setAccessibleName(button.text().replace("&", ""))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(self.audio)
        form.addRow("Wait in a meeting's &lobby for at most:", self.lobby_minutes)
        form.addRow(hint)
        form.addRow("Withdraw an unanswered &invitation after:", self.invitation_minutes)
        form.addRow("When adding &people, wait for the other person:", self.escalation_seconds)
        if self.network is not None:
            form.addRow(self.network)
        form.addRow(buttons)

    def apply_to(self, settings: Settings) -> None:
        settings.lobby_timeout_s = self.lobby_minutes.value() * 60
        settings.invitation_timeout_s = self.invitation_minutes.value() * 60
        settings.escalation_timeout_s = self.escalation_seconds.value()
        if self.audio.loaded:  # else the lists never came: keep what was chosen
            settings.microphone = self.audio.microphone()
            settings.speaker = self.audio.speaker()
