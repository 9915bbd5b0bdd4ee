"""A low-latency audio jitter buffer for aiortc's receivers.

aiortc gives each audio RTCRtpReceiver ``JitterBuffer(capacity=16, prefetch=4)``: every
packet waits until four newer ones have arrived, 80 ms of mouth-to-ear latency on a
link that never reorders (bench/audio_latency.py measured it). Worse, its ``add``
releases at most one frame per packet, so after a lost packet (which it waits out for
up to 16 packets) the backlog stays for good.

``LowLatencyJitterBuffer`` hands an in-order Opus packet (one packet is one frame) to
the decoder at once, waits for a missing one only until ``patience`` newer packets
are there, and drops what is older than the next packet it expects. So latency is at
most ``patience - 1`` packets above the network's, and never ratchets up. It keeps
aiortc's interface (``add`` returns ``(pli_flag, frame or None)``): a subclass swapped
into the receiver, not a fork.
"""

from __future__ import annotations

import logging

from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_add

log = logging.getLogger(__name__)

#: How many newer packets a missing one may wait for (20 ms each): 40 ms of reordering.
PATIENCE = 2
CAPACITY = 16
# aiortc keeps the buffer in a name-mangled private attribute.
_ATTRIBUTE = "_RTCRtpReceiver__jitter_buffer"


class LowLatencyJitterBuffer(JitterBuffer):
    def __init__(self, capacity: int = CAPACITY, patience: int = PATIENCE) -> None:
        super().__init__(capacity=capacity, prefetch=0)
        self._patience = max(1, patience)

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        sequence = packet.sequence_number
        if self._origin is None:
            self._origin = sequence
        ahead = uint16_add(sequence, -self._origin)
        if ahead >= 0x8000:
            return False, None  # older than what was played already: too late
        if ahead >= self._capacity:
            # A jump (a long loss or a restarted sender): start again from this packet.
            self.remove(self._capacity)
            self._origin, ahead = sequence, 0
        self._packets[sequence % self._capacity] = packet
        if self._packets[self._origin % self._capacity] is None:
            if ahead < self._patience:
                return False, None  # the missing one may still come
            while self._packets[self._origin % self._capacity] is None:
                self._origin = uint16_add(self._origin, 1)  # give up on it
        first = self._packets[self._origin % self._capacity]
        assert first is not None
        self.remove(1)
        return False, JitterFrame(data=first._data, timestamp=first.timestamp)  # type: ignore[attr-defined]


def use_low_latency_buffer(receiver: RTCRtpReceiver) -> bool:
    """Swap the buffer of an audio receiver that has not received anything yet.

    Returns whether the receiver now has the low-latency buffer. An aiortc whose
    internals differ keeps its own buffer (logged): slower, never broken.
    """
    current = getattr(receiver, _ATTRIBUTE, None)
    if isinstance(current, LowLatencyJitterBuffer):
        return True
    if not isinstance(current, JitterBuffer) or current._is_video:
        log.info("aiortc's audio jitter buffer was not found; keeping its default")
        return False
    if current._origin is not None:
        return False  # packets already flow: swapping now would drop them
    setattr(receiver, _ATTRIBUTE, LowLatencyJitterBuffer())
    return True
