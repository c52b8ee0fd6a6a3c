"""A report as data (sections of text, tables and figures) and its three writers: one self-contained HTML
file, Markdown with a folder of PNGs beside it, and a multi-page PDF. Only this module makes Figures."""

from __future__ import annotations

import base64
import html
import io
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure

from core.errors import InputError
from core.files import slugify, write_atomic
from reports.text import cell

STYLE = {"font.family": "DejaVu Sans", "font.size": 8, "axes.titlesize": 10, "figure.dpi": 110}


@dataclass
class Table:
    columns: list[str]
    rows: list[dict]
    caption: str = ""


@dataclass
class Plot:
    name: str
    draw: Callable  # draw(fig) puts axes on the figure
    size: tuple[float, float] = (7.5, 3.2)
    _png: bytes | None = None

    def png(self) -> bytes:
        if self._png is None:
            import matplotlib

            with matplotlib.rc_context(STYLE):
                fig = Figure(figsize=self.size, layout="constrained")
                self.draw(fig)
                buffer = io.BytesIO()
                fig.savefig(buffer, format="png", dpi=110)
            self._png = buffer.getvalue()
        return self._png


@dataclass
class Section:
    title: str
    blocks: list = field(default_factory=list)  # str (a paragraph), Table or Plot


@dataclass
class Report:
    title: str
    subtitle: str
    sections: list[Section]

    def plots(self) -> list[Plot]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Plot)]


CSS = " ".join(
    [
        "body{font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;margin:0 auto;",
        "max-width:960px;padding:16px;color:#1f2937;line-height:1.45}",
        "h1{font-size:1.6em;margin-bottom:0}",
        "h2{border-bottom:1px solid #e5e7eb;padding-bottom:4px;margin-top:2em}",
        ".sub{color:#6b7280;margin-top:4px}img{max-width:100%;height:auto;display:block;margin:8px 0}",
        ".scroll{overflow-x:auto}table{border-collapse:collapse;font-size:0.85em;margin:8px 0}",
        "th,td{border:1px solid #e5e7eb;padding:3px 8px;text-align:right;white-space:nowrap}",
        "th{background:#f9fafb}",
        "td:first-child,th:first-child{text-align:left}caption{text-align:left;color:#6b7280;padding:4px 0}",
    ]
)


def _html_table(t: Table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell(r.get(c)))}</td>" for c in t.columns) + "</tr>"
        for r in t.rows
    )
    caption = f"<caption>{html.escape(t.caption)}</caption>" if t.caption else ""
    table = f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


def to_html(report: Report) -> str:
    parts = [f"<h1>{html.escape(report.title)}</h1><p class='sub'>{html.escape(report.subtitle)}</p>"]
    for section in report.sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        for block in section.blocks:
            if isinstance(block, Table):
                parts.append(_html_table(block))
            elif isinstance(block, Plot):
                data = base64.b64encode(block.png()).decode()
                parts.append(f'<img alt="{html.escape(block.name)}" src="data:image/png;base64,{data}">')
            else:
                parts.append(f"<p>{html.escape(str(block))}</p>")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(report.title)}</title><style>{CSS}</style></head><body>"
        + "".join(parts)
        + "</body></html>"
    )


MD_ACTIVE = re.compile(r"([\\`*_\[\]|#!{}<>])")


def md(text: object) -> str:
    """Text as Markdown shows it literally: Markdown's punctuation and HTML's angle brackets
    backslash-escaped (a name's `<script>` stays text; no links, images or emphasis smuggled in)."""
    return MD_ACTIVE.sub(r"\\\1", str(text).replace("&", "&amp;")).replace("\n", " ")


def _md_table(t: Table) -> str:
    lines = ["| " + " | ".join(md(c) for c in t.columns) + " |", "|" + "---|" * len(t.columns)]
    lines += ["| " + " | ".join(md(cell(r.get(c))) for c in t.columns) + " |" for r in t.rows]
    return (f"*{md(t.caption)}*\n\n" if t.caption else "") + "\n".join(lines)


MARK = ".recur-report"


def write_markdown(report: Report, out: Path) -> list[Path]:
    """`out` plus a folder of PNGs beside it (`<stem>_files/`), linked relatively. A folder of that name
    is replaced only when recur wrote it (it holds the MARK file); anything else there is left alone."""
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
    parts, used = [f"# {md(report.title)}\n\n{md(report.subtitle)}\n"], set()
    for section in report.sections:
        parts.append(f"## {md(section.title)}\n")
        for block in section.blocks:
            if isinstance(block, Table):
                parts.append(_md_table(block) + "\n")
            elif isinstance(block, Plot):
                name = _unique(slugify(block.name, 60), used) + ".png"
                (staging / name).write_bytes(block.png())
                parts.append(f"![{md(block.name)}]({folder.name}/{name})\n")
            else:
                parts.append(f"{md(block)}\n")
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


def write_pdf(report: Report, out: Path) -> int:
    """One page for the title and summary, then each section: its text and tables, then its figures."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    pages = 0

    def write(tmp: Path) -> None:
        nonlocal pages
        with matplotlib.rc_context(STYLE), PdfPages(tmp) as pdf:
            for page in _pdf_pages(report):
                pdf.savefig(page)
                pages += 1

    write_atomic(out, write)
    return pages


def _pdf_pages(report: Report):
    for i, section in enumerate(report.sections):
        lines = [report.title, report.subtitle, ""] if i == 0 else []
        lines += [section.title, ""]
        for block in section.blocks:
            if isinstance(block, Table):
                lines += [*_text_table(block), ""]
            elif not isinstance(block, Plot):
                lines += [str(block), ""]
        yield _text_page(lines)
        for block in section.blocks:
            if isinstance(block, Plot):
                fig = Figure(figsize=(8.27, 4.2), layout="constrained")
                block.draw(fig)
                yield fig


def _text_table(t: Table, limit: int = 40) -> list[str]:
    cells = [[cell(r.get(c)) for c in t.columns] for r in t.rows[:limit]]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(t.columns)]
    fmt = lambda vals: "  ".join(v.ljust(w)[:28] for v, w in zip(vals, widths, strict=True))  # noqa: E731
    return ([t.caption] if t.caption else []) + [fmt(t.columns)] + [fmt(r) for r in cells]


def _text_page(lines: Sequence[str]) -> Figure:
    fig = Figure(figsize=(8.27, 11.69))
    fig.text(0.06, 0.96, "\n".join(lines[:90]), va="top", ha="left", family="DejaVu Sans Mono", fontsize=7)
    return fig
