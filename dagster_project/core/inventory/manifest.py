"""The marts as the dbt project declares them, read from its manifest: names, columns, keys.

Every list of marts in the platform comes from here (or from dbt's own selectors), so a new mart
is picked up by dropping its files into `dbt_project/models/marts/<domain>/`, with nothing to
register. The manifest describes the target it was parsed for: a mart enabled only on the other
engine is not in it.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster_project.core.db.server import ServerError
from dagster_project.core.inventory.refresh import (
    DbtError,
    dbt_env,
    dbt_paths,
    project_stamp,
)
from dagster_project.core.settings import Settings

MARTS_LAYER = "marts"
# the data tests that make a column set a mart's key
KEY_TESTS = ("unique", "unique_key_columns")


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str | None
    description: str


@dataclass(frozen=True)
class Mart:
    name: str
    domain: str  # its folder under models/marts: inventory, reconciliation, ...
    path: str  # its SQL file, relative to the dbt project
    sql: str  # the file's text, uncompiled
    description: str
    columns: dict[str, Column]  # as the YAML declares them, in order
    contract_enforced: bool
    key: tuple[str, ...] | None  # the columns its key test names
    not_null: frozenset[str]  # the columns with a not_null test
    unit_tests: tuple[str, ...]
    parents: tuple[str, ...]  # the models it reads


def dbt_environment(settings: Settings) -> dict[str, str]:
    """What the profile reads; without a started server, parsing still works on the defaults."""
    try:
        return dbt_env(settings)
    except ServerError:
        return dbt_paths(settings)


def manifest_path(settings: Settings) -> Path:
    return Path(dbt_paths(settings)["DBT_TARGET_PATH"]) / "manifest.json"


@contextmanager
def _parsing(path: Path) -> Iterator[None]:
    """One parse at a time per manifest, across processes: dbt writes manifest.json in place, and
    a process reading it meanwhile (two Dagster processes loading, a CLI) would get half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / "manifest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _parse_if_stale(settings: Settings, path: Path) -> None:
    if path.exists() and path.stat().st_mtime >= project_stamp():
        return
    from dbt.cli.main import dbtRunner

    environment = dbt_environment(settings)
    os.environ.update(environment)
    project = environment["DBT_PROJECT_DIR"]
    result = dbtRunner().invoke(["parse", "--project-dir", project, "--quiet"])
    if not result.success:
        raise DbtError(f"dbt parse failed: {result.exception}")


def ensure_manifest(settings: Settings) -> Path:
    """Parse the project when its manifest is missing or older than a model, macro or test;
    return its path. Parsing takes a few seconds once and is skipped while nothing changed."""
    path = manifest_path(settings)
    with _parsing(path):
        _parse_if_stale(settings, path)
    return path


def load_manifest(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def read_marts(settings: Settings) -> list[Mart]:
    """The marts of the project as it stands (parsed first if a file changed)."""
    path = manifest_path(settings)
    with _parsing(path):
        _parse_if_stale(settings, path)
        manifest = load_manifest(path)
    return marts(manifest)


def marts(manifest: dict[str, Any]) -> list[Mart]:
    """The enabled models under models/marts, by name."""
    tests: dict[str, list[dict]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("attached_node"):
            tests.setdefault(node["attached_node"], []).append(node)
    unit_tests: dict[str, list[str]] = {}
    for unit_test in manifest.get("unit_tests", {}).values():
        unit_tests.setdefault(unit_test["model"], []).append(unit_test["name"])
    found = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["fqn"][1] != MARTS_LAYER:
            continue
        if not node["config"].get("enabled", True):
            continue
        attached = tests.get(node["unique_id"], [])
        found.append(
            Mart(
                name=node["name"],
                domain=node["fqn"][2] if len(node["fqn"]) > 3 else "",
                path=node["original_file_path"],
                sql=node["raw_code"],
                description=node["description"].strip(),
                columns={
                    name: Column(name, column.get("data_type"), column["description"].strip())
                    for name, column in node["columns"].items()
                },
                contract_enforced=bool((node["config"].get("contract") or {}).get("enforced")),
                key=_key(attached),
                not_null=frozenset(
                    t["column_name"] for t in attached if _test_name(t) == "not_null"
                ),
                unit_tests=tuple(sorted(unit_tests.get(node["name"], []))),
                parents=tuple(
                    parent.split(".")[-1]
                    for parent in node["depends_on"]["nodes"]
                    if parent.startswith("model.")
                ),
            )
        )
    return sorted(found, key=lambda m: m.name)


def _test_name(test: dict) -> str:
    return (test.get("test_metadata") or {}).get("name", "")


def _key(tests: list[dict]) -> tuple[str, ...] | None:
    """The fewest columns a key test says are unique together."""
    keys = []
    for test in tests:
        if _test_name(test) == "unique":
            keys.append((test["column_name"],))
        elif _test_name(test) == "unique_key_columns":
            keys.append(tuple(test["test_metadata"]["kwargs"]["columns"]))
    return min(keys, key=len) if keys else None
