"""Corpus ingest: files and directories, growing a corpus, re-ingest as a no-op, show and delete."""

from __future__ import annotations

import pytest

from tests.conftest import DATA

pytestmark = pytest.mark.usefixtures("backend")  # each test on SQLite and on PostgreSQL


def test_ingest_bundled_corpus_and_show(recur):
    out = recur.json("corpus", "ingest", DATA / "tinyshakespeare.txt", "--name", "shakespeare")
    assert (out["n_chars"], out["n_lines"], out["vocabulary_size"]) == (1_115_394, 40_000, 65)
    show = recur.json("corpus", "show", "shakespeare")
    assert show["top_chars"][0] == {"char": " ", "count": 169_892}
    assert recur.json("corpus", "list")[0]["name"] == "shakespeare"


def test_directory_grows_and_reingest_skips_known_files(recur, write, tmp_path):
    write("texts/a.txt", "hello\n")
    write("texts/b.txt", "wörld\n")
    write("texts/.hidden", "skip me\n")
    first = recur.json("corpus", "ingest", tmp_path / "texts", "--name", "c")
    assert first["created"] and len(first["files_added"]) == 2 and first["n_chars"] == 12
    write("texts/c.txt", "again\n")
    second = recur.json("corpus", "ingest", tmp_path / "texts", "--name", "c")
    assert not second["created"] and [p.rsplit("/", 1)[1] for p in second["files_added"]] == ["c.txt"]
    assert len(second["files_unchanged"]) == 2 and second["n_chars"] == 18
    show = recur.json("corpus", "show", "c")
    assert show["vocabulary_size"] == len(set("hello\nwörld\nagain\n"))


def test_unknown_corpus_lists_existing(recur, write):
    recur("corpus", "ingest", write("a.txt", "abc\n"), "--name", "alpha")
    message = recur.fails("corpus", "show", "beta")
    assert "no corpus named 'beta'" in message and "'alpha'" in message


def test_delete_corpus(recur, write):
    recur("corpus", "ingest", write("a.txt", "abc\n"), "--name", "alpha")
    recur("corpus", "delete", "alpha", "--yes")
    assert recur.json("corpus", "list") == [] and recur.count("corpus_text") == 0


def test_delete_asks_first(recur, write):
    recur("corpus", "ingest", write("a.txt", "abc\n"), "--name", "alpha")
    result = recur("corpus", "delete", "alpha", input="n\n", ok=False)
    assert result.exit_code == 1 and recur.count("corpus") == 1
