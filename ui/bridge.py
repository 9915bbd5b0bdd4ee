"""The one place engine events become Qt signals.

Widgets and item models connect only to these signals. Under qasync the engine
runs on the GUI thread, so plain direct connections are enough.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from engine import events as ev


class EngineBridge(QObject):
    #: A conversation appeared in the list (ConversationInfo).
    conversation_added = Signal(object)
    #: A conversation's name, unread count, presence or activity changed (ConversationInfo).
    conversation_changed = Signal(object)
    #: A conversation left the list (room_id).
    conversation_removed = Signal(str)
    #: A message was appended to a transcript (Message).
    message_added = Signal(object)
    #: Older history was loaded: (room_id, tuple[Message, ...], reached_start).
    messages_prepended = Signal(str, object, bool)
    #: A message changed state or got its server copy (Message).
    message_changed = Signal(object)
    #: Someone's presence changed: (user_id, Presence, status message).
    presence_changed = Signal(str, object, str)
    #: Our own presence changed: (Presence, status message).
    own_presence_changed = Signal(object, str)
    #: Who is typing in a room: (room_id, tuple of display names).
    typing_changed = Signal(str, object)
    #: Sync connection state: (ConnectionState, detail).
    connection_state_changed = Signal(object, str)
    #: The session ended (reason).
    signed_out = Signal(str)

    def __init__(self, bus: ev.EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe = bus.subscribe(self._on_engine_event)

    def detach(self) -> None:
        self._unsubscribe()

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
