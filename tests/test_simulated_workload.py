"""A simulated week through real ingestion: the counts match what the simulator planted."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dagster_project.cli.simulate import load_directory, stream_live
from dagster_project.core.simulate import SimConfig, generate, write_workload

EVENT_FILES = {
    "wms": "wms_events.jsonl",
    "mes": "mes_events.jsonl",
    "orders": "order_lines.jsonl",
    "po": "purchase_orders.jsonl",
}


@pytest.fixture(scope="module")
def workload_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("week")
    cfg = SimConfig(seed=7, orders_per_day=300, bad_share=0.05, duplicate_share=0.03)
    manifest = write_workload(generate(cfg), folder, gzip=True)
    return folder, manifest


def test_counts_equal_the_simulators_manifest(conn, workload_dir):
    folder, manifest = workload_dir

    results = {r.source: r for r in load_directory(conn, folder)}

    for source, name in EVENT_FILES.items():
        planted = manifest["files"][f"{name}.gz"]
        got = results[source]
        assert got.received == got.accepted + got.duplicates + got.quarantined
        assert got.counts() == {k: planted[k] for k in got.counts()}, source
        assert planted["quarantined"] > 0 and planted["duplicates"] > 0
    for source, key in (
        ("skus", "skus"),
        ("uom", "uom_conversions"),
        ("counts", "physical_counts"),
    ):
        assert results[source].accepted == manifest["reference"][key]
        assert results[source].quarantined == 0


def test_loading_the_week_again_changes_nothing(conn, workload_dir):
    folder, _ = workload_dir
    first = {r.source: r for r in load_directory(conn, folder)}
    landed = conn.execute(
        "select (select count(*) from raw.wms_events), (select count(*) from raw.order_lines),"
        " (select count(*) from raw.quarantine)"
    ).fetchone()

    again = {r.source: r for r in load_directory(conn, folder)}

    for source in EVENT_FILES:
        assert again[source].accepted == 0
        assert again[source].duplicates == first[source].accepted + first[source].duplicates
        assert again[source].quarantined == first[source].quarantined
    assert (
        conn.execute(
            "select (select count(*) from raw.wms_events), (select count(*) from raw.order_lines),"
            " (select count(*) from raw.quarantine)"
        ).fetchone()
        == landed
    )


def test_live_feed_lands_at_the_requested_rate(conn, workload_dir):
    folder, _ = workload_dir
    load_directory(conn, folder)
    cfg = replace(SimConfig(seed=7, orders_per_day=300), bad_share=0.0, duplicate_share=0.0)

    results = stream_live(conn, cfg, rate=400, seconds=2)

    sent = sum(r.received for r in results)
    assert 600 <= sent <= 1000
    assert sum(r.quarantined for r in results) == 0
    assert sum(r.duplicates for r in results) == 0
