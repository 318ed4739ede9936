"""Write inputs as a user would hand them over: files with one record per line."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from dagster_project.core.ingest import BatchResult, InputFile, ingest_file

SKUS_CSV = "sku_id,description,base_uom,abc_class\nS1,Bolt M8,EA,A\nS2,Steel coil,KG,B\n"
UOM_CSV = "sku_id,uom,factor_to_base\nS1,CS,12\nS2,BAG,25\n"


def write_lines(path: Path, records: list) -> Path:
    """Records are dicts (dumped as JSON) or strings (written as they are)."""
    text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)
    path.write_text(text)
    return path


def ingest(conn: psycopg.Connection, source: str, path: Path) -> BatchResult:
    return ingest_file(conn, source, InputFile.from_arg(str(path)))


def load_reference(conn: psycopg.Connection, tmp_path: Path) -> None:
    (tmp_path / "skus.csv").write_text(SKUS_CSV)
    (tmp_path / "uom.csv").write_text(UOM_CSV)
    assert ingest(conn, "skus", tmp_path / "skus.csv").accepted == 2
    assert ingest(conn, "uom", tmp_path / "uom.csv").accepted == 2


def quarantine_reasons(conn: psycopg.Connection) -> list[tuple[int, str]]:
    return conn.execute(
        "select line_no, reason from raw.quarantine where resolved_at is null order by line_no"
    ).fetchall()
