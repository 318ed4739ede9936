"""The dbt project compiles for Materialize with no server: the marts become indexed materialized
views whose time windows are temporal filters on mz_now(), never the wall clock."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from dagster_project.core.inventory.manifest import Mart, marts

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"

# now() and current_timestamp are not allowed in a materialized view; mz_now() is
WALL_CLOCK = re.compile(r"(?<![\w.])now\s*\(|\bcurrent_timestamp\b", re.IGNORECASE)
MZ_NOW = re.compile(r"\bmz_now\s*\(\s*\)", re.IGNORECASE)


@pytest.fixture(scope="module")
def manifest(dbt_manifest) -> dict:
    """The manifest of `dbt compile --target materialize`, run where no Materialize listens
    (tests/conftest.py)."""
    return dbt_manifest("compile", "materialize")


def _model(manifest: dict, name: str) -> dict:
    return manifest["nodes"][f"model.realtime_inventory.{name}"]


def _dataflow_sql(manifest: dict, name: str) -> dict[str, str]:
    """The compiled SQL of a model and of every model it reads, directly or not: all of it runs
    inside the materialized view's dataflow, since the layers below are plain views."""
    found: dict[str, str] = {}
    pending = [f"model.realtime_inventory.{name}"]
    while pending:
        unique_id = pending.pop()
        if unique_id in found or not unique_id.startswith("model."):
            continue
        node = manifest["nodes"][unique_id]
        found[unique_id] = node["compiled_code"]
        pending.extend(node["depends_on"]["nodes"])
    return found


@pytest.fixture(scope="module")
def mz_marts(manifest: dict) -> list[Mart]:
    """Every mart enabled on Materialize, as the manifest declares it."""
    found = marts(manifest)
    assert {"inventory_position", "reorder_alerts"} <= {m.name for m in found}
    return found


def test_every_mart_compiles_offline(manifest: dict, mz_marts: list[Mart]) -> None:
    for mart in mz_marts:
        assert _model(manifest, mart.name)["compiled_code"].strip(), mart.name


def test_no_mart_reads_the_wall_clock(manifest: dict, mz_marts: list[Mart]) -> None:
    reading = [
        f"{unique_id} (in {mart.name}) reads the wall clock"
        for mart in mz_marts
        for unique_id, sql in _dataflow_sql(manifest, mart.name).items()
        if WALL_CLOCK.search(sql)
    ]
    assert not reading, "\n".join(reading)


def test_velocity_windows_are_temporal_filters(manifest: dict) -> None:
    # the mart reads int_demand_velocity, where the daily slices filter on mz_now()
    dataflow = _dataflow_sql(manifest, "demand_velocity_7d")
    assert any(MZ_NOW.search(sql) for sql in dataflow.values()), sorted(dataflow)


def test_every_mart_is_a_materialized_view_indexed_on_its_key(
    manifest: dict, mz_marts: list[Mart]
) -> None:
    for mart in mz_marts:
        config = _model(manifest, mart.name)["config"]
        assert config["materialized"] == "materialized_view", mart.name
        assert mart.key, f"{mart.name} has no key test to index on"
        assert [index["columns"] for index in config["indexes"]] == [list(mart.key)], mart.name
        assert config["cluster"] == "compute", mart.name


def test_cdc_source_has_a_subsource_for_every_landing_table(manifest: dict) -> None:
    declared = {
        source["name"]
        for source in manifest["sources"].values()
        if source["source_name"] == "landing"
    }
    assert {source["schema"] for source in manifest["sources"].values()} == {"landing"}
    compiled = _model(manifest, "landing_pg")["compiled_code"]
    replicated = set(re.findall(r"raw\.(\w+) as landing\.(\w+)", compiled))
    assert replicated == {(table, table) for table in declared}


def test_reorder_alerts_are_sunk_to_kafka_for_the_erp(manifest: dict) -> None:
    sink = _model(manifest, "kafka_reorder_alerts")
    assert sink["config"]["materialized"] == "sink"
    assert sink["depends_on"]["nodes"] == ["model.realtime_inventory.reorder_alerts"]
    sql = " ".join(sink["compiled_code"].split())
    assert "topic 'inventory.reorder_alerts'" in sql
    assert "key (sku_id, location_id)" in sql
    assert "format json envelope upsert" in sql


def test_the_blue_green_deploy_run_compiles_offline(dbt_manifest, mz_marts: list[Mart]) -> None:
    # infra/README.md, "Deploying changes": the run between deploy_init and deploy_promote
    deploy = dbt_manifest(
        "compile", "materialize", "--vars", "deploy: true", "--exclude", "path:models/materialize"
    )
    project = yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text())
    deployment = project["vars"]["deployment"]["materialize"]
    built = [
        node
        for node in deploy["nodes"].values()
        if node["resource_type"] == "model" and node.get("compiled_code")
    ]
    assert {node["name"] for node in built} >= {mart.name for mart in mz_marts}
    for node in built:
        # built beside production, in schemas deploy_promote swaps in
        assert node["schema"].removesuffix("_dbt_deploy") in deployment["schemas"], node["name"]
        assert node["schema"].endswith("_dbt_deploy"), node["name"]
        assert node["config"].get("cluster") in (None, *deployment["clusters"]), node["name"]
    # the sources and the ERP sink are neither rebuilt nor swapped: the sink is cut over to the
    # new reorder_alerts, whose schema is swapped in
    sink = _model(deploy, "kafka_reorder_alerts")
    assert not sink.get("compiled_code") and not _model(deploy, "landing_pg").get("compiled_code")
    assert sink["schema"].removesuffix("_dbt_deploy") not in deployment["schemas"]
    assert _model(deploy, "reorder_alerts")["schema"] == "marts_dbt_deploy"
