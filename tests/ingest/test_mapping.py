"""Source mappings fail loudly, naming the file, the key and what was expected (with a suggestion)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from segura.errors import MappingError
from segura.ingest.mapping import SourceMapping
from tests.conftest import BASE_MAPPING


def _parse(**changes: Any) -> SourceMapping:
    data = {**BASE_MAPPING, **changes}
    return SourceMapping.parse(
        yaml.safe_dump(
            {k: v for k, v in data.items() if v is not None}, allow_unicode=True, sort_keys=False
        )
    )


def test_the_base_mapping_parses() -> None:
    m = _parse()
    assert m.source == "police" and m.format == "csv" and m.period == "occurred_date"
    assert m.expected_columns() == [
        "folio",
        "fecha",
        "sexo",
        "edad",
        "nombre",
        "delito",
        "depto",
        "municipio",
    ]
    assert m.required == ("record_id", "occurred_date")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"colums": {"a": "record_id"}}, "unknown key 'colums'; did you mean 'columns'?"),
        (
            {"columns": {"folio": "record_id", "fecha": "ocurred_date"}},
            "maps to unknown field 'ocurred_date'; did you mean 'occurred_date'?",
        ),
        ({"columns": {"fecha": "occurred_date"}}, "no column maps to record_id"),
        (
            {"columns": {"folio": "record_id", "a": "occurred_date", "b": "occurred_date"}},
            "filled by two columns: 'a' and 'b'",
        ),
        ({"format": "xls"}, "format 'xls' is not supported; expected csv, xlsx or parquet"),
        ({"encoding": "utf-16"}, "encoding 'utf-16' is not supported"),
        ({"delimiter": ";;"}, "delimiter and quote must be one character each"),
        ({"decimal": ",", "delimiter": ","}, "decimal mark and delimiter cannot both be ','"),
        ({"header_row": 0}, "header_row 0 must be a whole number >= 1"),
        (
            {"dates": {"occurred_date": ["dd/mm/yyyy"]}},
            "must be a list of strptime formats such as '%d/%m/%Y'",
        ),
        ({"dates": {"age": ["%Y"]}}, "dates.age: not a date or time field"),
        (
            {"skip_rows": [{"column": "folio", "pattern": "(TOTAL"}]},
            "skip_rows[0].pattern is not a valid regular expression",
        ),
        (
            {"rules": {"age_rang": "warning"}},
            "rules.age_rang: unknown rule; did you mean 'age_range'?",
        ),
        ({"rules": {"age_range": "ignore"}}, "severity 'ignore'; expected error, warning or off"),
        (
            {"period": "reported_date"},
            "period 'reported_date' must be a date field mapped in columns",
        ),
        (
            {"territory": {"by": "nombre", "columns": ["a"]}},
            "territory.by 'nombre': expected name or code",
        ),
        ({"source": "Policía"}, "must be lower case letters, digits and _"),
    ],
)
def test_mapping_errors_name_the_key_and_what_was_expected(
    changes: dict[str, Any], expected: str
) -> None:
    with pytest.raises(MappingError) as err:
        _parse(**changes)
    assert expected in str(err.value)
    assert str(err.value).startswith("<mapping>: ")


@pytest.mark.parametrize(
    "rule", ["duplicate_record_id", "csv_structure", "encoding", "xlsx_structure"]
)
def test_rules_that_protect_the_model_cannot_be_lowered(rule: str) -> None:
    with pytest.raises(MappingError, match=f"rules.{rule} is always an error"):
        _parse(rules={rule: "warning"})


def test_a_mapping_file_must_be_named_after_its_source(tmp_path: Path) -> None:
    path = tmp_path / "pnc.yaml"
    path.write_text(
        yaml.safe_dump(BASE_MAPPING, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    with pytest.raises(MappingError) as err:
        SourceMapping.load(path)
    assert str(err.value) == f"{path}: source 'police' must match the file name 'pnc.yaml'"


def test_a_mapping_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "police.yaml"
    path.write_bytes(
        yaml.safe_dump(BASE_MAPPING, allow_unicode=True, sort_keys=False).encode("cp1252")
    )
    with pytest.raises(MappingError, match="a mapping must be UTF-8 text"):
        SourceMapping.load(path)
