"""What every command shares: consoles, error exits, a ready database, batch reports."""

from __future__ import annotations

import json
from typing import Annotated

import psycopg
import typer
from rich.console import Console
from rich.markup import escape

from dagster_project.core.db import connect, ensure_database
from dagster_project.core.db.roles import TRANSFORM
from dagster_project.core.db.server import ServerError
from dagster_project.core.ingest import BatchResult
from dagster_project.core.settings import get_settings

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
if not out.is_terminal:
    out.width = 120  # tables piped to a file or a CI log need not fit 80 columns

JsonFlag = Annotated[bool, typer.Option("--json", help="print one JSON object")]
COUNT_KEYS = ("received", "accepted", "duplicates", "quarantined")


def fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


def ready_connection(role: str = TRANSFORM) -> psycopg.Connection:
    """A connection as `role` to a migrated database, starting the embedded server if that is
    the default."""
    settings = get_settings()
    try:
        ensure_database(settings)
        return connect(settings, role)
    except (ServerError, psycopg.OperationalError) as exc:
        raise fail(str(exc)) from exc


def totals(results: list[BatchResult]) -> dict[str, int]:
    return {k: sum(r.counts()[k] for r in results) for k in COUNT_KEYS}


def report(results: list[BatchResult], as_json: bool = False) -> None:
    summed = totals(results)
    if as_json:
        print(json.dumps(summed))
        return
    for r in results:
        rate = f", {r.received / r.seconds:,.0f} records/s" if r.received >= 10_000 else ""
        out.print(
            f"{escape(f'[{r.source}]')} {r.file}: received {r.received:,} · "
            f"accepted {r.accepted:,} · duplicates {r.duplicates:,} · "
            f"quarantined {r.quarantined:,} "
            f"[dim](batch {r.batch_id}, {r.seconds:.1f} s{rate})[/dim]"
        )
    if len(results) > 1:
        out.print(
            f"total: received {summed['received']:,} · accepted {summed['accepted']:,} · "
            f"duplicates {summed['duplicates']:,} · quarantined {summed['quarantined']:,}"
        )
    sources = sorted({r.source for r in results if r.quarantined})
    for source in sources:
        err.print(f"[yellow]reasons: `inventory quarantine list --source {source}`[/yellow]")
