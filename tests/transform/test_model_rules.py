"""Rules of the dbt project's layout. No model SQL reads the target: engine differences go through
adapter.dispatch macros or per-engine folders (dbt_project.yml). And every mart exists on both
engines (but one in an engine's folder, kept to it) under one name with one set of columns, read
from the manifest dbt writes for each target (the contract's columns in YAML), and on Materialize
from its compiled SQL too, since nothing enforces the contract there without a server (on
Postgres every `dbt build` does)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
MODELS = DBT_PROJECT / "models"

# target.type, target.name, target['type'], target["name"]
TARGET_READ = re.compile(r"""\btarget\s*(?:\.\s*(?:type|name)\b|\[\s*['"](?:type|name)['"]\s*\])""")


def target_reads(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every read of the target's type or name."""
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if TARGET_READ.search(line)
    ]


@pytest.mark.parametrize(
    "text, found",
    [
        ("{% if target.type == 'materialize' %}", True),
        ("indexes=[] if target.name != 'prod' else [x],", True),
        ("{{ target['type'] }}", True),
        ('{{ target [ "name" ] }}', True),
        ("select target_type, retarget.type_id from t", False),
        ("{{ target.schema }}", False),
    ],
)
def test_the_rule_recognises_a_read_of_the_target(text: str, found: bool) -> None:
    assert bool(target_reads(text)) is found


def test_no_model_reads_the_target() -> None:
    files = sorted(MODELS.rglob("*.sql"))
    assert files, f"no model files under {MODELS}"
    offences = [
        f"{path.relative_to(DBT_PROJECT)}, line {number}: {line}"
        for path in files
        for number, line in target_reads(path.read_text())
    ]
    assert not offences, (
        "model SQL must not read target.type or target.name; route the engine difference"
        " through an adapter.dispatch macro (postgres__/materialize__) or a per-engine folder"
        " (see dbt_project.yml):\n" + "\n".join(offences)
    )


@pytest.fixture(scope="module")
def manifests(dbt_manifest) -> dict[str, dict]:
    """The manifests with no database server: `parse` reads the project alone, and a
    Materialize `compile` runs offline (tests/conftest.py)."""
    return {
        "postgres": dbt_manifest("parse", "postgres"),
        "materialize": dbt_manifest("compile", "materialize"),
    }


def _marts(manifest: dict) -> dict[str, dict]:
    """The enabled models of the marts layer (models/marts/...), by name."""
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1] == "marts"
    }


def _contract(node: dict) -> list[tuple[str, str | None]]:
    return [(name, column.get("data_type")) for name, column in node["columns"].items()]


def _kept_to_one_engine(node: dict) -> bool:
    """A mart in its domain's postgres/ or materialize/ folder that has no twin in the other:
    dbt_project.yml enables it on that engine only (docs/adding-a-mart.md#one-engine-only)."""
    return node["fqn"][-2] in ("postgres", "materialize")


def test_every_mart_has_one_name_and_one_contract_on_both_engines(
    manifests: dict[str, dict],
) -> None:
    check_marts_on_both_engines(manifests["postgres"], manifests["materialize"])


def check_marts_on_both_engines(postgres_manifest: dict, materialize_manifest: dict) -> None:
    postgres, materialize = _marts(postgres_manifest), _marts(materialize_manifest)
    assert postgres, "no marts in the Postgres manifest"
    one_engine = {
        name
        for name, node in (postgres | materialize).items()
        if (name in postgres) != (name in materialize) and _kept_to_one_engine(node)
    }
    both = sorted(set(postgres) - one_engine)
    assert both == sorted(set(materialize) - one_engine), (
        f"marts only on Postgres: {sorted(set(postgres) - set(materialize) - one_engine)}; "
        f"only on Materialize: {sorted(set(materialize) - set(postgres) - one_engine)} "
        "(a mart kept to one engine goes in its domain's postgres/ or materialize/ folder)"
    )
    for name in both:
        for engine, node in (("postgres", postgres[name]), ("materialize", materialize[name])):
            assert node["config"]["contract"]["enforced"], f"{name} has no contract on {engine}"
            assert node["columns"], f"{name} declares no columns on {engine}"
        assert _contract(postgres[name]) == _contract(materialize[name]), (
            f"{name}: the contract's columns differ between the engines:\n"
            f"postgres    {_contract(postgres[name])}\nmaterialize {_contract(materialize[name])}"
        )


def test_materialize_marts_select_their_contract_columns(manifests: dict[str, dict]) -> None:
    """On Materialize, the columns of each mart's compiled `final` (the house shape: `select *
    from final` last) are the contract's, in its order."""
    for name, node in sorted(_marts(manifests["materialize"]).items()):
        tree = sqlglot.parse_one(node["compiled_code"], dialect="postgres")
        assert [str(e) for e in tree.expressions] == ["*"] and tree.args["from_"].name == "final", (
            f"{name} (Materialize) does not end with `select * from final`"
        )
        final = next((cte.this for cte in tree.ctes if cte.alias == "final"), None)
        assert final is not None, f"{name} (Materialize) has no top-level CTE `final`"
        assert final.named_selects == list(node["columns"]), (
            f"{name} (Materialize) selects {final.named_selects}, its contract says"
            f" {list(node['columns'])}"
        )
