"""pytest fixtures for the simulator. Import them into a test module (or a conftest)::

    from tests.jirasim.fixtures import jira_sim, jira_sim_server, jira_client  # noqa: F401

``jira_sim`` is one server per test session, reset before each test; after the test it fails
if any request the test sent broke the official OpenAPI spec.
"""
import pytest

from webapp.jira import JiraClient

from . import PORTAL_EMAIL, PORTAL_TOKEN, JiraSimulator


@pytest.fixture(scope="session")
def jira_sim_server():
    sim = JiraSimulator().start()
    yield sim
    sim.stop()


@pytest.fixture
def jira_sim(jira_sim_server):
    sim = jira_sim_server
    sim.come_up()
    sim.reset()
    yield sim
    sim.faults.clear()
    violations, crashes = list(sim.spec_violations), list(sim.crashes)
    sim.spec_violations.clear()
    sim.crashes.clear()
    assert not crashes, "the simulator crashed:\n" + "\n".join(crashes)
    assert not violations, "requests that break the Jira OpenAPI spec:\n" + "\n".join(violations)


@pytest.fixture
def jira_client(jira_sim):
    client = JiraClient(jira_sim.url, PORTAL_EMAIL, PORTAL_TOKEN, timeout=(2, 2))
    yield client
    client.session.close()
