"""suppliers_deliver_on_time, run by Dagster against supplier_performance built by dbt from
planted purchase orders and receipts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg
import pytest

from dagster_project.core.ingest import ingest_records
from dagster_project.core.inventory.refresh import refresh
from dagster_project.core.settings import Settings
from dagster_project.defs.inventory.checks import suppliers_deliver_on_time

AS_OF = datetime(2026, 11, 9, tzinfo=UTC)
CHECK = dg.AssetCheckKey(
    dg.AssetKey(["marts", "supplier_performance"]), "suppliers_deliver_on_time"
)


def at(days_ago: float) -> str:
    return (AS_OF - timedelta(days=days_ago)).isoformat()


def line(po_id: str, supplier: str, ordered: float, promised: float) -> dict:
    return {
        "po_id": po_id,
        "line_id": "1",
        "supplier_id": supplier,
        "sku_id": "S1",
        "location_id": "L1",
        "ordered_qty": 10,
        "ordered_at": at(ordered),
        "promised_at": at(promised),
        "status": "open",
    }


def receipt(po_id: str, days_ago: float) -> dict:
    return {
        "event_id": f"R-{po_id}",
        "event_type": "receipt",
        "sku_id": "S1",
        "location_id": "L1",
        "qty_delta": 10,
        "unit_cost": 1,
        "event_ts": at(days_ago),
        "reference_id": po_id,
    }


# SUPA in the last 90 days: PA1 in full 5 days ago, promised 4 days ago (on time); PA2 in full
# 3 days ago, promised 6 days ago (late): 1 of 2 = 50%, below 90%. POLD came late 100 days ago,
# out of the window: neither in the rate nor in the late lines. SUPB: PB1 on time, 100%.
LINES = [
    line("PA1", "SUPA", ordered=8, promised=4),
    line("PA2", "SUPA", ordered=8, promised=6),
    line("POLD", "SUPA", ordered=110, promised=105),
    line("PB1", "SUPB", ordered=8, promised=4),
]
RECEIPTS = [receipt("PA1", 5), receipt("PA2", 3), receipt("POLD", 100), receipt("PB1", 5)]


@pytest.fixture
def planted(conn: psycopg.Connection, settings: Settings) -> None:
    assert ingest_records(conn, "po", LINES, "supplier lines").accepted == len(LINES)
    assert ingest_records(conn, "wms", RECEIPTS, "supplier receipts").accepted == len(RECEIPTS)
    refresh(settings, as_of=AS_OF)


def run_check() -> dg.AssetCheckEvaluation:
    job = dg.define_asset_job("supplier_check_job", selection=dg.AssetSelection.checks(CHECK))
    defs = dg.Definitions(asset_checks=[suppliers_deliver_on_time], jobs=[job])
    result = defs.resolve_job_def("supplier_check_job").execute_in_process()
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def test_a_supplier_below_the_target_warns_with_its_late_lines(planted) -> None:
    evaluation = run_check()

    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    metadata = evaluation.metadata
    assert metadata["target_pct"].value == 90
    assert metadata["unexpected_count"].value == 1
    # supplier_id, lines, judged, on time, on_time_pct, mean lead time ((3 + 5) / 2 days)
    assert "| SUPA | 2 | 2 | 1 | 50 | 4 |" in metadata["offending_rows"].value
    assert "SUPB" not in metadata["offending_rows"].value
    assert metadata["late_lines_count"].value == 1
    late = metadata["late_lines"].value
    assert "| SUPA | PA2 | 1 | S1 | L1 |" in late
    assert "PA1" not in late and "POLD" not in late


def test_the_target_is_a_setting(planted, monkeypatch) -> None:
    monkeypatch.setenv("INVENTORY_SUPPLIER_ON_TIME_TARGET_PCT", "50")
    evaluation = run_check()  # SUPA's 50% is not below 50%
    assert evaluation.passed
    assert evaluation.metadata["unexpected_count"].value == 0
    assert "offending_rows" not in evaluation.metadata


def test_the_loaded_definitions_run_it_after_refreshes() -> None:
    from dagster_project.definitions import defs

    graph = defs().resolve_asset_graph()
    assert CHECK in graph.asset_check_keys
    assert graph.get(CHECK).automation_condition is not None
