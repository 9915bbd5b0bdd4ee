"""Without libpulse (Windows, macOS): the audio stack imports and says there is no sound server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter where no PulseAudio library can be opened, as on a
# system that has none: pulsectl's import-time CDLL and pasimple's both fail.
_PROBE = """
import ctypes

_real_init = ctypes.CDLL.__init__

def _no_pulse(self, name, *args, **kwargs):
    if name and "pulse" in str(name):
        raise OSError(f"{name}: cannot open shared object file")
    _real_init(self, name, *args, **kwargs)

ctypes.CDLL.__init__ = _no_pulse

import engine.media.call_media  # what a meeting imports
from engine.media.devices import AudioDevices
from engine.media.errors import NoSoundServer

devices = AudioDevices()
for check in (devices.check_microphone, devices.resolve_output):
    try:
        check()
    except NoSoundServer:
        print(check.__name__, "NoSoundServer")
"""


def test_without_libpulse_a_call_finds_no_sound_server_instead_of_failing_to_import() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == [
        "check_microphone NoSoundServer",
        "resolve_output NoSoundServer",
    ]
