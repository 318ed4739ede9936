"""Loss-free ingestion: each record is accepted, counted as a duplicate, or quarantined."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping

import orjson
import psycopg

from dagster_project.core.ingest.batch import COPY_LINES, COPY_RECORDS, BatchResult, run_batch
from dagster_project.core.ingest.readers import InputFile, Progress, copy_jsonl, line_chunks
from dagster_project.core.ingest.sources import EVENT_SOURCES, REFERENCE_SOURCES, SOURCES, Source

__all__ = [
    "EVENT_SOURCES",
    "REFERENCE_SOURCES",
    "SOURCES",
    "BatchResult",
    "InputFile",
    "ingest_file",
    "ingest_lines",
    "ingest_records",
    "replay_quarantine",
]


def ingest_file(
    conn: psycopg.Connection, source: str, file: InputFile, progress: Progress | None = None
) -> BatchResult:
    copy_sql = COPY_RECORDS if file.format == "csv" else COPY_LINES
    return run_batch(
        conn, SOURCES[source], file.label, lambda copy: file.feed(copy, progress), copy_sql=copy_sql
    )


def ingest_records(
    conn: psycopg.Connection, source: str, records: Iterable[Mapping], label: str
) -> BatchResult:
    """Ingest in-memory records (the simulator's live mode) through the same checks as a file."""
    chunk = b"".join(orjson.dumps(r) + b"\n" for r in records)
    return run_batch(conn, SOURCES[source], label, lambda copy: copy_jsonl(copy, [chunk]))


def ingest_lines(conn: psycopg.Connection, source: str, body: bytes, label: str) -> BatchResult:
    """Ingest JSON Lines held in memory (an HTTP request's body) exactly as a file of them."""
    return run_batch(
        conn, SOURCES[source], label, lambda copy: copy_jsonl(copy, line_chunks(io.BytesIO(body)))
    )


def replay_quarantine(conn: psycopg.Connection, source: Source) -> BatchResult:
    """Judge the open quarantine of a source again, e.g. after a missing unit was loaded."""
    rows = conn.execute(
        """
        select quarantine_id, raw_text, payload, case when unreadable then reason end
        from raw.quarantine
        where source = %s and resolved_at is null
        order by quarantine_id
        """,
        [source.name],
    ).fetchall()

    def feed(copy) -> list:
        for row in rows:
            copy.write_row(row)
        return []

    return run_batch(conn, source, "quarantine replay", feed, copy_sql=COPY_RECORDS, replay=True)
