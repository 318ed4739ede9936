"""Watch the stream worker: start it when it is not running, record its progress on the marts it
keeps current, and raise an alert when it falls behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from dagster_project.db import connect
from dagster_project.settings import get_settings
from dagster_project.stream import committed_seq, read_progress
from dagster_project.stream.alerts import raise_alert

# The marts whose stored state the worker refreshes, and the ERP tables it feeds.
KEPT_CURRENT = [
    dg.AssetKey(["marts", name])
    for name in (
        "inventory_position",
        "inventory_health",
        "reorder_alerts",
        "demand_velocity_7d",
        "inventory_turns_30d",
        "scrap_rate_alerts",
        "wip_position",
        "movement_anomalies",
    )
] + [dg.AssetKey(["erp", "replenishment_requests"]), dg.AssetKey(["erp", "inventory_health_live"])]

STALE_AFTER_SECONDS = float(os.environ.get("INVENTORY_STREAM_STALE_SECONDS", "30"))
BEHIND_AFTER_SECONDS = float(os.environ.get("INVENTORY_STREAM_BEHIND_SECONDS", "120"))
# an observation per mart per refresh would be ~50k events a day in the instance's event log
OBSERVE_EVERY_SECONDS = float(os.environ.get("INVENTORY_STREAM_OBSERVE_SECONDS", "60"))

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
            env={**os.environ, "INVENTORY_HOME": str(settings.state_dir)},
        )
    worker_pid_file(settings).write_text(str(process.pid))
    return process.pid


@dg.sensor(
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts the stream worker when its heartbeat stops, records the ingest_seq it "
    "reached and its lag on the marts it keeps current, and alerts when it falls behind.",
)
def stream_worker_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    cursor = json.loads(context.cursor) if context.cursor else {}
    now = datetime.now(UTC)
    with connect(get_settings()) as conn:
        progress = read_progress(conn)
        seq = committed_seq(conn)
        if progress is None or progress.heartbeat_age(now) > STALE_AFTER_SECONDS:
            if os.environ.get("INVENTORY_STREAM_AUTOSTART", "1") != "0":
                pid = start_worker()
                context.log.info(f"stream worker was not running: started pid {pid}")
            if not cursor.get("down"):
                raise_alert(
                    conn,
                    "stream_worker_down",
                    "stream",
                    "no heartbeat from the stream worker"
                    + (f" for {progress.heartbeat_age(now):.0f} s" if progress else ""),
                )
            return dg.SensorResult(cursor=json.dumps({**cursor, "down": True}))
        cursor.pop("down", None)  # it is up: the next outage alerts again
        oldest = conn.execute(OLDEST_UNREFRESHED, [progress.refreshed_seq]).fetchone()
        lag_seconds = (now - oldest[0]).total_seconds() if oldest else 0.0
        lag_events = seq - progress.refreshed_seq
        behind = lag_seconds > BEHIND_AFTER_SECONDS
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
