"""Derive the sample observatory's shipped data from ../shared/data/mx (run by hand, not shipped).

Writes into src/segura/sample/data/:

- territory.geojson: Mexico, Guanajuato (11) and Morelos (17) and their municipalities, with
  polygons simplified as a coverage (neighbours keep sharing edges) and rounded to 5 decimals;
- population.csv: CONAPO mid-year population 2014-2015 by municipality and state and sex;
- homicides.csv: INEGI homicides by municipality of occurrence and month 2014-2015;
- reduction.json: the figures DATA_LICENSES.md quotes (rows dropped, tolerance, sizes).

    .venv/bin/python scripts/prepare_sample_data.py [--data ../shared/data/mx]

The output is deterministic: running it twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
from collections import defaultdict
from pathlib import Path

import pyogrio
import shapely
from shapely.geometry import mapping

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "segura" / "sample" / "data"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "mx"

STATES = {"11": ("Guanajuato", "MX-GUA"), "17": ("Morelos", "MX-MOR")}
YEARS = (2014, 2015)
TOLERANCE = 0.005  # degrees, for shapely.coverage_simplify (about 500 m)
PRECISION = 1e-5  # 5 decimals, about 1 m
# Municipalities created after 2015 that the 2,457 polygons (the 2015 geography) do not have:
# CONAPO back-projects their population, which the sample folds into the municipality each
# was split from, so that municipal rows add up to the state rows.
SPLIT_FROM = {
    "17034": "17015",  # Coatetelco, from Miacatlán (2017)
    "17035": "17017",  # Xoxocotla, from Puente de Ixtla (2017)
    "17036": "17022",  # Hueyapan, from Tetela del Volcán (2017)
}
SEX_FILES = {"_T": "total", "M": "hombres", "F": "mujeres"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the mx/ folder of the shared data")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    names = municipality_names(args.data)
    codes, vertices = write_territory(args.data, args.out / "territory.geojson", names)
    pop_rows = write_population(args.data, args.out / "population.csv", set(codes))
    dropped = write_homicides(args.data, args.out / "homicides.csv", codes)
    covariate_rows = write_covariates(args.data, args.out / "covariates.csv", set(codes))
    report = {
        "municipalities": {st: sum(c[:2] == st for c in codes) for st in STATES},
        "coverage_simplify_tolerance_degrees": TOLERANCE,
        "vertices_before_after": vertices,
        "coordinate_decimals": 5,
        "population_rows": pop_rows,
        "population_folded": SPLIT_FROM,
        "homicides_unspecified_municipality_dropped": dropped,
        "covariate_rows": covariate_rows,
        "sizes_bytes": {p.name: p.stat().st_size for p in sorted(args.out.glob("*")) if p.suffix != ".json"},
    }
    (args.out / "reduction.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2, ensure_ascii=False))


def municipality_names(data: Path) -> dict[str, str]:
    """5-digit code -> official name with accents, from INEGI's Censo 2020 file."""
    with (data / "inegi_censo2020_municipios_mxmaps.csv").open(encoding="utf-8", newline="") as fh:
        return {r["region"]: r["municipio_name"] for r in csv.DictReader(fh) if r["state_code"] in STATES}


def _coverage(geoms: list[shapely.Geometry]) -> list[shapely.Geometry]:
    simplified = shapely.coverage_simplify(geoms, TOLERANCE)
    rounded = shapely.set_precision(simplified, PRECISION)
    if not shapely.is_valid(rounded).all() or not shapely.coverage_is_valid(rounded):
        raise SystemExit("simplified polygons are not a valid coverage; lower TOLERANCE")
    return [shapely.normalize(g) for g in rounded]


def _geojson(geom: shapely.Geometry | None) -> dict | None:
    if geom is None:
        return None
    gj = mapping(geom)
    return json.loads(json.dumps(gj, allow_nan=False), parse_float=lambda s: round(float(s), 5))


def write_territory(data: Path, path: Path, names: dict[str, str]) -> tuple[list[str], dict[str, list[int]]]:
    states = pyogrio.read_dataframe(data / "mx_estados.shp", columns=["CVEGEO"])
    munis = pyogrio.read_dataframe(data / "mx_municipios_2457.shp")
    features = [_feature("MX", "México", "country", None, None, None)]
    codes: list[str] = []
    vertices = {"admin1": [0, 0], "admin2": [0, 0]}

    def count(level: str, before: list, after: list) -> None:
        vertices[level][0] += int(shapely.get_num_coordinates(before).sum())
        vertices[level][1] += int(shapely.get_num_coordinates(after).sum())

    for st, (name, iso) in STATES.items():
        sgeom = states.loc[states["CVEGEO"] == st, "geometry"].tolist()
        simple = _coverage(sgeom)
        count("admin1", sgeom, simple)
        features.append(_feature(st, name, "admin1", "MX", iso, simple[0]))
    for st in STATES:
        sub = munis[munis["id"].str[:2] == st].sort_values("id")
        simple = _coverage(sub.geometry.tolist())
        count("admin2", sub.geometry.tolist(), simple)
        for code, geom in zip(sub["id"], simple, strict=True):
            features.append(_feature(code, names[code], "admin2", st, None, geom))
            codes.append(code)
    fc = {
        "type": "FeatureCollection",
        "name": "segura_sample_territory",  # RFC 7946: WGS84 longitude, latitude
        "features": features,
    }
    text = json.dumps(fc, ensure_ascii=False, separators=(",", ":"))
    # one feature per line: small diffs, still compact
    text = text.replace(',{"type":"Feature"', ',\n{"type":"Feature"')
    path.write_text(text + "\n", encoding="utf-8")
    return codes, vertices


def _feature(code: str, name: str, level: str, parent: str | None, iso: str | None, geom: shapely.Geometry | None) -> dict:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, "level": level, "parent_code": parent, "iso_3166_2": iso},
        "geometry": _geojson(geom),
    }


def _read_wide(path: Path, key: str) -> dict[str, dict[int, int]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {r[key]: {y: int(r[str(y)]) for y in YEARS} for r in csv.DictReader(fh)}


def write_population(data: Path, path: Path, codes: set[str]) -> int:
    rows: list[tuple[str, int, str, int]] = []
    for sex, stem in SEX_FILES.items():
        muni = _read_wide(data / f"conapo_poblacion_municipal_{stem}.csv", "CVE")
        state = _read_wide(data / f"conapo_poblacion_entidad_{stem}.csv", "ENTIDAD")
        for st, (name, _iso) in STATES.items():
            for y in YEARS:
                rows.append((st, y, sex, state[name][y]))
        folded: dict[str, dict[int, int]] = defaultdict(lambda: dict.fromkeys(YEARS, 0))
        for cve, by_year in muni.items():
            if cve[:2] not in STATES:
                continue
            target = SPLIT_FROM.get(cve, cve)
            if target not in codes:
                raise SystemExit(f"CONAPO municipality {cve} has no polygon and no SPLIT_FROM entry")
            for y in YEARS:
                folded[target][y] += by_year[y]
        for cve in sorted(folded):
            for y in YEARS:
                rows.append((cve, y, sex, folded[cve][y]))
        for st, (name, _iso) in STATES.items():  # the check the tests repeat independently
            for y in YEARS:
                total = sum(v[y] for c, v in folded.items() if c[:2] == st)
                if total != state[name][y]:
                    raise SystemExit(f"CONAPO {stem} {st} {y}: municipalities {total} != state {state[name][y]}")
    order = {"_T": 0, "F": 1, "M": 2}
    rows.sort(key=lambda r: (len(r[0]), r[0], r[1], order[r[2]]))
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["territory_code", "year", "sex", "age_group", "population", "source"])
        for code, year, sex, pop in rows:
            w.writerow([code, year, sex, "_T", pop, "CONAPO"])
    return len(rows)


def write_homicides(data: Path, path: Path, codes: list[str]) -> dict[str, int]:
    counts: dict[tuple[str, int, int], int] = defaultdict(int)
    dropped: dict[str, int] = defaultdict(int)
    src = data / "inegi_homicidios_mun_ocurrencia_mes_registro_1990_2015_long.csv.gz"
    with gzip.open(src, "rt", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            year = int(r["anio_registro"])
            code = r["cve_mun_ocurrencia"]
            if year not in YEARS or code[:2] not in STATES:
                continue
            n = int(r["homicidios"])
            if code.endswith("999"):
                dropped[f"{code[:2]}/{year}"] += n
                continue
            if code not in codes:
                raise SystemExit(f"INEGI municipality {code} has no polygon")
            counts[(code, year, int(r["mes_registro"]))] += n
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["territory_code", "year", "month", "homicides"])
        for code in codes:  # the complete grid: a municipality absent from a year's export had none
            for y in YEARS:
                for m in range(1, 13):
                    w.writerow([code, y, m, counts.get((code, y, m), 0)])
    return dict(sorted(dropped.items()))


def write_covariates(data: Path, path: Path, codes: set[str]) -> int:
    """Conditions by municipality from INEGI's Censo 2020 (the mxmaps table): the share of people
    speaking an indigenous language and of Afro-Mexicans, and whether it belongs to a metropolitan
    area: the covariates of the demo's positive deviance model."""
    rows = []
    with (data / "inegi_censo2020_municipios_mxmaps.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            code = r["region"]
            if code not in codes:
                continue
            pop = float(r["pop"])
            rows.append([code, round(100 * float(r["indigenous_language"]) / pop, 3),
                         round(100 * float(r["afromexican"]) / pop, 3), int(bool(r["metro_area"].strip()))])
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["code", "indigenous_share", "afromexican_share", "metro_area"])
        w.writerows(sorted(rows))
    return len(rows)


if __name__ == "__main__":
    main()
