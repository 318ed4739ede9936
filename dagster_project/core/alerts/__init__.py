"""Alerts raised by Dagster (`ops.alerts`, append-only) and the holds they put on the ERP feed."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

import psycopg

log = logging.getLogger(__name__)


def raise_alert(
    conn: psycopg.Connection, kind: str, subject: str, message: str, details: Mapping = {}
) -> int:
    log.warning("alert %s %s: %s", kind, subject, message)
    return conn.execute(
        "insert into ops.alerts (kind, subject, message, details) values (%s, %s, %s, %s)"
        " returning alert_id",
        [kind, subject, message, json.dumps(details, default=str)],
    ).fetchone()[0]


def hold_erp_feed(conn: psycopg.Connection, check_name: str, details: Mapping = {}) -> None:
    conn.execute(
        "insert into ops.sink_holds (check_name, details) values (%s, %s)"
        " on conflict (check_name) do update set details = excluded.details",
        [check_name, json.dumps(details, default=str)],
    )


def release_erp_feed(conn: psycopg.Connection, check_name: str) -> bool:
    return (
        conn.execute("delete from ops.sink_holds where check_name = %s", [check_name]).rowcount > 0
    )
