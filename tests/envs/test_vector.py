"""Vector envs: `gym.make_vec` in sync mode, and async mode without shared memory."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import personagym  # noqa: F401 - registers the envs


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


def test_async_without_shared_memory_matches_sync() -> None:
    """`AsyncVectorEnv` must use shared_memory=False: shared memory cannot hold Text observations."""
    sync = gym.make_vec("PersonaGym/Chat-v0", num_envs=2, vectorization_mode="sync")
    expected = _run(sync, 6)
    sync.close()
    envs = gym.make_vec("PersonaGym/Chat-v0", num_envs=2, vectorization_mode="async",
                        vector_kwargs={"shared_memory": False})
    try:
        assert _run(envs, 6) == expected
    finally:
        envs.close()
