"""The meeting's audio in the roster: who is in the call, muted, speaking, how loud; Mute.

The engine reports audio per device (a person may be in the call from two); the
roster shows a person. This part keeps the devices, folds them into one
``UserAudio`` per person and hands only the people whose state changed to the
model (``RosterModel.set_audio``: a dataChanged on that row alone). It also adds
**Mute** to a person's context menu, for presenters, greyed out with the reason
for everyone else.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtWidgets import QMenu

from engine.calls.meeting_call_events import (
    AudioParticipant,
    AudioParticipantChanged,
    MeetingAudioChanged,
)
from engine.conference_models import Participant, Role
from engine.errors import ConferoError
from ui.bridge import disconnect_all
from ui.engine_calls import finish
from ui.error_text import GENERIC_ERROR
from ui.meeting_audio_text import (
    ALREADY_MUTED_REASON,
    MUTE_PERSON,
    MUTE_PERSON_TIP,
    MUTE_YOURSELF_REASON,
    NOT_IN_AUDIO_REASON,
    ONLY_PRESENTERS_REASON,
    UserAudio,
)

if TYPE_CHECKING:
    from ui.roster_view import RosterPanel
    from ui.window_parts import PartContext

log = logging.getLogger(__name__)

_PRESENTING = (Role.LEADER, Role.PRESENTER)


def fold(devices: dict[str, AudioParticipant]) -> UserAudio | None:
    """One person's audio over their devices in the call (None: not in it)."""
    if not devices:
        return None
    every = devices.values()
    muted = all(d.muted for d in every)
    return UserAudio(
        muted=muted,
        speaking=any(d.speaking for d in every),
        by_presenter=muted and any(d.muted_by_presenter for d in every),
        level=max(d.level for d in every),
    )


class RosterAudio:
    """Keeps a roster's audio marks in step with the engine; offers Mute on people."""

    def __init__(self, context: PartContext, panel: RosterPanel) -> None:
        self._engine, self._bridge = context.engine, context.bridge
        self._room_id = context.room_id
        self._tasks = context.tasks
        self._panel = panel
        self._devices: dict[str, dict[str, AudioParticipant]] = {}
        panel.menu_extensions.append(self._extend_menu)
        self._bridge.meeting_audio_changed.connect(self._on_meeting_audio_changed)
        self._bridge.audio_participant_changed.connect(self._on_audio_participant_changed)
        self._replace(self._engine.meeting_calls.participants_in_audio(self._room_id))

    def detach(self) -> None:
        disconnect_all(
            (
                (self._bridge.meeting_audio_changed, self._on_meeting_audio_changed),
                (self._bridge.audio_participant_changed, self._on_audio_participant_changed),
            )
        )

    def audio(self, user_id: str) -> UserAudio | None:
        return fold(self._devices.get(user_id, {}))

    def mute(self, user_id: str) -> None:
        """Presenters: mute someone in the meeting's audio."""
        name = self._panel.model.participant(user_id)
        shown = (name.display_name if name else "") or user_id
        self._tasks.spawn(self._mute(user_id, shown))

    # -- internals ------------------------------------------------------------------

    def _replace(self, participants: tuple[AudioParticipant, ...] | list[AudioParticipant]) -> None:
        before = set(self._devices)
        self._devices = {}
        for participant in participants:
            self._devices.setdefault(participant.user_id, {})[participant.device_id] = participant
        for user_id in before | set(self._devices):
            self._panel.model.set_audio(user_id, self.audio(user_id))

    def _extend_menu(self, menu: QMenu, person: Participant) -> None:
        details = self._engine.conferences.details(self._room_id)
        presenting = details is not None and details.my_role in _PRESENTING
        audio = self.audio(person.user_id)
        if person.is_you:
            reason = MUTE_YOURSELF_REASON
        elif not presenting:
            reason = ONLY_PRESENTERS_REASON
        elif audio is None:
            reason = NOT_IN_AUDIO_REASON
        elif audio.muted:
            reason = ALREADY_MUTED_REASON
        else:
            reason = ""
        menu.addSeparator()
        action = menu.addAction(MUTE_PERSON)
        action.setObjectName("muteInAudio")
        action.setEnabled(not reason)
        action.setToolTip(reason or MUTE_PERSON_TIP)
        action.setStatusTip(action.toolTip())
        action.triggered.connect(lambda: self.mute(person.user_id))

    async def _mute(self, user_id: str, name: str) -> None:
        error = ""
        try:
            await finish(self._engine.meeting_calls.mute_participant(self._room_id, user_id))
        except ConferoError as exc:
            error = f"{name} could not be muted: {exc.user_message}"
        except Exception:
            log.exception("muting someone failed")
            error = f"{name} could not be muted. {GENERIC_ERROR}"
        if error and shiboken6.isValid(self._panel):
            self._panel.error_label.show_error(error)

    # -- slots ------------------------------------------------------------------------

    def _on_meeting_audio_changed(self, event: MeetingAudioChanged) -> None:
        if event.room_id == self._room_id:
            self._replace(event.participants)

    def _on_audio_participant_changed(self, event: AudioParticipantChanged) -> None:
        if event.room_id != self._room_id:
            return
        participant = event.participant
        self._devices.setdefault(participant.user_id, {})[participant.device_id] = participant
        self._panel.model.set_audio(participant.user_id, self.audio(participant.user_id))
