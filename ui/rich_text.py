"""Text documents for transcript rows that never fetch anything.

Matrix HTML bodies reach the UI already sanitised by the engine; this is the
second line of defence: a document whose resource loader refuses everything,
so an <img>, a style sheet or any other URL is never requested.
"""

from __future__ import annotations

import html
import logging

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QFont, QTextDocument, QTextOption

log = logging.getLogger(__name__)


class SafeTextDocument(QTextDocument):
    """A QTextDocument whose resources (images, CSS) always come back empty."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        #: URLs the document asked for and did not get (for diagnostics and tests).
        self.refused: list[str] = []

    def loadResource(self, type_: int, name: QUrl) -> object:
        self.refused.append(name.toString())
        log.debug("refused to load resource %s", name.toString())
        return None


#: Words longer than this wrap anywhere: breaking a huge "word" at word
#: boundaries first costs Qt time that grows with its length squared.
LONG_WORD = 400


def wrap_mode_for(text: str) -> QTextOption.WrapMode:
    longest = max((len(word) for word in text.split()), default=0)
    if longest > LONG_WORD:
        return QTextOption.WrapMode.WrapAnywhere
    return QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere


def build_document(
    *,
    plain: str,
    rich: str | None,
    font: QFont,
    link_color: str,
    width: float,
) -> SafeTextDocument:
    """A laid-out document for one message body.

    ``rich`` (sanitised Matrix HTML) is rendered as rich text; otherwise
    ``plain`` is set as plain text, so markup in it shows literally.
    """
    doc = SafeTextDocument()
    doc.setUndoRedoEnabled(False)
    doc.setDocumentMargin(0)
    doc.setDefaultFont(font)
    option = QTextOption()
    option.setWrapMode(wrap_mode_for(plain))
    doc.setDefaultTextOption(option)
    if rich:
        doc.setDefaultStyleSheet(
            f"a {{ color: {link_color}; }} pre, code {{ font-family: monospace; }}"
        )
        doc.setHtml(rich)
    else:
        doc.setPlainText(plain)
    doc.setTextWidth(max(width, 1.0))
    return doc


def escaped_tooltip(text: str) -> str:
    """Tool-tip markup that shows ``text`` literally, whatever it contains."""
    return "<qt>" + html.escape(text).replace("\n", "<br>") + "</qt>"
