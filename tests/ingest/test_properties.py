"""Properties that hold for any input: rows read = loaded + quarantined, every quarantined row keeps
its raw values, row numbers follow the file, and no input crashes a load (it loads or is rejected)."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import HEADER, Inbox, assert_adds_up, row

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
_names = itertools.count()

# Text an institution's file may hold: delimiters, quotes, line breaks, accents, formulas, emoji.
field_text = st.lists(
    st.sampled_from(
        [*"abcXYZ 019,;\"'\t\n\r=+-@/.éñÑü€“”–😀", "José", "San José", "Escazú", "15/03/2021"]
    ),
    max_size=8,
).map("".join)


@st.composite
def records(draw: st.DrawFn) -> list[dict[str, str]]:
    """Rows that are valid, partly valid or garbage, column by column."""
    out = []
    for i in range(draw(st.integers(0, 8))):
        base = row(folio=i + 1)
        out.append({h: draw(st.one_of(st.just(base[h]), field_text)) for h in HEADER})
    return out


@SETTINGS
@given(recs=records())
def test_any_rows_add_up_and_quarantined_rows_keep_their_raw_values(
    inbox: Inbox, recs: list[dict[str, str]]
) -> None:
    report = inbox.ingest(inbox.csv(f"p{next(_names)}.csv", recs))
    assert report.status in ("loaded", "already_loaded"), report.message
    assert report.rows_read == len(recs)
    assert_adds_up(report, inbox)
    quarantined = inbox.quarantine(report.load_id)
    for number, q in quarantined.items():
        written = recs[number - 2]  # header on row 1, no embedded line breaks counted apart
        assert q["raw"] == [written[h] or None for h in HEADER], (number, q)
        for error in q["errors"]:
            assert error["rule"] and error["message"]
            assert error["column"] is not None or error["rule"] == "csv_structure"
    loaded = inbox.loaded_rows(report.load_id)
    assert sorted([*loaded, *quarantined]) == list(range(2, len(recs) + 2))  # every row, once


@SETTINGS
@given(
    body=st.binary(max_size=300), encoding=st.sampled_from(["utf-8", "cp1252", "latin-1", "auto"])
)
def test_any_bytes_after_the_header_load_or_are_rejected_never_crash(
    inbox: Inbox, body: bytes, encoding: str
) -> None:
    inbox.mapping(encoding=encoding)
    name = f"b{next(_names)}.csv"
    report = inbox.ingest(inbox.write(name, inbox.csv_text([]).encode() + body))
    if report.status == "rejected":
        assert report.message.startswith(f"{name}: ")
        assert inbox.load_row(report.load_id)["status"] == "rejected"
    else:
        assert report.status in ("loaded", "already_loaded")
        assert_adds_up(report, inbox)


@SETTINGS
@given(kinds=st.lists(st.sampled_from(["good", "short", "long", "multiline"]), max_size=12))
def test_row_numbers_follow_the_file_around_ragged_and_multiline_rows(
    inbox: Inbox, kinds: list[str]
) -> None:
    lines = [inbox.csv_text([])]
    expected_loaded, expected_quarantined = [], []
    for number, kind in enumerate(kinds, start=2):  # spreadsheet row numbers
        if kind == "short":
            lines.append(f"{number},roto\r\n")
            expected_quarantined.append(number)
        elif kind == "long":
            lines.append(
                inbox.csv_text([row(folio=number)], header=None).replace("\r\n", ",extra,extra\r\n")
            )
            expected_quarantined.append(number)
        else:
            nombre = "Ana\nMaría\r\nPaz" if kind == "multiline" else "Ana"
            lines.append(inbox.csv_text([row(folio=number, nombre=nombre)], header=None))
            expected_loaded.append(number)
    report = inbox.ingest(inbox.write(f"r{next(_names)}.csv", "".join(lines)))
    assert report.rows_read == len(kinds)
    assert_adds_up(report, inbox)
    assert inbox.loaded_rows(report.load_id) == expected_loaded
    assert sorted(inbox.quarantine(report.load_id)) == expected_quarantined
    # and the record id (= its row number here) sits on the row it was written on
    assert inbox.query(
        "SELECT count(*) FROM person WHERE load_id = ? AND source_record_id <> CAST(row_number AS VARCHAR)",
        [report.load_id],
    ) == [(0,)]
