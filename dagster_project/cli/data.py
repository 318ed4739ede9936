"""`inventory ingest`, `load` and `quarantine`: getting records in, losing none."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from dagster_project.cli.common import JsonFlag, err, fail, out, ready_connection, report
from dagster_project.core.db.roles import INGEST
from dagster_project.core.ingest import (
    EVENT_SOURCES,
    REFERENCE_SOURCES,
    SOURCES,
    BatchResult,
    InputFile,
    ingest_file,
    replay_quarantine,
)
from dagster_project.core.ingest.readers import InputError

quarantine_app = typer.Typer(no_args_is_help=True, help="Records that were not accepted.")


def _progress_bar(file: InputFile) -> Progress | None:
    size = file.size
    if size is None or size < (8 << 20) or not err.is_terminal:
        return None
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


def run_files(source: str, paths: list[str], fmt: str | None, as_json: bool) -> None:
    try:
        files = [InputFile.from_arg(p, fmt) for p in paths]
    except ValueError as exc:
        raise fail(str(exc)) from exc
    missing = [f.path for f in files if f.path != "-" and not Path(f.path).is_file()]
    if missing:
        raise fail(f"no such file: {', '.join(missing)}")
    results = []
    with ready_connection(INGEST) as conn:
        try:
            for file in files:
                results.append(_ingest_one(conn, source, file))
        except InputError as exc:
            # the batch of this file rolled back; earlier files stay landed and are reported
            if results:
                report(results, as_json)
            raise fail(str(exc)) from exc
    report(results, as_json)


def _ingest_one(conn, source: str, file: InputFile) -> BatchResult:
    bar = _progress_bar(file)
    if bar is None:
        return ingest_file(conn, source, file)
    with bar:
        advance = functools.partial(bar.update, bar.add_task(Path(file.path).name, total=file.size))
        return ingest_file(conn, source, file, lambda pos, a=advance: a(completed=pos))


def ingest(
    source: Annotated[str, typer.Argument(help=f"one of: {', '.join(EVENT_SOURCES)}")],
    paths: Annotated[list[str], typer.Argument(help="JSON Lines or CSV (.gz ok), - for stdin")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="jsonl or csv (default: by extension)")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Ingest event files; each file is one atomic batch."""
    if source not in EVENT_SOURCES:
        raise fail(f"unknown source {source!r}: expected one of {', '.join(EVENT_SOURCES)}")
    run_files(source, paths, fmt, as_json)


def load(
    kind: Annotated[str, typer.Argument(help=f"one of: {', '.join(REFERENCE_SOURCES)}")],
    path: Annotated[str, typer.Argument(help="a CSV file with a header row (.gz ok), - for stdin")],
    as_json: JsonFlag = False,
) -> None:
    """Load reference data from CSV: SKUs, parameters and units upsert; counts append."""
    if kind not in REFERENCE_SOURCES:
        raise fail(f"unknown kind {kind!r}: expected one of {', '.join(REFERENCE_SOURCES)}")
    run_files(kind, [path], "csv", as_json)


@quarantine_app.command("list")
def quarantine_list(
    source: Annotated[str | None, typer.Option(help="only this source")] = None,
    limit: Annotated[int, typer.Option(help="at most this many rows")] = 20,
    include_resolved: Annotated[
        bool, typer.Option("--all", help="include records accepted on replay")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """The newest quarantined records with their reasons."""
    with ready_connection(INGEST) as conn:
        rows = conn.execute(
            """
            select quarantine_id, source, file, line_no, reason, raw_text, resolution
            from raw.quarantine
            where (%(source)s::text is null or source = %(source)s)
                and (%(all)s or resolved_at is null)
            order by quarantine_id desc
            limit %(limit)s
            """,
            {"source": source, "all": include_resolved, "limit": limit},
        ).fetchall()
        still_open = conn.execute(
            "select source, count(*) from raw.quarantine where resolved_at is null"
            " group by 1 order by 1"
        ).fetchall()
    if as_json:
        keys = ("quarantine_id", "source", "file", "line_no", "reason", "raw_text", "resolution")
        print(json.dumps([dict(zip(keys, row, strict=True)) for row in rows]))
        return
    table = Table("id", "source", "where", "reason", "raw text")
    for qid, src, file, line_no, reason, raw, resolution in rows:
        text = raw if len(raw) <= 60 else raw[:57] + "..."
        note = f" [{resolution}]" if resolution else ""
        table.add_row(str(qid), src, f"{file}:{line_no}", reason + note, text)
    out.print(table)
    out.print("open in quarantine: " + (", ".join(f"{s} {n:,}" for s, n in still_open) or "none"))


@quarantine_app.command("replay")
def quarantine_replay(
    source: Annotated[str | None, typer.Option(help="only this source")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Judge open quarantined records again (after reference data was fixed)."""
    if source is not None and source not in SOURCES:
        raise fail(f"unknown source {source!r}: expected one of {', '.join(SOURCES)}")
    with ready_connection(INGEST) as conn:
        names = (
            [source]
            if source
            else [
                name
                for (name,) in conn.execute(
                    "select distinct source from raw.quarantine"
                    " where resolved_at is null order by 1"
                )
            ]
        )
        results = [replay_quarantine(conn, SOURCES[name]) for name in names]
    report(results, as_json)
