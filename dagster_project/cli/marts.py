"""`inventory refresh`: bring the marts up to date with the committed events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from dagster_project.cli.common import err, fail, ready_connection
from dagster_project.core.db.locks import RefreshBusy
from dagster_project.core.inventory.refresh import DbtError, refresh
from dagster_project.core.inventory.report import RefreshReporter
from dagster_project.core.settings import get_settings
from dagster_project.core.stream import committed_seq


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise fail(f"--as-of {text!r} is not an ISO-8601 instant") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def refresh_command(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="compute time windows as of this instant (default: now)"),
    ] = None,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="rebuild the state from all events")
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait",
            help="wait for a refresh another process is running (the worker, dbt) or fail",
        ),
    ] = True,
) -> None:
    """Refresh every mart: deploy the models changed since the last refresh, add the events
    since, move the time windows."""
    instant = _instant(as_of)
    settings = get_settings()
    # every event committed before the run starts is in the state it leaves
    with ready_connection() as conn:
        seq = committed_seq(conn)
    try:
        result = refresh(
            settings, as_of=instant, full_refresh=full_refresh, wait=wait, on_wait=err.print
        )
    except RefreshBusy as exc:
        raise fail(f"{exc}; not waiting (--no-wait)") from exc
    except DbtError as exc:
        raise fail(str(exc)) from exc
    kind = "full rebuild" if full_refresh else "refresh"
    when = instant.isoformat() if instant else "now"
    if result.deployed:
        err.print(f"deployed (changed, and what reads them): {', '.join(result.deployed)}")
    err.print(f"{kind} as of {when}: {result.models} models in {result.seconds:.1f} s")
    RefreshReporter(settings, "inventory refresh").report(seq, result.seconds)
