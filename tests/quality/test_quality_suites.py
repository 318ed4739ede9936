"""The stored suites: every file loads whole and names its table; a suite that cannot run raises."""

from __future__ import annotations

import psycopg
import pytest

from dagster_project.core.quality import EXPECTATIONS_DIR, SuiteError, load_suite, run_suite
from dagster_project.core.quality.suites import read_suite_json
from dagster_project.core.settings import Settings

SUITES = sorted(p.stem for p in EXPECTATIONS_DIR.glob("*.json"))


# what dbt's data tests (not_null, unique, unique_key_columns) check on every mart key
KEY_EXPECTATIONS = {
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_unique",
    "expect_compound_columns_to_be_unique",
    "expect_select_column_values_to_be_unique_within_record",
}


def test_there_is_a_check_per_suite_and_a_suite_per_check():
    from dagster_project.defs.quality.checks import quality_checks

    checked = [spec.name for check in quality_checks for spec in check.check_specs]
    assert sorted(checked) == SUITES


def test_no_suite_repeats_a_key_test_of_dbts():
    repeated = {
        (name, e["type"])
        for name in SUITES
        for e in read_suite_json(name)["expectations"]
        if e["type"] in KEY_EXPECTATIONS
    }
    assert repeated == set()


@pytest.mark.parametrize("name", SUITES)
def test_a_suite_loads_every_expectation_and_names_its_table(name: str):
    stored = load_suite(name)
    assert stored.name == name
    assert stored.schema in ("raw", "marts") and stored.table
    assert len(stored.suite.expectations) == len(read_suite_json(name)["expectations"]) > 0


def test_a_suite_that_cannot_run_raises_instead_of_failing(
    conn: psycopg.Connection, settings: Settings
):
    # raw.wms_events has no on_hand_qty: a broken check, not bad data
    with pytest.raises(SuiteError, match="on_hand_qty"):
        run_suite(settings, "on_hand_is_never_negative", table="raw.wms_events")


def test_every_check_is_on_an_asset_the_project_defines_once(settings: Settings):
    import dagster as dg

    from dagster_project.definitions import defs
    from dagster_project.defs.quality.checks import quality_checks

    loaded = defs()
    defined = set()
    for asset in loaded.assets or []:
        defined |= set(asset.keys) if isinstance(asset, dg.AssetsDefinition) else {asset.key}
    ours = [key for check in quality_checks for key in check.check_keys]
    found = [key for check in loaded.asset_checks or [] for key in check.check_keys]
    assert {key.asset_key for key in ours} <= defined
    assert sorted(k for k in found if k in ours) == sorted(ours)
    assert "inventory_db" in loaded.resources
