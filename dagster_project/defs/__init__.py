"""Dagster definitions, one folder per domain; `dagster_project.definitions` loads them all."""
