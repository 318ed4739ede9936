"""Approved adjustments to the ERP's `stock_adjustments`, exactly once.

The ERP is another database, so no transaction spans both: the decisions after the last
recorded delivery are sent, then the delivery is recorded. A crash between the two sends them
again, and the ERP's unique count_id turns the repeat into nothing.
"""

from __future__ import annotations

from dagster_project.core.db import connect
from dagster_project.core.db.locks import ADJUSTMENT_DELIVERY_LOCK
from dagster_project.core.erp import connect_erp, ensure_erp
from dagster_project.core.reconciliation.counts import AUTO
from dagster_project.core.settings import Settings

POSTED_SINCE = """
select decision_id, count_id, sku_id, location_id, adjustment_qty, counted_at,
    case when decided_by = %s then 'auto-approve limit' else decided_by end,
    decided_at, reason, decided_at
from reconciliation.decisions
where adjustment_event_id is not null
    and decision_id > (
        select coalesce(max(through_decision_id), 0) from reconciliation.erp_deliveries
    )
order by decision_id
"""

LOAD = """
insert into erp.stock_adjustments (count_id, sku_id, location_id, qty_delta, counted_at,
    approved_by, approved_at, reason, posted_at)
select count_id, sku_id, location_id, qty_delta, counted_at, approved_by, approved_at, reason,
    posted_at
from _adjustments
order by decision_id
on conflict (count_id) do nothing
"""


def deliver_to_erp(settings: Settings) -> int:
    """Send the posted adjustments the ERP has not been sent yet; return how many rows it took."""
    with connect(settings) as conn:
        conn.execute("select pg_advisory_lock(%s)", [ADJUSTMENT_DELIVERY_LOCK])
        rows = conn.execute(POSTED_SINCE, [AUTO]).fetchall()
        if not rows:
            return 0
        ensure_erp(settings)
        with connect_erp(settings) as erp, erp.transaction():
            erp.execute(
                """
                create temp table _adjustments (
                    decision_id bigint, count_id text, sku_id text, location_id text,
                    qty_delta numeric, counted_at timestamptz, approved_by text,
                    approved_at timestamptz, reason text, posted_at timestamptz
                ) on commit drop
                """
            )
            with erp.cursor().copy("copy _adjustments from stdin") as copy:
                for row in rows:
                    copy.write_row(row)
            taken = erp.execute(LOAD).rowcount
        conn.execute(
            "insert into reconciliation.erp_deliveries (through_decision_id, rows_sent)"
            " values (%s, %s)",
            [rows[-1][0], len(rows)],
        )
    return taken
