"""The same Ibis query on PySpark (local mode, Java 17) gives DuckDB's answer."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from segura.indicators import Query, context_for, duckdb_context
from segura.indicators.catalogue import Catalogue
from segura.indicators.query import aggregate
from segura.workspace import Workspace

TABLES = ("victim", "link", "reconcile_run", "person_current", "event_current", "territory", "population",
          "latest_load_month")
QUERIES = [
    Query("sdg_16_1_1", ("territory", "period", "sex"), {"year": ("2015",)}, grain="quarter"),
    Query("femicide_rate", ("territory", "period"), level="admin1", grain="rolling12"),
    Query("homicide_firearm_share", ("territory", "sex"), level="admin1"),
    Query("victim_perpetrator_relationship", ("sex", "relationship_class")),
    Query("records_reconciled_share", ("source", "period"), grain="year"),
    Query("homicide_victims", ("territory", "age"), {"territory": ("17",)}),
]


@pytest.fixture(scope="module")
def spark_backend(demo: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if shutil.which("java") is None:
        pytest.fail("PySpark needs Java (17) on the PATH; .ci/run installs openjdk-17-jre-headless")
    import ibis
    from pyspark.sql import SparkSession

    out = tmp_path_factory.mktemp("spark")
    # The warehouse as Parquet, as a Spark deployment reads a release (Spark has no TIME type).
    with demo.warehouse(read_only=True) as wh:
        for name in TABLES:
            cols = [r[0] for r in wh.con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                "AND data_type NOT IN ('GEOMETRY')", [name]).fetchall()]
            select = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' if c == "occurred_time" else f'"{c}"' for c in cols)
            wh.con.execute(f"COPY (SELECT {select} FROM {name}) TO '{out / name}.parquet' (FORMAT parquet)")  # noqa: S608
    spark = (SparkSession.builder.master("local[2]").appName("segura-test")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
             .config("spark.driver.host", "127.0.0.1").getOrCreate())
    for name in TABLES:
        spark.read.parquet(str(Path(out) / f"{name}.parquet")).createOrReplaceTempView(name)
    yield ibis.pyspark.connect(spark)
    spark.stop()


@pytest.mark.slow
@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q.indicator}-{'-'.join(q.by)}")
def test_spark_and_duckdb_give_the_same_table(demo: Workspace, catalogue: Catalogue, spark_backend: object,
                                              query: Query) -> None:
    indicator = catalogue.get(query.indicator)
    with demo.warehouse(read_only=True) as wh:
        on_duckdb = aggregate(query, indicator, duckdb_context(wh.con, demo.settings)).frame
    on_spark = aggregate(query, indicator, context_for(spark_backend, demo.settings)).frame
    keys = [c for c in on_duckdb.columns if c not in ("numerator", "denominator")]
    a = on_duckdb.sort_values(keys).reset_index(drop=True)
    b = on_spark.sort_values(keys).reset_index(drop=True)
    assert len(a) > 0 and a["numerator"].sum() > 0
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
