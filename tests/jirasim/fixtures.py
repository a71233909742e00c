"""pytest fixtures for the simulator. Import them into a test module (or a conftest)::

    from tests.jirasim.fixtures import jira_sim, jira_sim_server, jira_client  # noqa: F401

``jira_sim`` is one server per test session, reset before each test; after the test it fails
if any request the test sent broke the official OpenAPI spec. It answers as Jira Cloud, or as
Data Center for a test marked ``@both_deployments`` (run once for each) or given
``deployment`` otherwise; ``jira_client`` and ``configure_jira`` speak to it accordingly.
"""
import pytest

from webapp.jira import JiraClient

from . import PORTAL_EMAIL, PORTAL_PAT, PORTAL_TOKEN, JiraSimulator

DEPLOYMENTS = ("cloud", "datacenter")
both_deployments = pytest.mark.parametrize("deployment", DEPLOYMENTS, indirect=True)


@pytest.fixture
def deployment(request):
    """"cloud" unless the test is parametrised (``both_deployments``)."""
    return getattr(request, "param", "cloud")


@pytest.fixture(scope="session")
def jira_sim_server():
    sim = JiraSimulator().start()
    yield sim
    sim.stop()


@pytest.fixture
def jira_sim(jira_sim_server, deployment):
    sim = jira_sim_server
    sim.come_up()
    sim.reset()
    sim.deployment = deployment
    yield sim
    sim.faults.clear()
    violations, crashes = list(sim.spec_violations), list(sim.crashes)
    sim.spec_violations.clear()
    sim.crashes.clear()
    assert not crashes, "the simulator crashed:\n" + "\n".join(crashes)
    assert not violations, "requests that break the Jira OpenAPI spec:\n" + "\n".join(violations)


def client_for(sim, **options):
    """A JiraClient with the portal's account on the simulator, as its deployment wants."""
    if sim.deployment == "datacenter":
        return JiraClient(sim.url, "", PORTAL_PAT, deployment="datacenter", **options)
    return JiraClient(sim.url, PORTAL_EMAIL, PORTAL_TOKEN, **options)


@pytest.fixture
def jira_client(jira_sim):
    client = client_for(jira_sim, timeout=(2, 2))
    yield client
    client.session.close()
