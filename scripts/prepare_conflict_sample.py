"""Derive the demo's conflict events from the Ultimate Consequences database (run by hand, not shipped).

Writes src/segura/sample/data/bo_conflict_deaths.csv: every row of
../shared/data/bo/deaths_entries_no_names.csv (one row = one death in Bolivian political
conflict, 1984-2024), in the same order, with ONLY the columns the `ucbo_deaths` mapping reads
(event title, date, department, municipality, protest domain and campaign, whether the state
was the perpetrator). No name, age, ethnicity, affiliation, cause of death, perpetrator detail
or narrative: the registry never reads them, so the package does not ship them. Values are
copied unchanged, so the importer's row numbers and rejections are those of the source.

    .venv/bin/python scripts/prepare_conflict_sample.py [--data ../shared/data/bo]

The output is deterministic: running it twice gives byte-identical files.
Licence: CC BY 4.0, "Ultimate Consequences database (Carwil Bjork-James et al.)" (DATA_LICENSES.md).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from segura.conflicts.importers import NAME_COLUMNS, load_mapping

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "segura" / "sample" / "data" / "bo_conflict_deaths.csv"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "bo"
SOURCE = "deaths_entries_no_names.csv"
MAPPING = "ucbo_deaths"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the bo/ folder of the shared data")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rows, columns = write_conflict_deaths(args.data / SOURCE, args.out)
    print(f"{args.out}: {rows} rows x {len(columns)} columns ({', '.join(columns)}), "
          f"{args.out.stat().st_size:,} bytes")


def write_conflict_deaths(source: Path, path: Path) -> tuple[int, list[str]]:
    """Copy the rows of `source` with only the mapping's columns, in the source's column order."""
    mapping = load_mapping(MAPPING)
    wanted = set(mapping["columns"].values())
    forbidden = NAME_COLUMNS | set(mapping.get("forbidden", ()))
    if wanted & forbidden:
        raise SystemExit(f"the mapping reads forbidden columns: {sorted(wanted & forbidden)}")
    with source.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        missing = wanted - set(header)
        if missing:
            raise SystemExit(f"{source}: the mapping's columns {sorted(missing)} are not in the header")
        columns = [c for c in header if c in wanted]
        rows = [[r[c] for c in columns] for r in reader]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)
    return len(rows), columns


if __name__ == "__main__":
    main()
