"""Series ingest from the CLI on bundled and generated data: formats, appending, repairs."""

from __future__ import annotations

import pytest

from tests.conftest import DATA, daily_csv

pytestmark = pytest.mark.usefixtures("backend")  # each test on SQLite and on PostgreSQL


def test_single_series_from_bundled_csv(recur):
    out = recur.json("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    assert out["series"][0] | {} == out["series"][0]
    [s] = recur.json("series", "list")
    assert (s["name"], s["freq"], s["n_obs"], s["first"], s["last"]) == (
        "airline",
        "MS",
        144,
        "1949-01-01",
        "1960-12-01",
    )
    show = recur.json("series", "show", "airline")["series"][0]
    assert show["max"] == 622 and show["min"] == 104


def test_wide_file_becomes_a_group(recur):
    report = recur.json("series", "ingest", DATA / "ETTh1.csv")
    assert report["group"] == "ETTh1"
    names = [s["name"] for s in recur.json("series", "list")]
    assert names == sorted(f"ETTh1/{c}" for c in ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"])
    group = recur.json("series", "show", "ETTh1")
    assert group["group"] and len(group["series"]) == 7
    assert all(s["n_obs"] == 17420 and s["freq"] == "h" for s in group["series"])


def test_units_label_every_series_or_one_column(recur):
    recur("series", "ingest", DATA / "ETTh1.csv", "--unit", "MW", "--unit", "OT=°C")
    with recur.db() as db:
        units = dict(db.execute("SELECT name, unit FROM series").fetchall())
    assert units["ETTh1/OT"] == "°C" and units["ETTh1/HUFL"] == "MW"
    assert recur.json("series", "show", "ETTh1/OT")["series"][0]["unit"] == "°C"
    assert "\nunit       °C\n" in recur("series", "show", "ETTh1/OT").output
    assert "--unit '=x'" in recur.fails("series", "ingest", DATA / "airline_passengers.csv", "--unit", "=x")


def test_long_format_one_series_per_id(recur, write):
    rows = ["store,day,sales"] + [
        f"s{k},2024-02-{d:02d},{k * 100 + d}" for d in range(1, 29) for k in range(5)
    ]
    path = write("sales.csv", "\n".join(rows) + "\n")
    report = recur.json("series", "ingest", path, "--id-col", "store", "--time-col", "day")
    assert report["group"] == "sales"
    listed = {s["name"]: s for s in recur.json("series", "list")}
    assert sorted(listed) == [f"sales/s{k}" for k in range(5)]
    assert all(s["n_obs"] == 28 and s["freq"] == "D" for s in listed.values())
    assert recur.json("series", "show", "sales/s3")["series"][0]["max"] == 328
    recur("series", "export", "sales", "--out", path.parent / "wide.csv")
    assert (path.parent / "wide.csv").read_text().splitlines()[0] == "time,s0,s1,s2,s3,s4"


def test_a_file_without_a_time_column_uses_row_numbers(recur, write):
    recur("series", "ingest", write("rates.csv", "rate\n0.7855\n0.7818\n0.7867\n"), "--time-col", "none")
    [s] = recur.json("series", "list")
    assert (s["name"], s["n_obs"], s["first"], s["last"]) == ("rates", 3, "1", "3")
    long = write("long.csv", "id,rate\na,1\nb,5\na,2\nb,6\na,3\n")
    recur("series", "ingest", long, "--time-col", "none", "--id-col", "id", "--name", "fx")
    shown = {x["name"]: (x["first"], x["last"]) for x in recur.json("series", "list")}
    assert shown["fx/a"] == ("1", "3") and shown["fx/b"] == ("1", "2")  # each id counts its own rows


def test_old_mac_line_endings_read_as_any_other(recur, write):
    """Lines ended by CR alone (classic Mac OS) ingest as the same file with LF would, and an error in one
    still names its line."""
    recur("series", "ingest", write("m.csv", "time,value\r2020-01-01,1\r2020-01-02,2\r2020-01-03,4\r"))
    [s] = recur.json("series", "list")
    assert (s["name"], s["n_obs"], s["first"], s["last"]) == ("m", 3, "2020-01-01", "2020-01-03")
    message = recur.fails("series", "ingest", write("bad.csv", "time,value\r2020-01-01,1\r2020-01-02,x\r"))
    assert "line 3" in message and "'x'" in message


def test_integer_time_column(recur):
    recur("series", "ingest", DATA / "sunspots_yearly.csv", "--name", "sunspots")
    [s] = recur.json("series", "list")
    assert (s["time_kind"], s["freq"], s["first"], s["last"], s["n_obs"]) == ("int", "1", "1700", "2008", 309)


def test_appending_newer_rows_and_reingest_is_a_no_op(recur, write):
    first = write("a.csv", daily_csv(20))
    full = write("b.csv", daily_csv(30))
    recur("series", "ingest", first, "--name", "x")
    out = recur.json("series", "ingest", full, "--name", "x")["series"][0]
    assert (out["inserted"], out["unchanged"], out["n_obs"]) == (10, 20, 30)
    again = recur.json("series", "ingest", full, "--name", "x")["series"][0]
    assert (again["inserted"], again["unchanged"], again["n_obs"]) == (0, 30, 30)


def test_append_after_a_gap_is_caught_against_stored_data(recur, write):
    recur("series", "ingest", write("a.csv", daily_csv(10)), "--name", "x")
    later = write("b.csv", daily_csv(5, start="2024-01-15"))
    message = recur.fails("series", "ingest", later, "--name", "x")
    assert "4 missing time steps" in message and "2024-01-11" in message and "--fill" in message
    assert "--time-format" not in message  # ISO dates: nothing suggests reading them day first
    out = recur.json("series", "ingest", later, "--name", "x", "--fill", "ffill")["series"][0]
    assert (out["inserted"], out["filled"], out["n_obs"]) == (9, 4, 19)


def test_changed_point_is_refused_unless_replace(recur, write, home):
    recur("series", "ingest", write("a.csv", daily_csv(10)), "--name", "x")
    changed = write("b.csv", daily_csv(10, value=lambda i: 99.0 if i == 3 else float(i)))
    message = recur.fails("series", "ingest", changed, "--name", "x")
    assert "line 5" in message and "2024-01-04" in message and "3.0" in message and "99.0" in message
    assert "--on-conflict replace" in message
    out = recur.json("series", "ingest", changed, "--name", "x", "--on-conflict", "replace")["series"][0]
    assert (out["replaced"], out["inserted"], out["unchanged"]) == (1, 0, 9)
    assert recur.json("series", "show", "x")["series"][0]["max"] == 99.0


@pytest.mark.parametrize(
    ("fill", "expected"),
    [("ffill", [0.0, 1.0, 1.0, 1.0, 4.0]), ("interpolate", [0.0, 1.0, 2.0, 3.0, 4.0])],
)
def test_fill_gaps(recur, write, tmp_path, fill, expected):
    path = write("g.csv", daily_csv(5, skip=(2, 3)))
    out = recur.json("series", "ingest", path, "--name", "g", "--fill", fill)["series"][0]
    assert out["filled"] == 2
    recur("series", "export", "g", "--out", tmp_path / "g-out.csv")
    values = [float(line.split(",")[1]) for line in (tmp_path / "g-out.csv").read_text().splitlines()[1:]]
    assert values == expected


def test_fill_none_keeps_gaps_and_show_lists_them(recur, write):
    recur("series", "ingest", write("g.csv", daily_csv(10, skip=(3, 4, 7))), "--name", "g", "--fill", "none")
    show = recur.json("series", "show", "g")["series"][0]
    assert show["gaps"] == 3 and show["n_obs"] == 7
    assert show["gap_list"] == [{"after": "2024-01-03", "missing": 2}, {"after": "2024-01-07", "missing": 1}]


@pytest.mark.parametrize(("policy", "value"), [("first", 1.0), ("last", 3.0), ("mean", 2.0)])
def test_duplicate_policies(recur, write, policy, value):
    path = write("d.csv", "t,v\n1,0\n2,1\n2,3\n3,5\n")
    recur("series", "ingest", path, "--name", "d", "--on-duplicate", policy)
    show = recur.json("series", "show", "d")["series"][0]
    assert show["n_obs"] == 3 and show["median"] == value


def test_missing_rows_can_be_dropped_and_filled(recur, write):
    rows = "2024-01-01,1\n2024-01-02,\n2024-01-03,3\n2024-01-04,4\n"
    path = write("m.csv", "date,value\n" + rows)
    out = recur.json("series", "ingest", path, "--name", "m", "--missing", "drop", "--fill", "interpolate")
    assert out["series"][0]["filled"] == 1 and out["series"][0]["n_obs"] == 4
    assert recur.json("series", "show", "m")["series"][0]["min"] == 1.0


def test_selected_value_columns_and_parquet(recur, tmp_path):
    import pandas as pd

    frame = pd.read_csv(DATA / "ETTh1.csv").head(48)
    frame.to_parquet(tmp_path / "ett.parquet")
    recur(
        "series",
        "ingest",
        tmp_path / "ett.parquet",
        "--name",
        "ett",
        "--value-col",
        "OT",
        "--value-col",
        "HUFL",
    )
    assert [s["name"] for s in recur.json("series", "list")] == ["ett/HUFL", "ett/OT"]


def test_export_group_and_delete(recur, tmp_path):
    recur("series", "ingest", DATA / "ETTh1.csv")
    out = recur.json("series", "export", "ETTh1", "--out", tmp_path / "ett.csv")
    assert (out["rows"], out["columns"]) == (17420, 7)
    header = (tmp_path / "ett.csv").read_text().splitlines()[0]
    assert header == "time,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT"
    deleted = recur.json("series", "delete", "ETTh1", "--yes")
    assert deleted["points"] == 7 * 17420
    assert recur.json("series", "list") == [] and recur.count("observation") == 0


def test_export_round_trips_through_ingest(recur, tmp_path):
    recur(
        "series",
        "ingest",
        DATA / "daily_min_temperatures_melbourne.csv",
        "--name",
        "t",
        "--fill",
        "interpolate",
    )
    recur("series", "export", "t", "--out", tmp_path / "t.csv")
    recur("series", "ingest", tmp_path / "t.csv", "--name", "t2")
    a, b = recur.json("series", "show", "t")["series"][0], recur.json("series", "show", "t2")["series"][0]
    assert {k: a[k] for k in ("n_obs", "first", "last", "mean", "freq")} == {
        k: b[k] for k in ("n_obs", "first", "last", "mean", "freq")
    }


def test_unknown_series_lists_the_existing_ones(recur):
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    message = recur.fails("series", "show", "airlines")
    assert "no series or group named 'airlines'" in message and "'airline'" in message


def test_group_and_series_names_cannot_collide(recur, write):
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "ETTh1")
    message = recur.fails("series", "ingest", DATA / "ETTh1.csv")
    assert "'ETTh1' is already a series" in message and "--name" in message


def test_rows_out_of_order_are_sorted(recur, write, tmp_path):
    recur("series", "ingest", write("u.csv", "t,v\n3,30\n1,10\n2,20\n4,40\n"), "--name", "u")
    recur("series", "export", "u", "--out", tmp_path / "u-out.csv")
    assert (tmp_path / "u-out.csv").read_text().splitlines()[1:] == ["1,10.0", "2,20.0", "3,30.0", "4,40.0"]


def test_calendar_frequency_off_grid_is_irregular(recur, write):
    rows = "m,v\n2024-01-01,1\n2024-02-01,2\n2024-03-01,3\n2024-03-15,4\n2024-04-01,5\n"
    message = recur.fails("series", "ingest", write("m.csv", rows))
    assert "line 5" in message and "2024-03-15" in message and "'MS' grid" in message


def test_explicit_freq_finds_gaps_that_inference_cannot(recur, write):
    path = write("w.csv", "t,v\n2024-01-01,1\n2024-01-03,2\n2024-01-05,3\n")
    assert recur.json("series", "ingest", path, "--name", "two")["series"][0]["freq"] == "2D"
    message = recur.fails("series", "ingest", path, "--name", "daily", "--freq", "D")
    assert "2 missing time steps" in message
