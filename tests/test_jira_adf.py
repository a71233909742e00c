"""Plain text → ADF / wiki, and ADF → safe HTML / text, including hostile documents."""
import time

import pytest

from tests.jirasim.validate import valid_adf
from webapp.jira import adf_to_html, adf_to_text, safe_href, text_to_adf, text_to_wiki
from webapp.jira.sanitize import safe_html


def doc(*content):
    return {"type": "doc", "version": 1, "content": list(content)}


def para(*content):
    return {"type": "paragraph", "content": list(content)}


def text(value, *marks):
    node = {"type": "text", "text": value}
    if marks:
        node["marks"] = list(marks)
    return node


def test_paragraphs_hard_breaks_and_links():
    adf = text_to_adf("Hi,\r\nsee https://x.example/a?b=1.\n\n\n  \nBye")
    assert adf == doc(
        para(text("Hi,"), {"type": "hardBreak"}, text("see "),
             text("https://x.example/a?b=1", {"type": "link", "attrs": {"href": "https://x.example/a?b=1"}}),
             text(".")),
        para(text("Bye")))
    assert valid_adf(adf)


@pytest.mark.parametrize("value", ["", "   ", "\n\n\n", None])
def test_empty_text_gives_an_empty_paragraph_not_an_empty_text_node(value):
    adf = text_to_adf(value)
    assert adf == doc({"type": "paragraph"}) and valid_adf(adf)


def test_blank_lines_never_make_empty_text_nodes():
    adf = text_to_adf("a\n\nhttps://only.example\n\n\nb\nc")
    assert valid_adf(adf)
    assert adf_to_text(adf) == "a\n\nhttps://only.example\n\nb\nc"


def test_wiki_escapes_markup_but_keeps_urls():
    assert text_to_wiki("a *b* {code} [x|y]\n- item\nhttp://h.example/a_b_c") == \
        "a \\*b\\* \\{code\\} \\[x\\|y\\]\n\\- item\nhttp://h.example/a_b_c"


def test_html_allow_list():
    adf = doc(
        {"type": "heading", "attrs": {"level": 2}, "content": [text("Title")]},
        para(text("bold", {"type": "strong"}), text("it", {"type": "em"}),
             text("c", {"type": "code"}), text("s", {"type": "strike"}),
             text("u", {"type": "underline"}),
             text("mail", {"type": "link", "attrs": {"href": "mailto:a@b.example"}}),
             {"type": "mention", "attrs": {"id": "5b1", "text": "@Mia Agent"}}),
        {"type": "bulletList", "content": [{"type": "listItem", "content": [para(text("one"))]}]},
        {"type": "orderedList", "content": [{"type": "listItem", "content": [para(text("two"))]}]},
        {"type": "codeBlock", "attrs": {"language": "js"}, "content": [text("x < 1")]},
        {"type": "blockquote", "content": [para(text("q"))]},
        {"type": "rule"},
        {"type": "mediaSingle", "content": [{"type": "media", "attrs": {"id": "abc"}}]},
    )
    assert adf_to_html(adf) == (
        "<h2>Title</h2><p><strong>bold</strong><em>it</em><code>c</code><s>s</s><u>u</u>"
        '<a href="mailto:a@b.example" rel="nofollow noopener noreferrer">mail</a>@Mia Agent</p>'
        "<ul><li><p>one</p></li></ul><ol><li><p>two</p></li></ol>"
        "<pre><code>x &lt; 1</code></pre><blockquote><p>q</p></blockquote><hr>"
        '<span class="jira-media">[attachment]</span>')


@pytest.mark.parametrize("href", ["javascript:alert(1)", " JaVaScRiPt:alert(1)",
                                  "java\tscript:alert(1)", "data:text/html,<script>",
                                  "vbscript:x", "//evil.example", None, 42])
def test_unsafe_links_lose_their_href(href):
    html = adf_to_html(doc(para(text("click", {"type": "link", "attrs": {"href": href}}))))
    assert html == "<p>click</p>"


def test_safe_href():
    assert safe_href("https://a.example/x") == "https://a.example/x"
    assert safe_href("ftp://a.example") is None


def test_hostile_text_and_unknown_nodes_render_inert():
    adf = doc(para(text('<script>alert("x")</script>')),
              {"type": "panel", "attrs": {"onclick": "x"}, "content": [para(text("<img src=x onerror=y>"))]},
              {"type": "text", "text": "<b>", "marks": [{"type": "textColor", "attrs": {"color": "red"}}]},
              "not a node", {"type": None}, {"content": "nope"})
    html = adf_to_html(adf)
    assert "<script" not in html and "<img" not in html and "onclick" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=y&gt;" in html


def test_deep_and_huge_documents_are_bounded():
    deep = {"type": "text", "text": "bottom"}
    for _ in range(10_000):
        deep = {"type": "blockquote", "content": [deep]}
    started = time.monotonic()
    assert "bottom" not in adf_to_html(doc(deep))
    assert adf_to_text(doc(deep)) == ""
    huge = doc(*[para(text(f"n{i} ")) for i in range(100_000)])
    html = adf_to_html(huge)
    assert html.count("<p>") < 12_000
    assert adf_to_text(huge).startswith("n0")
    assert time.monotonic() - started < 5


# The one allow-list for HTML from Jira (webapp/jira/sanitize.py) ----------------------------

@pytest.mark.parametrize("html, shown", [
    ("<p><b>bold</b> <i>it</i> <tt>x</tt> <del>gone</del></p>",
     "<p><strong>bold</strong> <em>it</em> <code>x</code> <s>gone</s></p>"),
    ("<p>a<script>alert(1)</script>b<style>p{}</style></p>", "<p>ab</p>"),
    ('<a href="javascript:alert(1)">x</a>', '<a rel="nofollow noopener noreferrer">x</a>'),
    ('<a href="/secure/ViewProfile.jspa?name=mia">Mia</a>', '<a rel="nofollow noopener noreferrer">Mia</a>'),
    ('<a href="https://e.example/?a=1&amp;b=2" class="external-link" onclick="x()">d</a>',
     '<a href="https://e.example/?a=1&amp;b=2" rel="nofollow noopener noreferrer">d</a>'),
    ('<span class="image-wrap"><img src="/secure/attachment/1/a.png" onerror="alert(1)"></span>',
     '<span><span class="jira-media">[attachment]</span></span>'),
    ('<div class="code panel"><pre class="code-java">a &lt; b</pre></div>', "<pre>a &lt; b</pre>"),
    ('<p style="color:red" id="x">t</p><iframe src="https://e.example"></iframe>', "<p>t</p>"),
    ("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
    ('<a href="mailto:help@example.com">mail</a>',
     '<a href="mailto:help@example.com" rel="nofollow noopener noreferrer">mail</a>'),
])
def test_html_from_jira_keeps_only_what_the_adf_renderer_makes(html, shown):
    assert safe_html(html) == shown


def test_adf_output_passes_the_allow_list_unchanged():
    doc = text_to_adf("Hello *world*\n\nSee https://status.example now")
    assert safe_html(adf_to_html(doc)) == adf_to_html(doc)
