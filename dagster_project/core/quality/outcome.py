"""What a suite run found, as plain values: per expectation whether it held, how many rows
broke it and the first of them, ready for a Dagster check's metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROW_CAP = 20


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    description: str | None
    passed: bool
    unexpected_count: int | None  # None for aggregate expectations (a max, a row count)
    observed_value: Any = None
    rows: list[dict[str, Any]] = field(default_factory=list)  # at most ROW_CAP

    @classmethod
    def from_ge(cls, result: Any, key: tuple[str, ...]) -> ExpectationOutcome:
        """From an ExpectationValidationResult computed with result_format COMPLETE."""
        config = result.expectation_config
        found = result.result or {}
        if "details" in found:  # UnexpectedRowsExpectation: the query's own rows
            count, rows = found.get("observed_value"), found["details"]["unexpected_rows"]
        elif "unexpected_count" in found:
            count, rows = found["unexpected_count"], _index_rows(found, key)
        else:
            count, rows = None, []
        return cls(
            expectation=config.type,
            description=config.description,
            passed=bool(result.success),
            unexpected_count=count,
            observed_value=None if "details" in found else found.get("observed_value"),
            rows=[dict(r) for r in rows[:ROW_CAP]],
        )


def _index_rows(found: dict, key: tuple[str, ...]) -> list[dict[str, Any]]:
    if found.get("unexpected_index_list"):
        return found["unexpected_index_list"]
    # compound-unique and similar report the offending values, not index rows
    values = found.get("unexpected_list") or []
    return [v if isinstance(v, dict) else {"value": v} for v in values]


@dataclass(frozen=True)
class CheckOutcome:
    suite: str
    table: str
    expectations: list[ExpectationOutcome]

    @property
    def passed(self) -> bool:
        return all(e.passed for e in self.expectations)

    @property
    def unexpected_count(self) -> int:
        return sum(e.unexpected_count or 0 for e in self.expectations if not e.passed)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if not e.passed]

    def rows(self) -> list[dict[str, Any]]:
        """The offending rows of every failed expectation, tagged with it, at most ROW_CAP."""
        tagged = [
            {"expectation": e.description or e.expectation, **row}
            for e in self.failed
            for row in e.rows
        ]
        return tagged[:ROW_CAP]

    def summary_markdown(self) -> str:
        lines = ["| expectation | passed | unexpected | observed |", "|---|---|---|---|"]
        for e in self.expectations:
            observed = "" if e.observed_value is None else e.observed_value
            count = "" if e.unexpected_count is None else e.unexpected_count
            lines.append(
                f"| {_cell(e.description or e.expectation)} | {e.passed} | {count} "
                f"| {_cell(observed)} |"
            )
        return "\n".join(lines)

    def rows_markdown(self) -> str:
        return markdown_table(self.rows())


def markdown_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(no rows)"
    columns = list(dict.fromkeys(c for row in rows for c in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")
