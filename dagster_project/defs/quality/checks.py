"""Asset checks on the marts and landing tables, one stored GE suite each: stock anomalies,
spikes, staleness and unknown SKUs, warnings for a planner to review.

What dbt's data tests check is not repeated here: a null or repeated key is dbt's `not_null` and
`unique_key_columns` on the mart, an error that blocks what reads it (the ERP sink).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from dagster_project.core.quality import CheckOutcome, run_suite, suite_notes
from dagster_project.core.quality.resources import InventoryDatabase
from dagster_project.defs.inventory.project import checks_after_refresh

Parameters = Callable[[InventoryDatabase], dict[str, Any]]


def _no_parameters(_: InventoryDatabase) -> dict[str, Any]:
    return {}


def _received_after(db: InventoryDatabase) -> dict[str, Any]:
    return {"received_after": datetime.now(UTC) - timedelta(minutes=db.freshness_max_age_minutes)}


def check_result(outcome: CheckOutcome, extra: dict[str, Any] | None = None) -> dg.AssetCheckResult:
    metadata: dict[str, Any] = {
        "suite": outcome.suite,
        "table": outcome.table,
        "unexpected_count": outcome.unexpected_count,
        "expectations": dg.MetadataValue.md(outcome.summary_markdown()),
        **(extra or {}),
    }
    if not outcome.passed:
        metadata["offending_rows"] = dg.MetadataValue.md(outcome.rows_markdown())
    return dg.AssetCheckResult(
        passed=outcome.passed, severity=dg.AssetCheckSeverity.WARN, metadata=metadata
    )


def suite_check(
    asset: dg.AssetKey, suite: str, parameters: Parameters = _no_parameters
) -> dg.AssetChecksDefinition:
    """A check named as its suite; it reports and does not block what reads the asset. A mart's
    check runs after refreshes, as its dbt tests do; nothing reports the landing tables as
    updated, so theirs run when a job or a person asks."""
    automation = checks_after_refresh if asset.path[0] == "marts" else None

    @dg.asset_check(
        asset=asset,
        name=suite,
        description=suite_notes(suite),
        automation_condition=automation,
    )
    def _check(inventory_db: InventoryDatabase) -> dg.AssetCheckResult:
        values = parameters(inventory_db)
        outcome = run_suite(inventory_db.settings(), suite, values)
        return check_result(outcome, _limits(values))

    return _check


def _limits(parameters: dict[str, Any]) -> dict[str, Any]:
    return {k: dg.MetadataValue.text(str(v)) for k, v in parameters.items()}


def mart(name: str) -> dg.AssetKey:
    # dagster-dbt puts a model's custom schema (`+schema: marts`) in front of its name
    return dg.AssetKey(["marts", name])


def landing(table: str) -> dg.AssetKey:
    return dg.AssetKey(["landing", table])


def _checks() -> list[dg.AssetChecksDefinition]:
    position = mart("inventory_position")
    checks = [
        suite_check(position, "on_hand_is_never_negative"),
        suite_check(position, "held_and_reserved_never_exceed_on_hand"),
        suite_check(mart("movement_anomalies"), "no_movement_spikes_in_last_day"),
        suite_check(landing("wms_events"), "no_unknown_skus"),
    ]
    for source in ("wms_events", "mes_events", "order_lines"):
        checks.append(
            suite_check(landing(source), f"{source}_is_fresh", parameters=_received_after)
        )
    return checks


quality_checks = _checks()

defs = dg.Definitions(
    asset_checks=quality_checks,
    resources={"inventory_db": InventoryDatabase()},
)
