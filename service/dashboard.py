"""The dashboard: server-rendered pages with the report's tables and plots, no build step. `/` has the
leaderboard of subjects against their best baselines, recent runs (failures first) and a box per text
generator whose text streams into the page; `/subjects/NAME` has a subject's report section (fan charts,
backtest, vintages)."""

from __future__ import annotations

import html
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from core.errors import RecurError
from core.settings import Settings
from pipelines import api
from reports.html import page, sections_html
from service.http import from_recur

router = APIRouter(include_in_schema=False)
SHOWN = 200  # subjects on the front page; the API pages through the rest

STYLE = """<style>
form.gen{border:1px solid #e5e7eb;padding:8px;margin:8px 0}form.gen textarea{width:100%;height:3em}
form.gen label{margin-right:12px;font-size:.9em}form.gen input[type=number]{width:6em}
pre.out{white-space:pre-wrap;overflow-wrap:anywhere;background:#f8fafc;border:1px solid #e5e7eb;
padding:8px;min-height:2em}.status,.sub{color:#6b7280;font-size:.85em}.worse{color:#b91c1c}.better{color:#15803d}
</style>"""

SCRIPT = """<script>
async function generate(form) {
  const out = form.querySelector('pre.out'), status = form.querySelector('.status');
  out.textContent = ''; status.textContent = 'generating…';
  const body = {model: form.dataset.model, prompt: form.elements.prompt.value, stream: true,
                max_tokens: Number(form.elements.max_tokens.value),
                temperature: Number(form.elements.temperature.value)};
  if (form.elements.seed.value !== '') body.seed = Number(form.elements.seed.value);
  const r = await fetch('/v1/completions', {method: 'POST', body: JSON.stringify(body),
                                             headers: {'Content-Type': 'application/json'}});
  if (!r.ok) { status.textContent = (await r.json()).error.message; return; }
  const reader = r.body.getReader(), decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, {stream: true});
    let end;
    while ((end = buffer.indexOf('\\n\\n')) >= 0) {
      const event = buffer.slice(0, end); buffer = buffer.slice(end + 2);
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
      const message = JSON.parse(event.slice(6));
      if (message.error) { status.textContent = message.error.message; continue; }
      for (const choice of message.choices || []) out.append(choice.text);
      if (message.recur) status.textContent = 'stored as sample ' + message.recur.sample_ids.join(', ') +
        ' · ' + message.model + ' · seed ' + message.recur.seed;
    }
  }
  form.dataset.done = 'yes';
}
</script>"""


def _number(value, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _served(r: dict) -> str:
    """Who forecasts the subject: its champion, or (none, or one that lost) its best baseline."""
    if r["champion"]:
        return html.escape(f"{r['champion']['architecture']} (version {r['champion']['version']})")
    if r["challenger"]:
        c = r["challenger"]
        return html.escape(f"{c['baseline']}: {c['architecture']} (version {c['version']}) lost")
    return "best baseline: nothing trained"


def leaderboard(rows: list[dict]) -> str:
    """Subjects, their models' backtest MASE against the best baseline's (a champion's, or the newest
    challenger's where none won), best skill first."""
    ranked = sorted(rows, key=lambda r: -((r["champion"] or r["challenger"] or {}).get("skill") or -1e9))
    cells = []
    for r in ranked:
        c = r["champion"] or r["challenger"] or {}
        skill = c.get("skill")
        mark = "" if skill is None else (' class="better"' if skill > 0 else ' class="worse"')
        cells.append(
            f'<tr><td><a href="/subjects/{quote(r["name"], safe="")}">{html.escape(r["name"])}</a></td>'
            f"<td>{r['kind']}</td><td class=n>{r['series']}</td>"
            f'<td title="{html.escape(c.get("decision") or "", quote=True)}">{_served(r)}</td>'
            f"<td class=n>{_number(c.get('mase'))}</td><td>{html.escape(c.get('baseline') or '')}</td>"
            f"<td class=n>{_number(c.get('baseline_mase'))}</td><td class=n{mark}>"
            f"{'—' if skill is None else f'{skill:+.1%}'}</td></tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("subject", "kind", "series", "forecast by", "model MASE", "baseline", "its MASE", "skill")
    )
    return (
        "<div class=scroll><table><caption>Backtest MASE (lower is better); skill = 1 − model / baseline"
        f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(cells)}</tbody></table></div>"
    )


def generator_box(corpus: dict) -> str:
    name = html.escape(corpus["name"], quote=True)
    version = corpus["champion"]["version"]
    return (
        f'<form class="gen" data-model="{name}" onsubmit="generate(this); return false;">'
        f"<b>{name}</b> <span class=sub>champion: version {version}</span>"
        '<textarea name="prompt" aria-label="prompt" placeholder="a prompt (optional)"></textarea>'
        '<label>characters <input type="number" name="max_tokens" value="300" min="1"></label>'
        '<label>temperature <input type="number" name="temperature" value="0.8" min="0" step="0.1"></label>'
        '<label>seed <input type="number" name="seed" min="0" placeholder="random"></label>'
        '<button type="submit">Generate</button><pre class="out"></pre><div class="status"></div></form>'
    )


def front(settings: Settings) -> str:
    from pipelines.report_sections import jobs_section

    subjects = api.subjects(settings, None, SHOWN)
    parts = ["<h1>recur</h1><p class=sub>Forecasts, runs and text generators of this store.</p>"]
    parts.append("<h2>Forecasts</h2>")
    if subjects.rows:
        parts.append(leaderboard(subjects.rows))
        if subjects.next is not None:
            parts.append(f"<p>The first {SHOWN} subjects by name; /api/subjects lists them all.</p>")
    else:
        parts.append("<p>No series yet: <code>recur series ingest FILE</code>.</p>")
    runs = jobs_section(settings)
    parts.append(sections_html([runs]) if runs else "<h2>Scheduled jobs</h2><p>No runs yet.</p>")
    corpora = [c for c in api.corpora(settings) if c["champion"]]
    parts.append("<h2>Text generators</h2>")
    parts += [generator_box(c) for c in corpora] or ["<p>No text generator trained yet.</p>"]
    return page("recur", "".join(parts), STYLE + SCRIPT)


def subject_page(settings: Settings, name: str) -> str:
    from pipelines.report_forecasts import forecast_section

    section = forecast_section(settings, name)
    csv = f"/api/subjects/{quote(name, safe='')}/forecast?format=csv"
    links = f'<p><a href="/">← all subjects</a> · <a href="{csv}">forecast as CSV</a></p>'
    return page(f"recur: {name}", links + sections_html([section]), STYLE)


@router.get("/", response_class=HTMLResponse)
async def index(request: Request):
    return HTMLResponse(await run_in_threadpool(front, request.app.state.settings))


@router.get("/subjects/{name:path}", response_class=HTMLResponse)
async def subject(request: Request, name: str):
    try:
        return HTMLResponse(await run_in_threadpool(subject_page, request.app.state.settings, name))
    except RecurError as exc:
        raise from_recur(exc) from exc
