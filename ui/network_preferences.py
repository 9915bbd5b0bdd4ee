"""Preferences' “Let people on my network join”: the switch, what it means, and,
while it is on, the address and the certificate fingerprint for other computers.

The switch acts at once (the server restarts: a busy line shows meanwhile);
OK and Cancel of the dialog do not undo it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QCheckBox, QGroupBox, QLabel, QVBoxLayout, QWidget

from ui.fingerprint_label import FingerprintLabel
from ui.form_widgets import BusyIndicator, ErrorLabel
from ui.network_access import HostingState, NetworkAccess, fingerprint_lines
from ui.network_access_text import (
    ADDRESS,
    EXPLANATION,
    FINGERPRINT,
    FINGERPRINT_TIP,
    LET_IN,
    LET_IN_TIP,
    NO_ADDRESS,
    TURNING_OFF,
    TURNING_ON,
)


class NetworkPreferences(QGroupBox):
    """The network access part of Preferences (only with this computer's server)."""

    def __init__(self, access: NetworkAccess, parent: QWidget | None = None) -> None:
        super().__init__("Meetings for people on other computers", parent)
        self._access = access
        self.check = QCheckBox(LET_IN, self)
        self.check.setAccessibleName(LET_IN)
        self.check.setToolTip(LET_IN_TIP)
        self.explanation = QLabel(EXPLANATION, self)
        self.explanation.setTextFormat(Qt.TextFormat.PlainText)
        self.explanation.setWordWrap(True)
        self.busy = BusyIndicator(self)
        self.address_label = QLabel(self)
        self.address_label.setTextFormat(Qt.TextFormat.PlainText)
        self.address_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.address_label.setAccessibleName("Address for other computers")
        self.fingerprint_title = QLabel(FINGERPRINT, self)
        self.fingerprint_label = FingerprintLabel(self, FINGERPRINT_TIP)
        self.error = ErrorLabel(self)

        layout = QVBoxLayout(self)
        layout.setSpacing(6)
        layout.addWidget(self.check)
        layout.addWidget(self.explanation)
        layout.addWidget(self.busy)
        layout.addWidget(self.address_label)
        layout.addWidget(self.fingerprint_title)
        layout.addWidget(self.fingerprint_label)
        layout.addWidget(self.error)

        self.check.toggled.connect(self._on_toggled)
        access.changed.connect(self._follow)
        access.problem.connect(self.error.show_error)
        self._follow()

    def _on_toggled(self, checked: bool) -> None:
        if checked != self._access.is_on and not self._access.busy:
            self.error.clear_error()
            self._access.set_enabled(checked)

    def _follow(self) -> None:
        access = self._access
        state = access.state
        self.check.blockSignals(True)
        self.check.setChecked(state in (HostingState.ON, HostingState.TURNING_ON))
        self.check.blockSignals(False)
        self.check.setEnabled(not access.busy)
        if state is HostingState.TURNING_ON:
            self.busy.start(TURNING_ON)
        elif state is HostingState.TURNING_OFF:
            self.busy.start(TURNING_OFF)
        else:
            self.busy.stop()
        on = state is HostingState.ON
        if access.address:
            self.address_label.setText(ADDRESS.format(address=access.address))
        else:
            self.address_label.setText(NO_ADDRESS if access.looked_up else "")
        self.fingerprint_label.setText(fingerprint_lines(access.fingerprint))
        self.address_label.setVisible(on)
        self.fingerprint_title.setVisible(on and bool(access.fingerprint))
        self.fingerprint_label.setVisible(on and bool(access.fingerprint))
        window = self.window()
        if window is not self and window.isVisible():
            # Lines appeared or went: the dialog fits them (wrapped text would be cut).
            QTimer.singleShot(0, window.adjustSize)
