"""Folding Materialize `SUBSCRIBE ... WITH (PROGRESS)` rows into complete alert sets."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from dagster_project.core.erp.episodes import Alert, fold_subscribe, plan


def values(sku: str, available: int) -> tuple:
    return (
        sku,
        "L1",
        D(available),
        D(10),
        D(0),
        D(0),
        D(available - 10),
        D(6),
        "reorder_now",
        None,
    )


def change(ts: int, diff: int, sku: str, available: int) -> tuple:
    return (D(ts), False, diff, *values(sku, available))


def progress(ts: int) -> tuple:
    return (D(ts), True, None, *([None] * 10))


def alert(sku: str, available: int) -> Alert:
    return Alert(*values(sku, available))


def test_the_snapshot_is_yielded_once_complete_not_at_the_first_progress_row():
    rows = [progress(100), change(100, 1, "S1", 4), change(100, 1, "S2", 5), progress(101)]

    assert list(fold_subscribe(rows)) == [
        (D(101), {("S1", "L1"): alert("S1", 4), ("S2", "L1"): alert("S2", 5)})
    ]


def test_an_empty_snapshot_is_still_yielded_so_open_requests_close():
    assert list(fold_subscribe([progress(100), progress(101), progress(102)])) == [(D(101), {})]


@pytest.mark.parametrize("retract_first", [True, False])
def test_an_update_within_one_timestamp_does_not_close_the_request(retract_first):
    update = [change(105, -1, "S1", 4), change(105, 1, "S1", 3)]
    if not retract_first:
        update.reverse()
    rows = [progress(100), change(100, 1, "S1", 4), progress(101), *update, progress(106)]

    moments = list(fold_subscribe(rows))

    assert moments == [
        (D(101), {("S1", "L1"): alert("S1", 4)}),
        (D(106), {("S1", "L1"): alert("S1", 3)}),
    ]
    # the open request of the first moment survives the second
    request = {("S1", "L1"): object()}
    assert plan(request, moments[1][1]).is_empty


def test_leaving_and_reentering_are_separate_moments():
    rows = [
        progress(100),
        change(100, 1, "S1", 4),
        progress(101),
        change(101, -1, "S1", 4),
        progress(102),
        progress(103),  # nothing changed: nothing yielded
        change(103, 1, "S1", 2),
        progress(104),
    ]

    assert [(ts, set(alerts)) for ts, alerts in fold_subscribe(rows)] == [
        (D(101), {("S1", "L1")}),
        (D(102), set()),
        (D(104), {("S1", "L1")}),
    ]


def test_changes_at_or_after_a_progress_timestamp_wait_for_the_next_one():
    rows = [progress(100), progress(101), change(101, 1, "S1", 4), progress(101), progress(102)]

    assert [(ts, set(a)) for ts, a in fold_subscribe(rows)] == [
        (D(101), set()),
        (D(102), {("S1", "L1")}),
    ]


def test_a_pair_with_two_rows_at_a_complete_timestamp_is_refused():
    rows = [progress(100), change(100, 1, "S1", 4), change(100, 1, "S1", 3), progress(101)]

    with pytest.raises(ValueError, match="inconsistent"):
        list(fold_subscribe(rows))
