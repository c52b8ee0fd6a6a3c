"""The text generator from the CLI: training on a bundled corpus slice, sampling, storage, bad input."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3

import pytest

from tests.conftest import DATA
from tests.test_light_commands import loaded_modules

TINY = ["--preset", "tiny", "--epochs", "1", "--seq-len", "32", "--units", "16"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A store with a tiny generator trained on a slice of Shakespeare, built once for the module."""
    from tests.conftest import Recur

    base = tmp_path_factory.mktemp("textgen")
    corpus = base / "shake.txt"
    corpus.write_text((DATA / "tinyshakespeare.txt").read_text()[:20_000])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RECUR_HOME", str(base / "home"))
        mp.delenv("RECUR_DB", raising=False)
        recur = Recur(base / "home")
        recur("corpus", "ingest", corpus, "--name", "shake")
        out = recur.json("textgen", "train", "shake", *TINY)
    assert out["alias"] == "champion" and out["val_bpc"] == pytest.approx(
        out["val_loss"] / 0.6931471805599453
    )
    return base / "home"


@pytest.fixture
def trained(built, home, recur):
    shutil.copytree(built, home)
    return recur


def test_training_reports_bits_per_char_each_epoch(recur, write):
    recur(
        "corpus", "ingest", write("c.txt", (DATA / "tinyshakespeare.txt").read_text()[:30_000]), "--name", "c"
    )
    output = recur("textgen", "train", "c", "--preset", "tiny", "--epochs", "2", "--preview").output
    assert "epoch 1:" in output and "epoch 2:" in output and "bits/char" in output and "  | " in output
    assert re.search(r"^reason +first version$", output, re.MULTILINE), output


def test_same_seed_same_text_and_samples_are_stored(trained, home):
    a = trained.json("textgen", "sample", "shake", "--seed", "11", "--length", "60", "--prompt", "ROMEO:")
    b = trained.json("textgen", "sample", "shake", "--seed", "11", "--length", "60", "--prompt", "ROMEO:")
    assert a["samples"][0]["text"] == b["samples"][0]["text"] and len(a["samples"][0]["text"]) == 60
    with sqlite3.connect(home / "recur.db") as conn:
        rows = conn.execute("SELECT prompt, seed, params, model_version_id, text FROM sample").fetchall()
    assert len(rows) == 2 and rows[0][0] == "ROMEO:" and rows[0][1] == 11
    params = json.loads(rows[0][2])
    assert params["temperature"] == 1.0 and params["length"] == 60 and "longest_copied" in params
    assert rows[0][3] == a["version"] and rows[0][4] == a["samples"][0]["text"]


def test_many_streams_greedy_and_stop(trained):
    out = trained.json("textgen", "sample", "shake", "--n", "4", "--length", "50", "--seed", "3")
    assert len(out["samples"]) == 4 and len({s["text"] for s in out["samples"]}) > 1
    greedy = trained.json("textgen", "sample", "shake", "--n", "2", "--length", "30", "--temperature", "0")
    assert greedy["samples"][0]["text"] == greedy["samples"][1]["text"]
    stopped = trained.json("textgen", "sample", "shake", "--length", "400", "--seed", "1", "--stop", "\n")
    assert "\n" not in stopped["samples"][0]["text"] and len(stopped["samples"][0]["text"]) < 400


def test_streaming_prints_the_prompt_and_the_text(trained):
    result = trained("textgen", "sample", "shake", "--prompt", "ROMEO:", "--length", "40", "--seed", "2")
    assert result.output.startswith("ROMEO:") and "longest run copied from the corpus" in result.output


def test_sampling_imports_no_training_framework(trained):
    heavy = loaded_modules("textgen", "sample", "shake", "--length", "20", "--seed", "1")
    assert not heavy & {"tensorflow", "keras", "jax", "torch"}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--temperature", "-1"], "--temperature -1.0: must be in [0, 10] (0 is greedy)"),
        (["--temperature", "1e308"], "--temperature 1e+308: must be in [0, 10] (0 is greedy)"),
        (
            ["--n", "100000", "--length", "1"],
            "--n 100000: at most 16 samples at once; --max-n raises the cap",
        ),
        (
            ["--length", "100000000"],
            "--length 100000000: at most 4000 characters a sample; --max-length raises",
        ),
        (["--n", "20", "--max-n", "5000"], "--max-n 5000: must be in [1, 1024]"),
        (["--length", "10", "--max-length", "0"], "--max-length 0: must be in [1, 1000000]"),
        (["--top-p", "1.5"], "--top-p 1.5: must be in (0, 1]"),
        (["--top-p", "0"], "--top-p 0.0: must be in (0, 1]"),
        (["--top-k", "0"], "--top-k 0: must be at least 1"),
        (["--prompt", "Moë ☃"], "never saw: 'ë', '☃'; remove them or pass --unknown skip"),
    ],
)
def test_bad_sampling_requests(trained, args, fragment):
    assert fragment in trained.fails("textgen", "sample", "shake", *args)
    assert trained.count("sample") == 0


def test_unknown_prompt_characters_can_be_skipped(trained):
    out = trained.json("textgen", "sample", "shake", "--prompt", "Zoë", "--unknown", "skip", "--length", "5")
    assert len(out["samples"][0]["text"]) == 5


def test_unknown_corpus_and_untrained_corpus(recur, write):
    recur("corpus", "ingest", write("a.txt", "abc " * 100), "--name", "alpha")
    assert "no corpus named 'beta'; existing: 'alpha'" in recur.fails("textgen", "sample", "beta")
    assert "has no trained text generator" in recur.fails("textgen", "sample", "alpha")
    assert "no corpus named 'beta'" in recur.fails("textgen", "train", "beta", *TINY)


def test_too_short_a_corpus_says_the_numbers(recur, write):
    recur("corpus", "ingest", write("a.txt", "to be or not to be\n" * 5), "--name", "short")
    message = recur.fails("textgen", "train", "short", *TINY)
    assert "the corpus has 95 characters; --seq-len 32 needs at least 264" in message


def test_resume_continues_from_the_latest_version(trained):
    out = trained.json("textgen", "train", "shake", "--resume", "--epochs", "1", "--preset", "tiny")
    versions = trained.json("models", "list", "--kind", "textgen")
    assert len(versions) == 2 and out["version"] == versions[-1]["id"]
    shown = trained.json("models", "show", str(out["version"]))
    assert shown["config"]["resumed"] is True and shown["config"]["units"] == 16  # the resumed architecture


def test_corrupt_weights_are_refused(trained, home):
    with sqlite3.connect(home / "recur.db") as conn:
        conn.execute("UPDATE model_version SET inference = zeroblob(100) WHERE kind = 'textgen'")
    assert "sha256 does not match" in trained.fails("textgen", "sample", "shake")


def test_a_typed_stop_string_is_understood_and_the_screen_shows_what_is_stored(trained):
    r"""`--stop "\n\n"` as a shell passes it (a backslash and an n), streamed: what is printed is exactly
    the prompt and the stored text, the stop string in neither."""
    args = ("textgen", "sample", "shake", "--prompt", "ROMEO:", "--length", "2000", "--seed", "4")
    shown = trained(*args, "--stop", r"\n\n").output.split("\n\n[version")[0]
    with trained.db() as conn:
        [(text, params)] = conn.execute("SELECT text, params FROM sample ORDER BY id DESC LIMIT 1")
    assert len(text) < 2000 and "\n\n" not in text and json.loads(params)["stop"] == "\n\n"
    assert shown == "ROMEO:" + text


def test_skipped_prompt_characters_are_not_shown(trained):
    args = ("textgen", "sample", "shake", "--prompt", "Moë", "--unknown", "skip", "--length", "5")
    out = trained(*args).output
    assert out.startswith("Mo") and "ë" not in out


def test_a_version_that_does_not_exist_is_named(trained):
    assert "no model version 99" in trained.fails("textgen", "sample", "shake", "--version", "99")


def test_weights_holding_an_object_array_are_never_unpickled(trained, home):
    import hashlib
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, w=np.array([{"a": 1}], dtype=object))
    data = buffer.getvalue()
    with sqlite3.connect(home / "recur.db") as conn:
        conn.execute(
            "UPDATE model_version SET inference = ?, inference_sha256 = ? WHERE kind = 'textgen'",
            (data, hashlib.sha256(data).hexdigest()),
        )
    out = trained.fails("textgen", "sample", "shake")
    assert "not plain arrays" in out and "Traceback" not in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--decay", "0"], "--decay 0.0: must be in (0, 1]"),
        (["--decay", "1.5"], "--decay 1.5: must be in (0, 1]"),
        (["--learning-rate", "0"], "--learning-rate 0.0: must be in (0, 1]"),
        (["--learning-rate", "1e9"], "--learning-rate 1000000000.0: must be in (0, 1]"),
    ],
)
def test_the_schedule_options_are_bounded(recur, write, args, fragment):
    recur("corpus", "ingest", write("a.txt", "abc " * 100), "--name", "alpha")
    assert fragment in recur.fails("textgen", "train", "alpha", *TINY, *args)


def test_score_a_file_whole_and_per_line_and_name_unseen_characters(trained, write):
    from core.settings import Settings
    from pipelines.sampling import load
    from textgen.sampler import score

    seen = (DATA / "tinyshakespeare.txt").read_text()[20_000:20_400]
    out = trained.json("textgen", "score", "shake", write("seen.txt", seen), "--per-line")
    loaded = load(Settings.resolve(None), "shake", None)
    nats = -score(loaded.model, loaded.vocab.encode(seen)).logprobs
    assert out["chars"] == len(seen) - 1 and out["nats"] == pytest.approx(nats.mean(), abs=1e-9)
    assert out["bits"] == pytest.approx(out["nats"] / 0.6931471805599453)
    lines = out["lines"]
    assert len(lines) == seen.count("\n") + (not seen.endswith("\n"))
    assert sum(r["chars"] for r in lines) == out["chars"]
    assert sum(r["nats"] * r["chars"] for r in lines if r["chars"]) == pytest.approx(nats.sum(), rel=1e-9)
    shown = trained("textgen", "score", "shake", write("seen.txt", seen)).output
    assert f"{out['nats']:.4f} nats = {out['bits']:.4f} bits per character over {out['chars']:,}" in shown
    message = trained.fails("textgen", "score", "shake", write("odd.txt", "ROMEO:\nMoë says ☃\n"))
    assert "odd.txt: line 2, column 3: 'ë' is a character version" in message and "--unknown skip" in message
    skipped = trained.json(
        "textgen", "score", "shake", write("odd.txt", "ROMEO:\nMoë says ☃\n"), "--unknown", "skip"
    )
    assert skipped["skipped"] == 2 and skipped["chars"] == len("ROMEO:\nMo says \n") - 1
    folder = write("d/x.txt", "abc").parent
    assert "is a directory" in trained.fails("textgen", "score", "shake", folder, code=2)
    assert trained.count("sample") == 0
