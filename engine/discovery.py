"""Finding the homeserver behind what a person typed.

A bare domain such as ``example.org`` is looked up through
``/.well-known/matrix/client`` as the spec asks; a URL is used as given when
there is no well-known document. Either way the result must answer
``/_matrix/client/versions`` before we call it a Matrix server.
"""

from __future__ import annotations

import logging

import aiohttp

from engine.errors import HomeserverUnreachable, InvalidHomeserverAddress
from engine.ids import normalise_homeserver_address

log = logging.getLogger(__name__)

_TIMEOUT = aiohttp.ClientTimeout(total=10)


async def discover_homeserver(address: str) -> str:
    """Return the client-server API base URL for ``address``."""
    candidate = normalise_homeserver_address(address)
    async with aiohttp.ClientSession(timeout=_TIMEOUT) as session:
        base_url = await _well_known_base_url(session, candidate) or candidate
        await _check_versions(session, base_url, typed=address.strip())
    return base_url


async def _well_known_base_url(session: aiohttp.ClientSession, origin: str) -> str | None:
    try:
        async with session.get(f"{origin}/.well-known/matrix/client") as response:
            if response.status != 200:
                return None
            document = await response.json(content_type=None)
    except (TimeoutError, aiohttp.ClientError, ValueError):
        return None
    base = (
        (document or {}).get("m.homeserver", {}).get("base_url")
        if isinstance(document, dict)
        else None
    )
    if not isinstance(base, str):
        return None
    try:
        return normalise_homeserver_address(base.rstrip("/"))
    except InvalidHomeserverAddress:
        log.warning("ignoring a malformed well-known base_url")
        return None


async def _check_versions(session: aiohttp.ClientSession, base_url: str, typed: str) -> None:
    try:
        async with session.get(f"{base_url}/_matrix/client/versions") as response:
            body = await response.json(content_type=None) if response.status == 200 else None
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        raise HomeserverUnreachable(
            f"The server at {typed} cannot be reached. Check the address and your connection."
        ) from exc
    if not isinstance(body, dict) or "versions" not in body:
        raise HomeserverUnreachable(f"{typed} answered, but it is not a Matrix server.")
