"""Approved adjustments reach erp.stock_adjustments exactly once, also when a delivery repeats."""

from __future__ import annotations

from datetime import timedelta

from dagster_project.core.reconciliation import approve, deliver_to_erp, reconcile, reject
from tests.reconciliation.conftest import T, counts, events, skus


def test_an_approved_adjustment_is_one_erp_row(recon, erp, settings) -> None:
    # K1 auto-approved (+1 on 100, A 1%); K2 pending then approved (-20 on 200);
    # K3 pending then rejected: no row; K4 matched: no row.
    skus(recon, S1="A")
    events(
        recon,
        ("e1", "receipt", "S1", "L1", 100, T - timedelta(days=1)),
        ("e2", "receipt", "S1", "L2", 200, T - timedelta(days=1)),
        ("e3", "receipt", "S1", "L3", 50, T - timedelta(days=1)),
        ("e4", "receipt", "S1", "L4", 10, T - timedelta(days=1)),
    )
    counts(
        recon,
        ("K1", "S1", "L1", 101, T),
        ("K2", "S1", "L2", 180, T),
        ("K3", "S1", "L3", 40, T),
        ("K4", "S1", "L4", 10, T),
    )
    reconcile(settings)
    approve(settings, "K2", "eva", "bin L2 recounted twice")
    reject(settings, "K3", "eva", "count sheet misread")

    assert deliver_to_erp(settings) == 2
    assert deliver_to_erp(settings) == 0
    # a delivery whose record was lost (a crash between the ERP's commit and ours) is sent
    # again and changes nothing there
    with recon.transaction():
        recon.execute("set local session_replication_role = replica")
        recon.execute("truncate reconciliation.erp_deliveries")
    assert deliver_to_erp(settings) == 0

    rows = erp.execute(
        """
        select count_id, sku_id, location_id, qty_delta, counted_at, approved_by, reason,
            approved_at = posted_at
        from erp.stock_adjustments order by count_id
        """
    ).fetchall()
    assert rows == [
        ("K1", "S1", "L1", 1, T, "auto-approve limit", "within the auto-approve limit", True),
        ("K2", "S1", "L2", -20, T, "eva", "bin L2 recounted twice", True),
    ]
