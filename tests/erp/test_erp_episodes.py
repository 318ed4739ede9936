"""The episode plan alone: one request per stay of a pair in reorder_alerts, never two open."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from dagster_project.core.erp.episodes import Alert, OpenRequest, Plan, index_alerts, plan


def alert(sku: str = "S1", loc: str = "L1", available: int = 4) -> Alert:
    # reorder point 10: qty_below_rop = available - 10
    return Alert(sku, loc, D(available), D(10), D(0), D(0), D(available - 10), D(6), "reorder_now")


def opened(request_id: int, sku: str = "S1", loc: str = "L1") -> OpenRequest:
    return OpenRequest(request_id, sku, loc)


def by_pair(*items):
    return {item.pair: item for item in items}


def test_a_pair_entering_the_alerts_gets_a_request_with_the_alert_figures():
    result = plan({}, by_pair(alert(available=4)))

    assert result == Plan(to_open=(alert(available=4),), to_close=())
    assert result.to_open[0].qty_below_rop == D(-6)


def test_a_pair_that_stays_keeps_its_request_even_when_its_figures_move():
    assert plan(by_pair(opened(1)), by_pair(alert(available=2))).is_empty


def test_a_pair_leaving_the_alerts_closes_its_request():
    assert plan(by_pair(opened(1)), {}) == Plan(to_open=(), to_close=(opened(1),))


def test_reentering_is_a_second_episode():
    alerts = by_pair(alert())
    first = plan({}, alerts)
    # the ERP now holds request 1; the pair leaves, then comes back
    left = plan(by_pair(opened(1)), {})
    back = plan({}, alerts)

    assert (len(first.to_open), left.to_close, len(back.to_open)) == (1, (opened(1),), 1)


def test_never_two_open_for_a_pair():
    # whatever the mix, a pair ends with at most one open request: one opened only where none is
    open_now = by_pair(opened(1, "S1", "L1"), opened(2, "S2", "L1"))
    alerts = by_pair(alert("S1", "L1"), alert("S3", "L1"), alert("S3", "L2"))

    result = plan(open_now, alerts)

    assert [a.pair for a in result.to_open] == [("S3", "L1"), ("S3", "L2")]
    assert result.to_close == (opened(2, "S2", "L1"),)
    after = (open_now.keys() - {r.pair for r in result.to_close}) | {a.pair for a in result.to_open}
    assert after == alerts.keys()


def test_two_alert_rows_for_one_pair_are_refused():
    with pytest.raises(ValueError, match="two alert rows"):
        index_alerts([alert(available=4), alert(available=3)])
