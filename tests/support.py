"""Small helpers shared by the test modules and plugins."""
import copy
import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "correct horse battery"


def need_service(reason):
    """Skip for a missing service, except in CI where it is a failure."""
    if IN_CI:
        pytest.fail(f"CI must run every test, but {reason}")
    pytest.skip(reason)


def track_issues(reporter, issues):
    """A sent request tracking each simulator issue (`sim.add_issues`), in one insert."""
    from sqlalchemy import insert

    from webapp.extensions import db
    from webapp.models import SupportRequest, utcnow
    now = utcnow()
    db.session.execute(insert(SupportRequest), [
        {"reference": f"PR-T{int(issue['id']):07d}", "reporter_id": reporter.id, "label": "Bug",
         "summary": issue["fields"]["summary"], "description": "...", "delivery_state": "sent",
         "jira_issue_id": issue["id"], "jira_key": issue["key"], "jira_status": "To Do",
         "jira_status_category": "new", "created_at": now, "updated_at": now}
        for issue in issues])
    db.session.commit()


def tracked(jira_client, reporter, summary):
    """(request, issue): a new simulator issue and the sent request tracking it."""
    from webapp.extensions import db
    from webapp.models import SupportRequest
    # Setting the scene, not the client under test: a loaded machine must not time it out.
    patient = copy.copy(jira_client)
    patient.timeout = (10, 30)
    issue = patient.create_issue(patient.new_issue_fields("SUP", "10002", summary))
    request = SupportRequest(reporter_id=reporter.id, label="Bug", summary=summary,
                             description="...", delivery_state="sent",
                             jira_issue_id=issue.id, jira_key=issue.key,
                             jira_status="To Do", jira_status_category="new")
    db.session.add(request)
    db.session.commit()
    return request, issue
