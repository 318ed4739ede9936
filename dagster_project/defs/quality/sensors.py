"""Evaluate the checks' automation conditions: a mart's checks run after refreshes."""

import dagster as dg

# On by default: in the UI a check nobody runs is only ever "Not evaluated".
checks_after_refresh_sensor = dg.AutomationConditionSensorDefinition(
    "checks_after_refresh_sensor",
    target=dg.AssetSelection.all_asset_checks(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Runs each mart's checks (its dbt tests and quality suites) once every ten "
    "minutes after the mart was updated, by the stream worker, `inventory refresh` or a run.",
)
