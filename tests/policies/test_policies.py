"""Built-in policies: ordering of rewards, the tracker's profile inference, the registry."""

from __future__ import annotations

import math
import re
from collections import Counter

import gymnasium as gym
import numpy as np
import pytest

from personagym.policies import make_policy, observation_list, policy_names
from personagym.policies.builtin import style_plan
from personagym.policies.compose import LENGTH_WORDS, LIST_FORMATS, AnswerPlan, compose
from personagym.profile_format import parse_profile, split_profile
from personagym.rng import Draws
from personagym.rollout import make_env, rollout, summarize
from personagym.simulators.preferences import style_checks

EPISODES = 300


@pytest.fixture(scope="module")
def summaries() -> dict[str, dict]:
    return {p: summarize(rollout("PersonaGym/Chat-v0", p, EPISODES, seed=1000))
            for p in ("oracle", "tracker", "popular", "generic", "random")}


def _gap_beyond_ci(hi: dict, lo: dict) -> bool:
    """The difference of means exceeds the 95% CI of the difference."""
    diff = hi["mean"] - lo["mean"]
    return diff > math.hypot(hi["ci95"], lo["ci95"])


def test_oracle_beats_tracker_beats_generic_beats_random(summaries) -> None:
    r = {p: s["reward"] for p, s in summaries.items()}
    assert _gap_beyond_ci(r["oracle"], r["tracker"]), r
    assert _gap_beyond_ci(r["tracker"], r["generic"]), r
    assert r["generic"]["mean"] >= r["random"]["mean"], r


def test_tracker_beats_popular_and_popular_offers_nothing_forbidden(summaries) -> None:
    # popular is as blind as generic (no profile, nothing read but the topic), in the style most users want (each
    # answer meets more of a user's style: the population-style test below); its blind picks near the topic are
    # refused where a request asks about a thing itself, and it names no topic a constraint tag may forbid, so it
    # gives no overview of such a leaf: its mean reward is not ahead of generic's beyond the CI, nor on every seed
    # (0.69 against 0.72 on 300 episodes of seed 1,000,000,000)
    r = {p: s["reward"] for p, s in summaries.items()}
    assert _gap_beyond_ci(r["tracker"], r["popular"]), r
    components = summaries["popular"]["components"]
    assert components["profile"]["mean"] == 0.0
    assert components["constraint"]["mean"] == 0.0 > summaries["generic"]["components"]["constraint"]["mean"]


def test_popular_suggests_something_safe_on_the_request_where_the_topics_neighbours_are_all_forbidden() -> None:
    """Sports cars are all a big budget's: no neighbour of a Ferrari is free of a constraint tag, and `popular`
    suggested nothing, which answers no question; to a request for things like a Ferrari it suggests the safe
    entities of the nearest ancestor that has some (pickup trucks, SUVs), in the request's category.  (Asked about
    a Ferrari itself, nothing beside it answers: it suggests none, as `generic`.)"""
    env = make_env("PersonaGym/Chat-v0")
    popular = make_policy("popular", env=env, seed=0)
    k = popular.knowledge
    ferrari = k.taxonomy.resolve("Ferrari")
    assert all(k.tags(n) & popular._risky for n in k.related(ferrari))
    observation = {"message": "Can you recommend three things worth checking out if I like Ferraris?", "turn": 0,
                   "session": 0}
    named = [node for node, _ in k.mentions(popular.act(observation))]
    assert named and all(k.category(n) == k.category(ferrari) and not k.tags(n) & popular._risky for n in named)
    assert ferrari not in named
    itself = {"message": "Can you tell me what to look for in a used Ferrari?", "turn": 0, "session": 0}
    assert not [node for node, stance in k.mentions(popular.act(itself)) if stance == "recommend"]


def test_the_population_style_meets_more_sampled_users_than_generics_style() -> None:
    # measured on the sampler's personas, not on the uniform shares the style was chosen by
    env = make_env("PersonaGym/Chat-v0")
    k = env.unwrapped.knowledge()
    popular = make_policy("popular", env=env, seed=0)
    draw = Draws(np.random.default_rng(1)).index
    personas = env.unwrapped.sampler.sample_batch(300, seed=2)
    met = {}
    for name, style in (("popular", popular.style), ("generic", style_plan({}))):
        scores = []
        for persona in personas:
            nodes = k.random_nodes(draw, 4)
            plan = AnswerPlan(topic=k.noun(nodes[0]), recommend=[k.noun(n) for n in nodes[1:]], **style)
            checks = style_checks(persona.attributes, k.analyzer.analyze(compose(plan, draw)))
            scores.append(sum(checks.values()) / len(checks) if checks else 1.0)
        met[name] = np.mean(scores)
    assert met["popular"] > met["generic"] + 0.05, met
    # the survey is made once per world: a generation worker makes a policy for each shard, on a new env
    from personagym.policies.popular import _population_style

    hits = _population_style.cache_info().hits
    again = make_policy("popular", env=make_env("PersonaGym/Chat-v0"), seed=1)
    assert _population_style.cache_info().hits == hits + 1
    again.style["length"] = "terse"  # each policy's own copy
    assert popular.style["length"] != "terse"


def test_an_empty_answer_earns_no_style_and_scores_below_generic(summaries) -> None:
    class Silent:
        def act(self, observation: dict) -> str:
            return ""

    silent = summarize(rollout("PersonaGym/Chat-v0", Silent(), EPISODES, seed=1000))
    assert silent["components"]["style"]["mean"] == 0.0
    # random names off the request answer nothing either (see test_a_random_name_off_the_request_answers_nothing):
    # the floor an empty answer is measured against is generic's, the least of the answers that answer
    assert _gap_beyond_ci(summaries["generic"]["reward"], silent["reward"]), (summaries["generic"], silent)
    (trajectory,) = rollout("PersonaGym/Chat-v0", Silent(), 1, seed=1)
    assert {t.user.intent.reason for t in trajectory.turns[1:]} == {"too_short"}  # the user asks for an answer


def test_a_long_answer_that_answers_nothing_is_not_called_too_short() -> None:
    class Stalling:
        def act(self, observation: dict) -> str:
            return ("That is a good question, and there are many ways to think about it. It depends on a lot of "
                    "things, really. Some people see it one way and some another. It is worth thinking over "
                    "carefully before you decide anything. There is no single answer that suits everyone.")

    (trajectory,) = rollout("PersonaGym/ChatClean-v0", Stalling(), 1, seed=1)
    reasons = {t.user.intent.reason for t in trajectory.turns[1:] if t.user.intent.kind == "feedback"}
    assert reasons == {"not_answered"}, [t.user.text for t in trajectory.turns]


def test_only_profile_emitters_score_profile(summaries) -> None:
    assert summaries["generic"]["components"]["profile"]["mean"] == 0.0
    profile = {name: s["components"]["profile"]["mean"] for name, s in summaries.items()}
    # the oracle states what the user has said, no more (the reward credits nothing else); the tracker also asks
    assert profile["oracle"] > 0 and profile["tracker"] > 0


def _f1_by_turn(env_id: str, episodes: int = 600) -> dict[int, list[float]]:
    by_turn: dict[int, list[float]] = {}
    for t in rollout(env_id, "tracker", episodes, seed=7, max_turns=6):
        for turn in t.turns:
            if turn.profile is not None:
                by_turn.setdefault(turn.turn, []).append(turn.reward_components["profile"])
    return {k: v for k, v in sorted(by_turn.items()) if len(v) >= 20}


def test_tracker_profile_f1_rises_with_turns_and_suffers_from_noise() -> None:
    """Over 600 episodes a side (150 left the noisy and clean means within 0.001 of each other: the mean of
    per-turn means weighs the few long episodes' last turns as much as every first turn)."""
    clean = _f1_by_turn("PersonaGym/ChatClean-v0")
    noisy = _f1_by_turn("PersonaGym/ChatNoisy-v0")
    turns = sorted(clean)
    assert np.mean(clean[turns[-1]]) > np.mean(clean[turns[0]]), clean
    pooled = {name: float(np.mean([f for scores in by.values() for f in scores]))
              for name, by in (("clean", clean), ("noisy", noisy))}
    assert pooled["noisy"] < pooled["clean"], pooled


@pytest.mark.parametrize("policy", ["generic", "random", "oracle", "tracker", "popular"])
def test_an_episode_replays_from_the_seed_it_records(policy: str) -> None:
    alone = next(iter(rollout("PersonaGym/Chat-v0", policy, 1, seed=5)))
    after_another = list(rollout("PersonaGym/Chat-v0", policy, 2, seed=4))[1]
    assert after_another.seed == alone.seed == 5
    assert after_another.model_dump_json() == alone.model_dump_json()


@pytest.mark.parametrize("policy", ["generic", "random", "tracker"])
def test_a_policy_draws_from_its_own_stream_of_the_episode_seed(policy: str) -> None:
    """One random tree: a policy seeded `default_rng(seed)` drew the very numbers of the generator Gymnasium makes
    the env of the same seed (its first uniform was the env's first draw)."""
    import gymnasium as gym

    from personagym.rng import stream

    env = gym.make("PersonaGym/Chat-v0")
    agent = make_policy(policy, env=env, seed=0)
    agent.reset(seed=11)
    env.reset(seed=11)
    ours = agent.rng.random(4)
    assert np.array_equal(ours, stream(11, "policy").random(4))
    assert not np.isin(ours, np.random.default_rng(11).random(64)).any()


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
    with pytest.raises(TypeError, match=r"cannot build policy 'json:dumps' with env=, seed=: missing .*'obj'"):
        make_policy("json:dumps", env=env)
    with pytest.raises(TypeError, match=r"policy 'json:__doc__' is a str; expected a class"):
        make_policy("json:__doc__", env=env)
    # the protocol itself, or an abstract class: it was "Protocols cannot be instantiated", naming no policy
    with pytest.raises(TypeError, match=r"policy 'personagym.policies:Policy' is a protocol \(it leaves act to a "
                                        r"subclass\); give a class of yours that implements it"):
        make_policy("personagym.policies:Policy", env=env)
    with pytest.raises(TypeError, match=r"'collections.abc:Sized' is abstract \(it leaves __len__ to a subclass\)"):
        make_policy("collections.abc:Sized", env=env)
    echo = make_policy("tests.policies.echo:EchoPolicy", env=env)
    obs, _ = env.reset(seed=0)
    assert echo.act(obs) == "You said: " + obs["message"]
    assert echo.act_batch([obs, obs]) == [echo.act(obs)] * 2


@pytest.mark.parametrize("name", ["generic", "tracker", "random", "popular"])
def test_act_batch_takes_a_vector_envs_batched_observation(name: str) -> None:
    """Gymnasium batches a Dict observation as a dict of per-env columns; a reply per env, not one per key."""
    envs = gym.make_vec("PersonaGym/Chat-v0", num_envs=2, vectorization_mode="sync")
    singles = [make_env("PersonaGym/Chat-v0") for _ in range(2)]
    batched, _ = envs.reset(seed=3)
    observations = [env.reset(seed=3 + i)[0] for i, env in enumerate(singles)]
    by_batch, by_list = (make_policy(name, env=singles[0], seed=0) for _ in range(2))
    for _ in range(2):  # the first turn, then one after it (the tracker and generic remember each slot)
        actions = by_batch.act_batch(batched)
        assert actions == by_list.act_batch(observations) and len(actions) == 2
        batched, *_ = envs.step(actions)
        observations = [env.step(a)[0] for env, a in zip(singles, actions, strict=True)]
    envs.close()


def test_act_batch_refuses_a_single_observation_and_a_vector_env_is_no_policy_env() -> None:
    env = make_env("PersonaGym/Chat-v0")
    obs, _ = env.reset(seed=0)
    with pytest.raises(TypeError, match=r"act_batch takes a batch .* got a single observation; use act"):
        make_policy("random", env=env, seed=0).act_batch(obs)
    with pytest.raises(ValueError, match=r"one entry per env, got lengths \{'message': 2, 'turn': 1\}"):
        observation_list({"message": ("a", "b"), "turn": np.array([0])})
    with pytest.raises(ValueError, match=r"policy 'tracker' needs a PersonaGym env .* got SyncVectorEnv \(a vector "
                                         r"env: build the policy on one env of its id"):
        make_policy("tracker", env=gym.make_vec("PersonaGym/Chat-v0", num_envs=2, vectorization_mode="sync"))


def test_a_builtin_policy_without_an_env_is_named_with_the_call_that_builds_it() -> None:
    """`make_policy("tracker")` said "this policy needs the env", naming neither the policy nor the env to pass."""
    for name in ("generic", "popular", "random", "oracle", "tracker"):
        with pytest.raises(ValueError, match=rf"^policy '{name}' needs the env for its world knowledge: "
                                             rf"make_policy\('{name}', env=gym.make\('PersonaGym/Chat-v0'\)\)"):
            make_policy(name)


def test_unknown_env_id_suggests() -> None:
    with pytest.raises(ValueError, match=r"did you mean 'PersonaGym/Chat-v0'"):
        make_env("PersonaGym/Chat-v1")


# -- the tracker's reading of what the user says ----------------------------------------------
JAZZ, ARCHERY = "music/music_genres/jazz", "sports/individual_sports/target_sports/archery"
HOUSE, DUBSTEP = "music/music_genres/electronic_music/house_music", "music/music_genres/electronic_music/dubstep"
CASINO = "gaming/casino_games"


@pytest.fixture
def tracker_env():
    env = make_env("PersonaGym/Chat-v0")
    env.reset(seed=0)
    return env


def _told(env, *messages: str):
    """The tracker's profile after the user said `messages` (turns of one session), and its last answer."""
    tracker = make_policy("tracker", env=env, seed=0)
    answer = ""
    for turn, message in enumerate(messages):
        answer = tracker.act({"message": message, "turn": turn, "session": 0})
    return tracker.profile(), answer


def test_generic_stays_on_the_conversations_topic_per_slot(tracker_env) -> None:
    """A message that names nothing ("too short") gets suggestions about the last thing named, slot by slot."""
    generic = make_policy("generic", env=tracker_env, seed=0)
    mentions = tracker_env.unwrapped.analyzer.mentions
    jazz, soccer = "music/music_genres/jazz", "sports/team_sports/soccer"
    assert generic.act_batch([{"message": "Any Jazz albums to try?", "turn": 0, "session": 0},
                              {"message": "Tips for watching Soccer?", "turn": 0, "session": 0}])
    vague = {"message": "Too short, give me more please.", "turn": 1, "session": 0}
    assert mentions("Too short, give me more please.") == []
    on_topic = generic.act_batch([vague, vague])
    assert jazz in [n for n, _ in mentions(on_topic[0])] and soccer not in [n for n, _ in mentions(on_topic[0])]
    assert soccer in [n for n, _ in mentions(on_topic[1])]
    fresh = generic.act_batch([{"message": "Hello there, what can you do?", "turn": 0, "session": 0}])[0]
    assert mentions(fresh) == []  # a new conversation forgets the old topic


@pytest.mark.parametrize("message", [
    "I'm not keen on Jazz.", "Jazz doesn't really excite me.", "I loathe Jazz.", "I cannot bear Jazz at all.",
    "I'd rather not have Jazz in there.", "No Jazz, please.", "Jazz isn't really my thing.", "I can live without Jazz.",
    "Why is Jazz in there? I'm not into it.", "Jazz is exactly what I wanted to avoid.", "I dont enjoy Jazz much.",
    "You included Jazz, which I can't stand.", "Jazz rubs me the wrong way.", "Honestly, I'm kinda over Jazz.",
])
def test_tracker_reads_a_stated_dislike_as_a_dislike(tracker_env, message: str) -> None:
    profile, _ = _told(tracker_env, "I love Jazz.", message)
    assert JAZZ in profile.dislikes and JAZZ not in profile.likes


@pytest.mark.parametrize("message", [
    "How do I avoid injuries when doing Archery?",  # "avoid" is about injuries
    "What's the best way to get tickets for Archery events for no more than $60?",  # "no more" is a budget
    "Explain Archery to me in a page or two, ugh, no, in a couple of lines.",  # a mind change about the length
    "I don't mind Archery.", "I wouldn't say no to Archery.",  # negated dislikes
])
def test_tracker_reads_a_request_or_a_negated_dislike_as_a_like(tracker_env, message: str) -> None:
    profile, _ = _told(tracker_env, message)
    assert ARCHERY in profile.likes and ARCHERY not in profile.dislikes


@pytest.mark.parametrize("correction", [
    "Oops, I said Dubstep but I meant House Music.", "Swap Dubstep for House Music, sorry.",
    "I meant House Music. Dubstep was a slip.", "Sorry, I meant House Music, not Dubstep.",
    "Scratch Dubstep. I meant House Music.", "Let me fix that: House Music instead of Dubstep.",
])
def test_tracker_applies_a_correction(tracker_env, correction: str) -> None:
    profile, _ = _told(tracker_env, "Tweak it, the House Music, nope, make that Dubstep thing.", correction)
    assert HOUSE in profile.likes
    assert DUBSTEP not in profile.likes and DUBSTEP not in profile.dislikes


def test_tracker_takes_a_constraint_object_for_no_interest_and_never_offers_it(tracker_env) -> None:
    profile, action = _told(tracker_env, "I stay away from gambling. I love Jazz.", "Tell me about Casino Games.")
    assert profile.attributes["gambling_stance"] == "avoids"
    assert CASINO not in profile.dislikes and CASINO not in profile.likes
    _, answer = split_profile(action)
    knowledge = tracker_env.unwrapped.knowledge()
    assert CASINO not in {node for node, _ in knowledge.mentions(answer)}, answer  # not even in the opener


def test_oracle_names_no_topic_the_user_dislikes_or_may_not_have() -> None:
    """Nor one under a disliked topic: it opened "Happy to help with ETFs." to one who dislikes investing (a
    request on others' behalf), which cost 0.66 of preference."""
    from personagym.records import Intent, Interest

    env = make_env("PersonaGym/Chat-v0")
    env.reset(seed=0)
    oracle = make_policy("oracle", env=env, seed=0)
    view = env.unwrapped.oracle_view()
    state = view["state"]
    knowledge = env.unwrapped.knowledge()
    kind_of_jazz = next(node for node in knowledge.related(JAZZ) if JAZZ in knowledge.lineage(node)[:-1])
    for topic, change in ((CASINO, lambda: state.forbidden_tags.append("gambling")),
                          (JAZZ, lambda: state.interests.__setitem__(
                              JAZZ, Interest(node=JAZZ, polarity=-1, intensity=0.9))),
                          (kind_of_jazz, lambda: None)):
        change()
        oracle._view = lambda topic=topic: view | {"intent": Intent(kind="task_request", topic=topic), "topic": topic}
        answer = oracle.act({"message": "", "turn": 1, "session": 0})
        assert topic not in {node for node, _ in knowledge.mentions(answer)}, answer


def test_oracle_answers_a_liked_topic_with_a_thing_under_it() -> None:
    """Asked about jazz by a jazz lover, the oracle offered other favourites only (said back, jazz earns nothing):
    a red-team policy adding one kind of jazz beat the "upper bound" by +0.27 an episode."""
    from personagym.records import Intent, Interest

    env = make_env("PersonaGym/Chat-v0")
    env.reset(seed=0)
    oracle = make_policy("oracle", env=env, seed=0)
    view = env.unwrapped.oracle_view()
    view["state"].interests[JAZZ] = Interest(node=JAZZ, polarity=1, intensity=0.8)
    knowledge = env.unwrapped.knowledge()
    oracle._view = lambda: view | {"intent": Intent(kind="task_request", topic=JAZZ), "topic": JAZZ,
                                   "about": [knowledge.area(JAZZ)]}
    answer = oracle.act({"message": "Any jazz albums?", "turn": 0, "session": 0})
    named = {node for node, _ in knowledge.mentions(answer)}
    assert any(node != JAZZ and JAZZ in knowledge.lineage(node) for node in named), answer


def test_oracle_recommends_nothing_off_the_request() -> None:
    """A favourite off the request earns nothing and takes a place a thing on it could have had: the oracle padded
    every answer with two ("Put together a three-day trip around camping" got glamping, chemistry, JavaScript, ice
    cream and stock market news), 1,063 of its 1,225 answers on Chat-v0.  Nearly all its answers still answer: not
    those to a leaf with nothing near it, nor those after every thing on the request was offered (the same list
    again would be a repeat), 10 of 172."""
    from personagym.simulators.preferences import on_request

    env = make_env("PersonaGym/Chat-v0")
    oracle = make_policy("oracle", env=env, seed=0)
    user, paths = env.unwrapped, env.unwrapped.taxonomy.paths
    answers = unanswered = 0
    for seed in range(40):
        oracle.reset(seed)
        observation, _ = env.reset(seed=seed)
        done = False
        while not done:
            about = user.user.about
            observation, _, terminated, truncated, _ = env.step(oracle.act(observation))
            done = terminated or truncated
            recommended = [m.node for m in user.trajectory().turns[-1].features.mentions if m.stance == "recommend"]
            assert all(on_request(paths[n], about) for n in recommended), (seed, about, recommended)
            answers += 1
            unanswered += not user.user.last_assessment.answered
    assert unanswered < answers / 12, (unanswered, answers)


@pytest.mark.parametrize("name", ["oracle", "tracker"])
def test_a_personalizing_policy_gives_no_list_twice(name: str) -> None:
    """The same things again are a repeat to the user whatever they said in between but a call for another style:
    the oracle answered "Perfect!" with the same two picks (22 of its 69 answers to praise in 300 Chat-v0
    episodes).  Neither it nor the tracker recommends a list it gave since the request, or just before it; with
    nothing new left they say that is all ("That's all I have on X for now"), not that they have no suggestion
    yet, and give general tips in the layout the user wants."""
    from personagym.policies.compose import _NOTHING_MORE

    env = make_env("PersonaGym/Chat-v0")
    policy = make_policy(name, env=env, seed=0)
    sim = env.unwrapped
    lists = spent = 0
    for seed in range(150):
        policy.reset(seed)
        observation, _ = env.reset(seed=seed)
        topic, last, given, done = None, frozenset(), set(), False
        while not done:
            if sim.user.topic != topic:
                topic, given = sim.user.topic, {last}
            given_since = len(given - {last}) if len(given) > 1 else 0
            observation, _, terminated, truncated, _ = env.step(policy.act(observation))
            done = terminated or truncated
            turn = sim.trajectory().turns[-1]
            listed = frozenset(m.node for m in turn.features.mentions if m.stance == "recommend")
            said_all = any(opener.split("{topic}")[0] in turn.assistant for opener in _NOTHING_MORE.values())
            if listed:
                assert listed not in given and not said_all, (seed, turn.assistant)
                lists += 1
            elif said_all:
                # that is all only after lists on this request, laid out as the user wants
                assert given_since or last, (seed, turn.assistant)
                layout = style_plan(sim.oracle_view()["state"].attributes)["layout"] if name == "oracle" else None
                assert layout in (None, "narrative") or turn.features.has_list or turn.features.has_table, \
                    (seed, layout, turn.assistant)
                spent += 1
            # the oracle knows what the request is about; the tracker may add a thing off it to a list given before
            assert name != "oracle" or not sim.user.last_assessment.repeated, seed
            given.add(listed)
            last = listed
    assert lists > 120 and spent >= 5, (lists, spent)


@pytest.mark.parametrize("formality", ["very_casual", "business_casual", "highly_formal"])
@pytest.mark.parametrize("layout", ["narrative", "bullets", "table"])
def test_a_concern_or_the_news_is_recommended_as_reading(formality: str, layout: str) -> None:
    """"You'd probably love anxiety.", "I would recommend the war in Ukraine." (~1% of the oracle's and the
    tracker's answers): a concern, a news story or a calamity of history is put as something to read up on, which
    the analyzer still reads as recommended; other things as before."""
    env = make_env("PersonaGym/Chat-v0")
    knowledge = env.unwrapped.knowledge()
    taxonomy = knowledge.taxonomy
    anxiety, war, jazz = (taxonomy.resolve(n) for n in ("anxiety", "war in Ukraine", "jazz"))
    assert {knowledge.noun(anxiety), knowledge.noun(war)} <= knowledge.followed
    assert knowledge.noun(jazz) not in knowledge.followed
    plan = AnswerPlan(topic="the news", recommend=[knowledge.noun(n) for n in (anxiety, war, jazz)], layout=layout,
                      formality=formality, followed=knowledge.followed)
    text = compose(plan, lambda n: 0)
    def liked(thing: str) -> re.Pattern:
        return re.compile(rf"(?i)(?:love|recommend|suggest) {thing}|{thing} \| a good fit")

    assert not liked("(?:the war|anxiety)").search(text) and liked("jazz").search(text), text
    stances = {m.node: m.stance for m in knowledge.analyzer.analyze(text).mentions}
    assert stances == {anxiety: "recommend", war: "recommend", jazz: "recommend"}, (text, stances)


@pytest.mark.parametrize("formality", ["very_casual", "highly_formal"])
def test_every_answer_in_a_register_meets_the_users_who_want_it(formality: str) -> None:
    """"Certainly. Please find below an overview of cricket. - It should be anticipated that initial attempts may
    proceed more slowly than later ones." read 0.59 formal, short of what a highly formal user wants (0.7), and the
    user asked for formality right after it (11 of 151 of the oracle's answers to such users): whatever the length,
    layout, topic and things offered, the formal register meets a highly formal user and the casual one a very
    casual user."""
    env = make_env("PersonaGym/Chat-v0")
    knowledge = env.unwrapped.knowledge()
    draws = Draws(np.random.default_rng(8))
    missed = []
    for _ in range(400):
        nodes = [knowledge.noun(n) for n in knowledge.random_nodes(draws.index, 1 + draws.index(4))]
        plan = AnswerPlan(topic=nodes[0], recommend=nodes[1:draws.index(len(nodes)) + 1], itself=not draws.index(3),
                          length=list(LENGTH_WORDS)[draws.index(len(LENGTH_WORDS))],
                          layout=["narrative", "table", *LIST_FORMATS][draws.index(2 + len(LIST_FORMATS))],
                          formality=formality, followed=knowledge.followed, spent=not draws.index(2))
        text = compose(plan, draws.index)
        if not style_checks({"formality_level": formality}, knowledge.analyzer.analyze(text))["formality_level"]:
            missed.append(text)
    assert not missed, (len(missed), missed[:2])


def test_no_builtin_policy_offers_a_concern_to_love() -> None:
    followed = make_env("PersonaGym/Chat-v0").unwrapped.knowledge().followed
    loving = re.compile(r"(?i)(?:you'd probably love|i'd suggest|i would recommend) (?:the )?([^.!\n|]+)[.!]")
    read = 0
    for policy in ("oracle", "tracker", "generic"):
        for trajectory in rollout("PersonaGym/Chat-v0", policy, 60, seed=41):
            for turn in trajectory.turns:
                offered = {m.lower() for m in loving.findall(turn.assistant)}
                assert not offered & {f.lower().removeprefix("the ") for f in followed}, turn.assistant
                read += "reading" in turn.assistant
    assert read > 5, read


@pytest.mark.parametrize("layout", ["bullets", "numbered_steps", "checklist"])
def test_a_one_item_list_answer_is_a_list(layout: str) -> None:
    from personagym.policies.compose import AnswerPlan, compose

    env = make_env("PersonaGym/Chat-v0")
    text = compose(AnswerPlan(topic="Jazz", recommend=["Jazz"], length="terse", layout=layout), lambda n: 0)
    features = env.unwrapped.analyzer.analyze(text)
    assert features.has_list and features.word_count <= 40, text  # a terse answer stays terse


@pytest.mark.parametrize("formality", ["very_casual", "business_casual", "highly_formal"])
@pytest.mark.parametrize("layout", ["narrative", "bullets", "numbered_steps", "table"])
def test_an_answer_about_a_leaf_itself_names_it_in_the_layout_asked_and_serves_the_request(formality: str,
                                                                                         layout: str) -> None:
    """An answer about a leaf asked about itself (`AnswerPlan.itself`) opens with an overview of it, not
    suggestions for it, and comes in the layout the user wants even with nothing else to list (as plain text it
    missed every list-preferring user: 120 complaints in 150 oracle episodes); a user who asked about the leaf
    itself takes it as an answer, one who asked for things like it does not."""
    from personagym.simulators.user import _addresses

    analyzer = make_env("PersonaGym/Chat-v0").unwrapped.analyzer
    leaf = "history_culture/historical_eras/middle_ages/black_death"
    text = compose(AnswerPlan(topic="the Black Death", itself=True, layout=layout, formality=formality,
                              length="brief"), lambda n: 1 % n)
    features = analyzer.analyze(text)
    opener = text.splitlines()[0].lower()
    assert "suggestion" not in opener and ("overview" in opener or "lowdown" in opener), text
    assert [(m.node, m.stance != "warn") for m in features.mentions] == [(leaf, True)], text
    assert features.has_list == (layout in ("bullets", "numbered_steps")), text
    assert features.has_table == (layout == "table"), text
    assert _addresses(features, "anything", (leaf,), lambda n: n == leaf, itself=leaf)
    assert not _addresses(features, "anything", (leaf,), lambda n: n == leaf)


@pytest.mark.parametrize("spent", [False, True])
@pytest.mark.parametrize("formality", ["very_casual", "business_casual", "highly_formal"])
@pytest.mark.parametrize("layout", ["narrative", "bullets", "checklist", "table"])
def test_an_answer_with_nothing_to_suggest_comes_in_the_layout_asked(layout: str, formality: str,
                                                                     spent: bool) -> None:
    """An answer with nothing to suggest ("On sparkling water, I have no specific suggestion yet, but here are
    some general tips.") was prose whatever the user wanted, a style miss that an answer padded with any one
    liked thing (a one-item list) did not make: its tips are the list's items or the table's rows.  With its
    suggestions all given since the request (`AnswerPlan.spent`) it says that is all, not "no suggestion yet"."""
    from personagym.policies.compose import _NOTHING_MORE, _NOTHING_YET, _REGISTER

    analyzer = make_env("PersonaGym/Chat-v0").unwrapped.analyzer
    for start in range(6):
        text = compose(AnswerPlan(topic="sparkling water", layout=layout, formality=formality, spent=spent),
                       lambda n, start=start: (5 * start) % n)
        features = analyzer.analyze(text)
        wanted = {"format_pref_primary": layout, "formality_level": formality}
        assert all(style_checks(wanted, features).values()), (style_checks(wanted, features), text)
        assert not [m for m in features.mentions if m.stance == "recommend"], text
        opener = (_NOTHING_MORE if spent else _NOTHING_YET)[_REGISTER[formality]].format(topic="sparkling water")
        assert text.splitlines()[0] == opener, text


@pytest.mark.parametrize("formality", ["very_casual", "business_casual", "highly_formal"])
def test_an_answer_that_suggests_nothing_says_nothing_of_suggestions(formality: str) -> None:
    """An overview of a thing with nothing under it (most answers to requests with a topic) was padded with "If one
    suggestion does not suit you, the others still stand on their own." after no suggestion: an answer that
    suggests nothing pads only with sentences that presuppose none, and is still as long as its user asks; one that
    suggests something says something of its suggestions."""
    from personagym.policies.compose import _ON_OPTIONS, AnswerPlan, compose
    from personagym.simulators.preferences import LENGTH_RANGES

    analyzer = make_env("PersonaGym/Chat-v0").unwrapped.analyzer
    on_options = {s for sentences in _ON_OPTIONS.values() for s in sentences}
    said = Counter()
    for start in range(12):
        for length in ("brief", "exhaustive"):
            for layout in ("narrative", "bullets", "table"):
                for recommend in ([], ["Bebop"]):
                    plan = AnswerPlan(topic="the Black Death", recommend=recommend, itself=True, length=length,
                                      formality=formality, layout=layout)
                    text = compose(plan, lambda n, start=start: (7 * start) % n)
                    options = [s for s in on_options if s in text]
                    said[bool(recommend)] += bool(options)
                    if not recommend:
                        assert not options, text
                        low, high = LENGTH_RANGES[length]
                        assert low <= analyzer.analyze(text).word_count <= high, (length, text)
    assert said[False] == 0 and said[True] > 10, said


@pytest.mark.parametrize("formality", ["very_casual", "business_casual", "highly_formal"])
def test_a_long_answer_repeats_no_sentence_and_names_nothing_unplanned(formality: str) -> None:
    """Filler sentences pad an answer to its length, none twice (an exhaustive answer said ten of them twice),
    and name no entity; an exhaustive answer is still as long as users who want one ask."""
    from personagym.policies.compose import AnswerPlan, compose
    from personagym.simulators.preferences import LENGTH_RANGES

    analyzer = make_env("PersonaGym/Chat-v0").unwrapped.analyzer
    for start in range(6):
        for length in ("detailed", "exhaustive"):
            for layout in ("narrative", "bullets"):
                plan = AnswerPlan(topic="Jazz", recommend=["Jazz", "Soccer"], length=length, formality=formality,
                                  layout=layout)
                text = compose(plan, lambda n, start=start: start % n)
                lines = text.splitlines()
                assert len(lines) > 20 and len(set(lines)) == len(lines), text
                assert {node for node, _ in analyzer.mentions(text)} == {"music/music_genres/jazz",
                                                                         "sports/team_sports/soccer"}
                low, high = LENGTH_RANGES[length]
                assert low <= analyzer.analyze(text).word_count <= high, (length, text)


# -- module:Class -------------------------------------------------------------------------------
USER_MODULE = '''
class Outer:
    class Policy:
        def act(self, observation): return "x"
        def act_batch(self, observations): return ["x" for _ in observations]

class Open:
    def __init__(self, **options):
        self.options = options
    def act(self, observation): return "x"
    def act_batch(self, observations): return ["x" for _ in observations]

from personagym.policies import Policy

class Sub(Policy):
    def act(self, observation): return observation["message"].upper()

class SubSeeded(Policy):
    def __init__(self, seed=None):
        self.seed = seed
    def act(self, observation): return str(self.seed)

class OnlyAct:
    def act(self, observation): return "x"
'''


def test_module_class_edge_cases(tmp_path, monkeypatch) -> None:
    (tmp_path / "user_policies.py").write_text(USER_MODULE)
    (tmp_path / "broken_policies.py").write_text("raise RuntimeError('no config file')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    env = make_env("PersonaGym/Chat-v0")
    assert type(make_policy("user_policies:Outer.Policy", env=env)).__name__ == "Policy"
    assert make_policy("user_policies:Open", env=env, seed=4).options == {"env": env, "seed": 4}
    with pytest.raises(ValueError, match=r"cannot load policy 'user_policies:Outer.Nope': 'user_policies.Outer' "
                                         r"has no attribute 'Nope'$"):  # nothing is close to Nope
        make_policy("user_policies:Outer.Nope", env=env)
    with pytest.raises(ValueError, match=r"'user_policies' has no attribute 'Opne' \(did you mean 'Open'\?\)$"):
        make_policy("user_policies:Opne", env=env)
    with pytest.raises(ValueError, match=r"unknown policy 'user_policies.Open' \(did you mean 'user_policies:Open'"):
        make_policy("user_policies.Open", env=env)
    with pytest.raises(ValueError, match=r"cannot load policy 'broken_policies:X': importing broken_policies "
                                         r"raised RuntimeError: no config file"):
        make_policy("broken_policies:X", env=env)
    for name in ("user_policies:", ":Open", ".user_policies:Open", "user_policies:Open:x"):
        with pytest.raises(ValueError, match=rf"cannot load policy '{name}': expected module:Class"):
            make_policy(name, env=env)
    with pytest.raises(TypeError, match=r"policy 'builtins:dict' has no act\(observation\) method"):
        make_policy("builtins:dict", env=env)  # a builtin has no signature: built with no arguments


def test_a_subclass_of_policy_needs_only_act(tmp_path, monkeypatch) -> None:
    """`class P(Policy)` with only `act`, as the README's import of `Policy` invites: it failed with
    "P.__init__() takes exactly one argument" (typing's placeholder constructor looked like it took env= and
    seed=), and its act_batch returned None."""
    (tmp_path / "user_policies.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    env = make_env("PersonaGym/Chat-v0")
    policy = make_policy("user_policies:Sub", env=env, seed=4)
    assert policy.act_batch([{"message": "a"}, {"message": "b"}]) == ["A", "B"]
    assert make_policy("user_policies:SubSeeded", env=env, seed=4).act_batch([{}]) == ["4"]
    with pytest.raises(TypeError, match=r"has no act_batch\(observations\) method; subclass "
                                        r"personagym.policies.Policy to inherit one"):
        make_policy("user_policies:OnlyAct", env=env)


def test_tracker_asks_no_more_once_told_to_just_answer(tracker_env) -> None:
    """A user who dislikes questions says so ("Can you just answer now?"): the tracker, which asks when it knows
    little at a session's start, asks that user nothing in the sessions after."""
    tracker = make_policy("tracker", env=tracker_env, seed=0)
    asking = "Before I suggest anything"
    assert asking in tracker.act({"message": "Any tips for camping?", "turn": 0, "session": 0})
    tracker.act({"message": "No idea, honestly. Can you just answer now?", "turn": 1, "session": 0})
    assert asking not in tracker.act({"message": "Anything else to try?", "turn": 0, "session": 1})
    other = make_policy("tracker", env=tracker_env, seed=0)
    other.act({"message": "Any tips for camping?", "turn": 0, "session": 0})
    other.act({"message": "No idea, honestly.", "turn": 1, "session": 0})
    assert asking in other.act({"message": "Anything else to try?", "turn": 0, "session": 1})


def test_tracker_lists_unless_told_otherwise(tracker_env) -> None:
    """A red-team policy blind to the user tied the tracker partly by always answering in a bulleted list (it
    fits six of the nine stated formats): the tracker's answer is a list until the user asks for prose."""
    analyze = tracker_env.unwrapped.analyzer.analyze
    _, unknown = _told(tracker_env, "I love Jazz and I'm vegan.", "Any Jazz albums to try?")
    _, prose = _told(tracker_env, "I love Jazz and I'm vegan.", "Also, I prefer plain paragraphs.",
                     "Any Jazz albums to try?")
    assert analyze(split_profile(unknown)[1]).has_list
    assert not analyze(split_profile(prose)[1]).has_list


def test_tracker_answers_the_request_without_offering_likes_elsewhere(tracker_env) -> None:
    """Likes heard in the topic's area come first, then things near the topic; likes elsewhere are not offered
    while a request is open: they answer nothing asked (listed first, a long memory's likes filled every answer),
    and more of them than things on the request make the answer padding, which answers nothing (listed after the
    near things, they cut the tracker's Chat-v0 return from 2.35 to 1.70)."""
    tennis, soccer = "sports/individual_sports/racket_sports/tennis", "sports/team_sports/soccer"
    knowledge = tracker_env.unwrapped.knowledge()
    _, action = _told(tracker_env, "I love Jazz and Tennis, and I'm vegan.", "Tips for watching Soccer?")
    offered = [node for node, stance in knowledge.mentions(split_profile(action)[1])
               if stance == "recommend" and node != soccer]
    assert len(offered) == 3 and set(offered) <= set(knowledge.related(soccer)), action  # a standard answer: three
    assert tennis not in offered and JAZZ not in offered, action
    volleyball = "sports/team_sports/volleyball"  # a like in soccer's area (team sports) leads
    _, action = _told(tracker_env, "I love Jazz and Volleyball, and I'm vegan.", "Tips for watching Soccer?")
    offered = [node for node, stance in knowledge.mentions(split_profile(action)[1])
               if stance == "recommend" and node != soccer]
    assert offered[0] == volleyball and set(offered[1:]) <= set(knowledge.related(soccer)), action
    assert JAZZ not in offered, action


def test_tracker_answers_about_what_a_mind_change_settles_on(tracker_env) -> None:
    """"Dubstep, wait, make that House Music": the answer is about house music, the slip is not its topic."""
    _, action = _told(tracker_env, "I love Jazz and I'm vegan.", "Any tips on Dubstep, wait, make that House Music?")
    answer = split_profile(action)[1]
    nodes = [node for node, _ in tracker_env.unwrapped.knowledge().mentions(answer)]
    assert DUBSTEP not in nodes and HOUSE in nodes, answer


@pytest.mark.parametrize("message", [
    "I've moved on from Jazz, actually.", "I used to like Jazz, but not anymore.", "I've gone off Jazz lately.",
    "These days I'm more into House Music than Jazz.", "Quick update: I'm into House Music now, not so much Jazz.",
    "I've lost interest in Jazz, honestly.", "Lately it's less Jazz and more House Music for me.",
])
def test_tracker_forgets_a_like_the_user_has_moved_on_from(tracker_env, message: str) -> None:
    """A change of taste takes back what was noted: "moved on from Jazz" was read as liking jazz."""
    profile, _ = _told(tracker_env, "I love Jazz.", message)
    assert JAZZ not in profile.likes, profile


@pytest.mark.parametrize(("slip", "correction", "disliked"), [
    ("I can't stand House Music.", "Sorry, I meant Jazz, not House Music.", True),
    ("I am not a fan of House Music.", "Hold on, I got that wrong. It's Jazz, not House Music.", True),
    ("I can't stand House Music.", "No, Jazz. I mixed it up with House Music.", True),
    ("I love House Music.", "Sorry, I meant Jazz, not House Music.", False),
    ("I can't stand House Music.", "Sorry, I meant I love Jazz, not House Music.", False),
])
def test_tracker_takes_a_correction_as_the_slip_was_said(tracker_env, slip: str, correction: str,
                                                        disliked: bool) -> None:
    """"I am not a fan of goats" then "It's horse ownership, not goats." read horse ownership as liked (3
    corrections over 1,500 LongTerm episodes): what a correction names with no words of its own is said as the
    slip was, and words of liking in it still say a liking."""
    profile, _ = _told(tracker_env, slip, correction)
    assert HOUSE not in profile.likes and HOUSE not in profile.dislikes
    assert (JAZZ in profile.dislikes, JAZZ in profile.likes) == (disliked, not disliked), profile


@pytest.mark.parametrize("lost", [
    "I'm past Jazz these days.", "These days I'm more into House Music than Jazz.",
    "I've moved on from Jazz, actually.", "I don't care much for Jazz these days.",
])
def test_tracker_offers_nothing_the_user_is_done_with(tracker_env, lost: str) -> None:
    """"I'm past pet reptiles these days." took pet reptiles back, but the tracker kept offering them as things near
    the topic (131 answers over 1,500 LongTerm episodes offered what the user had said that session they were done
    with): neither it nor what is under it is offered again, a liking stated since or below it apart."""
    knowledge = tracker_env.unwrapped.knowledge()
    asks = [f"Any {name} tips?" for name in ("Blues Music", "Reggae", "Funk", "Soul Music", "R&B") * 3]

    def offered(*said: str) -> set[str]:
        """What the answers to `asks`, after the user said `said`, recommend under jazz."""
        tracker = make_policy("tracker", env=tracker_env, seed=0)
        shown: set[str] = set()
        for turn, message in enumerate([*said, *asks]):
            answer = split_profile(tracker.act({"message": message, "turn": turn, "session": 0}))[1]
            if turn >= len(said):
                shown |= {n for n, stance in knowledge.mentions(answer) if stance == "recommend"}
        return {n for n in shown if JAZZ in knowledge.lineage(n)}

    assert offered("I love Jazz and I'm vegan.") == {JAZZ}  # a like near the topic, offered before
    assert offered("I love Jazz and I'm vegan.", lost) == set()
    bebop = knowledge.taxonomy.resolve("bebop")
    assert offered("I love Jazz and I'm vegan.", lost, "I love Bebop.") == {bebop}
    assert offered("I love Jazz and I'm vegan.", lost, "I love Jazz again, actually.") == {JAZZ}


def test_tracker_offers_something_new_when_told_it_repeats_itself(tracker_env) -> None:
    """After "That's the same list as last time." the answer leads with what it has not shown yet, and near
    things rotate from answer to answer."""
    knowledge = tracker_env.unwrapped.knowledge()

    def offered(action: str) -> list[str]:
        return [n for n, stance in knowledge.mentions(split_profile(action)[1]) if stance == "recommend"]

    tracker = make_policy("tracker", env=tracker_env, seed=0)
    said = ["I love Jazz and Tennis, and I'm vegan.", "Any tips for a trip to Europe?", "Thanks, and more?",
            "That's the same list as last time."]
    answers = [offered(tracker.act({"message": m, "turn": i, "session": 0})) for i, m in enumerate(said)]
    assert answers[1] and answers[2] != answers[1]  # near things move on
    shown = set(answers[1]) | set(answers[2])
    assert answers[3][0] not in shown, answers


@pytest.mark.parametrize("policy", ["tracker", "generic", "popular"])
def test_a_leaf_asked_about_itself_is_answered_without_the_things_beside_it(tracker_env, policy: str) -> None:
    """"Give me a quick session focused on fencing." got "Here's an overview of fencing. I'd suggest karate." (the
    things beside a thing with nothing under it answer nothing asked about it, and may be forbidden: the tracker's
    constraint violations fell from 0.043 to 0.010 an episode without them); a request for things like it ("if I like
    fencing") still gets them.  Neither gets jazz, a like the tracker heard far from the request: more such things
    than things on the request make an answer padding, which answers nothing."""
    knowledge = tracker_env.unwrapped.knowledge()
    fencing = knowledge.taxonomy.resolve("fencing")
    beside = set(knowledge.related(fencing))
    assert knowledge.leaf(fencing) and beside

    def offered(message: str) -> set[str]:
        agent = make_policy(policy, env=tracker_env, seed=0)
        agent.act({"message": "I love jazz, I'm vegan, and brief answers suit me.", "turn": 0, "session": 0})
        answer = split_profile(agent.act({"message": message, "turn": 1, "session": 0}))[1]
        return {n for n, stance in knowledge.mentions(answer) if stance == "recommend"}

    about = offered("Give me a quick session focused on fencing for days when I'm short on time.")
    like = offered("Can you recommend three things worth checking out if I like fencing?")
    assert not about & beside and like & beside, (about, like)
    assert knowledge.taxonomy.resolve("jazz") not in about | like, (about, like)


def test_tracker_takes_a_thing_to_try_as_the_topic_before_a_whole_category(tracker_env) -> None:
    """"I'm traveling solo and keep thinking about the Aztec Empire." made travel & places the topic, and the
    opener ("Here's what I'd go with for travel & places.") recommended a whole category."""
    knowledge = tracker_env.unwrapped.knowledge()
    tracker = make_policy("tracker", env=tracker_env, seed=0)
    message = "I'm traveling solo and keep thinking about the Aztec Empire. Any tips?"
    assert [knowledge.suggestible(n) for n, _ in knowledge.mentions(message)] == [False, True]  # the case
    for turn, said in enumerate(["I love jazz and tennis.", message]):
        answer = split_profile(tracker.act({"message": said, "turn": turn, "session": 0}))[1]
    assert knowledge.name(tracker.profile().topic) == "Aztec Empire"
    assert all(knowledge.suggestible(n) for n, stance in knowledge.mentions(answer) if stance == "recommend"), answer


def test_tracker_keeps_the_requests_topic_through_what_the_user_tells_it(tracker_env) -> None:
    """A request's own words were its topic ("Create a practice exercise on C++": fitness & exercise), and what a
    disclosure, an answer or a dislike named replaced the open request's topic ("I have a soft spot for geometry."
    during a request about Oceania got "Happy to help with geometry."): 55% of the tracker's answers to a disclosure
    were headed off the request.  A correction of the topic itself and a new request still move it."""
    knowledge = tracker_env.unwrapped.knowledge()
    tracker = make_policy("tracker", env=tracker_env, seed=0)
    said = [("Create a practice exercise on C++ for a bunch of college friends.", "C++"),
            ("I have a soft spot for geometry.", "C++"), ("I run on coffee.", "C++"),
            ("Do not suggest horror movies. I mean it.", "C++"),
            ("Oh, I can travel whenever. Unrelated, but what rhymes with orange?", "C++"),
            ("I meant jazz, not C++.", "jazz"), ("Now recommend some sushi places.", "sushi")]
    tracker.act({"message": "I love hiking, sushi and chess.", "turn": 0, "session": 0})  # enough to answer
    for turn, (message, topic) in enumerate(said, start=1):
        answer = split_profile(tracker.act({"message": message, "turn": turn, "session": 0}))[1]
        heads = [knowledge.name(n) for n, stance in knowledge.mentions(answer) if stance == "neutral"]
        assert knowledge.name(tracker.profile().topic) == topic and heads == [topic], (message, answer)
    profile = tracker.profile()
    assert knowledge.taxonomy.resolve("geometry") in profile.likes
    assert knowledge.taxonomy.resolve("horror movies") in profile.dislikes


def test_generic_takes_no_dislike_for_the_topic(tracker_env) -> None:
    """Generic headed its answer with the disliked thing after 15 of 15 dislike disclosures ("Do not suggest
    horror movies. I mean it." -> "Happy to help with horror movies."); it stays on the request instead."""
    knowledge = tracker_env.unwrapped.knowledge()
    generic = make_policy("generic", env=tracker_env, seed=0)
    generic.act({"message": "Any jazz albums to try?", "turn": 0, "session": 0})
    answer = generic.act({"message": "Do not suggest horror movies. I mean it.", "turn": 1, "session": 0})
    assert [knowledge.name(n) for n, stance in knowledge.mentions(answer) if stance == "neutral"] == ["jazz"], answer


def test_tracker_moves_on_through_its_likes_and_names_things_to_try() -> None:
    """Its likes came first in the order heard, so the first few filled every answer ("That's the same list again."
    on 7% of LongTerm answers); it recommended whole categories ("I'd suggest food & cooking") and grouping nodes
    ("I'd suggest cuisines")."""
    from personagym.simulators.persona import load_schema

    tax = load_schema().taxonomy
    answers = repeated = unsuggestible = 0
    for t in rollout("PersonaGym/LongTerm-v0", "tracker", episodes=100, seed=0):
        for turn in t.turns:
            answers += 1
            unsuggestible += any(m.stance == "recommend" and (len(tax.paths[m.node]) == 1 or tax.nodes[m.node].group)
                                 for m in turn.features.mentions)
        repeated += sum(u.intent.reason == "repeated" for u in t.user_turns())
    assert answers > 1000 and unsuggestible == 0 and repeated < 0.02 * answers, (answers, repeated, unsuggestible)


@pytest.mark.parametrize("formality", ["casual", "neutral", "formal"])
def test_an_answer_with_nothing_to_suggest_promises_none(formality: str) -> None:
    """ "Happy to help with jogging.\\n\\nKeep a short note..." (116 of 7,100 tracker answers): an empty line where
    the suggestions were to go, under an opener that promised them."""
    from personagym.policies.compose import AnswerPlan, compose

    for seed in range(4):
        rng = np.random.default_rng(seed)
        text = compose(AnswerPlan(topic="jogging", recommend=[], formality=formality),
                       lambda n, rng=rng: int(rng.integers(n)))
        assert "\n\n" not in text and "suggestions for" not in text and "recommendations" not in text, text
        assert "jogging" in text.splitlines()[0]


@pytest.mark.parametrize("formality", ["casual", "neutral", "formal"])
def test_an_opener_names_the_requests_topic_without_recommending_or_warning(formality: str) -> None:
    """"Here's what I'd go with for home & garden." recommended a whole category, and "I don't have a specific
    suggestion for jazz yet" warned a jazz lover off jazz: the topic an opener names is what was asked about,
    read as neither (a disliked topic named is still put forward, and the oracle leaves it out)."""
    from personagym.policies.compose import AnswerPlan, compose
    from personagym.simulators.analyzer import ResponseAnalyzer
    from personagym.simulators.persona import load_schema

    analyzer = ResponseAnalyzer(load_schema().taxonomy)
    openers = set()
    for topic in ("jazz", "home & garden", "sushi"):
        for seed in range(12):
            for recommend in ([], ["bebop"]):
                rng = np.random.default_rng(seed)
                text = compose(AnswerPlan(topic=topic, recommend=recommend, formality=formality),
                               lambda n, rng=rng: int(rng.integers(n)))
                opener = text.splitlines()[0]
                openers.add(opener.replace(topic, "{topic}"))
                stances = {m.stance for m in analyzer.analyze(opener).mentions}
                assert stances == {"neutral"}, opener
    assert len(openers) >= 3, openers


def test_the_tracker_adds_a_new_allergy_to_the_ones_it_knows() -> None:
    """It kept one value per attribute, so a new allergy replaced an earlier one still true, and what the old one
    forbids was offered again (17 in 2,000 LongTerm episodes): a multi-valued attribute's values add up."""
    env = gym.make("PersonaGym/Chat-v0")
    tracker = make_policy("tracker", env)
    obs, _ = env.reset(seed=0)
    tracker.reset(seed=0)
    k = env.unwrapped.knowledge()
    for message in ("I'm allergic to peanuts. Any snack ideas?", "Also, I just found out I'm allergic to shellfish.",
                    "I'm allergic to peanuts, as I said."):
        answer = tracker.act({**obs, "message": message, "turn": 1})
    p = tracker.profile()
    assert p.attributes["food_allergies"] == ["peanut", "shellfish"]
    assert k.forbidden_tags("food_allergies", "peanut") | k.forbidden_tags("food_allergies", "shellfish") \
        <= p.forbidden
    profile, _ = split_profile(answer)
    assert ("food_allergies", "peanut") in parse_profile(profile) and ("food_allergies", "shellfish") in \
        parse_profile(profile), profile


def test_the_tracker_hears_every_way_the_simulator_says_it_would_rather_be_answered() -> None:
    """The tracker asks a user nothing again once they said they would rather be answered; a wording it misses
    ("An answer would be nice now.") would keep it asking a user who dislikes questions."""
    from personagym.policies.builtin import _IMPATIENT
    from personagym.simulators.persona import load_schema
    from personagym.simulators.renderers import TemplateRenderer

    unheard = [t for t in TemplateRenderer(load_schema()).bank.impatient if not _IMPATIENT.search(t)]
    assert not unheard, unheard
