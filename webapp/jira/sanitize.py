"""The one allow-list every piece of HTML from Jira passes before it reaches a page.

Comment bodies arrive as ADF (Cloud, rendered by adf.py) or as the HTML Jira renders from
wiki markup (Data Center's ``renderedBody``). Either way only the elements the ADF renderer
produces survive, with http, https and mailto links; everything else keeps its text and
loses its tag, and scripts and styles lose their content too. Jira's own spellings of the
same formatting (``<b>``, ``<i>``, ``<tt>``, ``<del>``, ``<ins>``) are read as ours first.
"""
import re

import nh3

from .adf import MEDIA_PLACEHOLDER

TAGS = {"p", "br", "strong", "em", "code", "s", "u", "a", "ul", "ol", "li", "blockquote",
        "pre", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "span"}
SAME_AS = {"b": "strong", "i": "em", "tt": "code", "del": "s", "ins": "u", "strike": "s"}
SAME_AS_RE = re.compile(r"<(/?)(%s)(?=[\s/>])[^>]*>" % "|".join(SAME_AS), re.IGNORECASE)
REL = "nofollow noopener noreferrer"
IMAGE_RE = re.compile(r"<img(?=[\s/>])[^>]*>", re.IGNORECASE)
MEDIA = f'<span class="jira-media">{MEDIA_PLACEHOLDER}</span>'


CLEANER = nh3.Cleaner(tags=TAGS, attributes={"a": {"href"}}, allowed_classes={"span": {"jira-media"}},
                      url_schemes={"http", "https", "mailto"}, url_relative="deny", link_rel=REL,
                      clean_content_tags={"script", "style"}, strip_comments=True)


def safe_html(html):
    """`html` with nothing left that could run, load or point anywhere but http(s)/mailto."""
    html = SAME_AS_RE.sub(lambda m: f"<{m.group(1)}{SAME_AS[m.group(2).lower()]}>", html or "")
    html = IMAGE_RE.sub(MEDIA, html)  # an image Jira shows: the file's placeholder, as in ADF
    return CLEANER.clean(html).replace(' class=""', "").replace("\x00", "")
