"""Reading a room's member list (the /members response) one event at a time.

A 10,000-person meeting's list is about 3 MB of JSON. ``json.loads`` of it
holds the event loop for tens of milliseconds, and a thread would not help (the
decoder keeps the GIL). Here the "chunk" array is decoded event by event with
the same C decoder, so the caller can let the loop turn between slices.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

#: Member events read and applied per turn of the event loop (a few ms' work).
MEMBERS_PER_SLICE = 500

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip(text: str, pos: int) -> int:
    match = _SPACE.match(text, pos)
    return match.end() if match else pos


def _expect(text: str, pos: int, allowed: str) -> tuple[str, int]:
    """The next non-space character (one of ``allowed``) and the position after it."""
    pos = _skip(text, pos)
    char = text[pos : pos + 1]
    if not char or char not in allowed:
        raise ValueError(f"expected one of {allowed!r} at {pos} in the member list")
    return char, pos + 1


def member_events(text: str) -> Iterator[Any]:
    """The items of the top-level object's "chunk" array, in order; other keys are skipped.

    Raises ValueError (json.JSONDecodeError) on text that is not a JSON object.
    """
    _, pos = _expect(text, 0, "{")
    if text.startswith("}", _skip(text, pos)):
        return
    while True:
        key, pos = _DECODER.raw_decode(text, _skip(text, pos))
        _, pos = _expect(text, pos, ":")
        pos = _skip(text, pos)
        if key == "chunk" and text.startswith("[", pos):
            pos = _skip(text, pos + 1)
            if text.startswith("]", pos):
                pos += 1
            else:
                while True:
                    item, pos = _DECODER.raw_decode(text, _skip(text, pos))
                    yield item
                    char, pos = _expect(text, pos, ",]")
                    if char == "]":
                        break
        else:
            _, pos = _DECODER.raw_decode(text, pos)
        char, pos = _expect(text, pos, ",}")
        if char == "}":
            return
