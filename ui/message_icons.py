"""Small vector icons for transcript rows, drawn in palette colours.

Drawn rather than loaded so they follow the palette (light or dark) and need
no font with emoji or symbol glyphs.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen


def _pen(color: QColor, width: float) -> QPen:
    pen = QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def draw_clock(painter: QPainter, rect: QRectF, color: QColor) -> None:
    """Pending: a small clock."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    side = min(rect.width(), rect.height()) * 0.75
    box = QRectF(0, 0, side, side)
    box.moveCenter(rect.center())
    painter.setPen(_pen(color, max(1.0, side / 10)))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawEllipse(box)
    center = box.center()
    painter.drawLine(center, QPointF(center.x(), box.top() + side * 0.25))
    painter.drawLine(center, QPointF(box.right() - side * 0.28, center.y()))
    painter.restore()


def draw_check(painter: QPainter, rect: QRectF, color: QColor) -> None:
    """Sent: a tick."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    side = min(rect.width(), rect.height()) * 0.8
    left, top = rect.center().x() - side / 2, rect.center().y() - side / 2
    path = QPainterPath(QPointF(left + side * 0.1, top + side * 0.55))
    path.lineTo(left + side * 0.4, top + side * 0.82)
    path.lineTo(left + side * 0.92, top + side * 0.2)
    painter.setPen(_pen(color, max(1.2, side / 8)))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(path)
    painter.restore()


def draw_warning(painter: QPainter, rect: QRectF, color: QColor, mark: QColor) -> None:
    """Failed: a filled circle with an exclamation mark."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    side = min(rect.width(), rect.height()) * 0.85
    box = QRectF(0, 0, side, side)
    box.moveCenter(rect.center())
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawEllipse(box)
    painter.setPen(_pen(mark, max(1.4, side / 7)))
    center = box.center()
    painter.drawLine(
        QPointF(center.x(), box.top() + side * 0.24), QPointF(center.x(), center.y() + side * 0.08)
    )
    painter.drawPoint(QPointF(center.x(), box.bottom() - side * 0.24))
    painter.restore()


def draw_lock(painter: QPainter, rect: QRectF, color: QColor) -> None:
    """Encrypted: a padlock."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    side = min(rect.width(), rect.height()) * 0.85
    left, top = rect.center().x() - side / 2, rect.center().y() - side / 2
    body = QRectF(left + side * 0.12, top + side * 0.45, side * 0.76, side * 0.52)
    shackle = QRectF(left + side * 0.27, top + side * 0.05, side * 0.46, side * 0.7)
    painter.setPen(_pen(color, max(1.2, side / 9)))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawArc(shackle, 0, 180 * 16)
    painter.drawLine(
        QPointF(shackle.left(), shackle.center().y()), QPointF(shackle.left(), body.top())
    )
    painter.drawLine(
        QPointF(shackle.right(), shackle.center().y()), QPointF(shackle.right(), body.top())
    )
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawRoundedRect(body, side * 0.08, side * 0.08)
    painter.restore()
