"""Warehouse integrity checks: each one a function from the warehouse to a `CheckResult`.

They read the current data (the newest load of each source and month) and report, with
record ids and never names: months missing per source, likely duplicates within a source,
unknown territories, impossible combinations, late registrations, and outlying
territory-month counts (robust z-score on the median and MAD).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb

from segura.settings import Settings

EXAMPLES = 10


@dataclass
class CheckResult:
    check: str
    severity: str  # error | warning | info
    title_en: str
    title_es: str
    count: int
    details: list[dict[str, Any]] = field(default_factory=list)  # up to EXAMPLES rows

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [{n: (v.isoformat() if hasattr(v, "isoformat") else v) for n, v in zip(names, row, strict=True)} for row in cur.fetchall()]


def months_missing(con: duckdb.DuckDBPyConnection, s: Settings) -> CheckResult:
    rows = _rows(
        con,
        """
        WITH span AS (
            SELECT source_id, min(month) AS first, max(month) AS last, count(*) AS n FROM latest_load_month GROUP BY source_id),
        expected AS (
            SELECT source_id, unnest(generate_series(first, last, INTERVAL 1 MONTH))::DATE AS month FROM span WHERE n >= ?)
        SELECT e.source_id AS source, strftime(e.month, '%Y-%m') AS month
        FROM expected e LEFT JOIN latest_load_month m USING (source_id, month)
        WHERE m.load_id IS NULL ORDER BY 1, 2""",
        [int(s["checks.min_months_for_gaps"])],
    )
    return CheckResult("months_missing", "warning", "Months missing in a source's deliveries", "Meses faltantes en las entregas de una fuente", len(rows), rows[:EXAMPLES])


def duplicates_within_source(con: duckdb.DuckDBPyConnection, s: Settings) -> CheckResult:
    """After reconciliation: records of one source linked to one victim. Before it: records of one
    source with the same date, territory, sex and age (names are read only by linkage and review)."""
    reconciled = con.execute("SELECT count(*) FROM link").fetchone()[0]  # type: ignore[index]
    if reconciled:
        rows = _rows(
            con,
            """
            SELECT l.source_id AS source, l.cluster_id AS victim, list(split_part(l.person_id, ':', 2) ORDER BY l.person_id) AS record_ids,
                   count(*) AS n
            FROM link l JOIN person_current p ON p.person_id = l.person_id
            GROUP BY l.source_id, l.cluster_id HAVING count(*) > 1 ORDER BY n DESC, source, victim""",
        )
        how = "linked to one victim by reconciliation"
        how_es = "vinculados a una víctima por la conciliación"
    else:
        rows = _rows(
            con,
            """
            SELECT p.source_id AS source, e.occurred_date AS date, e.territory_code AS territory, p.sex, p.age,
                   list(p.source_record_id ORDER BY p.source_record_id) AS record_ids, count(*) AS n
            FROM person_current p
            JOIN event_current e ON e.load_id = p.load_id AND e.source_record_id = p.event_record_id
            WHERE e.occurred_date IS NOT NULL AND p.age IS NOT NULL AND p.sex IS NOT NULL
            GROUP BY p.source_id, e.occurred_date, e.territory_code, p.sex, p.age
            HAVING count(DISTINCT e.source_record_id) > 1
            ORDER BY n DESC, source, date""",
        )
        how = "same date, municipality, sex and age in different events (run `segura reconcile` for a name-aware check)"
        how_es = "misma fecha, municipio, sexo y edad en eventos distintos (ejecute `segura reconcile` para una verificación con nombres)"
    total = sum(r["n"] - 1 for r in rows)
    return CheckResult(
        "duplicates_within_source", "warning", f"Likely duplicate victims within one source: {how}",
        f"Posibles víctimas duplicadas dentro de una fuente: {how_es}", total, rows[:EXAMPLES],
    )


def unknown_territories(con: duckdb.DuckDBPyConnection, s: Settings) -> CheckResult:
    rows = _rows(
        con,
        """
        SELECT e.source_id AS source, e.territory_code AS territory, count(*) AS events
        FROM event_current e LEFT JOIN territory t ON t.code = e.territory_code
        WHERE t.code IS NULL GROUP BY ALL ORDER BY events DESC""",
    )
    return CheckResult("unknown_territories", "error", "Events in territories that are not in the territory table (or with none)", "Eventos en territorios ausentes de la tabla de territorios (o sin territorio)", sum(r["events"] for r in rows), rows[:EXAMPLES])


def impossible_combinations(con: duckdb.DuckDBPyConnection, s: Settings) -> CheckResult:
    rows = _rows(
        con,
        """
        SELECT p.source_id AS source, p.source_record_id AS record_id, p.row_number AS row, p.load_id, problem FROM (
            SELECT p.*, CASE
                WHEN list_contains(e.context, 'femicide') AND p.sex = 'M' THEN 'femicide with a male victim'
                WHEN p.age NOT BETWEEN 0 AND 120 THEN 'age ' || p.age || ' outside 0-120'
                WHEN i.birth_date > e.occurred_date THEN 'born after the event'
                WHEN i.birth_date IS NOT NULL AND e.occurred_date IS NOT NULL AND p.age IS NOT NULL AND NOT coalesce(p.age_is_estimate, false)
                     AND abs(date_diff('year', i.birth_date, e.occurred_date) - p.age) > 1 THEN 'age ' || p.age || ' does not match the date of birth'
                WHEN p.relationship IN ('intimate_partner_current', 'intimate_partner_former') AND p.age < 12 THEN 'an intimate partner relationship for a child under 12'
              END AS problem
            FROM person_current p
            JOIN event_current e ON e.load_id = p.load_id AND e.source_record_id = p.event_record_id
            LEFT JOIN person_identity i ON i.load_id = p.load_id AND i.person_id = p.person_id) p
        WHERE problem IS NOT NULL ORDER BY source, row""",
    )
    return CheckResult("impossible_combinations", "error", "Impossible combinations (femicide with a male victim, ages, dates)", "Combinaciones imposibles (feminicidio con víctima hombre, edades, fechas)", len(rows), rows[:EXAMPLES])


def late_registrations(con: duckdb.DuckDBPyConnection, s: Settings) -> CheckResult:
    days = int(s["checks.registration_lag_days"])
    rows = _rows(
        con,
        """
        SELECT source_id AS source, source_record_id AS record_id, row_number AS row, occurred_date, reported_date,
               date_diff('day', occurred_date, reported_date) AS days
        FROM event_current WHERE date_diff('day', occurred_date, reported_date) > ? ORDER BY days DESC""",
        [days],
    )
    return CheckResult("late_registrations", "info", f"Registered more than {days} days after the event", f"Registrados más de {days} días después del hecho", len(rows), rows[:EXAMPLES])


def registered_before_event(con: duckdb.DuckDBPyConnection, s: Settings) -> CheckResult:
    rows = _rows(
        con,
        """
        SELECT source_id AS source, source_record_id AS record_id, row_number AS row, occurred_date, reported_date
        FROM event_current WHERE reported_date < occurred_date ORDER BY source, row""",
    )
    return CheckResult("registered_before_event", "warning", "Registered before the date of the event", "Registrados antes de la fecha del hecho", len(rows), rows[:EXAMPLES])


def outliers(con: duckdb.DuckDBPyConnection, s: Settings) -> CheckResult:
    z = float(s["checks.outlier_z"])
    rows = _rows(
        con,
        """
        WITH months AS (SELECT source_id, month FROM latest_load_month),
        terr AS (SELECT DISTINCT source_id, territory_code FROM event_current WHERE territory_code IS NOT NULL),
        grid AS (SELECT m.source_id, t.territory_code, m.month FROM months m JOIN terr t USING (source_id)),
        counts AS (
            SELECT g.source_id, g.territory_code, g.month, count(p.person_id) AS n
            FROM grid g
            LEFT JOIN event_current e ON e.source_id = g.source_id AND e.territory_code = g.territory_code AND e.period_month = g.month
            LEFT JOIN person_current p ON p.load_id = e.load_id AND p.event_record_id = e.source_record_id
            GROUP BY ALL),
        stats AS (
            SELECT source_id, territory_code, median(n) AS med, median(abs(n - med0)) AS mad FROM (
                SELECT *, median(n) OVER (PARTITION BY source_id, territory_code) AS med0 FROM counts) GROUP BY ALL)
        SELECT c.source_id AS source, c.territory_code AS territory, strftime(c.month, '%Y-%m') AS month, c.n AS count,
               s.med AS median, round(0.6745 * (c.n - s.med) / s.mad, 1) AS robust_z
        FROM counts c JOIN stats s USING (source_id, territory_code)
        WHERE s.mad > 0 AND 0.6745 * (c.n - s.med) / s.mad > ? AND c.n >= 5
        ORDER BY robust_z DESC""",
        [z],
    )
    return CheckResult("outliers", "warning", f"Territory-month counts far above their usual level (robust z > {z})", f"Conteos territorio-mes muy por encima de lo habitual (z robusto > {z})", len(rows), rows[:EXAMPLES])


def quarantined_rows(con: duckdb.DuckDBPyConnection, s: Settings) -> CheckResult:
    rows = _rows(
        con,
        """
        SELECT l.source_id AS source, l.load_id, l.file_name AS file, count(*) AS rows
        FROM quarantine q JOIN load l USING (load_id)
        WHERE l.load_id IN (SELECT load_id FROM latest_load_month)
        GROUP BY ALL ORDER BY rows DESC""",
    )
    return CheckResult("quarantined_rows", "info", "Rows in quarantine in the current loads (fix and resend)", "Filas en cuarentena en las cargas vigentes (corregir y reenviar)", sum(r["rows"] for r in rows), rows[:EXAMPLES])


CHECKS: tuple[Callable[[duckdb.DuckDBPyConnection, Settings], CheckResult], ...] = (
    months_missing,
    duplicates_within_source,
    unknown_territories,
    impossible_combinations,
    late_registrations,
    registered_before_event,
    outliers,
    quarantined_rows,
)


def run_checks(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[CheckResult]:
    return [check(con, settings) for check in CHECKS]
