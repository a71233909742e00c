"""`flask jira sync [--full]`: run the status and comment sync now, in this process."""
import click
from flask.cli import AppGroup

jira = AppGroup("jira", help="Work with the Jira integration.")


@jira.command("sync")
@click.option("--full", is_flag=True, help="Check every tracked issue (the hourly reconcile), "
                                           "not only those updated since the last sync.")
def sync_command(full):
    """Bring Jira's status and comment changes into the portal now."""
    from . import reconcile, sync_changed
    from .runs import run_inline

    # Every part of the run here, one after another, rather than on the queue.
    summary = run_inline(reconcile(chain=False) if full else sync_changed(chain=False))
    if summary is None:
        raise click.ClickException(
            "Nothing was synced: the integration is passive or paused, no request has a Jira "
            "issue yet, Jira could not be reached (see the log), or another sync is running.")
    kind = "Full reconcile" if summary.full else "Sync"
    click.echo(f"{kind}: {summary.checked} tracked issue(s) checked, "
               f"{len(summary.changed)} changed.")
    for line in summary.changed:
        click.echo(f"  {line}")
