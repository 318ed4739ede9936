"""Seeded, deterministic workload generator for a plant with warehouses (batch files and live)."""

from dagster_project.core.simulate.config import SimConfig
from dagster_project.core.simulate.live import live_records
from dagster_project.core.simulate.workload import Stream, Workload, generate
from dagster_project.core.simulate.writer import manifest, write_workload

__all__ = [
    "SimConfig",
    "Stream",
    "Workload",
    "generate",
    "live_records",
    "manifest",
    "write_workload",
]
