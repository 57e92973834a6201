"""`UnicodeText`: Gymnasium's space utilities (flatten, FlattenObservation) work for any text it contains."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.spaces.utils import flatdim, flatten, flatten_space, unflatten
from gymnasium.wrappers import FlattenObservation

import personagym  # noqa: F401 - registers the envs
from personagym.envs.spaces import FLAT_PAD, UnicodeText


@pytest.mark.parametrize("text", ["", "£5 café 😊\nok", "\x00" * 16])
def test_any_text_flattens_into_the_flat_space_and_back(text: str) -> None:
    space = UnicodeText(16)
    flat = flatten(space, text)
    assert flatten_space(space).contains(flat) and flat.shape == (flatdim(space),)
    assert list(flat[len(text):]) == [FLAT_PAD] * (16 - len(text))
    assert unflatten(space, flat) == text
    assert unflatten(space, flat.astype(np.float64)) == text  # as a flattened Dict with a float Box holds it


def test_text_outside_the_space_does_not_flatten() -> None:
    with pytest.raises(ValueError, match="text to flatten must be a str of at most 8 characters, got str of length 9"):
        flatten(UnicodeText(8), "123456789")


@pytest.mark.parametrize("env_id", ["PersonaGym/Chat-v0", "PersonaGym/Structured-v0"])
def test_flatten_observation_wraps_the_envs(env_id: str) -> None:
    """The first message of seed 0 holds a "£": Gymnasium's `Text` flattening raised a KeyError on it."""
    env = FlattenObservation(gym.make(env_id))
    obs, _ = env.reset(seed=0)
    message = env.unwrapped.reset(seed=0)[0]["message"]
    assert "£" in message and env.observation_space.contains(obs)
    assert unflatten(env.env.observation_space, obs)["message"] == message
    action = env.action_space.sample() if env_id.endswith("Structured-v0") else "Happy to help."
    obs, *_ = env.step(action)
    assert env.observation_space.contains(obs)
