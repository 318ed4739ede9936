"""One ingest batch in one transaction: all of a file lands (or is quarantined), or none."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import Copy
from psycopg.errors import StatementTooComplex

from dagster_project.core.db.locks import INGEST_LOCK
from dagster_project.core.ingest import statements
from dagster_project.core.ingest.sources import Source

COPY_LINES = "copy _in (raw) from stdin"
COPY_RECORDS = "copy _in (line_no, raw, payload, pre_error) from stdin"

Feed = Callable[[Copy], list[tuple[int, str]]]


@dataclass(frozen=True)
class BatchResult:
    source: str
    file: str
    batch_id: int
    received: int
    accepted: int
    duplicates: int
    quarantined: int
    first_seq: int | None
    last_seq: int | None
    seconds: float

    def counts(self) -> dict[str, int]:
        return {
            "received": self.received,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
        }


def run_batch(
    conn: psycopg.Connection,
    source: Source,
    label: str,
    feed: Feed,
    *,
    copy_sql: str = COPY_LINES,
    replay: bool = False,
) -> BatchResult:
    """Copy the input into a scratch table, judge each record in SQL, land it under the lock."""
    started = time.perf_counter()
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("set local timezone = 'UTC'")
        cur.execute(statements.CREATE_INPUT)
        with cur.copy(copy_sql) as copy:
            unreadable = feed(copy)
        if unreadable:
            cur.executemany(
                "update _in set pre_error = %s where line_no = %s",
                [(error, line_no) for line_no, error in unreadable],
            )
        try:
            with conn.transaction():
                cur.execute(statements.create_typed(source))
        except (psycopg.DataError, psycopg.errors.ProgramLimitExceeded, StatementTooComplex):
            # a number beyond `numeric` or JSON nested past the stack: judge again, line by line
            # safe, so that one record is refused instead of the batch
            cur.execute(statements.create_typed(source, careful=True))
        # The records read: `_typed` has a row per non-blank input line, counted as it is made,
        # before any is judged. The three outcomes are counted from `_judged`, so the database's
        # check received = accepted + duplicates + quarantined fails if a record is lost.
        received = cur.rowcount
        cur.execute("analyze _typed")

        cur.execute("select pg_advisory_xact_lock(%s)", [INGEST_LOCK])
        cur.execute(
            """
            insert into raw.ingest_batches
                (source, file, started_at, received, accepted, duplicates, quarantined, is_replay)
            values (%s, %s, now(), 0, 0, 0, 0, %s)
            returning batch_id
            """,
            [source.name, label, replay],
        )
        batch_id = cur.fetchone()[0]
        cur.execute(statements.create_judged(source))
        cur.execute("analyze _judged")
        accepted, duplicates, quarantined = cur.execute(statements.COUNTS).fetchone()

        first_seq = last_seq = None
        if source.is_event and accepted:
            first_seq = cur.execute("select nextval('raw.ingest_seq')").fetchone()[0]
            last_seq = first_seq + accepted - 1
            cur.execute("select setval('raw.ingest_seq', %s)", [last_seq])
        params = {
            "batch_id": batch_id,
            "first_seq": first_seq,
            "source": source.name,
            "file": label,
        }
        if accepted:
            cur.execute(statements.insert_landed(source), params)
        if replay:
            cur.execute(statements.RESOLVE_REPLAYED, params)
        elif quarantined:
            cur.execute(statements.QUARANTINE, params)
        cur.execute(
            """
            update raw.ingest_batches
            set received = %s, accepted = %s, duplicates = %s, quarantined = %s,
                first_seq = %s, last_seq = %s, finished_at = clock_timestamp()
            where batch_id = %s
            """,
            [
                received,
                accepted,
                duplicates,
                quarantined,
                first_seq,
                last_seq,
                batch_id,
            ],
        )
    return BatchResult(
        source=source.name,
        file=label,
        batch_id=batch_id,
        received=received,
        accepted=accepted,
        duplicates=duplicates,
        quarantined=quarantined,
        first_seq=first_seq,
        last_seq=last_seq,
        seconds=time.perf_counter() - started,
    )
