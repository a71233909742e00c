"""Custom field values shaped by schema.custom, and labels made valid for Jira."""
import pytest

from webapp.jira import field_type, make_label, reference_label, shape_field_value, text_to_adf

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
    ("float", "42.5", "42.5"),
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
