"""Sensors evaluated against the embedded database and a real (ephemeral) Dagster instance."""

from __future__ import annotations

import json
import os
import signal
import time

import dagster as dg
import pytest

from dagster_project.core.stream import StreamWorker, WorkerConfig, read_progress
from dagster_project.defs.alerts.sensors import check_failure_alert_sensor
from dagster_project.defs.inventory.sensors import reference_data_sensor
from dagster_project.defs.stream import sensors
from dagster_project.defs.stream.sensors import KEPT_CURRENT, stream_worker_sensor
from tests.erp.inventory import ingest_wms, load_params, wms


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


def alerts(conn) -> list[tuple[str, str]]:
    return conn.execute("select kind, subject from ops.alerts order by alert_id").fetchall()


def evaluate(instance, cursor: str | None = None) -> dg.SensorResult:
    return stream_worker_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))


def test_no_heartbeat_past_the_start_grace_raises_one_alert_per_outage(
    conn, settings, instance, reset_erp, monkeypatch
):
    monkeypatch.setenv("INVENTORY_STREAM_AUTOSTART", "0")
    first = evaluate(instance)
    # nothing has reported yet, but a worker gets START_GRACE_SECONDS to write its first heartbeat
    assert alerts(conn) == []
    monkeypatch.setattr(sensors, "START_GRACE_SECONDS", 0.5)
    time.sleep(0.6)
    late = evaluate(instance, first.cursor)
    assert json.loads(late.cursor)["down"] is True
    again = evaluate(instance, late.cursor)
    assert again.asset_events == []
    assert alerts(conn) == [("stream_worker_down", "stream")]

    # it comes up, then its heartbeat stops: a second outage, alerted at once (no grace)
    reset_erp()
    worker = StreamWorker(settings, WorkerConfig(refresh_every=0))
    worker.tick()
    worker.close()
    up = evaluate(instance, again.cursor)
    assert "down" not in json.loads(up.cursor)
    conn.execute("update ops.stream_progress set heartbeat_at = now() - interval '1 hour'")
    evaluate(instance, up.cursor)
    assert alerts(conn) == [("stream_worker_down", "stream")] * 2


def test_the_heartbeat_a_stopped_demo_left_raises_no_alert_at_the_next_start(
    conn, settings, instance, reset_erp, monkeypatch
):
    """Stopping the demo stops the worker and the daemon: its last heartbeat grows old while
    nobody watches. The next start is not an outage; a worker that then never reports is."""
    monkeypatch.setenv("INVENTORY_STREAM_AUTOSTART", "0")
    reset_erp()
    worker = StreamWorker(settings, WorkerConfig(refresh_every=0))
    worker.tick()
    worker.close()
    up = json.loads(evaluate(instance).cursor)
    assert up["up"] is True
    # an hour later: the worker's heartbeat and the sensor's last evaluation are that old
    conn.execute("update ops.stream_progress set heartbeat_at = now() - interval '1 hour'")
    up["evaluated_at"] -= 3600

    restarted = evaluate(instance, json.dumps(up))

    assert alerts(conn) == []
    assert "waiting_since" in json.loads(restarted.cursor)
    monkeypatch.setattr(sensors, "START_GRACE_SECONDS", 0.5)
    time.sleep(0.6)
    evaluate(instance, restarted.cursor)
    assert alerts(conn) == [("stream_worker_down", "stream")]


def test_progress_is_observed_on_every_mart_it_keeps_current(
    conn, settings, instance, reset_erp, tmp_path
):
    reset_erp()
    load_params(conn, tmp_path)
    ingest_wms(conn, wms("E1", "receipt", 30), wms("E2", "issue", -24))
    worker = StreamWorker(settings, WorkerConfig(refresh_every=0))
    worker.tick()
    worker.close()

    result = stream_worker_sensor(dg.build_sensor_context(instance=instance))

    assert {e.asset_key for e in result.asset_events} == set(KEPT_CURRENT)
    metadata = result.asset_events[0].metadata
    assert metadata["refreshed_seq"].value == 2 and metadata["lag_events"].value == 0
    assert metadata["requests_opened"].value == 1
    # nothing new: the next evaluation records nothing
    again = stream_worker_sensor(dg.build_sensor_context(instance=instance, cursor=result.cursor))
    assert again.asset_events == []


def test_a_worker_far_behind_raises_an_alert(conn, settings, instance, reset_erp, monkeypatch):
    reset_erp()
    worker = StreamWorker(settings, WorkerConfig(refresh_every=0))
    worker.tick()
    worker.close()
    ingest_wms(conn, wms("E1", "receipt", 30))
    # the event waits for the next refresh; any wait counts as far behind here
    monkeypatch.setattr("dagster_project.defs.stream.sensors.BEHIND_AFTER_SECONDS", -1.0)

    result = stream_worker_sensor(dg.build_sensor_context(instance=instance))

    assert json.loads(result.cursor)["behind"] is True
    assert result.asset_events[0].metadata["lag_events"].value == 1
    assert alerts(conn) == [("stream_worker_behind", "stream")]


def test_a_worker_just_started_is_given_the_time_to_catch_up(
    conn, settings, instance, reset_erp, monkeypatch
):
    """After a stopped demo the events that came meanwhile wait for the new worker's first
    refresh: not behind yet. A worker that has run that long and still lags is."""
    reset_erp()
    worker = StreamWorker(settings, WorkerConfig(refresh_every=0))
    worker.tick()
    worker.close()
    ingest_wms(conn, wms("E1", "receipt", 30))
    conn.execute("update raw.wms_events set received_at = now() - interval '1 hour'")
    monkeypatch.setattr("dagster_project.defs.stream.sensors.BEHIND_AFTER_SECONDS", 60.0)

    just_started = evaluate(instance)
    assert json.loads(just_started.cursor)["behind"] is False
    conn.execute("update ops.stream_progress set started_at = now() - interval '2 minutes'")
    running = evaluate(instance, just_started.cursor)

    assert json.loads(running.cursor)["behind"] is True
    assert alerts(conn) == [("stream_worker_behind", "stream")]


@pytest.mark.slow
def test_the_sensor_starts_a_worker_without_alerting_then_alerts_when_it_dies(
    conn, instance, monkeypatch
):
    monkeypatch.setenv("INVENTORY_STREAM_AUTOSTART", "1")
    # a heartbeat left by a worker stopped long ago, as after the last demo
    conn.execute(
        "insert into ops.stream_progress (worker_name, pid, started_at, heartbeat_at,"
        " committed_seq, refreshed_seq, synced_seq, refreshes, requests_opened, requests_closed)"
        " values ('stream', 1, now() - interval '1 day', now() - interval '1 day', 0, 0, 0, 0,"
        " 0, 0)"
    )
    result = evaluate(instance)
    deadline = time.monotonic() + 120
    # the daemon evaluates it every 15 s; here every second, while the worker it started comes up
    while (progress := read_progress(conn)).pid == 1:
        assert time.monotonic() < deadline, "the worker never reported a heartbeat"
        time.sleep(1)
        result = evaluate(instance, result.cursor)
    result = evaluate(instance, result.cursor)
    assert alerts(conn) == [], "an alert while the worker it started was starting"
    assert json.loads(result.cursor)["up"] is True
    assert progress.heartbeat_age() < 30

    # it dies (it is this process's child: reap it); its heartbeat goes stale: a real outage
    os.kill(progress.pid, signal.SIGKILL)
    os.waitpid(progress.pid, 0)
    monkeypatch.setenv("INVENTORY_STREAM_AUTOSTART", "0")
    monkeypatch.setattr(sensors, "STALE_AFTER_SECONDS", 2.0)
    while read_progress(conn).heartbeat_age() <= 2.0:
        time.sleep(0.5)
    down = evaluate(instance, result.cursor)
    assert json.loads(down.cursor)["down"] is True
    assert alerts(conn) == [("stream_worker_down", "stream")]


def test_new_reference_data_requests_one_health_refresh(conn, instance, tmp_path):
    assert isinstance(
        reference_data_sensor(dg.build_sensor_context(instance=instance)), dg.SkipReason
    )
    load_params(conn, tmp_path)
    request = reference_data_sensor(dg.build_sensor_context(instance=instance))
    assert isinstance(request, dg.RunRequest) and request.run_key.startswith("reference-")
    context = dg.build_sensor_context(instance=instance, cursor=request.tags["reference_loaded_at"])
    assert isinstance(reference_data_sensor(context), dg.SkipReason)


@dg.asset(key=["marts", "reorder_alerts"])
def planted_alerts() -> None:
    """Stands in for the mart: the check below judges a key condition it is told to."""


@dg.asset_check(asset=planted_alerts, blocking=True)
def keys_are_unique(context) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=os.environ["PLANTED_KEYS_OK"] == "1")


def test_a_failed_blocking_check_alerts_and_holds_the_erp_feed_until_it_passes(
    conn, instance, monkeypatch
):
    defs = dg.Definitions(assets=[planted_alerts], asset_checks=[keys_are_unique])
    check = "marts/reorder_alerts:keys_are_unique"

    monkeypatch.setenv("PLANTED_KEYS_OK", "0")
    dg.materialize([planted_alerts, keys_are_unique], instance=instance, raise_on_error=False)
    context = dg.build_sensor_context(instance=instance, definitions=defs)
    check_failure_alert_sensor(context)
    assert alerts(conn) == [("check_failed", check)]
    assert conn.execute("select check_name from ops.sink_holds").fetchall() == [(check,)]

    monkeypatch.setenv("PLANTED_KEYS_OK", "1")
    dg.materialize([planted_alerts, keys_are_unique], instance=instance)
    context = dg.build_sensor_context(instance=instance, definitions=defs, cursor=context.cursor)
    check_failure_alert_sensor(context)
    assert conn.execute("select count(*) from ops.sink_holds").fetchone()[0] == 0
    assert len(alerts(conn)) == 1
