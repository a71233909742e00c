"""What tests (and the demo) do to the simulator: the Jira team's actions, faults, counters.

Every public method here is also reachable over HTTP as ``POST /_sim/<method>`` with the
keyword arguments as a JSON object, and ``GET /_sim/calls`` / ``GET /_sim/violations`` /
``GET /_sim/webhooks`` / ``GET /_sim/refused`` (the calls the rate limits refused) read the counters, so a browser demo or another process can drive it.
"""
import json
import uuid
from datetime import timedelta

from webapp.jira.adf import text_to_adf

from . import render
from .state import demo_state, now
from .workflow import WorkflowControl, move

HTTP_ACTIONS = ("reset", "set_status", "add_comment", "attach", "delete_issue", "move_issue",
                "set_updated", "fault", "clear_faults", "register_webhook", "set_upload_limit",
                "set_attachments_enabled", "refuse_downloads", "set_rate_limits",
                "set_workflow", "hide_transition", "require_field", "rename_transition")
AGENT = "agent@example.com"


class ControlMixin(WorkflowControl):
    def reset(self):
        """Fresh demo data, no faults, no rate limits, no counters, no webhooks."""
        self.faults.clear()
        self.limits.configure()
        self.webhooks.clear()
        with self.state.lock:
            fresh = demo_state()
            self.state.__dict__.update({k: v for k, v in fresh.__dict__.items() if k != "lock"})
        self.calls.clear()
        self.spec_violations.clear()
        self.media_requests.clear()
        self.credentials_seen.clear()
        self.crashes.clear()
        self.search_lag = 0.0

    def _issue(self, key):
        issue = self.state.issues.get(self.state.keys.get(str(key), str(key)))
        if issue is None:
            raise KeyError(f"no issue {key}")
        return issue

    def set_status(self, key, status):
        """Move an issue to a status, by name ("Done") or id."""
        with self.state.lock:
            issue = self._issue(key)
            target = next(s for s in self.state.statuses.values() if status in (s["id"], s["name"]))
            move(self, issue, target["id"])

    def add_comment(self, key, text, author=AGENT, visibility=None, internal=False, files=()):
        """A comment by the support team. ``visibility``: e.g. {"type": "role", "value": ...}.

        ``internal=True`` is a Service Management internal note (``jsdPublic`` false on Cloud,
        the ``sd.public.comment`` property on both). ``text`` is plain text or an ADF document
        (on Data Center, text is wiki markup, kept as it is). ``files``: names of the issue's attachments
        the comment shows, as Jira's editor puts them: an ADF ``media`` node whose ``alt`` is
        the file name (Data Center bodies show them as wiki ``!name!``). Returns the comment id.
        """
        if self.deployment == "datacenter" and isinstance(text, str):
            # Data Center agents write wiki markup; a file shown is "!name!".
            body = "\n\n".join([text] + [f"!{name}!" for name in files or ()])
        else:
            body = text if isinstance(text, dict) else text_to_adf(text)
        if files and isinstance(body, dict):
            body = {**body, "content": list(body.get("content") or []) + [
                {"type": "mediaSingle", "attrs": {"layout": "center"}, "content": [
                    {"type": "media", "attrs": {"id": str(uuid.uuid4()), "type": "file",
                                                "collection": f"jira-{key}", "alt": name}}]}
                for name in files]}
        if visibility:
            visibility = {"identifier": visibility.get("value"), **visibility}
        with self.state.lock:
            issue = self._issue(key)
            comment = self.state.add_comment(issue, body, author, visibility, internal)
            self.webhook("comment_created", issue, "issue_commented", comment=comment)
        return comment["id"]

    def attach(self, key, filename, data, mime_type="application/octet-stream", author=AGENT):
        """An attachment added by an agent in Jira. Returns the attachment id."""
        data = data.encode("utf-8") if isinstance(data, str) else data
        with self.state.lock:
            issue = self._issue(key)
            attachment = self.state.add_attachment(issue, filename, mime_type, data, author)
            self.webhook("jira:issue_updated", issue, "issue_updated")
        return attachment["id"]

    def delete_issue(self, key):
        with self.state.lock:
            issue = self._issue(key)
            del self.state.issues[issue["id"]]
            self.webhook("jira:issue_deleted", issue, "issue_deleted")

    def move_issue(self, key, project_key):
        """Move an issue to another project: new key, same id; the old key still resolves."""
        with self.state.lock:
            issue = self._issue(key)
            project = self.state.projects[project_key]
            issue["old_keys"].append(issue["key"])
            issue["key"] = f"{project_key}-{project['next']}"
            project["next"] += 1
            issue["project"], issue["project_id"] = project_key, project["id"]
            issue["type"] = project["issue_types"][0]["id"]
            issue["updated"] = now()
            self.state.keys[issue["key"]] = issue["id"]
            self.webhook("jira:issue_updated", issue, "issue_moved")
        return issue["key"]

    def set_updated(self, key, minutes_ago=0):
        """Pretend the issue was last updated ``minutes_ago`` minutes ago (for JQL windows)."""
        with self.state.lock:
            issue = self._issue(key)
            issue["updated"] = now() - timedelta(minutes=minutes_ago)

    def add_issues(self, count, updated_hours_ago=2):
        """`count` issues in SUP, last updated a while ago (as tracked, settled issues are)."""
        from . import PORTAL_EMAIL
        state = self.state
        with state.lock:
            project = state.projects["SUP"]
            account = state.accounts[PORTAL_EMAIL]
            issues = [state.new_issue(project, project["issue_types"][0], {"summary": f"Issue {n}"}, account)
                      for n in range(count)]
            for issue in issues:
                issue["updated"] -= timedelta(hours=updated_hours_ago)
        return issues

    def set_upload_limit(self, size):
        self.state.upload_limit = int(size)

    def refuse_downloads(self, how="redirect"):
        """Data Center refusing the token at /secure/attachment: "redirect" to the log-in page,
        or "html" (a log-in page with status 200, as a single sign-on in front answers); None
        to serve files again."""
        self.state.downloads_refused = how

    def set_attachments_enabled(self, enabled):
        """Jira's global "Allow attachments": off, every upload is refused with 403."""
        self.state.attachments_enabled = bool(enabled)

    def fault(self, kind, **rule):
        """Inject a fault; see faults.py for kinds and options."""
        self.faults.add(kind, **rule)

    def clear_faults(self):
        self.faults.clear()

    def set_rate_limits(self, **limits):
        """Enforce Jira's rate limits (limits.py): `burst`, `endpoints`, `burst_seconds`,
        `issue_writes`, `issue_write_seconds`, `user_limit`. Called with nothing: no limits."""
        self.limits.configure(**limits)

    def register_webhook(self, url, secret, events=None):
        self.webhooks.register(url, secret, events)

    def flush_webhooks(self, timeout=5.0):
        self.webhooks.flush(timeout)

    def webhook(self, event, issue, type_name, comment=None, changelog=None):
        """Queue the webhook Jira would send for this change (called with the lock held)."""
        if not self.webhooks.registered:
            return
        base = self.url
        payload = {"issue_event_type_name": type_name,
                   "user": render.user(base, self.state.accounts[AGENT], with_email=False),
                   "issue": {"id": issue["id"], "key": issue["key"],
                             "self": f"{base}/rest/api/2/issue/{issue['id']}",
                             "fields": {"status": render.status(base, self.state.statuses[issue["status"]]),
                                        "summary": issue["fields"].get("summary"),
                                        "labels": list(issue["fields"].get("labels") or [])}}}
        if comment:
            payload["comment"] = render.comment(base, self.state, issue, comment, 2)
        if changelog:
            payload["changelog"] = changelog
        self.webhooks.send(event, payload)

    # ---- over HTTP ------------------------------------------------------------------------

    def control(self, request):
        name = request.path[len("/_sim/"):].strip("/")
        if request.method == "GET":
            views = {"calls": lambda: dict(self.calls), "violations": lambda: self.spec_violations,
                     "webhooks": lambda: self.webhooks.deliveries,
                     "refused": lambda: dict(self.limits.refused)}
            return (200, views[name](), {}) if name in views else (404, {"error": name}, {})
        if name not in HTTP_ACTIONS:
            return 404, {"error": f"unknown action {name}", "actions": HTTP_ACTIONS}, {}
        try:
            kwargs = json.loads(request.body or b"{}")
            result = getattr(self, name)(**kwargs)
        except (ValueError, TypeError, KeyError, StopIteration) as exc:
            return 400, {"error": f"{type(exc).__name__}: {exc}"}, {}
        return 200, {"ok": True, "result": result}, {}
