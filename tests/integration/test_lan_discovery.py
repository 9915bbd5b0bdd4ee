"""Discovery of meeting servers on the network (issue 10), inside a network namespace.

The workplace's rule: no test sends multicast on this machine's real
interfaces. So announcer and browser run as subprocesses inside a network
namespace the test makes (only a loopback in it, with multicast on), and
the namespace is deleted afterwards.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.helpers.lan_peers import StartPeer, peers_in
from tests.helpers.netns import loopback_namespace

pytestmark = pytest.mark.integration

_LOOPBACK = "127.0.0.1"


@pytest.fixture
def namespace() -> Iterator[str]:
    """A network namespace of the test's own: a loopback with multicast, nothing else."""
    with loopback_namespace() as name:
        yield name


@pytest.fixture
async def peers(namespace: str) -> AsyncIterator[StartPeer]:
    async with peers_in(namespace) as peer:
        yield peer


async def test_a_server_is_announced_with_its_fingerprint_and_withdrawn(peers):
    browser = await peers("browse")
    await browser.until("browsing")
    first, second = secrets.token_bytes(32).hex(), secrets.token_bytes(32).hex()

    hannah = await peers("announce", "Hannah's laptop", "hannah.local", "8448", first, _LOOPBACK)
    await hannah.until("announced")
    found = await browser.servers_until(lambda s: len(s) == 1)
    assert found == [
        {
            "instance": "Hannah's laptop",
            "server_name": "hannah.local",
            "host": _LOOPBACK,
            "port": 8448,
            "fingerprint": first,
        }
    ]
    # A second computer of the same name is listed as well: it takes nobody's place.
    other = await peers("announce", "Hannah's laptop", "other.local", "9448", second, _LOOPBACK)
    await other.until("announced")
    both = await browser.servers_until(lambda s: len(s) == 2)
    assert {s["fingerprint"] for s in both} == {first, second}
    assert [s["instance"] for s in both] == ["Hannah's laptop"] * 2

    # Turning network access off withdraws the announcement: browsers drop it at once.
    await hannah.send("withdraw")
    await hannah.until("withdrawn")
    left = await browser.servers_until(lambda s: len(s) == 1)
    assert [(s["server_name"], s["port"], s["fingerprint"]) for s in left] == [
        ("other.local", 9448, second)
    ]
