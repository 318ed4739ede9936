"""Every setting read from the environment, with its type, default and meaning: the platform's
(`INVENTORY_*`), the ERP database's (`ERP_*`) and Materialize's (`MZ_*`, the dbt profile's
names). A value that does not parse fails at once with pydantic's message naming the field.
The README's configuration table is these fields (tests/test_settings.py keeps it so).

Variables the platform sets for the processes it starts are not settings; each is named once:
dbt's profile (`INVENTORY_PG_*`, `DBT_*`: core/inventory/refresh.py `dbt_env`), the resolved
state folder (`child_env` below), `XDG_RUNTIME_DIR` and `TMPDIR` (`prepare_state_dir` below),
`DAGSTER_HOME` and `INVENTORY_STARTED_BY` (cli/ui.py), `INVENTORY_REFRESH_LEASE`
(core/db/locks.py `LEASE_ENV`).
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DATABASE_NAME = "inventory"
# the checkout: the dbt project, the expectations and the default state folder live beside the
# package, so no command depends on the folder it is run from
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INVENTORY_", extra="ignore")

    home: Path = Field(
        default=PROJECT_ROOT / ".inventory",
        description="state folder: database, simulated data, scratch files",
        json_schema_extra={"shown_default": "`.inventory` beside `dbt_project/`"},
    )
    dbt_project_dir: Path = Field(
        default=PROJECT_ROOT / "dbt_project",
        description="the dbt project the platform runs and deploys (another checkout to try out)",
        json_schema_extra={"shown_default": "`dbt_project/` of this checkout"},
    )
    database_url: str | None = Field(
        default=None,
        description="use this PostgreSQL (16 or newer) instead of the embedded one",
        repr=False,  # a URL may carry a password
    )
    # not INVENTORY_PG_PORT: that one is the dbt profile's, set in every process that runs dbt
    server_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="TCP port of the embedded server, chosen at its first start",
        json_schema_extra={"shown_default": "a free port"},
    )
    stream_autostart: bool = Field(
        default=True, description="`false`: the sensor watches the worker but does not start it"
    )
    stream_stale_seconds: float = Field(
        default=30,
        gt=0,
        description="no heartbeat for this long = the worker is down (alert, restart)",
    )
    stream_start_grace_seconds: float = Field(
        default=120,
        ge=0,
        description=(
            'a worker the sensor started (or that nobody watched) gets this long before "down"'
        ),
    )
    stream_behind_seconds: float = Field(
        default=120,
        gt=0,
        description="the oldest event not yet in the stored state is this old = behind (alert)",
    )
    stream_observe_seconds: float = Field(
        default=60, ge=0, description="at most one progress observation per mart this often"
    )
    stop_grace_seconds: float = Field(
        default=4,
        gt=0,
        description="on Ctrl-C, what `demo` and `ui` started gets this long before SIGKILL",
    )
    # cron strings are checked by Dagster when it defines the schedule, naming the schedule
    validation_cron: str = Field(
        default="30 2 * * *", description="when the nightly full validation runs (UTC)"
    )
    reconcile_cron: str = Field(
        default="0 6 * * *", description="when the counts are reconciled (UTC)"
    )
    supplier_on_time_target_pct: float = Field(
        default=90,
        ge=0,
        le=100,
        description="a supplier whose on-time rate over 90 days (supplier_performance) is below "
        "this percentage fails the check `suppliers_deliver_on_time` (a warning)",
    )
    serve_port: int = Field(
        default=8780, ge=1, le=65535, description="TCP port of `inventory serve` (on 127.0.0.1)"
    )
    serve_token: str | None = Field(
        default=None,
        min_length=16,
        description="the bearer token `inventory serve` requires",
        json_schema_extra={"shown_default": "generated, in `<state>/serve.token`"},
        repr=False,
    )
    serve_max_body_bytes: int = Field(
        default=8 << 20,
        gt=0,
        description="a request body to `inventory serve` larger than this is refused (413)",
    )
    serve_pool_size: int = Field(
        default=4,
        ge=1,
        description="database connections `inventory serve` keeps for concurrent requests",
    )
    sink_crash_at: Literal["before_erp_commit", "after_erp_commit"] | None = Field(
        default=None,
        description="tests only: the ERP sink dies at this point of its pass, as if killed",
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
    def serve_token_file(self) -> Path:
        return self.state_dir / "serve.token"

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


def child_env(settings: Settings) -> dict[str, str]:
    """This process's environment for a platform process it starts, with the state folder as
    resolved here: a relative INVENTORY_HOME would name another folder in another directory."""
    return {**os.environ, "INVENTORY_HOME": str(settings.state_dir)}


class ErpSettings(BaseSettings):
    """Where the ERP database is and how its reader logs in."""

    model_config = SettingsConfigDict(env_prefix="ERP_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="an external ERP database instead of `erp` on the same server",
        repr=False,
    )
    reader_password: str | None = Field(
        default=None,
        description="the `erp_reader` role's password",
        json_schema_extra={"shown_default": "generated"},
        repr=False,
    )


class MaterializeSettings(BaseSettings):
    """How `inventory stream --engine materialize` reaches Materialize: the names and defaults of
    the dbt profile's `materialize` output (dbt_project/profiles.yml)."""

    model_config = SettingsConfigDict(env_prefix="MZ_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="Materialize's host")
    port: int = Field(default=6875, ge=1, le=65535, description="Materialize's SQL port")
    user: str = Field(default="materialize", description="the user dbt and the ERP feed log in as")
    password: str = Field(default="", description="that user's password", repr=False)
    database: str = Field(default="materialize", description="the database the marts are in")
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = Field(
        default="disable", description="libpq's sslmode for the connection"
    )


class DagsterSettings(BaseSettings):
    """Dagster's own variable, read where the platform reports to an instance outside a run."""

    model_config = SettingsConfigDict(env_prefix="DAGSTER_", extra="ignore")

    home: Path | None = Field(
        default=None,
        description="the Dagster instance refreshes are reported to; unset = `<state>/dagster` "
        "once `inventory ui` has run there",
        json_schema_extra={"shown_default": "unset"},
    )
