from courses.markdown import parse_info, reading_minutes, render_markdown


def test_code_block_shows_title_language_and_highlighting():
    html = render_markdown('```python title="Hello async world"\nimport asyncio\n```\n').html
    assert '<span class="code-title">Hello async world</span>' in html
    assert '<span class="code-language">python</span>' in html
    assert '<span class="kn">import</span>' in html


def test_code_block_without_title_still_shows_its_language():
    html = render_markdown("```console\n$ python app.py\n```\n").html
    assert "code-title" not in html
    assert '<span class="code-language">console</span>' in html


def test_unknown_language_is_plain_text_not_an_error():
    html = render_markdown('```klingon title="Qapla"\nnuqneH\n```\n').html
    assert '<span class="code-language">klingon</span>' in html
    assert "<code>nuqneH\n</code>" in html


def test_html_inside_a_code_block_is_shown_as_text():
    html = render_markdown('```html title="A page"\n<script>alert("x")</script>\n```\n').html
    assert "<script>" not in html
    assert "&lt;" in html and "script" in html


def test_raw_html_in_the_text_is_escaped():
    html = render_markdown("Hello <img src=x onerror=alert(1)>\n").html
    assert "<img" not in html
    assert "&lt;img" in html


def test_title_with_markup_is_escaped():
    html = render_markdown('```python title="<b>bold</b>"\npass\n```\n').html
    assert "<b>bold</b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_headings_get_anchors_and_a_table_of_contents():
    rendered = render_markdown("## First part\n\ntext\n\n### Detail `x`\n\n## 둘째 부분\n")
    assert '<h2 id="first-part">' in rendered.html
    assert 'href="#first-part"' in rendered.html
    assert rendered.toc == [
        {"level": 2, "id": "first-part", "title": "First part"},
        {"level": 3, "id": "detail-x", "title": "Detail x"},
        {"level": 2, "id": "둘째-부분", "title": "둘째 부분"},
    ]


def test_repeated_headings_get_distinct_anchors():
    rendered = render_markdown("## A\n\n## A\n\n### A-1\n\n## A\n\n## A-1\n\n#### A\n")
    assert [entry["id"] for entry in rendered.toc] == ["a", "a-1", "a-1-1", "a-2", "a-1-2"]
    assert 'href="#a-1-2"' in rendered.html


def test_inline_code_lists_tables_and_quotes():
    html = render_markdown("Use `await`.\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> note\n").html
    assert "<code>await</code>" in html
    assert "<ul>" in html and "<li>one</li>" in html
    assert "<table>" in html and "<td>1</td>" in html
    assert "<blockquote>" in html


def test_info_string_accepts_single_quotes_and_extra_attributes():
    assert parse_info("Python title='A b' linenos=1") == ("python", {"title": "A b", "linenos": "1"})


def test_reading_time_is_at_least_a_minute_and_grows_with_words():
    assert reading_minutes(0) == 1
    assert reading_minutes(2000) == 10
    assert render_markdown("word " * 400).words == 400
