"""`inventory serve`: the HTTP way in for scanners and MES, on 127.0.0.1."""

from __future__ import annotations

from typing import Annotated

import typer

from dagster_project.cli.common import err, ready_connection
from dagster_project.core.db.roles import INGEST
from dagster_project.core.ingest import EVENT_SOURCES
from dagster_project.core.settings import get_settings


def serve(
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="TCP port (default: INVENTORY_SERVE_PORT)"),
    ] = None,
    access_log: Annotated[bool, typer.Option(help="log every request")] = True,
) -> None:
    """Take records over HTTP until stopped: POST /v1/events/<source>, one batch per request."""
    # imported here: the other commands need not load the web stack
    import uvicorn

    from dagster_project.core.ingest.http import HOST, create_app, serve_token

    settings = get_settings()
    ready_connection(INGEST).close()  # the database up and migrated, the role able to log in
    port = port or settings.serve_port
    serve_token(settings)
    where = "INVENTORY_SERVE_TOKEN" if settings.serve_token else str(settings.serve_token_file)
    err.print(
        f"ingest on http://{HOST}:{port}/v1/events/{{{','.join(EVENT_SOURCES)}}} "
        f"(API: /docs, /openapi.json); bearer token: {where}"
    )
    uvicorn.run(
        create_app(settings),
        host=HOST,
        port=port,
        access_log=access_log,
        log_level="info",
        timeout_graceful_shutdown=5,
    )
