"""Writes a workload as reference CSVs, JSON-lines event files and a manifest of expected counts."""

from __future__ import annotations

import csv
import gzip as gz
from pathlib import Path
from typing import BinaryIO

import orjson

from dagster_project.core.simulate.clock import iso, to_ms
from dagster_project.core.simulate.workload import Workload

REFERENCE_FILES = {
    "skus": ("skus.csv", ["sku_id", "description", "base_uom", "abc_class"]),
    "uom_conversions": ("uom_conversions.csv", ["sku_id", "uom", "factor_to_base"]),
    "sku_params": (
        "sku_params.csv",
        [
            "sku_id",
            "location_id",
            "lead_time_days",
            "lead_time_std_days",
            "service_level",
            "reorder_point",
            "safety_stock",
            "order_qty",
            "order_multiple",
            "min_order_qty",
            "review_period_days",
            "max_days_of_cover",
        ],
    ),
    "physical_counts": (
        "physical_counts.csv",
        ["count_id", "sku_id", "location_id", "counted_qty", "counted_at", "counted_by"],
    ),
}


def manifest(workload: Workload, *, gzip: bool = False) -> dict:
    cfg = workload.config
    suffix = ".gz" if gzip else ""
    return {
        "seed": cfg.seed,
        "start": iso(to_ms(cfg.start)),
        "days": cfg.days,
        "files": {s.file_name + suffix: s.summary() for s in workload.streams.values()},
        "reference": {name: len(getattr(workload, name)) for name in REFERENCE_FILES},
    }


def write_workload(workload: Workload, out_dir: Path, *, gzip: bool = False) -> dict:
    """Same workload, same bytes: gzip members carry no name and no mtime."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, (file_name, columns) in REFERENCE_FILES.items():
        with open(out_dir / file_name, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(getattr(workload, name))
    for stream in workload.streams.values():
        path = out_dir / (stream.file_name + (".gz" if gzip else ""))
        with open(path, "wb") as raw:
            if gzip:
                with gz.GzipFile(
                    filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=5
                ) as f:
                    _write_lines(f, stream.lines)
            else:
                _write_lines(raw, stream.lines)
    result = manifest(workload, gzip=gzip)
    (out_dir / "manifest.json").write_bytes(
        orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n"
    )
    return result


def _write_lines(f: BinaryIO, lines: list[dict | str], chunk: int = 20_000) -> None:
    """In chunks, so the encoded bytes of one chunk reuse the memory of the previous one."""
    dumps = orjson.dumps
    for i in range(0, len(lines), chunk):
        part = [dumps(x) if type(x) is dict else x.encode() for x in lines[i : i + chunk]]
        part.append(b"")
        f.write(b"\n".join(part))
