"""Log-probabilities in OpenAI's completions shape (`tokens`, `token_logprobs`, `top_logprobs`,
`text_offset`), a character a token: for generated text, from what the batcher recorded as it sampled
(textgen.batching); for an echoed prompt, from reading it through the model (pipelines.sampling.
prompt_scores), the first character without a figure (nothing comes before it)."""

from __future__ import annotations

MAX_LOGPROBS = 20  # the most alternatives a position may list (OpenAI allows 5; vLLM 20 by default)
Scores = list[tuple[float, dict[str, float]] | None]  # per character: its log-probability, the top ones


def block(text: str, scores: Scores, offset: int) -> dict:
    """One choice's (or one stream chunk's) logprobs; `offset` is where `text` starts in the choice."""
    return {
        "tokens": list(text),
        "token_logprobs": [s[0] if s else None for s in scores],
        "top_logprobs": [s[1] if s else None for s in scores],
        "text_offset": [offset + i for i in range(len(text))],
    }


def merged(first: dict, second: dict) -> dict:
    """Two blocks of one choice, in order (an echoed prompt's, then the generated text's)."""
    return {key: first[key] + second[key] for key in first}
