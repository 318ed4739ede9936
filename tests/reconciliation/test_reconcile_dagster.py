"""The daily reconciliation job run by Dagster from the loaded definitions: it decides, posts,
delivers to the ERP, attaches the markdown report, writes the HTML report, and its checks warn
on IRA below 95% and on drift."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import dagster as dg

from dagster_project.definitions import defs
from tests.reconciliation.conftest import T, counts, events, skus


def test_the_daily_job_reconciles_reports_and_checks(recon, erp, settings) -> None:
    # L1: K1 matched (50 = 50) and K2 auto-approved (C: 99 on 100): IRA 2/2 = 100%.
    # L2: K3 pending (C: 60 on 100): IRA 0/1 = 0%, below 95%: the check warns.
    skus(recon, S1="C")
    events(
        recon,
        ("e1", "receipt", "S1", "L1", 50, T - timedelta(days=2)),
        ("e2", "receipt", "S2", "L1", 100, T - timedelta(days=2)),
        ("e3", "receipt", "S1", "L2", 100, T - timedelta(days=2)),
    )
    counts(
        recon,
        ("K1", "S1", "L1", 50, T - timedelta(hours=2)),
        ("K2", "S2", "L1", 99, T - timedelta(hours=2)),
        ("K3", "S1", "L2", 60, T - timedelta(hours=2)),
    )
    loaded = defs()
    assert loaded.get_schedule_def("count_reconciliation_schedule").cron_schedule == "0 6 * * *"

    run = loaded.resolve_job_def("count_reconciliation_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )

    assert run.success
    (materialization,) = run.get_asset_materialization_events()
    metadata = materialization.materialization.metadata
    assert metadata["decided"].value == 3 and metadata["posted"].value == 1
    assert metadata["erp_rows"].value == 1 and metadata["pending_total"].value == 1
    report = metadata["report"].value
    assert "| L2 | 1 | 0 | 0.00 |" in report and "| L1 | 2 | 2 | 100.00 |" in report
    assert "| K3 | S1 | L2 | 60 | 100 | -40 | 40.00% | pending |" in report
    html = (settings.state_dir / "reports").glob("reconciliation-*.html")
    page = max(html, key=os.path.getmtime).read_text()
    assert page.count("<svg") == 3 and "IRA over time" in page and "K3" in page

    checks = {c.check_name: c for c in run.get_asset_check_evaluations()}
    assert not checks["ira_meets_target"].passed
    assert checks["ira_meets_target"].severity == dg.AssetCheckSeverity.WARN
    assert checks["ira_meets_target"].metadata["unexpected_count"].value == 1
    assert checks["no_count_needs_a_recount"].passed
    assert erp.execute("select count_id from erp.stock_adjustments").fetchall() == [("K2",)]

    # a late receipt dated before K1 lands: the next run posts nothing and flags K1
    events(recon, ("late", "receipt", "S1", "L1", 5, T - timedelta(hours=3)))
    again = loaded.resolve_job_def("count_reconciliation_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )
    (materialization,) = again.get_asset_materialization_events()
    assert materialization.materialization.metadata["decided"].value == 0
    checks = {c.check_name: c for c in again.get_asset_check_evaluations()}
    assert not checks["no_count_needs_a_recount"].passed
    assert "| K1 |" in checks["no_count_needs_a_recount"].metadata["offending_rows"].value


def test_the_schedule_time_comes_from_the_environment() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", "from dagster_project.defs.reconciliation import schedules as s;"
         "print(s.count_reconciliation_schedule.cron_schedule)"],
        env={**os.environ, "INVENTORY_RECONCILE_CRON": "15 22 * * *"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert probe.stdout.strip() == "15 22 * * *", probe.stderr
