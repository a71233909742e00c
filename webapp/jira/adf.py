"""Atlassian Document Format (ADF): build it from plain text, render it safely.

Jira Cloud REST v3 wants ADF for descriptions, comments and textarea fields; Data Center
(REST v2) wants wiki text. Comments come back as ADF written by anyone with Jira access, so
the HTML renderer is an allow-list: known nodes and marks become fixed tags, everything else
becomes escaped text, and depth and node count are capped so a hostile document stays cheap.
"""
import re
from html import escape
from urllib.parse import urlparse

URL_RE = re.compile(r"""(?:https?://|mailto:)[^\s<>"']+""")
TRAILING_PUNCT = ".,;:!?)]}'\""
SAFE_SCHEMES = ("http", "https", "mailto")
WIKI_SPECIAL_RE = re.compile(r"([\\{}\[\]|*_^~+!?#-])")
MAX_DEPTH = 40
MAX_NODES = 20_000
MEDIA_PLACEHOLDER = "[attachment]"

BLOCK_TAGS = {"paragraph": "p", "blockquote": "blockquote", "bulletList": "ul",
              "orderedList": "ol", "listItem": "li"}
MARK_TAGS = {"strong": "strong", "em": "em", "code": "code", "strike": "s", "underline": "u"}


# ---- plain text → ADF / wiki -------------------------------------------------------------

def text_to_adf(text):
    """Plain text → ADF doc: blank lines split paragraphs, single newlines are hardBreaks."""
    paragraphs = []
    for block in _paragraphs(text):
        content = []
        for i, line in enumerate(block.split("\n")):
            if i:
                content.append({"type": "hardBreak"})
            content.extend(_text_nodes(line))
        paragraphs.append({"type": "paragraph", "content": content})
    # An empty description is one paragraph without content: a text node may never be empty.
    return {"type": "doc", "version": 1, "content": paragraphs or [{"type": "paragraph"}]}


def text_to_wiki(text):
    """Plain text → Jira wiki markup with formatting characters escaped; URLs stay links."""
    out = []
    for block in _paragraphs(text):
        out.append("\n".join(_wiki_line(line) for line in block.split("\n")))
    return "\n\n".join(out)


def _wiki_line(line):
    return "".join(chunk if is_url else WIKI_SPECIAL_RE.sub(r"\\\1", chunk) for chunk, is_url in _split_urls(line))


def rows_to_adf_table(title, rows):
    """A title paragraph and a two-column ADF table, one (name, value) row each: the name a
    header cell, the value a plain cell (URLs in it stay links)."""
    def cell(kind, text):
        return {"type": kind, "attrs": {}, "content": [{"type": "paragraph", "content": _text_nodes(text)}]}
    table = {"type": "table", "attrs": {"isNumberColumnEnabled": False, "layout": "default"},
             "content": [{"type": "tableRow", "content": [cell("tableHeader", name), cell("tableCell", value)]}
                         for name, value in rows]}
    return [{"type": "paragraph", "content": [{"type": "text", "text": title, "marks": [{"type": "strong"}]}]}, table]


def rows_to_wiki_table(title, rows):
    """The same in wiki markup: *title*, then ||name|value| rows, with the markup of each
    value escaped (a | in it would start a new cell)."""
    return f"*{_wiki_line(title)}*\n" + "\n".join(f"||{_wiki_line(name)}|{_wiki_line(value)}|" for name, value in rows)


def _paragraphs(text):
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    blocks = re.split(r"\n[ \t]*\n", text)
    return [b.strip("\n") for b in blocks if b.strip()]


def _split_urls(line):
    """Yield (chunk, is_url) pieces of one line."""
    pos = 0
    for match in URL_RE.finditer(line):
        url = match.group(0).rstrip(TRAILING_PUNCT)
        start, end = match.start(), match.start() + len(url)
        if start > pos:
            yield line[pos:start], False
        yield url, True
        pos = end
    if pos < len(line):
        yield line[pos:], False


def _text_nodes(line):
    nodes = []
    for chunk, is_url in _split_urls(line):
        node = {"type": "text", "text": chunk}
        if is_url:
            node["marks"] = [{"type": "link", "attrs": {"href": chunk}}]
        nodes.append(node)
    return nodes


# ---- ADF → HTML / text -------------------------------------------------------------------

class _Budget:
    """Counts visited nodes so a huge document stops rendering instead of running away."""

    def __init__(self):
        self.left = MAX_NODES

    def take(self):
        self.left -= 1
        return self.left >= 0


def safe_href(href):
    """The href if it is an http, https or mailto URL, else None."""
    if not isinstance(href, str):
        return None
    href = "".join(ch for ch in href if ch.isprintable()).strip()
    try:
        scheme = urlparse(href).scheme.lower()
    except ValueError:
        return None
    return href if scheme in SAFE_SCHEMES else None


def adf_to_html(doc):
    """Render an ADF document to HTML using only allow-listed tags and attributes."""
    return _html(doc, 0, _Budget())


def adf_to_text(doc):
    """Render an ADF document to plain text (previews, Data Center bodies)."""
    text = _text(doc, 0, _Budget())
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _children(node):
    content = node.get("content") if isinstance(node, dict) else None
    return content if isinstance(content, list) else []


def _attrs(node):
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, dict) else {}


def _html(node, depth, budget):
    if not isinstance(node, dict) or depth > MAX_DEPTH or not budget.take():
        return ""
    kind = node.get("type")
    inner = lambda: "".join(_html(child, depth + 1, budget) for child in _children(node))
    if kind == "text":
        return _html_text(node)
    if kind == "doc":
        return inner()
    if kind in BLOCK_TAGS:
        tag = BLOCK_TAGS[kind]
        return f"<{tag}>{inner()}</{tag}>"
    if kind == "heading":
        level = _attrs(node).get("level")
        level = level if isinstance(level, int) and 1 <= level <= 6 else 3
        return f"<h{level}>{inner()}</h{level}>"
    if kind == "codeBlock":
        code = "".join(_text(child, depth + 1, budget) for child in _children(node))
        return f"<pre><code>{escape(code)}</code></pre>"
    if kind == "rule":
        return "<hr>"
    if kind == "hardBreak":
        return "<br>"
    if kind in ("mention", "emoji", "status", "date", "inlineCard"):
        return escape(_inline_text(node))
    if kind in ("media", "mediaSingle", "mediaGroup", "mediaInline"):
        return f'<span class="jira-media">{escape(MEDIA_PLACEHOLDER)}</span>'
    return escape(_text(node, depth, budget))


def _html_text(node):
    text = node.get("text")
    if not isinstance(text, str):
        return ""
    html = escape(text)
    marks = node.get("marks") if isinstance(node.get("marks"), list) else []
    for mark in marks[:10]:
        kind = mark.get("type") if isinstance(mark, dict) else None
        if kind in MARK_TAGS:
            html = f"<{MARK_TAGS[kind]}>{html}</{MARK_TAGS[kind]}>"
        elif kind == "link":
            href = safe_href(_attrs(mark).get("href"))
            if href:
                html = f'<a href="{escape(href)}" rel="nofollow noopener noreferrer">{html}</a>'
    return html


def _inline_text(node):
    attrs = _attrs(node)
    kind = node.get("type")
    if kind == "mention":
        name = str(attrs.get("text") or "someone").lstrip("@")
        return "@" + name
    if kind == "inlineCard":
        return str(attrs.get("url") or "")
    return str(attrs.get("text") or attrs.get("shortName") or "")


def _text(node, depth, budget):
    if not isinstance(node, dict) or depth > MAX_DEPTH or not budget.take():
        return ""
    kind = node.get("type")
    if kind == "text":
        return node.get("text") if isinstance(node.get("text"), str) else ""
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji", "status", "date", "inlineCard"):
        return _inline_text(node)
    if kind in ("media", "mediaSingle", "mediaGroup", "mediaInline"):
        return MEDIA_PLACEHOLDER
    inner = "".join(_text(child, depth + 1, budget) for child in _children(node))
    if kind == "listItem":
        return "- " + inner.strip() + "\n"
    if kind in ("paragraph", "heading", "codeBlock", "blockquote", "bulletList", "orderedList"):
        return inner + "\n\n"
    return inner
