"""The social conflict registry and its early-warning indicators (issue 7).

`registry` holds conflicts, actors, events, agreements and phases; `importers` brings protest
event files in through a source mapping; `escalation` computes indicators and a transparent
escalation score.
"""

from segura.conflicts.escalation import (
    ScoreConfig,
    conflict_indicators,
    escalation_score,
)
from segura.conflicts.importers import ImportReport, import_events, load_mapping
from segura.conflicts.registry import (
    ConflictError,
    add_agreement,
    add_event,
    change_phase,
    create_conflict,
    ensure_schema,
    list_conflicts,
    show_conflict,
)

__all__ = [
    "ConflictError",
    "ImportReport",
    "ScoreConfig",
    "add_agreement",
    "add_event",
    "change_phase",
    "conflict_indicators",
    "create_conflict",
    "ensure_schema",
    "escalation_score",
    "import_events",
    "list_conflicts",
    "load_mapping",
    "show_conflict",
]
