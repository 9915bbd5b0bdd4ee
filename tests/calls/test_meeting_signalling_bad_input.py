"""Bad input on a meeting's to-device call signalling and its m.call.member state.

Alice and Bob (real engines, real media on the private PulseAudio server, tones
checked by FFT) are in a meeting's audio. A plain matrix-nio client stands for a
misbehaving or hostile Matrix client and sends the meeting's to-device call events
to Alice by hand: each is ignored or refused with a log line and a CallMemberIgnored
event, never a crash or a hanging call, and Alice and Bob keep hearing each other.
The offers it sends are real SDP made by aiortc in the test (one with audio, one
with only a data channel).

The plain client's account is named "Aaron" so that its user ID sorts before Alice's:
in the mesh the lesser device offers, so Alice waits for Aaron's invites and never
calls him herself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from aiortc import RTCPeerConnection
from nio import AsyncClient, ToDeviceMessage

from engine.calls import voip_events as ve
from engine.calls.call_membership import CALL_MEMBER, member_state_key, membership_content
from engine.calls.call_models import AvModalityState
from engine.calls.meeting_call_events import CallMemberIgnored
from engine.calls.mesh_focus import MAX_PENDING_INVITES
from tests.calls.conftest import Phone, Phones, meeting_of, plain_member
from tests.helpers.audio import TonePlayer
from tests.helpers.engines import eventually, expect_event
from tests.helpers.plain_clients import sync_until
from tests.helpers.sound import until_hears

pytestmark = pytest.mark.integration

S = AvModalityState
SESSION = "aaron-session-1"


class Signaller:
    """The plain client's side of the meeting's call: its membership, its messages."""

    def __init__(self, client: AsyncClient, room_id: str, alice: Phone) -> None:
        self.client = client
        self.room_id = room_id
        self.alice = alice
        self.alice_device = alice.engine.session.client.device_id
        self.alice_session = ""
        self.seq = 0

    async def read_alice(self) -> None:
        """Alice's stay in the call (its session_id), from the room's state."""
        key = member_state_key(self.alice.user_id, self.alice_device)
        alice_client = self.alice.engine.session.client
        state = await alice_client.room_get_state_event(self.room_id, CALL_MEMBER, key)
        self.alice_session = state.content["session_id"]

    async def join_call(self, device_id: str | None = None, session_id: str = SESSION) -> None:
        device = device_id or self.client.device_id
        await self.client.room_put_state(
            self.room_id,
            CALL_MEMBER,
            membership_content(device, session_id, int(time.time() * 1000), 600_000),
            state_key=member_state_key(self.client.user_id, device),
        )

    def fields(self, call_id: str, **changes: Any) -> dict[str, Any]:
        self.seq += 1
        content = {
            "call_id": call_id,
            "party_id": "aaronparty",
            "version": ve.VERSION,
            "conf_id": self.room_id,
            "device_id": self.client.device_id,
            "sender_session_id": SESSION,
            "dest_session_id": self.alice_session,
            "seq": self.seq,
        }
        content.update(changes)
        return content

    def invite(self, call_id: str, sdp: str, **changes: Any) -> dict[str, Any]:
        content = ve.invite_content(call_id, "aaronparty", sdp, 30_000)
        return {**content, **self.fields(call_id, **changes)}

    async def send(self, event_type: str, content: dict[str, Any]) -> None:
        message = ToDeviceMessage(event_type, self.alice.user_id, self.alice_device, content)
        await self.client.to_device(message)


async def offer_sdp(make: Callable[[RTCPeerConnection], None]) -> str:
    peer = RTCPeerConnection()
    try:
        make(peer)
        await peer.setLocalDescription(await peer.createOffer())
        return peer.localDescription.sdp
    finally:
        await peer.close()


def ignored(phone: Phone, words: str):
    """A future: the next CallMemberIgnored whose reason has ``words``."""
    return expect_event(
        phone.engine, lambda e: isinstance(e, CallMemberIgnored) and words in e.reason, 20
    )


async def in_audio_together(room_id: str, alice: Phone, bob: Phone) -> None:
    for phone, other in ((alice, bob), (bob, alice)):
        await eventually(
            lambda ph=phone, o=other: any(
                p.user_id == o.user_id and p.connected
                for p in ph.engine.meeting_calls.participants_in_audio(room_id)
            ),
            30,
        )


async def still_hear_each_other(alice: Phone, bob: Phone) -> None:
    with (
        TonePlayer(alice.server, alice.devices.mic_sink, 440),
        TonePlayer(bob.server, bob.devices.mic_sink, 660),
    ):
        await until_hears(bob, 440)
        await until_hears(alice, 660)


async def test_bad_to_device_signalling_is_ignored_and_the_call_goes_on(
    phones: Phones, plain_client
):
    alice, bob = await phones("Alice"), await phones("Bob")
    room_id = await meeting_of(alice, bob)
    aaron = await plain_member(alice, room_id, plain_client, "Aaron")
    assert aaron.user_id < alice.user_id and aaron.user_id < bob.user_id  # Aaron offers
    for phone in (alice, bob):
        await phone.engine.meeting_calls.join_audio(room_id)
    await in_audio_together(room_id, alice, bob)
    signaller = Signaller(aaron, room_id, alice)
    await signaller.read_alice()
    audio_sdp = await offer_sdp(lambda pc: pc.addTransceiver("audio"))
    no_audio_sdp = await offer_sdp(lambda pc: pc.createDataChannel("chat"))
    assert "m=audio" not in no_audio_sdp

    # Not a member of the call (no m.call.member yet): his invite is not taken.
    not_member = ignored(alice, "not in the call")
    await signaller.send(ve.INVITE, signaller.invite(ve.new_voip_id(), audio_sdp))
    assert (await not_member).sender == aaron.user_id

    await signaller.join_call()
    await eventually(
        lambda: any(
            p.user_id == aaron.user_id
            for p in alice.engine.meeting_calls.participants_in_audio(room_id)
        )
    )
    peers_before = len(alice.peers)

    # Malformed: a call_id that is no VoIP ID, an invite with no offer, another stay's.
    malformed = ignored(alice, "without device_id or call_id")
    await signaller.send(ve.INVITE, signaller.invite("not a call id!", audio_sdp))
    await malformed
    no_offer = ignored(alice, "without an offer")
    await signaller.send(ve.INVITE, signaller.fields(ve.new_voip_id(), offer="v=0"))
    await no_offer
    elsewhere = ignored(alice, "another stay")
    invite = signaller.invite(ve.new_voip_id(), audio_sdp, dest_session_id="someone-else")
    await signaller.send(ve.INVITE, invite)
    await elsewhere
    # An SDP without audio: refused, the link marked failed, no media for it.
    no_audio = ignored(alice, "bad offer")
    await signaller.send(ve.INVITE, signaller.invite(ve.new_voip_id(), no_audio_sdp))
    await no_audio
    # Candidates for a call nobody made.
    unknown = ignored(alice, "candidates for no call")
    candidates = ve.candidates_content(ve.new_voip_id(), "aaronparty", [{"candidate": ""}])
    await signaller.send(ve.CANDIDATES, {**candidates, **signaller.fields(candidates["call_id"])})
    await unknown
    assert len(alice.peers) == peers_before + 1  # only the no-audio offer got a peer (closed)

    # A real offer is answered; the same invite again is a replay, refused.
    call_id = ve.new_voip_id()
    real = signaller.invite(call_id, audio_sdp)
    await signaller.send(ve.INVITE, real)
    answers: list[dict[str, Any]] = []

    def answered() -> bool:
        answers.extend(
            e.source["content"]
            for e in aaron_events
            if e.source.get("type") == ve.ANSWER and e.source["content"].get("call_id") == call_id
        )
        aaron_events.clear()
        return bool(answers)

    aaron_events: list[Any] = []
    aaron.add_to_device_callback(lambda event: aaron_events.append(event), object)
    await sync_until(aaron, answered)
    assert "m=audio" in answers[0]["answer"]["sdp"]
    replayed = ignored(alice, "replayed")
    await signaller.send(ve.INVITE, real)
    await replayed
    assert len(alice.peers) == peers_before + 2

    assert alice.engine.meeting_calls.in_audio(room_id)
    assert alice.engine.meeting_calls.audio_state(room_id) is S.CONNECTED
    await still_hear_each_other(alice, bob)


async def test_signalling_from_outside_the_room_is_ignored(phones: Phones, plain_client):
    alice, bob = await phones("Alice"), await phones("Bob")
    room_id = await meeting_of(alice, bob)
    eve = await plain_client("Aaron")  # never joins the meeting
    for phone in (alice, bob):
        await phone.engine.meeting_calls.join_audio(room_id)
    await in_audio_together(room_id, alice, bob)
    # Say she learnt Alice's stay in the call (its session_id) somehow.
    spoofer = Signaller(eve, room_id, alice)
    await spoofer.read_alice()
    audio_sdp = await offer_sdp(lambda pc: pc.addTransceiver("audio"))
    peers_before = len(alice.peers)

    refused = ignored(alice, "not in the call")
    await spoofer.send(ve.INVITE, spoofer.invite(ve.new_voip_id(), audio_sdp))
    assert (await refused).sender == eve.user_id
    # Posing as Bob's device in the content does not make it Bob's.
    as_bob = ignored(alice, "not in the call")
    bob_device = bob.engine.session.client.device_id
    await spoofer.send(ve.INVITE, spoofer.invite(ve.new_voip_id(), audio_sdp, device_id=bob_device))
    await as_bob
    hangup = ve.hangup_content(ve.new_voip_id(), "p", ve.HangupReason.USER_HANGUP)
    await spoofer.send(ve.HANGUP, {**hangup, **spoofer.fields(hangup["call_id"])})

    assert len(alice.peers) == peers_before
    await still_hear_each_other(alice, bob)


async def test_invites_waiting_for_a_link_are_bounded(phones: Phones, plain_client):
    alice = await phones("Alice")
    room_id = await meeting_of(alice)
    aaron = await plain_member(alice, room_id, plain_client, "Aaron")
    await alice.engine.meeting_calls.join_audio(room_id)
    signaller = Signaller(aaron, room_id, alice)
    await signaller.read_alice()
    # Many devices of his in the call, each inviting from a stay its membership does
    # not name: Alice keeps those invites (a membership may be on its way), but only
    # so many.
    devices = [f"DEV{n:02d}" for n in range(MAX_PENDING_INVITES + 3)]
    for device in devices:
        await signaller.join_call(device)
    await eventually(
        lambda: len(alice.engine.meeting_calls.participants_in_audio(room_id)) == len(devices) + 1,
        30,
    )
    dropped = ignored(alice, "too many waiting")
    for device in devices:
        invite = signaller.invite(
            ve.new_voip_id(), "v=0", device_id=device, sender_session_id="another-stay"
        )
        await signaller.send(ve.INVITE, invite)
    await dropped
    assert alice.engine.meeting_calls.in_audio(room_id)
    assert alice.peers == []  # nothing answered: no such stay is in the call


async def test_a_membership_whose_sender_left_the_room_is_not_counted(phones: Phones, plain_client):
    alice = await phones("Alice")
    room_id = await meeting_of(alice)
    await alice.engine.meeting_calls.join_audio(room_id)  # lets anyone say they are in
    mallory = await plain_client("Mallory")
    await mallory.join(room_id)
    await eventually(lambda: mallory.user_id in alice.engine.session.client.rooms[room_id].users)
    now_ms = int(time.time() * 1000)
    await mallory.room_put_state(
        room_id,
        CALL_MEMBER,
        membership_content("GHOST", "s1", now_ms, 600_000),
        state_key=member_state_key(mallory.user_id, "GHOST"),
    )
    await mallory.room_leave(room_id)
    await eventually(
        lambda: mallory.user_id not in alice.engine.session.client.rooms[room_id].users
    )

    # Bob joins later: the room's state still holds her live membership, from someone
    # who is not in the room. Ignored with a reason, and not in the call for him.
    bob = await phones("Bob")
    not_in_room = ignored(bob, "sender is not in the room")
    await bob.engine.conferences.join(room_id)
    assert (await not_in_room).sender == mallory.user_id
    await bob.engine.meeting_calls.join_audio(room_id)
    await eventually(
        lambda: (
            {p.user_id for p in bob.engine.meeting_calls.participants_in_audio(room_id)}
            == {alice.user_id, bob.user_id}
        ),
        30,
    )
