import pytest

from engine.errors import InvalidMeetingLink
from engine.meeting_links import matrix_to_link, matrix_uri, parse_meeting_reference


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
