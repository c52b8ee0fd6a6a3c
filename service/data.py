"""The read-only API: subjects and their champions against the baselines, the latest forecast (or any
vintage) with intervals, past vintages' scores, schedules and the run ledger, corpora and samples. JSON,
or CSV with `?format=csv` (or `Accept: text/csv`); lists come a page at a time with a `next` link."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from core.errors import RecurError
from pipelines import api
from service.http import ApiError, answer, from_recur, paged

router = APIRouter(prefix="/api", tags=["data"])
Format = Annotated[str | None, Query(description="json (default) or csv")]
Limit = Annotated[int, Query(ge=1, description="Rows a page (at most the service's --page-limit).")]


async def call(fn, *args):
    """A pipeline read, off the event loop; a domain error as its HTTP status."""
    try:
        return await run_in_threadpool(fn, *args)
    except RecurError as exc:
        raise from_recur(exc) from exc


def settings_of(request: Request, limit: int | None = None):
    state = request.app.state
    if limit is not None and limit > state.options.page_limit:
        raise ApiError(
            400,
            f"limit {limit}: at most {state.options.page_limit} rows a page (recur serve --page-limit)",
            "limit",
        )
    return state.settings


@router.get("/subjects", summary="Forecasting subjects (groups and series of their own) with champions")
async def subjects(request: Request, after: str | None = None, limit: Limit = 100, format: Format = None):
    page = await call(api.subjects, settings_of(request, limit), after, limit)
    return paged(request, page, "after", format, _flat)


def _flat(row: dict) -> dict:
    """A subject's CSV row: the champion's fields as columns of their own."""
    champion = row["champion"] or {}
    return {k: v for k, v in row.items() if k != "champion"} | {
        f"champion_{k}": v for k, v in champion.items()
    }


@router.get(
    "/subjects/{name:path}/forecast",
    summary="The latest forecast (or one vintage) with intervals and quantiles",
)
async def forecast(request: Request, name: str, vintage: int | None = None, format: Format = None):
    rows = await call(api.forecast, settings_of(request), name, vintage)
    if not rows:
        raise ApiError(404, f"no forecasts stored for {name!r}; `recur forecast predict {name}` issues one")
    return answer(request, {"subject": name, "points": rows}, format, rows)


@router.get("/subjects/{name:path}/vintages", summary="How each stored forecast scored against the actuals")
async def vintages(request: Request, name: str, format: Format = None):
    rows = await call(api.vintages, settings_of(request), name)
    return answer(request, {"subject": name, "vintages": rows}, format, rows)


@router.get("/subjects/{name:path}", summary="One subject: its series, champion, backtest and challenger")
async def subject(request: Request, name: str, format: Format = None):
    return answer(request, await call(api.subject, settings_of(request), name), format, rows=None)


@router.get("/schedules", summary="Schedules with their latest run")
async def schedules(request: Request, format: Format = None):
    rows = await call(api.schedules, settings_of(request))
    return answer(request, {"data": rows}, format, rows)


@router.get("/runs", summary="The run ledger, newest first")
async def runs(
    request: Request,
    schedule: str | None = None,
    failed: bool = False,
    before: int | None = None,
    limit: Limit = 100,
    format: Format = None,
):
    page = await call(api.runs, settings_of(request, limit), schedule, failed, before, limit)
    return paged(request, page, "before", format)


@router.get("/corpora", summary="Corpora and their text generators' champions")
async def corpora(request: Request, format: Format = None):
    rows = await call(api.corpora, settings_of(request))
    return answer(request, {"data": rows}, format, rows)


@router.get("/samples", summary="Stored text samples, newest first")
async def samples(
    request: Request,
    corpus: str | None = None,
    before: int | None = None,
    limit: Limit = 100,
    format: Format = None,
):
    page = await call(api.samples, settings_of(request, limit), corpus, before, limit)
    return paged(request, page, "before", format)
