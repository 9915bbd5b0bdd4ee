"""Finding gaps in recorded tones: the check that a latency tuning did not break audio up.

A recording is cut into 10 ms windows; a tone has a gap in a window where its amplitude
(Hann-windowed FFT around its frequency, tests/helpers/audio.py) falls below half its
median over the recording. With one tone, the plain RMS would do; with a mesh's several
tones mixed, the FFT tells whose audio broke up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.media.devices import SAMPLE_RATE

WINDOW = SAMPLE_RATE // 50  # 20 ms: one Opus frame, 50 Hz bins
STEP = SAMPLE_RATE // 100  # 10 ms hops, so a short dropout still fills most of a window
FLOOR = 0.5  # share of the tone's median amplitude below which a window is a gap


@dataclass
class Gaps:
    frequency: float
    windows: int  # windows looked at
    gap_windows: int  # windows below the floor
    events: int  # runs of consecutive gap windows: how many times it broke up
    median_amplitude: float

    @property
    def gap_ms(self) -> float:
        return self.gap_windows * STEP * 1000 / SAMPLE_RATE


def tone_track(samples: np.ndarray, frequency: float) -> np.ndarray:
    """The tone's amplitude in each 20 ms window, hopping 10 ms."""
    count = max(0, (samples.size - WINDOW) // STEP + 1)
    if count == 0:
        return np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(samples, WINDOW)[::STEP][:count]
    hann = np.hanning(WINDOW)
    spectrum = np.abs(np.fft.rfft(frames * hann, axis=1)) * 2 / hann.sum()
    freqs = np.fft.rfftfreq(WINDOW, 1 / SAMPLE_RATE)
    band = np.abs(freqs - frequency) <= 25
    return spectrum[:, band].max(axis=1)


def find_gaps(samples: np.ndarray, frequency: float) -> Gaps:
    amplitude = tone_track(samples, frequency)
    if amplitude.size == 0:
        return Gaps(frequency, 0, 0, 0, 0.0)
    median = float(np.median(amplitude))
    low = amplitude < FLOOR * median if median > 0.005 else np.ones(amplitude.size, bool)
    events = int(low[0]) + int(np.count_nonzero(low[1:] & ~low[:-1]))
    return Gaps(frequency, int(amplitude.size), int(np.count_nonzero(low)), events, median)
