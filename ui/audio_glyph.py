"""A small microphone drawn with QPainter: in the call, muted (struck through), speaking;
and the level bars beside it (how loud someone is now).

Drawn rather than taken from an icon font, so it looks the same on every system
and follows the row's text colour in light and dark palettes. The roster paints
it at the end of a person's row; ``mic_icon`` makes the same picture an icon.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

from ui.meeting_audio_text import UserAudio

#: The glyph's box (px) and the gap before it.
GLYPH = 14
#: The level bars: this many, each BAR px wide with BAR_GAP between (LEVEL_WIDTH in all).
BARS = 4
BAR = 2
BAR_GAP = 1
LEVEL_WIDTH = BARS * BAR + (BARS - 1) * BAR_GAP
SPEAKING = QColor("#1f9d55")  # reads on white and on the dark palette's base
MUTED = QColor("#d13438")


def paint_mic(painter: QPainter, box: QRect, audio: UserAudio, colour: QColor) -> None:
    """Draw ``audio``'s state in ``box`` (about GLYPH px square) with ``colour`` for lines."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    side = min(box.width(), box.height())
    x0 = box.left() + (box.width() - side) / 2
    y0 = box.top() + (box.height() - side) / 2
    unit = side / 14.0

    def at(x: float, y: float) -> QPointF:
        return QPointF(x0 + x * unit, y0 + y * unit)

    line = SPEAKING if audio.speaking else colour
    if audio.speaking:
        # A soft disc behind: the eye finds who speaks in a long list.
        halo = QColor(SPEAKING)
        halo.setAlphaF(0.22)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(halo)
        painter.drawEllipse(QRectF(x0, y0, side, side))
    pen = QPen(line, max(1.2, 1.4 * unit))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    painter.setBrush(line if audio.speaking else Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(QRectF(at(5, 1.5), at(9, 8.5)), 2 * unit, 2 * unit)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawArc(QRectF(at(3, 4), at(11, 10.5)), 180 * 16, 180 * 16)
    painter.drawLine(at(7, 10.5), at(7, 12.5))
    painter.drawLine(at(5, 12.5), at(9, 12.5))
    if audio.muted:
        slash = QPen(MUTED, max(1.5, 1.7 * unit))
        slash.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(slash)
        painter.drawLine(at(2.5, 1.5), at(11.5, 12.5))
    painter.restore()


def lit_bars(level: float) -> int:
    """How many of the BARS a level (0..1) lights: any sound lights one."""
    if level <= 0.0:
        return 0
    return max(1, min(BARS, math.ceil(round(level * BARS, 3))))


def paint_level(painter: QPainter, box: QRect, level: float, colour: QColor) -> None:
    """Level bars rising left to right in ``box`` (LEVEL_WIDTH wide, about GLYPH high):
    the lit ones in the speaking green, the others faint in ``colour``."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    painter.setPen(Qt.PenStyle.NoPen)
    faint = QColor(colour)
    faint.setAlphaF(0.3)
    lit = lit_bars(level)
    height = min(box.height(), GLYPH) - 2
    bottom = box.top() + (box.height() + height) // 2
    for bar in range(BARS):
        tall = max(3, round(height * (bar + 1) / BARS))
        x = box.left() + bar * (BAR + BAR_GAP)
        painter.setBrush(SPEAKING if bar < lit else faint)
        painter.drawRect(QRect(x, bottom - tall, BAR, tall))
    painter.restore()


def mic_icon(audio: UserAudio, colour: QColor, size: int = 16) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    paint_mic(painter, QRect(0, 0, size, size), audio, colour)
    painter.end()
    return QIcon(pixmap)
