"""Drive async LLM code from sync code on one persistent event loop.

AutoGen clients, `openai.AsyncOpenAI` and our backends hold loop-bound state
(connections, semaphores): running each call under a fresh `asyncio.run`
intermittently fails with "Event loop is closed".  A `LoopRunner` keeps one
loop for the life of its owner (an env, a policy).  Inside an already running
loop (Jupyter, an async trainer) sync calls cannot nest: they raise and point
to the async API instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopRunner:
    """One event loop, created on first use and closed by `close()`."""

    def __init__(self) -> None:
        self._runner: asyncio.Runner | None = None

    def run(self, coro: Coroutine[Any, Any, T], *, async_alternative: str = "the async API") -> T:
        """Run `coro` to completion on this runner's loop."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            coro.close()
            raise RuntimeError(
                f"called from inside a running event loop; await {async_alternative} instead of the sync call"
            )
        if self._runner is None:
            self._runner = asyncio.Runner()
        return self._runner.run(coro)

    def close(self) -> None:
        """Close the loop (idempotent)."""
        if self._runner is not None:
            self._runner.close()
            self._runner = None
