"""`recur serve` as a user runs it: a real server process on 127.0.0.1, OpenAI's own client generating and
streaming, the data API read with an HTTP client, bad requests answered with the right status and a
message, the token, and (slow) the dashboard in headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time

import httpx
import pytest

from tests.conftest import DATA, ROOT, Recur, fill_store, program
from tests.server import Server, headless_chromium

pytestmark = pytest.mark.xdist_group("service")
ARTIFACTS = ROOT / "test-artifacts"
JSON = {"Content-Type": "application/json"}
CLI_SAMPLE = ["--length", "120", "--seed", "1", "--prompt", "MENENIUS:", "--temperature", "0.9"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A store with a forecaster and its forecast, a text generator, job runs (one failed), and what
    `recur textgen sample` gave for CLI_SAMPLE."""
    base = tmp_path_factory.mktemp("service")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RECUR_HOME", str(base / "home"))
        mp.delenv("RECUR_DB", raising=False)
        corpus = base / "c.txt"
        corpus.write_text((DATA / "tinyshakespeare.txt").read_text()[:20_000])
        recur = Recur(base / "home")
        fill_store(recur, corpus, "shakespeare")
        sample = recur.json("textgen", "sample", "shakespeare", *CLI_SAMPLE)
    return base, sample


@pytest.fixture(scope="module")
def server(built):
    base, _ = built
    with Server(base / "home") as s:
        yield s


@pytest.fixture
def client(server):
    from openai import OpenAI

    return OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)


def test_a_completion_from_openais_client_is_the_cli_sample_and_is_stored(built, server, client):
    _, sample = built
    out = client.completions.create(
        model="shakespeare", prompt="MENENIUS:", max_tokens=120, seed=1, temperature=0.9
    )
    assert out.choices[0].text == sample["samples"][0]["text"]  # same seed, same text as the CLI
    assert out.choices[0].finish_reason == "length" and out.model == f"shakespeare@{sample['version']}"
    assert out.usage.completion_tokens == 120 and out.usage.prompt_tokens == len("MENENIUS:")
    ids = out.model_extra["recur"]["sample_ids"]
    stored = httpx.get(f"{server.url}/api/samples", params={"corpus": "shakespeare", "limit": 5}).json()[
        "data"
    ]
    row = next(r for r in stored if r["id"] == ids[0])
    assert row["text"] == out.choices[0].text and row["seed"] == 1 and row["prompt"] == "MENENIUS:"
    assert row["params"]["via"] == "api" and row["model_version"] == sample["version"]


def test_streaming_sends_characters_as_they_are_made(client):
    whole = client.completions.create(model="shakespeare", prompt="ROMEO:", max_tokens=200, seed=4)
    chunks = list(
        client.completions.create(model="shakespeare", prompt="ROMEO:", max_tokens=200, seed=4, stream=True)
    )
    texts = [c.choices[0].text for c in chunks if c.choices]
    assert "".join(texts) == whole.choices[0].text and len(texts) > 1
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    assert chunks[-1].model_extra["recur"]["sample_ids"]  # stored before the stream ends
    assert chunks[-1].usage is None  # usage only when asked for, in the last chunk
    counted = list(
        client.completions.create(
            model="shakespeare",
            prompt="ROMEO:",
            max_tokens=50,
            seed=4,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    usage = counted[-1].usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (6, 50, 56)
    assert all(c.usage is None for c in counted[:-1])


def test_a_streamed_text_event_is_what_the_json_encoder_writes():
    """Events without logprobs are written around one JSON string: the same bytes as the whole event
    through the service's encoder, for any text (quotes, backslashes, controls, non-ASCII) and finish."""
    from service.completions import event_head, sse, text_event

    head = {"id": "cmpl-1", "object": "text_completion", "created": 7, "model": "shakespeare@3"}
    for text in ["", 'a "b" \\ c\n\t\x00', "é ☃ 𝄞", "ROMEO:"]:
        for finish in (None, "length", "stop"):
            choice = {"text": text, "index": 2, "logprobs": None, "finish_reason": finish}
            assert text_event(event_head(head), 2, text, finish) == sse(head | {"choices": [choice]})


def test_logprobs_are_the_models_and_echo_with_no_tokens_scores_a_text(built, client):
    from core.settings import Settings
    from pipelines.sampling import load
    from textgen.sampler import score

    base, _ = built
    loaded = load(Settings.resolve(base / "home"), "shakespeare", None)
    out = client.completions.create(
        model="shakespeare", prompt="ROMEO:", max_tokens=40, seed=3, logprobs=2, echo=True, stop=["\n\n"]
    )
    choice = out.choices[0]
    text, logprobs = choice.text, choice.logprobs
    assert text.startswith("ROMEO:") and logprobs.tokens == list(text)
    assert logprobs.text_offset == list(range(len(text))) and logprobs.token_logprobs[0] is None
    expected = score(loaded.model, loaded.vocab.prompt_ids(text, "error"), 2)
    assert logprobs.token_logprobs[1:] == pytest.approx(list(expected.logprobs), abs=1e-5)
    assert all(len(top) == 2 for top in logprobs.top_logprobs[1:])
    scored = client.completions.create(model="shakespeare", prompt=text, max_tokens=0, echo=True, logprobs=0)
    assert scored.choices[0].text == text and scored.usage.completion_tokens == 0
    assert scored.choices[0].logprobs.token_logprobs == pytest.approx(logprobs.token_logprobs, abs=1e-5)
    chunks = list(
        client.completions.create(
            model="shakespeare",
            prompt="ROMEO:",
            max_tokens=40,
            seed=3,
            logprobs=2,
            stream=True,
            stop=["\n\n"],
        )
    )
    streamed = [c.choices[0] for c in chunks if c.choices]
    assert "".join(c.text for c in streamed) == text[len("ROMEO:") :]
    tokens = [t for c in streamed for t in c.logprobs.tokens]
    offsets = [o for c in streamed for o in c.logprobs.text_offset]
    assert tokens == list(text[6:]) and offsets == list(range(len(text) - 6))
    assert [v for c in streamed for v in c.logprobs.token_logprobs] == pytest.approx(
        logprobs.token_logprobs[6:], abs=1e-9
    )


def test_a_stop_string_and_several_samples(client):
    out = client.completions.create(model="shakespeare", prompt="A", max_tokens=300, n=3, seed=2, stop=["\n"])
    assert len(out.choices) == 3 and len({c.text for c in out.choices}) > 1
    for c in out.choices:
        assert "\n" not in c.text and c.finish_reason in ("stop", "length")
    assert "stop" in {c.finish_reason for c in out.choices}


def test_concurrent_requests_share_one_step_loop_and_get_their_own_text(server, client):
    alone = {
        s: client.completions.create(model="shakespeare", prompt="", max_tokens=400, seed=s, temperature=0)
        .choices[0]
        .text
        for s in range(2)
    }
    alone |= {
        s: client.completions.create(model="shakespeare", prompt="ROMEO:", max_tokens=400, seed=s)
        .choices[0]
        .text
        for s in range(2, 8)
    }
    got: dict[int, str] = {}

    def ask(seed: int) -> None:
        extra = {"temperature": 0, "prompt": ""} if seed < 2 else {"prompt": "ROMEO:"}
        stream = client.completions.create(
            model="shakespeare", max_tokens=400, seed=seed, stream=True, **extra
        )
        got[seed] = "".join(c.choices[0].text for c in stream if c.choices)

    threads = [threading.Thread(target=ask, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == alone
    state = httpx.get(f"{server.url}/api/service").json()["generators"]
    assert max(g["peak_streams"] for g in state) > 1  # they were stepped together


def test_an_idle_step_loop_lets_a_wave_of_requests_land_before_it_steps(built, monkeypatch):
    """A request that wakes an idle loop waits until no other has come for SETTLE_S: a second request
    50 ms behind the first (the settling stretched to 0.3 s here) starts on the same step, so the two
    take as many steps as one alone; the texts are each request's own."""
    from core.settings import Settings
    from pipelines import serving
    from pipelines.sampling import load
    from textgen.batching import Job
    from textgen.sampler import SamplingParams

    monkeypatch.setattr(serving, "SETTLE_S", 0.3)
    monkeypatch.setattr(serving, "SETTLE_MAX_S", 2.0)
    loaded = load(Settings.resolve(built[0] / "home"), "shakespeare", None)
    prompt = loaded.vocab.prompt_ids("\n")

    def wave(seeds: list[int]) -> tuple[int, list[str]]:
        loop, jobs = serving.ModelLoop("shakespeare", loaded), []
        for seed in seeds:
            jobs.append(Job(prompt, 1, 200, SamplingParams(0.8), seed))
            loop.submit(jobs[-1])
            time.sleep(0.05)
        while not all(j.done for j in jobs):
            time.sleep(0.01)
        loop.close()
        return loop.batcher.steps, [j.text(0) for j in jobs]

    one_steps, (first,) = wave([5])
    two_steps, texts = wave([5, 6])
    assert two_steps == one_steps and texts[0] == first and texts[1] != first


def test_a_champion_known_a_while_serves_at_once_and_is_looked_up_again_behind(built):
    """Past CHAMPION_TTL_S a request is still served the known champion's loop at once (a wave of
    requests never waits on the store) while one thread looks it up again; past CHAMPION_STALE_S (an idle
    service) the request waits for the lookup."""
    from core.settings import Settings
    from pipelines import serving

    generators = serving.Generators(Settings.resolve(built[0] / "home"))
    loop = generators.resolve("shakespeare")
    version, _ = generators.champions["shakespeare"]
    held, lookups, resolve = threading.Event(), [], generators.resolve

    def slow_resolve(model: str):
        lookups.append(model)
        held.wait(10)
        return resolve(model)

    generators.resolve = slow_resolve
    aged = time.monotonic() - serving.CHAMPION_TTL_S - 0.1
    generators.champions["shakespeare"] = (version, aged)
    assert generators.cached("shakespeare") is loop and generators.cached("shakespeare") is loop
    assert "shakespeare" in generators.refreshing
    held.set()
    for _ in range(500):
        if "shakespeare" not in generators.refreshing:
            break
        time.sleep(0.01)
    assert lookups == ["shakespeare"]  # one lookup for both requests, behind them
    assert generators.champions["shakespeare"][0] == version
    assert generators.champions["shakespeare"][1] > aged  # looked up again
    assert generators.cached("shakespeare") is loop and lookups == ["shakespeare"]  # fresh: no lookup
    generators.champions["shakespeare"] = (version, time.monotonic() - serving.CHAMPION_STALE_S)
    assert generators.cached("shakespeare") is None and lookups == ["shakespeare"]
    loop.close()


def test_what_the_champions_loading_made_is_kept_out_of_the_collectors_sight(built):
    """Once the champions are loaded at start, what loading made is frozen with the rest of start-up:
    a full collection under load then walks only what requests made (in a fresh server, loading a
    generator makes about 51,000 objects, 9.5 ms of each full collection)."""
    import asyncio
    import gc

    from core.settings import Settings
    from service.app import create_app
    from service.config import ServeOptions

    app = create_app(Settings.resolve(built[0] / "home"), ServeOptions(), say=lambda _line: None)
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()

    async def start_up() -> None:
        async with app.router.lifespan_context(app):
            while not app.state.ready:
                await asyncio.sleep(0.01)

    try:
        asyncio.run(start_up())
        assert app.state.generators.loops  # the champion loaded
        assert gc.get_freeze_count() > frozen  # the loop, its model and what loading made
    finally:
        gc.unfreeze()
        for loop in app.state.generators.loops.values():
            loop.close()


def test_a_client_that_goes_away_stops_generation_and_what_was_made_is_kept(built):
    import time

    base, _ = built
    body = {"model": "shakespeare", "max_tokens": 1_000_000, "seed": 99, "stream": True}
    with Server(base / "home", "--max-tokens", "1000000") as s:
        with httpx.stream("POST", f"{s.url}/v1/completions", json=body) as r:
            next(r.iter_text())  # the first characters, then hang up
        for _ in range(100):
            rows = httpx.get(f"{s.url}/api/samples", params={"corpus": "shakespeare"}).json()["data"]
            row = next((r for r in rows if r["seed"] == 99), None)
            if row is not None:
                break
            time.sleep(0.1)
    assert row is not None and row["params"]["finish_reason"] == "cancelled"
    assert 0 < len(row["text"]) < 1_000_000


@pytest.mark.parametrize(
    "body, status, fragment",
    [
        ({"model": "nope", "prompt": "a"}, 404, "no corpus named 'nope'; existing: 'shakespeare'"),
        ({"model": "shakespeare@99999", "prompt": "a"}, 404, "no model version 99999"),
        (
            {"model": "shakespeare", "temperature": float("nan")},
            400,
            "temperature: Input should be a finite number",
        ),
        ({"model": "shakespeare", "n": 100000}, 400, "n 100000: at most 16 samples a request"),
        (
            {"model": "shakespeare", "temperature": 1e308},
            400,
            "temperature: Input should be less than or equal to 10",
        ),
        ({"model": "shakespeare", "max_tokens": 10**9}, 400, "max_tokens 1000000000: at most 4000"),
        ({"model": "shakespeare", "max_tokens": 0}, 400, 'max_tokens 0 makes nothing; with "echo": true'),
        ({"model": "shakespeare", "logprobs": 21}, 400, "logprobs: Input should be less than or equal to 20"),
        ({"model": "shakespeare", "top_p": 0}, 400, "top_p: Input should be greater than 0"),
        ({"model": "shakespeare", "best_of": 3}, 400, "best_of is not supported"),
        ({"model": "shakespeare", "prompt": "\u2603"}, 400, 'pass "unknown": "skip"'),
        ({"model": "shakespeare", "stop": ["a", "b", "c", "d", "e"]}, 400, "stop: at most 4 strings"),
        ({"model": "shakespeare", "temprature": 1}, 400, "temprature: not a parameter recur accepts"),
        ({"prompt": "a"}, 400, "model: Field required"),
    ],
)
def test_bad_completion_requests(server, body, status, fragment):
    r = httpx.post(f"{server.url}/v1/completions", content=json.dumps(body), headers=JSON)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert fragment in error["message"], error


def test_bad_bodies_and_unknown_paths(server):
    r = httpx.post(f"{server.url}/v1/completions", content=b"{not json", headers=JSON)
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]["message"]
    r = httpx.post(f"{server.url}/v1/completions", content=b'{"model": "shakespeare"}')
    assert r.status_code == 400 and "Content-Type: application/json" in r.json()["error"]["message"]
    r = httpx.post(f"{server.url}/v1/completions", content=b"x" * 70_000)
    assert r.status_code == 413 and "--max-body" in r.json()["error"]["message"]
    r = httpx.get(f"{server.url}/v2/nothing")
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"
    chunked = (b"x" * 65536 for _ in range(16))  # 1 MB without a Content-Length
    r = httpx.post(f"{server.url}/v1/completions", content=chunked, headers=JSON)
    assert r.status_code == 413 and "--max-body" in r.json()["error"]["message"]
    for path in ("/api/subjects", "/api/subjects/airline"):
        r = httpx.get(f"{server.url}{path}", params={"format": "xml"})
        assert r.status_code == 400 and "format 'xml': choose json or csv" in r.json()["error"]["message"]
    r = httpx.get(f"{server.url}/api/subjects/airline", params={"format": "csv"})
    assert r.status_code == 400 and "this resource is JSON only" in r.json()["error"]["message"]


def test_the_data_api_pages_tags_and_speaks_csv(server):
    url = server.url
    first = httpx.get(f"{url}/api/subjects")
    assert first.status_code == 200 and first.headers["etag"]
    row = first.json()["data"][0]
    assert row["name"] == "airline" and row["champion"]["architecture"] == "gru"
    assert row["champion"]["baseline"] and row["champion"]["baseline_mase"] > 0
    again = httpx.get(f"{url}/api/subjects", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    detail = httpx.get(f"{url}/api/subjects/airline").json()
    assert detail["series"] == ["airline"] and "model" in detail["backtest"]["overall"]
    points = httpx.get(f"{url}/api/subjects/airline/forecast").json()["points"]
    assert len(points) == 6 and all(p["lower80"] <= p["value"] <= p["upper80"] for p in points)
    assert all(
        p["q10"] == p["lower80"] and p["q50"] == p["value"] and p["q90"] == p["upper80"] for p in points
    )
    csv = httpx.get(f"{url}/api/subjects/airline/forecast", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert (
        csv.text.splitlines()[0].startswith("series,forecast_id,origin") and len(csv.text.splitlines()) == 7
    )
    vintage = points[0]["forecast_id"]
    same = httpx.get(f"{url}/api/subjects/airline/forecast", params={"vintage": vintage}).json()["points"]
    assert same == points
    assert httpx.get(f"{url}/api/subjects/airline/vintages").json()["vintages"][0]["forecast_id"] == vintage
    runs = httpx.get(f"{url}/api/runs", params={"limit": 1})
    assert runs.json()["next"] and 'rel="next"' in runs.headers["link"]
    following = httpx.get(url + runs.json()["next"]).json()
    assert following["data"][0]["id"] < runs.json()["data"][0]["id"]
    failed = httpx.get(f"{url}/api/runs", params={"failed": "true"}).json()["data"]
    assert [r["schedule"] for r in failed] == ["broken"]
    assert {s["name"] for s in httpx.get(f"{url}/api/schedules").json()["data"]} == {"nap", "broken"}
    assert httpx.get(f"{url}/api/corpora").json()["data"][0]["champion"]["version"]
    models = httpx.get(f"{url}/v1/models").json()["data"]
    assert [m["id"] for m in models] == ["shakespeare"]
    schema = httpx.get(f"{url}/openapi.json").json()
    assert {"/v1/completions", "/api/subjects", "/api/runs"} <= set(schema["paths"])


def test_data_api_errors(server):
    url = server.url
    r = httpx.get(f"{url}/api/subjects/nothing")
    assert r.status_code == 404 and "no series or group named 'nothing'" in r.json()["error"]["message"]
    r = httpx.get(f"{url}/api/runs", params={"limit": 5000})
    assert r.status_code == 400 and "--page-limit" in r.json()["error"]["message"]
    r = httpx.get(f"{url}/api/runs", params={"before": "x"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "before"
    r = httpx.get(f"{url}/api/subjects/airline/forecast", params={"vintage": 999999})
    assert r.status_code == 404


def test_a_token_guards_every_request(built):
    base, _ = built
    from openai import AuthenticationError, OpenAI

    with Server(base / "home", "--token", "auto") as s:  # made for the run, printed at start
        deadline = time.monotonic() + 10
        while not any("token (made for this run" in line for line in s.lines) and time.monotonic() < deadline:
            time.sleep(0.05)
        token = next(line for line in s.lines if "token (made for this run" in line).split(": ")[-1].strip()
        assert len(token) >= 16
        assert httpx.get(f"{s.url}/api/subjects").status_code == 401
        wrong = httpx.get(f"{s.url}/api/subjects", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "needs its token" in wrong.json()["error"]["message"]
        assert httpx.get(f"{s.url}/", follow_redirects=False).status_code == 401
        with pytest.raises(AuthenticationError):
            OpenAI(base_url=f"{s.url}/v1", api_key="nope", max_retries=0).completions.create(
                model="shakespeare", prompt=""
            )
        ok = OpenAI(base_url=f"{s.url}/v1", api_key=token, max_retries=0)
        assert ok.completions.create(model="shakespeare", prompt="", max_tokens=5).choices[0].text
        login = httpx.get(f"{s.url}/?token={token}", follow_redirects=False)
        assert login.status_code == 303 and "HttpOnly" in login.headers["set-cookie"]
        page = httpx.get(f"{s.url}/", cookies=login.cookies)
        assert page.status_code == 200 and "Text generators" in page.text
        assert httpx.get(f"{s.url}/healthz").status_code == 200


def test_serve_refuses_to_listen_beyond_loopback_without_a_token_and_names_a_busy_port(built, server):
    base, _ = built
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, str(ROOT / "cli.py"), "--home", str(base / "home"), "serve", *a],
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = run("--host", "0.0.0.0")
    assert out.returncode == 1 and "--host 0.0.0.0: listening beyond this machine needs a token" in out.stderr
    out = run("--token", "x")
    assert (
        out.returncode == 1 and "--token: 1 characters; a token needs at least 16 (--token auto" in out.stderr
    )
    assert "Traceback" not in out.stderr
    port = server.url.rsplit(":", 1)[1]
    out = run("--port", port)
    assert (
        out.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in out.stderr and "--port" in out.stderr
    )


def test_the_scheduler_and_the_service_share_a_store(built, server):
    """A run made while the service is up shows in its ledger at once."""
    base, _ = built
    before = httpx.get(f"{server.url}/api/runs", params={"schedule": "nap"}).json()["data"]
    env = {"RECUR_HOME": str(base / "home")}
    subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "jobs", "run", "nap"],
        check=True,
        capture_output=True,
        env=os.environ | env,
        timeout=120,
    )
    after = httpx.get(f"{server.url}/api/runs", params={"schedule": "nap"}).json()["data"]
    assert len(after) == len(before) + 1 and after[0]["id"] > before[0]["id"]
    assert after[0]["status"] == "succeeded"


def test_the_service_never_imports_tensorflow(built, tmp_path):
    base, _ = built
    shutil.copytree(base / "home", tmp_path / "copy")
    probe = (
        "import sys\n"
        "from starlette.testclient import TestClient\n"
        "from core.settings import Settings\n"
        "from service.app import create_app\n"
        "from service.config import ServeOptions\n"
        f"app = create_app(Settings.resolve({str(tmp_path / 'copy')!r}), ServeOptions())\n"
        "with TestClient(app) as c:\n"
        "    ask = {'model': 'shakespeare', 'max_tokens': 20}\n"
        "    assert c.post('/v1/completions', json=ask).status_code == 200\n"
        "    for path in ('/', '/subjects/airline', '/api/subjects/airline', '/api/runs'):\n"
        "        assert c.get(path).status_code == 200, path\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_the_dashboard_in_headless_chromium_generates_into_the_page(server, tmp_path):
    """The page opened in a real browser: the leaderboard and the runs are there, a sample generated from
    the box streams into the page, and what the page shows is the stored sample; a screenshot kept."""
    chromium = program("chromium", "chromium-browser", package="chromium")
    driver_path = program("chromedriver", package="chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in [*headless_chromium(tmp_path / "profile"), "--window-size=1100,1400"]:
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        browser.get(server.url + "/")
        assert "airline" in browser.find_element(By.TAG_NAME, "table").text
        assert "broken" in browser.page_source and "Recent runs, failures first" in browser.page_source
        form = browser.find_element(By.CSS_SELECTOR, 'form.gen[data-model="shakespeare"]')
        form.find_element(By.NAME, "prompt").send_keys("JULIET:")
        length = form.find_element(By.NAME, "max_tokens")
        length.clear()
        length.send_keys("250")
        form.find_element(By.NAME, "seed").send_keys("5")
        form.find_element(By.TAG_NAME, "button").click()
        WebDriverWait(browser, 60).until(lambda b: form.get_attribute("data-done") == "yes")
        shown = browser.execute_script("return arguments[0].querySelector('pre.out').textContent", form)
        status = form.find_elements(By.CSS_SELECTOR, ".status")[-1].text
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "dashboard.png"))
    finally:
        browser.quit()
    sample_id = int(status.split("stored as sample ")[1].split(" ")[0])
    stored = httpx.get(f"{server.url}/api/samples", params={"corpus": "shakespeare", "limit": 50}).json()[
        "data"
    ]
    row = next(r for r in stored if r["id"] == sample_id)
    assert shown == row["text"] and len(shown) == 250 and row["prompt"] == "JULIET:" and row["seed"] == 5
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 20_000


def test_the_readmes_service_examples_run_as_written(server):
    """The Service section's curl lines and its Python block, against this server (its address for
    127.0.0.1:8765)."""
    import re

    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Service") : text.index("\n## ", text.index("## Service") + 5)]
    here = lambda s: s.replace("http://127.0.0.1:8765", server.url)  # noqa: E731
    curls = [line for block in re.findall(r"```sh\n(.*?)```", section, re.S) for line in block.splitlines()]
    curls = [line for line in curls if line.startswith("curl ")]
    assert len(curls) == 8
    for line in curls:
        out = subprocess.run(["bash", "-c", here(line)], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0 and out.stdout, line
        assert not out.stdout.startswith('{"error"'), (line, out.stdout[:500])
    assert (
        "data: [DONE]"
        in subprocess.run(["bash", "-c", here(curls[1])], capture_output=True, text=True).stdout
    )
    (python,) = re.findall(r"```python\n(.*?)```", section, re.S)
    out = subprocess.run([sys.executable, "-c", here(python)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and len(out.stdout) >= 400, out.stderr[-2000:]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_the_service_on_postgresql(backend, recur, tmp_path, write):
    """The same service over a shared PostgreSQL store (the module's other tests use SQLite): a
    completion stored there, the data read back."""
    corpus = write("c.txt", (DATA / "tinyshakespeare.txt").read_text()[:20_000])
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    recur("corpus", "ingest", corpus, "--name", "shakespeare")
    recur("textgen", "train", "shakespeare", "--preset", "tiny", "--epochs", "1")
    from openai import OpenAI

    with Server(tmp_path / "home", env={"RECUR_DB": os.environ["RECUR_DB"]}) as s:
        client = OpenAI(base_url=f"{s.url}/v1", api_key="unused", max_retries=0)
        out = client.completions.create(model="shakespeare", prompt="ROMEO:", max_tokens=50, seed=3)
        stored = httpx.get(f"{s.url}/api/samples").json()["data"]
        assert [r["text"] for r in stored] == [out.choices[0].text]
        assert httpx.get(f"{s.url}/api/subjects").json()["data"][0]["name"] == "airline"
    assert recur.count("sample") == 1


def test_health_metrics_and_chat_completions(built, client):
    from prometheus_client.parser import text_string_to_metric_families

    base, _ = built
    with Server(base / "home") as fresh:  # from its first line: loading (503), then ok once warm
        seen = []
        while not seen or seen[-1][0] != 200:
            r = httpx.get(f"{fresh.url}/health")
            seen.append((r.status_code, r.json()))
        assert all(s == (503, {"status": "loading"}) for s in seen[:-1]) and seen[-1][1] == {"status": "ok"}
        loaded = httpx.get(f"{fresh.url}/api/service").json()["generators"]
        assert [g["model"].split("@")[0] for g in loaded] == ["shakespeare"]  # ok means loaded
        client = client.with_options(base_url=f"{fresh.url}/v1")
        client.completions.create(model="shakespeare", prompt="A", max_tokens=30, n=2, seed=1)
        list(client.completions.create(model="shakespeare", prompt="B", max_tokens=20, seed=2, stream=True))
        httpx.get(f"{fresh.url}/v2/nothing")
        r = httpx.post(f"{fresh.url}/v1/chat/completions", json={"model": "shakespeare", "messages": []})
        assert r.status_code == 404 and "send the text to continue as the prompt of /v1/completions" in r.text
        text = httpx.get(f"{fresh.url}/metrics").text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    post = (("method", "POST"), ("route", "/v1/completions"), ("status", "200"))
    assert samples[("recur_requests_total", post)] == 2
    assert (
        samples[("recur_requests_total", (("method", "GET"), ("route", "unmatched"), ("status", "404")))] == 1
    )
    assert samples[("recur_generated_characters_total", ())] == 80
    assert samples[("recur_samples_stored_total", ())] == 3
    assert samples[("recur_time_to_first_character_seconds_count", ())] == 2
    assert samples[("recur_completion_seconds_count", ())] == 2
    model = next(k[1] for k in samples if k[0] == "recur_batch_peak_streams")
    assert (
        samples[("recur_batch_peak_streams", model)] >= 2 and samples[("recur_batch_steps_total", model)] > 0
    )
