"""Throttling of failed log-ins, shared by every process through the database.

The source is locked, not the account: failures for an e-mail from one address lock that
address out of that account (and many failures from an address lock it out of every
account), so nobody can lock a person out of their own account from somewhere else."""
import math
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import LoginFailure, utcnow

PER_ADDRESS_FACTOR = 4  # an address may try a few accounts, not hundreds


def minutes_locked(email, remote_addr):
    """Minutes until this address may try this e-mail again; 0 when it may now."""
    window = timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    since = utcnow() - window
    from_here = LoginFailure.remote_addr == remote_addr
    for condition, allowed in (
        (from_here & (LoginFailure.email == email), limit),
        (from_here, limit * PER_ADDRESS_FACTOR),
    ):
        count, oldest = db.session.execute(
            select(func.count(), func.min(LoginFailure.created_at))
            .where(condition, LoginFailure.created_at >= since)
        ).one()
        if count >= allowed:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=since.tzinfo)
            return max(1, math.ceil((oldest + window - utcnow()).total_seconds() / 60))
    return 0


def record_failure(email, remote_addr):
    db.session.add(LoginFailure(email=email, remote_addr=remote_addr))
    # Old rows are useless: prune them while we are here.
    cutoff = utcnow() - timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    db.session.execute(delete(LoginFailure).where(LoginFailure.created_at < cutoff))
    db.session.commit()


def clear_failures(email, remote_addr):
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == email,
                                                  LoginFailure.remote_addr == remote_addr))
