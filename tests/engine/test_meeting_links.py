import pytest

from engine.errors import InvalidGuestLink, InvalidMeetingLink
from engine.meeting_links import (
    guest_link,
    is_guest_link,
    matrix_to_link,
    matrix_uri,
    parse_guest_link,
    parse_meeting_reference,
)


@pytest.mark.parametrize(
    ("typed", "target", "via"),
    [
        ("1234567", "#1234567:home.org", ()),
        (" 123-4567 ", "#1234567:home.org", ()),
        ("https://matrix.to/#/#1234567:other.org", "#1234567:other.org", ()),
        (
            "https://matrix.to/#/%231234567%3Aother.org?via=other.org",
            "#1234567:other.org",
            ("other.org",),
        ),
        (
            "https://matrix.to/#/!abc:other.org?via=a.org&via=b.org",
            "!abc:other.org",
            ("a.org", "b.org"),
        ),
        ("matrix:r/1234567:other.org", "#1234567:other.org", ()),
        ("matrix:roomid/abc:other.org?via=other.org", "!abc:other.org", ("other.org",)),
        ("#team:127.0.0.1:8008", "#team:127.0.0.1:8008", ()),
        ("!room:localhost", "!room:localhost", ()),
    ],
)
def test_accepted_forms(typed, target, via):
    reference = parse_meeting_reference(typed, "home.org")
    assert (reference.target, reference.via) == (target, via)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "123456",
        "12345678",
        "https://example.org/#/#a:b",
        "https://matrix.to/#/@bob:hs",
        "matrix:u/bob:hs",
        "#no-server",
        "!x",
        "#a b:hs",
        "javascript:alert(1)",
        "#a:hs\u202e",
        "https://matrix.to/#/",
        "x" * 5000,
    ],
)
def test_malformed(typed):
    with pytest.raises(InvalidMeetingLink):
        parse_meeting_reference(typed, "home.org")


def test_links_round_trip():
    assert (
        parse_meeting_reference(matrix_to_link("#1234567:hs.org"), "x").target == "#1234567:hs.org"
    )
    assert parse_meeting_reference(matrix_uri("#1234567:hs.org"), "x").target == "#1234567:hs.org"


# ---------------------------------------------------------------- guest links

_FP = bytes(range(32))
_GOOD = guest_link("#1234567:host.local", "192.168.1.20", 8448, _FP, "abc_DEF-12")


def test_guest_link_round_trip():
    expected = (
        "matrix:r/1234567:host.local?action=join&org.confero.server=192.168.1.20:8448"
        f"&org.confero.fp={_FP.hex()}&org.confero.token=abc_DEF-12"
    )
    assert expected == _GOOD
    link = parse_guest_link(_GOOD)
    assert (link.alias, link.host, link.port, link.fingerprint, link.token) == (
        "#1234567:host.local",
        "192.168.1.20",
        8448,
        _FP,
        "abc_DEF-12",
    )
    assert link.base_url == "https://192.168.1.20:8448"
    assert "abc_DEF-12" not in repr(link)
    assert is_guest_link(_GOOD) and not is_guest_link("matrix:r/1234567:host.local")
    # Other Matrix clients (and Join a meeting) still read it as the meeting's address.
    assert parse_meeting_reference(_GOOD, "x.org").target == "#1234567:host.local"


def test_guest_link_ipv6_and_colon_fingerprint():
    link = parse_guest_link(guest_link("#1234567:h", "fd00::2", 9000, _FP, "t"))
    assert (link.host, link.base_url) == ("fd00::2", "https://[fd00::2]:9000")
    shown = ":".join(f"{b:02X}" for b in _FP)
    link = parse_guest_link(_GOOD.replace(_FP.hex(), f"sha256:{shown}"))
    assert link.fingerprint == _FP


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("https://matrix.to/#/#1234567:host.local", "should start with “matrix:”"),
        (_GOOD.replace("matrix:r/", "matrix:roomid/"), "does not name a meeting"),
        (_GOOD.replace("1234567:host.local", "1234567"), "does not name a meeting"),
        (_GOOD.replace("org.confero.server=192.168.1.20:8448&", ""), "no server address"),
        (_GOOD.replace(":8448", ""), "server address in the guest link is not valid"),
        (_GOOD.replace(":8448", ":70000"), "server address in the guest link is not valid"),
        (_GOOD.replace("192.168.1.20", "bad host"), "spaces or line breaks"),
        (_GOOD.replace(f"&org.confero.fp={_FP.hex()}", ""), "no certificate fingerprint"),
        (_GOOD.replace(_FP.hex(), _FP.hex()[:-2]), "fingerprint in the guest link is not valid"),
        (_GOOD.replace(_FP.hex(), "zz" + _FP.hex()[2:]), "fingerprint in the guest link is not"),
        (_GOOD.replace("&org.confero.token=abc_DEF-12", ""), "no invitation"),
        (_GOOD.replace("abc_DEF-12", "a%2Fb"), "invitation in the guest link is not valid"),
        (_GOOD.replace("abc_DEF-12", "x" * 65), "invitation in the guest link is not valid"),
        (_GOOD + "&org.confero.token=again", "twice"),
    ],
)
def test_guest_link_says_which_part_is_wrong(text, says):
    with pytest.raises(InvalidGuestLink) as raised:
        parse_guest_link(text)
    assert says in raised.value.user_message
    assert isinstance(raised.value, InvalidMeetingLink)  # the UI's existing handling applies
