"""Outputs: never the store, never a user's files, formats by extension, private from creation, and a
failed write is one sentence."""

from __future__ import annotations

import re
import stat

import pytest

from tests.conftest import DATA


@pytest.fixture
def airline(recur):
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    recur("forecast", "predict", "airline", "--horizon", "6")  # no model yet: the best baseline
    return recur


def _store_intact(recur) -> None:
    with recur.db() as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM series").fetchone()[0] == 1


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_no_output_overwrites_the_store(airline, suffix):
    target = airline.home / f"recur.db{suffix}"
    existed = target.exists()
    for args in (
        ("series", "export", "airline", "--out", target),
        ("forecast", "export", "airline", "--out", target),
        ("db", "backup", "--out", target),
        ("report", "export", "--format", "html", "--out", target),
    ):
        assert "recur's store" in airline.fails(*args)
    assert target.exists() == existed
    _store_intact(airline)


def test_no_output_lands_in_the_homes_managed_folders(airline):
    (airline.home / "logs").mkdir(exist_ok=True)
    out = airline.fails("series", "export", "airline", "--out", airline.home / "logs" / "x.csv")
    assert "which recur manages" in out
    assert "which recur manages" in airline.fails(
        "forecast", "export", "airline", "--out", airline.home / "logs"
    )


def test_formats_follow_the_extension(airline, tmp_path):
    assert "not .parquet" in airline.fails("series", "export", "airline", "--out", tmp_path / "x.parquet")
    assert "not .xlsx" in airline.fails("forecast", "export", "airline", "--out", tmp_path / "f.xlsx")
    airline("forecast", "export", "airline", "--out", tmp_path / "f.json")
    assert (tmp_path / "f.json").read_text().lstrip().startswith("[")
    airline("report", "export", "--series", "airline", "--out", tmp_path / "r.pdf")
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    out = airline.fails("report", "export", "--format", "html", "--out", tmp_path / "r2.pdf")
    assert "--format is html" in out and not (tmp_path / "r2.pdf").exists()
    assert "not .docx" in airline.fails("report", "export", "--out", tmp_path / "r.docx")


def test_a_trailing_slash_names_a_new_directory(airline, tmp_path):
    """`--out newdir/` writes into a new (private) directory, never a file named `newdir`."""
    airline("series", "export", "airline", "--out", f"{tmp_path / 'series'}/")
    airline("forecast", "export", "airline", "--out", f"{tmp_path / 'vintages'}/")
    airline("report", "export", "--series", "airline", "--out", f"{tmp_path / 'reports' / 'outdir'}/")
    assert (tmp_path / "series" / "airline.csv").is_file()
    assert (tmp_path / "vintages" / "airline-forecast.csv").is_file()
    [report] = (tmp_path / "reports" / "outdir").iterdir()
    assert report.suffix == ".html" and stat.S_IMODE((tmp_path / "series").stat().st_mode) == 0o700


def test_a_file_recur_did_not_write_is_replaced_only_with_force(airline, tmp_path):
    """A person's file at --out (extensionless, or read-only) is refused, its bytes and mode intact; one
    recur wrote is replaced on the next export, unless someone changed it since; --force replaces any."""
    mine = tmp_path / "notes"
    mine.write_text("my notes")
    mine.chmod(0o444)
    message = airline.fails("series", "export", "airline", "--out", mine)
    assert "recur did not write it (or it changed since); pass --force" in message
    assert mine.read_text() == "my notes" and stat.S_IMODE(mine.stat().st_mode) == 0o444
    for args in (("forecast", "export", "airline"), ("report", "export", "--series", "airline")):
        taken = tmp_path / "taken.html" if args[0] == "report" else tmp_path / "taken.csv"
        taken.write_text("a person's")
        assert "pass --force" in airline.fails(*args, "--out", taken) and taken.read_text() == "a person's"
    ours = tmp_path / "ours.csv"
    airline("forecast", "export", "airline", "--out", ours)
    airline("forecast", "export", "airline", "--out", ours)  # recur's own, unchanged: replaced
    ours.write_text(ours.read_text() + "edited by hand\n")
    assert "pass --force" in airline.fails("forecast", "export", "airline", "--out", ours)
    airline("forecast", "export", "airline", "--out", ours, "--force")
    assert "edited by hand" not in ours.read_text()


def test_markdown_export_never_deletes_a_folder_it_did_not_write(airline, tmp_path):
    mine = tmp_path / "notes_files"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work")
    out = airline.fails("report", "export", "--format", "md", "--out", tmp_path / "notes.md")
    assert "was not written by recur" in out
    assert (mine / "thesis.txt").read_text() == "years of work" and not (tmp_path / "notes.md").exists()
    airline("report", "export", "--series", "airline", "--out", tmp_path / "ours.md")
    airline("report", "export", "--series", "airline", "--out", tmp_path / "ours.md")  # its own: replaced
    assert any(p.suffix == ".png" for p in (tmp_path / "ours_files").iterdir())


def test_every_file_written_is_private_from_creation(airline, tmp_path):
    airline("db", "backup", "--out", tmp_path / "b.db")
    airline("report", "export", "--series", "airline", "--out", tmp_path / "r.md")
    airline("series", "export", "airline", "--out", tmp_path / "s.csv")
    files = [tmp_path / "b.db", tmp_path / "r.md", tmp_path / "s.csv", *(tmp_path / "r_files").iterdir()]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    assert stat.S_IMODE((tmp_path / "r_files").stat().st_mode) == 0o700


@pytest.mark.parametrize("where", ["/etc/passwd/x.csv", "/proc/x.csv", "/nonexistent/dir/x.csv"])
def test_an_unwritable_out_is_one_sentence(airline, where):
    for args in (
        ("series", "export", "airline", "--out", where),
        ("forecast", "export", "airline", "--out", where),
        ("report", "export", "--out", where.replace(".csv", ".html")),
        ("db", "backup", "--out", where.replace(".csv", ".db")),
    ):
        out = airline.fails(*args)
        assert "Traceback" not in out and len(out.strip().splitlines()) == 1, out


def test_an_empty_last_report_mark_does_not_break_the_next_report(airline, tmp_path):
    airline("report", "export", "--series", "airline", "--out", tmp_path / "a.html", "--mark")
    (airline.home / "reports" / ".last-report").write_text("")
    airline("report", "export", "--series", "airline", "--out", tmp_path / "b.html", "--mark")
    assert '"at": "20' in (airline.home / "reports" / ".last-report").read_text()


def test_the_period_follows_the_reports_sent_not_every_export(airline, tmp_path):
    """An ad-hoc export moves nothing: the next report still covers the last week; a report sent (a
    schedule's, or --mark) starts the next one's period, and the next one names it."""

    def export(name: str, *more: str):
        return airline("report", "export", "--series", "airline", "--out", tmp_path / name, *more)

    export("adhoc.html")
    export("next.md")
    assert "the last 7 days: no report sent before" in (tmp_path / "next.md").read_text()
    export("monday.html", "--mark")
    export("after.md")
    assert "since the report sent " in (tmp_path / "after.md").read_text()
    assert "monday.html)" in (tmp_path / "after.md").read_text()  # which report it follows


def test_markdown_carries_no_raw_html_from_names(recur, write, tmp_path):
    name = "<img src=x onerror=alert(1)>"
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", name)
    recur("forecast", "predict", name, "--horizon", "3")
    recur("report", "export", "--series", name, "--out", tmp_path / "r.md")
    text = (tmp_path / "r.md").read_text()
    assert not re.search(r"(?<!\\)<", text) and "\\<img src=x onerror=alert(1)\\>" in text


def test_csv_cells_never_start_a_formula(recur, write, tmp_path):
    rows = 't,=HYPERLINK("http://x"),plain\n' + "".join(f"{i},{i},{-i}\n" for i in range(1, 30))
    recur("series", "ingest", write("w.csv", rows), "--name", "w", "--time-col", "t")
    recur("series", "export", "w", "--out", tmp_path / "exported.csv")
    header, first = (tmp_path / "exported.csv").read_text().splitlines()[:2]
    assert header.split(",")[1].startswith("\"'=HYPERLINK") and first.endswith(",-1.0")
    recur("forecast", "predict", 'w/=HYPERLINK("http://x")', "--horizon", "2")
    recur("forecast", "export", 'w/=HYPERLINK("http://x")', "--out", tmp_path / "f.csv")
    assert all(
        not cell.startswith("=")
        for line in (tmp_path / "f.csv").read_text().splitlines()
        for cell in line.split(",")
    )


def test_a_killed_export_leaves_nothing_behind_for_long(airline, tmp_path):
    import os
    import time

    stale, fresh, mine = tmp_path / ".s.csv.abcd1234", tmp_path / ".s.csv.efgh5678", tmp_path / ".s.csv.notes"
    for p in (stale, fresh, mine):
        p.write_text("partial")
    hour_ago = time.time() - 7200
    os.utime(stale, (hour_ago, hour_ago))
    os.utime(mine, (hour_ago, hour_ago))
    airline("series", "export", "airline", "--out", tmp_path / "s.csv")
    assert not stale.exists() and fresh.exists() and mine.exists()  # only recur's own, only old ones


def test_a_full_disk_and_a_damaged_store_are_one_sentence_each():
    import errno
    import sqlite3

    from sqlalchemy.exc import DatabaseError

    from commands.boundary import message_for

    full = message_for(OSError(errno.ENOSPC, "No space left on device", "/data/r.html"), None)
    assert full.startswith("No space left on device (/data/r.html): the disk is full") and "\n" not in full
    damaged = message_for(DatabaseError("SELECT", {}, sqlite3.DatabaseError("file is not a database")), None)
    assert "could not be read (file is not a database)" in damaged and "recur doctor" in damaged
