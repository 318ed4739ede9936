"""Deciding counts: matched, posted at once within the auto-approve limit, or pending for a person.

Counts are taken in (counted_at, count_id) order per SKU-location, in rounds: each round decides
the earliest undecided count of every pair whose earlier counts are all settled, then posts the
round's adjustments, so the next count of a pair reads a book that includes them. A count waits
while an earlier count of its pair is pending: approving both would correct one shortfall twice.
Every decision is one appended row of reconciliation.decisions, in the same transaction as the
adjust event it posts (event_id `count-adjust:<count_id>`), so a re-run finds nothing left to do.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import psycopg
from psycopg.rows import dict_row

from dagster_project.core.db import connect
from dagster_project.core.db.locks import DECISION_LOCK
from dagster_project.core.ingest import ingest_records
from dagster_project.core.inventory.refresh import run_dbt
from dagster_project.core.settings import Settings

AUTO = "auto"  # decided_by of the reconciliation's own decisions
EVENT_PREFIX = "count-adjust:"

VARIANCE_COLUMNS = """
    count_id, sku_id, location_id, abc_class, counted_qty, counted_at, system_qty, variance_qty,
    variance_pct, tolerance_pct, auto_approve_limit_pct, is_within_tolerance, is_auto_approvable
"""

# The earliest undecided count of each pair, unless an earlier count of the pair is pending.
READY_COUNTS = """
create temp table _ready on commit drop as
with undecided as (
    select c.count_id, c.sku_id, c.location_id, c.counted_at
    from raw.physical_counts as c
    where not exists (select from reconciliation.decisions as d where d.count_id = c.count_id)
),
next_of_pair as (
    select distinct on (sku_id, location_id) count_id, sku_id, location_id, counted_at
    from undecided
    order by sku_id, location_id, counted_at, count_id
),
open_pending as (
    select p.count_id, p.sku_id, p.location_id, p.counted_at
    from reconciliation.decisions as p
    where p.decision = 'pending'
        and not exists (
            select from reconciliation.decisions as c
            where c.count_id = p.count_id and c.decision in ('approved', 'rejected')
        )
)
select n.count_id
from next_of_pair as n
where not exists (
    select from open_pending as p
    where p.sku_id = n.sku_id
        and p.location_id = n.location_id
        and (p.counted_at, p.count_id) < (n.counted_at, n.count_id)
)
"""

ROUND = f"""
create temp table _round on commit drop as
select {VARIANCE_COLUMNS},
    case
        when variance_qty = 0 then 'matched'
        when is_auto_approvable then 'auto_approved'
        else 'pending'
    end as decision
from marts.count_variances
-- an array, not a semi-join: the filter then reaches the counts before their books are summed
where count_id = any(array(select count_id from _ready))
"""

# Decisions are recorded only through reconciliation.open_decisions and .close_decision
# (migrations 0006, 0008): the platform's roles may not write reconciliation.decisions, and the
# functions check each transition, so a forged or out-of-order decision is refused.
OPEN = f"""
select reconciliation.open_decisions(
    coalesce(jsonb_agg(to_jsonb(r) order by counted_at, count_id), '[]')
)
from (
    select
        count_id, decision, %(by)s::text as decided_by, {{reason}} as reason, sku_id, location_id,
        abc_class, counted_qty, counted_at, system_qty, variance_qty, variance_pct,
        tolerance_pct, auto_approve_limit_pct, is_within_tolerance,
        case when decision = 'auto_approved' then '{EVENT_PREFIX}' || count_id end
            as adjustment_event_id,
        case when decision = 'auto_approved' then variance_qty end as adjustment_qty
    from _round
) as r
"""

CLOSE = """
select reconciliation.close_decision(%(count_id)s, %(decision)s, %(by)s, %(reason)s, (
    select to_jsonb(v) from marts.count_variances as v where v.count_id = %(count_id)s
))
"""

AUTO_REASON = """
case decision
    when 'matched' then 'count equals the book'
    when 'auto_approved' then 'within the auto-approve limit'
    else 'outside the auto-approve limit: waits for a person'
end
"""


class ReconcileError(RuntimeError):
    """A decision that cannot be taken: unknown count, not pending, missing who or why."""


@dataclass(frozen=True)
class Decision:
    count_id: str
    decision: str
    decided_by: str
    reason: str | None
    counted_qty: Decimal
    system_qty: Decimal
    variance_qty: Decimal
    variance_pct: Decimal | None
    tolerance_pct: Decimal
    adjustment_qty: Decimal | None


@dataclass
class ReconcileResult:
    decided: Counter = field(default_factory=Counter)
    posted: int = 0
    rounds: int = 0
    seconds: float = 0.0
    round_seconds: list[float] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.decided.values())

    def as_dict(self) -> dict[str, int | float]:
        return {
            "decided": self.total,
            **{k: self.decided.get(k, 0) for k in ("matched", "auto_approved", "pending")},
            "posted": self.posted,
            "rounds": self.rounds,
            "seconds": round(self.seconds, 3),
        }


def ensure_views(settings: Settings, conn: psycopg.Connection) -> None:
    """Build the reconciliation views (and the staging views under them) when they are missing:
    views only, so it never touches the incrementally kept state."""
    found = conn.execute(
        "select to_regclass('marts.count_variances') is not null"
        " and to_regclass('marts.inventory_record_accuracy') is not null"
    ).fetchone()[0]
    if not found:
        run_dbt(settings, ["run", "--select", "+count_variances", "+inventory_record_accuracy"])


def reconcile(settings: Settings) -> ReconcileResult:
    """Decide every count that can be decided now; post what is matched or auto-approved."""
    started = time.perf_counter()
    result = ReconcileResult()
    with connect(settings) as conn:
        ensure_views(settings, conn)
        while True:
            round_started = time.perf_counter()
            with conn.transaction():
                conn.execute("select pg_advisory_xact_lock(%s)", [DECISION_LOCK])
                conn.execute("set local timezone = 'UTC'")
                # the previous round appended thousands of decisions: plan with them counted
                conn.execute("analyze reconciliation.decisions")
                conn.execute(READY_COUNTS)
                conn.execute("analyze _ready")
                conn.execute(ROUND)
                decided = conn.execute(
                    "select decision, count(*) from _round group by decision"
                ).fetchall()
                if not decided:
                    break
                conn.execute(OPEN.format(reason=AUTO_REASON), {"by": AUTO})
                result.posted += _post(conn, "decision = 'auto_approved'")
                result.decided.update(dict(decided))
                result.rounds += 1
            result.round_seconds.append(time.perf_counter() - round_started)
    result.seconds = time.perf_counter() - started
    return result


def _post(conn: psycopg.Connection, which: str) -> int:
    """Land the adjust events of the _round rows `which` picks, through the ordinary ingest."""
    rows = conn.execute(
        f"""
        select count_id, sku_id, location_id, variance_qty::text, counted_at
        from _round where {which} and variance_qty <> 0
        """
    ).fetchall()
    if not rows:
        return 0
    records = [
        {
            "event_id": f"{EVENT_PREFIX}{count_id}",
            "event_type": "adjust",
            "sku_id": sku_id,
            "location_id": location_id,
            "qty_delta": qty,
            "event_ts": counted_at.isoformat(),
            "reference_id": count_id,
        }
        for count_id, sku_id, location_id, qty, counted_at in rows
    ]
    batch = ingest_records(conn, "wms", records, "count reconciliation")
    if batch.quarantined:
        raise ReconcileError(
            f"{batch.quarantined} adjustment(s) were refused by the WMS checks (batch "
            f"{batch.batch_id}): see `inventory quarantine list --source wms`"
        )
    return batch.accepted


def approve(settings: Settings, count_id: str, by: str, reason: str) -> Decision:
    """Close a pending count by posting its variance as it stands now (a late event since it was
    queued moves it); a variance that has become 0 is approved with nothing to post."""
    return _close(settings, count_id, "approved", by, reason)


def reject(settings: Settings, count_id: str, by: str, reason: str) -> Decision:
    """Close a pending count and keep the book as it is."""
    return _close(settings, count_id, "rejected", by, reason)


def _close(settings: Settings, count_id: str, decision: str, by: str, reason: str) -> Decision:
    by, reason = (by or "").strip(), (reason or "").strip()
    if not by or not reason:
        raise ReconcileError("a decision needs who (--by) and why (--reason)")
    with connect(settings) as conn:
        ensure_views(settings, conn)
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(%s)", [DECISION_LOCK])
            conn.execute("set local timezone = 'UTC'")
            states = [
                row[0]
                for row in conn.execute(
                    "select decision from reconciliation.decisions where count_id = %s"
                    " order by decision_id",
                    [count_id],
                )
            ]
            if states != ["pending"]:
                raise ReconcileError(_not_pending(conn, count_id, states))
            conn.execute(
                f"""
                create temp table _round on commit drop as
                select {VARIANCE_COLUMNS}, %s::text as decision
                from marts.count_variances where count_id = %s
                """,
                [decision, count_id],
            )
            try:
                conn.execute(
                    CLOSE,
                    {"count_id": count_id, "decision": decision, "by": by, "reason": reason},
                )
            except psycopg.errors.CheckViolation as exc:
                raise ReconcileError(str(exc.diag.message_primary)) from exc
            if decision == "approved":
                _post(conn, "true")
            row = conn.execute(
                """
                select count_id, decision, decided_by, reason, counted_qty, system_qty,
                    variance_qty, variance_pct, tolerance_pct, adjustment_qty
                from reconciliation.decisions where count_id = %s order by decision_id desc limit 1
                """,
                [count_id],
            ).fetchone()
    return Decision(*row)


def _not_pending(conn: psycopg.Connection, count_id: str, states: list[str]) -> str:
    if states:
        return f"count {count_id} is not pending: {' then '.join(states)}"
    known = conn.execute(
        "select 1 from raw.physical_counts where count_id = %s", [count_id]
    ).fetchone()
    if known:
        return f"count {count_id} has not been reconciled yet: run `inventory reconciliation run`"
    return f"no count {count_id}"


def pending(settings: Settings) -> list[dict]:
    """The counts waiting for a person: the numbers they were queued on and as they stand now."""
    with connect(settings) as conn:
        ensure_views(settings, conn)
        cur = conn.cursor(row_factory=dict_row)
        return cur.execute(
            """
            select d.count_id, d.sku_id, d.location_id, d.abc_class, d.counted_qty, d.counted_at,
                d.system_qty as queued_system_qty, d.variance_qty as queued_variance_qty,
                d.variance_pct as queued_variance_pct, d.tolerance_pct, d.decided_at as queued_at,
                v.system_qty, v.variance_qty, v.variance_pct
            from reconciliation.decisions as d
            left join marts.count_variances as v on v.count_id = d.count_id
            where d.decision = 'pending'
                and not exists (
                    select from reconciliation.decisions as c
                    where c.count_id = d.count_id and c.decision in ('approved', 'rejected')
                )
            order by d.counted_at, d.count_id
            """
        ).fetchall()


def as_text(value: Decimal | datetime | None) -> str:
    """A number or instant as a person reads it: no trailing zeros, ISO instants."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    text = format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)
    return text
