"""Published figures, reproduced end to end through Segura's own pipeline.

Each test writes an extract from a publisher's counts (one row per victim), loads it as one source
with its mapping (`fixtures/*.yaml`), reconciles, and asks `Workspace.query` for the figure the
publisher prints:

- SESNSP femicides (victims reported by the state prosecutors) by state and year 2015-2024, and the
  femicide rate per 100,000 women against the rates published with CONAPO's mid-year population;
  2025 (January-June only) is a partial year;
- INEGI deaths by homicide (death certificates) for 1990, 2000, 2010 and 2015: the national "Total"
  printed in INEGI's own exports, and every state and municipal row of those exports.

The published counts are counts of records: each source is listed in `reconcile.duplicate_free_sources`,
so reconcile makes every record a victim of its own without Splink or a model. Two tests pin that path
and its counterpart: records without names or documents from two institutions are refused up front.

The data are real (`<repo>/../shared/data/mx`; provenance and licences in its SOURCE*.txt files).
Without that folder the tests fail, they do not skip: they are the evidence that the figures are right.
"""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segura import Workspace
from segura.errors import SeguraError
from segura.ingest.population import import_population
from segura.ingest.territory import FieldNames, TerritoryOptions, import_territories
from segura.reconcile.run import ReconcileResult, model_path

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
MX = DATA / "mx"
FIXTURES = Path(__file__).parent / "fixtures"

SESNSP_VICTIMS = MX / "sesnsp" / "db_victimas_delitos_ent_long.csv.bz2"
SESNSP_RATES = MX / "sesnsp" / "db_victimas_delitos_ent_nac_x100khab_genero.csv.bz2"
CONAPO_STATES = MX / "sesnsp" / "conapo_pob_ent_gender_1950_2070.csv"
INEGI_DEATHS = MX / "inegi_homicidios_mun_ocurrencia_mes_registro_1990_2015_long.csv.gz"
INEGI_RAW = MX / "inegi_raw"
STATES_SHP = MX / "mx_estados.shp"
MUNICIPALITIES_SHP = MX / "mx_municipios_2457.shp"
MUNICIPALITY_NAMES = MX / "inegi_censo2020_municipios_mxmaps.csv"

# Femicide victims in Mexico by year (SESNSP, victims; sesnsp/SOURCE.txt), 2015-2024.
FEMICIDES = {2015: 428, 2016: 647, 2017: 768, 2018: 920, 2019: 970,
             2020: 976, 2021: 1021, 2022: 983, 2023: 851, 2024: 852}
FEMICIDE_YEARS = [str(y) for y in FEMICIDES]
# Deaths by homicide registered in Mexico, INEGI's national "Total" row (SOURCE-inegi-homicides.txt).
HOMICIDES = {1990: 14_493, 2000: 10_737, 2010: 25_757, 2015: 20_762}
HOMICIDE_YEARS = [str(y) for y in HOMICIDES]
ABROAD = ("33", "34")  # INEGI entities for deaths abroad: United States, other Latin American countries
UNSPECIFIED_MUNICIPALITY = "999"

SESNSP = "sesnsp"  # the source id of SESNSP's whole 2015-2025 extract
INEGI = "inegi"  # the source id of INEGI's extract, all four years


@pytest.fixture(scope="session", autouse=True)
def shared_data() -> None:
    """Fail (not skip) when the shared data are missing, saying where they are expected."""
    needed = [SESNSP_VICTIMS, SESNSP_RATES, CONAPO_STATES, INEGI_DEATHS, STATES_SHP, MUNICIPALITIES_SHP,
              MUNICIPALITY_NAMES, *(INEGI_RAW / f"{year}.csv" for year in HOMICIDES)]
    missing = [str(p.relative_to(MX)) for p in needed if not p.exists()]
    if missing:
        what = f"{MX} does not exist" if not MX.is_dir() else f"{MX} lacks {', '.join(missing)}"
        pytest.fail(
            f"the published-figure tests need the shared data beside the repository: {what}. "
            "Restore the folder (its SOURCE*.txt files say where each file comes from) and run them again.",
            pytrace=False,
        )


def polygon_codes() -> list[str]:
    """The 2,457 municipalities of the boundary file (INEGI codes as of 2015)."""
    import pyogrio

    return list(pyogrio.read_dataframe(MUNICIPALITIES_SHP, read_geometry=False).id)


# -- shared steps -----------------------------------------------------------------------------------


def one_row_per_victim(counts: pd.DataFrame, column: str) -> pd.DataFrame:
    """Each row of published counts repeated `column` times (rows with 0 disappear)."""
    return counts.loc[counts.index.repeat(counts[column])].reset_index(drop=True)


def add_source(ws: Workspace, source: str, mapping: str, extract: pd.DataFrame) -> None:
    """Copy a fixture mapping as sources/<source>.yaml, write the extract and load it, checking
    that every row loaded."""
    shutil.copyfile(FIXTURES / mapping, ws.mapping_path(source))
    path = ws.root / "inbox" / f"{source}.csv"
    extract.to_csv(path, index=False)
    report = ws.ingest(source, path)
    assert report.adds_up and report.rows_quarantined == 0, report.to_dict()
    assert report.rows_loaded == len(extract)


def reconcile_each_record_a_victim(ws: Workspace) -> ReconcileResult:
    """Reconcile one duplicate-free source and check that every record stayed a victim of its own,
    with no model trained or read and no pair scored: the published counts are counts of records."""
    result = ws.reconcile()
    assert not result.trained and not model_path(ws.root).exists()
    assert result.victims == result.records
    assert result.found_by == {"all": result.records}  # "all" of the one institution
    assert result.pairs == 0 and result.blocking == []
    with ws.warehouse(read_only=True) as wh:
        pairs, largest = wh.con.execute(
            "SELECT (SELECT count(*) FROM link_pair), (SELECT max(records) FROM victim)").fetchone()
    assert (pairs, largest) == (0, 1)
    return result


def import_states(ws: Workspace) -> None:
    """The 32 states with their boundaries (INEGI Marco Geoestadístico), under the country MX."""
    opts = TerritoryOptions(fields=FieldNames(code="CVEGEO", name="NOM_ENT"), level="admin1", parent="MX")
    with ws.warehouse() as wh:
        report = import_territories(wh, STATES_SHP, ws.settings, opts)
    assert not report.errors, report.issues
    assert report.by_level == {"admin1": 32}


def query(ws: Workspace, measure: str, by: Sequence[str], *, where: dict[str, list[str]],
          level: str | None = None, period: str = "year") -> pd.DataFrame:
    """The indicator table without disclosure control: published figures are compared cell by cell."""
    return ws.query(measure, by=by, where=where, level=level, period=period, protect=False).frame


# -- SESNSP femicides -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sesnsp_femicides() -> pd.DataFrame:
    """SESNSP's victims of femicide by state, month, sex, age range and modality (counts)."""
    counts = pd.read_csv(SESNSP_VICTIMS, dtype=str, keep_default_na=False)
    return counts[counts.subtipo_de_delito == "Feminicidio"].astype({"n_victimas": int})


def femicide_extract(counts: pd.DataFrame) -> pd.DataFrame:
    """The extract: one row per victim, as the mapping fixtures/sesnsp_feminicidio.yaml reads it."""
    victims = one_row_per_victim(counts, "n_victimas")
    return pd.DataFrame({
        "FOLIO": [f"FEM-{i:06d}" for i in range(1, len(victims) + 1)],
        "MES": victims.date_year_month.str[:7],  # the upstream file dates each month on its 15th
        "CVE_ENT": victims.cve_ent,
        "SEXO": victims.genero,
        "RANGO_EDAD": victims.rango_de_edad,
        "MODALIDAD": victims.modalidad,
        "DELITO": victims.subtipo_de_delito,
    })


@pytest.fixture(scope="module")
def femicide_ws(tmp_path_factory: pytest.TempPathFactory, sesnsp_femicides: pd.DataFrame) -> Workspace:
    """Mexico by state; CONAPO's population by state, year and sex; SESNSP's femicides, reconciled."""
    ws = Workspace.init(tmp_path_factory.mktemp("sesnsp") / "obs", name="Feminicidios SESNSP", country="MX", settings={
        "territory.event_level": "admin1",  # the SESNSP counts are by state
        "reconcile.duplicate_free_sources": [SESNSP],  # each record is one victim
    })
    import_states(ws)

    pop = pd.read_csv(CONAPO_STATES, dtype={"cve_ent": str})
    pop = pop[pop.n_year.between(2015, 2025) & (pop.cve_ent != "00")]  # states; the nation is their sum
    pd.DataFrame({
        "territory_code": pop.cve_ent, "year": pop.n_year,
        "sex": pop.genero.map({"Mujeres": "F", "Hombres": "M", "Total": "_T"}),
        "age_group": "_T", "population": pop.pob_mid_year, "source": "CONAPO",
    }).to_csv(ws.root / "population.csv", index=False)
    with ws.warehouse() as wh:
        report = import_population(wh, ws.root / "population.csv")
    assert not report.issues, report.issues

    add_source(ws, SESNSP, "sesnsp_feminicidio.yaml", femicide_extract(sesnsp_femicides))
    assert reconcile_each_record_a_victim(ws).records == sesnsp_femicides.n_victimas.sum()
    return ws


@pytest.fixture(scope="module")
def published_femicides() -> pd.DataFrame:
    """SESNSP's state-year femicides with their rate per 100,000 women (the file has one row per
    modality: firearm, knife, other, unspecified; their counts and rates add up), and 'Nacional'."""
    rates = pd.read_csv(SESNSP_RATES, dtype={"cve_ent": str})
    fem = rates[(rates.subtipo_de_delito == "Feminicidio") & rates.n_year.between(2015, 2024)]
    assert set(fem.genero) == {"Mujer"}
    out = fem.groupby(["cve_ent", "n_year"], as_index=False).agg(
        victims=("n_victimas", "sum"), rate=("n_victimas_x100kmujeres", "sum"))
    out["territory"] = out.cve_ent.replace({"00": "MX"})
    out["period"] = out.n_year.astype(str)
    return out.set_index(["territory", "period"]).sort_index()


@pytest.mark.slow
def test_femicides_by_year_are_the_published_national_counts(femicide_ws: Workspace,
                                                              published_femicides: pd.DataFrame) -> None:
    national = query(femicide_ws, "femicide_victims", ["period"], where={"year": FEMICIDE_YEARS})
    assert dict(zip(national.period, national.numerator, strict=True)) == {str(y): n for y, n in FEMICIDES.items()}
    assert national.set_index("period").numerator.to_dict() == \
        published_femicides.loc["MX"].victims.to_dict()


@pytest.mark.slow
def test_femicides_by_state_and_year_are_the_published_counts(femicide_ws: Workspace,
                                                              published_femicides: pd.DataFrame) -> None:
    frame = query(femicide_ws, "femicide_victims", ["territory", "period"], level="admin1",
                  where={"year": FEMICIDE_YEARS}).set_index(["territory", "period"]).sort_index()
    published = published_femicides.drop(index="MX", level="territory")
    assert len(frame) == 32 * 10
    assert frame.index.equals(published.index)
    pd.testing.assert_series_equal(frame.numerator, published.victims, check_names=False, check_dtype=False)


@pytest.mark.slow
def test_femicide_rates_are_the_published_rates_for_every_state_and_year(
        femicide_ws: Workspace, published_femicides: pd.DataFrame) -> None:
    """The SESNSP rate is victims / CONAPO mid-year female population x 100,000: Segura's rate
    reproduces it to the last digits for all 32 states x 10 years and for the nation."""
    states = query(femicide_ws, "femicide_rate", ["territory", "period"], level="admin1",
                   where={"year": FEMICIDE_YEARS})
    nation = query(femicide_ws, "femicide_rate", ["territory", "period"], level="country",
                   where={"year": FEMICIDE_YEARS})
    ours = pd.concat([states, nation]).set_index(["territory", "period"]).sort_index()
    assert len(ours) == 33 * 10
    assert ours.index.equals(published_femicides.index)
    assert ours.value.notna().all()
    # Observed agreement is ~1e-15 (floating point): a tolerance 1e6 times wider hides nothing.
    np.testing.assert_allclose(ours.value, published_femicides.rate, rtol=1e-9, atol=0)

    # The published rates use the MID-YEAR population: with the population at 1 January (the
    # other column of CONAPO's file), not one rate with a victim would match.
    pop = pd.read_csv(CONAPO_STATES, dtype={"cve_ent": str})
    women = pop[pop.genero == "Mujeres"].assign(
        territory=lambda d: d.cve_ent.replace({"00": "MX"}), period=lambda d: d.n_year.astype(str)
    ).set_index(["territory", "period"])
    assert (women.loc[ours.index, "pob_mid_year"].to_numpy() == ours.denominator.to_numpy()).all()
    with_victims = published_femicides.victims > 0
    at_january = published_femicides.victims / women.loc[ours.index, "pob_start_year"].to_numpy() * 100_000
    differs = ~np.isclose(at_january[with_victims], published_femicides.rate[with_victims], rtol=1e-6, atol=0)
    assert differs.all()


@pytest.mark.slow
def test_every_femicide_is_other_gender_related_through_its_legal_classification(
        femicide_ws: Workspace) -> None:
    """No relationship is recorded, so the UNODC/UN Women class comes from the legal classification
    (offence 'Feminicidio' -> context flag 'femicide' -> victim.femicide_legal)."""
    with femicide_ws.warehouse(read_only=True) as wh:
        records, victims, legal, women, intentional = wh.con.execute(
            "SELECT (SELECT count(*) FROM person_current), count(*), count(*) FILTER (WHERE femicide_legal), "
            "count(*) FILTER (WHERE sex = 'F'), count(*) FILTER (WHERE iccs_code = '0101') FROM victim"
        ).fetchone()
    assert records == victims == legal == women == intentional
    classes = query(femicide_ws, "femicide_victims", ["femicide_class"], where={"year": FEMICIDE_YEARS})
    assert classes.set_index("femicide_class").numerator.to_dict() == {
        "intimate_partner_family": 0, "other_gender_related": sum(FEMICIDES.values())}


@pytest.mark.slow
def test_firearm_femicides_are_the_published_firearm_rows(femicide_ws: Workspace) -> None:
    """The modality ('Con arma de fuego' ...) goes through the mapping's `values.weapon` and the
    reconciled victim's weapon to the weapon class."""
    rates = pd.read_csv(SESNSP_RATES, dtype={"cve_ent": str})
    firearm = rates[(rates.subtipo_de_delito == "Feminicidio") & (rates.cve_ent == "00")
                    & (rates.modalidad == "Con arma de fuego") & rates.n_year.between(2015, 2024)]
    frame = query(femicide_ws, "homicide_victims", ["period", "weapon_class"], where={"year": FEMICIDE_YEARS})
    ours = frame[frame.weapon_class == "firearm"].set_index("period").numerator
    assert ours.to_dict() == dict(zip(firearm.n_year.astype(str), firearm.n_victimas, strict=True))


@pytest.mark.slow
def test_a_year_the_extracts_cover_in_part_is_partial_and_not_compared(
        femicide_ws: Workspace, sesnsp_femicides: pd.DataFrame) -> None:
    """The extract ends in June 2025: 2025 is a period (its months are covered) but a partial one,
    flagged OBS_STATUS "P" and compared with no other year; 2015-2024 are whole years."""
    result = femicide_ws.query("femicide_rate", by=["period"], period="year", protect=False)
    frame = result.frame.set_index("period")
    assert list(frame.index) == [*FEMICIDE_YEARS, "2025"]
    in_2025 = sesnsp_femicides[sesnsp_femicides.n_year == "2025"]
    assert sorted(set(in_2025.n_month)) == [f"{m:02d}" for m in range(1, 7)]
    assert frame.loc["2025", "numerator"] == in_2025.n_victimas.sum()

    assert frame.loc["2025", "obs_status"] == "P"
    changes = ["previous_value", "change_previous_pct", "p_previous",
               "year_ago_value", "change_year_ago_pct", "p_year_ago"]
    assert frame.loc["2025", changes].isna().all()
    whole = frame.loc[FEMICIDE_YEARS]
    assert whole.obs_status.isin(["A", "U"]).all()
    # whole years are still compared with one another: 2016-2024 each with the year before
    assert whole.previous_value.iloc[1:].notna().all() and np.isnan(whole.previous_value.iloc[0])
    assert any("2025" in note and "partial" in note for note in result.notes), result.notes


@pytest.fixture
def small_femicide_ws(tmp_path: Path, sesnsp_femicides: pd.DataFrame) -> Workspace:
    """January 2019's femicides (70 victims in 18 states), loaded as one duplicate-free institution."""
    ws = Workspace.init(tmp_path / "obs", country="MX", settings={
        "territory.event_level": "admin1", "reconcile.duplicate_free_sources": [SESNSP]})
    import_states(ws)
    january = sesnsp_femicides[sesnsp_femicides.date_year_month.str.startswith("2019-01")]
    add_source(ws, SESNSP, "sesnsp_feminicidio.yaml", femicide_extract(january))
    return ws


def test_a_single_duplicate_free_institution_reconciles_each_record_to_its_own_victim(
        small_femicide_ws: Workspace) -> None:
    result = reconcile_each_record_a_victim(small_femicide_ws)
    assert result.records == result.victims == 70
    assert result.by_source == {SESNSP: 70}


def test_institutions_without_names_or_documents_cannot_be_linked(small_femicide_ws: Workspace) -> None:
    """Two nameless institutions: reconcile refuses up front, says why and what to do, and writes nothing."""
    ws = small_femicide_ws
    add_source(ws, "sesnsp_copy", "sesnsp_feminicidio.yaml", pd.DataFrame({
        "FOLIO": ["C-1"], "MES": "2019-02", "CVE_ENT": "09", "SEXO": "Mujer", "RANGO_EDAD": "No especificado",
        "MODALIDAD": "No especificado", "DELITO": "Feminicidio"}))
    with pytest.raises(SeguraError, match=r"no names and no identity documents") as caught:
        ws.reconcile()
    assert "reconcile.duplicate_free_sources" in str(caught.value)
    with ws.warehouse(read_only=True) as wh:
        assert wh.con.execute("SELECT (SELECT count(*) FROM reconcile_run) + (SELECT count(*) FROM victim)"
                              ).fetchone() == (0,)
    assert not model_path(ws.root).exists()


# -- INEGI homicides --------------------------------------------------------------------------------


@dataclass
class InegiExport:
    """One year of INEGI's "consulta interactiva" export: deaths by homicide by entity and
    municipality of occurrence and month of registration, as printed."""

    year: int
    total: int
    months: list[int]  # the Total row, January to December
    states: dict[str, int]  # entity code -> its row's total ("33" is deaths abroad)
    municipalities: dict[str, int]  # 5-digit code -> total (xx999: municipality not specified)


def read_inegi_export(path: Path) -> InegiExport:
    """Parse INEGI's Latin-1 export independently of Segura and of the tidy file."""
    with path.open(encoding="latin-1", newline="") as fh:
        lines = list(csv.reader(fh))
    year = int(re.search(r"(\d{4})", lines[1][0]).group(1))  # type: ignore[union-attr]

    def number(text: str) -> int:
        return int(text.replace(",", "")) if text.strip() else 0

    total, months = 0, []
    states: dict[str, int] = {}
    municipalities: dict[str, int] = {}
    for row in lines:
        if len(row) < 15 or not row[1].strip():  # titles, blank lines, the header of months
            continue
        key, name, values = row[0].strip(), row[1].strip(), [number(v) for v in row[2:15]]
        if key == "" and name == "Total":
            total, months = values[0], values[1:]
        elif key.startswith("=CONCATENAR"):
            states[re.search(r"(\d+)\)$", key).group(1).zfill(2)] = values[0]  # type: ignore[union-attr]
        elif re.fullmatch(r"\d{2} \d{3}", key):
            municipalities[key.replace(" ", "")] = values[0]
    assert sum(months) == total and sum(states.values()) == total == sum(municipalities.values())
    return InegiExport(year, total, months, states, municipalities)


@pytest.fixture(scope="module")
def inegi_exports() -> dict[str, InegiExport]:
    return {str(y): read_inegi_export(INEGI_RAW / f"{y}.csv") for y in HOMICIDES}


def test_inegi_exports_print_the_published_national_totals(inegi_exports: dict[str, InegiExport]) -> None:
    assert {int(y): e.total for y, e in inegi_exports.items()} == HOMICIDES


@pytest.fixture(scope="module")
def homicide_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Mexico by state and municipality (2,457 polygons); INEGI's deaths by homicide of 1990, 2000,
    2010 and 2015, one row per death, reconciled."""
    ws = Workspace.init(tmp_path_factory.mktemp("inegi") / "obs", name="Homicidios INEGI", country="MX", settings={
        "reconcile.duplicate_free_sources": [INEGI],  # one death certificate per death
    })
    import_states(ws)
    # The polygons carry only the code: boundaries first, then the names from the 2020 census
    # catalogue (an import updates names by code and keeps the boundaries).
    census = pd.read_csv(MUNICIPALITY_NAMES, dtype=str)
    with ws.warehouse() as wh:
        report = import_territories(wh, MUNICIPALITIES_SHP, ws.settings, TerritoryOptions(
            fields=FieldNames(code="id", name="id"), level="admin2", parent_prefix=2))
        assert not report.errors and report.by_level == {"admin2": 2457}, report.issues
        census[["region", "municipio_name"]].set_axis(["code", "name"], axis=1).assign(
            level="admin2", parent_code=census.state_code).to_csv(ws.root / "municipios.csv", index=False)
        after_2015 = tuple(set(census.region) - set(polygon_codes()))
        assert len(after_2015) == 12
        report = import_territories(wh, ws.root / "municipios.csv", ws.settings, TerritoryOptions(exclude=after_2015))
        assert not report.errors and report.by_level == {"admin2": 2457}, report.issues

    deaths = pd.read_csv(INEGI_DEATHS, dtype={"cve_mun_ocurrencia": str, "cve_ent": str})
    deaths = one_row_per_victim(deaths[deaths.anio_registro.isin(HOMICIDES)], "homicidios")
    # INEGI counts deaths by month of REGISTRATION, not of occurrence: that month is the period.
    extract = pd.DataFrame({
        "FOLIO": [f"DEF-{i:06d}" for i in range(1, len(deaths) + 1)],
        "MES_REGISTRO": deaths.anio_registro.astype(str) + "-" + deaths.mes_registro.astype(str).str.zfill(2),
        "CVE_ENT": deaths.cve_ent,
        "CVE_MUN": deaths.cve_mun_ocurrencia.str[2:],
        "CVE_INEGI": deaths.cve_mun_ocurrencia,
    })
    # Deaths abroad have no place in Mexico's territory: their territory is left blank. INEGI's
    # national Total counts them, and so does Segura's national figure; by territory they are
    # the unspecified row "_U" at every level, inside no state. A municipality not specified
    # (xx999) goes to its state through the mapping's aliases: at admin2 it is "<state>_U".
    extract.loc[extract.CVE_ENT.isin(ABROAD), ["CVE_ENT", "CVE_MUN"]] = ""
    add_source(ws, INEGI, "inegi_homicidios.yaml", extract)
    assert reconcile_each_record_a_victim(ws).records == sum(HOMICIDES.values())
    return ws


@pytest.mark.slow
def test_homicide_victims_by_year_and_month_are_inegi_national_totals(
        homicide_ws: Workspace, inegi_exports: dict[str, InegiExport]) -> None:
    years = query(homicide_ws, "homicide_victims", ["period"], where={"year": HOMICIDE_YEARS})
    assert dict(zip(years.period, years.numerator, strict=True)) == {str(y): n for y, n in HOMICIDES.items()}
    months = query(homicide_ws, "homicide_victims", ["period"], period="month", where={"year": HOMICIDE_YEARS})
    printed = {f"{y}-{m:02d}": n for y, e in inegi_exports.items() for m, n in enumerate(e.months, start=1)}
    assert dict(zip(months.period, months.numerator, strict=True)) == printed


@pytest.mark.slow
def test_homicides_by_municipality_and_state_are_inegi_rows_and_add_up(
        homicide_ws: Workspace, inegi_exports: dict[str, InegiExport]) -> None:
    where = {"year": HOMICIDE_YEARS}
    admin2 = query(homicide_ws, "homicide_victims", ["territory", "period"], level="admin2", where=where)
    admin1 = query(homicide_ws, "homicide_victims", ["territory", "period"], level="admin1", where=where)
    nation = query(homicide_ws, "homicide_victims", ["territory", "period"], level="country", where=where)
    assert set(admin2.territory) >= set(polygon_codes())
    assert len(set(admin1.territory) - {"_U"}) == 32

    for year, export in inegi_exports.items():
        mun = admin2[(admin2.period == year) & (admin2.numerator > 0)].set_index("territory").numerator
        states = admin1[(admin1.period == year) & (admin1.numerator > 0)].set_index("territory").numerator
        country = nation[nation.period == year].set_index("territory").numerator
        # every municipal row INEGI prints: xx999 is "<state>_U", deaths abroad the unspecified "_U"
        printed_mun: dict[str, int] = {}
        for code, n in export.municipalities.items():
            key = "_U" if code[:2] in ABROAD else (
                f"{code[:2]}_U" if code.endswith(UNSPECIFIED_MUNICIPALITY) else code)
            printed_mun[key] = printed_mun.get(key, 0) + n
        assert mun.to_dict() == {k: n for k, n in printed_mun.items() if n}
        printed_states = {("_U" if code in ABROAD else code): n for code, n in export.states.items() if n}
        assert states.to_dict() == printed_states
        abroad = sum(n for code, n in export.states.items() if code in ABROAD)
        assert country.to_dict() == {"MX": export.total - abroad, **({"_U": abroad} if abroad else {})}

        # and they add up: municipalities (with "<state>_U") to states, states to the nation
        by_state = mun.groupby(mun.index.str[:2]).sum()
        assert by_state.to_dict() == states.to_dict()
        assert states.drop("_U", errors="ignore").sum() == country["MX"]
        assert country.sum() == export.total
