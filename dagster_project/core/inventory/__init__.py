"""Keeping the inventory marts current: the refresh that runs dbt over the new events."""
