"""`inventory db`: the platform database, embedded by default."""

from __future__ import annotations

import shlex

import typer

from dagster_project.cli.common import JsonFlag, err, fail, out
from dagster_project.core.db import connect, database_url, ensure_database
from dagster_project.core.db.migrate import migrate
from dagster_project.core.db.roles import SUPERUSER
from dagster_project.core.db.server import EmbeddedServer, ServerError
from dagster_project.core.settings import get_settings

app = typer.Typer(no_args_is_help=True, help="The platform database (embedded by default).")


@app.command("start")
def start() -> None:
    """Start the embedded server (idempotent) and apply migrations."""
    settings = get_settings()
    try:
        ensure_database(settings)
    except ServerError as exc:
        raise fail(str(exc)) from exc
    where = "embedded server" if settings.uses_embedded else "INVENTORY_DATABASE_URL"
    err.print(f"database ready ({where}); `inventory db url` prints its URL")


@app.command("stop")
def stop() -> None:
    """Stop the embedded server."""
    settings = get_settings()
    if not settings.uses_embedded:
        raise fail("INVENTORY_DATABASE_URL is set: that server is not ours to stop")
    err.print("stopped" if EmbeddedServer(settings).stop() else "not running")


@app.command("status")
def status(as_json: JsonFlag = False) -> None:
    """Whether the embedded server runs, its port and data folder (exit 1 when stopped)."""
    settings = get_settings()
    if not settings.uses_embedded:
        found = {"mode": "external", "running": None, "url_from": "INVENTORY_DATABASE_URL"}
    else:
        state = EmbeddedServer(settings).status()
        found = {
            "mode": "embedded",
            "running": state.running,
            "pid": state.pid,
            "port": state.info.port if state.info else None,
            "data_dir": str(state.pgdata),
        }
    if as_json:
        out.print_json(data=found)
    else:
        for key, value in found.items():
            out.print(f"{key:>9}: {value}")
    if found["running"] is False:
        raise typer.Exit(1)


@app.command("url")
def url(
    role: str = typer.Option(
        SUPERUSER, "--role", help="whose URL: postgres (administration), inventory_transform, ..."
    ),
) -> None:
    """Print a libpq URL of the platform database (for psql, dbt, psycopg2)."""
    try:
        print(database_url(get_settings(), role))
    except ServerError as exc:
        raise fail(str(exc)) from exc


@app.command("migrate")
def migrate_command() -> None:
    """Apply pending migrations and grant the roles their rights (`db start` does this too)."""
    with connect(get_settings(), SUPERUSER) as conn:
        applied = migrate(conn)
    err.print(f"applied {len(applied)} migration(s)")
    for m in applied:
        err.print(f"  {m.version:04d}_{m.name}")


@app.command("env")
def env() -> None:
    """Print shell exports for plain `dbt` in dbt_project/: eval "$(inventory db env)"."""
    from dagster_project.core.inventory.refresh import dbt_env

    try:
        values = dbt_env(get_settings())
    except ServerError as exc:
        raise fail(str(exc)) from exc
    for key, value in values.items():
        print(f"export {key}={shlex.quote(value)}")
