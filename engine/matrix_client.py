"""matrix-nio's AsyncClient, with its biggest answers parsed off the event loop.

matrix-nio checks every event of an answer against a JSON schema (about 30 µs
each with jsonschema). The event loop is the UI thread (qasync), so a sync
that brings the presence of everyone in a 10,000-person meeting, or the
member list of one, held the window still for about 300 ms. Those answers
are decoded and turned into nio's response objects on a worker thread; the
rest (small answers) stays as nio does it. The client's state is still only
changed on the loop: nio applies a response in ``receive_response``, after
this returns.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from aiohttp import ClientResponse
from nio import AsyncClient, JoinedMembersResponse, Response, SyncResponse

#: Answers that can hold an event per person in a big room.
_PARSED_OFF_LOOP: tuple[type[Response], ...] = (SyncResponse, JoinedMembersResponse)


def _response_from_body(
    response_class: type[Response], body: bytes, data: tuple[Any, ...]
) -> Response:
    try:
        parsed = json.loads(body)
    except ValueError:  # as nio's parse_body: an unreadable answer is an empty one
        parsed = {}
    return response_class.from_dict(parsed, *data)  # type: ignore[attr-defined]


class MatrixClient(AsyncClient):
    async def create_matrix_response(
        self,
        response_class: type,
        transport_response: ClientResponse,
        data: tuple[Any, ...] | None = None,
        save_to: os.PathLike[str] | None = None,
    ) -> Response:
        if not issubclass(response_class, _PARSED_OFF_LOOP):
            return await super().create_matrix_response(
                response_class, transport_response, data, save_to
            )
        body = await transport_response.read()
        response = await asyncio.to_thread(_response_from_body, response_class, body, data or ())
        response.transport_response = transport_response
        return response
