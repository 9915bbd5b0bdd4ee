"""Escalation benchmark: Add people to Completed on both sides. Prints figures only.

On a private embedded Synapse, Alice and Bob (two engines) share a two-party
conversation; Alice escalates it several times (each run a fresh pair). Reports,
as medians over the runs:
- seconds from escalate() (what Add people… calls) to Completed on Alice's side
  and on Bob's;
- the sum of the raw round trips an escalation needs, measured in the same run
  with plain matrix-nio calls: createRoom (same initial state), invite, send
  the request, Bob's join. The goal is within 1.2x of that sum. (Sync delivering
  the request to Bob and Bob's join to Alice come on top; they are not counted.)

Run: .venv/bin/python -m bench.escalation [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from nio import AsyncClient, RoomCreateResponse

from engine.engine import Engine
from engine.escalation_models import ConferenceEscalationProgress
from engine.homeserver import EmbeddedHomeserver, HomeserverProfile


async def signed_in(server: EmbeddedHomeserver, name: str, folder: Path) -> tuple[Engine, str]:
    password = secrets.token_urlsafe(12)
    localpart = f"{name}{secrets.token_hex(3)}"
    user_id = await server.register_user(localpart, password, displayname=name.title())
    engine = Engine(folder / localpart)
    await engine.session.login(server.base_url, user_id, password, remember=False)
    await engine.session.start()
    return engine, password


async def raw_round_trips(server: EmbeddedHomeserver, alice: str, pw_a: str, bob: str, pw_b: str):
    a, b = AsyncClient(server.base_url, alice), AsyncClient(server.base_url, bob)
    await a.login(pw_a)
    await b.login(pw_b)
    try:
        start = time.perf_counter()
        created = await a.room_create(
            name="raw",
            initial_state=[
                {"type": "org.confero.conference", "state_key": "", "content": {"x": 1}},
                {"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "invite"}},
            ],
        )
        assert isinstance(created, RoomCreateResponse)
        create = time.perf_counter() - start
        start = time.perf_counter()
        await a.room_invite(created.room_id, bob)
        invite = time.perf_counter() - start
        start = time.perf_counter()
        await a.room_send(created.room_id, "m.room.message", {"msgtype": "m.notice", "body": "x"})
        send = time.perf_counter() - start
        start = time.perf_counter()
        await b.join(created.room_id)
        join = time.perf_counter() - start
        return create + invite + send + join
    finally:
        await a.close()
        await b.close()


async def one_run(server: EmbeddedHomeserver, folder: Path) -> tuple[float, float, float]:
    alice, pw_a = await signed_in(server, "alice", folder)
    bob, pw_b = await signed_in(server, "bob", folder)
    try:
        room_id = await alice.conversations.start_direct_conversation(bob.session.user_id or "")
        while bob.conversations.conversation(room_id) is None:
            await asyncio.sleep(0.01)
        bob_done = asyncio.get_running_loop().create_future()

        def watch(event: object) -> None:
            if (
                getattr(event, "progress", None) is ConferenceEscalationProgress.COMPLETED
                and not bob_done.done()
            ):
                bob_done.set_result(time.perf_counter())

        bob.bus.subscribe(watch)
        start = time.perf_counter()
        await alice.escalation.escalate(room_id)
        alice_s = time.perf_counter() - start
        bob_s = await asyncio.wait_for(bob_done, 60) - start
        raw = await raw_round_trips(
            server, alice.session.user_id or "", pw_a, bob.session.user_id or "", pw_b
        )
        return alice_s, bob_s, raw
    finally:
        await alice.session.close()
        await bob.session.close()


async def run(runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="confero-bench-") as tmp:
        server = EmbeddedHomeserver(Path(tmp) / "hs", profile=HomeserverProfile.TEST)
        await server.start()
        try:
            results = [await one_run(server, Path(tmp)) for _ in range(runs)]
        finally:
            await server.stop()
    alice_s, bob_s, raw = (statistics.median(column) for column in zip(*results, strict=True))
    print(f"escalation, median of {runs} runs on the embedded server:")
    print(f"  Add people to Completed, initiator: {alice_s * 1000:7.0f} ms")
    print(f"  Add people to Completed, peer:      {bob_s * 1000:7.0f} ms")
    print(f"  raw round trips (create+invite+send+join): {raw * 1000:7.0f} ms")
    print(f"  initiator / raw: {alice_s / raw:.2f}x (goal 1.2x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(run(parser.parse_args().runs))


if __name__ == "__main__":
    main()
