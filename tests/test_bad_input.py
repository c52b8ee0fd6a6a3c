"""RELIABILITY 16: bad input is reported precisely (file, line, column, value, the option that would accept
it), exits non-zero, and writes nothing."""

from __future__ import annotations

import pytest

from tests.conftest import DATA, daily_csv

GOOD = "date,value\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n2024-01-04,4\n"


def refused(recur, path, *args: str) -> str:
    """Ingest must fail with exit 1, name the file, and leave the store as it was."""
    before = [recur.count(t) for t in ("series", "observation", "series_group")]
    message = recur.fails("series", "ingest", path, *args)
    assert str(path) in message
    assert [recur.count(t) for t in ("series", "observation", "series_group")] == before
    return message


CASES = {
    "unbalanced quote": (
        'date,value\n2024-01-01,1\n"2024-01-02,2\n2024-01-03,3\n',
        ["cannot parse as CSV", "line 3 opens a quoted field that never closes"],
    ),
    "too many fields": (
        "date,value\n2024-01-01,1\n2024-01-02,2,7\n2024-01-03,3\n",
        ["line 3 has 3 fields, the header has 2"],
    ),
    "too few fields": (
        "date,value\n2024-01-01,1\n2024-01-02\n2024-01-03,3\n",
        ["line 3 has 1 fields, the header has 2"],
    ),
    "missing value": (
        "date,value\n2024-01-01,1\n2024-01-02,\n2024-01-03,3\n",
        ["line 3", "column 'value'", "missing", "--missing drop"],
    ),
    "missing time": (
        "date,value\n2024-01-01,1\n,2\n2024-01-03,3\n",
        ["line 3", "column 'date'", "missing", "--missing drop"],
    ),
    "non-numeric value": (
        "date,value\n2024-01-01,1\n2024-01-02,1,5\n".replace("1,5", '"1,5"') + "2024-01-03,3\n",
        ["line 3", "column 'value'", "'1,5' is not a number", "--value-col"],
    ),
    "infinite value": (
        "date,value\n2024-01-01,1\n2024-01-02,2\n2024-01-03,inf\n",
        ["line 4", "column 'value'", "'inf'", "not a finite number"],
    ),
    "unparsable time": (
        "date,value\n2024-01-01,1\n2024-01-02,2\n2024-13-45,3\n",
        ["line 4", "column 'date'", "'2024-13-45'", "'%Y-%m-%d'", "--time-format"],
    ),
    "duplicate time": (
        "date,value\n2024-01-01,1\n2024-01-02,2\n2024-01-02,5\n2024-01-03,3\n",
        ["duplicate time 2024-01-02", "column 'date'", "lines 3 and 4", "--on-duplicate first|last|mean"],
    ),
    "gap": (
        daily_csv(10, skip=(4,)),
        ["1 missing time steps", "2024-01-05", "after line 5", "--fill ffill|interpolate", "--fill none"],
    ),
    "irregular spacing": (
        "t,v\n2024-01-01 00:00,1\n2024-01-02 00:00,2\n2024-01-03 00:00,3\n"
        "2024-01-03 05:00,4\n2024-01-04 00:00,5\n",
        ["line 5", "2024-01-03 05:00:00", "not on the 'D' grid", "irregular", "--freq"],
    ),
    "header only": ("date,value\n", ["header but no data rows"]),
    "no value column": ("date\n2024-01-01\n", ["no value column"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file_is_refused_with_a_precise_message(recur, write, case):
    content, fragments = CASES[case]
    message = refused(recur, write("bad.csv", content))
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_undecodable_bytes_name_line_column_and_byte(recur, write):
    path = write("latin.csv", b"date,city\n2024-01-01,1\n" + "2024-01-02,caf\xe9\n".encode("latin-1"))
    message = refused(recur, path)
    assert "line 3, column 15" in message and "0xe9" in message and "--encoding" in message


def test_empty_file(recur, write):
    assert "the file is empty" in refused(recur, write("empty.csv", ""))


def test_unknown_column_lists_the_columns(recur, write):
    message = refused(recur, write("ok.csv", GOOD), "--value-col", "price")
    assert "no column named 'price'" in message and "'date', 'value'" in message


def test_missing_file(recur, tmp_path):
    assert "no such file" in refused(recur, tmp_path / "nope.csv")


def test_bad_freq_option(recur, write):
    message = recur.fails("series", "ingest", write("ok.csv", GOOD), "--freq", "fortnightly")
    assert recur.count("series") == 0
    assert "--freq 'fortnightly'" in message and "MS" in message


def test_a_failure_in_the_last_column_leaves_earlier_series_unwritten(recur, write):
    rows = ["t,a,b"] + [f"{i},{i},{i}" for i in range(1, 50)] + ["50,50,oops"]
    message = refused(recur, write("wide.csv", "\n".join(rows) + "\n"))
    assert "line 51" in message and "column 'b'" in message and "'oops'" in message


def test_a_failed_ingest_leaves_earlier_data_intact(recur, write):
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    refused(recur, write("bad.csv", "Month,Passengers\n1961-01,1\n1961-02,x\n"), "--name", "airline")
    assert recur.json("series", "list")[0]["n_obs"] == 144


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("", "the text is empty"),
        ("   \n\n", "the text is empty"),
    ],
)
def test_empty_corpus_is_refused(recur, write, content, fragment):
    path = write("empty.txt", content)
    assert fragment in recur.fails("corpus", "ingest", path)
    assert recur.count("corpus") == 0


def test_non_utf8_corpus_names_line_column_and_byte(recur, write):
    path = write("poem.txt", b"first line\nsecond line\n" + "caf\xe9 au lait\n".encode("latin-1"))
    message = recur.fails("corpus", "ingest", path)
    assert str(path) in message and "line 3, column 4" in message and "0xe9" in message
    assert recur.count("corpus") == 0
