from engine.sanitize import MAX_NAME_LENGTH, clean_name, clean_text, sanitize_html


def test_html_keeps_only_the_specs_tags():
    html = (
        '<b>bold</b><i onclick="x()">it</i><script>alert(1)</script><style>*{}</style>'
        '<img src="https://tracker.example/x.png"><a href="javascript:evil()">j</a>'
        '<a href="https://ok.example">ok</a><iframe src="https://x"></iframe>'
        '<font color="#ff0000" style="position:fixed">red</font>'
    )
    clean = sanitize_html(html)
    assert "<b>bold</b>" in clean and "<i>it</i>" in clean
    for forbidden in (
        "script",
        "alert",
        "style",
        "img",
        "tracker",
        "javascript",
        "iframe",
        "onclick",
    ):
        assert forbidden not in clean
    assert 'href="https://ok.example"' in clean
    assert '<font color="#ff0000">red</font>' in clean


def test_text_loses_controls_and_bidi_overrides_but_keeps_lines_and_emoji():
    assert clean_text("a\u202eb\x00c\x1b[31m\nd\te") == "abc[31m\nd\te"
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean_text(family) == family


def test_names_are_one_bounded_line():
    assert clean_name("  Bob\n\u200bSmith\u202e  ") == "Bob Smith"
    long = clean_name("A" * 5000)
    assert len(long) == MAX_NAME_LENGTH and long.endswith("…")
    assert clean_name("<b>x</b>") == "<b>x</b>"  # shown as plain text by the UI
