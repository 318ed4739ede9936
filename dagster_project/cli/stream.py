"""`inventory stream`: the long-lived worker that keeps the marts and the ERP feed current."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from dagster_project.cli.common import err, fail, ready_connection
from dagster_project.settings import get_settings
from dagster_project.stream import StreamWorker, WorkerConfig
from dagster_project.stream.worker import WorkerAlreadyRunning


def stream(
    refresh_every: Annotated[
        float, typer.Option(help="seconds between incremental refreshes while events arrive")
    ] = 5.0,
    poll: Annotated[float, typer.Option(help="seconds between ticks (ERP sync)")] = 0.5,
    ticks: Annotated[int | None, typer.Option(help="stop after this many ticks")] = None,
    erp: Annotated[bool, typer.Option(help="feed the ERP tables")] = True,
) -> None:
    """Apply new events to the marts and feed the ERP until stopped (Ctrl-C or SIGTERM)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    ready_connection().close()
    config = WorkerConfig(poll_seconds=poll, refresh_every=refresh_every, sync_erp=erp)
    worker = StreamWorker(get_settings(), config)
    worker.install_signal_handlers()
    err.print(
        f"stream worker {worker.progress.pid}: refresh every {refresh_every:g} s, tick {poll:g} s"
    )
    try:
        worker.run(max_ticks=ticks)
    except WorkerAlreadyRunning as exc:
        raise fail(str(exc)) from exc
    finally:
        worker.close()
    p = worker.progress
    err.print(
        f"stopped at ingest_seq {p.committed_seq:,}: {p.refreshes} refreshes, "
        f"{p.requests_opened} requests opened, {p.requests_closed} closed"
    )
