"""The one entry point loads every asset, check, sensor, schedule and job, and all of it runs."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.core.ingest import ingest_records
from dagster_project.core.inventory.refresh import DBT_PROJECT_DIR
from tests.conftest import ROOT
from tests.erp.inventory import ingest_wms, load_params, wms

LANDING = [
    "wms_events",
    "mes_events",
    "order_lines",
    "physical_counts",
    "skus",
    "sku_params",
    "uom_conversions",
]
QUALITY_CHECKS = {
    "marts/inventory_position:on_hand_is_never_negative",
    "marts/inventory_position:held_and_reserved_never_exceed_on_hand",
    "marts/movement_anomalies:no_movement_spikes_in_last_day",
    "landing/wms_events:no_unknown_skus",
    "landing/wms_events:wms_events_is_fresh",
    "landing/mes_events:mes_events_is_fresh",
    "landing/order_lines:order_lines_is_fresh",
    "validation/shadow_marts:live_marts_equal_a_full_rebuild",
}


def dbt_models() -> dict[str, str]:
    """Model name -> layer, read from the dbt project's files: Materialize's own models
    (models/materialize/, and the materialize/ engine folders within a layer) aside."""
    models = {}
    for path in (DBT_PROJECT_DIR / "models").rglob("*.sql"):
        folders = path.relative_to(DBT_PROJECT_DIR / "models").parts[:-1]
        if "materialize" not in folders:
            models[Path(path).stem] = folders[0]
    return models


@pytest.fixture(scope="module")
def defs(database) -> dg.Definitions:
    from dagster_project.definitions import defs

    return defs()


def test_every_dbt_model_is_an_asset_grouped_by_its_layer(defs):
    graph = defs.resolve_asset_graph()
    for name, layer in dbt_models().items():
        node = graph.get(dg.AssetKey([layer, name]))
        assert node.group_name == layer, name


def test_landing_tables_erp_tables_and_the_validation_are_assets(defs):
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {f"landing/{t}" for t in LANDING} <= keys
    assert {
        "erp/replenishment_requests",
        "erp/inventory_health_live",
        "erp/stock_adjustments",
    } <= keys
    assert "validation/shadow_marts" in keys
    staging = graph.get(dg.AssetKey(["staging", "stg_landing__wms_events"]))
    assert dg.AssetKey(["landing", "wms_events"]) in staging.parent_keys
    feed = graph.get(dg.AssetKey(["erp", "replenishment_requests"]))
    assert dg.AssetKey(["marts", "reorder_alerts"]) in feed.parent_keys


def test_checks_sensors_schedules_and_jobs(defs):
    graph = defs.resolve_asset_graph()
    checks = {k.to_user_string() for k in graph.asset_check_keys}
    assert checks >= QUALITY_CHECKS
    # dbt's data tests on keys become checks on the models they test
    assert any(c.startswith("marts/inventory_position:unique_key_columns") for c in checks)
    blocking = {k for k in graph.asset_check_keys if graph.get_check_spec(k).blocking}
    # a null or repeated key on a mart the ERP reads holds the feed: dbt's key tests block
    for mart in ("inventory_position", "inventory_health", "reorder_alerts"):
        names = {k.name for k in blocking if k.asset_key == dg.AssetKey(["marts", mart])}
        assert {
            f"unique_key_columns_{mart}_sku_id__location_id",
            f"not_null_{mart}_sku_id",
            f"not_null_{mart}_location_id",
        } <= names, mart
    assert {s.name for s in defs.sensors} >= {
        "stream_worker_sensor",
        "reference_data_sensor",
        "check_failure_alert_sensor",
        "checks_after_refresh_sensor",
    }
    assert {s.name for s in defs.schedules} >= {"nightly_full_validation_schedule"}
    assert {"reference_refresh_job", "nightly_validation_job"} <= {j.name for j in defs.jobs}


def test_every_mart_has_a_freshness_policy_and_its_checks_run_after_updates(defs):
    graph = defs.resolve_asset_graph()
    marts = [dg.AssetKey(["marts", n]) for n, layer in dbt_models().items() if layer == "marts"]
    assert [m for m in marts if graph.get(m).freshness_policy is None] == []
    mart_checks = [k for k in graph.asset_check_keys if k.asset_key in marts]
    # the dbt tests and the quality suites; the reconciliation's run in its daily job
    daily = {"ira_meets_target", "no_count_needs_a_recount"}
    automated = {k for k in mart_checks if graph.get(k).automation_condition is not None}
    assert {k.name for k in set(mart_checks) - automated} == daily
    assert any(k.name.startswith("unique_key_columns") for k in automated)
    assert "on_hand_is_never_negative" in {k.name for k in automated}
    sensor = next(s for s in defs.sensors if s.name == "checks_after_refresh_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


@pytest.mark.slow
def test_the_webserver_and_daemon_load_one_location_without_name_warnings(database, tmp_path):
    """As `inventory ui` starts them: in the project folder, with no target."""
    loaded = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate"],
        cwd=ROOT,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    assert loaded.returncode == 0, loaded.stdout
    assert "Validation successful for code location realtime-inventory" in loaded.stdout
    assert "does not match" not in loaded.stdout


@pytest.mark.slow(140)  # seconds in a full run: the longest files start first
def test_every_asset_and_check_materializes_in_process(conn, settings, defs, reset_erp, tmp_path):
    from dagster_project.core.erp.database import connect_erp

    reset_erp()
    load_params(conn, tmp_path)
    ingest_wms(conn, wms("E1", "receipt", 30), wms("E2", "issue", -24))
    # every source has delivered lately, so the freshness checks pass too; the order is placed,
    # not completed, so S1 has no demand and its reorder point stays the static 10
    now = datetime.now(UTC).isoformat()
    mes = {"event_id": "M1", "order_id": "WO1", "sku_id": "S2", "work_center_id": "WC1"}
    mes |= {"event_type": "start", "qty": 10, "event_ts": now}
    assert ingest_records(conn, "mes", [mes], "test").accepted == 1
    line = {"order_id": "SO1", "line_id": "1", "sku_id": "S1", "location_id": "L1"}
    line |= {"quantity": 3, "status": "placed", "order_ts": now}
    assert ingest_records(conn, "orders", [line], "test").accepted == 1

    job = defs.resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance)

    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    expected = {f"{layer}/{name}" for name, layer in dbt_models().items()}
    expected |= {
        "erp/replenishment_requests",
        "erp/inventory_health_live",
        "validation/shadow_marts",
        "reconciliation/count_reconciliation",
    }
    assert materialized == expected
    evaluations = {
        e.asset_check_key.to_user_string(): e for e in result.get_asset_check_evaluations()
    }
    assert set(evaluations) >= QUALITY_CHECKS
    assert [k for k, e in evaluations.items() if not e.passed] == []
    # S1 at L1: 6 available against a static reorder point of 10, in lots of 5
    with connect_erp(settings) as erp:
        requests = erp.execute(
            "select sku_id, suggested_order_qty from erp.replenishment_requests"
            " where status = 'open'"
        ).fetchall()
    assert requests == [("S1", 5)]
