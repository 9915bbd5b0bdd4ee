import pytest

from engine.errors import InvalidHomeserverAddress, InvalidUserId
from engine.ids import normalise_homeserver_address, parse_user_id, user_id_from_login_name


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("example.org", "https://example.org"),
        ("  example.org/ ", "https://example.org"),
        ("http://127.0.0.1:8008", "http://127.0.0.1:8008"),
        ("https://matrix.example.org:8448", "https://matrix.example.org:8448"),
        ("http://[::1]:8008", "http://[::1]:8008"),
        ("localhost:8008", "https://localhost:8008"),
    ],
)
def test_addresses_people_type(typed, expected):
    assert normalise_homeserver_address(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "http://exa mple.org",
        "ftp://example.org",
        "https://example.org/path",
        "https://a@b.org",
        "https://example.org?x=1",
        "http://:80",
        "https://ex_ample.org",
        "https://example.org:99999",
        "javascript:alert(1)",
        "x" * 3000,
    ],
)
def test_malformed_addresses(typed):
    with pytest.raises(InvalidHomeserverAddress):
        normalise_homeserver_address(typed)


def test_user_ids():
    assert parse_user_id(" @alice:example.org ") == "@alice:example.org"
    assert parse_user_id("@a.b_c=d-e/f+g:127.0.0.1:8448") == "@a.b_c=d-e/f+g:127.0.0.1:8448"
    assert user_id_from_login_name("Alice", "example.org") == "@alice:example.org"
    for bad in (
        "alice",
        "@alice",
        "@Al ice:example.org",
        "@:example.org",
        "@alice:",
        "@\u202e:x.org",
    ):
        with pytest.raises(InvalidUserId):
            parse_user_id(bad)
