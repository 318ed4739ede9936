"""The daily count reconciliation as an asset: decide the counts, post and deliver the approved
adjustments, and attach the report (markdown here, HTML with plots in the state folder)."""

from datetime import UTC, datetime

import dagster as dg

from dagster_project.core.db import connect
from dagster_project.core.reconciliation import deliver_to_erp, reconcile
from dagster_project.core.reconciliation.report import build_report, markdown, write_html
from dagster_project.core.settings import get_settings

COUNT_RECONCILIATION = dg.AssetKey(["reconciliation", "count_reconciliation"])


@dg.asset(
    key=COUNT_RECONCILIATION,
    deps=[["marts", "count_variances"], ["marts", "inventory_record_accuracy"]],
    group_name="reconciliation",
    kinds={"postgres"},
    description="Every count decided once (matched, auto-approved and posted, or pending for a "
    "person), appended to reconciliation.decisions; posted adjustments sent to "
    "erp.stock_adjustments.",
)
def count_reconciliation(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = get_settings()
    result = reconcile(settings)
    sent = deliver_to_erp(settings)
    with connect(settings) as conn:
        report = build_report(conn)
    path = write_html(settings, report, datetime.now(UTC))
    context.log.info(f"reconciliation report written to {path}")
    return dg.MaterializeResult(
        metadata={
            **result.as_dict(),
            "erp_rows": sent,
            "pending_total": report.pending,
            "recounts_suggested": report.recounts_suggested,
            "report": dg.MetadataValue.md(markdown(report)),
            "html_report": dg.MetadataValue.path(str(path)),
        }
    )
