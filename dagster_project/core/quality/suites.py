"""The suites in `expectations/<name>.json`: GE 1.x ExpectationSuite JSON whose `meta` names the
table the suite runs against (`schema.table`) and the key that identifies an offending row."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dagster_project.core.settings import PROJECT_ROOT

if TYPE_CHECKING:
    import great_expectations as gx

EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"


@dataclass(frozen=True)
class StoredSuite:
    suite: gx.ExpectationSuite
    schema: str
    table: str
    key: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.suite.name


def load_suite(name: str) -> StoredSuite:
    """A suite by file name; raises if any expectation in the file is not valid."""
    import great_expectations as gx  # 3 s to import: only when a suite runs, not at defs load

    data = read_suite_json(name)
    meta = data.get("meta", {})
    schema, _, table = meta["table"].partition(".")
    suite = gx.ExpectationSuite(**data)
    # GE logs and drops an expectation it cannot build; a check that silently checks less
    # than its file says is worse than one that fails to load.
    if len(suite.expectations) != len(data["expectations"]):
        raise ValueError(f"suite {name}: some expectations are not valid, see the GE log")
    return StoredSuite(suite=suite, schema=schema, table=table, key=tuple(meta.get("key", ())))


def read_suite_json(name: str) -> dict:
    return json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text())


def suite_notes(name: str) -> str:
    """What the suite checks and why, as its file says, without importing GE."""
    return read_suite_json(name).get("notes", "")
