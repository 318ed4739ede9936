"""`inventory demo`: the main job on the embedded default, from nothing to a loaded week."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import psycopg
import typer
from rich.table import Table

from dagster_project.cli.common import err, fail, out, ready_connection
from dagster_project.cli.erp_loop import loop_table, run_erp_loop
from dagster_project.cli.simulate import load_directory
from dagster_project.core.ingest import BatchResult
from dagster_project.core.inventory.refresh import DbtError, refresh
from dagster_project.core.settings import get_settings
from dagster_project.core.simulate import SimConfig, generate, write_workload

# Values inside reasons (ids, numbers, instants) vary; the rule that fired does not.
REASON_SHAPE = r"'[^']*'|\"[^\"]*\"|(?<![A-Za-z0-9-])-?[0-9][0-9.:+TZ-]*"


def _batches_table(results: list[BatchResult]) -> Table:
    table = Table(
        "source", "file", "received", "accepted", "duplicates", "quarantined", "s", title="Ingested"
    )
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
    table = Table("source", "why", "records", title="Quarantined, by rule")
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
    table = Table("table", "kind", "rows", title="Landed")
    for name, kind, n in rows:
        table.add_row(name, kind, f"{n:,}")
    return table


def _status_table(conn: psycopg.Connection) -> Table:
    rows = conn.execute(
        """
        select inventory_status, count(*), sum(available_qty)
        from marts.inventory_health
        group by 1
        order by array_position(
            array['stockout', 'below_safety_stock', 'reorder_now', 'overstock', 'healthy'],
            inventory_status
        )
        """
    ).fetchall()
    table = Table("status", "SKU-locations", "available units", title="Inventory health")
    for status, pairs, available in rows:
        table.add_row(status, f"{pairs:,}", f"{available:,.0f}")
    return table


def _alerts_table(conn: psycopg.Connection) -> Table:
    rows = conn.execute(
        """
        select sku_id, location_id, available_qty, reorder_point, suggested_order_qty,
            inventory_status
        from marts.reorder_alerts
        order by qty_below_rop, sku_id, location_id
        limit 10
        """
    ).fetchall()
    table = Table(
        "sku",
        "location",
        "available",
        "reorder point",
        "suggested order",
        "status",
        title="Top reorder alerts",
    )
    for sku, location, available, rop, suggested, status in rows:
        table.add_row(
            sku, location, f"{available:,.0f}", f"{rop:,.1f}", f"{suggested:,.0f}", status
        )
    return table


def _scrap_table(conn: psycopg.Connection) -> Table:
    rows = conn.execute(
        """
        select work_center_id, sku_id, window_start, scrap_qty_1h, started_qty_1h,
            scrap_rate_pct
        from marts.scrap_rate_alerts
        order by scrap_rate_pct desc, window_start
        limit 8
        """
    ).fetchall()
    table = Table(
        "work center", "sku", "hour (UTC)", "scrap", "started", "rate %", title="Scrap-rate alerts"
    )
    for wc, sku, start, scrap, started, rate in rows:
        table.add_row(wc, sku, f"{start:%a %H:%M}", f"{scrap:,.0f}", f"{started:,.0f}", f"{rate}")
    return table


def demo(
    seed: Annotated[int, typer.Option(help="simulation seed")] = 42,
    orders_per_day: Annotated[int, typer.Option(help="order lines per day (volume)")] = 400,
    serve: Annotated[
        bool,
        typer.Option(help="then keep the plant running: Dagster UI, stream worker, live events"),
    ] = False,
    port: Annotated[int, typer.Option(help="--serve: the Dagster UI's port")] = 3000,
    rate: Annotated[float, typer.Option(help="--serve: live events per second")] = 50.0,
) -> None:
    """Start the database, simulate a week of a plant, ingest it, summarise what landed, and run
    the ERP loop: purchase orders for the open replenishment requests, then their receipts.

    With --serve, go on live until Ctrl-C: the Dagster UI on 127.0.0.1, whose daemon starts the
    stream worker, and the simulator feeding new events into the database."""
    settings = get_settings()
    folder = settings.state_dir / "demo"
    cfg = SimConfig(seed=seed, orders_per_day=orders_per_day)
    week_end = cfg.start + timedelta(days=cfg.days)
    err.print("[bold]1/5[/bold] starting the embedded database …")
    with ready_connection() as conn:
        err.print(f"[bold]2/5[/bold] simulating a week of a plant into {folder} …")
        folder.mkdir(parents=True, exist_ok=True)
        workload = write_workload(generate(cfg), folder)
        err.print("[bold]3/5[/bold] loading reference data and ingesting events …")
        results = load_directory(conn, folder)
        out.print(_batches_table(results))
        out.print(_reasons_table(conn))
        out.print(_landing_table(conn))
        err.print(f"[bold]4/5[/bold] building the marts as of the end of the week ({week_end}) …")
        try:
            refresh(settings, as_of=week_end)
        except DbtError as exc:
            raise fail(str(exc)) from exc
        out.print(_status_table(conn))
        out.print(_alerts_table(conn))
        out.print(_scrap_table(conn))
        err.print(
            "[bold]5/5[/bold] the ERP loop: purchase orders for the open replenishment requests, "
            "then their receipts …"
        )
        try:
            counts, loop_results, again = run_erp_loop(
                settings, conn, cfg, folder / "erp_loop", workload
            )
        except DbtError as exc:
            raise fail(str(exc)) from exc
        out.print(_batches_table(loop_results))
        out.print(loop_table(counts))
        if again:
            out.print("(the loop ran before on this week: its files were re-ingested as they were)")
        if counts.stockouts_30d is None:
            out.print(
                "(stockouts in the last 30 days: the mart stockout_frequency_30d is not built)"
            )
    out.print(
        "Re-running this command re-ingests the same files: every record is then a duplicate "
        "or an already-quarantined record, and nothing changes.\n"
        "Next: `inventory quarantine list`, `inventory refresh`, "
        "`psql \"$(inventory db url)\" -c 'select * from marts.reorder_alerts'`."
    )
    if serve:
        from dagster_project.cli.live import serve_live

        serve_live(settings, port=port, rate=rate)
