"""The GRPO data loop: advantages, prompts, seeds, TRL rows, exact scoring on env copies, and one real iteration."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest
from datasets import load_dataset

from personagym.envs.chat import PersonaChatEnv
from personagym.envs.rewards import COMPONENTS
from personagym.learn.grpo import (
    GRPOConfig,
    GRPOLoop,
    StepScore,
    completion_text,
    env_reward_function,
    fork_env,
    group_advantages,
    group_requests,
    grpo_features,
    make_text_env,
    prompt_messages,
    replay_reward,
    request_seeds,
    score_action,
    trl_row,
    write_jsonl,
)
from personagym.llm.types import Sampling
from personagym.llm.vllm_backend import VLLMBackend
from personagym.policies.llm_policy import DEFAULT_SYSTEM_PROMPT
from tests.extras import needs_model_file, needs_vllm

ANSWERS = [
    "I'd suggest a short hike and some jazz tonight.",
    "Here are three ideas:\n- pasta\n- a museum visit\n- a board game evening",
    "Could you tell me more about what you enjoy?",
    "Dear user, I would formally recommend a detailed reading of classic novels and a visit to an art gallery.",
]


# -- advantages ------------------------------------------------------------------------------
def test_equal_rewards_give_zero_advantages() -> None:
    for rewards in ([0.1, 0.1, 0.1], [0.3], [-2.0, -2.0]):
        assert group_advantages(rewards).tolist() == [0.0] * len(rewards)


def test_advantages_are_trls_group_normalisation() -> None:
    rewards = [0.5, -1.0, 2.0, 0.25]
    mean = sum(rewards) / 4
    std = math.sqrt(sum((r - mean) ** 2 for r in rewards) / 3)  # sample std, as torch.std
    expected = [(r - mean) / (std + 1e-4) for r in rewards]
    got = group_advantages(rewards)
    assert got == pytest.approx(expected, rel=1e-12)
    assert got.sum() == pytest.approx(0.0, abs=1e-12)
    assert group_advantages([0.0, 1.0], epsilon=0.5) == pytest.approx([-0.5 / (math.sqrt(0.5) + 0.5),
                                                                       0.5 / (math.sqrt(0.5) + 0.5)])


@pytest.mark.parametrize("rewards", [[], [1.0, float("nan")], [[1.0, 2.0]]])
def test_bad_rewards(rewards: list) -> None:
    with pytest.raises(ValueError, match="rewards must be a non-empty list of finite numbers"):
        group_advantages(rewards)


# -- prompts, seeds, requests ----------------------------------------------------------------
def test_prompt_keeps_the_last_exchanges() -> None:
    history = [(f"u{i}", f"a{i}") for i in range(5)]
    prompt = prompt_messages("now?", history, history_turns=2)
    assert prompt == [{"role": "system", "content": DEFAULT_SYSTEM_PROMPT},
                      {"role": "user", "content": "u3"}, {"role": "assistant", "content": "a3"},
                      {"role": "user", "content": "u4"}, {"role": "assistant", "content": "a4"},
                      {"role": "user", "content": "now?"}]
    assert prompt_messages("hi", history, system_prompt="S", history_turns=0) == [
        {"role": "system", "content": "S"}, {"role": "user", "content": "hi"}]


def test_request_seeds_are_distinct_and_derived_from_the_loop_seed() -> None:
    seeds = request_seeds(0, 0, 0, 8)
    assert len(set(seeds)) == 8 and all(0 <= s < 2**31 for s in seeds)
    assert request_seeds(0, 0, 0, 8) == seeds
    assert request_seeds(0, 0, 1, 8) != seeds and request_seeds(0, 1, 0, 8) != seeds
    assert request_seeds(1, 0, 0, 8) != seeds


def test_group_requests_share_the_prompt_and_differ_in_seed() -> None:
    prompt = prompt_messages("hello", [])
    requests = group_requests(prompt, Sampling(temperature=1.0, max_tokens=32), [5, 6, 7], "grpo it0 p0")
    assert [r.sampling.seed for r in requests] == [5, 6, 7]
    assert {r.messages for r in requests} == {requests[0].messages}
    assert [m.model_dump() for m in requests[0].messages] == prompt
    assert [r.tag for r in requests] == ["grpo it0 p0 g0", "grpo it0 p0 g1", "grpo it0 p0 g2"]
    assert all(r.sampling.temperature == 1.0 and r.sampling.max_tokens == 32 for r in requests)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"group_size": 1}, "group_size must be an int >= 2, got 1"),
     ({"group_size": 4.0}, "group_size must be an int >= 2, got 4.0"),
     ({"temperature": 0.0}, r"temperature must be a number in \(0, 2\] \(a group needs distinct samples\), got 0.0"),
     ({"temperature": "1"}, r"temperature must be a number in \(0, 2\] .*, got '1'"),
     ({"temperature": float("nan")}, r"temperature must be a number in \(0, 2\] .*, got nan"),
     ({"top_p": None}, r"top_p must be a number in \(0, 1\], got None"),
     ({"top_p": True}, r"top_p must be a number in \(0, 1\], got True"),
     ({"advance": "greedy"}, "advance must be one of best, sample, got 'greedy'"),
     ({"max_tokens": 0}, r"max_tokens must be an int in \[1, 32768\], got 0"),
     ({"max_tokens": 100_000}, r"max_tokens must be an int in \[1, 32768\], got 100000"),
     ({"history_turns": -1}, "history_turns must be an int >= 0, got -1"),
     ({"epsilon": 0.0}, "epsilon must be a finite number > 0, got 0.0"),
     ({"epsilon": "x"}, "epsilon must be a finite number > 0, got 'x'"),
     ({"epsilon": float("inf")}, "epsilon must be a finite number > 0, got inf"),
     ({"system_prompt": 5}, "system_prompt must be a str or None, got 5"),
     ({"seed": 1000}, r"seed must be an int in \[0, 999\] so training seeds stay apart from evaluation seeds"),
     ({"seed": True}, r"seed must be an int in \[0, 999\] .*, got True")],
)
def test_bad_config(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        GRPOConfig(**kwargs)


def test_config_takes_numpy_numbers_as_pythons() -> None:
    config = GRPOConfig(group_size=np.int64(3), temperature=np.float32(0.5), max_tokens=np.int32(32),
                        seed=np.int64(7))
    assert config == GRPOConfig(group_size=3, temperature=0.5, max_tokens=32, seed=7)
    assert type(config.seed) is int and type(config.temperature) is float
    assert config.sampling.max_tokens == 32


# -- exact scoring on copies -----------------------------------------------------------------
def _env_after(seed: int, actions: list[str]) -> PersonaChatEnv:
    env = PersonaChatEnv()
    env.reset(seed=seed)
    for action in actions:
        env.step(action)
    return env


def test_scoring_a_copy_equals_stepping_the_original() -> None:
    # a user whose third request one of the answers meets, so that the answers are told apart (an answer off
    # the request earns no style: all four can score alike)
    for seed in range(7, 40):
        env = PersonaChatEnv()
        env.reset(seed=seed)
        if any(env.step(answer)[2] for answer in ANSWERS[:2]):
            continue  # the user left before the third answer
        before = env.trajectory().model_dump_json()
        scores = [score_action(env, answer) for answer in ANSWERS]
        assert env.trajectory().model_dump_json() == before  # scoring left the env as it was
        if len({s.reward for s in scores}) > 1:
            break
    else:
        pytest.fail("no seed in [7, 40) tells the answers apart")
    for answer, score in zip(ANSWERS, scores, strict=True):
        original = _env_after(seed, ANSWERS[:2])
        _, reward, terminated, truncated, info = original.step(answer)
        assert score == StepScore(reward, info["reward_components"], terminated, truncated)


def test_fork_matches_a_full_deepcopy_over_the_rest_of_the_episode() -> None:
    env = _env_after(3, ANSWERS[:1])
    fork, full = fork_env(env), copy.deepcopy(env)
    assert fork.schema is env.schema and fork.user is not env.user
    for answer in ANSWERS[1:]:
        assert fork.step(answer)[:4] == full.step(answer)[:4]
    assert fork.trajectory().model_dump_json() == full.trajectory().model_dump_json()
    assert len(env.trajectory().turns) == 1  # the original did not move


def test_make_text_env_gives_a_new_unwrapped_chat_env_or_names_the_option() -> None:
    """The GRPO scripts' --env-id check, shared: a text env GRPO can copy, or an error in the script's words."""
    env = make_text_env("PersonaGym/Chat-v0", "--env-id")
    assert isinstance(env, PersonaChatEnv) and env is env.unwrapped
    assert make_text_env("PersonaGym/Chat-v0") is not env
    with pytest.raises(ValueError, match=r"^--env-id: unknown env id 'PersonaGym/Chat-v1' \(did you mean"):
        make_text_env("PersonaGym/Chat-v1", "--env-id")
    with pytest.raises(ValueError, match=r"^env_id 'PersonaGym/Structured-v0' is not a text env \(PersonaChatEnv\); "
                                         r"try PersonaGym/Chat-v0$"):
        make_text_env("PersonaGym/Structured-v0")


@needs_vllm
@needs_model_file
def test_fork_refuses_what_it_cannot_copy(local_model_dir: Path) -> None:
    with pytest.raises(TypeError, match="env must be a PersonaChatEnv .* got str"):
        fork_env("env")  # type: ignore[arg-type]
    llm_env = PersonaChatEnv(backend=VLLMBackend(local_model_dir))  # never started: no engine is made
    with pytest.raises(ValueError, match="is in LLM mode .* needs template mode"):
        fork_env(llm_env)


def test_replay_and_trl_reward_function_rebuild_the_state() -> None:
    env = _env_after(11, ANSWERS[:2])
    expected = score_action(env, ANSWERS[3])
    assert replay_reward(PersonaChatEnv(), 11, ANSWERS[:2], ANSWERS[3]) == expected
    reward = env_reward_function(PersonaChatEnv())
    conversational = [[{"role": "assistant", "content": ANSWERS[3]}], ANSWERS[3]]
    assert reward(prompts=[None, None], completions=conversational, seed=[11, 11],
                  previous_actions=[ANSWERS[:2], ANSWERS[:2]], env_id=["x", "x"]) == [expected.reward] * 2
    with pytest.raises(TypeError, match="completion must be a str or"):
        completion_text([{"role": "user", "content": "hi"}])


def test_trl_rows_load_with_datasets(tmp_path: Path) -> None:
    env = _env_after(2, ANSWERS[:1])
    prompt = prompt_messages(env.last_user.text, [("first", ANSWERS[0])])
    scores = [score_action(env, a) for a in ANSWERS[1:]]
    advantages = group_advantages([s.reward for s in scores])
    rows = [trl_row(prompt=prompt, completion=a, score=s, advantage=adv, group_id=0, iteration=0,
                    env_id=env.env_id, seed=2, session=0, turn=1, previous_actions=ANSWERS[:1])
            for a, s, adv in zip(ANSWERS[1:], scores, advantages, strict=True)]
    assert rows[0]["completion"] == [{"role": "assistant", "content": ANSWERS[1]}]
    assert rows[0]["prompt"][0]["role"] == "system" and rows[0]["prompt"][-1] == {
        "role": "user", "content": env.last_user.text}
    assert list(rows[0]["reward_components"]) == list(COMPONENTS)
    path = write_jsonl(rows, tmp_path / "out" / "batch.jsonl")
    write_jsonl(rows[:1], path, append=True)
    data = load_dataset("json", data_files=str(path), features=grpo_features(), split="train")
    assert data.num_rows == 4
    assert data[1]["completion"] == rows[1]["completion"] and data[0]["prompt"] == rows[0]["prompt"]
    assert data["advantage"][:3] == pytest.approx(advantages.tolist())
    assert data[2]["reward_components"] == rows[2]["reward_components"]


@needs_vllm
@needs_model_file
def test_loop_refuses_bad_envs_and_backends(local_model_dir: Path) -> None:
    backend = VLLMBackend(local_model_dir)  # never started
    env = PersonaChatEnv()
    with pytest.raises(ValueError, match="envs must hold at least one PersonaChatEnv"):
        GRPOLoop(backend, [])
    with pytest.raises(ValueError, match="envs must be distinct objects"):
        GRPOLoop(backend, [env, env])
    with pytest.raises(TypeError, match=r"envs\[1\] must be a PersonaChatEnv"):
        GRPOLoop(backend, [env, object()])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="backend must be an LLMBackend .* got str"):
        GRPOLoop("local", [env])  # type: ignore[arg-type]


class _UnusedBackend:
    """Enough of an `LLMBackend` to build a loop that never samples."""

    async def generate(self, requests: list) -> list:
        raise AssertionError("the loop was not stepped")


def test_loop_builds_its_config_from_a_dict() -> None:
    loop = GRPOLoop(_UnusedBackend(), [PersonaChatEnv()], {"group_size": 3, "seed": 2})  # type: ignore[arg-type]
    try:
        assert loop.config == GRPOConfig(group_size=3, seed=2)
        assert loop.slots[0].seed == 2 * 1_000_000  # the dict's seed picked the episode
    finally:
        loop.close()
    env = PersonaChatEnv()
    with pytest.raises(ValueError, match=r"unknown GRPOConfig field 'group' \(did you mean 'group_size'\?\)"):
        GRPOLoop(_UnusedBackend(), [env], {"group": 3})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="group_size must be an int >= 2, got 1"):
        GRPOLoop(_UnusedBackend(), [env], {"group_size": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="config must be a dict or GRPOConfig, got int"):
        GRPOLoop(_UnusedBackend(), [env], 4)  # type: ignore[arg-type]


# -- one real iteration ----------------------------------------------------------------------
@pytest.mark.llm
def test_one_iteration_on_vllm(vllm_backend: VLLMBackend, llm_runner, tmp_path: Path) -> None:
    envs = [PersonaChatEnv(), PersonaChatEnv()]
    config = GRPOConfig(group_size=3, max_tokens=48, seed=3)
    loop = GRPOLoop(vllm_backend, envs, config, runner=llm_runner)
    before = [copy.deepcopy(env) for env in envs]  # full copies, independent of `fork_env`
    seeds = [slot.seed for slot in loop.slots]
    batch = loop.step()

    assert batch.failed == 0 and len(batch.rows) == 6 and batch.completion_tokens > 0
    replay = env_reward_function(PersonaChatEnv())
    for slot in range(2):
        group = batch.rows[slot * 3:(slot + 1) * 3]
        assert {row["group_id"] for row in group} == {slot} and {row["seed"] for row in group} == {seeds[slot]}
        advantages = np.array([row["advantage"] for row in group])
        assert np.isfinite(advantages).all() and abs(advantages.sum()) < 1e-9
        for row in group:
            text = row["completion"][0]["content"]
            _, reward, _, _, info = copy.deepcopy(before[slot]).step(text)
            assert row["reward"] == reward and row["reward_components"] == info["reward_components"]
            assert row["turn"] == 0 and row["previous_actions"] == []
        assert replay(prompts=[r["prompt"] for r in group], completions=[r["completion"] for r in group],
                      seed=[r["seed"] for r in group],
                      previous_actions=[r["previous_actions"] for r in group]) == [r["reward"] for r in group]
        # the env moved on along its group's best answer (or started the next episode)
        best = max(row["reward"] for row in group)
        state = loop.slots[slot]
        if state.seed == seeds[slot]:
            assert envs[slot].trajectory().turns[0].reward == best and state.observation["turn"] == 1
    path = write_jsonl(batch.rows, tmp_path / "grpo_batch.jsonl")
    data = load_dataset("json", data_files=str(path), split="train")
    assert data.num_rows == 6 and data[0]["completion"][0]["role"] == "assistant"
    assert load_dataset("json", data_files=str(path), features=grpo_features(), split="train").num_rows == 6


@pytest.mark.llm
def test_same_seed_same_batch(replaying_vllm_backend: VLLMBackend, llm_runner) -> None:
    # the second run replays the engine's words: every one of its requests must hit the cache (same
    # prompts, same sampling seeds), and then every row must be the same
    backend = replaying_vllm_backend
    config = GRPOConfig(group_size=3, max_tokens=48, seed=3)
    batches = []
    for _ in range(2):
        requests, cached = backend.usage.requests, backend.usage.cached
        batches.append(GRPOLoop(backend, [PersonaChatEnv(), PersonaChatEnv()], config, runner=llm_runner).step().rows)
    assert backend.usage.requests - requests == backend.usage.cached - cached == 6
    assert batches[0] == batches[1]
    assert len({row["completion"][0]["content"] for row in batches[0]}) > 2  # the groups hold distinct samples
