"""`inventory stream`: apply new events to the marts and feed the ERP, continuously.

Two loops share one progress record. The refresh loop (the main thread, where dbt runs) reads
the newest committed ingest_seq and, when events arrived and the last refresh is `refresh_every`
seconds old (or `idle_refresh_every` passed, so the time windows move), refreshes the stored
state incrementally. The sync loop (a thread) feeds the ERP from the marts every tick: they
count every committed event when read, so a request need not wait for a refresh, and a refresh
in progress does not hold the feed up. Progress goes to `ops.stream_progress` for Dagster.
A Dagster run per tick would cost 20-60 s; these loops cost what a refresh and a sync cost.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import psycopg

from dagster_project.core.db import connect
from dagster_project.core.db.locks import STREAM_LOCK, RefreshBusy, advisory_lock
from dagster_project.core.inventory.report import RefreshReporter
from dagster_project.core.settings import Settings
from dagster_project.core.stream.progress import (
    Progress,
    committed_seq,
    read_progress,
    write_progress,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    name: str = "stream"
    poll_seconds: float = 0.5
    refresh_every: float = 5.0  # at most one incremental refresh this often while events arrive
    idle_refresh_every: float = 60.0  # with no new events, still move the time windows
    report_every: float = 60.0  # at most one report of the refreshes to Dagster this often
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


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


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
            from dagster_project.core.inventory.refresh import Refresher

            # parses the project once: a refresh then costs the SQL, not dbt's start-up. It
            # takes the lease itself: a deployment builds the changed models without it
            refresh = functools.partial(Refresher(settings).refresh, wait=False)
        self._refresh = refresh
        self.reporter = RefreshReporter(
            settings, "stream worker", self.config.report_every, background=True
        )
        self.stop_event = threading.Event()
        self._lock = threading.Lock()  # guards self.progress, self._errors and self.conn
        self._errors: dict[str, str | None] = {}
        self.conn = connect(settings)
        self._sync_conns: tuple[psycopg.Connection, psycopg.Connection] | None = None
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

    # -- the two steps -------------------------------------------------------------------------

    def _refresh_due(self, seq: int, now: datetime) -> bool:
        last = self.progress.last_refresh_at
        if last is None:
            return True
        age = (now - last).total_seconds()
        if seq > self.progress.refreshed_seq:
            return age >= self.config.refresh_every
        return age >= self.config.idle_refresh_every

    def refresh_step(self) -> tuple[int, bool, str | None]:
        """Refresh when due; return the committed seq, whether it refreshed, and any error."""
        now = datetime.now(UTC)
        with self._lock:
            seq = committed_seq(self.conn)
            self._update(committed_seq=seq)
        if not self._refresh_due(seq, now):
            return seq, False, None
        try:
            started = time.perf_counter()
            self._refresh()
            with self._lock:
                self._update(
                    refreshed_seq=seq,
                    last_refresh_at=now,
                    last_refresh_seconds=time.perf_counter() - started,
                    refreshes=self.progress.refreshes + 1,
                )
            self.reporter.report(seq, self.progress.last_refresh_seconds)
            return seq, True, None
        except RefreshBusy:
            # another writer (a nightly validation, an analytics engineer's dbt run, another
            # process's deployment) holds the state for a while: skip, the reads stay current
            return seq, False, None
        except Exception as exc:  # the loop must outlive a bad refresh; Dagster sees last_error
            log.exception("refresh failed")
            return seq, False, _error(exc)

    def sync_step(self) -> tuple[bool, int, int, tuple[str, ...], str | None]:
        """Feed the ERP unless a failed blocking check holds it: synced, opened, closed, holds,
        error."""
        try:
            inventory, erp = self._connections()
            held = tuple(
                r[0]
                for r in inventory.execute(
                    "select check_name from ops.sink_holds order by 1"
                ).fetchall()
            )
            if held:
                return False, 0, 0, held, f"ERP feed held by failed check(s): {', '.join(held)}"
            from dagster_project.core.erp.sink import sync_once

            result = sync_once(inventory=inventory, erp=erp)
        except Exception as exc:
            log.exception("ERP sync failed")
            self._close_sync_connections()  # reconnect on the next tick
            return False, 0, 0, (), _error(exc)
        with self._lock:
            self._update(
                synced_seq=result.ingest_seq or self.progress.synced_seq,
                requests_opened=self.progress.requests_opened + result.opened,
                requests_closed=self.progress.requests_closed + result.closed,
            )
        return True, result.opened, result.closed, (), None

    def tick(self) -> TickResult:
        """One refresh step and one sync step, in turn (run() runs them side by side)."""
        seq, refreshed, refresh_error = self.refresh_step()
        synced, opened, closed, held, sync_error = (
            self.sync_step() if self.config.sync_erp else (False, 0, 0, (), None)
        )
        self.record("refresh", refresh_error)
        self.record("sync", sync_error)
        return TickResult(seq, refreshed, synced, opened, closed, held, self.progress.last_error)

    # -- bookkeeping ---------------------------------------------------------------------------

    def _update(self, **changes) -> None:
        self.progress = replace(self.progress, **changes)

    def record(self, loop: str, error: str | None) -> None:
        """Write the progress with the latest outcome of `loop` (refresh or sync): an error
        stays visible until that loop succeeds, whatever the other loop does meanwhile."""
        with self._lock:
            self._errors[loop] = error
            errors = [e for e in self._errors.values() if e]
            self._update(heartbeat_at=datetime.now(UTC), last_error="; ".join(errors) or None)
            write_progress(self.conn, self.progress)

    def _connections(self) -> tuple[psycopg.Connection, psycopg.Connection]:
        if self._sync_conns is None:
            from dagster_project.core.erp.database import connect_erp, ensure_erp

            ensure_erp(self.settings)
            self._sync_conns = (connect(self.settings), connect_erp(self.settings))
        return self._sync_conns

    def _close_sync_connections(self) -> None:
        if self._sync_conns is not None:
            for conn in self._sync_conns:
                conn.close()
            self._sync_conns = None

    # -- running -------------------------------------------------------------------------------

    def _every_tick(self, loop: str, step: Callable[[], str | None]) -> None:
        while not self.stop_event.is_set():
            started = time.monotonic()
            self.record(loop, step())
            self.stop_event.wait(max(0.0, self.config.poll_seconds - (time.monotonic() - started)))

    def run(self, max_ticks: int | None = None) -> None:
        """Run until stopped (SIGTERM, SIGINT, stop_event); with max_ticks, tick that often."""
        with advisory_lock(self.settings, STREAM_LOCK, wait=False) as taken:
            if not taken:
                raise WorkerAlreadyRunning("another stream worker is running against this database")
            self.record("refresh", None)  # a heartbeat before the first, possibly long, refresh
            if max_ticks is not None:
                for _ in range(max_ticks):
                    self.tick()
                return
            syncer = None
            if self.config.sync_erp:
                syncer = threading.Thread(
                    target=self._every_tick,
                    args=("sync", lambda: self.sync_step()[-1]),
                    daemon=True,
                )
                syncer.start()
            try:
                self._every_tick("refresh", lambda: self.refresh_step()[-1])
            finally:
                self.stop_event.set()
                if syncer is not None:
                    syncer.join(timeout=60)

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop_event.set())

    def close(self) -> None:
        self._close_sync_connections()
        self.conn.close()
