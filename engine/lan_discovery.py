"""Meeting servers on the local network: announcing this one, finding the others.

DNS-SD over multicast DNS (the ``zeroconf`` package), service type
``_confero._tcp``: Matrix has no DNS-SD service of its own (``_matrix._tcp`` is
federation's SRV record, which means something else), and only Confero's
embedded servers with network access on are announced. The SRV record gives
the network listener's port, the A records its addresses, and the TXT record:

    v=1  name=<what to call it>  server=<server name>  fp=<SHA-256 of the certificate, hex>

The service instance's own name adds the fingerprint's first digits to the
computer's name, so two computers called the same never take each other's
announcement (zeroconf's probing does not catch every such clash).

The fingerprint is for the person to compare (and for a guest link whose
address went stale to find its host again): a server on the network can
announce anything, so nothing is trusted because it was announced. Joining
still needs a guest link's invitation and pins the link's certificate.

zeroconf's threaded API runs on its own threads; every call that waits
(starting, registering, the goodbye packets, closing) goes through
``asyncio.to_thread``, so the caller's event loop (the UI's) never blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from zeroconf import (
    BadTypeInNameException,
    IPVersion,
    ServiceBrowser,
    ServiceInfo,
    ServiceListener,
    Zeroconf,
)

from engine.network_hosting import local_network_addresses
from engine.server_certificate import format_fingerprint

if TYPE_CHECKING:
    from engine.homeserver import EmbeddedHomeserver

log = logging.getLogger(__name__)

__all__ = [
    "SERVICE_TYPE",
    "DiscoveredServer",
    "LanAnnouncer",
    "LanBrowser",
    "announce_homeserver",
]

SERVICE_TYPE: Final = "_confero._tcp.local."
_TXT_VERSION: Final = "1"
#: How long resolving a found name (its SRV, TXT and A records) may take.
_RESOLVE_TIMEOUT_MS: Final = 3000
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
# DNS labels are at most 63 bytes; an instance name is one label.
_INSTANCE_MAX: Final = 63


@dataclass(frozen=True, slots=True)
class DiscoveredServer:
    """A Confero meeting server that announced itself on the network."""

    instance: str  # the announced name, e.g. "Hannah's laptop"
    server_name: str  # the Matrix server name (the part after ":" in its IDs)
    host: str  # an IPv4 address to reach its network listener at
    port: int
    fingerprint: bytes  # SHA-256 of its certificate, as announced (compare it!)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def fingerprint_text(self) -> str:
        """The fingerprint grouped as people compare it (AB:CD:…)."""
        return format_fingerprint(self.fingerprint)


def _instance_label(name: str, *, suffix: str = "") -> str:
    label = "".join(ch for ch in name if ch.isprintable() and ch != ".").strip()
    label = label or "Confero meeting server"
    while len((label + suffix).encode()) > _INSTANCE_MAX:
        label = label[:-1]
    return label + suffix


class LanAnnouncer:
    """Announces one meeting server while network access is on; ``withdraw`` says goodbye."""

    def __init__(
        self,
        *,
        interfaces: list[str] | None = None,
        zeroconf_factory: Callable[[], Zeroconf] | None = None,
    ) -> None:
        self._interfaces = interfaces  # None: every interface (tests pass the namespace's)
        # Makes the Zeroconf (its sockets); tests make it inside a network namespace.
        self._zeroconf_factory = zeroconf_factory
        self._zeroconf: Zeroconf | None = None
        self._info: ServiceInfo | None = None
        self._lock = asyncio.Lock()

    @property
    def announcing(self) -> bool:
        return self._info is not None

    async def announce(
        self,
        instance: str,
        *,
        server_name: str,
        addresses: list[str],
        port: int,
        fingerprint: bytes,
    ) -> None:
        """Announce (or re-announce, e.g. with a new address) the server."""
        packed = [socket.inet_aton(a) for a in addresses if ipaddress.ip_address(a).version == 4]
        if not packed:
            raise ValueError("a server is announced with at least one IPv4 address")
        label = _instance_label(instance, suffix=f" [{fingerprint.hex()[:8]}]")
        info = ServiceInfo(
            SERVICE_TYPE,
            f"{label}.{SERVICE_TYPE}",
            addresses=packed,
            port=port,
            properties={
                "v": _TXT_VERSION,
                "name": instance[: _INSTANCE_MAX * 2],
                "server": server_name,
                "fp": fingerprint.hex(),
            },
            server=f"{_host_label(socket.gethostname())}.local.",
        )
        async with self._lock:
            await self._withdraw_locked()
            if self._zeroconf is None:
                make = self._zeroconf_factory or self._new_zeroconf
                self._zeroconf = await asyncio.to_thread(make)
            zc = self._zeroconf
            # allow_name_change: a second Confero with the same name gets "… (2)".
            await asyncio.to_thread(zc.register_service, info, allow_name_change=True)
            self._info = info
            log.info("announcing the meeting server on the network as %r", info.name)

    async def withdraw(self) -> None:
        """Stop announcing (goodbye packets, so browsers drop it at once) and close."""
        async with self._lock:
            await self._withdraw_locked()
            zc, self._zeroconf = self._zeroconf, None
            if zc is not None:
                await asyncio.to_thread(zc.close)

    async def _withdraw_locked(self) -> None:
        info, self._info = self._info, None
        if info is not None and self._zeroconf is not None:
            with contextlib.suppress(Exception):  # the network is gone: nobody to tell
                await asyncio.to_thread(self._zeroconf.unregister_service, info)
            log.info("no longer announcing the meeting server")

    def _new_zeroconf(self) -> Zeroconf:
        if self._interfaces is None:
            return Zeroconf(ip_version=IPVersion.V4Only)
        return Zeroconf(interfaces=self._interfaces, ip_version=IPVersion.V4Only)


def _host_label(hostname: str) -> str:
    label = re.sub(r"[^A-Za-z0-9\-]", "-", hostname.split(".")[0])[:_INSTANCE_MAX].strip("-")
    return label or "confero"


ChangeObserver = Callable[[list[DiscoveredServer]], None]


class LanBrowser:
    """Lists the meeting servers announced on the network, as they come and go.

    ``observer`` gets the whole list (sorted by name) on the event loop that
    called ``start``, each time it changes.
    """

    def __init__(
        self,
        observer: ChangeObserver,
        *,
        interfaces: list[str] | None = None,
        zeroconf_factory: Callable[[], Zeroconf] | None = None,
    ) -> None:
        self._observer = observer
        self._interfaces = interfaces
        # Makes the Zeroconf (its sockets); tests make it inside a network namespace.
        self._zeroconf_factory = zeroconf_factory
        self._found: dict[str, DiscoveredServer] = {}
        self._zeroconf: Zeroconf | None = None
        self._browser: ServiceBrowser | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def servers(self) -> list[DiscoveredServer]:
        return sorted(self._found.values(), key=lambda s: (s.instance.casefold(), s.address))

    @property
    def running(self) -> bool:
        return self._browser is not None

    async def start(self) -> None:
        if self._browser is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._zeroconf = await asyncio.to_thread(self._zeroconf_factory or self._new_zeroconf)
        self._browser = await asyncio.to_thread(
            ServiceBrowser, self._zeroconf, SERVICE_TYPE, listener=_Listener(self)
        )

    async def stop(self) -> None:
        browser, self._browser = self._browser, None
        zc, self._zeroconf = self._zeroconf, None
        if browser is not None:
            await asyncio.to_thread(browser.cancel)
        if zc is not None:
            await asyncio.to_thread(zc.close)
        self._loop = None

    def _new_zeroconf(self) -> Zeroconf:
        if self._interfaces is None:
            return Zeroconf(ip_version=IPVersion.V4Only)
        return Zeroconf(interfaces=self._interfaces, ip_version=IPVersion.V4Only)

    # -- on zeroconf's browser thread ---------------------------------------------

    def _resolve(self, zc: Zeroconf, name: str) -> None:
        try:
            info = zc.get_service_info(SERVICE_TYPE, name, timeout=_RESOLVE_TIMEOUT_MS)
        except (BadTypeInNameException, OSError) as exc:
            log.info("could not resolve %r: %s", name, exc)
            return
        server = _server_from(name, info) if info is not None else None
        self._hand_over(name, server)

    def _hand_over(self, name: str, server: DiscoveredServer | None) -> None:
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._apply, name, server)

    # -- on the caller's event loop -------------------------------------------------

    def _apply(self, name: str, server: DiscoveredServer | None) -> None:
        if self._browser is None:
            return  # stopped meanwhile
        before = self._found.get(name)
        if server is None:
            self._found.pop(name, None)
        else:
            self._found[name] = server
        if before != server:
            try:
                self._observer(self.servers)
            except Exception:  # the observer's bug must not stop browsing
                log.exception("discovery observer failed")


class _Listener(ServiceListener):
    def __init__(self, browser: LanBrowser) -> None:
        self._browser = browser

    def add_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self._browser._resolve(zc, name)

    def update_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self._browser._resolve(zc, name)

    def remove_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self._browser._hand_over(name, None)


def _server_from(name: str, info: ServiceInfo) -> DiscoveredServer | None:
    """What a resolved announcement says, or None when it is not a usable one."""
    props = {
        (k or b"").decode(errors="replace"): (v or b"").decode(errors="replace")
        for k, v in (info.properties or {}).items()
    }
    fingerprint = props.get("fp", "").lower()
    addresses = info.parsed_addresses(IPVersion.V4Only)
    if props.get("v") != _TXT_VERSION or not _HEX64.match(fingerprint) or not addresses:
        log.info("ignoring an announcement that is not a usable meeting server: %r", name)
        return None
    if not info.port or not 0 < info.port < 65536:
        return None
    shown = "".join(ch for ch in props.get("name", "") if ch.isprintable()).strip()
    if not shown:  # another program's announcement: its instance name will do
        shown = name.removesuffix("." + SERVICE_TYPE).replace("\\", "")
    return DiscoveredServer(
        instance=shown[: _INSTANCE_MAX * 2],
        server_name=props.get("server", "")[:255],
        host=addresses[0],
        port=int(info.port),
        fingerprint=bytes.fromhex(fingerprint),
    )


async def announce_homeserver(
    announcer: LanAnnouncer, homeserver: EmbeddedHomeserver, instance: str | None = None
) -> bool:
    """Follow the embedded server's network access: announce it while it is on and
    running, withdraw it otherwise. Returns whether it is announced now."""
    # A file read and a host-name look-up: not on the event loop.
    port, fingerprint = (
        homeserver.network_port,
        await asyncio.to_thread(homeserver.network_fingerprint),
    )
    if not (homeserver.network_enabled and homeserver.is_running) or not port or not fingerprint:
        await announcer.withdraw()
        return False
    bound = homeserver.network_address
    addresses = (
        await asyncio.to_thread(local_network_addresses) if bound in ("0.0.0.0", "") else [bound]
    )
    if not addresses:
        await announcer.withdraw()
        return False
    await announcer.announce(
        instance or socket.gethostname().split(".")[0],
        server_name=homeserver.server_name,
        addresses=addresses,
        port=port,
        fingerprint=fingerprint,
    )
    return True
