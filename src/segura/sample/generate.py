"""Generate the sample observatory: three institutions' extracts of the same homicides, and the truth.

The true victims are one per INEGI homicide in each municipality-month of Guanajuato and
Morelos, 2014-2015 (times `scale`). Police, forensic medicine and prosecutors each record
some of them, in their own format and with their own errors; `truth/victims.csv` says which
records are the same person, so reconciliation can be measured. Everything is drawn from
one seed: the same seed gives byte-identical files.

    workspace/
      inbox/police_2014_2015.csv          cp1252, ';', decimal comma
      inbox/forensic_2014_2015.xlsx       autopsy register
      inbox/prosecutors_2014_2015.csv     UTF-8
      sources/{police,forensic,prosecutors}.yaml
      territory.geojson, population.csv   copied from the package
      truth/victims.csv                   source, record_id, person_id, row_number
      truth/people.csv                    the true victims' attributes (no names)
      truth/broken_rows.csv               rows damaged on purpose and the expected outcome
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from segura.sample import forensic, police, prosecutors
from segura.sample.extract import QUARANTINE, BrokenRow, Extract
from segura.sample.packaged import SOURCES, mapping_path, packaged_path
from segura.sample.police import write_police_csv
from segura.sample.victims import RELATIONSHIPS, SETTINGS, WEAPONS, Victims, draw_victims

__all__ = ["BrokenRow", "SampleSummary", "generate_sample", "write_police_csv"]

EXTRACT_FILES = {
    "police": "police_2014_2015.csv",
    "forensic": "forensic_2014_2015.xlsx",
    "prosecutors": "prosecutors_2014_2015.csv",
}
MAX_SCALE = 100.0


@dataclass(frozen=True)
class SampleSummary:
    """What generate_sample wrote, and the counts a test or a demo can check against."""

    out_dir: Path
    seed: int
    scale: float
    victims: int  # true victims
    events: int  # true incidents
    extracts: dict[str, Path]  # source -> file in inbox/
    mappings: dict[str, Path]  # source -> sources/<source>.yaml
    records: dict[str, int]  # source -> data rows in its extract
    broken: dict[str, tuple[BrokenRow, ...]]  # source -> rows damaged on purpose
    truth: Path
    people: Path
    broken_rows: Path
    territory: Path
    population: Path

    @property
    def broken_counts(self) -> dict[str, int]:
        return {s: len(rows) for s, rows in self.broken.items()}

    @property
    def expected_quarantined(self) -> dict[str, int]:
        """Rows each load should quarantine: the broken rows that cannot load."""
        return {s: sum(r.expect == QUARANTINE for r in rows) for s, rows in self.broken.items()}


def generate_sample(out_dir: Path, *, seed: int = 2026, scale: float = 1.0) -> SampleSummary:
    """Write the sample's extracts, mappings, territory, population and truth into `out_dir`.

    scale=1 draws exactly one victim per INEGI homicide; scale=40 (about 107,000 victims)
    is for benchmarks. Existing sample files in `out_dir` are overwritten.
    """
    if not 0 < scale <= MAX_SCALE:
        raise ValueError(f"scale {scale!r} must be above 0 and at most {MAX_SCALE:g}")
    out = Path(out_dir)
    truth_rng, police_rng, forensic_rng, prosecutors_rng = np.random.default_rng(seed).spawn(4)
    victims = draw_victims(scale, truth_rng)
    extracts = {
        "police": police.render(victims, police_rng),
        "forensic": forensic.render(victims, forensic_rng),
        "prosecutors": prosecutors.render(victims, prosecutors_rng),
    }
    writers = {"police": police.write, "forensic": forensic.write, "prosecutors": _write_utf8_csv}
    paths = {}
    for source, extract in extracts.items():
        paths[source] = out / "inbox" / EXTRACT_FILES[source]
        writers[source](extract, paths[source])
    mappings = {}
    for source in SOURCES:
        mappings[source] = out / "sources" / f"{source}.yaml"
        mappings[source].parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(mapping_path(source), mappings[source])
    for name in ("territory.geojson", "population.csv"):
        shutil.copyfile(packaged_path(name), out / name)
    truth_dir = out / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    _write_truth(truth_dir / "victims.csv", extracts)
    _write_people(truth_dir / "people.csv", victims)
    broken = {s: tuple(e.broken) for s, e in extracts.items()}
    _write_broken(truth_dir / "broken_rows.csv", broken)
    return SampleSummary(
        out_dir=out,
        seed=seed,
        scale=scale,
        victims=len(victims),
        events=int(victims.event.max()) + 1 if len(victims) else 0,
        extracts=paths,
        mappings=mappings,
        records={s: len(e.rows) for s, e in extracts.items()},
        broken=broken,
        truth=truth_dir / "victims.csv",
        people=truth_dir / "people.csv",
        broken_rows=truth_dir / "broken_rows.csv",
        territory=out / "territory.geojson",
        population=out / "population.csv",
    )


def _write_utf8_csv(extract: Extract, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(extract.header)
        w.writerows(extract.rows)


def _write_truth(path: Path, extracts: dict[str, Extract]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["source", "record_id", "person_id", "row_number"])
        for source, e in extracts.items():
            for i, pid in enumerate(e.person_ids):
                w.writerow([source, e.record_id(i), pid, e.row_number(i)])


def _write_people(path: Path, v: Victims) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([
            "person_id", "event_id", "territory_code", "occurred_date", "occurred_time", "sex", "age",
            "weapon", "relationship", "setting", "gender_related", "identified",
        ])
        for i in range(len(v)):
            minute = int(v.minute[i])
            w.writerow([
                v.person_id[i], f"E{int(v.event[i]) + 1:06d}", v.territory[i], str(v.date[i]),
                f"{minute // 60:02d}:{minute % 60:02d}", "F" if v.female[i] else "M", int(v.age[i]),
                WEAPONS[int(v.weapon[i])], RELATIONSHIPS[int(v.relationship[i])], SETTINGS[int(v.setting[i])],
                str(bool(v.gender_related[i])).lower(), str(bool(v.identified[i])).lower(),
            ])


def _write_broken(path: Path, broken: dict[str, tuple[BrokenRow, ...]]) -> None:
    names = [f.name for f in fields(BrokenRow)]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(names)
        for rows in broken.values():
            for r in rows:
                w.writerow([getattr(r, n) for n in names])
