"""segura.toml: declared settings, template, and loud failures naming the key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from segura.errors import ConfigError
from segura.settings import SETTINGS, Settings, render_template
from segura.workspace import Workspace


def test_template_lists_every_setting_and_reads_back_as_the_defaults(tmp_path: Path) -> None:
    text = render_template()
    for s in SETTINGS:
        assert s.help in text
    path = tmp_path / "segura.toml"
    path.write_text(text, encoding="utf-8")
    loaded = Settings.load(path)
    assert loaded.values == {s.key: s.default for s in SETTINGS}
    tomllib.loads(text)


def test_unknown_key_is_named_with_a_suggestion() -> None:
    with pytest.raises(ConfigError, match=r"unknown setting 'disclosure.treshold'; did you mean 'disclosure.threshold'"):
        Settings.from_mapping({"disclosure": {"treshold": 3}}, origin="segura.toml")


def test_wrong_type_names_the_key_and_the_expected_type() -> None:
    with pytest.raises(ConfigError, match=r"'disclosure.threshold' is '5' \(str\); expected int"):
        Settings.from_mapping({"disclosure": {"threshold": "5"}}, origin="segura.toml")


def test_overlapping_age_aggregations_are_refused() -> None:
    with pytest.raises(ConfigError, match="overlap at age 15"):
        Settings.from_mapping({"age_groups": {"aggregations": {"children": [0, 17], "youth": [15, 29]}}})


def test_init_with_a_country_sets_its_time_zone_and_the_workspace_reopens(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "obs", country="gt", name="Observatorio GT")
    again = Workspace.open(tmp_path / "obs")
    assert again.settings.country == "GT"
    assert again.settings["workspace.timezone"] == "America/Guatemala"
    assert again.settings["workspace.name"] == "Observatorio GT"
    assert {p.name for p in ws.root.iterdir()} >= {"segura.toml", "sources", "inbox", "releases", "warehouse.duckdb"}
