"""`ChatCompletionClientBackend`: any AutoGen ``ChatCompletionClient`` as a PersonaGym `LLMBackend`.

With it, an AutoGen client (e.g. autogen-ext's ``OpenAIChatCompletionClient``
against ``vllm serve``) can write the simulated user's words
(``PersonaChatEnv(backend=ChatCompletionClientBackend(client, model=...))``)
or back any PersonaGym component that takes a backend, with the shared
retries, cache, concurrency limit and per-request errors of `BaseBackend`.

Sampling and structured output travel as OpenAI-style create arguments
(``temperature``, ``top_p``, ``max_tokens``, ``stop``, ``seed``,
``response_format``, and vLLM's ``extra_body.structured_outputs`` for choices
and regexes): what OpenAI-compatible AutoGen clients accept.
"""

from __future__ import annotations

from typing import Any

from autogen_core.models import AssistantMessage, ChatCompletionClient, LLMMessage, SystemMessage, UserMessage

from personagym.llm.base import BaseBackend
from personagym.llm.types import ChatRequest, Completion


class ChatCompletionClientBackend(BaseBackend):
    """A PersonaGym backend that sends each request through an AutoGen chat completion client.

    Args:
        client: the AutoGen client (the caller owns it: ``aclose`` does not close it).
        model: the model's name, as recorded in trajectories and in cache keys.
        **options: `BaseBackend` options (max_concurrency, timeout, max_attempts, backoff_*, cache).
    """

    name = "autogen"

    def __init__(self, client: ChatCompletionClient, *, model: str, **options: Any) -> None:
        if not isinstance(client, ChatCompletionClient):
            raise TypeError(f"client must be an autogen_core.models.ChatCompletionClient, got {type(client).__name__}")
        super().__init__(model, **options)
        self.client = client

    @property
    def cache_identity(self) -> str:
        return f"{self.name}:{type(self.client).__name__}:{self.model}"

    async def _complete_one(self, request: ChatRequest) -> Completion:
        result = await self.client.create(_messages(request), extra_create_args=_create_args(request))
        if not isinstance(result.content, str):
            raise TypeError(f"the client answered with function calls, not text: {str(result.content)[:120]!r}")
        return Completion(text=result.content, finish_reason=result.finish_reason,
                          prompt_tokens=result.usage.prompt_tokens, completion_tokens=result.usage.completion_tokens)

    def _is_retryable(self, exc: BaseException) -> bool:
        import openai

        if isinstance(exc, openai.APIStatusError):
            return exc.status_code >= 500 or exc.status_code in (408, 409, 429)
        if isinstance(exc, openai.APIConnectionError | openai.APIResponseValidationError):
            return True
        return super()._is_retryable(exc)

    def __repr__(self) -> str:
        return f"ChatCompletionClientBackend({type(self.client).__name__}, model={self.model!r})"


def _messages(request: ChatRequest) -> list[LLMMessage]:
    out: list[LLMMessage] = []
    for message in request.messages:
        if message.role == "system":
            out.append(SystemMessage(content=message.content))
        elif message.role == "user":
            out.append(UserMessage(content=message.content, source="user"))
        else:
            out.append(AssistantMessage(content=message.content, source="assistant"))
    return out


def _create_args(request: ChatRequest) -> dict[str, Any]:
    sampling, structured = request.sampling, request.structured
    args: dict[str, Any] = {"temperature": sampling.temperature, "top_p": sampling.top_p,
                            "max_tokens": sampling.max_tokens}
    if sampling.stop:
        args["stop"] = list(sampling.stop)
    if sampling.seed is not None:
        args["seed"] = sampling.seed
    if structured is not None and structured.json_schema is not None:
        args["response_format"] = {"type": "json_schema",
                                   "json_schema": {"name": "response", "schema": structured.json_schema}}
    elif structured is not None and structured.choice is not None:
        args["extra_body"] = {"structured_outputs": {"choice": list(structured.choice)}}
    elif structured is not None:
        args["extra_body"] = {"structured_outputs": {"regex": structured.regex}}
    return args
