"""`inventory new-mart` in a copy of the project, as an analytics engineer uses it: what it writes
builds with `dbt build -s NAME` on the embedded Postgres, is in the Dagster asset graph with its
checks, and keeps to one engine when asked; the worked example of docs/adding-a-mart.md builds
and passes its hand-computed unit test. Bad names are refused before anything is written."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from dagster_project.core.inventory.manifest import load_manifest, marts
from dagster_project.core.inventory.refresh import refresh
from tests.conftest import ROOT, dbt_offline, invoke_cli
from tests.faults.writers import plain_dbt_env
from tests.reference import domain
from tests.transform.test_mart_contract import (
    contract_gaps,
    has_a_unit_test,
    has_no_todo_left,
    is_described,
)
from tests.transform.test_model_rules import check_marts_on_both_engines

GUIDE = ROOT / "docs" / "adding-a-mart.md"
# what the package and the dbt project need to run from a copy
COPIED = ("dagster_project", "dbt_project", "expectations", "pyproject.toml")
LEFT_OUT = shutil.ignore_patterns("target", "logs", "dbt_packages", "__pycache__", ".user.yml")
# a fenced block of the guide that is a file, or is appended to one: ```sql file=<path>
BLOCK = re.compile(r"^```(\w+) (file|append)=(\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def guide_blocks() -> list[tuple[str, str, str, str]]:
    blocks = BLOCK.findall(GUIDE.read_text())
    assert blocks, f"no file blocks in {GUIDE}"
    return blocks


def node_name(unique_id: str) -> str:
    # test.<project>.<name>.<hash>; model.<project>.<name>; unit_test.<project>.<model>.<name>
    parts = unique_id.split(".")
    return parts[-2] if parts[0] == "test" else parts[-1]


def in_copy(root: Path, home: Path, script: str, *args: str) -> subprocess.Popen:
    """Python in the copy: its package first on the path, its own state folder (so its dbt
    manifest is not the session's); stdin and stdout are pipes, stderr goes to copy.stderr
    beside `home`."""
    env = {**os.environ, "PYTHONPATH": str(root), "INVENTORY_HOME": str(home)}
    with open(home.with_name("copy.stderr"), "w") as stderr:
        return subprocess.Popen(
            [sys.executable, "-c", script, *args],
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )


def plain_dbt(settings, root: Path, scratch: Path, *args: str) -> object:
    """dbt in the copy's project against the session's server, with plain dbt's environment
    (none of the variables `inventory` sets: the profile finds the socket itself), in this
    process: a child would only import dbt again."""
    from dbt.cli.main import dbtRunner

    project = root / "dbt_project"
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(plain_dbt_env(settings, scratch) | {"PWD": str(project)})
    try:
        return dbtRunner().invoke(
            [*args, "--project-dir", str(project), "--profiles-dir", str(project), "--quiet"]
        )
    finally:
        os.environ.clear()
        os.environ.update(saved)


# One process of the copy (each would import dbt and parse again): `inventory` commands, then,
# once the parent has written more files and says so on stdin, the Dagster asset graph
COMMANDS = """
import json, sys
from typer.testing import CliRunner
from dagster_project.cli import app
done = []
for args in json.loads(sys.argv[1]):
    result = CliRunner().invoke(app, args, prog_name="inventory")
    done.append({"exit_code": result.exit_code, "stdout": result.stdout,
                 "stderr": result.stderr, "exception": repr(result.exception)})
print("COMMANDS", json.dumps(done), flush=True)
sys.stdin.readline()
"""


GRAPH = """
import json, dagster as dg
from dagster_project.definitions import defs
from dagster_project.defs.stream.sensors import KEPT_CURRENT
graph = defs().resolve_asset_graph()
found = {}
for name in %r:
    key = dg.AssetKey(["marts", name])
    if not graph.has(key):
        continue
    node = graph.get(key)
    found[name] = {
        "group": node.group_name,
        "parents": sorted(k.to_user_string() for k in node.parent_keys),
        "checks": sorted(c.name for c in graph.asset_check_keys if c.asset_key == key),
        "observed": key in KEPT_CURRENT,
    }
print(json.dumps(found))
"""


@pytest.mark.slow
def test_new_marts_build_and_are_assets_with_their_checks(conn, settings, tmp_path):
    root, home, scratch = tmp_path / "project", tmp_path / "home", tmp_path / "dbt"
    root.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=LEFT_OUT)
        else:
            shutil.copy2(source, root / name)
    models = root / "dbt_project" / "models" / "marts" / "inventory"

    commands = [
        ["new-mart", "idle_pairs", "--keys", "sku_id,location_id"],
        ["new-mart", "idle_skus", "--keys", "sku_id", "--postgres-only"],
    ]
    graph_of = ["idle_pairs", "idle_skus", "slow_movers"]
    copy = in_copy(root, home, COMMANDS + GRAPH % (graph_of,), json.dumps(commands))
    lines = iter(copy.stdout.readline, "")
    said = next((line for line in lines if line.startswith("COMMANDS ")), "")
    assert said, home.with_name("copy.stderr").read_text()[-5000:]
    for made in json.loads(said.removeprefix("COMMANDS ")):
        assert made["exit_code"] == 0, made
        assert "wrote dbt_project/models/marts/inventory/" in made["stdout"]
    assert (models / "idle_pairs.sql").exists()
    assert (models / "postgres" / "idle_skus.sql").exists()
    assert "idle_skus reads inventory_turns_30d" in made["stderr"]  # the mart keyed by sku_id alone

    # the guide's worked example, in the files the command writes to
    for _, how, path, text in guide_blocks():
        target = root / path
        if path.startswith("tests/"):
            continue  # the reference, checked below without a database
        if how == "file":
            target.write_text(text)
        else:
            target.write_text(target.read_text().rstrip("\n") + "\n\n" + text)

    # the copy's process reads the asset graph now, and the build goes on meanwhile
    copy.stdin.write("go\n")
    copy.stdin.close()

    refresh(settings)  # the models the new marts read
    built = plain_dbt(settings, root, scratch, "build", "-s", "idle_pairs idle_skus slow_movers")
    assert built.success, (built.exception, scratch / "logs" / "dbt.log")
    results = json.loads((scratch / "target" / "run_results.json").read_text())["results"]
    statuses = {node_name(r["unique_id"]): r["status"] for r in results}
    for node in (
        "idle_pairs",
        "idle_pairs__one_row_per_key",
        "unique_key_columns_idle_pairs_sku_id__location_id",
        "idle_skus",
        "unique_idle_skus_sku_id",
        "slow_movers",
        "slow_movers__no_issue_in_the_half_open_30_days",
        "unique_key_columns_slow_movers_sku_id__location_id",
    ):
        assert statuses.get(node) in ("success", "pass"), (node, statuses)

    # what is left to write after the command, and nothing after the guide's example
    found = {m.name: m for m in marts(load_manifest(scratch / "target" / "manifest.json"))}
    scaffolded = found["idle_pairs"]
    left = [is_described(scaffolded), has_a_unit_test(scaffolded), has_no_todo_left(scaffolded)]
    assert all(left)
    assert contract_gaps(scaffolded) == [gap for gaps in left for gap in gaps]
    assert contract_gaps(found["slow_movers"]) == []
    assert found["idle_skus"].path == "models/marts/inventory/postgres/idle_skus.sql"

    graph = copy.stdout.read()
    assert copy.wait(timeout=600) == 0, home.with_name("copy.stderr").read_text()[-5000:]
    assets = json.loads(graph.strip().splitlines()[-1])
    assert assets["idle_pairs"]["group"] == "marts"
    assert assets["idle_pairs"]["parents"] == ["marts/inventory_position"]
    assert assets["idle_skus"]["parents"] == ["marts/inventory_turns_30d"]
    assert assets["slow_movers"]["parents"] == [
        "intermediate/int_wms_movements",
        "marts/inventory_position",
    ]
    assert "unique_key_columns_idle_pairs_sku_id__location_id" in assets["idle_pairs"]["checks"]
    assert "not_null_idle_pairs_location_id" in assets["idle_pairs"]["checks"]
    assert "unique_idle_skus_sku_id" in assets["idle_skus"]["checks"]
    assert all(asset["observed"] for asset in assets.values())

    # on Materialize the Postgres-only mart is disabled, the others indexed on their keys
    dbt_offline(tmp_path / "mz", "parse", "materialize", project=root / "dbt_project")
    manifest = load_manifest(tmp_path / "mz" / "target" / "manifest.json")
    on_materialize = {m.name for m in marts(manifest)}
    assert {"idle_pairs", "slow_movers"} <= on_materialize
    assert "idle_skus" not in on_materialize
    indexes = manifest["nodes"]["model.realtime_inventory.idle_pairs"]["config"]["indexes"]
    assert [index["columns"] for index in indexes] == [["sku_id", "location_id"]]
    # the layout rule allows a mart on one engine when it is in that engine's folder
    check_marts_on_both_engines(load_manifest(scratch / "target" / "manifest.json"), manifest)


def test_the_guides_reference_agrees_with_its_unit_test():
    """The worked example's plain-Python reference gives the rows its unit test expects."""
    blocks = {path: text for _, _, path, text in guide_blocks()}
    namespace = vars(domain).copy()
    exec(blocks["tests/reference/domain.py"], namespace)
    [case] = yaml.safe_load(blocks["dbt_project/models/marts/inventory/_inventory__unit_tests.yml"])
    given = {g["input"]: g["rows"] for g in case["given"]}

    def typed(row: dict) -> dict:
        # numbers compare equal as int and Decimal; instants need parsing
        return {
            k: datetime.fromisoformat(v) if isinstance(v, str) and k.endswith("_ts") else v
            for k, v in row.items()
        }

    as_of = datetime.fromisoformat(case["overrides"]["vars"]["as_of"])
    rows = namespace["slow_movers"](
        [typed(r) for r in given["ref('inventory_position')"]],
        [typed(r) for r in given["ref('int_wms_movements')"]],
        as_of,
    )
    expected = [typed({k: v for k, v in r.items() if k != "as_of"}) for r in case["expect"]["rows"]]
    assert rows == expected


@pytest.mark.parametrize(
    "args, says",
    [
        (["Slow-Movers", "--keys", "sku_id"], "'Slow-Movers' is not a valid identifier"),
        (["slow_movers", "--keys", "sku_id,sku_id"], "each column once"),
        (["slow_movers", "--keys", "sku_id", "--domain", "Bad Domain"], "--domain 'Bad Domain'"),
        (
            ["slow_movers", "--keys", "sku_id", "--postgres-only", "--materialize-only"],
            "choose one",
        ),
        (["inventory_position", "--keys", "sku_id"], "inventory_position already exists"),
        (["slow_movers", "--keys", "bin_id"], "no mart is keyed by (bin_id)"),
    ],
)
def test_a_bad_name_is_refused_and_nothing_written(settings, args, says):
    def project_files() -> dict[Path, float]:
        project = ROOT / "dbt_project"
        files = [*(project / "models").rglob("*"), project / "dbt_project.yml"]
        return {p: p.stat().st_mtime for p in files if p.is_file()}

    before = project_files()
    refused = invoke_cli("new-mart", *args)
    assert refused.exit_code == 2, (refused.output, refused.exception)
    assert says in refused.stderr, refused.stderr
    assert project_files() == before
