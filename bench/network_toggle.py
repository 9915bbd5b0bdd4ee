"""Network access toggle benchmark: how long "Let people on my network join" takes. Prints only.

The embedded server (desktop profile) runs with a host signed in on loopback and
in a meeting. Several times: turn network access on, then off, and report
- seconds the toggle call takes (the server restarts on the same data folder
  and loopback port),
- seconds until the network port refuses connections after "off" (the toggle
  returns only then, so this is the same figure plus a probe),
- seconds from the toggle until the host's own message is on the server again
  (what a person at this computer notices).

Run: .venv/bin/python -m bench.network_toggle [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from engine.credentials import CredentialStore
from engine.engine import Engine
from engine.homeserver import EmbeddedHomeserver, HomeserverProfile
from engine.models import MessageState
from engine.network_hosting import local_network_addresses
from tests.helpers.keyrings import MemoryKeyring


async def _until(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.02)


async def _refused(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return True
    writer.close()
    return False


async def run(runs: int) -> None:
    address = (local_network_addresses() or ["127.0.0.1"])[0]
    with tempfile.TemporaryDirectory(prefix="confero-bench-") as tmp:
        server = EmbeddedHomeserver(Path(tmp) / "server", profile=HomeserverProfile.DESKTOP)
        await server.start()
        password = secrets.token_urlsafe(12)
        user_id = await server.register_user("bench", password)
        engine = Engine(Path(tmp) / "engine", CredentialStore(backend=MemoryKeyring()))
        try:
            await engine.session.login(server.base_url, user_id, password, remember=False)
            await engine.session.start()
            room_id = await engine.conferences.meet_now("Toggle bench")
            figures: dict[str, list[float]] = {"on": [], "off": [], "closed": [], "message": []}
            for run_no in range(runs):
                for enabled in (True, False):
                    started = time.monotonic()
                    await server.set_network_access(enabled, address=address)
                    figures["on" if enabled else "off"].append(time.monotonic() - started)
                    if not enabled:
                        assert server.network_port is not None
                        while not await _refused(address, server.network_port):
                            await asyncio.sleep(0.01)
                        figures["closed"].append(time.monotonic() - started)
                    message = await engine.conversations.send_text(room_id, f"{run_no}{enabled}")

                    def sent(key: str = message.key) -> bool:
                        return any(
                            m.key == key and m.state is MessageState.SENT
                            for m in engine.conversations.messages(room_id)
                        )

                    await _until(sent)
                    figures["message"].append(time.monotonic() - started)
            print(f"network access toggle, {runs} runs each way, address {address}")
            for name, label in (
                ("on", "turn on (call returns)"),
                ("off", "turn off (call returns)"),
                ("closed", "turn off until the port refuses"),
                ("message", "toggle until the host's message is sent"),
            ):
                values = figures[name]
                print(
                    f"  {label:40s} median {statistics.median(values):.2f} s"
                    f"  min {min(values):.2f}  max {max(values):.2f}"
                )
        finally:
            await engine.session.close()
            await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(run(parser.parse_args().runs))


if __name__ == "__main__":
    main()
