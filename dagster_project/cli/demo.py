"""`inventory demo`: the main job on the embedded default, from nothing to a loaded week."""

from __future__ import annotations

from typing import Annotated

import psycopg
import typer
from rich.table import Table

from dagster_project.cli.common import err, out, ready_connection
from dagster_project.cli.simulate import load_directory
from dagster_project.ingest import BatchResult
from dagster_project.settings import get_settings
from dagster_project.simulate import SimConfig, generate, write_workload

# Values inside reasons (ids, numbers, instants) vary; the rule that fired does not.
REASON_SHAPE = r"'[^']*'|\"[^\"]*\"|(?<![A-Za-z0-9-])-?[0-9][0-9.:+TZ-]*"


def _batches_table(results: list[BatchResult]) -> Table:
    table = Table("source", "file", "received", "accepted", "duplicates", "quarantined", "s")
    for r in results:
        table.add_row(
            r.source,
            r.file.rsplit("/", 1)[-1],
            f"{r.received:,}",
            f"{r.accepted:,}",
            f"{r.duplicates:,}",
            f"{r.quarantined:,}",
            f"{r.seconds:.2f}",
        )
    return table


def _reasons_table(conn: psycopg.Connection) -> Table:
    rows = conn.execute(
        """
        select source, regexp_replace(reason, %s, '…', 'g') as rule, count(*)
        from raw.quarantine
        where resolved_at is null
        group by 1, 2
        order by 3 desc, 1, 2
        limit 15
        """,
        [REASON_SHAPE],
    ).fetchall()
    table = Table("source", "why records were quarantined", "records")
    for source, rule, n in rows:
        table.add_row(source, rule, f"{n:,}")
    return table


def _landing_table(conn: psycopg.Connection) -> Table:
    rows = conn.execute(
        """
        select 'wms_events', event_type, count(*) from raw.wms_events group by 2
        union all select 'mes_events', event_type, count(*) from raw.mes_events group by 2
        union all select 'order_lines', status, count(*) from raw.order_lines group by 2
        union all select 'physical_counts', '', count(*) from raw.physical_counts
        order by 1, 3 desc
        """
    ).fetchall()
    table = Table("table", "kind", "rows")
    for name, kind, n in rows:
        table.add_row(name, kind, f"{n:,}")
    return table


def demo(
    seed: Annotated[int, typer.Option(help="simulation seed")] = 42,
    orders_per_day: Annotated[int, typer.Option(help="order lines per day (volume)")] = 400,
) -> None:
    """Start the database, simulate a week of a plant, ingest it, and summarise what landed."""
    settings = get_settings()
    folder = settings.state_dir / "demo"
    err.print("[bold]1/3[/bold] starting the embedded database …")
    with ready_connection() as conn:
        err.print(f"[bold]2/3[/bold] simulating a week of a plant into {folder} …")
        folder.mkdir(parents=True, exist_ok=True)
        write_workload(generate(SimConfig(seed=seed, orders_per_day=orders_per_day)), folder)
        err.print("[bold]3/3[/bold] loading reference data and ingesting events …")
        results = load_directory(conn, folder)
        out.print(_batches_table(results))
        out.print(_reasons_table(conn))
        out.print(_landing_table(conn))
    out.print(
        "Re-running this command re-ingests the same files: every record is then a duplicate "
        "or an already-quarantined record, and nothing changes.\n"
        'Next: `inventory quarantine list`, `psql "$(inventory db url)"`.'
    )
