"""What every bench shares: a state folder of its own, emptied, and a line about the machine."""

from __future__ import annotations

import os
import platform
import shutil
from pathlib import Path

from dagster_project.core.db import ensure_database
from dagster_project.core.db.server import EmbeddedServer
from dagster_project.core.settings import Settings


def fresh_state(name: str) -> Settings:
    """`<INVENTORY_HOME>/<name>`, emptied, with its embedded server started and migrated.

    The environment points there too, so child processes and the ERP's reader password follow.
    """
    home = Path(os.environ.get("INVENTORY_HOME", ".inventory")).resolve() / name
    settings = Settings(home=home, database_url=None)
    if home.exists():
        EmbeddedServer(settings).stop()
        shutil.rmtree(home)
    os.environ["INVENTORY_HOME"] = str(home)
    for variable in ("INVENTORY_DATABASE_URL", "ERP_DATABASE_URL"):
        os.environ.pop(variable, None)
    ensure_database(settings)
    return settings


def machine() -> str:
    return (
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
