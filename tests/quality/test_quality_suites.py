"""The stored suites: every file loads whole and names its table; a suite that cannot run raises."""

from __future__ import annotations

import psycopg
import pytest

from dagster_project.quality import EXPECTATIONS_DIR, SuiteError, load_suite, run_suite
from dagster_project.quality.suites import read_suite_json
from dagster_project.settings import Settings

SUITES = sorted(p.stem for p in EXPECTATIONS_DIR.glob("*.json"))


def test_there_is_a_suite_per_check():
    assert len(SUITES) == 10


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
