"""The prosecutors' extract: a UTF-8 CSV of victims in investigation files (carpetas).

One row per victim of a carpeta, which may have several. The complaint date is always
there (the file is organised by it); the date of the events is missing in about 30% of
rows. Prosecutors classify the crime: some women killed by their partners are recorded
as femicide, others as intentional homicide. About 10% of victims have no carpeta in the
extract, and about 1% appear twice, in two carpetas opened by different agencies.
"""

from __future__ import annotations

import random

import numpy as np

from segura.sample.extract import FORMULA, LOAD, QUARANTINE, Breakage, Extract, break_rows
from segura.sample.names import strip_accents, surnames
from segura.sample.noise import typo
from segura.sample.packaged import load_geography
from segura.sample.victims import RELATIONSHIPS, Victims, classify_events

SOURCE = "prosecutors"
HEADER = [
    "ID_VICTIMA", "CARPETA_INVESTIGACION", "FECHA_DENUNCIA", "FECHA_HECHOS", "ENTIDAD", "CVE_MUNICIPIO",
    "MUNICIPIO", "DELITO", "MODALIDAD", "TIPO_LUGAR", "SEXO", "EDAD", "FECHA_NACIMIENTO", "NOMBRE",
    "PRIMER_APELLIDO", "SEGUNDO_APELLIDO", "CURP", "RELACION_VICTIMA_IMPUTADO", "SEXO_IMPUTADO",
]
COVERAGE = 0.90  # share of incidents with a carpeta in the extract
DUPLICATED = 0.01  # share of victims recorded again in a second carpeta
STATE_ABBR = {"11": "GTO", "17": "MOR"}
WEAPON = ("CON ARMA DE FUEGO", "CON ARMA BLANCA", "CON OTRO ELEMENTO", "CON OTRO ELEMENTO", "CON OTRO ELEMENTO")
RELATIONSHIP = ("PAREJA ACTUAL", "EXPAREJA", "FAMILIAR", "CONOCIDO", "PERSONA DESCONOCIDA", "SE DESCONOCE")
SETTING = ("Vía pública", "Casa habitación", "Comercio", "Terreno baldío", "Vehículo", "Otro")
NONEXISTENT_MUNICIPALITY = "11047"  # Guanajuato has 46 municipalities
CLOSE_KIN = {"intimate_partner_current", "intimate_partner_former", "family_member"}


def render(v: Victims, rng: np.random.Generator) -> Extract:
    """Prosecutors' rows for the true victims `v`, with a few rows broken on purpose."""
    rnd = random.Random(int(rng.integers(2**32)))
    names = {m.code: m.name for m in load_geography().municipalities}
    n_ev = int(v.event.max()) + 1 if len(v) else 0
    ev_kept = rng.random(n_ev) < COVERAGE
    lag = np.where(
        rng.random(n_ev) < 0.8, rng.choice(4, size=n_ev, p=(0.5, 0.3, 0.12, 0.08)), rng.integers(4, 31, n_ev)
    )
    ev_no_date = rng.random(n_ev) < 0.30
    ev_femicide, ev_culposo = classify_events(v, rng, close_kin=0.7, gender=0.5, other=0.05, culposo=0.025)
    kept = np.flatnonzero(ev_kept[v.event])
    dup = kept[rng.random(len(kept)) < DUPLICATED]
    # (victim, carpeta key, complaint date): a duplicate gets its own carpeta, complained later
    entries = [(int(i), int(v.event[i]), v.date[i] + lag[v.event[i]]) for i in kept]
    extra = rng.integers(1, 15, len(dup))
    entries += [
        (int(i), n_ev + k, v.date[i] + min(30, int(lag[v.event[i]] + extra[k]))) for k, i in enumerate(dup)
    ]
    entries.sort(key=lambda t: (t[2], t[1], t[0]))
    carpeta: dict[int, str] = {}
    seq: dict[tuple[str, str], int] = {}
    victim_seq: dict[str, int] = {}
    u = rng.random((len(entries), 12))
    rows: list[list[object]] = []
    pids: list[str] = []
    for r, (i, key, complained) in enumerate(entries):
        st = str(v.state[i])
        year = str(complained)[:4]
        if key not in carpeta:
            seq[(st, year)] = seq.get((st, year), 0) + 1
            carpeta[key] = f"CI/FGE-{STATE_ABBR[st]}/{year}/{seq[(st, year)]:06d}"
        victim_seq[st] = victim_seq.get(st, 0) + 1
        code = str(v.territory[i])
        female = bool(v.female[i])
        rel = RELATIONSHIPS[int(v.relationship[i])]
        e = int(v.event[i])
        offence = "FEMINICIDIO" if ev_femicide[e] else ("HOMICIDIO CULPOSO" if ev_culposo[e] else "HOMICIDIO DOLOSO")
        age = int(v.age[i])
        age_text = "" if u[r, 2] < 0.08 else str(age + (1 if u[r, 2] < 0.12 and age > 0 else 0))
        sex = "No identificado" if u[r, 3] < 0.003 else ("Mujer" if female else "Hombre")
        known = u[r, 4] < 0.85
        relationship = RELATIONSHIP[int(v.relationship[i])] if known else "SE DESCONOCE"
        if rel in CLOSE_KIN or rel == "known_friend_acquaintance":
            perp = "Mujer" if u[r, 5] < 0.08 else "Hombre"
        else:
            perp = "" if u[r, 5] < 0.6 else ("Mujer" if u[r, 5] > 0.98 else "Hombre")
        given, first, second, curp, birth = _names(v, i, u[r, 6:12], rnd)
        rows.append([
            f"{STATE_ABBR[st]}-V{victim_seq[st]:07d}", carpeta[key], str(complained),
            "" if ev_no_date[v.event[i]] else str(v.date[i]), "Guanajuato" if st == "11" else "Morelos",
            code, names[code], offence, "NO ESPECIFICADO" if u[r, 0] < 0.08 else WEAPON[int(v.weapon[i])],
            SETTING[int(v.setting[i])], sex, age_text, birth, given, first, second, curp, relationship, perp,
        ])
        pids.append(str(v.person_id[i]))
    extract = Extract(SOURCE, list(HEADER), rows, pids, first_row=2, record_id_column="ID_VICTIMA")
    c = extract.col
    plan = [
        Breakage("future_date", "FECHA_DENUNCIA", lambda r: "2035" + r[c("FECHA_DENUNCIA")][4:], QUARANTINE),
        Breakage("age_out_of_range", "EDAD", lambda r: "130", QUARANTINE),
        Breakage("unknown_territory", "CVE_MUNICIPIO", lambda r: NONEXISTENT_MUNICIPALITY, QUARANTINE, "a code that does not exist"),
        Breakage(
            "unsupported_date_format", "FECHA_DENUNCIA", lambda r: _us_date(r[c("FECHA_DENUNCIA")]), QUARANTINE,
            "month/day/year, as a spreadsheet in English writes it",
        ),
        Breakage("blank_record_id", "ID_VICTIMA", lambda r: "", QUARANTINE),
        Breakage(
            "formula_text", "NOMBRE", lambda r: FORMULA, LOAD, "must be stored as text, never evaluated",
            eligible=lambda r: bool(r[c("NOMBRE")]),
        ),
    ]
    break_rows(extract, plan, rng)
    return extract


def _us_date(iso: str) -> str:
    return f"{iso[5:7]}/{iso[8:10]}/{iso[:4]}"


def _names(v: Victims, i: int, u: np.ndarray, rnd: random.Random) -> tuple[str, str, str, str, str]:
    """NOMBRE, PRIMER_APELLIDO, SEGUNDO_APELLIDO, CURP, FECHA_NACIMIENTO as the prosecutor records them."""
    if not v.identified[i] and u[0] < 0.5:  # never identified during the investigation
        return ("", "", "", "", "")
    sur = surnames()
    given, first = v.given_name(i), str(sur.names[v.first_surname[i]])
    second = "" if u[1] < 0.04 else str(sur.names[v.second_surname[i]])
    if u[2] < 0.10:
        given, first, second = strip_accents(given), strip_accents(first), strip_accents(second)
    roll = rnd.random()
    if roll < 0.02:
        given = typo(given, rnd)
    elif roll < 0.04:
        first = typo(first, rnd)
    curp = str(v.curp[i]) if u[3] < 0.60 else ""
    birth = str(v.birth[i]) if (curp and u[4] < 0.8) or u[4] < 0.2 else ""
    return given, first, second, curp, birth
