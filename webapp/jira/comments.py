"""Which Jira comments a portal user may see: only those whose visibility is established
as public. Fail closed: whatever the portal cannot establish is not shown.

Jira returns every comment to the integration account, including agents' internal notes.
A comment is shown only when it has no visibility restriction (role or group) and is known
not to be an internal Service Management note: Cloud says so on every comment
(``jsdPublic``); Data Center has no such field, only the ``sd.public.comment`` property
(``{"internal": true}``), which comes only when comments are read with ``expand=properties``.
A comment with neither (say, embedded in a Data Center search result) is not known to be
public: it is read again (`visibility_known`), never trusted.
"""
import re
from html import escape

from .adf import adf_to_html
from .sanitize import safe_html

INTERNAL_PROPERTY = "sd.public.comment"
# A portal reply's marker (webapp.replies): a comment property on Cloud; on Data Center,
# whose create-comment call we keep to the body, the body's last line. The user's own text
# is wiki-escaped ("RE\-…"), so it can never spell that line.
REPLY_PROPERTY = "portal.reply"
REPLY_LINE = re.compile(r"(?:^|\n)Portal reply (RE-[2-9A-Z]{8})\s*$")


def reply_line(reference):
    return f"Portal reply {reference}"


def reply_marker(comment):
    """The reference of the portal reply this comment delivered, or None."""
    for prop in comment.get("properties") or []:
        if isinstance(prop, dict) and prop.get("key") == REPLY_PROPERTY and isinstance(prop.get("value"), dict):
            reference = prop["value"].get("reply")
            return str(reference)[:16] if reference else None
    body = comment.get("body")
    if isinstance(body, str):
        found = REPLY_LINE.search(body)
        return found.group(1) if found else None
    return None


def visibility_known(comment):
    """Whether the comment says enough to tell an internal note: ``jsdPublic`` (Cloud) or its
    properties (Data Center, ``expand=properties``)."""
    return isinstance(comment, dict) and (isinstance(comment.get("jsdPublic"), bool)
                                          or isinstance(comment.get("properties"), list))


def is_public_comment(comment):
    if not visibility_known(comment) or comment.get("visibility"):
        return False
    if comment.get("jsdPublic") is False:
        return False
    for prop in comment.get("properties") or []:
        if not isinstance(prop, dict):
            return False
        if prop.get("key") == INTERNAL_PROPERTY:
            value = prop.get("value")
            # {"internal": false} is public; anything else (true, a shape we don't know) is not.
            if not isinstance(value, dict) or value.get("internal") is not False:
                return False
    return True


def author_name(comment):
    """The author's display name (at most 255 characters, no NUL); never the e-mail address."""
    name = (comment.get("author") or {}).get("displayName")
    return str(name).replace("\x00", "")[:255] if name else "Support"


def body_html(comment):
    """Safe HTML of the comment body: ADF on Cloud; on Data Center the HTML Jira renders
    from its wiki markup (``renderedBody``, asked for with ``expand=renderedBody``), else the
    wiki text as plain text. Whatever the source, it passes the one allow-list (sanitize.py)."""
    value = comment.get("body")
    if isinstance(value, dict):
        return safe_html(adf_to_html(value))
    if isinstance(comment.get("renderedBody"), str):
        return safe_html(comment["renderedBody"])
    paragraphs = str(value or "").replace("\x00", "").replace("\r\n", "\n").split("\n\n")
    return safe_html("".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>"
                             for p in paragraphs if p.strip()))


WIKI_FILE = re.compile(r"!([^!|\n]+?)(?:\|[^!\n]*)?!|\[\^([^\]\n]+)\]")


def shown_files(comment):
    """Names of the issue's files the comment shows: ADF ``media``/``mediaInline`` nodes (their
    ``alt``, the file name Jira's editor sets) on Cloud; wiki ``!name!``, ``!name|thumbnail!``
    and ``[^name]`` on Data Center."""
    value = comment.get("body")
    if isinstance(value, dict):
        names, stack, budget = [], [value], 10_000
        while stack and budget:
            node, budget = stack.pop(), budget - 1
            if not isinstance(node, dict):
                continue
            attrs = node.get("attrs") if isinstance(node.get("attrs"), dict) else {}
            if node.get("type") in ("media", "mediaInline") and isinstance(attrs.get("alt"), str):
                names.append(attrs["alt"])
            if isinstance(node.get("content"), list):
                stack.extend(node["content"])
        return tuple(names)
    return tuple(a or b for a, b in WIKI_FILE.findall(str(value or "")))
