"""The account's audio: one media thread and one pair of devices, made on first use.

``CallMedia`` is the CallMediaFactory the call services get. Nothing starts until
the first call asks for a peer, so signing in costs no thread and no sound-server
connection; ``close`` (at sign-out and quitting) stops what was started, bounded.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from engine.media.audio_peer import AudioPeer, AudioPeerFactory
from engine.media.devices import AudioDevices
from engine.media.media_thread import MediaThread

log = logging.getLogger(__name__)


class CallMedia:
    def __init__(
        self,
        input_device: str | None = None,
        output_device: str | None = None,
        *,
        server: str | None = None,
    ) -> None:
        """``input_device``/``output_device``: PulseAudio names, None for the defaults;
        ``server``: a sound server address, None for libpulse's usual lookup."""
        self._input = input_device
        self._output = output_device
        self._server = server
        self._lock = threading.Lock()
        self._factory: AudioPeerFactory | None = None

    @property
    def started(self) -> bool:
        return self._factory is not None

    @property
    def devices(self) -> AudioDevices | None:
        return self._factory.devices if self._factory else None

    def new_peer(self) -> AudioPeer:
        return self._ensure_factory().new_peer()

    def check_microphone(self) -> str:
        """The microphone a call would capture from now; NoMicrophone (a call goes on
        receive-only) or NoSoundServer if none. Blocks briefly on the sound server: call
        it off the UI thread. Works before anything started, too."""
        devices = self.devices
        if devices is None:
            devices = AudioDevices(self._input, self._output, server=self._server)
        return devices.check_microphone()

    def use_sound_server(self, server: str | None) -> None:
        """Talk to this sound server (None: libpulse's usual lookup) from the next start:
        media already running keeps its own. Tests give one person a server of their own."""
        self._server = server

    def choose_devices(self, input_device: str | None, output_device: str | None) -> None:
        """Use these from now on; running calls switch over without ending."""
        self._input, self._output = input_device, output_device
        if self._factory is not None:
            self._factory.devices.set_input(input_device)
            self._factory.devices.set_output(output_device)

    async def close(self) -> None:
        """Stop the media thread and close the devices, off the caller's loop."""
        with self._lock:
            factory, self._factory = self._factory, None
        if factory is None:
            return
        stopped = await asyncio.to_thread(factory.media_thread.stop, 3.0)
        if not stopped:
            log.warning("the media thread did not stop in time; it is left to end with the app")
        await asyncio.to_thread(factory.devices.close)

    def _ensure_factory(self) -> AudioPeerFactory:
        with self._lock:
            if self._factory is None:
                devices = AudioDevices(self._input, self._output, server=self._server)
                self._factory = AudioPeerFactory(MediaThread(), devices)
            return self._factory
