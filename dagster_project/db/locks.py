"""Session advisory locks that serialise work across processes on the platform database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster_project.db.connection import connect
from dagster_project.settings import Settings

# One writer of the incrementally kept state at a time: two overlapping incremental runs would
# both add the same events to the stored totals' snapshot and the later commit would drop some.
REFRESH_LOCK = 7_300_003
# One stream worker per database: two would race each other for the same ticks.
STREAM_LOCK = 7_300_004


@contextmanager
def advisory_lock(settings: Settings, key: int, *, wait: bool = True) -> Iterator[bool]:
    """Hold lock `key` for the block on a connection of its own; yield whether it was taken.

    With wait=False a lock held elsewhere yields False at once instead of blocking. The lock goes
    with the connection, so a process killed inside the block releases it too.
    """
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


def refresh_lock(settings: Settings, *, wait: bool = True):
    return advisory_lock(settings, REFRESH_LOCK, wait=wait)
