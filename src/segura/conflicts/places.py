"""Placing conflicts and their events in the workspace's territories (codes, not only names).

Protest sources name places ("La Paz", "Guanay"); the observatory counts by territory code.
Names match the workspace's territory table without regard to case, accents or punctuation (the
same folding as the extracts' territories): the second-level name within its first-level
parent, else the first-level name alone. Only conflicts of the workspace's own country are
placed: "La Paz" is a Bolivian department and a Mexican municipality. Placing is recomputed
from the names each time (after an import, or after new territories), so it is idempotent; the
names stay as the source wrote them.
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import duckdb

from segura.model.names import fold

_DDL = (
    """CREATE TABLE IF NOT EXISTS conflict_place (
        conflict_id INTEGER PRIMARY KEY, territory_code VARCHAR NOT NULL, level VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS event_place (
        event_id INTEGER PRIMARY KEY, territory_code VARCHAR NOT NULL, level VARCHAR NOT NULL)""",
)


@dataclass
class PlaceReport:
    """How many events and conflicts got a territory code, and the names that did not match."""

    country: str
    events: int = 0
    placed: dict[str, int] = field(default_factory=dict)  # level -> events placed there
    conflicts_placed: int = 0
    conflicts: int = 0
    unmatched: list[tuple[str, int, str]] = field(default_factory=list)  # name, events, suggestion
    coarser: list[tuple[str, int, str]] = field(default_factory=list)  # admin2 names placed at admin1 only
    skipped: str = ""
    elsewhere: dict[str, int] = field(default_factory=dict)  # other country -> its conflicts, left unplaced

    def summary(self) -> str:
        if self.skipped:
            return f"territories: {self.skipped}"
        other = ", ".join(f"{n:,} in {c}" for c, n in sorted(self.elsewhere.items()))
        if not self.conflicts:
            return (f"territories ({self.country}): no conflict of {self.country} to place"
                    + (f" (the registry's conflicts are elsewhere: {other})" if other else ""))
        levels = ", ".join(f"{n:,} to {level}" for level, n in sorted(self.placed.items()))
        out = (f"territories ({self.country}): {sum(self.placed.values()):,} of {self.events:,} events placed "
               f"({levels or 'none'}); {self.conflicts_placed:,} of {self.conflicts:,} conflicts")
        if other:
            out += f"; not placed, of other countries: {other}"
        if self.unmatched:
            out += f"; not found: {_listed(self.unmatched)}"
        if self.coarser:
            out += f"; placed in the first level only (second-level name not found): {_listed(self.coarser)}"
        return out


def _listed(names: list[tuple[str, int, str]]) -> str:
    return "; ".join(f"{name!r} x{n}" + (f" ({hint})" if hint else "") for name, n, hint in names[:10])


def ensure_places(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in _DDL:
        con.execute(ddl)


def has_places(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse holds the place tables (made by the first import or `segura conflicts place`)."""
    return has_table(con, "conflict_place") and has_table(con, "event_place")


def place_conflicts(con: duckdb.DuckDBPyConnection, country: str) -> PlaceReport:
    """Give the events and conflicts of `country` the territory codes their place names match."""
    ensure_places(con)
    report = PlaceReport(country=country)
    terr = con.execute(
        "SELECT t.code, t.name, t.level, t.parent_code FROM territory t WHERE t.level IN ('admin1', 'admin2')"
    ).fetchall() if has_table(con, "territory") else []
    if not terr:
        report.skipped = "the workspace has no admin1/admin2 territories to place conflicts in"
        return report
    admin1: dict[str, list[str]] = defaultdict(list)
    admin2: dict[tuple[str, str], list[str]] = defaultdict(list)  # (admin1 code, folded name)
    admin2_anywhere: dict[str, list[str]] = defaultdict(list)
    first: dict[str, str] = {}  # folded -> written name, for suggestions
    second: dict[str, dict[str, str]] = defaultdict(dict)  # parent code -> folded -> written name
    for code, name, level, parent in terr:
        if level == "admin1":
            admin1[fold(name)].append(code)
            admin1[fold(code)].append(code)
            first[fold(name)] = name
        else:
            admin2[(parent, fold(name))].append(code)
            admin2_anywhere[fold(name)].append(code)
            second[parent][fold(name)] = f"{name} ({code})"

    def one(codes: list[str] | None) -> str | None:
        return codes[0] if codes and len(set(codes)) == 1 else None

    def place(a1: str | None, a2: str | None) -> tuple[str, str] | None:
        p = one(admin1.get(fold(a1))) if a1 else None
        if a2:
            hit = one(admin2.get((p, fold(a2)))) if p else one(admin2_anywhere.get(fold(a2)))
            if hit:
                return hit, "admin2"
        return (p, "admin1") if p else None

    events = con.execute(
        "SELECT e.event_id, coalesce(e.admin1, c.admin1), coalesce(e.admin2, c.admin2) FROM conflict_event e "
        "JOIN conflict c USING (conflict_id) WHERE c.country = ?", [country]).fetchall()
    conflicts = con.execute("SELECT conflict_id, admin1, admin2 FROM conflict WHERE country = ?", [country]).fetchall()
    report.events, report.conflicts = len(events), len(conflicts)
    report.elsewhere = dict(con.execute(
        "SELECT country, count(*) FROM conflict WHERE country IS DISTINCT FROM ? GROUP BY country", [country]).fetchall())
    missing: Counter[str] = Counter()
    partial: Counter[tuple[str, str]] = Counter()  # (first-level, second-level name) placed at the first only
    event_rows, conflict_rows = [], []
    for event_id, a1, a2 in events:
        hit = place(a1, a2)
        if hit:
            event_rows.append((event_id, *hit))
            report.placed[hit[1]] = report.placed.get(hit[1], 0) + 1
            if hit[1] == "admin1" and a2:
                partial[(a1, a2)] += 1
        elif a1 or a2:
            missing[" / ".join(x for x in (a1, a2) if x)] += 1
    for conflict_id, a1, a2 in conflicts:
        hit = place(a1, a2)
        if hit:
            conflict_rows.append((conflict_id, *hit))
    report.conflicts_placed = len(conflict_rows)
    for name, n in missing.most_common():  # suggest a first-level name
        report.unmatched.append((name, n, _suggest(name.split(" / ")[0], first)))
    for (a1, a2), n in partial.most_common():  # suggest a second-level name of the same parent
        report.coarser.append((f"{a1} / {a2}", n, _suggest(a2, second.get(one(admin1.get(fold(a1))) or "", {}))))
    con.begin()
    try:
        con.execute("DELETE FROM event_place WHERE event_id IN (SELECT e.event_id FROM conflict_event e "
                    "JOIN conflict c USING (conflict_id) WHERE c.country = ?)", [country])
        con.execute("DELETE FROM conflict_place WHERE conflict_id IN (SELECT conflict_id FROM conflict "
                    "WHERE country = ?)", [country])
        if event_rows:
            con.executemany("INSERT INTO event_place VALUES (?, ?, ?)", event_rows)
        if conflict_rows:
            con.executemany("INSERT INTO conflict_place VALUES (?, ?, ?)", conflict_rows)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return report


def _suggest(name: str, written: dict[str, str]) -> str:
    close = difflib.get_close_matches(fold(name), list(written), n=1, cutoff=0.75)
    return f"did you mean {written[close[0]]!r}?" if close else ""


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the warehouse's main schema holds `table`."""
    row = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?",
                      [table]).fetchone()
    return bool(row and row[0])
