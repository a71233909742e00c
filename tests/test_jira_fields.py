"""Custom field values shaped by schema.custom, and labels made valid for Jira."""
import pytest

from webapp.jira import (
    field_type,
    is_public_comment,
    make_label,
    reference_label,
    shape_field_value,
    text_to_adf,
)
from webapp.jira.upload import MultipartFile

CUSTOM = "com.atlassian.jira.plugin.system.customfieldtypes:"


def schema(kind, json_type="string"):
    return {"type": json_type, "custom": CUSTOM + kind, "customId": 10050}


@pytest.mark.parametrize("kind, value, expected", [
    ("textfield", "Payments API", "Payments API"),
    ("url", "https://api.example/v1", "https://api.example/v1"),
    ("select", "Billing", {"value": "Billing"}),
    ("radiobuttons", "Live", {"value": "Live"}),
    ("multiselect", ["Web", "iOS"], [{"value": "Web"}, {"value": "iOS"}]),
    ("multicheckboxes", "Web", [{"value": "Web"}]),
    ("labels", ["a b", "c"], ["a-b", "c"]),
    ("textarea", "Line 1\nLine 2", text_to_adf("Line 1\nLine 2")),
    ("float", "42.5", 42.5),  # a number field takes a JSON number (the simulator refuses "42.5")
    ("float", "502", 502),
    ("float", "five", "five"),  # no number: sent as it is, and Jira's refusal says why
    ("something-new", ["x", "y"], "x, y"),
])
def test_shapes_on_cloud(kind, value, expected):
    assert shape_field_value(schema(kind), value) == expected


def test_textarea_on_data_center_is_wiki_text():
    assert shape_field_value(schema("textarea"), "a *b*", "datacenter") == "a \\*b\\*"


def test_field_type_tolerates_missing_schema():
    assert field_type(None) == "" and field_type({"type": "string"}) == ""
    assert shape_field_value(None, "x") == "x"


@pytest.mark.parametrize("label, expected", [
    ("api-portal", ("api-portal", False)),
    ("Test Application", ("Test-Application", True)),
    ("  tab\tand\nnewline ", ("tab-and-newline", True)),
    ("x" * 300, ("x" * 255, True)),
])
def test_make_label(label, expected):
    assert make_label(label) == expected


def test_reference_label():
    assert reference_label("abc 123") == "portal-ref-abc-123"


@pytest.mark.parametrize("comment, public", [
    ({"jsdPublic": True}, True),
    ({}, False),  # fail closed: nothing says it is not an internal note
    ({"jsdPublic": None}, False),
    ({"jsdPublic": False}, False),
    ({"jsdPublic": True, "visibility": {"type": "role", "value": "Administrators"}}, False),
    ({"properties": [{"key": "sd.public.comment", "value": {"internal": True}}]}, False),
    ({"properties": [{"key": "sd.public.comment", "value": {"internal": False}}]}, True),
    ({"properties": []}, True),  # Data Center, read with its properties: none makes it internal
    ({"properties": [{"key": "other", "value": 1}]}, True),
    ({"properties": [{"key": "sd.public.comment", "value": "internal"}]}, False),  # unknown shape
    ({"properties": [{"key": "sd.public.comment", "value": {}}]}, False),
    ({"properties": [{"key": "sd.public.comment", "value": {"internal": "false"}}]}, False),
    ({"properties": ["sd.public.comment"]}, False),
    ({"properties": None}, False),
    ({"jsdPublic": True, "properties": [{"key": "sd.public.comment", "value": {"internal": True}}]}, False),
    ("not a comment", False),
])
def test_is_public_comment(comment, public):
    assert is_public_comment(comment) is public


def test_multipart_body_streams_in_blocks(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(b"\0" * (300 * 1024))
    body = MultipartFile(str(path), "big file.bin")
    blocks = []
    while True:
        block = body.read(8192)
        if not block:
            break
        blocks.append(block)
    data = b"".join(blocks)
    assert len(data) == len(body) and max(map(len, blocks)) == 8192
    assert b'name="file"; filename="big file.bin"' in data
    assert data.endswith(f"--{body.boundary}--\r\n".encode())
