"""Export to calendar…: save a scheduled meeting as an .ics file.

``export_ics(parent, meeting)`` takes anything with the fields engine/ics.py
needs (a ConferenceSummary from My meetings, or Scheduling.calendar_entry).
The file is written off the UI thread (a network folder may be slow).
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from engine.errors import ConferoError
from engine.ics import CalendarMeeting, to_ics

log = logging.getLogger(__name__)

TITLE = "Export to calendar"


def suggested_name(subject: str) -> str:
    """A file name from the subject: no path separators or odd characters."""
    stem = re.sub(r"[^\w\- ]+", "", subject, flags=re.UNICODE).strip()[:60] or "meeting"
    return f"{stem}.ics"


async def export_ics(parent: QWidget | None, meeting: CalendarMeeting) -> Path | None:
    """Ask where, then write the file; the path written, or None (cancelled or failed)."""
    try:
        text = to_ics(meeting)
    except ConferoError as exc:
        QMessageBox.warning(parent, TITLE, exc.user_message)
        return None
    start = str(Path.home() / suggested_name(meeting.subject))
    chosen, _ = QFileDialog.getSaveFileName(
        parent, TITLE, start, "Calendar files (*.ics);;All files (*)"
    )
    if not chosen:
        return None
    path = Path(chosen)
    if not path.suffix:
        path = path.with_suffix(".ics")
    return await write_ics(parent, path, text)


async def write_ics(parent: QWidget | None, path: Path, text: str) -> Path | None:
    try:
        # newline="" keeps the CRLF line endings RFC 5545 asks for.
        await asyncio.to_thread(_write, path, text)
    except OSError as exc:
        log.info("could not write %s: %s", path, exc.strerror)
        QMessageBox.warning(
            parent, TITLE, f"The file could not be saved: {exc.strerror or 'unknown error'}."
        )
        return None
    return path


def _write(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        file.write(text)
