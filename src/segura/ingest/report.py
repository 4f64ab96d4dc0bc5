"""The load report: what happened to every row of one extract, as data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Issue:
    """One finding on one row: the rule, how grave, where, the value and what was expected."""

    rule: str
    severity: str
    row: int | None
    column: str | None
    value: str | None
    message: str


@dataclass(frozen=True)
class RuleSummary:
    rule: str
    severity: str
    column: str | None
    rows: int
    example: Issue


@dataclass
class LoadReport:
    source: str
    file: str
    sha256: str
    status: str  # loaded | already_loaded | rejected
    message: str = ""
    load_id: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_with_warnings: int = 0
    events: int = 0
    persons: int = 0
    months: list[str] = field(default_factory=list)
    replaces: list[dict[str, Any]] = field(default_factory=list)  # {month, load_id} of earlier loads superseded
    findings: list[RuleSummary] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def adds_up(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_quarantined

    @property
    def ok(self) -> bool:
        return self.status in ("loaded", "already_loaded")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["adds_up"] = self.adds_up
        return out
