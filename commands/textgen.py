"""`recur textgen ...`: train a character-level generator on a corpus, sample from it."""

from __future__ import annotations

import sys

import click

from commands.common import FLOAT, device_options, emit, pass_settings
from commands.options import config_options
from core.params import params_of
from core.settings import Settings
from textgen.config import PRESETS, TextGenConfig


@click.group()
def textgen() -> None:
    """Character-level text generators: train on a corpus, sample on demand."""


@textgen.command("train")
@click.argument("corpus")
@click.option(
    "--preset",
    type=click.Choice(list(PRESETS)),
    default="cpu",
    show_default=True,
    help="Sizes that suit a quick check, a 2-core CPU (~20 minutes), or a GPU.",
)
@config_options(params_of(TextGenConfig), defaults=False, note="Default: the preset's.")
@click.option("--resume", is_flag=True, help="Continue from the corpus's latest version.")
@click.option("--preview", is_flag=True, help="Print a short sample after every epoch.")
@click.option("--force", is_flag=True, help="Make it the champion even if its validation loss is worse.")
@device_options
@pass_settings
def textgen_train(
    settings: Settings,
    corpus: str,
    preset: str,
    resume: bool,
    preview: bool,
    force: bool,
    device: str,
    precision: str,
    **overrides,
) -> None:
    """Train on a corpus; reports validation loss in nats and bits per character every epoch. The new
    version becomes the corpus's champion when its validation loss beats the current one's.

    \b
    Examples:
      recur textgen train shakespeare                       # --preset cpu
      recur textgen train shakespeare --preset tiny --epochs 1 --preview
      recur textgen train shakespeare --cell lstm --layers 3 --units 512 --preset gpu
      recur textgen train shakespeare --resume --epochs 5
    """
    from core.terminal import interactive
    from pipelines.textgen import train_textgen
    from textgen.config import preset as make

    cfg = make(preset, **overrides)
    say = (lambda _m: None) if settings.json else click.echo
    verbose = 0 if settings.json else interactive()
    out = train_textgen(settings, corpus, cfg, resume, preview, say, verbose, force, device, precision)
    emit(settings, out)


ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\"}


def unescape(value: str | None) -> str | None:
    r"""`\n`, `\t`, `\r` and `\\` typed on a command line, as the characters they name."""
    if value is None:
        return None
    import re

    return re.sub(r"\\([ntr\\])", lambda m: ESCAPES[m[1]], value)


@textgen.command("sample")
@click.argument("corpus")
@click.option("--prompt", default="", help="Text that primes the model's state; the sample continues it.")
@click.option("--length", type=int, default=300, show_default=True, help="Characters per sample.")
@click.option("--temperature", type=FLOAT, default=1.0, show_default=True, help="0 is greedy.")
@click.option("--top-k", type=int, help="Sample only from the k likeliest characters.")
@click.option("--top-p", type=FLOAT, default=1.0, show_default=True, help="Nucleus: the likeliest mass p.")
@click.option("--n", type=int, default=1, show_default=True, help="Samples at once.")
@click.option("--seed", type=int, help="Same seed, same text (stored with each sample).")
@click.option(
    "--stop",
    callback=lambda _c, _p, v: unescape(v),
    help=r"End a sample when it produces this string (\n, \t, \r and \\ are understood).",
)
@click.option("--version", "version", type=int, help="Model version; default: the corpus's champion.")
@click.option(
    "--unknown",
    type=click.Choice(["error", "skip"]),
    default="error",
    show_default=True,
    help="Prompt characters the model never saw: refuse, or drop them.",
)
@pass_settings
def textgen_sample(settings: Settings, corpus: str, **options) -> None:
    """Generate text, streamed as it is produced, stored with its parameters, seed and model version.

    \b
    Examples:
      recur textgen sample shakespeare --prompt "ROMEO:" --length 400 --temperature 0.8
      recur textgen sample shakespeare --n 4 --top-p 0.9 --seed 7 --stop "\\n\\n"
    """
    from pipelines.sampling import SampleRequest, sample_text

    streaming = options["n"] == 1 and not settings.json

    def out(text: str) -> None:  # the prompt as the model saw it, then each final character
        sys.stdout.write(text)
        sys.stdout.flush()

    result = sample_text(settings, corpus, SampleRequest(**options), out if streaming else None)
    if settings.json:
        emit(settings, result)
        return
    for k, s in enumerate(result["samples"]):
        if not streaming:
            click.echo(f"--- sample {k + 1} ---\n{result['prompt']}{s['text']}")
    copied = ", ".join(str(s["longest_copied"]["length"]) for s in result["samples"])
    click.echo(
        f"\n\n[version {result['version']}, seed {result['seed']}, longest run copied from the corpus: "
        f"{copied} characters]",
        err=True,
    )
