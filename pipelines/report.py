"""Reports: the document pipelines/report_sections gathers, written as HTML, Markdown with PNGs, or PDF,
and single charts; the period covered starts at the previous report by default."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from core.errors import InputError, RecurError
from core.files import slugify, write_atomic
from core.outputs import (
    check_output,
    may_replace,
    names_folder,
    output_format,
    output_path,
    record_written,
)
from core.settings import Settings
from db.tables import utcnow
from pipelines.report_forecasts import forecast_section
from pipelines.report_sections import build, corpus_section
from pipelines.vintages import export_forecasts
from reports.document import Plot, Report
from reports.html import to_html
from reports.markdown import write_markdown
from reports.pdf import write_pdf

REPORT_FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".pdf": "pdf"}


def _last_report_file(settings: Settings) -> Path:
    return settings.subdir("reports") / ".last-report"


@dataclass(frozen=True)
class ReportRequest:
    """What `report export` is asked for: where, in which format (None: from the file's suffix), which
    subjects and corpora (none: all), the period's start (None: since the previous report sent), whether
    the forecasts are written beside it as data, and whether it is sent (the next period starts here)."""

    out: str | Path  # a trailing slash names a directory
    fmt: str | None = None
    subjects: tuple[str, ...] = ()
    corpora: tuple[str, ...] = ()
    since: str | None = None
    with_data: bool = False
    sent: bool = False  # a report that goes out (a schedule's, or --mark): the next one's period starts here
    force: bool = False  # replace a file recur did not write


def export(settings: Settings, request: ReportRequest) -> dict:
    """Write the report (HTML, Markdown + PNGs, or PDF), replacing any existing file atomically."""
    subjects, corpora, since = request.subjects, request.corpora, request.since
    fmt = output_format(settings, request.out, request.fmt, REPORT_FORMATS, "html")
    out = Path(request.out)
    if names_folder(request.out):
        out = output_path(settings, request.out, f"recur-report-{utcnow():%Y%m%d-%H%M}", f".{fmt}")
    if not out.parent.is_dir():
        raise InputError(f"--out {out}: {out.parent} is not a directory that exists")
    check_output(settings, out)
    may_replace(settings, out, request.force)
    start, why = _since(settings, since)
    report = build(settings, list(subjects), list(corpora), start, why=why)
    result = {
        "path": str(out),
        "format": fmt,
        "sections": [s.title for s in report.sections],
        "plots": len(report.plots()),
    }
    if fmt == "html":
        write_atomic(out, lambda tmp: tmp.write_text(to_html(report), encoding="utf-8"))
    elif fmt == "md":
        write_markdown(report, out)
        result["images"] = str(out.with_name(f"{out.stem}_files"))
    else:
        result["pages"] = write_pdf(report, out)
    record_written(settings, out)
    if request.with_data:
        result["data"] = _export_data(settings, report, out, request.force)
    if request.sent:
        mark = json.dumps({"at": utcnow().isoformat(), "path": str(out)})
        write_atomic(_last_report_file(settings), lambda tmp: tmp.write_text(mark))
    return result


def _since(settings: Settings, since: str | None) -> tuple[datetime, str]:
    """Where the report's period starts, and why there: --since, the previous report, or a week ago."""
    if since:
        try:
            return datetime.fromisoformat(since), "from --since"
        except ValueError as exc:
            raise InputError(f"--since {since!r}: write a date like 2026-11-01") from exc
    try:
        text = _last_report_file(settings).read_text().strip()
        sent = json.loads(text) if text.startswith("{") else {"at": text, "path": None}
        at = datetime.fromisoformat(sent["at"])
    except (OSError, ValueError, KeyError, TypeError):  # none sent yet (or its mark unreadable): a week
        return utcnow() - timedelta(
            days=7
        ), "the last 7 days: no report sent before; --since sets another start"
    which = f" ({sent['path']})" if sent.get("path") else ""
    return at, f"since the report sent {at:%Y-%m-%d %H:%M} UTC{which}; --since sets another start"


def _export_data(settings: Settings, report: Report, out: Path, force: bool) -> dict[str, list[str]]:
    """Each forecasting subject's latest forecasts (every member, for a group) as CSV and JSON beside the
    report; a subject with none stored is named with the reason instead of silently skipped."""
    written, skipped = [], []
    for section in report.sections:
        if not section.title.startswith("Forecasts: "):
            continue
        name = section.title.removeprefix("Forecasts: ")
        try:
            for suffix in (".csv", ".json"):
                target = out.with_name(f"{out.stem}-{_slug(name)}-forecast{suffix}")
                written.append(export_forecasts(settings, name, target, force=force)["path"])
        except RecurError as exc:
            skipped.append(str(exc))
    if not written and not skipped:
        skipped.append("the report has no forecasting subject; pass --series or --group")
    return {"written": written, "skipped": skipped}


def _slug(name: str) -> str:
    return slugify(name, 40)


def plot_one(settings: Settings, name: str, out: Path, kind: str = "forecast", force: bool = False) -> dict:
    """A single chart: a series' latest forecast fan chart, or a corpus's bits per character."""
    section = forecast_section(settings, name) if kind == "forecast" else corpus_section(settings, name)
    figures = [b for b in section.blocks if isinstance(b, Plot)]
    ends = ("forecast",) if kind == "forecast" else ("bits per char",)
    wanted = [
        p
        for p in figures
        if p.name.endswith(ends) or (kind == "forecast" and p.name.startswith("forecasts "))
    ]
    if not wanted:
        what = (
            "stored forecasts (run recur forecast predict)"
            if kind == "forecast"
            else "a trained text generator"
        )
        raise InputError(f"{name!r} has no {what} to plot")
    fmt = Path(out).suffix.lstrip(".").lower()
    if fmt not in ("png", "svg"):
        raise InputError(f"--out {out}: write .png or .svg")
    check_output(settings, Path(out))
    may_replace(settings, Path(out), force)
    plot = wanted[0]

    def save(tmp: Path) -> None:
        tmp.write_bytes(plot.render(fmt))

    write_atomic(Path(out), save)
    record_written(settings, Path(out))
    return {"path": str(out), "plot": plot.name}
