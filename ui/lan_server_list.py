"""The list "Meeting servers on your network", with each one's certificate fingerprint."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from ui import guest_text as text

if TYPE_CHECKING:
    from engine.lan_discovery import DiscoveredServer
    from ui.lan_servers import LanServers

_SERVER_ROLE = Qt.ItemDataRole.UserRole + 1


class LanServerList(QWidget):
    """Follows a LanServers while it is shown; picking a server emits ``picked``."""

    #: A server was picked (DiscoveredServer).
    picked = Signal(object)

    def __init__(self, servers: LanServers | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._source = servers
        self._looking = False
        heading = QLabel(text.FOUND_HEADING, self)
        heading.setTextFormat(Qt.TextFormat.PlainText)
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        self.list = QListWidget(self)
        self.list.setAccessibleName(text.FOUND_HEADING)
        self.list.setToolTip(text.FOUND_TOOLTIP)
        self.list.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        heading.setBuddy(self.list)
        self.empty_label = QLabel(self)
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label.setWordWrap(True)
        self.empty_label.setEnabled(False)  # the palette's quieter text colour
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(heading)
        layout.addWidget(self.list)
        layout.addWidget(self.empty_label)
        self.list.itemActivated.connect(self._on_item_chosen)
        self.list.itemClicked.connect(self._on_item_chosen)
        if servers is not None:
            servers.changed.connect(self.show_servers)
        self.show_servers(servers.servers if servers is not None else [])

    def servers(self) -> list[DiscoveredServer]:
        return [self.list.item(i).data(_SERVER_ROLE) for i in range(self.list.count())]

    def show_servers(self, servers: list[DiscoveredServer]) -> None:
        chosen = self.list.currentItem()
        chosen_fp = chosen.data(_SERVER_ROLE).fingerprint if chosen is not None else None
        self.list.clear()
        for server in servers:
            item = QListWidgetItem(
                text.FOUND_ITEM.format(
                    name=server.instance,
                    address=server.address,
                    fingerprint=text.fingerprint_lines(server.fingerprint),
                )
            )
            item.setData(_SERVER_ROLE, server)
            item.setToolTip(f"{server.server_name}\n{server.fingerprint_text}")
            self.list.addItem(item)
            if server.fingerprint == chosen_fp:
                self.list.setCurrentItem(item)
        self.list.setVisible(bool(servers))
        if servers:  # as tall as two servers at most, then it scrolls
            rows = min(len(servers), 2)
            frame = 2 * self.list.frameWidth()
            self.list.setFixedHeight(rows * self.list.sizeHintForRow(0) + frame + 2)
        enabled = self._source is not None and self._source.enabled
        self.empty_label.setText(text.FOUND_NONE if enabled else text.FOUND_OFF)
        self.empty_label.setVisible(not servers)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._source is not None and not self._looking:
            self._looking = True
            self._source.acquire()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.stop_looking()

    def stop_looking(self) -> None:
        if self._source is not None and self._looking:
            self._looking = False
            self._source.release()

    def _on_item_chosen(self, item: QListWidgetItem) -> None:
        self.picked.emit(item.data(_SERVER_ROLE))
