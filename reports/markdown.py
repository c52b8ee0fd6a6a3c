"""The report as Markdown with its figures as PNGs in a folder beside it (`<stem>_files/`), linked
relatively, so the pair can be committed, mailed as a zip or pasted into a wiki."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from core.errors import InputError
from core.files import slugify, write_atomic
from reports.document import Plot, Report, Table, TextSample, Writer

MD_ACTIVE = re.compile(r"([\\`*_\[\]|#!{}<>])")
MARK = ".recur-report"


def md(text: object) -> str:
    """Text as Markdown shows it literally: Markdown's punctuation and HTML's angle brackets
    backslash-escaped (a name's `<script>` stays text; no links, images or emphasis smuggled in)."""
    return MD_ACTIVE.sub(r"\\\1", str(text).replace("&", "&amp;")).replace("\n", " ")


def _table(t: Table) -> str:
    align = ["---:" if t.numeric(c) else ":---" for c in t.columns]
    lines = ["| " + " | ".join(md(c) for c in t.columns) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(md(v) for v in row) + " |" for row in t.cells()]
    return (f"*{md(t.caption)}*\n\n" if t.caption else "") + "\n".join(lines)


def _sample(s: TextSample) -> str:
    """A fenced block keeps the text's line breaks; the prompt, which a block cannot mark, is named above."""
    body = s.prompt + s.text + (f"\n… {s.omitted:,} more characters" if s.omitted else "")
    fence = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", body)), default=0))
    prompt = f" · the first {len(s.prompt)} characters are the prompt" if s.prompt else ""
    return f"*{md(s.caption)}{prompt}*\n\n{fence}text\n{body}\n{fence}"


class _Markdown(Writer):
    def __init__(self, staging: Path, folder: str) -> None:
        self.parts: list[str] = []
        self.staging, self.folder, self.used = staging, folder, set()

    def heading(self, title: str) -> None:
        self.parts.append(f"## {md(title)}\n")

    def paragraph(self, text: str) -> None:
        self.parts.append(f"{md(text)}\n")

    def table(self, t: Table) -> None:
        self.parts.append(_table(t) + "\n")

    def figure(self, p: Plot) -> None:
        name = _unique(slugify(p.name, 60), self.used) + ".png"
        (self.staging / name).write_bytes(p.png())
        self.parts.append(f"![{md(p.alt or p.name)}]({self.folder}/{name})\n")

    def sample(self, s: TextSample) -> None:
        self.parts.append(_sample(s) + "\n")


def write_markdown(report: Report, out: Path) -> list[Path]:
    """`out` plus a folder of PNGs beside it. A folder of that name is replaced only when recur wrote it
    (it holds the MARK file); anything else there is left alone."""
    folder = out.with_name(f"{out.stem}_files")
    if folder.exists() and not (folder / MARK).is_file():
        raise InputError(
            f"--out {out}: {folder} exists and was not written by recur; move it or choose another name"
        )
    staging = out.with_name(f".{out.stem}_files.partial")
    if staging.exists() and (staging / MARK).is_file():
        shutil.rmtree(staging)  # left by an export that was killed
    staging.mkdir()
    (staging / MARK).write_text("written by recur report export; replaced by the next export\n")
    writer = _Markdown(staging, folder.name)
    writer.parts.append(f"# {md(report.title)}\n\n{md(report.subtitle)}\n")
    if report.period:
        writer.parts.append(f"{md(report.period)}\n")
    writer.render(report)
    parts = writer.parts
    if folder.exists():
        shutil.rmtree(folder)
    staging.rename(folder)
    write_atomic(out, lambda tmp: tmp.write_text("\n".join(parts), encoding="utf-8"))
    return [out, folder]


def _unique(name: str, used: set[str]) -> str:
    candidate, k = name, 2
    while candidate in used:
        candidate, k = f"{name}-{k}", k + 1
    used.add(candidate)
    return candidate
