"""Preference pairs at every turn: several policies answer the same conversation state.

`export --to pairs` can pair only the first answers of generated episodes:
after it, each policy's conversation has gone its own way.  Here one policy
(the first, or `lead`) leads the conversation and, at every turn, every policy
answers the same user message after the same history; each answer is scored
on a fork of the env (`score_action`: the same user in the same state, the
same draws to come, so the reward differs only by the answer).  The best and
the worst answer make a pair, as in `export --to pairs`: the answers without
a ``<profile>`` block, ranked by the reward without its profile component,
ties (within `TIE`) giving none.  Few-shot preference training (FSPO) and
multi-turn DPO get a pair for most turns of every user instead of one per
episode.

Every policy sees every user message and answers as if the conversation so
far were its own (it is not told which answer was sent), so a policy that
remembers what it suggested (the tracker) remembers its own suggestions.
Rows have the `pairs` export's fields (`export_features("pairs")`), the
prompt holding the conversation so far.  In an episode of several sessions
(LongTerm: days to a year apart) the first user message of each session
holds, before the message, the goodbye that closed the session before (if the
user said one) and the line ``--- session N ---`` (`session_opening`, as the
``recall`` conversation holds it): no answer followed the goodbye, so kept
there the prompt still alternates user and assistant, as TRL's conversational
format requires.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from personagym.checks import check_int
from personagym.data.exports import TIE, session_opening, warn_privileged_pairs
from personagym.data.trajectories import PathLike, write_lines
from personagym.envs.chat import check_positive
from personagym.learn.grpo import score_action
from personagym.policies import Policy, make_policy
from personagym.profile_format import split_profile
from personagym.rollout import MAX_SEED, make_env, policy_act, reset_policy


def write_turn_pairs(env_id: str, policies: Sequence[str | Policy], episodes: int, out_path: PathLike, seed: int = 0,
                     lead: str | None = None, on_episode: Callable[[], None] | None = None, **env_kwargs: Any) -> int:
    """Write `turn_pairs` as JSON lines (atomically) and return the number of rows; raise ValueError, writing
    nothing, when no turn gives a pair."""
    pairs = turn_pairs(env_id, policies, episodes, seed, lead, on_episode=on_episode, **env_kwargs)
    first = next(pairs, None)
    if first is None:
        raise ValueError(f"no pairs: {', '.join(_policy_names(policies))} earned the same reward at every turn of "
                         f"{episodes} episodes; nothing written")
    return write_lines((json.dumps(row, ensure_ascii=False) for row in itertools.chain([first], pairs)), out_path)


def turn_pairs(env_id: str, policies: Sequence[str | Policy], episodes: int, seed: int = 0, lead: str | None = None,
               on_episode: Callable[[], None] | None = None, **env_kwargs: Any) -> Iterator[dict[str, Any]]:
    """Yield a preference pair for each turn of `episodes` conversations (seeds `seed`..) where the `policies`'
    answers differ in reward; `lead` (default: the first policy) is the one whose answers are sent;
    `on_episode` is called after each episode (a progress bar).

    A policy is a name, ``module:Class`` or an object, as for `rollout`, and is named in the rows (and by
    `lead`) by its name, else its ``name`` attribute, else its class name.
    """
    names = _policy_names(policies)
    if len(names) < 2 or len(set(names)) < len(names):
        raise ValueError(f"turn pairs need two or more different policies, got {names}")
    lead = names[0] if lead is None else lead
    if lead not in names:
        raise ValueError(f"lead {lead!r} is none of the policies {names}")
    check_positive("episodes", episodes)
    warn_privileged_pairs(names)
    seed = check_int("seed", seed, 0, MAX_SEED - episodes + 1,
                     why=" (episode seeds seed..seed+episodes-1 are stored as int64)")
    env = make_env(env_id, **env_kwargs)
    try:
        agents = {name: make_policy(p, env=env, seed=seed) if isinstance(p, str) else p
                  for name, p in zip(names, policies, strict=True)}
        for i in range(episodes):
            yield from _episode_pairs(env, agents, lead, seed + i)
            if on_episode is not None:
                on_episode()
    finally:
        env.close()


def _policy_names(policies: Sequence[str | Policy]) -> list[str]:
    """The names of `policies` in the rows: a name as given, an object's ``name`` attribute, else its class name;
    raise TypeError for a bare string (read letter by letter, "got ['t', 'r', 'a', ...]") or an object without
    ``act``."""
    if isinstance(policies, str):
        raise TypeError(f"policies must be a list of two or more policies, got the string {policies!r}")
    bad = next((p for p in policies if not isinstance(p, str) and not callable(getattr(p, "act", None))), None)
    if bad is not None:
        raise TypeError(f"a policy must be a name, 'module:Class' or an object with act(observation), "
                        f"got {type(bad).__name__}")
    return [p if isinstance(p, str) else getattr(p, "name", None) or type(p).__name__ for p in policies]


def _episode_pairs(env: Any, agents: dict[str, Any], lead: str, seed: int) -> Iterator[dict[str, Any]]:
    for agent in agents.values():
        reset_policy(agent, seed)
    obs, _ = env.reset(seed=seed)
    base = env.unwrapped
    persona_id, weight = base.user.persona.persona_id, base.weights.profile
    several = base.sessions > 1
    history: list[dict[str, str]] = []
    session, closing = None, None
    done = False
    while not done:
        opens = several and obs["session"] != session
        message = session_opening(closing, obs["session"], obs["message"]) if opens else obs["message"]
        history.append({"role": "user", "content": message})
        session = obs["session"]
        answers = {name: policy_act(agent, obs, seed, name, text=True) for name, agent in agents.items()}
        scored = []
        for name, answer in answers.items():
            score = score_action(base, answer)
            scored.append((round(score.reward - weight * score.components["profile"], 6), name))
        scored.sort()
        (low, worst), (high, best) = scored[0], scored[-1]
        if high - low >= TIE:
            yield {
                "trajectory_id": base._trajectory_id, "persona_id": persona_id, "prompt": list(history),
                "chosen": [{"role": "assistant", "content": split_profile(answers[best])[1]}],
                "rejected": [{"role": "assistant", "content": split_profile(answers[worst])[1]}],
                "chosen_reward": high, "rejected_reward": low, "chosen_policy": best, "rejected_policy": worst,
            }
        history.append({"role": "assistant", "content": split_profile(answers[lead])[1]})
        obs, _, terminated, truncated, _ = env.step(answers[lead])
        done = terminated or truncated
        if not done and obs["session"] != session:  # the goodbye, if any, is kept with the answer it followed
            goodbye = base.trajectory().turns[-1].closing
            closing = None if goodbye is None else goodbye.text
