"""The one entry point: `dagster dev -m dagster_project.definitions` loads every domain in defs/."""

from __future__ import annotations

import dagster as dg

import dagster_project.defs


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_defs(defs_root=dagster_project.defs)
