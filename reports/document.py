"""A report as data: sections of paragraphs, tables, figures and text samples. The three writers render
this one model: reports/html.py (one self-contained file), reports/markdown.py (Markdown with a folder of
PNGs) and reports/pdf.py (typeset A4 pages). Only this module makes Figures."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from matplotlib.figure import Figure

from reports.text import cell

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "legend.fontsize": 8.5,
    "figure.dpi": 110,
}


NARROW_WIDTH = 4.2  # inches: a figure's width on a phone


@dataclass
class Table:
    columns: list[str]
    rows: list[dict]
    caption: str = ""

    def numeric(self, column: str) -> bool:
        """A column of numbers (blanks allowed) is aligned right; anything else left."""
        values = [r.get(column) for r in self.rows if r.get(column) is not None]
        return bool(values) and all(_is_number(v) for v in values)

    def cells(self) -> list[list[str]]:
        """Every cell as text; a column of numbers with the same decimals throughout, set by its largest."""
        scale = {c: _scale(self.rows, c) for c in self.columns if self.numeric(c)}
        return [[number(r.get(c), scale.get(c)) for c in self.columns] for r in self.rows]


@dataclass
class Plot:
    name: str
    draw: Callable  # draw(fig) puts axes on the figure
    size: tuple[float, float] = (7.5, 3.2)
    alt: str = ""  # what the figure shows, for readers who cannot see it
    narrow: tuple[float, float] | None = None  # the size on a phone; default: NARROW_WIDTH, 1.3× as tall
    _png: dict = field(default_factory=dict)

    def png(self, dpi: int = 110, phone: bool = False) -> bytes:
        if (dpi, phone) not in self._png:
            self._png[dpi, phone] = self.render("png", dpi, phone)
        return self._png[dpi, phone]

    def phone_size(self) -> tuple[float, float]:
        return self.narrow or (NARROW_WIDTH, round(self.size[1] * 1.3, 2))

    def render(self, fmt: str, dpi: int = 110, phone: bool = False) -> bytes:
        """The figure drawn at its size, or at its phone size: a narrower figure whose type stays readable
        when a 390-pixel screen shows it whole (draw functions may lay out for the width they get)."""
        import matplotlib

        with matplotlib.rc_context(STYLE):
            fig = Figure(figsize=self.phone_size() if phone else self.size, layout="constrained")
            self.draw(fig)
            buffer = io.BytesIO()
            fig.savefig(buffer, format=fmt, dpi=dpi)
        return buffer.getvalue()


@dataclass
class TextSample:
    """A generated text shown whole, line breaks kept: the prompt that primed it marked apart."""

    prompt: str
    text: str
    caption: str  # version, temperature, seed, ...
    omitted: int = 0  # characters beyond what the report shows


@dataclass
class Section:
    title: str
    blocks: list = field(default_factory=list)  # str (a paragraph), Table, Plot or TextSample


@dataclass
class Report:
    title: str
    subtitle: str
    sections: list[Section]
    period: str = ""  # the time the report covers, stated on every rendering (and every PDF page)

    def plots(self) -> list[Plot]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Plot)]


class Writer:
    """What each format supplies: how it renders a heading, a paragraph, a table, a figure and a sample.
    `render` walks the one document in order, so every format has the same sections and blocks."""

    def heading(self, title: str) -> None: ...
    def paragraph(self, text: str) -> None: ...
    def table(self, t: Table) -> None: ...
    def figure(self, p: Plot) -> None: ...
    def sample(self, s: TextSample) -> None: ...

    def render(self, report: Report) -> None:
        for section in report.sections:
            self.heading(section.title)
            for block in section.blocks:
                if isinstance(block, Table):
                    self.table(block)
                elif isinstance(block, Plot):
                    self.figure(block)
                elif isinstance(block, TextSample):
                    self.sample(block)
                else:
                    self.paragraph(str(block))


def _is_number(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)) or hasattr(value, "item")


def _scale(rows: list[dict], column: str) -> float:
    values = [abs(float(r[column])) for r in rows if r.get(column) is not None]
    finite = [v for v in values if math.isfinite(v)]
    return max(finite, default=0.0)


def number(value: object, scale: float | None = None) -> str:
    """A cell as a reader wants it: floats with decimals set by their size (or by the largest of their
    column, `scale`), thousands separated."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and math.isfinite(value):
        size = abs(value) if scale is None else scale
        if size >= 1000:
            return f"{value:,.0f}"
        if size >= 100:
            return f"{value:.1f}"
        return f"{value:.3f}" if size >= 1 else f"{value:.4f}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10000:
        return f"{value:,}"
    return cell(value)
