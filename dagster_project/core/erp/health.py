"""Mirror marts.inventory_health into erp.inventory_health_live by key, writing changed rows only.

The rows go to a temporary table by COPY and one upsert compares them with what the ERP holds,
so a tick over ~10k unchanged pairs costs one COPY and one indexed comparison, and rewrites none.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg import sql

from dagster_project.core.erp.schema import HEALTH_COLUMNS

HEALTH_KEYED = ("sku_id", "location_id", *HEALTH_COLUMNS)
# as_of moves at every refresh; comparing it would rewrite every row every time
HEALTH_COMPARED = tuple(c for c in HEALTH_COLUMNS if c != "as_of")


def _list(template: str, names: Iterable[str]) -> sql.Composable:
    return sql.SQL(", ").join(sql.SQL(template).format(sql.Identifier(n)) for n in names)


CREATE_INCOMING = sql.SQL(
    "create temp table health_in on commit drop as"
    " select {} from erp.inventory_health_live with no data"
).format(_list("{}", HEALTH_KEYED))

COPY_INCOMING = sql.SQL("copy health_in ({}) from stdin").format(_list("{}", HEALTH_KEYED))

UPSERT = sql.SQL(
    """
    insert into erp.inventory_health_live as t ({cols}, updated_at)
    select {cols}, now() from health_in
    on conflict (sku_id, location_id) do update set {sets}, updated_at = now()
    where ({old}) is distinct from ({new})
    """
).format(
    cols=_list("{}", HEALTH_KEYED),
    sets=_list("{0} = excluded.{0}", HEALTH_COLUMNS),
    old=_list("t.{}", HEALTH_COMPARED),
    new=_list("excluded.{}", HEALTH_COMPARED),
)


def upsert_health(erp: psycopg.Connection, rows: Iterable[tuple]) -> int:
    """Write the rows (in HEALTH_KEYED order) that are new or changed, inside the caller's
    transaction; return how many were inserted or updated. Pairs absent from `rows` are kept:
    a position, once it exists, never leaves the mart."""
    erp.execute(CREATE_INCOMING)
    with erp.cursor() as cur:
        with cur.copy(COPY_INCOMING) as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(UPSERT)
        return cur.rowcount
