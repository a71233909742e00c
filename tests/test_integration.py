"""One policy for calling Jira (webapp/integration.py): the gate every job passes, the one way
to a client, the pause and its explanation, the same for delivery, the sync and file fetches."""
import pytest
from cryptography.fernet import Fernet

from tests.test_delivery import jira_calls, new_request, reload, reporter  # noqa: F401
from tests.test_sync_attachments import PNG
from webapp import delivery, integration, sync
from webapp.extensions import db
from webapp.models import Attachment, DeliveryState, JiraSettings, SupportRequest
from webapp.sync import jira_files


@pytest.fixture
def app(app_factory):
    app = app_factory(JIRA_TIMEOUT=(5, 5), DELIVERY_STALE_SECONDS=0)  # no test here waits on a timeout
    with app.app_context():
        yield app


@pytest.fixture
def tracked(configure_jira, reporter, jira_client):
    """A sent request tracking an issue, and one of the support team's files not fetched yet."""
    configure_jira()
    issue = jira_client.create_issue(jira_client.new_issue_fields("SUP", "10002", "tracked"))
    item = SupportRequest(reporter_id=reporter.id, label="bug", summary="tracked", description="d",
                          delivery_state=DeliveryState.SENT, jira_issue_id=issue.id, jira_key=issue.key)
    item.attachments.append(Attachment(source="jira", jira_attachment_id="1", original_name="a.png",
                                       content_type="image/png", size=len(PNG), in_public_comment=True))
    db.session.add(item)
    db.session.commit()
    return item


def every_job(item):
    """Each job that may call Jira, run once."""
    delivery.deliver(new_request(item.reporter, accept=False, delivery_state=DeliveryState.QUEUED).id)
    delivery.sweep()
    sync.sync_changed()
    sync.reconcile()
    sync.refresh_issue(item.jira_issue_id)
    jira_files.fetch_jira_file(item.attachments[0].id)


@pytest.mark.parametrize("closed", ["passive", "paused"])
def test_no_job_calls_jira_through_a_closed_gate(tracked, jira_sim, configure_jira, closed):
    if closed == "passive":
        configure_jira(enabled=False)
    else:
        JiraSettings.get().paused_reason = integration.explain(RuntimeError("paused by hand"))
        db.session.commit()
    assert not integration.may_call_jira() and integration.connect() is None
    jira_sim.calls.clear()
    every_job(tracked)
    assert jira_calls(jira_sim) == 0


def test_an_unreadable_token_pauses_delivery_and_sync_alike(tracked, jira_sim, app, reporter, shown):
    """Delivery used to pause on a token ENCRYPTION_KEYS can't read, while the sync only logged
    it, so an admin saw nothing while statuses stopped. Now both pause, with the reason."""
    app.config["ENCRYPTION_KEYS"] = [Fernet.generate_key().decode()]  # the token's key is gone
    jira_sim.calls.clear()
    for job in (lambda: sync.sync_changed(),
                lambda: delivery.deliver(new_request(reporter, accept=False,
                                                     delivery_state=DeliveryState.QUEUED).id)):
        settings = JiraSettings.get()
        settings.paused_reason = None
        db.session.commit()
        job()
        db.session.expire_all()
        assert "ENCRYPTION_KEYS" in shown(JiraSettings.get().paused_reason)
    assert jira_calls(jira_sim) == 0
    queued = db.session.query(SupportRequest).filter_by(summary="Token endpoint answers 500").one()
    assert queued.delivery_state == DeliveryState.QUEUED  # waits for the admin, loses nothing


@pytest.mark.parametrize("job", ["deliver", "sync", "fetch"])
def test_a_401_pauses_every_job_the_same_way(tracked, jira_sim, reporter, job, shown):
    jira_sim.fault(kind="error", status=401)
    if job == "deliver":
        delivery.deliver(new_request(reporter, accept=False, delivery_state=DeliveryState.QUEUED).id)
    elif job == "sync":
        sync.reconcile()
    else:
        jira_files.fetch_jira_file(tracked.attachments[0].id)
    db.session.expire_all()
    stored = JiraSettings.get().paused_reason
    assert "Jira rejected the credentials (401)" in shown(stored)
    assert "kimlik bilgilerini reddetti" in shown(stored, "tr")  # one row, the reader's language
    jira_sim.faults.clear()
    jira_sim.calls.clear()
    every_job(reload(tracked))
    assert jira_calls(jira_sim) == 0  # paused: nothing more until an admin changes the settings
