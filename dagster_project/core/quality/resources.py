"""The Dagster resource the quality checks read the platform database through (`inventory_db`)."""

from __future__ import annotations

import dagster as dg

from dagster_project.core.settings import Settings, get_settings


class InventoryDatabase(dg.ConfigurableResource):
    """Connection from the environment (`INVENTORY_*`, as everywhere else), plus check config."""

    freshness_max_age_minutes: int = 15

    def settings(self) -> Settings:
        return get_settings()
