"""`inventory stream`: the long-lived worker that keeps the marts and the ERP feed current."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from dagster_project.cli.common import err, fail, ready_connection
from dagster_project.core.settings import MaterializeSettings, get_settings
from dagster_project.core.stream import StreamWorker, WorkerConfig
from dagster_project.core.stream.worker import WorkerAlreadyRunning


def stream(
    refresh_every: Annotated[
        float, typer.Option(help="seconds between incremental refreshes while events arrive")
    ] = 5.0,
    poll: Annotated[float, typer.Option(help="seconds between ticks (ERP sync)")] = 0.5,
    ticks: Annotated[int | None, typer.Option(help="stop after this many ticks")] = None,
    erp: Annotated[bool, typer.Option(help="feed the ERP tables")] = True,
    engine: Annotated[
        str,
        typer.Option(
            help="postgres: refresh and sync here; materialize: follow reorder_alerts on "
            "Materialize (MZ_* variables, as in profiles.yml) with SUBSCRIBE"
        ),
    ] = "postgres",
) -> None:
    """Apply new events to the marts and feed the ERP until stopped (Ctrl-C or SIGTERM)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if engine == "materialize":
        follow_materialize()
        return
    if engine != "postgres":
        raise fail(f"--engine {engine!r}: postgres or materialize")
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


def follow_materialize() -> None:
    """Materialize keeps the marts current itself; only the ERP feed needs a process. Not run by
    the tests: there is no Materialize server where they run."""
    import contextlib

    import psycopg

    from dagster_project.core.erp.database import connect_erp, ensure_erp
    from dagster_project.core.erp.sink import subscribe_loop

    settings = get_settings()
    ensure_erp(settings)
    mz_settings = MaterializeSettings()
    mz = psycopg.connect(
        host=mz_settings.host,
        port=mz_settings.port,
        user=mz_settings.user,
        password=mz_settings.password,
        dbname=mz_settings.database,
        sslmode=mz_settings.sslmode,
        autocommit=True,
    )
    err.print("following marts.reorder_alerts on Materialize into the ERP (Ctrl-C stops)")
    with mz, connect_erp(settings) as erp, contextlib.suppress(KeyboardInterrupt):
        subscribe_loop(mz, erp)
