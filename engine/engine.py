"""The engine: the composition root of one signed-in account's services.

``Engine`` builds the session core (engine/session.py) and the feature services
on it, and holds them as attributes: ``session`` (sign-in, the sync loop, the
event bus ``session.bus``), ``presences``, ``conferences``, ``conversations``,
``meeting_presence``, ``invitations``, ``escalation``, ``calls`` (two-party
audio calls, on ``media``: the account's audio thread and devices), ``meeting_calls``
(meeting audio), ``my_meetings`` (the My meetings list, End meeting for everyone)
and ``call_escalation`` (the escalation's media joiner: a running
call moves into the meeting's audio). Callers use the services
directly; the engine itself has no feature methods, not even ``start()`` or
``close()``: the session runs those and the services join in through its hooks.
The user directory is a function of the session
(``engine.user_directory.search_users``). New features (e.g. meeting audio) are new
services built here on the same session, using the other services' public
methods only.

This is the only module that imports every service; matrix-nio is imported by
the services, so the UI imports this module off its thread (see ui/controller.py).
"""

from __future__ import annotations

from pathlib import Path

from engine.calls.call_escalation import CallEscalation
from engine.calls.meeting_calls import MeetingCalls
from engine.calls.two_party_calls import Calls
from engine.conferences import Conferences
from engine.conversations import Conversations
from engine.credentials import CredentialStore
from engine.escalation import Escalation
from engine.invitations import Invitations
from engine.media.call_media import CallMedia
from engine.meeting_presence import MeetingPresence
from engine.my_meetings import MyMeetings
from engine.personal_meeting import PersonalMeeting
from engine.presences import Presences
from engine.reminders import Reminders
from engine.scheduling import Scheduling
from engine.session import Session

__all__ = ["Engine"]


class Engine:
    def __init__(self, data_dir: Path, credentials: CredentialStore | None = None) -> None:
        self.session = Session(data_dir, credentials)
        # The order matters where services share a sync piece: hooks run in the
        # order they were registered (Conferences answers lobby admissions before
        # Conversations accepts two-party invites; meetings are left at quitting
        # before the presence from before them is put back).
        self.presences = Presences(self.session)
        self.conferences = Conferences(self.session, self.presences)
        self.conversations = Conversations(self.session, self.presences, self.conferences)
        # After Conversations: two-party invites are theirs, the rest are invitations.
        self.invitations = Invitations(self.session, self.conferences)
        self.meeting_presence = MeetingPresence(self.session, self.presences, self.conferences)
        self.escalation = Escalation(
            self.session, self.presences, self.conferences, self.conversations, self.invitations
        )
        self.media = CallMedia()
        self.calls = Calls(self.session, self.media)
        self.meeting_calls = MeetingCalls(
            self.session, self.conferences, self.invitations, self.media
        )
        # Escalation calls this at JoiningLocalMedia; it knows nothing of calls itself.
        self.call_escalation = CallEscalation(self.session, self.calls, self.meeting_calls)
        self.escalation.set_media_joiner(self.call_escalation.join_media)
        # After Calls: its close hook ends the peers, then the media thread stops.
        self.session.on_close(self.media.close)
        # Scheduled meetings (issue 9): reminders at their start, and scheduling itself.
        self.reminders = Reminders(self.session, self.conferences)
        # The user's permanent meeting (issue 9): found through account data.
        self.personal_meeting = PersonalMeeting(self.session)
        self.scheduling = Scheduling(
            self.session, self.conferences, self.invitations, self.reminders, self.personal_meeting
        )
        # After Conferences: My meetings reads the meetings as Conferences saw them.
        self.my_meetings = MyMeetings(self.session, self.conferences)
