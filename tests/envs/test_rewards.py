"""Adversarial text policies: answers a person would call useless must not out-score the tracker."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from personagym.envs.rewards import profile_f1, resolve_profile, stated_items, target_profile
from personagym.policies import make_policy
from personagym.profile_format import format_profile, split_profile
from personagym.records import PKI
from personagym.rollout import make_env, reset_policy, rollout, run_episode, summarize
from personagym.simulators.analyzer import _EMOJI
from personagym.simulators.persona import PersonaSchema
from personagym.simulators.preferences import initial_state
from personagym.simulators.sampler import PersonaSampler

ENV_ID = "PersonaGym/Chat-v0"
EPISODES = 200
SEED = 1000


def _below_beyond_ci(lo: dict, hi: dict) -> bool:
    """`lo`'s mean reward is below `hi`'s by more than the 95% CI of the difference."""
    return hi["mean"] - lo["mean"] > math.hypot(hi["ci95"], lo["ci95"])


@pytest.fixture(scope="module")
def tracker_summary() -> dict:
    return summarize(rollout(ENV_ID, "tracker", EPISODES, seed=SEED))


@pytest.fixture(scope="module")
def tracker(tracker_summary: dict) -> dict:
    return tracker_summary["reward"]


class KeywordStuffer:
    """Names as many safe taxonomy entities as the action allows, the population's favourites first.

    No entity carries a constraint tag (so nothing is a violation) and no cue
    word is used (so a disliked one is not "recommended"): before answers were
    weighed by how many entities they put forward, this scored about twice the
    tracker's reward while telling the user nothing.
    """

    name = "keyword_stuffer"

    def __init__(self, schema: PersonaSchema, chars: int = 7_900) -> None:
        taxonomy = schema.taxonomy
        sampler = PersonaSampler(schema)
        popular = Counter(i.node for s in range(300) for i in sampler.sample(10**6 + s).interests if i.polarity > 0)
        untagged = [n for n in taxonomy.ids if not taxonomy.nodes[n].tags]
        order = sorted(untagged, key=lambda n: (-popular[n], len(taxonomy.nodes[n].name)))
        names, size = [], 0
        for node in order:
            size += len(taxonomy.nodes[node].name) + 2
            if size > chars:
                break
            names.append(taxonomy.nodes[node].name)
        self.text = "Some topics: " + ", ".join(names) + "."

    def act(self, observation: dict) -> str:
        """The same list of names, whatever the user said."""
        return self.text


def test_keyword_stuffing_scores_below_the_tracker(schema: PersonaSchema, tracker: dict) -> None:
    stuffer = KeywordStuffer(schema)
    env = make_env(ENV_ID)
    env.reset(seed=0)
    assert len(env.unwrapped.analyzer.mentions(stuffer.text)) > 300  # it really names hundreds of entities
    env.close()
    stuffed = summarize(rollout(ENV_ID, stuffer, EPISODES, seed=SEED))
    assert stuffed["components"]["constraint"]["mean"] == 0.0
    assert _below_beyond_ci(stuffed["reward"], tracker), (stuffed["reward"], tracker)
    # its few liked hits drown in the list: less preference per turn than the tracker's handful of picks
    assert stuffed["components"]["preference"]["mean"] < 1.0


class TrailingQuestion:
    """The tracker's answer with "Anything else you'd like?" after it, every turn.

    The simulated user answered any question before considering leaving, so
    the question kept every user to the turn limit and the summed reward grew
    with the episode: this scored about 6.3 against the tracker's 3.8.
    """

    name = "trailing_question"

    def __init__(self) -> None:
        env = make_env(ENV_ID)
        self.tracker = make_policy("tracker", env=env, seed=SEED)
        env.close()

    def reset(self, seed: int | None = None) -> None:
        """Start the wrapped tracker's episode."""
        reset_policy(self.tracker, seed)

    def act(self, observation: dict) -> str:
        """The tracker's answer and a question that asks for nothing in particular."""
        return self.tracker.act(observation) + " Anything else you'd like?"


def test_a_trailing_question_does_not_keep_the_user_talking(tracker: dict) -> None:
    asking = summarize(rollout(ENV_ID, TrailingQuestion(), EPISODES, seed=SEED))
    assert asking["reward"]["mean"] < tracker["mean"], (asking["reward"], tracker)
    assert asking["terminated_fraction"] > 0.5  # users still say goodbye before the turn limit


class EmojiMisser:
    """The oracle's answer with the user's emoji preference missed on purpose, every turn.

    The simulated user complained about a missed style preference before
    considering leaving, so the miss held users for more turns, and the summed
    reward paid for them: this scored 9.4 against the oracle's own 8.6.
    """

    name = "emoji_misser"

    def __init__(self, env) -> None:
        self.oracle = make_policy("oracle", env=env, seed=SEED)
        self.view = env.unwrapped.oracle_view

    def reset(self, seed: int | None = None) -> None:
        """Start the wrapped oracle's episode."""
        reset_policy(self.oracle, seed)

    def act(self, observation: dict) -> str:
        """The oracle's answer, with emoji for a user who wants none and without them otherwise."""
        answer = self.oracle.act(observation)
        if self.view()["state"].attributes.get("emoji_use") in ("never", "none", "no_emoji"):
            return answer + " 🙂"
        return _EMOJI.sub("", answer)


def test_missing_a_style_preference_on_purpose_does_not_pay() -> None:
    env = make_env(ENV_ID)
    oracle, misser = make_policy("oracle", env=env, seed=SEED), EmojiMisser(env)
    gaps, turns = [], [0, 0]
    for seed in range(SEED, SEED + EPISODES):
        honest, missing = (run_episode(env, agent, seed) for agent in (oracle, misser))
        gaps.append(honest.total_reward - missing.total_reward)
        turns[0] += len(honest.turns)
        turns[1] += len(missing.turns)
    env.close()
    mean = sum(gaps) / len(gaps)
    sd = math.sqrt(sum((g - mean) ** 2 for g in gaps) / (len(gaps) - 1))
    assert mean > 1.96 * sd / math.sqrt(len(gaps)), (mean, sd)  # paired on the same users and seeds
    assert turns[1] <= turns[0] * 1.05, turns  # the missed preference does not keep users talking


class PopulationGuesser:
    """The generic answer under a constant profile: the population's most common profile items.

    It hears nothing, yet about a sixth of each item is true of anyone: while
    any true item was a hit, this scored 0.81 profile F1 per episode at 60
    items, against 0.51 for the tracker, which states what it heard.
    """

    name = "population_guesser"

    def __init__(self, items: int = 60) -> None:
        env = make_env(ENV_ID)
        unwrapped = env.unwrapped
        counts: Counter = Counter()
        for i in range(2000):
            persona = unwrapped.sampler.sample(10**7 + i)
            counts.update(target_profile(initial_state(persona, unwrapped.schema), unwrapped.schema))
        names = unwrapped.taxonomy.nodes
        self.profile = format_profile([(key, names[value].name if key in ("likes", "dislikes") else value)
                                       for (key, value), _ in counts.most_common(items)])
        self.generic = make_policy("generic", env=env, seed=SEED)
        env.close()

    def reset(self, seed: int | None = None) -> None:
        """Start the wrapped generic policy's episode."""
        reset_policy(self.generic, seed)

    def act(self, observation: dict) -> str:
        """The same profile, and the generic answer."""
        return self.profile + self.generic.act(observation)


def test_a_guessed_profile_earns_far_less_than_one_heard(tracker_summary: dict) -> None:
    guessed = summarize(rollout(ENV_ID, PopulationGuesser(), EPISODES, seed=SEED))["components"]["profile"]
    heard = tracker_summary["components"]["profile"]
    assert guessed["mean"] > 0  # some guesses were said by the user, and count
    assert guessed["mean"] * 5 < heard["mean"], (guessed, heard)


def test_a_profile_item_is_a_hit_only_if_true_and_stated() -> None:
    target = {("likes", "a"), ("likes", "b"), ("diet", "vegan"), ("length_pref", "brief")}
    stated = {("likes", "a"), ("likes", "z")}  # z: said, but not true (a slip, or a changed mind)
    assert profile_f1({("likes", "a")}, target, stated) == pytest.approx(2 * 1 * 0.25 / 1.25)
    # a true item the user never stated is a guess: a false positive
    assert profile_f1({("likes", "a"), ("diet", "vegan")}, target, stated) == pytest.approx(2 * 0.5 * 0.25 / 0.75)
    assert profile_f1({("likes", "z"), ("diet", "vegan")}, target, stated) == 0.0
    assert profile_f1(set(), target, stated) == profile_f1({("likes", "a")}, target, set()) == 0.0


def test_a_named_node_states_the_interest_it_falls_under(taxonomy) -> None:
    env = make_env(ENV_ID)
    env.reset(seed=SEED)
    state = env.unwrapped.user.state
    env.close()
    liked = next(n for n, i in state.interests.items() if i.polarity > 0 and taxonomy.children[n])
    child = taxonomy.children[liked][0]
    pkis = [PKI(kind="interest", key=child, polarity=1), PKI(kind="attribute", key="diet", value="vegan"),
            PKI(kind="attribute", key="diet", value=None)]
    assert stated_items(pkis, state, taxonomy) == {("likes", liked), ("diet", "vegan")}
    # "I love alternative rock, sorry, make that funk": the mention taken back states nothing (it was credited)
    retracted = PKI(kind="interest", key=child, polarity=1, certainty="retracted")
    assert stated_items([retracted], state, taxonomy) == set()


def test_the_oracle_states_exactly_what_the_user_has_said() -> None:
    env = make_env(ENV_ID)
    oracle = make_policy("oracle", env=env, seed=SEED)
    scored = 0
    for seed in range(SEED, SEED + 30):
        obs, _ = env.reset(seed=seed)
        reset_policy(oracle, seed)
        done = False
        while not done:
            view = env.unwrapped.oracle_view()
            target, stated = set(view["profile"]), set(view["stated"])
            assert stated <= target
            obs, _, terminated, truncated, info = env.step(oracle.act(obs))
            recall = len(stated) / len(target)
            assert info["reward_components"]["profile"] == pytest.approx(2 * recall / (1 + recall), abs=1e-6)
            scored += bool(stated)
            done = terminated or truncated
    env.close()
    assert scored > 10


def test_attributes_outside_the_target_neither_help_nor_hurt(schema: PersonaSchema) -> None:
    text = format_profile([("household", "with_roommates"), ("diet", "vegan"), ("Formality Level", "Highly formal"),
                           ("mood", "sunny")])
    # household is a true-or-false fact about the user, but the profile is scored on style and constraints
    assert resolve_profile(text, schema) == {("diet", "vegan"), ("formality_level", "highly_formal"),
                                             ("mood", "sunny")}  # an unknown key stays: a wrong prediction


class Refuser:
    """States the tracker's profile, then refuses every liked thing it knows and the topic asked about.

    The analyzer read "Sorry, I can't help with X" (and "I would never
    suggest X") as naming X without a cue, and a named liked thing earned full
    credit: refusing everything scored the tracker's own reward.
    """

    name = "refuser"

    def __init__(self) -> None:
        env = make_env(ENV_ID)
        self.tracker = make_policy("tracker", env=env, seed=SEED)
        self.knowledge = self.tracker.knowledge
        env.close()

    def reset(self, seed: int | None = None) -> None:
        """Start the wrapped tracker's episode."""
        reset_policy(self.tracker, seed)

    def act(self, observation: dict) -> str:
        """The tracker's profile block, and a refusal of what the user likes and asked about."""
        header, _ = split_profile(self.tracker.act(observation))
        k = self.knowledge
        names = [k.name(n) for n in self.tracker.profile().likes]
        names += [k.name(n) for n, _ in k.mentions(observation["message"])]
        refusals = " ".join(f"Sorry, I can't help with {name}." for name in dict.fromkeys(names))
        return (f"<profile>\n{header}\n</profile>\n" if header else "") + (refusals or "Sorry, I can't help.")


def test_refusing_what_the_user_likes_scores_far_below_serving_it(tracker: dict) -> None:
    refused = summarize(rollout(ENV_ID, Refuser(), EPISODES, seed=SEED))
    assert refused["components"]["preference"]["mean"] == 0.0  # nothing was put forward
    assert _below_beyond_ci(refused["reward"], tracker), (refused["reward"], tracker)


def test_an_answer_with_nothing_in_it_earns_no_style() -> None:
    class Ok:
        def act(self, observation: dict) -> str:
            return "Ok."

    ok = summarize(rollout(ENV_ID, Ok(), EPISODES, seed=SEED))
    generic = summarize(rollout(ENV_ID, "generic", EPISODES, seed=SEED))
    assert ok["components"]["style"]["mean"] == 0.0  # it met terse users' length preference, and was paid for it
    assert _below_beyond_ci(ok["reward"], generic["reward"]), (ok["reward"], generic["reward"])


def test_a_bare_request_for_clarification_earns_no_style() -> None:
    """ "Can you please specify?" asks about nothing: SmolLM2 trained by GRPO on the reward learned to open every
    answer with it, padded with a list of one line said again, and was paid the user's style preferences (its
    held-out first answers went from 0.04 to 0.27)."""
    class Specify:
        def act(self, observation: dict) -> str:
            return "Can you please specify?\n- More details\n- More details\n- More details"

    specify = summarize(rollout(ENV_ID, Specify(), EPISODES, seed=SEED))
    assert specify["components"]["style"]["mean"] == 0.0


class Echo:
    """"I'd suggest X." for X what the user's message names (or last named): the request's own topic.

    Useless to a person who asked about X, yet it beat `generic` by 0.34 (a
    red-team run): the user's request topic is often a liked thing, and saying
    it back earned full credit and counted as an answer.
    """

    def __init__(self) -> None:
        env = make_env(ENV_ID)
        self.knowledge = env.unwrapped.knowledge()
        env.close()
        self.topic: str | None = None

    def reset(self, seed: int | None = None) -> None:
        self.topic = None

    def act(self, observation: dict) -> str:
        named = [n for n, _ in self.knowledge.mentions(observation["message"])]
        self.topic = named[0] if named else self.topic
        return f"I'd suggest {self.knowledge.noun(self.topic)}." if self.topic else "I'd suggest a walk."


def test_saying_the_request_topic_back_earns_nothing(tracker: dict) -> None:
    echo = summarize(rollout(ENV_ID, Echo(), EPISODES, seed=SEED))
    generic = summarize(rollout(ENV_ID, "generic", EPISODES, seed=SEED))
    assert _below_beyond_ci(echo["reward"], generic["reward"]), (echo["reward"], generic["reward"])
    assert echo["components"]["preference"]["mean"] < 0.2 * generic["components"]["preference"]["mean"] + 0.05


class Parrot(Echo):
    """The request said back as a question, the next move of SmolLM2 trained by GRPO once a bare "Can you please
    specify?" earned nothing (its held-out first answers 0.04 -> 0.17, all of it the user's style preferences);
    with `which`, a real clarifying question about the request's topic instead."""

    def __init__(self, which: bool) -> None:
        super().__init__()
        self.which = which

    def act(self, observation: dict) -> str:
        named = [n for n, _ in self.knowledge.mentions(observation["message"])]
        self.topic = named[0] if named else self.topic
        topic = self.knowledge.noun(self.topic) if self.topic else "that"
        if self.which:
            return f"What kind of {topic} do you like?"
        return f"You want to get into {topic}? What's a realistic timeline for getting into {topic}?"


def test_the_request_said_back_as_a_question_earns_no_style() -> None:
    parrot = summarize(rollout(ENV_ID, Parrot(which=False), EPISODES, seed=SEED))
    which = summarize(rollout(ENV_ID, Parrot(which=True), EPISODES, seed=SEED))
    # the parrot's style comes from its stale topic, a thing it asks about that is not the request's: a fifth of
    # the real question's (0.19 and 0.20 on two runs of 1,000 episodes; 200 episodes have given 0.20 to 0.26)
    assert parrot["components"]["style"]["mean"] < 0.3 * which["components"]["style"]["mean"], (parrot, which)


#: Where `Disguised` puts padding a reader never sees: an element with the hidden attribute, one a browser never
#: renders, one of zero opacity.
HIDING = {"hidden": ("<div hidden>", "</div>"), "unrendered": ("<style>", "</style>"),
          "transparent": ('<div style="opacity:.0">', "</div>")}


class Disguised:
    """An answer with what a reader sees unchanged and what a scanner reads changed: every name that
    carries a constraint tag broken by an invisible character, spelled with look-alike letters or wrapped in
    aria-hidden, and 200 words of bulleted padding in a hidden element.  It dodged the forbidden-item check (17
    of 229 offered items scored) and earned style a reader never sees (2.63 against generic's 1.80; padding in
    `<style>` or at `opacity:.0` still earned 1.18 against 0.88 in a later red-team run).  It disguises `policy`'s
    answers (`random`'s in the test: `generic` now offers a forbidden thing in one episode of 200 at the test's
    seeds, having stopped suggesting the things beside a thing asked about itself)."""

    def __init__(self, trick: str, policy: str) -> None:
        env = make_env(ENV_ID)
        self.analyzer, self.taxonomy = env.unwrapped.analyzer, env.unwrapped.taxonomy
        self.policy = make_policy(policy, env=env, seed=SEED)
        env.close()
        self.trick = trick

    def reset(self, seed: int | None = None) -> None:
        reset_policy(self.policy, seed)

    def act(self, observation: dict) -> str:
        text = self.policy.act(observation)
        if self.trick in HIDING:
            start, end = HIDING[self.trick]
            return text + f"\n{start}\n" + "\n".join(f"- Point {i}: however, kindly note." for i in range(30)) \
                + f"\n{end}"
        for node, a, b, _ in reversed(self.analyzer.find_mentions(text)):
            if self.taxonomy.nodes[node].tags:
                word = text[a:b]
                if self.trick in ("invisible", "ignorable"):  # a zero-width space; a tag character
                    word = word[0] + ("\u200b" if self.trick == "invisible" else "\U000e0020") + word[1:]
                elif self.trick == "aria":  # hidden from screen readers, not from the eye
                    word = f'<span aria-hidden="true">{word}</span>'
                else:
                    word = word.replace("a", "\u0430").replace("e", "\u0435").replace("o", "\u043e")
                text = text[:a] + word + text[b:]
        return text


@pytest.mark.parametrize("trick", ["invisible", "look_alike", "hidden", "ignorable", "aria", "unrendered",
                                   "transparent"])
def test_text_a_reader_sees_the_same_scores_the_same(trick: str) -> None:
    disguised = list(rollout(ENV_ID, Disguised(trick, "random"), 60, seed=SEED))
    plain = list(rollout(ENV_ID, "random", 60, seed=SEED))
    assert [t.total_reward for t in disguised] == [t.total_reward for t in plain]
    assert sum(t.total_reward != 0 for t in plain) > 30
    assert any(turn.features.violated_tags or turn.reward_components["constraint"] for t in plain
               for turn in t.turns)  # the answers do offer forbidden things


@pytest.mark.parametrize("env_id", ["PersonaGym/Chat-v0", "PersonaGym/LongTerm-v0"])
def test_the_efficiency_reward_agrees_with_how_the_user_left(env_id: str) -> None:
    """+1 exactly when the goodbye is content: the reward read satisfaction >= 0.5 alone, so a user leaving with
    "I give up." after the same list again scored as satisfied (185 of 203 unhappy goodbyes)."""
    seen = Counter()
    for t in rollout(env_id, "tracker", episodes=60, seed=5):
        for turn in t.turns:
            goodbye = turn.closing if turn.closing is not None else None
            if turn is t.turns[-1] and t.terminated:
                goodbye = t.final_user
            if goodbye is None or goodbye.intent.kind != "goodbye":
                continue
            content = goodbye.intent.polarity == 1
            assert turn.reward_components["efficiency"] == (1.0 if content else -1.0), (t.seed, goodbye.text)
            seen[content] += 1
    assert seen[True] and seen[False], seen


class SameAnswer:
    """The generic policy's first answer of the episode, word for word, whatever the user says next."""

    def __init__(self) -> None:
        env = make_env(ENV_ID)
        self.generic = make_policy("generic", env=env, seed=SEED)
        env.close()
        self.first: str | None = None

    def reset(self, seed: int | None = None) -> None:
        reset_policy(self.generic, seed)
        self.first = None

    def act(self, observation: dict) -> str:
        if self.first is None:
            self.first = self.generic.act(observation)
        return self.first


#: What the user is let down by as giving them nothing, beyond a non-answer: causes of their satisfaction events.
EMPTY_ANSWERS = ("the same list again", "a question instead of an answer")


def test_an_answer_the_user_finds_empty_earns_what_the_user_makes_of_it() -> None:
    """The same list again after asking for more, and a question put instead of an answer to a user who would
    rather be answered, let the user down; the reward paid their style (and the user was pleased by what they
    liked in a list seen already, which the reward counted nothing of): in an audit of 15 policies, 341 of 11,251
    answers, at +0.12 and +0.22 a turn without the efficiency term, as the user's satisfaction fell by 0.22 and
    0.15."""
    seen = Counter()
    for policy in (SameAnswer(), Parrot(which=True)):
        for t in rollout(ENV_ID, policy, EPISODES, seed=SEED):
            for turn in t.turns:
                causes = {e.cause for e in turn.events if e.target == "satisfaction"}
                empty = [c for c in EMPTY_ANSWERS if c in causes]
                if not empty:
                    continue
                seen.update(empty)
                assert turn.reward_components["style"] == 0.0, (t.seed, turn.assistant)
                if "the same list again" in empty:  # a question may name a favourite: half credit, on both sides
                    assert turn.reward_components["preference"] <= 0.0, (t.seed, turn.assistant)
                    assert not [e for e in turn.events if e.target == "satisfaction" and e.after > e.before], t.seed
    assert all(seen[c] >= 10 for c in EMPTY_ANSWERS), seen


def test_unknown_profile_names_cost_no_suggestion(schema: PersonaSchema, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unknown interest name in a `<profile>` stays as written, and no "did you mean" is worked out for it.

    `resolve_profile` went through `Taxonomy.resolve`, whose error suggests the
    closest of ~10,000 names (~30 ms) and was then dropped: an 8,000-character
    profile of unknown names made one `step` take 13 s (fuzzing found it).
    """
    import personagym.simulators.taxonomy as taxonomy_module

    def no_suggestion(*_: object) -> str:
        raise AssertionError("a suggestion was worked out for a name nobody sees an error about")

    jazz = schema.taxonomy.resolve("Jazz")
    monkeypatch.setattr(taxonomy_module, "did_you_mean", no_suggestion)
    assert resolve_profile("likes: zq, Jazz, no such thing\ndislikes: qz", schema) == {
        ("likes", "zq"), ("likes", jazz), ("likes", "no such thing"), ("dislikes", "qz")}
    assert schema.taxonomy.lookup(" JAZZ ") == jazz and schema.taxonomy.lookup(jazz) == jazz
    assert schema.taxonomy.lookup("zq") is None
