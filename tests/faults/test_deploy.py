"""Changed models deploy themselves, blue/green, on one plant: a view mart that gains a column
and a new mart on it (deployed alone), a state model whose logic changes while the stream worker
runs and readers read every mart, and a var change whose deployment is killed between the build
beside and the swap. Afterwards every mart and state table equals a full rebuild of the edited
project."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dagster_project.core.ingest import ingest_records
from dagster_project.core.inventory import refresh as refresh_module
from dagster_project.core.inventory.deploy import read_record
from dagster_project.core.inventory.manifest import read_marts
from dagster_project.core.inventory.refresh import refresh
from tests.conftest import ROOT, run_cli
from tests.faults.plant import Plant, assert_equals_full_rebuild, kill, start_refresh, wait_for
from tests.faults.test_deploy_readers import Readers

pytestmark = pytest.mark.slow(160)  # seconds in a full run: the longest files start first

T = datetime(2026, 11, 5, tzinfo=UTC)


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A copy of the dbt project for the test to edit: this process's dbt and every process it
    starts run it."""
    copy = tmp_path / "dbt_project"
    shutil.copytree(ROOT / "dbt_project", copy, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.setattr(refresh_module, "DBT_PROJECT_DIR", copy)
    monkeypatch.setenv("INVENTORY_DBT_PROJECT_DIR", str(copy))
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def add_column(properties: Path, model: str, column: str) -> None:
    """Declare `column` (YAML) in `model`'s contract, after its as_of."""
    text, as_of = properties.read_text(), "      - *as_of\n"
    at = text.index(as_of, text.index(f"  - name: {model}\n")) + len(as_of)
    properties.write_text(text[:at] + column + text[at:])


def relations(conn) -> dict[str, tuple[int, str | None]]:
    """Every relation dbt builds: its oid, and a view's definition."""
    return {
        f"{schema}.{name}": (oid, definition)
        for schema, name, oid, definition in conn.execute(
            """
            select n.nspname, c.relname, c.oid,
                case when c.relkind = 'v' then pg_get_viewdef(c.oid) end
            from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
            where n.nspname in ('staging', 'intermediate', 'marts') and c.relkind in ('r', 'v')
            """
        )
    }


def lease_holder(conn) -> str | None:
    row = conn.execute("select holder from ops.refresh_lease").fetchone()
    return row[0] if row else None


def test_changed_models_deploy_themselves(conn, settings, tmp_path, project, monkeypatch):
    plant = Plant(tmp_path / "plant", chunks=6, days=4)
    plant.load_reference(conn)
    plant.feed(conn)
    assert refresh(settings, as_of=T).deployed == ()  # the first deployment: everything built

    # a view mart gains a column: that view is replaced, nothing else is touched
    before = relations(conn)
    edit(
        project / "models/marts/inventory/wip_position.sql",
        "{{ as_of() }} as as_of\n",
        "{{ as_of() }} as as_of,\n        units_completed > 0 as has_completed\n",
    )
    add_column(
        project / "models/marts/inventory/_inventory__models.yml",
        "wip_position",
        "      - name: has_completed\n        data_type: boolean\n"
        "        description: Whether any unit was completed.\n",
    )
    # and a new mart reads it: a model the deployed manifest lacks is a changed one
    (project / "models/marts/inventory/wip_by_work_center.sql").write_text(
        "select work_center_id, sum(wip_qty) as wip_qty\n"
        "from {{ ref('wip_position') }}\ngroup by work_center_id\n"
    )
    (project / "models/marts/inventory/_wip_by_work_center.yml").write_text(
        "version: 2\nmodels:\n  - name: wip_by_work_center\n    columns:\n"
        "      - {name: work_center_id, data_type: text}\n"
        "      - {name: wip_qty, data_type: numeric}\n"
    )
    done = run_cli("refresh", "--as-of", T.isoformat())
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    assert (
        "deployed (changed, and what reads them): wip_position, wip_by_work_center\n"
        in done.stderr.decode()
    )
    assert conn.execute("select count(*) from marts.wip_position where has_completed").fetchone()
    assert conn.execute("select sum(wip_qty) from marts.wip_by_work_center").fetchone() == (
        conn.execute("select sum(wip_qty) from marts.wip_position").fetchone()
    )
    after = relations(conn)
    assert after.pop("marts.wip_position") != before.pop("marts.wip_position")
    assert after.pop("marts.wip_by_work_center")
    assert after == before

    # a state model's logic changes while the worker runs and readers read every mart: the
    # worker deploys it, and never runs the new SQL on the totals the old SQL counted
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "dagster_project.cli", "stream", "--refresh-every", "1", "--no-erp"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    readers = Readers(settings)
    readers.start()
    try:
        plant.feed(conn)
        progress = "select refreshed_seq from ops.stream_progress"
        assert wait_for(lambda: (conn.execute(progress).fetchone() or [0])[0] > 0, 300)
        totals = relations(conn)["intermediate.int_wip_totals"][0]
        edit(
            project / "models/intermediate/inventory/int_wip_totals.sql",
            "sum(scrap_qty) as total_scrap",
            "sum(case when event_type = 'scrap' then scrap_qty else 0 end) as total_scrap",
        )
        plant.feed(conn)
        deployed = lambda: "int_wip_totals" in (read_record(settings) or {}).get("models", [])  # noqa: E731
        assert wait_for(deployed, 600, every=0.5), (tmp_path / "worker.log").read_text()[-3000:]
        assert relations(conn)["intermediate.int_wip_totals"][0] != totals
        committed = conn.execute("select max(ingest_seq) from raw.mes_events").fetchone()[0]
        assert wait_for(lambda: conn.execute(progress).fetchone()[0] >= committed, 300)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=120)
        readers.finish()
    assert not readers.errors, readers.errors
    assert readers.reads > 100

    # a var the spike model reads changes; its deployment is killed after the build beside,
    # before the swap: nothing changed, and the next refresh deploys it again
    edit(project / "dbt_project.yml", "spike_factor: 10", "spike_factor: 3")
    plant.feed(conn)
    spikes = relations(conn)["intermediate.int_movement_spikes"][0]
    recorded = read_record(settings)
    deploying = start_refresh("--as-of", T.isoformat())
    built_beside = "select to_regclass('deploy_intermediate.int_movement_spikes') is not null"
    assert wait_for(
        lambda: (
            (lease_holder(conn) or "").startswith("inventory refresh")
            and conn.execute(built_beside).fetchone()[0]
        ),
        600,
    ), deploying.poll()
    kill(deploying)
    assert relations(conn)["intermediate.int_movement_spikes"][0] == spikes
    assert read_record(settings) == recorded

    # a movement far above its SKU's usual size, ingested before the deployment and counted by
    # the refresh right after the swap: the swapped-in table takes it up from its carried-over
    # mark, which must be the live run it has read up to, not one past it
    sku, location = conn.execute(
        "select sku_id, location_id from raw.wms_events group by 1, 2 order by count(*) desc"
    ).fetchone()
    spike = {"event_id": "DEPLOYED-SPIKE", "event_type": "receipt", "sku_id": sku,
             "location_id": location, "qty_delta": 10**6, "unit_cost": 1,
             "event_ts": (T - timedelta(hours=1)).isoformat()}  # fmt: skip
    ingest_records(conn, "wms", [spike], "a spike")
    done = run_cli("refresh", "--as-of", T.isoformat())
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    assert "int_movement_spikes, movement_anomalies\n" in done.stderr.decode()
    found = "select count(*) from marts.movement_anomalies where event_id = 'DEPLOYED-SPIKE'"
    assert conn.execute(found).fetchone() == (1,)

    plant.feed(conn)
    refresh(settings, as_of=T)
    assert_equals_full_rebuild(settings, T)

    # back on this checkout's project, the marts are its own: the edited copy's manifest, newer
    # than every file here, is not taken for this project's
    monkeypatch.setattr(refresh_module, "DBT_PROJECT_DIR", ROOT / "dbt_project")
    assert "wip_by_work_center" not in {m.name for m in read_marts(settings)}
