"""A fresh ERP database per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest

from dagster_project.db.server import EmbeddedServer
from dagster_project.erp import ensure_erp
from dagster_project.settings import Settings


@pytest.fixture
def reset_erp(database: str, settings: Settings, monkeypatch) -> Callable[[], str]:
    """Drop the ERP database and its reader, then create them again; return the ERP URL."""
    monkeypatch.delenv("ERP_DATABASE_URL", raising=False)
    monkeypatch.delenv("ERP_READER_PASSWORD", raising=False)

    def reset() -> str:
        admin = EmbeddedServer(settings).info().url("postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("drop database if exists erp with (force)")
            conn.execute("drop role if exists erp_reader")
        return ensure_erp(settings)

    return reset


@pytest.fixture
def erp(reset_erp) -> Iterator[psycopg.Connection]:
    """An autocommit connection to a freshly created ERP database."""
    with psycopg.connect(reset_erp(), autocommit=True) as conn:
        yield conn
