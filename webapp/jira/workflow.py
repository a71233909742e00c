"""The workflow calls of JiraClient: the transitions an issue may take now, and taking one
(resolve, reopen, a reply moving the issue back; webapp/transitions.py decides which)."""
from .records import issue_transitions
from .urls import ApiPath


class WorkflowCalls:
    """Mixed into JiraClient (`_json`, `_send`)."""

    def transitions(self, issue_id_or_key):
        """The transitions the issue may take now, for this account (Jira lists only those
        valid from its status whose conditions are met), as Transitions."""
        return issue_transitions(self._json("GET", ApiPath("/issue/{issueIdOrKey}/transitions", issue_id_or_key),
                                            {"issue": str(issue_id_or_key)}))

    def transition(self, issue_id_or_key, transition_id):
        """Apply one transition (no screen fields: the portal has nothing to fill them
        with). Jira answers 204; a transition no longer valid, or a screen's required field,
        is a 400 (JiraInvalidError)."""
        self._send("POST", ApiPath("/issue/{issueIdOrKey}/transitions", issue_id_or_key),
                   {"issue": str(issue_id_or_key)}, expected=(204,),
                   json={"transition": {"id": str(transition_id)}}).close()
