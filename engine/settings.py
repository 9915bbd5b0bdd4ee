"""Non-secret settings kept as JSON in the data directory.

Secrets never go here: access tokens live only in the OS keyring.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass
class Settings:
    last_mode: str = ""  # "local", "remote" or "guest": which sign-in to restore at start
    last_guest_slot: str = ""  # the keyring slot of that guest sign-in (one per host)
    last_guest_address: str = ""  # its host computer's address, to name it in messages
    guest_name: str = ""  # the name last given when joining as a guest
    last_address: str = ""
    last_user: str = ""
    lobby_timeout_s: int = 15 * 60
    escalation_timeout_s: int = 60  # how long Add people waits for the peer to follow
    invitation_timeout_s: int = 2 * 60  # then an unanswered invitation is withdrawn
    # The sound server's device names; "" for the system default.
    microphone: str = ""
    speaker: str = ""
    # Meetings whose "People on other computers can't join yet" offer was shown
    # (room IDs, newest last): it is never shown twice for one meeting.
    network_offers_shown: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, data_dir: Path) -> Settings:
        path = data_dir / "settings.json"
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError):
            log.warning("settings file unreadable, using defaults")
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    def save(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / "settings.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        os.replace(tmp, path)
