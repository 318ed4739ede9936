"""The hot path: a long-lived worker that keeps the marts and the ERP feed current."""

from dagster_project.core.stream.progress import Progress, committed_seq, read_progress
from dagster_project.core.stream.worker import StreamWorker, TickResult, WorkerConfig

__all__ = [
    "Progress",
    "StreamWorker",
    "TickResult",
    "WorkerConfig",
    "committed_seq",
    "read_progress",
]
