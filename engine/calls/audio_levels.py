"""The audio level the roster shows: loudness on a 0..1 scale that moves in steps.

A frame's RMS is measured 50 times a second; the roster needs a few looks a second
and only noticeable changes. So the level is in decibels (a meter that follows the
ear), floored at LEVEL_FLOOR_DB (silence, codec noise: 0) and rounded to tenths; a
new value replaces the shown one only when it is more than most of a step away (a
steady voice or tone does not flicker between two steps), and it falls by at most
RELEASE a look, as a meter's needle does (the gaps between words do not blink).
MeetingCalls measures at its watcher's tick (a few times a second) and publishes
only changed levels.
"""

from __future__ import annotations

import math

#: Quieter than this (dBFS RMS) shows as 0; full scale shows as 1.
LEVEL_FLOOR_DB = -50.0
LEVEL_STEP = 0.1
#: The most the shown level falls from one look to the next.
RELEASE = 0.3
#: How far (in steps) the new loudness must be from the shown level to replace it.
_HYSTERESIS_STEPS = 0.75


def loudness(rms: float) -> float:
    """``rms`` (0..1 of full scale) on the meter's 0..1 decibel scale."""
    if rms <= 0.0:
        return 0.0
    db = 20.0 * math.log10(min(rms, 1.0))
    return max(0.0, min(1.0, 1.0 - db / LEVEL_FLOOR_DB))


def shown_level(rms: float, shown: float = 0.0) -> float:
    """The level to show for ``rms`` when ``shown`` is on show now (tenths, 0..1)."""
    target = loudness(rms)
    if target < shown:
        target = max(target, shown - RELEASE)
    if abs(target - shown) <= _HYSTERESIS_STEPS * LEVEL_STEP and (target > 0.0) == (shown > 0.0):
        return shown
    return round(round(target / LEVEL_STEP) * LEVEL_STEP, 1)
