"""pytest fixtures: ``from tests.apinizersim.fixtures import apinizer_sim, apinizer_sim_server  # noqa: F401``.
One server per session, reset before each test."""
import pytest

from . import ApinizerSimulator


@pytest.fixture(scope="session")
def apinizer_sim_server():
    sim = ApinizerSimulator().start()
    yield sim
    sim.stop()


@pytest.fixture
def apinizer_sim(apinizer_sim_server):
    apinizer_sim_server.reset()
    return apinizer_sim_server
