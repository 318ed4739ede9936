"""Inventory data that puts a pair below its reorder point: no demand, static reorder points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from dagster_project.core.ingest import InputFile, ingest_file, ingest_records

SKUS = "sku_id,description,base_uom,abc_class\nS1,Bolt M8,EA,A\nS2,Steel coil,KG,B\n"
AS_OF = datetime(2026, 11, 9, tzinfo=UTC)
PARAMS_HEADER = (
    "sku_id,location_id,lead_time_days,lead_time_std_days,service_level,reorder_point,"
    "safety_stock,order_qty,order_multiple,min_order_qty,review_period_days,max_days_of_cover\n"
)
# No demand and static reorder points of 10: S1 orders in multiples of 5, S2 in single units.
PARAMS = PARAMS_HEADER + "S1,L1,,,,10,,,5,,,\nS2,L1,,,,10,,,,,,\n"


def load_params(conn: psycopg.Connection, tmp_path: Path) -> None:
    """The SKU master and the parameters, loaded from CSV files as a user would."""
    for source, text, rows in (("skus", SKUS, 2), ("sku-params", PARAMS, 2)):
        path = tmp_path / f"{source}.csv"
        path.write_text(text)
        assert ingest_file(conn, source, InputFile.from_arg(str(path))).accepted == rows


def wms(event_id: str, event_type: str, qty: int, sku: str = "S1", days_ago: int = 2) -> dict:
    record = {
        "event_id": event_id,
        "event_type": event_type,
        "sku_id": sku,
        "location_id": "L1",
        "qty_delta": qty,
        "event_ts": (AS_OF - timedelta(days=days_ago)).isoformat(),
    }
    if event_type == "receipt":
        record["unit_cost"] = 1
    return record


def ingest_wms(conn: psycopg.Connection, *records: dict) -> None:
    result = ingest_records(conn, "wms", records, "erp test")
    assert result.accepted == len(records), result
