"""The quality checks, run by Dagster against marts that dbt built from planted events."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from dagster_project.core.ingest import InputFile, ingest_file, ingest_records
from dagster_project.core.inventory.refresh import Refresher
from dagster_project.core.quality.resources import InventoryDatabase
from dagster_project.core.settings import Settings
from dagster_project.defs.quality.checks import quality_checks

SKUS_CSV = "sku_id,description,base_uom,abc_class\nS1,Bolt M8,EA,A\nS2,Steel coil,KG,B\n"

AS_OF = datetime(2026, 11, 9, tzinfo=UTC)


def wms(event_id: str, event_type: str, sku: str, loc: str, qty: float, ago: timedelta) -> dict:
    event = {
        "event_id": event_id,
        "event_type": event_type,
        "sku_id": sku,
        "location_id": loc,
        "qty_delta": qty,
        "event_ts": (AS_OF - ago).isoformat(),
    }
    if event_type == "receipt":
        event["unit_cost"] = 2
    return event


# S1@L1: on hand 90 - 5 * 10 = 40, held 5, reserved 10; six movements with median 10, so the
# spike threshold is max(10 * 10, 100) = 100 and the 90 receipt is not a spike.
# S2@L2: on hand 50, two movements (too few to judge spikes).
CLEAN_WMS = [
    wms("R1", "receipt", "S1", "L1", 90, timedelta(days=3)),
    *(wms(f"I{i}", "issue", "S1", "L1", -10, timedelta(days=2, hours=i)) for i in range(5)),
    wms("H1", "hold", "S1", "L1", 5, timedelta(days=2)),
    wms("V1", "reserve", "S1", "L1", 10, timedelta(days=2)),
    wms("R2", "receipt", "S2", "L2", 30, timedelta(days=3)),
    wms("R3", "receipt", "S2", "L2", 20, timedelta(days=3)),
]
CLEAN_MES = [
    {
        "event_id": "M1",
        "order_id": "WO1",
        "sku_id": "S1",
        "work_center_id": "WC1",
        "event_type": "start",
        "qty": 5,
        "event_ts": (AS_OF - timedelta(days=1)).isoformat(),
    }
]
CLEAN_ORDERS = [
    {
        "order_id": "SO1",
        "line_id": "1",
        "sku_id": "S1",
        "location_id": "L1",
        "quantity": 3,
        "status": "completed",
        "order_ts": (AS_OF - timedelta(days=1)).isoformat(),
    }
]

Plant = Callable[..., None]


@pytest.fixture(scope="module")
def refresher(settings: Settings) -> Refresher:
    """What `refresh()` runs, with the project parsed once for the whole file instead of once
    per test: each test still builds every model from its own emptied database."""
    return Refresher(settings, role="inventory refresh", repeated=False)


@pytest.fixture
def plant(conn: psycopg.Connection, refresher: Refresher, tmp_path: Path) -> Plant:
    """Land the SKU master and the clean plant plus `extra_wms`, then build the marts."""

    def build(
        extra_wms: Iterable[dict] = (), with_skus: bool = True, with_mes: bool = True
    ) -> None:
        if with_skus:
            (tmp_path / "skus.csv").write_text(SKUS_CSV)
            assert (
                ingest_file(conn, "skus", InputFile.from_arg(str(tmp_path / "skus.csv"))).accepted
                == 2
            )
        ingest_records(conn, "wms", [*CLEAN_WMS, *extra_wms], "quality wms")
        if with_mes:
            ingest_records(conn, "mes", CLEAN_MES, "quality mes")
        ingest_records(conn, "orders", CLEAN_ORDERS, "quality orders")
        refresher.refresh(as_of=AS_OF)

    return build


Evaluations = dict[tuple[str, str], dg.AssetCheckEvaluation]


def run_checks(*names: str, db: InventoryDatabase | None = None) -> Evaluations:
    """Run the named checks (all when none are named) in one in-process Dagster run; the
    evaluations by (asset path, check name)."""
    keys = [
        spec.key
        for check in quality_checks
        for spec in check.check_specs
        if not names or spec.name in names
    ]
    job = dg.define_asset_job("quality_checks_job", selection=dg.AssetSelection.checks(*keys))
    defs = dg.Definitions(
        asset_checks=quality_checks,
        jobs=[job],
        resources={"inventory_db": db or InventoryDatabase()},
    )
    result = defs.resolve_job_def("quality_checks_job").execute_in_process()
    return {
        ("/".join(e.asset_key.path), e.check_name): e for e in result.get_asset_check_evaluations()
    }


def rows_text(evaluation: dg.AssetCheckEvaluation) -> str:
    return evaluation.metadata["offending_rows"].value


ALL_CHECKS = {
    ("marts/inventory_position", "on_hand_is_never_negative"),
    ("marts/inventory_position", "held_and_reserved_never_exceed_on_hand"),
    ("marts/movement_anomalies", "no_movement_spikes_in_last_day"),
    ("landing/wms_events", "no_unknown_skus"),
    ("landing/wms_events", "wms_events_is_fresh"),
    ("landing/mes_events", "mes_events_is_fresh"),
    ("landing/order_lines", "order_lines_is_fresh"),
}


def test_an_issue_bigger_than_stock_fails_on_hand_with_that_row(plant: Plant):
    # S2@L2 holds 50; issuing 80 leaves -30
    plant([wms("X1", "issue", "S2", "L2", -80, timedelta(hours=5))])
    evaluations = run_checks("on_hand_is_never_negative", "held_and_reserved_never_exceed_on_hand")
    failed = evaluations["marts/inventory_position", "on_hand_is_never_negative"]
    assert not failed.passed
    assert failed.severity == dg.AssetCheckSeverity.WARN
    assert failed.metadata["unexpected_count"].value == 1
    assert "| S2 | L2 | -30 |" in rows_text(failed)
    assert "S1" not in rows_text(failed)
    # nothing is held or reserved at S2@L2: the negative stock is reported once
    assert evaluations["marts/inventory_position", "held_and_reserved_never_exceed_on_hand"].passed


def test_a_hold_larger_than_on_hand_fails_the_hold_check(plant: Plant):
    # S2@L2: on hand 50, held 60
    plant([wms("X2", "hold", "S2", "L2", 60, timedelta(hours=5))])
    failed = run_checks("held_and_reserved_never_exceed_on_hand")[
        "marts/inventory_position", "held_and_reserved_never_exceed_on_hand"
    ]
    assert not failed.passed
    assert failed.metadata["unexpected_count"].value == 1
    assert "| held_qty <= on_hand_qty | S2 | L2 | 50 | 60 | 0 |" in rows_text(failed)


def test_a_huge_movement_in_the_last_day_fails_the_spike_check(plant: Plant):
    # S1's movements: 90, 10 x 5 and 5000; median 10, threshold 100. The old one (3 days) is
    # listed in movement_anomalies but is not news; the one 2 hours ago is.
    plant(
        [
            wms("OLD", "receipt", "S1", "L1", 4000, timedelta(days=3, hours=1)),
            wms("NEW", "receipt", "S1", "L1", 5000, timedelta(hours=2)),
        ]
    )
    failed = run_checks("no_movement_spikes_in_last_day")[
        "marts/movement_anomalies", "no_movement_spikes_in_last_day"
    ]
    assert not failed.passed
    assert failed.metadata["unexpected_count"].value == 1
    rows = rows_text(failed)
    assert "| NEW | S1 | L1 | receipt | 2026-11-08 22:00:00+00:00 | 5000 |" in rows
    assert "OLD" not in rows


def test_a_spike_older_than_a_day_passes(plant: Plant):
    plant([wms("OLD", "receipt", "S1", "L1", 4000, timedelta(days=1, seconds=1))])
    assert run_checks("no_movement_spikes_in_last_day")[
        "marts/movement_anomalies", "no_movement_spikes_in_last_day"
    ].passed


def test_an_unknown_sku_fails_once_a_sku_master_is_loaded(plant: Plant):
    unknown = [wms(f"U{i}", "receipt", "S9", "L1", 1, timedelta(hours=i)) for i in (1, 2)]
    plant(unknown)
    failed = run_checks("no_unknown_skus")["landing/wms_events", "no_unknown_skus"]
    assert not failed.passed
    assert failed.metadata["unexpected_count"].value == 1  # one unknown SKU, two events
    assert "| S9 | 2 | 2026-11-08 22:00:00+00:00 | 2026-11-08 23:00:00+00:00 |" in rows_text(failed)


def test_without_a_sku_master_no_sku_is_unknown(plant: Plant):
    plant([wms("U1", "receipt", "S9", "L1", 1, timedelta(hours=1))], with_skus=False)
    assert run_checks("no_unknown_skus")["landing/wms_events", "no_unknown_skus"].passed


def test_a_source_older_than_the_limit_or_empty_is_not_fresh(
    plant: Plant, conn: psycopg.Connection
):
    plant(with_mes=False)
    conn.execute("update raw.wms_events set received_at = now() - interval '1 hour'")
    names = ("wms_events_is_fresh", "mes_events_is_fresh", "order_lines_is_fresh")
    evaluations = run_checks(*names)
    assert not evaluations["landing/wms_events", "wms_events_is_fresh"].passed
    assert not evaluations["landing/mes_events", "mes_events_is_fresh"].passed  # nothing arrived
    assert evaluations["landing/order_lines", "order_lines_is_fresh"].passed
    # the allowed age is configuration: two hours lets the hour-old events pass
    relaxed = run_checks("wms_events_is_fresh", db=InventoryDatabase(freshness_max_age_minutes=120))
    assert relaxed["landing/wms_events", "wms_events_is_fresh"].passed


@pytest.mark.slow
def test_checks_pass_on_clean_data_and_a_repeated_key_is_an_error_that_blocks_readers(
    plant: Plant, conn: psycopg.Connection
):
    """Keys are dbt's to test (not_null, unique_key_columns): no suite here repeats them. One
    test with the all-clean case, since both start from the clean plant's marts."""
    from dagster_project.definitions import defs

    plant()
    evaluations = run_checks()
    assert set(evaluations) == ALL_CHECKS
    assert {key for key, e in evaluations.items() if not e.passed} == set()
    assert all(e.metadata["unexpected_count"].value == 0 for e in evaluations.values())

    # the mart as a broken model would publish it: both positions (S1@L1, S2@L2) twice
    conn.execute("alter view marts.inventory_health rename to inventory_health_once")
    conn.execute(
        "create view marts.inventory_health as select * from marts.inventory_health_once"
        " union all select * from marts.inventory_health_once"
    )
    key = dg.AssetCheckKey(
        dg.AssetKey(["marts", "inventory_health"]),
        "unique_key_columns_inventory_health_sku_id__location_id",
    )
    job = dg.define_asset_job("key_check_job", selection=dg.AssetSelection.checks(key))
    loaded = dg.Definitions.merge(defs(), dg.Definitions(jobs=[job]))

    result = loaded.resolve_job_def("key_check_job").execute_in_process(raise_on_error=False)

    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.asset_check_key == key
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["dagster_dbt/failed_row_count"].value == 2  # 2 keys, twice each
    assert loaded.resolve_asset_graph().get_check_spec(key).blocking
