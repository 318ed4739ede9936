"""What deploying changed models costs a refresh: the check every refresh makes on an unchanged
project (the stream worker refreshes every few seconds), the state comparison a change costs,
and a deployment of a changed view and of a changed state model.

    python bench/deploy_bench.py [--days 10] [--skus 50]

Runs a copy of the dbt project (INVENTORY_DBT_PROJECT_DIR), which it edits, against a simulated
plant in its own state folder (`<INVENTORY_HOME>/bench-deploy`, emptied).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = Path(tempfile.mkdtemp(prefix="bench-deploy-")) / "dbt_project"
shutil.copytree(ROOT / "dbt_project", PROJECT, ignore=shutil.ignore_patterns("target", "logs"))
os.environ["INVENTORY_DBT_PROJECT_DIR"] = str(PROJECT)  # before the platform reads it

from common import fresh_state, machine  # noqa: E402

from dagster_project.core.db import connect  # noqa: E402
from dagster_project.core.inventory import refresh as refresh_module  # noqa: E402
from dagster_project.core.inventory.deploy import changed_models  # noqa: E402
from dagster_project.core.inventory.refresh import Refresher  # noqa: E402

AS_OF = datetime(2026, 11, 12, tzinfo=UTC)


def median_ms(fn, times: int) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "dagster_project.cli", *args], check=True,
                   capture_output=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--skus", type=int, default=50)
    options = parser.parse_args()
    settings = fresh_state("bench-deploy")
    print(machine())
    plant = settings.state_dir / "plant"
    cli("simulate", "--out", str(plant), "--days", str(options.days), "--skus", str(options.skus))
    for source, name in (("skus", "skus.csv"), ("sku-params", "sku_params.csv"),
                         ("uom", "uom_conversions.csv")):  # fmt: skip
        cli("load", source, str(plant / name))
    for source, name in (("wms", "wms_events.jsonl"), ("mes", "mes_events.jsonl"),
                         ("orders", "order_lines.jsonl")):  # fmt: skip
        cli("ingest", source, str(plant / name))

    refresher = Refresher(settings)
    refresher.refresh(as_of=AS_OF)  # the first deployment
    manifest = refresher._current_manifest()

    print("\nunchanged project, per refresh (medians):")
    stamp = median_ms(refresh_module.project_stamp, 200)
    check = median_ms(lambda: refresher._to_deploy(manifest, False), 200)
    assert refresher._to_deploy(manifest, False)[0] == ()
    print(f"  modification-time stamp (as before): {stamp:.2f} ms")
    print(f"  is the project the deployed one (a small file's read): {check:.3f} ms")
    with connect(settings) as conn:
        views = (
            "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'marts' and c.relkind = 'v'"
        )
        missing = (
            "select count(*) from unnest(%s::text[], %s::text[]) as r(schema_name, name)"
            " where to_regclass(format('%%I.%%I', r.schema_name, r.name)) is null"
        )
        relations = list(refresher._relations)
        before = median_ms(lambda: conn.execute(views).fetchone(), 200)
        after = median_ms(lambda: conn.execute(missing, relations).fetchone(), 200)
    print(f"  every model's relation looked up: {after:.2f} ms (the view count it replaces: "
          f"{before:.2f} ms)")  # fmt: skip
    instants = iter(AS_OF + timedelta(minutes=m) for m in range(1, 100))
    whole = median_ms(lambda: refresher.refresh(as_of=next(instants)), 10)
    print(f"  a whole refresh with no new events: {whole:.0f} ms")

    print("\na change:")
    digest = median_ms(refresh_module.project_digest, 20)
    print(f"  the project's digest (when a modification time changed): {digest:.1f} ms")
    model = PROJECT / "models/marts/inventory/wip_position.sql"
    model.write_text(model.read_text().replace("with\n", "-- edited\nwith\n", 1))
    started = time.perf_counter()
    manifest = refresher._current_manifest()
    parsed = time.perf_counter() - started
    started = time.perf_counter()
    found = changed_models(settings, manifest, refresher._digest, refresher._vars,
                           refresher._invoke)  # fmt: skip
    compared = time.perf_counter() - started
    print(f"  partial parse of the edited project: {parsed:.1f} s")
    print(f"  state comparison (dbt ls -s state:modified+): {compared:.1f} s -> "
          f"{', '.join(m.name for m in found)}")  # fmt: skip
    started = time.perf_counter()
    result = refresher.refresh(as_of=AS_OF)
    print(f"  refresh that deploys {', '.join(result.deployed)}: "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    state = PROJECT / "models/intermediate/inventory/int_wip_totals.sql"
    state.write_text(state.read_text().replace("with\n", "-- edited\nwith\n", 1))
    started = time.perf_counter()
    result = refresher.refresh(as_of=AS_OF)
    print(f"  refresh that deploys {', '.join(result.deployed)}: "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    shutil.rmtree(PROJECT.parent)


if __name__ == "__main__":
    main()
