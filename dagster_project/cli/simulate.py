"""`inventory simulate`: a seeded week of a plant as files, or a live feed into the database."""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import psycopg
import typer

from dagster_project.cli.common import err, fail, out, ready_connection, report, totals
from dagster_project.core.db.roles import INGEST
from dagster_project.core.erp.database import connect_erp
from dagster_project.core.ingest import BatchResult, InputFile, ingest_file, ingest_records
from dagster_project.core.settings import Settings, get_settings
from dagster_project.core.simulate import SimConfig, generate, live_records, write_workload
from dagster_project.core.simulate.planner import Request

# Reference data first, so units and SKUs are known when the events arrive; counts last.
LOAD_ORDER = (
    ("skus", "skus.csv"),
    ("uom", "uom_conversions.csv"),
    ("sku-params", "sku_params.csv"),
    ("wms", "wms_events.jsonl"),
    ("mes", "mes_events.jsonl"),
    ("orders", "order_lines.jsonl"),
    ("counts", "physical_counts.csv"),
)
# Inputs a folder may hold or not (a workload from before purchase orders has none): name ->
# the spellings looked for, the first found is loaded.
OPTIONAL_FILES = (("po", ("purchase_orders.jsonl", "purchase_orders.csv")),)
TIMESTAMP_FIELDS = ("event_ts", "order_ts", "updated_at")
# How often the live planner looks at the ERP's open replenishment requests.
ERP_POLL_SECONDS = 10.0


class ErpRequests:
    """The ERP's open replenishment requests, read at most every ERP_POLL_SECONDS; none in
    between, and none (said once) while the ERP database cannot be read."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.next_poll = 0.0
        self.warned = False

    def __call__(self) -> list[Request]:
        if time.monotonic() < self.next_poll:
            return []
        self.next_poll = time.monotonic() + ERP_POLL_SECONDS
        try:
            with connect_erp(self.settings) as erp:
                rows = erp.execute(
                    "select request_id, sku_id, location_id, suggested_order_qty"
                    " from erp.replenishment_requests where status = 'open' order by request_id"
                ).fetchall()
        except psycopg.Error as exc:
            if not self.warned:
                self.warned = True
                err.print(f"live: the ERP cannot be read yet, no purchase orders from it: {exc}")
            return []
        return [Request(rid, sku, loc, float(qty)) for rid, sku, loc, qty in rows]


def load_directory(conn: psycopg.Connection, folder: Path) -> list[BatchResult]:
    """Load a simulated workload folder in dependency order."""
    results = []
    for source, name in LOAD_ORDER:
        path = folder / name
        if not path.exists() and (folder / f"{name}.gz").exists():
            path = folder / f"{name}.gz"
        results.append(ingest_file(conn, source, InputFile.from_arg(str(path))))
    for source, names in OPTIONAL_FILES:
        found = [
            folder / f for name in names for f in (name, f"{name}.gz") if (folder / f).exists()
        ]
        if found:
            results.append(ingest_file(conn, source, InputFile.from_arg(str(found[0]))))
    return results


class PoStamps:
    """A live PO line's instants on the wall clock: ordered when its first version is sent, and
    promised after its simulated lead time shrunk as the feed shrinks simulated time (the
    deliveries come through the same feed), so on-time rates keep their meaning."""

    def __init__(self, start: datetime, wall_start: float) -> None:
        self.start, self.wall_start = start, wall_start
        self.lines: dict[tuple, tuple[str, str | None]] = {}

    def restamp(self, record: dict, now: datetime) -> dict:
        key = (record["po_id"], record["line_id"])
        if key not in self.lines:
            ordered = datetime.fromisoformat(record["ordered_at"])
            promised = record.get("promised_at")
            if promised is not None:
                shrink = self._shrink(ordered)
                promised = (now + (datetime.fromisoformat(promised) - ordered) * shrink).isoformat()
            self.lines[key] = (now.isoformat(), promised)
        ordered_at, promised_at = self.lines[key]
        return {**record, "ordered_at": ordered_at, "promised_at": promised_at}

    def _shrink(self, simulated: datetime) -> float:
        elapsed = (simulated - self.start).total_seconds()
        if elapsed < 3600:  # too early to tell: as simulated
            return 1.0
        return min(1.0, (time.monotonic() - self.wall_start) / elapsed)


def stream_live(
    conn: psycopg.Connection,
    cfg: SimConfig,
    rate: float,
    seconds: float | None,
    requests: Callable[[], Iterable[Request]] | None = None,
) -> list[BatchResult]:
    """Feed `rate` events/s in small batches, stamped with the wall clock, until `seconds` pass.
    `requests` feeds the ERP's open replenishment requests to the plant's planner."""
    tick = 0.25
    start = datetime.now(UTC)
    feed = live_records(cfg, start, requests=requests)
    po_stamps = PoStamps(start, time.monotonic())
    results: list[BatchResult] = []
    started = last_note = time.monotonic()
    sent = 0
    while seconds is None or time.monotonic() - started < seconds:
        due = int(rate * (time.monotonic() - started + tick)) - sent
        batch: dict[str, list[dict]] = defaultdict(list)
        now = datetime.now(UTC)
        for i, (source, record) in enumerate(itertools.islice(feed, max(due, 0))):
            # a microsecond apart, so an order line's versions in one batch keep their order
            stamp = (now + timedelta(microseconds=i)).isoformat()
            if source == "po":
                record = po_stamps.restamp(record, now + timedelta(microseconds=i))
            batch[source].append({**record, **{f: stamp for f in TIMESTAMP_FIELDS if f in record}})
        for source, records in batch.items():
            results.append(ingest_records(conn, source, records, "simulate --live"))
            sent += len(records)
        if time.monotonic() - last_note >= 5:
            last_note = time.monotonic()
            summed = totals(results)
            err.print(
                f"live: {sent:,} sent · {summed['accepted']:,} accepted · "
                f"{sent / (last_note - started):,.0f} events/s"
            )
        time.sleep(max(0.0, started + (sent / rate) - time.monotonic()))
    return results


def simulate(
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="folder for the files (default: <state>/sim)")
    ] = None,
    seed: int = 42,
    days: int = 7,
    skus: Annotated[int, typer.Option(help="number of SKUs")] = 60,
    warehouses: int = 2,
    work_centers: int = 4,
    orders_per_day: Annotated[int, typer.Option(help="order lines per day (volume)")] = 400,
    bad_share: Annotated[float, typer.Option(help="share of bad records per stream")] = 0.02,
    duplicate_share: Annotated[float, typer.Option(help="share of re-sent records")] = 0.01,
    late_share: Annotated[float, typer.Option(help="share of late scanner events")] = 0.02,
    gzip: Annotated[bool, typer.Option(help="write .jsonl.gz")] = False,
    ingest: Annotated[bool, typer.Option(help="also load the files into the database")] = False,
    live: Annotated[bool, typer.Option(help="feed the database continuously instead")] = False,
    rate: Annotated[float, typer.Option(help="live: events per second")] = 1000.0,
    seconds: Annotated[float | None, typer.Option(help="live: stop after this long")] = None,
    erp_planner: Annotated[
        bool, typer.Option(help="live: order what the ERP's open replenishment requests ask for")
    ] = True,
) -> None:
    """Simulate a plant and its warehouses: reference data, events, bad records, duplicates."""
    start = datetime(2026, 11, 2, tzinfo=UTC)
    try:
        cfg = SimConfig(
            seed=seed,
            start=start,
            days=days,
            n_skus=skus,
            n_warehouses=warehouses,
            n_work_centers=work_centers,
            orders_per_day=orders_per_day,
            bad_share=0.0 if live else bad_share,
            duplicate_share=0.0 if live else duplicate_share,
            late_share=late_share,
        )
    except ValueError as exc:
        raise fail(str(exc)) from exc
    if live:
        with ready_connection(INGEST) as conn:
            try:
                results = stream_live(
                    conn, cfg, rate, seconds, ErpRequests(get_settings()) if erp_planner else None
                )
            except KeyboardInterrupt:
                results = []
        if results:
            report(results)
        return
    folder = out_dir or get_settings().state_dir / "sim"
    folder.mkdir(parents=True, exist_ok=True)
    manifest = write_workload(generate(cfg), folder, gzip=gzip)
    for name, counts in manifest["files"].items():
        out.print(
            f"{folder / name}: {counts['received']:,} records "
            f"({counts['quarantined']:,} bad, {counts['duplicates']:,} re-sent, "
            f"{counts['late']:,} late)"
        )
    if ingest:
        with ready_connection(INGEST) as conn:
            report(load_directory(conn, folder))
