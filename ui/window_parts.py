"""What every part of a conversation window is built with (transcript, meeting pane, …)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.engine import Engine
    from ui.banner_area import BannerArea
    from ui.bridge import EngineBridge
    from ui.network_access import NetworkAccess
    from ui.tasks import TaskGroup


@dataclass(frozen=True)
class PartContext:
    """The window's shared pieces, handed to each part instead of five arguments."""

    engine: Engine
    bridge: EngineBridge
    room_id: str
    banners: BannerArea
    tasks: TaskGroup  # the window's: cancelled when it closes
    #: “Let people on my network join”, with this computer's server (else None).
    network: NetworkAccess | None = None
