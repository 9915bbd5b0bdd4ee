"""Sounds the UI plays itself: the ring tone of an incoming call and Preferences' test sound.

Both play through the engine's own speaker streams (engine/media/devices.py) on the
speaker chosen in Preferences, not through QtMultimedia: the same path as a call's
audio, so what the user hears in Preferences is what a call will use, and no second
audio stack (with its own backends and warnings) comes into the app. The stream is a
thread of its own; opening the device happens there, never on the UI thread.

The ring is resources/ring.wav (made by ``write_ring_wav``: two tones, twice, then a
pause, like a desk phone), played in a loop until stopped.
"""

from __future__ import annotations

import logging
import math
import threading
import wave
from pathlib import Path

import numpy as np

from engine.media.devices import SAMPLE_RATE, AudioDevices, PlaybackStream
from ui import theme

log = logging.getLogger(__name__)

RING_FILE = "ring.wav"
_RING_RATE = 16_000  # the file's rate; played at the speaker's 48 kHz
TEST_TONE_HZ = 660.0
TEST_TONE_S = 1.2


def write_ring_wav(path: Path) -> None:
    """Make the ring tone: 425 + 475 Hz bursts (0.4 s on, 0.2 s off, twice), 2 s quiet."""
    pieces: list[np.ndarray] = []
    for seconds, sounding in ((0.4, True), (0.2, False), (0.4, True), (2.0, False)):
        t = np.arange(int(seconds * _RING_RATE)) / _RING_RATE
        if sounding:
            wave_ = 0.22 * (np.sin(2 * math.pi * 425 * t) + np.sin(2 * math.pi * 475 * t))
            ramp = np.minimum(1.0, np.minimum(t, seconds - t) / 0.01)  # no clicks
            pieces.append(wave_ * ramp)
        else:
            pieces.append(np.zeros_like(t))
    samples = (np.concatenate(pieces) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(_RING_RATE)
        out.writeframes(samples.tobytes())


def read_wav(path: Path) -> np.ndarray:
    """A mono 16-bit WAV as int16 samples at the speaker's rate (linear resampling)."""
    with wave.open(str(path), "rb") as source:
        if source.getsampwidth() != 2:
            raise ValueError(f"{path.name}: only 16-bit WAV files are supported")
        rate, channels = source.getframerate(), source.getnchannels()
        data = np.frombuffer(source.readframes(source.getnframes()), dtype="<i2")
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE:
        count = int(len(data) * SAMPLE_RATE / rate)
        data = np.interp(np.arange(count) * rate / SAMPLE_RATE, np.arange(len(data)), data)
    return np.asarray(data, dtype=np.int16)


def tone_samples() -> np.ndarray:
    """Preferences' test sound: a short, gently faded tone."""
    t = np.arange(int(TEST_TONE_S * SAMPLE_RATE)) / SAMPLE_RATE
    ramp = np.minimum(1.0, np.minimum(t, TEST_TONE_S - t) / 0.05)
    return (0.3 * np.sin(2 * math.pi * TEST_TONE_HZ * t) * ramp * 32767).astype(np.int16)


class _Samples:
    """What the speaker thread pulls, 20 ms at a time: once, or looped."""

    def __init__(self, samples: np.ndarray, loop: bool) -> None:
        self._samples = samples
        self._loop = loop
        self._position = 0
        self._lock = threading.Lock()
        self.finished = threading.Event()

    def __call__(self, count: int) -> np.ndarray:
        with self._lock:
            out = np.zeros(count, dtype=np.int16)
            filled = 0
            while filled < count and len(self._samples):
                if self._position >= len(self._samples):
                    if not self._loop:
                        self.finished.set()
                        break
                    self._position = 0
                take = min(count - filled, len(self._samples) - self._position)
                out[filled : filled + take] = self._samples[self._position : self._position + take]
                filled += take
                self._position += take
            return out


class SoundPlayer:
    """Plays one sound at a time on a chosen speaker (None: the system default)."""

    def __init__(self, speaker: str | None = None) -> None:
        self._devices = AudioDevices(None, speaker)
        self._stream: PlaybackStream | None = None
        self._source: _Samples | None = None

    @property
    def speaker(self) -> str | None:
        return self._devices.output_device

    @speaker.setter
    def speaker(self, name: str | None) -> None:
        self._devices.set_output(name)

    @property
    def playing(self) -> bool:
        return self._stream is not None and not (self._source and self._source.finished.is_set())

    def play(self, samples: np.ndarray, *, loop: bool = False) -> None:
        """Start playing (the device opens on the stream's own thread)."""
        self.stop()
        self._source = _Samples(samples, loop)
        try:
            self._stream = self._devices.open_playback(self._source)
        except Exception:  # no sound server: the UI goes on without the sound
            log.warning("could not play a sound", exc_info=True)
            self._stream = None

    def stop(self) -> None:
        """Stop at once; the stream's thread ends on its own within a frame."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close(timeout=0)


def ring_samples() -> np.ndarray:
    try:
        return read_wav(theme.resource_path(RING_FILE))
    except (OSError, ValueError, EOFError, wave.Error):
        log.warning("the ring tone could not be read", exc_info=True)
        return np.zeros(0, dtype=np.int16)
