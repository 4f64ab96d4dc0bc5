"""The stages of Segura as data, and the demo that runs them on the sample observatory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segura.ingest.report import LoadReport
from segura.workspace import Workspace

# Each stage: (name, what it does). Later issues add reconcile, indicators, analysis, publish.
STAGES: tuple[tuple[str, str], ...] = (
    ("ingest", "read, map, validate and load each institution's extract"),
    ("check", "integrity checks over the warehouse"),
    ("reconcile", "link the records of the same victim across institutions"),
)
# The sample's police and forensic service never record a victim twice; prosecutors do
# (one victim in two case files), so they are not listed.
DEMO_SETTINGS = {"reconcile.duplicate_free_sources": ["police", "forensic"]}

DEMO_EXTRACTS = (
    ("police", "police_2014_2015.csv"),
    ("forensic", "forensic_2014_2015.xlsx"),
    ("prosecutors", "prosecutors_2014_2015.csv"),
)


@dataclass
class DemoResult:
    workspace: Workspace
    messages: list[str] = field(default_factory=list)
    loads: list[LoadReport] = field(default_factory=list)
    checks: list[Any] = field(default_factory=list)
    reconciliation: Any = None
    discrepancies: dict[str, Any] = field(default_factory=dict)
    headlines: list[dict[str, Any]] = field(default_factory=list)
    release: Any = None  # the PublishReport of the demo's release
    conflicts: Any = None  # the ImportReport of the conflict registry's events
    alerts: Any = None  # the AlertRun of segura.warning.run.detect_alerts

    @property
    def adds_up(self) -> bool:
        return all(r.ok and r.adds_up for r in self.loads)


def run_demo(
    directory: Path,
    *,
    seed: int = 2026,
    on_message: Callable[[str], None] | None = None,
    on_step: Callable[[str, str, str], None] | None = None,
    indicators: bool = True,
) -> DemoResult:
    """Create the sample observatory in `directory`, load its three extracts and check the warehouse.

    `on_step(source, file, step)` is called as each load moves through its steps (for progress bars).
    `indicators=False` leaves out the indicators and the release (tests that only need the reconciled
    warehouse and the conflict registry).
    """
    from segura.conflicts import ensure_schema, import_events, load_mapping
    from segura.conflicts.places import place_conflicts
    from segura.ingest.population import import_population
    from segura.ingest.territory import import_territories
    from segura.sample import generate_sample, packaged_path

    say = on_message or (lambda _m: None)
    ws = Workspace.init(directory, name="Observatorio de muestra: Guanajuato y Morelos", country="MX", settings=DEMO_SETTINGS)
    result = DemoResult(workspace=ws)
    say(f"Sample observatory at {ws.root}")
    summary = generate_sample(ws.root, seed=seed)
    for name in ("index.yaml", "deviance.yaml", "covariates.csv"):  # the territorial analyses' settings
        (ws.root / name).write_bytes(packaged_path(name).read_bytes())
    with ws.warehouse() as wh:
        terr = import_territories(wh, packaged_path("territory.geojson"), ws.settings)
        pop = import_population(wh, packaged_path("population.csv"), source="CONAPO")
    say(f"territories: {terr.imported:,} ({', '.join(f'{k} {v}' for k, v in terr.by_level.items())}); population rows: {pop.imported:,}")
    say(f"extracts generated from {summary.victims:,} INEGI homicide victims (seed {seed})")
    for source, name in DEMO_EXTRACTS:
        step = (lambda s, src=source, f=name: on_step(src, f, s)) if on_step else None
        result.loads.append(ws.ingest(source, ws.root / "inbox" / name, on_step=step))
    result.checks = ws.check()
    say("reconciling the institutions' records (Splink) ...")
    result.reconciliation = ws.reconcile(truth=ws.root / "truth" / "victims.csv")
    result.discrepancies = ws.discrepancies().summary()
    ws.export_discrepancies(ws.root / "reports")
    if indicators:
        say("computing the indicator catalogue (disclosure control on) ...")
        result.headlines = ws.compute_catalogue(ws.root / "reports" / "indicators")
    with ws.warehouse() as wh:  # the conflict registry: Bolivian conflict deaths (Ultimate Consequences, CC BY 4.0)
        ensure_schema(wh.con)
        result.conflicts = import_events(wh.con, packaged_path("bo_conflict_deaths.csv"), load_mapping("ucbo_deaths"))
        places = place_conflicts(wh.con, ws.settings.country)  # Bolivian events in a Mexican demo: none placed, said so
    say(f"conflict registry: {result.conflicts.summary()}")
    say(places.summary())
    if indicators:
        from segura.warning.run import detect_alerts

        say("looking for alerts: each municipality's monthly homicides against its own pattern ...")
        result.alerts = detect_alerts(ws, last=12)
        say("publishing the open data release (every public view, protected) ...")
        result.release = ws.publish()
    return result
