"""AutoGen agents: a team run is the env's rollout, the assistant sees only observations, bad input is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

pytest.importorskip("autogen_agentchat")  # the llm extra: without it the whole suite stopped at collection

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.conditions import MaxMessageTermination
from autogen_agentchat.messages import TextMessage
from autogen_agentchat.teams import RoundRobinGroupChat
from autogen_core.models import ModelInfo
from autogen_ext.models.openai import OpenAIChatCompletionClient

import personagym  # noqa: F401 - registers the env ids
from personagym.agents import (
    AssistantPolicyAgent,
    ChatCompletionClientBackend,
    DistractorAgent,
    EpisodeEndTermination,
    UserSimulatorAgent,
    arun_team,
    build_team,
    run_team,
)
from personagym.agents.messages import CLOSING_KEY, END_KEY, ROLE_KEY, SESSION_KEY, TURN_KEY
from personagym.data import JSON_SCHEMA_PATH, write_jsonl
from personagym.envs.chat import PersonaChatEnv
from personagym.llm.runner import LoopRunner
from personagym.llm.types import Sampling
from personagym.policies import Observation, make_policy
from personagym.profile_format import split_profile
from personagym.records import Trajectory
from personagym.rollout import run_episode

TEXT_ENV_IDS = ["PersonaGym/Chat-v0", "PersonaGym/ChatClean-v0", "PersonaGym/ChatNoisy-v0", "PersonaGym/LongTerm-v0"]
MODEL_INFO = ModelInfo(vision=False, function_calling=False, json_output=False, family="unknown",
                       structured_output=False)


class RecordingPolicy:
    """Echoes the user and records every observation it is given (to check what the assistant sees)."""

    name = "recording"

    def __init__(self) -> None:
        self.seen: list[Observation] = []

    def act(self, observation: Observation) -> str:
        self.seen.append(dict(observation))
        return "Tell me more about " + observation["message"][:40]

    def act_batch(self, observations: Sequence[Observation]) -> list[str]:
        return [self.act(o) for o in observations]


@pytest.fixture(scope="module")
def loop() -> Iterator[LoopRunner]:
    runner = LoopRunner()
    yield runner
    runner.close()


def assert_valid(trajectory: Trajectory, tmp_path: Path) -> None:
    """The trajectory's JSON line validates against the published schema."""
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json.loads(JSON_SCHEMA_PATH.read_text(encoding="utf-8")))
    path = tmp_path / "t.jsonl"
    write_jsonl([trajectory], path)
    (line,) = path.read_text(encoding="utf-8").splitlines()
    validator.validate(json.loads(line))


def transcript_matches(messages: Sequence[Any], trajectory: Trajectory) -> None:
    """The team's messages are the trajectory's words: intended = clean, observed = text, answers = assistant.

    A team stopped before the distractor spoke has no observed message for the last user turn.  A turn whose
    LLM distractor failed falls back to its template words after the user agent said the LLM's clean words.
    """
    by_role: dict[str, list[str]] = {"intended": [], "observed": [], "answer": []}
    for m in messages:
        if isinstance(m, TextMessage) and m.source != "user":
            by_role[m.metadata.get(ROLE_KEY, "answer")].append(m.content)
    user_turns = trajectory.user_turns()
    assert len(by_role["intended"]) == len(user_turns)
    for said, turn in zip(by_role["intended"], user_turns, strict=True):
        assert said == turn.clean_text or turn.rendered_by == "template_fallback"
    assert by_role["observed"] == [u.text for u in user_turns][: len(by_role["observed"])]
    assert len(by_role["observed"]) >= len(user_turns) - 1
    answers = [split_profile(text) for text in by_role["answer"][: len(trajectory.turns)]]
    assert answers == [(t.profile, t.assistant) for t in trajectory.turns]


# --------------------------------------------------------------------------- template mode


@pytest.mark.parametrize("env_id", TEXT_ENV_IDS)
@pytest.mark.parametrize("seed", [0, 3])
def test_team_run_is_the_env_rollout(env_id: str, seed: int, tmp_path: Path) -> None:
    reference_env, team_env = gym.make(env_id), gym.make(env_id)
    expected = run_episode(reference_env, make_policy("tracker", env=reference_env, seed=1), seed, "tracker")
    assistant = AssistantPolicyAgent(policy=make_policy("tracker", env=team_env, seed=1))
    got = run_team(team_env, assistant, seed=seed)
    assert got.policy == "tracker"
    assert got.model_dump() == expected.model_dump()  # rewards, texts, truth, flags: byte for byte
    assert got.terminated or got.truncated
    assert_valid(got, tmp_path)


def test_a_reused_assistant_agent_is_reset_like_a_reused_policy() -> None:
    reference_env, team_env = gym.make("PersonaGym/LongTerm-v0"), gym.make("PersonaGym/LongTerm-v0")
    policy = make_policy("tracker", env=reference_env, seed=1)
    assistant = AssistantPolicyAgent(policy=make_policy("tracker", env=team_env, seed=1))
    for seed in (5, 6, 5):  # run_episode calls policy.reset() per episode; the agent's on_reset does the same
        expected = run_episode(reference_env, policy, seed, "tracker")
        assert run_team(team_env, assistant, seed=seed).model_dump() == expected.model_dump()


def test_the_assistant_sees_exactly_the_observations(loop: LoopRunner) -> None:
    env = gym.make("PersonaGym/Chat-v0", noise_rate=1.0, sessions=2, max_turns=4)
    policy = RecordingPolicy()
    trajectory = loop.run(arun_team(env, AssistantPolicyAgent(policy=policy), seed=2))
    expected = [{"message": t.user.text, "turn": t.turn, "session": t.session} for t in trajectory.turns]
    assert policy.seen == expected
    # the noise changed what was said, so seeing the clean words would have shown here
    assert any(t.user.clean_text != t.user.text for t in trajectory.turns)
    assert trajectory.policy == "recording"


def test_max_turns_caps_the_answers() -> None:
    env = gym.make("PersonaGym/Chat-v0", max_turns=8)
    # the first episode from seed 2 the user does not end within two answers
    seed, full = next((s, t) for s in range(2, 40)
                      if len((t := run_team(env, make_policy("tracker", env=env, seed=1), seed=s)).turns) > 2)
    cut = run_team(env, make_policy("tracker", env=env, seed=1), seed=seed, max_turns=2)
    assert [t.model_dump() for t in cut.turns] == [t.model_dump() for t in full.turns[:2]]
    assert cut.final_user == full.turns[2].user
    assert not (cut.terminated or cut.truncated)


def test_the_agents_work_in_a_hand_built_team(loop: LoopRunner, tmp_path: Path) -> None:
    env = PersonaChatEnv(noise_rate=0.6)
    user = UserSimulatorAgent(env, seed=4)
    assistant = AssistantPolicyAgent(policy=make_policy("tracker", env=env, seed=1))
    team = RoundRobinGroupChat([user, DistractorAgent(user), assistant],
                               termination_condition=MaxMessageTermination(8))
    # the task arrives as source="user": no agent has that name, and the simulated user does not take it as an answer
    result = loop.run(team.run(task="Start the conversation."))
    sources = [m.source for m in result.messages]
    assert sources == ["user", *["simulated_user", "distractor", "assistant"] * 2, "simulated_user"]
    trajectory = env.trajectory(policy="tracker")
    assert len(trajectory.turns) == 2
    transcript_matches(result.messages, trajectory)
    assert_valid(trajectory, tmp_path)


def test_start_opens_the_episode_once_and_the_team_plays_it(loop: LoopRunner) -> None:
    def team_of(user: UserSimulatorAgent, env: PersonaChatEnv) -> RoundRobinGroupChat:
        assistant = AssistantPolicyAgent(policy=make_policy("tracker", env=env, seed=1))
        return RoundRobinGroupChat([user, DistractorAgent(user), assistant],
                                   termination_condition=EpisodeEndTermination())

    lazy_env = PersonaChatEnv(max_turns=3)
    loop.run(team_of(UserSimulatorAgent(lazy_env, seed=4), lazy_env).run())
    env = PersonaChatEnv(max_turns=3)
    user = UserSimulatorAgent(env, seed=4)
    loop.run(user.start())
    opening = env.last_user
    loop.run(user.start())  # the episode is open: not reset again
    assert env.last_user is opening
    team = team_of(user, env)
    loop.run(team.run())
    assert env.trajectory().model_dump() == lazy_env.trajectory().model_dump()
    loop.run(user.start())  # an episode under way (here: over) is never restarted by start
    assert env.trajectory().model_dump() == lazy_env.trajectory().model_dump()


def test_the_team_stops_on_the_episode_end_and_ends_with_the_unanswered_message(loop: LoopRunner) -> None:
    env = PersonaChatEnv(max_turns=3)
    user = UserSimulatorAgent(env, seed=0)
    team = RoundRobinGroupChat([user, DistractorAgent(user), AssistantPolicyAgent(policy=RecordingPolicy())],
                               termination_condition=EpisodeEndTermination() | MaxMessageTermination(50))
    result = loop.run(team.run())
    trajectory = env.trajectory()
    last = result.messages[-1]
    assert last.source == "distractor"
    assert last.metadata[END_KEY] == ("terminated" if trajectory.terminated else "truncated")
    assert last.content == trajectory.final_user.text
    assert result.stop_reason.startswith("The episode ended")
    transcript_matches(result.messages, trajectory)


def test_observed_messages_carry_the_observation() -> None:
    env = PersonaChatEnv(sessions=2, max_turns=2)
    user = UserSimulatorAgent(env, seed=1)
    team = RoundRobinGroupChat([user, DistractorAgent(user), AssistantPolicyAgent(policy=RecordingPolicy())],
                               termination_condition=EpisodeEndTermination())
    result = LoopRunner().run(team.run())
    observed = [m for m in result.messages if m.metadata.get(ROLE_KEY) == "observed"]
    trajectory = env.trajectory()
    assert [(int(m.metadata[SESSION_KEY]), m.content) for m in observed] == [
        (u.session, u.text) for u in trajectory.user_turns()]
    assert {int(m.metadata[SESSION_KEY]) for m in observed} == {0, 1}
    assert [int(m.metadata[TURN_KEY]) for m in observed[:2]] == [0, 1]


def test_the_goodbye_that_closed_a_session_is_in_the_transcript() -> None:
    """A session that ends with a goodbye opens the next one: the goodbye is on that message (the assistant never
    sees it, as in the env), else the team's transcript left out 2 or 3 goodbyes an episode."""
    closings = 0
    for seed in range(4):
        env = gym.make("PersonaGym/LongTerm-v0")
        user = UserSimulatorAgent(env.unwrapped, seed=seed)
        team = RoundRobinGroupChat([user, DistractorAgent(user), AssistantPolicyAgent(policy=RecordingPolicy())],
                                   termination_condition=EpisodeEndTermination())
        result = LoopRunner().run(team.run())
        said = [m.metadata[CLOSING_KEY] for m in result.messages if CLOSING_KEY in m.metadata]
        expected = [t.closing.clean_text for t in env.unwrapped.trajectory().turns if t.closing is not None]
        assert said == expected, seed
        assert all(m.metadata.get(ROLE_KEY) == "intended" for m in result.messages if CLOSING_KEY in m.metadata)
        closings += len(said)
    assert closings >= 3


def test_the_assistant_agent_answers_alone(loop: LoopRunner) -> None:
    policy = RecordingPolicy()
    result = loop.run(AssistantPolicyAgent(policy=policy).run(task="I love jazz."))
    assert result.messages[-1].content == "Tell me more about I love jazz."
    assert policy.seen == [{"message": "I love jazz.", "turn": 0, "session": 0}]


def test_episode_end_termination_is_a_declarative_component() -> None:
    config = EpisodeEndTermination().dump_component()
    assert config.provider == "personagym.agents.EpisodeEndTermination"
    assert isinstance(EpisodeEndTermination.load_component(config), EpisodeEndTermination)


# --------------------------------------------------------------------------- bad input


def _unused_client() -> OpenAIChatCompletionClient:
    """A client that is never called (nothing listens on port 9)."""
    return OpenAIChatCompletionClient(model="m", base_url="http://127.0.0.1:9/v1", api_key="EMPTY",
                                      model_info=MODEL_INFO)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"policy": 42}, TypeError, r"policy must be a PersonaGym Policy .* got int"),
    ({"policy": object()}, TypeError, r"policy must be a PersonaGym Policy .* got object"),
    ({"model_client": "gpt-4o"}, TypeError, r"model_client must be an autogen_core.models.ChatCompletionClient "
                                            r"or a PersonaGym LLMBackend, got str"),
    ({}, ValueError, r"exactly one of policy= or model_client=, got neither"),
    ({"policy": RecordingPolicy(), "model_client": _unused_client()}, ValueError, r"exactly one .* got both"),
    ({"policy": RecordingPolicy(), "name": "user"}, ValueError, r"agent name 'user' is reserved"),
    ({"policy": RecordingPolicy(), "name": "my assistant"}, ValueError, r"must be a Python identifier"),
    ({"model_client": _unused_client(), "sampling": {"temperature": 0}}, ValueError, r"sampling applies to an "
                                                                                      r"LLMBackend"),
])
def test_assistant_agent_refuses_bad_arguments(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        AssistantPolicyAgent(**kwargs)


def test_run_team_refuses_what_is_not_an_assistant_or_env() -> None:
    env = gym.make("PersonaGym/Chat-v0")
    with pytest.raises(TypeError, match=r"assistant must be .* got int"):
        run_team(env, 42)
    with pytest.raises(TypeError, match=r"not another AutoGen agent \(AssistantAgent\).*hidden"):
        run_team(env, AssistantAgent("helper", model_client=_unused_client()))
    with pytest.raises(TypeError, match=r"env must be a PersonaChatEnv .* got object without areset"):
        run_team(object(), RecordingPolicy())
    with pytest.raises(TypeError, match=r"the text envs Chat-v0, .* got StructuredChatEnv without"):
        run_team(gym.make("PersonaGym/Structured-v0"), RecordingPolicy())
    with pytest.raises(ValueError, match=r"max_turns must be a positive int or None, got 0"):
        run_team(env, RecordingPolicy(), max_turns=0)
    with pytest.raises(ValueError, match=r"assistant name 'distractor' is taken"):
        run_team(env, AssistantPolicyAgent("distractor", policy=RecordingPolicy()))
    with pytest.raises(TypeError, match=r"user must be the UserSimulatorAgent .* got PersonaChatEnv"):
        DistractorAgent(PersonaChatEnv())
    with pytest.raises(TypeError, match=r"client must be an autogen_core.models.ChatCompletionClient, got str"):
        ChatCompletionClientBackend("gpt-4o", model="m")


def test_build_team_takes_what_run_team_takes_and_refuses_other_autogen_agents() -> None:
    env = gym.make("PersonaGym/Chat-v0")
    # another AutoGen agent in the team would read the simulated user's intended (hidden, un-noised) messages
    with pytest.raises(TypeError, match=r"not another AutoGen agent \(AssistantAgent\).*hidden"):
        build_team(env.unwrapped, AssistantAgent("helper", model_client=_unused_client()))
    with pytest.raises(TypeError, match=r"assistant must be .* got int"):
        build_team(env.unwrapped, 42)
    team = build_team(env.unwrapped, RecordingPolicy(), seed=0)  # a policy is wrapped, as run_team wraps it
    assert [agent.name for agent in team._participants] == ["simulated_user", "distractor", "assistant"]


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"options": {"noise_rate": 5}}, ValueError, r"invalid noise_rate: .*got 5"),
    ({"options": {"max_turn": 2}}, ValueError, r"unknown reset option 'max_turn' \(did you mean 'max_turns'\?\)"),
    ({"options": "noise_rate=0"}, TypeError, r"options must be a dict, got str"),
    ({"seed": -1}, gym.error.Error, r"Seed must be greater or equal to zero, actual value: -1"),
])
def test_run_team_raises_the_envs_own_error_for_a_bad_seed_or_option(kwargs: dict[str, Any], error: type[Exception],
                                                                      match: str) -> None:
    env = gym.make("PersonaGym/Chat-v0")
    # raised as env.reset raises it, before the team runs: not a RuntimeError of AutoGen's around a traceback
    with pytest.raises(error, match=match):
        run_team(env, RecordingPolicy(), **kwargs)


def test_run_team_inside_a_running_loop_points_to_the_async_api(loop: LoopRunner) -> None:
    async def sync_call_inside_a_loop() -> None:
        run_team(gym.make("PersonaGym/Chat-v0"), RecordingPolicy(), runner=LoopRunner())

    with pytest.raises(RuntimeError, match=r"await personagym.agents.arun_team"):
        loop.run(sync_call_inside_a_loop())


@pytest.mark.parametrize(("order", "match"), [
    ("distractor_first", r"'distractor' has no utterance of 'simulated_user' to distort"),
    ("no_distractor", r"intended message is hidden from the assistant: put a DistractorAgent"),
])
def test_a_misordered_team_fails_with_the_fix(order: str, match: str, loop: LoopRunner) -> None:
    env = PersonaChatEnv()
    user = UserSimulatorAgent(env, seed=0)
    assistant = AssistantPolicyAgent(policy=RecordingPolicy())
    agents = [DistractorAgent(user), user, assistant] if order == "distractor_first" else [user, assistant]
    team = RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(6))
    with pytest.raises(RuntimeError, match=match):
        loop.run(team.run())


# --------------------------------------------------------------------------- real LLMs (vLLM server)


@pytest.fixture(scope="module")
def autogen_client(vllm_server: Any, llm_runner: LoopRunner) -> Iterator[OpenAIChatCompletionClient]:
    """autogen-ext's OpenAI client on the session's vLLM server (model_info: the model name is not OpenAI's)."""
    client = OpenAIChatCompletionClient(model=vllm_server.served_model_name, base_url=vllm_server.base_url,
                                        api_key="EMPTY", model_info=MODEL_INFO, temperature=0.7, max_tokens=48,
                                        seed=0)
    yield client
    llm_runner.run(client.close())


@pytest.mark.llm
@pytest.mark.parametrize("client_kind", ["autogen", "personagym_backend"])
def test_a_model_client_as_the_assistant(client_kind: str, request: pytest.FixtureRequest, llm_runner: LoopRunner,
                                         tmp_path: Path) -> None:
    if client_kind == "autogen":
        assistant = AssistantPolicyAgent(model_client=request.getfixturevalue("autogen_client"))
    else:
        assistant = AssistantPolicyAgent(model_client=request.getfixturevalue("openai_backend"),
                                         sampling=Sampling(max_tokens=48, seed=0))
    env = gym.make("PersonaGym/ChatNoisy-v0", max_turns=2)
    team = build_team(env.unwrapped, assistant, seed=0)
    result = llm_runner.run(team.run())
    trajectory = env.unwrapped.trajectory(policy=assistant.policy_name)
    assert trajectory.terminated or trajectory.truncated
    assert trajectory.turns and all(t.assistant.strip() for t in trajectory.turns)
    transcript_matches(result.messages, trajectory)
    # the model saw the observed messages and nothing of the user's hidden side
    assert [text for role, text in assistant.chat_history if role == "user"] == [t.user.text for t in trajectory.turns]
    assert_valid(trajectory, tmp_path)
    # rewards come from the env's truth: the same answers through env.step give the same record
    answers = [m.content for m in result.messages if m.source == "assistant"][: len(trajectory.turns)]
    replay = gym.make("PersonaGym/ChatNoisy-v0", max_turns=2)
    replay.reset(seed=0)
    for answer in answers:
        replay.step(answer)
    assert replay.unwrapped.trajectory(policy=assistant.policy_name).model_dump() == trajectory.model_dump()


@pytest.mark.llm
def test_an_autogen_model_client_writes_the_users_words(autogen_client: OpenAIChatCompletionClient, vllm_server: Any,
                                                         llm_runner: LoopRunner, tmp_path: Path) -> None:
    # the 135M model keeps the phrases a render needs only now and then (a miss falls back to the template
    # words), and which seed succeeds moves with the library that converted its weights: play a few teams
    backend = ChatCompletionClientBackend(autogen_client, model=vllm_server.served_model_name)
    for seed in range(6):
        env = PersonaChatEnv(backend=backend, max_turns=2, noise_rate=0.6)
        team = build_team(env, AssistantPolicyAgent(policy=make_policy("tracker", env=env, seed=1)), seed=seed)
        requests = backend.usage.requests
        result = llm_runner.run(team.run())
        trajectory = env.trajectory(policy="tracker")
        assert trajectory.terminated or trajectory.truncated
        user_turns = trajectory.user_turns()
        assert {u.rendered_by for u in user_turns} <= {"llm", "template_fallback"}
        transcript_matches(result.messages, trajectory)
        assert backend.usage.requests - requests >= len(user_turns)
        assert trajectory.config["llm"]["backend"] == "autogen"
        assert_valid(trajectory, tmp_path)
        if any(u.rendered_by == "llm" for u in user_turns):
            return
    pytest.fail("no team of seeds 0-5 had a user turn written by the model")
