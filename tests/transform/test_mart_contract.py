"""Every mart keeps the contract of docs/adding-a-mart.md, read from the dbt manifest: each rule
fails with the marts that break it and, in words, what is missing and where the guide says why."""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace

import pytest

from dagster_project.cli.new_mart import STUB_TEST_SUFFIX, TODO
from dagster_project.core.inventory.manifest import Mart, manifest_path, read_marts
from dagster_project.core.settings import PROJECT_ROOT, Settings

GUIDE = "docs/adding-a-mart.md"


def has_as_of(mart: Mart) -> list[str]:
    column = mart.columns.get("as_of")
    if column is None:
        return [
            f"mart {mart.name} has no `as_of` column: every mart carries the instant it is "
            f"computed as of ({GUIDE}#as-of)"
        ]
    if column.data_type != "timestamptz":
        return [
            f"mart {mart.name}'s `as_of` is declared as {column.data_type}, not timestamptz: "
            f"an instant, compared in UTC ({GUIDE}#as-of)"
        ]
    return []


def enforces_its_contract(mart: Mart) -> list[str]:
    if mart.contract_enforced:
        return []
    return [
        f"mart {mart.name} does not enforce its contract: its columns and their types are what "
        f"readers rely on, so `config: {{contract: {{enforced: true}}}}` ({GUIDE}#contract)"
    ]


def _unwritten(text: str) -> bool:
    return not text or text.startswith(TODO)


def is_described(mart: Mart) -> list[str]:
    if not mart.description:
        return [
            f"mart {mart.name} has no description: say what one row is and every choice made "
            f"where DOMAIN.md is silent ({GUIDE}#describe-it)"
        ]
    if _unwritten(mart.description):
        return [f"mart {mart.name}'s description is still a TODO ({GUIDE}#describe-it)"]
    return []


def describes_every_column(mart: Mart) -> list[str]:
    return [
        f"mart {mart.name}: column {column.name} has no description; say what the figure is, "
        f"its unit and when it is null ({GUIDE}#describe-it)"
        for column in mart.columns.values()
        if _unwritten(column.description)
    ]


def has_a_key_test(mart: Mart) -> list[str]:
    if mart.key is not None:
        return []
    return [
        f"mart {mart.name} has no key test: a `unique` test on its key column, or "
        f"`unique_key_columns` on a compound key, says what one row is ({GUIDE}#key)"
    ]


def key_is_never_null(mart: Mart) -> list[str]:
    return [
        f"mart {mart.name}: key column {column} has no not_null test; a null key is a row "
        f"nobody can look up ({GUIDE}#key)"
        for column in mart.key or ()
        if column not in mart.not_null
    ]


def has_a_unit_test(mart: Mart) -> list[str]:
    written = [t for t in mart.unit_tests if not t.endswith(STUB_TEST_SUFFIX)]
    if written:
        return []
    what = "only the scaffold's stub" if mart.unit_tests else "no unit test"
    return [
        f"mart {mart.name} has {what}: its logic needs cases worked out by hand from "
        f"DOMAIN.md ({GUIDE}#unit-tests)"
    ]


def has_no_todo_left(mart: Mart) -> list[str]:
    if TODO not in mart.sql:
        return []
    return [f"mart {mart.name} still has a TODO in {mart.path} ({GUIDE}#checklist)"]


RULES: list[Callable[[Mart], list[str]]] = [
    has_as_of,
    enforces_its_contract,
    is_described,
    describes_every_column,
    has_a_key_test,
    key_is_never_null,
    has_a_unit_test,
    has_no_todo_left,
]


def contract_gaps(mart: Mart) -> list[str]:
    return [gap for rule in RULES for gap in rule(mart)]


@pytest.fixture(scope="module")
def project_marts(settings) -> list[Mart]:
    found = read_marts(settings)
    assert found, "the dbt manifest has no marts: is models/marts/ empty?"
    return found


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_every_mart(project_marts: list[Mart], rule: Callable[[Mart], list[str]]) -> None:
    gaps = [gap for mart in project_marts for gap in rule(mart)]
    assert not gaps, "\n".join(gaps)


def _without_as_of(mart: Mart) -> Mart:
    return replace(mart, columns={k: v for k, v in mart.columns.items() if k != "as_of"})


def _undescribed_sku(mart: Mart) -> Mart:
    return replace(
        mart, columns={**mart.columns, "sku_id": replace(mart.columns["sku_id"], description="")}
    )


# Each rule on inventory_position with one thing taken away: what the failure must say.
BROKEN = {
    has_as_of: (_without_as_of, "inventory_position has no `as_of` column", "#as-of"),
    enforces_its_contract: (
        lambda m: replace(m, contract_enforced=False),
        "inventory_position does not enforce its contract",
        "#contract",
    ),
    is_described: (
        lambda m: replace(m, description=""),
        "inventory_position has no description",
        "#describe-it",
    ),
    describes_every_column: (
        _undescribed_sku,
        "inventory_position: column sku_id has no description",
        "#describe-it",
    ),
    has_a_key_test: (lambda m: replace(m, key=None), "inventory_position has no key test", "#key"),
    key_is_never_null: (
        lambda m: replace(m, not_null=frozenset({"sku_id"})),
        "inventory_position: key column location_id has no not_null test",
        "#key",
    ),
    has_a_unit_test: (
        lambda m: replace(m, unit_tests=(f"inventory_position{STUB_TEST_SUFFIX}",)),
        "inventory_position has only the scaffold's stub",
        "#unit-tests",
    ),
    has_no_todo_left: (
        lambda m: replace(m, sql=m.sql + f"\n-- {TODO}: the figures"),
        "inventory_position still has a TODO in models/marts/inventory/inventory_position.sql",
        "#checklist",
    ),
}


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_a_broken_mart_is_named_with_what_is_missing(
    project_marts: list[Mart], rule: Callable[[Mart], list[str]]
) -> None:
    position = next(m for m in project_marts if m.name == "inventory_position")
    assert rule(position) == []
    breaking, says, section = BROKEN[rule]
    [gap] = rule(breaking(position))
    assert gap.startswith(f"mart {says}"), gap
    assert gap.endswith(f"({GUIDE}{section})"), gap


def test_every_section_a_rule_points_to_is_in_the_guide() -> None:
    guide = (PROJECT_ROOT / GUIDE).read_text()
    # GitHub's anchors: lower-case heading text, spaces to hyphens, punctuation dropped
    anchors = {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", guide, flags=re.MULTILINE)
    }
    for _, _, section in BROKEN.values():
        assert section.removeprefix("#") in anchors, section


@pytest.mark.slow
def test_a_reader_waits_while_another_process_parses(tmp_path) -> None:
    """dbt writes manifest.json in place: while one process holds the parse lock (parsing), a
    reader in another waits for it instead of reading half a file."""
    home = tmp_path / "home"
    settings = Settings(home=home)
    lock_path = manifest_path(settings).parent / "manifest.lock"
    lock_path.parent.mkdir(parents=True)
    read = (
        "from dagster_project.core.inventory.manifest import read_marts;"
        "from dagster_project.core.settings import Settings;"
        "print(len(read_marts(Settings())))"
    )
    env = {**os.environ, "INVENTORY_HOME": str(home)}
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        reader = subprocess.Popen(
            [sys.executable, "-c", read], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        with pytest.raises(subprocess.TimeoutExpired):
            reader.wait(timeout=15)
        # nor has it started parsing: dbt has written neither its log nor any target file
        assert not (settings.state_dir / "dbt" / "logs").exists()
        assert [p.name for p in lock_path.parent.iterdir()] == ["manifest.lock"]
    stdout, stderr = reader.communicate(timeout=600)
    assert reader.returncode == 0, stderr.decode()[-3000:]
    assert int(stdout) >= 10, stdout
