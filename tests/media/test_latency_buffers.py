"""Unit tests of the two low-latency buffers: aiortc's jitter buffer swap and the mixer trim.

Pure state machines, fed made-up RTP packets and sample arrays (no devices, no network).
"""

from __future__ import annotations

import numpy as np
from aiortc.rtp import RtpPacket

from engine.media.devices import FRAME_SAMPLES
from engine.media.jitter import LowLatencyJitterBuffer
from engine.media.tracks import TRIM_EVERY_PULLS, TRIM_KEEP_SAMPLES, MixerSource


def _packet(sequence: int) -> RtpPacket:
    packet = RtpPacket(payload_type=111, sequence_number=sequence % 65536, timestamp=sequence * 960)
    packet._data = bytes([sequence % 256])  # type: ignore[attr-defined]
    return packet


def _released(buffer: LowLatencyJitterBuffer, sequences: list[int]) -> list[int | None]:
    out: list[int | None] = []
    for sequence in sequences:
        _, frame = buffer.add(_packet(sequence))
        out.append(None if frame is None else frame.timestamp // 960)
    return out


def test_in_order_packets_go_to_the_decoder_at_once() -> None:
    assert _released(LowLatencyJitterBuffer(), [10, 11, 12, 13]) == [10, 11, 12, 13]


def test_a_reordered_packet_is_waited_for_and_played_in_order() -> None:
    assert _released(LowLatencyJitterBuffer(patience=2), [10, 12, 11, 13]) == [10, None, 11, 12]


def test_a_lost_packet_is_given_up_after_patience_and_latency_stays_bounded() -> None:
    buffer = LowLatencyJitterBuffer(patience=2)
    # 11 never comes: 12 waits one packet, then playback goes on from 12.
    assert _released(buffer, [10, 12, 13, 14, 15]) == [10, None, 12, 13, 14]
    # The one-packet backlog that the wait left does not grow with a second loss.
    assert _released(buffer, [17, 18, 19]) == [15, 17, 18]


def test_a_packet_older_than_what_played_is_dropped() -> None:
    buffer = LowLatencyJitterBuffer(patience=2)
    assert _released(buffer, [10, 12, 13, 11, 14]) == [10, None, 12, None, 13]


def test_a_jump_in_sequence_numbers_starts_again() -> None:
    buffer = LowLatencyJitterBuffer()
    assert _released(buffer, [65534, 65535, 0, 1, 500, 501]) == [65534, 65535, 0, 1, 500, 501]


def _frame() -> np.ndarray:
    return np.ones(FRAME_SAMPLES, dtype=np.int16)


def test_mixer_source_drops_slack_that_no_pull_needed() -> None:
    source = MixerSource("peer", track=None)  # type: ignore[arg-type]
    for _ in range(5):  # a stall left 100 ms queued
        source.put(_frame())
    for _ in range(TRIM_EVERY_PULLS):
        source.put(_frame())
        assert source.take(FRAME_SAMPLES) is not None
    # The kept spare stays for jitter; the rest went once the window was over.
    assert source._buffered == TRIM_KEEP_SAMPLES


def test_mixer_source_keeps_what_jitter_needed() -> None:
    source = MixerSource("peer", track=None)  # type: ignore[arg-type]
    spare = TRIM_KEEP_SAMPLES // FRAME_SAMPLES + 1
    for _ in range(spare):  # one frame of spare more than is kept...
        source.put(_frame())
    taken: list[np.ndarray | None] = []
    for pull in range(TRIM_EVERY_PULLS):
        source.put(_frame())
        if pull == 10:  # ...but once the speaker pulled twice in a row and needed it
            taken.append(source.take(FRAME_SAMPLES))
        taken.append(source.take(FRAME_SAMPLES))
    # Nothing dropped: every pull got a whole frame, and what is left stays.
    assert all(t is not None and np.all(t == 1) for t in taken)
    assert source._buffered == (spare - 1) * FRAME_SAMPLES
