"""`OpenAIBackend`: chat completions from any OpenAI-compatible server.

Works with a vLLM server (`python -m vllm.entrypoints.openai.api_server`,
see `personagym.llm.server.VLLMServer`), with OpenAI itself, and with other
compatible servers.  Retries are tenacity's (in `BaseBackend`); the client's
own retries are off so there is one retry mechanism.

Structured output: a JSON schema goes as `response_format` (the OpenAI API);
choices and regexes go as `extra_body={"structured_outputs": {...}}`, which is
what vLLM's server accepts (other servers answer 400, reported as the error).
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any
from urllib.parse import urlparse

from personagym.llm.base import BadOutputError, BaseBackend, TransientError
from personagym.llm.registry import check_base_url
from personagym.llm.types import ChatRequest, Completion

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class OpenAIBackend(BaseBackend):
    """Chat completions over HTTP from an OpenAI-compatible server.

    Arguments:
        model: the served model name (for vLLM, `--served-model-name` or the model path).
        base_url: the server's API root, e.g. "http://127.0.0.1:8000/v1"; None for OpenAI itself.
        api_key_env: the environment variable holding the API key; it may be unset for a server on
            127.0.0.1/localhost (a dummy key is sent).
        **options: `BaseBackend` options (max_concurrency, timeout, max_attempts, backoff_*, cache).
    """

    name = "openai"

    def __init__(
        self, model: str, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY", **options: Any
    ) -> None:
        super().__init__(model, **options)
        check_base_url(base_url)
        self.base_url = base_url
        self.api_key_env = api_key_env
        self._api_key = self._resolve_api_key()
        self._client_obj: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    @property
    def cache_identity(self) -> str:
        return f"{self.name}:{self.base_url or 'openai'}:{self.model}"

    def _resolve_api_key(self) -> str:
        key = os.environ.get(self.api_key_env, "")
        if key:
            return key
        if self.base_url is not None and urlparse(self.base_url).hostname in LOCAL_HOSTS:
            return "EMPTY"  # a local server needs no key, but the client insists on one
        where = self.base_url or "the OpenAI API"
        raise ValueError(
            f"no API key for {where}: set the environment variable {self.api_key_env} "
            f"(from Python, api_key_env= names another variable to read)"
        )

    def _client(self) -> Any:
        """The `AsyncOpenAI` client of the running event loop (its connections belong to one loop)."""
        loop = asyncio.get_running_loop()
        if self._client_obj is None or self._client_loop is not loop:
            from openai import AsyncOpenAI

            self._client_obj = AsyncOpenAI(
                base_url=self.base_url, api_key=self._api_key, max_retries=0, timeout=self.timeout
            )
            self._client_loop = loop
        return self._client_obj

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        sampling = request.sampling
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [message.model_dump() for message in request.messages],
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
        }
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        if sampling.seed is not None:
            body["seed"] = sampling.seed
        structured = request.structured
        if structured is not None and structured.json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "response", "schema": structured.json_schema},
            }
        elif structured is not None and structured.choice is not None:
            body["extra_body"] = {"structured_outputs": {"choice": list(structured.choice)}}
        elif structured is not None:
            body["extra_body"] = {"structured_outputs": {"regex": structured.regex}}
        return body

    async def _complete_one(self, request: ChatRequest) -> Completion:
        try:
            response = await self._client().chat.completions.create(**self._body(request))
        except json.JSONDecodeError as exc:
            raise TransientError(f"response body from {self.base_url or 'OpenAI'} is not JSON: {exc}") from None
        choices = getattr(response, "choices", None)
        if not choices:
            raise BadOutputError(f"response has no choices: {str(response)[:120]!r}")
        choice = choices[0]
        usage = getattr(response, "usage", None)
        return Completion(
            text=choice.message.content or "",
            finish_reason=choice.finish_reason,
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
        )

    def _is_retryable(self, exc: BaseException) -> bool:
        import openai

        if isinstance(exc, openai.APIStatusError):
            return exc.status_code >= 500 or exc.status_code in (408, 409, 429)
        if isinstance(exc, openai.APIConnectionError | openai.APIResponseValidationError):
            return True  # includes timeouts, dropped connections and bodies that are not the API's JSON
        return super()._is_retryable(exc)

    async def aclose(self) -> None:
        """Close the HTTP client (if it belongs to the running loop) and the cache."""
        client, self._client_obj = self._client_obj, None
        if client is not None and self._client_loop is asyncio.get_running_loop():
            await client.close()
        await super().aclose()

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, base_url={self.base_url!r})"
