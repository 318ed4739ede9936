"""The nightly validation: a full rebuild equals the incrementally kept marts, and a planted
difference in the live state is found."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from dagster_project.core.inventory.refresh import refresh
from dagster_project.core.validation.shadow import validate_against_full_rebuild
from dagster_project.defs.validation.assets import EQUALS_LIVE, shadow_marts
from tests.erp.inventory import AS_OF, ingest_wms, load_params, wms


def test_incremental_marts_equal_a_full_rebuild_and_a_difference_is_reported(
    conn, settings, tmp_path
):
    """One test: the planted difference needs live state kept incrementally, which the first
    part builds (two refreshes from an empty database)."""
    load_params(conn, tmp_path)
    ingest_wms(conn, wms("E1", "receipt", 30), wms("E2", "issue", -4, days_ago=1))
    refresh(settings, as_of=AS_OF - timedelta(days=1))
    # a second chunk, late event included, kept incrementally
    ingest_wms(conn, wms("E3", "issue", -6, days_ago=5), wms("E4", "receipt", 8, sku="S2"))
    refresh(settings, as_of=AS_OF)

    # in a Dagster run, the rebuild equals the incrementally kept marts
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([shadow_marts], instance=instance)
    assert result.success
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == EQUALS_LIVE and check.passed
    shadow = conn.execute(
        "select on_hand_qty from shadow_marts.inventory_position order by sku_id"
    ).fetchall()
    assert [q for (q,) in shadow] == [20, 8]  # S1: 30 - 4 - 6; S2: 8

    # corrupt the stored totals the way a lost increment would: the validation reports it
    conn.execute(
        "update intermediate.int_position_totals set on_hand_qty = on_hand_qty + 1"
        " where sku_id = 'S1'"
    )

    result = validate_against_full_rebuild(settings)

    assert not result.passed
    by_mart = {d.mart: d for d in result.differences}
    position = by_mart["marts.inventory_position"]
    assert (position.live_only, position.shadow_only) == (1, 1)
    assert {r["side"]: r["on_hand_qty"] for r in position.sample} == {"live": 21, "shadow": 20}
    assert result.rows["marts.inventory_position"] == 2
