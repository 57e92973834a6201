"""LLM policy: profile parsing, the registry, rollouts and batches on the real model."""

from __future__ import annotations

import json

import gymnasium as gym
import jsonschema
import pytest

import personagym  # noqa: F401 - registers the envs
from personagym.data.trajectories import trajectory_json_schema
from personagym.envs.chat import PersonaChatEnv
from personagym.llm.types import ChatRequest, Completion, LLMError, Sampling
from personagym.policies import make_policy, policy_names
from personagym.policies.llm_policy import LLMPolicy, parse_profile_json, profile_schema
from personagym.profile_format import format_profile, split_profile
from personagym.records import SERIALIZED, Trajectory
from personagym.rollout import run_episode

ATTRIBUTES = {"diet": ("omnivore", "vegan"), "length_pref": ("terse", "brief", "detailed")}
SHORT = Sampling(temperature=0.0, max_tokens=40, seed=0)


def profile(likes=(), dislikes=(), attributes=()) -> str:
    return json.dumps({"likes": list(likes), "dislikes": list(dislikes),
                       "attributes": [{"name": n, "value": v} for n, v in attributes]})


# -- parsing and schema (no model) ---------------------------------------------------------------
def test_profile_json_becomes_pairs_the_env_can_read() -> None:
    text = profile(["Jazz", "Thai food"], ["horror films"], [("diet", "vegan"), ("length_pref", "brief")])
    pairs = parse_profile_json(text, ATTRIBUTES)
    assert pairs == [("likes", "Jazz"), ("likes", "Thai food"), ("dislikes", "horror films"),
                     ("diet", "vegan"), ("length_pref", "brief")]
    block, answer = split_profile(format_profile(pairs) + "Here you go.")
    assert answer == "Here you go." and "diet: vegan" in block


def test_profile_names_cannot_break_the_block_and_repeats_are_dropped() -> None:
    text = profile(["jazz</profile>likes: x", "jazz</profile>likes: x", "a,b;c"], [],
                   [("diet", "vegan"), ("diet", "omnivore")])
    pairs = parse_profile_json(text, ATTRIBUTES)
    assert pairs == [("likes", "jazz /profile likes x"), ("likes", "a b c"), ("diet", "vegan")]
    block, answer = split_profile(format_profile(pairs) + "ok")
    assert answer == "ok" and block.count("\n") == 1


@pytest.mark.parametrize("text", [
    '{"likes": ["jazz"], "dislikes": []',  # cut off
    '{"likes": ["jazz"], "dislikes": []}',  # a key missing
    profile(["a", "b", "c", "d"]),  # too many
    profile(["x" * 33]),  # too long
    profile([], [], [("diet", "carnivore")]),  # a value outside the domain
    profile([], [], [("mood", "happy")]),  # an unknown attribute
    json.dumps({"likes": [], "dislikes": [], "attributes": [{"name": "diet"}]}),
    json.dumps({"likes": [1], "dislikes": [], "attributes": []}),
    json.dumps({"likes": [], "dislikes": [], "attributes": [], "extra": 1}),
])
def test_profile_json_that_breaks_the_schema_is_rejected(text: str) -> None:
    assert parse_profile_json(text, ATTRIBUTES) is None


def test_profile_schema_is_bounded() -> None:
    schema = profile_schema(ATTRIBUTES)
    assert schema["properties"]["likes"]["maxItems"] == 3
    assert schema["properties"]["likes"]["items"]["maxLength"] == 32
    options = schema["properties"]["attributes"]["items"]["anyOf"]
    assert [o["properties"]["name"]["const"] for o in options] == ["diet", "length_pref"]
    assert profile_schema({})["properties"]["attributes"] == {"type": "array", "maxItems": 0}


def test_registry_needs_a_backend_and_arguments_are_checked() -> None:
    assert {"llm", "llm-profile"} <= set(policy_names())
    env = gym.make("PersonaGym/Chat-v0")
    with pytest.raises(ValueError, match="the LLM policy needs an LLM backend: pass --backend"):
        make_policy("llm", env=env)
    with pytest.raises(ValueError, match="the LLM policy needs an LLM backend"):
        make_policy("llm-profile")
    with pytest.raises(ValueError, match="history_turns must be an int >= 0, got -1"):
        LLMPolicy(object(), history_turns=-1)
    with pytest.raises(TypeError, match="backend must be an LLMBackend"):
        LLMPolicy(object())
    with pytest.raises(ValueError, match=r"profile_attributes\['diet'\] must be non-empty values"):
        LLMPolicy(object(), profile_attributes={"diet": ()})


class EchoBackend:
    """Answers every request with the last message it holds (no model)."""

    async def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        return [Completion(text="echo: " + r.messages[-1].content) for r in requests]


def test_act_batch_takes_a_vector_envs_batched_observation() -> None:
    envs = gym.make_vec("PersonaGym/Chat-v0", num_envs=2, vectorization_mode="sync")
    batched, _ = envs.reset(seed=3)
    envs.close()
    policy = LLMPolicy(EchoBackend())
    assert policy.act_batch(batched) == [f"echo: {m}" for m in batched["message"]]
    policy.close()


# -- with a real model ---------------------------------------------------------------------------
class CountingBackend:
    """The real backend, with a count of `generate` calls (to check that a batch is one call)."""

    def __init__(self, backend) -> None:
        self.inner = backend
        self.calls: list[list[ChatRequest]] = []

    async def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        self.calls.append(list(requests))
        return await self.inner.generate(requests)


def check_trajectory(trajectory: Trajectory) -> None:
    data = json.loads(trajectory.model_dump_json())
    jsonschema.validate(data, trajectory_json_schema())
    assert Trajectory.model_validate(data, context=SERIALIZED) == trajectory


@pytest.mark.llm
def test_rollout_on_a_template_env_gives_a_valid_trajectory(vllm_backend, llm_runner) -> None:
    env = gym.make("PersonaGym/Chat-v0", max_turns=3)
    policy = LLMPolicy(vllm_backend, sampling=SHORT, runner=llm_runner)
    trajectory = run_episode(env, policy, seed=11, policy_name="llm")
    check_trajectory(trajectory)
    assert trajectory.policy == "llm" and 1 <= len(trajectory.turns) <= 3
    assert all(t.assistant.strip() and t.profile is None for t in trajectory.turns)
    # the policy remembers the conversation: each later request carried the earlier exchanges
    assert policy.conversation(0) == [(t.user.text, t.assistant) for t in trajectory.turns]


@pytest.mark.llm
def test_reason_then_respond_emits_a_profile_the_env_parses(vllm_backend, llm_runner) -> None:
    env = gym.make("PersonaGym/Chat-v0", max_turns=2)
    schema = env.unwrapped.schema
    attributes = {n: a.values for n, a in schema.attributes.items()
                  if a.role in ("style", "constraint") and a.type != "taxonomy"}
    # the 135M model can run out of tokens inside its profile (counted as a failure): play until one parses
    for seed in range(4, 10):
        policy = LLMPolicy(vllm_backend, reason_then_respond=True, sampling=SHORT, profile_attributes=attributes,
                           runner=llm_runner)
        trajectory = run_episode(env, policy, seed=seed, policy_name="llm-profile")
        check_trajectory(trajectory)
        with_profile = [t for t in trajectory.turns if t.profile is not None]
        assert len(with_profile) == len(trajectory.turns) - policy.profile_failures
        for turn in with_profile:
            assert not turn.assistant.lstrip().startswith("<profile>")  # the env split the block off
            assert 0.0 <= turn.reward_components["profile"] <= 1.0
        if with_profile:
            return
    pytest.fail("no profile parsed in the episodes of seeds 4-9")


@pytest.mark.llm
def test_act_batch_is_one_generate_call_with_one_history_per_slot(vllm_backend, llm_runner) -> None:
    envs = [gym.make("PersonaGym/Chat-v0") for _ in range(3)]
    observations = [env.reset(seed=20 + i)[0] for i, env in enumerate(envs)]
    backend = CountingBackend(vllm_backend)
    policy = LLMPolicy(backend, sampling=SHORT, history_turns=1, runner=llm_runner)
    actions = policy.act_batch(observations)
    assert len(backend.calls) == 1 and len(backend.calls[0]) == 3
    assert [r.tag for r in backend.calls[0]] == [f"policy answer slot{i} s0t0" for i in range(3)]
    second = [env.step(a)[0] for env, a in zip(envs, actions, strict=True)]
    policy.act_batch(second)
    assert len(backend.calls) == 2
    for slot, request in enumerate(backend.calls[1]):
        # system, the slot's own earlier exchange, the new message
        texts = [(m.role, m.content) for m in request.messages[1:]]
        assert texts == [("user", observations[slot]["message"]), ("assistant", actions[slot].strip()),
                         ("user", second[slot]["message"])]
    # a reset observation (turn 0 of session 0) starts that slot's conversation afresh
    policy.act_batch([envs[0].reset(seed=99)[0], *second[1:]])
    assert len(backend.calls[2][0].messages) == 2 and len(backend.calls[2][1].messages) == 4
    rtr = LLMPolicy(backend, reason_then_respond=True, sampling=SHORT, runner=llm_runner)
    rtr.act_batch(observations)
    assert [len(c) for c in backend.calls[3:]] == [3, 3]  # one call for the profiles, one for the answers
    assert backend.calls[3][0].tag == "policy profile slot0 s0t0"


@pytest.mark.llm
def test_a_failed_answer_raises_naming_the_request(vllm_backend, llm_runner) -> None:
    policy = LLMPolicy(vllm_backend, sampling=SHORT, runner=llm_runner)
    too_long = {"message": "word " * 5000, "turn": 0, "session": 0}  # beyond the engine's context
    with pytest.raises(LLMError, match="request 'policy answer slot0 s0t0' failed"):
        policy.act(too_long)
    fine = {"message": "Any tips for a quiet weekend?", "turn": 0, "session": 0}
    with pytest.raises(LLMError, match="request 'policy answer slot1 s0t0' failed"):
        policy.act_batch([fine, too_long])
    assert policy.conversation(0) == policy.conversation(1) == []  # nothing half-recorded


@pytest.mark.llm
def test_registry_builds_the_policy_on_the_envs_backend_and_loop(vllm_backend) -> None:
    env = PersonaChatEnv(backend=vllm_backend)
    policy = make_policy("llm-profile", env=env, seed=3)
    assert isinstance(policy, LLMPolicy) and policy.backend is vllm_backend and policy.reason_then_respond
    assert policy.sampling.seed == 3 and {"diet", "length_pref"} <= set(policy.profile_attributes)
    assert "favorite_cuisine" not in policy.profile_attributes  # interests go in likes/dislikes
    assert policy.runner is env.loop
    policy.close()  # the env's loop is the env's to close
    assert env.loop.run(_answer()) == 42
    env.close()


async def _answer() -> int:
    return 42
