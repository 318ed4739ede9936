"""realtime-inventory: the platform's Python package (CLI, ingestion, simulator, Dagster)."""
