"""Look and feel: resource paths, icons, palette-aware colours.

Colours come from the active palette wherever possible so light and dark
desktops both work. The few fixed colours (presence dots, banners, the error
red) are chosen to stay readable on either.
"""

from __future__ import annotations

import functools
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QKeySequence, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

from engine.models import Presence

#: Presence colours: the usual traffic-light hues, legible on light and dark.
PRESENCE_COLOURS: dict[Presence, str] = {
    Presence.AVAILABLE: "#2e9d4f",
    Presence.BUSY: "#d93636",
    Presence.AWAY: "#e09b16",
    Presence.OFFLINE: "#8a8f98",
    Presence.UNKNOWN: "#8a8f98",
}


def quit_shortcuts() -> list[QKeySequence]:
    """Ctrl+Q everywhere, plus the platform's own Quit key if it has another one.

    The Windows key scheme has no Quit binding at all, so it is never left to
    the platform alone.
    """
    keys = [QKeySequence("Ctrl+Q")]
    keys += [k for k in QKeySequence.keyBindings(QKeySequence.StandardKey.Quit) if k not in keys]
    return keys


def resources_dir() -> Path:
    """The directory holding icons, the style sheet and the .desktop file."""
    package_dir = Path(__file__).resolve().parent
    for candidate in (package_dir.parent / "resources", package_dir / "resources"):
        if candidate.is_dir():
            return candidate
    return package_dir.parent / "resources"


def resource_path(name: str) -> Path:
    return resources_dir() / name


@functools.cache
def icon(name: str) -> QIcon:
    """An SVG icon from resources/ by its base name (``"confero"``, ``"person"`` …)."""
    return QIcon(str(resource_path(f"{name}.svg")))


def app_icon() -> QIcon:
    return icon("confero")


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def error_colour(palette: QPalette | None = None) -> QColor:
    """A red that keeps enough contrast on the current window background."""
    return QColor("#ff8a80") if is_dark(palette) else QColor("#b3261e")


def success_colour(palette: QPalette | None = None) -> QColor:
    return QColor("#7fd88f") if is_dark(palette) else QColor("#1e7b34")


def presence_dot(presence: Presence, size: int = 12) -> QIcon:
    """A filled circle in the presence colour, for menus and combo boxes."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(PRESENCE_COLOURS[presence]))
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return QIcon(pixmap)


def set_error_style(label: QWidget) -> None:
    """Colour an inline error label from the palette it will be shown with."""
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, error_colour(palette))
    label.setPalette(palette)


def scale_font(widget: QWidget, factor: float, *, bold: bool = False) -> None:
    font = widget.font()
    if font.pointSizeF() > 0:
        font.setPointSizeF(font.pointSizeF() * factor)
    else:
        font.setPixelSize(max(1, round(font.pixelSize() * factor)))
    font.setBold(bold)
    widget.setFont(font)


def dark_palette() -> QPalette:
    """A dark Fusion palette, for screenshots and people whose desktop lacks one."""
    palette = QPalette()
    window = QColor("#202124")
    base = QColor("#2a2b2e")
    text = QColor("#e8eaed")
    disabled = QColor("#7f8389")
    highlight = QColor("#3d7be0")
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor("#313235"),
        QPalette.ColorRole.ToolTipBase: QColor("#3c3d40"),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: QColor("#9aa0a6"),
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor("#303134"),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor("#ff8a80"),
        QPalette.ColorRole.Light: QColor("#4a4b4e"),
        QPalette.ColorRole.Midlight: QColor("#3a3b3e"),
        QPalette.ColorRole.Mid: QColor("#2c2d30"),
        QPalette.ColorRole.Dark: QColor("#151618"),
        QPalette.ColorRole.Shadow: QColor("#000000"),
        QPalette.ColorRole.Highlight: highlight,
        QPalette.ColorRole.HighlightedText: QColor("#ffffff"),
        QPalette.ColorRole.Link: QColor("#8ab4f8"),
        QPalette.ColorRole.LinkVisited: QColor("#c58af9"),
    }
    for role, colour in roles.items():
        palette.setColor(role, colour)
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def apply(app: QApplication) -> None:
    """Application-wide look: icon and the optional style sheet."""
    app.setWindowIcon(app_icon())
    qss = resource_path("confero.qss")
    if qss.is_file():
        app.setStyleSheet(qss.read_text(encoding="utf-8"))
