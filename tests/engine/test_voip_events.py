"""Building and reading Matrix VoIP (version "1") events: plain data, no server."""

from __future__ import annotations

from typing import Any

import pytest

from engine.calls import voip_events as ve

ROOM = "!room:example.org"
SDP = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"


def event(event_type: str, content: Any, **extra: Any) -> dict[str, Any]:
    return {
        "type": event_type,
        "sender": "@bob:example.org",
        "event_id": "$e1",
        "content": content,
        **extra,
    }


def test_built_events_carry_the_v1_fields():
    invite = ve.invite_content("call1", "partyA", SDP, 90_000, invitee="@bob:example.org")
    assert invite == {
        "call_id": "call1",
        "party_id": "partyA",
        "version": "1",
        "lifetime": 90_000,
        "offer": {"type": "offer", "sdp": SDP},
        "invitee": "@bob:example.org",
    }
    assert ve.answer_content("call1", "partyB", SDP)["answer"] == {"type": "answer", "sdp": SDP}
    assert ve.select_answer_content("call1", "partyA", "partyB")["selected_party_id"] == "partyB"
    assert ve.hangup_content("call1", "p", ve.HangupReason.ICE_FAILED)["reason"] == "ice_failed"
    assert ve.reject_content("call1", "p") == {"call_id": "call1", "party_id": "p", "version": "1"}
    negotiate = ve.negotiate_content("call1", "p", "offer", SDP)
    assert negotiate["description"] == {"type": "offer", "sdp": SDP}
    assert negotiate["lifetime"] > 0


def test_candidates_are_batched_with_an_end_of_candidates_entry():
    found = [{"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0"}]
    content = ve.candidates_content("call1", "p", found)
    assert content["candidates"][0] == found[0]
    assert content["candidates"][-1]["candidate"] == ""
    assert len(content["candidates"]) == 2


@pytest.mark.parametrize(
    ("event_type", "builder", "expected"),
    [
        (ve.INVITE, lambda: ve.invite_content("c1", "p1", SDP, 5000), ve.Invite),
        (ve.ANSWER, lambda: ve.answer_content("c1", "p1", SDP), ve.Answer),
        (ve.SELECT_ANSWER, lambda: ve.select_answer_content("c1", "p1", "p2"), ve.SelectAnswer),
        (ve.CANDIDATES, lambda: ve.candidates_content("c1", "p1", []), ve.Candidates),
        (ve.HANGUP, lambda: ve.hangup_content("c1", "p1", ve.HangupReason.USER_BUSY), ve.Hangup),
        (ve.REJECT, lambda: ve.reject_content("c1", "p1"), ve.Reject),
        (ve.NEGOTIATE, lambda: ve.negotiate_content("c1", "p1", "answer", SDP), ve.Negotiate),
    ],
)
def test_what_we_build_we_read_back(event_type, builder, expected):
    parsed = ve.parse_voip_event(ROOM, event(event_type, builder(), unsigned={"age": 1200}))
    assert isinstance(parsed, ve.ReceivedVoip)
    assert isinstance(parsed.message, expected)
    assert (parsed.room_id, parsed.sender, parsed.age_ms) == (ROOM, "@bob:example.org", 1200)
    assert (parsed.message.call_id, parsed.message.party_id) == ("c1", "p1")


def test_other_events_are_not_call_events():
    assert ve.parse_voip_event(ROOM, event("m.room.message", {"body": "hi"})) is None


@pytest.mark.parametrize(
    "content",
    [
        None,
        "a string",
        {"party_id": "p", "version": "1", "lifetime": 1, "offer": {"sdp": SDP}},  # no call_id
        {"call_id": "has space", "party_id": "p", "version": "1", "lifetime": 1},
        {"call_id": "c" * 256, "party_id": "p", "version": "1", "lifetime": 1},
        {"call_id": "c", "party_id": "p", "version": "1", "lifetime": 1000},  # no offer
        {"call_id": "c", "party_id": "p", "version": "1", "lifetime": 1000, "offer": {"sdp": ""}},
        {"call_id": "c", "party_id": "p", "version": "1", "lifetime": -5, "offer": {"sdp": SDP}},
        {"call_id": "c", "party_id": "p", "version": "1", "lifetime": "90", "offer": {"sdp": SDP}},
        {"call_id": "c", "version": "1", "lifetime": 1000, "offer": {"sdp": SDP}},  # no party
        {"call_id": "c", "party_id": 7, "version": "1", "lifetime": 1000, "offer": {"sdp": SDP}},
    ],
)
def test_malformed_invites_are_typed_rejections(content):
    parsed = ve.parse_voip_event(ROOM, event(ve.INVITE, content))
    assert isinstance(parsed, ve.VoipRejection)
    assert parsed.kind is ve.RejectionKind.MALFORMED
    assert "m.call.invite" in parsed.log_text()


def test_candidate_lists_keep_the_readable_entries():
    content = {"call_id": "c", "party_id": "p", "version": "1"}
    good = {"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMLineIndex": 0}
    parsed = ve.parse_voip_event(ROOM, event(ve.CANDIDATES, {**content, "candidates": [good, 5]}))
    assert isinstance(parsed, ve.ReceivedVoip)
    assert parsed.message.candidates == (good,)
    only_bad = ve.parse_voip_event(ROOM, event(ve.CANDIDATES, {**content, "candidates": [{}]}))
    assert isinstance(only_bad, ve.VoipRejection)
    missing = ve.parse_voip_event(ROOM, event(ve.CANDIDATES, content))
    assert isinstance(missing, ve.VoipRejection)


def test_version_0_events_and_hangups_without_reason_are_understood():
    old = {"call_id": "c", "version": 0}
    parsed = ve.parse_voip_event(ROOM, event(ve.HANGUP, old))
    assert isinstance(parsed, ve.ReceivedVoip)
    assert parsed.message.reason is ve.HangupReason.USER_HANGUP
    assert parsed.message.party_id == ""
    odd = {"call_id": "c", "party_id": "p", "version": "1", "reason": "gremlins"}
    parsed = ve.parse_voip_event(ROOM, event(ve.HANGUP, odd))
    assert parsed.message.reason is ve.HangupReason.UNKNOWN_ERROR


def test_negotiate_accepts_the_older_offer_field():
    content = {"call_id": "c", "party_id": "p", "version": "1", "lifetime": 10_000}
    parsed = ve.parse_voip_event(
        ROOM, event(ve.NEGOTIATE, {**content, "offer": {"type": "offer", "sdp": SDP}})
    )
    assert isinstance(parsed, ve.ReceivedVoip)
    assert parsed.message.description_type == "offer"


def test_new_ids_follow_the_grammar():
    ids = {ve.new_voip_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(ve.is_voip_id(i) and len(i) >= 8 for i in ids)
