"""Renders resources/confero.svg into the icons PyInstaller needs on Windows and macOS.

    .venv/bin/python packaging/icons/make_icons.py

writes packaging/icons/confero.ico (Windows: 16-256 px) and confero.icns (macOS:
16-1024 px). Both are committed (small; made again by this script whenever the
SVG changes), so the Windows and macOS builds need neither Qt's SVG renderer
nor Pillow's writers beyond what their venv already has. Each size is rendered
from the SVG rather than scaled down from the largest, so small sizes stay sharp.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[2]
SVG = ROOT / "resources" / "confero.svg"
OUT = Path(__file__).resolve().parent
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 96, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)
#: Apple's icon grid: the shape fills 824 of 1024 px, the rest is margin (shadow room).
MACOS_SHAPE = 824 / 1024


def render(renderer: QSvgRenderer, size: int, fill: float = 1.0) -> Image.Image:
    """The SVG at ``size`` px square, its drawing scaled to ``fill`` of it, centred."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    side = size * fill
    margin = (size - side) / 2
    renderer.render(painter, QRectF(margin, margin, side, side))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    from io import BytesIO

    return Image.open(BytesIO(bytes(data.data()))).convert("RGBA")


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        print(f"cannot read {SVG}", file=sys.stderr)
        return 1
    # The SVG's own square (8 px margin of 256) is the Windows tile as it is.
    ico = [render(renderer, size) for size in ICO_SIZES]
    ico[-1].save(OUT / "confero.ico", sizes=[(s, s) for s in ICO_SIZES], append_images=ico[:-1])
    icns = [render(renderer, size, MACOS_SHAPE) for size in ICNS_SIZES]
    icns[-1].save(OUT / "confero.icns", append_images=icns[:-1])
    del app
    for name in ("confero.ico", "confero.icns"):
        path = OUT / name
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
