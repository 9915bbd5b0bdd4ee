"""Meeting audio: join a meeting's call, hear everyone in it, mute, presenters' controls.

Who is in the call is MatrixRTC state (engine/calls/call_membership.py: one
``m.call.member`` per device, refreshed while we are in, so that a crashed client
drops out when its expiry passes). Media goes through a Focus (engine/calls/focus.py);
today a full mesh over to-device signalling (engine/calls/mesh_focus.py). Presenters'
controls are room state (engine/calls/audio_policy.py) each client enforces on itself,
and on the others too: what the policy says must be muted is not played here
(engine/calls/remote_mutes.py), so a client that ignores it is not heard.

While in a meeting's audio, a watcher looks a few times a second at who is live,
connects and drops devices, refreshes our membership, and publishes what changed
(muted, speaking) on the bus.

Our stay has the seed's AV modality state (the two-party call's enum), published as
MeetingAudioStateChanged: Connecting → Joining (our membership is in the room) →
Connected (the first link is up, or at once when alone; it stays Connected when the
others leave: a conference goes on with one person in it) → Disconnected. Seed 002's
invited side: an invitation to a meeting whose audio is live says so (the
invitations' ``org.confero.meeting_audio``, added to every invite we send while in
the audio), it is Notified while open, and ``accept_with_audio`` joins the meeting
and its audio (Connecting, Joining, Connected); declined or withdrawn, Disconnected.

Signalling is only taken from the call's members: an invite from a device with no
live m.call.member (or whose user is not joined) is ignored with a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from nio import (
    ErrorResponse,
    JoinedMembersResponse,
    MatrixRoom,
    RoomGetStateEventResponse,
    ToDeviceError,
    ToDeviceMessage,
)

from engine import events as ev
from engine.calls import voip_events as ve
from engine.calls.audio_levels import shown_level
from engine.calls.audio_policy import AUDIO_POLICY, AudioPolicy, parse_policy
from engine.calls.call_errors import NoAudioAvailable
from engine.calls.call_membership import (
    CALL_MEMBER,
    MESH_FOCUS_TYPE,
    CallMember,
    DeviceKey,
    MembershipLeft,
    MembershipRejected,
    member_state_key,
    membership_content,
    parse_membership,
)
from engine.calls.call_models import AvModalityState
from engine.calls.focus import Focus, FocusMember
from engine.calls.media_port import CallMediaFactory
from engine.calls.meeting_call_errors import (
    AttendeesCannotUnmute,
    MeetingAudioNotPossible,
    MeshLimitReached,
    NotInMeetingAudio,
    OnlyPresenters,
)
from engine.calls.meeting_call_events import (
    AudioParticipant,
    AudioParticipantChanged,
    AudioPolicyChanged,
    CallMemberIgnored,
    MeetingAudioChanged,
    MeetingAudioStateChanged,
)
from engine.calls.mesh_focus import METADATA_CHANGED, MeshFocus
from engine.calls.remote_mutes import RemoteMutes
from engine.conference_models import ConferenceSession, Role, SessionState
from engine.conferences import Conferences
from engine.errors import ConferoError, ServerRefused
from engine.invitation_models import IncomingInvitation, live_audio_content
from engine.invitations import Invitations
from engine.matrix_events import refusal_text
from engine.session import Session

log = logging.getLogger(__name__)

#: Our membership's lifetime; refreshed every third of it while in the call. Short
#: enough that a crashed client leaves everyone's roster within minutes (MSC4140
#: delayed leave events would do better, where the server has them).
DEFAULT_EXPIRY_MS = 2 * 60 * 1000
#: Other devices a full mesh on this machine carries (each is one Opus encode/decode).
DEFAULT_MESH_LIMIT = 8
TICK_S = 0.2
#: "Speaking": their audio above this RMS, held this long after it drops.
SPEAKING_RMS = 0.02
SPEAKING_HOLD_S = 0.6
_SIGNAL_TYPES = frozenset({ve.INVITE, ve.ANSWER, ve.CANDIDATES, ve.HANGUP, METADATA_CHANGED})
S = AvModalityState


@dataclass
class _InAudio:
    """Our stay in one meeting's call."""

    focus: Focus
    own: DeviceKey
    session_id: str
    created_ts: int
    refreshed_at: float
    muted: bool = False
    by_presenter: bool = False
    seen_requests: int = 0
    seen_mute_all: int = 0
    #: The others the policy keeps muted (enforced in our playback), and who is now.
    remote_mutes: RemoteMutes = field(default_factory=RemoteMutes)
    silenced: frozenset[DeviceKey] = frozenset()
    loud_until: dict[DeviceKey, float] = field(default_factory=dict)
    levels: dict[DeviceKey, float] = field(default_factory=dict)  # as shown (audio_levels.py)
    task: asyncio.Task[None] | None = None
    #: One mute change at a time: the user's and the presenters' must not interleave.
    mute_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class MeetingCalls:
    """join_audio / leave_audio / set_muted / participants_in_audio, presenters' controls."""

    def __init__(
        self,
        session: Session,
        conferences: Conferences,
        invitations: Invitations,
        media_factory: CallMediaFactory | None = None,
        *,
        expiry_ms: int = DEFAULT_EXPIRY_MS,
        mesh_limit: int = DEFAULT_MESH_LIMIT,
    ) -> None:
        self._session = session
        self._conferences = conferences
        self._factory = media_factory
        self.expiry_ms = expiry_ms
        self.mesh_limit = mesh_limit
        self._members: dict[str, dict[DeviceKey, CallMember]] = {}
        self._policies: dict[str, AudioPolicy] = {}
        self._audio: dict[str, _InAudio] = {}
        self._shown: dict[str, tuple[bool, dict[DeviceKey, AudioParticipant]]] = {}
        self._invitations = invitations
        self._states: dict[str, AvModalityState] = {}
        #: Meetings whose invitation to us says the audio is live, while it is open.
        self._invited: set[str] = set()
        #: Stays being ended (hangups, the empty membership), which a rejoin waits for.
        self._ending: dict[str, asyncio.Event] = {}
        #: The latest m.call.member applied per (room, state key): origin_server_ts.
        self._member_ts: dict[tuple[str, str], int] = {}
        #: Per meeting, held devices that said they unmuted while our view of the
        #: policy forbade it: the policy is being reloaded to look again.
        self._rechecking: dict[str, set[DeviceKey]] = {}
        invitations.add_invite_content(self._invite_content)
        session.bus.subscribe(self._on_event)
        session.on_left_room(self._apply_left_room)
        session.on_room_event(self._apply_room_event)
        session.on_to_device(self._apply_to_device)
        # Before Conferences leaves the meetings: the membership clean-up needs the room.
        session.on_farewell(self._leave_all, first=True)
        session.on_close(self._close)
        conferences.on_session_changed(self._on_meeting_changed)

    # ------------------------------------------------------------ reading

    def in_audio(self, room_id: str) -> bool:
        return room_id in self._audio

    def audio_state(self, room_id: str) -> AvModalityState:
        """Our AV modality state in the meeting's audio (Idle before anything happened)."""
        return self._states.get(room_id, S.IDLE)

    def muted(self, room_id: str) -> bool:
        audio = self._audio.get(room_id)
        return audio is not None and audio.muted

    def policy(self, room_id: str) -> AudioPolicy:
        return self._policies.get(room_id, AudioPolicy())

    def can_unmute(self, room_id: str) -> bool:
        """Whether we may unmute ourselves in the meeting's audio: not while presenters
        keep attendees from unmuting and we are an attendee (the UI asks this)."""
        return not self._locked(room_id)

    def participants_in_audio(self, room_id: str) -> list[AudioParticipant]:
        """Everyone in the meeting's call (us first, when we are in it)."""
        audio = self._audio.get(room_id)
        now = time.monotonic()
        result: list[AudioParticipant] = []
        remote = audio.focus.remote_audio() if audio else {}
        if audio is not None:
            result.append(
                AudioParticipant(
                    audio.own.user_id,
                    audio.own.device_id,
                    True,
                    audio.muted,
                    audio.muted and (audio.by_presenter or self._locked(room_id)),
                    not audio.muted and now < audio.loud_until.get(audio.own, 0.0),
                    True,
                    level=0.0 if audio.muted else audio.levels.get(audio.own, 0.0),
                )
            )
        for member in self._live_members(room_id):
            if audio is not None and member.key == audio.own:
                continue
            link = remote.get(member.key)
            # Silenced here while saying they are not muted: a presenter's doing.
            silenced = audio is not None and member.key in audio.silenced
            said_muted = link.muted if link else False
            result.append(
                AudioParticipant(
                    member.user_id,
                    member.device_id,
                    member.user_id == self._session.user_id
                    and member.device_id == self._own_device(),
                    said_muted or silenced,
                    (link.muted_by_presenter if link else False) or (silenced and not said_muted),
                    audio is not None
                    and not silenced
                    and now < audio.loud_until.get(member.key, 0.0),
                    link.connected if link else False,
                    level=audio.levels.get(member.key, 0.0) if audio else 0.0,
                )
            )
        return result

    # ------------------------------------------------------------ actions

    async def join_audio(self, room_id: str) -> list[AudioParticipant]:
        """Join the meeting's call: MeshLimitReached when this machine would carry too many."""
        if room_id in self._audio:
            return self.participants_in_audio(room_id)
        if self._factory is None:
            raise NoAudioAvailable()
        meeting = self._conferences.session(room_id)
        if meeting is None or meeting.state is not SessionState.CONNECTED:
            raise MeetingAudioNotPossible()
        self._set_state(room_id, S.CONNECTING)
        try:
            return await self._join(room_id)
        except BaseException:
            if room_id not in self._audio:
                self._set_state(room_id, S.DISCONNECTED)
            raise

    async def _join(self, room_id: str) -> list[AudioParticipant]:
        if (ending := self._ending.get(room_id)) is not None:
            # Joining again at once: the last stay's hangups and its empty membership
            # go first, or that clearing would land after (and undo) the new one.
            await ending.wait()
            if room_id in self._audio:  # another join won the wait
                return self.participants_in_audio(room_id)
        client = self._session.require_client()
        own = DeviceKey(client.user_id, client.device_id or "")
        await self._load_members(room_id)
        others = [m for m in self._live_members(room_id) if m.key != own]
        if len(others) > self.mesh_limit:
            raise MeshLimitReached(self.mesh_limit)
        await self._allow_call_membership(room_id)
        session_id = ve.new_voip_id()
        focus = MeshFocus(
            room_id,
            own,
            session_id,
            self._factory,
            self._send_to_device,
            self._session.spawn,
            on_change=lambda: self._publish_changes(room_id),
            on_ignored=lambda sender, reason: self._ignored(room_id, sender, reason),
            on_said_unmuted=lambda key: self._said_unmuted(room_id, key),
        )
        audio = _InAudio(focus, own, session_id, _now_ms(), time.monotonic())
        policy = self.policy(room_id)
        audio.remote_mutes = RemoteMutes.starting(policy)
        audio.seen_requests = policy.requests_for(own.user_id)  # earlier requests are done
        audio.seen_mute_all = policy.mute_all
        audio.muted = audio.by_presenter = self._locked(room_id)
        self._audio[room_id] = audio  # before the state goes out: its echo is ours
        try:
            await self._put_membership(room_id, audio)
        except ConferoError:
            del self._audio[room_id]
            raise
        if self._audio.get(room_id) is audio:  # not left meanwhile
            self._set_state(room_id, S.JOINING)
        if audio.muted:
            await focus.set_muted(True, by_presenter=True)
        self._silence_others(room_id)  # before any of their audio can play
        await self._connect(room_id, audio, others)
        audio.task = asyncio.create_task(self._watch(room_id, audio), name=f"audio-{room_id}")
        self._publish_changes(room_id)
        return self.participants_in_audio(room_id)

    async def accept_with_audio(self, room_id: str) -> list[AudioParticipant]:
        """Accept an invitation to a meeting and join its audio (seed 002's invited side:
        Connecting, Joining, Connected). The meeting is joined even when its audio then
        fails (no audio device, the mesh is full): that error is raised, the state is
        Disconnected and the meeting's chat is open. Joining the meeting failing leaves
        the invitation open (Notified again when it said the audio is live)."""
        was_invited = room_id in self._invited
        self._invited.discard(room_id)  # answered: its withdrawal is no news any more
        self._set_state(room_id, S.CONNECTING)
        try:
            await self._invitations.join_incoming(room_id)
        except BaseException:
            still_open = any(i.room_id == room_id for i in self._invitations.incoming())
            if still_open and was_invited:
                self._invited.add(room_id)
            self._set_state(room_id, S.NOTIFIED if still_open and was_invited else S.DISCONNECTED)
            raise
        try:
            return await self.join_audio(room_id)
        except BaseException:
            if room_id not in self._audio:
                self._set_state(room_id, S.DISCONNECTED)
            raise

    async def leave_audio(self, room_id: str) -> None:
        """Hang up on everyone and say so in the room's state."""
        audio = self._audio.pop(room_id, None)
        if audio is None:
            return
        await self._end(room_id, audio, tell_room=True)

    async def set_muted(self, room_id: str, muted: bool) -> None:
        audio = self._require_audio(room_id)
        async with audio.mute_lock:
            if not muted and self._locked(room_id):
                # Our view may lag the room's: a presenter may have just allowed it.
                await self._reload_policy(room_id)
                if self._locked(room_id):
                    raise AttendeesCannotUnmute()
            audio.muted, audio.by_presenter = muted, False
            await audio.focus.set_muted(muted)
        self._publish_changes(room_id)

    async def set_attendees_can_unmute(self, room_id: str, allowed: bool) -> None:
        """Presenters: "Attendees can't unmute" off (True) or on (False)."""
        policy = self.policy(room_id)
        await self._put_policy(room_id, _replace_policy(policy, attendees_can_unmute=allowed))

    async def mute_participant(self, room_id: str, user_id: str) -> None:
        """Presenters: mute one person (each of their devices mutes itself)."""
        await self._put_policy(room_id, self.policy(room_id).with_mute_request(user_id))

    async def mute_all_attendees(self, room_id: str) -> None:
        policy = self.policy(room_id)
        await self._put_policy(room_id, _replace_policy(policy, mute_all=policy.mute_all + 1))

    # ------------------------------------------------------ sync (inbound)

    def _apply_room_event(
        self, room: MatrixRoom, source: dict[str, Any], in_timeline: bool
    ) -> None:
        event_type = source.get("type")
        if event_type not in (CALL_MEMBER, AUDIO_POLICY) or "state_key" not in source:
            return
        try:
            if event_type == AUDIO_POLICY:
                if source.get("state_key") == "":
                    self._set_policy(room.room_id, parse_policy(source.get("content")))
                    if room.room_id in self._audio:
                        self._session.spawn(self._enforce_policy(room.room_id))
                return
            self._apply_membership(room, source)
        except Exception:  # a bug here must never break syncing
            log.exception("could not handle %s in %s", event_type, room.room_id)

    def _apply_membership(self, room: MatrixRoom, source: dict[str, Any]) -> None:
        room_id = room.room_id
        if self._older_than_seen(room_id, source):
            return
        parsed = parse_membership(source)
        members = self._members.setdefault(room_id, {})
        if isinstance(parsed, MembershipRejected):
            self._ignored(room_id, parsed.sender, f"{parsed.reason} ({parsed.state_key})")
            return
        if isinstance(parsed, MembershipLeft):
            members.pop(DeviceKey(parsed.user_id, parsed.device_id), None)
        else:
            if parsed.user_id not in _joined(room):
                self._ignored(room_id, parsed.user_id, "sender is not in the room")
            members[parsed.key] = parsed  # kept: counted only while they are joined
            if (
                parsed.key == DeviceKey(self._session.user_id or "", self._own_device())
                and room_id not in self._audio
                and parsed.live(_now_ms())
            ):
                # Left over from a crash of ours: we are not in that call any more.
                self._session.spawn(self._clear_stale_membership(room_id))
        if room_id not in self._audio:
            self._publish_changes(room_id)

    def _older_than_seen(self, room_id: str, source: dict[str, Any]) -> bool:
        """A membership older than the one we have for that state key: a sync's state
        block can bring a device's earlier membership again after its newer one (seen
        with Synapse right after a quick leave and rejoin); it must not bring a stay
        that ended back to life."""
        key = (room_id, str(source.get("state_key")))
        ts = source.get("origin_server_ts")
        if not isinstance(ts, int) or isinstance(ts, bool):
            return False
        if ts < self._member_ts.get(key, 0):
            log.info("ignored an earlier m.call.member of %s in %s", key[1], room_id)
            return True
        self._member_ts[key] = ts
        return False

    def _apply_to_device(self, source: dict[str, Any]) -> None:
        event_type = source.get("type")
        content = source.get("content")
        sender = source.get("sender")
        if event_type not in _SIGNAL_TYPES or not isinstance(content, dict):
            return
        if not isinstance(sender, str) or "conf_id" not in content:
            return  # a two-party call's event, or not a call event at all
        room_id = str(content.get("conf_id"))
        audio = self._audio.get(room_id)
        try:
            if audio is None:
                log.info("ignored %s from %s: not in that meeting's audio", event_type, sender)
            elif event_type == ve.INVITE and not self._is_call_member(
                room_id, sender, content.get("device_id")
            ):
                # Room events come before to-device ones in a sync: a member's
                # membership is known by the time its invite is read.
                self._ignored(room_id, sender, f"{event_type} from a device not in the call")
            elif not audio.focus.handle_signal(str(event_type), sender, content):
                log.info("ignored %s from %s: not in that meeting's audio", event_type, sender)
        except Exception:
            log.exception("could not handle %s from %s", event_type, sender)

    def _is_call_member(self, room_id: str, user_id: str, device_id: object) -> bool:
        """A live m.call.member of that device, and its user joined to the room."""
        return isinstance(device_id, str) and any(
            m.key == DeviceKey(user_id, device_id) for m in self._live_members(room_id)
        )

    def _on_event(self, event: object) -> None:
        """Invitations to us: Notified while one to a meeting with live audio is open.
        A role changed: an attendee made presenter is heard at once (and back)."""
        if isinstance(event, ev.ParticipantChanged | ev.ParticipantsReset | ev.ParticipantAdded):
            self._silence_others(event.room_id)
        elif isinstance(event, IncomingInvitation):
            if event.with_audio and event.room_id not in self._audio:
                self._invited.add(event.room_id)
                self._set_state(event.room_id, S.NOTIFIED)
        elif isinstance(event, ev.IncomingInvitationWithdrawn):
            self._invitation_gone(event.room_id)

    def _apply_left_room(self, room_id: str, events: list[dict[str, Any]]) -> None:
        self._invitation_gone(room_id)  # declined (we left), or the invite was taken back

    def _invitation_gone(self, room_id: str) -> None:
        if room_id in self._invited:
            self._invited.discard(room_id)
            self._set_state(room_id, S.DISCONNECTED)

    def _invite_content(self, room_id: str) -> dict[str, Any]:
        """What our invites to a meeting carry: whether its audio is live (seed 002)."""
        if room_id in self._audio or self._live_members(room_id):
            return live_audio_content()
        return {}

    def _on_meeting_changed(self, meeting: ConferenceSession) -> None:
        """Leaving the meeting (or being removed) leaves its audio. Joining it without
        its audio (plain Join on an invitation that said the call is on) answers the
        audio's Notified with Disconnected: Join audio is still there."""
        if meeting.state is SessionState.CONNECTED:
            self._invitation_gone(meeting.room_id)
        if meeting.state is not SessionState.CONNECTED and meeting.room_id in self._audio:
            audio = self._audio.pop(meeting.room_id)
            self._session.spawn(self._end(meeting.room_id, audio, tell_room=True))

    # ------------------------------------------------------------ the watcher

    async def _watch(self, room_id: str, audio: _InAudio) -> None:
        """Connect and drop devices as they come and go; refresh; publish changes."""
        while self._audio.get(room_id) is audio:
            try:
                live = {m.key: m for m in self._live_members(room_id) if m.key != audio.own}
                present = audio.focus.remote_audio()
                for key in present.keys() - live.keys():
                    await audio.focus.remove_participant(key)
                await self._connect(room_id, audio, list(live.values()))
                self._silence_others(room_id)  # newcomers, and anyone whose role changed
                if time.monotonic() - audio.refreshed_at > self.expiry_ms / 3000:
                    audio.refreshed_at = time.monotonic()
                    with contextlib.suppress(ConferoError):
                        await self._put_membership(room_id, audio)
                self._measure(audio)
                self._publish_changes(room_id)
            except Exception:
                log.exception("meeting audio %s: the watcher tripped", room_id)
            await asyncio.sleep(TICK_S)

    async def _connect(self, room_id: str, audio: _InAudio, members: list[CallMember]) -> None:
        async def add(member: CallMember) -> None:
            try:
                await audio.focus.add_participant(FocusMember(member.key, member.session_id))
            except Exception as exc:  # their link fails alone; the watcher tries again
                log.warning("meeting audio %s: could not connect %s: %r", room_id, member.key, exc)

        await asyncio.gather(*(add(m) for m in members))

    def _measure(self, audio: _InAudio) -> None:
        now = time.monotonic()
        levels = {key: remote.level for key, remote in audio.focus.remote_audio().items()}
        devices = getattr(self._factory, "devices", None)
        if devices is not None and not audio.muted:
            with contextlib.suppress(Exception):
                levels[audio.own] = devices.capture().level.rms
        for key, level in levels.items():
            if level >= SPEAKING_RMS:
                audio.loud_until[key] = now + SPEAKING_HOLD_S
        shown = audio.levels
        audio.levels = {k: shown_level(rms, shown.get(k, 0.0)) for k, rms in levels.items()}

    # ------------------------------------------------------------ policy

    async def _enforce_policy(self, room_id: str) -> None:
        """Mute ourselves as the presenters' state asks (each client enforces it)."""
        audio = self._audio.get(room_id)
        if audio is None:
            return
        async with audio.mute_lock:
            await self._enforce_locked(room_id, audio)
        self._publish_changes(room_id)

    async def _enforce_locked(self, room_id: str, audio: _InAudio) -> None:
        policy = self.policy(room_id)
        attendee = self._own_role(room_id) is Role.ATTENDEE
        requested = policy.requests_for(audio.own.user_id) > audio.seen_requests
        all_muted = attendee and policy.mute_all > audio.seen_mute_all
        audio.seen_requests = policy.requests_for(audio.own.user_id)
        audio.seen_mute_all = policy.mute_all
        if requested or all_muted or self._locked(room_id):
            if not audio.muted or not audio.by_presenter:
                audio.muted, audio.by_presenter = True, True
                await audio.focus.set_muted(True, by_presenter=True)
        elif audio.muted and audio.by_presenter and not requested:
            audio.by_presenter = False
            await audio.focus.set_muted(True)  # still muted, but free to unmute now

    async def _reload_policy(self, room_id: str) -> None:
        """The policy as the server has it now (sync may not have brought it yet)."""
        client = self._session.require_client()
        try:
            response = await self._session.call(
                client.room_get_state_event(room_id, AUDIO_POLICY, "")
            )
        except ConferoError:
            return
        if isinstance(response, RoomGetStateEventResponse):
            self._set_policy(room_id, parse_policy(response.content))

    # -------------------------------------------- policy, on the others' audio

    def _silence_others(self, room_id: str) -> None:
        """Play none of the others the policy keeps muted; the rest again (at once)."""
        audio = self._audio.get(room_id)
        if audio is None:
            return
        silenced = audio.remote_mutes.silenced(
            self.policy(room_id), self._others(room_id, audio), self._role_of(room_id)
        )
        if silenced != audio.silenced:
            audio.silenced = silenced
            audio.focus.set_silenced(silenced)
            for key in silenced:
                audio.loud_until.pop(key, None)
            self._publish_changes(room_id)

    def _said_unmuted(self, room_id: str, key: DeviceKey) -> None:
        """Their device says it unmuted: heard again if they may unmute. If our view
        says not, it may lag theirs (a presenter just allowed it): look again."""
        audio = self._audio.get(room_id)
        if audio is None or key not in audio.remote_mutes.held:
            return
        if audio.remote_mutes.said_unmuted(key, self.policy(room_id), self._role_of(room_id)):
            self._silence_others(room_id)
        else:
            waiting = self._rechecking.setdefault(room_id, set())
            if not waiting:  # one reload at a time; it looks at all who wait
                self._session.spawn(self._recheck_unmutes(room_id))
            waiting.add(key)

    async def _recheck_unmutes(self, room_id: str) -> None:
        try:
            await self._reload_policy(room_id)
        finally:
            waiting = self._rechecking.pop(room_id, set())
        audio = self._audio.get(room_id)
        if audio is None:
            return
        remote = audio.focus.remote_audio()
        role_of, policy = self._role_of(room_id), self.policy(room_id)
        for key in waiting:
            link = remote.get(key)
            if link is not None and not link.muted:  # still says so
                audio.remote_mutes.said_unmuted(key, policy, role_of)
        self._silence_others(room_id)

    def _others(self, room_id: str, audio: _InAudio) -> list[DeviceKey]:
        return [m.key for m in self._live_members(room_id) if m.key != audio.own]

    def _role_of(self, room_id: str) -> Callable[[str], Role | None]:
        roles = {p.user_id: p.role for p in self._conferences.participants(room_id)}
        return roles.get

    def _locked(self, room_id: str) -> bool:
        """We are an attendee and presenters turned unmuting off."""
        return (
            not self.policy(room_id).attendees_can_unmute
            and self._own_role(room_id) is Role.ATTENDEE
        )

    def _own_role(self, room_id: str) -> Role | None:
        for participant in self._conferences.participants(room_id):
            if participant.is_you:
                return participant.role
        return None

    async def _put_policy(self, room_id: str, policy: AudioPolicy) -> None:
        if self._own_role(room_id) not in (Role.PRESENTER, Role.LEADER):
            raise OnlyPresenters()
        await self._put_state(room_id, AUDIO_POLICY, policy.content(), "")
        self._set_policy(room_id, policy)
        if room_id in self._audio:
            await self._enforce_policy(room_id)

    def _set_policy(self, room_id: str, policy: AudioPolicy) -> None:
        """Our view of the policy; AudioPolicyChanged when it differs."""
        if self._policies.get(room_id) == policy:
            return
        self._policies[room_id] = policy
        self._session.bus.publish(AudioPolicyChanged(room_id, policy))
        if (audio := self._audio.get(room_id)) is not None:
            audio.remote_mutes.apply_policy(
                policy, self._others(room_id, audio), self._role_of(room_id)
            )
            self._silence_others(room_id)

    # ------------------------------------------------------------ helpers

    def _live_members(self, room_id: str) -> list[CallMember]:
        client = self._session.client
        room = client.rooms.get(room_id) if client else None
        joined = _joined(room) if room else set()
        now = _now_ms()
        return sorted(
            (
                m
                for m in self._members.get(room_id, {}).values()
                if m.live(now) and m.user_id in joined and m.focus_type == MESH_FOCUS_TYPE
            ),
            key=lambda m: m.key,
        )

    async def _load_members(self, room_id: str) -> None:
        """Everyone joined (sync loads members lazily), so no member is taken for a stranger."""
        client = self._session.require_client()
        response = await self._session.call(client.joined_members(room_id))
        if not isinstance(response, JoinedMembersResponse):
            log.info("could not load the members of %s: %s", room_id, response)

    async def _allow_call_membership(self, room_id: str) -> None:
        """Let everyone in the meeting (attendees too) say they are in its call.

        The meeting's state_default is the presenter level; a presenter joining the
        audio first lowers the level of m.call.member for everyone.
        """
        client = self._session.require_client()
        room = client.rooms.get(room_id)
        if room is None:
            raise MeetingAudioNotPossible()
        levels = room.power_levels
        own_level = levels.get_user_level(client.user_id)
        if levels.events.get(CALL_MEMBER) == 0:
            return
        if own_level < levels.get_state_event_required_level("m.room.power_levels"):
            if own_level < levels.get_state_event_required_level(CALL_MEMBER):
                raise MeetingAudioNotPossible(
                    "The meeting's audio starts when a presenter joins it. Try again then."
                )
            return
        response = await self._session.call(
            client.room_get_state_event(room_id, "m.room.power_levels")
        )
        if isinstance(response, ErrorResponse):
            raise ServerRefused(refusal_text(response))
        content = dict(response.content)
        content["events"] = {**(content.get("events") or {}), CALL_MEMBER: 0}
        await self._put_state(room_id, "m.room.power_levels", content, "")

    async def _put_membership(self, room_id: str, audio: _InAudio) -> None:
        expires = _now_ms() - audio.created_ts + self.expiry_ms
        content = membership_content(
            audio.own.device_id, audio.session_id, audio.created_ts, expires
        )
        state_key = member_state_key(*_pair(audio.own))
        await self._put_state(room_id, CALL_MEMBER, content, state_key)

    async def _clear_stale_membership(self, room_id: str) -> None:
        if room_id in self._audio:
            return
        state_key = member_state_key(self._session.user_id or "", self._own_device())
        with contextlib.suppress(ConferoError):
            await self._put_state(room_id, CALL_MEMBER, {}, state_key)

    async def _put_state(
        self, room_id: str, event_type: str, content: dict[str, Any], state_key: str
    ) -> None:
        client = self._session.require_client()
        response = await self._session.call(
            client.room_put_state(room_id, event_type, content, state_key=state_key)
        )
        if isinstance(response, ErrorResponse):
            if response.status_code == "M_FORBIDDEN":
                raise OnlyPresenters(refusal_text(response))
            raise ServerRefused(refusal_text(response))

    async def _send_to_device(
        self, to: DeviceKey, event_type: str, content: dict[str, Any]
    ) -> None:
        client = self._session.require_client()
        message = ToDeviceMessage(event_type, to.user_id, to.device_id, content)
        response = await self._session.call(client.to_device(message))
        if isinstance(response, ToDeviceError):
            raise ServerRefused(f"The server refused a call message: {response.message}")

    async def _end(self, room_id: str, audio: _InAudio, *, tell_room: bool) -> None:
        if room_id not in self._audio:  # not a rejoin begun meanwhile
            self._set_state(room_id, S.DISCONNECTED)
        ended = self._ending.setdefault(room_id, asyncio.Event())
        try:
            if audio.task is not None and audio.task is not asyncio.current_task():
                audio.task.cancel()
            await audio.focus.close()
            if tell_room:
                state_key = member_state_key(*_pair(audio.own))
                with contextlib.suppress(ConferoError):
                    await self._put_state(room_id, CALL_MEMBER, {}, state_key)
        finally:
            if self._ending.get(room_id) is ended:
                del self._ending[room_id]
            ended.set()
        self._publish_changes(room_id)

    def _set_state(self, room_id: str, state: AvModalityState) -> None:
        if self._states.get(room_id) is not state:
            self._states[room_id] = state
            self._session.bus.publish(MeetingAudioStateChanged(room_id, state))

    def _advance(self, room_id: str) -> None:
        """Joining → Connected: the first link is up, or there is no one to link with."""
        audio = self._audio.get(room_id)
        if audio is None or self.audio_state(room_id) is not S.JOINING:
            return
        links = audio.focus.remote_audio()
        others = [m for m in self._live_members(room_id) if m.key != audio.own]
        if not others or any(link.connected for link in links.values()):
            self._set_state(room_id, S.CONNECTED)

    def _publish_changes(self, room_id: str) -> None:
        """MeetingAudioChanged when who is in changes, else one event per changed person."""
        self._advance(room_id)
        in_audio = room_id in self._audio
        now = {(p.user_id, p.device_id): p for p in self.participants_in_audio(room_id)}
        current = {DeviceKey(*key): p for key, p in now.items()}
        before = self._shown.get(room_id)
        self._shown[room_id] = (in_audio, current)
        bus = self._session.bus
        if before is None or before[0] != in_audio or before[1].keys() != current.keys():
            if before is None and not current and not in_audio:
                return
            bus.publish(MeetingAudioChanged(room_id, in_audio, tuple(current.values())))
            return
        for key, participant in current.items():
            if before[1].get(key) != participant:
                bus.publish(AudioParticipantChanged(room_id, participant))

    def _ignored(self, room_id: str, sender: str, reason: str) -> None:
        log.info("ignored a meeting call event from %s in %s: %s", sender, room_id, reason)
        self._session.bus.publish(CallMemberIgnored(room_id, sender, reason))

    def _require_audio(self, room_id: str) -> _InAudio:
        audio = self._audio.get(room_id)
        if audio is None:
            raise NotInMeetingAudio()
        return audio

    def _own_device(self) -> str:
        client = self._session.client
        return (client.device_id or "") if client else ""

    # ------------------------------------------------------------ life cycle

    async def _leave_all(self) -> None:
        """Quitting: leave every call, so the others do not wait for the expiry."""
        for room_id in list(self._audio):
            await self.leave_audio(room_id)

    async def _close(self) -> None:
        audios, self._audio = list(self._audio.items()), {}
        for room_id, audio in audios:
            with contextlib.suppress(Exception):
                await self._end(room_id, audio, tell_room=False)


def _joined(room: MatrixRoom) -> set[str]:
    return set(room.users) - set(room.invited_users)


def _pair(key: DeviceKey) -> tuple[str, str]:
    return key.user_id, key.device_id


def _now_ms() -> int:
    return int(time.time() * 1000)


def _replace_policy(policy: AudioPolicy, **changes: Any) -> AudioPolicy:
    return replace(policy, **changes)
