"""The simulator's workflow: transitions between the statuses, and the two calls that use them.

Each transition: ``id``, ``name``, ``from`` (status ids it starts from; None: global, from any
status but its own target), ``to`` (a status id), ``screen`` ({field id: required}: a
transition with a screen; Jira then answers 400 when a required field is missing) and
``hidden`` (a condition the account does not meet: Jira leaves it out of the list and refuses
it by id as not valid). As real Jira does, ``GET /issue/{id}/transitions`` lists only what is
valid from the issue's current status for this account; ``POST`` answers 204, or 400
``Transition id '31' is not valid for this issue.``
"""

from . import render
from .state import now

INVALID = "Transition id '{0}' is not valid for this issue."
FIELD_NAMES = {"resolution": "Resolution"}


def demo_workflow():
    """To Do → In Progress → Waiting for customer → Done, and back."""
    return [
        {"id": "11", "name": "Start progress", "from": ["10000"], "to": "3"},
        {"id": "21", "name": "Wait for customer", "from": ["3"], "to": "10001"},
        {"id": "31", "name": "Resolve", "from": ["10000", "3", "10001"], "to": "10002"},
        {"id": "41", "name": "Reopen", "from": ["10002"], "to": "10000"},
        {"id": "51", "name": "Respond", "from": ["10001"], "to": "3"},
    ]


def valid_from(state, issue):
    """The transitions this issue may take now (conditions met), in the workflow's order."""
    current = issue["status"]
    return [t for t in state.workflow if not t.get("hidden")
            and (current in t["from"] if t.get("from") is not None else t["to"] != current)]


def render_transition(base, state, transition):
    screen = transition.get("screen") or {}
    body = {"id": transition["id"], "name": transition["name"],
            "to": render.status(base, state.statuses[transition["to"]]),
            "hasScreen": bool(screen), "isGlobal": transition.get("from") is None,
            "isInitial": False, "isAvailable": True, "isConditional": "hidden" in transition,
            "isLooped": False}
    if screen:
        body["fields"] = {f: {"required": required, "name": FIELD_NAMES.get(f, f), "key": f,
                              "operations": ["set"], "schema": {"type": "string", "system": f}}
                          for f, required in screen.items()}
    return body


def get_transitions(sim, req, key):
    from .api import issue_not_found, ok
    issue = sim.state.find_issue(key, req.account)
    if issue is None:
        return issue_not_found(sim)
    return ok({"expand": "transitions",
               "transitions": [render_transition(req.base, sim.state, t) for t in valid_from(sim.state, issue)]})


def do_transition(sim, req, key):
    from .api import error, issue_not_found, json_body
    issue = sim.state.find_issue(key, req.account)
    if issue is None:
        return issue_not_found(sim)
    data, refused = json_body(req)
    if refused:
        return refused
    wanted = str(((data or {}).get("transition") or {}).get("id") or "") if isinstance(data, dict) else ""
    transition = next((t for t in valid_from(sim.state, issue) if t["id"] == wanted), None)
    if transition is None:
        return error(400, [INVALID.format(wanted)])
    given = data.get("fields") if isinstance(data.get("fields"), dict) else {}
    missing = {f: f"{FIELD_NAMES.get(f, f)} is required." for f, required in (transition.get("screen") or {}).items()
               if required and not given.get(f)}
    if missing:
        return error(400, [], missing)
    move(sim, issue, transition["to"])
    return 204, b"", {}


def move(sim, issue, status_id):
    """The issue goes to this status (a transition, or an agent in Jira's UI): a webhook too."""
    state = sim.state
    before = state.statuses[issue["status"]]
    target = state.statuses[status_id]
    state.remember(issue)
    issue["status"], issue["updated"] = target["id"], now()
    sim.webhook("jira:issue_updated", issue, "issue_generic", changelog={
        "id": state.next_id(), "items": [{
            "field": "status", "fieldtype": "jira", "fieldId": "status",
            "from": before["id"], "fromString": before["name"],
            "to": target["id"], "toString": target["name"]}]})


class WorkflowControl:
    """What tests do to the workflow (also over HTTP: /_sim/<method>)."""

    def set_workflow(self, transitions):
        """Replace the workflow: a list of transition dicts (see the module's docstring)."""
        with self.state.lock:
            self.state.workflow = [dict(t, id=str(t["id"]), to=str(t["to"])) for t in transitions]

    def _transition(self, name_or_id):
        return next(t for t in self.state.workflow if name_or_id in (t["id"], t["name"]))

    def hide_transition(self, name, hidden=True):
        """A condition the portal's account does not meet: the transition is not offered."""
        with self.state.lock:
            self._transition(name)["hidden"] = bool(hidden)

    def require_field(self, name, field="resolution", required=True):
        """The transition gets a screen on which ``field`` is required (or optional)."""
        with self.state.lock:
            transition = self._transition(name)
            transition["screen"] = {**(transition.get("screen") or {}), field: bool(required)}

    def rename_transition(self, name, new_name):
        with self.state.lock:
            self._transition(name)["name"] = new_name
