"""How the service answers: errors in the shape OpenAI's clients read (`{"error": {"message", "type",
"param", "code"}}`), JSON and CSV bodies with a strong `ETag` (a client that sends it back in
`If-None-Match` gets 304 and no body), and pages with a `next` link."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from core.errors import ConflictError, InputError, NotFoundError, RecurError
from pipelines.api import Page

KINDS = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    500: "server_error",
}


class ApiError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code


def from_recur(exc: RecurError, param: str | None = None) -> ApiError:
    """A domain error as an HTTP one: not found 404, conflict 409, anything else the user can fix 400."""
    if isinstance(exc, NotFoundError):
        return ApiError(404, str(exc), param, "not_found")
    if isinstance(exc, ConflictError):
        return ApiError(409, str(exc), param)
    return ApiError(400, str(exc), param, "invalid_value" if isinstance(exc, InputError) else None)


def error_response(err: ApiError, headers: dict | None = None) -> Response:
    body = {
        "error": {
            "message": err.message,
            "type": KINDS.get(err.status, "invalid_request_error"),
            "param": err.param,
            "code": err.code,
        }
    }
    return Response(dumps(body), err.status, headers, media_type="application/json")


def finite(value):
    """NaN and infinities (a backtest with nothing to score) as null: JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def dumps(data) -> bytes:
    return json.dumps(finite(data), default=str, ensure_ascii=False, allow_nan=False).encode("utf-8")


def tagged(request: Request, body: bytes, media_type: str, headers: dict | None = None) -> Response:
    """The body with its ETag, or 304 when the client already has it."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"} | (headers or {})
    sent = request.headers.get("if-none-match", "")
    if etag in [t.strip().removeprefix("W/") for t in sent.split(",")] or sent.strip() == "*":
        return Response(status_code=304, headers=headers)
    return Response(body, 200, headers, media_type=media_type)


FORMATS = ("json", "csv")  # what ?format= may ask for (service.guard refuses others on every path)


def wants_csv(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


def to_csv(rows: list[dict]) -> bytes:
    """Rows as CSV; nested values (a backtest, intervals) as JSON text; the columns of every row."""
    columns: dict[str, None] = {}
    for r in rows:
        columns.update(dict.fromkeys(r))
    out = io.StringIO()
    writer = csv.DictWriter(out, list(columns), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: json.dumps(finite(v)) if isinstance(v, dict | list) else v for k, v in r.items()})
    return out.getvalue().encode("utf-8")


def answer(request: Request, data, fmt: str | None = None, rows: list[dict] | None = None) -> Response:
    """JSON (`data`), or CSV of `rows` when asked by `?format=csv` or `Accept: text/csv`; a resource with
    no rows (one subject's detail) is JSON only, and `?format=csv` there is refused, not ignored."""
    tabular = rows is not None or not isinstance(data, dict)
    if fmt == "csv" and not tabular:
        raise ApiError(400, "format 'csv': this resource is JSON only (lists come as CSV)", "format")
    if tabular and wants_csv(request, fmt):
        return tagged(request, to_csv(rows if rows is not None else data), "text/csv; charset=utf-8")
    return tagged(request, dumps(data), "application/json")


def paged(request: Request, page: Page, cursor: str, fmt: str | None, flat=None) -> Response:
    """A page: `{"data": [...], "next": URL or null}`, and the same URL in a `Link: rel="next"` header;
    as CSV, each row through `flat` first."""
    following = None
    if page.next is not None:
        query = dict(request.query_params) | {cursor: str(page.next)}
        following = f"{request.url.path}?{urlencode(query)}"
    rows = [flat(r) for r in page.rows] if flat else page.rows
    response = answer(request, {"data": page.rows, "next": following}, fmt, rows)
    if following is not None:
        response.headers["Link"] = f'<{following}>; rel="next"'
    return response
