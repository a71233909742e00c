"""Support requests: the list, the new-request form and the detail page."""
from collections import namedtuple
from urllib.parse import urlencode

from flask import abort, current_app, flash, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import bp
from .files import claimed, from_token, keep_for, keep_token, served_type, store_upload
from ..sent_with import context_lines, offered_context, sent_context
from .forms import DESCRIPTION_MAX, SUMMARY_MAX, ReplyForm, RequestForm, SentWithForm
from .links import prefilled
from .actions import action_box
from .replies import already_sent, may_reply, new_reply_form, own_request, reply_state
from .. import delivery, integration, polls, storage, transitions
from ..choices import active_categories, active_products, offered_endpoints, offered_labels
from ..extensions import db
from ..htmx import is_fragment_request
from ..models import Attachment, JiraComment, Reply, StatusAction, StatusChange, SupportRequest, as_id
from ..replies import accept_reply
from .query import list_page, status_options, stored_statuses
from ..queue import enqueue
from ..sync import jira_files
from ..sync.apply import shown_change

FILTERS = ("key", "q", "show", "status", "label", "category", "product", "endpoint")
SUBMISSION_KEY_MAX = SupportRequest.submission_key.type.length
REPLY_KEY_MAX = Reply.submission_key.type.length
TimelineEntry = namedtuple("TimelineEntry", "kind when row state")
ShownFile = namedtuple("ShownFile", "row stored why_not not_sent")


def visible_request(request_id):
    """The request, if this user may see it; 404 otherwise (never 403: no hint it exists)."""
    support_request = db.session.get(SupportRequest, request_id)
    if support_request is None or not (current_user.is_admin
                                       or support_request.reporter_id == current_user.id):
        abort(404)
    return support_request


# List -----------------------------------------------------------------------------------

@bp.get("/")
@polls.conditional(lambda: polls.list_version(current_user))
def list_requests():
    """The user's requests (everyone's for admins), newest update first, searchable."""
    filters = {name: request.args.get(name, "").strip()[:200] for name in FILTERS}
    filters_set = {name: value for name, value in filters.items() if value}
    after = request.args.get("after", "")[:40]
    page = list_page(current_user, filters, after, current_app.config["LIST_PAGE_SIZE"])
    context = dict(page=page, filters=filters, filters_set=filters_set, after=after,
                   query=urlencode({**filters_set, **({"after": after} if after else {})}))
    if is_fragment_request() and request.headers.get("HX-Target") == "request-results":
        response = make_response(render_template("support/_results.html", **context))
        if request.headers.get("HX-Trigger") == "request-filters":  # a search: a clean URL to keep
            response.headers["HX-Push-Url"] = url_for("support.list_requests", **filters_set)
        return response
    return render_template("support/list.html", **context, **filter_options())


def filter_options():
    """Each filter's (value, text) choices; endpoints as rows, grouped by product."""
    return dict(statuses=[(name, name) for name in status_options(stored_statuses(current_user))],
                labels=[(name, name) for name in offered_labels()],
                categories=[(c.id, c.name) for c in active_categories()],
                products=[(p.id, p.name) for p in active_products()], endpoints=offered_endpoints())


# New request ----------------------------------------------------------------------------

@bp.get("/endpoints")
def endpoint_options():
    """The Endpoint field for the chosen product (swapped in when the product changes), and
    the Environment field out of band when the form asks for one: its choices follow the product."""
    form = RequestForm(formdata=None, product=as_id(request.args.get("product")),
                       environment=(request.args.get("environment") or "")[:100])
    html = render_template("support/_endpoint_field.html", form=form)
    if "environment" in form.technical_asked:
        html += render_template("support/_environment_field.html", form=form, oob=True)
    return html


@bp.route("/new", methods=["GET", "POST"])
def new_request():
    """File a request. It is stored at once; a worker forwards it to Jira."""
    if request.method == "GET":
        form = RequestForm(formdata=None, **prefilled(request.args))  # a link may choose for the user
        form.submission_key.data = SupportRequest.new_submission_key()
        return _form_page(form)
    form = RequestForm()
    if len(form.submission_key.data or "") > SUBMISSION_KEY_MAX:
        abort(400)  # no form of ours carries one this long
    existing = _already_sent(form.submission_key.data)
    if existing:  # the same form again (a double click, a resend after a lost answer)
        return redirect(url_for("support.detail", request_id=existing.id), code=303)
    kept, file_errors = _collect_files()
    if not form.validate() or file_errors:
        kept = keep_for(current_user.id, kept)  # within the user's quota, oldest dropped
        tokens = [dict(file, token=keep_token(file, current_user.id)) for file in kept]
        return _form_page(form, kept=tokens, file_errors=file_errors)
    support_request = SupportRequest(
        reporter_id=current_user.id, label=form.label.data, summary=form.summary.data,
        description=form.description.data, category_id=form.category.data, product_id=form.product.data,
        endpoint_id=form.endpoint.data, submission_key=form.submission_key.data or None,
        context=sent_context(form), technical=form.technical_details(),
        attachments=[Attachment(original_name=f["name"], content_type=f["type"], size=f["size"],
                                sha256=f["sha256"], stored_name=f["stored_name"]) for f in kept])
    claimed([f["stored_name"] for f in kept])
    try:
        delivery.accept(support_request)
    except IntegrityError:  # the same form, sent twice at once: the first one won
        existing = _first_of_twins(kept, lambda: _already_sent(form.submission_key.data))
        return redirect(url_for("support.detail", request_id=existing.id), code=303)
    flash(_("Your request %(reference)s was received.", reference=support_request.reference), "success")
    return redirect(url_for("support.detail", request_id=support_request.id), code=303)


@bp.post("/new/files")
def upload_file():
    """One file of the new-request form, sent as soon as it is chosen, dropped or pasted
    (static/portal.js): checked and kept like a file of a form that came back, and answered
    with its row, whose signed token Send carries, or with why it was refused."""
    upload = request.files.get("file")
    if not upload or not upload.filename:
        return render_template("support/_kept_file.html", error=_("No file was sent."))
    stored, error = store_upload(upload)
    if error:
        return render_template("support/_kept_file.html", error=error)
    kept = keep_for(current_user.id, [stored])
    if not kept:  # larger alone than what one user's unsent forms may keep
        return render_template("support/_kept_file.html", error=_(
            "“%(name)s” is larger than the %(mb)d MB your unsent forms may keep.",
            name=stored["name"], mb=current_app.config["KEPT_FILES_MAX_MB"]))
    return render_template("support/_kept_file.html", file=dict(kept[0], token=keep_token(kept[0], current_user.id)))


@bp.post("/new/context")
def context_box():
    """The "Sent with your request" box alone, for what the page learnt after it loaded: the
    host page's context (static/embedded.js) and the browser's time zone (static/portal.js).
    A POST, so that the host page's address stays out of access logs."""
    form = SentWithForm()
    return render_template("support/_context.html", form=form, sent_lines=context_lines(offered_context(form)))


def _first_of_twins(kept, find_first):
    """The same form was sent twice at once and the other one was stored first (its
    one-time key is unique): return that one, and remove this copy's files it does not own.
    Called while handling the IntegrityError; re-raises it when no first one exists."""
    db.session.rollback()
    existing = find_first()
    if existing is None:
        raise
    for file in kept:
        if file["stored_name"] not in {a.stored_name for a in existing.attachments}:
            storage.remove(file["stored_name"])
    return existing


def _form_page(form, kept=(), file_errors=()):
    return render_template("support/new.html", form=form, kept=kept, file_errors=file_errors,
                           summary_max=SUMMARY_MAX, description_max=DESCRIPTION_MAX,
                           sent_lines=context_lines(offered_context(form)))


def _already_sent(submission_key):
    if not submission_key:
        return None
    return db.session.scalar(select(SupportRequest).where(
        SupportRequest.submission_key == submission_key, SupportRequest.reporter_id == current_user.id))


def _collect_files():
    """Files kept from an earlier try plus the new uploads, each checked and stored."""
    kept, errors = {}, []
    removed = set(request.form.getlist("remove"))
    for token in request.form.getlist("kept"):
        file = from_token(token, current_user.id)
        if file and token not in removed:
            kept[file["stored_name"]] = file
    # A kept file that already belongs to a request (an old form sent again) is not taken twice.
    if kept:
        taken = set(db.session.scalars(select(Attachment.stored_name).where(
            Attachment.stored_name.in_(list(kept)))))
        kept = {name: file for name, file in kept.items() if name not in taken}
    kept = list(kept.values())
    for upload in request.files.getlist("attachments"):
        if not upload or not upload.filename:
            continue
        stored, error = store_upload(upload)
        if error:
            errors.append(error)
        else:
            kept.append(stored)
    limit = current_app.config["ATTACHMENT_MAX_FILES"]
    if len(kept) > limit:
        errors.append(_("Attach at most %(count)d files.", count=limit))
        for extra in kept[limit:]:
            storage.remove(extra["stored_name"])
        kept = kept[:limit]
    return kept, errors


# Detail ---------------------------------------------------------------------------------

@bp.get("/<int:request_id>")
def detail(request_id):
    """Everything about one request, with the support team's public comments."""
    return detail_page(visible_request(request_id))


def detail_page(support_request, reply_form=None, kept=(), file_errors=()):
    back = request.args.get("back", "")
    back_url = url_for("support.list_requests") + ("?" + back if back and "//" not in back else "")
    if reply_form is None and may_reply(support_request):
        reply_form = new_reply_form()
    return render_template("support/detail.html", support_request=support_request,
                           timeline=timeline_of(support_request), attachments=files_of(support_request),
                           back_url=back_url, reply_form=reply_form, kept=kept, file_errors=file_errors,
                           description_max=DESCRIPTION_MAX, **action_box(support_request))


@bp.post("/<int:request_id>/reply")
def reply(request_id):
    """Send a reply (and files) to the support team."""
    support_request = own_request(request_id)
    form = ReplyForm()
    if len(form.submission_key.data or "") > REPLY_KEY_MAX:
        abort(400)  # no form of ours carries one this long
    if already_sent(form.submission_key.data):  # the same form again: a double click, a resend
        return redirect(url_for("support.detail", request_id=request_id, _anchor="reply-box"), code=303)
    kept, file_errors = _collect_files()
    if not form.validate() or file_errors:
        kept = keep_for(current_user.id, kept)
        tokens = [dict(file, token=keep_token(file, current_user.id)) for file in kept]
        return detail_page(support_request, reply_form=form, kept=tokens, file_errors=file_errors), 422
    reply = Reply(request_id=support_request.id, author_id=current_user.id, body=form.body.data,
                  submission_key=form.submission_key.data or None,
                  attachments=[Attachment(request_id=support_request.id, original_name=f["name"],
                                          content_type=f["type"], size=f["size"], sha256=f["sha256"],
                                          stored_name=f["stored_name"]) for f in kept])
    db.session.add(reply)
    claimed([f["stored_name"] for f in kept])
    try:
        accept_reply(reply)
        transitions.after_reply(reply)
    except IntegrityError:  # the same form, sent twice at once: the first one won
        _first_of_twins(kept, lambda: already_sent(form.submission_key.data))
    return redirect(url_for("support.detail", request_id=request_id, _anchor="reply-box"), code=303)


def _request_version(request_id):
    return polls.request_version(visible_request(request_id))


@bp.post("/<int:request_id>/mute")
def mute(request_id):
    """"Mute this request" (muted=1) and back (muted=0): no mail about it."""
    support_request = visible_request(request_id)
    support_request.mail_muted = request.form.get("muted") == "1"
    db.session.commit()
    flash(_("No more mail about this request.") if support_request.mail_muted
          else _("Mail about this request is back on."), "success")
    return redirect(url_for("support.detail", request_id=request_id), code=303)


@bp.get("/<int:request_id>/files")
@polls.conditional(_request_version)
def attachments(request_id):
    """The attachments section alone, for its poll while a Jira file is being fetched."""
    support_request = visible_request(request_id)
    return render_template("support/_attachments.html", support_request=support_request,
                           attachments=files_of(support_request))


def files_of(support_request):
    """The request's files, each with whether it can be downloaded and, if not, why."""
    files = []
    settings = integration.settings()
    for row in support_request.attachments:
        if not jira_files.is_shown(row, settings):
            continue
        stored = jira_files.is_stored(row)
        files.append(ShownFile(row, stored, None if stored else jira_files.why_not_stored(row),
                               delivery.NOT_SENT.get(row.send_problem) if row.not_sent_at else None))
    return files


@bp.get("/<int:request_id>/comments")
@polls.conditional(_request_version)
def comments(request_id):
    """The comments section alone, for its poll; the attachments come along out of band."""
    support_request = visible_request(request_id)
    return render_template("support/_comments.html", support_request=support_request,
                           timeline=timeline_of(support_request), attachments=files_of(support_request),
                           oob=True)


def timeline_of(support_request):
    """Public comments, the requester's replies and status changes in one list, oldest
    first. A change between two Jira statuses the customer sees under one name is no change
    to them."""
    comments = db.session.scalars(select(JiraComment).where(
        JiraComment.request_id == support_request.id, JiraComment.public)).all()
    replies = db.session.scalars(select(Reply).where(Reply.request_id == support_request.id)).all()
    actions = db.session.scalars(select(StatusAction).where(StatusAction.request_id == support_request.id,
                                                            StatusAction.kind != StatusAction.BACK)).all()
    history = [h for h in db.session.scalars(select(StatusChange).where(StatusChange.request_id == support_request.id))
               if h.kind != "status" or len(set(shown_change(h))) > 1]
    return sorted([TimelineEntry("comment", c.created_at, c, None) for c in comments]
                  + [TimelineEntry("reply", r.created_at, r, reply_state(r)) for r in replies]
                  + [TimelineEntry("action", a.created_at, a, transitions.action_state(a)) for a in actions]
                  + [TimelineEntry("change", h.changed_at, h, None) for h in history], key=lambda e: e.when)


@bp.get("/<int:request_id>/delivery")
@polls.conditional(_request_version)
def delivery_state(request_id):
    """The live delivery state; it stops polling once the request has its final state."""
    return render_template("support/_delivery.html", support_request=visible_request(request_id))


@bp.get("/<int:request_id>/attachments/<int:attachment_id>")
def download(request_id, attachment_id):
    """A file of the request, downloaded (never shown inline) under its original name."""
    support_request = visible_request(request_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.request_id != support_request.id or not jira_files.is_shown(attachment):
        abort(404)
    if not jira_files.is_stored(attachment):
        if attachment.source != "jira":
            abort(404)
        if attachment.stored_name:  # the stored copy is lost: fetch it again
            attachment.stored_name = None
            db.session.commit()
            enqueue(jira_files.fetch_jira_file, attachment.id)
        flash(str(jira_files.why_not_stored(attachment)), "error")
        return redirect(url_for("support.detail", request_id=support_request.id), code=303)
    path = storage.path_of(attachment.stored_name)
    response = send_file(path, mimetype=served_type(attachment.original_name, path), as_attachment=True,
                         download_name=attachment.original_name, max_age=0)
    # A file is never a page of the portal: nothing in it runs, nothing may embed it elsewhere.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
