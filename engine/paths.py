"""Where Confero keeps its files (platform user data directory)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

APP_NAME = "Confero"


def default_data_dir() -> Path:
    """The user's data directory; CONFERO_DATA_DIR overrides it (tests, portable use)."""
    override = os.environ.get("CONFERO_DATA_DIR")
    return Path(override) if override else Path(user_data_dir(APP_NAME, appauthor=False))
