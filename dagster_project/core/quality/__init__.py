"""Data-quality checks: Great Expectations suites kept as JSON in `expectations/`, run against
the platform database, with the offending rows in each outcome."""

from dagster_project.core.quality.outcome import CheckOutcome, ExpectationOutcome
from dagster_project.core.quality.runner import SuiteError, run_suite
from dagster_project.core.quality.suites import (
    EXPECTATIONS_DIR,
    StoredSuite,
    load_suite,
    suite_notes,
)

__all__ = [
    "EXPECTATIONS_DIR",
    "CheckOutcome",
    "ExpectationOutcome",
    "StoredSuite",
    "SuiteError",
    "load_suite",
    "run_suite",
    "suite_notes",
]
