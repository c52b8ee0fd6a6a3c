"""What operators and their tools ask of the service: `/health` (503 while the champions load at start,
then 200), `/metrics` (Prometheus), and a sentence for a chat client that came to the wrong place."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import JSONResponse, Response

from service.http import ApiError

router = APIRouter(tags=["service"])


def warming(say: Callable[[str], None]):
    """The app's lifespan: the champions load on a thread while the service already answers."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        def warm() -> None:
            try:
                app.state.generators.warm(say)
            finally:
                gc.collect()  # what loading made lives as long as the process too (see service.server)
                gc.freeze()
                app.state.ready = True

        threading.Thread(target=warm, daemon=True, name="warm").start()
        yield

    return lifespan


@router.get("/health", summary="200 once the champions are loaded, 503 while loading")
async def health(request: Request):
    ready = request.app.state.ready
    return JSONResponse({"status": "ok" if ready else "loading"}, 200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics (text format)")
async def metrics(request: Request):
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.api_route("/v1/chat/completions", methods=["GET", "POST"], include_in_schema=False)
async def chat():
    raise ApiError(
        404,
        "recur's text generators are character models with no chat format: send the text to continue as "
        "the prompt of /v1/completions",
        None,
        "not_found",
    )
