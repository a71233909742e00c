"""A small portal to look at: accounts, a catalog and requests in several states."""
from datetime import datetime, timedelta, timezone

from tests.support import PASSWORD
from webapp.cli import create_user
from webapp.extensions import db
from webapp.jira import JiraInvalidError
from webapp.models import (ApiEndpoint, ApiProduct, Attachment, AuditLog, Category, JiraComment, Label,
                           StatusChange, SupportRequest, utcnow)


FILED = datetime(2026, 11, 28, 9, 5, tzinfo=timezone.utc)  # the sent request's: 12:05 in Istanbul


def seed(app, language=None):
    """An admin, a user with requests in several states and one with none, and the catalog;
    the accounts in `language` (None: they follow the browser). Returns the requests' ids."""
    with app.app_context():
        admin = create_user("ada@example.com", PASSWORD, "Ada Admin", True)
        deniz = create_user("deniz@example.com", PASSWORD, "Deniz Yılmaz", False)
        oya = create_user("oya@example.com", PASSWORD, "Oya Öztürk", False)
        for user in (admin, deniz, oya):
            user.language = language
        payments = ApiProduct(name="Payments API", position=1)
        payments.endpoints = [ApiEndpoint(method="POST", path="/v2/payments", position=1),
                              ApiEndpoint(method="GET", path="/v2/payments/{id}", position=2)]
        accounts = ApiProduct(name="Accounts API", position=2)
        accounts.endpoints = [ApiEndpoint(method="GET", path="/v1/accounts", position=1)]
        billing = Category(name="Billing", position=1)
        db.session.add_all([Label(name="Bug", position=1), Label(name="Question", position=2),
                            billing, Category(name="Access", position=2), payments, accounts])
        db.session.flush()
        now = utcnow()
        queued = SupportRequest(reporter_id=deniz.id, label="Question", summary="How do refunds work?",
                                description="Which endpoint refunds a payment?", delivery_state="queued",
                                created_at=now - timedelta(minutes=5), updated_at=now - timedelta(minutes=5))
        sent = SupportRequest(
            reporter_id=deniz.id, label="Bug", summary="Payment creation answers 500",
            description="Since 09:00 every POST /v2/payments fails.\nRequest id 7f3a.",
            category_id=billing.id, product_id=payments.id, endpoint_id=payments.endpoints[0].id,
            delivery_state="sent", jira_key="SUP-7", jira_issue_id="10007", jira_status="In Progress",
            jira_status_id="3", jira_status_category="indeterminate", created_at=FILED, updated_at=now)
        failed = SupportRequest(
            reporter_id=deniz.id, label="Bug", summary="Account list is empty", description="Since Monday.",
            delivery_state="failed", attempts=3, created_at=now - timedelta(days=1), updated_at=now,
            last_error=JiraInvalidError(errors={"issuetype": "Specify a valid issue type"},
                                        context={"project_key": "SUP"}).as_message())
        db.session.add_all([queued, sent, failed])
        db.session.flush()
        sent.attachments = [
            Attachment(original_name="trace.log", content_type="text/plain", size=10_444, stored_name="a" * 32),
            Attachment(original_name="Ekran görüntüsü.png", content_type="image/png", size=1_234_567,
                       source="jira", jira_attachment_id="10100", in_public_comment=True)]
        db.session.add_all([
            StatusChange(request_id=sent.id, from_status="To Do", from_status_id="10000", from_category="new",
                         to_status="In Progress", to_status_id="3", to_category="indeterminate",
                         changed_at=now - timedelta(hours=3)),
            JiraComment(request_id=sent.id, jira_comment_id="1", author_name="Selin (Support)",
                        body_html="<p>Thanks, we are <strong>looking into it</strong>.</p>",
                        created_at=now - timedelta(hours=2))])
        db.session.add(AuditLog(actor_id=admin.id, action="categories.added", details={"name": "Billing"}))
        db.session.commit()
        return {"queued": queued.id, "sent": sent.id, "failed": failed.id}
