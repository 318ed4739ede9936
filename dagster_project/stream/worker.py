"""`inventory stream`: apply new events to the marts and feed the ERP, continuously.

One tick: read the newest committed ingest_seq; when events arrived and the last refresh is
`refresh_every` seconds old (or `idle_refresh_every` passed, so the time windows move), refresh
the stored state incrementally; then sync the ERP feed from the marts, which already count every
committed event when read; then record progress in `ops.stream_progress` for Dagster to observe.
A Dagster run per tick would cost 20-60 s; this loop costs what the refresh and the sync cost.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from dagster_project.db import connect
from dagster_project.db.locks import STREAM_LOCK, advisory_lock, refresh_lock
from dagster_project.settings import Settings
from dagster_project.stream.progress import Progress, committed_seq, read_progress, write_progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    name: str = "stream"
    poll_seconds: float = 0.5
    refresh_every: float = 5.0  # at most one incremental refresh this often while events arrive
    idle_refresh_every: float = 60.0  # with no new events, still move the time windows
    sync_erp: bool = True


@dataclass(frozen=True)
class TickResult:
    committed_seq: int
    refreshed: bool
    synced: bool
    opened: int = 0
    closed: int = 0
    held_by: tuple[str, ...] = ()
    error: str | None = None


class WorkerAlreadyRunning(RuntimeError):
    """Another stream worker holds this database."""


class StreamWorker:
    def __init__(
        self,
        settings: Settings,
        config: WorkerConfig | None = None,
        *,
        refresh: Callable[[], object] | None = None,
    ):
        self.settings = settings
        self.config = config or WorkerConfig()
        if refresh is None:
            from dagster_project.transform import Refresher

            # parses the project once: a refresh then costs the SQL, not dbt's start-up
            refresh = Refresher(settings).refresh
        self._refresh = refresh
        self._erp = None
        self.stop_event = threading.Event()
        self.conn = connect(settings)
        now = datetime.now(UTC)
        previous = read_progress(self.conn, self.config.name)
        self.progress = Progress(
            worker_name=self.config.name,
            pid=os.getpid(),
            started_at=now,
            heartbeat_at=now,
            committed_seq=0,
            refreshed_seq=previous.refreshed_seq if previous else 0,
            synced_seq=previous.synced_seq if previous else 0,
            last_refresh_at=previous.last_refresh_at if previous else None,
            last_refresh_seconds=None,
            refreshes=0,
            requests_opened=0,
            requests_closed=0,
            last_error=None,
        )

    def _refresh_due(self, seq: int, now: datetime) -> bool:
        last = self.progress.last_refresh_at
        if last is None:
            return True
        age = (now - last).total_seconds()
        if seq > self.progress.refreshed_seq:
            return age >= self.config.refresh_every
        return age >= self.config.idle_refresh_every

    def tick(self) -> TickResult:
        now = datetime.now(UTC)
        seq = committed_seq(self.conn)
        p = replace(self.progress, committed_seq=seq, heartbeat_at=now, last_error=None)
        refreshed = synced = False
        opened = closed = 0
        held: tuple[str, ...] = ()
        error = None
        try:
            if self._refresh_due(seq, now):
                # a nightly validation holds the lock for a while: skip, the reads stay current
                with refresh_lock(self.settings, wait=False) as taken:
                    if taken:
                        started = time.perf_counter()
                        self._refresh()
                        p = replace(
                            p,
                            refreshed_seq=seq,
                            last_refresh_at=now,
                            last_refresh_seconds=time.perf_counter() - started,
                            refreshes=p.refreshes + 1,
                        )
                        refreshed = True
            if self.config.sync_erp:
                held = tuple(
                    r[0]
                    for r in self.conn.execute(
                        "select check_name from ops.sink_holds order by 1"
                    ).fetchall()
                )
                if held:
                    error = f"ERP feed held by failed check(s): {', '.join(held)}"
                else:
                    result = self._sync()
                    opened, closed = result.opened, result.closed
                    p = replace(
                        p,
                        synced_seq=result.ingest_seq or p.synced_seq,
                        requests_opened=p.requests_opened + opened,
                        requests_closed=p.requests_closed + closed,
                    )
                    synced = True
        except Exception as exc:  # the loop must outlive a bad tick; Dagster sees last_error
            log.exception("stream tick failed")
            self._close_erp()  # reconnect on the next tick
            error = f"{type(exc).__name__}: {exc}"
        self.progress = replace(p, last_error=error)
        write_progress(self.conn, self.progress)
        return TickResult(seq, refreshed, synced, opened, closed, held, error)

    def run(self, max_ticks: int | None = None) -> None:
        """Tick until stopped (SIGTERM, SIGINT, stop_event) or after max_ticks."""
        with advisory_lock(self.settings, STREAM_LOCK, wait=False) as taken:
            if not taken:
                raise WorkerAlreadyRunning("another stream worker is running against this database")
            ticks = 0
            while not self.stop_event.is_set():
                started = time.monotonic()
                self.tick()
                ticks += 1
                if max_ticks is not None and ticks >= max_ticks:
                    break
                self.stop_event.wait(
                    max(0.0, self.config.poll_seconds - (time.monotonic() - started))
                )

    def _sync(self):
        from dagster_project.erp.database import connect_erp, ensure_erp
        from dagster_project.erp.sink import sync_once

        if self._erp is None:
            ensure_erp(self.settings)
            self._erp = connect_erp(self.settings)
        return sync_once(inventory=self.conn, erp=self._erp)

    def _close_erp(self) -> None:
        if self._erp is not None:
            self._erp.close()
            self._erp = None

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop_event.set())

    def close(self) -> None:
        self._close_erp()
        self.conn.close()
