"""The allow-list: the dimensions a figure can be broken down by and the fields a filter may use.

Nothing else reaches a query. Values of categorical dimensions are checked against the lists
below (or the code lists they come from) before they become Ibis literals, so a user's text
never becomes SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from segura.model.codes import codelist

TOTAL = "_T"
UNKNOWN = "_U"


@dataclass(frozen=True)
class Dimension:
    name: str
    subjects: tuple[str, ...]
    label_es: str
    label_en: str
    values: tuple[tuple[str, str, str], ...] = ()  # (code, es, en); empty: values depend on the workspace

    def label(self, lang: str) -> str:
        return self.label_es if lang == "es" else self.label_en

    def value_label(self, code: str, lang: str) -> str:
        if code == TOTAL:
            return "Total"
        for c, es, en in self.values:
            if c == code:
                return es if lang == "es" else en
        return code


def _sex_values() -> tuple[tuple[str, str, str], ...]:
    return tuple((c.code, c.label_es, c.label_en) for c in codelist("sex").values())


BOTH = ("victims", "records")
DIMENSIONS: dict[str, Dimension] = {
    "territory": Dimension("territory", BOTH, "Territorio", "Territory"),
    "period": Dimension("period", BOTH, "Periodo", "Period"),
    "sex": Dimension("sex", BOTH, "Sexo", "Sex", _sex_values()),
    "age": Dimension("age", BOTH, "Edad", "Age"),
    "weapon_class": Dimension("weapon_class", ("victims",), "Mecanismo", "Mechanism", (
        ("firearm", "Arma de fuego", "Firearm"),
        ("other", "Otro mecanismo conocido", "Other known mechanism"),
        ("unknown", "Desconocido", "Unknown"),
    )),
    "relationship_class": Dimension("relationship_class", ("victims",), "Relación con el agresor",
                                    "Relationship to the perpetrator", (
        ("intimate_partner", "Pareja íntima (actual o anterior)", "Intimate partner (current or former)"),
        ("family", "Familiar u otro miembro del hogar", "Family or other household member"),
        ("known_other", "Otra persona conocida", "Other person known to the victim"),
        ("stranger", "Persona desconocida", "Stranger"),
        ("unknown", "Relación no conocida", "Relationship not known"),
    )),
    "femicide_class": Dimension("femicide_class", ("victims",), "Feminicidio (marco UNODC/ONU Mujeres)",
                                "Femicide (UNODC/UN Women framework)", (
        ("intimate_partner_family", "Pareja íntima o familiar", "Intimate partner or family member"),
        ("other_gender_related", "Otros perpetradores, motivo de género", "Other perpetrators, gender-related motive"),
        ("femicide", "Feminicidio (las dos anteriores)", "Femicide (both of the above)"),
        ("not_identified", "Mujer, motivo de género no identificado", "Woman, no gender-related motive identified"),
        ("not_applicable", "No aplica (víctima no mujer)", "Not applicable (victim not female)"),
    )),
    "source": Dimension("source", ("records",), "Institución", "Institution"),
    "reconciled": Dimension("reconciled", ("records",), "Conciliado con otra institución",
                            "Reconciled with another institution", (
        ("true", "Sí", "Yes"), ("false", "No", "No"),
    )),
}

# The fields a filter may use, by subject (`iccs` is a prefix filter; `age` a [low, high] range).
FILTER_FIELDS: dict[str, tuple[str, ...]] = {
    "victims": ("iccs", "sex", "age", "weapon_class", "relationship_class", "femicide_class"),
    "records": ("iccs", "sex", "age", "source", "reconciled"),
}


def check_filter(key: str, values: list[Any]) -> str | None:
    """A message if `values` are not valid for filter field `key`, else None."""
    if key == "age":
        if len(values) != 2 or not all(isinstance(v, int) for v in values) or values[0] > values[1]:
            return f"age takes a range [low, high] in completed years, found {values!r}"
        return None
    if key == "iccs":
        known = codelist("iccs")
        bad = [v for v in values if str(v) not in known]
        return f"unknown ICCS code(s) {bad}" if bad else None
    if key == "reconciled":
        bad = [v for v in values if not isinstance(v, bool)]
        return f"reconciled takes true or false, found {bad}" if bad else None
    dim = DIMENSIONS[key]
    if dim.values:
        codes = {c for c, _, _ in dim.values}
        bad = [v for v in values if str(v) not in codes]
        if bad:
            return f"unknown {key} value(s) {bad}; expected one of {sorted(codes)}"
    return None
