"""The rules of the dbt project's layers, read from its manifest on both targets: every staging,
intermediate and mart model says what it holds and has a test of its key, the state models
share the one explanation of how they are kept, and only staging reads a source(). Then the
key tests run against state kept incrementally across refreshes, not only a fresh build."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from dagster_project.core.inventory.manifest import manifest_path
from tests.conftest import invoke_cli

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
DOCUMENTED_LAYERS = ("staging", "intermediate", "marts")
# a dbt `unique` test on one column, or the project's generic test for a compound key
KEY_TESTS = {"unique", "unique_key_columns"}
STATE_DOCS = "doc.realtime_inventory.incremental_state_pattern"


@pytest.fixture(scope="module", params=["postgres", "materialize"])
def manifest(request, dbt_manifest) -> dict:
    """The manifest of `dbt parse` for a target; parsing connects to no database."""
    return dbt_manifest("parse", request.param)


def models(manifest: dict, layers: tuple[str, ...] = DOCUMENTED_LAYERS) -> dict[str, dict]:
    """Enabled models by name whose folder under models/ is one of `layers`."""
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1] in layers
    }


def key_tested(manifest: dict) -> set[str]:
    """unique_ids of the models with a key test."""
    return {
        node["attached_node"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and (node.get("test_metadata") or {}).get("name") in KEY_TESTS
    }


def test_every_model_says_what_it_holds_and_tests_its_key(manifest: dict) -> None:
    tested = key_tested(manifest)
    missing = []
    for name, node in sorted(models(manifest).items()):
        layer = node["fqn"][1]
        description = node["description"].strip()
        if not description:
            missing.append(f"{layer} model {name} has no description")
        elif layer != "marts" and "one row per" not in description.lower():
            missing.append(f"{layer} model {name} does not state its grain ('One row per ...')")
        if node["unique_id"] not in tested:
            missing.append(
                f"{layer} model {name} has no key test (`unique` on its key column, or "
                "`unique_key_columns` with the key's columns)"
            )
        for column, spec in sorted(node["columns"].items()):
            if not spec["description"].strip():
                missing.append(f"{layer} model {name} lists column {column} without a description")
    assert not missing, "\n".join(missing)


def test_state_models_explain_how_they_are_kept(manifest: dict) -> None:
    """Every incremental model includes the one docs block on the pattern, and each bookkeeping
    column it documents is described as bookkeeping, where a run has got to, not a figure."""
    state_models = {
        name: node
        for name, node in models(manifest, ("intermediate",)).items()
        if node["config"]["materialized"] == "incremental"
    }
    if manifest["metadata"]["adapter_type"] == "materialize":
        assert not state_models, "on Materialize the intermediate models are views"
        return
    assert state_models, "no incremental model found in models/intermediate"
    missing = []
    for name, node in sorted(state_models.items()):
        if STATE_DOCS not in node.get("doc_blocks", []):
            missing.append(
                f"state model {name} does not include {{{{ doc('incremental_state_pattern') }}}}"
                " in its description"
            )
        bookkeeping = node["config"]["meta"].get("bookkeeping_columns") or []
        for column in sorted(set(bookkeeping) & set(node["columns"])):
            if not node["columns"][column]["description"].startswith("Bookkeeping"):
                missing.append(
                    f"state model {name} does not describe its bookkeeping column {column} as"
                    " such (a description starting 'Bookkeeping: ...')"
                )
    assert not missing, "\n".join(missing)


def test_only_staging_reads_sources(manifest: dict) -> None:
    misreads = []
    for name, node in sorted(models(manifest, ("intermediate", "marts", "materialize")).items()):
        for parent in node["depends_on"]["nodes"]:
            if parent.startswith("source."):
                source = manifest["sources"][parent]
                misreads.append(
                    f"{node['fqn'][1]} model {name} reads source('{source['source_name']}', "
                    f"'{source['name']}'): read its staging view instead"
                )
    for test in manifest.get("unit_tests", {}).values():
        if test["model"].startswith("stg_"):
            continue
        for given in test["given"]:
            if given["input"].replace(" ", "").startswith("source("):
                misreads.append(
                    f"unit test {test['name']} of {test['model']} gives {given['input']} as an "
                    "input: give the staging model the model reads instead"
                )
    assert not misreads, "\n".join(misreads)


def test_every_source_table_has_a_staging_view(manifest: dict) -> None:
    read = {
        parent
        for node in models(manifest, ("staging",)).values()
        for parent in node["depends_on"]["nodes"]
    }
    unread = sorted(
        f"source('{source['source_name']}', '{source['name']}')"
        for unique_id, source in manifest["sources"].items()
        if unique_id not in read
    )
    assert not unread, f"no staging view reads {', '.join(unread)}"


# ------------------------------------------------------------------ on incrementally kept state


def _cli(*args: str) -> None:
    done = invoke_cli(*args)
    assert done.exit_code == 0, (
        f"inventory {' '.join(args)}: {done.output[-3000:]} {done.exception!r}"
    )


def _split(path: Path, share: float) -> tuple[Path, Path]:
    """The first `share` of a JSON Lines file's records, and the rest, as two files."""
    lines = path.read_text().splitlines(keepends=True)
    cut = int(len(lines) * share)
    first, rest = path.with_suffix(".first.jsonl"), path.with_suffix(".rest.jsonl")
    first.write_text("".join(lines[:cut]))
    rest.write_text("".join(lines[cut:]))
    return first, rest


@pytest.mark.slow
def test_keys_hold_and_columns_are_documented_on_incrementally_kept_state(
    conn, settings, tmp_path
) -> None:
    from dagster_project.core.inventory.refresh import run_dbt

    sim = tmp_path / "sim"
    _cli("simulate", "--out", str(sim), "--days", "8", "--skus", "15", "--seed", "13")
    streams = {"wms": "wms_events.jsonl", "mes": "mes_events.jsonl", "orders": "order_lines.jsonl"}
    halves = {source: _split(sim / name, 0.6) for source, name in streams.items()}
    reference = {
        "skus": "skus.csv",
        "uom": "uom_conversions.csv",
        "sku-params": "sku_params.csv",
        "counts": "physical_counts.csv",
    }
    for kind, name in reference.items():
        _cli("load", kind, str(sim / name))
    for source, (first, _) in halves.items():
        _cli("ingest", source, str(first))

    # A first build and the counts decided (their adjustments are events); then the rest of
    # the week, late scanner uploads among it, and a parameter row loaded (a reload for the
    # health); two incremental refreshes, one into the next UTC day (the windows slide, turns
    # start afresh) and one later that day (turns add to their stored sums).
    first_as_of = conn.execute("select max(event_ts) from raw.wms_events").fetchone()[0]
    _cli("refresh", "--as-of", first_as_of.isoformat())
    _cli("reconciliation", "run")
    assert conn.execute("select count(*) from reconciliation.decisions").fetchone()[0] > 0
    for source, (_, rest) in halves.items():
        _cli("ingest", source, str(rest))
    sku, location = conn.execute(
        "select sku_id, location_id from raw.wms_events order by ingest_seq limit 1"
    ).fetchone()
    params = tmp_path / "more_params.csv"
    params.write_text(f"sku_id,location_id,lead_time_days\n{sku},{location},3\n")
    _cli("load", "sku-params", str(params))
    next_day = datetime.combine(first_as_of.date() + timedelta(days=1), time(), first_as_of.tzinfo)
    _cli("refresh", "--as-of", (next_day + timedelta(hours=3)).isoformat())
    _cli("refresh", "--as-of", (next_day + timedelta(hours=8)).isoformat())
    # the state was kept incrementally: rows written by different runs
    assert conn.execute(
        "select count(distinct changed_run) > 1 from intermediate.int_sku_size_counts"
    ).fetchone()[0]

    # a failing test fails the run, naming the test (and so the model)
    results = run_dbt(
        settings, ["test", "--select", "staging", "intermediate", "--exclude", "test_type:unit"]
    )
    built = json.loads(manifest_path(settings).read_text())
    layer_models = models(built, ("staging", "intermediate"))
    passed = {
        result.node.attached_node
        for result in results
        if str(result.status) == "pass" and result.node.test_metadata.name in KEY_TESTS
    }
    unchecked = sorted(
        name for name, node in layer_models.items() if node["unique_id"] not in passed
    )
    assert not unchecked, f"no key test ran and passed on {', '.join(unchecked)}"

    # the YAML documents exactly the columns each relation has
    actual: dict[str, list[str]] = {}
    for schema, relation, column in conn.execute(
        """
        select table_schema, table_name, column_name from information_schema.columns
        where table_schema in ('staging', 'intermediate') order by ordinal_position
        """
    ):
        actual.setdefault(f"{schema}.{relation}", []).append(column)
    drift = []
    for name, node in sorted(layer_models.items()):
        have = actual.get(f"{node['schema']}.{node['alias']}", [])
        documented = list(node["columns"])
        if missing := [c for c in have if c not in documented]:
            drift.append(f"{name} has columns its YAML does not document: {', '.join(missing)}")
        if extra := [c for c in documented if c not in have]:
            drift.append(f"{name}'s YAML documents columns it does not have: {', '.join(extra)}")
    assert not drift, "\n".join(drift)
