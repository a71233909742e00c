"""The security suite's shared pieces (docs/security.md): hostile values as hypothesis
strategies, and a pytest plugin with two fixtures.

- `no_server_errors`: fails the test on any answer of 500 or more, or any exception a view
  raised, naming the request that caused it (method, path, query and form values).
- `tried`: counts the inputs each category tried; the totals are printed at the end of the
  run ("security inputs tried"), which is where docs/security.md takes its numbers from.
"""
import os
from collections import Counter

import pytest
from flask import request_finished, got_request_exception, request
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Function-scoped fixtures (one app and database per test) are shared by a test's examples:
# each example checks what it changed, not absolute counts. In CI the draws are the same on
# every run (a red CI must mean a change broke something, not that chance found an old bug);
# elsewhere every run draws new inputs, and what they find is pinned as an explicit example.
settings.register_profile("security", deadline=None, database=None, print_blob=True,
                          derandomize=os.environ.get("CI") == "true",
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow, HealthCheck.data_too_large])


def attack(examples):
    """The settings of a security property test: `examples` inputs, no deadline."""
    return settings(settings.get_profile("security"), max_examples=examples)


PAYLOADS = [
    # SQL
    "' OR '1'='1", "'; DROP TABLE support_requests; --", '" OR 1=1 --',
    "%' UNION SELECT password_hash FROM users --", "\\", "%", "_", "\\%_",
    # HTML, JavaScript, templates, headers
    "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)",
    "</textarea><svg onload=alert(1)>", "{{ config }}", "{% for x in range(9**9) %}", "${7*7}",
    "\r\nSet-Cookie: stolen=1", "//evil.example.com", "/\\evil.example.com", "../../etc/passwd",
    # Unicode: right-to-left override, combining marks, BOM, non-characters, astral, digits
    "\u202egnp.exe", "\u202e\u2066\u2067\u200f", "e" + "\u0301" * 500, "\ufeff", "\uffff\ufffe",
    "\U0001d54f" * 50, "٣٤٥", "²", "Ⅻ", "İı", "ß" * 300,
    # NUL and other control characters
    "\x00", "a\x00b", "\x1b[31m", "\x7f\x08\x0b\x0c", "\t\r\n",
    # numbers and sizes
    "0", "-1", "99999999999999999999999999", "2147483648", "9223372036854775808", "1e309", "NaN",
    "", " ", "None", "null", "true", "[]", "{}",
    "A" * 5_000, "x" * 40_000,
]

hostile_text = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=300),
    st.builds(lambda a, b: a + b, st.sampled_from(PAYLOADS), st.text(max_size=20)),
)
# A field's value as a form may carry it: one value, or the same field repeated.
field_value = st.one_of(hostile_text, st.lists(hostile_text, min_size=2, max_size=3))


def hostile_form(*names, required=()):
    """Form data with any of `names` present (hostile values) or missing; `required` always
    present. Draw from it with `data.draw(...)`."""
    return st.fixed_dictionaries({name: field_value for name in required},
                                 optional={name: field_value for name in names})


def describe(method, path, values):
    """A request as a failure message names it: long values cut short."""
    def short(value):
        text = repr(value)
        return text if len(text) <= 120 else text[:100] + f"…({len(text)} chars)"
    shown = {key: short(value) for key, value in (values or {}).items()}
    return f"{method} {path} {shown}"


class _Failures:
    def __init__(self):
        self.seen = []

    def answered(self, sender, response, **extra):
        if response.status_code >= 500:
            self.seen.append(f"{response.status_code} from "
                             f"{describe(request.method, request.full_path, _values())}")

    def raised(self, sender, exception, **extra):
        self.seen.append(f"{exception!r} from {describe(request.method, request.full_path, _values())}")


def _values():
    try:
        values = dict(request.form.lists())
        values.update({f"file:{k}": [f.filename for f in v] for k, v in request.files.lists()})
    except Exception:  # the body could not be parsed: that is the point of some inputs
        values = {}
    return values


@pytest.fixture
def no_server_errors(app):
    """Fail on any 5xx or exception from a view of `app` during the test."""
    failures = _Failures()
    request_finished.connect(failures.answered, app)
    got_request_exception.connect(failures.raised, app)
    yield failures
    request_finished.disconnect(failures.answered, app)
    got_request_exception.disconnect(failures.raised, app)
    assert not failures.seen, "server errors:\n" + "\n".join(failures.seen[:20])


_TRIED = Counter()


@pytest.fixture
def tried():
    """tried(category, n=1): count inputs for the end-of-run summary."""
    def count(category, n=1):
        _TRIED[category] += n
    return count


def pytest_terminal_summary(terminalreporter):
    if _TRIED:
        terminalreporter.section("security inputs tried")
        for category, count in sorted(_TRIED.items()):
            terminalreporter.write_line(f"{category}: {count}")
        terminalreporter.write_line(f"total: {sum(_TRIED.values())}")
