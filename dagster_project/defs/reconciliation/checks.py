"""Warnings on the reconciliation marts: IRA below its target, counts whose book drifted."""

from __future__ import annotations

import dagster as dg
from psycopg.rows import dict_row

from dagster_project.core.db import connect
from dagster_project.core.reconciliation.counts import as_text
from dagster_project.core.settings import get_settings
from dagster_project.defs.reconciliation.assets import COUNT_RECONCILIATION

ROW_LIMIT = 20


def _offending(sql: str) -> tuple[int, str]:
    """How many rows the query returns, and the first ROW_LIMIT of them as a markdown table."""
    with connect(get_settings()) as conn:
        rows = conn.cursor(row_factory=dict_row).execute(sql).fetchall()
    if not rows:
        return 0, ""
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(as_text(r[c]) for c in head) + " |" for r in rows[:ROW_LIMIT]]
    return len(rows), "\n".join(lines)


def _result(count: int, table: str) -> dg.AssetCheckResult:
    metadata = {"unexpected_count": count}
    if count:
        metadata["offending_rows"] = dg.MetadataValue.md(table)
    return dg.AssetCheckResult(
        passed=count == 0, severity=dg.AssetCheckSeverity.WARN, metadata=metadata
    )


@dg.asset_check(
    asset=dg.AssetKey(["marts", "inventory_record_accuracy"]),
    additional_deps=[COUNT_RECONCILIATION],  # in the daily job, read after the decisions
    description="Every location's IRA over the rolling 30 days is at least the target (95%).",
)
def ira_meets_target() -> dg.AssetCheckResult:
    return _result(
        *_offending(
            """
            select location_id, counts, counts_within_tolerance, ira_pct, as_of
            from marts.inventory_record_accuracy
            where period = 'rolling_30d' and is_below_target
            order by ira_pct, location_id
            """
        )
    )


@dg.asset_check(
    asset=dg.AssetKey(["marts", "count_variances"]),
    additional_deps=[COUNT_RECONCILIATION],
    description="No decided count's system quantity moved after its decision (a late event "
    "dated before the count); those that did want a recount.",
)
def no_count_needs_a_recount() -> dg.AssetCheckResult:
    return _result(
        *_offending(
            """
            select count_id, sku_id, location_id, counted_at, decision, decided_system_qty,
                system_qty, drift_qty
            from marts.count_variances
            where recount_suggested
            order by abs(drift_qty) desc, count_id
            """
        )
    )


reconciliation_checks = [ira_meets_target, no_count_needs_a_recount]
