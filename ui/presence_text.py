"""How a presence reads: one's own setting versus what others show.

``Presence.OFFLINE`` is named for the selector ("Appear offline" is what you
choose for yourself); someone else in that state simply reads "Offline".
"""

from __future__ import annotations

from engine.models import Presence

_OTHERS = {Presence.OFFLINE: "Offline", Presence.UNKNOWN: ""}


def presence_text(presence: Presence, *, own: bool = False) -> str:
    """The words for a presence; ``own`` for one's own setting, else as others appear."""
    if presence is Presence.UNKNOWN:
        return ""
    if own:
        return presence.value
    return _OTHERS.get(presence, presence.value)
