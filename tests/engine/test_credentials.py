"""The credential store: keyring calls off the event loop, with a timeout and a way out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import asdict

import pytest

from engine.credentials import CredentialStore, CredentialStoreState, StoredSession
from engine.errors import CredentialStoreNotAnswering, CredentialStoreUnavailable
from tests.helpers.engines import eventually
from tests.helpers.keyrings import BlockingKeyring, MemoryKeyring, NoKeyring

SESSION = StoredSession("http://127.0.0.1:1", "@dana:localhost", "DEVICE", "secret-token")
KEY = ("org.confero.Confero", "remote")


@pytest.fixture
def blocked() -> Iterator[BlockingKeyring]:
    backend = BlockingKeyring()
    yield backend
    backend.close()


def slow_store(backend: BlockingKeyring, **options: float) -> CredentialStore:
    options.setdefault("slow_after_s", 0.05)
    return CredentialStore(backend=backend, **options)


async def test_a_blocked_keyring_leaves_the_loop_free_and_reports_waiting(blocked):
    blocked.entries[KEY] = json.dumps(asdict(SESSION))
    store = slow_store(blocked)
    states: list[CredentialStoreState] = []
    store.subscribe(states.append)
    loading = asyncio.ensure_future(store.load("remote"))
    await eventually(lambda: store.state is CredentialStoreState.WAITING, 5)
    ticks = 0
    while ticks < 5:  # the loop keeps turning while the keyring thread waits
        await asyncio.sleep(0.01)
        ticks += 1
    assert not loading.done()
    blocked.release()
    assert await asyncio.wait_for(loading, 5) == SESSION
    assert states == [CredentialStoreState.WAITING, CredentialStoreState.READY]


async def test_skip_gives_up_at_once_and_undoes_a_late_save(blocked):
    store = slow_store(blocked)
    saving = asyncio.ensure_future(store.save("remote", SESSION))
    await eventually(lambda: store.state is CredentialStoreState.WAITING, 5)
    store.skip()
    with pytest.raises(CredentialStoreNotAnswering):
        await asyncio.wait_for(saving, 5)
    assert store.state is CredentialStoreState.SKIPPED

    blocked.release()  # the keyring answers after all: the token must not stay
    await eventually(lambda: blocked.calls == ["set", "delete"], 5)
    assert blocked.entries == {}
    # For the rest of the run the keyring is left alone.
    assert await store.load("remote") is None
    with pytest.raises(CredentialStoreNotAnswering):
        await store.save("remote", SESSION)
    await store.delete("remote")
    store.forget("remote")
    assert not await store.available()
    assert blocked.calls == ["set", "delete"]


async def test_a_keyring_that_never_answers_times_out(blocked):
    store = slow_store(blocked, timeout_s=0.2)
    with pytest.raises(CredentialStoreNotAnswering) as caught:
        await store.save("remote", SESSION)
    assert "cannot remember your sign-in" in caught.value.user_message
    assert isinstance(caught.value, CredentialStoreUnavailable)  # callers handle both alike
    assert store.state is CredentialStoreState.READY  # a timeout is no decision to skip
    assert await store.load("remote") is None  # queued behind the stuck call: times out too
    blocked.release()
    await eventually(lambda: blocked.calls == ["set", "delete"], 5)
    assert blocked.entries == {}


async def test_a_deletion_not_waited_for_still_happens(blocked):
    blocked.entries[KEY] = "{}"
    store = slow_store(blocked)
    await store.delete("remote", wait_s=0.1)  # returns although the keyring is stuck
    assert KEY in blocked.entries
    blocked.release()
    await eventually(lambda: KEY not in blocked.entries, 5)


async def test_cancelling_the_caller_leaves_the_stuck_call_behind(blocked):
    store = slow_store(blocked)
    loading = asyncio.ensure_future(store.load("remote"))
    await eventually(lambda: blocked.asked.is_set(), 5)
    queued = asyncio.ensure_future(store.load("local"))
    await asyncio.sleep(0)
    loading.cancel()
    queued.cancel()
    done, _ = await asyncio.wait({loading, queued}, timeout=5)
    assert done == {loading, queued}
    assert store.state is CredentialStoreState.READY
    blocked.release()
    await eventually(lambda: blocked.calls == ["get"], 5)
    # The cancelled call that had not started never reaches the keyring.
    assert await store.load("remote") is None
    assert blocked.calls == ["get", "get"]


async def test_without_any_keyring() -> None:
    store = CredentialStore(backend=NoKeyring())
    with pytest.raises(CredentialStoreUnavailable) as caught:
        await store.save("remote", SESSION)
    assert not isinstance(caught.value, CredentialStoreNotAnswering)
    assert await store.load("remote") is None
    await store.delete("remote")
    assert not await store.available()


async def test_a_working_keyring_round_trip() -> None:
    backend = MemoryKeyring()
    store = CredentialStore(backend=backend)
    assert await store.available()
    await store.save("local", SESSION)
    assert SESSION.access_token not in repr(await store.load("local"))
    assert await store.load("local") == SESSION
    backend.entries[("org.confero.Confero", "local")] = "not json"
    assert await store.load("local") is None
    await store.delete("local")
    assert backend.entries == {}
    assert store.state is CredentialStoreState.READY
