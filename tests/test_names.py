"""RELIABILITY 17 and 18: names are data, never SQL; exports never leave the chosen directory."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import InputError
from core.files import slugify
from core.outputs import output_path
from core.settings import Settings
from db.engine import engine_of
from db.names import check_name
from pipelines.catalog import export_series, list_series, show_series
from pipelines.ingest import IngestOptions, ingest_series

NASTY = [
    "x'; DROP TABLE series;--",
    'quote"d',
    "semi;colon",
    "\u202eevil\u202c",  # right-to-left override
    "../../etc/passwd",
    "名前",
    "a" * 1000,
]
names = st.one_of(st.sampled_from(NASTY), st.text(min_size=1, max_size=60))


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "s.csv"
    path.write_text("t,v\n1,1\n2,2\n3,3\n")
    return path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names)
def test_any_name_is_stored_verbatim_or_refused_cleanly(csv_file, name):
    with tempfile.TemporaryDirectory() as home:
        cfg = Settings.resolve(home)
        try:
            check_name(name, "series")
        except InputError:
            with pytest.raises(InputError):
                ingest_series(cfg, csv_file, IngestOptions(name=name))
            assert list_series(cfg) == []
            return
        ingest_series(cfg, csv_file, IngestOptions(name=name))
        assert [s["name"] for s in list_series(cfg)] == [name]
        assert show_series(cfg, name)["series"][0]["n_obs"] == 3
        out = Path(home) / "out"
        out.mkdir()
        written = Path(export_series(cfg, name, out)["path"])
        assert written.parent == out.resolve() and written.is_file()
        engine_of(cfg).dispose()


def test_refused_names():
    for bad in ["", "   ", "nul\x00byte", "tab\tname", "a" * 1001]:
        with pytest.raises(InputError):
            check_name(bad, "series")


@given(st.text(max_size=300))
def test_slugs_are_safe_file_names(name):
    slug = slugify(name)
    assert slug and "/" not in slug and "\x00" not in slug and not slug.startswith(".")
    assert len(slug) <= 89


def test_distinct_names_get_distinct_slugs():
    assert slugify("a/b") != slugify("a-b") and slugify("plain") == "plain"


def test_output_path_stays_inside_the_directory(tmp_path):
    from core.settings import Settings

    settings = Settings.resolve(tmp_path / "home")
    target = output_path(settings, tmp_path, "../../outside", ".csv")
    assert target.parent == tmp_path.resolve()


def test_export_to_a_missing_directory_is_refused(recur, tmp_path, csv_file):
    recur("series", "ingest", csv_file, "--name", "s")
    message = recur.fails("series", "export", "s", "--out", tmp_path / "no" / "such" / "file.csv")
    assert "does not exist" in message
