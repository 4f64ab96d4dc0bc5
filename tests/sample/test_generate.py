"""The sample observatory: shipped data, the generator's truth, formats and determinism."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest
import shapely
from python_calamine import CalamineWorkbook
from shapely.geometry import shape

from segura.model.names import fold
from segura.sample import (
    SampleSummary,
    generate_sample,
    mapping_path,
    packaged_path,
    write_police_csv,
)
from segura.sample import police as police_module
from segura.sample.names import curp_check_digit

SHARED_MX = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mx"
STATES = {"11": "Guanajuato", "17": "Morelos"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    return generate_sample(tmp_path_factory.mktemp("sample"), seed=2026, scale=1.0)


def read_rows(summary: SampleSummary, source: str) -> list[tuple[int, dict[str, str]]]:
    """(row number as a person sees it, row) for every data row of an extract."""
    path = summary.extracts[source]
    if source == "forensic":
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("NECROPSIAS").to_python(skip_empty_area=False)
        header = [str(h) for h in rows[2]]
        out = []
        for n, row in enumerate(rows[3:], start=4):
            cells = {h: ("" if v is None else str(v)) for h, v in zip(header, row, strict=False)}
            if not cells["NUM_NECROPSIA"].startswith("TOTAL"):
                out.append((n, cells))
        return out
    encoding, delimiter = ("cp1252", ";") if source == "police" else ("utf-8", ",")
    with path.open(encoding=encoding, newline="") as fh:
        return list(enumerate(csv.DictReader(fh, delimiter=delimiter), start=2))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


# -- the generator --------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first = tree_digest(generate_sample(tmp_path / "a", seed=7, scale=0.2).out_dir)
    second = tree_digest(generate_sample(tmp_path / "b", seed=7, scale=0.2).out_dir)
    other = tree_digest(generate_sample(tmp_path / "c", seed=8, scale=0.2).out_dir)
    assert len(first) == 11
    assert first == second
    assert first["inbox/police_2014_2015.csv"] != other["inbox/police_2014_2015.csv"]


def test_true_victims_are_inegi_homicides_at_scale_1(sample: SampleSummary) -> None:
    inegi = {(r["territory_code"], r["year"], int(r["month"])): int(r["homicides"]) for r in read_csv(packaged_path("homicides.csv"))}
    drawn = Counter((p["territory_code"], p["occurred_date"][:4], int(p["occurred_date"][5:7])) for p in read_csv(sample.people))
    assert {k: v for k, v in inegi.items() if v} == dict(drawn)
    assert sample.victims == sum(inegi.values()) == 2672


def test_truth_covers_every_record_exactly_once(sample: SampleSummary) -> None:
    truth = read_csv(sample.truth)
    keys = [(t["source"], int(t["row_number"]), t["record_id"]) for t in truth]
    assert len(keys) == len(set(keys))
    in_files = {(s, n, row[rid]) for s, rid in (("police", "FOLIO"), ("forensic", "NUM_NECROPSIA"), ("prosecutors", "ID_VICTIMA")) for n, row in read_rows(sample, s)}
    assert set(keys) == in_files
    assert Counter(t["source"] for t in truth) == Counter(sample.records)
    people = {p["person_id"] for p in read_csv(sample.people)}
    assert {t["person_id"] for t in truth} <= people
    # victims recorded twice by prosecutors (two carpetas) share their person_id
    twice = [pid for pid, n in Counter(t["person_id"] for t in truth if t["source"] == "prosecutors").items() if n > 1]
    assert 5 <= len(twice) <= 60


def test_coverage_of_each_institution(sample: SampleSummary) -> None:
    truth = read_csv(sample.truth)
    share = {s: len({t["person_id"] for t in truth if t["source"] == s}) / sample.victims for s in sample.records}
    assert 0.81 <= share["police"] <= 0.89
    assert 0.96 <= share["forensic"] <= 0.995
    assert 0.86 <= share["prosecutors"] <= 0.94


def test_victims_look_like_mexican_homicide_statistics(sample: SampleSummary) -> None:
    people = read_csv(sample.people)
    women = [p for p in people if p["sex"] == "F"]
    men = [p for p in people if p["sex"] == "M"]
    assert 0.09 <= len(women) / len(people) <= 0.15
    assert 0.60 <= sum(p["weapon"] == "firearm" for p in men) / len(men) <= 0.70
    assert 0.30 <= sum(p["weapon"] == "firearm" for p in women) / len(women) <= 0.50
    partner = {"intimate_partner_current", "intimate_partner_former"}
    assert 0.20 <= sum(p["relationship"] in partner for p in women) / len(women) <= 0.40
    assert sum(p["relationship"] in partner for p in men) / len(men) < 0.03
    young = sum(20 <= int(p["age"]) <= 34 for p in people) / len(people)
    assert 0.35 <= young <= 0.55
    assert any(int(p["age"]) < 10 for p in people) and any(int(p["age"]) >= 70 for p in people)


def test_police_file_is_windows_1252(sample: SampleSummary) -> None:
    data = sample.extracts["police"].read_bytes()
    text = data.decode("cp1252")
    assert any(ch in text for ch in "ÁÉÍÓÚÑ")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    header = text.splitlines()[0].split(";")
    assert header == police_module.HEADER
    rows = read_rows(sample, "police")
    lat = [r["LATITUD"] for _, r in rows if r["LATITUD"]]
    assert lat and all("," in v and "." not in v for v in lat)


def test_police_points_lie_in_the_shipped_polygons(sample: SampleSummary) -> None:
    fc = json.loads(packaged_path("territory.geojson").read_text(encoding="utf-8"))
    union = shapely.union_all([shape(f["geometry"]) for f in fc["features"] if f["properties"]["level"] == "admin2"])
    xy = [(float(r["LONGITUD"].replace(",", ".")), float(r["LATITUD"].replace(",", "."))) for _, r in read_rows(sample, "police") if r["LATITUD"]]
    inside = shapely.contains_xy(union, [x for x, _ in xy], [y for _, y in xy])
    assert inside.all()


def test_forensic_dates_are_date_cells_and_codes_are_numbers(sample: SampleSummary) -> None:
    rows = CalamineWorkbook.from_path(str(sample.extracts["forensic"])).get_sheet_by_name("NECROPSIAS").to_python()
    assert rows[2][0] == "NUM_NECROPSIA" and str(rows[-1][0]).startswith("TOTAL")
    data = rows[3:-1]
    assert sum(isinstance(r[1], dt.date) for r in data) >= len(data) - 2
    assert {r[3] for r in data} <= {11.0, 17.0}
    unidentified = [r for r in data if r[11] == "SI"]
    assert 0.03 <= len(unidentified) / len(data) <= 0.09
    assert all(r[12] == "" for r in unidentified)


def test_prosecutors_curps_agree_with_birth_dates(sample: SampleSummary) -> None:
    checked = 0
    for _, r in read_rows(sample, "prosecutors"):
        if r["CURP"] and r["FECHA_NACIMIENTO"]:
            curp = r["CURP"]
            assert len(curp) == 18 and curp[10] in "HM" and curp[-1] == curp_check_digit(curp[:17])
            assert curp[4:10] == dt.date.fromisoformat(r["FECHA_NACIMIENTO"]).strftime("%y%m%d")
            checked += 1
    assert checked > 500
    dated = [r for _, r in read_rows(sample, "prosecutors") if r["FECHA_HECHOS"]]
    assert 0.6 <= len(dated) / sample.records["prosecutors"] <= 0.8


def test_broken_rows_are_where_the_summary_says(sample: SampleSummary) -> None:
    assert {s: n for s, n in sample.broken_counts.items()} == {"police": 9, "forensic": 6, "prosecutors": 6}
    for source, broken in sample.broken.items():
        rows = dict(read_rows(sample, source))
        kinds = {b.kind for b in broken}
        assert {"future_date", "age_out_of_range", "unknown_territory", "unsupported_date_format", "blank_record_id", "formula_text"} <= kinds
        for b in broken:
            value = rows[b.row_number][b.column]
            assert value == b.value or (source == "forensic" and value.startswith(b.value[:10])), b
    assert read_csv(sample.broken_rows)[0].keys() >= {"source", "row_number", "kind", "expect"}
    femicide = [b for b in sample.broken["police"] if b.kind == "male_victim_femicide"]
    assert len(femicide) == 1 and dict(read_rows(sample, "police"))[femicide[0].row_number]["SEXO"] == "H"


def test_write_police_csv_writes_exactly_n_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(police_module, "CHUNK_ROWS", 1000)  # several chunks
    path = tmp_path / "police.csv"
    write_police_csv(path, 2500, seed=3)
    with path.open(encoding="cp1252", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    assert rows[0] == police_module.HEADER
    assert len(rows) == 2501 and {len(r) for r in rows} == {len(police_module.HEADER)}
    assert len({r[0] for r in rows[1:]}) == 2500
    again = tmp_path / "again.csv"
    write_police_csv(again, 2500, seed=3)
    assert again.read_bytes() == path.read_bytes()


# -- the mappings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["police", "forensic", "prosecutors"])
def test_mappings_parse(source: str) -> None:
    from segura.ingest.mapping import SourceMapping

    m = SourceMapping.load(mapping_path(source))
    assert m.source == source and m.territory is not None and m.territory.level == "admin2"


def test_police_aliases_cover_every_variant_but_the_rare_ones() -> None:
    from segura.ingest.mapping import SourceMapping

    aliases = {fold(k): v for k, v in SourceMapping.load(mapping_path("police")).territory.aliases.items()}  # type: ignore[union-attr]
    emitted = {fold(v): code for code, vs in police_module.MUNICIPALITY_VARIANTS.items() for v in vs}
    assert aliases == emitted
    official = {fold(f["properties"]["name"]) for f in json.loads(packaged_path("territory.geojson").read_text(encoding="utf-8"))["features"]}
    for raw in police_module.UNALIASED_VARIANTS.values():
        assert fold(raw) not in aliases and fold(raw) not in official


# -- the shipped data -----------------------------------------------------------------------------


def test_territory_is_a_valid_coverage_with_accented_names() -> None:
    fc = json.loads(packaged_path("territory.geojson").read_text(encoding="utf-8"))
    props = [f["properties"] for f in fc["features"]]
    assert Counter(p["level"] for p in props) == {"country": 1, "admin1": 2, "admin2": 79}
    states = {p["code"]: p for p in props if p["level"] == "admin1"}
    assert {c: (p["name"], p["iso_3166_2"], p["parent_code"]) for c, p in states.items()} == {
        "11": ("Guanajuato", "MX-GUA", "MX"),
        "17": ("Morelos", "MX-MOR", "MX"),
    }
    names = {p["code"]: p["name"] for p in props}
    assert names["11020"] == "León" and names["17024"] == "Tlaltizapán de Zapata"
    for st in STATES:
        geoms = [shape(f["geometry"]) for f in fc["features"] if f["properties"]["parent_code"] == st]
        assert all(g.is_valid for g in geoms) and shapely.coverage_is_valid(geoms)
    coords = json.dumps([f["geometry"] for f in fc["features"]])
    assert max(len(x.split(".")[1]) for x in coords.replace("[", " ").replace("]", " ").replace(",", " ").split() if "." in x) <= 5


@pytest.mark.skipif(not SHARED_MX.is_dir(), reason=f"the shared data folder {SHARED_MX} is absent (needed for an independent check)")
def test_population_adds_up_to_conapo_state_figures() -> None:
    shipped = read_csv(packaged_path("population.csv"))
    assert {r["source"] for r in shipped} == {"CONAPO"} and {r["age_group"] for r in shipped} == {"_T"}
    for sex, stem in (("_T", "total"), ("M", "hombres"), ("F", "mujeres")):
        conapo = {r["ENTIDAD"]: r for r in read_csv(SHARED_MX / f"conapo_poblacion_entidad_{stem}.csv")}
        municipal = read_csv(SHARED_MX / f"conapo_poblacion_municipal_{stem}.csv")
        for code, name in STATES.items():
            for year in ("2014", "2015"):
                expected = int(conapo[name][year])
                assert sum(int(r[year]) for r in municipal if r["CVE"][:2] == code) == expected
                rows = [r for r in shipped if r["year"] == year and r["sex"] == sex]
                assert sum(int(r["population"]) for r in rows if len(r["territory_code"]) == 5 and r["territory_code"][:2] == code) == expected
                assert [int(r["population"]) for r in rows if r["territory_code"] == code] == [expected]


# -- with the ingest engine -----------------------------------------------------------------------


@pytest.mark.slow
def test_sample_loads_and_quarantines_exactly_the_broken_rows(tmp_path: Path) -> None:
    from segura.ingest.load import load_extract
    from segura.ingest.territory import import_territories
    from segura.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    summary = generate_sample(ws.root, seed=11, scale=0.5)
    wh = ws.warehouse()
    try:
        import_territories(wh, summary.territory, ws.settings)
        for source, path in summary.extracts.items():
            report = load_extract(wh, ws.mapping(source), path)
            assert report.status == "loaded", report.message
            quarantined = {r[0] for r in wh.con.execute("SELECT row_number FROM quarantine WHERE load_id = ?", [report.load_id]).fetchall()}
            expected = {b.row_number for b in summary.broken[source] if b.expect == "quarantine"}
            footer = {summary.records[source] + 4} if source == "forensic" else set()  # the TOTAL row
            assert quarantined - footer == expected, source
            formula = next(b for b in summary.broken[source] if b.kind == "formula_text")
            assert formula.row_number not in quarantined
    finally:
        wh.close()
