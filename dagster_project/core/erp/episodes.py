"""Alert episodes as pure data: which replenishment requests to open and close, whatever the engine.

An episode of a (sku_id, location_id) starts when the pair enters `marts.reorder_alerts` and ends
when it leaves. The plan compares the requests the ERP holds open with the alerts of one
consistent moment; applying it inside the transaction that read those open requests is what
makes the feed exactly-once. `AlertFold` turns Materialize `SUBSCRIBE ... WITH (PROGRESS)` output
into such moments. Nothing here touches a database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

Pair = tuple[str, str]

# The columns of marts.reorder_alerts, in the mart's order.
ALERT_COLUMNS = (
    "sku_id",
    "location_id",
    "available_qty",
    "reorder_point",
    "safety_stock",
    "demand_rate_per_day",
    "qty_below_rop",
    "suggested_order_qty",
    "inventory_status",
    "as_of",
)
PROGRESS_COLUMNS = ("mz_timestamp", "mz_progressed", "mz_diff")


@dataclass(frozen=True)
class Alert:
    """One row of marts.reorder_alerts: the figures a request is opened with."""

    sku_id: str
    location_id: str
    available_qty: Decimal
    reorder_point: Decimal
    safety_stock: Decimal | None
    demand_rate_per_day: Decimal | None
    qty_below_rop: Decimal
    suggested_order_qty: Decimal
    inventory_status: str
    as_of: datetime | None = None

    @property
    def pair(self) -> Pair:
        return (self.sku_id, self.location_id)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Alert:
        return cls(**{name: row.get(name) for name in ALERT_COLUMNS})

    def values(self) -> tuple:
        return tuple(getattr(self, name) for name in ALERT_COLUMNS)


@dataclass(frozen=True)
class OpenRequest:
    request_id: int
    sku_id: str
    location_id: str

    @property
    def pair(self) -> Pair:
        return (self.sku_id, self.location_id)


@dataclass(frozen=True)
class Plan:
    """Requests to open (one per new alert) and to close (one per alert that is gone)."""

    to_open: tuple[Alert, ...] = ()
    to_close: tuple[OpenRequest, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.to_open and not self.to_close


def index_alerts(alerts: Iterable[Alert]) -> dict[Pair, Alert]:
    """Alerts by pair; the mart is keyed by pair, so a second row for one is a broken input."""
    indexed: dict[Pair, Alert] = {}
    for alert in alerts:
        if alert.pair in indexed:
            raise ValueError(f"two alert rows for {alert.pair}: reorder_alerts must be keyed")
        indexed[alert.pair] = alert
    return indexed


def plan(open_requests: Mapping[Pair, OpenRequest], alerts: Mapping[Pair, Alert]) -> Plan:
    """Open a request for each alerting pair without one; close each open request whose pair no
    longer alerts. A pair that keeps alerting keeps its request and its figures at opening."""
    to_open = tuple(alerts[pair] for pair in sorted(alerts.keys() - open_requests.keys()))
    to_close = tuple(open_requests[pair] for pair in sorted(open_requests.keys() - alerts.keys()))
    return Plan(to_open=to_open, to_close=to_close)


@dataclass
class AlertFold:
    """The alert set kept from `SUBSCRIBE (select <ALERT_COLUMNS> ...) WITH (PROGRESS)` rows.

    Rows are (mz_timestamp, mz_progressed, mz_diff, *ALERT_COLUMNS). Changes are held until a
    progress row says their timestamp is complete (every change below it has arrived), and only
    then applied, so an update inside one timestamp (a -1 and a +1 for the same pair, in either
    order) never shows the pair as gone. Rows are counted by their whole content, as Materialize
    sends them.
    """

    _counts: dict[Pair, Counter[Alert]] = field(default_factory=dict)
    _alerts: dict[Pair, Alert] = field(default_factory=dict)
    _pending: list[tuple[Decimal, int, Alert]] = field(default_factory=list)
    _started: bool = False
    _emitted: bool = False

    def feed(self, row: Sequence) -> dict[Pair, Alert] | None:
        """Take one row; return the complete alert set when a progress row closes a timestamp
        that changed it, and at the end of the snapshot even if it is empty (an empty snapshot
        still closes requests)."""
        timestamp, progressed, diff, *values = row
        if not progressed:
            alert = Alert.from_row(dict(zip(ALERT_COLUMNS, values, strict=True)))
            self._pending.append((Decimal(timestamp), int(diff), alert))
            return None
        done = [p for p in self._pending if p[0] < Decimal(timestamp)]
        if not self._started:
            # The first progress row only names the subscription's AS OF time: the snapshot
            # (at that time) is complete at the next one. Yielding here would close every request.
            self._started = True
            return None
        if not done and self._emitted:
            return None
        self._pending = [p for p in self._pending if p[0] >= Decimal(timestamp)]
        touched = set()
        for _, change, alert in done:
            self._counts.setdefault(alert.pair, Counter())[alert] += change
            touched.add(alert.pair)
        for pair in touched:
            self._settle(pair)
        self._emitted = True
        return dict(self._alerts)

    def _settle(self, pair: Pair) -> None:
        """Set a pair's alert from its counts, once its timestamp is complete."""
        counts = +self._counts[pair]  # unary plus keeps the positive counts only
        if len(counts) != sum(self._counts[pair].values()) or len(counts) > 1:
            raise ValueError(
                f"inconsistent SUBSCRIBE output for {pair}: {dict(self._counts[pair])}"
            )
        if counts:
            self._counts[pair] = counts
            self._alerts[pair] = next(iter(counts))
        else:
            del self._counts[pair]
            self._alerts.pop(pair, None)


def fold_subscribe(rows: Iterable[Sequence]) -> Iterator[tuple[Decimal, dict[Pair, Alert]]]:
    """(progressed timestamp, complete alert set) for each timestamp that changed the set."""
    fold = AlertFold()
    for row in rows:
        snapshot = fold.feed(row)
        if snapshot is not None:
            yield Decimal(row[0]), snapshot
