"""`recur serve`'s options, defined once: the command's flags and the README's table come from here."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from core.errors import InputError, check_options
from core.params import param
from textgen.config import CEILING_LENGTH, CEILING_SAMPLES, MAX_LENGTH, MAX_SAMPLES

MIN_TOKEN = 16  # characters: a guessable token guards nothing
AUTO_TOKEN = "auto"


@dataclass(frozen=True)
class ServeOptions:
    host: str = param("127.0.0.1", "Address to listen on; anything but loopback needs --token.")
    port: int = param(8765, "Port to listen on.")
    token: str | None = param(
        None,
        f"Bearer token every request must carry (Authorization header), at least {MIN_TOKEN} characters; "
        "'auto': a new random one, printed at start [RECUR_TOKEN].",
        kind=str,
    )
    cors_origin: tuple = param((), "Origins (comma-separated) whose pages may call the API.", kind=tuple)
    max_tokens: int = param(
        MAX_LENGTH,
        f"Largest max_tokens (characters per sample) a request may ask for; at most {CEILING_LENGTH:,}.",
    )
    max_n: int = param(MAX_SAMPLES, f"Most samples one request may ask for; at most {CEILING_SAMPLES}.")
    max_body: int = param(65536, "Largest request body, in bytes.")
    page_limit: int = param(1000, "Most rows one page of a listing may hold.")
    generated: bool = param(False, internal=True)  # the token was made here (--token auto): print it

    def __post_init__(self) -> None:
        check_options(
            [
                ("--port", self.port, 0 <= self.port <= 65535, "in 0..65535"),
                (
                    "--max-tokens",
                    self.max_tokens,
                    1 <= self.max_tokens <= CEILING_LENGTH,
                    f"in [1, {CEILING_LENGTH}]",
                ),
                ("--max-n", self.max_n, 1 <= self.max_n <= CEILING_SAMPLES, f"in [1, {CEILING_SAMPLES}]"),
                ("--max-body", self.max_body, self.max_body >= 1024, "at least 1024"),
                ("--page-limit", self.page_limit, self.page_limit >= 1, "at least 1"),
            ]
        )
        if self.token == AUTO_TOKEN:
            import secrets

            object.__setattr__(self, "token", secrets.token_urlsafe(24))
            object.__setattr__(self, "generated", True)
        elif self.token is not None and len(self.token) < MIN_TOKEN:
            raise InputError(
                f"--token: {len(self.token)} characters; a token needs at least {MIN_TOKEN} (--token auto "
                "makes a random one and prints it)"
            )
        if not loopback(self.host) and not self.token:
            raise InputError(
                f"--host {self.host}: listening beyond this machine needs a token; pass --token "
                "(or set RECUR_TOKEN), and every request must then carry it"
            )


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
