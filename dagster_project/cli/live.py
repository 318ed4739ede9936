"""The demo's live part: the Dagster UI and daemon, the stream worker, and a simulated feed."""

from __future__ import annotations

import sys
import time

from dagster_project.cli.common import err
from dagster_project.cli.ui import Supervisor, interrupt_on_sigterm, start_ui
from dagster_project.core.db import connect
from dagster_project.core.erp.database import connect_erp, ensure_erp
from dagster_project.core.settings import Settings
from dagster_project.core.stream import committed_seq, read_progress

WHERE_TO_CLICK = """\
[bold]Live:[/bold] Dagster on http://127.0.0.1:{port} — the plant keeps running until Ctrl-C.
  • Lineage: "Lineage" in the left navigation: landing → staging → intermediate → marts → erp.
  • The worker's progress: Catalog → marts/reorder_alerts → Overview → Metadata → Plots
    (ingest_seq and refresh_seconds from its reports, lag_events and lag_seconds); Freshness
    policy beside it.
  • Checks: Catalog → marts/inventory_position → Checks; they run every ten minutes after a
    refresh (checks_after_refresh_sensor), or with "Materialize" on the marts.
  • Sensors and schedules: Automation (stream_worker_sensor started the worker;
    nightly_full_validation_schedule compares the marts with a full rebuild).
  • Alerts raised: psql "$(inventory db url)" -c 'select * from ops.alerts'
"""


def _status(settings: Settings) -> str:
    with connect(settings) as conn, connect_erp(settings) as erp:
        seq = committed_seq(conn)
        progress = read_progress(conn)
        (open_requests,) = erp.execute(
            "select count(*) from erp.replenishment_requests where status = 'open'"
        ).fetchone()
    if progress is None:
        return f"committed ingest_seq {seq:,}; waiting for the daemon to start the stream worker"
    return (
        f"committed ingest_seq {seq:,} · marts refreshed to {progress.refreshed_seq:,} "
        f"({progress.refreshes} refreshes, last {progress.last_refresh_seconds or 0:.1f} s) · "
        f"ERP: {open_requests:,} open replenishment requests"
    )


def serve_live(settings: Settings, *, port: int, rate: float) -> None:
    """Run until Ctrl-C, SIGTERM or a process exits; then stop everything this started."""
    ensure_erp(settings)
    supervisor = Supervisor(settings)
    interrupt_on_sigterm()
    try:
        start_ui(supervisor, "127.0.0.1", port)
        supervisor.start(
            "simulate-live",
            [sys.executable, "-m", "dagster_project.cli", "simulate", "--live"]
            + ["--rate", str(rate)],
        )
        err.print(WHERE_TO_CLICK.format(port=port))
        while supervisor.all_running():
            time.sleep(10)
            err.print(_status(settings))
        err.print(f"[red]a live process exited: see the logs in {supervisor.log_dir}[/red]")
    except KeyboardInterrupt:
        pass
    finally:
        err.print("stopping the Dagster UI and daemon, the stream worker and the live feed …")
        supervisor.stop()
