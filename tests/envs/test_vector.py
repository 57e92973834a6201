"""Vector envs: `gym.make_vec` in sync mode, and async mode with and without shared memory."""

from __future__ import annotations

import copy
import multiprocessing

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector.utils import create_shared_memory, read_from_shared_memory, write_to_shared_memory

import personagym  # noqa: F401 - registers the envs
from personagym.envs.chat import PersonaChatEnv
from personagym.envs.spaces import TextRows, UnicodeText
from personagym.envs.vector import PersonaChatVectorEnv


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


def _plain(value: object) -> object:
    """`value` with numpy arrays and scalars as lists and Python numbers, dicts and tuples as dicts and lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray | list | tuple):
        return [_plain(v) for v in value]
    return value.item() if isinstance(value, np.generic) else value


def test_batched_env_autoresets_as_gymnasiums_same_step_mode() -> None:
    """Observation, reward, ends and info, at an episode's end too, are those of `SyncVectorEnv` in SAME_STEP mode:
    the info of an env that just reset is the new episode's (turn 0), the finished one's is in ``final_info``."""
    ours = PersonaChatVectorEnv(2, max_turns=2)
    theirs = gym.vector.SyncVectorEnv([lambda: PersonaChatEnv(max_turns=2)] * 2,
                                      autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    steps = [(ours.reset(seed=7), theirs.reset(seed=7))]
    for k in range(5):
        actions = [f"Answer {k}.", f"Other answer {k}."]
        steps.append((ours.step(actions), theirs.step(actions)))
    ours.close()
    theirs.close()
    assert _plain(steps[2][0]) == _plain(steps[2][1])  # the first episode ends at the second answer
    assert steps[2][0][4]["turn"].tolist() == [0, 0] and "final_info" in steps[2][0][4]
    assert [_plain(s[0]) for s in steps] == [_plain(s[1]) for s in steps]


def test_a_batched_action_that_is_no_unicode_text_is_named_by_index() -> None:
    vec = PersonaChatVectorEnv(2)
    vec.reset(seed=0)
    with pytest.raises(ValueError, match=r"actions\[1\]: action must be Unicode text: a lone surrogate"):
        vec.step(["ok", "\ud800"])
    vec.close()


def test_num_envs_is_a_count() -> None:
    vec = PersonaChatVectorEnv(np.int64(2))
    assert vec.num_envs == 2 and type(vec.num_envs) is int and len(vec.envs) == 2
    vec.close()
    with pytest.raises(ValueError, match="^num_envs must be a positive int, got True$"):
        PersonaChatVectorEnv(True)
