"""Check requests and responses against Atlassian's OpenAPI spec of Jira Cloud REST v3.

Loading the 2.4 MB spec takes a fraction of a second and is done once per process. The spec
itself fails openapi-spec-validator (an enum without ''), so the spec check is switched off;
request and response validation still work. Usage from any test::

    from tests.jirasim.spec import validate_request
    assert validate_request("POST", "/rest/api/3/issue", {}, {"Content-Type": "application/json"}, body) == []

The simulator calls ``validate_request`` for every request it receives, so end-to-end tests
check the client for free (see ``JiraSimulator.spec_violations``).
"""
import functools
import gzip
import json
import os
import re
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

# Atlassian's spec, unmodified, gzipped (provenance: docs/jira-simulator.md).
SPEC_PATH = Path(__file__).with_name("jira-platform-v3.openapi.json.gz")
SPEC_HOST = "https://your-domain.atlassian.net"
JIRA_DATETIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$")


def spec_path():
    """The vendored spec, or another copy named by $JIRA_OPENAPI_SPEC (.json or .json.gz)."""
    return Path(os.environ.get("JIRA_OPENAPI_SPEC", SPEC_PATH))


@functools.lru_cache(maxsize=1)
def spec_document():
    path = spec_path()
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


@functools.lru_cache(maxsize=1)
def load_spec():
    data = spec_document()
    config = Config(spec_validator_cls=None,
                    extra_format_validators={"date-time": is_jira_datetime})
    return OpenAPI.from_dict(data, config=config)


def is_jira_datetime(value):
    """Jira writes offsets without a colon (``+0000``), as the spec's own examples show;
    strict RFC 3339 would refuse every timestamp Jira sends."""
    return not isinstance(value, str) or bool(JIRA_DATETIME_RE.match(value))


class SpecRequest:
    """A request as openapi-core reads it; the host is always the spec's server."""

    def __init__(self, method, path, query=None, headers=None, body=None):
        self.host_url = SPEC_HOST
        self.path = path
        self.method = method.lower()
        pairs = query.items(multi=True) if hasattr(query, "items") and hasattr(query, "getlist") \
            else [(k, v) for k, vs in (query or {}).items() for v in (vs if isinstance(vs, list) else [vs])]
        self.parameters = RequestParameters(query=ImmutableMultiDict(list(pairs)),
                                            header=Headers(list((headers or {}).items())),
                                            cookie=ImmutableMultiDict())
        self.content_type = (Headers(list((headers or {}).items())).get("Content-Type") or "").lower()
        self.body = body if body else None


class SpecResponse:
    def __init__(self, status, headers, body):
        self.status_code = status
        self.headers = Headers(list((headers or {}).items()))
        self.content_type = (self.headers.get("Content-Type") or "").lower()
        self.data = body or b""


def to_v3_path(path):
    """Data Center speaks /rest/api/2, with the same paths as v3: check those against v3."""
    return re.sub(r"^/rest/api/2/", "/rest/api/3/", path)


def validate_request(method, path, query=None, headers=None, body=None):
    """Errors (list of strings, empty when valid) for one request against the spec.

    Multipart bodies are not checked: the spec models them as an array of Java
    ``MultipartFile`` objects, which no real client sends; path, query and headers still are.
    Data Center (/rest/api/2) requests are checked without the body: v2 bodies carry wiki
    strings where v3 has ADF.
    """
    content_type = (Headers(list((headers or {}).items())).get("Content-Type") or "").lower()
    skip_body = path.startswith("/rest/api/2/") or content_type.startswith("multipart/")
    request = SpecRequest(method, to_v3_path(path), query, headers, body)
    if skip_body:
        request.body = None
    errors = []
    for error in _iter_request_errors(request):
        if skip_body and "body" in type(error).__name__.lower():
            continue
        errors.append(_describe(error))
    return errors


def validate_response(method, path, status, headers, body, query=None):
    """Errors for one response (``body`` as bytes) against the spec's response schema."""
    request = SpecRequest(method, to_v3_path(path), query, {})
    response = SpecResponse(status, headers, body)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Unsupported scheme type")
            load_spec().validate_response(request, response)
    except Exception as exc:  # openapi-core raises several unrelated classes
        return [_describe(exc)]
    return []


def _iter_request_errors(request):
    try:
        with warnings.catch_warnings():
            # The spec offers OAuth2 too, which openapi-core cannot check; Basic auth is checked.
            warnings.filterwarnings("ignore", "Unsupported scheme type")
            load_spec().validate_request(request)
    except Exception as exc:  # openapi-core raises several unrelated classes
        yield exc


def _describe(error):
    detail = error.__cause__ or error.__context__
    text = f"{type(error).__name__}: {error}"
    if detail is not None:
        schema_errors = getattr(detail, "schema_errors", None)
        if schema_errors:
            text += " — " + "; ".join(str(e.message)[:200] for e in schema_errors)
        else:
            text += f" — {detail}"[:400]
    return text


def validate_prepared(prepared):
    """Errors for a ``requests.PreparedRequest`` (e.g. from ``responses.calls``)."""
    parts = urlsplit(prepared.url)
    body = prepared.body
    if body is not None and not isinstance(body, (bytes, str)):
        body = None  # a streamed upload: only multipart, whose body is not checked anyway
    if isinstance(body, str):
        body = body.encode("utf-8")
    return validate_request(prepared.method, parts.path, parse_qs(parts.query),
                            dict(prepared.headers), body)
