"""A failed check raises its alert; a failed blocking check holds the ERP feed until it passes."""

from __future__ import annotations

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from dagster_project.core.alerts import hold_erp_feed, raise_alert, release_erp_feed
from dagster_project.core.db import connect
from dagster_project.core.settings import get_settings


def _evaluation(record):
    entry = record.event
    return entry.dagster_event.event_specific_data if entry and entry.dagster_event else None


@dg.sensor(
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Raises an alert for every failed asset check; a failed blocking check also "
    "holds the ERP feed, which resumes when that check passes again.",
)
def check_failure_alert_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    check_keys = list(context.repository_def.asset_graph.asset_check_keys)
    latest = context.instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
    seen = int(context.cursor or 0)
    raised = released = 0
    with connect(get_settings()) as conn:
        for key, record in sorted(latest.items(), key=lambda kv: kv[1].id):
            if record.id <= seen:
                continue
            name = key.to_user_string()
            evaluation = _evaluation(record)
            if record.status == AssetCheckExecutionRecordStatus.FAILED and evaluation:
                details = {
                    "run_id": record.run_id,
                    "severity": evaluation.severity.value,
                    "metadata": {k: str(v.value) for k, v in evaluation.metadata.items()},
                }
                raise_alert(conn, "check_failed", name, f"check {name} failed", details)
                if evaluation.blocking:
                    hold_erp_feed(conn, name, details)
                raised += 1
            elif record.status == AssetCheckExecutionRecordStatus.SUCCEEDED:
                released += release_erp_feed(conn, name)
        seen = max([seen, *(r.id for r in latest.values())])
    context.update_cursor(str(seen))
    return dg.SkipReason(f"{raised} alert(s) raised, {released} ERP hold(s) released")
