"""``confero --self-check``: runs a little of everything a frozen bundle could lose.

The bundle's size cuts (packaging/bundle/confero.spec, slim.py) remove files
and data from libraries; packaging/bundle/build-bundle.sh runs this on every
build so that a cut that breaks meeting audio, the embedded Synapse,
notifications or Qt's use of ICU fails the build instead of a user's meeting.
Prints one line per check and ``OK``; the exit status is 1 if any check failed.
Needs no display, network or sound server.
"""

from __future__ import annotations

import asyncio
import fractions
import io
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

#: The hidden argument that runs the self-check instead of the app.
SELF_CHECK_FLAG = "--self-check"

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960  # 20 ms, one Opus frame


def _ensure(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(what)


def check_opus_round_trip() -> str:
    """aiortc's Opus encoder and decoder (PyAV: libopus, libswresample, libavfilter)."""
    import av
    import numpy as np
    from aiortc.codecs import get_decoder, get_encoder
    from aiortc.jitterbuffer import JitterFrame
    from aiortc.rtcrtpparameters import RTCRtpCodecParameters

    codec = RTCRtpCodecParameters(
        mimeType="audio/opus", clockRate=SAMPLE_RATE, channels=2, payloadType=111
    )
    encoder, decoder = get_encoder(codec), get_decoder(codec)
    t = np.arange(FRAME_SAMPLES) / SAMPLE_RATE
    samples = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = SAMPLE_RATE
    frame.pts = 0
    frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
    payloads, timestamp = encoder.encode(frame)
    _ensure(bool(payloads) and len(payloads[0]) > 0, "Opus encoder gave no packet")
    decoded = decoder.decode(JitterFrame(data=payloads[0], timestamp=timestamp))
    _ensure(bool(decoded) and decoded[0].samples == FRAME_SAMPLES, "Opus decoder gave no frame")
    # Every codec FFmpeg registers (its static set-up runs into the stubbed libraries).
    _ensure("libopus" in av.codecs_available, "FFmpeg lists no libopus")
    return f"{len(payloads[0])}-byte packet, {len(av.codecs_available)} FFmpeg codecs"


def check_webrtc_offer() -> str:
    """An audio offer: DTLS certificate (cryptography), ICE (aioice), SRTP (pylibsrtp)."""
    import pylibsrtp
    from aiortc import RTCPeerConnection

    async def offer() -> str:
        connection = RTCPeerConnection()
        try:
            connection.addTransceiver("audio", direction="sendrecv")
            description = await connection.createOffer()
            return description.sdp
        finally:
            await connection.close()

    sdp = asyncio.run(offer())
    _ensure("opus/48000/2" in sdp and "fingerprint:sha-256" in sdp, "no Opus or DTLS in offer")
    _ensure(bool(pylibsrtp.Policy), "pylibsrtp")
    return "Opus, DTLS fingerprint"


def check_confero_audio() -> str:
    """Confero's own audio code (numpy) and the sound server's client libraries."""
    import pasimple  # noqa: F401 (libpulse through ctypes)
    import pulsectl  # noqa: F401

    from engine.media.devices import level_of
    from ui.call_sounds import ring_samples, tone_samples

    level = level_of(tone_samples())
    _ensure(0.1 < level.rms < 1.0 and len(ring_samples()) > 0, f"tone level {level}")
    return f"test tone rms {level.rms:.2f}"


def check_homeserver() -> str:
    """Synapse's modules, phone numbers and media thumbnails (Pillow)."""
    import synapse.app.homeserver  # noqa: F401 (all the server's imports)
    from PIL import Image
    from synapse.media.thumbnailer import Thumbnailer
    from synapse.util.msisdn import phone_number_to_msisdn

    _ensure(phone_number_to_msisdn("GB", "07470 674927") == "447470674927", "msisdn")
    sizes = []
    with tempfile.TemporaryDirectory() as folder:
        for kind in ("JPEG", "PNG", "WEBP", "GIF"):
            path = Path(folder) / f"picture.{kind.lower()}"
            Image.new("RGB", (64, 48), (200, 60, 30)).save(path, kind)
            thumbnailer = Thumbnailer(str(path))
            try:
                out = thumbnailer.scale(32, 24, "image/jpeg")
            finally:
                thumbnailer.close()
            size = Image.open(io.BytesIO(out.getvalue())).size
            _ensure(size == (32, 24), f"{kind} thumbnail {size}")
            sizes.append(kind)
    return "thumbnails of " + ", ".join(sizes)


def check_desktop() -> str:
    """Notifications (jeepney), the keyring's backends, LAN discovery."""
    import keyring.backend
    import zeroconf  # noqa: F401

    import ui.freedesktop_notifications  # noqa: F401 (jeepney)

    backends = keyring.backend.get_all_keyring()
    _ensure(bool(backends), "no keyring backends (entry points metadata)")
    return f"{len(backends)} keyring backends"


def check_qt_icu() -> str:
    """What QtCore asks ICU for: time zone names, collation, case mapping, codecs."""
    from PySide6.QtCore import QCollator, QDateTime, QLocale, QStringDecoder, QTimeZone

    summer = QDateTime.fromString("2026-07-01T12:00:00", "yyyy-MM-ddTHH:mm:ss")
    name = QTimeZone(b"Europe/Berlin").displayName(
        summer, QTimeZone.NameType.LongName, QLocale("de_DE")
    )
    _ensure(name == "Mitteleuropäische Sommerzeit", f"time zone name {name!r}")
    _ensure(QCollator(QLocale("de_DE")).compare("ähnlich", "Zebra") < 0, "collation")
    _ensure(QLocale("tr_TR").toUpper("i") == "İ", "Turkish case mapping")
    _ensure(QStringDecoder("Shift_JIS").isValid(), "Shift_JIS converter")
    return name


CHECKS: list[Callable[[], str]] = [
    check_opus_round_trip,
    check_webrtc_offer,
    check_confero_audio,
    check_homeserver,
    check_desktop,
    check_qt_icu,
]


def run(out=sys.stdout) -> int:
    """Runs every check; the number that failed."""
    failed = 0
    for check in CHECKS:
        name = check.__name__.removeprefix("check_")
        try:
            print(f"self-check: {name}: {check()}", file=out, flush=True)
        except Exception:
            failed += 1
            print(f"self-check: {name}: FAILED", file=out, flush=True)
            traceback.print_exc(file=out)
    print("OK" if not failed else f"FAILED: {failed} of {len(CHECKS)}", file=out, flush=True)
    return failed


def main() -> int:
    return 1 if run() else 0


if __name__ == "__main__":
    sys.exit(main())
