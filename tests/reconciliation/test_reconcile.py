"""Reconciliation end to end on the embedded database: hand-computed variances of counts taken
while stock moves, tolerance edges per ABC class, empty books, the approval and rejection flows,
counts of one pair in order, re-runs that post nothing, and drift after a late event."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest

from dagster_project.core.reconciliation import AUTO, ReconcileError, approve, reconcile, reject
from tests.reconciliation.conftest import T, adjustments, counts, decisions, events, skus, variance

SECOND = timedelta(seconds=1)


def test_a_count_while_the_line_moves_reads_the_book_at_its_instant(recon, settings) -> None:
    # S1 (class C, 5%) at L1: receipt 100 at 11:00, issue 10 at 11:59:59, issue 7 at 12:00:00
    # (the count's instant: in), issue 5 at 12:00:01 (ingested before the count: out).
    # system = 100 - 10 - 7 = 83; counted 86: variance +3, 3/83 = 0.036 <= 0.05: posted at once.
    skus(recon, S1="C")
    events(
        recon,
        ("e1", "receipt", "S1", "L1", 100, T - timedelta(hours=1)),
        ("e2", "issue", "S1", "L1", -10, T - SECOND),
        ("e3", "issue", "S1", "L1", -7, T),
        ("e4", "issue", "S1", "L1", -5, T + SECOND),
    )
    counts(recon, ("K1", "S1", "L1", 86, T))

    result = reconcile(settings)

    assert result.decided == {"auto_approved": 1} and result.posted == 1
    row = variance(recon, "K1")
    assert (row["system_qty"], row["variance_qty"]) == (83, 3)
    assert row["variance_pct"] == Decimal("0.03614457831325301205")  # 3 / 83, 20 decimals
    assert row["is_within_tolerance"] and row["decision"] == "auto_approved"
    assert row["adjustment_qty"] == 3 and not row["recount_suggested"]
    # the adjustment is an adjust event dated counted_at that references the count
    assert adjustments(recon) == [("count-adjust:K1", "S1", "L1", 3, T, "K1")]
    # and the position takes it: 100 - 10 - 7 - 5 + 3 = 81
    on_hand = recon.execute(
        "select sum(qty_delta) from raw.wms_events where sku_id = 'S1' and location_id = 'L1'"
    ).fetchone()[0]
    assert on_hand == 81


@pytest.mark.parametrize(
    "abc_class, system, counted, decision",
    [
        ("A", 100, 101, "auto_approved"),  # 1/100 = 1%: the edge is inside
        ("A", 100, 98, "pending"),  # 2%
        ("B", 200, 194, "auto_approved"),  # 6/200 = 3%
        ("B", 200, 207, "pending"),  # 3.5%
        ("C", 40, 42, "auto_approved"),  # 2/40 = 5%
        ("C", 40, 37.9, "pending"),  # 2.1/40 = 5.25%
        (None, 50, 51, "auto_approved"),  # no class: 1/50 = 2%
        (None, 50, 48.9, "pending"),  # 1.1/50 = 2.2%
    ],
)
def test_tolerance_edges_per_class(recon, settings, abc_class, system, counted, decision) -> None:
    skus(recon, S1=abc_class)
    events(recon, ("e1", "receipt", "S1", "L1", system, T - timedelta(days=1)))
    counts(recon, ("K1", "S1", "L1", counted, T))

    reconcile(settings)

    row = variance(recon, "K1")
    assert row["is_within_tolerance"] == (decision == "auto_approved")
    assert decisions(recon) == [
        ("K1", decision, AUTO, counted - system if decision == "auto_approved" else None)
    ]


def test_an_empty_book_matches_only_an_empty_shelf(recon, settings) -> None:
    # Z0: nothing in the book, nothing found: matched, nothing posted.
    # Z5: nothing in the book, 5 found: no ratio, out of tolerance: pending, then approved: +5.
    skus(recon, S1="A")
    counts(recon, ("Z0", "S1", "L1", 0, T), ("Z5", "S1", "L2", 5, T))

    result = reconcile(settings)

    assert result.decided == {"matched": 1, "pending": 1} and result.posted == 0
    z0, z5 = variance(recon, "Z0"), variance(recon, "Z5")
    assert (z0["variance_pct"], z0["is_within_tolerance"], z0["decision"]) == (0, True, "matched")
    assert (z5["variance_pct"], z5["is_within_tolerance"], z5["is_auto_approvable"]) == (
        None,
        False,
        False,
    )
    assert adjustments(recon) == []

    approve(settings, "Z5", "eva", "found a pallet not booked in")
    assert adjustments(recon) == [("count-adjust:Z5", "S1", "L2", 5, T, "Z5")]


def test_approval_records_who_when_why_and_the_numbers(recon, settings) -> None:
    # A, 1%: book 200, counted 190: -10 = 5%: pending. A late issue of 4 dated before the count
    # lands while it waits: book 196, variance -6. The approval posts -6, as it stands then.
    skus(recon, S1="A")
    events(recon, ("e1", "receipt", "S1", "L1", 200, T - timedelta(days=2)))
    counts(recon, ("K1", "S1", "L1", 190, T))
    reconcile(settings)
    assert decisions(recon) == [("K1", "pending", AUTO, None)]
    events(recon, ("late", "issue", "S1", "L1", -4, T - timedelta(hours=3)))

    decision = approve(settings, "K1", " eva ", " shrinkage confirmed ")

    assert (decision.decision, decision.decided_by, decision.reason) == (
        "approved",
        "eva",
        "shrinkage confirmed",
    )
    assert (decision.system_qty, decision.variance_qty, decision.adjustment_qty) == (196, -6, -6)
    logged = recon.execute(
        """
        select decision, decided_by, reason, system_qty, variance_qty, variance_pct,
            tolerance_pct, is_within_tolerance, adjustment_event_id, decided_at is not null
        from reconciliation.decisions order by decision_id
        """
    ).fetchall()
    assert logged == [
        ("pending", AUTO, "outside the auto-approve limit: waits for a person", 200, -10,
         Decimal("0.05"), Decimal("0.01"), False, None, True),
        ("approved", "eva", "shrinkage confirmed", 196, -6, Decimal("0.03061224489795918367"),
         Decimal("0.01"), False, "count-adjust:K1", True),
    ]  # fmt: skip
    assert adjustments(recon) == [("count-adjust:K1", "S1", "L1", -6, T, "K1")]
    row = variance(recon, "K1")
    assert (row["decision"], row["decided_by"], row["adjustment_qty"]) == ("approved", "eva", -6)
    assert not row["recount_suggested"]

    with pytest.raises(ReconcileError, match="not pending: pending then approved"):
        approve(settings, "K1", "eva", "again")
    with pytest.raises(ReconcileError, match="not pending"):
        reject(settings, "K1", "eva", "changed my mind")


def test_rejection_keeps_the_book(recon, settings) -> None:
    skus(recon, S1="B")
    events(recon, ("e1", "receipt", "S1", "L1", 100, T - timedelta(days=1)))
    counts(recon, ("K1", "S1", "L1", 80, T))  # -20%: pending
    reconcile(settings)

    with pytest.raises(ReconcileError, match="who .* and why"):
        reject(settings, "K1", "eva", "  ")
    with pytest.raises(ReconcileError, match="no count NOPE"):
        reject(settings, "NOPE", "eva", "typo")
    decision = reject(settings, "K1", "eva", "miscount: the second bin was missed")

    assert (decision.decision, decision.adjustment_qty, decision.variance_qty) == (
        "rejected",
        None,
        -20,
    )
    assert adjustments(recon) == []
    assert variance(recon, "K1")["decision"] == "rejected"
    # nothing left to decide: a re-run neither reopens nor posts
    assert reconcile(settings).total == 0
    assert [d[1] for d in decisions(recon)] == ["pending", "rejected"]


def test_counts_of_a_pair_are_decided_in_order(recon, settings) -> None:
    # Book 100. K1 (11-10 12:00) finds 90: -10%, pending. K2 (11-11) finds 90 too; it waits
    # while K1 is pending, or both would take the same 10 off. Once K1 is approved (-10),
    # K2's book is 100 - 10 = 90: matched, nothing more posted.
    # K0 and K0b at one instant are taken by count_id: K0 finds 99 (auto, -1), K0b then reads
    # 99 and finds 99: matched.
    skus(recon, S1="B", S2="B")
    events(
        recon,
        ("e1", "receipt", "S1", "L1", 100, T - timedelta(days=3)),
        ("e2", "receipt", "S2", "L1", 100, T - timedelta(days=3)),
    )
    counts(
        recon,
        ("K2", "S1", "L1", 90, T + timedelta(days=1)),
        ("K1", "S1", "L1", 90, T),
        ("K0b", "S2", "L1", 99, T),
        ("K0", "S2", "L1", 99, T),
    )

    first = reconcile(settings)

    assert first.decided == {"pending": 1, "auto_approved": 1, "matched": 1}
    # round 1 takes K0 and K1, the first of their pairs; round 2 K0b, after K0 was posted
    assert [d[:2] for d in decisions(recon)][2:] == [("K0b", "matched")]
    assert first.rounds == 2
    assert variance(recon, "K0b")["system_qty"] == 99
    assert variance(recon, "K2")["decision"] is None

    approve(settings, "K1", "eva", "confirmed by a second counter")
    second = reconcile(settings)

    assert second.decided == {"matched": 1} and second.posted == 0
    k2 = variance(recon, "K2")
    assert (k2["system_qty"], k2["variance_qty"], k2["decision"]) == (90, 0, "matched")
    assert [a[0] for a in adjustments(recon)] == ["count-adjust:K0", "count-adjust:K1"]


def test_rerunning_posts_nothing_and_the_log_is_append_only(recon, settings) -> None:
    skus(recon, S1="C")
    events(recon, ("e1", "receipt", "S1", "L1", 100, T - timedelta(days=1)))
    counts(recon, ("K1", "S1", "L1", 98, T), ("K2", "S1", "L2", 0, T))
    reconcile(settings)
    before = (decisions(recon), adjustments(recon))

    again = reconcile(settings)

    assert (again.total, again.posted, again.rounds) == (0, 0, 0)
    assert (decisions(recon), adjustments(recon)) == before
    for statement in (
        "update reconciliation.decisions set reason = 'edited'",
        "delete from reconciliation.decisions",
        "truncate reconciliation.decisions",
    ):
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            recon.execute(statement)


def test_a_late_event_before_a_reconciled_count_suggests_a_recount(recon, settings) -> None:
    # K1: book 50, counted 50: matched. K2: book 80, counted 79 (C, 1.25%): auto-approved -1.
    # Then a late issue of 3 dated an hour before the counts lands for each pair:
    # K1's book becomes 47 (drift -3), K2's 77 (drift -3); their decisions stay, and a re-run
    # posts nothing: the flag asks for a recount instead of rewriting history.
    skus(recon, S1="C")
    events(
        recon,
        ("e1", "receipt", "S1", "L1", 50, T - timedelta(days=1)),
        ("e2", "receipt", "S1", "L2", 80, T - timedelta(days=1)),
    )
    counts(recon, ("K1", "S1", "L1", 50, T), ("K2", "S1", "L2", 79, T))
    reconcile(settings)
    assert not variance(recon, "K1")["recount_suggested"]

    events(
        recon,
        ("late1", "issue", "S1", "L1", -3, T - timedelta(hours=1)),
        ("late2", "issue", "S1", "L2", -3, T - timedelta(hours=1)),
        ("after", "issue", "S1", "L1", -9, T + timedelta(hours=1)),  # after the count: no drift
    )

    for count_id, book, decided, decision in (
        ("K1", 47, 50, "matched"),
        ("K2", 77, 80, "auto_approved"),
    ):
        row = variance(recon, count_id)
        assert (row["system_qty"], row["decided_system_qty"], row["drift_qty"]) == (
            book,
            decided,
            -3,
        )
        assert row["recount_suggested"] and row["decision"] == decision
    assert reconcile(settings).total == 0
    assert [a[0] for a in adjustments(recon)] == ["count-adjust:K2"]
