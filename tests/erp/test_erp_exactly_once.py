"""No request lost or doubled: sinks killed around their commit, racing, or beaten by a writer."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from dagster_project.core.erp import sync_once
from dagster_project.core.erp.sink import apply_snapshot, read_inventory
from dagster_project.core.inventory.refresh import refresh

from .inventory import AS_OF, ingest_wms, load_params, wms

CHILD = (
    "from dagster_project.core.erp import sync_once;"
    " from dagster_project.core.settings import Settings;"
    " print(sync_once(Settings()))"
)


@pytest.fixture
def s1_below(conn, settings, tmp_path) -> psycopg.Connection:
    """S1 at L1 has 4 against a reorder point of 10 (seq 1); S2 has 100 (seq 2)."""
    load_params(conn, tmp_path)
    ingest_wms(conn, wms("E1", "receipt", 4), wms("E2", "receipt", 100, sku="S2"))
    refresh(settings, as_of=AS_OF)
    return conn


def sync_in_child(crash_at: str) -> subprocess.CompletedProcess:
    """A sink in its own process (with this session's INVENTORY_HOME), killed at `crash_at`."""
    env = {**os.environ, "INVENTORY_SINK_CRASH_AT": crash_at}
    return subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120
    )


def state(erp: psycopg.Connection) -> tuple:
    requests = erp.execute(
        "select sku_id, status from erp.replenishment_requests order by request_id"
    ).fetchall()
    seq = erp.execute("select ingest_seq from erp.sink_progress").fetchone()
    health = erp.execute("select count(*) from erp.inventory_health_live").fetchone()[0]
    return requests, seq, health


def test_a_sink_killed_before_or_after_its_commit_loses_and_doubles_nothing(
    s1_below, erp, settings
):
    died = sync_in_child("before_erp_commit")
    assert died.returncode == 137, died.stderr
    assert state(erp) == ([], None, 0)  # the open transaction died with the process

    died = sync_in_child("after_erp_commit")
    assert died.returncode == 137, died.stderr
    assert state(erp) == ([("S1", "open")], (2,), 2)

    # the caller never learnt of that commit and retries: the retry finds nothing to do
    assert sync_in_child("after_erp_commit").returncode == 137
    result = sync_once(settings)
    assert (result.opened, result.closed, result.health_upserted, result.ingest_seq) == (0, 0, 0, 2)
    assert state(erp) == ([("S1", "open")], (2,), 2)

    # seq 3: S1 back to 24; closed by a killed sink, and the retry closes nothing more
    ingest_wms(s1_below, wms("E3", "receipt", 20, days_ago=1))
    assert sync_in_child("after_erp_commit").returncode == 137
    result = sync_once(settings)
    assert (result.opened, result.closed, result.ingest_seq) == (0, 0, 3)
    assert state(erp) == ([("S1", "closed")], (3,), 2)


def test_racing_sinks_open_one_request(s1_below, erp, settings):
    start = threading.Barrier(4)
    results = []

    def sink() -> None:
        start.wait()
        results.append(sync_once(settings))

    threads = [threading.Thread(target=sink) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(r.opened for r in results) == [0, 0, 0, 1]
    assert state(erp) == ([("S1", "open")], (2,), 2)


def test_a_request_inserted_by_another_writer_first_is_not_doubled(s1_below, erp, settings):
    # a writer that ignores the sink's lock holds an uncommitted open request for S1
    intruder = psycopg.connect(erp.info.dsn, password=erp.info.password)
    intruder.execute(
        """
        insert into erp.replenishment_requests (sku_id, location_id, available_qty,
            reorder_point, qty_below_rop, suggested_order_qty, inventory_status)
        values ('S1', 'L1', 4, 10, -6, 99, 'reorder_now')
        """
    )
    results = []
    sink = threading.Thread(target=lambda: results.append(sync_once(settings)))
    sink.start()
    wait_until_blocked(erp)  # our insert waits on the unique index for the intruder's row
    intruder.commit()
    intruder.close()
    sink.join(timeout=60)

    # the unique index refused our insert; the retry saw the intruder's request and kept it
    assert (results[0].opened, results[0].closed) == (0, 0)
    assert erp.execute(
        "select sku_id, status, suggested_order_qty from erp.replenishment_requests"
    ).fetchall() == [("S1", "open", 99)]


def test_an_older_snapshot_is_not_applied_after_a_newer_one(s1_below, erp, settings):
    older = read_inventory(s1_below)  # S1 alerting, seq 2
    ingest_wms(s1_below, wms("E3", "receipt", 20, days_ago=1))
    assert sync_once(settings).ingest_seq == 3  # S1 no longer alerting: nothing opened

    late = apply_snapshot(erp, older.alerts, health=older.health, ingest_seq=older.ingest_seq)

    assert late.skipped and late.opened == 0
    assert state(erp) == ([], (3,), 2)


def wait_until_blocked(erp: psycopg.Connection, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = erp.execute(
            "select count(*) from pg_stat_activity"
            " where application_name = 'inventory-erp' and wait_event_type = 'Lock'"
        ).fetchone()[0]
        if waiting:
            return
        time.sleep(0.05)
    raise AssertionError("the sink never blocked on the other writer's row")
