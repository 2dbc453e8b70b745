"""Tests for comments.sanitize: Markdown rendering, HTML cleaning, links and excerpts."""

from html.parser import HTMLParser

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from comments.sanitize import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_PROTOCOLS,
    ALLOWED_TAGS,
    LINK_REL,
    clean_html,
    excerpt,
    render,
)

REL = f'rel="{LINK_REL}"'

# Script, data and vbscript URLs in spellings browsers still decode, then targets that are
# not absolute http(s)/mailto URLs: all must lose the link and keep its text.
UNSAFE_HREFS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java&#x73;cript:alert(1)",
    "&#106;avascript:alert(1)",
    "&#x6A;avascript:alert(1)",
    "&#0000106avascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "java&#9;script:alert(1)",
    "\x01javascript:alert(1)",
    " javascript:alert(1)",
    "\u00a0javascript:alert(1)",
    "javascript&colon;alert(1)",
    "javascript&#58;alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DATA:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "VbScRiPt:msgbox(1)",
    "//evil.example/x",
    "/relative/path",
    "relative",
    "#fragment",
    "http:evil.example",
    "ftp://files.example/x",
]


class _Inventory(HTMLParser):
    """Record every tag and attribute in an HTML string."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


class _ShownText(HTMLParser):
    """Collect the text a browser shows for HTML, as the HTML spec parses a <pre>."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.pre_opened = False
        self.feed(html.replace("\r\n", "\n").replace("\r", "\n"))
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.pre_opened = tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        self.pre_opened = False

    def handle_comment(self, data: str) -> None:
        self.pre_opened = False

    def handle_data(self, data: str) -> None:
        # The spec ignores a newline that is the very next token after a <pre> start tag.
        if self.pre_opened and data.startswith("\n"):
            data = data[1:]
        self.pre_opened = False
        self.parts.append(data)


def shown_text(html: str) -> str:
    """Return the text of html as a browser shows it, tags removed."""
    return "".join(_ShownText(html).parts)


def assert_allowlisted(html: str) -> None:
    """Fail unless html holds only allowlisted tags, attributes and link targets."""
    for tag, attrs in _Inventory(html).tags:
        assert tag in ALLOWED_TAGS, html
        if tag == "a":
            assert set(attrs) == {"href", "rel"}, html
            assert attrs["rel"] == LINK_REL
            href = attrs["href"] or ""
            assert href.lower().startswith(("http://", "https://", "mailto:")), html
            assert not any(ord(c) <= 0x20 or ord(c) == 0x7F for c in href), html
        else:
            assert set(attrs) <= set(ALLOWED_ATTRIBUTES.get(tag, [])), html


# --- Markdown subset -------------------------------------------------------------------------


def test_allowlists_are_exactly_what_the_issue_allows() -> None:
    assert ALLOWED_TAGS == {
        "p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a"
    }
    assert ALLOWED_ATTRIBUTES == {"a": ["href"], "ol": ["start"]}
    assert ALLOWED_PROTOCOLS == {"http", "https", "mailto"}


def test_empty_and_blank_input_render_to_nothing() -> None:
    assert render("") == ""
    assert render(" \n\t\n") == ""


def test_paragraphs_and_single_newline_line_break() -> None:
    assert render("one\ntwo\n\nthree") == "<p>one<br>\ntwo</p>\n<p>three</p>\n"


def test_emphasis_strong_and_inline_code() -> None:
    html = render("*em* _em2_ **strong** __strong2__ `a < b`")
    assert html == (
        "<p><em>em</em> <em>em2</em> <strong>strong</strong> <strong>strong2</strong> "
        "<code>a &lt; b</code></p>\n"
    )


def test_fenced_code_block_escapes_html_and_drops_language_class() -> None:
    html = render("```html\n<script>alert(1)</script>\n<b>x</b>\n```")
    assert html == (
        "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n&lt;b&gt;x&lt;/b&gt;\n</code></pre>\n"
    )


def test_indented_code_block_escapes_html() -> None:
    assert render("text\n\n    <img src=x onerror=alert(1)>") == (
        "<p>text</p>\n<pre><code>&lt;img src=x onerror=alert(1)&gt;\n</code></pre>\n"
    )


def test_urls_in_code_are_not_linkified() -> None:
    html = render("`http://example.com/a`\n\n```\nhttps://example.com/b\n```")
    assert "<a" not in html
    assert "http://example.com/a" in html and "https://example.com/b" in html


def test_nested_block_quotes() -> None:
    assert render("> outer\n> > inner\n> back") == (
        "<blockquote>\n<p>outer</p>\n<blockquote>\n<p>inner<br>\nback</p>\n"
        "</blockquote>\n</blockquote>\n"
    )


def test_nested_lists_ordered_and_unordered() -> None:
    html = render("- a\n  1. one\n  2. two\n- b\n  - deep")
    assert html == (
        "<ul>\n<li>a\n<ol>\n<li>one</li>\n<li>two</li>\n</ol>\n</li>\n"
        "<li>b\n<ul>\n<li>deep</li>\n</ul>\n</li>\n</ul>\n"
    )


def test_ordered_list_keeps_its_start_number() -> None:
    assert render("7. seven\n8. eight").startswith('<ol start="7">\n<li>seven</li>')


@pytest.mark.parametrize(
    ("source", "literal"),
    [
        ("# Heading", "# Heading"),
        ("Title\n=====", "====="),
        ("above\n\n---\n\nbelow", "---"),
        ("![alt](http://example.com/i.png)", "!"),
        ("a | b\n--|--\n1 | 2", "a | b"),
        ("~~gone~~", "~~gone~~"),
    ],
)
def test_disabled_syntax_stays_literal_text(source: str, literal: str) -> None:
    html = render(source)
    assert literal in html
    for tag in ("<h1", "<h2", "<hr", "<img", "<table", "<del", "<s>"):
        assert tag not in html


def test_image_syntax_becomes_at_most_a_plain_link() -> None:
    html = render("![alt](http://example.com/i.png)")
    assert html == f'<p>!<a href="http://example.com/i.png" {REL}>alt</a></p>\n'


# --- Raw HTML in reader text -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "escaped"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("<svg onload=alert(1)>", "&lt;svg onload=alert(1)&gt;"),
        ('<iframe src="evil.html">', "&lt;iframe src=&quot;evil.html&quot;&gt;"),
        ("<style>body{display:none}</style>", "&lt;style&gt;body{display:none}&lt;/style&gt;"),
        ('<p onclick="alert(1)">hi</p>', "&lt;p onclick=&quot;alert(1)&quot;&gt;hi&lt;/p&gt;"),
        ('<a href="javascript:alert(1)">x</a>', "&lt;a href=&quot;javascript:alert(1)&quot;&gt;"),
        ("<b>unclosed", "&lt;b&gt;unclosed"),
        ("<div>\n\nblock html\n\n</div>", "&lt;div&gt;"),
        ("<!-- comment -->", "&lt;!-- comment --&gt;"),
    ],
)
def test_raw_html_is_shown_as_text(source: str, escaped: str) -> None:
    html = render(source)
    assert escaped in html
    assert_allowlisted(html)


def test_escaped_entities_stay_escaped() -> None:
    assert render("&lt;script&gt; &amp; &copy;") == "<p>&lt;script&gt; &amp; ©</p>\n"


# --- Links -----------------------------------------------------------------------------------


@pytest.mark.parametrize("href", UNSAFE_HREFS)
def test_markdown_link_to_unsafe_target_loses_the_link(href: str) -> None:
    html = render(f"[click](<{href}>) and [click2]({href.replace(' ', '')})")
    assert "<a" not in html
    assert "click" in html
    assert_allowlisted(html)


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "![x](javascript:alert(1))",
        "<javascript:alert(1)>",
        "<JAVASCRIPT:alert(1)>",
        "<data:text/html,hi>",
        "<vbscript:msgbox(1)>",
        '[x](javascript:alert(1) "title")',
        "[x][ref]\n\n[ref]: javascript:alert(1)",
    ],
)
def test_javascript_in_link_image_and_autolink_syntax_is_inert(source: str) -> None:
    html = render(source)
    assert "<a" not in html
    assert_allowlisted(html)


def test_markdown_link_gets_rel_and_no_target() -> None:
    assert render('[site](https://example.com/a?b=1&c=2 "Title")') == (
        f'<p><a href="https://example.com/a?b=1&amp;c=2" {REL}>site</a></p>\n'
    )


def test_uppercase_scheme_is_a_valid_link() -> None:
    html = render("[x](HTTPS://EXAMPLE.COM)")
    assert html == f'<p><a href="HTTPS://EXAMPLE.COM" {REL}>x</a></p>\n'


def test_autolinks_for_http_and_mailto() -> None:
    assert render("<https://example.com/x> <me@example.com>") == (
        f'<p><a href="https://example.com/x" {REL}>https://example.com/x</a> '
        f'<a href="mailto:me@example.com" {REL}>me@example.com</a></p>\n'
    )


def test_mailto_link() -> None:
    assert render("[write](mailto:me@example.com?subject=hi)") == (
        f'<p><a href="mailto:me@example.com?subject=hi" {REL}>write</a></p>\n'
    )


def test_bare_urls_become_links_with_rel() -> None:
    assert render("see https://example.com/path?q=1&r=2#frag and www.example.org") == (
        f'<p>see <a href="https://example.com/path?q=1&amp;r=2#frag" {REL}>'
        "https://example.com/path?q=1&amp;r=2#frag</a> and "
        f'<a href="http://www.example.org" {REL}>www.example.org</a></p>\n'
    )


@pytest.mark.parametrize(
    ("source", "url", "after"),
    [
        ("Go to http://example.com.", "http://example.com", "."),
        ("Go to http://example.com, now", "http://example.com", ","),
        ("(see http://example.com)", "http://example.com", ")"),
        ("see http://w.example/wiki/Foo_(bar).", "http://w.example/wiki/Foo_(bar)", "."),
        ("wow http://example.com/!", "http://example.com/", "!"),
        ("[http://example.com/a]", "http://example.com/a", "]"),
    ],
)
def test_bare_url_excludes_trailing_punctuation(source: str, url: str, after: str) -> None:
    assert f'<a href="{url}" {REL}>{url}</a>{after}' in render(source)


def test_bare_urls_with_new_tlds_and_ports_are_linked() -> None:
    html = render("https://blog.dev http://localhost:8000/x")
    assert f'<a href="https://blog.dev" {REL}>' in html
    assert f'<a href="http://localhost:8000/x" {REL}>' in html


def test_schemeless_names_and_emails_are_not_linked() -> None:
    assert "<a" not in render("edit setup.py or README.md, ask me@example.com or example.com")


def test_link_text_that_looks_like_a_url_keeps_its_own_target() -> None:
    assert render("[https://good.example](https://other.example)") == (
        f'<p><a href="https://other.example" {REL}>https://good.example</a></p>\n'
    )


def test_unsafe_link_with_url_text_is_relinked_to_that_url() -> None:
    html = render("[http://shown.example](/relative)")
    assert html == f'<p><a href="http://shown.example" {REL}>http://shown.example</a></p>\n'
    assert clean_html(html) == html


# --- Unicode and control characters ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "👩🏽‍💻 👨‍👩‍👧‍👦 🏳️‍🌈 👍🏿 🇩🇪 1️⃣",
        "مرحبا بالعالم، مَرْحَبًا",
        "שָׁלוֹם עולם",
        "e\u0301 a\u0308 n\u0303 Z\u0335\u0327",
        "नमस्ते 你好 こんにちは",
        "mixed \u200fRTL mark and \u200dzero-width joiner",
    ],
)
def test_unicode_comes_through_unchanged(text: str) -> None:
    assert render(text) == f"<p>{text}</p>\n"
    assert clean_html(text) == text


def test_nul_is_stripped() -> None:
    assert render("a\x00b") == "<p>ab</p>\n"
    assert clean_html("<p>a\x00b</p>") == "<p>ab</p>"


def test_other_control_characters_are_replaced_by_bleach() -> None:
    assert render("a\x01b\x1fc") == "<p>a?b?c</p>\n"


# --- clean_html ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>keep<script>alert(1)</script> me</p>", "<p>keep me</p>"),
        ("<script>document.write('<p>x</p>')</script>ok", "ok"),
        ("<style>p { color: red }</style>ok", "ok"),
        ('<iframe src="http://evil.example">fallback <b>text</b></iframe>ok', "ok"),
        ("<svg><script>alert(1)</script><style>*{}</style></svg>ok", "ok"),
        ("<noscript><p>x</p></noscript><template><p>t</p></template>ok", "ok"),
        ("ok<script>never closed", "ok"),
    ],
)
def test_clean_html_drops_script_like_elements_with_their_content(html: str, expected: str) -> None:
    assert clean_html(html) == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<div>in <span>a</span> <b>div</b> <font color=red>x</font></div>", "in a div x"),
        ("<h1>Title</h1><p>body</p>", "Title<p>body</p>"),
        ("<table><tr><td>cell</td></tr></table>", "cell"),
        ('<p onclick="alert(1)" class="x" style="color:red" id="y">hi</p>', "<p>hi</p>"),
        ("<p>a<img src=x onerror=alert(1)>b</p>", "<p>ab</p>"),
        ("<svg onload=alert(1)><text>drawn</text></svg>", "drawn"),
        ("<p>x<!-- secret --></p>", "<p>x</p>"),
        ("<p>open <em>em <strong>strong", "<p>open <em>em <strong>strong</strong></em></p>"),
        ('<ol start="3" type="a"><li>c</li></ol>', '<ol start="3"><li>c</li></ol>'),
        ("<blockquote><blockquote>deep", "<blockquote><blockquote>deep</blockquote></blockquote>"),
        ("<pre><code>&lt;b&gt; http://x.io", "<pre><code>&lt;b&gt; http://x.io</code></pre>"),
    ],
)
def test_clean_html_keeps_text_of_dropped_tags_and_drops_attributes(
    html: str, expected: str
) -> None:
    assert clean_html(html) == expected


@pytest.mark.parametrize("href", UNSAFE_HREFS)
def test_clean_html_unsafe_href_in_any_spelling_loses_the_link(href: str) -> None:
    for quoted in (f'"{href}"', f"'{href}'"):
        html = clean_html(f"<p><a href={quoted} title=t>click <em>me</em></a></p>")
        assert html == "<p>click <em>me</em></p>"


def test_clean_html_link_without_href_or_with_svg_href_loses_the_link() -> None:
    assert clean_html('<a name="x">anchor</a>') == "anchor"
    assert clean_html('<svg><a xlink:href="javascript:alert(1)">s</a></svg>') == "s"


def test_clean_html_host_that_bleach_cannot_parse_loses_the_link() -> None:
    assert clean_html('<a href="http://[x">a</a> <a href="http://&#91;x">b</a>') == "a b"


def test_clean_html_keeps_entities_in_the_text_of_unwrapped_links() -> None:
    assert clean_html('<a href="/x">a &lt;b&gt; &amp; c</a>') == "a &lt;b&gt; &amp; c"


def test_clean_html_existing_link_gets_our_rel_only() -> None:
    html = (
        '<a href="https://example.com/?a=1&amp;b=2" target="_blank" rel="opener" onclick="x">go</a>'
    )
    assert clean_html(html) == f'<a href="https://example.com/?a=1&amp;b=2" {REL}>go</a>'


def test_clean_html_trims_whitespace_around_a_safe_href() -> None:
    html = clean_html('<a href=" https://example.com/ ">x</a>')
    assert html == f'<a href="https://example.com/" {REL}>x</a>'


def test_clean_html_linkifies_bare_urls_but_not_in_code() -> None:
    html = clean_html("<p>see https://example.com</p><code>https://code.example</code>")
    assert html == (
        f'<p>see <a href="https://example.com" {REL}>https://example.com</a></p>'
        "<code>https://code.example</code>"
    )


def test_clean_html_keeps_plain_text_and_empty_input() -> None:
    assert clean_html("") == ""
    assert clean_html("just text & more") == "just text &amp; more"


# --- Idempotence -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "plain *em* **strong** `code` http://example.com/a_b?c=1&d=2",
        "> quote\n> > nested with www.example.com\n\n1. a\n2. b\n   - c",
        "```\n<b>http://example.com</b>\n```",
        "[x](/relative) [http://x.example](/rel) [m](mailto:a@b.example)",
        "&amp; &lt; &gt; &quot; &#39; &copy; &ampx &amp;lt;",
        "<script>alert(1)</script> <img src=x onerror=alert(1)>",
        "(see http://en.wikipedia.org/wiki/Foo_(bar)), 👩🏽‍💻 مرحبا",
        "line\nbreak\\\nhard  \nbreak",
        "http://0[ http://a]b/ www.x[y <http://[::1]/>",
    ],
)
def test_render_output_is_stable_under_clean_html(source: str) -> None:
    html = render(source)
    assert clean_html(html) == html


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<pre>\n\nx</pre>", "<pre>\n\nx</pre>"),
        ("<pre>\n\nx", "<pre>\n\nx</pre>"),
        ("<pre>\nx</pre>", "<pre>x</pre>"),
        ("<pre>\n</pre>", "<pre></pre>"),
        ("<pre>\r\n\r\nx</pre>", "<pre>\n\nx</pre>"),
        ("<p>a<pre>\n\nx", "<p>a</p><pre>\n\nx</pre>"),
        ("<pre><pre>\n\nx", "<pre><pre>\n\nx</pre></pre>"),
        ("<pre><!-- c -->\n\nx</pre>", "<pre>\n\n\nx</pre>"),
        ('<pre><a href="/x"></a>\n\nx</pre>', "<pre>\n\n\nx</pre>"),
    ],
)
def test_clean_html_keeps_a_newline_that_opens_pre(html: str, expected: str) -> None:
    cleaned = clean_html(html)
    assert cleaned == expected
    assert clean_html(cleaned) == cleaned
    assert shown_text(cleaned) == shown_text(html)


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ("```\n\nx\n```", "\nx\n"),
        ("~~~\n\n\n  x\n~~~", "\n\n  x\n"),
        ("text\n\n```\n\nx\n\n```", "\nx\n\n"),
    ],
)
def test_fenced_code_opening_with_blank_lines_is_stable(source: str, code: str) -> None:
    html = render(source)
    block = f"<pre><code>{code}</code></pre>\n"
    assert html.endswith(block)
    assert clean_html(html) == html
    assert clean_html(clean_html(html)) == html
    assert shown_text(block) == f"{code}\n"


# --- excerpt ---------------------------------------------------------------------------------


def test_excerpt_strips_tags_unescapes_and_separates_blocks() -> None:
    html = render("Hello *world* & <friends>\n\n> quoted\n\n- one\n- two\n\n`a<b`")
    assert excerpt(html) == "Hello world & <friends> quoted one two a<b"


def test_excerpt_collapses_whitespace() -> None:
    assert excerpt("<p>  a \n\t b  </p>\n\n<pre>c\n\nd</pre>") == "a b c d"


def test_excerpt_short_text_is_untouched() -> None:
    assert excerpt("<p>short</p>", length=5) == "short"


def test_excerpt_truncates_at_a_word_boundary_with_an_ellipsis() -> None:
    html = render("the quick brown fox jumps over the lazy dog")
    assert excerpt(html, length=20) == "the quick brown fox…"
    assert excerpt(html, length=18) == "the quick brown…"


def test_excerpt_cuts_a_single_long_word() -> None:
    assert excerpt("<p>abcdefghijklmnopqrstuvwxyz</p>", length=10) == "abcdefghi…"


def test_excerpt_of_empty_html_is_empty() -> None:
    assert excerpt("") == ""


def test_excerpt_of_a_long_comment_reads_only_its_start_and_splits_nothing() -> None:
    # Long links and entities fall across the pieces the excerpt reads the HTML in.
    paragraph = ('<p>Fish &amp; chips at <a href="https://example.org/' + "x" * 700 + '">the pier'
                 "</a> &#8212; caf&eacute; &lt;open&gt;.</p>\n")
    text = excerpt(paragraph * 2000, length=140)
    assert text.startswith("Fish & chips at the pier \u2014 café <open>. Fish & chips")
    assert text.endswith("…") and len(text) <= 140
    assert excerpt(paragraph * 2000, length=40) == excerpt(paragraph * 2, length=40)


# --- Properties ------------------------------------------------------------------------------

FRAGMENTS = [
    "<script>", "</script>", "<a href=\"", "\">", "</a>", "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>", "<pre>", "<code>", "<em>", "<p>", "<", ">", "&", "&amp;", "&lt;",
    "&#106;", "&colon;", "javascript:", "JaVaScRiPt:", "data:", "vbscript:", "http://",
    "https://example.com/", "www.", "mailto:", "example.com", "[", "](", ")", "(", "!", "*",
    "**", "_", "`", "```", "    ", "> ", "- ", "1. ", "#", "\n", "\n\n", " ", "\t", "\x00",
    "\x01", ".", ",", "\"", "'", "👩🏽‍💻", "مرحبا", "e\u0301",
]
reader_text = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=40).map("".join)
fast = settings(max_examples=200, deadline=None)
# <pre> and newlines, with the markup that cleaning strips, prunes or unwraps in between.
PRE_FRAGMENTS = [
    "<pre>", "</pre>", "<code>", "</code>", "<b>", "</b>", "<div>", "<!-- c -->",
    "<script>s</script>", '<a href="/x">', "</a>", "<br>", "\n", "\r\n", " ", "x", "&#10;",
]
pre_html = st.lists(st.sampled_from(PRE_FRAGMENTS), max_size=12).map("".join)


@fast
@given(reader_text)
def test_property_render_emits_only_allowlisted_markup(text: str) -> None:
    assert_allowlisted(render(text))


@fast
@given(reader_text)
@example("```\n\nx\n```")
@example("    x\n\n```\n\n\n<pre>\n\ny\n```")
def test_property_render_is_stable_under_clean_html(text: str) -> None:
    html = render(text)
    assert clean_html(html) == html


@fast
@given(reader_text)
def test_property_clean_html_emits_only_allowlisted_markup(html: str) -> None:
    assert_allowlisted(clean_html(html))


@fast
@given(pre_html | reader_text)
@example("<pre>\n\nx</pre>")
@example("<pre>\n\nx")
@example("<pre><b>\n\nx</b></pre>")
@example("<pre><div>x</div></pre>")
@example("<pre><script>s</script>\n\nx</pre>")
@example("<pre><!-- c --><div></div>\n\nx")
def test_property_clean_html_is_idempotent(html: str) -> None:
    once = clean_html(html)
    assert clean_html(once) == once


@fast
@given(reader_text, st.integers(min_value=1, max_value=60))
def test_property_excerpt_fits_and_is_single_spaced(text: str, length: int) -> None:
    result = excerpt(render(text), length)
    assert len(result) <= length
    assert result == " ".join(result.split())
