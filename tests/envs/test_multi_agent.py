"""PersonaChatParallelEnv: the PettingZoo contract, turn taking, both sides playable, rewards, errors."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

pytest.importorskip("pettingzoo")

from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, render_test

from personagym.envs.chat import PersonaChatEnv
from personagym.envs.multi_agent import (
    ASSISTANT,
    GOODBYE,
    SIMULATED_USER,
    PersonaChatParallelEnv,
    parallel_env,
    raw_env,
)
from personagym.policies import make_policy
from personagym.profile_format import parse_profile, split_profile
from personagym.simulators.persona import load_schema

UserPolicy = Callable[[dict[str, Any]], str | None]
ANSWER = "Happy to help! You could try a walk in the park, or a cosy café — ¿qué te parece? 😊"


def _episode(env: PersonaChatParallelEnv, seed: int, user: UserPolicy, answer: Callable[[dict], str] | None = None,
             ) -> list[dict[str, Any]]:
    """One episode: the reset (actions None), then every step, as dicts keyed like PettingZoo's returns."""
    obs, infos = env.reset(seed=seed)
    steps = [{"actions": None, "obs": obs, "infos": infos}]
    while env.agents:
        if obs[ASSISTANT]["your_turn"]:
            actions = {ASSISTANT: answer(obs[ASSISTANT]) if answer else ANSWER, SIMULATED_USER: None}
        else:
            actions = {ASSISTANT: None, SIMULATED_USER: user(obs[SIMULATED_USER])}
        obs, rewards, terminations, truncations, infos = env.step(actions)
        steps.append({"actions": actions, "obs": obs, "rewards": rewards, "terminations": terminations,
                      "truncations": truncations, "infos": infos})
    return steps


def _user_return(steps: list[dict[str, Any]]) -> float:
    return sum(step["rewards"][SIMULATED_USER] for step in steps[1:])


def _constraints(observation: dict[str, Any]) -> list[tuple[str, str]]:
    """The (attribute, value) constraints in the user's own profile observation."""
    schema = load_schema()
    profile, _ = split_profile(observation["profile"])
    return [(k, v) for k, v in parse_profile(profile or "")
            if k in schema.attributes and schema.attributes[k].role == "constraint"]


def _statement(pairs: list[tuple[str, str]]) -> str:
    phrases = load_schema().attributes
    return ". ".join(phrases[k].phrases[v][0] for k, v in pairs if phrases[k].phrases.get(v)) + "."


def truthful_user(observation: dict[str, Any]) -> str:
    """States its true constraints when a session opens, then leaves."""
    if observation["turn"] == 0:
        return "Can you help me plan my week? " + _statement(_constraints(observation))
    return f"Thanks, that's all. {GOODBYE}"


def lying_user(observation: dict[str, Any]) -> str:
    """States another value of each of its constraints, then leaves."""
    if observation["turn"] > 0:
        return f"Thanks, that's all. {GOODBYE}"
    attributes = load_schema().attributes
    truth = _constraints(observation)
    false = []
    for key, value in truth:
        other = [v for v in attributes[key].phrases if (key, v) not in truth and v != value]
        if other:
            false.append((key, other[0]))
    return "Can you help me plan my week? " + _statement(false)


# -- the PettingZoo contract ---------------------------------------------------------------
# PettingZoo's API tests pass reset(options={"options": 1}), which the env warns about and ignores
IGNORE_TEST_OPTION = "ignore:ignoring unknown reset option 'options'"


@pytest.mark.filterwarnings(IGNORE_TEST_OPTION)
@pytest.mark.parametrize("user_policy", ["learner", "simulator"])
def test_parallel_api_test_passes(user_policy: str) -> None:
    parallel_api_test(parallel_env(max_turns=4, sessions=2, user_policy=user_policy), num_cycles=200)


@pytest.mark.filterwarnings(IGNORE_TEST_OPTION)
@pytest.mark.filterwarnings("ignore::UserWarning:pettingzoo.test.api_test")  # advice for numeric spaces and names
def test_aec_api_test_passes() -> None:
    api_test(raw_env(max_turns=3), num_cycles=50)


def test_render_test_passes_and_human_mode_prints_the_transcript(capsys: pytest.CaptureFixture) -> None:
    render_test(lambda render_mode=None: raw_env(render_mode=render_mode, max_turns=3),
                custom_tests={"ansi": lambda text: text == "" or text.startswith("user: ")})
    capsys.readouterr()
    envs = {mode: parallel_env(max_turns=3, render_mode=mode) for mode in ("ansi", "human")}
    for env in envs.values():
        env.reset(seed=2)
    for turn in range(4):
        speaker = "assistant" if turn % 2 else "simulated_user"
        for env in envs.values():
            env.step({speaker: f"Line {turn}."})
    assert capsys.readouterr().out == envs["ansi"].render() + "\n"
    assert envs["ansi"].render().count("\n") == 3


def test_parallel_seed_test_passes() -> None:
    parallel_seed_test(parallel_env)


def test_spaces_are_cached_and_admit_real_text() -> None:
    env = parallel_env()
    for agent in env.possible_agents:
        assert env.observation_space(agent) is env.observation_space(agent)
        assert env.action_space(agent) is env.action_space(agent)
        assert env.action_space(agent).contains(ANSWER)
    for step in _episode(env, 0, lambda o: None):
        for agent, observation in step["obs"].items():
            assert env.observation_space(agent).contains(observation), (agent, observation)


def test_same_seed_same_episode() -> None:
    def run(seed: int) -> str:
        env = parallel_env(sessions=2, max_turns=4, noise_rate=0.5)
        tracker = make_policy("tracker", env=env, seed=0)
        return json.dumps(_episode(env, seed, lambda o: None, tracker.act), sort_keys=True)

    assert run(5) == run(5)
    assert run(5) != run(6)


# -- turn taking and episode end ------------------------------------------------------------
def test_agents_alternate_user_first_and_episode_ends_for_both() -> None:
    env = parallel_env(max_turns=3)
    steps = _episode(env, 1, lambda o: "Tell me more about jazz, please.")
    first = steps[0]
    assert first["obs"][SIMULATED_USER]["your_turn"] == 1 and first["obs"][ASSISTANT]["your_turn"] == 0
    assert first["infos"][ASSISTANT]["active_agent"] == SIMULATED_USER
    speakers = [SIMULATED_USER if step["actions"][ASSISTANT] is None else ASSISTANT for step in steps[1:]]
    assert speakers == [SIMULATED_USER, ASSISTANT] * 3 + [SIMULATED_USER]  # the user replies to the last answer
    assert steps[-1]["terminations"] == {ASSISTANT: False, SIMULATED_USER: False}
    assert steps[-1]["truncations"] == {ASSISTANT: True, SIMULATED_USER: True}
    assert env.agents == []
    for previous, step, speaker in zip([None, *speakers[:-1]], steps[1:], speakers, strict=True):
        # the user is rewarded on its own turns; the assistant's answer on the user's turn after it, when it is
        # known whether the user leaves (the learner, not the simulator, decides)
        assert step["rewards"][SIMULATED_USER] == 0.0 or speaker == SIMULATED_USER
        rewarded = speaker == SIMULATED_USER and previous == ASSISTANT
        assert ("reward_components" in step["infos"][ASSISTANT]) == rewarded
        assert step["rewards"][ASSISTANT] == 0.0 or rewarded


def test_user_goodbye_terminates_and_token_is_not_shown() -> None:
    env = parallel_env(max_turns=5)
    env.reset(seed=2)
    env.step({SIMULATED_USER: "Any podcast ideas?"})
    env.step({ASSISTANT: ANSWER})
    obs, _, terminations, truncations, infos = env.step({SIMULATED_USER: f"Perfect, thanks! {GOODBYE}"})
    assert terminations == {ASSISTANT: True, SIMULATED_USER: True} and not any(truncations.values())
    assert obs[ASSISTANT]["message"] == "Perfect, thanks!"
    assert infos[SIMULATED_USER]["spoken_by"] == "learner"


def test_sessions_restart_with_the_user() -> None:
    env = parallel_env(sessions=2, max_turns=4, render_mode="ansi")
    env.reset(seed=0)
    env.step({SIMULATED_USER: "Hi"})
    env.step({ASSISTANT: ANSWER})
    obs, _, terminations, _, infos = env.step({SIMULATED_USER: f"Bye {GOODBYE}"})
    assert not any(terminations.values()) and env.agents
    assert obs[SIMULATED_USER] | {"persona": "", "profile": ""} == {
        "message": "", "persona": "", "profile": "", "turn": 0, "session": 1, "your_turn": 1}
    assert infos[ASSISTANT]["active_agent"] == SIMULATED_USER
    env.step({SIMULATED_USER: "Hello again"})
    assert env.render().splitlines() == [
        "--- session 1 ---", "user: Hi", f"assistant: {ANSWER}", "user: Bye", "--- session 2 ---", "user: Hello again"]


def test_stepping_a_finished_env_returns_empty_dicts() -> None:
    env = parallel_env(max_turns=1)
    _episode(env, 0, lambda o: None)
    assert env.agents == []
    assert env.step({}) == ({}, {}, {}, {}, {})
    with pytest.warns(UserWarning, match=r"after the episode ended.*call reset\(\)"):
        assert env.step({ASSISTANT: "hello?"}) == ({}, {}, {}, {}, {})
    obs, _ = env.reset(seed=1)
    assert env.agents == [ASSISTANT, SIMULATED_USER] and set(obs) == set(env.agents)


# -- both sides playable, rewards ------------------------------------------------------------
def test_simulator_user_reproduces_the_single_agent_env() -> None:
    kwargs = {"sessions": 2, "max_turns": 4, "noise_rate": 0.3}
    for seed in range(3):
        single = PersonaChatEnv(**kwargs)
        tracker = make_policy("tracker", env=single, seed=0)
        obs, _ = single.reset(seed=seed)
        expected, done = [], False
        while not done:
            action = tracker.act(obs)
            expected.append((obs["message"], action))
            obs, reward, terminated, truncated, _ = single.step(action)
            expected.append(reward)
            done = terminated or truncated
        env = parallel_env(user_policy="simulator", **kwargs)
        tracker = make_policy("tracker", env=env, seed=0)
        steps = _episode(env, seed, lambda o: "ignored", tracker.act)
        got = []
        for before, step in itertools.pairwise(steps):
            if step["actions"][ASSISTANT] is not None:
                got += [(before["obs"][ASSISTANT]["message"], step["actions"][ASSISTANT]), step["rewards"][ASSISTANT]]
        assert got == expected


def test_truthful_user_outscores_lying_user() -> None:
    env = parallel_env(max_turns=3)
    for seed in range(4):
        truthful = _episode(env, seed, truthful_user)
        lying = _episode(env, seed, lying_user)
        assert _user_return(truthful) > 0 > _user_return(lying)
        final = lying[-3]["infos"][SIMULATED_USER]  # the lie, not the goodbye after the answer to it
        assert final["fidelity"]["contradictions"] > 0 and final["reward_components"]["contradiction"] < 0


def test_user_return_is_the_final_fidelity_score() -> None:
    env = parallel_env(max_turns=4)
    steps = _episode(env, 3, lambda o: None)
    final = steps[-1]["infos"][SIMULATED_USER]["fidelity"]
    weights = env.user_weights
    assert _user_return(steps) == pytest.approx(
        weights.fidelity * final["f1"] - weights.contradiction * final["contradictions"], abs=1e-5)


def test_assistant_view_hides_the_profile() -> None:
    env = parallel_env(max_turns=4)
    steps = _episode(env, 4, lambda o: None)
    summary = steps[0]["obs"][SIMULATED_USER]["persona"]
    for step in steps:
        assert set(step["obs"][ASSISTANT]) == {"message", "turn", "session", "your_turn"}
        assert set(step["infos"][ASSISTANT]) <= {"turn", "session", "active_agent", "reward_components"}
        assert summary not in json.dumps([step["obs"][ASSISTANT], step["infos"][ASSISTANT]])


# -- bad input --------------------------------------------------------------------------------
def test_bad_actions_name_the_agent_and_action() -> None:
    env = parallel_env()
    with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
        env.step({SIMULATED_USER: "hi"})
    env.reset(seed=0)
    with pytest.raises(TypeError, match=r"action for agent 'simulated_user' must be a str .*got int 42"):
        env.step({SIMULATED_USER: 42})
    with pytest.raises(ValueError, match=r"agent 'simulated_user' must be Unicode text: a lone surrogate"):
        env.step({SIMULATED_USER: "hi \ud800"})
    with pytest.raises(ValueError, match=r"agent 'simulated_user' is not in its action space .*5000 characters"):
        env.step({SIMULATED_USER: "x" * 5000})
    with pytest.raises(ValueError, match=r"unknown agent 'user'; expected one of 'assistant', 'simulated_user'"):
        env.step({"user": "hi"})
    env.step({SIMULATED_USER: "hi"})
    with pytest.raises(ValueError, match=r"assistant's turn: actions\['assistant'\] must be a str \(its answer\), "
                                         r"got None$"):
        env.step({ASSISTANT: None, SIMULATED_USER: "hello?"})
    # a missing key is named as missing, with the actions that were given, not reported as a None answer
    with pytest.raises(ValueError, match=r"actions\['assistant'\] must be a str \(its answer\), got no 'assistant' "
                                         r"key in actions \{'simulated_user': 'hello\?'\}"):
        env.step({SIMULATED_USER: "hello?"})
    with pytest.raises(ValueError, match="unknown agent 'asistant' \\(did you mean 'assistant'\\?\\)"):
        env.action_space("asistant")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"user_policy": "simulater"}, r"user_policy must be .*got 'simulater' \(did you mean 'simulator'\?\)"),
        ({"user_reward_weights": {"fidelty": 1.0}}, r"did you mean 'fidelity'"),
        ({"max_utterance_chars": 0}, "max_utterance_chars must be a positive int, got 0"),
        ({"max_turns": 10**30}, r"max_turns must be a positive int of at most 2\*\*63 - 2"),
    ],
)
def test_bad_options(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parallel_env(**kwargs)


def test_a_bool_seed_is_refused() -> None:
    with pytest.raises(TypeError, match="seed must be an int or None, got bool False"):
        parallel_env().reset(seed=False)


def test_an_unknown_option_is_named_with_a_suggestion() -> None:
    with pytest.raises(TypeError, match=r"unknown option 'noise_rte' \(did you mean 'noise_rate'\?\); expected one of"):
        parallel_env(noise_rte=0.3)


def test_a_blank_utterance_lets_the_simulator_speak() -> None:
    """ "   " was spoken by the learner as an empty message; like "" and None it hands the turn over."""
    env = parallel_env()
    obs, _ = env.reset(seed=4)
    expected = env._simulator_reply.text
    obs, _, _, _, infos = env.step({SIMULATED_USER: " \n "})
    assert infos[SIMULATED_USER]["spoken_by"] == "simulator" and obs[ASSISTANT]["message"] == expected


def test_unknown_reset_option_warns_and_persona_option_applies() -> None:
    env = parallel_env()
    persona = env.sampler.sample(123)
    obs, _ = env.reset(seed=0, options={"persona": persona})
    assert obs[SIMULATED_USER]["persona"] == persona.summary
    with pytest.warns(UserWarning, match=r"unknown reset option 'persna' \(did you mean 'persona'\?\)"):
        obs, _ = env.reset(options={"persna": persona})
    assert obs[SIMULATED_USER]["persona"] != persona.summary  # the option lasted one episode
    with pytest.raises(TypeError, match="options must be a dict, got str 'persona'"):
        env.reset(options="persona")


@pytest.mark.parametrize(("option", "value"), [("noise_rate", 0.0), ("sessions", 1), ("max_turns", 2),
                                               ("reward_weights", {"constraint": 9.0})])
def test_chat_env_reset_options_are_refused_not_ignored(option: str, value: object) -> None:
    env = parallel_env(sessions=2, max_turns=4)
    obs, _ = env.reset(seed=0)
    with pytest.raises(ValueError, match=rf"reset option '{option}' \(got .*\) is PersonaChatEnv's; the multi-agent "
                                         rf"env takes only 'persona' at reset: pass {option}= to parallel_env\(\)"):
        env.reset(seed=1, options={option: value})
    # the refused reset changed nothing: the episode of seed 0 goes on as in a fresh env
    fresh = parallel_env(sessions=2, max_turns=4)
    assert json.dumps(fresh.reset(seed=0)[0]) == json.dumps(obs)
    assert json.dumps(env.step({})[:4]) == json.dumps(fresh.step({})[:4])


def test_reveal_oracle_reset_option_is_refused() -> None:
    env = parallel_env()
    with pytest.raises(ValueError, match=r"'reveal_oracle' is PersonaChatEnv's; .* has no oracle: the simulated "
                                         r"user's observation holds its persona and profile"):
        env.reset(seed=0, options={"reveal_oracle": True})


def test_the_profile_reward_follows_drift_as_in_the_single_agent_env() -> None:
    """A profile stating the user's current hidden profile scores the same in both envs across sessions whose
    interests drift: the multi-agent env kept each stated item as mapped when it was said (9 of 30 seeds)."""
    from personagym.envs.fidelity import INTEREST_KEYS
    from personagym.envs.rewards import target_profile
    from personagym.profile_format import format_profile
    from personagym.simulators.preferences import PreferenceConfig

    kwargs = {"sessions": 4, "max_turns": 6, "preferences": PreferenceConfig(drift_rate=0.5)}
    schema = load_schema()

    def stating(user, name) -> str:
        pairs = [(k, name(v) if k in INTEREST_KEYS else v) for k, v in sorted(target_profile(user.state, schema))]
        return format_profile(pairs) + ANSWER

    drifted = 0
    for seed in range(12):
        single = PersonaChatEnv(**kwargs)
        name = single.knowledge().name
        single.reset(seed=seed)
        expected, done = [], False
        while not done:
            _, _, terminated, truncated, info = single.step(stating(single.user, name))
            expected.append(info["reward_components"]["profile"])
            done = terminated or truncated
        drifted += any(e.kind == "drift" for e in single.user.events)
        env = parallel_env(user_policy="simulator", **kwargs)
        steps = _episode(env, seed, lambda o: None, lambda o, env=env, name=name: stating(env._user, name))
        got = [s["infos"][ASSISTANT]["reward_components"]["profile"] for s in steps[1:]
               if s["actions"][ASSISTANT] is not None]
        assert got == expected, seed
    assert drifted >= 6


def test_a_learners_request_is_what_the_answer_is_judged_on() -> None:
    """When the learner speaks, the answer is scored against what it asked, not against the request the simulator
    would have made: recommending the thing asked about back earns nothing (the echo rule), and a liked thing of
    any category earns its full credit (it was scored off the simulator's topic, often at a quarter)."""
    checked = 0
    for seed in range(20):
        env = parallel_env(max_turns=4)
        env.reset(seed=seed)
        interests = env._user.state.interests
        liked = [n for n, i in interests.items() if i.polarity > 0 and len(env.schema.taxonomy.paths[n]) > 1]
        if len(liked) < 2:
            continue
        asked, other = liked[0], next(n for n in liked[1:] if n not in env.schema.taxonomy.paths[liked[0]])
        name = env.unwrapped.knowledge().name
        env.step({ASSISTANT: None, SIMULATED_USER: f"Any tips on {name(asked)}?"})
        env.step({ASSISTANT: f"I'd suggest {name(asked)}.", SIMULATED_USER: None})
        # the answer's reward comes with the user's next turn
        *_, infos = env.step({ASSISTANT: None, SIMULATED_USER: f"And what about {name(asked)} gear?"})
        assert infos[ASSISTANT]["reward_components"]["preference"] == 0.0, seed
        intensity = interests[other].intensity  # before the answer: seeing it satiates a little
        env.step({ASSISTANT: f"I'd suggest {name(other)}.", SIMULATED_USER: None})
        *_, infos = env.step({ASSISTANT: None, SIMULATED_USER: "Thanks."})
        assert infos[ASSISTANT]["reward_components"]["preference"] == pytest.approx(intensity, abs=1e-6), seed
        checked += 1
    assert checked >= 10


# -- a learner speaking for the user --------------------------------------------------------
def _mixed_episode(env: PersonaChatParallelEnv, seed: int, line: str, share: float = 0.5) -> list[dict[str, Any]]:
    """An episode where a learner says `line` on about `share` of the user's turns (the simulator the rest), the
    generic policy answering; per user step: who spoke, the simulator's turn when it spoke, the assistant's
    reward and components when given."""
    rng = np.random.default_rng(seed)
    assistant = make_policy("generic", env=env, seed=seed)
    obs, _ = env.reset(seed=seed)
    out = []
    while env.agents:
        if obs[ASSISTANT]["your_turn"]:
            obs, *_ = env.step({ASSISTANT: assistant.act(obs[ASSISTANT]), SIMULATED_USER: None})
            continue
        spoken = line if rng.random() < share else None
        obs, rewards, _, _, infos = env.step({ASSISTANT: None, SIMULATED_USER: spoken})
        out.append({"spoken_by": infos[SIMULATED_USER]["spoken_by"], "reward": rewards[ASSISTANT],
                    "turn": env._simulator_reply if spoken is None else None,
                    "components": infos[ASSISTANT].get("reward_components")})
    return out


def test_a_reply_the_learner_replaced_was_never_said() -> None:
    """The simulator's reply is drafted before the learner speaks.  Replaced, it still counted as said: 157 "Like I
    said, ..." complaints in 400 episodes named a fact only an unspoken reply had stated."""
    complaints = 0
    for seed in range(80):
        env = parallel_env(sessions=2, max_turns=6)
        told: set[tuple[str, str]] = set()
        for step in _mixed_episode(env, seed, "Hmm, okay."):
            turn = step["turn"]
            if turn is None:
                continue
            intent = turn.intent
            if intent.reason in ("ignored_again", "violated_again"):
                assert (intent.attribute, intent.value) in told, (seed, turn.text)
                complaints += 1
            told.update((p.key, p.value) for p in turn.pkis if p.kind == "attribute")
            if intent.attribute is not None:
                told.add((intent.attribute, intent.value))
        # nor do the simulator's words count as the learner's ("Hmm, okay." states nothing)
        assert not env._learner_stated, seed
    assert complaints >= 10


def test_the_assistant_is_paid_for_a_goodbye_once_and_when_it_is_said() -> None:
    """With a learner speaking, efficiency's +-1 was paid on every answer the simulator would have left after (up
    to five times a session for the oracle); it is paid when the user leaves, and a session ends once."""
    ends = 0
    for seed in range(60):
        env = parallel_env(max_turns=8)
        steps = _mixed_episode(env, seed, "Tell me more.", share=0.7)
        paid = [s for s in steps if s["components"] is not None and abs(s["components"]["efficiency"]) == 1.0]
        assert len(paid) <= 1, seed
        if paid:
            assert paid[0] is steps[-1] and steps[-1]["spoken_by"] == "simulator", seed  # the learner never leaves
            ends += 1
    assert ends >= 10


def test_what_a_learner_tells_the_user_has_told() -> None:
    """A learner stating the user's length preference told it: when an answer then ignores it, the simulator's
    complaint is "I've said this already", as after its own disclosure (0 of 134 learner statements counted)."""
    schema = load_schema()
    phrases = schema.attributes["length_pref"].phrases
    reasons = Counter()
    for seed in range(120):
        env = parallel_env(max_turns=6)
        obs, _ = env.reset(seed=seed)
        value = env._user.state.attributes.get("length_pref")
        if value not in phrases:
            continue
        assistant = make_policy("generic", env=env, seed=seed)
        liked = next(n for n, i in env._user.state.interests.items() if i.polarity > 0)
        spoken = f"Could you recommend some {env.knowledge().name(liked)}? {phrases[value][0].capitalize()}."
        while env.agents:
            if obs[ASSISTANT]["your_turn"]:
                obs, *_ = env.step({ASSISTANT: assistant.act(obs[ASSISTANT]), SIMULATED_USER: None})
                continue
            obs, *_ = env.step({ASSISTANT: None, SIMULATED_USER: spoken})
            spoken = None
            intent = env._simulator_reply.intent
            if intent.attribute == "length_pref" and intent.reason in ("ignored_again", "ignored_preference"):
                reasons[intent.reason] += 1
    assert reasons["ignored_again"] >= 10 and reasons["ignored_preference"] == 0, reasons


def test_a_learners_statement_is_no_request() -> None:
    """ "I tend to enjoy archery." made archery the request's topic, so recommending it earned nothing (the echo
    rule): a statement leaves the request being answered as it was."""
    checked = 0
    for seed in range(30):
        env = parallel_env(max_turns=4)
        env.reset(seed=seed)
        interests, paths = env._user.state.interests, env.schema.taxonomy.paths
        liked = [n for n, i in interests.items() if i.polarity > 0 and len(paths[n]) > 1]
        if len(liked) < 2:
            continue
        asked, other = liked[0], next(n for n in liked[1:] if n not in paths[liked[0]])
        name = env.knowledge().name
        env.step({ASSISTANT: None, SIMULATED_USER: f"Any tips on {name(asked)}?"})
        env.step({ASSISTANT: "Start with the basics.", SIMULATED_USER: None})  # no list: the next is no repeat
        env.step({ASSISTANT: None, SIMULATED_USER: f"I tend to enjoy {name(other)}."})
        intensity = interests[other].intensity
        env.step({ASSISTANT: f"Then I'd suggest {name(other)}.", SIMULATED_USER: None})
        *_, infos = env.step({ASSISTANT: None, SIMULATED_USER: "Thanks."})
        assert infos[ASSISTANT]["reward_components"]["preference"] > 0.5 * intensity, seed
        checked += 1
    assert checked >= 10


def _recital(observation: dict[str, Any]) -> str:
    """The user's whole profile (its observation's), one sentence an item."""
    profile, _ = split_profile(observation["profile"])
    attributes = load_schema().attributes
    out = []
    for key, value in parse_profile(profile or ""):
        if key == "likes":
            out.append(f"I love {value}.")
        elif key == "dislikes":
            out.append(f"I can't stand {value}.")
        elif key in attributes and attributes[key].phrases.get(value):
            out.append(attributes[key].phrases[value][0].rstrip(".") + ".")
    return " ".join(out)


def test_reciting_the_profile_every_message_earns_a_users_share() -> None:
    """A learner reciting its whole profile in every message scored F1 0.97 a session against the simulator's own
    0.16 (300 seeds, the tracker assisting): a message is credited for at most 3 new items, a session for one a
    message after that, and at most max_turns + 1; what was said beyond is still told."""
    env = parallel_env(max_turns=3)
    for seed in range(5):
        steps = _episode(env, seed, _recital)
        final = steps[-1]["infos"][SIMULATED_USER]["fidelity"]
        target = len(env._fidelity.expressible(env._user.state))
        assert final["precision"] > 0.7 and final["recall"] * target <= 4 + 1e-6, seed  # 4 = max_turns + 1
        assert _user_return(steps) < 0.5, seed
        assert env._fidelity.stated >= env._fidelity.expressible(env._user.state) - env._fidelity.credited, seed


def test_the_simulators_requests_claim_nothing_outside_its_profile() -> None:
    """A request about a topic outside the profile was an unsupported claim of liking it: the built-in simulator's
    credited items were 69% true (300 sessions), 99.1% now; what is left is the noise it means to make."""
    env = parallel_env(user_policy="simulator", max_turns=4)
    tracker = make_policy("tracker", env=env, seed=0)
    credited = hits = 0
    for seed in range(40):
        _episode(env, seed, lambda obs: None, tracker.act)
        credited += len(env._fidelity.credited)
        hits += len(env._fidelity.credited & env._fidelity.expressible(env._user.state))
    assert hits / credited > 0.9, (hits, credited)


def test_asking_about_everything_earns_less_than_the_simulator() -> None:
    """Asking claims nothing and only a request's topic implies a liking: a learner that asks about 40 things a
    message, or each of its likes in turn as a question, earns no more than a user stating one true fact a
    message (and less than the simulator when it asks blind)."""
    env = parallel_env(max_turns=4)
    tracker = make_policy("tracker", env=env, seed=0)
    leaves = [n for n in env.schema.taxonomy.ids if not env.schema.taxonomy.children[n]][::50][:40]
    names = ", ".join(env.knowledge().name(n) for n in leaves)

    def stuffer(observation: dict[str, Any]) -> str:
        return f"Can you recommend something about {names}?"

    def liked(observation: dict[str, Any]) -> list[str]:
        profile, _ = split_profile(observation["profile"])
        return [v for k, v in parse_profile(profile or "") if k == "likes"]

    def asker(observation: dict[str, Any]) -> str:
        likes = liked(observation)
        return f"Any tips on {likes[observation['turn'] % len(likes)]}?" if likes else "Any tips?"

    returns: dict[str, float] = Counter()
    for seed in range(10):
        for name, user in (("simulator", lambda obs: None), ("stuffer", stuffer), ("asker", asker),
                           ("recital", _recital)):
            returns[name] += _user_return(_episode(env, seed, user, tracker.act))
    assert returns["stuffer"] < returns["simulator"], returns
    assert returns["asker"] <= returns["recital"] + 1e-6, returns
