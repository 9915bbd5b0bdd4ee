"""Preferences → Audio: the microphone and speaker, a level meter and a test sound.

The device lists come from the sound server off the UI thread; "System default"
comes first and is what an empty setting means. While the dialog is open, the
chosen microphone is captured (its own stream, as a call's would be) so the meter
moves when you speak; Test sound plays a short tone on the chosen speaker through
the same speaker streams calls use (ui/call_sounds.py). Closing stops both.
"""

from __future__ import annotations

import asyncio
import logging

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QWidget,
)

from engine.media.devices import AudioDevice, AudioDevices, CaptureStream
from engine.media.errors import MediaError, NoMicrophone
from ui.call_sounds import SoundPlayer, tone_samples
from ui.call_text import NO_MICROPHONE_NOTE
from ui.engine_calls import spawn_detached
from ui.tasks import TaskGroup

log = logging.getLogger(__name__)

SYSTEM_DEFAULT = "System default"
LOADING = "Looking for devices…"
_METER_MS = 50


class AudioPreferences(QGroupBox):
    """The Audio section of Preferences."""

    def __init__(self, microphone: str, speaker: str, parent: QWidget | None = None) -> None:
        super().__init__("Audio", parent)
        self.setObjectName("audioPreferences")
        self._saved = (microphone, speaker)
        self._tasks = TaskGroup()
        self._preview: AudioDevices | None = None
        self._capture: CaptureStream | None = None
        self._player: SoundPlayer | None = None
        self._stopped = False
        #: Set once the device lists are in (for tests and the screen reader).
        self.loaded = False

        self.microphone_combo = QComboBox(self)
        self.microphone_combo.setObjectName("microphoneCombo")
        self.microphone_combo.setAccessibleName("Microphone")
        self.microphone_combo.setToolTip("The microphone calls use")
        self.speaker_combo = QComboBox(self)
        self.speaker_combo.setObjectName("speakerCombo")
        self.speaker_combo.setAccessibleName("Speaker")
        self.speaker_combo.setToolTip("Where you hear calls and the ring tone")
        for combo, saved in ((self.microphone_combo, microphone), (self.speaker_combo, speaker)):
            combo.view().setAccessibleName(f"{combo.accessibleName()} choices")
            combo.addItem(LOADING, saved)  # keeps the setting if the lists never come
            combo.setEnabled(False)
        self.level_meter = QProgressBar(self)
        self.level_meter.setObjectName("microphoneLevel")
        self.level_meter.setRange(0, 100)
        self.level_meter.setTextVisible(False)
        self.level_meter.setMaximumHeight(10)
        self.level_meter.setAccessibleName("Microphone level")
        self.level_meter.setToolTip("How loud your microphone is: speak to see it move")
        self.test_button = QPushButton("&Test sound", self)
        self.test_button.setObjectName("testSoundButton")
        self.test_button.setAccessibleName("Test sound")
        self.test_button.setToolTip("Play a short tone on the chosen speaker")
        self.note_label = QLabel(self)
        self.note_label.setObjectName("audioNote")
        self.note_label.setTextFormat(Qt.TextFormat.PlainText)
        self.note_label.setWordWrap(True)
        self.note_label.hide()

        speaker_row = QHBoxLayout()
        speaker_row.addWidget(self.speaker_combo, 1)
        speaker_row.addWidget(self.test_button)
        speaker_label = QLabel("&Speaker:", self)
        speaker_label.setBuddy(self.speaker_combo)  # the row is a layout: no buddy by itself
        form = QFormLayout(self)
        form.addRow("&Microphone:", self.microphone_combo)
        form.addRow("Level:", self.level_meter)
        form.addRow(speaker_label, speaker_row)
        form.addRow(self.note_label)

        self._meter = QTimer(self)
        self._meter.setInterval(_METER_MS)
        self._meter.timeout.connect(self._update_meter)
        self.microphone_combo.currentIndexChanged.connect(self._on_microphone_chosen)
        self.speaker_combo.currentIndexChanged.connect(self._on_speaker_chosen)
        self.test_button.clicked.connect(self.play_test_sound)

    # -- public API -----------------------------------------------------------------

    def start(self) -> None:
        """List the devices and start the meter (the dialog is opening)."""
        self._tasks.spawn(self._load())

    def stop(self) -> None:
        """Stop the meter and any test sound (the dialog is closing)."""
        if self._stopped:
            return
        self._stopped = True
        self._tasks.cancel_all()
        self._meter.stop()
        if self._player is not None:
            self._player.stop()
        preview, self._preview, self._capture = self._preview, None, None
        if preview is not None:
            spawn_detached(asyncio.to_thread(preview.close))  # joins threads: not here

    async def wait_loaded(self) -> None:
        await self._tasks.wait_idle()

    def microphone(self) -> str:
        """The chosen microphone's name, "" for the system default."""
        return str(self.microphone_combo.currentData() or "")

    def speaker(self) -> str:
        return str(self.speaker_combo.currentData() or "")

    def note(self) -> str:
        return "" if self.note_label.isHidden() else self.note_label.text()

    def play_test_sound(self) -> None:
        if self._player is None:
            self._player = SoundPlayer()
        self._player.speaker = self.speaker() or None
        self._player.play(tone_samples())

    # -- internals ------------------------------------------------------------------

    async def _load(self) -> None:
        microphone, speaker = self._saved
        preview = AudioDevices(microphone or None, speaker or None)
        try:
            inputs, outputs = await asyncio.gather(
                asyncio.to_thread(preview.list_inputs), asyncio.to_thread(preview.list_outputs)
            )
        except MediaError as exc:
            self._show_note(exc.user_message)
            return
        except Exception:
            log.warning("could not list the audio devices", exc_info=True)
            self._show_note("The audio devices could not be listed.")
            return
        if self._stopped or not shiboken6.isValid(self):
            return
        self._fill(self.microphone_combo, inputs, microphone)
        self._fill(self.speaker_combo, outputs, speaker)
        self.loaded = True
        if not inputs and not microphone:
            self._show_note(NO_MICROPHONE_NOTE)
        self._preview = preview
        self._capture = preview.capture()  # a thread of its own opens the device
        self._meter.start()

    def _fill(self, combo: QComboBox, devices: list[AudioDevice], saved: str) -> None:
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(SYSTEM_DEFAULT, "")
        for device in devices:
            combo.addItem(device.description or device.name, device.name)
            combo.setItemData(combo.count() - 1, device.name, Qt.ItemDataRole.ToolTipRole)
        if saved and combo.findData(saved) < 0:
            combo.addItem(f"{saved} (not connected)", saved)  # keep the choice; it may return
        combo.setCurrentIndex(max(0, combo.findData(saved)))
        combo.setEnabled(True)
        combo.blockSignals(False)

    def _on_microphone_chosen(self) -> None:
        if self._preview is not None:
            self._preview.set_input(self.microphone() or None)  # the capture reopens

    def _on_speaker_chosen(self) -> None:
        if self._player is not None:
            self._player.speaker = self.speaker() or None

    def _update_meter(self) -> None:
        capture = self._capture
        if capture is None:
            return
        self.level_meter.setValue(round(min(1.0, capture.level.peak * 1.5) * 100))
        problem = capture.problem
        if isinstance(problem, NoMicrophone):
            self._show_note(NO_MICROPHONE_NOTE)
        elif problem is not None:
            self._show_note(problem.user_message)
        elif self.loaded and self.microphone_combo.count() > 1:
            self.note_label.hide()

    def _show_note(self, text: str) -> None:
        if not shiboken6.isValid(self):
            return
        if self.note() == text:
            return
        self.note_label.setText(text)
        self.note_label.show()
        # A wrapped line appearing later: let the dialog grow to fit it.
        self.note_label.setMinimumHeight(self.note_label.heightForWidth(self.width() - 24))
        self.window().adjustSize()
