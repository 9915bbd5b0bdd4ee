"""The bridge re-emits engine events as signals typed with the engine's classes.

The events go through a real EventBus, the way the engine publishes them; each
slot must get the engine's own objects, intact (the same object, not a copy or
a Qt conversion of it).
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest
from PySide6.QtCore import QMetaMethod

from engine import events as ev
from engine.calls.call_models import AvModalityState, Call, CallDirection
from engine.conference_models import (
    AccessLevel,
    ConferenceDetails,
    ConferenceSession,
    Membership,
    Participant,
    PresenterPolicy,
    Role,
    SessionState,
)
from engine.escalation_models import ConferenceEscalation, ConferenceEscalationProgress
from engine.models import (
    ConnectionState,
    ConversationInfo,
    ConversationKind,
    ConversationState,
    Message,
    MessageState,
    Presence,
)
from engine.outbox import OutboxProblemKind
from ui.bridge import EngineBridge

pytestmark = pytest.mark.gui

ROOM = "!room:example.org"
INFO = ConversationInfo(ROOM, ConversationKind.DIRECT, "Dana", ConversationState.ACTIVE, 1)
MESSAGE = Message("k1", ROOM, "@dana:example.org", "Dana", "hi", 1, MessageState.RECEIVED)
PERSON = Participant(
    "@dana:example.org", "Dana", Membership.KNOCKING, 0, Role.ATTENDEE, is_you=False
)
DETAILS = ConferenceDetails(
    ROOM,
    "1234567",
    "Planning",
    "@alice:example.org",
    "https://matrix.to/#/#1234567:example.org",
    "matrix:r/1234567:example.org",
    "#1234567:example.org",
    AccessLevel.EVERYONE,
    PresenterPolicy.EVERYONE,
    Role.LEADER,
    can_change_options=True,
    can_admit=True,
    can_invite=True,
)
SESSION = ConferenceSession(ROOM, SessionState.IN_LOBBY)
ESCALATION = ConferenceEscalation(ROOM, ConferenceEscalationProgress.WAITING_FOR_PEER)
REQUEST = ev.EscalateToConferenceRequested(ROOM, "!meeting:example.org", "matrix:r/1", "@a:b")
MESSAGES = (MESSAGE,)
CALL = Call("c1", ROOM, "@dana:example.org", CallDirection.INCOMING, AvModalityState.NOTIFIED, "p1")
PEOPLE = (PERSON,)

#: (event, signal name, what the slot must get)
CASES: list[tuple[Any, str, tuple[Any, ...]]] = [
    (ev.ConversationAdded(INFO), "conversation_added", (INFO,)),
    (ev.ConversationChanged(INFO), "conversation_changed", (INFO,)),
    (ev.MessageAdded(MESSAGE), "message_added", (MESSAGE,)),
    (ev.MessagesPrepended(ROOM, MESSAGES, True), "messages_prepended", (ROOM, MESSAGES, True)),
    (ev.MessageChanged(MESSAGE), "message_changed", (MESSAGE,)),
    (
        ev.PresenceChanged("@dana:example.org", Presence.BUSY, "out"),
        "presence_changed",
        ("@dana:example.org", Presence.BUSY, "out"),
    ),
    (ev.OwnPresenceChanged(Presence.AWAY, ""), "own_presence_changed", (Presence.AWAY, "")),
    (ev.TypingChanged(ROOM, ("Dana",)), "typing_changed", (ROOM, ("Dana",))),
    (
        ev.ConnectionStateChanged(ConnectionState.RECONNECTING, "lost"),
        "connection_state_changed",
        (ConnectionState.RECONNECTING, "lost"),
    ),
    (ev.ConferenceChanged(DETAILS), "conference_changed", (DETAILS,)),
    (ev.ConferenceSessionChanged(SESSION), "conference_session_changed", (SESSION,)),
    (ev.ParticipantsReset(ROOM, PEOPLE), "participants_reset", (ROOM, PEOPLE)),
    (ev.ParticipantAdded(ROOM, PERSON), "participant_added", (ROOM, PERSON)),
    (ev.ParticipantChanged(ROOM, PERSON), "participant_changed", (ROOM, PERSON)),
    (ev.LobbyKnock(ROOM, PERSON), "lobby_knock", (ROOM, PERSON)),
    (ev.EscalationProgressChanged(ESCALATION), "escalation_changed", (ESCALATION,)),
    (REQUEST, "escalate_to_conference_requested", (REQUEST,)),
    (ev.CallStateChanged(CALL), "call_state_changed", (CALL,)),
    (ev.IncomingCall(CALL), "incoming_call", (CALL,)),
    (
        ev.OutboxProblem(next(iter(OutboxProblemKind)), "unreadable"),
        "outbox_problem",
        (next(iter(OutboxProblemKind)), "unreadable"),
    ),
    (
        ev.SendingProblem(ev.SendingProblemKind.NOT_SAVED, "disk full"),
        "sending_problem",
        (ev.SendingProblemKind.NOT_SAVED, "disk full"),
    ),
]


@pytest.mark.parametrize(("event", "name", "expected"), CASES, ids=[c[1] for c in CASES])
def test_each_event_arrives_as_the_engines_own_objects(
    qapp, event: Any, name: str, expected: tuple[Any, ...]
) -> None:
    bus = ev.EventBus()
    bridge = EngineBridge(bus)
    received: list[tuple[Any, ...]] = []
    getattr(bridge, name).connect(lambda *args: received.append(args))
    try:
        bus.publish(event)
    finally:
        bridge.detach()
    assert received == [expected]
    # Strings and flags cross Qt as copies; the engine's objects cross as themselves.
    (args,) = received
    for got, sent in zip(args, expected, strict=True):
        if not isinstance(sent, (str, bool)):
            assert got is sent


def test_no_signal_is_declared_as_a_bare_object(qapp) -> None:
    meta = EngineBridge.staticMetaObject
    declared = {
        bytes(meta.method(i).methodSignature().data()).decode()
        for i in range(meta.methodOffset(), meta.methodCount())
        if meta.method(i).methodType() == QMetaMethod.MethodType.Signal
    }
    assert "conversation_added(PyObject)" in declared  # Python classes register as PyObject
    # Qt shows every Python class as PyObject, so the declarations are read from the source.
    source = inspect.getsource(EngineBridge)
    declarations = re.findall(r"^    \w+ = Signal\((.*)\)$", source, re.MULTILINE)
    assert len(declarations) == len(declared)
    assert not [d for d in declarations if "object" in d]
