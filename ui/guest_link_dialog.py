"""Invite from another computer…: a guest link for one person, to copy and send.

The link carries this computer's network address, the certificate's
fingerprint and a single-use invitation that expires (engine/network_hosting.py);
it is made on opening, and "New link" makes another for the next person.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QDateTime, QLocale, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.errors import ConferoError
from engine.homeserver import HomeserverError
from ui.accessibility import announce
from ui.error_text import GENERIC_ERROR
from ui.fingerprint_label import FingerprintLabel
from ui.form_widgets import BusyIndicator, ErrorLabel
from ui.network_access import GuestInvitation, NetworkAccess, fingerprint_lines
from ui.network_access_text import (
    COPY_LINK,
    COPY_LINK_TIP,
    FINGERPRINT,
    FINGERPRINT_TIP,
    LINK_COPIED,
    LINK_FAILED,
    LINK_INTRO,
    LINK_MAKING,
    LINK_ONCE,
    LINK_TITLE,
    NEW_LINK,
    NEW_LINK_TIP,
)
from ui.tasks import TaskGroup

log = logging.getLogger(__name__)


def expiry_text(expires_at: float) -> str:
    """When a link stops working ("Tuesday 8 December at 09:30"), in the person's language."""
    when = QDateTime.fromSecsSinceEpoch(int(expires_at))
    locale = QLocale()
    day = locale.toString(when.date(), "dddd d MMMM")
    return f"{day} at {locale.toString(when.time(), QLocale.FormatType.ShortFormat)}"


class GuestLinkDialog(QDialog):
    """Shows a fresh guest link to the meeting ``alias``, with Copy link and New link."""

    def __init__(self, network: NetworkAccess, alias: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(LINK_TITLE)
        self._network = network
        self._alias = alias
        self._tasks = TaskGroup()
        #: The invitation on show (None while making one, or when it failed).
        self.invitation: GuestInvitation | None = None

        intro = QLabel(LINK_INTRO, self)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        self.busy = BusyIndicator(self)
        self.link_edit = QLineEdit(self)
        self.link_edit.setReadOnly(True)
        self.link_edit.setAccessibleName("Link for the other computer")
        self.link_edit.setToolTip("Send this link to one person on another computer")
        self.copy_button = QPushButton(COPY_LINK, self)
        self.copy_button.setAccessibleName(COPY_LINK)
        self.copy_button.setToolTip(COPY_LINK_TIP)
        self.copy_button.setDefault(True)
        self.once_label = QLabel(self)
        self.once_label.setTextFormat(Qt.TextFormat.PlainText)
        self.once_label.setWordWrap(True)
        self.once_label.setAccessibleName("How long the link works")
        self.fingerprint_title = QLabel(FINGERPRINT, self)
        self.fingerprint_label = FingerprintLabel(self, FINGERPRINT_TIP)
        self.copied_label = QLabel(self)
        self.copied_label.setTextFormat(Qt.TextFormat.PlainText)
        self.copied_label.setAccessibleName("Copied")
        self.error = ErrorLabel(self)
        self.new_button = QPushButton(NEW_LINK, self)
        self.new_button.setAccessibleName(NEW_LINK)
        self.new_button.setToolTip(NEW_LINK_TIP)
        self.new_button.setAutoDefault(False)
        self.close_button = QPushButton("Close", self)
        self.close_button.setAccessibleName("Close")
        self.close_button.setAutoDefault(False)

        link_row = QHBoxLayout()
        link_row.addWidget(self.link_edit, 1)
        link_row.addWidget(self.copy_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copied_label, 1)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(intro)
        layout.addWidget(self.busy)
        layout.addLayout(link_row)
        layout.addWidget(self.once_label)
        layout.addWidget(self.fingerprint_title)
        layout.addWidget(self.fingerprint_label)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.setMinimumWidth(520)

        self.copy_button.clicked.connect(self.copy_link)
        self.new_button.clicked.connect(self.new_link)
        self.close_button.clicked.connect(self.close)
        self.finished.connect(lambda _result: self._tasks.cancel_all())
        self.new_link()

    @property
    def busy_making(self) -> bool:
        return bool(self._tasks.pending())

    def new_link(self) -> None:
        """Make a (new) link; the one shown before still works for one person."""
        if self.busy_making:
            return
        self.invitation = None
        self.error.clear_error()
        self.copied_label.clear()
        self.link_edit.clear()
        self.once_label.clear()
        self._show_fingerprint(self._network.fingerprint)
        self.copy_button.setEnabled(False)
        self.new_button.setEnabled(False)
        self.busy.start(LINK_MAKING)
        self._tasks.spawn(self._make())

    def copy_link(self) -> str:
        link = self.invitation.link if self.invitation else ""
        if link:
            QGuiApplication.clipboard().setText(link)
            self.copied_label.setText(LINK_COPIED)
            announce(self, LINK_COPIED)
        return link

    async def _make(self) -> None:
        try:
            invitation = await self._network.invite(self._alias)
        except (ConferoError, HomeserverError) as exc:
            self._failed(exc.user_message)
            return
        except Exception:
            log.exception("making a guest link failed")
            self._failed(GENERIC_ERROR)
            return
        self.busy.stop()
        self.invitation = invitation
        self.link_edit.setText(invitation.link)
        self.link_edit.setCursorPosition(0)
        self.once_label.setText(LINK_ONCE.format(expiry=expiry_text(invitation.expires_at)))
        self._show_fingerprint(invitation.fingerprint)
        self.copy_button.setEnabled(True)
        self.new_button.setEnabled(True)
        self.copy_button.setFocus()
        self._fit()

    def _failed(self, reason: str) -> None:
        self.busy.stop()
        self.error.show_error(LINK_FAILED.format(reason=reason))
        self.new_button.setEnabled(True)
        self._fit()

    def _fit(self) -> None:
        # Wrapped lines changed: grow to fit them rather than cut them off.
        QTimer.singleShot(0, self.adjustSize)

    def _show_fingerprint(self, fingerprint: str) -> None:
        self.fingerprint_label.setText(fingerprint_lines(fingerprint))
        self.fingerprint_title.setVisible(bool(fingerprint))
        self.fingerprint_label.setVisible(bool(fingerprint))
