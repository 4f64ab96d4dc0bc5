"""Resolve the territory columns of an extract to territory codes, for each distinct value.

Names match without regard to case, accents or punctuation, within their parent when the
extract gives one ("Morelos" / "Cd. Ayala"); the mapping's aliases come first. An unknown
name gets a "did you mean ...?" from the names of its parent. Work is done once per
distinct value (a few thousand), then joined back to the rows.
"""

from __future__ import annotations

import difflib
from collections import defaultdict

import duckdb
import pyarrow as pa

from segura.errors import MappingError
from segura.ingest.mapping import TerritorySpec
from segura.model.names import fold


def _suggest(key: str, names: dict[str, list[tuple[str, str]]]) -> str:
    close = difflib.get_close_matches(key, list(names), n=3, cutoff=0.6)
    if not close:
        return ""
    shown = ", ".join(f"{name!r} ({code})" for c in close for code, name in names[c][:1])
    return f"did you mean {shown}?"


def resolve_territories(con: duckdb.DuckDBPyConnection, spec: TerritorySpec, cols: list[str], *, level: str) -> None:
    """Create the temp table `_map_territory(r0[, r1], code, hint)` for the distinct raw values."""
    rows = con.execute(
        "SELECT t.code, t.name, t.parent_code, p.name, p.iso_3166_2 FROM territory t "
        "LEFT JOIN territory p ON p.code = t.parent_code WHERE t.level = ?",
        [level],
    ).fetchall()
    if not rows:
        raise MappingError(
            f"the workspace has no territories of level {level!r}; import them first with "
            "`segura territory import FILE`"
        )
    codes = {r[0]: r for r in rows}
    # An alias may place a record in a coarser territory on purpose ("11999": "11", a municipality
    # not specified in its state); the indicators then show it as the state's "unspecified" row.
    levels = [lv for (lv,) in con.execute("SELECT DISTINCT level FROM territory").fetchall()]
    above = [lv for lv in levels if lv != level and _is_above(con, lv, level)]
    coarser = {c for (c,) in con.execute("SELECT code FROM territory WHERE list_contains(?, level)", [above]).fetchall()}
    distinct = con.execute(f"SELECT DISTINCT {', '.join(cols)} FROM _stg").fetchall()  # noqa: S608 (positional names)
    if spec.by == "code":
        out = [_by_code(raw, spec, codes, level, coarser) for raw in distinct]
    else:
        out = _by_name(distinct, spec, rows, codes, coarser)
    table = pa.table(
        {
            **{f"r{i}": pa.array([d[i] for d in distinct], pa.string()) for i in range(len(cols))},
            "code": pa.array([o[0] for o in out], pa.string()),
            "hint": pa.array([o[1] for o in out], pa.string()),
        }
    )
    con.register("_map_territory_in", table)
    con.execute("CREATE OR REPLACE TEMP TABLE _map_territory AS SELECT * FROM _map_territory_in")
    con.unregister("_map_territory_in")


def _is_above(con: duckdb.DuckDBPyConnection, upper: str, lower: str) -> bool:
    """Whether territories of level `upper` are ancestors of those of level `lower`."""
    row = con.execute(
        "WITH RECURSIVE up(code, level) AS (SELECT code, level FROM territory WHERE level = ? "
        "UNION SELECT p.code, p.level FROM up JOIN territory c ON c.code = up.code "
        "JOIN territory p ON p.code = c.parent_code) SELECT count(*) FROM up WHERE level = ?",
        [lower, upper],
    ).fetchone()
    return bool(row and row[0])


def _by_code(
    raw: tuple[str | None, ...], spec: TerritorySpec, codes: dict[str, tuple], level: str, coarser: set[str]
) -> tuple[str | None, str | None]:
    parts = [(p or "").strip() for p in raw]
    if not any(parts):
        return None, None
    # A code that went through a spreadsheet as a number ('101.0'): drop the '.0' before padding.
    parts = [p[:-2] if p.endswith(".0") else p for p in parts]
    joined = "".join(p.zfill(spec.pad[i]) if spec.pad and p else p for i, p in enumerate(parts))
    alias = spec.aliases.get(joined) or spec.aliases.get("".join(parts))
    code = alias or joined
    if code in codes or (alias and alias in coarser):
        return code, None
    near = sorted(c for c in codes if c[:2] == code[:2])[:3]
    hint = f"no {level} with code {code!r}" + (f"; codes in the same prefix include {', '.join(near)}" if near else "")
    return None, hint


def _by_name(
    distinct: list[tuple[str | None, ...]], spec: TerritorySpec, rows: list[tuple], codes: dict[str, tuple],
    coarser: set[str],
) -> list[tuple[str | None, str | None]]:
    with_parent = len(spec.columns) == 2
    # folded parent (name, code or ISO code) -> {folded name: [(code, name)]}
    by_parent: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    everywhere: dict[str, list[tuple[str, str]]] = defaultdict(list)
    parent_names: dict[str, str] = {}
    for code, name, parent_code, parent_name, parent_iso in rows:
        everywhere[fold(name)].append((code, name))
        for key in {fold(parent_name), fold(parent_code), fold(parent_iso)} - {""}:
            by_parent[key][fold(name)].append((code, name))
            parent_names[key] = parent_name or parent_code
    aliases_q: dict[tuple[str, str], str] = {}
    aliases_u: dict[str, str] = {}
    for key, target in spec.aliases.items():
        if "/" in key:
            p, n = key.rsplit("/", 1)
            aliases_q[(fold(p), fold(n))] = target
        else:
            aliases_u[fold(key)] = target

    def resolve_alias(target: str, parent_key: str) -> str | None:
        if target in codes or target in coarser:
            return target
        hits = (by_parent.get(parent_key, {}) if with_parent else everywhere).get(fold(target), [])
        return hits[0][0] if len(hits) == 1 else None

    out: list[tuple[str | None, str | None]] = []
    for raw in distinct:
        parent_raw, name_raw = (raw[0], raw[1]) if with_parent else (None, raw[0])
        if not (name_raw or "").strip():
            out.append((None, None if not (parent_raw or "").strip() else "the name is blank"))
            continue
        pk, nk = fold(parent_raw), fold(name_raw)
        found = aliases_q.get((pk, nk)) or aliases_u.get(nk)
        if found:
            target = found
            code = resolve_alias(target, pk)
            out.append((code, None) if code else (None, f"the alias target {target!r} is not a territory code or name"))
            continue
        if with_parent:
            names = by_parent.get(pk)
            if names is None:
                if not pk:
                    out.append((None, f"the {spec.columns[0]} column is blank"))
                    continue
                hint = _suggest(pk, {k: [(k, parent_names[k])] for k in parent_names})
                out.append((None, f"unknown parent {parent_raw!r}" + (f"; {hint}" if hint else "")))
                continue
        else:
            names = everywhere
        hits = names.get(nk, [])
        if len(hits) == 1:
            out.append((hits[0][0], None))
        elif len(hits) > 1:
            where = ", ".join(f"{c} ({codes[c][3]})" for c, _ in hits[:5])
            out.append((None, f"ambiguous: {name_raw!r} is the name of {where}; map the parent column too"))
        else:
            elsewhere = everywhere.get(nk, []) if with_parent else []
            if elsewhere:
                where = ", ".join(f"{c} ({codes[c][3]})" for c, _ in elsewhere[:3])
                out.append((None, f"{name_raw!r} is the name of {where}, not of a territory in {parent_raw!r}"))
            else:
                out.append((None, _suggest(nk, names) or "no similar name"))
    return out
