"""Real audio in tests: play a tone into a sink, record a monitor, find tones by FFT.

Tones are generated here (sine waves), played into the private PulseAudio server's
virtual devices with libpulse-simple, exactly as a microphone would deliver them.
"""

from __future__ import annotations

import threading

import numpy as np
import pasimple

from engine.media.devices import SAMPLE_RATE

#: A tone counts as heard when its amplitude reaches this share of full scale.
#: Tests play tones at 0.3; silence and codec noise stay far below 0.01.
TONE_PRESENT = 0.03
#: Bins either side of a tone's frequency searched for its peak.
_SEARCH_HZ = 15.0


class TonePlayer:
    """Plays a sine of ``frequency`` Hz into ``sink`` until stopped (a context manager)."""

    def __init__(self, server: str, sink: str, frequency: float, amplitude: float = 0.3) -> None:
        self.server = server
        self.sink = sink
        self.frequency = frequency
        self.amplitude = amplitude
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._play, name=f"tone-{frequency}", daemon=True)

    def start(self) -> TonePlayer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._halt.set()
        self._thread.join(2)

    def __enter__(self) -> TonePlayer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _play(self) -> None:
        chunk = SAMPLE_RATE // 50
        frame_bytes = chunk * 2
        with pasimple.PaSimple(
            pasimple.PA_STREAM_PLAYBACK,
            pasimple.PA_SAMPLE_S16LE,
            1,
            SAMPLE_RATE,
            app_name="confero-tests",
            server_name=self.server,
            device_name=self.sink,
            tlength=3 * frame_bytes,
            prebuf=frame_bytes,
            minreq=frame_bytes,
        ) as stream:
            position = 0
            while not self._halt.is_set():
                t = (position + np.arange(chunk)) / SAMPLE_RATE
                wave = self.amplitude * np.sin(2 * np.pi * self.frequency * t)
                stream.write((wave * 32767).astype("<i2").tobytes())
                position += chunk


def record(server: str, source: str, ms: int) -> np.ndarray:
    """``ms`` milliseconds from ``source`` as floats in -1..1 (blocking: use to_thread)."""
    count = SAMPLE_RATE * ms // 1000
    with pasimple.PaSimple(
        pasimple.PA_STREAM_RECORD,
        pasimple.PA_SAMPLE_S16LE,
        1,
        SAMPLE_RATE,
        app_name="confero-tests",
        server_name=server,
        device_name=source,
        fragsize=SAMPLE_RATE // 50 * 2,
    ) as stream:
        data = stream.read(count * 2)
    return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0


def tone_amplitude(samples: np.ndarray, frequency: float) -> float:
    """Estimated amplitude (0..1) of a sine near ``frequency`` in ``samples`` (Hann FFT)."""
    if samples.size == 0:
        return 0.0
    window = np.hanning(samples.size)
    spectrum = np.abs(np.fft.rfft(samples * window)) * 2 / window.sum()
    freqs = np.fft.rfftfreq(samples.size, 1 / SAMPLE_RATE)
    band = (freqs > frequency - _SEARCH_HZ) & (freqs < frequency + _SEARCH_HZ)
    return float(spectrum[band].max()) if band.any() else 0.0


def heard(samples: np.ndarray, frequency: float) -> bool:
    return tone_amplitude(samples, frequency) >= TONE_PRESENT


def describe(samples: np.ndarray, frequencies: list[float]) -> str:
    """For assertion messages: each frequency's amplitude."""
    return ", ".join(f"{f:.0f} Hz: {tone_amplitude(samples, f):.3f}" for f in frequencies)
