"""Statuses in people's words: the name a customer sees for a Jira status, in their language,
and whether the status means the request waits for its customer.

Jira's status names are the support team's words, and English: users never see them. The
admin gives each of the project's statuses (JiraStatus rows, read from Jira by the job
`read_statuses`, Administration → Statuses) a name in English and in Turkish; a status nobody
mapped shows its category's name. The one function for a request's shown name is
`webapp.sync.apply.shown_status`; the one rule for "waiting for the customer" is
`is_waiting_for_customer`, with `waiting_for_customer()` its SQL twin for lists and counts.
"""
import json
import logging

from flask import g, has_request_context
from flask_babel import get_locale
from sqlalchemy import and_, or_, select

from . import integration
from .extensions import db
from .jira import JiraError
from .messages import N_, from_error, message
from .models import AppState, JiraStatus, SupportRequest, column_text, utcnow

log = logging.getLogger(__name__)

DELETED = "deleted"  # jira_status_category of a request whose issue is gone from Jira
CLOSED = ("done", DELETED)  # categories of requests that are closed (the list's "Closed")
LANGUAGES = ("en", "tr")  # the languages of JiraStatus.name_<language>
# A category's names: the defaults of a status read from Jira, and what an unmapped one shows.
CATEGORY_NAMES = {
    "new": {"en": "Received", "tr": "Alındı"},
    "indeterminate": {"en": "In progress", "tr": "İşlemde"},
    "done": {"en": "Resolved", "tr": "Çözüldü"},
}
WAITING_WORDS = ("waiting", "customer", "bekl", "müşteri")  # in a name: waits for the customer
READ_STATE = "statuses:read"  # AppState: when the statuses were last asked for and read
NOT_ACTIVE = N_("The integration is passive or paused: the statuses were not read from Jira.")


def category_names(category):
    """{"en": ..., "tr": ...} for a status category (one Jira does not name: in progress)."""
    return CATEGORY_NAMES.get(category, CATEGORY_NAMES["indeterminate"])


def says_waiting(name):
    """True when a status's name says it waits for the customer: the mark's default."""
    name = (name or "").casefold()
    return any(word in name for word in WAITING_WORDS)


def language(locale=None):
    """"en" or "tr": of `locale` (a code or a babel Locale), else of the reader (English in
    a job that did not say, where no one reads)."""
    if locale is None:
        try:
            locale = get_locale()
        except RuntimeError:  # no request, no force_locale: the portal's default
            locale = None
    code = str(getattr(locale, "language", locale) or "en")[:2]
    return code if code in LANGUAGES else "en"


def _mappings():
    """{jira id: JiraStatus} and {Jira name: JiraStatus}; once per request (a list shows
    many rows), afresh elsewhere (a worker's app context lives long)."""
    if has_request_context() and "status_mappings" in g:
        return g.status_mappings
    rows = db.session.scalars(select(JiraStatus)).all()
    mappings = ({row.jira_id: row for row in rows}, {row.name: row for row in rows if row.in_jira})
    if has_request_context():
        g.status_mappings = mappings
    return mappings


def forget_mappings():
    """After the admin changed a mapping: this request's pages show the new one."""
    if has_request_context():
        g.pop("status_mappings", None)


def mapping_of(status_id, name):
    """The admin's JiraStatus for a status: by Jira's id; by name only for rows stored before
    ids were (a status renamed in Jira keeps its id, so its name is no key)."""
    by_id, by_name = _mappings()
    return by_id.get(status_id) if status_id else by_name.get(name)


def status_name(status_id, name, category, locale=None):
    """The name people see for a Jira status (id, name, category key), in `locale`'s
    language or the reader's: the admin's, else its category's."""
    lang = language(locale)
    row = mapping_of(status_id, name)
    if row is not None:
        return getattr(row, f"name_{lang}")
    return category_names(category)[lang]


def is_waiting_for_customer(support_request):
    """True when the request's status is one the admin marked "waiting for the customer"
    (and the request is open: a resolved one waits for no one)."""
    if support_request.jira_status_category in CLOSED:
        return False
    row = mapping_of(support_request.jira_status_id, support_request.jira_status)
    return bool(row is not None and row.waiting_for_customer)


def waiting_for_customer():
    """`is_waiting_for_customer` as an SQL condition on SupportRequest."""
    waiting = select(JiraStatus).where(JiraStatus.waiting_for_customer)
    return and_(is_open(),
                or_(SupportRequest.jira_status_id.in_(waiting.with_only_columns(JiraStatus.jira_id)),
                    and_(SupportRequest.jira_status_id.is_(None),
                         SupportRequest.jira_status.in_(waiting.where(JiraStatus.in_jira)
                                                        .with_only_columns(JiraStatus.name)))))


def is_closed():
    """SQL: the request is resolved (its status's category is done) or gone from Jira."""
    return SupportRequest.jira_status_category.in_(CLOSED)


def is_open():
    """SQL: not closed (a request not in Jira yet is open)."""
    return or_(SupportRequest.jira_status_category.is_(None), SupportRequest.jira_status_category.not_in(CLOSED))


def waiting_count(user):
    """How many of `user`'s own requests wait for them (the count beside the header's link)."""
    return db.session.scalar(select(db.func.count(SupportRequest.id)).where(
        SupportRequest.reporter_id == user.id, waiting_for_customer()))


def all_statuses():
    """The admin's list: Jira's statuses, those still in Jira first, by category and name."""
    order = {"new": 0, "indeterminate": 1, "done": 2}
    rows = db.session.scalars(select(JiraStatus)).all()
    return sorted(rows, key=lambda r: (not r.in_jira, order.get(r.category, 1), r.name.casefold(), r.id))


# Reading them from Jira (a job) ----------------------------------------------------------

def read_state():
    """{"asked": iso time or None, "read": iso time or None, "problem": stored message or None}."""
    row = db.session.get(AppState, READ_STATE)
    state = json.loads(row.value) if row and row.value else {}
    return {"asked": state.get("asked"), "read": state.get("read"), "problem": state.get("problem")}


def _save_read_state(**changes):
    row = db.session.get(AppState, READ_STATE) or AppState(key=READ_STATE)
    row.value = json.dumps({**read_state(), **changes})
    db.session.add(row)


def ask_to_read():
    """The admin's "Read from Jira": noted (the page polls until the job has read)."""
    _save_read_state(asked=utcnow().isoformat())


def read_statuses():
    """The job: the project's statuses from Jira into JiraStatus rows. A new status gets its
    category's names and the waiting mark its name suggests; the admin's names stay; a status
    Jira no longer lists is kept (history may show it) but marked gone."""
    jira = integration.connect()
    if jira is None:
        _save_read_state(read=utcnow().isoformat(), problem=message(NOT_ACTIVE))
        db.session.commit()
        return None
    project_key = integration.settings().project_key
    try:
        statuses = jira.statuses(project_key)
    except JiraError as exc:
        db.session.rollback()
        if integration.refused(exc):
            integration.pause(exc, jira.settings_version)
        log.warning("Reading the statuses failed: %s", type(exc).__name__)
        _save_read_state(read=utcnow().isoformat(), problem=from_error(exc))
        db.session.commit()
        return None
    stored = {row.jira_id: row for row in db.session.scalars(select(JiraStatus))}
    now = utcnow()
    for status in statuses:
        row = stored.pop(status.id, None)
        name, category = column_text(status.name, 100), column_text(status.category, 32)
        if row is None:
            names = category_names(category)
            db.session.add(JiraStatus(jira_id=column_text(status.id, 32), name=name, category=category,
                                      name_en=names["en"], name_tr=names["tr"],
                                      waiting_for_customer=says_waiting(name), read_at=now))
        else:
            row.name, row.category, row.in_jira, row.read_at = name, category, True, now
    for row in stored.values():
        row.in_jira = False
    _save_read_state(read=now.isoformat(), problem=None)
    db.session.commit()
    return len(statuses)
