"""Splitting long text into events: boundaries, limits, and linear time."""

from __future__ import annotations

from engine.matrix_events import MAX_BODY_BYTES, split_body


def check(text: str) -> list[str]:
    parts = split_body(text)
    assert "".join(parts) == text
    assert all(0 < len(p.encode("utf-8")) <= MAX_BODY_BYTES for p in parts)
    return parts


def test_short_text_is_one_part():
    assert split_body("hello") == ["hello"]
    assert split_body("") == []


def test_prefers_line_breaks_then_spaces():
    line = "x" * 999 + "\n"
    parts = check(line * 100)
    assert all(p.endswith("\n") for p in parts[:-1])
    words = check(("word " * 20_000).strip())
    assert all(p.endswith(" ") for p in words[:-1])


def test_text_without_breaks_is_cut_at_the_limit():
    parts = check("a" * (MAX_BODY_BYTES * 2 + 5))
    assert [len(p) for p in parts] == [MAX_BODY_BYTES, MAX_BODY_BYTES, 5]


def test_cuts_fall_on_character_boundaries():
    for char in ("é", "€", "😀"):  # 2, 3 and 4 UTF-8 bytes
        for shift in range(4):
            parts = check("a" * shift + char * 40_000)
            assert all(len(p.encode()) > MAX_BODY_BYTES - 4 for p in parts[:-1])


def test_a_4_mb_multibyte_paste():
    text = ("Grüße, 世界! 😀 " * 8 + "\n") * 26_000  # about 4 MB of mixed widths
    assert len(text.encode("utf-8")) > 4_000_000
    parts = check(text)
    assert len(parts) >= len(text.encode("utf-8")) // MAX_BODY_BYTES
    assert all(p.endswith("\n") for p in parts[:-1])
