"""PersonaChatEnv: the Gymnasium contract, determinism, episode ends, bad input, no leaks."""

from __future__ import annotations

import json
from collections import Counter

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import personagym  # noqa: F401 - registers the ids
from personagym.envs.registration import ENTRY_POINTS, ENV_SPECS
from personagym.envs.rewards import RewardWeights
from personagym.policies import make_policy

ENV_IDS = sorted(ENV_SPECS)
#: ids whose action is the assistant's text (other classes, e.g. Structured-v0, have their own tests)
TEXT_ENV_IDS = sorted(k for k in ENV_SPECS if k not in ENTRY_POINTS)


@pytest.mark.parametrize("render_mode", ["ansi", "human"])
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_check_env_passes(env_id: str, render_mode: str) -> None:
    env = gym.make(env_id, render_mode=render_mode)
    check_env(env.unwrapped)
    env.close()


@pytest.mark.parametrize("env_id", ["PersonaGym/LongTerm-v0", "PersonaGym/Structured-v0"])
def test_human_mode_prints_each_message_once_as_ansi_renders_it(env_id: str, capsys: pytest.CaptureFixture) -> None:
    """Reset and step print what is new; the printout of an episode is its "ansi" rendering, line for line."""
    envs = {mode: gym.make(env_id, render_mode=mode) for mode in ("ansi", "human")}
    printed = []
    for seed in (4, 5):  # two episodes: the second's printout starts afresh
        for env in envs.values():
            env.reset(seed=seed)
        printed.append(capsys.readouterr().out)
        done, step = False, 0
        while not done:
            action = envs["ansi"].action_space.sample() if env_id.endswith("Structured-v0") else f"Answer {step}."
            for env in envs.values():
                *_, terminated, truncated, _ = env.step(action)
            assert envs["human"].render() is None
            printed[-1] += capsys.readouterr().out
            done, step = terminated or truncated, step + 1
        assert printed[-1] == envs["ansi"].render() + "\n"
    # an episode of several sessions marks the first too; one of one session has no marker
    first = "--- session 1 ---\nuser: " if env_id.endswith("LongTerm-v0") else "user: "
    assert printed[0].startswith(first) and printed[0] != printed[1]
    assert ("--- session" in printed[0]) == env_id.endswith("LongTerm-v0")


@pytest.mark.parametrize("env_id", TEXT_ENV_IDS)
def test_same_seed_same_trajectory(env_id: str) -> None:
    def run(seed: int) -> list[str]:
        env = gym.make(env_id)
        policy = make_policy("tracker", env=env, seed=0)
        obs, info = env.reset(seed=seed)
        steps = [json.dumps(obs, sort_keys=True)]
        done = False
        while not done:
            obs, reward, terminated, truncated, info = env.step(policy.act(obs))
            steps.append(json.dumps([obs, reward, terminated, truncated, info], sort_keys=True))
            done = terminated or truncated
        steps.append(env.unwrapped.trajectory().model_dump_json())
        return steps

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_real_text_is_in_the_spaces() -> None:
    env = gym.make("PersonaGym/Chat-v0")
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    text = "Sure — here's a plan:\n- Café ☕ at 9?\n- ¡Vamos! 😊"
    assert env.action_space.contains(text)
    obs, *_ = env.step(text)
    assert env.observation_space.contains(obs)


def test_episode_ends_terminated_or_truncated() -> None:
    env = gym.make("PersonaGym/Chat-v0", max_turns=3)
    ends = set()
    for seed in range(30):
        env.reset(seed=seed)
        steps, done = 0, False
        while not done:
            _, _, terminated, truncated, _ = env.step("Here are some ideas for you.")
            steps += 1
            assert not (terminated and truncated)
            done = terminated or truncated
        assert steps <= 3
        ends.add("terminated" if terminated else "truncated")
        assert env.unwrapped.trajectory().terminated == terminated
    assert ends == {"terminated", "truncated"}


def test_long_term_env_has_sessions_and_evolving_preferences() -> None:
    env = gym.make("PersonaGym/LongTerm-v0", preferences={"drift_rate": 0.5, "event_rate": 0.5})
    sessions, events = set(), 0
    for seed in range(5):
        obs, _ = env.reset(seed=seed)
        done = False
        while not done:
            sessions.add(obs["session"])
            obs, _, terminated, truncated, _ = env.step("Happy to help! What would you like?")
            done = terminated or truncated
        events += len(env.unwrapped.trajectory().session_events)
    assert sessions == {0, 1, 2, 3}
    assert events > 0


def test_bad_actions_and_order() -> None:
    env = gym.make("PersonaGym/Chat-v0").unwrapped
    with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
        env.step("hi")
    env.reset(seed=0)
    with pytest.raises(TypeError, match="action must be a str .*got int"):
        env.step(42)
    with pytest.raises(TypeError, match="got NoneType"):
        env.step(None)
    with pytest.raises(ValueError, match=r"Unicode text: a lone surrogate '\\udcff' at position 3"):
        env.step("caf\udcff")  # bytes decoded with errors="surrogateescape": the trajectory could not be written
    assert env.trajectory().turns == []
    env.step("café ☕")
    _, _, _, _, info = env.step("x" * 20_000)
    assert info["action_truncated"] is True
    assert len(env.trajectory().turns[-1].assistant) == env.max_action_chars


def test_step_after_end_is_a_clear_error() -> None:
    env = gym.make("PersonaGym/Chat-v0", max_turns=1).unwrapped
    env.reset(seed=0)
    env.step("hello")
    with pytest.raises(RuntimeError, match="episode is over"):
        env.step("hello again")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"noise_rate": 2.0}, ValueError, r"noise rate must be in \[0, 1\], got 2.0"),
        ({"reward_weights": {"prefrence": 1.0}}, ValueError,
         r"^reward_weights: unknown RewardWeights field 'prefrence' \(did you mean 'preference'\?\); expected one of"),
        ({"reward_weights": {"style": float("nan")}}, ValueError,
         r"invalid reward_weights: style: Input should be a finite number \(got nan\)"),
        ({"reward_weights": {"style": -1}}, ValueError,
         r"style: Input should be greater than or equal to 0 \(got -1\)"),
        ({"persona": {"summary": ""}}, ValueError, r"persona_id: Field required; attributes: Field required;"),
        ({"max_turns": 0}, ValueError, "max_turns must be a positive int, got 0"),
        # not numpy's "Python int too large to convert to C long" from building the spaces
        ({"max_turns": 10**30}, ValueError, r"max_turns must be a positive int of at most 2\*\*63 - 2 .*got 10{30}"),
        ({"sessions": 2**63}, ValueError, r"sessions must be a positive int of at most 2\*\*63 - 2"),
        ({"llm": 0}, TypeError, "llm must be a dict or LLMOptions, got int"),  # it was read as no options
        ({"llm": False}, TypeError, "llm must be a dict or LLMOptions, got bool"),
        ({"noise": "loud"}, TypeError, "noise must be a dict or NoiseConfig"),
        ({"persona": {"persona_id": "x", "attributes": {"diet": "vegn"}, "interests": [], "summary": ""}},
         ValueError, r"unknown value 'vegn' \(did you mean 'vegan'\?\)"),
        ({"noise_rte": 0.3}, TypeError, r"^unknown option 'noise_rte' \(did you mean 'noise_rate'\?\); expected one "
                                        r"of sessions, max_turns, noise_rate,"),
        # it goes into every trajectory: refused here, not when the first trajectory fails to validate
        ({"env_id": 3}, TypeError, r"env_id must be a str \(the id recorded in trajectories\), got int 3"),
    ],
)
def test_bad_options(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        gym.make("PersonaGym/Chat-v0", **kwargs)


def test_llm_options_without_an_llm_backend_are_refused() -> None:
    with pytest.raises(ValueError, match=r"llm=\{'judge': True\} sets LLM mode options, but template mode has no LLM"):
        gym.make("PersonaGym/Chat-v0", llm={"judge": True})
    gym.make("PersonaGym/Chat-v0", llm={})  # the defaults ask for nothing


def test_reset_options() -> None:
    env = gym.make("PersonaGym/Chat-v0").unwrapped
    persona = env.sampler.sample(123)
    _obs, info = env.reset(seed=1, options={"persona": persona, "noise_rate": 0.0, "reveal_oracle": True})
    assert info["oracle"]["persona"].persona_id == persona.persona_id
    with pytest.raises(ValueError, match=r"unknown reset option 'noise_rat' \(did you mean 'noise_rate'\?\)"):
        env.reset(options={"noise_rat": 0.1})
    with pytest.raises(ValueError, match=r"unknown reset option 'sampler' \(an option of gym.make, fixed when the "
                                         r"env is made\); expected one of persona, noise_rate"):
        env.reset(options={"sampler": {"value_weights": "uniform"}})
    data = persona.model_dump(mode="json")
    data["interests"][0]["node"] = node = data["interests"][0]["node"] + "x"
    with pytest.raises(ValueError, match=rf"interests\[0\]\.node: '{node}' is not a taxonomy node id \(did you mean"):
        env.reset(options={"persona": data})


def test_reset_options_last_one_episode_and_a_rejected_reset_changes_nothing() -> None:
    def first_steps(env, **reset) -> list:
        obs, info = env.reset(**reset)
        return [obs["message"], "oracle" in info, env.max_turns, env.weights, env.step("Hello!")[1]]

    made = {"max_turns": 6, "reward_weights": {"style": 2.0}}
    fresh = first_steps(gym.make("PersonaGym/Chat-v0", **made).unwrapped, seed=0)
    env = gym.make("PersonaGym/Chat-v0", **made).unwrapped
    persona = env.sampler.sample(123)
    options = {"persona": persona, "noise_rate": 0.9, "max_turns": 3, "reward_weights": {"style": 0.0},
               "reveal_oracle": True}
    assert first_steps(env, seed=0, options=options)[1:4] == [True, 3, RewardWeights(style=0.0)]
    assert first_steps(env, seed=0) == fresh  # the options are gone: the env as made
    env.reset(seed=0, options={"max_turns": 6})  # back up to the env's own limit
    with pytest.raises(ValueError, match=r"max_turns=7 exceeds the env's max_turns \(6\)"):
        env.reset(seed=0, options={"max_turns": 7})

    env.reset(seed=0)
    continued = gym.make("PersonaGym/Chat-v0", **made).unwrapped
    continued.reset(seed=0)
    with pytest.raises(ValueError, match="max_turns"):  # the bad key comes last: the others were fine
        env.reset(seed=99, options={"persona": persona, "noise_rate": 0.9, "max_turns": 99})
    assert first_steps(env) == first_steps(continued)  # not reseeded with 99, no persona kept

    env.reset(seed=5)
    continued.reset(seed=5)
    with pytest.raises(gym.error.Error, match="actual value: -1"):  # good options, a bad seed: none applied
        env.reset(seed=-1, options={"max_turns": 1, "reward_weights": {"style": 100.0}})
    assert env.step("Hello!")[1:4] == continued.step("Hello!")[1:4]  # the episode under way goes on as it was


@pytest.mark.parametrize(("options", "error", "match"), [
    ({"reveal_oracle": "false"}, TypeError, "reveal_oracle must be a bool, got str 'false'"),
    ([("noise_rate", 0.1)], TypeError, r"options must be a dict, got list \[\('noise_rate', 0.1\)\]"),
    ("noise_rate", TypeError, "options must be a dict, got str 'noise_rate'"),
])
def test_reset_options_of_the_wrong_type_are_refused(options: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        gym.make("PersonaGym/Chat-v0").reset(seed=0, options=options)
    with pytest.raises(TypeError, match="reveal_oracle must be a bool, got str 'False'"):
        gym.make("PersonaGym/Chat-v0", reveal_oracle="False")


def test_a_bool_seed_is_refused() -> None:
    """Gymnasium read ``reset(seed=True)`` as seed 1 (and the record said seed 1): a bool is no seed."""
    env = gym.make("PersonaGym/Chat-v0")
    with pytest.raises(TypeError, match="seed must be an int or None, got bool True"):
        env.reset(seed=True)


def test_users_share_their_noise_model_until_a_reset_option_replaces_the_config() -> None:
    env = gym.make("PersonaGym/Chat-v0").unwrapped
    agent = make_policy("generic", env=env, seed=0)

    def layers(seed: int, options: dict | None = None) -> list[str]:
        obs, _ = env.reset(seed=seed, options=options)
        out = [env.last_user.noise.layer]
        for _ in range(4):
            obs, _, terminated, truncated, _ = env.step(agent.act(obs))
            out.append(env.last_user.noise.layer)
            if terminated or truncated:
                break
        return out

    layers(0)
    shared = env.user.noise, env.user.process
    layers(1)
    assert (env.user.noise, env.user.process) == shared  # built once, not per episode
    assert set(layers(2, {"noise_rate": 0.0})) == {"none"}
    assert env.user.noise is not shared[0] and env.user.noise.config.rate == 0.0
    assert env.user.process is shared[1]
    noisy, kinds = [], []
    for seed in range(3, 8):  # a few episodes: one may be mostly complaints the layer drawn finds nothing in
        noisy += layers(seed, {"noise_rate": 1.0})
        kinds += [t.user.intent.kind for t in env.trajectory().turns] + [env.last_user.intent.kind]
    # every turn noised but a goodbye or praise, where the layer drawn can find nothing to change (no slot to
    # drop, nothing asked to leave vague): it stays clean
    assert all(layer != "none" or kind in ("goodbye", "feedback") for layer, kind in zip(noisy, kinds, strict=True))
    assert noisy.count("none") < len(noisy) / 2, noisy
    assert env.user.noise.config.rate == 1.0


def _hidden_values(env) -> set[str]:
    """Values that would betray the profile if they showed up in observations or info."""
    view = env.unwrapped.oracle_view()
    persona = view["persona"]
    values = {persona.persona_id, persona.summary}
    for name, value in persona.attributes.items():
        for v in value if isinstance(value, list) else [value]:
            if len(v) > 5:  # short ids like "mid" occur in ordinary words
                values.add(v)
        values.add(name)
    values |= {i.node for i in persona.interests}
    return values


def test_no_ground_truth_in_observations_or_default_info() -> None:
    env = gym.make("PersonaGym/Chat-v0")
    policy = make_policy("generic", env=env, seed=0)
    for seed in range(10):
        obs, info = env.reset(seed=seed)
        hidden = _hidden_values(env)
        # the user's own words may state a fact (that is the point); everything else may not
        seen = [json.dumps({k: v for k, v in obs.items() if k != "message"}), json.dumps(info, default=str)]
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(policy.act(obs))
            seen += [json.dumps({k: v for k, v in obs.items() if k != "message"}), json.dumps(info, default=str)]
            done = terminated or truncated
        blob = "\n".join(seen)
        leaked = [v for v in hidden if v in blob]
        assert not leaked, leaked
        assert set(info) <= {"turn", "session", "reward_components", "action_truncated"}


def test_reward_components_are_plain_floats() -> None:
    env = gym.make("PersonaGym/Chat-v0")
    env.reset(seed=0)
    _, _, _, _, info = env.step("Hello.")
    components = info["reward_components"]
    assert all(type(v) is float for v in components.values()), components
    assert "-0.0" not in json.dumps(components)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"reward_weights": {"style": True}}, r"invalid reward_weights: style: expected a number, not a bool \(got True\)"),
    ({"user": {"end_base": "0.1"}}, r"invalid user: end_base: expected a number, not a string \(got '0.1'\)"),
    ({"llm": {"attempts": 2.0}}, r"attempts: expected an integer, not a float"),
])
def test_config_numbers_refuse_bools_strings_and_floats_for_ints(kwargs: dict, match: str) -> None:
    """Pydantic's lax mode read True as 1.0 and "0.1" as 0.1: a slip configured the env silently."""
    with pytest.raises((ValueError, TypeError), match=match):
        gym.make("PersonaGym/Chat-v0", **kwargs)
    env = gym.make("PersonaGym/Chat-v0", reward_weights={"style": 1, "profile": np.float32(0.25)}).unwrapped
    assert (env.weights.style, env.weights.profile) == (1.0, 0.25)


def _facts_said(trajectory) -> set[tuple[str, str]]:
    """The facts the user's delivered turns state (what `UserSimulator` counts as disclosed)."""
    facts = set()
    for user in [t.user for t in trajectory.turns] + [trajectory.final_user]:
        intent = user.intent
        if intent.attribute is not None:
            facts.add((intent.attribute, intent.value))
        if intent.topic is not None and intent.kind in ("preference_disclosure", "clarification_answer"):
            facts.add(("interest", intent.topic))
    return facts


def test_a_session_cut_at_the_turn_limit_says_nothing_more() -> None:
    """At a non-final session's turn limit the user reacts to the answer and says nothing the assistant never hears.

    The reply used to be written and thrown away (the next session's request
    replaced it), yet its disclosures counted as said: the user would never
    volunteer those facts again, in any later session.
    """
    env = gym.make("PersonaGym/LongTerm-v0", max_turns=3).unwrapped
    tracker = make_policy("tracker", env=env, seed=0)
    cut = 0
    for seed in range(30):
        obs, _ = env.reset(seed=seed)
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(tracker.act(obs))
            done = terminated or truncated
        trajectory = env.trajectory()
        assert env.user._memory.disclosed <= _facts_said(trajectory), seed
        answers = Counter(t.session for t in trajectory.turns)
        cut += sum(n == 3 for session, n in answers.items() if session < trajectory.final_user.session)
    assert cut >= 10  # sessions that ended at the turn limit, the case under test


def test_the_goodbye_that_ends_a_session_is_kept_and_round_trips() -> None:
    """A user who leaves a session early says goodbye: the record keeps it, with the answer it followed."""
    from personagym.records import SERIALIZED, Trajectory
    from personagym.rollout import run_episode

    env = gym.make("PersonaGym/LongTerm-v0", render_mode="ansi").unwrapped
    generic = make_policy("generic", env=env, seed=0)
    kept = 0
    for seed in range(20):
        trajectory = run_episode(env, generic, seed, "generic")
        sessions = [t.session for t in trajectory.turns]
        for i, turn in enumerate(trajectory.turns):
            next_session = sessions[i + 1] if i + 1 < len(sessions) else None
            ended_early = next_session is not None and next_session != turn.session and sessions.count(
                turn.session) < env.max_turns
            assert (turn.closing is not None) == ended_early, (seed, i)
            if turn.closing is not None:
                kept += 1
                assert turn.closing.intent.kind == "goodbye" and turn.closing.session == turn.session
        users = trajectory.user_turns()
        assert [u.session for u in users] == sorted(u.session for u in users)
        again = Trajectory.model_validate_json(trajectory.model_dump_json())
        assert again == trajectory and again.user_turns() == users
        shown = env.render().splitlines()
        said = [line for line in shown if line.startswith("user: ")]
        assert said == [f"user: {u.text}" for u in users]  # the rendering shows each message, goodbyes too
        # and marks where each session starts, the first too: right before its first message
        starts = [i for i, u in enumerate(users) if i == 0 or u.session != users[i - 1].session]
        assert shown[0] == "--- session 1 ---" and len(starts) > 1
        marked = [i for i, line in enumerate(shown) if line.startswith("--- session ")]
        assert [shown[i] for i in marked] == [f"--- session {users[i].session + 1} ---" for i in starts]
        assert all(shown[i + 1] == f"user: {users[k].text}" for i, k in zip(marked, starts, strict=True))
    assert kept >= 10
    old = json.loads(trajectory.model_dump_json())  # a record of schema 1.0 had no closing: it still reads
    old["schema_version"] = "1.0"
    for turn in old["turns"]:
        del turn["closing"]
    assert all(turn.closing is None for turn in Trajectory.model_validate(old, context=SERIALIZED).turns)


@pytest.mark.parametrize("env_id", ["PersonaGym/Chat-v0", "PersonaGym/LongTerm-v0"])
def test_a_deep_copy_forks_the_episode_and_shares_only_the_world(env_id: str) -> None:
    """`copy.deepcopy(env)` is a fork for branching rollouts: the copy continues exactly as the original would,
    what is done in the copy leaves the original untouched (it goes on as an env that was never copied), and the
    world data is shared rather than copied (a copy cost 160 ms; the taxonomy alone is megabytes)."""
    import copy

    from personagym.policies import make_policy

    def play(env: gym.Env, actions: list[str]) -> list[tuple]:
        out = []
        for action in actions:
            obs, reward, terminated, truncated, _ = env.step(action)
            out.append((obs["message"], reward, terminated, truncated))
            if terminated or truncated:
                break
        return out

    forked = 0
    for seed in range(8):
        original, untouched = gym.make(env_id), gym.make(env_id)
        policy = make_policy("tracker", original)
        obs, _ = original.reset(seed=seed)
        untouched.reset(seed=seed)
        policy.reset(seed=seed)
        head = [policy.act(obs)]
        if play(original, head)[-1][2:] != (False, False) or play(untouched, head)[-1][2:] != (False, False):
            continue  # over after one answer: nothing to fork
        forked += 1
        fork = copy.deepcopy(original)
        assert fork.unwrapped.taxonomy is original.unwrapped.taxonomy
        assert fork.unwrapped.user is not original.unwrapped.user
        tail = ["Try bebop jazz and hiking.", "Here is a short answer.", "Have you tried sushi?"] * 10
        assert play(fork, tail) == play(copy.deepcopy(original), tail)
        play(copy.deepcopy(original), ["Something else entirely: chess."] * 30)  # a fork goes its own way
        assert play(original, tail) == play(untouched, tail)
        assert original.unwrapped.trajectory() == untouched.unwrapped.trajectory()
    assert forked >= 4
