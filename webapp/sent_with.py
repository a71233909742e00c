"""What goes with a request besides what the user typed, shown under "Sent with your request":
the page that framed the form (its address, title and fields, which the host's static/embed.js
hands the frame by postMessage and static/embedded.js accepts only from an EMBED_ORIGINS
origin), the browser, the portal's language and the user's time zone. Everything is kept as
text, each value capped; the user can leave it all out. docs/embedding.md."""
import json

from flask import request
from flask_babel import get_locale, get_timezone

from .jira.texts import N_

HOST_JSON_MAX = 20000
URL_MAX = 2000
TEXT_MAX = 300
FIELDS_MAX = 20
FIELD_NAME_MAX = 100
FIELD_VALUE_MAX = 500
TIME_ZONE_MAX = 64

# The box's and the Jira description's names for what is sent, in this order; the host's own
# fields come after the page.
NAMES = {"page_url": N_("Page"), "page_title": N_("Page title"), "browser": N_("Browser"),
         "language": N_("Portal language"), "time_zone": N_("Time zone")}


def as_text(value, limit):
    """A JSON value as one line of printable text, cut at `limit`; "" for lists, objects and
    anything else that is no plain value."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return ""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in str(value)).split())
    return text[:limit]


def from_host(raw):
    """The host page's part, from the form's hidden field: page_url (http or https only),
    page_title and fields as [[name, value], …]; whatever is not text is dropped."""
    try:
        data = json.loads((raw or "")[:HOST_JSON_MAX] or "{}")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    url = as_text(data.get("pageUrl"), URL_MAX)
    fields = data.get("fields") if isinstance(data.get("fields"), dict) else {}
    host = {"page_url": url if url.lower().startswith(("https://", "http://")) else "",
            "page_title": as_text(data.get("pageTitle"), TEXT_MAX),
            "fields": [[name, value] for name, value in (
                (as_text(name, FIELD_NAME_MAX), as_text(value, FIELD_VALUE_MAX))
                for name, value in list(fields.items())[:FIELDS_MAX]) if name and value]}
    return {key: value for key, value in host.items() if value}


def sent_context(form):
    """What goes with the request from this form (a SentWithForm), as stored on it; None when
    the user left it out."""
    return None if form.leave_out_context.data else offered_context(form)


def offered_context(form):
    """What the form offers to send, whether or not the user left it out (the box lists it)."""
    return {**from_host(form.context.data), "browser": as_text(request.user_agent.string, TEXT_MAX),
            "language": str(get_locale()),
            "time_zone": as_text(form.time_zone.data, TIME_ZONE_MAX) or str(get_timezone())}


def context_lines(context):
    """(name, value, ours) triples to show or send, in the box's order. `ours`: the name is
    one of NAMES, an English message id translated where it is shown; the host's field names
    are its own and shown as they are."""
    context = context or {}
    lines = [(NAMES[key], context[key], True) for key in ("page_url", "page_title") if context.get(key)]
    lines += [(name, value, False) for name, value in context.get("fields", [])]
    lines += [(NAMES[key], context[key], True) for key in ("browser", "language", "time_zone") if context.get(key)]
    return lines


def description_part(context):
    """The lines the Jira description carries, in English, or "" when nothing was sent."""
    lines = context_lines(context)
    if not lines:
        return ""
    return "Sent with the request:\n" + "\n".join(f"{name}: {value}" for name, value, _ in lines)
