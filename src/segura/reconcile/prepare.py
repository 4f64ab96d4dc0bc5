"""The linkage input: one row per current victim record, with comparable keys and no raw names.

Names are reduced to keys (reconcile.names) inside this process and handed to Splink's own
in-memory database; they are never written to the warehouse, a report or a log.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from segura.reconcile.names import name_keys

INPUT_QUERY = """
    SELECT p.person_id, p.source_id, p.source_record_id, p.sex, p.age, coalesce(p.age_is_estimate, false) AS age_is_estimate,
           coalesce(e.occurred_date, e.reported_date) AS event_date, e.occurred_date IS NULL AS date_is_registration,
           e.territory_code, t.parent_code, e.iccs_code, e.context,
           i.given_names, i.first_surname, i.second_surname, i.full_name,
           nullif(upper(regexp_replace(coalesce(i.document_number, ''), '[^A-Za-z0-9]', '', 'g')), '') AS document_number
    FROM person_current p
    JOIN event_current e ON e.load_id = p.load_id AND e.source_record_id = p.event_record_id
    LEFT JOIN person_identity i ON i.load_id = p.load_id AND i.person_id = p.person_id
    LEFT JOIN territory t ON t.code = e.territory_code
    WHERE p.role = 'victim'
    ORDER BY p.person_id
"""


def neighbours(con: duckdb.DuckDBPyConnection, level: str) -> dict[str, list[str]]:
    """Territories of `level` that share a boundary (computed from the geometry, bounding boxes first)."""
    rows = con.execute(
        """
        SELECT a.code, list(b.code ORDER BY b.code)
        FROM territory a JOIN territory b
          ON a.level = ? AND b.level = ? AND a.code <> b.code
         AND ST_Intersects_Extent(a.geometry, b.geometry) AND ST_Intersects(a.geometry, b.geometry)
        GROUP BY a.code""",
        [level, level],
    ).fetchall()
    return {code: list(near) for code, near in rows}


def linkage_input(con: duckdb.DuckDBPyConnection, level: str) -> pa.Table:
    rows = con.execute(INPUT_QUERY).fetchall()
    near = neighbours(con, level)
    cols: dict[str, list[object]] = {k: [] for k in (
        "unique_id", "source", "record_id", "sex", "age", "age_is_estimate", "event_date", "date_is_registration",
        "event_month", "event_week", "territory_code", "parent_code", "neighbours", "document_number",
        "given_1", "given_all", "surname_1", "surname_2", "surnames_sorted", "full_name", "iccs_code", "femicide",
    )}
    for (pid, src, rec, sex, age, est, date, is_reg, terr, parent, iccs, context, given, s1, s2, full, doc) in rows:
        keys = name_keys(given, s1, s2, full)
        cols["unique_id"].append(pid)
        cols["source"].append(src)
        cols["record_id"].append(rec)
        cols["sex"].append(sex if sex in ("F", "M") else None)
        cols["age"].append(age)
        cols["age_is_estimate"].append(est)
        cols["event_date"].append(date)
        cols["date_is_registration"].append(is_reg)
        cols["event_month"].append(date.strftime("%Y-%m") if date else None)
        cols["event_week"].append(date.strftime("%G-%V") if date else None)
        cols["territory_code"].append(terr)
        cols["parent_code"].append(parent)
        cols["neighbours"].append(near.get(terr, []) if terr else [])
        cols["document_number"].append(doc)
        cols["given_1"].append(keys.given_1)
        cols["given_all"].append(keys.given_all)
        cols["surname_1"].append(keys.surname_1)
        cols["surname_2"].append(keys.surname_2)
        cols["surnames_sorted"].append(keys.surnames_sorted)
        cols["full_name"].append(keys.full)
        cols["iccs_code"].append(iccs)
        cols["femicide"].append(bool(context and "femicide" in context))
    return pa.table(cols)
