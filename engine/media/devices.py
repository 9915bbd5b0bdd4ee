"""Microphone and speaker through the PulseAudio server (PipeWire's pulse server works too).

Each stream is a plain thread doing blocking 20 ms reads or writes with libpulse-simple
(``pasimple``), so neither the UI loop nor the media loop ever waits on the device.
Device lists come from ``pulsectl``. A device that goes away mid-stream is replaced by
the default one without ending anything: the stream reopens and fills the gap with
silence meanwhile. With no microphone at all, capture yields silence and reports
``NoMicrophone``, so a call goes on receive-only.

All list/open calls block briefly on the sound server: call them off the UI thread.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pasimple

from engine.media.errors import MediaError, NoMicrophone, NoSoundServer

try:
    import pulsectl
except OSError:  # it opens libpulse on import: none on Windows or macOS (no PulseAudio)
    pulsectl = None  # type: ignore[assignment]

#: What a failing device lookup raises: pulsectl's error, or ours without libpulse.
_PulseError: type[Exception] = pulsectl.PulseError if pulsectl is not None else NoSoundServer

log = logging.getLogger(__name__)

SAMPLE_RATE = 48_000
FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 960
BYTES_PER_SAMPLE = 2  # s16le
#: How long a stream without its device waits before trying to open one again.
REOPEN_INTERVAL = 1.0
#: How often a stream on a fallback device checks whether the chosen one is back.
RETURN_CHECK_INTERVAL = 2.0


@dataclass(frozen=True)
class AudioDevice:
    name: str  # the sound server's name, what a setting stores
    description: str  # what a person reads
    is_default: bool


@dataclass(frozen=True)
class Level:
    """Loudness of the latest frame, both 0..1 of full scale."""

    rms: float = 0.0
    peak: float = 0.0


def level_of(samples: np.ndarray) -> Level:
    if samples.size == 0:
        return Level()
    floats = samples.astype(np.float32) / 32768.0
    return Level(
        rms=float(min(1.0, np.sqrt(np.mean(floats * floats)))),
        peak=float(min(1.0, np.max(np.abs(floats)))),
    )


class AudioDevices:
    """The chosen microphone and speaker (None: the default) on one sound server.

    ``server`` None means libpulse's usual lookup (PULSE_SERVER, then the session server).
    One capture stream is shared by every call peer, so a mesh meeting opens the
    microphone once.
    """

    def __init__(
        self,
        input_device: str | None = None,
        output_device: str | None = None,
        *,
        server: str | None = None,
        channels: int = 1,
    ) -> None:
        self.server = server
        self.channels = channels
        self._input = input_device
        self._output = output_device
        self._lock = threading.Lock()
        self._capture: CaptureStream | None = None
        self._playbacks: set[PlaybackStream] = set()

    @property
    def input_device(self) -> str | None:
        return self._input

    @property
    def output_device(self) -> str | None:
        return self._output

    # --- listing ------------------------------------------------------------------------

    def list_inputs(self) -> list[AudioDevice]:
        """Microphones. Monitors of outputs are left out: they would echo the speaker."""
        with self._pulse() as pulse:
            default = pulse.server_info().default_source_name
            return [
                AudioDevice(s.name, s.description, s.name == default)
                for s in pulse.source_list()
                if not _is_monitor(s)
            ]

    def list_outputs(self) -> list[AudioDevice]:
        with self._pulse() as pulse:
            default = pulse.server_info().default_sink_name
            return [
                AudioDevice(s.name, s.description, s.name == default) for s in pulse.sink_list()
            ]

    def resolve_input(self, wanted: str | None = None) -> str:
        """The source to capture from: the chosen one if present, else the default mic.

        A chosen name may be any source (tests pick a null sink's monitor); the fallback
        never picks a monitor. Raises NoMicrophone when there is nothing to pick.
        """
        wanted = wanted if wanted is not None else self._input
        with self._pulse() as pulse:
            sources = pulse.source_list()
            names = {s.name for s in sources}
            if wanted and wanted in names:
                return wanted
            default = pulse.server_info().default_source_name
            mics = [s.name for s in sources if not _is_monitor(s)]
        if default in mics:
            return default
        if mics:
            return mics[0]
        raise NoMicrophone()

    def resolve_output(self, wanted: str | None = None) -> str:
        wanted = wanted if wanted is not None else self._output
        with self._pulse() as pulse:
            names = [s.name for s in pulse.sink_list()]
            default = pulse.server_info().default_sink_name
        if wanted and wanted in names:
            return wanted
        if default in names:
            return default
        if names:
            return names[0]
        raise MediaError("No speaker was found, so you won't hear the others.")

    def stream_device(self, stream_name: str, *, capture: bool) -> str | None:
        """The device a stream of ours is on right now, found by its unique name."""
        with self._pulse() as pulse:
            if capture:
                streams, devices = pulse.source_output_list(), pulse.source_list()
                index_of = "source"
            else:
                streams, devices = pulse.sink_input_list(), pulse.sink_list()
                index_of = "sink"
            names = {d.index: d.name for d in devices}
            for stream in streams:
                if stream.proplist.get("media.name") == stream_name:
                    return names.get(getattr(stream, index_of))
        return None

    def check_microphone(self) -> str:
        """The microphone a call would use; NoMicrophone or NoSoundServer if none."""
        return self.resolve_input()

    # --- streams ------------------------------------------------------------------------

    def capture(self) -> CaptureStream:
        """The shared microphone stream, started on first use."""
        with self._lock:
            if self._capture is None or self._capture.closed:
                self._capture = CaptureStream(self)
                self._capture.start()
            return self._capture

    def open_playback(self, source: Callable[[int], np.ndarray]) -> PlaybackStream:
        """A speaker stream playing what ``source(frame_samples)`` returns, every 20 ms."""
        stream = PlaybackStream(self, source)
        with self._lock:
            self._playbacks.add(stream)
        stream.start()
        return stream

    def set_input(self, name: str | None) -> None:
        """Switch the microphone; a running capture reopens on the new one."""
        self._input = name
        with self._lock:
            if self._capture is not None:
                self._capture.request_reopen()

    def set_output(self, name: str | None) -> None:
        """Switch the speaker; running playback streams reopen on it."""
        self._output = name
        with self._lock:
            streams = list(self._playbacks)
        for stream in streams:
            stream.request_reopen()

    def close(self) -> None:
        """Stop the microphone and every speaker stream."""
        with self._lock:
            capture, self._capture = self._capture, None
            playbacks, self._playbacks = list(self._playbacks), set()
        for stream in [capture, *playbacks]:
            if stream is not None:
                stream.close()

    def _forget(self, stream: PlaybackStream) -> None:
        with self._lock:
            self._playbacks.discard(stream)

    def _pulse(self) -> pulsectl.Pulse:
        if pulsectl is None:
            raise NoSoundServer()
        try:
            return pulsectl.Pulse("confero-devices", server=self.server)
        except pulsectl.PulseError as error:
            raise NoSoundServer() from error

    def _open(self, direction: int, device: str, name: str, **buffer: int) -> pasimple.PaSimple:
        return pasimple.PaSimple(
            direction,
            pasimple.PA_SAMPLE_S16LE,
            self.channels,
            SAMPLE_RATE,
            app_name="Confero",
            stream_name=name,
            server_name=self.server,
            device_name=device,
            **buffer,
        )


def _is_monitor(source: object) -> bool:
    return getattr(source, "monitor_of_sink_name", None) is not None


class _DeviceStream(threading.Thread):
    """A 20 ms device loop that survives its device: reopen on error, silence meanwhile."""

    kind = "audio"
    capture = False
    _numbers = itertools.count(1)

    def __init__(self, devices: AudioDevices) -> None:
        super().__init__(name=f"confero-{self.kind}", daemon=True)
        # Unique, so the stream can be found on the server (see _should_return).
        self.stream_name = f"Confero {self.kind} {next(self._numbers)}"
        self.devices = devices
        self.device: str | None = None  # what is open now
        self.problem: MediaError | None = None
        self.closed = False
        self._stream: pasimple.PaSimple | None = None
        self._reopen = threading.Event()
        self._halt = threading.Event()
        self._next_try = 0.0
        self._next_return_check = 0.0
        self._clock = 0.0  # when the next silent frame is due, while there is no device

    def request_reopen(self) -> None:
        self._reopen.set()

    def close(self, timeout: float = 1.0) -> None:
        self.closed = True
        self._halt.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                if self._reopen.is_set() or self._should_return():
                    self._reopen.clear()
                    self._close_stream()
                    self._next_try = 0.0
                if self._stream is None and time.monotonic() >= self._next_try:
                    self._try_open()
                if self._stream is None:
                    self._idle_frame()
                    continue
                try:
                    self._step(self._stream)
                except pasimple.PaSimpleError as error:
                    log.warning(
                        "%s device %s failed (%s); reopening", self.kind, self.device, error
                    )
                    self._close_stream()
        finally:
            self._close_stream()

    def _try_open(self) -> None:
        self._next_try = time.monotonic() + REOPEN_INTERVAL
        try:
            device = self._resolve()
            self._stream = self._open(device)
        except MediaError as error:
            if type(self.problem) is not type(error):
                log.warning("%s: %s", self.kind, error.user_message)
            self.problem = error
            return
        except pasimple.PaSimpleError as error:
            log.warning("cannot open %s device: %s", self.kind, error)
            return
        if device != self.device:
            log.info("%s device: %s", self.kind, device)
        self.device = device
        self.problem = None
        self._next_return_check = time.monotonic() + RETURN_CHECK_INTERVAL

    def _should_return(self) -> bool:
        """Back to the chosen device once it is there again.

        The sound server may have moved the stream to the default device itself when the
        chosen one went away (PulseAudio's rescue), so ask where the stream really is.
        """
        wanted = self._wanted()
        if self._stream is None or not wanted or time.monotonic() < self._next_return_check:
            return False
        self._next_return_check = time.monotonic() + RETURN_CHECK_INTERVAL
        try:
            actual = self.devices.stream_device(self.stream_name, capture=self.capture)
            if actual is not None and actual != self.device:
                log.info("%s moved by the sound server to %s", self.kind, actual)
                self.device = actual
            return self.device != wanted and self._resolve() == wanted
        except (MediaError, _PulseError):
            return False

    def _idle_frame(self) -> None:
        now = time.monotonic()
        self._clock = max(self._clock + FRAME_MS / 1000, now - 0.1)
        if self._clock > now:
            self._halt.wait(self._clock - now)
        self._silence()

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(pasimple.PaSimpleError):
                stream.close()
        self._clock = time.monotonic()

    # subclass hooks
    def _wanted(self) -> str | None:
        raise NotImplementedError

    def _resolve(self) -> str:
        raise NotImplementedError

    def _open(self, device: str) -> pasimple.PaSimple:
        raise NotImplementedError

    def _step(self, stream: pasimple.PaSimple) -> None:
        raise NotImplementedError

    def _silence(self) -> None:
        raise NotImplementedError


FrameListener = Callable[[np.ndarray], None]


class CaptureStream(_DeviceStream):
    """The microphone: 20 ms int16 frames (shape (samples, channels)) to each listener.

    Listeners run on the capture thread and must only hand the frame on (e.g. with
    ``loop.call_soon_threadsafe``).
    """

    kind = "microphone"
    capture = True

    def __init__(self, devices: AudioDevices) -> None:
        super().__init__(devices)
        self.level = Level()
        self._listeners: list[FrameListener] = []
        self._silent = np.zeros((FRAME_SAMPLES, devices.channels), dtype=np.int16)

    def add_listener(self, listener: FrameListener) -> Callable[[], None]:
        self._listeners = [*self._listeners, listener]  # copy: read from the capture thread

        def remove() -> None:
            self._listeners = [x for x in self._listeners if x is not listener]

        return remove

    def _wanted(self) -> str | None:
        return self.devices.input_device

    def _resolve(self) -> str:
        return self.devices.resolve_input()

    def _open(self, device: str) -> pasimple.PaSimple:
        frame_bytes = FRAME_SAMPLES * self.devices.channels * BYTES_PER_SAMPLE
        return self.devices._open(
            pasimple.PA_STREAM_RECORD, device, self.stream_name, fragsize=frame_bytes
        )

    def _step(self, stream: pasimple.PaSimple) -> None:
        channels = self.devices.channels
        data = stream.read(FRAME_SAMPLES * channels * BYTES_PER_SAMPLE)
        self._emit(np.frombuffer(data, dtype="<i2").reshape(-1, channels))

    def _silence(self) -> None:
        self._emit(self._silent)

    def _emit(self, frame: np.ndarray) -> None:
        self.level = level_of(frame)
        for listener in self._listeners:
            try:
                listener(frame)
            except Exception:
                log.exception("a microphone listener failed")


class PlaybackStream(_DeviceStream):
    """The speaker: every 20 ms, writes ``source(FRAME_SAMPLES)`` (int16, mono or
    (samples, channels)). The device's small buffer paces the loop."""

    kind = "speaker"

    def __init__(self, devices: AudioDevices, source: Callable[[int], np.ndarray]) -> None:
        super().__init__(devices)
        self._source = source

    def close(self, timeout: float = 1.0) -> None:
        self.devices._forget(self)
        super().close(timeout)

    def _wanted(self) -> str | None:
        return self.devices.output_device

    def _resolve(self) -> str:
        return self.devices.resolve_output()

    def _open(self, device: str) -> pasimple.PaSimple:
        frame_bytes = FRAME_SAMPLES * self.devices.channels * BYTES_PER_SAMPLE
        # A 60 ms buffer: low latency, yet a late frame does not underrun at once.
        return self.devices._open(
            pasimple.PA_STREAM_PLAYBACK,
            device,
            self.stream_name,
            tlength=3 * frame_bytes,
            prebuf=frame_bytes,
            minreq=frame_bytes,
        )

    def _next_frame(self) -> bytes:
        samples = np.asarray(self._source(FRAME_SAMPLES), dtype=np.int16)
        if samples.ndim == 1:
            samples = samples.reshape(-1, 1)
        if samples.shape[1] != self.devices.channels:
            mono = samples.mean(axis=1, dtype=np.float32).astype(np.int16)
            samples = np.repeat(mono.reshape(-1, 1), self.devices.channels, axis=1)
        return samples.astype("<i2").tobytes()

    def _step(self, stream: pasimple.PaSimple) -> None:
        stream.write(self._next_frame())

    def _silence(self) -> None:
        self._next_frame()  # keep the mixer's buffers moving at the real-time pace
