"""The words of calls (pure: no Qt, no server) and the ring tone's file."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.calls.call_models import AvModalityState, Call, CallDirection, CallEndReason
from engine.escalation_models import (
    ConferenceEscalation,
    ConferenceEscalationProgress,
    ConferenceEscalationResult,
)
from engine.media.devices import SAMPLE_RATE
from tests.helpers.audio import tone_amplitude
from ui import theme
from ui.banner import BannerKind
from ui.call_sounds import RING_FILE, read_wav, tone_samples
from ui.call_text import END_REASON_WORDS, call_state_text, duration_text
from ui.escalation_text import escalation_kind, escalation_text

S = AvModalityState
OUT = Call("c1", "!r:x", "@bob:x", CallDirection.OUTGOING, S.CONNECTING, "p1", started_at=100.0)
IN = dataclasses.replace(OUT, direction=CallDirection.INCOMING, state=S.NOTIFIED)


def test_durations() -> None:
    assert duration_text(0) == "00:00"
    assert duration_text(83.9) == "01:23"
    assert duration_text(3723) == "1:02:03"


def test_each_state_in_words() -> None:
    connected = dataclasses.replace(OUT, state=S.CONNECTED, connected_at=100.0)
    assert call_state_text(OUT, "Bob", 100) == "Calling Bob…"
    assert call_state_text(IN, "Bob", 100) == "Bob is calling…"
    assert call_state_text(dataclasses.replace(IN, state=S.CONNECTING), "Bob", 1) == "Connecting…"
    assert call_state_text(dataclasses.replace(OUT, state=S.JOINING), "Bob", 1) == "Connecting…"
    assert call_state_text(connected, "Bob", 183) == "Connected 01:23"
    muted = dataclasses.replace(connected, muted=True)
    assert call_state_text(muted, "Bob", 101) == "Connected 00:01 · muted"
    held = dataclasses.replace(connected, state=S.ON_HOLD, on_hold=True)
    assert call_state_text(held, "Bob", 110) == "On hold 00:10"
    they_hold = dataclasses.replace(connected, state=S.ON_HOLD, remote_on_hold=True)
    assert call_state_text(they_hold, "Bob", 110) == "You are on hold 00:10"


@pytest.mark.parametrize(
    ("reason", "direction", "words"),
    [
        (CallEndReason.HUNG_UP_BY_YOU, CallDirection.OUTGOING, "Call ended: you hung up"),
        (CallEndReason.HUNG_UP_BY_THEM, CallDirection.OUTGOING, "Call ended: Bob hung up"),
        (CallEndReason.DECLINED, CallDirection.OUTGOING, "Call ended: Bob declined"),
        (CallEndReason.DECLINED, CallDirection.INCOMING, "Call ended: you declined"),
        (CallEndReason.NO_ANSWER, CallDirection.OUTGOING, "Call ended: no answer"),
        (
            CallEndReason.ANSWERED_ELSEWHERE,
            CallDirection.INCOMING,
            "Call ended: answered on another device",
        ),
        (CallEndReason.BUSY, CallDirection.OUTGOING, "Call ended: Bob is busy"),
        (
            CallEndReason.MEDIA_FAILED,
            CallDirection.OUTGOING,
            "Call ended: the audio connection could not be set up",
        ),
        (CallEndReason.NETWORK_LOST, CallDirection.OUTGOING, "Call ended: the connection was lost"),
        (
            CallEndReason.REPLACED,
            CallDirection.OUTGOING,
            "Call ended: you both called at once; the other call goes on",
        ),
        (
            CallEndReason.MOVED_TO_MEETING,
            CallDirection.INCOMING,
            "Call ended: moved to the meeting",
        ),
        (None, CallDirection.OUTGOING, "Call ended"),
    ],
)
def test_every_end_reason_is_worded(
    reason: CallEndReason | None, direction: CallDirection, words: str
) -> None:
    ended = dataclasses.replace(OUT, direction=direction, state=S.DISCONNECTED, end_reason=reason)
    assert call_state_text(ended, "Bob", 200) == words


def test_every_end_reason_has_a_case_above() -> None:
    assert set(CallEndReason) <= set(END_REASON_WORDS)


def test_the_escalation_banner_says_where_the_call_went() -> None:
    done = ConferenceEscalation(
        "!direct:x", ConferenceEscalationProgress.COMPLETED, ConferenceEscalationResult.SUCCESS
    )
    moved = dataclasses.replace(done, audio_moved=True)
    assert "your call moved into its audio" in escalation_text(moved, "Alice")
    assert escalation_kind(moved) is BannerKind.INFO
    stuck = dataclasses.replace(done, media_failed="The meeting's audio is full.")
    words = escalation_text(stuck, "Alice")
    assert "did not move into its audio: The meeting's audio is full. The call goes on." in words
    assert escalation_kind(stuck) is BannerKind.WARNING


def test_the_ring_tone_is_two_tones_at_the_speakers_rate() -> None:
    samples = read_wav(theme.resource_path(RING_FILE)).astype(np.float64) / 32768.0
    assert len(samples) == 3 * SAMPLE_RATE  # one 3 s cycle, looped while it rings
    burst = samples[: int(0.4 * SAMPLE_RATE)]
    assert tone_amplitude(burst, 425) > 0.1 and tone_amplitude(burst, 475) > 0.1
    assert np.abs(samples[int(1.1 * SAMPLE_RATE) :]).max() < 0.01  # then quiet


def test_the_test_sound_is_a_short_tone() -> None:
    samples = tone_samples().astype(np.float64) / 32768.0
    assert 0.5 * SAMPLE_RATE < len(samples) < 2 * SAMPLE_RATE
    assert tone_amplitude(samples, 660) > 0.1
