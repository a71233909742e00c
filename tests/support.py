"""Small helpers shared by the test modules and plugins."""
import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "correct horse battery"


def need_service(reason):
    """Skip for a missing service, except in CI where it is a failure."""
    if IN_CI:
        pytest.fail(f"CI must run every test, but {reason}")
    pytest.skip(reason)
