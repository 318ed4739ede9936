"""When the nightly validation runs: INVENTORY_VALIDATION_CRON, default 02:30 UTC."""

import dagster as dg

from dagster_project.core.settings import get_settings
from dagster_project.defs.validation.assets import SHADOW_MARTS

nightly_validation_job = dg.define_asset_job(
    "nightly_validation_job",
    selection=dg.AssetSelection.assets(SHADOW_MARTS),
    description="Rebuild every mart from all events and compare it with the live marts.",
)

nightly_full_validation_schedule = dg.ScheduleDefinition(
    name="nightly_full_validation_schedule",
    job=nightly_validation_job,
    cron_schedule=get_settings().validation_cron,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
