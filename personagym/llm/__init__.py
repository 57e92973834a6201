"""LLM backends: batched async chat completions with retries, a concurrency limit and an on-disk cache.

`make_backend(kind, ...)` builds one ("template" means no LLM).  Importing this
package is cheap: openai, vllm and tenacity are imported only when a backend
needs them.
"""

from personagym.llm.base import BadOutputError, BaseBackend, TransientError, check_output, raise_on_error
from personagym.llm.cache import ResponseCache
from personagym.llm.openai_backend import OpenAIBackend
from personagym.llm.registry import BACKEND_KINDS, make_backend
from personagym.llm.server import VLLMServer
from personagym.llm.types import (
    ChatMessage,
    ChatRequest,
    Completion,
    LLMBackend,
    LLMError,
    Sampling,
    StructuredOutput,
    Usage,
)
from personagym.llm.vllm_backend import VLLMBackend

__all__ = [
    "BACKEND_KINDS",
    "BadOutputError",
    "BaseBackend",
    "ChatMessage",
    "ChatRequest",
    "Completion",
    "LLMBackend",
    "LLMError",
    "OpenAIBackend",
    "ResponseCache",
    "Sampling",
    "StructuredOutput",
    "TransientError",
    "Usage",
    "VLLMBackend",
    "VLLMServer",
    "check_output",
    "make_backend",
    "raise_on_error",
]
