"""Plots and reports from the CLI: one document in three renderings (a self-contained HTML file,
Markdown with PNGs, typeset A4 PDF pages), a group's section, single plots; and (slow) the HTML in
headless Chromium."""

from __future__ import annotations

import html as htmllib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT, fill_store, program
from tests.server import headless_chromium

ARTIFACTS = ROOT / "test-artifacts"
SMALL = ["--lookback", "24", "--horizon", "6", "--units", "4", "--epochs", "1", "--windows", "2"]
A4 = (595.28, 841.89)  # points


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One store with a forecaster, vintages, a group with a global model and a member's own champion, a
    text generator, samples, and a succeeded and a failed job run, built once."""
    from tests.conftest import Recur

    base = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RECUR_HOME", str(base / "home"))
        mp.delenv("RECUR_DB", raising=False)
        corpus = base / "c.txt"
        corpus.write_text((DATA / "tinyshakespeare.txt").read_text()[:20_000])
        ett = base / "ETTh1.csv"
        ett.write_text("".join((DATA / "ETTh1.csv").read_text().splitlines(keepends=True)[:601]))
        recur = Recur(base / "home")
        fill_store(recur, corpus)
        _fill_group(recur, ett)
        (base / "sample.json").write_text(
            json.dumps(
                recur.json(
                    "textgen", "sample", "c", "--length", "120", "--seed", "1", "--prompt", "MENENIUS:"
                )
            )
        )
    return base


def _fill_group(recur, ett) -> None:
    """ETTh1's first 600 hours: a member with its own champion, then a global model of the group."""
    recur("series", "ingest", ett)
    recur("forecast", "train", "ETTh1/OT", "--model", "gru", "--force", *SMALL)
    recur("forecast", "train", "ETTh1", "--model", "gru", *SMALL)
    recur("forecast", "predict", "ETTh1")


@pytest.fixture
def store(built, home, recur):
    shutil.copytree(built / "home", home)
    return recur


@pytest.fixture
def stored_sample(built) -> dict:
    out = json.loads((built / "sample.json").read_text())
    return {"text": out["samples"][0]["text"], "seed": out["seed"]}


def test_html_report_is_self_contained(store, tmp_path, stored_sample):
    out = store.json("report", "export", "--out", tmp_path / "r.html")
    assert out["sections"][0] == "Summary" and {"Forecasts: airline", "Forecasts: ETTh1", "Text: c"} <= set(
        out["sections"]
    )
    html = (tmp_path / "r.html").read_text()
    images = re.findall(r'<img [^>]*src="([^"]+)"', html)
    assert len(images) == out["plots"] >= 5 and all(
        src.startswith("data:image/png;base64,") for src in images
    )
    assert not re.search(r'(src|href)="https?://', html)  # nothing to fetch: readable offline
    assert "<table>" in html and 'name="viewport"' in html.replace("'", '"')
    assert "Period covered:" in html and "the last 7 days" in html
    # the stored sample whole, line breaks kept, its prompt marked, temperature and seed beside it
    assert f"<mark>MENENIUS:</mark>{htmllib.escape(stored_sample['text'])}</pre>" in html
    assert f"temperature 1.0 · seed {stored_sample['seed']}" in html


def test_empty_and_failed_things_read_as_sentences_and_names(store, tmp_path):
    store("report", "export", "--out", tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    assert "has actuals yet, so none is scored" in html and "How past forecasts scored" not in html
    failed = html[html.index("Failed runs") : html.index("</table>", html.index("Failed runs"))]
    assert ">broken<" in failed and "failed on purpose" in failed and "schedule_id" not in html
    coverage = re.search(r"Interval coverage in the backtest.*?</table>", html, re.S).group(0)
    assert re.search(r">\d{1,3}\.\d%<", coverage) and ("within ±3 points" in coverage or "by " in coverage)


def test_markdown_report_for_a_group(store, tmp_path):
    out = store.json(
        "report", "export", "--group", "ETTh1", "--format", "md", "--out", tmp_path / "ett.md", "--with-data"
    )
    text = (tmp_path / "ett.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert links and all(link.startswith("ett_files/") and (tmp_path / link).is_file() for link in links)
    assert out["images"] == str(tmp_path / "ett_files") and "forecasts-1-7" in " ".join(links)
    members = re.findall(r"^\| ETTh1/(\w+) \|", text, re.M)
    assert sorted(members) == sorted(["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"])
    assert re.search(r"\| ETTh1/OT \|.*\| v\d+ gru \|", text)  # the member's own champion
    assert "Champion global model" in text or "Challenger: version" in text
    [csv, js] = out["data"]["written"]
    assert (
        csv.lower().endswith("ett-etth1-forecast.csv") and js.endswith(".json") and not out["data"]["skipped"]
    )
    assert len({line.split(",")[0] for line in Path(csv).read_text().splitlines()[1:]}) == 7


def test_with_data_says_what_it_could_not_write(store, tmp_path):
    store("series", "ingest", DATA / "sunspots_yearly.csv", "--name", "sun")
    store(
        "forecast",
        "train",
        "sun",
        "--model",
        "gru",
        "--force",
        *SMALL[:2],
        "--horizon",
        "4",
        "--units",
        "4",
        "--epochs",
        "1",
        "--windows",
        "2",
    )
    out = store.json("report", "export", "--series", "sun", "--out", tmp_path / "s.html", "--with-data")
    assert out["data"]["written"] == [] and "recur forecast predict sun" in out["data"]["skipped"][0]
    said = store("report", "export", "--series", "sun", "--out", tmp_path / "s.html", "--with-data").output
    assert "no data: no forecasts stored for 'sun'" in said


def test_pdf_report_has_pages(store, tmp_path):
    out = store.json("report", "export", "--format", "pdf", "--out", tmp_path / "r.pdf", "--with-data")
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF") and out["pages"] >= 3
    assert any(p.endswith("airline-forecast.csv") for p in out["data"]["written"])


def test_pdf_pages_are_a4_typeset_and_nothing_runs_off(store, tmp_path, stored_sample):
    """Every page A4 with the period in its header and its number; every word inside the margins; the
    sample complete; rendered to PNG by poppler."""
    import pdfplumber

    out = store.json("report", "export", "--format", "pdf", "--out", tmp_path / "r.pdf")
    with pdfplumber.open(tmp_path / "r.pdf") as pdf:
        assert len(pdf.pages) == out["pages"]
        text = ""
        for i, page in enumerate(pdf.pages, 1):
            assert (page.width, page.height) == pytest.approx(A4, abs=0.5)
            words = page.extract_words()
            assert words and all(
                w["x0"] >= 40
                and w["x1"] <= page.width - 40
                and w["top"] >= 20
                and w["bottom"] <= page.height - 10
                for w in words
            ), [w for w in words if w["x1"] > page.width - 40 or w["x0"] < 40]
            page_text = page.extract_text()
            assert f"page {i} of {len(pdf.pages)}" in page_text and "Period covered:" in page_text
            text += page_text + "\n"
        fonts = {c["fontname"].split("+")[-1] for p in pdf.pages for c in p.chars}
    assert "DejaVuSans" in " ".join(fonts) and any("Mono" in f for f in fonts)  # proportional and mono type
    for line in ("MENENIUS:" + stored_sample["text"]).splitlines():
        assert "".join(line.split()) in "".join(text.split()), line  # wherever the lines wrap
    pdftoppm = program("pdftoppm", package="poppler-utils")
    subprocess.run(
        [pdftoppm, "-r", "30", "-png", str(tmp_path / "r.pdf"), str(tmp_path / "page")], check=True
    )
    assert len(list(tmp_path.glob("page-*.png"))) == out["pages"]


def test_report_replaces_an_existing_file_atomically(store, tmp_path):
    target = tmp_path / "r.html"
    store("report", "export", "--out", target, "--series", "airline", "--since", "2000-01-01")
    store("report", "export", "--out", target, "--series", "airline")  # recur's own file: replaced
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


PROBE = (
    "<script>addEventListener('load',()=>{const i=[...document.images],b=document.body.dataset;"
    "b.images=i.length;b.decoded=i.filter(x=>x.naturalWidth>0).length;"
    "b.widths=[...new Set(i.map(x=>x.naturalWidth))].join('-');"
    "b.tables=document.querySelectorAll('table').length;"
    "b.samples=encodeURIComponent([...document.querySelectorAll('figure.sample pre')].map(p=>p.textContent)"
    ".join('\\u0000'));});</script>"
)


def _chromium_dom(chromium: str, page, tmp_path, width: int) -> dict:
    """The report opened in headless Chromium at a window width; what the probe found in the page."""
    from urllib.parse import unquote

    probe = tmp_path / f"probe-{width}.html"
    probe.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    dom = subprocess.run(
        [chromium, *_flags(tmp_path), f"--window-size={width},2000", "--dump-dom", probe.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = dict(re.findall(r'data-(images|decoded|widths|tables|samples)="([^"]*)"', dom.stdout))
    assert found, dom.stderr[-2000:]
    found["samples"] = unquote(htmllib.unescape(found["samples"])).split("\x00")
    return found


def _flags(tmp_path) -> list[str]:
    return [*headless_chromium(tmp_path / "profile"), "--virtual-time-budget=5000"]


@pytest.mark.slow
def test_html_report_in_headless_chromium(store, tmp_path, stored_sample):
    """In a real browser at 1000 and 390 pixels: every image decoded, the phone's renderings chosen on the
    narrow window, no chart of nothing, the tables there, every sample whole; screenshots kept."""
    chromium = program("chromium", "chromium-browser", package="chromium")
    page = tmp_path / "r.html"
    out = store.json("report", "export", "--out", page)
    wide, phone = (_chromium_dom(chromium, page, tmp_path, w) for w in (1000, 390))
    for found in (wide, phone):
        assert int(found["images"]) == out["plots"] >= 5 and found["decoded"] == found["images"]
        assert int(found["tables"]) >= 5
        assert "MENENIUS:" + stored_sample["text"] in found["samples"]  # whole, line breaks kept
    assert "825" in wide["widths"].split("-") and "462" in phone["widths"].split("-")
    assert "825" not in phone["widths"].split("-")  # 7.5 and 4.2 inches at 110 dpi
    assert "How past forecasts scored" not in page.read_text()
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1000, 390):
        shot = ARTIFACTS / f"report-{width}px.png"
        subprocess.run(
            [
                chromium,
                *_flags(tmp_path),
                f"--screenshot={shot}",
                f"--window-size={width},2400",
                page.as_uri(),
            ],
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
