"""Which Jira comments a portal user may see.

Jira returns every comment to the integration account, including agents' internal notes.
Show one only when it has no visibility restriction (role or group) and is not an internal
Service Management note: ``jsdPublic`` false, or the ``sd.public.comment`` property saying
``internal: true`` (present when comments are read with ``expand=properties``).
"""
import re
from html import escape

from .adf import adf_to_html


def is_public_comment(comment):
    if comment.get("visibility"):
        return False
    if comment.get("jsdPublic") is False:
        return False
    for prop in comment.get("properties") or []:
        if prop.get("key") == "sd.public.comment" and (prop.get("value") or {}).get("internal"):
            return False
    return True


def author_name(comment):
    """The author's display name (at most 255 characters, no NUL); never the e-mail address."""
    name = (comment.get("author") or {}).get("displayName")
    return str(name).replace("\x00", "")[:255] if name else "Support"


def body_html(comment):
    """Safe HTML of the comment body: ADF on Cloud, plain/wiki text on Data Center."""
    value = comment.get("body")
    if isinstance(value, dict):
        return adf_to_html(value).replace("\x00", "")  # NUL: no database column takes it
    paragraphs = str(value or "").replace("\x00", "").replace("\r\n", "\n").split("\n\n")
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>"
                   for p in paragraphs if p.strip())


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
