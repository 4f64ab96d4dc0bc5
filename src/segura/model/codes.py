"""Code lists shipped with Segura (ICCS, sex, age groups, relationship, weapon...).

Each list is a CSV file in `model/codelists/` with at least `code`, `label_en`, `label_es`.
"""

from __future__ import annotations

import csv
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
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
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
