"""`POST /v1/completions` and `GET /v1/models`, as OpenAI's API has them, so its client libraries work
unchanged: `model` is a corpus (its champion) or `corpus@version`, `max_tokens` counts characters, and
`top_k` and `unknown` are recur's own additions. Every sample is stored with its version, seed and
parameters, as `recur textgen sample` stores them."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.responses import Response, StreamingResponse

from core.errors import InputError, RecurError
from pipelines.sampling import job_of, prompt_of, prompt_scores
from pipelines.serving import ModelLoop
from service import logprobs as lp
from service.http import ApiError, dumps, from_recur
from service.logprobs import MAX_LOGPROBS
from service.metrics import Timer
from service.outbox import Bell
from textgen.config import MAX_TEMPERATURE, SampleRequest

router = APIRouter(tags=["generation"])
# After an event, a stream's characters made within this long go out together in its next one: 10 ms, and
# half a millisecond per stream in the model's loop beyond that (at most 50 ms), so that the events of all
# streams together stay near 2,000 a second however many there are (each costs the server and the client
# more than the characters in it).
GATHER_S, GATHER_PER_STREAM_S, GATHER_MAX_S = 0.01, 0.0005, 0.05
Number = Annotated[float, Field(allow_inf_nan=False)]


class StreamOptions(BaseModel):
    include_usage: bool = False


class CompletionRequest(BaseModel):
    """OpenAI's completion request; what recur does not do (best_of > 1, penalties, a suffix, logit_bias)
    is refused with 400 rather than silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    model: str = Field(description="A corpus (its champion generator) or corpus@version.")
    prompt: str | list[str] = Field("", description="Text the samples continue (one prompt a request).")
    length: int = Field(
        16, ge=0, alias="max_tokens", description="Characters per sample (0 with echo: score the prompt)."
    )
    temperature: Number = Field(1.0, ge=0, le=MAX_TEMPERATURE, description="0 is greedy.")
    top_p: Number = Field(1.0, gt=0, le=1)
    top_k: int | None = Field(None, ge=1, description="recur's addition: the k likeliest characters only.")
    n: int = Field(1, ge=1, description="Samples for the prompt.")
    stop: str | list[str] | None = Field(None, description="Up to 4 strings that end a sample.")
    seed: int | None = Field(None, ge=0, lt=2**63, description="Same seed, same text.")
    stream: bool = False
    stream_options: StreamOptions | None = None
    unknown: Literal["error", "skip"] = Field(
        "error", description="recur's addition: prompt characters the model never saw: refuse or drop."
    )
    user: str | None = None
    echo: bool = Field(False, description="Return the prompt before each sample (with logprobs, scored).")
    logprobs: int | None = Field(
        None,
        ge=0,
        le=MAX_LOGPROBS,
        description="Each character's log-probability and the k likeliest at its place (nats).",
    )
    best_of: int | None = None
    suffix: str | None = None
    presence_penalty: Number = 0.0
    frequency_penalty: Number = 0.0
    logit_bias: dict | None = None

    def check(self, max_tokens: int, max_n: int) -> str:
        """The limits of this service and what it does not do; the one prompt."""
        unsupported = [
            ("best_of", self.best_of not in (None, 1)),
            ("suffix", self.suffix is not None),
            ("presence_penalty", self.presence_penalty != 0),
            ("frequency_penalty", self.frequency_penalty != 0),
            ("logit_bias", bool(self.logit_bias)),
        ]
        for name, used in unsupported:
            if used:
                raise ApiError(400, f"{name} is not supported by recur's character models", name)
        if self.length == 0 and not self.echo:
            raise ApiError(
                400,
                'max_tokens 0 makes nothing; with "echo": true it returns (and scores) the prompt',
                "max_tokens",
            )
        if self.length > max_tokens:
            raise ApiError(
                400,
                f"max_tokens {self.length}: at most {max_tokens} characters a sample "
                "(recur serve --max-tokens sets the limit)",
                "max_tokens",
            )
        if self.n > max_n:
            raise ApiError(
                400, f"n {self.n}: at most {max_n} samples a request (recur serve --max-n sets it)", "n"
            )
        stops = [self.stop] if isinstance(self.stop, str) else self.stop or []
        if len(stops) > 4:
            raise ApiError(400, f"stop: at most 4 strings, not {len(stops)}", "stop")
        prompts = [self.prompt] if isinstance(self.prompt, str) else self.prompt
        if len(prompts) != 1:
            raise ApiError(400, f"prompt: one prompt a request, not {len(prompts)}", "prompt")
        return prompts[0]

    def sample_request(self, prompt: str) -> SampleRequest:
        """The request as `textgen sample` makes it (max_tokens is its length), seeded; `check` has held
        it to this service's caps."""
        caps = {"max_length": max(self.length, 1), "max_n": self.n}
        sampled = self.model_dump(include=SAMPLED) | {"length": max(self.length, 1)}
        return SampleRequest(prompt=prompt, **sampled, **caps).seeded()


SAMPLED = {"length", "temperature", "top_k", "top_p", "n", "seed", "stop", "unknown"}


class Completion:
    """One request in flight: its job in a model's loop (none with max_tokens 0), and the stored result
    once it ends."""

    def __init__(self, body: CompletionRequest, loop: ModelLoop, prompt: str, state: State) -> None:
        self.body, self.loop, self.generators = body, loop, state.generators
        self.timer = Timer(state.metrics)
        self.prompt_ids, self.prompt = prompt_of(loop.loaded, prompt, body.unknown)
        self.bell = Bell(asyncio.get_running_loop())
        self.request = body.sample_request(prompt)
        made = body.length > 0
        self.job = job_of(self.prompt_ids, self.request, self._made, body.logprobs) if made else None
        self.reader = self.job.reader() if made else None
        self.id = f"cmpl-{secrets.token_hex(12)}"
        self.created = int(time.time())
        self.model = f"{loop.corpus}@{loop.loaded.version}"
        self.kept: dict | None = None
        self.echoed: dict | None = None  # the prompt's logprobs block, with echo and logprobs
        self._event_head = ""  # an event up to its choice (see `text_event`)

    def _made(self) -> None:
        """On the model loop's thread, after each step that made this request characters."""
        if not self.timer.first_seen and self.job.final.any():
            self.timer.first()
        self.bell.ring()

    async def start(self) -> None:
        if self.body.echo and self.body.logprobs is not None:
            top = self.body.logprobs
            scores = await run_in_threadpool(prompt_scores, self.loop.loaded, self.prompt, top)
            self.echoed = lp.block(self.prompt, scores, 0)
        if self.job is not None:
            self.loop.submit(self.job)

    def keep(self) -> dict:
        """Store the samples (once): their ids and longest copied runs."""
        if self.kept is None and self.job is None:
            self.kept = {"ids": [], "samples": [{"text": "", "finish_reason": "length"}] * self.body.n}
        if self.kept is None:
            params = self.request.stored() | {"via": "api"}
            self.kept = self.generators.keep(self.loop, self.prompt, self.job, params)
        self.timer.end(self.usage()["completion_tokens"], len(self.kept["ids"]))
        return self.kept

    def usage(self) -> dict:
        made = sum(len(t) for t in self.job.outputs) if self.job else 0
        return {
            "prompt_tokens": len(self.prompt_ids),
            "completion_tokens": made,
            "total_tokens": len(self.prompt_ids) + made,
        }

    def head(self) -> dict:
        return {"id": self.id, "object": "text_completion", "created": self.created, "model": self.model}

    def extras(self, kept: dict) -> dict:
        return {
            "seed": self.request.seed,
            "sample_ids": kept["ids"],
            "longest_copied": [
                s["longest_copied"]["length"] for s in kept["samples"] if "longest_copied" in s
            ],
        }

    def gather(self) -> float:
        streams = self.loop.batcher.rows
        return min(GATHER_MAX_S, max(GATHER_S, streams * GATHER_PER_STREAM_S))

    def chunk(self, k: int, text: str, finish: str | None, scores: list | None) -> str:
        """One stream's event: its new final text (and their scores, with logprobs)."""
        if self.body.logprobs is None:
            self._event_head = self._event_head or event_head(self.head())
            return text_event(self._event_head, k, text, finish)
        logprobs = self.logprobs(text, scores, self.reader.sent[k] - len(text))
        choice = {"text": text, "index": k, "logprobs": logprobs, "finish_reason": finish}
        return sse(self.head() | {"choices": [choice]})

    def _echo(self) -> str:
        return self.prompt if self.body.echo else ""

    def logprobs(self, text: str, scores: list | None, offset: int) -> dict | None:
        """A piece of a choice's generated text, starting `offset` characters into the generated text."""
        if self.body.logprobs is None:
            return None
        return lp.block(text, scores or [], len(self._echo()) + offset)

    def whole(self, kept: dict) -> dict:
        choices = []
        for k, s in enumerate(kept["samples"]):
            scores = self.job.scores[k] if self.job else []
            logprobs = self.logprobs(s["text"], scores, 0)
            if logprobs is not None and self.echoed is not None:
                logprobs = lp.merged(self.echoed, logprobs)
            choice = {"text": self._echo() + s["text"], "index": k, "logprobs": logprobs}
            choices.append(choice | {"finish_reason": s["finish_reason"]})
        return self.head() | {"choices": choices, "usage": self.usage(), "recur": self.extras(kept)}

    async def finished(self) -> None:
        while self.reader is not None and not self.reader.done:
            await self.bell.wait()
            self.reader.news()

    def _echoes(self):
        """With echo, each stream's first chunk: the prompt (and its logprobs)."""
        finish = None if self.job else "length"
        for k in range(self.body.n):
            choice = {"text": self.prompt, "index": k, "logprobs": self.echoed, "finish_reason": finish}
            yield sse(self.head() | {"choices": [choice]})

    async def events(self):
        """Server-sent events: the echoed prompts; a chunk per stream as its characters become final (what
        arrived since the last chunk, together), each stream's finish reason, then usage and recur's ids,
        then [DONE]."""
        try:
            if self.body.echo:
                for event in self._echoes():
                    yield event
            while self.reader is not None and not self.reader.done:
                await self.bell.wait()
                news = self.reader.news()
                if news:  # the streams' chunks of one look go out in one write
                    yield "".join([self.chunk(*piece) for piece in news])
                if not self.reader.done:  # the first characters still go at once
                    await asyncio.sleep(self.gather())
            async for event in self._tail():
                yield event
        finally:
            if self.kept is None and self.job is not None:  # the client went away: stop, keep what was made
                self.job.cancelled = True
                asyncio.get_running_loop().run_in_executor(None, self.keep)

    async def _tail(self):
        if self.job is not None and self.job.error:
            error = {"message": self.job.error, "type": "server_error", "param": None, "code": None}
            yield sse({"error": error})
        kept = await run_in_threadpool(self.keep)
        tail = self.head() | {"choices": [], "recur": self.extras(kept)}
        if self.body.stream_options and self.body.stream_options.include_usage:
            tail["usage"] = self.usage()
        yield sse(tail)
        yield "data: [DONE]\n\n"


def sse(data: dict) -> str:
    return f"data: {dumps(data).decode('utf-8')}\n\n"


def event_head(head: dict) -> str:
    """A completion's event up to its one choice, for `text_event`."""
    return sse(head | {"choices": []}).removesuffix("]}\n\n")


def text_event(start: str, k: int, text: str, finish: str | None) -> str:
    """`sse` of the event with stream k's text and no logprobs, written around one JSON string: the
    service sends thousands of these a second, each through the event loop."""
    ending = "null" if finish is None else json.dumps(finish)
    choice = f'{{"text": {json.dumps(text, ensure_ascii=False)}, "index": {k}, "logprobs": null'
    return f'{start}{choice}, "finish_reason": {ending}}}]}}\n\n'


@router.post("/v1/completions", summary="Generate text (OpenAI's completions API)")
async def completions(body: CompletionRequest, request: Request):
    app = request.app.state
    prompt = body.check(app.options.max_tokens, app.options.max_n)
    try:
        loop = app.generators.cached(body.model) or await run_in_threadpool(
            app.generators.resolve, body.model
        )
    except InputError as exc:
        raise from_recur(exc, "model") from exc
    except RecurError as exc:  # no such corpus or version, or nothing trained on it yet
        raise ApiError(404, str(exc), "model", "model_not_found") from exc
    try:
        completion = Completion(body, loop, prompt, app)
    except RecurError as exc:  # characters the model never saw: the API's name for the way out
        message = str(exc).replace("--unknown skip", '"unknown": "skip"')
        raise ApiError(400, message, "prompt", "invalid_value") from exc
    await completion.start()
    if body.stream:
        return StreamingResponse(
            completion.events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )
    await completion.finished()
    kept = await run_in_threadpool(completion.keep)
    if completion.job is not None and completion.job.error:
        raise ApiError(500, completion.job.error)
    return Response(dumps(completion.whole(kept)), media_type="application/json")


@router.get("/v1/models", summary="Text generators: every corpus with a champion")
async def models(request: Request):
    from pipelines.api import corpora

    rows = await run_in_threadpool(corpora, request.app.state.settings)
    data = [
        {
            "id": r["name"],
            "object": "model",
            "created": 0,
            "owned_by": "recur",
            "version": r["champion"]["version"],
        }
        for r in rows
        if r["champion"]
    ]
    return Response(dumps({"object": "list", "data": data}), media_type="application/json")
