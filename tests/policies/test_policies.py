"""Built-in policies: ordering of rewards, the tracker's profile inference, the registry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from personagym.policies import make_policy, policy_names
from personagym.rollout import make_env, rollout, summarize

EPISODES = 300


@pytest.fixture(scope="module")
def summaries() -> dict[str, dict]:
    return {p: summarize(rollout("PersonaGym/Chat-v0", p, EPISODES, seed=1000))
            for p in ("oracle", "tracker", "generic", "random")}


def _gap_beyond_ci(hi: dict, lo: dict) -> bool:
    """The difference of means exceeds the 95% CI of the difference."""
    diff = hi["mean"] - lo["mean"]
    return diff > math.hypot(hi["ci95"], lo["ci95"])


def test_oracle_beats_tracker_beats_generic_beats_random(summaries) -> None:
    r = {p: s["reward"] for p, s in summaries.items()}
    assert _gap_beyond_ci(r["oracle"], r["tracker"]), r
    assert _gap_beyond_ci(r["tracker"], r["generic"]), r
    assert r["generic"]["mean"] >= r["random"]["mean"], r


def test_an_empty_answer_earns_no_style_and_scores_below_random(summaries) -> None:
    class Silent:
        def act(self, observation: dict) -> str:
            return ""

    silent = summarize(rollout("PersonaGym/Chat-v0", Silent(), EPISODES, seed=1000))
    assert silent["components"]["style"]["mean"] == 0.0
    assert _gap_beyond_ci(summaries["random"]["reward"], silent["reward"]), (summaries["random"], silent)
    (trajectory,) = rollout("PersonaGym/Chat-v0", Silent(), 1, seed=1)
    assert {t.user.intent.reason for t in trajectory.turns[1:]} == {"too_short"}  # the user asks for an answer


def test_only_profile_emitters_score_profile(summaries) -> None:
    assert summaries["generic"]["components"]["profile"]["mean"] == 0.0
    profile = {name: s["components"]["profile"]["mean"] for name, s in summaries.items()}
    assert profile["oracle"] > profile["tracker"] > 0


def _f1_by_turn(env_id: str, episodes: int = 150) -> dict[int, float]:
    by_turn: dict[int, list[float]] = {}
    for t in rollout(env_id, "tracker", episodes, seed=7, max_turns=6):
        for turn in t.turns:
            if turn.profile is not None:
                by_turn.setdefault(turn.turn, []).append(turn.reward_components["profile"])
    return {k: float(np.mean(v)) for k, v in sorted(by_turn.items()) if len(v) >= 20}


def test_tracker_profile_f1_rises_with_turns_and_suffers_from_noise() -> None:
    clean = _f1_by_turn("PersonaGym/ChatClean-v0")
    noisy = _f1_by_turn("PersonaGym/ChatNoisy-v0")
    turns = sorted(clean)
    assert clean[turns[-1]] > clean[turns[0]], clean
    assert float(np.mean(list(noisy.values()))) < float(np.mean(list(clean.values()))), (clean, noisy)


@pytest.mark.parametrize("policy", ["generic", "random", "oracle", "tracker"])
def test_an_episode_replays_from_the_seed_it_records(policy: str) -> None:
    alone = next(iter(rollout("PersonaGym/Chat-v0", policy, 1, seed=5)))
    after_another = list(rollout("PersonaGym/Chat-v0", policy, 2, seed=4))[1]
    assert after_another.seed == alone.seed == 5
    assert after_another.model_dump_json() == alone.model_dump_json()


def test_rollout_takes_a_policy_object() -> None:
    class Echo:
        def act(self, observation: dict) -> str:
            return "You said: " + observation["message"]

    (trajectory,) = rollout("PersonaGym/Chat-v0", Echo(), 1, seed=3)
    assert trajectory.policy == "Echo" and trajectory.turns[0].assistant.startswith("You said: ")
    with pytest.raises(TypeError, match=r"policy must be a name, 'module:Class' or an object with act"):
        next(iter(rollout("PersonaGym/Chat-v0", 42, 1)))  # type: ignore[arg-type]


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"seed": None}, ValueError, r"seed must be an int in \[0, 9223372036854775798\] .*got None"),
    ({"seed": -1}, ValueError, r"seed must be an int in \[0, .*got -1"),
    ({"seed": 2**63 - 1}, ValueError, r"\(episode seeds seed..seed\+episodes-1 are stored as int64\)"),
    ({"episodes": "2"}, ValueError, "episodes must be a positive int, got '2'"),
    ({"env_id": make_env("PersonaGym/Chat-v0")}, TypeError, "env_id must be a registered id .* got OrderEnforcing"),
])
def test_rollout_arguments_of_the_wrong_kind(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        next(iter(rollout(**{"env_id": "PersonaGym/Chat-v0", **kwargs})))


def test_registry_and_custom_policies() -> None:
    assert {"generic", "random", "oracle", "tracker"} <= set(policy_names())
    env = make_env("PersonaGym/Chat-v0")
    with pytest.raises(ValueError, match=r"unknown policy 'trackr' \(did you mean 'tracker'\?\)"):
        make_policy("trackr", env=env)
    with pytest.raises(ValueError, match="cannot load policy 'nowhere.mod:Thing'"):
        make_policy("nowhere.mod:Thing", env=env)
    with pytest.raises(TypeError, match=r"cannot build policy 'json:dumps' with no arguments: missing .*'obj'"):
        make_policy("json:dumps", env=env)
    with pytest.raises(TypeError, match=r"policy 'json:__doc__' is a str; expected a class"):
        make_policy("json:__doc__", env=env)
    echo = make_policy("tests.policies.echo:EchoPolicy", env=env)
    obs, _ = env.reset(seed=0)
    assert echo.act(obs) == "You said: " + obs["message"]
    assert echo.act_batch([obs, obs]) == [echo.act(obs)] * 2


def test_unknown_env_id_suggests() -> None:
    with pytest.raises(ValueError, match=r"did you mean 'PersonaGym/Chat-v0'"):
        make_env("PersonaGym/Chat-v1")
