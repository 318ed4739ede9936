"""`inventory`: run the embedded database, ingest and load data, inspect quarantine, simulate."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from dagster_project.db import connect, database_url, ensure_database
from dagster_project.db.migrate import migrate
from dagster_project.db.server import EmbeddedServer, ServerError
from dagster_project.ingest import (
    EVENT_SOURCES,
    REFERENCE_SOURCES,
    SOURCES,
    BatchResult,
    InputFile,
    ingest_file,
    replay_quarantine,
)
from dagster_project.settings import get_settings

app = typer.Typer(no_args_is_help=True, help=__doc__, pretty_exceptions_show_locals=False)
db_app = typer.Typer(no_args_is_help=True, help="The platform database (embedded by default).")
quarantine_app = typer.Typer(no_args_is_help=True, help="Records that were not accepted.")
app.add_typer(db_app, name="db")
app.add_typer(quarantine_app, name="quarantine")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

EventSource = typer.Argument(help=f"one of: {', '.join(EVENT_SOURCES)}")
JsonFlag = Annotated[bool, typer.Option("--json", help="print one JSON object")]


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


def _ready():
    """Settings and a connection to a migrated database, starting the embedded server if needed."""
    settings = get_settings()
    try:
        ensure_database(settings)
        return connect(settings)
    except ServerError as exc:
        raise _fail(str(exc)) from exc


# --- db ---------------------------------------------------------------------------------------


@db_app.command("start")
def db_start() -> None:
    """Start the embedded server (idempotent) and apply migrations."""
    settings = get_settings()
    try:
        url = ensure_database(settings)
    except ServerError as exc:
        raise _fail(str(exc)) from exc
    where = "embedded server" if settings.uses_embedded else "INVENTORY_DATABASE_URL"
    err.print(f"database ready ({where}); `inventory db url` prints its URL")
    del url


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded server."""
    settings = get_settings()
    if not settings.uses_embedded:
        raise _fail("INVENTORY_DATABASE_URL is set: that server is not ours to stop")
    stopped = EmbeddedServer(settings).stop()
    err.print("stopped" if stopped else "not running")


@db_app.command("status")
def db_status(as_json: JsonFlag = False) -> None:
    """Whether the embedded server runs, where its data is, and its port."""
    settings = get_settings()
    if not settings.uses_embedded:
        report = {"mode": "external", "running": None, "url_from": "INVENTORY_DATABASE_URL"}
    else:
        status = EmbeddedServer(settings).status()
        report = {
            "mode": "embedded",
            "running": status.running,
            "pid": status.pid,
            "port": status.info.port if status.info else None,
            "data_dir": str(status.pgdata),
        }
    if as_json:
        out.print_json(data=report)
    else:
        for key, value in report.items():
            out.print(f"{key:>9}: {value}")
    if report["running"] is False:
        raise typer.Exit(1)


@db_app.command("url")
def db_url() -> None:
    """Print a libpq URL of the platform database (for psql, dbt, psycopg2)."""
    try:
        print(database_url(get_settings()))
    except ServerError as exc:
        raise _fail(str(exc)) from exc


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations (db start does this too)."""
    settings = get_settings()
    with connect(settings) as conn:
        applied = migrate(conn)
    err.print(
        f"applied {len(applied)} migration(s)"
        + "".join(f"\n  {m.version:04d}_{m.name}" for m in applied)
    )


# --- ingest and load --------------------------------------------------------------------------


def _progress_bar(file: InputFile):
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


def _run_files(source: str, paths: list[str], fmt: str | None, as_json: bool) -> None:
    try:
        files = [InputFile.from_arg(p, fmt) for p in paths]
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    missing = [f.path for f in files if f.path != "-" and not Path(f.path).is_file()]
    if missing:
        raise _fail(f"no such file: {', '.join(missing)}")
    results = []
    with _ready() as conn:
        for file in files:
            bar = _progress_bar(file)
            if bar is None:
                results.append(ingest_file(conn, source, file))
                continue
            with bar:
                task = bar.add_task(Path(file.path).name, total=file.size)
                advance = functools.partial(bar.update, task)
                results.append(
                    ingest_file(conn, source, file, lambda pos, a=advance: a(completed=pos))
                )
    _report(results, as_json)


def _report(results: list[BatchResult], as_json: bool) -> None:
    totals = {
        k: sum(r.counts()[k] for r in results)
        for k in ("received", "accepted", "duplicates", "quarantined")
    }
    if as_json:
        print(json.dumps(totals))
        return
    for r in results:
        rate = f", {r.received / r.seconds:,.0f} records/s" if r.received >= 10_000 else ""
        out.print(
            f"{escape(f'[{r.source}]')} {r.file}: received {r.received:,} · accepted {r.accepted:,} · "
            f"duplicates {r.duplicates:,} · quarantined {r.quarantined:,} "
            f"[dim](batch {r.batch_id}, {r.seconds:.1f} s{rate})[/dim]"
        )
    if len(results) > 1:
        out.print(
            f"total: received {totals['received']:,} · accepted {totals['accepted']:,} · "
            f"duplicates {totals['duplicates']:,} · quarantined {totals['quarantined']:,}"
        )
    if totals["quarantined"]:
        err.print(
            "[yellow]see the reasons with "
            f"`inventory quarantine list --source {results[0].source}`[/yellow]"
        )


@app.command()
def ingest(
    source: Annotated[str, EventSource],
    paths: Annotated[
        list[str], typer.Argument(help="JSON Lines or CSV files (.gz ok), - for stdin")
    ],
    fmt: Annotated[
        str | None, typer.Option("--format", help="jsonl or csv (default: by extension)")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Ingest event files; each file is one atomic batch."""
    if source not in EVENT_SOURCES:
        raise _fail(f"unknown source {source!r}: expected one of {', '.join(EVENT_SOURCES)}")
    _run_files(source, paths, fmt, as_json)


@app.command()
def load(
    kind: Annotated[str, typer.Argument(help=f"one of: {', '.join(REFERENCE_SOURCES)}")],
    path: Annotated[str, typer.Argument(help="a CSV file with a header row (.gz ok), - for stdin")],
    as_json: JsonFlag = False,
) -> None:
    """Load reference data from CSV: SKUs, parameters and units upsert; counts append."""
    if kind not in REFERENCE_SOURCES:
        raise _fail(f"unknown kind {kind!r}: expected one of {', '.join(REFERENCE_SOURCES)}")
    _run_files(kind, [path], "csv", as_json)


# --- quarantine -------------------------------------------------------------------------------


@quarantine_app.command("list")
def quarantine_list(
    source: Annotated[str | None, typer.Option(help="only this source")] = None,
    limit: Annotated[int, typer.Option(help="at most this many rows")] = 20,
    include_resolved: Annotated[
        bool, typer.Option("--all", help="include replayed and accepted")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """The newest quarantined records with their reasons."""
    with _ready() as conn:
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
        open_by_source = conn.execute(
            "select source, count(*) from raw.quarantine where resolved_at is null"
            " group by 1 order by 1"
        ).fetchall()
    if as_json:
        keys = ("quarantine_id", "source", "file", "line_no", "reason", "raw_text", "resolution")
        print(json.dumps([dict(zip(keys, row, strict=True)) for row in rows]))
        return
    table = Table("id", "source", "where", "reason", "raw text", show_lines=False)
    for qid, src, file, line_no, reason, raw, resolution in rows:
        text = raw if len(raw) <= 60 else raw[:57] + "..."
        table.add_row(
            str(qid),
            src,
            f"{file}:{line_no}",
            reason + (f" [{resolution}]" if resolution else ""),
            text,
        )
    out.print(table)
    summary = ", ".join(f"{src} {n:,}" for src, n in open_by_source) or "none"
    out.print(f"open in quarantine: {summary}")


@quarantine_app.command("replay")
def quarantine_replay(
    source: Annotated[str | None, typer.Option(help="only this source")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Judge open quarantined records again (after reference data was fixed)."""
    if source is not None and source not in SOURCES:
        raise _fail(f"unknown source {source!r}: expected one of {', '.join(SOURCES)}")
    with _ready() as conn:
        names = (
            [source]
            if source
            else [
                s
                for (s,) in conn.execute(
                    "select distinct source from raw.quarantine where resolved_at is null"
                    " order by 1"
                )
            ]
        )
        results = [replay_quarantine(conn, SOURCES[name]) for name in names]
    _report(results, as_json)


def main() -> None:  # pragma: no cover - console entry for `python -m`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
