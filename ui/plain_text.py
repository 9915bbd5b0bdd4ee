"""Showing text from other people exactly as typed, where Qt would guess at HTML.

Labels are set to Qt.PlainText where they are made, but tooltips have no such
switch: Qt renders a tooltip as rich text whenever it looks like markup. A
display name such as ``<img src=…>`` must still show as those characters.
"""

from __future__ import annotations

import html


def tooltip(text: str) -> str:
    """Tooltip markup that displays ``text`` literally, line breaks kept."""
    escaped = html.escape(text, quote=False).replace("\n", "<br>")
    return f"<p style='white-space:pre-wrap'>{escaped}</p>"
