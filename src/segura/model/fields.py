"""Canonical fields that a source mapping can fill, declared once.

A mapping names a source column for some of these; validation rules and the
warehouse schema are derived from the same declarations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "int", "float", "date", "time", "bool", "code"]
Table = Literal["event", "person", "identity"]


@dataclass(frozen=True)
class Field:
    name: str
    table: Table
    kind: Kind
    help: str
    codelist: str | None = None  # name of a code list in model/codelists
    max_length: int = 4096


FIELDS: tuple[Field, ...] = (
    # event: an incident as one institution recorded it
    Field("event_id", "event", "text", "The institution's id of the incident (case, folio). Defaults to record_id.", max_length=200),
    Field("occurred_date", "event", "date", "Date the incident occurred."),
    Field("occurred_time", "event", "time", "Time of day the incident occurred."),
    Field("reported_date", "event", "date", "Date the institution registered it (complaint, autopsy, report)."),
    Field("offence_code", "event", "text", "The institution's own offence code, mapped to ICCS by `codes`.", max_length=200),
    Field("iccs_code", "event", "code", "ICCS code when the extract carries it directly.", codelist="iccs"),
    Field("weapon", "event", "code", "Weapon or mechanism.", codelist="weapon"),
    Field("setting", "event", "text", "Place type (street, dwelling...).", max_length=200),
    Field("latitude", "event", "float", "WGS84 latitude in decimal degrees."),
    Field("longitude", "event", "float", "WGS84 longitude in decimal degrees."),
    Field("context", "event", "text", "Context flags, separated by '|' (e.g. organised_crime|domestic).", max_length=500),
    # person: victim (or perpetrator) of the event
    Field("record_id", "person", "text", "The institution's id of this row's person record. Required.", max_length=200),
    Field("role", "person", "code", "victim (default) or perpetrator.", codelist="role"),
    Field("sex", "person", "code", "Sex of the person.", codelist="sex"),
    Field("gender_identity", "person", "code", "Gender identity, where recorded.", codelist="gender_identity"),
    Field("sexual_orientation", "person", "code", "Sexual orientation, where recorded.", codelist="sexual_orientation"),
    Field("age", "person", "int", "Age in completed years (0-120)."),
    Field("age_is_estimate", "person", "bool", "True when the age is estimated (e.g. unidentified body)."),
    Field("nationality", "person", "text", "Nationality (ISO 3166-1 alpha-2 or as recorded).", max_length=100),
    Field("ethnicity", "person", "text", "Ethnic or indigenous self-identification.", max_length=200),
    Field("disability", "person", "bool", "Whether the person has a disability."),
    Field("relationship", "person", "code", "Relationship of the victim to the perpetrator.", codelist="relationship"),
    Field("perpetrator_sex", "person", "code", "Sex of the perpetrator, where recorded on the victim row.", codelist="sex"),
    # identity: names and documents, read only by linkage and the restricted registry
    Field("given_names", "identity", "text", "Given name(s).", max_length=300),
    Field("first_surname", "identity", "text", "First (paternal) surname.", max_length=300),
    Field("second_surname", "identity", "text", "Second (maternal) surname.", max_length=300),
    Field("full_name", "identity", "text", "Whole name in one column, when not split.", max_length=600),
    Field("document_type", "identity", "text", "Type of identity document (CURP, DPI, INE...).", max_length=50),
    Field("document_number", "identity", "text", "Identity document number.", max_length=100),
    Field("birth_date", "identity", "date", "Date of birth."),
)

FIELD_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}

# Pseudo-fields resolved by the territory matcher, not copied from one column.
TERRITORY_TARGET = "territory"
