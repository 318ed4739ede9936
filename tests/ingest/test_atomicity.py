"""A batch is atomic: an ingest killed at any stage leaves nothing, and a re-run completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import orjson
import pytest

from dagster_project.core.db.locks import INGEST_LOCK

# big enough that each stage lasts a second or more: the kill lands inside it
EVENTS = 200_000

STAGES = {
    "copying": "select count(*) from pg_stat_progress_copy",
    "landing": (
        "select count(*) from pg_locks"
        f" where locktype = 'advisory' and objid = {INGEST_LOCK} and granted"
    ),
}


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("atomicity") / "big.jsonl"
    with open(path, "wb") as out:
        for i in range(EVENTS):
            record = {
                "event_id": f"BIG-{i:07d}",
                "event_type": "receipt",
                "sku_id": f"S{i % 997}",
                "location_id": f"L{i % 7}",
                "qty_delta": 1 + i % 50,
                "unit_cost": 1.25,
                "event_ts": "2026-11-02T08:00:00Z",
            }
            out.write(orjson.dumps(record) + b"\n")
    return path


def ingest_process(path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dagster_project.cli", "ingest", "wms", str(path), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )


def wait_for(conn, query: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while conn.execute(query).fetchone()[0] == 0:
        assert time.monotonic() < deadline, f"never reached: {query}"
        time.sleep(0.01)


def wait_until_no_other_ingest(conn, timeout: float = 120) -> None:
    wait_for(
        conn,
        "select (count(*) = 0)::int from pg_stat_activity"
        " where application_name = 'inventory' and pid <> pg_backend_pid()",
        timeout,
    )


@pytest.mark.slow
@pytest.mark.parametrize("stage", list(STAGES))
def test_killed_ingest_leaves_nothing_and_rerun_completes(conn, big_file, stage):
    process = ingest_process(big_file)
    wait_for(conn, STAGES[stage])
    process.send_signal(signal.SIGKILL)
    process.wait()
    wait_until_no_other_ingest(conn)

    assert conn.execute("select count(*) from raw.wms_events").fetchone()[0] == 0
    assert conn.execute("select count(*) from raw.ingest_batches").fetchone()[0] == 0
    assert conn.execute("select count(*) from raw.quarantine").fetchone()[0] == 0

    rerun = ingest_process(big_file)
    stdout, stderr = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr.decode()
    assert orjson.loads(stdout) == {
        "received": EVENTS,
        "accepted": EVENTS,
        "duplicates": 0,
        "quarantined": 0,
    }
    assert conn.execute("select count(*) from raw.wms_events").fetchone()[0] == EVENTS
    assert conn.execute("select count(*) from raw.ingest_batches").fetchone()[0] == 1
