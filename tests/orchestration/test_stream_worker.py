"""The stream worker keeps the marts and the ERP feed current without anyone calling refresh."""

from __future__ import annotations

import threading
import time

import pytest

from dagster_project.core.alerts import hold_erp_feed, release_erp_feed
from dagster_project.core.stream import StreamWorker, WorkerConfig, read_progress
from tests.erp.inventory import ingest_wms, load_params, wms


@pytest.fixture
def worker(conn, settings, reset_erp):
    reset_erp()
    w = StreamWorker(settings, WorkerConfig(refresh_every=0, poll_seconds=0))
    yield w
    w.close()


def open_requests(settings) -> list[tuple]:
    from dagster_project.core.erp.database import connect_erp

    with connect_erp(settings) as erp:
        return erp.execute(
            "select sku_id, location_id, suggested_order_qty from erp.replenishment_requests"
            " where status = 'open' order by 1, 2"
        ).fetchall()


def test_a_tick_refreshes_syncs_the_erp_and_records_progress(conn, settings, worker, tmp_path):
    load_params(conn, tmp_path)
    # S1 at L1: 30 received, 24 issued -> 6 available, below its static reorder point of 10
    ingest_wms(conn, wms("E1", "receipt", 30), wms("E2", "issue", -24))

    tick = worker.tick()

    assert tick.refreshed and tick.synced and tick.error is None
    assert (tick.opened, tick.closed) == (1, 0)
    # target 10 + 0 demand -> raw 10 - 6 = 4, rounded up to the multiple of 5
    assert open_requests(settings) == [("S1", "L1", 5)]
    progress = read_progress(conn)
    assert progress.committed_seq == progress.refreshed_seq == progress.synced_seq == 2
    assert progress.refreshes == 1 and progress.requests_opened == 1


def test_new_events_reach_the_erp_on_the_next_tick(conn, settings, worker, tmp_path):
    load_params(conn, tmp_path)
    ingest_wms(conn, wms("E1", "receipt", 30))
    assert worker.tick().opened == 0
    ingest_wms(conn, wms("E2", "issue", -24))
    assert worker.tick().opened == 1
    ingest_wms(conn, wms("E3", "receipt", 50))
    tick = worker.tick()
    assert tick.closed == 1 and open_requests(settings) == []
    assert read_progress(conn).synced_seq == 3


def test_a_hold_from_a_failed_blocking_check_pauses_the_erp_feed(conn, settings, worker, tmp_path):
    load_params(conn, tmp_path)
    ingest_wms(conn, wms("E1", "receipt", 30), wms("E2", "issue", -24))
    hold_erp_feed(conn, "marts/reorder_alerts:mart_keys_are_unique_and_not_null")

    held = worker.tick()
    assert not held.synced and held.held_by and open_requests(settings) == []
    assert "held" in read_progress(conn).last_error

    assert release_erp_feed(conn, "marts/reorder_alerts:mart_keys_are_unique_and_not_null")
    assert worker.tick().opened == 1


def test_only_one_worker_runs_against_a_database(conn, settings, worker):
    from dagster_project.core.db.locks import STREAM_LOCK, advisory_lock
    from dagster_project.core.stream.worker import WorkerAlreadyRunning

    with advisory_lock(settings, STREAM_LOCK) as taken:
        assert taken
        with pytest.raises(WorkerAlreadyRunning):
            worker.run(max_ticks=1)


def test_a_failing_tick_is_recorded_and_the_worker_goes_on(conn, settings, reset_erp):
    reset_erp()

    def broken_refresh():
        raise RuntimeError("dbt is unhappy")

    w = StreamWorker(settings, WorkerConfig(refresh_every=0), refresh=broken_refresh)
    try:
        tick = w.tick()
    finally:
        w.close()
    # the sync then finds no marts either: both are reported
    assert tick.error.startswith("RuntimeError: dbt is unhappy; ")
    assert read_progress(conn).last_error == tick.error


def test_running_it_refreshes_and_feeds_the_erp_side_by_side(conn, settings, worker, tmp_path):
    load_params(conn, tmp_path)
    ingest_wms(conn, wms("E1", "receipt", 30))
    runner = threading.Thread(target=worker.run)
    runner.start()
    try:
        deadline = time.monotonic() + 120
        while (p := read_progress(conn)) is None or p.refreshes == 0:
            assert time.monotonic() < deadline, "no refresh"
            time.sleep(0.2)
        ingest_wms(conn, wms("E2", "issue", -24))
        # the request comes from the read-time tail: no refresh needs to happen for it
        while open_requests(settings) != [("S1", "L1", 5)]:
            assert time.monotonic() < deadline, "no request"
            time.sleep(0.2)
    finally:
        worker.stop_event.set()
        runner.join(timeout=60)
    assert not runner.is_alive()
    assert read_progress(conn).requests_opened == 1
