"""How many pairs each blocking rule makes, checked before scoring.

Common names (María, José, Hernández) make huge blocks; a rule that explodes would take the
machine down. Splink counts the pairs each rule adds on a sample of the records; Segura stops
with a message naming the rule when the total would pass a cap.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from segura.errors import SeguraError
from segura.reconcile.model import PREDICTION_BLOCKS

MAX_COMPARISONS = 200_000_000


@dataclass(frozen=True)
class BlockSize:
    rule: str
    pairs: int  # pairs this rule adds to the ones before it (estimated)
    cumulative: int


def blocking_sizes(table: pa.Table, *, sample: float = 1.0) -> list[BlockSize]:
    from splink import DuckDBAPI, block_on
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    db_api = DuckDBAPI(connection=con)
    sources = sorted(set(table.column("source").to_pylist()))
    frames = [db_api.register(table.filter(pc.equal(table.column("source"), s)), table_name=s) for s in sources]
    with warnings.catch_warnings():
        # Splink warns that a sampled count is rough when a rule pairs few records; Segura only
        # needs the order of magnitude, to stop a rule that would explode.
        warnings.filterwarnings("ignore", message="The sampled blocking analysis estimate", category=UserWarning)
        records = count_comparisons_from_blocking_rules(
            frames,
            blocking_rules=[block_on(*cols) for cols in PREDICTION_BLOCKS],
            link_type="link_and_dedupe" if len(frames) > 1 else "dedupe_only",
            record_sample_proportion=sample,
        )
    sizes = [
        BlockSize(" & ".join(cols), int(r["marginal_comparison_count"]), int(r["cumulative_comparison_count"]))
        for cols, r in zip(PREDICTION_BLOCKS, records, strict=True)
    ]
    con.close()
    return sizes


def check_identifiers(table: pa.Table) -> None:
    """Linking records needs names or documents; say so instead of letting training fail."""
    named = sum(table.column(c).null_count < table.num_rows for c in ("surnames_sorted", "given_all", "document_number")
                if c in table.column_names)
    if table.num_rows and not named:
        raise SeguraError(
            "the victim records have no names and no identity documents, so records of the same person "
            "cannot be linked across institutions. Map the name or document columns in the sources' "
            "mappings; if each institution counts different victims (or there is only one institution), "
            "list them in reconcile.duplicate_free_sources and load them as one source."
        )


def check_blocking(sizes: list[BlockSize], cap: int = MAX_COMPARISONS) -> None:
    if sizes and sizes[-1].cumulative > cap:
        worst = max(sizes, key=lambda s: s.pairs)
        raise SeguraError(
            f"the blocking rules would score about {sizes[-1].cumulative:,} pairs (cap {cap:,}); "
            f"the rule '{worst.rule}' adds {worst.pairs:,}. Check that column for a value shared by many "
            "records (a placeholder such as 'DESCONOCIDO' or a default date)."
        )
