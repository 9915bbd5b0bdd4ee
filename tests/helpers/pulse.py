"""A private PulseAudio server for the test session, with virtual devices.

Each participant gets two null sinks: ``mic_<name>`` (tests play a tone into it; its
``.monitor`` is that person's microphone) and ``spk_<name>`` (that person's speaker; tests
record its ``.monitor`` to hear what they hear). Nothing reaches the developer's own
sound server: the server lives in a temporary folder and PULSE_SERVER points at it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pulsectl

from engine.media.devices import SAMPLE_RATE


@dataclass(frozen=True)
class Participant:
    name: str
    mic_sink: str  # play into this to speak
    mic: str  # the microphone (a source) this person's AudioDevices uses
    speaker: str  # the sink this person's AudioDevices plays to
    speaker_monitor: str  # record this to hear what they hear


class PulseServer:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.runtime = base / "runtime"
        self.socket = self.runtime / "native"
        self.server = f"unix:{self.socket}"
        self.log_path = base / "pulseaudio.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._modules: dict[str, int] = {}

    def start(self, timeout: float = 10.0) -> None:
        binary = shutil.which("pulseaudio")
        if binary is None:
            raise RuntimeError(
                "pulseaudio is not installed; scripts/setup --test installs it "
                "(apt-get install pulseaudio pulseaudio-utils)"
            )
        self.runtime.mkdir(parents=True, exist_ok=True)
        (self.base / "config").mkdir(exist_ok=True)
        # PulseAudio lowers its own open-file limit to 256 by default; every null sink
        # and stream takes a few, and a session's audio tests make more than 60 sinks.
        daemon_conf = self.base / "daemon.conf"
        daemon_conf.write_text("rlimit-nofile = 4096\n")
        env = {
            **os.environ,
            "HOME": str(self.base),
            "XDG_CONFIG_HOME": str(self.base / "config"),
            "XDG_RUNTIME_DIR": str(self.runtime),
            "PULSE_RUNTIME_PATH": str(self.runtime),
            "PULSE_CONFIG": str(daemon_conf),  # also read as root (which ignores ~/.config)
        }
        env.pop("DISPLAY", None)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [
                    binary,
                    "--daemonize=no",
                    "-n",  # no default.pa: only the modules below
                    "--exit-idle-time=-1",
                    "--system=false",
                    "--use-pid-file=no",
                    "--disable-shm=yes",
                    f"--load=module-native-protocol-unix auth-anonymous=1 socket={self.socket}",
                    "--log-target=stderr",
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.connect() as pulse:
                    pulse.server_info()
                return
            except pulsectl.PulseError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"PulseAudio did not start; see {self.log_path}:\n"
                        + self.log_path.read_text(errors="replace")[-2000:]
                    ) from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)

    def connect(self) -> pulsectl.Pulse:
        return pulsectl.Pulse("confero-tests", server=self.server)

    def add_sink(self, name: str) -> str:
        """A null sink at 48 kHz (mono, like the call audio); returns its name."""
        if name not in self._modules:
            with self.connect() as pulse:
                self._modules[name] = pulse.module_load(
                    "module-null-sink",
                    f"sink_name={name} rate={SAMPLE_RATE} channels=1 "
                    f"sink_properties=device.description={name}",
                )
        return name

    def add_microphone(self, name: str, master: str) -> str:
        """A real (non-monitor) source that re-exports ``master``: what a plugged-in
        microphone looks like to the sound server."""
        if name not in self._modules:
            with self.connect() as pulse:
                self._modules[name] = pulse.module_load(
                    "module-remap-source",
                    f"source_name={name} master={master} channels=1 "
                    f"source_properties=device.description={name}",
                )
        return name

    def remove(self, name: str) -> None:
        """Unplug a device made by add_sink or add_microphone."""
        index = self._modules.pop(name, None)
        if index is not None:
            with self.connect() as pulse:
                pulse.module_unload(index)

    def set_default_source(self, name: str) -> None:
        with self.connect() as pulse:
            pulse.source_default_set(pulse.get_source_by_name(name))

    def set_default_sink(self, name: str) -> None:
        with self.connect() as pulse:
            pulse.sink_default_set(pulse.get_sink_by_name(name))

    def participant(self, name: str) -> Participant:
        mic_sink = self.add_sink(f"mic_{name}")
        speaker = self.add_sink(f"spk_{name}")
        return Participant(name, mic_sink, f"{mic_sink}.monitor", speaker, f"{speaker}.monitor")


@dataclass(frozen=True)
class OwnServerListener:
    """Someone on a sound server of their own (a Hearer for tests/helpers/sound.py)."""

    devices: Participant
    server: str


def server_without_microphone(base: Path, name: str) -> tuple[PulseServer, OwnServerListener]:
    """A started sound server with one speaker and no microphone at all (not even a
    monitor is picked: Confero never captures from one unless told to)."""
    pulse = PulseServer(base)
    pulse.start()
    speaker = pulse.add_sink(f"spk_{name}")
    devices = Participant(name, "", "", speaker, f"{speaker}.monitor")
    return pulse, OwnServerListener(devices, pulse.server)
