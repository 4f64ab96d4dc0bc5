"""The catalogue is data: complete, bilingual, checked when read, extensible per workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from segura.indicators.catalogue import CatalogueError, load_catalogue

REQUIRED = {"sdg_16_1_1", "homicide_firearm_share", "femicide_victims", "femicide_rate", "violent_deaths_women",
            "homicide_rate_men_15_29", "victim_perpetrator_relationship", "sexual_violence_rate", "robbery_rate",
            "kidnapping_rate", "records_reconciled_share"}


def test_the_shipped_catalogue_has_what_the_observatory_needs() -> None:
    cat = load_catalogue()
    assert len(cat.indicators) >= 12
    assert REQUIRED <= set(cat.indicators)
    for ind in cat.indicators.values():
        for text in (ind.name, ind.definition, ind.unit, ind.source, ind.method):
            assert text.es.strip() and text.en.strip() and text.es != text.en or text.es in ("Total",)
    assert cat.get("sdg_16_1_1").sdg == "16.1.1"
    assert cat.get("femicide_rate").vaw and cat.get("femicide_rate").population == {"sex": "F"}
    assert cat.get("homicide_rate_men_15_29").population == {"sex": "M", "age": [15, 29]}
    assert cat.get("sdg_16_1_1").unit.en == "victims per 100,000 population"


def test_a_workspace_adds_and_replaces_indicators(tmp_path: Path) -> None:
    (tmp_path / "indicators").mkdir()
    (tmp_path / "indicators" / "local.yaml").write_text("""
indicators:
  - id: sdg_16_1_1
    base: homicide
    kind: rate
    name: {es: Tasa local, en: Local rate}
    definition: {es: d, en: d}
    unit: {es: por 10 000, en: "per 10,000"}
    denominator: {population: {}}
    multiplier: 10000
    disaggregations: [sex]
    source: {es: s, en: s}
    method: {es: m, en: m}
""", encoding="utf-8")
    cat = load_catalogue(tmp_path)
    assert cat.get("sdg_16_1_1").multiplier == 10000
    assert cat.get("sdg_16_1_1").origin == "local.yaml"
    assert "femicide_rate" in cat.indicators


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("  - {id: x, base: homicid, kind: count}", "unknown base 'homicid' \\(did you mean 'homicide'\\?\\)"),
        ("  - {id: x, base: homicide, kind: ratio}", "kind must be one of"),
        ("  - {id: x, base: homicide, kind: count, numerator: {colour: [red]}}", "unknown field 'colour'"),
        ("  - {id: x, base: homicide, kind: count, numerator: {sex: [X]}}", "unknown sex value"),
        ("  - {id: x, base: homicide, kind: count, disaggregations: [source]}", "not a breakdown that base homicide publishes"),
        ("  - {id: x, base: homicide, kind: count, nmerator: {}}", "did you mean 'numerator'"),
        ("  - {id: x, base: homicide, kind: count, name: {es: a, en: per 100,000 b}}", "expected a text in Spanish and English"),
    ],
)
def test_mistakes_are_reported_with_the_file_and_a_suggestion(tmp_path: Path, snippet: str, message: str) -> None:
    (tmp_path / "indicators").mkdir()
    (tmp_path / "indicators" / "bad.yaml").write_text("indicators:\n" + snippet + "\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=message) as info:
        load_catalogue(tmp_path)
    assert "bad.yaml" in str(info.value)
