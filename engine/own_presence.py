"""The presence a user had before a meeting, kept on disk until it is put back.

While the user is in a meeting the server shows "Busy, In a conference call".
If Confero quits (or dies) before it can put the old presence back, the next
start finds it here and restores it; without this file the meeting presence
would outlive the meeting. One small JSON file per account in the data folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from engine.models import Presence

log = logging.getLogger(__name__)


class SavedPresence:
    """The pre-meeting presence of one account. Blocking file I/O: call off the UI thread."""

    def __init__(self, directory: Path, user_id: str) -> None:
        digest = hashlib.sha256(user_id.encode()).hexdigest()[:16]
        self._path = directory / f"presence-before-meeting-{digest}.json"

    @property
    def path(self) -> Path:
        return self._path

    def load(self) -> tuple[Presence, str] | None:
        try:
            raw = json.loads(self._path.read_text(encoding="utf-8"))
            presence = Presence(raw["presence"])
            status = raw.get("status") or ""
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            log.warning("saved presence unreadable; ignoring it")
            return None
        if presence == Presence.UNKNOWN or not isinstance(status, str):
            return None
        return presence, status

    def save(self, presence: Presence, status: str) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"presence": presence.value, "status": status}), "utf-8")
        os.replace(tmp, self._path)

    def clear(self) -> None:
        self._path.unlink(missing_ok=True)
