"""Who may write what, across processes: every advisory lock key the platform takes, and the
refresh lease (migrations/0007_state_writers.sql).

A key is taken in Python, or in SQL that migrations already applied carry as a literal: those
are checksummed and never edited, so the SQL's numbers are kept here and
tests/db/test_locks.py checks that every number the SQL takes is one of these keys. All keys
are distinct, though the ERP's are taken in another database.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dagster_project.core.settings import Settings

log = logging.getLogger(__name__)

# -- the platform database
# Migrations, and the starters' writes to the role catalog (connection.ensure_database): one at
# a time, concurrent catalog updates fail the second writer.
MIGRATION_LOCK = 7_300_001
# One ingest at a time keeps ingest_seq in commit order; the nightly validation takes it too.
INGEST_LOCK = 7_300_002
# One stream worker per database: two would race each other for the same ticks.
STREAM_LOCK = 7_300_004
# In SQL, ops.swap_in (migration 0007): one swap at a time, or two swaps locking views they share
# would deadlock each other.
SWAP_LOCK = 7_300_005
# One deployment at a time (core/inventory/deploy.py): two would build into the same deploy_*
# schemas.
DEPLOY_LOCK = 7_300_006
# Also in SQL, reconciliation.open_decisions and close_decision (migrations 0006 and 0008, whose
# comments call it counts.py's LOCK_KEY): one decider at a time, so their order check holds.
DECISION_LOCK = 7_300_201
# One delivery of approved adjustments to the ERP at a time (reconciliation/erp.py).
ADJUSTMENT_DELIVERY_LOCK = 7_300_202

# -- the ERP database
# Its migrations and the reader's grants (erp/database.py).
ERP_SCHEMA_LOCK = 7_300_101
# Two sinks never interleave: a second one waits, then plans against the first one's rows.
ERP_SINK_LOCK = 7_300_102

# Set, not read, for dbt: through it a platform process tells the dbt it starts (in-process or as
# a subprocess, as Dagster does) that it holds the refresh lease for it.
LEASE_ENV = "INVENTORY_REFRESH_LEASE"

# The lease this process holds, if any: a refresh inside a block that holds it (the worker's
# tick around its Refresher) does not wait for itself.
_held: str | None = None


class RefreshBusy(RuntimeError):
    """Another writer holds the refresh lease and the caller asked not to wait."""


@contextmanager
def advisory_lock(settings: Settings, key: int, *, wait: bool = True) -> Iterator[bool]:
    """Hold lock `key` for the block on a connection of its own; yield whether it was taken.

    With wait=False a lock held elsewhere yields False at once instead of blocking. The lock goes
    with the connection, so a process killed inside the block releases it too.
    """
    # on use: connection.py imports this module's keys
    from dagster_project.core.db.connection import connect

    conn = connect(settings)
    try:
        if wait:
            conn.execute("select pg_advisory_lock(%s)", [key])
            taken = True
        else:
            taken = conn.execute("select pg_try_advisory_lock(%s)", [key]).fetchone()[0]
        yield taken
    finally:
        conn.close()


def held_lease() -> str | None:
    """The holder name of the refresh lease this process holds, if it holds it."""
    return _held


def lease_holder_name(role: str) -> str:
    """A holder name that says who to wait for: the role, host and pid."""
    return f"{role} (pid {os.getpid()} on {socket.gethostname()})"


@contextmanager
def refresh_lease(
    settings: Settings,
    role: str,
    *,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[bool]:
    """Hold the one lease on the incrementally kept state for the block; yield whether taken.

    Two overlapping incremental runs would both add the same events to the stored totals, and
    the clock of one would move the other's instant. A writer that finds the lease held waits,
    telling `on_wait` (or the log) once for whom, or with wait=False yields False at once. The
    lease lives as long as this block's connection: a killed process frees it. dbt runs started
    inside the block find the holder's name in the environment and check it at every model.
    """
    global _held
    if _held is not None:
        yield True
        return
    from dagster_project.core.db.connection import connect

    holder = lease_holder_name(role)
    conn = connect(settings)
    told = False
    try:
        while True:
            lease_holder, since, taken = conn.execute(
                "select * from ops.try_refresh_lease(%s, pg_backend_pid())", [holder]
            ).fetchone()
            if taken:
                break
            held = f"the refresh is held by {lease_holder} since {since:%Y-%m-%d %H:%M:%S}"
            if not wait:
                (on_wait or log.info)(held)
                yield False
                return
            if not told:
                (on_wait or log.warning)(f"waiting: {held}")
                told = True
            time.sleep(0.25)
        _held, os.environ[LEASE_ENV] = holder, holder
        try:
            yield True
        finally:
            _held = None
            os.environ.pop(LEASE_ENV, None)
            conn.execute("select ops.release_refresh_lease(%s)", [holder])
    finally:
        conn.close()
