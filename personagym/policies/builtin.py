"""Built-in assistant policies: generic, random, oracle and tracker.

* ``generic``: helpful about the request (the conversation's topic), blind to
  who the user is.
* ``random``: random entities, stance, length and layout (a floor).
* ``oracle``: reads the hidden state through the env (an upper bound).
* ``tracker``: reason-then-respond without an LLM: extracts the user's
  statements, keeps an explicit profile, asks when it knows too little (and
  never again once the user says they would rather be answered), answers
  conditioned on the profile and emits it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from personagym.envs.stated import RecommendedLists, StatedProfile
from personagym.policies.base import (
    BatchedPolicy,
    Knowledge,
    Observation,
    Observations,
    observation_list,
    register_policy,
)
from personagym.policies.compose import LENGTH_ITEMS, LENGTH_WORDS, LIST_FORMATS, AnswerPlan, compose
from personagym.profile_format import format_profile
from personagym.rng import Draws, stream

NO_EMOJI = ("never", "none", "no_emoji")


def _knowledge(env: Any, policy: str) -> Knowledge:
    """The env's world knowledge, for a built-in policy; these write text, so the env must take text."""
    if env is None:  # it said "this policy needs the env", naming neither the policy nor the call that builds it
        raise ValueError(f"policy {policy!r} needs the env for its world knowledge: "
                         f"make_policy({policy!r}, env=gym.make('PersonaGym/Chat-v0'))")
    if not hasattr(getattr(env, "unwrapped", env), "knowledge"):
        hint = (" (a vector env: build the policy on one env of its id, gym.make(id); its act_batch takes the "
                "vector env's batched observations)" if isinstance(env, gym.vector.VectorEnv) else "")
        raise ValueError(f"policy {policy!r} needs a PersonaGym env for its world knowledge, got "
                         f"{type(env).__name__}{hint}")
    space = getattr(env, "action_space", None)  # a PettingZoo env has a method: its agents' spaces vary
    if isinstance(space, gym.spaces.Space) and not isinstance(space, gym.spaces.Text):
        spec = getattr(env, "spec", None)
        raise ValueError(f"policy {policy!r} writes text, but {spec.id if spec else 'this env'} takes "
                         f"{space} actions; the built-in policies run on the text envs")
    return env.unwrapped.knowledge()


def _index_draws(rng: np.random.Generator) -> Callable[[int], int]:
    """`draw(n)`: an index in [0, n) from `rng`, through a buffer of uniforms (a numpy scalar draw is slow)."""
    return Draws(rng).index


def _layout(fmt: object) -> str:
    """The layout of a stated format; a bulleted list when none is known (or one that no layout here has, such
    as a flowchart): a list fits six of the nine stated formats, prose one."""
    if not isinstance(fmt, str):
        return "bullets"
    return fmt if fmt in ("table", "narrative") or fmt in LIST_FORMATS else "bullets"


def style_plan(attrs: dict[str, Any]) -> dict[str, Any]:
    """The answer style (`AnswerPlan`'s length, layout, formality, emoji) that meets a user's style attributes;
    the population's middle where one is unknown."""
    length = attrs.get("length_pref")
    return {
        "length": length if length in LENGTH_WORDS else "standard",
        "layout": _layout(attrs.get("format_pref_primary")),
        "formality": attrs.get("formality_level") or "business_casual",
        "emoji": attrs.get("emoji_use") not in (None, *NO_EMOJI),
    }


class _Seeded:
    """A built-in policy's own generator, re-seeded by `reset(seed=...)` at the start of each episode.

    `run_episode` passes the episode's seed, so an episode's actions depend on
    that seed alone: the trajectory it records can be replayed from its seed,
    whatever episodes the policy played before.  The draws come from the seed's
    own "policy" stream (`personagym.rng.stream`): ``default_rng(seed)`` was the
    very generator Gymnasium makes the env of the same seed, so the policy's
    first uniform was the env's first draw.
    """

    def _seed(self, seed: int | None) -> None:
        self.rng = stream(seed, "policy")
        self._draw = _index_draws(self.rng)

    def reset(self, seed: int | None = None) -> None:
        """Start an episode; with a seed, draw from a generator seeded with it."""
        if seed is not None:
            self._seed(seed)


class _PerConversation(_Seeded):
    """A built-in policy that remembers each batch slot's conversation: `act` is slot 0, `act_batch` slot i.

    A slot's conversation starts afresh when its observation is the first
    turn of the first session (`_new_conversation`).
    """

    def act(self, observation: Observation) -> str:
        """The reply to one conversation's message (batch slot 0)."""
        return self._act(0, observation)

    def act_batch(self, observations: Observations) -> list[str]:
        """One reply per slot, each in its own conversation."""
        return [self._act(i, obs) for i, obs in enumerate(observation_list(observations))]

    @staticmethod
    def _new_conversation(observation: Observation) -> bool:
        return observation["turn"] == 0 and observation["session"] == 0

    def _act(self, slot: int, observation: Observation) -> str:
        """The reply in batch slot `slot`'s conversation."""
        raise NotImplementedError


class GenericPolicy(_PerConversation):
    """Answers the request with related suggestions, ignoring who the user is.

    Helpful as any assistant is: it stays on the conversation's topic, so a
    message that names nothing ("too short, more please", an answer to its
    question) gets suggestions about the last thing the user did name; a
    thing named as disliked ("Do not suggest horror movies.") is no topic.  It
    keeps that topic per batch slot; a slot forgets it when its observation
    is the first turn of the first session.
    """

    name = "generic"

    def __init__(self, env: Any = None, seed: int | None = None) -> None:
        self.knowledge = _knowledge(env, self.name)
        self._seed(seed)
        self._topics: dict[int, str] = {}
        #: per slot: whether the topic has nothing under it and the message that gave it asks about it itself
        #: (`_topic`): nothing beside it is suggested then
        self._alone: dict[int, bool] = {}

    def reset(self, seed: int | None = None) -> None:
        """Forget every conversation's topic (and re-seed, given a seed)."""
        self._topics.clear()
        self._alone.clear()
        super().reset(seed)

    def _act(self, slot: int, observation: Observation) -> str:
        """Suggest things related to what the message, or the last message that named anything, mentions; nothing
        beside a topic with nothing under it that a request asks about itself ("a quick session focused on
        fencing": not karate)."""
        k = self.knowledge
        topic = self._topic(slot, observation)
        recommend = k.suggestions(topic, self._draw) if topic is not None and not self._alone[slot] else []
        plan = AnswerPlan(topic=k.noun(topic) if topic else None, recommend=recommend,
                          itself=topic is not None and k.leaf(topic), followed=k.followed)
        return compose(plan, self._draw)

    def _topic(self, slot: int, observation: Observation) -> str | None:
        """The conversation's topic in slot `slot`: the first node the message names but does not say the user
        dislikes (`WorldKnowledge.named`), else the last one named."""
        if self._new_conversation(observation):
            self._topics.pop(slot, None)
        message = observation["message"]
        named = self.knowledge.named(message)
        if named:
            self._topics[slot] = named[0]
            # read only for a topic with nothing under it: the reading is most of this method's time
            self._alone[slot] = self.knowledge.leaf(named[0]) and self.knowledge.asks_about_itself(message)
        return self._topics.get(slot)


class RandomPolicy(_Seeded, BatchedPolicy):
    """Random entities with a random stance, length, layout and register."""

    name = "random"

    def __init__(self, env: Any = None, seed: int | None = None) -> None:
        self.knowledge = _knowledge(env, self.name)
        self._seed(seed)

    def act(self, observation: Observation) -> str:
        """A reply about random things."""
        k = self.knowledge
        nodes = [k.noun(n) for n in k.random_nodes(self._draw, self._draw(4))]
        split = self._draw(len(nodes) + 1)
        lengths, layouts = list(LENGTH_WORDS), ["narrative", "table", *LIST_FORMATS]
        registers = ["very_casual", "business_casual", "highly_formal"]
        plan = AnswerPlan(recommend=nodes[:split], avoid=nodes[split:],
                          length=lengths[self._draw(len(lengths))], layout=layouts[self._draw(len(layouts))],
                          formality=registers[self._draw(3)], emoji=bool(self._draw(2)), followed=k.followed)
        return compose(plan, self._draw)


class OraclePolicy(_Seeded, BatchedPolicy):
    """Reads the hidden state: recommends what the user likes, in their style, and states what the user has told."""

    name = "oracle"

    def __init__(self, env: Any = None, seed: int | None = None) -> None:
        self.knowledge = _knowledge(env, self.name)
        if not hasattr(env.unwrapped, "oracle_view"):
            raise ValueError("the oracle policy needs an env with oracle_view()")
        self._view: Callable[[], dict[str, Any]] = env.unwrapped.oracle_view
        self._shown: dict[str, int] = {}  # how often each node was recommended this episode
        self._lists = RecommendedLists()
        self._seed(seed)

    def reset(self, seed: int | None = None) -> None:
        """Forget what was shown (and re-seed, given a seed)."""
        self._forget()
        super().reset(seed)

    def _forget(self) -> None:
        self._shown.clear()
        self._lists = RecommendedLists()

    def act(self, observation: Observation) -> str:
        """The best answer the truth allows."""
        if _PerConversation._new_conversation(observation):
            self._forget()
        k = self.knowledge
        view = self._view()
        state = view["state"]
        # the opener names the request's topic, not what the message names: "Happy to help with pet birds." to
        # "I have a soft spot for pet birds." headed an answer about the open request for music genres
        topic = view["topic"]
        if topic is not None and (_disliked_under(k, topic, state.interests)
                                  or k.tags(topic) & set(state.forbidden_tags)):
            # an opener naming it ("here are my picks for X") would put it forward; ETFs are disliked by one who
            # dislikes investing (the opener "suggestions for ETFs" cost such a user 0.66 of preference)
            topic = None
        style = style_plan(state.attributes)
        chosen = self._choose(view, max(1, LENGTH_ITEMS[style["length"]]))
        for n in chosen:
            self._shown[n] = self._shown.get(n, 0) + 1
        # a leaf asked about itself is answered by it: the answer is about it, what it adds only what else is on
        # the request (nothing beside the topic is)
        plan = AnswerPlan(topic=k.noun(topic) if topic else None, recommend=[k.noun(n) for n in chosen],
                          itself=topic is not None and topic == view["itself"], followed=k.followed,
                          spent=not chosen and self._lists.spent(view["topic"]), **style)
        pairs = [(key, k.name(v) if key in ("likes", "dislikes") else v) for key, v in view["stated"]]
        return format_profile(pairs) + compose(plan, self._draw)

    def _choose(self, view: dict[str, Any], n: int) -> list[str]:
        """The `n` things (at most) the answer recommends: a thing near a liked request topic first (said back,
        the topic earns nothing), then the favourites on the request, strongest first, then things near it, those
        shown least first; never a list the user had since the request (`RecommendedLists`: the same list again
        is a repeat).

        Only things on the request (`about`): a favourite elsewhere earns nothing and takes a place a thing on
        the request could have had (padding every answer with two favourites off the request, the oracle answered
        a three-day camping schedule with chemistry, JavaScript and ice cream).
        """
        k, state = self.knowledge, view["state"]
        about = frozenset(view["about"])
        asked = view["topic"]  # the request's topic: said back, it (or an ancestor) earns nothing
        echoed = set(k.lineage(asked)) if asked else set()
        liked = sorted((i for i in state.interests.values() if i.polarity > 0 and i.node not in echoed
                        and (not about or not about.isdisjoint(k.lineage(i.node)))), key=lambda i: -i.intensity)
        near = self._near_request(asked, state, about) if asked is not None else []
        lead = [m for m in near[:1] if _nearest_interest(k, m, state.interests) is not None]
        ranked = list(dict.fromkeys([*lead, *(i.node for i in liked), *near]))
        return self._lists.pick(asked, ranked, n)

    def _near_request(self, asked: str, state: Any, about: frozenset[str]) -> list[str]:
        """The things near the request topic an answer may offer: the topic's related nodes on the request
        (`about`) that nothing forbids, the user holds no interest in themselves and whose nearest interest is no
        dislike; those under a liking first, each kind shown least first.

        Without the first of them the oracle answered a request about a liked thing with other favourites only (a
        red-team policy adding one such thing beat it by +0.27 an episode); without the others, a request none of
        the favourites is about got no answer.
        """
        k, interests = self.knowledge, state.interests
        forbidden = set(state.forbidden_tags)
        safe = [n for n in k.related(asked) if not k.tags(n) & forbidden and n not in interests
                and (not about or not about.isdisjoint(k.lineage(n)))]
        nearest = {n: _nearest_interest(k, n, interests) for n in safe}
        safe = [n for n in safe if nearest[n] is None or nearest[n].polarity > 0]
        return sorted(safe, key=lambda n: (nearest[n] is None, self._shown.get(n, 0)))


def _nearest_interest(k: Knowledge, node: str, interests: dict[str, Any]) -> Any:
    """The user's interest in the node or its nearest ancestor they hold one in (how `assess` reads a mention),
    or None."""
    return next((interests[a] for a in reversed(k.lineage(node)) if a in interests), None)


def _disliked_under(k: Knowledge, node: str, interests: dict[str, Any]) -> bool:
    """Whether the user dislikes the node, in itself or through its nearest ancestor they hold an interest in."""
    nearest = _nearest_interest(k, node, interests)
    return nearest is not None and nearest.polarity < 0


@dataclass
class _Profile(StatedProfile):
    """What the tracker believes about one user: what they stated (`StatedProfile`) and the conversation."""

    asked: bool = False
    lists: RecommendedLists = field(default_factory=RecommendedLists)  # what was recommended: no list twice
    quiet: bool = False  # the user said they would rather be answered than asked ("Can you just answer now?")
    topic: str | None = None  # the node the conversation is about: what the last request asked about
    #: whether the last request asks for things like its topic ("if I like fencing"), not about it ("a fencing session")
    like: bool = True
    shown: dict[str, int] = field(default_factory=dict)  # how often each node was recommended


#: Words of a user who would rather be answered than asked: the tracker asks them nothing again.
_IMPATIENT = re.compile(r"(?i)\bjust (?:answer|give me the answer)|\bskip the questions|\bless asking"
                        r"|\ban actual answer|\brather you just answered|\bthe answer\?")


class TrackerPolicy(_PerConversation):
    """Reason-then-respond without an LLM (see module docstring).

    Keeps one profile per batch slot; a slot's profile resets when its
    observation is the first turn of the first session.
    """

    name = "tracker"

    def __init__(self, env: Any = None, seed: int | None = None, min_facts: int = 2) -> None:
        self.knowledge = _knowledge(env, self.name)
        self._seed(seed)
        self.min_facts = min_facts
        self._profiles: dict[int, _Profile] = {}

    def reset(self, seed: int | None = None) -> None:
        """Forget every user (and re-seed, given a seed)."""
        self._profiles.clear()
        super().reset(seed)

    def profile(self, slot: int = 0) -> _Profile:
        """The current beliefs for a batch slot."""
        return self._profiles.setdefault(slot, _Profile())

    def _act(self, slot: int, observation: Observation) -> str:
        """Update the profile from the message, then ask or answer."""
        if self._new_conversation(observation):
            self._profiles[slot] = _Profile()
        if observation["turn"] == 0:
            self.profile(slot).asked = False
        p = self.profile(slot)
        k = self.knowledge
        message = observation["message"]
        p.hear(k, message)
        p.quiet = p.quiet or _IMPATIENT.search(message) is not None
        pairs = p.attribute_pairs()
        pairs += [("likes", k.name(n)) for n in p.likes] + [("dislikes", k.name(n)) for n in p.dislikes]
        header = format_profile(pairs) if pairs else ""
        self._follow(p, message, observation["turn"] == 0)
        return header + compose(self._plan(p, message), self._draw)

    def _follow(self, p: _Profile, message: str, opening: bool) -> None:
        """Set the conversation's topic (`p.topic`) from a message: what its request asks about
        (`WorldKnowledge.subjects`: "a practice exercise on C++" is about C++, not exercise), a thing to try
        before a whole category ("I'm traveling solo and keep thinking about the Aztec Empire": the Aztec Empire,
        not travel & places, which the opener would name as its pick).

        A message that asks for nothing keeps the topic: a disclosure, an
        answer to the tracker's question or a complaint adds to the profile
        mid-request, it opens no new one (after "I'm a fan of Italian
        cuisine." or "I can only do short trips." 55% of the answers to a
        disclosure were headed by what it named, off the open request).  Only
        a session's opening message, a first message, and a correction of
        the topic itself ("a latte, wait, make that espresso") fall back to
        the first thing named that is neither taken back nor disliked, as a
        request the reader did not recognise as one.
        """
        k = self.knowledge
        subjects = sorted(k.subjects(message), key=lambda node: not k.suggestible(node))
        retracted = k.retractions(message)
        if subjects:
            p.topic, p.like = subjects[0], k.asks_for_like(message)
        elif opening or p.topic is None or p.topic in retracted:
            named = sorted((node for node in k.named(message) if node not in retracted),
                           key=lambda node: not k.suggestible(node))
            if named:
                p.topic, p.like = named[0], True

    def _plan(self, p: _Profile, message: str) -> AnswerPlan:
        """Ask when too little is known, else answer."""
        k, forbidden = self.knowledge, p.forbidden
        style = style_plan(p.attributes)
        if len(p.attributes) + len(p.likes) < self.min_facts and not p.asked and not p.quiet:
            p.asked = True
            return AnswerPlan(length="brief", question=(
                "Before I suggest anything: what kinds of things do you enjoy, how long should my "
                "answers be, and do you follow any diet or budget I should respect?"))
        # a topic the user dislikes or may not have is neither offered nor named in the opener
        topic = p.topic if p.topic not in p.dislikes and not (p.topic and k.tags(p.topic) & forbidden) else None
        # the topic itself goes in the opener: recommended back to the request, it (or an ancestor) says nothing
        echoed = k.lineage(topic) if topic else ()
        # nothing under a dislike ("I'm not a fan of careers & work", then LinkedIn) nor what the user is done with
        # (`StatedProfile.done_with`: the tracker offered backend development back as a sibling of the new topic in
        # 131 answers over 1,500 LongTerm episodes), and no whole category or grouping node ("I'd suggest food &
        # cooking", "I'd suggest cuisines"), which names nothing to try
        def fits(n: str) -> bool:
            return not (k.tags(n) & forbidden) and k.suggestible(n) and not any(
                a in p.dislikes for a in k.lineage(n)) and not p.done_with(k, n)

        # what the user said they like in the topic's area (its ancestor at the taxonomy's second level) comes
        # first, then the things near the topic; likes elsewhere only while no topic is known: with one, they
        # earn nothing off the request and, more of them than things on it, make the answer padding (the user's
        # `_addresses`; kept after the things near the topic, they cut its Chat-v0 return from 2.35 to 1.70);
        # those shown least first so that answers move on (in the order heard, the first few filled every answer:
        # the same list again in 7% of LongTerm answers); after "That's the same list as last time." what was
        # shown goes after what was not, likes too
        area = k.area(topic) if topic else None
        likes = sorted((n for n in p.likes if n not in echoed and fits(n)), key=lambda n: p.shown.get(n, 0))
        near = [n for n in likes if area in k.lineage(n)]
        # nothing beside a topic with nothing under it, unless the request asks for things like it: "Here's an
        # overview of fencing. I'd suggest karate." answered a fencing session with things it did not ask for
        beside = topic is not None and (p.like or not k.leaf(topic))
        related = sorted(filter(fits, k.related(topic)), key=lambda n: p.shown.get(n, 0)) if beside else []
        elsewhere = [n for n in likes if n not in near] if topic is None else []
        safe = list(dict.fromkeys(near + related + elsewhere))
        if k.asks_for_new(message):
            safe.sort(key=lambda n: n in p.shown)
        chosen = p.lists.pick(topic, safe, LENGTH_ITEMS[style["length"]])
        for n in chosen:
            p.shown[n] = p.shown.get(n, 0) + 1
        return AnswerPlan(topic=k.noun(topic) if topic else None, recommend=[k.noun(n) for n in chosen],
                          itself=topic is not None and k.leaf(topic), followed=k.followed,
                          spent=not chosen and p.lists.spent(topic), **style)


for _name, _cls in (("generic", GenericPolicy), ("random", RandomPolicy), ("oracle", OraclePolicy),
                    ("tracker", TrackerPolicy)):
    register_policy(_name, _cls)
