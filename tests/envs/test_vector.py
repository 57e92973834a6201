"""Vector envs: `gym.make_vec` in sync mode, and async mode with and without shared memory."""

from __future__ import annotations

import copy
import multiprocessing

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector.utils import create_shared_memory, read_from_shared_memory, write_to_shared_memory

import personagym  # noqa: F401 - registers the envs
from personagym.envs.spaces import TextRows, UnicodeText


def _run(envs: gym.vector.VectorEnv, steps: int) -> list[list[str]]:
    obs, _ = envs.reset(seed=3)
    messages = [list(obs["message"])]
    for _ in range(steps):
        actions = tuple(f"Here is my answer to: {m[:40]}" for m in obs["message"])
        obs, rewards, _, _, _ = envs.step(actions)
        assert rewards.shape == (envs.num_envs,) and np.isfinite(rewards).all()
        messages.append(list(obs["message"]))
    return messages


def test_sync_vector_env_runs_and_is_reproducible() -> None:
    envs = gym.make_vec("PersonaGym/Chat-v0", num_envs=3, vectorization_mode="sync")
    first = _run(envs, 12)
    envs.close()
    envs = gym.make_vec("PersonaGym/Chat-v0", num_envs=3, vectorization_mode="sync")
    assert _run(envs, 12) == first
    envs.close()
    assert all(isinstance(m, str) and m for step in first for m in step)
    assert len({m for m in first[0]}) == 3  # each sub-env got its own seed and user


@pytest.mark.parametrize("vector_kwargs", [{}, {"shared_memory": False}, {"copy": False}],
                         ids=["shared-memory", "pipes", "shared-memory-no-copy"])
def test_async_matches_sync(vector_kwargs: dict) -> None:
    """Async mode, with Gymnasium's defaults too (shared memory), gives the sync mode's messages.

    Gymnasium's own Text shared memory fails on any character outside the
    charset ("£", "é") and would show the first reset's text forever.
    """
    sync = gym.make_vec("PersonaGym/Chat-v0", num_envs=2, vectorization_mode="sync")
    expected = _run(sync, 6)
    sync.close()
    envs = gym.make_vec("PersonaGym/Chat-v0", num_envs=2, vectorization_mode="async", vector_kwargs=vector_kwargs)
    try:
        assert _run(envs, 6) == expected
    finally:
        envs.close()
    assert len({tuple(step) for step in expected}) == 7  # the messages change at every step


def test_shared_text_rows_round_trip_any_text_and_stay_live() -> None:
    space = UnicodeText(8)
    memory = create_shared_memory(space, n=3, ctx=multiprocessing)
    rows = read_from_shared_memory(space, memory, n=3)
    texts = ["a\nb £", "", "é😊\x00z"]  # newline, empty, emoji, NUL
    for i, text in enumerate(texts):
        write_to_shared_memory(space, i, text, memory)
    assert isinstance(rows, TextRows) and list(rows) == texts and rows[1:] == tuple(texts[1:])
    frozen = copy.deepcopy(rows)
    write_to_shared_memory(space, 0, "12345678", memory)  # a shorter text after a longer one leaves no tail
    write_to_shared_memory(space, 0, "xy", memory)
    assert rows[0] == "xy" and frozen == tuple(texts) and isinstance(frozen, tuple)
    with pytest.raises(ValueError, match="at most 8 characters, got str of length 9"):
        write_to_shared_memory(space, 0, "123456789", memory)
    with pytest.raises(ValueError, match="Unicode text: a lone surrogate '\\\\ud800' at position 0"):
        write_to_shared_memory(space, 0, "\ud800", memory)
    assert rows[0] == "xy"
