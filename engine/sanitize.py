"""Sanitising what other people send: HTML bodies and display names.

HTML keeps only the tags and attributes the Matrix spec lists for
``org.matrix.custom.html``; images and every other remote resource are
dropped so showing a message never fetches anything.
"""

from __future__ import annotations

import unicodedata

import nh3

ALLOWED_TAGS = frozenset({
    "font", "del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "a", "ul", "ol",
    "sup", "sub", "li", "b", "i", "u", "strong", "em", "strike", "s", "code", "hr", "br",
    "div", "table", "thead", "tbody", "tr", "th", "td", "caption", "pre", "span", "details",
    "summary",
})  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "font": {"color"},
    "span": {"color"},
    "a": {"href"},
    "ol": {"start"},
    "code": {"class"},
}
_LINK_SCHEMES = {"https", "http", "ftp", "mailto", "magnet", "matrix"}
MAX_NAME_LENGTH = 80
MAX_HTML_LENGTH = 128 * 1024


def sanitize_html(html: str) -> str:
    """Return safe HTML for rendering, or an empty string."""
    if len(html) > MAX_HTML_LENGTH:
        html = html[:MAX_HTML_LENGTH]
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=_LINK_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
        clean_content_tags={"script", "style", "mx-reply"},
    )


_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_ZERO_WIDTH_JOINER = "\u200d"  # kept: emoji sequences need it


def clean_text(text: str, limit: int | None = None) -> str:
    """Drop control and bidirectional-override characters from a message body.

    The right-to-left override makes text read backwards ("exe.txt" tricks);
    control characters garble layouts. Line breaks and tabs stay.
    """
    cleaned = "".join(
        ch
        for ch in text
        if ch in "\n\t"
        or (ch not in _BIDI_CONTROLS and unicodedata.category(ch) not in ("Cc", "Cs"))
    )
    if limit is not None and len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return cleaned


def clean_name(name: str) -> str:
    """A display name fit for one line of UI."""
    # Names also lose every other invisible format character (zero-width
    # spaces are an impersonation trick), but not the emoji joiner.
    visible = "".join(
        ch
        for ch in name
        if ch == _ZERO_WIDTH_JOINER
        or ch.isspace()  # line breaks become spaces below, not glue
        or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    single_line = " ".join(visible.split())
    if len(single_line) > MAX_NAME_LENGTH:
        single_line = single_line[: MAX_NAME_LENGTH - 1].rstrip() + "…"
    return single_line
