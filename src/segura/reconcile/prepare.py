"""The linkage input: one row per current victim record, with comparable keys and no raw names.

Names are reduced to keys (reconcile.names) inside this process and handed to Splink's own
in-memory database; they are never written to the warehouse, a report or a log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

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
    """The linkage input for the warehouse's current victim records."""
    near = neighbours(con, level)
    records = (
        {
            "unique_id": pid, "source": src, "record_id": rec, "sex": sex, "age": age, "age_is_estimate": est,
            "event_date": date, "date_is_registration": is_reg, "territory_code": terr, "parent_code": parent,
            "neighbours": near.get(terr, []) if terr else [], "document_number": doc, "given_names": given,
            "first_surname": s1, "second_surname": s2, "full_name": full, "iccs_code": iccs,
            "femicide": bool(context and "femicide" in context),
        }
        for (pid, src, rec, sex, age, est, date, is_reg, terr, parent, iccs, context, given, s1, s2, full, doc)
        in con.execute(INPUT_QUERY).fetchall()
    )
    return linkage_table(records)


# The columns and types of the linkage input (as `linkage_input` builds them from the warehouse).
LINKAGE_SCHEMA = pa.schema([
    ("unique_id", pa.string()), ("source", pa.string()), ("record_id", pa.string()), ("sex", pa.string()),
    ("age", pa.int64()), ("age_is_estimate", pa.bool_()), ("event_date", pa.date32()), ("date_is_registration", pa.bool_()),
    ("event_month", pa.string()), ("event_week", pa.string()), ("territory_code", pa.string()), ("parent_code", pa.string()),
    ("neighbours", pa.list_(pa.string())), ("document_number", pa.string()), ("given_1", pa.string()), ("given_all", pa.string()),
    ("surname_1", pa.string()), ("surname_2", pa.string()), ("surnames_sorted", pa.string()), ("full_name", pa.string()),
    ("iccs_code", pa.string()), ("femicide", pa.bool_()),
])


def linkage_table(records: Iterable[Mapping[str, Any]]) -> pa.Table:
    """The linkage input from plain records: the warehouse's (`linkage_input`) or others (a benchmark
    data set, another system's export), so that `run_linkage` can score Segura's model on them. Each record is a mapping
    with `unique_id` and `source` and any of given_names, first_surname, second_surname, full_name, sex
    ('F'/'M'), age, age_is_estimate, event_date (a date), territory_code, parent_code, neighbours,
    document_number; what is missing is null. Names become keys exactly as in `linkage_input`."""
    cols: dict[str, list[object]] = {name: [] for name in LINKAGE_SCHEMA.names}
    for rec in records:
        keys = name_keys(rec.get("given_names"), rec.get("first_surname"), rec.get("second_surname"), rec.get("full_name"))
        date = rec.get("event_date")
        sex = rec.get("sex")
        row = {
            "unique_id": str(rec["unique_id"]), "source": str(rec["source"]), "record_id": str(rec.get("record_id", rec["unique_id"])),
            "sex": sex if sex in ("F", "M") else None, "age": rec.get("age"), "age_is_estimate": bool(rec.get("age_is_estimate")),
            "event_date": date, "date_is_registration": bool(rec.get("date_is_registration")),
            "event_month": date.strftime("%Y-%m") if date else None, "event_week": date.strftime("%G-%V") if date else None,
            "territory_code": rec.get("territory_code"), "parent_code": rec.get("parent_code"), "neighbours": list(rec.get("neighbours") or []),
            "document_number": rec.get("document_number"), "given_1": keys.given_1, "given_all": keys.given_all,
            "surname_1": keys.surname_1, "surname_2": keys.surname_2, "surnames_sorted": keys.surnames_sorted, "full_name": keys.full,
            "iccs_code": rec.get("iccs_code"), "femicide": bool(rec.get("femicide")),
        }
        for name, value in row.items():
            cols[name].append(value)
    return pa.table(cols, schema=LINKAGE_SCHEMA)
