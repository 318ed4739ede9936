"""`inventory reconciliation`: decide physical counts, list the pending ones, approve or reject."""

from __future__ import annotations

import json
from typing import Annotated

import psycopg
import typer
from rich.table import Table

from dagster_project.cli.common import JsonFlag, err, fail, out, ready_connection
from dagster_project.core.reconciliation import (
    ReconcileError,
    approve,
    deliver_to_erp,
    pending,
    reconcile,
    reject,
)
from dagster_project.core.reconciliation.counts import as_text
from dagster_project.core.settings import get_settings

app = typer.Typer(no_args_is_help=True, help=__doc__)

By = Annotated[str, typer.Option("--by", help="who decides")]
Reason = Annotated[str, typer.Option("--reason", help="why")]


def _ready():
    ready_connection().close()  # starts the embedded server and migrates, as every command does
    return get_settings()


def _deliver(settings) -> int | None:
    """Send posted adjustments to the ERP; None when it cannot be reached (sent next time)."""
    try:
        return deliver_to_erp(settings)
    except psycopg.OperationalError as exc:
        err.print(f"[yellow]ERP not reached, adjustments will be sent next time: {exc}[/yellow]")
        return None


@app.command(name="run")
def reconcile_command(as_json: JsonFlag = False) -> None:
    """Decide every count that can be decided: matched, posted within the auto-approve limit,
    or pending for a person. Re-running decides and posts nothing new."""
    settings = _ready()
    result = reconcile(settings)
    sent = _deliver(settings)
    summary = {**result.as_dict(), "erp_rows": sent}
    if as_json:
        print(json.dumps(summary))
        return
    out.print(
        f"decided {result.total:,} count(s): matched {summary['matched']:,} · auto-approved "
        f"{summary['auto_approved']:,} · pending {summary['pending']:,} · adjustments posted "
        f"{result.posted:,} · sent to the ERP {sent if sent is not None else 'later'} "
        f"[dim]({result.rounds} round(s), {result.seconds:.1f} s)[/dim]"
    )


@app.command(name="pending")
def pending_command(as_json: JsonFlag = False) -> None:
    """Counts waiting for approval, with the numbers they were queued on and as they are now."""
    rows = pending(_ready())
    if as_json:
        print(json.dumps([{k: as_text(v) for k, v in row.items()} for row in rows]))
        return
    if not rows:
        out.print("no count is pending")
        return
    table = Table(
        "count",
        "sku",
        "location",
        "class",
        "counted",
        "counted at",
        "system",
        "variance",
        "variance %",
        "tolerance %",
        "queued on system",
    )
    for row in rows:
        pct = row["variance_pct"]
        table.add_row(
            row["count_id"], row["sku_id"], row["location_id"], row["abc_class"] or "-",
            as_text(row["counted_qty"]), as_text(row["counted_at"]), as_text(row["system_qty"]),
            as_text(row["variance_qty"]), "n/a" if pct is None else f"{100 * pct:.2f}",
            f"{100 * row['tolerance_pct']:.2f}", as_text(row["queued_system_qty"]),
        )  # fmt: skip
    out.print(table)


def _decide(decide, count_id: str, by: str, reason: str) -> None:
    settings = _ready()
    try:
        decision = decide(settings, count_id, by, reason)
    except ReconcileError as exc:
        raise fail(str(exc)) from exc
    posted = (
        f"posted an adjustment of {as_text(decision.adjustment_qty)}"
        if decision.adjustment_qty is not None
        else "posted nothing"
    )
    out.print(
        f"count {decision.count_id} {decision.decision} by {decision.decided_by}: counted "
        f"{as_text(decision.counted_qty)}, system {as_text(decision.system_qty)}, {posted}"
    )
    if decision.adjustment_qty is not None:
        _deliver(settings)


@app.command(name="approve")
def approve_command(
    count_id: Annotated[str, typer.Argument(help="the pending count")], by: By, reason: Reason
) -> None:
    """Post the pending count's adjustment (its variance as it stands now)."""
    _decide(approve, count_id, by, reason)


@app.command(name="reject")
def reject_command(
    count_id: Annotated[str, typer.Argument(help="the pending count")], by: By, reason: Reason
) -> None:
    """Keep the book as it is for the pending count."""
    _decide(reject, count_id, by, reason)
