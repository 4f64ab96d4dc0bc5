"""The forensic medicine extract: an XLSX register of autopsies, one row per body.

The most complete source (about 98% of victims). Dates are real date cells (a few typed as
text), the municipality is two number columns (state and municipality) that lost their
leading zeros, unidentified bodies (about 6%) have no name and an estimated age, and the
sheet has a title above the header and a total row below the data, as registers do.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from segura.sample.extract import FORMULA, LOAD, QUARANTINE, Breakage, Extract, break_rows
from segura.sample.names import surnames
from segura.sample.noise import approximate_age, plain, typo
from segura.sample.victims import Victims

SOURCE = "forensic"
SHEET = "NECROPSIAS"
TITLE = "SERVICIO MÉDICO FORENSE — REGISTRO DE NECROPSIAS POR HOMICIDIO, 2014-2015"
HEADER_ROW = 3
HEADER = [
    "NUM_NECROPSIA", "FECHA_DEFUNCION", "FECHA_NECROPSIA", "CVE_ENT", "CVE_MUN", "LUGAR_HALLAZGO",
    "TIPO_MUERTE", "MECANISMO", "CAUSA_CIE10", "SEXO", "EDAD", "EDAD_ESTIMADA", "NOMBRE",
    "PRIMER_APELLIDO", "SEGUNDO_APELLIDO", "CURP",
]
COVERAGE = 0.98
STATE_ABBR = {"11": "GTO", "17": "MOR"}
MECHANISM = (
    "HERIDA POR PROYECTIL DE ARMA DE FUEGO", "HERIDA POR ARMA PUNZOCORTANTE", "TRAUMATISMO CONTUSO",
    "ASFIXIA POR ESTRANGULAMIENTO", "OTRO MECANISMO",
)
ICD10 = (("X93", "X94", "X95"), ("X99",), ("Y00",), ("X91",), ("X85", "X87", "X92", "X98", "Y08", "Y09"))
SETTING = ("VÍA PÚBLICA", "DOMICILIO", "ESTABLECIMIENTO", "TERRENO BALDÍO", "VEHÍCULO", "OTRO")
FIXED_ZIP_TIME = (2016, 1, 31, 0, 0, 0)  # every part of the .xlsx gets this time: byte-identical files


def render(v: Victims, rng: np.random.Generator) -> Extract:
    """Forensic rows for the true victims `v`, with a few rows broken on purpose."""
    rnd = random.Random(int(rng.integers(2**32)))
    n = len(v)
    kept = np.flatnonzero(rng.random(n) < COVERAGE)
    lag = rng.choice(4, size=n, p=(0.45, 0.35, 0.15, 0.05))
    autopsy = v.date + lag
    order = kept[np.lexsort((kept, autopsy[kept]))]
    u = rng.random((len(order), 8))
    seq: dict[tuple[str, int], int] = {}
    sur = surnames()
    rows: list[list[Any]] = []
    pids: list[str] = []
    for r, i in enumerate(order):
        st = str(v.state[i])
        day = autopsy[i].astype(dt.date)
        key = (st, day.year)
        seq[key] = seq.get(key, 0) + 1
        record_id = f"SEMEFO/{STATE_ABBR[st]}/{day.year}/{seq[key]:05d}"
        died: Any = v.date[i].astype(dt.date)
        done: Any = day
        if u[r, 0] < 0.01:
            done = day.strftime("%d/%m/%Y")  # typed as text by hand
        weapon = int(v.weapon[i])
        identified = bool(v.identified[i])
        age = int(v.age[i])
        if identified:
            age_cell, estimated = age, "NO"
            accents = u[r, 1] < 0.9
            given = plain(v.given_name(i).upper(), accents)
            first = plain(str(sur.upper[v.first_surname[i]]), accents)
            second = "" if u[r, 2] < 0.03 else plain(str(sur.upper[v.second_surname[i]]), accents)
            if u[r, 3] < 0.03:
                given = typo(given, rnd)
            curp = str(v.curp[i]) if u[r, 4] < 0.45 else None
            sex = "FEMENINO" if v.female[i] else "MASCULINO"
        else:
            age_cell, estimated = approximate_age(age, rnd), "SI"
            given, first, second, curp = None, None, None, None
            sex = "NO DETERMINADO" if u[r, 1] < 0.03 else ("FEMENINO" if v.female[i] else "MASCULINO")
        rows.append([
            record_id, died, done, int(st), int(str(v.territory[i])[2:]), SETTING[int(v.setting[i])],
            "HOMICIDIO", MECHANISM[weapon], rnd.choice(ICD10[weapon]), sex, age_cell, estimated,
            given or None, first or None, second or None, curp,
        ])
        pids.append(str(v.person_id[i]))
    extract = Extract(SOURCE, list(HEADER), rows, pids, first_row=HEADER_ROW + 1, record_id_column="NUM_NECROPSIA")
    c = extract.col
    plan = [
        Breakage("future_date", "FECHA_DEFUNCION", lambda r: _in_2035(r[c("FECHA_DEFUNCION")]), QUARANTINE),
        Breakage("age_out_of_range", "EDAD", lambda r: 130, QUARANTINE, eligible=lambda r: r[c("EDAD_ESTIMADA")] == "NO"),
        Breakage("unknown_territory", "CVE_MUN", lambda r: 999, QUARANTINE, "999 = municipality not specified"),
        Breakage(
            "unsupported_date_format", "FECHA_DEFUNCION", lambda r: r[c("FECHA_DEFUNCION")].strftime("%d.%m.%Y"),
            QUARANTINE, "a date typed as text with dots",
        ),
        Breakage("blank_record_id", "NUM_NECROPSIA", lambda r: None, QUARANTINE),
        Breakage("formula_text", "LUGAR_HALLAZGO", lambda r: FORMULA, LOAD, "a text cell, not a formula: must be stored as text"),
    ]
    break_rows(extract, plan, rng)
    return extract


def _in_2035(day: dt.date) -> dt.date:
    return dt.date(2035, day.month, min(day.day, 28))


def write(extract: Extract, path: Path) -> None:
    """Write the register with openpyxl's streaming writer, then pin the zip's timestamps."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    fixed = dt.datetime(*FIXED_ZIP_TIME)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "Segura sample generator"
    ws = wb.create_sheet(SHEET)
    ws.append([TITLE])
    ws.append([])
    ws.append(extract.header)
    for row in extract.rows:
        ws.append([_cell(ws, value) for value in row])
    ws.append([f"TOTAL: {len(extract.rows)} NECROPSIAS"])
    wb.save(path)
    _pin_zip(path)


def _cell(ws: Any, value: Any) -> Any:
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "DD/MM/YYYY"
        return cell
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"  # text that looks like a formula stays text
        return cell
    return value


def _pin_zip(path: Path) -> None:
    """Rewrite the archive with fixed timestamps and order, so the same rows give the same bytes."""
    with zipfile.ZipFile(path) as zf:
        parts = [(info.filename, zf.read(info)) for info in zf.infolist()]
    stamp = dt.datetime(*FIXED_ZIP_TIME).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    parts = [
        (name, re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\g<2>", data))
        if name == "docProps/core.xml"
        else (name, data)
        for name, data in parts
    ]  # openpyxl stamps the time of saving as the modification time
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zf.writestr(info, data)
