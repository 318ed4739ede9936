"""Reconciliation of physical counts against the book: decisions, adjustments, the ERP, reports.

Plain Python, no Dagster: `inventory reconciliation` and the Dagster reconciliation asset both call
`reconcile`, `approve`, `reject` and `deliver_to_erp`. The numbers come from the dbt view
`marts.count_variances`; what was decided is appended to `reconciliation.decisions`.
"""

from dagster_project.core.reconciliation.counts import (
    AUTO,
    Decision,
    ReconcileError,
    ReconcileResult,
    approve,
    ensure_views,
    pending,
    reconcile,
    reject,
)
from dagster_project.core.reconciliation.erp import deliver_to_erp

__all__ = [
    "AUTO",
    "Decision",
    "ReconcileError",
    "ReconcileResult",
    "approve",
    "deliver_to_erp",
    "ensure_views",
    "pending",
    "reconcile",
    "reject",
]
