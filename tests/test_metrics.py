"""GET /metrics in Prometheus' text format."""
import re

from webapp.metrics import endpoint_of
from tests.test_delivery import new_request


def test_metrics_count_states_and_jira_calls(client, app, configure_jira, make_user, drain, jira_sim):
    app.config.update(SEARCH_LAG_SECONDS=0.1, DELIVERY_RETRY_BASE_SECONDS=0.05)
    configure_jira()
    reporter = make_user()
    new_request(reporter)
    jira_sim.fault("error", path="/rest/api/3/issue", method="POST", status=500, times=1)
    drain()
    configure_jira(enabled=False)
    new_request(reporter)
    text = client.get("/metrics").data.decode()
    assert 'portal_requests{state="sent"} 1' in text and 'portal_requests{state="local"} 1' in text
    assert 'portal_jira_calls_total{endpoint="POST /rest/api/3/issue",status="500"} 1' in text
    assert 'portal_jira_calls_total{endpoint="POST /rest/api/3/issue",status="201"} 1' in text
    assert re.search(r'portal_jira_call_seconds_count\{endpoint="POST /rest/api/3/search/jql"\} [1-9]', text)
    assert "sim-token" not in text


def test_metrics_can_require_a_token(client, app):
    app.config["METRICS_TOKEN"] = "scrape-secret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"}).status_code == 200


def test_endpoints_are_labelled_without_ids():
    assert endpoint_of("GET", "/rest/api/3/issue/SUP-123/comment") == "GET /rest/api/3/issue/{id}/comment"
    assert endpoint_of("POST", "/rest/api/3/issue/10042/attachments") == "POST /rest/api/3/issue/{id}/attachments"
    assert endpoint_of("GET", "https://jira.example/jira/rest/api/2/issue/7?fields=x") == "GET /jira/rest/api/2/issue/{id}"
    assert endpoint_of("GET", "/_media/5") == "GET (other)"


REMOTE = {"REMOTE_ADDR": "203.0.113.9"}  # a scraper on another machine


def test_metrics_answer_only_this_machine_without_a_token(client, app):
    """Issue 13, item 9: /metrics told anyone the request counts and the project's endpoints."""
    assert client.get("/metrics", environ_base=REMOTE).status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/metrics").status_code == 200  # 127.0.0.1


def test_metrics_answer_a_remote_scraper_with_the_token_or_when_made_public(client, app):
    app.config["METRICS_TOKEN"] = "scrape-secret"
    assert client.get("/metrics", environ_base=REMOTE,
                      headers={"Authorization": "Bearer scrape-secret"}).status_code == 200
    app.config.update(METRICS_TOKEN=None, METRICS_PUBLIC=True)
    assert client.get("/metrics", environ_base=REMOTE).status_code == 200
