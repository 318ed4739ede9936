"""The staging views the state layer probes by index stay views Postgres merges into the query
that reads them (one select, no WITH): a max() through them is one probe of the landing table's
index, which the read-time tails and the health models pay on every read."""

from __future__ import annotations

import json

import pytest

from dagster_project.core.db import connect
from dagster_project.core.db.roles import SUPERUSER
from dagster_project.core.inventory.refresh import run_dbt

# (view, column whose max() is probed, the landing table's index it must use)
PROBES = [
    ("stg_landing__wms_events", "ingest_seq", "wms_events_pkey"),
    ("stg_landing__purchase_orders", "ingest_seq", "purchase_orders_pkey"),
    ("stg_landing__sku_params", "loaded_at", "sku_params_loaded_at"),
]


@pytest.fixture(scope="module")
def views(database, settings) -> None:
    run_dbt(settings, ["run", "--select", *(view for view, _, _ in PROBES)])


def _nodes(plan: dict) -> list[dict]:
    found = [plan]
    for child in plan.get("Plans", []):
        found += _nodes(child)
    return found


@pytest.mark.usefixtures("views")
@pytest.mark.parametrize("view, column, index", PROBES)
def test_a_max_through_the_staging_view_is_one_index_probe(settings, view, column, index):
    with connect(settings, SUPERUSER) as conn, conn.transaction():
        # on a small table a scan may be cheaper; what matters is that the probe is possible
        conn.execute("set local enable_seqscan = off")
        plan = conn.execute(
            f"explain (format json) select max({column}) from staging.{view}"
        ).fetchone()[0]
    nodes = _nodes(plan[0]["Plan"])
    probes = [
        n
        for n in nodes
        if n["Node Type"] == "Limit"
        and any(c.get("Index Name") == index for c in _nodes(n) if c is not n)
    ]
    assert probes, (
        f"max({column}) through staging.{view} is not a probe of {index}: Postgres did not "
        f"merge the view into the query (a WITH in it?). Plan:\n{json.dumps(plan, indent=1)}"
    )
