"""Watch the stream worker: start it when it is not running, record its progress on the marts it
keeps current, and raise an alert when it falls behind."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from dagster_project.core.alerts import raise_alert
from dagster_project.core.db import connect
from dagster_project.core.settings import child_env, get_settings
from dagster_project.core.stream import committed_seq, read_progress
from dagster_project.defs.erp.assets import INVENTORY_HEALTH_LIVE, REPLENISHMENT_REQUESTS
from dagster_project.defs.inventory.project import mart_asset_keys

# The marts whose stored state the worker refreshes, and the ERP tables it feeds.
KEPT_CURRENT = [*mart_asset_keys(), REPLENISHMENT_REQUESTS, INVENTORY_HEALTH_LIVE]

_settings = get_settings()
STALE_AFTER_SECONDS = _settings.stream_stale_seconds
# How long a worker may take to write its first heartbeat once the sensor has started it (or,
# with INVENTORY_STREAM_AUTOSTART=false, once the sensor has started watching): the imports and
# dbt's parse take a while on a busy machine. Only then is its silence an outage.
START_GRACE_SECONDS = _settings.stream_start_grace_seconds
# Evaluations further apart than this: the sensor was not watching (the daemon was stopped, as
# at the end of a demo), so a stale heartbeat then says nothing about an outage.
WATCH_GAP_SECONDS = max(2 * STALE_AFTER_SECONDS, 60.0)
BEHIND_AFTER_SECONDS = _settings.stream_behind_seconds
# an observation per mart per refresh would be ~50k events a day in the instance's event log
OBSERVE_EVERY_SECONDS = _settings.stream_observe_seconds

OLDEST_UNREFRESHED = """
select received_at from raw.wms_events where ingest_seq > %s order by ingest_seq limit 1
"""


def worker_pid_file(settings) -> Path:
    return settings.runtime_dir / "stream.pid"


def _started_worker_alive(settings) -> int | None:
    try:
        pid = int(worker_pid_file(settings).read_text())
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError):
        return None
    return pid if state != "Z" else None


def start_worker() -> int:
    """Start `inventory stream` detached, logging into the state folder; return its pid.

    The pid is kept in the state folder so that `inventory ui` stops the worker it brought up,
    and leaves alone one that an operator started on their own. A worker started earlier that
    has not reported yet (its first refresh can take a while) is left to come up."""
    settings = get_settings()
    if (pid := _started_worker_alive(settings)) is not None:
        return pid
    log_dir = settings.state_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / "stream.log", "ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "dagster_project.cli", "stream"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=child_env(settings),
        )
    worker_pid_file(settings).write_text(str(process.pid))
    return process.pid


def _not_running(context, conn, cursor: dict, progress, now: datetime, watching: bool):
    """No fresh heartbeat: start the worker, and alert once per outage. An outage is a worker
    seen running at the last evaluation that went silent, or one that has not written its first
    heartbeat START_GRACE_SECONDS after the sensor began waiting for it (the worker it started,
    one started by hand); not a worker starting up, nor the heartbeat a stopped demo left."""
    if get_settings().stream_autostart:
        pid = start_worker()
        context.log.info(f"stream worker was not running: started pid {pid}")
    if not watching:  # a new start: what was seen before the daemon stopped no longer holds
        cursor = {k: v for k, v in cursor.items() if k not in ("down", "up", "waiting_since")}
    message = None
    if cursor.pop("up", False):
        message = "no heartbeat from the stream worker" + (
            f" for {progress.heartbeat_age(now):.0f} s" if progress else ""
        )
    elif not cursor.get("down"):
        since = cursor.setdefault("waiting_since", now.timestamp())
        if now.timestamp() - since > START_GRACE_SECONDS:
            message = (
                f"the stream worker has not reported {now.timestamp() - since:.0f} s after the "
                "sensor started waiting for it"
            )
    if message is not None:
        raise_alert(conn, "stream_worker_down", "stream", message)
        cursor["down"] = True
    return dg.SensorResult(cursor=json.dumps(cursor))


@dg.sensor(
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts the stream worker when its heartbeat stops, records the ingest_seq it "
    "reached and its lag on the marts it keeps current, and alerts when it stops or falls behind "
    "(not while a worker it started comes up: INVENTORY_STREAM_START_GRACE_SECONDS).",
)
def stream_worker_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    cursor = json.loads(context.cursor) if context.cursor else {}
    now = datetime.now(UTC)
    watching = now.timestamp() - cursor.get("evaluated_at", float("-inf")) <= WATCH_GAP_SECONDS
    cursor["evaluated_at"] = now.timestamp()
    with connect(get_settings()) as conn:
        progress = read_progress(conn)
        seq = committed_seq(conn)
        if progress is None or progress.heartbeat_age(now) > STALE_AFTER_SECONDS:
            return _not_running(context, conn, cursor, progress, now, watching)
        # it is up: the next outage alerts again
        cursor = {k: v for k, v in cursor.items() if k not in ("down", "waiting_since")}
        cursor["up"] = True
        oldest = conn.execute(OLDEST_UNREFRESHED, [progress.refreshed_seq]).fetchone()
        lag_seconds = (now - oldest[0]).total_seconds() if oldest else 0.0
        lag_events = seq - progress.refreshed_seq
        # a worker that has just started (after a stopped demo, say) is given the time to catch up
        started = (now - progress.started_at).total_seconds() > BEHIND_AFTER_SECONDS
        behind = started and lag_seconds > BEHIND_AFTER_SECONDS
        if behind and not cursor.get("behind"):
            raise_alert(
                conn,
                "stream_worker_behind",
                "stream",
                f"the marts' stored state is {lag_seconds:.0f} s behind ({lag_events:,} events)",
                {"refreshed_seq": progress.refreshed_seq, "committed_seq": seq},
            )
    metadata = {
        "committed_seq": seq,
        "refreshed_seq": progress.refreshed_seq,
        "synced_seq": progress.synced_seq,
        "lag_events": lag_events,
        "lag_seconds": round(lag_seconds, 1),
        "last_refresh_at": str(progress.last_refresh_at),
        "last_refresh_seconds": progress.last_refresh_seconds or 0.0,
        "requests_opened": progress.requests_opened,
        "requests_closed": progress.requests_closed,
        "worker_pid": progress.pid,
        "last_error": progress.last_error or "",
    }
    moved = cursor.get("refreshed_seq") != progress.refreshed_seq
    due = now.timestamp() - cursor.get("observed_at", 0) >= OBSERVE_EVERY_SECONDS
    events = []
    if (moved and due) or behind != cursor.get("behind", False):
        events = [dg.AssetObservation(asset_key=key, metadata=metadata) for key in KEPT_CURRENT]
        cursor |= {"refreshed_seq": progress.refreshed_seq, "observed_at": now.timestamp()}
    return dg.SensorResult(asset_events=events, cursor=json.dumps({**cursor, "behind": behind}))
