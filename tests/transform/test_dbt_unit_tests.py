"""The dbt unit tests (given/expect rows worked out by hand from DOMAIN.md) all run and pass against
the session database; the list of tests is read from the YAML, so a new one is held to it too."""

from __future__ import annotations

import yaml

from dagster_project.core.inventory.refresh import DBT_PROJECT_DIR, run_dbt
from dagster_project.core.settings import Settings


def unit_test_names() -> set[str]:
    names = set()
    for path in sorted((DBT_PROJECT_DIR / "models").rglob("*.yml")):
        document = yaml.safe_load(path.read_text()) or {}
        names |= {test["name"] for test in document.get("unit_tests") or []}
    return names


def test_every_dbt_unit_test_passes(database: str, settings: Settings) -> None:
    expected = unit_test_names()
    assert expected, "no unit_tests found in the dbt project's YAML"

    # unit tests read the column types of their inputs from the built relations
    run_dbt(settings, ["run"])
    results = run_dbt(settings, ["test", "--select", "test_type:unit"])

    statuses = {
        result.node.name: str(result.status)
        for result in results
        if result.node.resource_type == "unit_test"
    }
    assert len(statuses) >= len(expected)
    not_passed = {name: statuses.get(name, "not run") for name in expected}
    not_passed = {name: status for name, status in not_passed.items() if status != "pass"}
    assert not not_passed
