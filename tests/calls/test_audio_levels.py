"""The roster's audio level as numbers: decibels on 0..1, tenths, no flicker, a gentle
fall (pure)."""

from __future__ import annotations

from engine.calls.audio_levels import loudness, shown_level


def test_loudness_is_on_a_decibel_scale() -> None:
    assert loudness(0.0) == 0.0
    assert loudness(1.0) == 1.0
    assert loudness(0.001) == 0.0  # -60 dBFS: below the floor
    assert abs(loudness(0.1) - 0.6) < 1e-9  # -20 dBFS
    assert loudness(2.0) == 1.0


def test_the_shown_level_moves_in_tenths_and_only_noticeably() -> None:
    assert shown_level(0.1) == 0.6
    # Silence: the level falls as a meter's needle does, to 0 within a few looks.
    assert shown_level(0.0, 0.6) == 0.3
    assert shown_level(0.0, 0.3) == 0.0
    assert shown_level(0.0, 0.1) == 0.0
    assert shown_level(0.0005, 0.0) == 0.0
    # A steady tone whose RMS wavers a little keeps one level.
    steady = [shown_level(0.1)]
    for rms in (0.105, 0.097, 0.11, 0.092, 0.1):
        steady.append(shown_level(rms, steady[-1]))
    assert set(steady) == {0.6}
    # A real change goes through, rounded to tenths.
    assert shown_level(0.3, 0.6) == 0.8  # -10.5 dBFS
    assert shown_level(0.5, 0.6) == 0.9
    assert shown_level(0.212) == 0.7  # the tests' tones (amplitude 0.3)
