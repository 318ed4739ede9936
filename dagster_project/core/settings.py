"""Where the platform keeps its state and which database it talks to, read from the environment."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DATABASE_NAME = "inventory"
# the checkout: the dbt project, the expectations and the default state folder live beside the
# package, so no command depends on the folder it is run from
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INVENTORY_", extra="ignore")

    home: Path = Field(default=PROJECT_ROOT / ".inventory", description="state folder")
    database_url: str | None = Field(
        default=None, description="an existing Postgres; unset = the embedded server"
    )
    # not INVENTORY_PG_PORT: that one is the dbt profile's, set in every process that runs dbt
    server_port: int | None = Field(
        default=None, description="TCP port of the embedded server (first start only)"
    )

    @cached_property
    def state_dir(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def pgdata(self) -> Path:
        return self.state_dir / "pgdata"

    @property
    def server_file(self) -> Path:
        return self.state_dir / "server.json"

    @property
    def socket_dir(self) -> Path:
        return self.state_dir / "socket"

    @property
    def tmp_dir(self) -> Path:
        return self.state_dir / "tmp"

    @property
    def runtime_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def dagster_home(self) -> Path:
        """The Dagster instance `inventory ui` runs with (its DAGSTER_HOME)."""
        return self.state_dir / "dagster"

    @property
    def uses_embedded(self) -> bool:
        return not self.database_url


def private_umask() -> None:
    """What this process creates from now on is its user's alone (0600 files, 0700 folders):
    passwords, the server's log, dbt's logs and targets, Dagster's storage may carry data."""
    os.umask(os.umask(0o077) | 0o077)


def prepare_state_dir(settings: Settings) -> None:
    """Create the state folder, private from its first byte, and keep scratch files and runtime
    locks inside it. A folder made readable by an older version is closed again (the group's
    traverse bit stays: the embedded server's own OS user needs it when run by root)."""
    private_umask()
    settings.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = settings.state_dir.stat().st_mode & 0o777
    if mode & 0o067:
        settings.state_dir.chmod(mode & ~0o067)
    for path in (settings.tmp_dir, settings.runtime_dir):
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(settings.runtime_dir))
    os.environ.setdefault("TMPDIR", str(settings.tmp_dir))


def get_settings() -> Settings:
    return Settings()
