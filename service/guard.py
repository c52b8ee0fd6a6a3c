"""What every request passes before it reaches a route: the token (when the service has one) and the size
of its body. Plain ASGI, so streamed answers pass through untouched."""

from __future__ import annotations

import hmac
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException

from service.http import FORMATS, ApiError, error_response

COOKIE = "recur_token"
OPEN_PATHS = ("/healthz", "/health")  # what a load balancer or an orchestrator probes, tokenless


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def presented(scope) -> str | None:
    """The token a request carries: `Authorization: Bearer …` (what OpenAI's clients send as the API key),
    or the dashboard's cookie."""
    auth = _header(scope, b"authorization")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    cookie = SimpleCookie(_header(scope, b"cookie"))
    return cookie[COOKIE].value if COOKIE in cookie else None


class Guard:
    def __init__(self, app, token: str | None, max_body: int) -> None:
        self.app, self.token, self.max_body = app, token, max_body

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.token and scope["path"] not in OPEN_PATHS and not self._allowed(scope):
            if scope["path"] == "/" and self._login(scope):
                return await _login_redirect(send, self.token)
            err = ApiError(
                401,
                "this service needs its token: send `Authorization: Bearer TOKEN` "
                "(or open the dashboard once at /?token=TOKEN)",
                code="invalid_api_key",
            )
            return await error_response(err, {"WWW-Authenticate": "Bearer"})(scope, receive, send)
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("format", [])
        unknown = [f for f in asked if f not in FORMATS]
        if unknown:  # on every path: a format no route knows is refused, never silently ignored
            err = ApiError(400, f"format {unknown[0]!r}: choose {' or '.join(FORMATS)}", "format")
            return await error_response(err)(scope, receive, send)
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > self.max_body:
            return await self._too_large(scope, receive, send)
        return await self.app(scope, self._counted(receive), send)

    def _allowed(self, scope) -> bool:
        given = presented(scope)
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def _login(self, scope) -> bool:
        given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[0]
        return bool(given) and hmac.compare_digest(given.encode(), self.token.encode())

    def _counted(self, receive):
        """A body sent without Content-Length (chunked) is counted as it arrives."""
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                raise BodyTooLarge(self.max_body)
            return message

        return counted

    async def _too_large(self, scope, receive, send) -> None:
        await error_response(ApiError(413, BodyTooLarge(self.max_body).detail))(scope, receive, send)


class BodyTooLarge(HTTPException):
    """A body sent without Content-Length (chunked) that grew past the limit: 413, raised as the body is
    read. An HTTPException, so that the framework's body parsing passes it on rather than calling it a
    body it could not parse (400)."""

    def __init__(self, max_body: int) -> None:
        super().__init__(413, f"request body over {max_body} bytes (recur serve --max-body sets the limit)")


async def _login_redirect(send, token: str) -> None:
    """`/?token=…` once: the token goes into a cookie only this site's own pages send, and the address bar
    loses it."""
    cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
    headers = [(b"location", b"/"), (b"set-cookie", cookie.encode("latin-1")), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
