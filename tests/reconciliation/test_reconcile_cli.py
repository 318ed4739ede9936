"""`inventory reconciliation` as a user runs it: load counts, decide, list, approve, reject."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.conftest import run_cli
from tests.reconciliation.conftest import T, counts, events, skus


def test_counts_commands(recon, erp, tmp_path) -> None:
    skus(recon, S1="B")
    events(
        recon,
        ("e1", "receipt", "S1", "L1", 100, T - timedelta(days=1)),
        ("e2", "receipt", "S1", "L2", 100, T - timedelta(days=1)),
        ("e3", "receipt", "S1", "L3", 100, T - timedelta(days=1)),
    )
    counts(recon, ("K1", "S1", "L1", 97, T), ("K2", "S1", "L2", 90, T))
    path = tmp_path / "counts.csv"
    path.write_text(
        "count_id,sku_id,location_id,counted_qty,counted_at,counted_by\n"
        f"K3,S1,L3,120,{T.isoformat()},ben\n"
    )
    assert run_cli("load", "counts", str(path)).returncode == 0

    done = run_cli("reconciliation", "run", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) | {"seconds": 0} == {
        "decided": 3, "matched": 0, "auto_approved": 1, "pending": 2, "posted": 1,
        "rounds": 1, "seconds": 0, "erp_rows": 1,
    }  # fmt: skip
    listed = json.loads(run_cli("reconciliation", "pending", "--json").stdout)
    assert [(r["count_id"], r["variance_qty"], r["queued_system_qty"]) for r in listed] == [
        ("K2", "-10", "100"),
        ("K3", "20", "100"),
    ]

    approved = run_cli(
        "reconciliation", "approve", "K2", "--by", "eva", "--reason", "damaged, scrapped"
    )
    assert approved.returncode == 0, approved.stderr
    said = approved.stdout.decode()
    assert "count K2 approved by eva" in said and "adjustment of -10" in said
    refused = run_cli("reconciliation", "reject", "K2", "--by", "eva", "--reason", "late")
    assert refused.returncode == 2 and b"not pending" in refused.stderr
    assert (
        run_cli("reconciliation", "reject", "K3", "--by", "ben", "--reason", "wrong bin").returncode
        == 0
    )

    assert b"no count is pending" in run_cli("reconciliation", "pending").stdout
    rows = erp.execute("select count_id, qty_delta from erp.stock_adjustments order by 1")
    assert rows.fetchall() == [("K1", -3), ("K2", -10)]
