"""Screenshots that are checked, not just written: what a test may assert about a grab.

A saved PNG is for a person to look at; these checks make the test fail when
the picture is plainly wrong: blank, the wrong palette, text without contrast,
or a key widget hidden or cut off by the window's edge.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QWidget

_SAMPLE_WIDTH = 240  # pixels across the scaled-down copy that is sampled


def _luminance(colour: QColor) -> float:
    """Relative luminance (WCAG 2)."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in (colour.redF(), colour.greenF(), colour.blueF()))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: QColor, b: QColor) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _sample(image: QImage) -> list[QColor]:
    small = image.scaledToWidth(
        min(_SAMPLE_WIDTH, image.width()), Qt.TransformationMode.FastTransformation
    )
    return [small.pixelColor(x, y) for y in range(small.height()) for x in range(small.width())]


def check_screenshot(
    widget: QWidget,
    path: Path,
    *,
    dark: bool,
    key_widgets: tuple[QWidget, ...] = (),
) -> QImage:
    """Grab ``widget``, save it to ``path``, and assert that the picture is sound.

    - not blank: many distinct colours;
    - the palette took: the most common colour (the background) is dark or light;
    - text reads: some colour contrasts with the background at least 4.5:1 (WCAG AA);
    - each key widget is visible, non-empty and wholly inside the window.
    """
    pixmap: QPixmap = widget.grab()
    image = pixmap.toImage()
    path.parent.mkdir(parents=True, exist_ok=True)
    assert image.save(str(path)), f"could not save {path}"
    assert not image.isNull() and image.width() > 50 and image.height() > 50, path.name
    pixels = _sample(image)
    counts = Counter(c.rgb() for c in pixels)
    assert len(counts) >= 12, f"{path.name} looks blank: {len(counts)} colours"
    background = QColor.fromRgb(counts.most_common(1)[0][0])
    lightness = background.lightness()
    if dark:
        assert lightness < 110, f"{path.name}: the dark background is light ({lightness})"
    else:
        assert lightness > 150, f"{path.name}: the light background is dark ({lightness})"
    best = max(contrast(background, QColor.fromRgb(rgb)) for rgb in counts)
    assert best >= 4.5, f"{path.name}: no text contrasts with the background ({best:.1f}:1)"
    window_rect = QRect(QPoint(0, 0), widget.size())
    for child in key_widgets:
        name = child.objectName() or child.accessibleName() or type(child).__name__
        assert child.isVisible(), f"{path.name}: {name} is not visible"
        assert child.width() > 0 and child.height() > 0, f"{path.name}: {name} is empty"
        where = QRect(child.mapTo(widget, QPoint(0, 0)), child.size())
        assert window_rect.contains(where), f"{path.name}: {name} is cut off at {where}"
    return image
