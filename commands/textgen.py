"""`recur textgen ...`: train a character-level generator on a corpus, sample from it."""

from __future__ import annotations

import sys

import click

from commands.common import device_options, emit, pass_settings
from commands.options import config_options
from core.params import params_of
from core.settings import Settings
from core.terminal import interactive
from textgen.config import PRESETS, SampleRequest, TextGenConfig, unescape
from textgen.config import preset as make


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
def textgen_train(settings: Settings, corpus: str, preset: str, **options) -> None:
    """Train on a corpus; reports validation loss in nats and bits per character every epoch. The new
    version becomes the corpus's champion when its validation loss beats the current one's.

    \b
    Examples:
      recur textgen train shakespeare                       # --preset cpu
      recur textgen train shakespeare --preset tiny --epochs 1 --preview
      recur textgen train shakespeare --cell lstm --layers 3 --units 512 --preset gpu
      recur textgen train shakespeare --resume --epochs 5
    """
    from pipelines.textgen import TextgenRun, train_textgen

    how = {k: options.pop(k) for k in ("resume", "preview", "force", "device", "precision")}
    say = (lambda _m: None) if settings.json else click.echo
    run = TextgenRun(**how, say=say, verbose=0 if settings.json else interactive())
    out = train_textgen(settings, corpus, make(preset, **options), run)
    emit(settings, out)


@textgen.command("sample")
@click.argument("corpus")
@config_options(params_of(SampleRequest), extra={"stop": {"callback": lambda _c, _p, v: unescape(v)}})
@pass_settings
def textgen_sample(settings: Settings, corpus: str, **options) -> None:
    """Generate text, streamed as it is produced, stored with its parameters, seed and model version.

    \b
    Examples:
      recur textgen sample shakespeare --prompt "ROMEO:" --length 400 --temperature 0.8
      recur textgen sample shakespeare --n 4 --top-p 0.9 --seed 7 --stop "\\n\\n"
    """
    from pipelines.sampling import sample_text

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


@textgen.command("score")
@click.argument("corpus")
@click.argument("file", type=click.Path(dir_okay=False))
@config_options([p for p in params_of(SampleRequest) if p.name in ("version", "unknown")])
@click.option("--per-line", is_flag=True, help="Also each line's nats and bits per character.")
@pass_settings
def textgen_score(settings: Settings, corpus: str, file: str, **options) -> None:
    """How likely a text is under a corpus's generator: nats and bits per character, each character given
    all before it (lower: it reads more like the corpus). Nothing is stored.

    \b
    Examples:
      recur textgen score shakespeare data/moby_dick.txt
      recur textgen score shakespeare lines.txt --per-line
    """
    from pipelines.sampling import score_file

    out = score_file(settings, corpus, file, **options)
    if settings.json:
        emit(settings, out)
        return
    for row in out.get("lines", []):
        shown = "-" if row["nats"] is None else f"{row['nats']:.3f}"
        click.echo(f"{row['line']:>6}  {shown:>6} nats  {row['text'][:70]}")
    skipped = f"; {out['skipped']} unknown characters skipped" if out["skipped"] else ""
    click.echo(
        f"{out['file']}: {out['nats']:.4f} nats = {out['bits']:.4f} bits per character over "
        f"{out['chars']:,} characters (version {out['version']}{skipped})"
    )
