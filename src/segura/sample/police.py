"""The police extract: a Windows-1252 CSV of homologated police reports, one row per victim.

What makes it realistic: `;` delimiter and decimal commas (Excel in Spanish), dd/mm/yyyy
dates, upper-case names typed at the scene (typos, swapped or missing surnames, "MA." for
María), municipality names spelled many ways, ages guessed or missing, about 15% of
victims never reported, and a few victims placed in the neighbouring municipality.
"""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from segura.sample.extract import FORMULA, LOAD, QUARANTINE, Breakage, Extract, break_rows
from segura.sample.names import build_curps, female_given, male_given, strip_accents, surnames
from segura.sample.noise import abbreviate_given, approximate_age, plain, typo
from segura.sample.packaged import Municipality, load_geography, load_homicide_counts, sample_points
from segura.sample.victims import (
    AGE_W_FEMALE,
    AGE_W_MALE,
    FEMALE_SHARE,
    HOUR_W,
    RELATIONSHIP_P_FEMALE,
    RELATIONSHIP_P_MALE,
    SETTING_P_MALE,
    WEAPON_P_FEMALE,
    WEAPON_P_MALE,
    Victims,
    birth_dates,
    classify_events,
)

SOURCE = "police"
ENCODING = "cp1252"
HEADER = [
    "FOLIO", "FOLIO_EVENTO", "FECHA_HECHO", "HORA_HECHO", "FECHA_REGISTRO", "ENTIDAD", "MUNICIPIO",
    "LATITUD", "LONGITUD", "LUGAR", "DELITO", "ARMA", "SEXO", "EDAD", "NOMBRE", "APELLIDO_PATERNO",
    "APELLIDO_MATERNO", "CURP", "RELACION_AGRESOR",
]
COVERAGE = 0.85  # share of incidents the police report
MISPLACED = 0.03  # share of incidents recorded in a neighbouring municipality
STATE_ABBR = {"11": "GTO", "17": "MOR"}
STATE_NAME = {"11": "GUANAJUATO", "17": "MORELOS"}
WEAPON = ("ARMA DE FUEGO", "ARMA BLANCA", "OBJETO CONTUNDENTE", "ESTRANGULAMIENTO", "OTRO")
WEAPON_UNKNOWN = "SE IGNORA"
OFFENCE_BY_WEAPON = ("HD-AF", "HD-AB", "HD-OT", "HD-OT", "HD-OT")
RELATIONSHIP = ("PAREJA", "EX PAREJA", "FAMILIAR", "CONOCIDO", "SIN RELACIÓN", "SE IGNORA")
SETTING = ("VÍA PÚBLICA", "CASA HABITACIÓN", "ESTABLECIMIENTO COMERCIAL", "TERRENO BALDÍO", "INTERIOR DE VEHÍCULO", "OTRO")

# How the police write some municipalities: abbreviations, old names and common typos. Every
# one is in the `aliases` of sources/police.yaml (a test checks it), so these rows load.
MUNICIPALITY_VARIANTS: dict[str, tuple[str, ...]] = {
    "11003": ("SAN MIGUEL ALLENDE", "SN. MIGUEL DE ALLENDE", "ALLENDE"),
    "11007": ("CELYA",),
    "11008": ("CD. MANUEL DOBLADO", "CIUDAD MANUEL DOBLADO"),
    "11014": ("DOLORES HIDALGO", "DOLORES HGO."),
    "11017": ("IRAPAUTO",),
    "11020": ("LEON DE LOS ALDAMA", "LEON GTO."),
    "11025": ("PURISIMA DE BUSTOS",),
    "11027": ("SALAMNCA",),
    "11031": ("SAN FCO. DEL RINCON",),
    "11032": ("SN. JOSE ITURBIDE",),
    "11035": ("JUVENTINO ROSAS", "STA. CRUZ DE JUVENTINO ROSAS"),
    "11036": ("STGO. MARAVATIO",),
    "11037": ("SILAO",),
    "11042": ("VALLE DE STGO.",),
    "17004": ("CD. AYALA",),
    "17006": ("HEROICA CUAUTLA",),
    "17007": ("CUERNAVCA",),
    "17011": ("JUITEPEC",),
    "17013": ("JONACATEPEC",),
    "17017": ("PTE. DE IXTLA",),
    "17024": ("TLALTIZAPAN",),
    "17028": ("SOCHITEPEC",),
    "17032": ("ZACUALPAN",),
}
# Rare spellings the observatory has not collected yet: these rows are quarantined with a
# "did you mean" suggestion until an analyst adds the alias.
UNALIASED_VARIANTS: dict[str, str] = {
    "11035": "SANTA CRUZ DE J. ROSAS",
    "17024": "TLALTIZAPAN DE Z.",
    "11003": "SN. MIGUEL ALLENDE",
    "17013": "JONACATEPEC DE L. VALLE",
}
NOT_A_MUNICIPALITY = "COL. OBRERA"  # a neighbourhood typed where the municipality goes
FORM_P = (0.70, 0.12, 0.08, 0.10)  # upper without accents, official, upper with accents, variant


def municipality_forms(m: Municipality) -> tuple[list[str], list[float]]:
    """The spellings the police use for a municipality, with their probabilities."""
    forms = [strip_accents(m.name).upper(), m.name, m.name.upper()]
    variants = list(MUNICIPALITY_VARIANTS.get(m.code, ()))
    p = list(FORM_P[:3])
    if variants:
        p += [FORM_P[3] / len(variants)] * len(variants)
    else:
        p[0] += FORM_P[3]
    return forms + variants, p


def _date(d: np.datetime64) -> str:
    s = str(d)
    return f"{s[8:10]}/{s[5:7]}/{s[:4]}"


def _coord(x: float) -> str:
    return f"{x:.5f}".replace(".", ",")


def render(v: Victims, rng: np.random.Generator) -> Extract:
    """Police rows for the true victims `v`, with a few rows broken on purpose."""
    geo = load_geography()
    rnd = random.Random(int(rng.integers(2**32)))
    n_ev = int(v.event.max()) + 1 if len(v) else 0
    ev_kept = rng.random(n_ev) < COVERAGE
    ev_moved = rng.random(n_ev) < MISPLACED
    ev_u = rng.random((n_ev, 4))
    ev_femicide, ev_culposo = classify_events(v, rng, close_kin=0.55, gender=0.3, other=0.0, culposo=0.02)
    keep = np.flatnonzero(ev_kept[v.event])
    order = keep[np.lexsort((keep, v.minute[keep], v.date[keep]))]
    forms = {m.code: municipality_forms(m) for m in geo.municipalities}
    seq: dict[tuple[str, str], int] = {}
    ev_folio: dict[int, str] = {}
    ev_count: dict[int, int] = {}
    rows: list[list[object]] = []
    pids: list[str] = []
    u = rng.random((len(order), 13))
    for r, i in enumerate(order):
        e = int(v.event[i])
        st = str(v.state[i])
        date = v.date[i]
        if e not in ev_folio:
            key = (st, str(date)[2:4])
            seq[key] = seq.get(key, 0) + 1
            ev_folio[e] = f"{STATE_ABBR[st]}-{key[1]}-{seq[key]:05d}"
        ev_count[e] = ev_count.get(e, 0) + 1
        code = str(v.territory[i])
        if ev_moved[e] and geo.neighbours[code]:
            code = geo.neighbours[code][int(ev_u[e, 0] * len(geo.neighbours[code]))]
        texts, p = forms[code]
        muni = rnd.choices(texts, weights=p)[0]
        found_late = ev_u[e, 1] < 0.02
        occurred = date + (1 if found_late else 0)
        reported = occurred + (1 if ev_u[e, 2] < 0.2 else 0)
        minute = int(v.minute[i])
        if u[r, 0] < 0.4:
            minute = 30 * round(minute / 30) % 1440
        hour = "" if u[r, 1] < 0.10 else f"{minute // 60:02d}:{minute % 60:02d}"
        has_xy = ev_u[e, 3] < 0.8
        female = bool(v.female[i])
        weapon = int(v.weapon[i])
        rel = int(v.relationship[i])
        offence = "FEM" if ev_femicide[e] else ("HC" if ev_culposo[e] else OFFENCE_BY_WEAPON[weapon])
        known_rel = u[r, 4] < (0.7 if female else 0.4)
        relationship = "" if u[r, 5] < 0.10 else (RELATIONSHIP[rel] if known_rel else "SE IGNORA")
        age = int(v.age[i])
        age_text = "" if u[r, 6] < 0.25 else str(approximate_age(age, rnd) if u[r, 6] < 0.40 else age)
        sex = "" if u[r, 7] < 0.005 else ("M" if female else "H")
        given, first, second, curp = _names(v, i, u[r, 8:12], rnd)
        rows.append([
            f"{ev_folio[e]}-{ev_count[e]}", ev_folio[e], _date(occurred), hour, _date(reported), STATE_NAME[st], muni,
            _coord(v.lat[i]) if has_xy else "", _coord(v.lon[i]) if has_xy else "", SETTING[int(v.setting[i])],
            offence, WEAPON_UNKNOWN if u[r, 12] < 0.05 else WEAPON[weapon], sex, age_text, given, first, second,
            curp, relationship,
        ])
        pids.append(str(v.person_id[i]))
    extract = Extract(SOURCE, list(HEADER), rows, pids, first_row=2, record_id_column="FOLIO")
    break_rows(extract, _breakages(extract), rng)
    return extract


def _names(v: Victims, i: int, u: np.ndarray, rnd: random.Random) -> tuple[str, str, str, str]:
    """NOMBRE, APELLIDO_PATERNO, APELLIDO_MATERNO, CURP as a police officer types them."""
    if not v.identified[i]:
        return ("DESCONOCIDO" if u[0] < 0.5 else "", "", "", "")
    if u[0] < 0.05:  # the officer did not get the name
        return ("", "", "", "")
    sur = surnames()
    accents = u[1] < 0.85
    given = plain(v.given_name(i).upper(), accents)
    first = plain(str(sur.upper[v.first_surname[i]]), accents)
    second = plain(str(sur.upper[v.second_surname[i]]), accents)
    if rnd.random() < 0.3:
        given = abbreviate_given(given)
    roll = rnd.random()
    if roll < 0.05:
        given = typo(given, rnd)
    elif roll < 0.10:
        first = typo(first, rnd)
    elif roll < 0.13:
        second = typo(second, rnd)
    roll = rnd.random()
    if roll < 0.03:
        first, second = second, first
    elif roll < 0.11:
        second = ""
    curp = ""
    if u[2] < 0.10:
        curp = str(v.curp[i])
        if rnd.random() < 0.05:
            k = rnd.randrange(4, 10)
            curp = curp[:k] + str((int(curp[k]) + 1) % 10) + curp[k + 1 :]  # a digit of the birth date
    return given, first, second, curp


def _breakages(extract: Extract) -> list[Breakage]:
    sex, offence, muni = extract.col("SEXO"), extract.col("DELITO"), extract.col("MUNICIPIO")
    event = extract.col("FOLIO_EVENTO")
    alone = {k for k, n in Counter(r[event] for r in extract.rows).items() if n == 1}
    plan = [
        Breakage("future_date", "FECHA_HECHO", lambda r: r[extract.col("FECHA_HECHO")][:6] + "2035", QUARANTINE),
        Breakage("age_out_of_range", "EDAD", lambda r: "130", QUARANTINE),
        Breakage("unknown_territory", "MUNICIPIO", lambda r: NOT_A_MUNICIPALITY, QUARANTINE, "a neighbourhood, not a municipality"),
        Breakage("unsupported_date_format", "FECHA_HECHO", lambda r: _spanish_date(r[extract.col("FECHA_HECHO")]), QUARANTINE),
        Breakage("blank_record_id", "FOLIO", lambda r: "", QUARANTINE),
        Breakage("formula_text", "LUGAR", lambda r: FORMULA, LOAD, "must be stored as text, never evaluated"),
        Breakage(
            "male_victim_femicide", "DELITO", lambda r: "FEM", LOAD,
            "a man recorded as femicide: loads; the warehouse check flags it",
            eligible=lambda r: r[sex] == "H" and r[offence] != "FEM" and r[event] in alone,
        ),
    ]
    names = {m.code: m.name for m in load_geography().municipalities}
    added = 0
    for code, raw in UNALIASED_VARIANTS.items():  # two rows, in the first municipalities that have one
        if added == 2:
            break
        forms = {strip_accents(names[code]).upper(), names[code], names[code].upper()}
        if any(r[muni] in forms for r in extract.rows):
            plan.append(_variant_breakage(raw, forms, muni, f"a spelling of {names[code]} ({code}) not in the aliases yet"))
            added += 1
    return plan


def _variant_breakage(raw: str, forms: set[str], muni: int, note: str) -> Breakage:
    return Breakage(
        "territory_variant_without_alias", "MUNICIPIO", lambda r: raw, QUARANTINE, note, eligible=lambda r: r[muni] in forms
    )


MONTHS_ES = ("ENE", "FEB", "MAR", "ABR", "MAY", "JUN", "JUL", "AGO", "SEP", "OCT", "NOV", "DIC")


def _spanish_date(ddmmyyyy: str) -> str:
    """'05/03/2014' -> '05-MAR-2014', a format the mapping does not accept."""
    return f"{ddmmyyyy[:2]}-{MONTHS_ES[int(ddmmyyyy[3:5]) - 1]}-{ddmmyyyy[6:]}"


def write(extract: Extract, path: Path) -> None:
    _write_rows(path, extract.header, iter([extract.rows]))


def _write_rows(path: Path, header: list[str], chunks: Iterator[list[list[object]] | Iterator[tuple[str, ...]]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as raw:
        text = io.TextIOWrapper(raw, encoding=ENCODING, newline="", write_through=False)
        w = csv.writer(text, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        w.writerow(header)
        for chunk in chunks:
            w.writerows(chunk)
        text.flush()
        text.detach()


# -- the benchmark extract: millions of rows, vectorised, constant memory -------------------------

CHUNK_ROWS = 200_000
POINTS_PER_MUNICIPALITY = 4096


def write_police_csv(path: Path, n_rows: int, *, seed: int = 2026, years: tuple[int, int] = (2014, 2015)) -> None:
    """Write a police extract of exactly `n_rows` data rows, in the sample's police format.

    Victims are drawn independently of INEGI's counts (municipalities weighted by their
    homicides, dates uniform over `years`), so any size can be written; memory stays
    constant (chunks of 200,000 rows). Every row loads with sources/police.yaml.
    """
    rng = np.random.default_rng(seed)
    tables = _Tables.build(rng, years)
    path = Path(path)
    chunks = (tables.chunk(rng, start, min(CHUNK_ROWS, n_rows - start)) for start in range(0, n_rows, CHUNK_ROWS))
    _write_rows(path, HEADER, chunks)


class _Tables:
    """Lookup tables (object arrays of strings) that turn integer draws into police cells."""

    def __init__(self) -> None:
        self.muni_p: np.ndarray
        self.muni_state: np.ndarray
        self.forms: np.ndarray  # [municipality, slot]
        self.n_variants: np.ndarray
        self.lat: np.ndarray  # [municipality, point]
        self.lon: np.ndarray
        self.state_name: np.ndarray
        self.state_abbr: np.ndarray
        self.days: np.ndarray  # datetime64[D]
        self.day_text: np.ndarray
        self.minute_text: np.ndarray
        self.age_text: np.ndarray

    @classmethod
    def build(cls, rng: np.random.Generator, years: tuple[int, int]) -> _Tables:
        t = cls()
        geo = load_geography()
        munis = geo.municipalities
        weight = dict.fromkeys((m.code for m in munis), 0.5)
        for code, _y, _m, k in load_homicide_counts():
            weight[code] += k
        w = np.array([weight[m.code] for m in munis])
        t.muni_p = w / w.sum()
        t.muni_state = np.array([0 if m.state == "11" else 1 for m in munis])
        t.state_name = np.array([STATE_NAME["11"], STATE_NAME["17"]], dtype=object)
        t.state_abbr = np.array([STATE_ABBR["11"], STATE_ABBR["17"]], dtype=object)
        width = 3 + max(len(v) for v in MUNICIPALITY_VARIANTS.values())
        t.forms = np.empty((len(munis), width), dtype=object)
        t.n_variants = np.zeros(len(munis), dtype=int)
        for k, m in enumerate(munis):
            texts, _p = municipality_forms(m)
            t.forms[k, : len(texts)] = texts
            t.n_variants[k] = len(texts) - 3
        pts = [sample_points(m.geometry, POINTS_PER_MUNICIPALITY, rng) for m in munis]
        fmt = np.vectorize(_coord, otypes=[object])
        t.lon = np.array([fmt(p[:, 0]) for p in pts], dtype=object)
        t.lat = np.array([fmt(p[:, 1]) for p in pts], dtype=object)
        t.days = np.arange(np.datetime64(f"{years[0]}-01-01"), np.datetime64(f"{years[1] + 1}-01-03"))
        t.day_text = np.array([_date(d) for d in t.days], dtype=object)
        t.minute_text = np.array([f"{m // 60:02d}:{m % 60:02d}" for m in range(1440)], dtype=object)
        t.age_text = np.array([str(a) for a in range(100)] + [""], dtype=object)
        return t

    def chunk(self, rng: np.random.Generator, start: int, n: int) -> Iterator[tuple[str, ...]]:
        obj = lambda seq: np.array(seq, dtype=object)  # noqa: E731
        # events: a new event starts on most rows; a few have 2-4 victims
        new_event = rng.random(n) < 0.92
        new_event[0] = True
        ev = np.cumsum(new_event) - 1
        first_row = np.flatnonzero(new_event)
        victim_no = np.arange(n) - first_row[ev] + 1
        n_ev = len(first_row)
        muni = rng.choice(len(self.muni_p), size=n_ev, p=self.muni_p)[ev]
        n_days = len(self.days) - 2
        day = rng.integers(0, n_days, n_ev)[ev]
        minute = (rng.choice(24, size=n_ev, p=np.array(HOUR_W) / sum(HOUR_W)) * 60 + rng.integers(0, 60, n_ev))[ev]
        point = rng.integers(0, POINTS_PER_MUNICIPALITY, n_ev)[ev]
        female = rng.random(n) < FEMALE_SHARE
        pm, pf = np.array(AGE_W_MALE) / sum(AGE_W_MALE), np.array(AGE_W_FEMALE) / sum(AGE_W_FEMALE)
        age = np.where(female, rng.choice(len(pf), n, p=pf), rng.choice(len(pm), n, p=pm)) * 5 + rng.integers(0, 5, n)
        weapon = np.where(female, rng.choice(5, n, p=WEAPON_P_FEMALE), rng.choice(5, n, p=WEAPON_P_MALE))
        weapon = weapon[first_row][ev]  # one attack, one weapon
        rel = np.where(female, rng.choice(6, n, p=RELATIONSHIP_P_FEMALE), rng.choice(6, n, p=RELATIONSHIP_P_MALE))
        u = rng.random((8, n))

        state = self.muni_state[muni]
        year2 = obj([s[8:10] for s in self.day_text])[day]  # "dd/mm/yyyy"[8:10] = yy
        folio_ev = self.state_abbr[state] + "-" + year2 + "-" + obj([f"{k:07d}" for k in range(start + 1, start + n_ev + 1)])[ev]
        folio = folio_ev + "-" + victim_no.astype(str).astype(object)
        slot = np.where(
            u[0] < FORM_P[0], 0,
            np.where(u[0] < sum(FORM_P[:2]), 1, np.where(u[0] < sum(FORM_P[:3]), 2, 3 + (u[1] * 7).astype(int) % np.maximum(self.n_variants[muni], 1))),
        )
        slot = np.where((slot >= 3) & (self.n_variants[muni] == 0), 0, slot)
        has_xy = u[2] < 0.8
        # classified once per incident: femicide only for a woman killed alone by a partner or relative
        alone = (np.bincount(ev) == 1)[ev]
        offence = obj(OFFENCE_BY_WEAPON)[weapon]
        offence = np.where(female & (rel <= 2) & (u[3] < 0.55) & alone, "FEM", offence)
        offence = np.where((u[3] > 0.98)[first_row][ev], "HC", offence)
        known_rel = u[4] < np.where(female, 0.7, 0.4)
        relationship = np.where(u[4] > 0.9, "", np.where(known_rel, obj(RELATIONSHIP)[rel], "SE IGNORA"))
        age_cell = np.where(u[5] < 0.25, 100, np.where(u[5] < 0.40, np.clip(5 * np.round(age / 5), 0, 99).astype(int), age))
        mg, fg, sur = male_given(), female_given(), surnames()
        gi = np.where(female, fg.draw(rng, n), mg.draw(rng, n))
        fi, si = sur.draw(rng, n), sur.draw(rng, n)
        given = np.where(female, fg.upper[np.minimum(gi, len(fg.names) - 1)], mg.upper[np.minimum(gi, len(mg.names) - 1)])
        first = sur.upper[fi]
        second = np.where(u[6] < 0.08, "", sur.upper[si])
        setting = obj(SETTING)[rng.choice(6, n, p=SETTING_P_MALE)]
        date_text = self.day_text[day]
        reported = self.day_text[day + (u[7] < 0.2)]
        curp = np.full(n, "", dtype=object)
        with_doc = np.flatnonzero(u[7] > 0.9)
        if len(with_doc):
            births = birth_dates(self.days[day[with_doc]], age[with_doc], rng)
            curp[with_doc] = build_curps(
                given_idx=gi[with_doc], female=female[with_doc], first_idx=fi[with_doc],
                second_idx=si[with_doc], birth=births,
                state=np.where(state[with_doc] == 0, "GT", "MS").astype(object), rng=rng,
            )
        columns = [
            folio, folio_ev, date_text, np.where(u[1] < 0.1, "", self.minute_text[minute]), reported,
            self.state_name[state], self.forms[muni, slot], np.where(has_xy, self.lat[muni, point], ""),
            np.where(has_xy, self.lon[muni, point], ""), setting, offence,
            np.where(u[2] > 0.95, WEAPON_UNKNOWN, obj(WEAPON)[weapon]), np.where(female, "M", "H"),
            self.age_text[age_cell], given, first, second, curp, relationship,
        ]
        return zip(*(c.tolist() for c in columns), strict=True)
