"""The one place engine events become Qt signals.

Widgets and item models connect only to these signals. Under qasync the engine
runs on the GUI thread, so plain direct connections are enough.

Signals are declared with the engine's own classes (dataclasses and enums):
PySide6 registers a Python class as ``PyObject`` and passes the very object
through a direct connection, so slots get it intact; the type documents what
arrives. Tuples are declared as ``tuple`` (Qt has no parameterised types).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

from engine import events as ev
from engine.calls.call_models import Call
from engine.calls.meeting_call_events import (
    AudioParticipantChanged,
    AudioPolicyChanged,
    MeetingAudioChanged,
    MeetingAudioStateChanged,
)
from engine.conference_models import ConferenceDetails, ConferenceSession, Participant
from engine.escalation_models import ConferenceEscalation
from engine.invitation_models import ConferenceInvitation, IncomingInvitation
from engine.meeting_summary_models import ConferenceSummary
from engine.models import ConnectionState, ConversationInfo, Message, Presence
from engine.outbox import OutboxProblemKind


class EngineBridge(QObject):
    #: A conversation appeared in the list (ConversationInfo).
    conversation_added = Signal(ConversationInfo)
    #: A conversation's name, unread count, presence or activity changed (ConversationInfo).
    conversation_changed = Signal(ConversationInfo)
    #: A conversation left the list (room_id).
    conversation_removed = Signal(str)
    #: A message was appended to a transcript (Message).
    message_added = Signal(Message)
    #: Older history was loaded: (room_id, tuple[Message, ...], reached_start).
    messages_prepended = Signal(str, tuple, bool)
    #: A message changed state or got its server copy (Message).
    message_changed = Signal(Message)
    #: Someone's presence changed: (user_id, Presence, status message).
    presence_changed = Signal(str, Presence, str)
    #: Our own presence changed: (Presence, status message).
    own_presence_changed = Signal(Presence, str)
    #: Who is typing in a room: (room_id, tuple of display names).
    typing_changed = Signal(str, tuple)
    #: Sync connection state: (ConnectionState, detail).
    connection_state_changed = Signal(ConnectionState, str)
    #: The session ended (reason).
    signed_out = Signal(str)
    #: A meeting's details changed: subject, access level, my role… (ConferenceDetails).
    conference_changed = Signal(ConferenceDetails)
    #: My session in a meeting changed state: lobby, connected, left… (ConferenceSession).
    conference_session_changed = Signal(ConferenceSession)
    #: A meeting's full participant list, after loading: (room_id, tuple[Participant, ...]).
    participants_reset = Signal(str, tuple)
    #: Someone appeared in a meeting's roster: (room_id, Participant).
    participant_added = Signal(str, Participant)
    #: Someone's role, membership, name or presence changed: (room_id, Participant).
    participant_changed = Signal(str, Participant)
    #: Someone left a meeting's roster: (room_id, user_id).
    participant_removed = Signal(str, str)
    #: Someone started waiting in a meeting's lobby: (room_id, Participant).
    lobby_knock = Signal(str, Participant)
    #: A two-party conversation's escalation moved on (ConferenceEscalation).
    escalation_changed = Signal(ConferenceEscalation)
    #: The peer moved a two-party conversation to a meeting; we follow
    #: (EscalateToConferenceRequested).
    escalate_to_conference_requested = Signal(ev.EscalateToConferenceRequested)
    #: Saved messages could not all be read at sign-in: (OutboxProblemKind, message).
    outbox_problem = Signal(OutboxProblemKind, str)
    #: Messages can't be saved or sent: (SendingProblemKind, message).
    sending_problem = Signal(ev.SendingProblemKind, str)
    #: Saving works again after a sending problem.
    sending_recovered = Signal()
    #: The meeting server on this computer died or hung and is being restarted: (cause, try).
    homeserver_restarting = Signal(str, int)
    #: The meeting server on this computer answers again after a restart.
    homeserver_recovered = Signal()
    #: The meeting server on this computer could not be restarted: (reason, log path).
    homeserver_failed = Signal(str, str)

    #: An invitation I sent changed state (ConferenceInvitation).
    invitation_state_changed = Signal(ConferenceInvitation)
    #: Someone invited me to a meeting (IncomingInvitation).
    incoming_invitation = Signal(IncomingInvitation)
    #: An invitation to me was withdrawn or answered elsewhere (room_id).
    incoming_invitation_withdrawn = Signal(str)

    #: A two-party call's state, mute, hold or end changed (Call).
    call_state_changed = Signal(Call)
    #: A call rings here, published once per call (Call, in state Notified).
    incoming_call = Signal(Call)
    #: Who is in a meeting's audio changed, or whether we are (MeetingAudioChanged).
    meeting_audio_changed = Signal(MeetingAudioChanged)
    #: Our AV modality state in a meeting's audio changed (MeetingAudioStateChanged).
    meeting_audio_state_changed = Signal(MeetingAudioStateChanged)
    #: One device in a meeting's audio was muted, spoke or connected (AudioParticipantChanged).
    audio_participant_changed = Signal(AudioParticipantChanged)
    #: The presenters' audio controls of a meeting changed (AudioPolicyChanged).
    audio_policy_changed = Signal(AudioPolicyChanged)
    #: A scheduled meeting I organize or accepted starts now (MeetingReminder).
    meeting_reminder = Signal(ev.MeetingReminder)
    #: A line of My meetings appeared or changed (ConferenceSummary).
    summary_changed = Signal(ConferenceSummary)
    #: A meeting left My meetings (room_id).
    summary_removed = Signal(str)

    def __init__(self, bus: ev.EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribers = [bus.subscribe(self._on_engine_event)]

    def watch(self, bus: ev.EventBus) -> None:
        """Also re-emit the events of another bus (the meeting server's supervisor)."""
        self._unsubscribers.append(bus.subscribe(self._on_engine_event))

    def detach(self) -> None:
        for unsubscribe in self._unsubscribers:
            unsubscribe()
        self._unsubscribers.clear()

    def _on_engine_event(self, event: ev.EngineEvent) -> None:
        match event:
            case ev.ConversationAdded(conversation=c):
                self.conversation_added.emit(c)
            case ev.ConversationChanged(conversation=c):
                self.conversation_changed.emit(c)
            case ev.ConversationRemoved(room_id=room_id):
                self.conversation_removed.emit(room_id)
            case ev.MessageAdded(message=m):
                self.message_added.emit(m)
            case ev.MessagesPrepended(room_id=room_id, messages=msgs, reached_start=done):
                self.messages_prepended.emit(room_id, msgs, done)
            case ev.MessageChanged(message=m):
                self.message_changed.emit(m)
            case ev.PresenceChanged(user_id=user_id, presence=p, status_message=s):
                self.presence_changed.emit(user_id, p, s)
            case ev.OwnPresenceChanged(presence=p, status_message=s):
                self.own_presence_changed.emit(p, s)
            case ev.TypingChanged(room_id=room_id, names=names):
                self.typing_changed.emit(room_id, names)
            case ev.ConnectionStateChanged(state=state, detail=detail):
                self.connection_state_changed.emit(state, detail)
            case ev.SignedOut(reason=reason):
                self.signed_out.emit(reason)
            case ev.OutboxProblem(kind=kind, message=message):
                self.outbox_problem.emit(kind, message)
            case ev.SendingProblem(kind=kind, message=message):
                self.sending_problem.emit(kind, message)
            case ev.SendingRecovered():
                self.sending_recovered.emit()
            case ev.HomeserverRestarting(cause=cause, attempt=attempt):
                self.homeserver_restarting.emit(cause, attempt)
            case ev.HomeserverRecovered():
                self.homeserver_recovered.emit()
            case ev.HomeserverFailed(reason=reason, log_path=path):
                self.homeserver_failed.emit(reason, path)
            case _:
                self._on_conference_event(event)

    def _on_conference_event(self, event: ev.EngineEvent) -> None:
        match event:
            case ev.ConferenceChanged(details=details):
                self.conference_changed.emit(details)
            case ev.ConferenceSessionChanged(session=session):
                self.conference_session_changed.emit(session)
            case ev.ParticipantsReset(room_id=room_id, participants=people):
                self.participants_reset.emit(room_id, tuple(people))
            case ev.ParticipantAdded(room_id=room_id, participant=p):
                self.participant_added.emit(room_id, p)
            case ev.ParticipantChanged(room_id=room_id, participant=p):
                self.participant_changed.emit(room_id, p)
            case ev.ParticipantRemoved(room_id=room_id, user_id=user_id):
                self.participant_removed.emit(room_id, user_id)
            case ev.LobbyKnock(room_id=room_id, participant=p):
                self.lobby_knock.emit(room_id, p)
            case ev.EscalationProgressChanged(escalation=escalation):
                self.escalation_changed.emit(escalation)
            case ev.EscalateToConferenceRequested():
                self.escalate_to_conference_requested.emit(event)
            case ev.InvitationStateChanged(invitation=invitation):
                self.invitation_state_changed.emit(invitation)
            case ev.IncomingInvitation():
                self.incoming_invitation.emit(event)
            case ev.IncomingInvitationWithdrawn(room_id=room_id):
                self.incoming_invitation_withdrawn.emit(room_id)
            case ev.CallStateChanged(call=call):
                self.call_state_changed.emit(call)
            case ev.IncomingCall(call=call):
                self.incoming_call.emit(call)
            case MeetingAudioChanged():
                self.meeting_audio_changed.emit(event)
            case MeetingAudioStateChanged():
                self.meeting_audio_state_changed.emit(event)
            case AudioParticipantChanged():
                self.audio_participant_changed.emit(event)
            case AudioPolicyChanged():
                self.audio_policy_changed.emit(event)
            case ev.MeetingReminder():
                self.meeting_reminder.emit(event)
            case ev.SummaryChanged(summary=summary):
                self.summary_changed.emit(summary)
            case ev.SummaryRemoved(room_id=room_id):
                self.summary_removed.emit(room_id)


def disconnect_all(connections: Iterable[tuple[SignalInstance, Callable[..., Any]]]) -> None:
    """Undo signal connections; ones already gone (object deleted) are fine."""
    for signal, slot in connections:
        with contextlib.suppress(RuntimeError, TypeError):
            signal.disconnect(slot)
