"""Readers never see a relation missing while models are re-created: a plain `dbt build`, a full
refresh, or a view whose columns changed."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

import psycopg
import pytest

from dagster_project.core.db import connect
from dagster_project.core.inventory.refresh import refresh
from tests.conftest import run_cli
from tests.faults.plant import Plant
from tests.faults.writers import start_plain_dbt

T = datetime(2026, 11, 5, tzinfo=UTC)


class Readers(threading.Thread):
    """Reads every mart in a loop, as the worker's ERP sync and a planner's screen do, and
    counts what failed."""

    def __init__(self, settings):
        super().__init__(daemon=True)
        self.settings = settings
        self.stop = threading.Event()
        self.reads = 0
        self.errors: Counter[str] = Counter()

    def run(self) -> None:
        with connect(self.settings) as conn:
            marts = [
                r[0]
                for r in conn.execute(
                    "select table_name from information_schema.tables"
                    " where table_schema = 'marts' order by 1"
                )
            ]
            assert len(marts) >= 8, marts
            while not self.stop.is_set():
                for mart in marts:
                    try:
                        conn.execute(f"select * from marts.{mart}").fetchall()
                        self.reads += 1
                    except psycopg.Error as exc:
                        self.errors[str(exc).splitlines()[0]] += 1

    def finish(self) -> None:
        self.stop.set()
        self.join(timeout=60)


@pytest.mark.slow(125)  # seconds in a full run: the longest files start first
def test_readers_during_dbt_build_and_a_full_refresh(conn, settings, tmp_path):
    plant = Plant(tmp_path / "plant", chunks=2, days=3)
    plant.load_reference(conn)
    plant.feed(conn)
    refresh(settings, as_of=T)
    plant.feed(conn)

    readers = Readers(settings)
    readers.start()
    try:
        build = start_plain_dbt(settings, tmp_path, "build", "--exclude", "test_type:unit")
        output, _ = build.communicate(timeout=600)
        assert build.returncode == 0, output[-3000:]
        during_build = readers.reads
        rebuilt = run_cli("refresh", "--full-refresh", "--as-of", T.isoformat())
        assert rebuilt.returncode == 0, rebuilt.stderr.decode()[-3000:]
        time.sleep(0.5)
    finally:
        readers.finish()

    assert not readers.errors, readers.errors
    assert during_build > 50 and readers.reads > during_build + 50


def test_a_view_whose_columns_change_keeps_the_views_on_it(database, settings):
    with connect(settings) as conn:
        conn.execute("drop schema if exists deploy_demo cascade")
        conn.execute("create schema deploy_demo")
        conn.execute("create view deploy_demo.base as select 1 as a, 2 as b")
        conn.execute("create view deploy_demo.mid as select a from deploy_demo.base")
        conn.execute("create view deploy_demo.top as select a + 1 as c from deploy_demo.mid")

        # in place: a column added at the end keeps the view's identity
        oid = conn.execute("select 'deploy_demo.base'::regclass::oid").fetchone()[0]
        conn.execute("select ops.replace_view('deploy_demo.base', 'select 1 as a, 2 as b, 3 as x')")
        assert conn.execute("select 'deploy_demo.base'::regclass::oid").fetchone()[0] == oid

        # a column dropped and one retyped: swapped in, the views on it re-created on it
        conn.execute("select ops.replace_view('deploy_demo.base', 'select 10::bigint as a')")
        assert conn.execute("select c from deploy_demo.top").fetchone() == (11,)

        # a change that breaks a view on it changes nothing, and names that view
        with pytest.raises(psycopg.Error, match=r"would break the view deploy_demo\.mid"):
            conn.execute("select ops.replace_view('deploy_demo.base', 'select 1 as z')")
        assert conn.execute("select c from deploy_demo.top").fetchone() == (11,)
        conn.execute("drop schema deploy_demo cascade")
