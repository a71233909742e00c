"""Point the portal at a running simulator, as an admin would on Administration → Jira.
Shared by the tests' `configure_jira` fixture and the benchmarks."""
from webapp import crypto
from webapp.extensions import db
from webapp.models import JiraSettings

from . import PORTAL_EMAIL, PORTAL_PAT, PORTAL_TOKEN

CUSTOM_FIELDS = ("customfield_10050", "customfield_10051", "customfield_10052")


def configure_portal(sim, token=None, **changes):
    """Active, with the simulator's demo project and custom fields, and the account its
    deployment takes (an API token on Cloud, a personal access token on Data Center);
    `changes` override any column. Call inside an app context. Returns the settings row."""
    row = JiraSettings.get()
    datacenter = sim.deployment == "datacenter"
    token = token or (PORTAL_PAT if datacenter else PORTAL_TOKEN)
    values = dict(enabled=True, base_url=sim.url, username="" if datacenter else PORTAL_EMAIL,
                  deployment=sim.deployment, project_key="SUP",
                  issue_type="Task", issue_type_id="10002", category_field_id=CUSTOM_FIELDS[0],
                  product_field_id=CUSTOM_FIELDS[1], endpoint_field_id=CUSTOM_FIELDS[2],
                  field_schemas={fid: sim.state.fields[fid]["schema"] for fid in CUSTOM_FIELDS},
                  paused_reason=None)
    values.update(changes)
    for name, value in values.items():
        setattr(row, name, value)
    row.api_token_encrypted = crypto.encrypt(token)
    row.api_token_last4 = token[-4:]
    db.session.commit()
    return row
