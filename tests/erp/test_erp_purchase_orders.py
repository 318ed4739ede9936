"""A purchase order placed takes its pair out of the alerts, so the ERP's request closes at the
next sync; its receipt then moves the quantity from on order to on hand without reopening it.
Real events, real dbt marts, the real ERP database."""

from __future__ import annotations

from dagster_project.core.erp import sync_once
from dagster_project.core.ingest import ingest_records
from dagster_project.core.inventory.refresh import refresh

from .inventory import AS_OF, ingest_wms, load_params, wms

REQUESTS = """
    select sku_id, location_id, status, available_qty, qty_below_rop, suggested_order_qty
    from erp.replenishment_requests order by request_id
"""

PO_LINE = {
    "po_id": "PO-1",
    "line_id": "1",
    "supplier_id": "SUP1",
    "sku_id": "S1",
    "location_id": "L1",
    "ordered_qty": 6,
    "ordered_at": AS_OF.isoformat(),
    "status": "open",
}


def test_a_placed_purchase_order_closes_the_request(conn, erp, settings, tmp_path):
    load_params(conn, tmp_path)
    # S1 has 4 against its reorder point of 10 (no demand): below by 4 - 10 = -6; suggested
    # raw 10 - 4 = 6, in fives -> 10
    ingest_wms(conn, wms("E1", "receipt", 4))
    refresh(settings, as_of=AS_OF)
    result = sync_once(settings)
    assert (result.opened, result.closed) == (1, 0)
    assert erp.execute(REQUESTS).fetchall() == [("S1", "L1", "open", 4, -6, 10)]

    # a PO line of 6 is placed: projected 4 + 6 = 10, not below 10: the pair leaves the alerts
    # at the refresh that counts it, and the request closes at the next sync
    assert ingest_records(conn, "po", [PO_LINE], "erp test").accepted == 1
    refresh(settings, as_of=AS_OF)
    assert conn.execute(
        "select on_order_qty, projected_qty from marts.inventory_position where sku_id = 'S1'"
    ).fetchone() == (6, 10)
    assert conn.execute("select count(*) from marts.reorder_alerts").fetchone() == (0,)
    result = sync_once(settings)
    assert (result.opened, result.closed) == (0, 1)
    assert erp.execute(REQUESTS).fetchall() == [("S1", "L1", "closed", 4, -6, 10)]

    # the 6 arrive against PO-1 (read without a refresh): on hand 10, on order 0, projected
    # still 10: counted once, so no new request
    receipt = wms("E2", "receipt", 6, days_ago=1) | {"reference_id": "PO-1"}
    ingest_wms(conn, receipt)
    assert conn.execute(
        "select available_qty, on_order_qty, projected_qty from marts.inventory_position"
        " where sku_id = 'S1'"
    ).fetchone() == (10, 0, 10)
    result = sync_once(settings)
    assert (result.opened, result.closed) == (0, 0)
    assert len(erp.execute(REQUESTS).fetchall()) == 1
