"""The discrepancy report: the agenda of the inter-institutional validation meeting.

For each territory and month: each institution's count of victim records, the reconciled
count of unique victims, how many were found by all, some or only one institution; then,
for each institution and cell, the victims behind the difference between its count and the
reconciled one, with a reason code; and the attributes on which a victim's records disagree.

A victim's reference cell is the `victim` table's territory and the month of its event date
(the authoritative values); a record's cell is its event's territory and the month of
coalesce(occurred, reported). Each difference carries its `effect` on the institution's
count, so that for every cell and institution

    count = reconciled + sum(effect)
          = reconciled - victims it has elsewhere or not at all (-1 each, in the reference cell)
                       + its records of victims referenced elsewhere (+1 each, in the record's cell)
                       + its extra records of a victim it already counts (duplicates).

The record that counts a victim for an institution is the one in the reference cell, else the
nearest; its other records of the victim are duplicates. `other_classification` rows have effect
0: the counts take every classification loaded, and the row names the records that a count of
one crime (intentional homicide, say) would leave out.

Record ids only: this module never reads `person_identity`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from segura.errors import SeguraError
from segura.model.codes import codelist
from segura.store.export import write_table, write_xlsx_sheets

MISSING = "missing_in_institution"
OTHER_MUNICIPALITY = "other_municipality"
OTHER_MONTH = "other_month"
OTHER_CLASSIFICATION = "other_classification"
DUPLICATE = "duplicate_within_institution"
REASONS: dict[str, tuple[str, str]] = {  # code -> (Spanish, English)
    MISSING: ("no registrada por la institución", "missing in the institution"),
    OTHER_MUNICIPALITY: ("registrada en otro municipio", "recorded in another municipality"),
    OTHER_MONTH: ("registrada en otro mes", "recorded in another month"),
    OTHER_CLASSIFICATION: ("clasificada como otro delito", "classified as another crime"),
    DUPLICATE: ("duplicada en la institución", "duplicate within the institution"),
}
ATTRIBUTES: dict[str, tuple[str, str]] = {
    "sex": ("sexo", "sex"),
    "age": ("edad", "age"),
    "municipality": ("municipio", "municipality"),
    "date": ("fecha", "date"),
    "classification": ("clasificación", "classification"),
}
AGE_TOLERANCE = 2  # years; ages further apart disagree ...
AGE_TOLERANCE_ESTIMATE = 6  # ... unless one is an estimate and they are within this
DATE_TOLERANCE_DAYS = 31  # occurred dates further apart disagree
UNKNOWN_SEX = frozenset({"_U"})

Cell = tuple[str | None, str | None]  # (territory_code, "YYYY-MM")


class NoReconciliation(SeguraError):
    """The warehouse has no reconciliation run to report on."""

    exit_code = 2


@dataclass(frozen=True)
class LinkedRecord:
    """One linked victim record as the report needs it: ids, cell and compared attributes."""

    person_id: str
    source: str
    cluster_id: str
    territory: str | None
    month: str | None
    occurred: dt.date | None
    iccs: str | None
    sex: str | None
    age: int | None
    age_is_estimate: bool

    @property
    def cell(self) -> Cell:
        return (self.territory, self.month)


@dataclass(frozen=True)
class ReconciledVictim:
    """One row of `victim`: its sources and authoritative territory, month and classification."""

    cluster_id: str
    sources: tuple[str, ...]
    territory: str | None
    month: str | None
    iccs: str | None
    territory_source: str | None

    @property
    def cell(self) -> Cell:
        return (self.territory, self.month)


@dataclass
class DiscrepancyReport:
    run_id: int
    sources: list[str]
    cells: list[dict[str, Any]]
    differences: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]

    def summary(self) -> dict[str, Any]:
        """Totals per source and reconciled, found by all/some/one, rows per reason and per conflict attribute."""
        reasons = Counter(d["reason"] for d in self.differences)
        attributes = Counter(c["attribute"] for c in self.conflicts)
        return {
            "run_id": self.run_id,
            "cells": len(self.cells),
            "records": {s: sum(c[s] for c in self.cells) for s in self.sources},
            "reconciled": sum(c["reconciled"] for c in self.cells),
            "found_by": {k: sum(c[f"found_by_{k}"] for c in self.cells) for k in ("all", "some", "one")},
            "differences": {r: reasons.get(r, 0) for r in REASONS},
            "conflicts": {a: attributes.get(a, 0) for a in ATTRIBUTES},
        }


# -- reading ------------------------------------------------------------------------------------

RECORDS_QUERY = """
    SELECT l.person_id, l.source_id, l.cluster_id, e.territory_code,
           strftime(coalesce(e.occurred_date, e.reported_date), '%Y-%m'), e.occurred_date, e.iccs_code,
           p.sex, p.age, coalesce(p.age_is_estimate, false)
    FROM link l
    LEFT JOIN (SELECT * FROM person_current QUALIFY row_number() OVER (PARTITION BY person_id ORDER BY load_id DESC) = 1) p
           ON p.person_id = l.person_id
    LEFT JOIN event_current e ON e.load_id = p.load_id AND e.source_record_id = p.event_record_id
    WHERE l.run_id = ?
    ORDER BY l.person_id
"""
VICTIMS_QUERY = """
    SELECT cluster_id, sources, territory_code, strftime(event_date, '%Y-%m'), iccs_code, territory_source
    FROM victim WHERE run_id = ? ORDER BY cluster_id
"""


def discrepancy_report(con: duckdb.DuckDBPyConnection) -> DiscrepancyReport:
    """The report of the latest reconciliation run (tables link, victim; views person_current, event_current)."""
    row = con.execute("SELECT max(run_id) FROM reconcile_run").fetchone()
    if row is None or row[0] is None:
        raise NoReconciliation("no reconciliation run in this warehouse yet; run `segura reconcile` first")
    run_id = int(row[0])
    records = [LinkedRecord(*r) for r in con.execute(RECORDS_QUERY, [run_id]).fetchall()]
    victims = [ReconciledVictim(c, tuple(s), t, m, i, ts) for c, s, t, m, i, ts in con.execute(VICTIMS_QUERY, [run_id]).fetchall()]
    names = dict(con.execute("SELECT code, name FROM territory").fetchall())
    return build_report(run_id, records, victims, names)


def build_report(run_id: int, records: list[LinkedRecord], victims: list[ReconciledVictim], names: dict[str, str]) -> DiscrepancyReport:
    """The report from records and victims already read (`names`: territory code -> name)."""
    sources = sorted({r.source for r in records})
    by_cluster: dict[str, list[LinkedRecord]] = defaultdict(list)
    for r in sorted(records, key=lambda r: r.person_id):
        by_cluster[r.cluster_id].append(r)
    place = _Places(names)
    differences: list[dict[str, Any]] = []
    conflicts: list[dict[str, Any]] = []
    for v in victims:
        recs = by_cluster.get(v.cluster_id, [])
        for source in sources:
            differences += _differences(v, source, [r for r in recs if r.source == source], recs, place)
        conflicts += _conflicts(v, recs, place)
    differences.sort(key=lambda d: (_cell_key((d["territory_code"], d["month"])), d["source"], d["cluster_id"], d["reason"]))
    conflicts.sort(key=lambda c: (_cell_key((c["territory_code"], c["month"])), c["cluster_id"], list(ATTRIBUTES).index(c["attribute"])))
    return DiscrepancyReport(run_id, sources, _cells(sources, records, victims, names), differences, conflicts)


def _cell_key(cell: Cell) -> tuple[str, str]:
    return (cell[0] or "", cell[1] or "")


class _Places:
    """Cells written for people: '11020 León 2014-03'."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def territory(self, code: str | None) -> str:
        return f"{code} {self.names.get(code, '')}".strip() if code else "?"

    def __call__(self, cell: Cell) -> str:
        return f"{self.territory(cell[0])} {cell[1] or '?'}"


# -- cells ------------------------------------------------------------------------------------------

def _cells(sources: list[str], records: list[LinkedRecord], victims: list[ReconciledVictim], names: dict[str, str]) -> list[dict[str, Any]]:
    counts: dict[Cell, Counter[str]] = defaultdict(Counter)
    for r in records:
        counts[r.cell][r.source] += 1
    for v in victims:
        counts[v.cell]["\0reconciled"] += 1
        found = len(set(v.sources) & set(sources))
        kind = "all" if found == len(sources) else "one" if found == 1 else "some"
        counts[v.cell][f"\0{kind}"] += 1
    out = []
    for cell in sorted(counts, key=_cell_key):
        c = counts[cell]
        row: dict[str, Any] = {"territory_code": cell[0], "territory_name": names.get(cell[0] or ""), "month": cell[1]}
        row.update({s: c[s] for s in sources})
        row["reconciled"] = c["\0reconciled"]
        row.update({f"found_by_{k}": c[f"\0{k}"] for k in ("all", "some", "one")})
        out.append(row)
    return out


# -- differences ----------------------------------------------------------------------------------

def _differences(v: ReconciledVictim, source: str, mine: list[LinkedRecord], all_recs: list[LinkedRecord], place: _Places) -> list[dict[str, Any]]:
    """Why `source`'s counts differ from the reconciled ones because of victim `v`.

    The record that counts the victim for the source (its primary) is the one in the reference
    cell, else the nearest (same territory, then same month); each other record is a duplicate.
    """

    def row(cell: Cell, reason: str, effect: int, ids: list[str], detail: str) -> dict[str, Any]:
        return {"territory_code": cell[0], "month": cell[1], "source": source, "cluster_id": v.cluster_id,
                "reason": reason, "effect": effect, "record_ids": ids, "detail": detail}

    if not mine:
        others = ", ".join(s for s in v.sources if s != source) or "-"
        return [row(v.cell, MISSING, -1, [], f"sin registro; la registran {others} / no record; recorded by {others}")]
    ranked = sorted(mine, key=lambda r: (r.cell != v.cell, r.territory != v.territory, r.month != v.month, r.person_id))
    primary, extras = ranked[0], ranked[1:]
    out = []
    if primary.cell != v.cell:
        reason = OTHER_MUNICIPALITY if primary.territory != v.territory else OTHER_MONTH
        out.append(row(v.cell, reason, -1, [primary.person_id],
                       f"registrada en {place(primary.cell)} / recorded in {place(primary.cell)}"))
        by = _authority(v, all_recs)
        per = f" ({by})" if by else ""
        out.append(row(primary.cell, reason, 1, [primary.person_id],
                       f"conciliada en {place(v.cell)}{per} / reconciled in {place(v.cell)}{per}"))
    dup_cells: dict[Cell, list[str]] = defaultdict(list)
    for r in extras:
        dup_cells[r.cell].append(r.person_id)
    for cell, ids in dup_cells.items():
        of = f"{primary.person_id} ({place(primary.cell)})"
        out.append(row(cell, DUPLICATE, len(ids), ids, f"duplicado de {of} / duplicate of {of}"))
    wrong_class: dict[Cell, list[LinkedRecord]] = defaultdict(list)
    for r in mine:
        if r.iccs and v.iccs and _level2(r.iccs) != _level2(v.iccs):
            wrong_class[r.cell].append(r)
    for cell, rs in wrong_class.items():
        mine_codes = sorted({_level2(r.iccs) for r in rs if r.iccs})
        es, en = (", ".join(_iccs_label(c, lang) for c in mine_codes) for lang in ("es", "en"))
        ref_es, ref_en = (_iccs_label(_level2(v.iccs or ""), lang) for lang in ("es", "en"))
        out.append(row(cell, OTHER_CLASSIFICATION, 0, [r.person_id for r in rs],
                       f"clasificada {es}; conciliada {ref_es} / classified {en}; reconciled {ref_en}"))
    return out


def _authority(v: ReconciledVictim, recs: list[LinkedRecord]) -> str | None:
    """The record the victim's territory came from (the same choice as run._write_victims)."""
    ids = [r.person_id for r in recs if r.source == v.territory_source and r.territory == v.territory]
    return min(ids) if ids else None


def _level2(iccs: str) -> str:
    return iccs[:4]


def _iccs_label(code: str, lang: str) -> str:
    c = codelist("iccs").get(code)
    return f"{code} {c.label_es if lang == 'es' else c.label_en}" if c else code


# -- conflicts ------------------------------------------------------------------------------------

def _conflicts(v: ReconciledVictim, recs: list[LinkedRecord], place: _Places) -> list[dict[str, Any]]:
    """One row per attribute on which the victim's records disagree."""
    out = []

    def add(attribute: str, values: list[tuple[str, LinkedRecord]]) -> None:
        groups: dict[str, list[str]] = {}
        for shown, r in values:
            groups.setdefault(shown, []).append(r.person_id)
        text = " / ".join(f"{shown} ({', '.join(ids)})" for shown, ids in groups.items())
        out.append({"cluster_id": v.cluster_id, "territory_code": v.territory, "month": v.month,
                    "attribute": attribute, "values": text, "record_ids": [r.person_id for _, r in values]})

    def check(attribute: str, has: Callable[[LinkedRecord], bool], shown: Callable[[LinkedRecord], str],
              differ: Callable[[LinkedRecord, LinkedRecord], bool]) -> None:
        rs = [r for r in recs if has(r)]
        if any(differ(a, b) for i, a in enumerate(rs) for b in rs[i + 1 :]):
            add(attribute, [(shown(r), r) for r in rs])

    check("sex", lambda r: r.sex is not None and r.sex not in UNKNOWN_SEX, lambda r: str(r.sex),
          lambda a, b: a.sex != b.sex)
    check("age", lambda r: r.age is not None, lambda r: f"{'≈' if r.age_is_estimate else ''}{r.age}", _ages_differ)
    check("municipality", lambda r: r.territory is not None, lambda r: place.territory(r.territory),
          lambda a, b: a.territory != b.territory)
    check("date", lambda r: r.occurred is not None, lambda r: str(r.occurred),
          lambda a, b: abs((a.occurred - b.occurred).days) > DATE_TOLERANCE_DAYS)  # type: ignore[operator]
    check("classification", lambda r: r.iccs is not None, lambda r: _level2(r.iccs or ""),
          lambda a, b: _level2(a.iccs or "") != _level2(b.iccs or ""))
    return out


def _ages_differ(a: LinkedRecord, b: LinkedRecord) -> bool:
    gap = abs((a.age or 0) - (b.age or 0))
    if gap <= AGE_TOLERANCE:
        return False
    return not ((a.age_is_estimate or b.age_is_estimate) and gap <= AGE_TOLERANCE_ESTIMATE)


# -- export ---------------------------------------------------------------------------------------

SHEETS = (  # (file stem, sheet name)
    ("summary", "resumen (summary)"),
    ("cells", "celdas (cells)"),
    ("differences", "diferencias (differences)"),
    ("conflicts", "conflictos (conflicts)"),
)


def report_tables(report: DiscrepancyReport) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The report as four tables (header, rows) with Spanish and English headers."""
    where = ["territorio / territory", "mes / month"]
    ids = "registros / record ids"
    summary = report.summary()
    s_rows: list[list[Any]] = [["corrida de conciliación / reconciliation run", "", summary["run_id"]]]
    s_rows += [["registros por institución / records by institution", s, n] for s, n in summary["records"].items()]
    s_rows.append(["víctimas conciliadas / reconciled victims", "", summary["reconciled"]])
    found = {"all": "todas / all", "some": "algunas / some", "one": "una sola / only one"}
    s_rows += [["halladas por / found by", found[k], n] for k, n in summary["found_by"].items()]
    s_rows += [["diferencias por motivo / differences by reason", f"{r}: {' / '.join(REASONS[r])}", n]
               for r, n in summary["differences"].items()]
    s_rows += [["conflictos por atributo / conflicts by attribute", " / ".join(ATTRIBUTES[a]), n]
               for a, n in summary["conflicts"].items()]
    cells_header = [where[0], "nombre / name", where[1],
                    *(f"registros {s} / {s} records" for s in report.sources),
                    "víctimas conciliadas / reconciled victims", "halladas por todas / found by all",
                    "por algunas / by some", "por una sola / by only one"]
    cells = [[c["territory_code"], c["territory_name"], c["month"], *(c[s] for s in report.sources), c["reconciled"],
              c["found_by_all"], c["found_by_some"], c["found_by_one"]] for c in report.cells]
    diff_header = [*where, "institución / institution", "víctima / victim (cluster)", "motivo / reason",
                   "efecto en el conteo / effect on count", ids, "detalle / detail"]
    diffs = [[d["territory_code"], d["month"], d["source"], d["cluster_id"], d["reason"], d["effect"],
              "; ".join(d["record_ids"]), d["detail"]] for d in report.differences]
    conf_header = ["víctima / victim (cluster)", *where, "atributo / attribute", "valores / values", ids]
    confs = [[c["cluster_id"], c["territory_code"], c["month"], c["attribute"], c["values"], "; ".join(c["record_ids"])]
             for c in report.conflicts]
    return {
        "summary": (["medida / measure", "clave / key", "valor / value"], s_rows),
        "cells": (cells_header, cells),
        "differences": (diff_header, diffs),
        "conflicts": (conf_header, confs),
    }


def export_report(report: DiscrepancyReport, out_dir: Path) -> list[Path]:
    """Write discrepancies.xlsx (four sheets) and discrepancies_<sheet>.csv; every cell neutralised."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = report_tables(report)
    xlsx = out_dir / "discrepancies.xlsx"
    write_xlsx_sheets(xlsx, [(sheet, *tables[stem]) for stem, sheet in SHEETS])
    paths = [xlsx]
    for stem, _sheet in SHEETS:
        header, rows = tables[stem]
        path = out_dir / f"discrepancies_{stem}.csv"
        write_table(path, header, rows)
        paths.append(path)
    return paths
