"""The sync's shared state in `app_state`: its cursor, and a lease so runs never overlap.

Both live in the database, not in Redis, so they hold across every process that can run a
sync: RQ workers, the embedded web process and `flask jira sync` on any machine.
"""
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ..extensions import db
from ..models import AppState, utcnow

CURSOR = "sync:cursor"  # the incremental sync reads what changed since then, UTC ISO
LEASE = "sync:lease"    # until when a run holds the sync, UTC ISO; "" when free
RECONCILE = "sync:reconcile"  # the reconcile run in flight (ReconcileRun as JSON); "" when none
STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"  # one fixed width, so stored stamps compare as text


REFRESH = "sync:refresh:"  # + issue id: a webhook refresh is enqueued and has not started yet
REFRESH_COALESCE_SECONDS = 60  # a refresh that never started (a lost job) stops counting then


def claim_refresh(issue_id):
    """True when a refresh of this issue should be enqueued: none is waiting already. A burst
    of webhooks (ten comments in a row) makes one refresh."""
    key = REFRESH + issue_id
    now = utcnow()
    waiting = db.session.get(AppState, key)
    if waiting is not None and waiting.value >= (now - timedelta(seconds=REFRESH_COALESCE_SECONDS)).strftime(STAMP):
        return False
    AppState.ensure(key)
    db.session.execute(update(AppState).where(AppState.key == key).values(value=now.strftime(STAMP))
                       .execution_options(synchronize_session=False))
    db.session.commit()
    return True


def refresh_started(issue_id):
    """The refresh is running: a change from now on needs a refresh of its own."""
    db.session.execute(update(AppState).where(AppState.key == REFRESH + issue_id).values(value="")
                       .execution_options(synchronize_session=False))
    db.session.commit()


def read_cursor():
    value = db.session.scalar(select(AppState.value).where(AppState.key == CURSOR))
    return datetime.fromisoformat(value) if value else None


def write_cursor(started):
    row = db.session.get(AppState, CURSOR) or AppState(key=CURSOR)
    row.value = started.isoformat()
    db.session.add(row)


@dataclass(frozen=True)
class ReconcileRun:
    """A full reconcile under way: its parts (jobs) check the tracked issues in id order."""

    started: str  # when the run started, UTC ISO: the cursor once its last part is done
    after: str    # the last tracked issue id checked; "" before the first batch
    moved_at: str  # when a batch was last checked (STAMP); "" when a part failed

    @property
    def started_at(self):
        return datetime.fromisoformat(self.started)

    def stalled(self, lost_before):
        """Its last part failed, or none has moved it on since `lost_before` (its job was
        lost: queue.lost_before): a new reconcile resumes it rather than waiting."""
        return self.moved_at < lost_before.strftime(STAMP)


def reconcile_run():
    """The ReconcileRun in flight, or None."""
    value = db.session.scalar(select(AppState.value).where(AppState.key == RECONCILE))
    return ReconcileRun(**json.loads(value)) if value else None


def save_reconcile_run(started, after="", failed=False):
    """Record how far the run got (commits); returns it."""
    run = ReconcileRun(started, after, "" if failed else utcnow().strftime(STAMP))
    row = db.session.get(AppState, RECONCILE) or AppState(key=RECONCILE)
    row.value = json.dumps(asdict(run))
    db.session.add(row)
    db.session.commit()
    return run


def end_reconcile_run(run):
    """Its last part is done: everything tracked is fresh as of its start, so the cursor
    moves there, unless an incremental sync has taken it further meanwhile (commits)."""
    cursor = read_cursor()
    write_cursor(run.started_at if cursor is None else max(cursor, run.started_at))
    db.session.get(AppState, RECONCILE).value = ""
    db.session.commit()


class Lease:
    """The right to run the sync until `token` (a UTC stamp), renewed as the run goes on."""

    def __init__(self, token, seconds):
        self.token, self.seconds = token, seconds

    def renew(self):
        """Extend the lease (between pages of a long run)."""
        renewed = _expiry(self.seconds)
        db.session.execute(
            update(AppState).where(AppState.key == LEASE, AppState.value == self.token)
            .values(value=renewed).execution_options(synchronize_session=False)
        )
        db.session.commit()
        self.token = renewed

    def release(self):
        db.session.rollback()  # whatever failed must not be committed with the release
        db.session.execute(
            update(AppState).where(AppState.key == LEASE, AppState.value == self.token)
            .values(value="").execution_options(synchronize_session=False)
        )
        db.session.commit()


def take_lease(seconds):
    """A Lease when this run may sync now, else None (another run holds it).

    One conditional UPDATE: of two runs racing for a free or lapsed lease, one wins."""
    AppState.ensure(LEASE)
    token = _expiry(seconds)
    taken = db.session.execute(
        update(AppState).where(AppState.key == LEASE, AppState.value < utcnow().strftime(STAMP))
        .values(value=token).execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return Lease(token, seconds) if taken == 1 else None


def _expiry(seconds):
    return (utcnow() + timedelta(seconds=seconds)).strftime(STAMP)
