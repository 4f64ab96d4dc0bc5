"""Code lists shipped with Segura (ICCS, sex, age groups, relationship, weapon...).

Each list is a CSV file in `model/codelists/` with at least `code`, `label_en`, `label_es`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Code:
    code: str
    label_en: str
    label_es: str
    extra: tuple[tuple[str, str], ...] = ()

    def get(self, key: str) -> str | None:
        return dict(self.extra).get(key)


@cache
def codelist(name: str) -> dict[str, Code]:
    """The code list `name` as {code: Code}; raises KeyError for an unknown list."""
    path = resources.files("segura.model") / "codelists" / f"{name}.csv"
    if not path.is_file():
        raise KeyError(f"no code list named {name!r}")
    with path.open("r", encoding="utf-8") as fh:
        rows = list(csv.DictReader(io.StringIO(fh.read(), newline="")))
    out: dict[str, Code] = {}
    for row in rows:
        code = row.pop("code")
        en, es = row.pop("label_en"), row.pop("label_es")
        out[code] = Code(code, en, es, tuple(sorted(row.items())))
    return out


def age_group_of(age: int) -> str:
    """Five-year age group code (Y0T4 ... Y80T84, Y_GE85) of an age in completed years."""
    if age >= 85:
        return "Y_GE85"
    low = (age // 5) * 5
    return f"Y{low}T{low + 4}"


AGE_GROUP_SQL = (
    "CASE WHEN {age} IS NULL THEN '_U' WHEN {age} >= 85 THEN 'Y_GE85' "
    "ELSE 'Y' || (({age} // 5) * 5) || 'T' || (({age} // 5) * 5 + 4) END"
)


def age_aggregate(age: int | None, aggregations: dict[str, list[int]]) -> str:
    """The named age range (from settings `age_groups.aggregations`) that holds `age`, or '_U'.

    Ranges are inclusive [low, high]; ages outside every range fall in '_O' (other), so a
    configuration that does not cover 0-120 never hides a victim.
    """
    if age is None:
        return "_U"
    for name, (low, high) in aggregations.items():
        if low <= age <= high:
            return name
    return "_O"


def five_year_groups_in(low: int, high: int) -> list[str]:
    """The five-year group codes that a range [low, high] covers exactly, or ValueError if it cuts one.

    Population denominators come in five-year groups; an aggregation such as 15-29 maps to
    Y15T19, Y20T24, Y25T29, while 0-17 cuts Y15T19 and needs single-year population.
    """
    if low % 5 != 0 or not (high == 120 or high % 5 == 4):
        raise ValueError(f"the range {low}-{high} does not follow five-year group boundaries")
    groups = [age_group_of(a) for a in range(low, min(high, 85) + 1, 5)]
    return list(dict.fromkeys(groups))
