"""Watching an engine's escalations: seed 002's progress sequences, in order."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine import events as ev
from engine.engine import Engine
from engine.escalation_models import ConferenceEscalationProgress

P = ConferenceEscalationProgress
INITIATOR_SEQUENCE = [
    P.CONNECTING_TO_CONFERENCE,
    P.JOINING_LOCAL_MEDIA,
    P.WAITING_FOR_PEER,
    P.COMPLETED,
]
PEER_SEQUENCE = [P.CONNECTING_TO_CONFERENCE, P.JOINING_LOCAL_MEDIA, P.COMPLETED]


@dataclass
class Recorder:
    """Every escalation change an engine publishes, in order."""

    changes: list[ev.EscalationProgressChanged] = field(default_factory=list)
    requests: list[ev.EscalateToConferenceRequested] = field(default_factory=list)

    def __call__(self, event: ev.EngineEvent) -> None:
        if isinstance(event, ev.EscalationProgressChanged):
            self.changes.append(event)
        elif isinstance(event, ev.EscalateToConferenceRequested):
            self.requests.append(event)

    def progress(self, room_id: str) -> list[ConferenceEscalationProgress]:
        seen: list[ConferenceEscalationProgress] = []
        for change in self.changes:
            if change.direct_room_id == room_id and (not seen or seen[-1] != change.progress):
                seen.append(change.progress)
        return seen


def record(engine: Engine) -> Recorder:
    recorder = Recorder()
    engine.session.bus.subscribe(recorder)
    return recorder
