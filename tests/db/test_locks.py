"""Every advisory lock key lives in core/db/locks.py: distinct, and the numbers that applied
migrations and dbt macros take in SQL are among them."""

from __future__ import annotations

import re

from dagster_project.core.db import locks
from tests.conftest import ROOT

# pg_advisory_lock, pg_try_advisory_xact_lock_shared and the rest, with a literal key
SQL_KEY = re.compile(r"pg_(?:try_)?advisory_(?:xact_)?lock(?:_shared)?\s*\(\s*(\d+)\s*\)")
# a key written as a number in Python, as the keys are
PY_KEY = re.compile(r"\b7_?300_?\d{3}\b")


def keys() -> dict[str, int]:
    return {name: value for name, value in vars(locks).items() if name.endswith("_LOCK")}


def sql_files():
    yield from (ROOT / "dagster_project").rglob("migrations/*.sql")
    yield from (ROOT / "dbt_project").rglob("*.sql")


def test_the_keys_are_distinct():
    assert len(keys()) == len(set(keys().values())), keys()


def test_every_key_sql_takes_is_named_in_the_locks_module():
    taken = {
        (path.relative_to(ROOT).as_posix(), int(key))
        for path in sql_files()
        if "/target/" not in path.as_posix()
        for key in SQL_KEY.findall(path.read_text())
    }
    assert taken, "no key found in SQL: the pattern no longer matches how SQL takes locks"
    unknown = {(path, key) for path, key in taken if key not in keys().values()}
    assert unknown == set()


def test_no_python_module_keeps_a_key_of_its_own():
    elsewhere = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in (ROOT / "dagster_project").rglob("*.py")
        if path.name != "locks.py"
        for line in path.read_text().splitlines()
        if PY_KEY.search(line) or SQL_KEY.search(line)
    ]
    assert elsewhere == []
