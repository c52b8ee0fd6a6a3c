"""The report typeset on A4 pages with ReportLab: proportional type (DejaVu, from matplotlib's own fonts,
so every character a corpus holds has a glyph), wrapped paragraphs, tables that fit the text width (cells
wrap, the header row repeats on each page), figures sized to the text width, text samples in a monospace
block with the prompt in bold, and on every page the report's title, the period covered and the page
number."""

from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape

from core.files import write_atomic
from reports.document import Plot, Report, Table, TextSample, Writer

FONT_FILES = {
    "recur-sans": "DejaVuSans.ttf",
    "recur-sans-bold": "DejaVuSans-Bold.ttf",
    "recur-sans-italic": "DejaVuSans-Oblique.ttf",
    "recur-sans-bolditalic": "DejaVuSans-BoldOblique.ttf",
    "recur-mono": "DejaVuSansMono.ttf",
    "recur-mono-bold": "DejaVuSansMono-Bold.ttf",
}
MONO_ADVANCE = 0.602  # DejaVu Sans Mono's advance width, in ems
MONO_SIZE = 7.5
FIGURE_DPI = 200


def write_pdf(report: Report, out: Path) -> int:
    """Write the PDF atomically; the number of pages."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    _register_fonts()
    margin = 18 * mm
    counter: list[int] = []

    def write(tmp: Path) -> None:
        doc = SimpleDocTemplate(
            str(tmp),
            pagesize=A4,
            leftMargin=margin,
            rightMargin=margin,
            topMargin=margin + 4 * mm,
            bottomMargin=margin,
            title=report.title,
            subject=report.period,
            author="recur",
        )
        story = _story(report, doc.width, doc.height)
        doc.build(story, canvasmaker=_numbered(report, margin, counter))

    write_atomic(out, write)
    return counter[-1]


def _register_fonts() -> None:
    import matplotlib
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "recur-sans" in pdfmetrics.getRegisteredFontNames():
        return
    root = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    for name, file in FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(root / file)))
    sans, mono = "recur-sans", "recur-mono"
    pdfmetrics.registerFontFamily(
        sans, normal=sans, bold=f"{sans}-bold", italic=f"{sans}-italic", boldItalic=f"{sans}-bolditalic"
    )
    pdfmetrics.registerFontFamily(
        mono, normal=mono, bold=f"{mono}-bold", italic=mono, boldItalic=f"{mono}-bold"
    )


def _styles() -> dict:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    body = ParagraphStyle("body", fontName="recur-sans", fontSize=9.5, leading=13, spaceAfter=5)
    grey = colors.HexColor("#6b7280")
    return {
        "body": body,
        "title": ParagraphStyle("title", body, fontName="recur-sans-bold", fontSize=18, leading=22),
        "sub": ParagraphStyle("sub", body, textColor=grey, fontSize=9, leading=12, spaceAfter=2),
        "h2": ParagraphStyle(
            "h2", body, fontName="recur-sans-bold", fontSize=13, leading=16, spaceBefore=12, keepWithNext=1
        ),
        "caption": ParagraphStyle("caption", body, fontSize=8, leading=10, textColor=grey, keepWithNext=1),
        "cell": ParagraphStyle("cell", body, fontSize=7.5, leading=9.2, spaceAfter=0),
        "num": ParagraphStyle("num", body, fontSize=7.5, leading=9.2, spaceAfter=0, alignment=TA_RIGHT),
        "head": ParagraphStyle(
            "head", body, fontName="recur-sans-bold", fontSize=7.5, leading=9.2, spaceAfter=0
        ),
        "mono": ParagraphStyle(
            "mono",
            body,
            fontName="recur-mono",
            fontSize=MONO_SIZE,
            leading=9.5,
            backColor=colors.HexColor("#f8fafc"),
            borderColor=colors.HexColor("#e5e7eb"),
            borderWidth=0.5,
            borderPadding=4,
            leftIndent=4,
            rightIndent=4,
            spaceBefore=6,
            spaceAfter=4,
        ),
    }


class _Story(Writer):
    def __init__(self, width: float, height: float) -> None:
        self.st, self.width, self.height, self.flow = _styles(), width, height, []

    def heading(self, title: str) -> None:
        self.flow.append(_paragraph(title, self.st["h2"]))

    def paragraph(self, text: str) -> None:
        self.flow.append(_paragraph(text, self.st["body"]))

    def table(self, t: Table) -> None:
        self.flow += _table(t, self.width, self.st)

    def figure(self, p: Plot) -> None:
        self.flow.append(_figure(p, self.width, self.height))

    def sample(self, s: TextSample) -> None:
        self.flow += _sample(s, self.width, self.st)


def _paragraph(text: str, style):
    from reportlab.platypus import Paragraph

    return Paragraph(escape(text), style)


def _story(report: Report, width: float, height: float) -> list:
    story = _Story(width, height)
    story.flow += [_paragraph(report.title, story.st["title"]), _paragraph(report.subtitle, story.st["sub"])]
    if report.period:
        story.flow.append(_paragraph(report.period, story.st["sub"]))
    story.render(report)
    return story.flow


def _table(t: Table, width: float, st: dict) -> list:
    """Columns as wide as their content when the table fits; otherwise the narrow ones keep their width
    and the wide ones share what is left, their cells wrapping."""
    from reportlab.lib import colors
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Paragraph, Spacer, TableStyle
    from reportlab.platypus import Table as Grid

    numeric = [t.numeric(c) for c in t.columns]
    texts = t.cells()
    pad = 8
    natural = [
        max(
            [stringWidth(c, "recur-sans-bold", 7.5)]
            + [stringWidth(row[i], "recur-sans", 7.5) for row in texts]
        )
        + pad
        for i, c in enumerate(t.columns)
    ]
    widths = fit_widths(natural, width)
    head = [Paragraph(escape(c), st["head"]) for c in t.columns]
    body = [
        [Paragraph(escape(v), st["num"] if numeric[i] else st["cell"]) for i, v in enumerate(row)]
        for row in texts
    ]
    grid = Grid([head, *body], colWidths=widths, repeatRows=1, hAlign="LEFT")
    grid.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#e5e7eb")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f9fafb")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), pad / 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), pad / 2),
            ]
        )
    )
    caption = [Paragraph(escape(t.caption), st["caption"])] if t.caption else []
    return [*caption, grid, Spacer(1, 6)]


def fit_widths(natural: list[float], width: float) -> list[float]:
    """Water-filling: columns narrower than an equal share of the room left keep their natural width."""
    if sum(natural) <= width:
        return natural
    widths, left, open_ = list(natural), width, set(range(len(natural)))
    while open_:
        share = left / len(open_)
        narrow = {i for i in open_ if natural[i] <= share}
        if not narrow:
            for i in open_:
                widths[i] = share
            break
        for i in narrow:
            widths[i] = natural[i]
            left -= natural[i]
        open_ -= narrow
    return widths


def _figure(p: Plot, width: float, height: float):
    from reportlab.platypus import Image

    w_in, h_in = p.size
    w = min(width, w_in * 72)
    h = w * h_in / w_in
    if h > 0.9 * height:
        w, h = w * 0.9 * height / h, 0.9 * height
    image = Image(io.BytesIO(p.png(FIGURE_DPI)), width=w, height=h, hAlign="LEFT")
    image._restrictSize(width, height)
    return image


def sample_lines(text: str, columns: int) -> list[tuple[int, str]]:
    """The text cut into lines no wider than `columns`, each with the offset of its first character, so
    the prompt's characters can be marked wherever the cut falls."""
    lines, offset = [], 0
    for line in text.split("\n"):
        line = line.replace("\t", " ")
        pieces = [line[i : i + columns] for i in range(0, len(line), columns)] or [""]
        for piece in pieces:
            lines.append((offset, piece))
            offset += len(piece)
        offset += 1  # the line break
    return lines


def _sample(s: TextSample, width: float, st: dict) -> list:
    from reportlab.platypus import Paragraph, XPreformatted

    style = st["mono"]
    columns = max(
        20,
        int(
            (width - style.leftIndent - style.rightIndent - 2 * style.borderPadding)
            / (MONO_ADVANCE * MONO_SIZE)
        ),
    )
    full = s.prompt + s.text + (f"\n… {s.omitted:,} more characters" if s.omitted else "")
    marked = []
    for start, piece in sample_lines(full, columns):
        cut = max(0, min(len(piece), len(s.prompt) - start))
        bold = f"<b>{escape(piece[:cut])}</b>" if cut else ""
        marked.append(bold + escape(piece[cut:]))
    prompt = " · the prompt in bold" if s.prompt else ""
    return [XPreformatted("\n".join(marked), style), Paragraph(escape(s.caption + prompt), st["caption"])]


def _numbered(report: Report, margin: float, counter: list[int]):
    """A canvas that holds its pages until the end, to print 'page i of n' and the header on each."""
    from reportlab.lib import colors
    from reportlab.pdfgen.canvas import Canvas

    header = report.title + (f" · {report.period}" if report.period else "")

    class Numbered(Canvas):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for state in self._pages:
                self.__dict__.update(state)
                self._decorate(len(self._pages))
                super().showPage()
            counter.append(len(self._pages))
            super().save()

        def _decorate(self, total: int) -> None:
            w, h = self._pagesize
            self.setFont("recur-sans", 7.5)
            self.setFillColor(colors.HexColor("#6b7280"))
            self.drawString(margin, h - margin + 2, _fit(header, w - 2 * margin - 60))
            self.drawRightString(w - margin, margin / 2, f"page {self._pageNumber} of {total}")

    return Numbered


def _fit(text: str, room: float) -> str:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    while text and stringWidth(text, "recur-sans", 7.5) > room:
        text = text[:-2] + "…"
    return text
