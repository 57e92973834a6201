"""Intent -> utterance.  `TemplateRenderer` is fast, deterministic and needs no LLM.

The template bank (`data/templates.json`) holds task-request templates per
domain with removable slot phrases, disclosure, feedback, clarification,
correction and goodbye templates, and openers/closers.  Templates are parsed
once; rendering is list appends.  Every entity or attribute phrase a template
inserts becomes an entity segment carrying its ground-truth PKI.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from personagym.records import PKI, Intent
from personagym.rng import Draws
from personagym.shared import LRUCache, SharedOnCopy
from personagym.simulators.draft import PLAIN, Draft, casual_speaker, fix_pronoun
from personagym.simulators.needs import Presuppositions
from personagym.simulators.persona import PersonaSchema
from personagym.simulators.preferences import TIME_GAPS, wanted_shape
from personagym.simulators.taxonomy import FOLLOWED_KINDS, KINDS, TAGS, Taxonomy, TaxonomyError, slugify
from personagym.suggest import did_you_mean

TEMPLATES_PATH = Path(__file__).parent / "data" / "templates.json"
SLOTS = ("time", "budget", "location", "quantity", "audience", "format", "length")
#: The slot whose details name a place ("near Denver"): what `TemplateBank.place_fit` checks against the topic.
PLACE_SLOT = "location"
#: The terrain a place may have within a day trip of it (`slot_fit.place_terrain`), which a topic may need
#: (`slot_fit.place_fit`'s ``terrain``: skiing needs snow, surfing surf).
TERRAINS = ("mountains", "snow", "desert", "surf")
LEVEL_INTENSITY = {"high": 0.85, "medium": 0.55, "low": 0.3}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
#: A goodbye whose last sentence takes leave ("Bye.", "See you next time!"): nothing more is said after it.
_SIGNS_OFF = re.compile(r"\b(?:bye|goodbye|see (?:you|ya)|later|laters|take care|cheers|have a (?:good|great) \w+|"
                        r"chat soon|till next time|signing off|i'm out|i'm leaving)\b[^.!?]*[.!?]*$")
# A phrase about the speaker ("I live alone", "my knees ..."), not an instruction ("keep the tone neutral").
_ABOUT_ME = re.compile(r"(?:I|I'm|I've|I'd|I'll|my|we|we're|we've|our)\b", re.IGNORECASE)
#: A news phrase that dates what it tells to the last few days ("we just had a baby"): no late news says it.
_JUST = re.compile(r"\bjust\b", re.IGNORECASE)
#: The longest gap between sessions (days) after which a life event's news may still say "just" ("we just had a
#: baby" a week or a month on).  After a longer one (a year) the event may have happened any time in it: "Hi!
#: It's been ages. ... Quick update on my end: I just adopted a dog." read false (29 of the 70 pieces of news told
#: a year on in 600 LongTerm episodes said "just"); it is told as late news is, without "just" ("I got a dog").
JUST_DAYS = 30.0
#: A change of taste told as new since the last session ("Since we last talked, I've gotten into X."): no late
#: news says it either.
_SINCE_LAST = re.compile(r"\bsince (?:we last talked|last time)\b", re.IGNORECASE)
#: The reasons of a request that tells a life event's news: in the session after it (life_event) or, once a whole
#: session has gone by without it, as late (late_news: "I forgot to mention last time: ...").
NEWS_REASONS = frozenset({"life_event", "late_news"})
#: Complaints about how an answer is written, not about what it offers: the same items again answer them, and
#: none opens with a verdict on the content (`TemplateBank.style_openers`).
STYLE_REASONS = frozenset({"too_long", "too_short", "wrong_format", "wrong_tone", "ignored_preference",
                           "ignored_again"})
#: A goodbye's (polarity, said mildly: level low) -> the mood of the goodbye templates that say it: content, or
#: content though the style was not quite right (mixed); unhappy, or unhappy while still satisfied overall
#: (disappointed: no "That's enough for today, I'm frustrated." from a user who is not).
GOODBYE_MOODS = {(1, False): "satisfied", (1, True): "mixed", (-1, False): "unsatisfied", (-1, True): "disappointed"}
#: Style attributes -> the request slot that states the same thing: a request that attaches the
#: preference leaves that slot out, or "... as a table. Also, plain text only, no markdown." contradicts itself.
PREFERENCE_SLOTS: dict[str, str] = {
    "length_pref": "length", "detail_orientation": "length",
    "format_pref_primary": "format", "markdown_pref": "format", "summary_pref": "format",
}  # fmt: skip

Parsed = tuple[tuple[str, str | None], ...]

#: The longest gap between sessions (days) that "the other day" and "last week" may point back over (a
#: `history_needs` of "week").
WEEK_DAYS = 7.0

# How many entries the template bank's memos keyed by a user's own keep (`LRUCache`).  Kept whole they grew with
# every user met (28,523 request details, 12,893 slot-value sets and 3,981 template choices after 20,000 Chat-v0
# generic episodes, ~90 MiB).  Replaying 10,000 episodes' keys, these sizes miss 94% of request details (91% kept
# whole: a user rarely asks twice alike), 88% of slot-value sets (73%, one read per user) and 18% of template
# choices per domain (18%).
#: request details per (user's slot values, domain, tags, places): `TemplateBank.request_slot_values`
REQUEST_DETAILS_CACHED = 256
#: slot-value sets per (words, layout, details ruled out): `TemplateBank.fitting_slot_values`
SLOT_VALUES_CACHED = 1024
#: one slot's values per (slot, words or layout where the slot reads them, its own details ruled out): the parts
#: `fitting_slot_values` builds a set it has not kept from (few users differ in one slot's, most in all slots')
SLOT_FITS_CACHED = 1024
#: template choices per domain and (category, speaker's needs and shape, liking, kind, tags): `TaskDomain.fitting`
TEMPLATE_FITS_CACHED = 256


@cache
def conversation_so_far(opens: int | None, gap: str | None, named: bool = False) -> frozenset[str]:
    """What the conversation before a message holds for it to point back at (`Draft.history`), in the noise
    lexicon's `history_needs` words: "request" mid-session (`opens` None: the session opened with a request),
    "session" after an earlier one (`gap`, the time since it, is known), "week" when that was at most
    `WEEK_DAYS` ago, "topic" when an earlier message named the message's topic (`named`), and "earlier" with
    any of them.  A first session's first message has nothing to point at: "Like I explained earlier." and
    "The one from the other day." there named a conversation that never happened, as "Can you do that thing
    again, the tea thing?" did mid-session of a topic nobody had brought up."""
    held: set[str] = set()
    if opens is None:
        held.add("request")
    if gap is not None:
        held.add("session")
        if TIME_GAPS[gap] <= WEEK_DAYS:
            held.add("week")
    if named:
        held.add("topic")
    if held:
        held.add("earlier")
    return frozenset(held)


def parse_template(template: str) -> Parsed:
    """Split a str.format template into (literal, field) pairs."""
    return tuple((lit, name) for lit, name, _, _ in string.Formatter().parse(template))


LAYOUTS = ("list", "table", "narrative")


@dataclass(frozen=True, slots=True)
class Shape:
    """What a request template asks for by its own words: "a to-do list" is a list, "a short pitch" is short.

    ``layouts`` are the layouts the deliverable can take (None: any) and
    ``words`` the range of its length (None: any).  A request detail that
    wants otherwise is not said with it ("a to-do list ... in plain
    paragraphs", "a short list ... in about 800 words"), and a user whose
    own preferences want otherwise does not ask for it: the reward would
    count the answer that obeyed against it.
    """

    layouts: frozenset[str] | None = None
    words: tuple[int, int] | None = None

    def allows(self, words: tuple[int, int] | None, layout: str | None) -> bool:
        """Whether an answer of `words` (a range) in `layout` ("any": no particular one) can be this deliverable."""
        if layout is not None and self.layouts is not None and layout not in self.layouts:
            return False
        return words is None or self.words is None or (words[0] < self.words[1] and words[1] > self.words[0])

    def details(self, slots: dict[str, str], length_words: Mapping[str, tuple[int, int]],
                format_layout: Mapping[str, str]) -> dict[str, str]:
        """The request details of `slots` that go with this deliverable (a format must name one of its layouts)."""
        fmt, length = slots.get("format"), slots.get("length")
        drop = {k for k, fits in (("format", fmt is None or self.allows(None, format_layout[fmt])),
                                  ("length", length is None or self.allows(length_words[length], None)))
                if not fits}
        return {k: v for k, v in slots.items() if k not in drop} if drop else slots


class TaskDomain:
    """Request templates of one task domain, the taxonomy categories it covers, and which template fits whom.

    Not every template reads well with every topic or from every user: "What
    should I pack for a trip centered on {topic}?" needs a place, not an era
    (`not_for` lists the categories a template does not fit), "My partner
    finds {topic} boring" needs a partner (`needs`, see `Presuppositions`),
    and "Lay out a to-do list" is no request from a user who wants prose
    (`shapes`, see `Shape`).  A domain's topics are of the kinds its
    templates fit (`topic_kinds`: a career is in a field, not in the Higgs
    boson; None: any node).  Some templates say that the user likes the
    topic ("My friend got me hooked on {topic}."; `states_liking`): only a
    topic the user likes is asked about with them, and their PKI is explicit.
    Others say the user knows nothing of the topic or doubts it is worth
    their time ("A friend asked me about {topic} and I have no clue.";
    `states_no_liking`): a liked topic is not asked about with them, whose
    words would belie the liking its request implies.
    Some templates fit only some of the domain's kinds of topic (`kinds_for`:
    "Which features actually matter when shopping for {topic}?" a product,
    not reef snorkeling or giraffes).  No template of a domain fits a topic
    carrying one of its `not_with_tags` (taxonomy tags: nothing to buy for
    the pandas library or giraffes, no job "in" algebra or Django), so the
    domain never draws one; a template does not fit a topic carrying one of
    its `not_with_tags_for` (no "kid-friendly take on" an alcoholic drink, no
    "exercises that help with" hammock camping).
    A domain with `destinations` (travel) asks about places anywhere; any
    other asks about places near the user's home (`TemplateBank.home_slots`);
    either names only a place that fits the topic (`TemplateBank.places_for`).
    A request is about its topic's area (its second-level ancestor) and the
    areas whose things answer its template whatever its topic (`answers`: a
    workout plan around via ferrata is answered by kettlebell training too,
    what to stock up on for a garden salad by vegetables; `request_about`),
    not every category its topics come from.  A template asking about its topic itself ("a
    history of jazz", "what am I missing, teaching myself JavaScript";
    `about_itself`) narrows the topic's area to the topic (hip hop answers
    no history of jazz, Python nothing a JavaScript learner misses; a topic
    with nothing under it is answered by itself, `request_about`); one
    asking for things in it ("three underrated gems in jazz") is answered by
    what is under the topic, so it does not fit a topic with nothing under
    it (no "hidden gems in the Clue board game"); one asking for things like
    it ("things worth checking out if I like jazz") keeps the area.
    """

    def __init__(self, name: str, categories: tuple[str, ...], texts: tuple[str, ...],
                 not_for: Mapping[str, frozenset[str]] | None = None, needs: Presuppositions | None = None,
                 shapes: Mapping[str, Shape] | None = None,
                 topic_kinds: frozenset[str] | None = None, budget: tuple[int, int] | None = None,
                 states_liking: tuple[str, ...] = (), answers_in: tuple[str, ...] = (),
                 states_no_liking: tuple[str, ...] = (), destinations: bool = False,
                 kinds_for: Mapping[str, frozenset[str]] | None = None,
                 not_with_tags: frozenset[str] = frozenset(),
                 not_with_tags_for: Mapping[str, frozenset[str]] | None = None,
                 answers_in_for: Mapping[str, tuple[str, ...]] | None = None,
                 about: str = "like", about_for: Mapping[str, str] | None = None,
                 no_picks: tuple[str, ...] = ()) -> None:
        self.name = name
        #: taxonomy tags of the topics none of its templates fits (a shopping request about free software)
        self.not_with_tags = not_with_tags
        #: template -> taxonomy tags of the topics it does not fit ("a kid-friendly take on" nothing alcoholic)
        self.not_with_tags_for = dict(not_with_tags_for or {})
        #: every tag some template does not fit: a topic's other tags make no difference to `fitting`
        self._template_tags = frozenset().union(*self.not_with_tags_for.values())
        #: template -> the only kinds of topic it fits ("features ... when shopping for" a product, not giraffes)
        self.kinds_for = dict(kinds_for or {})
        #: its place details are destinations (a trip goes anywhere), not places near the user's home
        self.destinations = destinations
        #: taxonomy nodes (areas, or a category whose every area fits) whose things answer a request of the
        #: domain whatever its topic, unless its template names its own (`answers`)
        self.answers_in = answers_in
        #: the range of budget details (about so many dollars) a request here takes; None: any
        self.budget = budget
        self.categories = categories
        self.topic_kinds = topic_kinds
        self.texts = texts
        self.templates: tuple[Parsed, ...] = tuple(parse_template(t) for t in texts)
        self.not_for = dict(not_for or {})
        self.needs = needs or Presuppositions({})
        self._parsed = dict(zip(texts, self.templates, strict=True))
        #: the deliverable of each template that names one, by parsed template
        self.shapes: dict[Parsed, Shape] = {self._parsed[t]: shape for t, shape in (shapes or {}).items()}
        self._all_shaped = frozenset(self.shapes)  # what `_shaped` gives a speaker of no known shape
        #: the templates that say the user likes the topic
        self.states_liking = frozenset(self._parsed[t] for t in states_liking)
        #: the templates that say the user knows nothing of the topic or doubts its worth
        self.states_no_liking = frozenset(self._parsed[t] for t in states_no_liking)
        #: the templates whose requests other things answer than the domain's (`answers_in`)
        self._answers_for = {self._parsed[t]: nodes for t, nodes in (answers_in_for or {}).items()}
        #: what a request not rendered from a template asks about (`ABOUT_TAGS`: the domain's `about`)
        self._about = about
        #: what each template asks about (`ABOUT_TAGS`: `about`, else the template's own `about_for`)
        self._about_for = {self._parsed[t]: (about_for or {}).get(t, about) for t in texts}
        #: the templates that ask for things in their topic, which a topic with nothing under it does not fit
        self._under = frozenset(t for t, tag in self._about_for.items() if tag == "under")
        #: the templates whose deliverable is no list of picks (an explainer, a draft, tips): `asks_picks`
        self.no_picks = frozenset(self._parsed[t] for t in no_picks)
        self._fitting = LRUCache(TEMPLATE_FITS_CACHED)  # key -> tuple[Parsed, ...]

    def answers(self, template: Parsed | None) -> tuple[str, ...]:
        """The taxonomy nodes whose things answer a request made with `template` whatever its topic: the
        template's own (`answers_in_for`: stock for a dish is ingredients, food to support a sport is dishes),
        else the domain's (`answers_in`); the domain's for None (a request not rendered from a template).

        A whole category answered too much: any hobby answered a balcony-gardening guide (canasta), any school
        subject a quiz on Scandinavian languages (mathematics), any dish a latte recipe (9.8% of the oracle's
        answers were on the request only so, a fifth of its preference reward)."""
        return self._answers_for.get(template, self.answers_in) if template is not None else self.answers_in

    def asks_picks(self, template: Parsed | None) -> bool:
        """Whether a request made with `template` asks for things to try, get or do (picks, a plan, a recipe), not
        for an explainer, a draft, tips or a quiz (`no_picks`); True for a request not rendered from a template.

        "I'd suggest virology." to "Can you give me an analogy that makes microbiology click?" earned what a
        recommendation earns (about 17% of the oracle's answers to such requests were suggestion lines): on such a
        request a liked thing put forward earns what one named does (`assess`)."""
        return template not in self.no_picks

    def about_itself(self, template: Parsed | None, leaf: bool = False) -> bool:
        """Whether a request made with `template` (None: not rendered from one) on a topic (a `leaf`, with
        nothing under it, or not) is bounded by its topic, so only the topic and what is under it answer it, not
        its siblings in the topic's area (`request_about`).

        Siblings answered every request: a history of jazz with hip hop, "I'm teaching myself JavaScript. What
        am I probably missing?" with Python (two thirds of the oracle's and the tracker's answers named nothing
        at or under the topic).  A template asking for things in its topic ("under") fits no leaf (`fitting`);
        one drawn on a leaf all the same, the only template left, asks for things like it (its area)."""
        tag = self._about_for[template] if template is not None else self._about
        return tag == "itself" or (tag == "under" and not leaf)

    def fitting(self, category: str | None, speaker: Mapping[str, object] | None,
                liked: bool = True, kind: str | None = None, tags: frozenset[str] = frozenset(),
                leaf: bool = False) -> tuple[Parsed, ...]:
        """The templates for a topic under top-level `category` (None: any), of `kind` (None: any), carrying
        taxonomy `tags` and with nothing under it or not (`leaf`), said by `speaker` (None: anyone), who likes
        the topic or not (`liked`).

        A choice that would leave none keeps them all.
        """
        excluded = self.needs.excluded(speaker) if speaker is not None and self.needs.needs else frozenset()
        shaped = self._shaped(speaker)
        kind = kind if self.kinds_for else None
        tags = tags & self._template_tags
        leaf = leaf and bool(self._under)
        key = (category, excluded, shaped, liked, kind, tags, leaf)
        fits = self._fitting.get(key)
        if fits is None:
            texts = tuple(t for t in self.texts if category not in self.not_for.get(t, ())) or self.texts
            if leaf:  # no "hidden gems in the Clue board game": nothing is in it to pick
                texts = tuple(t for t in texts if self._parsed[t] not in self._under) or texts
            if kind is not None:
                kinds_for = self.kinds_for
                texts = tuple(t for t in texts if t not in kinds_for or kind in kinds_for[t]) or texts
            if tags:
                unfit = self.not_with_tags_for
                texts = tuple(t for t in texts if t not in unfit or unfit[t].isdisjoint(tags)) or texts
            belied = self.states_no_liking if liked else self.states_liking
            texts = tuple(t for t in texts if self._parsed[t] not in belied) or texts
            texts = self.needs.fitting(texts, excluded)
            parsed = tuple(self._parsed[t] for t in texts)
            shapes = self.shapes
            fits = self._fitting[key] = tuple(p for p in parsed if p not in shapes or p in shaped) or parsed
        return fits

    def _shaped(self, speaker: Mapping[str, object] | None) -> frozenset[Parsed]:
        """The templates with a deliverable (`shapes`) that an answer of the length and layout `speaker` wants can
        be (all of them for None): what `fitting` reads of the speaker's shape, and keys by (a few templates have
        a deliverable, so users who want answers of many shapes share the key)."""
        if not self.shapes or speaker is None:
            return self._all_shaped
        words, layout = wanted_shape(speaker)
        return frozenset(p for p, shape in self.shapes.items() if shape.allows(words, layout))


class TemplateBank(SharedOnCopy):
    """The parsed template bank."""

    def __init__(self, raw: dict, taxonomy: Taxonomy) -> None:
        self.raw = raw
        self.domains: dict[str, TaskDomain] = {}
        for name, spec in raw["task_requests"].items():
            self.domains[name] = _task_domain(name, spec, taxonomy)
        self.domain_names = tuple(self.domains)
        #: what a user needs to ask for anything in a domain (no travel requests from one who cannot travel)
        self.domain_needs = Presuppositions(raw.get("domain_needs", {}))
        stray = sorted(set(self.domain_needs.needs) - set(self.domains))
        if stray:
            raise ValueError(f"templates: domain_needs names {stray[0]!r}, which is no task domain")
        #: attribute -> the domains whose requests may attach a fact about it (not listed: any request)
        self.fact_domains: dict[str, frozenset[str]] = {}
        for attribute, names in raw.get("fact_domains", {}).items():
            stray = sorted(set(names) - set(self.domains))
            if stray:
                raise ValueError(f"templates: fact_domains.{attribute} names {stray[0]!r}; expected task domains "
                                 f"({', '.join(self.domains)})")
            self.fact_domains[attribute] = frozenset(names)
        #: attribute, or (attribute, value) -> the top-level categories whose topics a fact about it bears on (not
        #: listed: any topic of its domains): "I'm a homeowner" goes with a hobby request about home repairs, not
        #: about card games; "gambling is against my beliefs" with Las Vegas, not with chai
        self.fact_categories: dict[str | tuple[str, str], frozenset[str]] = {}
        tops = taxonomy.top_level()
        for key, names in raw.get("fact_categories", {}).items():
            where = f"templates: fact_categories.{key}"
            ids = [slugify(name) for name in names]
            stray = [name for name, i in zip(names, ids, strict=True) if i not in tops]
            if stray:
                raise ValueError(f"{where} names {stray[0]!r}; expected a top-level taxonomy category such as "
                                 f"'Food & Cooking'{did_you_mean(stray[0].lower(), list(map(taxonomy.name, tops)))}")
            attribute, _, value = key.partition("=")
            self.fact_categories[(attribute, value) if value else attribute] = frozenset(ids)
        self.slot_values = {k: tuple(v) for k, v in raw["slot_values"].items()}
        #: slot -> value -> the vaguer phrases that say it ("a couple of" for "two", never for "ten")
        self.vague_slot_values = _vague_forms(raw["vague_slot_values"], self.slot_values,
                                              raw["slot_fit"].get("needs", {}))
        fit = raw["slot_fit"]
        #: the words a length detail allows, and the layout a format detail needs ("list", "table", "narrative", "any")
        self.length_words: dict[str, tuple[int, int]] = {k: (int(v[0]), int(v[1])) for k, v in fit["length"].items()}
        self.format_layout: dict[str, str] = dict(fit["format"])
        for slot, table in (("length", self.length_words), ("format", self.format_layout)):
            missing = [v for v in self.slot_values[slot] if v not in table]
            if missing:
                raise ValueError(f"templates: slot_fit.{slot} has no entry for the slot value {missing[0]!r}")
        #: length detail -> the format details it is never said with ("as a numbered list in a single sentence")
        self.length_not_with: dict[str, frozenset[str]] = {}
        for length, formats in fit.get("length_not_with", {}).items():
            stray = [v for v in (length, *formats) if v not in self.length_words and v not in self.format_layout]
            if length not in self.length_words or stray:
                raise ValueError(f"templates: slot_fit.length_not_with names {(stray or [length])[0]!r}; expected a "
                                 "length detail and the format details it clashes with")
            self.length_not_with[length] = frozenset(formats)
        needs = fit.get("needs", {})
        for slot, by_value in needs.items():
            if slot not in self.slot_values:
                raise ValueError(f"templates: slot_fit.needs names the slot {slot!r}; expected one of {SLOTS}")
            unknown = [v for v in by_value if v not in self.slot_values[slot]]
            if unknown:
                raise ValueError(
                    f"templates: slot_fit.needs.{slot} names {unknown[0]!r}, which is no {slot} slot value")
        #: request details that state a fact about the user, and the attribute ("for my kids": children): said
        #: only by a user with that attribute, with a PKI (vague where the words fit several of its values)
        self.slot_states: dict[str, str] = dict(fit.get("states", {}))
        presupposed = {v: n for by_value in needs.values() for v, n in by_value.items()}
        for value, attribute in self.slot_states.items():
            if attribute not in presupposed.get(value, {}):
                raise ValueError(f"templates: slot_fit.states[{value!r}] = {attribute!r}; expected an attribute "
                                 "slot_fit.needs gives that detail")
        #: what request details presuppose about the user ("for my kids": children of some age)
        # a detail that states a fact states all it needs: "for my students" a teaching job, held now
        self.slot_needs = Presuppositions(presupposed, {v: tuple(presupposed[v]) for v in self.slot_states})
        #: how many items a quantity detail asks for, and about how many dollars a budget detail allows
        self.quantity_items: dict[str, int] = _amounts(fit.get("quantity", {}), "quantity", self.slot_values)
        self.budget_usd: dict[str, int] = _amounts(fit.get("budget_usd", {}), "budget_usd", self.slot_values)
        if any(dom.budget for dom in self.domains.values()) and not self.budget_usd:
            raise ValueError("templates: a task domain has a budget_usd range, but slot_fit.budget_usd gives "
                             "no budget detail an amount")
        #: format detail -> the templates it fits, for formats that name a kind of document ("as a timeline")
        self.genres: dict[str, frozenset[Parsed]] = _genres(fit.get("genres", {}), self)
        #: detail -> the taxonomy tags of topics it does not go with ("for my kids": nothing alcoholic)
        self.not_with_tags: dict[str, frozenset[str]] = {}
        for value, tags in fit.get("not_with_tags", {}).items():
            if not any(value in values for values in self.slot_values.values()):
                raise ValueError(f"templates: slot_fit.not_with_tags names {value!r}, which is no slot value")
            unknown = sorted(set(tags) - TAGS)
            if unknown:
                raise ValueError(f"templates: slot_fit.not_with_tags[{value!r}] names the tag {unknown[0]!r}, "
                                 "which is no taxonomy tag")
            self.not_with_tags[value] = frozenset(tags)
        self._for_request = LRUCache(REQUEST_DETAILS_CACHED)  # key -> (values, the details that fit)
        #: slots whose details say where the user lives: a detail no need lets the user say is left out, even
        #: when none is left (no place of their region: no place), except in a domain with `destinations`
        self.home_slots: frozenset[str] = frozenset(fit.get("home_slots", ()))
        stray = sorted(self.home_slots - set(self.slot_values))
        if stray:
            raise ValueError(f"templates: slot_fit.home_slots names {stray[0]!r}; expected one of {SLOTS}")
        #: about how many days away a time detail is, and the range of days a request template takes
        #: and the time details inside that range whose words clash with it (`slot_fit.time_not`: no "how often
        #: should I practice X to see results before my sister's birthday on the 12th")
        self.time_days, self.time_spans, self.time_not = _time_spans(fit, self)
        #: place detail -> the terrain within a day trip of it (`slot_fit.place_terrain`: mountains and snow
        #: "near Denver", surf "in Lisbon"; none listed: none), what a `place_fit` terrain need reads
        self.place_terrain: dict[str, frozenset[str]] = _place_terrain(fit.get("place_terrain", {}),
                                                                       self.slot_values[PLACE_SLOT])
        #: taxonomy node -> the place details a request about it, or anything under it, may name
        #: (`slot_fit.place_fit`: no skiing "around Manila", no city break "in rural Vermont")
        self.place_fit: dict[str, frozenset[str]] = _place_fit(fit.get("place_fit", {}), self, taxonomy)
        self._paths = taxonomy.paths
        self._places_for: dict[str, frozenset[str] | None] = {}
        self._fitting = LRUCache(SLOT_VALUES_CACHED)  # key -> dict[str, tuple[str, ...]]
        #: slot -> its details that presuppose something of the speaker (`slot_needs`): the only ones of a user's
        #: ruled-out details that bear on the slot
        self._needy_details = {slot: frozenset(v for v in values if v in self.slot_needs.needs)
                               for slot, values in self.slot_values.items()}
        self._slot_fits = LRUCache(SLOT_FITS_CACHED)  # key -> tuple[str, ...]
        p = parse_template
        self.interest = {k: tuple(map(p, v)) for k, v in raw["disclosure_interest"].items()}
        #: interest disclosures of a node of a kind in `FOLLOWED_KINDS` (conditions, causes, news: followed or not
        #: talked about, not loved or loathed); a bank without them uses `interest`
        self.concern = {k: tuple(map(p, v)) for k, v in raw.get("disclosure_concern", {}).items()} or self.interest
        if set(self.concern) != set(self.interest):
            raise ValueError(f"templates: disclosure_concern has the pools {', '.join(sorted(self.concern))}; "
                             f"expected those of disclosure_interest: {', '.join(sorted(self.interest))}")
        #: interest disclosure template -> the kinds of node it fits (`disclosure_interest_unfit_kinds` lists those it
        #: does not: no "I've never hated anything as much as Africa."); not listed: any kind
        self.interest_kinds = _template_kinds(raw.get("disclosure_interest_unfit_kinds", {}), self.interest,
                                              "disclosure_interest_unfit_kinds", "disclosure_interest", unfit=True)
        self._disclosure_pools: dict[tuple[str, str | None], tuple[Parsed, ...]] = {}
        #: interest disclosures and requests that say the topic has been liked for long ("I've always enjoyed X"):
        #: not said of an interest the user took up during the episode (`not_long_held`)
        self.long_held = _long_held(raw.get("long_held", ()), self)
        self._not_long_held: dict[tuple[Parsed, ...], tuple[Parsed, ...]] = {}
        #: reason -> how a change of taste since an earlier session is told (moved_on, narrowed: moved_on to a
        #: child, dislike_moved, dislike_narrowed, dislike_widened, gone_off, taken_up, tried, had_enough)
        self.interest_news = {k: tuple(map(p, v)) for k, v in raw.get("interest_news", {}).items()
                              if not k.startswith("_")}
        #: interest news template -> the kinds of node it fits (not listed: any kind)
        self.interest_news_kinds = _template_kinds(raw.get("interest_news_kinds", {}), self.interest_news,
                                                   "interest_news_kinds", "interest_news")
        #: reason -> how a change of taste is told of a node of a kind in `FOLLOWED_KINDS` (a topic the user follows,
        #: reads up on or would rather not get into, not a thing they are into or can't stand: no "I don't mind
        #: chronic illness anymore", no "Your police reform suggestion last time was spot on."); a reason not
        #: listed is told by `interest_news`
        self.concern_news = {k: tuple(map(p, v)) for k, v in raw.get("interest_news_concern", {}).items()}
        stray = sorted(set(self.concern_news) - set(self.interest_news))
        if stray:
            raise ValueError(f"templates: interest_news_concern has the pool {stray[0]!r}; expected one of "
                             f"interest_news's: {', '.join(sorted(self.interest_news))}")
        attribute = raw["disclosure_attribute"]
        if isinstance(attribute, list):  # a bank without "about me" lead-ins uses its templates for any phrase
            attribute = {"any": attribute, "about_me": []}
        #: disclosure templates for any phrase, and with the "about me" lead-ins ("A bit of background: ...")
        #: that only a phrase about the speaker takes ("I live alone", not "keep the tone neutral")
        self.attribute = tuple(map(p, attribute["any"]))
        self.attribute_about_me = (*self.attribute, *map(p, attribute["about_me"]))
        self.connectors = tuple(map(p, raw["preference_connectors"]))
        #: connectors that tell a life event's news ("Quick update on my end: ..."); a bank without them uses
        #: the ordinary ones
        self.news_connectors = tuple(map(p, raw.get("news_connectors", raw["preference_connectors"])))
        #: connectors that tell news a whole session went by without ("I forgot to mention last time: ..."): not
        #: "Since last time, ...", which is false of it; a bank without them uses the ordinary ones
        self.late_news_connectors = tuple(map(p, raw.get("late_news_connectors", raw["preference_connectors"])))
        #: connectors that say a fact again ("As I said, ..."); a bank without them uses the ordinary ones
        self.restate_connectors = tuple(map(p, raw.get("restate_connectors", raw["preference_connectors"])))
        self.feedback = {k: tuple(map(p, v)) for k, v in raw["feedback"].items()}
        #: positive feedback for an answer that missed a style preference the user lets pass: no claim that it fits
        #: (`fit_claims`: "exactly what I needed")
        self.praise_no_fit = _feedback_without(raw["feedback"], "positive", raw.get("fit_claims", ()), "fit_claims")
        #: negative feedback that opens a complaint about the style alone: no verdict on the content
        #: (`content_verdicts`: "This is worse than useless." about formality only, 43 of 986 style complaints of
        #: the generic policy's users after an answer with preference >= 0.5)
        self.style_openers = _feedback_without(raw["feedback"], "negative", raw.get("content_verdicts", ()),
                                               "content_verdicts")
        reasons = {k: tuple(map(p, v)) for k, v in raw["negative_reasons"].items() if not k.startswith("_")}
        self.reasons = {k: v for k, v in reasons.items() if not k.endswith(("_high", "_concern"))}
        #: reason -> its templates for a strong complaint: the ordinary ones and those of `<reason>_high`
        #: ("... would be a dealbreaker for me." only of a strong dislike)
        self.strong_reasons: dict[str, tuple[Parsed, ...]] = {}
        for key, templates in reasons.items():
            if key.endswith("_high"):
                base = key.removesuffix("_high")
                if base not in self.reasons:
                    raise ValueError(f"templates: negative_reasons.{key} has no {base!r} pool to add to")
                self.strong_reasons[base] = self.reasons[base] + templates
        #: reason -> its templates for a complaint about a node of a kind in `FOLLOWED_KINDS`, instead of the
        #: reason's own (`<reason>_concern`: "I don't really follow immigration policy anymore.", not "I used to
        #: like immigration policy, but not anymore.")
        self.concern_reasons = {key.removesuffix("_concern"): templates for key, templates in reasons.items()
                                if key.endswith("_concern")}
        stray = sorted(set(self.concern_reasons) - set(self.reasons))
        if stray:
            raise ValueError(f"templates: negative_reasons.{stray[0]}_concern has no {stray[0]!r} pool to stand in "
                             "for")
        #: template of `concern`, `concern_news` or `concern_reasons` -> the kinds of node it fits
        #: (`followed_unfit_kinds` lists those it does not: no "I try to keep up with World War II", which is read
        #: about, not followed); not listed: any kind
        self.followed_kinds = _template_kinds(
            raw.get("followed_unfit_kinds", {}),
            {f"{section}.{key}": pool for section, pools in (("disclosure", self.concern), ("news", self.concern_news),
                                                             ("reasons", self.concern_reasons))
             for key, pool in pools.items()},
            "followed_unfit_kinds", "disclosure_concern, interest_news_concern or negative_reasons.*_concern",
            unfit=True)
        self._followed_pools: dict[tuple[tuple[Parsed, ...], str | None], tuple[Parsed, ...]] = {}
        clarify = dict(raw["clarification_answers"])
        #: what a user impatient with being asked adds to the answer ("Can you just answer now?")
        self.impatient = tuple(clarify.pop("impatient"))
        self.clarify = {k: tuple(map(p, v)) for k, v in clarify.items()}
        #: the same answers without praise of the question ("Good question."), for an impatient user
        self.clarify_impatient = {k: tuple(t for t in v if not _PRAISES_QUESTION.search(_said(t))) or v
                                  for k, v in self.clarify.items()}
        self.corrections = tuple(map(p, raw["corrections"]))
        self.goodbyes = {k: tuple(map(p, v)) for k, v in raw["goodbyes"].items()}
        self.goodbye_prefixes = {k: tuple(v) for k, v in raw["goodbye_prefixes"].items()}
        self.goodbye_suffixes = {k: tuple(v) for k, v in raw["goodbye_suffixes"].items()}
        #: goodbye suffixes that presuppose the speaker's circumstances ("Back to work for me." needs a job)
        self.suffix_needs = Presuppositions(raw.get("goodbye_suffix_needs", {}))
        stray = sorted(set(self.suffix_needs.needs) - {t for pool in self.goodbye_suffixes.values() for t in pool})
        if stray:
            raise ValueError(f"templates: goodbye_suffix_needs names {stray[0]!r}, which is no goodbye suffix")
        #: mood -> [(move, the phrases that say it)]: what a goodbye says, so a prefix or suffix does not say it again
        self._goodbye_moves = _goodbye_moves(raw.get("goodbye_moves", {}), self)
        openers = raw["openers"]
        if isinstance(openers, list):  # a bank that does not tell greetings apart uses its openers anywhere
            openers = {"any_turn": openers, "greeting": [], "returning": []}
        # the opener pool by what the request opens: mid-session "Okay, question:", a session "Hi!",
        # a later session "Hello again." too
        self.openers = (tuple(openers["any_turn"]), (*openers["any_turn"], *openers["greeting"]),
                        (*openers["any_turn"], *openers["greeting"], *openers["returning"]))
        #: gap since the last session -> the openers of a later session that say it ("Hi again, it's been
        #: a few weeks."): else later sessions read like a first meeting
        self.back_after = {gap: tuple(o) for gap, o in openers.get("back_after", {}).items()}
        stray = sorted(set(self.back_after) - set(TIME_GAPS))
        if stray:
            raise ValueError(f"templates: openers.back_after names the gap {stray[0]!r}; expected one of "
                             f"{', '.join(TIME_GAPS)}")
        #: every opener a session's first request may start with
        self.session_openers = frozenset((*self.openers[2], *(o for back in self.back_after.values() for o in back)))
        self.closers = tuple(raw["closers"])
        #: the closers that only thank, briefly ("Thanks!"): said session after session, as any other closer
        #: ("Looking forward to it!") is not (`TemplateRenderer.closer`)
        self.short_thanks = frozenset(raw.get("short_thanks", ()))
        #: openers said only before a question ("Question for you:"), and openers and closers only a casual
        #: user says ("Yo!", "Cheers, mate.")
        self.question_only = frozenset(openers.get("question_only", ()))
        self.casual_only = frozenset(raw.get("casual_only", ()))
        goodbye_words = (*(t for pool in self.goodbye_prefixes.values() for t in pool),
                         *(_said(t) for pool in self.goodbyes.values() for t in pool),
                         *(t for pool in self.goodbye_suffixes.values() for t in pool))
        for name, listed, pool, what in (
                ("openers.question_only", self.question_only, self.openers[2], "opener"),
                ("casual_only", self.casual_only, (*self.session_openers, *self.closers, *goodbye_words),
                 "opener, closer or goodbye"),
                ("short_thanks", self.short_thanks, self.closers, "closer")):
            stray = sorted(listed - set(pool))
            if stray:
                raise ValueError(f"templates: {name} names {stray[0]!r}, which is no {what}")
        self._said_by: dict[tuple, tuple[str, ...]] = {}

    def not_long_held(self, pool: tuple[Parsed, ...]) -> tuple[Parsed, ...]:
        """The templates of `pool` that do not say the topic has been liked for long (all of them if none is left)."""
        fits = self._not_long_held.get(pool)
        if fits is None:
            fits = self._not_long_held[pool] = tuple(t for t in pool if t not in self.long_held) or pool
        return fits

    def disclosure_pool(self, pool: str, kind: str | None) -> tuple[Parsed, ...]:
        """The templates that disclose a liking or a dislike (`pool`: like_high, ..., dislike_low) of a node of this
        `kind` (None: unknown, any template): a concern's or a news story's own, and none that does not fit the
        kind (`interest_kinds`: no "I'm not against World War II, it can be nice.")."""
        if kind in FOLLOWED_KINDS:
            return self.followed(self.concern[pool], kind)
        key = (pool, kind)
        fits = self._disclosure_pools.get(key)
        if fits is None:
            templates = self.interest[pool]
            fits = self._disclosure_pools[key] = tuple(
                t for t in templates if kind is None or kind in self.interest_kinds.get(t, (kind,))) or templates
        return fits

    def followed(self, pool: tuple[Parsed, ...], kind: str | None) -> tuple[Parsed, ...]:
        """The templates of `pool` (a concern's, a news story's or a calamity's) that fit a node of this `kind`
        (`followed_kinds`: World War II is read about, not followed); all of them if none is left."""
        key = (pool, kind)
        fits = self._followed_pools.get(key)
        if fits is None:
            fits = self._followed_pools[key] = tuple(
                t for t in pool if kind is None or kind in self.followed_kinds.get(t, (kind,))) or pool
        return fits

    def news_pool(self, reason: str, kind: str | None) -> tuple[Parsed, ...]:
        """The templates that tell a change of taste of this `reason` about a node of this `kind` (None: unknown,
        any template): no "I gave the 20th century a go", and a concern's or a news story's own where they have them."""
        if kind in FOLLOWED_KINDS and reason in self.concern_news:
            return self.followed(self.concern_news[reason], kind)
        pool = self.interest_news.get(reason, ())
        fitting = tuple(t for t in pool if kind is None or kind in self.interest_news_kinds.get(t, (kind,)))
        return fitting or pool

    def opener_pool(self, opens: int | None, question: bool, casual: bool) -> tuple[str, ...]:
        """The openers of a request that opens session `opens` (None: mid-session), a question or not, by a
        casual user or not."""
        which = 0 if opens is None else 1 + (opens > 0)
        key = ("opener", which, question, casual)
        pool = self._said_by.get(key)
        if pool is None:
            pool = self._said_by[key] = tuple(
                o for o in self.openers[which]
                if (question or o not in self.question_only) and (casual or o not in self.casual_only))
        return pool

    def closer_pool(self, casual: bool) -> tuple[str, ...]:
        """The closers a casual user, or another, says."""
        key = ("closer", casual)
        pool = self._said_by.get(key)
        if pool is None:
            pool = self._said_by[key] = tuple(c for c in self.closers if casual or c not in self.casual_only)
        return pool

    def goodbye_pool(self, part: str, mood: str, casual: bool) -> tuple:
        """The goodbye `part` ("prefix", "goodbye" or "suffix") of a mood that a casual user, or another, says."""
        key = (part, mood, casual)
        pool = self._said_by.get(key)
        if pool is None:
            every = {"prefix": self.goodbye_prefixes, "goodbye": self.goodbyes, "suffix": self.goodbye_suffixes}[part]
            pool = self._said_by[key] = tuple(
                t for t in every[mood] if casual or (_said(t) if part == "goodbye" else t) not in self.casual_only)
        return pool

    def says_again(self, mood: str, extra: str, said: str) -> bool:
        """Whether a goodbye prefix or suffix says again what the (lowercased) goodbye `said` says: the same
        words ("Never mind. Bye." + "Bye.") or the same move in other words ("Not really what I wanted." +
        "Not what I needed.": `goodbye_moves`)."""
        if _repeats(extra, said):
            return True
        lowered = extra.lower()
        return any(cues.search(lowered) and cues.search(said) for cues in self._goodbye_moves.get(mood, ()))

    def places_for(self, topic: str | None) -> frozenset[str] | None:
        """The place details a request about `topic` may name: those every `place_fit` entry at or above it allows
        (None: any place; for no topic too)."""
        if topic is None or not self.place_fit:
            return None
        try:
            return self._places_for[topic]
        except KeyError:
            pass
        fits = None
        for node in self._paths[topic]:
            allowed = self.place_fit.get(node)
            if allowed is not None:
                fits = allowed if fits is None else fits & allowed
        self._places_for[topic] = fits
        return fits

    def request_slot_values(self, values: Mapping[str, tuple[str, ...]], domain: TaskDomain,
                            tags: frozenset[str], topic: str | None = None) -> Mapping[str, tuple[str, ...]]:
        """The details of `values` (a user's, `fitting_slot_values`) that fit a request in `domain` about `topic`
        carrying `tags`: a budget in the domain's range, no detail `not_with_tags` rules out (a slot left with no
        value keeps all of them), and only a place that fits the topic (`places_for`; none left: the request names
        no place).  The `REQUEST_DETAILS_CACHED` combinations used last are cached."""
        places = self.places_for(topic)
        key = (id(values), domain.name, tags, places)
        cached = self._for_request.get(key)
        if cached is not None and cached[0] is values:
            return cached[1]
        out = dict(values)
        if domain.destinations:  # a trip goes anywhere, not only near home
            for slot in self.home_slots:
                out[slot] = self.slot_values[slot]
        if domain.budget is not None and self.budget_usd:
            lo, hi = domain.budget
            out["budget"] = tuple(v for v in out["budget"] if lo <= self.budget_usd[v] <= hi) or out["budget"]
        if tags and self.not_with_tags:
            rules = self.not_with_tags
            for slot, options in out.items():
                if not rules.keys().isdisjoint(options):  # few details have rules: most slots have none
                    out[slot] = tuple(v for v in options if v not in rules or rules[v].isdisjoint(tags)) or options
        if places is not None:
            out[PLACE_SLOT] = tuple(v for v in out[PLACE_SLOT] if v in places)
        self._for_request[key] = (values, out)  # the entry keeps `values` alive, so its id is not reused
        return out

    def template_details(self, domain: TaskDomain, template: Parsed, slots: dict[str, str]) -> dict[str, str]:
        """The details of `slots` that request `template` of `domain` takes: a format and a length its deliverable
        can be (`TaskDomain.shapes`: no "a to-do list ... in plain paragraphs"), a format that names a kind of
        document only where `genres` lists the template (no "the main options ... as a day-by-day schedule"), a
        length that counts sentences or paragraphs only with a format that has them (`length_not_with`), and
        a time in its `time_spans` and not in its `time_not` (no six-month plan "in the next hour", no elevator
        pitch "by Friday")."""
        shape = domain.shapes.get(template)
        if shape is not None and slots:
            slots = shape.details(slots, self.length_words, self.format_layout)
        genre = self.genres.get(slots.get("format", ""))
        if genre is not None and template not in genre:
            slots = {k: v for k, v in slots.items() if k != "format"}
        if slots.get("format") in self.length_not_with.get(slots.get("length", ""), ()):
            slots = {k: v for k, v in slots.items() if k != "length"}  # no numbered list in a single sentence
        span = self.time_spans.get(template)
        if span is not None and "time" in slots and (not span[0] <= self.time_days[slots["time"]] <= span[1]
                                                     or slots["time"] in self.time_not.get(template, ())):
            slots = {k: v for k, v in slots.items() if k != "time"}
        return slots

    def template_slot_values(self, domain: TaskDomain, template: Parsed, values: Mapping[str, tuple[str, ...]],
                             slots: Iterable[str]) -> Mapping[str, tuple[str, ...]]:
        """The details of `values` (`request_slot_values`) for each of `slots` that request `template` of `domain`
        takes (`template_details`, one detail at a time: each of its rules bears on one slot): what a mind change
        on a detail of the request settles on ("a six-month plan ... by Friday, wait, in the next hour" broke
        the plan's own span).  A slot's details are worked out when first read: few requests change their mind
        on a detail, and working them all out for every request cost ~3% of a user turn."""
        return _TemplateDetails(self, domain, template, values, tuple(slots))

    def fitting_slot_values(self, words: tuple[int, int] | None, layout: str | None,
                            attributes: Mapping[str, object] | None = None) -> dict[str, tuple[str, ...]]:
        """The slot values a user with these preferences would ask for (the `SLOT_VALUES_CACHED` used last cached).

        `words` is the range of answer lengths the user wants, `layout` the one
        they want ("list", "table" or "narrative"); None leaves that slot open.
        A length detail must overlap the range and a format detail must need
        that layout or none: a user who wants terse answers does not ask for
        "around 1,000 words", which the reward would then count against the
        answer that obeyed.  A detail that presupposes something
        (`slot_needs`) must fit the user's `attributes`: no "for my kids" from
        a user without children, no "under $5,000" on a tight budget (an
        attribute the user does not have is no obstacle).  A slot left with no
        value keeps all of them, except a home slot (`home_slots`): a user of a
        region with no place of its own names no place, not one far from home.

        A set not kept is put together slot by slot (`_slot_fitting`): nearly every user rules out a set of
        details of their own (88% of the sets were built anew, at ~30 µs of a reset), few a slot's of their own.
        """
        excluded = self.slot_needs.excluded(attributes) if attributes else frozenset()
        key = (words, layout, excluded)
        values = self._fitting.get(key)
        if values is None:
            values = self._fitting[key] = {slot: self._slot_fitting(slot, words, layout, excluded & needy)
                                           for slot, needy in self._needy_details.items()}
        return values

    def _slot_fitting(self, slot: str, words: tuple[int, int] | None, layout: str | None,
                      excluded: frozenset[str]) -> tuple[str, ...]:
        """`fitting_slot_values` of one slot, `excluded` the slot's own details ruled out (the `SLOT_FITS_CACHED`
        used last cached); the lengths and quantities read `words`, the formats `layout`."""
        words = words if slot in ("length", "quantity") else None
        layout = layout if slot == "format" else None
        key = (slot, words, layout, excluded)
        fits = self._slot_fits.get(key)
        if fits is None:
            options = self.slot_values[slot]
            if slot in self.home_slots:
                fits = tuple(v for v in options if v not in excluded)
            else:
                fits = self.slot_needs.fitting(options, excluded)
            if words is not None and slot == "length":
                lo, hi = words
                spans = self.length_words
                fits = tuple(v for v in fits if spans[v][0] <= hi and spans[v][1] >= lo) or fits
            elif words is not None and self.quantity_items:  # no "thirty red flags" from a user who wants two lines
                most = max(3, words[1] // 12)
                items = self.quantity_items
                fits = tuple(v for v in fits if items[v] <= most) or fits
            if layout is not None:
                fits = tuple(v for v in fits if self.format_layout[v] in (layout, "any")) or fits
            self._slot_fits[key] = fits
        return fits


class _TemplateDetails(Mapping[str, tuple[str, ...]]):
    """`TemplateBank.template_slot_values`: slot -> the details of `values` that `template` takes, each slot's
    worked out when first read."""

    __slots__ = ("_bank", "_domain", "_done", "_slots", "_template", "_values")

    def __init__(self, bank: TemplateBank, domain: TaskDomain, template: Parsed,
                 values: Mapping[str, tuple[str, ...]], slots: tuple[str, ...]) -> None:
        self._bank, self._domain, self._template, self._values, self._slots = bank, domain, template, values, slots
        self._done: dict[str, tuple[str, ...]] = {}

    def __getitem__(self, slot: str) -> tuple[str, ...]:
        if slot not in self._slots:
            raise KeyError(slot)
        done = self._done.get(slot)
        if done is None:
            takes = self._bank.template_details
            done = self._done[slot] = tuple(v for v in self._values.get(slot, ())
                                            if takes(self._domain, self._template, {slot: v}))
        return done

    def __iter__(self) -> Iterator[str]:
        return iter(self._slots)

    def __len__(self) -> int:
        return len(self._slots)


@cache
def load_bank(taxonomy: Taxonomy, path: Path | None = None) -> TemplateBank:
    """Load (once) the template bank."""
    raw = json.loads(Path(path or TEMPLATES_PATH).read_text(encoding="utf-8"))
    return TemplateBank(raw, taxonomy)


class TemplateRenderer(SharedOnCopy):
    """Renders intents into drafts with ground-truth PKIs, from the template bank."""

    name = "template"

    def __init__(self, schema: PersonaSchema, bank: TemplateBank | None = None,
                 opener_rate: float = 0.2, closer_rate: float = 0.2, back_rate: float = 0.5) -> None:
        self.schema = schema
        self.taxonomy = schema.taxonomy
        self.bank = bank or load_bank(self.taxonomy)
        domains = {a.name: a.values for a in schema.attributes.values()}
        self.bank.slot_needs.check(domains, "templates: slot_fit.needs")
        self.bank.domain_needs.check(domains, "templates: domain_needs")
        self.bank.suffix_needs.check(domains, "templates: goodbye_suffix_needs")
        for name, domain in self.bank.domains.items():
            domain.needs.check(domains, f"templates: task_requests.{name}.needs")
        _check_values("templates: slot_fit.place_fit", "region", domains, (
            r for spec in self.bank.raw["slot_fit"].get("place_fit", {}).values() for r in spec.get("region", ())))
        _check_values("templates: vague_slot_values", "climate", domains, (
            c for entries in self.bank.raw["vague_slot_values"].values() for entry in entries
            if isinstance(entry, dict) for key in ("climate", "not_climate") for c in entry.get(key, ())))
        unknown = sorted(set(self.bank.fact_domains) - set(schema.attributes))
        if unknown:
            raise ValueError(f"templates: fact_domains names {unknown[0]!r}, which is no persona attribute")
        for key in self.bank.fact_categories:
            attribute, value = key if isinstance(key, tuple) else (key, None)
            spec = schema.attributes.get(attribute)
            if spec is None or (value is not None and value not in spec.values):
                raise ValueError(f"templates: fact_categories names {'='.join(filter(None, (attribute, value)))!r}, "
                                 "which is no persona attribute" + (" value" if spec else ""))
        self.opener_rate = opener_rate
        self.back_rate = back_rate
        self.closer_rate = closer_rate

    # -- pieces ----------------------------------------------------------------------------
    def interest_pki(self, node: str, polarity: int, level: str | None, explicit: bool) -> PKI:
        """A PKI stating an interest in `node`."""
        return PKI(
            kind="interest", key=node, value=None, polarity=polarity,
            intensity=LEVEL_INTENSITY.get(level or ""), explicit=explicit,
            certainty="clear", intended=None, evidence="", start=-1, end=-1,
        )

    def attribute_pki(self, attribute: str, value: str) -> PKI:
        """A PKI stating an attribute value."""
        return PKI(
            kind="attribute", key=attribute, value=value, polarity=1, intensity=None,
            explicit=True, certainty="clear", intended=None, evidence="", start=-1, end=-1,
        )

    def _slot_pki(self, detail: str, speaker: Mapping[str, object] | None) -> PKI | None:
        """The PKI of a request detail that states a fact about the speaker ("for my teenage son": children =
        teenagers; "for my kids": children, value not said), if it states one the speaker's profile holds."""
        attribute = self.bank.slot_states.get(detail)
        value = speaker.get(attribute) if attribute is not None and speaker is not None else None
        if not isinstance(value, str):
            return None
        pki = self.attribute_pki(attribute, value)  # type: ignore[arg-type]
        if len(self.bank.slot_needs.needs[detail][attribute]) > 1:  # type: ignore[index] - as noise makes vague
            pki.intended, pki.value, pki.certainty = value, None, "vague"
        return pki

    def phrase(self, attribute: str, value: str, d: Draws, news: bool = False, late: bool = False) -> str | None:
        """A first-person phrase stating an attribute value, if the schema has one; with `news`, one telling it
        as new where the schema has such ("we just had a baby"); with `late` too, only one that does not say
        "just" (a session or a year may have gone by since: "we got married", else "I'm married")."""
        attr = self.schema.attributes[attribute]
        told = attr.news.get(value, ()) if news else ()
        if late:
            told = tuple(t for t in told if not _JUST.search(t))
        phrases = told or attr.phrases.get(value)
        return fix_pronoun(d.choice(phrases)) if phrases else None

    def _fill(self, draft: Draft, template: Parsed, fields: dict[str, tuple[str, PKI | None]],
              slots: dict[str, str] | None = None) -> None:
        said = ""
        for literal, name in template:
            draft.plain(literal)
            said += literal
            if name is None:
                continue
            if name in fields:
                text, pki = fields[name]
                if text[:7].lower() == "please " and "please" in said.lower():  # not "Please adjust: please ..."
                    text = text[7:]
                draft.entity(text, pki)
            elif slots is not None and name in slots:
                draft.slot(name, slots[name], self._slot_pki(slots[name], draft.speaker))

    def opener(self, draft: Draft) -> str | None:
        """The opener a session's first request starts with ("Hi again, it's been a few weeks."), if any."""
        first = draft.segments[0] if draft.segments else None
        text = first.text.strip() if first is not None and first.kind == PLAIN else None
        return text if text in self.bank.session_openers else None

    def closer(self, draft: Draft) -> str | None:
        """The closer a request ends with, if any and if more than short thanks ("Looking forward to it!", not
        "Thanks!"): what a later session does not say again (`TemplateBank.short_thanks`)."""
        last = draft.segments[-1] if draft.segments else None
        text = last.text.strip() if last is not None and last.kind == PLAIN and last.aside else None
        return text if text in self.bank.closers and text not in self.bank.short_thanks else None

    def distinctive_sentences(self, text: str) -> list[str]:
        """The sentences of a message that a person would not say twice in one session: those of three words or
        more but short thanks ("I still need an actual answer.", "What advice should I give them?", "Looking
        forward to it!"; not "Okay." nor "Thanks so much!")."""
        return [s for s in _SENTENCE_END.split(text) if s.count(" ") >= 2 and s not in self.bank.short_thanks]

    def request_sentences(self, draft: Draft, clean: str) -> list[str]:
        """The sentences of a request proper, its opener and asides left out: "I'm mentoring someone who's
        interested in virology." and "What advice should I give them?" of "Okay. I'm mentoring someone who's
        interested in virology. What advice should I give them? Thanks!" (what a later session does not ask
        again word for word).  `clean` is the draft's finished text: the request proper's when nothing is left
        out (four requests in ten), which spares joining the segments again."""
        segments = [s for s in draft.segments if not s.aside]
        opener = self.opener(draft) is not None
        if opener or len(segments) < len(draft.segments):
            clean = draft.finished_text(segments[1:] if opener else segments)
        return _SENTENCE_END.split(clean) if clean else []

    # -- intents ---------------------------------------------------------------------------
    def render(self, intent: Intent, d: Draws, opens: int | None = None,
               speaker: Mapping[str, object] | None = None, gap: str | None = None, recent: bool = False,
               late: bool = False, named: bool = False) -> Draft:
        """The draft of one intent; `opens` is the session a request opens (None: mid-session), for its greeting
        and what the draft may point back at (`conversation_so_far`), and `gap` the time since the last session
        (a `TIME_GAPS` label) when it is a later one, for its greeting, for how its news is dated (no "just" after
        more than `JUST_DAYS`) and for what it may point back at; `speaker` the user's attributes (None: unknown),
        so that nothing said presupposes what they lack; `recent`: the intent's topic is an interest the user took
        up during the episode, so that nothing says it is long held (`TemplateBank.long_held`); `late`: a change of
        taste it tells is a session or more old, so that nothing dates it to since the last session (a request's
        late news says so by its reason, late_news); `named`: an earlier message of the conversation named the
        intent's topic, for what the draft may point back at ("Can you do that thing again, the tea thing?")."""
        draft = Draft(speaker=speaker, definite=self.taxonomy.definite, singular=self.taxonomy.singular,
                      history=conversation_so_far(opens, gap, named))
        kind = intent.kind
        tax = self.taxonomy
        bank = self.bank
        topic_name = tax.nodes[intent.topic].name if intent.topic else ""
        draft.intent = kind
        draft.asks = kind == "task_request" or (kind == "feedback" and (intent.polarity or 1) < 0)
        if kind in ("feedback", "goodbye") or (kind == "preference_disclosure" and intent.topic):
            draft.mood = intent.polarity or 1
        if kind == "task_request":
            casual = casual_speaker(speaker)
            back = bank.back_after.get(gap or "") if opens else None
            if back and d.random() < self.back_rate:  # "Hi again, it's been a few weeks."
                draft.plain(d.choice([o for o in back if casual or o not in bank.casual_only] or back) + " ")
                opener = False
            else:
                opener = d.random() < self.opener_rate
            domain = bank.domains[intent.domain]  # type: ignore[index]
            slots = intent.slots
            stated = PREFERENCE_SLOTS.get(intent.attribute or "") if intent.value else None
            if stated in slots:
                slots = {k: v for k, v in slots.items() if k != stated}
            category = tax.paths[intent.topic][0] if intent.topic else None
            liked = intent.polarity == 1
            pool = domain.fitting(category, speaker, liked, tax.kind(intent.topic) if intent.topic else None,
                                  tax.tags[intent.topic] if intent.topic else frozenset(),
                                  intent.topic is not None and not tax.children[intent.topic])
            template = d.choice(bank.not_long_held(pool) if recent else pool)
            # asking about a liked topic implies the liking; "My friend got me hooked on X." says it
            pki = (self.interest_pki(intent.topic, 1, None,  # type: ignore[arg-type]
                                     explicit=template in domain.states_liking) if liked else None)
            slots = bank.template_details(domain, template, slots)
            draft.template = template
            if opener:  # "Question for you:" before a question only
                question = any("?" in literal for literal, _ in template)
                draft.plain(d.choice(bank.opener_pool(opens, question, casual)) + " ")
            self._fill(draft, template, {"topic": (topic_name, pki)}, slots)
            if intent.attribute and intent.value:
                request_end = len(draft.segments)
                connectors = {"life_event": bank.news_connectors, "late_news": bank.late_news_connectors,
                              "restated": bank.restate_connectors}.get(intent.reason or "", bank.connectors)
                long_ago = gap is not None and TIME_GAPS[gap] > JUST_DAYS  # a year on: not "just" either
                self._attach_phrase(draft, connectors, intent.attribute, intent.value, d,
                                    news=intent.reason in NEWS_REASONS,
                                    late=intent.reason == "late_news" or long_ago)
                for seg in draft.segments[request_end:]:
                    seg.aside = True
            if d.random() < self.closer_rate:
                draft.plain(" " + d.choice(bank.closer_pool(casual)), aside=True)
        elif kind == "preference_disclosure" or kind == "clarification_answer":
            impatient = kind == "clarification_answer" and intent.reason == "impatient"
            clarify = bank.clarify_impatient if impatient else bank.clarify
            reason = intent.reason or ""
            if reason == "moved_on" and intent.topic and intent.wrong and \
                    tax.nodes[intent.topic].parent == intent.wrong:
                reason = "narrowed"  # to a child: a narrower taste, not a move away from what it is part of
            news = bank.news_pool(reason, tax.kind(intent.topic) if intent.topic else None) \
                if kind == "preference_disclosure" else None
            if news and late:
                news = tuple(t for t in news if not _SINCE_LAST.search(_said(t))) or news
            if intent.topic and news:  # "These days I'm more into bebop than swing."
                # what they went off is no interest now, liked or disliked: no PKI says either; nor does one say
                # what they are sated with, liked still, less for now
                pki = None if intent.reason in ("gone_off", "had_enough") \
                    else self.interest_pki(intent.topic, intent.polarity or 1, intent.level, True)
                old = tax.nodes[intent.wrong].name if intent.wrong else ""
                draft.contrast = True
                self._fill(draft, d.choice(news), {"item": (topic_name, pki), "old": (old, None)})
            elif intent.topic:
                pki = self.interest_pki(intent.topic, intent.polarity or 1, intent.level, True)
                if kind == "clarification_answer" and (intent.polarity or 1) > 0:
                    template = d.choice(clarify["interest"])  # these read as a choice: likes only
                else:
                    sign = "like" if (intent.polarity or 1) > 0 else "dislike"
                    pool = bank.disclosure_pool(f"{sign}_{intent.level or 'medium'}", tax.kinds[intent.topic])
                    template = d.choice(bank.not_long_held(pool) if recent else pool)
                self._fill(draft, template, {"item": (topic_name, pki)})
            elif intent.attribute and intent.value:
                if kind == "clarification_answer":
                    self._attach_phrase(draft, clarify["attribute"], intent.attribute, intent.value, d)
                else:
                    self._attach_phrase(draft, bank.attribute, intent.attribute, intent.value, d,
                                        about_me=bank.attribute_about_me)
            else:
                self._fill(draft, d.choice(clarify["unknown"]), {})
            if impatient:
                draft.plain(" " + d.choice(bank.impatient))
        elif kind == "feedback":
            sign = "positive" if (intent.polarity or 1) > 0 else "negative"
            pool = f"{sign}_{intent.level or 'medium'}"
            no_fit = sign == "positive" and intent.reason == "missed_style"
            style = sign == "negative" and intent.reason in STYLE_REASONS
            pools = bank.praise_no_fit if no_fit else bank.style_openers if style else bank.feedback
            self._fill(draft, d.choice(pools[pool]), {})
            if intent.reason and not no_fit:
                fields: dict[str, tuple[str, PKI | None]] = {}
                if intent.topic:  # an interest the user has since lost is no dislike: no PKI says it is
                    lost = intent.reason == "no_longer_into"
                    pki = None if lost else self.interest_pki(intent.topic, -1, intent.level, True)
                    fields["item"] = (topic_name, pki)
                if intent.attribute and intent.value:
                    text = self.phrase(intent.attribute, intent.value, d)
                    if text:
                        fields["phrase"] = (text, self.attribute_pki(intent.attribute, intent.value))
                strong = bank.strong_reasons if intent.level == "high" else bank.reasons
                kind_of = tax.kinds[intent.topic] if intent.topic is not None else None
                concern = bank.concern_reasons.get(intent.reason) if kind_of in FOLLOWED_KINDS else None
                template = d.choice((concern and bank.followed(concern, kind_of))
                                    or strong.get(intent.reason) or bank.reasons[intent.reason])
                if all(name is None or name in fields for _, name in template):
                    draft.plain(" ")
                    self._fill(draft, template, fields)
        elif kind == "correction":
            # the correction states what the slip meant, liked or disliked ("keep X far away from me"); of a
            # request's topic, only what the request is about ("Wait, not jazz. Blues."): the liking stays implied
            right = self.interest_pki(intent.topic, intent.polarity or 1, None,  # type: ignore[arg-type]
                                      intent.reason != "request_topic")
            wrong = tax.nodes[intent.wrong].name if intent.wrong else ""
            self._fill(draft, d.choice(bank.corrections),
                       {"right": (topic_name, right), "wrong": (wrong, None)})
        else:
            mood = GOODBYE_MOODS[intent.polarity or 1, intent.level == "low"]
            casual = casual_speaker(speaker)
            prefix = d.choice(bank.goodbye_pool("prefix", mood, casual)) if d.random() < 0.5 else ""
            goodbye = d.choice(bank.goodbye_pool("goodbye", mood, casual))
            said = _said(goodbye).lower()
            if prefix and not bank.says_again(mood, prefix, said):
                draft.plain(prefix + " ")
                said = f"{prefix.lower()} {said}"
            self._fill(draft, goodbye, {})
            if d.random() < 0.5:
                suffixes = bank.goodbye_pool("suffix", mood, casual)
                if speaker:  # no "Back to work for me." from a retiree
                    suffixes = bank.suffix_needs.fitting(suffixes, bank.suffix_needs.excluded(speaker))
                suffix = d.choice(suffixes)
                if not bank.says_again(mood, suffix, said) and not _SIGNS_OFF.search(said):  # nothing after "Bye."
                    draft.plain(" " + suffix, aside=True)
        return draft

    def _attach_phrase(self, draft: Draft, templates: tuple[Parsed, ...], attribute: str, value: str,
                       d: Draws, about_me: tuple[Parsed, ...] = (), news: bool = False, late: bool = False) -> None:
        """One of `templates` with a phrase stating the attribute value (`about_me` instead for a phrase about
        the speaker; `news`: told as new, `late`: a session or more after it happened); nothing if the schema has
        no phrase for it."""
        text = self.phrase(attribute, value, d, news, late)
        if text:
            pool = about_me if about_me and _ABOUT_ME.match(text) else templates
            self._fill(draft, d.choice(pool), {"phrase": (text, self.attribute_pki(attribute, value))})


def _task_domain(name: str, spec: Mapping, taxonomy: Taxonomy) -> TaskDomain:
    """A `TaskDomain` from its entry in the bank, every template named by `not_for` and `needs` checked."""
    texts = tuple(spec["templates"])
    categories = tuple(taxonomy.resolve_path(c) for c in spec["categories"])
    if type(spec.get("destinations", False)) is not bool:
        raise ValueError(f"templates: task_requests.{name}.destinations: expected true or false, "
                         f"got {spec['destinations']!r}")
    for key in ("not_for", "needs", "states", "shapes", "states_liking", "states_no_liking", "kinds_for",
                "not_with_tags_for", "answers_in_for", "about_for", "no_picks"):
        unknown = [t for t in spec.get(key, {}) if t not in texts]
        if unknown:
            raise ValueError(f"templates: task_requests.{name}.{key} names {unknown[0]!r}, "
                             f"which is no template of {name}")
    both = sorted(set(spec.get("states_liking", ())) & set(spec.get("states_no_liking", ())))
    if both:
        raise ValueError(f"templates: task_requests.{name}: {both[0]!r} is in both states_liking and "
                         f"states_no_liking; expected at most one")
    not_for: dict[str, frozenset[str]] = {}
    for text, names in spec.get("not_for", {}).items():
        stray = [c for c in names if c not in spec["categories"]]
        if stray:
            raise ValueError(f"templates: task_requests.{name}.not_for[{text!r}] names {stray[0]!r}; "
                             f"expected one of the domain's categories {spec['categories']}")
        not_for[text] = frozenset(taxonomy.resolve_path(c) for c in names)
    kinds_for: dict[str, frozenset[str]] = {}
    for text, kinds in spec.get("kinds_for", {}).items():
        if not kinds or set(kinds) - set(spec.get("kinds", KINDS)):
            raise ValueError(f"templates: task_requests.{name}.kinds_for[{text!r}]: expected a non-empty list of "
                             f"the domain's kinds {spec.get('kinds', KINDS)}, got {kinds!r}")
        kinds_for[text] = frozenset(kinds)
    shapes = {text: _shape(f"templates: task_requests.{name}.shapes[{text!r}]", shape)
              for text, shape in spec.get("shapes", {}).items()}
    answers_in = _answer_nodes(f"templates: task_requests.{name}.answers_in", spec.get("answers_in", []), taxonomy)
    answers_in_for = {text: _answer_nodes(f"templates: task_requests.{name}.answers_in_for[{text!r}]", nodes, taxonomy)
                      for text, nodes in spec.get("answers_in_for", {}).items()}
    about = _about_tag(f"templates: task_requests.{name}.about", spec.get("about", "like"))
    about_for = {text: _about_tag(f"templates: task_requests.{name}.about_for[{text!r}]", tag)
                 for text, tag in spec.get("about_for", {}).items()}
    not_with_tags = _taxonomy_tags(f"templates: task_requests.{name}.not_with_tags", spec.get("not_with_tags", []))
    not_with_tags_for = {text: _taxonomy_tags(f"templates: task_requests.{name}.not_with_tags_for[{text!r}]", tags)
                         for text, tags in spec.get("not_with_tags_for", {}).items()}
    budget = spec.get("budget_usd")
    if budget is not None and not (isinstance(budget, list) and len(budget) == 2
                                   and all(type(b) is int for b in budget) and 0 <= budget[0] < budget[1]):
        raise ValueError(f"templates: task_requests.{name}.budget_usd: expected [lo, hi], whole numbers with "
                         f"0 <= lo < hi, got {budget!r}")
    needs = Presuppositions(spec.get("needs", {}), spec.get("states"), f"templates: task_requests.{name}.states")
    return TaskDomain(name, categories, texts, not_for, needs,
                      shapes, _topic_kinds(name, spec, taxonomy),
                      (budget[0], budget[1]) if budget else None, tuple(spec.get("states_liking", ())),
                      answers_in, tuple(spec.get("states_no_liking", ())), spec.get("destinations", False), kinds_for,
                      not_with_tags, not_with_tags_for, answers_in_for, about, about_for,
                      tuple(spec.get("no_picks", ())))


#: What a request template asks about (`TaskDomain.about_itself`): its topic itself, things in it, or things
#: like it
ABOUT_TAGS = ("itself", "under", "like")


def _about_tag(where: str, tag: object) -> str:
    """`tag` checked: one of `ABOUT_TAGS` (a misspelt one would silently leave siblings answering)."""
    if tag not in ABOUT_TAGS:
        raise ValueError(f"{where}: expected one of {list(ABOUT_TAGS)} (the topic itself, things in it, or things "
                         f"like it), got {tag!r}")
    return tag  # type: ignore[return-value]


def _answer_nodes(where: str, names: object, taxonomy: Taxonomy) -> tuple[str, ...]:
    """`names` checked and resolved: a list of taxonomy display paths ('Food & Cooking/Ingredients')."""
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{where}: expected a list of taxonomy display paths such as 'Food & Cooking/Ingredients', "
                         f"got {names!r}")
    try:
        return tuple(taxonomy.resolve_path(n) for n in names)
    except TaxonomyError as e:
        raise ValueError(f"{where}: {e}; expected taxonomy display paths such as 'Food & Cooking/Ingredients'") \
            from None


def _check_values(where: str, attribute: str, domains: Mapping[str, Sequence[str]], named: Iterable[str]) -> None:
    """Raise a ValueError if `named` holds a value the persona schema's `attribute` does not have (`domains`:
    attribute -> its values): a misspelt region or climate would silently fit no persona."""
    unknown = sorted(set(named) - set(domains.get(attribute, ())))
    if unknown:
        raise ValueError(f"{where} names the {attribute} {unknown[0]!r}, which the persona schema's {attribute} "
                         f"attribute does not have")


def _taxonomy_tags(where: str, tags: object) -> frozenset[str]:
    """`tags` checked: a list of taxonomy tags (a misspelt one would silently leave its topics in)."""
    if not isinstance(tags, list):
        raise ValueError(f"{where}: expected a list of taxonomy tags, got {tags!r}")
    stray = [t for t in tags if t not in TAGS]
    if stray:
        raise ValueError(f"{where} names {stray[0]!r}{did_you_mean(str(stray[0]), TAGS)}; "
                         f"expected taxonomy tags ({', '.join(sorted(TAGS))})")
    return frozenset(tags)


def _topic_kinds(name: str, spec: Mapping, taxonomy: Taxonomy) -> frozenset[str] | None:
    """The kinds of topic a domain's templates fit (`spec["kinds"]`), each of its categories holding some;
    None (any node) when the domain or the taxonomy names no kinds."""
    listed = spec.get("kinds")
    if listed is None:
        return None
    wrong = [k for k in listed if k not in KINDS]
    if wrong or not listed:
        raise ValueError(f"templates: task_requests.{name}.kinds: expected a non-empty list of {', '.join(KINDS)}, "
                         f"got {listed!r}")
    if not any(taxonomy.kinds.values()):
        return None  # a taxonomy without kinds data: every node is a topic
    kinds = frozenset(listed)
    for category in spec["categories"]:
        if not any(taxonomy.kinds[n] in kinds and not taxonomy.nodes[n].group
                   for n in taxonomy.descendants(taxonomy.resolve_path(category))):
            raise ValueError(f"templates: task_requests.{name}.kinds: {category!r} holds no topic of the kinds "
                             f"{sorted(kinds)}")
    return kinds


def _shape(where: str, spec: object) -> Shape:
    """A `Shape` from its bank entry ``{"layouts": [...], "words": [lo, hi]}`` (either may be left out)."""
    if not isinstance(spec, Mapping) or not spec or set(spec) - {"layouts", "words"}:
        raise ValueError(f"{where}: expected an object with 'layouts' and/or 'words', got {spec!r}")
    layouts, words = spec.get("layouts"), spec.get("words")
    if layouts is not None and (not isinstance(layouts, list) or not layouts or set(layouts) - set(LAYOUTS)):
        raise ValueError(f"{where}.layouts: expected a non-empty list of {', '.join(LAYOUTS)}, got {layouts!r}")
    if words is not None and not (isinstance(words, list) and len(words) == 2
                                  and all(type(w) is int for w in words) and 0 <= words[0] < words[1]):
        raise ValueError(f"{where}.words: expected [lo, hi], whole numbers with 0 <= lo < hi, got {words!r}")
    return Shape(frozenset(layouts) if layouts else None, (words[0], words[1]) if words else None)


def _vague_forms(spec: Mapping[str, list], slot_values: Mapping[str, tuple[str, ...]],
                 needs: Mapping[str, Mapping[str, Mapping[str, list[str]]]]) -> dict[str, dict[str, tuple[str, ...]]]:
    """`vague_slot_values` checked and turned round: slot -> value -> the vague phrases that fit it.

    An entry is a phrase that fits every value of its slot, or ``{"text": phrase, "fits": [values]}``.  An entry
    of a slot whose values need a climate (`slot_fit.needs`: a place) may say what the climates tell
    (`_climate_fits`): ``"climate"`` (a value all of whose climates are among these fits: every tropical place is
    somewhere warm) and ``"not_climate"`` (a value with one of these fits not: no place with a cold winter is);
    ``fits`` then names the values the climates do not tell (temperate Lisbon is warm, temperate Edinburgh not).
    """
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for slot, entries in spec.items():
        if slot not in slot_values:
            raise ValueError(f"templates: vague_slot_values names the slot {slot!r}; expected one of {SLOTS}")
        forms: dict[str, list[str]] = {value: [] for value in slot_values[slot]}
        for entry in entries:
            if isinstance(entry, str):
                text, fits = entry, slot_values[slot]
            elif isinstance(entry, dict) and {"text", "fits"} <= set(entry) <= _VAGUE_ENTRY_KEYS:
                text = entry["text"]
                fits = _climate_fits(f"templates: vague_slot_values.{slot}[{text!r}]", entry,
                                     needs.get(slot, {}), slot_values[slot])
            else:
                raise ValueError(f"templates: vague_slot_values.{slot} has the entry {entry!r}; expected a phrase "
                                 'or {"text": phrase, "fits": [values]} (with "climate" and "not_climate" if '
                                 "the climates tell some)")
            for value in fits:
                if value not in forms:
                    raise ValueError(f"templates: vague_slot_values.{slot}[{text!r}] fits {value!r}, which is no "
                                     f"{slot} slot value")
                forms[value].append(text)
        out[slot] = {value: tuple(texts) for value, texts in forms.items() if texts}
    return out


#: The keys of a vague phrase entry that fits some of its slot's values (`_vague_forms`).
_VAGUE_ENTRY_KEYS = frozenset({"text", "fits", "climate", "not_climate"})


def _climate_fits(where: str, entry: Mapping[str, list[str]], needs: Mapping[str, Mapping[str, list[str]]],
                  values: tuple[str, ...]) -> list[str]:
    """The values a vague phrase entry fits: those its ``climate`` tells (every climate `needs` gives the value is
    among them), then those its ``fits`` names, which must be neither one the climates tell already (said in one
    place only) nor one with a climate of its ``not_climate`` ("somewhere warm" for Oslo)."""
    fitting, ruled_out = entry.get("climate", []), entry.get("not_climate", [])
    for key, climates in (("climate", fitting), ("not_climate", ruled_out)):
        if not isinstance(climates, list) or not all(isinstance(c, str) for c in climates):
            raise ValueError(f"{where}.{key}: expected a list of climates, got {climates!r}")
    both = sorted(set(fitting) & set(ruled_out))
    if both:
        raise ValueError(f"{where} names the climate {both[0]!r} both in climate and in not_climate")
    climates = {value: needs.get(value, {}).get("climate", ()) for value in values}
    told = [value for value in values if climates[value] and set(climates[value]) <= set(fitting)]
    for value in entry["fits"]:
        if value in told:
            raise ValueError(f"{where} fits {value!r}, whose climates {climates[value]} (slot_fit.needs) are all "
                             f"in its climate {fitting}: leave it out of fits")
        clash = sorted(set(climates.get(value, ())) & set(ruled_out))
        if clash:
            raise ValueError(f"{where} fits {value!r}, whose climates {climates[value]} (slot_fit.needs) include "
                             f"{clash[0]!r} of its not_climate {ruled_out}")
    return told + list(entry["fits"])


def _amounts(spec: Mapping[str, int], name: str, slot_values: Mapping[str, tuple[str, ...]]) -> dict[str, int]:
    """`slot_fit.<name>` (quantity: items, budget_usd: dollars) checked: every value of its slot has a whole,
    positive amount (an empty spec gives none)."""
    if not spec:
        return {}
    slot = "quantity" if name == "quantity" else "budget"
    missing = [v for v in slot_values[slot] if v not in spec]
    if missing:
        raise ValueError(f"templates: slot_fit.{name} has no entry for the {slot} slot value {missing[0]!r}")
    for value, amount in spec.items():
        if value not in slot_values[slot]:
            raise ValueError(f"templates: slot_fit.{name} names {value!r}, which is no {slot} slot value")
        if type(amount) is not int or amount <= 0:
            raise ValueError(f"templates: slot_fit.{name}[{value!r}] should be a whole number above 0, got {amount!r}")
    return dict(spec)


def _genres(spec: Mapping[str, list[str]], bank: TemplateBank) -> dict[str, frozenset[Parsed]]:
    """`slot_fit.genres` checked: each names a format slot value and request templates that have a format."""
    out: dict[str, frozenset[Parsed]] = {}
    parsed = {t: p for dom in bank.domains.values() for t, p in zip(dom.texts, dom.templates, strict=True)}
    for value, texts in spec.items():
        if value not in bank.slot_values["format"]:
            raise ValueError(f"templates: slot_fit.genres names {value!r}, which is no format slot value")
        stray = [t for t in texts if t not in parsed or "{format}" not in t]
        if stray:
            raise ValueError(f"templates: slot_fit.genres[{value!r}] names {stray[0]!r}, which is no request "
                             "template with a {format} detail")
        out[value] = frozenset(parsed[t] for t in texts)
    return out


def _time_spans(fit: Mapping, bank: TemplateBank) -> tuple[dict[str, float], dict[Parsed, tuple[float, float]],
                                                             dict[Parsed, frozenset[str]]]:
    """`slot_fit.time_days` (every time detail: about how many days away), `slot_fit.time_spans` (request
    template -> [fewest, most] days of the time detail it takes; every template with a {time} slot has one) and
    `slot_fit.time_not` (request template -> time details within its span it does not take) checked."""
    days, spans, nots = fit.get("time_days", {}), fit.get("time_spans", {}), fit.get("time_not", {})
    if not spans:
        if nots:
            raise ValueError("templates: slot_fit.time_not is given without slot_fit.time_spans")
        return dict(days), {}, {}
    missing = [v for v in bank.slot_values["time"] if v not in days]
    if missing:
        raise ValueError(f"templates: slot_fit.time_days has no entry for the time slot value {missing[0]!r}")
    wrong = [(v, n) for v, n in days.items() if v not in bank.slot_values["time"]
             or type(n) not in (int, float) or n < 0]
    if wrong:
        raise ValueError(f"templates: slot_fit.time_days[{wrong[0][0]!r}] = {wrong[0][1]!r}; expected a time slot "
                         "value and a number of days >= 0")
    parsed = {text: p for dom in bank.domains.values() for text, p in zip(dom.texts, dom.templates, strict=True)}
    out: dict[Parsed, tuple[float, float]] = {}
    for text, span in spans.items():
        if text not in parsed or "{time}" not in text:
            raise ValueError(f"templates: slot_fit.time_spans names {text!r}, which is no request template with "
                             "a {time} slot")
        if not (isinstance(span, list) and len(span) == 2 and all(type(n) in (int, float) for n in span)
                and 0 <= span[0] < span[1]):
            raise ValueError(f"templates: slot_fit.time_spans[{text!r}]: expected [fewest, most] days, "
                             f"0 <= fewest < most, got {span!r}")
        out[parsed[text]] = (span[0], span[1])
    unspanned = [text for text in parsed if "{time}" in text and text not in spans]
    if unspanned:
        raise ValueError(f"templates: the request template {unspanned[0]!r} has a {{time}} slot but no entry in "
                         "slot_fit.time_spans; expected [fewest, most] days of the time detail it takes")
    not_for: dict[Parsed, frozenset[str]] = {}
    for text, values in nots.items():
        if text not in spans:
            raise ValueError(f"templates: slot_fit.time_not names {text!r}, which has no slot_fit.time_spans entry; "
                             "expected a request template with a {time} slot and a span")
        lo, hi = spans[text]
        if not isinstance(values, list) or not values:
            raise ValueError(f"templates: slot_fit.time_not[{text!r}] = {values!r}; expected a non-empty list of "
                             f"time slot values within its span [{lo}, {hi}] days")
        stray = [v for v in values if v not in days or not lo <= days[v] <= hi]
        if stray:
            raise ValueError(f"templates: slot_fit.time_not[{text!r}] names {stray[0]!r}; expected a time slot "
                             f"value within the template's span [{lo}, {hi}] days")
        not_for[parsed[text]] = frozenset(values)
    return dict(days), out, not_for


def _place_fit(spec: Mapping[str, Mapping[str, list[str]]], bank: TemplateBank,
               taxonomy: Taxonomy) -> dict[str, frozenset[str]]:
    """`slot_fit.place_fit` checked and compiled: taxonomy node -> the place details a topic at or under it takes.

    An entry (keyed by a display path) names vague place phrases the detail must be one of (``in``), phrases it must
    not be one of (``not_in``), regions it must be in (``region``, as `slot_fit.needs` gives each place), and
    terrains it must have one of (``terrain``, as `TemplateBank.place_terrain` gives each place: no mountaineering
    "in Kuala Lumpur", no surfing "around Doha").
    """
    if not spec:
        return {}
    places = bank.slot_values[PLACE_SLOT]
    fits: dict[str, set[str]] = {}
    for value, phrases in bank.vague_slot_values.get(PLACE_SLOT, {}).items():
        for phrase in phrases:
            fits.setdefault(phrase, set()).add(value)
    regions = {value: needs.get("region", frozenset()) for value, needs in bank.slot_needs.needs.items()
               if value in places}
    out: dict[str, frozenset[str]] = {}
    for path, need in spec.items():
        where = f"templates: slot_fit.place_fit[{path!r}]"
        if not isinstance(need, Mapping) or not need or set(need) - {"in", "not_in", "region", "terrain"}:
            raise ValueError(f"{where}: expected an object with 'in', 'not_in', 'region' and/or 'terrain', "
                             f"got {need!r}")
        try:
            node = taxonomy.resolve_path(path)
        except TaxonomyError as e:
            raise ValueError(f"{where}: {e}") from None
        allowed = set(places)
        for key in ("in", "not_in"):
            for phrase in need.get(key, ()):
                if phrase not in fits:
                    raise ValueError(f"{where}.{key} names {phrase!r}, which is no vague location phrase; expected "
                                     f"one of {sorted(fits)}")
                allowed = allowed & fits[phrase] if key == "in" else allowed - fits[phrase]
        # the renderer checks region names against the persona schema's
        for key, of_place in (("region", regions), ("terrain", bank.place_terrain)):
            if key not in need:
                continue
            wanted = need[key]
            if not isinstance(wanted, list) or not wanted:
                raise ValueError(f"{where}.{key}: expected a non-empty list of {key}s, got {wanted!r}")
            if key == "terrain":
                _check_terrain(f"{where}.terrain", wanted)
            allowed = {v for v in allowed if not of_place.get(v, frozenset()).isdisjoint(wanted)}
        out[node] = frozenset(allowed)  # none: a request about it names no place
    return out


def _place_terrain(spec: Mapping[str, list[str]], places: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """`slot_fit.place_terrain` checked: place detail -> the terrain within a day trip of it ("near Denver":
    mountains and snow), each a place detail with a non-empty list of terrain names."""
    out: dict[str, frozenset[str]] = {}
    for place, terrain in spec.items():
        if place not in places:
            raise ValueError(f"templates: slot_fit.place_terrain names {place!r}, which is no {PLACE_SLOT} slot value")
        if not isinstance(terrain, list) or not terrain:
            raise ValueError(f"templates: slot_fit.place_terrain[{place!r}]: expected a non-empty list of terrain "
                             f"names, got {terrain!r}")
        _check_terrain(f"templates: slot_fit.place_terrain[{place!r}]", terrain)
        out[place] = frozenset(terrain)
    return out


def _check_terrain(where: str, names: list[object]) -> None:
    """Raise a ValueError naming the first of `names` that is no terrain (`TERRAINS`): a misspelt one would
    silently leave a place without it, or a topic with no place."""
    for name in names:
        if name not in TERRAINS:
            raise ValueError(f"{where} names {name!r}, which is no terrain; expected one of {', '.join(TERRAINS)}")


def _long_held(texts: object, bank: TemplateBank) -> frozenset[Parsed]:
    """`long_held` checked: each names an interest disclosure or a task request template."""
    known = {t for pool in bank.interest.values() for t in pool}
    known.update(t for dom in bank.domains.values() for t in dom.templates)
    if not isinstance(texts, list | tuple):
        raise ValueError(f"templates: long_held: expected a list of templates, got {texts!r}")
    out = frozenset(parse_template(t) for t in texts)
    stray = next((t for t in texts if parse_template(t) not in known), None)
    if stray is not None:
        raise ValueError(f"templates: long_held names {stray!r}, which is no disclosure_interest or task request "
                         "template")
    return out


def _template_kinds(spec: Mapping[str, list[str]], pools: Mapping[str, tuple[Parsed, ...]], section: str,
                    pools_name: str, unfit: bool = False) -> dict[Parsed, frozenset[str]]:
    """Template -> the kinds of node it fits, from the templates' `section` (`unfit`: it lists the kinds each does
    not fit), each template (one of `pools`, the section `pools_name`) and kind checked."""
    templates = {t for pool in pools.values() for t in pool}
    out: dict[Parsed, frozenset[str]] = {}
    for text, kinds in spec.items():
        template = parse_template(text)
        if template not in templates:
            raise ValueError(f"templates: {section} names {text!r}, which is no {pools_name} template")
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown or not kinds:
            raise ValueError(f"templates: {section}[{text!r}]: expected a non-empty list of "
                             f"{', '.join(KINDS)}, got {kinds!r}")
        out[template] = frozenset(KINDS) - frozenset(kinds) if unfit else frozenset(kinds)
    return out


#: An answer that praises the question it answers ("Good question.", "Fair question.", "Good point.").
_PRAISES_QUESTION = re.compile(r"(?i)\b(?:good|fair|great) (?:question|point)")


def _feedback_without(feedback: Mapping[str, list[str]], sign: str, left_out: Iterable[str],
                      section: str) -> dict[str, tuple[Parsed, ...]]:
    """The `sign` ("positive" or "negative") feedback pools without the templates `left_out` names (a pool they
    would empty is kept whole); a name that is no such template is an error naming `section`."""
    pools = {k: v for k, v in feedback.items() if k.startswith(sign)}
    left_out = set(left_out)
    stray = sorted(left_out - {t for v in pools.values() for t in v})
    if stray:
        raise ValueError(f"templates: {section} names {stray[0]!r}, which is no {sign} feedback template")
    return {k: tuple(parse_template(t) for t in v if t not in left_out) or tuple(map(parse_template, v))
            for k, v in pools.items()}


def _said(template: Parsed) -> str:
    """The words of a template without fields (a goodbye)."""
    return "".join(literal for literal, _ in template)


def _goodbye_moves(spec: Mapping[str, Mapping[str, list[str]]],
                   bank: TemplateBank) -> dict[str, tuple[re.Pattern[str], ...]]:
    """Per mood, one pattern per move of `goodbye_moves`; a cue no goodbye, prefix or suffix of its mood says
    is refused by name (it would guard nothing)."""
    out: dict[str, tuple[re.Pattern[str], ...]] = {}
    for mood, moves in spec.items():
        if mood not in bank.goodbyes:
            raise ValueError(
                f"templates: goodbye_moves names the mood {mood!r}; expected one of {sorted(bank.goodbyes)}")
        said = [t.lower() for t in (*bank.goodbye_prefixes[mood], *map(_said, bank.goodbyes[mood]),
                                    *bank.goodbye_suffixes[mood])]
        patterns = []
        for move, cues in moves.items():
            for cue in cues:
                if not any(re.search(rf"\b{re.escape(cue)}\b", t) for t in said):
                    raise ValueError(f"templates: goodbye_moves.{mood}.{move} lists {cue!r}, which no {mood} "
                                     "goodbye, prefix or suffix says")
            patterns.append(re.compile(r"\b(?:" + "|".join(map(re.escape, cues)) + r")\b"))
        out[mood] = tuple(patterns)
    return out


def _repeats(extra: str, said: str) -> bool:
    """Whether a goodbye prefix or suffix says again what the (lowercased) goodbye says.

    Either may hold the other: "Never mind. Bye." + "Bye.", "I give up." + "I give up for today.".
    """
    for piece in _SENTENCE_END.split(extra.lower()):
        core = piece.strip(" .!?,")
        if not core:
            continue
        for sentence in _SENTENCE_END.split(said):
            other = sentence.strip(" .!?,")
            short, long = (core, other) if len(core) <= len(other) else (other, core)
            if short and short in long and re.search(rf"\b{re.escape(short)}\b", long):
                return True
    return False
