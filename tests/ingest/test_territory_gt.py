"""Bring your own country: Guatemala from its INE catalogue and MINFIN boundaries, and the
findings a bad territory file must produce (unknown parents, duplicate codes, invalid geometries)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segura import Workspace
from segura.errors import TerritoryImportError
from segura.ingest.territory import FieldNames, TerritoryOptions, import_territories
from tests.conftest import geojson_squares

GT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "gt"


@pytest.fixture(scope="module")
def gt_workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, dict[str, object]]:
    if not (GT_DATA / "munis.json").is_file():
        pytest.skip(
            f"Guatemala's boundaries are not at {GT_DATA} (../shared/data relative to the repository)"
        )
    ws = Workspace.init(tmp_path_factory.mktemp("gt") / "obs", country="GT")
    with ws.warehouse() as wh:
        departments = import_territories(
            wh,
            GT_DATA / "catalogo_municipios.csv",
            ws.settings,
            TerritoryOptions(
                fields=FieldNames(code="codigo_depto", name="departamento"),
                level="admin1",
                parent="GT",
                pad=2,
            ),
        )
        municipalities = import_territories(
            wh,
            GT_DATA / "munis.json",
            ws.settings,
            TerritoryOptions(
                fields=FieldNames(code="id", name="Municipio"),
                level="admin2",
                pad=4,
                parent_prefix=2,
                exclude=("0", "4000"),
            ),
        )
    return ws, {"departments": departments, "municipalities": municipalities}


def test_gt_departments(gt_workspace: tuple[Workspace, dict[str, object]]) -> None:
    ws, reports = gt_workspace
    report = reports["departments"]
    assert report.rows_read == 340  # one catalogue row per municipality; departments repeat
    assert report.imported == 22 and report.by_level == {"admin1": 22}
    assert report.issues == []
    with ws.warehouse(read_only=True) as wh:
        assert wh.con.execute(
            "SELECT code, name, level FROM territory WHERE parent_code IS NULL"
        ).fetchall() == [("GT", "Guatemala", "country")]
        rows = wh.con.execute(
            "SELECT code, name, parent_code FROM territory WHERE level = 'admin1' ORDER BY code"
        ).fetchall()
    assert len(rows) == 22
    assert rows[0] == ("01", "Guatemala", "GT") and rows[-1][0] == "22"
    assert all(len(code) == 2 and parent == "GT" for code, _, parent in rows)


def test_gt_municipalities_with_geometry_and_the_invalid_one_repaired(
    gt_workspace: tuple[Workspace, dict[str, object]],
) -> None:
    ws, reports = gt_workspace
    report = reports["municipalities"]
    assert (report.rows_read, report.excluded, report.imported, report.with_geometry) == (
        343,
        3,
        340,
        340,
    )
    (issue,) = report.issues  # the one invalid boundary: reported, and repaired
    assert (issue.rule, issue.severity, issue.column) == ("invalid_geometry", "warning", "geometry")
    assert issue.row is not None and issue.value and "repaired with make_valid" in issue.message
    assert "(" in issue.message  # the reason shapely gives
    with ws.warehouse(read_only=True) as wh:
        con = wh.con
        counts = con.execute(
            "SELECT count(*), count(geometry), count(*) FILTER (WHERE ST_IsValid(geometry)) FROM territory WHERE level = 'admin2'"
        ).fetchone()
        assert counts == (340, 340, 340)
        assert con.execute(
            "SELECT name, parent_code FROM territory WHERE code = '0101'"
        ).fetchone() == ("Guatemala", "01")
        assert con.execute(
            "SELECT count(*) FROM territory WHERE level = 'admin2' AND parent_code NOT IN (SELECT code FROM territory WHERE level = 'admin1')"
        ).fetchone() == (0,)
        per_department = dict(
            con.execute(
                "SELECT parent_code, count(*) FROM territory WHERE level = 'admin2' GROUP BY 1"
            ).fetchall()
        )
        assert len(per_department) == 22 and per_department["01"] == 17
        assert con.execute(
            "SELECT count(*) FROM territory WHERE code IN ('0000', '4000')"
        ).fetchone() == (0,)  # lakes and Belize left out


# -- bad territory files (a small invented country, CR; these need no downloaded data) --------------


def _import(ws: Workspace, path: Path, **options: object):  # type: ignore[no-untyped-def]
    with ws.warehouse() as wh:
        return import_territories(wh, path, ws.settings, TerritoryOptions(**options))  # type: ignore[arg-type]


def test_unknown_parents_are_reported_and_nothing_is_written(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "cantones.csv"
    path.write_text(
        "code,name,level,parent_code\n0104,Santa Ana,admin2,01\n0301,Cartago,admin2,03\n0302,Paraíso,admin2,03\n",
        encoding="utf-8",
    )
    before = ws.warehouse().con.execute("SELECT count(*) FROM territory").fetchone()
    report = _import(ws, path)
    assert [(i.rule, i.severity, i.row, i.column, i.value) for i in report.errors] == [
        ("unknown_parent", "error", 3, "parent_code", "03"),
        ("unknown_parent", "error", 4, "parent_code", "03"),
    ]
    assert (
        "no territory with code '03'" in report.errors[0].message
        and "import the parents first" in report.errors[0].message
    )
    assert report.imported == 0
    assert (
        ws.warehouse().con.execute("SELECT count(*) FROM territory").fetchone() == before
    )  # not even Santa Ana


def test_duplicate_codes_are_reported_with_both_rows(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "cantones.csv"
    path.write_text(
        "code,name,level,parent_code\n0104,Santa Ana,admin2,01\n0105,Mora,admin2,01\n0104,Santa Anna,admin2,01\n0105,Mora,admin2,01\n",
        encoding="utf-8",
    )
    report = _import(ws, path)
    (issue,) = report.errors  # the exact repetition of Mora is the same territory, not a conflict
    assert (issue.rule, issue.row, issue.column, issue.value) == (
        "duplicate_code",
        4,
        "code",
        "0104",
    )
    assert "also on row 2" in issue.message and "'Santa Ana'" in issue.message
    assert report.imported == 0


def test_two_boundaries_for_one_code_are_a_duplicate(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "dup.geojson"
    path.write_text(
        geojson_squares(
            [("0104", "Santa Ana", "01", (-84.3, 9.9)), ("0104", "Santa Ana", "01", (-84.4, 9.9))]
        ),
        encoding="utf-8",
    )
    report = _import(ws, path)
    (issue,) = report.errors
    assert (issue.rule, issue.row, issue.value) == ("duplicate_code", 2, "0104")
    assert "second boundary (first on row 1)" in issue.message


def _bowtie_geojson(path: Path) -> None:
    """A self-intersecting ('bow-tie') polygon: invalid, repairable."""
    feature = {
        "type": "Feature",
        "properties": {"code": "0104", "name": "Santa Ana", "level": "admin2", "parent_code": "01"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[-84.3, 9.9], [-84.2, 10.0], [-84.2, 9.9], [-84.3, 10.0], [-84.3, 9.9]]
            ],
        },
    }
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8"
    )


def test_invalid_geometry_with_repair_off_is_an_error(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "bowtie.geojson"
    _bowtie_geojson(path)
    report = _import(ws, path, repair=False)
    (issue,) = report.errors
    assert (issue.rule, issue.severity, issue.row, issue.column, issue.value) == (
        "invalid_geometry",
        "error",
        1,
        "geometry",
        "0104",
    )
    assert "Self-intersection" in issue.message
    assert report.imported == 0
    assert ws.warehouse().con.execute(
        "SELECT count(*) FROM territory WHERE code = '0104'"
    ).fetchone() == (0,)


def test_invalid_geometry_is_repaired_by_default(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "bowtie.geojson"
    _bowtie_geojson(path)
    report = _import(ws, path)
    assert report.errors == [] and report.imported == 1
    (issue,) = report.issues
    assert (issue.rule, issue.severity) == (
        "invalid_geometry",
        "warning",
    ) and "repaired" in issue.message
    assert ws.warehouse().con.execute(
        "SELECT ST_IsValid(geometry) FROM territory WHERE code = '0104'"
    ).fetchone() == (True,)


def test_rows_without_code_name_or_known_level_are_reported(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "malos.csv"
    path.write_text(
        "code,name,level,parent_code\n,Sin código,admin2,01\n0106,,admin2,01\n0107,Barrio,barrio,01\n",
        encoding="utf-8",
    )
    report = _import(ws, path)
    assert [(i.row, i.column, i.value) for i in report.errors] == [
        (2, "code", ""),
        (3, "name", ""),
        (4, "level", "barrio"),
    ]
    assert "territory.levels" in report.errors[2].message


def test_a_file_missing_the_code_column_names_what_it_has(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,nombre,level\n1,a,admin1\n", encoding="utf-8")
    with pytest.raises(TerritoryImportError) as err:
        _import(ws, path)
    assert "x.csv: missing column(s) code, name" in str(err.value) and "id, level, nombre" in str(
        err.value
    )
