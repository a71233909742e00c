"""Run the simulator standalone: ``python -m tests.jirasim --port 8089``."""
import argparse
import time

from . import PORTAL_EMAIL, PORTAL_PAT, PORTAL_TOKEN, JiraSimulator


def main():
    parser = argparse.ArgumentParser(description="Jira Cloud simulator with demo data")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--no-validate", action="store_true",
                        help="skip checking requests against the OpenAPI spec (faster start)")
    args = parser.parse_args()
    sim = JiraSimulator(host=args.host, port=args.port, validate=not args.no_validate).start()
    _seed(sim)
    sim.add_comment("SUP-1", "Welcome! This is a public comment from the support team.")
    print(f"Jira simulator at {sim.url}")
    print(f"  Cloud:       username {PORTAL_EMAIL}  API token {PORTAL_TOKEN}  project SUP or HELP")
    print(f"  Data Center: personal access token {PORTAL_PAT}")
    print(f"  Control API: POST {sim.url}/_sim/<action>, GET {sim.url}/_sim/calls", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sim.stop()


def _seed(sim):
    """One demo issue, so sync and comments have something to show."""
    from .validate import check_create
    state = sim.state
    account = state.accounts[PORTAL_EMAIL]
    project, issue_type, fields = check_create(state, account, {"fields": {
        "project": {"key": "SUP"}, "issuetype": {"id": "10002"},
        "summary": "Demo: cannot get a token for the Payments API"}}, 3)
    state.new_issue(project, issue_type, fields, account)


if __name__ == "__main__":
    main()
