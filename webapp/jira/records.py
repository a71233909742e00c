"""What the portal reads from Jira, as small typed records.

Jira's JSON is taken apart here and nowhere else: the client returns these records, and
delivery and the sync use their attributes. Each `from_json` accepts whatever Jira (or
something pretending to be Jira) sent: a missing or odd-shaped part becomes None or empty,
never an exception from deep inside a job.
"""
from dataclasses import dataclass
from datetime import datetime

from .comments import author_name, body_html, is_public_comment, reply_marker, shown_files, visibility_known
from .fields import REFERENCE_PREFIX

MAX_URL = 2000  # a download URL longer than this is not Jira's


def parse_time(value):
    """Jira's "2026-11-28T10:03:00.000+0000" as an aware datetime; None when absent or odd."""
    if not isinstance(value, str) or not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def _dict(value):
    return value if isinstance(value, dict) else {}


def _list(value):
    return value if isinstance(value, list) else []


def _text(value):
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def _size(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class IssueRef:
    """An issue as a create (or the search for an earlier create) names it."""

    id: str
    key: str

    @classmethod
    def from_json(cls, data):
        data = _dict(data)
        return cls(id=_text(data.get("id")) or "", key=_text(data.get("key")) or "")


@dataclass(frozen=True)
class Status:
    id: str | None
    name: str | None
    category: str | None  # the status category's key: new | indeterminate | done

    @classmethod
    def from_json(cls, data):
        data = _dict(data)
        return cls(id=_text(data.get("id")), name=_text(data.get("name")),
                   category=_text(_dict(data.get("statusCategory")).get("key")))


@dataclass(frozen=True)
class Transition:
    """A workflow transition the issue may take now (`GET /issue/{id}/transitions`)."""

    id: str
    name: str
    to: Status
    has_screen: bool

    @classmethod
    def from_json(cls, data):
        data = _dict(data)
        return cls(id=_text(data.get("id")) or "", name=_text(data.get("name")) or "",
                   to=Status.from_json(data.get("to")), has_screen=data.get("hasScreen") is True)


def issue_transitions(data):
    """The Transitions of `GET /issue/{id}/transitions`, those with an id and a name."""
    found = (Transition.from_json(t) for t in _list(_dict(data).get("transitions")))
    return [t for t in found if t.id and t.name]


def project_statuses(data):
    """The Statuses of `GET /project/{key}/statuses` (a list of issue types, each with its
    workflow's statuses), each status once, in Jira's order."""
    statuses = {}
    for issue_type in _list(data):
        for status in _list(_dict(issue_type).get("statuses")):
            record = Status.from_json(status)
            if record.id and record.name:
                statuses.setdefault(record.id, record)
    return list(statuses.values())


@dataclass(frozen=True)
class JiraFile:
    """An attachment of an issue, as Jira lists it."""

    id: str
    filename: str
    size: int | None
    mime_type: str | None
    created: datetime | None
    content_url: str | None = None  # where it downloads (JiraClient.download_attachment)

    @classmethod
    def from_json(cls, data):
        data = _dict(data)
        content = _text(data.get("content"))
        return cls(id=_text(data.get("id")) or "", filename=_text(data.get("filename")) or "",
                   size=_size(data.get("size")), mime_type=_text(data.get("mimeType")),
                   created=parse_time(data.get("created")),
                   content_url=content if content and len(content) <= MAX_URL else None)


@dataclass(frozen=True)
class Comment:
    """A comment as a portal user may see it: author and body only when it is public."""

    id: str
    public: bool
    author: str
    body_html: str
    created: datetime | None
    updated: datetime | None
    files: tuple = ()  # names of the issue's files it shows (kept only when public)
    reply: str | None = None  # the portal reply it delivered, when its marker came along

    @classmethod
    def from_json(cls, data):
        data = _dict(data)
        public = is_public_comment(data)
        return cls(id=_text(data.get("id")) or "", public=public,
                   author=author_name(data) if public else "",
                   body_html=body_html(data) if public else "",
                   created=parse_time(data.get("created")), updated=parse_time(data.get("updated")),
                   files=shown_files(data) if public else (), reply=reply_marker(data))


@dataclass(frozen=True)
class Issue:
    """An issue with the fields the sync asks for. `attachments` is None when the field did
    not come (then nothing may be concluded about files); `comments_complete` is False when
    Jira cut the embedded comment page short (read them all with JiraClient.comments)."""

    id: str
    key: str
    status: Status | None
    updated: datetime | None
    attachments: tuple | None
    comments: tuple
    comments_complete: bool
    references: tuple = ()  # the portal references its labels carry (portal-ref-<reference>)

    @classmethod
    def from_json(cls, data):
        data = _dict(data)
        fields = _dict(data.get("fields"))
        page = _dict(fields.get("comment"))
        embedded = _list(page.get("comments"))
        comments = tuple(Comment.from_json(c) for c in embedded)
        total = page.get("total")
        # A page cut short, or comments that don't say whether they are internal notes (Data
        # Center's, embedded in a search result): read them all again, never trust these.
        complete = ((not isinstance(total, int) or total <= len(comments))
                    and all(visibility_known(c) for c in embedded))
        attachments = None
        if "attachment" in fields:
            attachments = tuple(JiraFile.from_json(a) for a in _list(fields["attachment"]))
        references = tuple(label[len(REFERENCE_PREFIX):] for label in _list(fields.get("labels"))
                           if isinstance(label, str) and label.startswith(REFERENCE_PREFIX))
        return cls(id=_text(data.get("id")) or "", key=_text(data.get("key")) or "",
                   status=Status.from_json(fields["status"]) if "status" in fields else None,
                   updated=parse_time(fields.get("updated")), attachments=attachments,
                   comments=comments, comments_complete=complete, references=references)
