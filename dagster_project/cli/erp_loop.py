"""The demo's ERP loop: replenishment requests become purchase orders, then receipts.

After the week is in the marts: sync the ERP (as the stream worker does), let the simulated
planner order what the ERP's open requests ask for, ingest the POs, refresh and sync (the
on-order quantity takes the pairs out of the alerts, so their requests close), then ingest the
suppliers' deliveries, refresh at the last one and sync once more. The loop's records go to
`<demo>/erp_loop/` with a note of the workload they followed: a second demo run on the same
workload, into a database that holds them, re-ingests those files (every record a duplicate)
instead of planning against an ERP the first run already moved, so it changes nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import psycopg
from rich.table import Table

from dagster_project.core.erp import connect_erp, ensure_erp, sync_once
from dagster_project.core.ingest import BatchResult, InputFile, ingest_file
from dagster_project.core.inventory.refresh import refresh
from dagster_project.core.settings import Settings
from dagster_project.core.simulate import SimConfig
from dagster_project.core.simulate.planner import Request, follow_up

# In ingest order: the POs, then the deliveries (receipts before the lines they close).
FILES = (
    ("po", "purchase_orders_placed.jsonl"),
    ("wms", "receipts.jsonl"),
    ("po", "purchase_orders_closed.jsonl"),
)
NOTE = "loop.json"


@dataclass(frozen=True)
class LoopCounts:
    requests_opened: int  # by the sync after the week was built
    requests_open: int  # what the planner found open
    pos_placed: int
    receipts_matched: int  # PO lines the platform matched a receipt to, received in full
    alerts_closed: int  # requests closed by the syncs after the POs and after the receipts
    stockouts_30d: int | None  # None while the mart stockout_frequency_30d is not deployed


def run_erp_loop(
    settings: Settings, conn: psycopg.Connection, cfg: SimConfig, folder: Path, workload: dict
) -> tuple[LoopCounts, list[BatchResult], bool]:
    """Run the loop (or re-ingest its files when it already ran on this `workload`, the
    manifest write_workload returned). Returns the counts, the batches and whether it re-ran."""
    folder.mkdir(parents=True, exist_ok=True)
    note_path = folder / NOTE
    if note_path.exists():
        note = orjson.loads(note_path.read_bytes())
        if note["workload"] == workload and _landed(conn, note["po_ids"]):
            results = _ingest(conn, folder, FILES)
            refresh(settings, as_of=datetime.fromisoformat(note["received_at"]))
            ensure_erp(settings)
            sync_once(settings)
            return LoopCounts(**note["counts"]), results, True
    ensure_erp(settings)
    opened = sync_once(settings).opened
    with connect_erp(settings) as erp:
        requests = [
            Request(request_id, sku, location, float(qty))
            for request_id, sku, location, qty in erp.execute(
                "select request_id, sku_id, location_id, suggested_order_qty"
                " from erp.replenishment_requests where status = 'open' order by request_id"
            )
        ]
    week_end = cfg.start + timedelta(days=cfg.days)
    follow = follow_up(cfg, requests, week_end)
    placed = follow.placed.get("po", [])
    _write(folder / FILES[0][1], placed)
    _write(folder / FILES[1][1], follow.received.get("wms", []))
    _write(folder / FILES[2][1], follow.received.get("po", []))
    results = _ingest(conn, folder, FILES[:1])
    refresh(settings, as_of=_instant(follow.placed_at_ms))
    closed = sync_once(settings).closed
    results += _ingest(conn, folder, FILES[1:])
    received_at = _instant(follow.received_at_ms)
    refresh(settings, as_of=received_at)
    closed += sync_once(settings).closed
    counts = LoopCounts(
        requests_opened=opened,
        requests_open=len(requests),
        pos_placed=len(placed),
        receipts_matched=_received_in_full(conn, [r["po_id"] for r in placed]),
        alerts_closed=closed,
        stockouts_30d=_stockouts(conn),
    )
    note_path.write_bytes(
        orjson.dumps(
            {
                "workload": workload,
                "po_ids": [r["po_id"] for r in placed],
                "received_at": received_at.isoformat(),
                "counts": asdict(counts),
            },
            option=orjson.OPT_INDENT_2,
        )
    )
    return counts, results, False


def loop_table(counts: LoopCounts) -> Table:
    table = Table("step", "count", title="ERP loop")
    table.add_row("replenishment requests opened", f"{counts.requests_opened:,}")
    table.add_row("purchase orders placed (for the open requests)", f"{counts.pos_placed:,}")
    table.add_row("receipts matched to their PO line", f"{counts.receipts_matched:,}")
    table.add_row("alerts closed (requests closed)", f"{counts.alerts_closed:,}")
    if counts.stockouts_30d is not None:
        table.add_row("stockouts in the last 30 days", f"{counts.stockouts_30d:,}")
    return table


def _instant(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _write(path: Path, records: list[dict]) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))


def _ingest(
    conn: psycopg.Connection, folder: Path, files: tuple[tuple[str, str], ...]
) -> list[BatchResult]:
    return [ingest_file(conn, s, InputFile.from_arg(str(folder / name))) for s, name in files]


def _landed(conn: psycopg.Connection, po_ids: list[str]) -> bool:
    """Whether this database holds the loop's POs already (not so after a reset); a loop that
    placed none is run again, as there is nothing to tell it ran."""
    if not po_ids:
        return False
    (n,) = conn.execute(
        "select count(distinct po_id) from raw.purchase_orders where po_id = any(%s)", [po_ids]
    ).fetchone()
    return n == len(po_ids)


def _received_in_full(conn: psycopg.Connection, po_ids: list[str]) -> int:
    """The platform's own matching of receipts to PO lines (reference_id, sku, location)."""
    (n,) = conn.execute(
        "select count(*) from intermediate.int_purchase_order_lines"
        " where po_id = any(%s) and received_qty >= ordered_qty",
        [po_ids],
    ).fetchone()
    return n


def _stockouts(conn: psycopg.Connection) -> int | None:
    (exists,) = conn.execute("select to_regclass('marts.stockout_frequency_30d')").fetchone()
    if exists is None:
        return None
    (n,) = conn.execute(
        "select coalesce(sum(stockouts_30d), 0) from marts.stockout_frequency_30d"
    ).fetchone()
    return int(n)
