"""Audio tracks for aiortc: the microphone, a test tone, and the speaker mixer.

Everything here runs on the MediaThread's loop except ``PlaybackMixer.mix``, which the
speaker's device thread calls every 20 ms.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import threading
import time
from collections import deque
from collections.abc import Hashable

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from engine.media.devices import (
    FRAME_SAMPLES,
    SAMPLE_RATE,
    AudioDevices,
    CaptureStream,
    Level,
    PlaybackStream,
    level_of,
)

log = logging.getLogger(__name__)

TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
#: Frames a microphone track may queue before dropping the oldest (keeps latency low).
MAX_QUEUED_FRAMES = 5
#: Audio a mixer source may buffer before dropping the oldest (jitter vs latency).
MAX_BUFFERED_SAMPLES = 6 * FRAME_SAMPLES
#: Every this many speaker pulls (5 s), a source drops the slack it never needed...
#: (after 1 s, a loaded machine's next hiccup found the buffer too short: gaps)
TRIM_EVERY_PULLS = 250
#: ...keeping two frames above what the emptiest pull of that window needed: with
#: less, a loaded machine underran soon after (bench/audio_mesh.py saw gaps).
TRIM_KEEP_SAMPLES = 2 * FRAME_SAMPLES


def _audio_frame(samples: np.ndarray, pts: int) -> av.AudioFrame:
    """An s16 48 kHz mono av.AudioFrame from int16 samples."""
    mono = samples if samples.ndim == 1 else samples.mean(axis=1).astype(np.int16)
    frame = av.AudioFrame.from_ndarray(mono.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = SAMPLE_RATE
    frame.pts = pts
    frame.time_base = TIME_BASE
    return frame


class _SilenceGate:
    """Mute (by the user) and hold (by either side) both make a sender send silence."""

    def __init__(self) -> None:
        self.muted = False
        self.held = False

    @property
    def silent(self) -> bool:
        return self.muted or self.held


class MicrophoneTrack(MediaStreamTrack):
    """The shared microphone as one peer's outgoing track: 20 ms s16 48 kHz frames.

    Mute and hold send silence, so the stream (and the other side's jitter buffer) keeps
    running. Must be created on the media loop.
    """

    kind = "audio"

    def __init__(self, capture: CaptureStream) -> None:
        super().__init__()
        self.gate = _SilenceGate()
        self._loop = asyncio.get_running_loop()
        self._queue: deque[np.ndarray] = deque()
        self._ready = asyncio.Event()
        self._pts = 0
        self._remove_listener = capture.add_listener(self._from_capture_thread)

    def _from_capture_thread(self, frame: np.ndarray) -> None:
        try:
            self._loop.call_soon_threadsafe(self._push, frame)
        except RuntimeError:  # the media loop has closed
            self._remove_listener()

    def _push(self, frame: np.ndarray) -> None:
        self._queue.append(frame)
        while len(self._queue) > MAX_QUEUED_FRAMES:
            self._queue.popleft()
        self._ready.set()

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        while not self._queue:
            self._ready.clear()
            await self._ready.wait()
            if self.readyState != "live":
                raise MediaStreamError
        samples = self._queue.popleft()
        if self.gate.silent:
            samples = np.zeros_like(samples)
        frame = _audio_frame(samples, self._pts)
        self._pts += frame.samples
        return frame

    def stop(self) -> None:
        self._remove_listener()
        super().stop()
        self._ready.set()


class ToneTrack(MediaStreamTrack):
    """A sine tone paced in real time: the test sound, and a stand-in voice in tests."""

    kind = "audio"

    def __init__(self, frequency: float, amplitude: float = 0.3) -> None:
        super().__init__()
        self.frequency = frequency
        self.amplitude = amplitude
        self.gate = _SilenceGate()
        self._pts = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            due = self._start + self._pts / SAMPLE_RATE
            await asyncio.sleep(max(0.0, due - time.monotonic()))
        t = (self._pts + np.arange(FRAME_SAMPLES)) / SAMPLE_RATE
        wave = self.amplitude * np.sin(2 * np.pi * self.frequency * t)
        if self.gate.silent:
            wave = np.zeros_like(wave)
        frame = _audio_frame((wave * 32767).astype(np.int16), self._pts)
        self._pts += FRAME_SAMPLES
        return frame


def _to_mono_48k(frame: av.AudioFrame, resampler: list[av.AudioResampler]) -> np.ndarray:
    """int16 mono 48 kHz samples of any decoded frame (Opus gives s16 stereo 48 kHz)."""
    if frame.format.name == "s16" and frame.sample_rate == SAMPLE_RATE:
        channels = len(frame.layout.channels)
        samples = frame.to_ndarray().reshape(-1, channels)
        return samples.mean(axis=1).astype(np.int16) if channels > 1 else samples[:, 0].copy()
    if not resampler:
        resampler.append(av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE))
    parts = [f.to_ndarray().reshape(-1) for f in resampler[0].resample(frame)]
    return np.concatenate(parts).astype(np.int16) if parts else np.zeros(0, np.int16)


class MixerSource:
    """One remote track in the mix: its buffered samples and its loudness."""

    def __init__(self, key: Hashable, track: MediaStreamTrack) -> None:
        self.key = key
        self.track = track
        #: False while the call is on hold, or they are silenced: heard by nobody.
        self.enabled = True
        self.level = Level()
        self._chunks: deque[np.ndarray] = deque()
        self._buffered = 0
        self._lock = threading.Lock()
        self._pulls = 0
        self._least_spare: int | None = None  # fewest samples left over by a pull
        self.task: asyncio.Task[None] | None = None

    def set_enabled(self, enabled: bool) -> None:
        """Disabling also drops what is buffered: not a word more is played."""
        self.enabled = enabled
        if not enabled:
            with self._lock:
                self._chunks.clear()
                self._buffered = 0
            self.level = Level()

    def put(self, samples: np.ndarray) -> None:
        self.level = level_of(samples) if self.enabled else Level()
        if not self.enabled:
            return
        with self._lock:
            self._chunks.append(samples)
            self._buffered += samples.size
            while self._buffered > MAX_BUFFERED_SAMPLES and len(self._chunks) > 1:
                self._buffered -= self._chunks.popleft().size
                # dropping old audio keeps mouth-to-ear latency bounded after a stall

    def take(self, count: int) -> np.ndarray | None:
        with self._lock:
            self._trim(count)
            if not self._chunks:
                return None
            out = np.zeros(count, dtype=np.int32)
            filled = 0
            while filled < count and self._chunks:
                chunk = self._chunks[0]
                used = min(count - filled, chunk.size)
                out[filled : filled + used] = chunk[:used]
                filled += used
                if used == chunk.size:
                    self._chunks.popleft()
                else:
                    self._chunks[0] = chunk[used:]
                self._buffered -= used
            return out

    def _trim(self, count: int) -> None:
        """Drop audio that five seconds of pulls never needed (lock held).

        A late packet or a bursty speaker leaves the buffer fuller for good (each
        underrun adds its frame's worth), and what sits here is heard that much later.
        Keeping only a little above the emptiest pull bounds latency without a gap.
        """
        spare = self._buffered - count
        if self._least_spare is None or spare < self._least_spare:
            self._least_spare = spare
        self._pulls += 1
        if self._pulls < TRIM_EVERY_PULLS:
            return
        excess = self._least_spare - TRIM_KEEP_SAMPLES
        self._pulls, self._least_spare = 0, None
        while excess > 0 and self._chunks:
            chunk = self._chunks[0]
            if chunk.size <= excess:
                self._chunks.popleft()
                used = chunk.size
            else:
                self._chunks[0] = chunk[excess:]
                used = excess
            self._buffered -= used
            excess -= used


class PlaybackMixer:
    """Plays the sum of any number of remote audio tracks on the speaker.

    A mesh meeting adds one track per peer, so everyone is heard. The speaker stream is
    open only while there is something to play. ``levels()`` feeds "speaking" indicators.
    Add and remove on the media loop.
    """

    def __init__(self, devices: AudioDevices) -> None:
        self._devices = devices
        self._sources: dict[Hashable, MixerSource] = {}
        self._playback: PlaybackStream | None = None

    def add(self, key: Hashable, track: MediaStreamTrack) -> MixerSource:
        self.remove(key)
        source = MixerSource(key, track)
        self._sources = {**self._sources, key: source}  # copy: the speaker thread reads it
        source.task = asyncio.get_running_loop().create_task(self._pull(source))
        if self._playback is None:
            self._playback = self._devices.open_playback(self.mix)
        return source

    def remove(self, key: Hashable) -> None:
        source = self._sources.get(key)
        if source is None:
            return
        self._sources = {k: v for k, v in self._sources.items() if k != key}
        if source.task is not None and source.task is not asyncio.current_task():
            source.task.cancel()
        if not self._sources and self._playback is not None:
            playback, self._playback = self._playback, None
            playback.close(timeout=0)  # it ends on its own within one frame

    def source(self, key: Hashable) -> MixerSource | None:
        return self._sources.get(key)

    def levels(self) -> dict[Hashable, Level]:
        return {key: source.level for key, source in self._sources.items()}

    def close(self) -> None:
        for key in list(self._sources):
            self.remove(key)

    def mix(self, count: int) -> np.ndarray:
        """The next ``count`` samples of the sum (speaker thread)."""
        total = np.zeros(count, dtype=np.int32)
        for source in list(self._sources.values()):
            samples = source.take(count)
            if samples is not None:
                total += samples
        return np.clip(total, -32768, 32767).astype(np.int16)

    async def _pull(self, source: MixerSource) -> None:
        resampler: list[av.AudioResampler] = []
        try:
            while True:
                frame = await source.track.recv()
                source.put(_to_mono_48k(frame, resampler))
        except MediaStreamError:
            pass  # the remote track ended
        finally:
            if self._sources.get(source.key) is source:
                self.remove(source.key)
