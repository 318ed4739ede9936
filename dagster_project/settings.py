"""Where the platform keeps its state and which database it talks to, read from the environment."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DATABASE_NAME = "inventory"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INVENTORY_", extra="ignore")

    home: Path = Field(default=Path(".inventory"), description="state folder")
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
    def uses_embedded(self) -> bool:
        return not self.database_url


def prepare_state_dir(settings: Settings) -> None:
    """Create the state folder and keep scratch files and runtime locks inside it."""
    for path in (settings.state_dir, settings.tmp_dir):
        path.mkdir(parents=True, exist_ok=True)
    settings.runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    settings.runtime_dir.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(settings.runtime_dir))
    os.environ.setdefault("TMPDIR", str(settings.tmp_dir))


def get_settings() -> Settings:
    return Settings()
