"""The service: one ASGI app over the same store and pipelines as the command line. Generation
(OpenAI's completions API), the read-only data API, the dashboard, the OpenAPI schema at /openapi.json."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from core.settings import Settings
from pipelines.serving import Generators
from service import completions, dashboard, data, operations
from service.config import ServeOptions
from service.guard import Guard
from service.http import ApiError, error_response
from service.metrics import Counted, Metrics
from service.operations import warming


def create_app(settings: Settings, options: ServeOptions, say: Callable[[str], None] = print) -> FastAPI:
    app = FastAPI(
        lifespan=warming(say),
        title="recur",
        version="0.1.0",
        summary="Forecasts, runs and text generation from a recur store.",
        docs_url=None,  # the interactive pages load scripts from the internet; the schema is enough
        redoc_url=None,
    )
    app.state.settings, app.state.options = settings, options
    app.state.generators = Generators(settings)
    app.state.metrics = Metrics(app.state.generators)
    app.state.ready = False
    app.include_router(completions.router)
    app.include_router(data.router)
    app.include_router(dashboard.router)
    app.include_router(operations.router)
    app.add_exception_handler(ApiError, lambda _r, exc: error_response(exc))
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        return {"ok": True}

    @app.get("/api/service", tags=["data"], summary="The text generators loaded and what batching did")
    async def service_state():
        return {"generators": app.state.generators.stats()}

    if options.cors_origin:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(options.cors_origin),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(Guard, token=options.token, max_body=options.max_body)
    app.add_middleware(Counted, metrics=app.state.metrics)  # outermost: refusals are counted too
    return app


async def _invalid(_request: Request, exc: RequestValidationError):
    """The first problem, naming the field and the value: `temperature: Input should be a finite number
    (got nan)`."""
    first = exc.errors()[0]
    where = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
    field = ".".join(where) or "body"
    got = first.get("input")
    shown = f" (got {got!r})" if got is not None and not isinstance(got, dict | list) else ""
    if first.get("type") == "json_invalid":
        return error_response(ApiError(400, f"the body is not valid JSON: {first.get('msg')}"))
    if not where and first.get("loc", ())[:1] == ("body",):
        return error_response(
            ApiError(400, "the body must be a JSON object, sent with Content-Type: application/json")
        )
    if first.get("type") == "extra_forbidden":
        return error_response(ApiError(400, f"{field}: not a parameter recur accepts", field))
    return error_response(ApiError(400, f"{field}: {first.get('msg')}{shown}", field))


async def _unexpected(_request: Request, exc: Exception):
    """A failure nobody foresaw: 500 in the same shape (its traceback goes to the server's log)."""
    return error_response(ApiError(500, f"the service failed: {type(exc).__name__}: {exc}"))


async def _http(_request: Request, exc: HTTPException):
    return error_response(ApiError(exc.status_code, str(exc.detail)), getattr(exc, "headers", None))
