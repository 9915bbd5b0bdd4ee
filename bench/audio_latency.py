"""Audio benchmark: prints figures, asserts nothing.

On a private PulseAudio server (tests/helpers/pulse.py) with virtual devices, two
AudioPeers in this process call each other over loopback, through the same code a
user runs (microphone capture, Opus, RTP, mixer, speaker). Reports:
- mouth-to-ear latency: generated 1 kHz tone bursts are written into A's microphone
  sink, timestamped with the sound server's playback latency, and their onsets found
  in B's speaker monitor (minus the record latency); median and p95 (ITU-T G.114's
  comfort limit is 150 ms one way);
- where that latency goes: each burst timestamped as it passes capture, the media
  loop, decoding, the mixer and the ear (bench/audio_stages.py), with the queues in
  between (jitter buffer, mixer buffer, PulseAudio's record and playback latency);
- continuity: a steady tone through the same call, its gaps counted at B's ear
  (bench/audio_gaps.py), so a latency tuning cannot buy its figure with dropouts;
- CPU per audio stream: this process's CPU time / wall time with N calls running
  (each call is two peer connections here, one per side, both in this process).

The mesh and the UI-thread figures are bench/audio_mesh.py and bench/call_stalls.py.

Run: .venv/bin/python -m bench.audio_latency [--bursts N] [--streams 1,2,4] [--listen S]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pasimple

from bench.audio_gaps import find_gaps
from bench.audio_stages import StageProbe, median_ms
from engine.media.audio_peer import AudioPeer, AudioPeerFactory
from engine.media.devices import SAMPLE_RATE, AudioDevices
from engine.media.media_thread import MediaThread
from tests.helpers.audio import TonePlayer, record
from tests.helpers.pulse import Participant, PulseServer

CHUNK = SAMPLE_RATE // 100  # 10 ms
BURST_EVERY = 50  # chunks: one burst each 500 ms
BURST_CHUNKS = 8  # 80 ms of tone
ONSET = 0.08  # |sample| above this starts a burst at the ear
QUIET = 0.02  # a chunk with its peak below this ends it


class BurstWriter(threading.Thread):
    """Writes silence with tone bursts into a sink; notes when each burst is heard."""

    def __init__(self, server: str, sink: str) -> None:
        super().__init__(daemon=True)
        self.server, self.sink = server, sink
        self.emitted: list[float] = []
        self.halt = threading.Event()

    def run(self) -> None:
        t = np.arange(CHUNK) / SAMPLE_RATE
        tone = (0.5 * np.sin(2 * np.pi * 1000 * t) * 32767).astype("<i2").tobytes()
        silence = bytes(CHUNK * 2)
        with pasimple.PaSimple(
            pasimple.PA_STREAM_PLAYBACK,
            pasimple.PA_SAMPLE_S16LE,
            1,
            SAMPLE_RATE,
            server_name=self.server,
            device_name=self.sink,
            tlength=4 * CHUNK * 2,
            prebuf=CHUNK * 2,
            minreq=CHUNK * 2,
        ) as stream:
            index = 0
            while not self.halt.is_set():
                bursting = index % BURST_EVERY < BURST_CHUNKS
                stream.write(tone if bursting else silence)
                if index % BURST_EVERY == 0 and index > 0:
                    # Written: the chunk's first sample plays after what is queued before it.
                    queued = stream.get_latency() / 1e6 - CHUNK / SAMPLE_RATE
                    self.emitted.append(time.monotonic() + max(0.0, queued))
                index += 1


class OnsetListener(threading.Thread):
    """Records a monitor and timestamps each burst onset."""

    def __init__(self, server: str, source: str) -> None:
        super().__init__(daemon=True)
        self.server, self.source = server, source
        self.onsets: list[float] = []
        self.halt = threading.Event()

    def run(self) -> None:
        with pasimple.PaSimple(
            pasimple.PA_STREAM_RECORD,
            pasimple.PA_SAMPLE_S16LE,
            1,
            SAMPLE_RATE,
            server_name=self.server,
            device_name=self.source,
            fragsize=CHUNK * 2,
        ) as stream:
            in_burst = False
            while not self.halt.is_set():
                samples = np.frombuffer(stream.read(CHUNK * 2), dtype="<i2") / 32768.0
                now = time.monotonic()
                loud = np.flatnonzero(np.abs(samples) > ONSET)
                if not in_burst and loud.size:
                    behind = (CHUNK - loud[0]) / SAMPLE_RATE + stream.get_latency() / 1e6
                    self.onsets.append(now - behind)
                    in_burst = True
                elif in_burst and np.abs(samples).max() < QUIET:
                    in_burst = False


def pair_up(emitted: list[float], onsets: list[float]) -> list[float]:
    """Each onset's delay after the latest burst written before it (within 400 ms)."""
    delays = []
    for onset in onsets:
        before = [e for e in emitted if e <= onset + 0.005]
        if before and onset - before[-1] < 0.4:
            delays.append(max(0.0, onset - before[-1]))
    return delays


async def connect(a: AudioPeer, b: AudioPeer) -> None:
    await a.accept_answer(await b.accept_offer(await a.create_offer()))
    deadline = time.monotonic() + 20
    while not (a.state == b.state == "connected"):
        if time.monotonic() > deadline:
            raise TimeoutError("the peers did not connect")
        await asyncio.sleep(0.02)


def factory(thread: MediaThread, server: str, person: Participant) -> AudioPeerFactory:
    return AudioPeerFactory(thread, AudioDevices(person.mic, person.speaker, server=server))


async def latency(pulse: PulseServer, thread: MediaThread, bursts: int, listen: float) -> None:
    alice, bob = pulse.participant("alice"), pulse.participant("bob")
    fa, fb = factory(thread, pulse.server, alice), factory(thread, pulse.server, bob)
    with StageProbe() as probe:
        a, b = fa.new_peer(), fb.new_peer()
        await connect(a, b)
        listener = OnsetListener(pulse.server, bob.speaker_monitor)
        writer = BurstWriter(pulse.server, alice.mic_sink)
        listener.start()
        await asyncio.sleep(0.5)  # let the speaker stream settle before the first burst
        writer.start()
        while len(writer.emitted) < bursts:
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        writer.halt.set()
        listener.halt.set()
    delays = sorted(d * 1000 for d in pair_up(writer.emitted, listener.onsets))
    print(f"mouth-to-ear latency on loopback ({len(delays)} of {len(writer.emitted)} bursts heard)")
    if delays:
        p95 = delays[min(len(delays) - 1, round(0.95 * (len(delays) - 1)))]
        print(f"  median {statistics.median(delays):6.1f} ms   p95 {p95:6.1f} ms   (G.114: 150 ms)")
    print_split(probe, writer.emitted, listener.onsets)
    await continuity(pulse, alice, bob, listen)
    await a.close()
    await b.close()
    fa.devices.close()
    fb.devices.close()


async def continuity(
    pulse: PulseServer, alice: Participant, bob: Participant, listen: float
) -> None:
    """A steady tone through the same call: does what B hears ever break up?"""
    with TonePlayer(pulse.server, alice.mic_sink, 1000.0):
        await asyncio.sleep(1.0)  # the tone reaches B's ear
        heard = await asyncio.to_thread(
            record, pulse.server, bob.speaker_monitor, int(listen * 1000)
        )
    gaps = find_gaps(heard, 1000.0)
    print(
        f"  continuity: a steady 1 kHz tone for {listen:.0f} s broke up {gaps.events} time(s), "
        f"{gaps.gap_ms:.0f} ms in all (10 ms windows below half its level)"
    )


def print_split(probe: StageProbe, emitted: list[float], heard: list[float]) -> None:
    split = probe.split(emitted, heard)
    followed = len(split[0][1]) if split else 0
    print(f"  where it goes (median per step, {followed} bursts followed end to end):")
    for name, delays in split:
        print(f"    {name:28s} {median_ms(delays)}")
    print("  queues along the way (median of samples):")
    print(f"    PulseAudio record latency, microphone    {median_ms(probe.capture_latency)}")
    print(f"    aiortc jitter buffer hold per packet     {median_ms(probe.jitter_hold)}")
    print(f"    mixer buffer before each 20 ms pull      {median_ms(probe.mixer_buffered)}")
    print(f"    PulseAudio playback latency, speaker     {median_ms(probe.playback_latency)}")


async def cpu(pulse: PulseServer, thread: MediaThread, counts: list[int], seconds: float) -> None:
    alice, bob = pulse.participant("cpu_a"), pulse.participant("cpu_b")
    fa, fb = factory(thread, pulse.server, alice), factory(thread, pulse.server, bob)
    print(f"CPU of this process ({seconds:.0f} s per figure; a call = 2 peer connections here)")
    baseline = await measure(seconds)
    print(f"  idle        {baseline * 100:5.1f} % of one core")
    peers: list[AudioPeer] = []
    for count in counts:
        while len(peers) < 2 * count:
            a, b = fa.new_peer(), fb.new_peer()
            await connect(a, b)
            peers += [a, b]
        used = await measure(seconds)
        per_stream = (used - baseline) / (2 * count)
        print(
            f"  {count:2d} call(s)  {used * 100:5.1f} % of one core, "
            f"{per_stream * 100:4.1f} % per audio stream (one peer connection, both ways)"
        )
    for peer in peers:
        await peer.close()
    fa.devices.close()
    fb.devices.close()


async def measure(seconds: float) -> float:
    cpu0, wall0 = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    return (time.process_time() - cpu0) / (time.monotonic() - wall0)


async def main(bursts: int, counts: list[int], seconds: float, listen: float) -> None:
    with tempfile.TemporaryDirectory(prefix="confero-audio-bench-") as folder:
        pulse = PulseServer(Path(folder))
        pulse.start()
        thread = MediaThread()
        try:
            await latency(pulse, thread, bursts, listen)
            await cpu(pulse, thread, counts, seconds)
        finally:
            thread.stop(5)
            pulse.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bursts", type=int, default=30)
    parser.add_argument("--streams", default="1,2,4", help="calls to run at once, e.g. 1,2,4")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--listen", type=float, default=10.0, help="seconds of steady tone")
    args = parser.parse_args()
    counts = [int(n) for n in args.streams.split(",") if n.strip()]
    asyncio.run(main(args.bursts, counts, args.seconds, args.listen))
