"""The escalation banner: each step of Add people…, then success or what failed.

A window part: it adds its bar to the banner area and follows the engine's
escalation of one two-party conversation. Try again re-runs the escalation
with the same people and message.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from engine.errors import ConferoError
from engine.escalation_models import ConferenceEscalation, ConferenceEscalationProgress
from ui.banner import Banner
from ui.bridge import disconnect_all
from ui.escalation_text import (
    TRY_AGAIN,
    TRY_AGAIN_TIP,
    can_try_again,
    escalation_kind,
    escalation_text,
)

if TYPE_CHECKING:
    from ui.window_parts import PartContext

log = logging.getLogger(__name__)


class EscalationBanner:
    """Shows one two-party conversation's escalation in its window's banner area."""

    def __init__(
        self,
        context: PartContext,
    ) -> None:
        engine, bridge, banners = context.engine, context.bridge, context.banners
        direct_room_id = context.room_id
        self._engine, self._bridge = engine, bridge
        self._room_id = direct_room_id
        self._tasks = context.tasks
        #: The bar, at the top of the banner area (it is about the whole window).
        self.bar = banners.add_bar(Banner(banners), 0)  # keeps the name "banner": its style
        self.bar.setAccessibleName("Adding people")
        self.bar.action_triggered.connect(self._on_try_again)
        #: Every text shown, in order (for tests and the screen-reader log).
        self.history: list[str] = []
        bridge.escalation_changed.connect(self._on_escalation_changed)
        self.show(engine.escalation.escalation(direct_room_id))

    def detach(self) -> None:
        disconnect_all(((self._bridge.escalation_changed, self._on_escalation_changed),))

    def show(self, escalation: ConferenceEscalation) -> None:
        peer_id = escalation.peer
        if not peer_id and (info := self._engine.conversations.conversation(self._room_id)):
            peer_id = info.peer_user_id or ""
        text = escalation_text(escalation, self._engine.session.display_name(peer_id))
        if not text:
            self.bar.clear()
            return
        if not self.history or self.history[-1] != text:
            self.history.append(text)
        retry = can_try_again(escalation)
        done = escalation.progress is ConferenceEscalationProgress.COMPLETED
        self.bar.show_message(
            text,
            escalation_kind(escalation),
            action_text=TRY_AGAIN if retry else None,
            action_tooltip=TRY_AGAIN_TIP if retry else None,
            dismissable=escalation.failed or done,
        )

    def _on_escalation_changed(self, escalation: ConferenceEscalation) -> None:
        if escalation.direct_room_id == self._room_id:
            self.show(escalation)

    def _on_try_again(self) -> None:
        self._tasks.spawn(self._try_again())

    async def _try_again(self) -> None:
        try:
            await self._engine.escalation.try_again(self._room_id)
        except ConferoError as exc:
            log.info("try again failed: %s", exc.user_message)
