"""Releases: immutable, complete or absent, protected, and free of names."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from segura.portal import release as release_mod
from segura.portal.app import create_app
from segura.portal.diff import compare
from segura.portal.release import PublishReport, Release, release_ids
from segura.workspace import Workspace


def test_a_release_is_read_only_and_its_checksums_hold(release: PublishReport) -> None:
    r = Release(release.path)
    assert r.verify() == []
    files = [p for p in release.path.rglob("*") if p.is_file()]
    assert len(files) == len(r.meta["files"]) + 1  # + release.json itself
    assert all(not (p.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) for p in files)
    assert {"release.json", "catalogue.json", "labels.json", "territories.csv", "geo/admin2.geojson"} <= \
        {str(p.relative_to(release.path)) for p in files}


def test_every_cell_is_protected(release: PublishReport, demo: Workspace) -> None:
    """No published count lies in (0, threshold); a suppressed cell shows nothing that would give it away."""
    r = Release(release.path)
    normal, vaw = int(demo.settings["disclosure.threshold"]), int(demo.settings["disclosure.threshold_vaw"])
    hidden_cols = ["numerator", "value", "ci_low", "ci_high", "eb_global", "eb_local", "change_previous_pct",
                   "p_previous", "change_year_ago_pct", "p_year_ago"]
    checked = 0
    for (ind, view) in r.views:
        frame = r.frame(ind, view)
        limit = vaw if r.indicators[ind]["vaw"] else normal
        shown = frame[frame["conf_status"] != "C"]
        n = shown["numerator"].dropna()
        assert not ((n > 0) & (n < limit)).any(), f"{ind} {view}: a count under {limit} is published"
        hidden = frame[frame["conf_status"] == "C"]
        for col in hidden_cols:
            assert hidden[col].isna().all(), f"{ind} {view}: suppressed cells show {col}"
        checked += len(frame)
    assert checked == release.rows > 1_000


def test_no_name_or_document_reaches_a_release(release: PublishReport, demo: Workspace) -> None:
    with demo.warehouse(read_only=True) as wh:
        people = wh.con.execute(
            "SELECT DISTINCT upper(concat_ws(' ', given_names, first_surname)), upper(document_number) "
            "FROM person_identity WHERE given_names IS NOT NULL AND first_surname IS NOT NULL").fetchall()
    names = {n for n, _ in people if n and len(n) > 8}
    documents = {d for _, d in people if d}
    assert len(names) > 1000 and len(documents) > 500
    texts = []
    for p in release.path.rglob("*"):
        if p.suffix == ".parquet":
            texts.append(pq.read_table(p).to_pandas().astype(str).to_csv(index=False).upper())
        elif p.is_file():
            texts.append(p.read_text(encoding="utf-8").upper())
    blob = "\n".join(texts)
    assert not [n for n in names if n in blob]
    assert not [d for d in documents if d in blob]


def test_a_new_release_leaves_the_earlier_ones_untouched(demo: Workspace, release: PublishReport) -> None:
    before = Release(release.path).meta["files"]
    second = demo.publish(indicators=["homicide_victims"])
    try:
        assert second.release_id == f"{release.release_id}-2" or second.release_id > release.release_id
        assert Release(release.path).meta["files"] == before and Release(release.path).verify() == []
        assert release_ids(demo.root)[-1] == second.release_id
        diff = {d.indicator: d for d in compare(Release(release.path), Release(second.path))}
        assert diff["homicide_victims"].changed == 0  # the same data gives the same figures
        assert diff["sdg_16_1_1"].views_removed  # not in the second release
        with TestClient(create_app(demo.root)) as c:  # the earlier release is still served, and says so
            assert c.get("/api/v1/health").json()["release"] == second.release_id
            old = c.get("/api/v1/indicators/sdg_16_1_1/values", params={"release": release.release_id})
            assert old.status_code == 200 and old.json()["release"]["id"] == release.release_id
            page = c.get("/en/indicators/sdg_16_1_1", params={"release": release.release_id}).text
            assert f"(release {release.release_id})" in page and "This is an earlier release." in page
    finally:
        _remove(second.path)


def test_a_failed_publication_leaves_nothing_behind(demo: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    before = sorted(p.name for p in (demo.root / "releases").iterdir())

    def broken(*_a: object, **_k: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(release_mod, "_write_territories", broken)
    with pytest.raises(OSError, match="disk full"):
        demo.publish(indicators=["homicide_victims"])
    assert sorted(p.name for p in (demo.root / "releases").iterdir()) == before


def test_compare_finds_a_changed_cell(release: PublishReport, tmp_path: Path) -> None:
    """A copy of the release with one figure changed: the comparison names that cell and only it."""
    copy = tmp_path / "copy"
    shutil.copytree(release.path, copy)
    view = copy / "views" / "homicide_victims" / "territory+period.admin1.year.parquet"
    view.chmod(0o644)
    frame = pq.read_table(view).to_pandas()
    i = frame.index[(frame["territory"] == "11") & (frame["period"] == "2015")][0]
    frame.loc[i, "value"] = frame.loc[i, "value"] + 1
    frame.to_parquet(view, index=False)
    diffs = {d.indicator: d for d in compare(Release(release.path), Release(copy))}
    changed = diffs["homicide_victims"]
    assert changed.changed == 1 and changed.added == changed.removed == 0
    assert changed.examples[0]["territory"] == "11" and changed.examples[0]["period"] == "2015"
    assert changed.examples[0]["after"] == changed.examples[0]["before"] + 1
    assert all(d.changed == 0 for k, d in diffs.items() if k != "homicide_victims")
    assert isinstance(frame, pd.DataFrame)


def _remove(path: Path) -> None:
    for p in path.rglob("*"):
        if p.is_file():
            p.chmod(0o644)
    shutil.rmtree(path)
