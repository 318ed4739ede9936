"""Database access: the embedded server, connections and migrations."""

from dagster_project.core.db.connection import connect, database_url, ensure_database

__all__ = ["connect", "database_url", "ensure_database"]
