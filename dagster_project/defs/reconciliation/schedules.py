"""When the counts are reconciled: INVENTORY_RECONCILE_CRON, default daily at 06:00 UTC."""

import dagster as dg

from dagster_project.core.settings import get_settings
from dagster_project.defs.reconciliation.assets import COUNT_RECONCILIATION
from dagster_project.defs.reconciliation.checks import reconciliation_checks

count_reconciliation_job = dg.define_asset_job(
    "count_reconciliation_job",
    selection=dg.AssetSelection.assets(COUNT_RECONCILIATION)
    | dg.AssetSelection.checks(*reconciliation_checks),
    description="Reconcile the physical counts, then check IRA and drift.",
)

count_reconciliation_schedule = dg.ScheduleDefinition(
    name="count_reconciliation_schedule",
    job=count_reconciliation_job,
    cron_schedule=get_settings().reconcile_cron,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
