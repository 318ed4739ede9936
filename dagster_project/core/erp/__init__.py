"""The ERP feed of DOMAIN.md: replenishment requests per alert episode, live health, adjustments.

Plain Python, no Dagster: a Dagster asset and the stream worker call `ensure_erp` once, then
`sync_once` (Postgres) or `subscribe_loop` (Materialize).
"""

from dagster_project.core.erp.database import connect_erp, ensure_erp, erp_url, reader_url
from dagster_project.core.erp.sink import SyncResult, apply_snapshot, subscribe_loop, sync_once

__all__ = [
    "SyncResult",
    "apply_snapshot",
    "connect_erp",
    "ensure_erp",
    "erp_url",
    "reader_url",
    "subscribe_loop",
    "sync_once",
]
