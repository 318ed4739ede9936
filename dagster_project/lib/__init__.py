"""Small pieces the Dagster definitions share."""
