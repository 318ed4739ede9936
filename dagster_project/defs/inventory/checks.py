"""Warnings on the inventory marts that are not dbt tests: suppliers delivering late."""

from __future__ import annotations

from typing import Any

import dagster as dg
from psycopg.rows import dict_row

from dagster_project.core.db import connect
from dagster_project.core.reconciliation.counts import as_text
from dagster_project.core.settings import get_settings
from dagster_project.defs.inventory.project import checks_after_refresh

ROW_LIMIT = 50

# the suppliers below the target, worst first
SUPPLIERS_BELOW = """
    select supplier_id, lines, lines_judged, lines_on_time, on_time_pct, lead_time_mean_days
    from marts.supplier_performance
    where on_time_pct < %(target)s
    order by on_time_pct, supplier_id
"""

# their late lines in the same 90 days, the latest first
LATE_LINES = """
    select supplier_id, po_id, line_id, sku_id, location_id, promised_at, first_received_at,
        received_in_full_at, lead_time_days
    from marts.lead_times
    where supplier_id = any(%(suppliers)s)
        and on_time = false
        and first_received_at > as_of - interval '90 days'
    order by supplier_id, first_received_at desc, po_id, line_id
"""


def markdown_table(rows: list[dict[str, Any]]) -> str:
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(as_text(r[c]) for c in head) + " |" for r in rows[:ROW_LIMIT]]
    return "\n".join(lines)


@dg.asset_check(
    asset=dg.AssetKey(["marts", "supplier_performance"]),
    additional_deps=[dg.AssetKey(["marts", "lead_times"])],
    description="Every supplier's on-time rate over the last 90 days is at least the target "
    "(INVENTORY_SUPPLIER_ON_TIME_TARGET_PCT, 90%); the late lines of those below it are listed.",
    automation_condition=checks_after_refresh,
)
def suppliers_deliver_on_time() -> dg.AssetCheckResult:
    settings = get_settings()
    target = settings.supplier_on_time_target_pct
    with connect(settings) as conn:
        cursor = conn.cursor(row_factory=dict_row)
        below = cursor.execute(SUPPLIERS_BELOW, {"target": target}).fetchall()
        suppliers = [r["supplier_id"] for r in below]
        late = cursor.execute(LATE_LINES, {"suppliers": suppliers}).fetchall() if below else []
    metadata: dict[str, Any] = {
        "target_pct": dg.MetadataValue.float(float(target)),
        "unexpected_count": len(below),
        "late_lines_count": len(late),
    }
    if below:
        metadata["offending_rows"] = dg.MetadataValue.md(markdown_table(below))
    if late:
        metadata["late_lines"] = dg.MetadataValue.md(markdown_table(late))
    return dg.AssetCheckResult(
        passed=not below, severity=dg.AssetCheckSeverity.WARN, metadata=metadata
    )
