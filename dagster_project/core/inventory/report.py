"""Tell Dagster about the refreshes made outside it (the stream worker, `inventory refresh`):
runless materializations of the marts, with the ingest_seq the refresh reached and the instant
it is as of. The catalog then shows the marts as materialized, their freshness policies judge
their real age, and their checks' automation sees them update.

Dagster is imported on use: a process with no instance to report to never loads it.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from dagster_project.core.db import connect
from dagster_project.core.settings import DagsterSettings, Settings

log = logging.getLogger(__name__)

AS_OF = "select as_of from intermediate.refresh_clock"


def dagster_home(settings: Settings) -> Path | None:
    """The instance to report to: DAGSTER_HOME, else the one `inventory ui` keeps in the state
    folder once it has run; None when there is neither."""
    if home := DagsterSettings().home:
        return home
    home = settings.dagster_home
    return home if (home / "dagster.yaml").exists() else None


class RefreshReporter:
    """Reports one process's successful refreshes, at most one per `every_seconds`: the worker
    refreshes every 5 s under load, and a report each time would put some 170,000 events a day
    in the instance's event log (two SQLite commits each) for freshness policies and a checks'
    cron that count in minutes. A report's ingest_seq covers the refreshes before it. Only the
    marts are reported: the eleven state models would double the writes, for assets a planner
    never reads.

    Reporting never fails a refresh: with no instance it is skipped, an error is logged. In the
    background (the worker) a thread writes the report, one at a time, so that a slow or locked
    event log never holds up the next refresh."""

    def __init__(
        self,
        settings: Settings,
        refreshed_by: str,
        every_seconds: float = 0.0,
        background: bool = False,
    ):
        self.settings = settings
        self.refreshed_by = refreshed_by
        self.every_seconds = every_seconds
        self.background = background
        self._instance = None
        self._reported_at = float("-inf")
        self._writer: threading.Thread | None = None

    def report(self, ingest_seq: int, seconds: float | None = None) -> None:
        """After a successful refresh that counted every event up to `ingest_seq` (and took
        `seconds`): report it, unless the last report is too recent or still being written."""
        if time.monotonic() - self._reported_at < self.every_seconds:
            return
        if self._writer is not None and self._writer.is_alive():
            return
        home = dagster_home(self.settings)
        if home is None:
            return
        self._reported_at = time.monotonic()
        if not self.background:
            self._write(home, ingest_seq, seconds)
            return
        self._writer = threading.Thread(
            target=self._write, args=(home, ingest_seq, seconds), daemon=True
        )
        self._writer.start()

    def wait(self, timeout: float | None = None) -> None:
        """Until the report being written in the background, if any, is written."""
        if self._writer is not None:
            self._writer.join(timeout)

    def _write(self, home: Path, ingest_seq: int, seconds: float | None) -> None:
        try:
            import dagster as dg

            from dagster_project.defs.inventory.project import mart_asset_keys

            if self._instance is None:
                self._instance = dg.DagsterInstance.from_config(str(home))
            with connect(self.settings) as conn:
                as_of = conn.execute(AS_OF).fetchone()[0]
            metadata = {
                "ingest_seq": ingest_seq,
                "as_of": dg.MetadataValue.timestamp(as_of),
                "refreshed_by": self.refreshed_by,
            }
            if seconds is not None:
                metadata["refresh_seconds"] = round(seconds, 3)
            for key in mart_asset_keys():
                self._instance.report_runless_asset_event(
                    dg.AssetMaterialization(asset_key=key, metadata=metadata)
                )
        except Exception:  # the marts are current whatever Dagster's event log says
            log.warning("could not report the refresh to Dagster (%s)", home, exc_info=True)
