"""Reading the /members answer event by event gives what json.loads gives."""

from __future__ import annotations

import json

import pytest

from engine.member_events import member_events


def member(i: int) -> dict[str, object]:
    return {
        "type": "m.room.member",
        "state_key": f"@u{i}:hs",
        "content": {"membership": "join", "displayname": f'Ünïcode "{i}" ]}},['},
        "unsigned": {"age": i, "nested": [1, [2, {"chunk": []}]]},
    }


@pytest.mark.parametrize("indent", [None, 2])
def test_the_chunk_items_in_order_other_keys_skipped(indent: int | None) -> None:
    body = {"start": "t1", "chunk": [member(i) for i in range(50)], "end": {"x": [1, 2]}}
    text = json.dumps(body, indent=indent, ensure_ascii=indent is None)
    assert list(member_events(text)) == body["chunk"]


@pytest.mark.parametrize(
    "text", ['{"chunk": []}', "{}", ' { "errcode": "M_FORBIDDEN", "error": "no" } ', '{"chunk": 3}']
)
def test_no_members(text: str) -> None:
    assert list(member_events(text)) == []


@pytest.mark.parametrize(
    "text", ["", "[]", '{"chunk": [{"a": 1} {"b": 2}]}', '{"chunk": [', "nope"]
)
def test_not_a_member_list_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        list(member_events(text))
