"""Workspace settings: declared once here, read from `segura.toml`, passed down.

Every setting is a `Setting(key, default, help)`. The same declarations write the
template of a new workspace, validate a file (unknown keys and wrong types fail
loudly with the key's name and a suggestion) and feed the guide in docs/.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segura.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    key: str  # "section.name"
    default: Any
    help: str


DEFAULT_AGE_AGGREGATIONS: dict[str, list[int]] = {
    # Ranges are inclusive [low, high]; high 120 means "and over".
    "0-14": [0, 14],
    "15-29": [15, 29],
    "30-44": [30, 44],
    "45-59": [45, 59],
    "60+": [60, 120],
}

SETTINGS: tuple[Setting, ...] = (
    Setting("workspace.name", "Observatorio", "Name of the observatory, shown on reports and the portal."),
    Setting("workspace.country", "MX", "ISO 3166-1 alpha-2 code of the country the workspace covers."),
    Setting("workspace.timezone", "America/Mexico_City", "IANA time zone of event times."),
    Setting(
        "territory.levels",
        ["country", "admin1", "admin2"],
        "Territory levels from the largest to the smallest (admin2 = municipality).",
    ),
    Setting(
        "territory.event_level",
        "admin2",
        "Level at which events are placed (the level territory matching resolves to).",
    ),
    Setting("disclosure.threshold", 5, "Published cells below this count are suppressed."),
    Setting(
        "disclosure.threshold_vaw",
        10,
        "Threshold for indicators on violence against women (suppression).",
    ),
    Setting(
        "indicators.unstable_below",
        20,
        "A count (or, for a share, a denominator) below this is flagged unstable: its relative standard error exceeds 22% (NCHS standard).",
    ),
    Setting("engine.name", "duckdb", "Query engine: duckdb (one machine) or spark (cluster)."),
    Setting(
        "engine.memory_limit",
        "500MB",
        "DuckDB memory limit; larger work spills to disk (a 5-million-row load then peaks under 1 GB).",
    ),
    Setting("engine.threads", 2, "Threads DuckDB may use."),
    Setting(
        "checks.registration_lag_days",
        365,
        "A record registered more than this many days after the event is flagged.",
    ),
    Setting(
        "checks.outlier_z",
        3.5,
        "Robust z-score (median/MAD) above which a territory-month count is an outlier.",
    ),
    Setting(
        "checks.min_months_for_gaps",
        3,
        "A source must cover at least this many months before missing months are reported.",
    ),
    Setting(
        "reconcile.threshold",
        0.5,
        "Match probability at or above which two records are the same victim (one-to-one across duplicate-free sources).",
    ),
    Setting(
        "reconcile.review_band",
        [0.3, 0.97],
        "Pairs with a probability in this range go to the clerical review queue (`segura review`).",
    ),
    Setting(
        "reconcile.duplicate_free_sources",
        [],
        "Sources that never record one victim twice: a reconciled victim has at most one record of each.",
    ),
    Setting(
        "reconcile.authoritative",
        {
            "sex": ["forensic", "police", "prosecutors"],
            "age": ["forensic", "prosecutors", "police"],
            "event_date": ["police", "forensic", "prosecutors"],
            "territory": ["police", "forensic", "prosecutors"],
            "classification": ["prosecutors", "forensic", "police"],
            "weapon": ["forensic", "police", "prosecutors"],
            "relationship": ["prosecutors", "police", "forensic"],
        },
        "For each attribute of a reconciled victim, the sources in order of authority (the first that has a value wins).",
    ),
    Setting("reconcile.max_pairs", 2000000.0, "Cap on the pairs sampled in each training step (common names make big blocks)."),
    Setting("portal.license", "https://creativecommons.org/licenses/by/4.0/",
            "Licence of the published data (a URI), shown on the portal and in the DCAT catalogue."),
    Setting("portal.license_name", "CC BY 4.0", "Short name of that licence, shown on every page."),
    Setting("portal.rate_limit", 600,
            "Requests per minute each client may make to the query and download endpoints (0: no limit)."),
    Setting("portal.session_hours", 8, "Hours a sign-in to the administrative pages lasts."),
    Setting("portal.base_url", "", "The portal's public address (https://...), for links in alert e-mails; empty: paths only."),
    Setting("alerts.indicators", ["homicide_victims"],
            "Indicators whose monthly counts `segura alerts detect` watches when none is named."),
    Setting("alerts.level", "admin2", "Territory level of the alert series (admin2 = municipality)."),
    Setting("alerts.alpha", 0.01, "Upper-tail probability of the Farrington and negative binomial thresholds."),
    Setting("alerts.email_from", "segura@localhost", "Sender address of the alert e-mails written to outbox/."),
    Setting(
        "age_groups.aggregations",
        DEFAULT_AGE_AGGREGATIONS,
        "Named age ranges [low, high] used to aggregate five-year groups; they must not overlap.",
    ),
)

_BY_KEY = {s.key: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """The settings of one workspace, validated."""

    values: dict[str, Any] = field(default_factory=lambda: {s.key: s.default for s in SETTINGS})
    root: Path | None = None

    def __getitem__(self, key: str) -> Any:
        if key not in _BY_KEY:
            raise ConfigError(f"unknown setting {key!r}{_did_you_mean(key, _BY_KEY)}")
        return self.values[key]

    @property
    def country(self) -> str:
        return str(self["workspace.country"])

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, root: Path | None = None, origin: str = "") -> Settings:
        values = {s.key: s.default for s in SETTINGS}
        for section, body in data.items():
            if not isinstance(body, dict):
                raise ConfigError(f"{origin}: [{section}] must be a table of settings")
            for name, value in body.items():
                key = f"{section}.{name}"
                if key not in _BY_KEY:
                    raise ConfigError(f"{origin}: unknown setting {key!r}{_did_you_mean(key, _BY_KEY)}")
                values[key] = _check_type(key, value, _BY_KEY[key].default, origin)
        _check_age_aggregations(values["age_groups.aggregations"], origin)
        return cls(values=values, root=root)

    @classmethod
    def load(cls, path: Path) -> Settings:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise ConfigError(f"{path} not found; create a workspace with `segura init DIR`") from e
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML: {e}") from e
        return cls.from_mapping(data, root=path.parent, origin=str(path))


def render_template(overrides: dict[str, Any] | None = None) -> str:
    """The text of a new segura.toml: every setting with its help as a comment."""
    overrides = overrides or {}
    lines = ["# Segura workspace settings. Every key is optional; defaults shown.", ""]
    section = ""
    for s in SETTINGS:
        sec, name = s.key.split(".", 1)
        if sec != section:
            lines += ["", f"[{sec}]"] if section else [f"[{sec}]"]
            section = sec
        lines.append(f"# {s.help}")
        lines.append(f"{name} = {_toml_value(overrides.get(s.key, s.default))}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml_value(v)}' for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def _check_type(key: str, value: Any, default: Any, origin: str) -> Any:
    expected = type(default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
        raise ConfigError(
            f"{origin}: setting {key!r} is {value!r} ({type(value).__name__}); "
            f"expected {expected.__name__}, like the default {default!r}"
        )
    return value


def _check_age_aggregations(aggs: dict[str, Any], origin: str) -> None:
    spans: list[tuple[int, int, str]] = []
    for name, rng in aggs.items():
        if (
            not isinstance(rng, list)
            or len(rng) != 2
            or not all(isinstance(v, int) for v in rng)
            or not 0 <= rng[0] <= rng[1] <= 120
        ):
            raise ConfigError(
                f"{origin}: age_groups.aggregations.{name} = {rng!r}; expected [low, high] "
                "with 0 <= low <= high <= 120"
            )
        spans.append((rng[0], rng[1], name))
    spans.sort()
    for (_lo1, hi1, n1), (lo2, _hi2, n2) in zip(spans, spans[1:], strict=False):
        if lo2 <= hi1:
            raise ConfigError(f"{origin}: age ranges {n1!r} and {n2!r} overlap at age {lo2}")


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
