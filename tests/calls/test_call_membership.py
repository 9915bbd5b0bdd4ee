"""The pure parts of meeting audio: m.call.member parsing and the audio policy."""

from __future__ import annotations

from engine.calls.audio_policy import AudioPolicy, parse_policy
from engine.calls.call_membership import (
    CALL_MEMBER,
    CallMember,
    DeviceKey,
    MembershipLeft,
    MembershipRejected,
    member_state_key,
    membership_content,
    parse_membership,
)

ALICE = "@alice:example.org"


def event(content: object, *, sender: str = ALICE, device: str = "DEV") -> dict:
    return {
        "type": CALL_MEMBER,
        "sender": sender,
        "state_key": member_state_key(ALICE, device),
        "content": content,
        "origin_server_ts": 1_000,
    }


def test_our_own_membership_reads_back_with_its_expiry():
    parsed = parse_membership(event(membership_content("DEV", "s1", 5_000, 60_000)))
    assert parsed == CallMember(ALICE, "DEV", "s1", "mesh", 65_000)
    assert parsed.live(64_999) and not parsed.live(65_000)


def test_the_msc4143_shape_other_clients_read():
    content = membership_content("DEV", "s1", 5_000, 60_000)
    assert content["application"] == "m.call" and content["call_id"] == ""
    assert content["scope"] == "m.room" and content["focus_active"] == {"type": "mesh"}
    assert member_state_key(ALICE, "DEV") == "_@alice:example.org_DEV"


def test_without_created_ts_or_expires_the_spec_defaults_apply():
    content = membership_content("DEV", "s1", 0, 1)
    del content["created_ts"], content["expires"]
    parsed = parse_membership(event(content))
    assert isinstance(parsed, CallMember)
    assert parsed.expires_at_ms == 1_000 + 4 * 60 * 60 * 1000


def test_empty_content_is_leaving():
    assert parse_membership(event({})) == MembershipLeft(ALICE, "DEV")


def test_another_users_state_key_is_rejected():
    parsed = parse_membership(event(membership_content("DEV", "s", 0, 1), sender="@eve:x"))
    assert isinstance(parsed, MembershipRejected) and "another user" in parsed.reason


def test_malformed_memberships_are_rejected():
    good = membership_content("DEV", "s1", 5_000, 60_000)
    for broken in (
        {**good, "device_id": "OTHER"},
        {**good, "focus_active": "mesh"},
        {**good, "foci_preferred": None},
        {**good, "expires": "soon"},
        {**good, "expires": True},
        {**good, "application": "m.other"},
        [],
    ):
        assert isinstance(parse_membership(event(broken)), MembershipRejected), broken
    assert isinstance(parse_membership({"content": good}), MembershipRejected)


def test_device_keys_order_decides_who_offers():
    assert DeviceKey("@a:x", "Z") < DeviceKey("@b:x", "A") < DeviceKey("@b:x", "B")


def test_policy_reads_bad_fields_as_defaults_and_counts_requests():
    policy = parse_policy({"attendees_can_unmute": "no", "mute_requests": {ALICE: "1"}})
    assert policy == AudioPolicy()
    muted = AudioPolicy().with_mute_request(ALICE).with_mute_request(ALICE)
    assert muted.requests_for(ALICE) == 2
    assert parse_policy(muted.content()) == muted
