"""The report as one self-contained HTML file: figures inline as PNG, readable offline, on a phone and
printed."""

from __future__ import annotations

import base64
import html

from reports.document import Plot, Report, Section, Table, TextSample, Writer

CSS = " ".join(
    [
        "body{font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;margin:0 auto;",
        "max-width:960px;padding:16px;color:#1f2937;line-height:1.45}",
        "h1{font-size:1.6em;margin-bottom:0}",
        "h2{border-bottom:1px solid #e5e7eb;padding-bottom:4px;margin-top:2em}",
        ".sub{color:#6b7280;margin-top:4px}img{max-width:100%;height:auto;display:block;margin:8px 0}",
        ".scroll{overflow-x:auto}table{border-collapse:collapse;font-size:0.85em;margin:8px 0}",
        "th,td{border:1px solid #e5e7eb;padding:3px 8px;text-align:left;vertical-align:top}",
        "td.n,th.n{text-align:right;white-space:nowrap}th{background:#f9fafb}",
        "caption{text-align:left;color:#6b7280;padding:4px 0}",
        "figure.sample{margin:10px 0}figure.sample pre{white-space:pre-wrap;overflow-wrap:anywhere;",
        "background:#f8fafc;border:1px solid #e5e7eb;padding:8px;margin:0;font-size:0.85em}",
        "mark{background:#fde68a}figcaption{color:#6b7280;font-size:0.85em;margin-top:2px}",
    ]
)


def _table(t: Table) -> str:
    kinds = {c: ' class="n"' if t.numeric(c) else "" for c in t.columns}
    head = "".join(f"<th{kinds[c]}>{html.escape(c)}</th>" for c in t.columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td{kinds[c]}>{html.escape(v)}</td>" for c, v in zip(t.columns, row, strict=True))
        + "</tr>"
        for row in t.cells()
    )
    caption = f"<caption>{html.escape(t.caption)}</caption>" if t.caption else ""
    table = f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


def _sample(s: TextSample) -> str:
    more = f"\n… {s.omitted:,} more characters" if s.omitted else ""
    text = f"<mark>{html.escape(s.prompt)}</mark>" if s.prompt else ""
    return (
        f'<figure class="sample"><pre>{text}{html.escape(s.text)}{html.escape(more)}</pre>'
        f"<figcaption>{html.escape(s.caption)}</figcaption></figure>"
    )


def _figure(p: Plot) -> str:
    """A picture with two renderings: the phone's (narrower, type the same size) below 600 px."""
    wide, phone = (base64.b64encode(p.png(phone=narrow)).decode() for narrow in (False, True))
    alt, name = html.escape(p.alt or p.name), html.escape(p.name)
    return (
        f'<picture><source media="(max-width: 600px)" srcset="data:image/png;base64,{phone}">'
        f'<img alt="{alt}" title="{name}" src="data:image/png;base64,{wide}"></picture>'
    )


class _Html(Writer):
    def __init__(self) -> None:
        self.parts: list[str] = []

    def heading(self, title: str) -> None:
        self.parts.append(f"<h2>{html.escape(title)}</h2>")

    def paragraph(self, text: str) -> None:
        self.parts.append(f"<p>{html.escape(text)}</p>")

    def table(self, t: Table) -> None:
        self.parts.append(_table(t))

    def figure(self, p: Plot) -> None:
        self.parts.append(_figure(p))

    def sample(self, s: TextSample) -> None:
        self.parts.append(_sample(s))


def to_html(report: Report) -> str:
    head = f"<h1>{html.escape(report.title)}</h1><p class='sub'>{html.escape(report.subtitle)}</p>"
    if report.period:
        head += f"<p class='sub period'>{html.escape(report.period)}</p>"
    return page(report.title, head + sections_html(report.sections))


def sections_html(sections: list[Section]) -> str:
    """Sections as HTML, for a page of their own or inside another one (the service's dashboard)."""
    out = _Html()
    out.render(Report("", "", sections))
    return "".join(out.parts)


def page(title: str, body: str, head: str = "") -> str:
    """A whole document with the report's style; `head` adds to it (more style, a script)."""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style>{head}</head><body>"
        + body
        + "</body></html>"
    )
