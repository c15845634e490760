from django.utils import translation

from courses.markdown import (
    CODE_COLUMNS_THAT_ALWAYS_FIT,
    TextAmount,
    code_columns,
    measure_prose,
    parse_info,
    reading_minutes,
    render_markdown,
)


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


def test_heading_links_are_named_after_their_section_and_sit_beside_the_heading():
    """Pins heading anchors read as "#" by screen readers, inside the heading's own name."""
    html = render_markdown("## First `x` part\n\ntext\n").html
    assert '<h2 id="first-x-part">First <code>x</code> part</h2>' in html
    assert (
        '<a class="header-anchor" href="#first-x-part" aria-label="Link to the section “First x part”">#</a>' in html
    )


def test_accessible_names_are_written_in_the_active_language():
    with translation.override("ko"):
        html = render_markdown(
            "## 첫째 부분\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
            '```python title="긴 줄"\nresult = some_function(argument_one, argument_two)\n```\n'
        ).html
    assert 'aria-label="“첫째 부분” 절로 가는 링크"' in html
    assert 'aria-label="표 1"' in html
    assert 'aria-label="코드 1: 긴 줄 (python)"' in html


def test_a_code_block_wider_than_a_phone_is_a_named_region_reachable_by_keyboard():
    """Pins axe's "scrollable region must be focusable" on wide code blocks."""
    long_line = "result = some_function_with_a_long_name(argument_one, argument_two)\n"
    html = render_markdown(f'```python title="Hello"\n{long_line}```\n\n```console\n$ {long_line}```\n').html
    assert '<pre tabindex="0" role="region" aria-label="Code 1: Hello (python)">' in html
    assert '<pre tabindex="0" role="region" aria-label="Code 2 (console)">' in html


def test_a_code_block_that_fits_a_phone_is_no_extra_tab_stop():
    fits = "x" * CODE_COLUMNS_THAT_ALWAYS_FIT
    assert "tabindex" not in render_markdown(f"```\n{fits}\n```\n").html
    assert "tabindex" in render_markdown(f"```\n{fits}x\n```\n").html


def test_code_width_counts_wide_characters_twice_and_tabs_to_the_next_stop():
    assert code_columns("# 한글\nab") == 6
    assert code_columns("\tx") == 5
    assert code_columns("") == 0


def test_tables_scroll_inside_a_named_focusable_box():
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n| c |\n|---|\n| 3 |\n").html
    assert '<div class="table-scroll" tabindex="0" role="region" aria-label="Table 1"><table>' in html
    assert 'aria-label="Table 2"' in html
    assert html.count("</table>\n</div>") == 2


def test_korean_and_chinese_are_counted_by_the_character_and_the_rest_by_the_word():
    assert measure_prose("asyncio는 이벤트 루프를 씁니다.") == TextAmount(words=1, hangul=10)
    assert measure_prose("東京で会いましょう, OK?") == TextAmount(words=1, han_and_kana=9)
    assert measure_prose("Hello, world — it's 3 o'clock.") == TextAmount(words=5)


def test_reading_time_of_an_english_and_a_korean_lesson_of_known_length():
    """Pins a 9,000-character Korean lesson read as "~6 min": whitespace-separated words at 200 a minute."""
    code = "```python\n" + "print(1)\n" * 25 + "```\n"
    english = render_markdown("word " * 2380 + "\n\n" + code).amount
    assert english == TextAmount(words=2380, code_lines=25)
    assert reading_minutes(english) == 13  # 2,380 words at 238 a minute, 25 lines of code at 500 an hour

    korean = render_markdown("가나다라마바사아자차 " * 588 + "\n\n" + code + code).amount
    assert korean == TextAmount(hangul=5880, words=0, code_lines=50)
    assert reading_minutes(korean) == 16  # 5,880 syllables at 588 a minute, 50 lines of code


def test_reading_time_is_at_least_a_minute_and_reads_the_link_text_not_the_address():
    assert reading_minutes(TextAmount()) == 1
    assert render_markdown("[two words](https://example.com/a/b/c)").amount == TextAmount(words=2)


def test_only_section_headings_get_anchors():
    """The lesson's title is the page's <h1>, and #### headings are too small to be linked sections."""
    html = render_markdown("# Title\n\n## Section\n\n#### Detail\n").html
    assert "<h1>Title</h1>" in html
    assert "<h4>Detail</h4>" in html
    assert html.count('class="header-anchor"') == 1


def test_struck_out_text_is_shown_struck_out():
    assert "<s>asyncio.get_event_loop()</s>" in render_markdown("~~asyncio.get_event_loop()~~ is deprecated.\n").html


def test_a_code_block_without_a_language_is_labelled_text():
    html = render_markdown("```\nplain\n```\n\n    indented\n").html
    assert html.count('<figure class="code-block" data-language="text">') == 2
    assert html.count('<span class="code-language">text</span>') == 2


def test_reading_time_of_japanese_and_of_indented_code():
    assert measure_prose("東京で会いましょう" * 100) == TextAmount(han_and_kana=900)
    assert reading_minutes(TextAmount(han_and_kana=2600)) == 10  # 260 characters a minute
    assert render_markdown("    line one\n    line two\n").amount == TextAmount(code_lines=2)


def test_full_width_letters_take_two_columns():
    assert code_columns("\N{FULLWIDTH LATIN CAPITAL LETTER A}\N{FULLWIDTH LATIN CAPITAL LETTER B}") == 4
