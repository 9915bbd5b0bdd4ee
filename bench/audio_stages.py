"""Where mouth-to-ear latency goes: timestamps of each tone-burst onset along the path.

Bench-only instrumentation: ``StageProbe`` wraps (and afterwards restores) a few
methods of the media layer and aiortc so that each burst onset is timestamped as it
passes: capture read (capture thread) -> MicrophoneTrack.recv (media loop, then Opus
encode and RTP send) -> decoded frame out of the remote track (after the jitter buffer
and the decoder thread) -> PlaybackMixer.mix (speaker thread, about to be written)
-> heard on the speaker's monitor. It also samples the queues in between (aiortc's
jitter buffer hold per packet, the mixer's buffer, the sound server's playback and
record latency) so each step's share can be explained, not just measured.
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from aiortc import jitterbuffer, rtcrtpreceiver

from engine.media import devices, tracks
from engine.media.devices import SAMPLE_RATE
from engine.media.jitter import LowLatencyJitterBuffer

ONSET = 0.08  # |sample| above this starts a burst
QUIET = 0.02  # a frame with its peak below this ends it
STAGES = ("capture read", "track recv", "decoded", "mixer pull")


class _Onsets:
    """Timestamps of burst onsets seen in a stream of frames (one per stage)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._in_burst = False
        self._lock = threading.Lock()

    def see(self, samples: np.ndarray, scale: float, now: float, offset: bool = True) -> None:
        peak = np.abs(samples.reshape(-1)) / scale
        with self._lock:
            loud = np.flatnonzero(peak > ONSET)
            if not self._in_burst and loud.size:
                self.times.append(now + (loud[0] / SAMPLE_RATE if offset else 0.0))
                self._in_burst = True
            elif self._in_burst and (peak.size == 0 or peak.max() < QUIET):
                self._in_burst = False


class StageProbe:
    """Install with ``with StageProbe() as probe:``; read ``split()`` afterwards."""

    def __init__(self) -> None:
        self.onsets = {stage: _Onsets() for stage in STAGES}
        self.jitter_hold: list[float] = []  # seconds each audio packet waited in aiortc
        self.mixer_buffered: list[float] = []  # seconds buffered in a mixer source per pull
        self.playback_latency: list[float] = []  # PulseAudio's figure for our speaker
        self.capture_latency: list[float] = []  # PulseAudio's figure for our microphone
        self._restore: list[Callable[[], None]] = []

    def __enter__(self) -> StageProbe:
        self._wrap_capture()
        self._wrap(tracks.MicrophoneTrack, "recv", self._after_mic_recv, is_async=True)
        self._wrap(rtcrtpreceiver.RemoteStreamTrack, "recv", self._after_remote, is_async=True)
        self._wrap_mixer()
        self._wrap_jitter()
        self._wrap_playback()
        return self

    def __exit__(self, *exc: object) -> None:
        for restore in reversed(self._restore):
            restore()
        self._restore.clear()

    # --- results ------------------------------------------------------------------------

    def split(self, emitted: list[float], heard: list[float]) -> list[tuple[str, list[float]]]:
        """Per step, the delays (s) of each burst followed through every stage."""
        chains: list[list[float]] = []
        lists = [self.onsets[s].times for s in STAGES] + [heard]
        for start in emitted:
            chain = [start]
            for times in lists:
                later = [t for t in times if chain[-1] - 0.005 <= t < chain[-1] + 0.4]
                if not later:
                    break
                chain.append(later[0])
            if len(chain) == len(lists) + 1:
                chains.append(chain)
        names = ["mouth -> " + STAGES[0]]
        names += [f"{a} -> {b}" for a, b in itertools.pairwise(STAGES)]
        names += [STAGES[-1] + " -> ear"]
        return [(name, [max(0.0, c[i + 1] - c[i]) for c in chains]) for i, name in enumerate(names)]

    # --- wrappers -----------------------------------------------------------------------

    def _wrap(self, owner: Any, name: str, after: Callable[..., None], is_async: bool) -> None:
        original = getattr(owner, name)

        if is_async:

            async def wrapper(this: Any, *args: Any, **kwargs: Any) -> Any:
                result = await original(this, *args, **kwargs)
                after(this, result)
                return result
        else:

            def wrapper(this: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
                result = original(this, *args, **kwargs)
                after(this, result)
                return result

        setattr(owner, name, wrapper)
        self._restore.append(lambda: setattr(owner, name, original))

    def _wrap_capture(self) -> None:
        original = devices.CaptureStream._step
        probe = self

        def step(this: devices.CaptureStream, stream: Any) -> None:
            original(this, stream)
            # _step has emitted the frame it read; look at it as the listeners did.
            frame = this.__dict__.get("_probe_last")
            if frame is not None:
                probe.onsets["capture read"].see(frame, 32768.0, this.__dict__["_probe_at"], True)
            if len(probe.capture_latency) < 5000:
                probe.capture_latency.append(stream.get_latency() / 1e6)

        original_emit = devices.CaptureStream._emit

        def emit(this: devices.CaptureStream, frame: np.ndarray) -> None:
            this.__dict__["_probe_last"], this.__dict__["_probe_at"] = frame, time.monotonic()
            original_emit(this, frame)

        devices.CaptureStream._step = step  # type: ignore[method-assign]
        devices.CaptureStream._emit = emit  # type: ignore[method-assign]
        self._restore.append(lambda: setattr(devices.CaptureStream, "_step", original))
        self._restore.append(lambda: setattr(devices.CaptureStream, "_emit", original_emit))

    def _after_mic_recv(self, _track: Any, frame: Any) -> None:
        self.onsets["track recv"].see(frame.to_ndarray(), 32768.0, time.monotonic(), offset=True)

    def _after_remote(self, _track: Any, frame: Any) -> None:
        if frame is not None and getattr(frame, "format", None) is not None:
            scale = 1.0 if frame.format.name.startswith("flt") else 32768.0
            self.onsets["decoded"].see(frame.to_ndarray(), scale, time.monotonic(), offset=True)

    def _wrap_mixer(self) -> None:
        original = tracks.PlaybackMixer.mix
        probe = self

        def mix(this: tracks.PlaybackMixer, count: int) -> np.ndarray:
            buffered = sum(s._buffered for s in this._sources.values())
            out = original(this, count)
            probe.onsets["mixer pull"].see(out, 32768.0, time.monotonic(), offset=True)
            if len(probe.mixer_buffered) < 5000:
                probe.mixer_buffered.append(buffered / SAMPLE_RATE)
            return out

        tracks.PlaybackMixer.mix = mix  # type: ignore[method-assign]
        self._restore.append(lambda: setattr(tracks.PlaybackMixer, "mix", original))

    def _wrap_jitter(self) -> None:
        for kind in (jitterbuffer.JitterBuffer, LowLatencyJitterBuffer):
            self._wrap_jitter_class(kind)

    def _wrap_jitter_class(self, kind: type[jitterbuffer.JitterBuffer]) -> None:
        original = kind.add
        probe = self

        def add(this: Any, packet: Any) -> Any:
            arrivals = this.__dict__.setdefault("_probe_arrivals", {})
            arrivals[packet.timestamp] = time.monotonic()
            result = original(this, packet)
            frame = result[1]
            if frame is not None and not this._is_video:
                arrived = arrivals.pop(frame.timestamp, None)
                if arrived is not None and len(probe.jitter_hold) < 20000:
                    probe.jitter_hold.append(time.monotonic() - arrived)
                if len(arrivals) > 64:
                    arrivals.clear()
            return result

        kind.add = add  # type: ignore[method-assign]
        self._restore.append(lambda: setattr(kind, "add", original))

    def _wrap_playback(self) -> None:
        original = devices.PlaybackStream._step
        probe = self

        def step(this: devices.PlaybackStream, stream: Any) -> None:
            original(this, stream)
            if len(probe.playback_latency) < 5000:
                probe.playback_latency.append(stream.get_latency() / 1e6)

        devices.PlaybackStream._step = step  # type: ignore[method-assign]
        self._restore.append(lambda: setattr(devices.PlaybackStream, "_step", original))


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:6.1f} ms" if values else "     - ms"
