"""`inventory serve`: records over HTTP, each request one atomic batch through the file ingest.

`POST /v1/events/<source>` for every event source and `/v1/reference/<source>` for every
reference source of core/ingest/sources.py (a source added there is served with no change
here). The body is a JSON array (`application/json`: each element becomes one line of JSON Lines,
its text as sent) or JSON Lines (`application/x-ndjson`, taken as a file of them is); either way
a bad record is quarantined with its reason and never refuses the batch. The answer is the four
counts of `inventory ingest --json`.

Refused before anything lands: 401 without the bearer token, 415 for another content type (or
none), 413 past INVENTORY_SERVE_MAX_BODY_BYTES, 400 for a JSON body that is not one array
(not JSON at all, not UTF-8, an object, data after the array). The server binds 127.0.0.1 only
and works as inventory_ingest, as `inventory ingest` does. Concurrent requests each get their own
connection and transaction; run_batch's ingest lock orders their landing.
"""

# No `from __future__ import annotations`: FastAPI reads the dependencies' annotations at
# definition, and a closure's names are not visible to it later.
import logging
import os
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Annotated, Any

import psycopg
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import ConnectionPool, PoolTimeout
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from dagster_project.core.db import database_url
from dagster_project.core.db.roles import INGEST
from dagster_project.core.ingest import EVENT_SOURCES, REFERENCE_SOURCES, BatchResult, ingest_lines
from dagster_project.core.ingest.readers import InputError, json_array_lines
from dagster_project.core.ingest.sources import MAX_IDENTIFIER, Kind, Source
from dagster_project.core.settings import Settings

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
JSON = "application/json"
NDJSON = "application/x-ndjson"
# the other names JSON Lines goes by
NDJSON_ALIASES = (NDJSON, "application/ndjson", "application/jsonl", "application/x-jsonlines")
# how long a request waits for one of the pool's connections before a 503
POOL_WAIT_SECONDS = 30.0
# application_name of the pool's connections: not `inventory`, which tests and tools read as
# "an ingest is running"; the pool's idle connections are not one
APPLICATION_NAME = "inventory serve"


class BatchCounts(BaseModel):
    """What became of the request's records: received = accepted + duplicates + quarantined."""

    received: int = Field(description="records read (non-blank lines, or array elements)")
    accepted: int = Field(description="new records, landed")
    duplicates: int = Field(description="same key and content as a record already accepted")
    quarantined: int = Field(
        description="refused with a reason: `inventory quarantine list` shows them"
    )


class Refusal(BaseModel):
    """Why the request was refused as a whole; nothing of it landed."""

    detail: str


def serve_token(settings: Settings) -> str:
    """INVENTORY_SERVE_TOKEN, else the token in `<state>/serve.token`, generated at first use,
    0600 from its first byte. O_EXCL: of two first callers one writes, the other reads it."""
    if settings.serve_token:
        return settings.serve_token
    path = settings.serve_token_file
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        token = path.read_text().strip()
        if not token:
            raise RuntimeError(f"{path} is empty: delete it to have a token generated") from None
        return token
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")
    return path.read_text().strip()


def record_schema(source: Source) -> dict[str, Any]:
    """The JSON Schema of one record of `source`, from its fields (DOMAIN.md's inputs)."""
    types = {
        Kind.TEXT: {"type": "string"},
        Kind.NUMERIC: {"type": "number"},
        Kind.INTEGER: {"type": "integer"},
        Kind.TIMESTAMPTZ: {"type": "string", "format": "date-time"},
    }
    properties = {}
    for f in source.fields:
        schema = dict(types[f.kind])
        if f.kind is Kind.TEXT and not f.free_text:
            schema["maxLength"] = MAX_IDENTIFIER
        properties[f.name] = schema
    return {
        "type": "object",
        "title": f"{source.name} record",
        "description": (
            "A record that does not fit (a missing or mistyped field, an unknown type or unit, a "
            "value out of bounds) is quarantined with its reason; the others still land. Text "
            "fields take integers too, numbers take numeric strings, timestamps without an "
            "offset are UTC (DOMAIN.md)."
        ),
        "properties": properties,
        "required": [f.name for f in source.fields if f.required],
    }


def request_body(source: Source) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            JSON: {"schema": {"type": "array", "items": record_schema(source)}},
            NDJSON: {
                "schema": {
                    "type": "string",
                    "description": "JSON Lines: one record (a JSON object) per line; a line "
                    "that is not one is quarantined. Also as application/ndjson, "
                    "application/jsonl.",
                }
            },
        },
    }


REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"model": Refusal, "description": "a JSON body that is not one array of records"},
    401: {"model": Refusal, "description": "no bearer token, or not the server's"},
    413: {
        "model": Refusal,
        "description": "the body is past the server's limit, INVENTORY_SERVE_MAX_BODY_BYTES",
    },
    415: {"model": Refusal, "description": f"a content type other than {JSON} or {NDJSON}"},
    503: {"model": Refusal, "description": "the database cannot be reached now: send it again"},
}


def _refuse(status: int, detail: str, headers: dict[str, str] | None = None) -> HTTPException:
    return HTTPException(status_code=status, detail=detail, headers=headers)


def _as_lines(content_type: str, body: bytes) -> bytes:
    media_type, _, parameters = content_type.partition(";")
    media_type = media_type.strip().lower()
    charset = next(
        (
            value.strip().strip('"').lower()
            for name, _, value in (p.partition("=") for p in parameters.split(";"))
            if name.strip().lower() == "charset"
        ),
        "utf-8",
    )
    if charset not in ("utf-8", "utf8"):
        raise _refuse(415, f"charset {charset}: the body must be UTF-8")
    if media_type == JSON:
        try:
            return json_array_lines(body)
        except InputError as exc:
            raise _refuse(400, str(exc)) from exc
    if media_type in NDJSON_ALIASES:
        return body
    shown = f"content type {media_type!r}" if media_type else "no content type"
    raise _refuse(415, f"{shown}: send {JSON} (an array of records) or {NDJSON} (JSON Lines)")


def create_app(settings: Settings) -> FastAPI:
    token = serve_token(settings).encode()
    bearer = HTTPBearer(auto_error=False, description="the token in `<state>/serve.token`")
    pool: dict[str, ConnectionPool] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool["ingest"] = ConnectionPool(
            database_url(settings, INGEST),
            min_size=1,
            max_size=settings.serve_pool_size,
            kwargs={"autocommit": True, "application_name": APPLICATION_NAME},
            open=False,
        )
        pool["ingest"].open()
        try:
            yield
        finally:
            pool["ingest"].close()

    def authorized(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        challenge = {"WWW-Authenticate": "Bearer"}
        if credentials is None:
            raise _refuse(401, "no bearer token: Authorization: Bearer <token>", challenge)
        if not secrets.compare_digest(credentials.credentials.encode(), token):
            raise _refuse(401, "wrong bearer token", challenge)

    def land(source: str, content_type: str, body: bytes, label: str) -> BatchResult:
        lines = _as_lines(content_type, body)
        try:
            with pool["ingest"].connection(timeout=POOL_WAIT_SECONDS) as conn:
                return ingest_lines(conn, source, lines, label)
        except (PoolTimeout, psycopg.OperationalError) as exc:
            log.warning("batch from %s not landed: %s", label, exc)
            raise _refuse(503, f"the database cannot be reached now: {exc}") from exc

    def endpoint(source: str) -> Callable[..., Coroutine[Any, Any, BatchCounts]]:
        async def post(request: Request, response: Response) -> BatchCounts:
            # past max_body_size, reading raises and FastAPI answers 413
            body = await request.body()
            client = f"{request.client.host}:{request.client.port}" if request.client else "?"
            # in a worker thread: splitting a large array and the batch would hold up the loop
            result = await run_in_threadpool(
                land, source, request.headers.get("content-type", ""), body, f"<http {client}>"
            )
            response.headers["X-Batch-Id"] = str(result.batch_id)
            return BatchCounts(**result.counts())

        return post

    app = FastAPI(
        title="realtime-inventory ingest",
        version="1",
        summary="Event and reference records over HTTP: each request is one atomic batch.",
        lifespan=lifespan,
        redoc_url=None,
        max_body_size=settings.serve_max_body_bytes,
    )
    batch_id_header = {
        "X-Batch-Id": {
            "description": "the batch in raw.ingest_batches (its quarantined records carry it)",
            "schema": {"type": "integer"},
        }
    }
    for prefix, sources in (("events", EVENT_SOURCES), ("reference", REFERENCE_SOURCES)):
        for name, source in sources.items():
            kind = "event" if prefix == "events" else "reference"
            app.add_api_route(
                f"/v1/{prefix}/{name}",
                endpoint(name),
                methods=["POST"],
                response_model=BatchCounts,
                dependencies=[Depends(authorized)],
                responses={200: {"headers": batch_id_header}, **REFUSALS},
                openapi_extra={"requestBody": request_body(source)},
                operation_id=f"post_{prefix}_{name.replace('-', '_')}",
                summary=f"Ingest {name} {kind} records as one batch",
                tags=[prefix],
            )
    return app
