"""Mesh audio benchmark: the largest full mesh this machine sustains without gaps.

Prints figures, asserts nothing. A mesh of N is measured from one participant's seat,
the way a user runs it: this process is that client (one AudioPeerFactory, its
microphone a virtual device playing a tone, N-1 AudioPeers: Opus encoded once per
peer, N-1 streams decoded and mixed to its speaker). The other N-1 participants run in
a second process (one peer each, sending a generated tone of its own frequency through
aiortc: ToneTrack, not a device), so the machine carries both sides of every stream
the client has. The client's speaker is recorded for a while and each tone is checked
for gaps (bench/audio_gaps.py: 10 ms windows where that tone falls below half its
level). N grows until a gap shows; the largest N without one is printed with the CPU
both processes used.

Run: .venv/bin/python -m bench.audio_mesh [--sizes 2,3,5,7,9,11,13] [--listen 8]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

from bench.audio_gaps import Gaps, find_gaps
from engine.media.audio_peer import AudioPeer, AudioPeerFactory
from engine.media.devices import AudioDevices
from engine.media.media_thread import MediaThread
from engine.media.tracks import ToneTrack
from tests.helpers.audio import TonePlayer, record
from tests.helpers.pulse import PulseServer

CLIENT_TONE = 250.0


def frequency(index: int) -> float:
    """Remote ``index``'s tone: 150 Hz apart, three 50 Hz bins of a 20 ms window."""
    return 400.0 + 150.0 * index


# --- the other participants (second process) -----------------------------------------


def remotes_main(server: str, speaker: str, count: int, connection: Connection) -> None:
    asyncio.run(_remotes(server, speaker, count, connection))


async def _remotes(server: str, speaker: str, count: int, connection: Connection) -> None:
    thread = MediaThread("bench-remotes")
    devices = AudioDevices(None, speaker, server=server)
    factory = AudioPeerFactory(thread, devices)
    amplitude = 0.6 / count  # their sum at the client's ear stays below full scale
    peers: list[AudioPeer] = []
    cpu0 = 0.0
    try:
        while True:
            message = await asyncio.to_thread(connection.recv)
            kind = message[0]
            if kind == "offer":
                _, index, sdp = message
                tone = frequency(index)
                peer = AudioPeer(
                    thread,
                    devices,
                    factory.mixer,
                    track_factory=lambda tone=tone: ToneTrack(tone, amplitude),
                )
                peers.append(peer)
                connection.send(await peer.accept_offer(sdp))
            elif kind == "cpu_start":
                cpu0 = time.process_time()
                connection.send(None)
            elif kind == "cpu_stop":
                connection.send(time.process_time() - cpu0)
            else:
                break
    finally:
        for peer in peers:
            await peer.close()
        devices.close()
        thread.stop(5)
        connection.send("closed")


# --- the client under test (this process) --------------------------------------------


async def connected(peers: list[AudioPeer], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while any(p.state != "connected" for p in peers):
        if time.monotonic() > deadline or any(p.state in ("failed", "closed") for p in peers):
            return False
        await asyncio.sleep(0.05)
    return True


async def ask(connection: Connection, message: tuple[object, ...]) -> object:
    connection.send(message)
    return await asyncio.to_thread(connection.recv)


async def mesh(pulse: PulseServer, thread: MediaThread, size: int, listen: float) -> dict:
    me, them = pulse.participant(f"client{size}"), pulse.participant(f"remotes{size}")
    devices = AudioDevices(me.mic, me.speaker, server=pulse.server)
    factory = AudioPeerFactory(thread, devices)
    others = size - 1
    parent_end, child_end = multiprocessing.Pipe()
    child = multiprocessing.get_context("spawn").Process(
        target=remotes_main, args=(pulse.server, them.speaker, others, child_end), daemon=True
    )
    child.start()
    peers: list[AudioPeer] = []
    result: dict = {"size": size}
    try:
        with TonePlayer(pulse.server, me.mic_sink, CLIENT_TONE, amplitude=0.3):
            for index in range(others):
                peer = factory.new_peer()
                peers.append(peer)
                answer = await ask(parent_end, ("offer", index, await peer.create_offer()))
                await peer.accept_answer(str(answer))
            result["connected"] = await connected(peers)
            await asyncio.sleep(2.0)  # every stream reaches the ear; buffers settle
            await ask(parent_end, ("cpu_start",))
            cpu0, wall0 = time.process_time(), time.monotonic()
            heard = await asyncio.to_thread(
                record, pulse.server, me.speaker_monitor, int(listen * 1000)
            )
            wall = time.monotonic() - wall0
            result["client_cpu"] = (time.process_time() - cpu0) / wall
            result["remotes_cpu"] = float(await ask(parent_end, ("cpu_stop",))) / wall  # type: ignore[arg-type]
            result["load"] = os.getloadavg()[0]
        result["gaps"] = [find_gaps(heard, frequency(i)) for i in range(others)]
    finally:
        for peer in peers:
            await peer.close()
        devices.close()
        parent_end.send(("stop",))
        await asyncio.to_thread(child.join, 10)
        if child.is_alive():
            child.kill()
    return result


def describe(result: dict) -> str:
    gaps: list[Gaps] = result.get("gaps", [])
    events = sum(g.events for g in gaps)
    worst = max((g.gap_ms for g in gaps), default=0.0)
    quiet = min((g.median_amplitude for g in gaps), default=0.0)
    state = "" if result.get("connected") else "  (not all connected)"
    return (
        f"  mesh of {result['size']:2d} ({result['size'] - 1:2d} others): "
        f"{events:3d} gap(s), worst stream {worst:5.0f} ms of gaps; "
        f"CPU client {result.get('client_cpu', 0) * 100:5.1f} %, "
        f"others {result.get('remotes_cpu', 0) * 100:5.1f} % of a core; "
        f"quietest tone {quiet:.3f}; load {result.get('load', 0):.1f}{state}"
    )


def sustained(result: dict) -> bool:
    return bool(result.get("connected")) and all(g.events == 0 for g in result.get("gaps", []))


async def main(sizes: list[int], listen: float, rounds: int) -> None:
    print(
        f"Full mesh from one client's seat ({listen:.0f} s listened per size, "
        f"{os.cpu_count()} cores)"
    )
    with tempfile.TemporaryDirectory(prefix="confero-mesh-bench-") as folder:
        pulse = PulseServer(Path(folder))
        pulse.start()
        thread = MediaThread()
        best = 0
        try:
            for size in sizes:
                results = []
                for _ in range(rounds):
                    result = await mesh(pulse, thread, size, listen)
                    print(describe(result), flush=True)
                    results.append(result)
                # A size counts when most rounds had no gap (the machine is shared).
                if sum(sustained(r) for r in results) * 2 > len(results):
                    best = size
                else:
                    break
        finally:
            thread.stop(5)
            pulse.stop()
    print(f"  largest mesh without gaps: {best} participants ({max(best - 1, 0)} others)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2,3,5,7,9,11,13,15")
    parser.add_argument("--listen", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=1, help="runs per size (majority counts)")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",") if n.strip()]
    asyncio.run(main(sizes, args.listen, args.rounds))
