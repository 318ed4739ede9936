"""The reconciliation report: IRA by location and over time, the variance distribution and the
largest variances, as markdown (Dagster metadata) and as one HTML file with inline SVG plots
(no plotting dependency, and it opens offline)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import psycopg

from dagster_project.core.reconciliation.counts import as_text
from dagster_project.core.settings import Settings

TOP_VARIANCES = 10
# variance_pct buckets of the distribution, as ratios; the last is "above", then "system 0"
BUCKET_EDGES = (0.0, 0.01, 0.02, 0.03, 0.05, 0.10, 0.25)


@dataclass(frozen=True)
class Report:
    as_of: datetime | None
    ira_by_location: list[tuple[str, int, int, Decimal]]  # location, counts, within, ira_pct
    ira_by_day: list[tuple[datetime, int, int]]  # day, counts, within (all locations)
    distribution: list[tuple[str, int]]  # bucket label, counts
    top_variances: list[tuple]  # count_id, sku, location, counted, system, variance, pct, decision
    recounts_suggested: int
    pending: int


def build_report(conn: psycopg.Connection) -> Report:
    """Read the marts as they stand: the rolling 30 days of inventory_record_accuracy, its days,
    and the counts of those 30 days in count_variances."""
    rolling = conn.execute(
        """
        select location_id, counts, counts_within_tolerance, ira_pct, as_of
        from marts.inventory_record_accuracy
        where period = 'rolling_30d'
        order by ira_pct, location_id
        """
    ).fetchall()
    as_of = rolling[0][4] if rolling else None
    by_day = conn.execute(
        """
        select period_start, sum(counts)::bigint, sum(counts_within_tolerance)::bigint
        from marts.inventory_record_accuracy
        where period = 'day' and period_start > %s::timestamptz - interval '30 days'
        group by period_start order by period_start
        """,
        [as_of],
    ).fetchall()
    window = "counted_at > %(as_of)s::timestamptz - interval '30 days'"
    # bucket i holds variance_pct in (edge i-1, edge i]; then above the last edge; then no ratio
    cases = " ".join(f"when variance_pct <= {edge} then {i}" for i, edge in enumerate(BUCKET_EDGES))
    found = dict(
        conn.execute(
            f"""
            select case when variance_pct is null then {len(BUCKET_EDGES) + 1} {cases}
                else {len(BUCKET_EDGES)} end as bucket, count(*)
            from marts.count_variances where {window} group by bucket
            """,
            {"as_of": as_of},
        ).fetchall()
    )
    labels = [_label(lo, hi) for lo, hi in zip((None, *BUCKET_EDGES), BUCKET_EDGES, strict=False)]
    labels += [f"above {100 * BUCKET_EDGES[-1]:g}%", "system 0, counted > 0"]
    top = conn.execute(
        f"""
        select count_id, sku_id, location_id, counted_qty, system_qty, variance_qty,
            variance_pct, coalesce(decision, 'not reconciled')
        from marts.count_variances where {window} and variance_qty <> 0
        order by abs(variance_qty) desc, count_id limit {TOP_VARIANCES}
        """,
        {"as_of": as_of},
    ).fetchall()
    recounts, waiting = conn.execute(
        """
        select count(*) filter (where recount_suggested),
            count(*) filter (where decision = 'pending')
        from marts.count_variances
        """
    ).fetchone()
    return Report(
        as_of=as_of,
        ira_by_location=[tuple(r[:4]) for r in rolling],
        ira_by_day=by_day,
        distribution=[(label, found.get(i, 0)) for i, label in enumerate(labels)],
        top_variances=top,
        recounts_suggested=recounts,
        pending=waiting,
    )


def _label(low: float | None, high: float) -> str:
    if low is None:
        return "exact"
    return f"{100 * low:g}-{100 * high:g}%"


def _pct(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def markdown(report: Report) -> str:
    lines = [
        f"**IRA, rolling 30 days as of {as_text(report.as_of) or 'n/a'}** (target 95%)",
        "",
        "| location | counts | within tolerance | IRA % |",
        "|---|---:|---:|---:|",
        *(f"| {loc} | {n} | {w} | {ira} |" for loc, n, w, ira in report.ira_by_location),
        "",
        f"Pending approval: {report.pending} · recounts suggested: {report.recounts_suggested}",
        "",
        "**Largest variances (30 days)**",
        "",
        "| count | sku | location | counted | system | variance | variance % | decision |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for count_id, sku, loc, counted, system, variance, pct, decision in report.top_variances:
        lines.append(
            f"| {count_id} | {sku} | {loc} | {as_text(counted)} | {as_text(system)} | "
            f"{as_text(variance)} | {_pct(pct)} | {decision} |"
        )
    return "\n".join(lines)


def _bars(items: list[tuple[str, float]], unit: str, width: int = 640, bar: int = 22) -> str:
    """A horizontal bar chart as SVG."""
    top = max((v for _, v in items), default=0) or 1
    height = bar * len(items) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">']
    for i, (label, value) in enumerate(items):
        y, length = 5 + i * bar, (width - 260) * value / top
        parts.append(
            f'<text x="150" y="{y + 15}" text-anchor="end" font-size="12">'
            f"{html.escape(label)}</text>"
            f'<rect x="160" y="{y + 3}" width="{length:.1f}" height="{bar - 6}" fill="#4a7ab5"/>'
            f'<text x="{165 + length:.1f}" y="{y + 15}" font-size="12">{value:g}{unit}</text>'
        )
    return "".join(parts) + "</svg>"


def _line(points: list[tuple[str, float]], width: int = 640, height: int = 220) -> str:
    """IRA % per day as an SVG polyline over 0..100, with the 95% target dashed."""
    left, right, top, bottom = 40, 10, 10, 30
    span_x, span_y = width - left - right, height - top - bottom
    step = span_x / max(len(points) - 1, 1)

    def y(value: float) -> float:
        return top + span_y * (1 - value / 100)

    coords = " ".join(f"{left + i * step:.1f},{y(v):.1f}" for i, (_, v) in enumerate(points))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">',
        f'<line x1="{left}" x2="{width - right}" y1="{y(95):.1f}" y2="{y(95):.1f}" '
        'stroke="#c33" stroke-dasharray="4"/>',
        f'<text x="2" y="{y(95) + 4:.1f}" font-size="11">95%</text>',
        f'<text x="2" y="{y(0):.1f}" font-size="11">0%</text>',
        f'<polyline points="{coords}" fill="none" stroke="#4a7ab5" stroke-width="2"/>',
    ]
    for i, (label, value) in enumerate(points):
        parts.append(f'<circle cx="{left + i * step:.1f}" cy="{y(value):.1f}" r="3" fill="#4a7ab5">'
                     f"<title>{html.escape(label)}: {value:.2f}%</title></circle>")  # fmt: skip
    if points:
        parts.append(f'<text x="{left}" y="{height - 8}" font-size="11">{points[0][0]}</text>')
        parts.append(
            f'<text x="{width - right}" y="{height - 8}" font-size="11" text-anchor="end">'
            f"{points[-1][0]}</text>"
        )
    return "".join(parts) + "</svg>"


def html_report(report: Report) -> str:
    ira = [(loc, float(pct)) for loc, _, _, pct in report.ira_by_location]
    days = [(d.date().isoformat(), 100 * w / n) for d, n, w in report.ira_by_day if n]
    table = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
        for row in [
            (cid, sku, loc, as_text(c), as_text(s), as_text(v), _pct(p), d)
            for cid, sku, loc, c, s, v, p, d in report.top_variances
        ]
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Count reconciliation</title>
<style>body{{font-family:sans-serif;margin:2em}} td,th{{padding:2px 10px;text-align:right}}</style>
</head><body>
<h1>Count reconciliation</h1>
<p>As of {html.escape(as_text(report.as_of) or "n/a")}: {report.pending} pending approval,
{report.recounts_suggested} recount(s) suggested.</p>
<h2>Variance distribution (|variance| / system, counts of the last 30 days)</h2>
{_bars([(label, n) for label, n in report.distribution], "")}
<h2>IRA by location, rolling 30 days</h2>
{_bars(ira, "%")}
<h2>IRA over time (all locations, per day)</h2>
{_line(days)}
<h2>Largest variances</h2>
<table><tr><th>count</th><th>sku</th><th>location</th><th>counted</th><th>system</th>
<th>variance</th><th>variance %</th><th>decision</th></tr>{table}</table>
</body></html>
"""


def write_html(settings: Settings, report: Report, stamp: datetime) -> Path:
    """Write the report into the state folder's reports/, named by the run's instant."""
    folder = settings.state_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"reconciliation-{stamp.strftime('%Y%m%dT%H%M%SZ')}.html"
    path.write_text(html_report(report))
    return path
