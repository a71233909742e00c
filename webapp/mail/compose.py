"""The message for a set of outbox rows to one person, in their language: plain text and a
simple HTML part (templates/email/), a link to the request, and for mail one may stop a
one-click unsubscribe (a link, and List-Unsubscribe with List-Unsubscribe-Post, RFC 8058).

Nothing from Jira goes in as HTML: a comment becomes a short plain-text excerpt, with any
e-mail address in it taken out."""
import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from html.parser import HTMLParser

from flask import current_app, render_template
from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from sqlalchemy import select

from .. import crypto
from ..delivery import portal_link
from ..extensions import db
from ..messages import translated
from ..models import JiraComment
from ..sync.apply import shown_status
from . import (ACCOUNT_EVENTS, ADMIN_EVENTS, ALL, COMMENT, CREATED, FAILED, FAILING, NONE, PAUSED,
               RECEIVED, RESET_PASSWORD, RESOLVED, SET_PASSWORD, STATUS, WAITING)
from .unsubscribe import unsubscribe_url

EXCERPT_CHARACTERS = 500
EMAIL_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")

LINES = {
    RECEIVED: _l("We received your request. Its reference is %(reference)s."),
    CREATED: _l("The support team has your request now, as %(key)s."),
    STATUS: _l("Its status is now “%(status)s”."),
    COMMENT: _l("%(author)s of the support team wrote:"),
    WAITING: _l("The support team is waiting for your answer (status “%(status)s”)."),
    RESOLVED: _l("It is resolved (status “%(status)s”)."),
    FAILED: _l("Request %(reference)s could not be sent to Jira: %(reason)s"),
    PAUSED: _l("Jira calls are paused: %(reason)s"),
    FAILING: _l("Jira calls have been failing for more than %(minutes)s minutes; requests wait in the queue."),
}


def language_of(user):
    return user.language or current_app.config["BABEL_DEFAULT_LOCALE"]


def wants(user, row):
    """Why `user` gets no mail of this row (their preference, a muted request), or None."""
    if not user.active:
        return "account deactivated"
    if row.event in ADMIN_EVENTS:
        return None if user.is_admin and user.admin_mail else "admin mail turned off"
    if row.event in ACCOUNT_EVENTS:
        return None
    if row.request is not None and row.request.mail_muted:
        return "request muted"
    if user.mail_preference == NONE or (user.mail_preference != ALL and row.event == COMMENT):
        return "turned off in the user's preferences"
    return None


def request_message(user, rows):
    """One mail for the request rows of `user`: that request's news, or a digest of several
    requests. None when nothing is left to tell (a comment no longer public)."""
    kind = "comments" if all(row.event == COMMENT for row in rows) else "updates"
    with force_locale(language_of(user)):
        by_request = {}
        for row in rows:
            item = _item(row)
            if item is not None and item not in by_request.get(row.request, []):
                by_request.setdefault(row.request, []).append(item)
        if not by_request:
            return None
        requests = [{"request": r, "link": portal_link(r), "items": items} for r, items in by_request.items()]
        if len(requests) == 1:
            r = requests[0]["request"]
            subject = _("[%(reference)s] %(summary)s", reference=r.reference, summary=r.summary)
        else:
            subject = _("News on %(count)d of your support requests", count=len(requests))
        return _message(user, subject, "email/requests", kind, requests=requests,
                        unsubscribe_line=_unsubscribe_line(kind))


def admin_message(user, rows):
    """One mail for the admin rows of `user`."""
    with force_locale(language_of(user)):
        items = [_item(row) for row in rows]
        subject = _("The support portal's Jira integration needs you")
        return _message(user, subject, "email/admin", "admin", items=items,
                        unsubscribe_line=_unsubscribe_line("admin"))


def account_message(user, row):
    """The mail with a link to set (or reset) the account's password."""
    link = crypto.decrypt(row.secret_encrypted) if row.secret_encrypted else None
    if link is None:
        return None
    with force_locale(language_of(user)):
        subject = (_("Set your password for the support portal") if row.event == SET_PASSWORD
                   else _("Reset your password for the support portal"))
        return _message(user, subject, "email/account", None, link=link, reset=row.event == RESET_PASSWORD,
                        hours=row.params.get("hours"))


def _unsubscribe_line(kind):
    return {"comments": _("Stop mail about new comments"),
            "updates": _("Stop mail about your requests"),
            "admin": _("Stop mail about the Jira integration")}[kind]


def _item(row):
    """What one row says: a line, and for a comment its author and excerpt."""
    params = dict(row.params or {})
    if row.event == COMMENT:
        comment = db.session.scalar(select(JiraComment).where(
            JiraComment.request_id == row.request_id, JiraComment.jira_comment_id == params.get("comment")))
        if comment is None or not comment.public:
            return None
        return {"line": LINES[COMMENT] % {"author": _redact(comment.author_name)},
                "excerpt": excerpt(comment.body_html)}
    if row.request is not None:
        params["reference"] = row.request.reference
        if "status" in params:  # as shown now, in the reader's language
            params["status"] = shown_status(row.request)
    if row.event == FAILED and "reason" not in params:  # a row written before it carried one
        params["reason"] = row.request.last_error if row.request is not None else None
    if "reason" in params:
        params["reason"] = translated(params["reason"])
    return {"line": LINES[row.event] % params, "excerpt": None, "link": _admin_link(row.event)}


# Where an admin acts on each alert: the failed requests and their Retry, the settings a
# pause waits for, the requests waiting in the queue.
ADMIN_PAGES = {FAILED: "/admin/deliveries?state=failed", PAUSED: "/admin/jira",
               FAILING: "/admin/deliveries?state=queued"}


def _admin_link(event):
    base = current_app.config.get("PORTAL_BASE_URL")
    return f"{base}{ADMIN_PAGES[event]}" if base and event in ADMIN_PAGES else None


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        if tag in ("p", "br", "li", "div", "tr", "h1", "h2", "h3", "h4", "pre", "blockquote"):
            self.parts.append("\n")


def excerpt(body_html):
    """The comment as plain text: at most EXCERPT_CHARACTERS, no markup, no e-mail address."""
    parser = _Text()
    parser.feed(body_html or "")
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = _redact("\n".join(line for line in lines if line))
    return text if len(text) <= EXCERPT_CHARACTERS else text[:EXCERPT_CHARACTERS - 1].rstrip() + "…"


def _redact(text):
    return EMAIL_ADDRESS.sub("…", text or "")


def _message(user, subject, template, kind, **context):
    config = current_app.config
    unsubscribe = unsubscribe_url(user, kind) if kind else None
    context.update(user=user, unsubscribe=unsubscribe)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config["MAIL_FROM"]
    message["To"] = Address(user.display_name, addr_spec=user.email)
    if config.get("MAIL_REPLY_TO"):
        message["Reply-To"] = config["MAIL_REPLY_TO"]
    message["Date"] = formatdate(localtime=False)
    domain = parseaddr(config["MAIL_FROM"])[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid("portal", domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe:
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(render_template(template + ".txt", **context))
    message.add_alternative(render_template(template + ".html", **context), subtype="html")
    message["Content-Language"] = language_of(user)  # after the parts: they take Content-* headers
    return message
