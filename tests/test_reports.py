"""Plots and reports from the CLI: a self-contained HTML file, Markdown with PNGs, a PDF with pages, single
plots; and (slow) the HTML opened in headless Chromium with every image decoded."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.conftest import DATA, ROOT, program

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One store with a forecaster, vintages, a text generator, samples and a job run, built once."""
    from tests.conftest import Recur

    base = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RECUR_HOME", str(base / "home"))
        mp.delenv("RECUR_DB", raising=False)
        corpus = base / "c.txt"
        corpus.write_text((DATA / "tinyshakespeare.txt").read_text()[:20_000])
        _fill(Recur(base / "home"), corpus)
    return base / "home"


@pytest.fixture
def store(built, home, recur):
    shutil.copytree(built, home)
    return recur


def _fill(recur, corpus) -> None:
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    recur(
        "forecast",
        "train",
        "airline",
        "--model",
        "gru",
        "--force",
        "--lookback",
        "12",
        "--horizon",
        "6",
        "--units",
        "4",
        "--epochs",
        "2",
        "--windows",
        "3",
    )
    recur("forecast", "predict", "airline")
    recur("corpus", "ingest", corpus, "--name", "c")
    recur("textgen", "train", "c", "--preset", "tiny", "--epochs", "2")
    recur("textgen", "sample", "c", "--length", "40", "--seed", "1")
    recur("jobs", "add", "nap", "--task", "sleep", "--cron", "0 2 * * *", "--param", "seconds=0")
    recur("jobs", "run", "nap")


def test_html_report_is_self_contained(store, tmp_path):
    out = store.json("report", "export", "--out", tmp_path / "r.html")
    assert (
        out["sections"][0] == "Summary"
        and "Forecasts: airline" in out["sections"]
        and "Text: c" in out["sections"]
    )
    html = (tmp_path / "r.html").read_text()
    images = re.findall(r'<img [^>]*src="([^"]+)"', html)
    assert len(images) == out["plots"] >= 5 and all(
        src.startswith("data:image/png;base64,") for src in images
    )
    assert not re.search(r'(src|href)="https?://', html)  # nothing to fetch: readable offline
    assert "<table>" in html and 'name="viewport"' in html.replace("'", '"')
    assert "1 new champion(s)" in html or "new champion(s)" in html


def test_markdown_report_links_its_images(store, tmp_path):
    out = store.json("report", "export", "--format", "md", "--out", tmp_path / "r.md", "--series", "airline")
    text = (tmp_path / "r.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert links and all(link.startswith("r_files/") and (tmp_path / link).is_file() for link in links)
    assert out["images"] == str(tmp_path / "r_files") and "| method |" in text


def test_pdf_report_has_pages(store, tmp_path):
    out = store.json("report", "export", "--format", "pdf", "--out", tmp_path / "r.pdf", "--with-data")
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF") and out["pages"] >= 5
    assert any(p.endswith("airline-forecast.csv") for p in out["data"])


def test_pdf_report_pages_render(store, tmp_path):
    out = store.json("report", "export", "--format", "pdf", "--out", tmp_path / "r.pdf")
    pdftoppm = program("pdftoppm", package="poppler-utils")
    subprocess.run(
        [pdftoppm, "-r", "30", "-png", str(tmp_path / "r.pdf"), str(tmp_path / "page")], check=True
    )
    assert len(list(tmp_path.glob("page-*.png"))) == out["pages"]


def test_report_replaces_an_existing_file_atomically(store, tmp_path):
    target = tmp_path / "r.html"
    target.write_text("old")
    store("report", "export", "--out", target, "--series", "airline")
    assert target.read_text().startswith("<!doctype html>") and not list(tmp_path.glob(".r.html.*"))


def test_single_plots(store, tmp_path):
    import matplotlib.image

    store("forecast", "plot", "airline", "--out", tmp_path / "f.png")
    assert matplotlib.image.imread(tmp_path / "f.png").shape[1] > 400
    store("forecast", "plot", "airline", "--out", tmp_path / "f.svg")
    assert (tmp_path / "f.svg").read_text().lstrip().startswith("<?xml")
    store("textgen", "plot", "c", "--out", tmp_path / "t.png")
    assert "write .png or .svg" in store.fails("forecast", "plot", "airline", "--out", tmp_path / "f.gif")


def test_report_of_an_empty_store(recur, tmp_path):
    out = recur.json("report", "export", "--out", tmp_path / "empty.html")
    assert out["sections"] == ["Summary", "Nothing to show yet"]


@pytest.mark.slow
def test_html_report_in_headless_chromium(store, tmp_path):
    """Every image decoded (naturalWidth > 0) and the tables present, in a real browser; screenshot kept."""
    chromium = program("chromium", "chromium-browser", package="chromium")
    store("report", "export", "--out", tmp_path / "r.html")
    probe = tmp_path / "probe.html"
    check = (
        "<script>addEventListener('load',()=>{const i=[...document.images];"
        "document.body.dataset.images=i.length;document.body.dataset.decoded=i.filter(x=>x.naturalWidth>0).length;"
        "document.body.dataset.tables=document.querySelectorAll('table').length;});</script>"
    )
    probe.write_text((tmp_path / "r.html").read_text().replace("</body>", check + "</body>"))
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
    ]
    dom = subprocess.run(
        [chromium, *flags, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120
    )
    found = dict(re.findall(r'data-(images|decoded|tables)="(\d+)"', dom.stdout))
    assert (
        found
        and int(found["images"]) >= 5
        and found["decoded"] == found["images"]
        and int(found["tables"]) >= 3
    )
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-screenshot.png"
    subprocess.run(
        [chromium, *flags, f"--screenshot={shot}", "--window-size=1000,2400", (tmp_path / "r.html").as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert shot.is_file() and shot.stat().st_size > 10_000


def test_an_attention_champion_shows_where_it_looked(store, tmp_path):
    """The report asks the attention pipeline for the weights (it computes nothing itself)."""
    small = ["--lookback", "12", "--horizon", "6", "--units", "4", "--epochs", "1", "--windows", "3"]
    store("forecast", "train", "airline", "--model", "attention", "--force", *small)
    store("report", "export", "--out", tmp_path / "r.html", "--series", "airline")
    assert 'alt="airline attention"' in (tmp_path / "r.html").read_text()
