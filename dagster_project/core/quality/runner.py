"""Run one stored suite against its table in the platform database with GE 1.x.

Each run builds an ephemeral GE context (nothing written to disk or the home folder) with one
SQL datasource over the platform database, a table asset and a whole-table batch.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from dagster_project.core.db import database_url
from dagster_project.core.quality.outcome import CheckOutcome, ExpectationOutcome
from dagster_project.core.quality.suites import load_suite
from dagster_project.core.settings import Settings


class SuiteError(RuntimeError):
    """A suite could not be evaluated (bad SQL, a missing table): a broken check, not bad data."""


def run_suite(
    settings: Settings,
    suite_name: str,
    parameters: Mapping[str, Any] | None = None,
    table: str | None = None,
) -> CheckOutcome:
    """Validate `expectations/<suite_name>.json` against the table its meta names (or `table`,
    as `schema.table`); `parameters` fill the suite's `$PARAMETER` references."""
    import great_expectations as gx  # see load_suite
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    stored = load_suite(suite_name)
    schema, name = table.split(".", 1) if table else (stored.schema, stored.table)
    context = gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        ),
    )
    with warnings.catch_warnings():
        # GE suggests its Postgres datasource, which refuses URLs it cannot parse; the generic
        # SQL one takes any SQLAlchemy URL.
        warnings.filterwarnings("ignore", message="You are using a generic SQLDatasource")
        source = context.data_sources.add_sql(
            "inventory",
            connection_string=_engine_url(settings),
            # GE wants the schema on the connection rather than on the table asset
            kwargs={"connect_args": {"options": f"-c search_path={schema}"}},
        )
    try:
        asset = source.add_table_asset(name, table_name=name)
        batch = asset.add_batch_definition_whole_table("whole_table").get_batch()
        # COMPLETE gives the offending rows themselves; outcomes keep only the first ROW_CAP.
        result_format: dict[str, Any] = {"result_format": "COMPLETE"}
        if stored.key:
            result_format["unexpected_index_column_names"] = list(stored.key)
        result = batch.validate(
            stored.suite,
            result_format=result_format,
            expectation_parameters=dict(parameters or {}),
        )
    finally:
        # GE keeps the engine and its pooled connections alive past the context
        source.get_execution_engine().engine.dispose()
    for r in result.results:
        if error := _raised(r.exception_info):
            raise SuiteError(
                f"suite {stored.name}: {r.expectation_config.type} failed to run: {error}"
            )
    return CheckOutcome(
        suite=stored.name,
        table=f"{schema}.{name}",
        expectations=[ExpectationOutcome.from_ge(r, stored.key) for r in result.results],
    )


def _engine_url(settings: Settings) -> str:
    # SQLAlchemy reads a bare postgresql:// as psycopg2; name the driver the project uses
    url = database_url(settings)
    scheme, _, rest = url.partition("://")
    return f"postgresql+psycopg://{rest}" if scheme in ("postgresql", "postgres") else url


def _raised(info: dict | None) -> str | None:
    # flat for the expectation itself, keyed by metric when a metric it needs raised
    if not info:
        return None
    nested = [info] if "raised_exception" in info else list(info.values())
    messages = [i.get("exception_message") for i in nested if i.get("raised_exception")]
    return "; ".join(m or "unknown error" for m in messages) or None
