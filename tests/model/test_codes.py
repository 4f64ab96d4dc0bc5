"""Code lists and age groups."""

from __future__ import annotations

import pytest

from segura.model.codes import age_aggregate, age_group_of, codelist, five_year_groups_in
from segura.settings import DEFAULT_AGE_AGGREGATIONS


def test_iccs_has_all_eleven_sections_and_a_consistent_hierarchy() -> None:
    iccs = codelist("iccs")
    assert [c for c in iccs if len(c) == 2] == [f"{i:02d}" for i in range(1, 12)]
    for code, entry in iccs.items():
        parent = entry.get("parent")
        if parent:
            assert parent in iccs and code.startswith(parent), code
    # the level-2/3 codes the observatory needs
    for code in ("0101", "0102", "0201", "020221", "0204", "02051", "0301", "03011", "0401", "0501", "0502", "050211"):
        assert code in iccs, code


@pytest.mark.parametrize("name", ["sex", "gender_identity", "sexual_orientation", "relationship", "weapon", "age_group", "role"])
def test_every_code_list_has_spanish_and_english_labels(name: str) -> None:
    for code in codelist(name).values():
        assert code.label_en and code.label_es, (name, code.code)


def test_five_year_groups_cover_every_age_once() -> None:
    groups = codelist("age_group")
    for age in range(0, 121):
        code = age_group_of(age)
        entry = groups[code]
        low, high = int(entry.get("low") or 0), entry.get("high")
        assert low <= age and (not high or age <= int(high))


def test_aggregations_are_configurable_and_never_lose_a_victim() -> None:
    assert age_aggregate(16, DEFAULT_AGE_AGGREGATIONS) == "15-29"
    assert age_aggregate(None, DEFAULT_AGE_AGGREGATIONS) == "_U"
    custom = {"niñas y niños": [0, 17], "adultos": [18, 59]}
    assert age_aggregate(17, custom) == "niñas y niños"
    assert age_aggregate(75, custom) == "_O", "an age outside every range is kept as other, not dropped"


def test_aggregations_map_to_population_groups_or_say_why_not() -> None:
    assert five_year_groups_in(15, 29) == ["Y15T19", "Y20T24", "Y25T29"]
    assert five_year_groups_in(80, 120) == ["Y80T84", "Y_GE85"]
    with pytest.raises(ValueError, match="five-year"):
        five_year_groups_in(0, 17)
