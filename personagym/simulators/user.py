"""`UserSimulator`: a persona with a hidden, evolving state that talks.

Each turn the user perceives the assistant's last answer (as
`ResponseFeatures`, from the response analyzer), reacts to it through the
preference process, decides an intent (a task request, a disclosure,
feedback, an answer to a clarifying question, a correction, or goodbye), and
renders it (template renderer, then the noise model).  Every turn carries the
PKIs it actually expresses.  No assistant or env is known here: the API is
`open_session`, `respond`, `next_session`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from personagym.records import (
    Intent,
    Persona,
    PreferenceEvent,
    PreferenceState,
    ResponseFeatures,
    UserTurn,
)
from personagym.rng import Draws
from personagym.shared import SharedOnCopy
from personagym.simulators.draft import SLOT, Draft
from personagym.simulators.noise import NoiseConfig, NoiseModel
from personagym.simulators.persona import PersonaSchema, load_schema
from personagym.simulators.preferences import (
    CAME_WITH,
    DROPPED,
    STYLE_CHECKED,
    TIME_GAPS,
    Assessment,
    PreferenceConfig,
    PreferenceProcess,
    assess,
    initial_state,
    on_request,
    wanted_shape,
)
from personagym.simulators.renderers import NEWS_REASONS, SLOTS, STYLE_REASONS, TaskDomain, TemplateRenderer
from personagym.simulators.taxonomy import area_of
from personagym.suggest import ConfigFloat

#: Persona `domain` values (PPOpt) -> the task domain of the template bank they suggest.
DOMAIN_HINTS: dict[str, str] = {
    "writing": "writing", "coding": "tech_help", "data": "research", "product": "career",
    "design": "hobby", "marketing": "writing", "sales": "career", "career": "career",
    "education": "learning", "finance": "finance", "health": "fitness", "travel": "travel",
    "shopping": "shopping", "food": "cooking", "research": "research", "news": "research",
    "entertainment": "entertainment", "productivity": "planning", "life_admin": "planning",
    "communication": "writing", "bizdev": "career", "ops": "planning", "legal": "advice",
    "customer_support": "writing",
}  # fmt: skip


class UserConfig(BaseModel):
    """How the simulated user behaves in conversation."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    interest_topic_rate: ConfigFloat = Field(0.6, ge=0.0, le=1.0, description="P(request is about a liked topic)")
    domain_hint_rate: ConfigFloat = Field(0.5, ge=0.0, le=1.0, description="P(request domain follows persona)")
    attach_preference_rate: ConfigFloat = Field(0.3, ge=0.0, le=1.0, description="P(request states a preference)")
    slot_rate: ConfigFloat = Field(0.7, ge=0.0, le=1.0, description="P(a template slot is filled)")
    disclose_rate: ConfigFloat = Field(0.35, ge=0.0, le=1.0, description="P(volunteer a preference)")
    end_base: ConfigFloat = Field(0.08, ge=0.0, le=1.0, description="P(goodbye) at the first reply")
    end_per_turn: ConfigFloat = Field(0.04, ge=0.0, le=1.0, description="added P(goodbye) per turn")
    correct_rate: ConfigFloat = Field(0.5, ge=0.0, le=1.0, description="P(correct own slip next turn)")
    news_rate: ConfigFloat = Field(0.8, ge=0.0, le=1.0,
                                   description="P(a request tells what a life event changed, while that is untold)")
    report_rate: ConfigFloat = Field(0.5, ge=0.0, le=1.0, description=(
        "P(a user who left content tried something the last answer recommended and says how it went next session)"))


@dataclass(slots=True)
class _Memory:
    """What the user knows about the conversation so far."""

    disclosed: set[tuple[str, str]] = field(default_factory=set)
    topic: str | None = None
    #: top-level categories of the request being answered (its domain's): one without a topic is about them
    focus: frozenset[str] | None = None
    #: the taxonomy nodes at or under which things are what the request is about (`request_about`): anything
    #: else answers nothing, and a liked thing there earns nothing and no praise ("pet birds" for tips on
    #: retinol)
    about: frozenset[str] | None = None
    #: the request's topic when the topic itself answers it: a leaf asked about itself (`_addresses`)
    itself: str | None = None
    #: the request's neighbourhood (`request_about` not narrowed to its topic): for a request about its topic
    #: itself, the things in its topic's area answer nothing but are no padding either (`_addresses`)
    around: frozenset[str] | None = None
    #: the details the last request could have asked for (`UserSimulator._details`), worked out once by `_request`
    #: for what it names and kept for what a mind change on one of them settles on (`UserSimulator._turn`)
    details: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: what the user's last message asks for: "anything" (a request: an answer or a clarifying question),
    #: "content" (a complaint, a correction, a reply to the assistant's question: an answer now), or None
    #: (a disclosure, praise: taking note is enough)
    awaiting: str | None = "anything"
    #: (meant, said, polarity, stated) of a slip the user may correct; stated: the slip's words said the liking
    #: or dislike (a request's topic only implies it)
    slip: tuple[str, str, int, bool] | None = None
    #: the style attributes the last answer got wrong though the user had said what they want
    ignored: list[str] = field(default_factory=list)
    #: what the last answer let the user down on: "asked" (what they asked for: it answered nothing, a question only
    #: included, repeated a list, offered what they have lost or dislike, broke a constraint, or missed a style
    #: preference they had said), "style" (only a style preference they never said), or None (nothing); see
    #: `UserSimulator._goodbye`
    let_down: str | None = None
    #: an answer has given the user something their last request asked for (a thing on it: a question alone gives
    #: nothing): only a served user leaves content
    served: bool = False
    #: the last answer asked a user who dislikes questions something instead of answering (`_asked_instead`)
    asked_instead: bool = False
    #: the user was about to leave when asked a question before any answer served their request: they answered
    #: it, and leave on their next message (`UserSimulator._decide`)
    leaving: bool = False
    said: set[str] = field(default_factory=set)  # the clean text of every message the user has sent
    #: the openers the user's sessions opened with ("Hey, me again from last week."): a later one opens otherwise
    openers: set[str] = field(default_factory=set)
    #: the sentences of the user's requests (`TemplateRenderer.request_sentences`) and their closers other than
    #: short thanks (`TemplateRenderer.closer`), each with the session it was first said in: a later session says
    #: none of them again word for word
    asked: dict[str, int] = field(default_factory=dict)
    #: sayable facts a life event made true since the last session: the next request may tell them
    news: list[tuple[str, str]] = field(default_factory=list)
    #: the news a whole session has gone by without telling (carried on from an earlier session): told as late
    #: ("I forgot to mention last time: we got married."), not as new since the last session ("Since last time,
    #: we got married." a session after the one the wedding preceded)
    late_news: frozenset[tuple[str, str]] = frozenset()
    #: the interests the user's messages have named, without a slip or vague wording (a request's topic
    #: too): what an assistant can have learnt
    expressed: set[str] = field(default_factory=set)
    #: changes of taste since an earlier session still to tell: (reason, node, the node left) with reason
    #: moved_on (a liked interest drifted to a sibling, "more into bebop than swing", or narrowed to a child),
    #: dislike_moved (a disliked one drifted to a sibling), dislike_narrowed (to a child: only part of it grates
    #: now), dislike_widened (to its parent: all of that grates now), gone_off (a liked interest lost), taken_up
    #: (a new one), tried (something the last session recommended, tried since), had_enough (a liked one the answers
    #: showed so often that the user is still sated with it, `SATED_EXPOSURE`); a drift to a parent widens a
    #: taste, and what was liked is still liked: no news
    tastes: list[tuple[str, str, str | None]] = field(default_factory=list)
    #: the (reason, node) of the changes of taste a whole session has gone by without telling: told as late, not
    #: as new since the last session (no "Since we last talked, I've gotten into X." a session after the one it
    #: preceded), as `late_news` is
    late_tastes: frozenset[tuple[str, str]] = frozenset()
    #: expressed liked interests the user has since moved on from or lost: recommended, "not anymore"
    former: set[str] = field(default_factory=set)
    #: what the last answer recommended, in the order it named them: after a content goodbye, what the user goes
    #: off to try (`to_try`), and may report on in the next session ("Your bebop suggestion last time was spot on.")
    recommended: tuple[str, ...] = ()
    #: the last answer's list: what it recommended past the request's own topic (said back, it is no list: "Try
    #: Chromebooks." to a question about Chromebooks), or with nothing recommended what it named; and whether it is
    #: the list of the answer before, or has the same things on the request as an answer's since the request
    #: (`offered`), though the user had said something since that was no mere call for another style
    #: (`restyle`): "That's the same list as before."  A list only named was never the same ("Steak." twice
    #: earned half a liked thing's credit each time), and the topic said back with a cue was ("Try Chromebooks."
    #: twice cost an oracle 0.07 an episode)
    listed: frozenset[str] = frozenset()
    repeated: bool = False
    #: the lists of the answers since the request, in order: one of them again, on the request, is the same list
    #: too ("What about jazz?" answered A, B, then A again was never "the same list": only the last one counted)
    offered: tuple[frozenset[str], ...] = ()
    #: an interest the user has since lost that the last answer recommends (`_former_offered`), if any
    lost_offered: str | None = None
    #: how many times this session the user has said they are no longer into each lost interest: said
    #: `LOST_TOLD_MAX` times, it goes unsaid (a third "I'm not into pet reptiles anymore." read as a bot's)
    lost_told: dict[str, int] = field(default_factory=dict)
    #: the liked things on request of each answer the user has praised since their last other message (empty:
    #: their last message was no praise): an answer that offers none besides, or one after `PRAISES_IN_A_ROW`
    #: praises, gets no more praise; the user asks the next thing or leaves (`PRAISED_LEAVE_RATE`)
    praised: tuple[frozenset[str], ...] = ()
    #: the liked interests the user has said this session they have had enough of for now (reason had_enough):
    #: no request of theirs is about them for the rest of it ("I'm a bit burnt out on macrame." then "Plan thirty
    #: activities around macrame")
    had_enough: set[str] = field(default_factory=set)
    #: the user's last message asked only for the answer in another style: a complaint about its style, or a style
    #: preference answers are checked on told (`STYLE_CHECKED`); the same items, reworded as asked, are no repeat.
    #: After anything else (a request, an answer, praise, a disclosure, a correction) the same list again is:
    #: repeats were checked only after requests and complaints, and "Perfect!" or "the more examples the better"
    #: followed by the same two picks earned full preference again (27% of the oracle's turns after praise or a
    #: disclosure), and the user praised the repeat
    restyle: bool = False
    #: the request being answered asks for picks (`TaskDomain.asks_picks`: no explainer, draft or tips), so a
    #: liked thing recommended in the answer earns more than one named
    picks: bool = True
    said_repeated: bool = False  # the user's last message said the answer repeated the one before
    #: the time since the last session (a `TIME_GAPS` label; None in the first), for a returning greeting
    gap: str | None = None
    to_try: tuple[str, ...] = ()
    #: what the user has told they tried (reason tried): a second "I gave ziplining a go after we talked." after
    #: the assistant recommended it again read as a bot's
    told_tried: set[str] = field(default_factory=set)
    #: the sentences of the user's messages this session that a person would not say twice in it
    #: (`TemplateRenderer.distinctive_sentences`: "I still need an actual answer." twice, "What advice should I
    #: give them?" in two requests)
    session_sentences: set[str] = field(default_factory=set)

    def copy(self) -> _Memory:
        """A copy whose containers are the copy's own (what a reply adds to them stays out of this one)."""
        return replace(self, disclosed=set(self.disclosed), ignored=list(self.ignored), said=set(self.said),
                       openers=set(self.openers), asked=dict(self.asked),
                       news=list(self.news), expressed=set(self.expressed), tastes=list(self.tastes),
                       former=set(self.former), told_tried=set(self.told_tried),
                       session_sentences=set(self.session_sentences), lost_told=dict(self.lost_told),
                       had_enough=set(self.had_enough))


#: How much satisfaction a list seen already costs, when the user had asked for more than a restyle (two in a row
#: end most sessions unhappily; without it the same complaint looped, up to six times).
REPEAT_PENALTY = 0.2
#: How many times in a session a user says they are no longer into the same lost interest, however often the
#: answers offer it: a person says it once or twice, then says something else (8 of the 9 sentences said twice
#: in a session over 1,500 LongTerm episodes were a third one, the pool of four run out).
LOST_TOLD_MAX = 2
#: How many answers in a row a user praises, if each offers something liked the ones before did not ("Nice one."
#: to betta fish, then "Perfect!" to goldfish); the next, or one that offers nothing new, gets a new request or a
#: goodbye: praise after praise read as a bot's ("That's really helpful, thanks." / "This is the best answer I've
#: gotten all week." / "This is exactly what I was hoping for, thank you!": 82 runs of three or more and 193 of two
#: in 1,500 LongTerm episodes of the tracker).
PRAISES_IN_A_ROW = 2
#: How likely such a user leaves (content, when nothing let them down) rather than asking the next thing.
PRAISED_LEAVE_RATE = 0.5
#: How much satisfaction a question put instead of an answer costs a user who dislikes being asked
#: (`clarification_tolerance`: the attribute was drawn and never acted on; a question cost nothing).
QUESTION_PENALTY = 0.1
#: The exposure to a liked interest (`PreferenceState.exposure`: answers that showed it, less what time away
#: forgot) a new session must still carry for the user to say they have had enough of it for now ("I've had my
#: fill of React.js for now."): its intensity is then at most 0.9 ** 3 (73%) of what it was before the answers.
SATED_EXPOSURE = 3.0
#: The reasons a dislike the user had named that drifted is told by: to a sibling, to a child (narrowed) or to
#: its parent (widened).
DISLIKE_NEWS = frozenset({"dislike_moved", "dislike_narrowed", "dislike_widened"})
#: An answer that answers nothing is "too short" below this many words, else "not an answer".
NOT_AN_ANSWER_WORDS = 20
#: The words an answer needs for the topic it names to answer a request about that topic itself
#: (`_addresses`): "I'd suggest car maintenance." says nothing about it; a terse user's answer has ~16 words.
ITSELF_WORDS = 12
#: The satisfaction at or above which a user is satisfied overall: served, they leave content; not, they say so
#: mildly.
CONTENT_SATISFACTION = 0.5
#: What a user's message of each kind awaits (see `_Memory.awaiting`); positive feedback awaits nothing.
_AWAITING = {"task_request": "anything", "feedback": "content", "correction": "content",
             "clarification_answer": "content"}


def _addresses(features: ResponseFeatures, awaiting: str, echoed: Sequence[str] = (),
               on_request: Callable[[str], bool] | None = None, itself: str | None = None,
               around: Callable[[str], bool] | None = None) -> bool:
    """Whether an answer gives the user what they await: an entity it does not advise against, other than
    the request's topic and its ancestors (`echoed`: "I'd suggest jazz." answers no question about jazz) and
    one `on_request` accepts (None: any), or (to a request) a clarifying question about something (a thing
    or an attribute of the user's: `asked_about`); a question put back to an answer to one's own does not.

    A request about a leaf topic `itself` ("an overview of the Black Death", `_Memory.itself`) has nothing
    under it to answer with, and the things beside it answer nothing asked (the Vikings for the Black Death):
    it is answered by the topic itself, not advised against, in an answer of `ITSELF_WORDS` words or more that
    asks nothing about it: said back in a few words ("I'd suggest car maintenance.") or as a question ("You
    want to get into car maintenance?") it still tells the user nothing.  (An answer that also asks about it,
    "Want more on the Black Death?", is read as asking: the features do not tell a question's mention apart.)

    An answer that recommends more things far from the request than things on it answers nothing: padding, not
    an answer (the overview of the Black Death plus glamping and JavaScript).  Far is outside `around` (the
    request's topic's area and its template's areas; None: nothing is far): the things beside a leaf asked about
    itself answer nothing but are no padding ("Plan activities around soccer", meaning the Champions League, is
    answered by the Champions League, the Premier League and the World Cup).  Without this, the favourites red
    team (the oracle recommending the user's strongest likes whatever was asked) earned 0.88 a Chat-v0 episode
    and 4.33 a LongTerm-v0 one, beyond `generic` and `popular` on LongTerm-v0; with it, -0.12 and -0.06.

    A bare "Can you please specify?" asks about nothing: to "Explain the basic terms in 401(k) plans." it
    gives the user nothing (SmolLM2 trained by GRPO on the reward learned to open every answer with it and
    was paid the user's style preferences; the built-in policies' questions all ask about something).  Nor
    does the request said back as a question ("You want to get into combat sports?", the next thing it
    learned): a question about the request's topic answers it only by asking which kind, or what the user
    likes in it (`asked_which`: "What kind of camping?").
    """
    told = itself is not None and features.word_count >= ITSELF_WORDS and itself not in features.asked_about
    on: set[str] = set()
    off: set[str] = set()
    for m in features.mentions:
        if m.stance == "warn":
            continue
        if (told and m.node == itself) or (m.node not in echoed and (on_request is None or on_request(m.node))):
            on.add(m.node)
        elif m.stance == "recommend" and m.node not in echoed and not (around is None or around(m.node)):
            off.add(m.node)
    if on:
        return len(off) <= len(on)
    return awaiting == "anything" and bool(_asked(features, echoed))


def _asked(features: ResponseFeatures, echoed: Sequence[str]) -> list[str]:
    """What an answer's questions ask about (`asked_about`), less the request's topic and the categories above
    it (`echoed`) said back without asking which kind of them (`asked_which`): "You want to get into combat
    sports?" asks the user nothing."""
    return [asked for asked in features.asked_about if asked not in echoed or asked in features.asked_which]


def request_about(path: Sequence[str], answers: Sequence[str], itself: bool = False) -> frozenset[str]:
    """What a request about the node at `path` (the root first) is about (`on_request`): its topic's area, the
    topic's ancestor at the taxonomy's second level (kettlebell training's workout types: a plan for it is not
    served by body scan meditation, in its category too), and the nodes whose things answer its template's
    requests whatever the topic (`TaskDomain.answers`: a workout plan around via ferrata is answered by kettlebell
    training, what to stock up on for a garden salad by vegetables); one the topic is under adds nothing.

    A request about the topic `itself` (`TaskDomain.about_itself`) is about the topic, not its area: a history
    of jazz is served by bebop, not by hip hop.  A leaf topic, with nothing under it, is answered by itself
    (`_addresses`), not by the things beside it: bounded by its parent, 60% of the answers to Chat-v0's
    requests were served by siblings only, and a reader judged 24 of 30 of them no answer (the Vikings and the
    Crusades for an overview of the Black Death, the Bible for background on the Tao Te Ching).
    """
    bound = path[-1] if itself else area_of(path)
    return frozenset((bound, *(c for c in answers if c not in path)))


def _noise_model(schema: PersonaSchema, config: NoiseConfig | None, renderer: TemplateRenderer) -> NoiseModel:
    """The noise model of a user whose words come from `renderer` (noise swaps its slot values)."""
    bank = renderer.bank
    return NoiseModel(schema, config, slot_values=bank.slot_values, vague_slot_values=bank.vague_slot_values,
                      stated_details=bank.slot_states)


class UserSimulator:
    """A simulated user built on a persona; see the module docstring.

    Args:
        persona: who the user is.
        seed: seeds the user's own random tree (int, SeedSequence or Generator).
        noise: noise config (rate, layer weights, strategies), or a `NoiseModel`
            built from one: it is stateless, so many users may share it.
        preferences: preference-process rates, or a `PreferenceProcess` (stateless too).
        config: conversational behaviour.
        schema: persona schema (the shipped one by default).
    """

    def __init__(
        self,
        persona: Persona,
        *,
        seed: int | np.random.SeedSequence | np.random.Generator | None = None,
        noise: NoiseConfig | NoiseModel | None = None,
        preferences: PreferenceConfig | PreferenceProcess | None = None,
        config: UserConfig | None = None,
        schema: PersonaSchema | None = None,
        renderer: TemplateRenderer | None = None,
    ) -> None:
        self.persona = persona
        self.schema = schema or load_schema()
        self.taxonomy = self.schema.taxonomy
        self.config = config or UserConfig()
        self.renderer = renderer or TemplateRenderer(self.schema)
        self.noise = noise if isinstance(noise, NoiseModel) else _noise_model(self.schema, noise, self.renderer)
        self.process = preferences if isinstance(preferences, PreferenceProcess) \
            else PreferenceProcess(self.schema, preferences)
        gen = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.draws = Draws(gen)
        self.state: PreferenceState = initial_state(persona, self.schema)
        #: the interests the user had when the episode began: any other was taken up during it (a life event
        #: brought it, a new hobby, a drift), and is never told as long held ("I've always enjoyed ...")
        self._first_interests = frozenset(self.state.interests)
        self.events: list[PreferenceEvent] = []
        self.ended = False
        #: whether the user left content (their goodbye's mood): what the efficiency reward reads
        self.left_content = False
        self.last_assessment: Assessment | None = None
        self._memory = _Memory()
        #: what the user knew before a tentative reply (`respond(tentative=True)`), for `take_over` to go back to
        self._before_reply: tuple[_Memory, bool, bool] | None = None
        #: home slot -> the user's own detail of it (`_at_home`: where they live), None where none fits
        self._home: dict[str, str | None] = {}
        self._refresh_facts()

    # -- public API ------------------------------------------------------------------------
    def open_session(self, *, tentative: bool = False) -> UserTurn:
        """The first turn of the current session: a task request (`tentative`: see `respond`)."""
        self.ended = False
        self._memory.topic = None
        # a list the last session ended content with is no repeat here
        self._memory.recommended, self._memory.listed, self._memory.offered = (), frozenset(), ()
        self._memory.session_sentences, self._memory.lost_told, self._memory.had_enough = set(), {}, set()
        self._memory.praised = ()  # a praise that ended a session cut at its turn limit is no run here
        self._keep_before_reply(tentative)
        return self._turn(self._request(), opens=self.state.session)

    @property
    def topic(self) -> str | None:
        """The taxonomy node the request being answered is about (None: it names none)."""
        return self._memory.topic

    @property
    def _echoed(self) -> tuple[str, ...]:
        """The request's topic and the categories above it (none without a topic): said back, they tell the
        user nothing."""
        topic = self._memory.topic
        return self.taxonomy.paths[topic] if topic else ()

    @property
    def focus(self) -> frozenset[str] | None:
        """Top-level categories of the request being answered (its domain's); a request without a topic is about
        all of them (`about`)."""
        return self._memory.focus

    @property
    def about(self) -> frozenset[str] | None:
        """The taxonomy nodes at or under which things are what the request is about (`request_about`): a thing
        elsewhere is off the request (None: nothing is)."""
        return self._memory.about

    @property
    def itself(self) -> str | None:
        """The request's topic when the topic itself answers it (a leaf asked about itself: "an overview of the
        Black Death"), else None."""
        return self._memory.itself

    def take_over(self, text: str, mentions: Sequence[tuple[str, str]], *, asks: bool,
                  stated: Iterable[tuple[str, str]] = (), goodbye: bool = False) -> None:
        """Someone else spoke for the user instead of the tentative reply (a learner in the multi-agent env).

        The reply was never said: what the user knew before it is restored (else its disclosures, news and
        slips counted as made, and "Like I said, ..." followed words nobody heard).  Then what was said
        instead counts: `text` was said, `stated` ((attribute, value) or ("interest", node) facts it states)
        were told.  A message that `asks` something makes the next answer judged on what it asked about:
        the first node it names (`mentions`, (node, stance) pairs; None if none), every category on topic; a
        statement leaves the request being answered as it was, and awaits no answer.  A `goodbye` ends the
        session, content if the answer before it left the user so (as the simulator's own goodbye would).
        """
        if self._before_reply is None:
            raise RuntimeError("take_over() replaces a tentative reply: call respond(tentative=True) or "
                               "open_session(tentative=True) first")
        self._memory, self.ended, self.left_content = self._before_reply
        self._before_reply = None
        mem = self._memory
        mem.said.add(text)
        mem.session_sentences.update(self.renderer.distinctive_sentences(text))
        stated = list(stated)
        for attribute, value in stated:
            mem.disclosed.add((attribute, value))
            if attribute == "interest" and (i := self.state.interests.get(value)) is not None and i.polarity > 0:
                mem.expressed.add(value)
        mem.news = [f for f in mem.news if f not in stated]  # told, if plainly: no news to tell later
        mem.slip = None
        mem.said_repeated = False
        mem.praised = ()  # what was said instead is no praise of the simulator's
        if asks:
            mem.topic = mentions[0][0] if mentions else None
            mem.focus = mem.about = mem.itself = mem.around = None
            mem.picks = True
            mem.offered = ()
            mem.awaiting = "anything"
            mem.served = False
        else:
            mem.awaiting = None
        mem.restyle = not asks and bool(stated) and all(a in STYLE_CHECKED for a, _ in stated)
        if goodbye:
            self.ended = True
            self.left_content = self._goodbye().polarity == 1
            mem.to_try = mem.recommended if self.left_content else ()

    def respond(self, assistant_text: str | None = None,
                features: ResponseFeatures | None = None, *, tentative: bool = False) -> UserTurn:
        """The user's next turn, reacting to the assistant's last answer (its features).

        A `tentative` reply may be replaced by words someone else says for the user (`take_over`): what the
        user knew before replying is kept until then.
        """
        assessment = self._take_in(features)
        self._keep_before_reply(tentative)
        return self._turn(self._decide(features, assessment))

    def _keep_before_reply(self, tentative: bool) -> None:
        self._before_reply = (self._memory.copy(), self.ended, self.left_content) if tentative else None

    def react(self, features: ResponseFeatures) -> Assessment:
        """Take in the assistant's last answer without replying: the session is cut there (its turn limit).

        The preference state reacts as in `respond` (satisfaction, satiation,
        events), but nothing is decided or said: a reply nobody hears would
        still count its disclosures as made.  No draws are made.
        """
        return self._take_in(features)  # type: ignore[return-value] - features given: always assessed

    def _take_in(self, features: ResponseFeatures | None) -> Assessment | None:
        """The turn's perception: the turn count moves on and the state reacts to the answer's features."""
        if self.ended:
            raise RuntimeError("the session has ended (the user said goodbye); call next_session()")
        self.state.turn += 1
        assessment = None
        before = self.state.satisfaction
        mem = self._memory
        mentions, echoed = features.mentions if features else [], self._echoed
        mem.recommended = tuple(dict.fromkeys(m.node for m in mentions if m.stance == "recommend"))
        listed = frozenset(n for n in mem.recommended if n not in echoed) or frozenset(
            m.node for m in mentions if m.stance == "neutral" and m.node not in echoed)
        mem.repeated = bool(listed) and not mem.restyle and (listed == mem.listed or any(
            self._same_on_request(listed, before) for before in {mem.listed, *mem.offered}))
        # what was offered since the request is nothing new again, but for another style (`assess`'s `given`)
        given = frozenset().union(*mem.offered) if mem.offered and not mem.restyle else frozenset()
        mem.listed = listed
        if listed:
            mem.offered = (*mem.offered, listed)
        mem.asked_instead = features is not None and self._asked_instead(features)
        answers, near = self._answers_request(), self._within(mem.around)  # both readings of the answer use them
        if features is not None:
            assessment = assess(self.state, features, self.schema, self._memory.about, self._memory.topic,
                                self._memory.picks, given)
            if self._memory.awaiting is not None and not _addresses(
                    features, self._memory.awaiting, self._echoed, answers, self._memory.itself, near):
                # "Ok.", a refusal, a warning alone, a random name or favourites off the request answer nothing:
                # else it met a terse user's length preference and earned two thirds of the generic policy's
                # reward
                assessment.answered = False
            # known before the user reacts, so that the reaction and the reward read the answer alike: a list seen
            # already pleased the user through what they like in it while the reward counted none of it, and a
            # question put instead of an answer let a user who would rather be answered down while the reward
            # paid its style
            assessment.repeated, assessment.asked_instead = mem.repeated, mem.asked_instead
            self.events += self.process.react(self.state, assessment)
            self.events += self.process.expose(self.state, [n for n, _ in assessment.liked])
        mem.ignored = self._told_and_missed(assessment) if assessment is not None else []
        if mem.repeated:  # a list seen already, when more was asked for, disappoints (else it looped)
            self.events += self.process.disappoint(self.state, REPEAT_PENALTY, "the same list again")
        mem.lost_offered = self._former_offered(features)
        if mem.asked_instead:
            self.events += self.process.disappoint(self.state, QUESTION_PENALTY, "a question instead of an answer")
        # a non-answer lets down too ("Ok." then "Lovely, I'm done for now." earned a content goodbye), and so
        # does what the user has since lost, offered as if still liked
        failed = mem.repeated or mem.asked_instead or bool(mem.ignored) or mem.lost_offered is not None or (
            assessment is not None and (not assessment.answered or bool(assessment.disliked or assessment.violations)))
        mem.let_down = "asked" if failed else "style" if self.state.satisfaction < before else None
        # a question about the request serves nothing yet; a user simulated alone (no answer to read) is as served
        mem.served = mem.served or features is None or _addresses(
            features, "content", self._echoed, answers, self._memory.itself, near)
        self.last_assessment = assessment
        return assessment

    def _same_on_request(self, listed: Collection[str], before: Collection[str]) -> bool:
        """Whether an answer lists the same things on the request (`_answers_request`) as one before, and some:
        what it adds or swaps off the request is nothing new to what was asked (the oracle's answer plus one
        favourite off it, a different one each answer, was never the same list and earned +0.06 an episode over
        the oracle on Chat-v0, +0.22 on LongTerm-v0, in style and content goodbyes)."""
        on = self._answers_request()
        now = {n for n in listed if on is None or on(n)}
        return bool(now) and now == {n for n in before if on is None or on(n)}

    def _asked_instead(self, features: ResponseFeatures) -> bool:
        """Whether an answer asks a user who dislikes questions (`clarification_tolerance`) something and offers
        nothing but what it asks about: "What kind of camping do you like?" instead of some camping trips."""
        if self.state.attributes.get("clarification_tolerance") != "dislikes_questions":
            return False
        asked = _asked(features, self._echoed)
        if not asked:
            return False
        in_questions = set(features.asked_about)
        return not any(m.stance != "warn" and (m.node not in self._echoed or m.node == self._memory.itself)
                       and m.node not in in_questions for m in features.mentions)

    def _answers_request(self) -> Callable[[str], bool] | None:
        """What an entity must be to answer the user: one the request is about (`on_request`); None (anything)
        when no request narrows it.

        "I'd suggest NFTs." to a question about river cruises answers nothing: a red-team policy that named
        one random entity whenever `popular` had nothing to suggest was read as answering, met the user's style
        and left them content, 0.28 a Chat-v0 episode above `popular`.  Nor do the user's favourites off the
        request, nor things in a category the user named this session (both answered once: the tracker earned
        38% of its preference reward and half its praise listing known likes whatever was asked).
        """
        return self._within(self._memory.about)

    def _within(self, bound: frozenset[str] | None) -> Callable[[str], bool] | None:
        """A test of whether an entity is at or under one of the nodes in `bound` (`on_request`); None when nothing
        bounds."""
        if bound is None:
            return None
        paths = self.taxonomy.paths
        return lambda node: on_request(paths[node], bound)

    def _told_and_missed(self, assessment: Assessment) -> list[str]:
        """The style attributes the answer got wrong though the user had said what they want (a request's
        aside, a disclosure, an answer, a complaint): a user who said "keep it short" notices it was ignored."""
        told, attrs = self._memory.disclosed, self.state.attributes
        return [k for k, ok in assessment.style_checks.items() if not ok and (k, attrs.get(k)) in told]

    def next_session(self) -> list[PreferenceEvent]:
        """Move to the next session: time passes and preferences drift and change."""
        day = self.state.day
        events = self.process.next_session(self.state, self.draws, self.events)
        self._memory.gap = next((g for g, days in TIME_GAPS.items() if days == self.state.day - day), None)
        self.events += events
        self._refresh_facts()
        self.ended = False
        self._memory.leaving = False  # a session cut at its turn limit is left there, not at the next one
        changed = set()  # (attribute, value) a life event set: a user tells what is new in their life
        for e in events:
            if e.kind == "life_event" and e.target in self.schema.attributes:
                before = e.before if isinstance(e.before, list) else [e.before]
                after = e.after if isinstance(e.after, list) else [e.after]
                changed.update((e.target, v) for v in after if v not in before)
        # what is new comes first; news a past session never got to tell is still news, while it still holds,
        # told as late
        untold = [f for f in self._memory.news if f not in changed and f in self._attribute_facts]
        self._memory.news = [f for f in self._attribute_facts if f in changed] + untold
        self._memory.late_news = frozenset(untold)
        # a report of what was tried is never late, nor being sated (said of this session's state, or not at all)
        self._memory.tastes = [t for t in self._memory.tastes if t[0] != "had_enough"]
        self._memory.late_tastes = frozenset((reason, node) for reason, node, _ in self._memory.tastes
                                             if reason != "tried")
        self._note_tastes(events)
        self._note_tried()
        self._note_sated()
        return events

    def _note_sated(self) -> None:
        """The liked interest the user is most sated with, if a new session still carries `SATED_EXPOSURE` of it:
        something to say after what changed ("I've had my fill of React.js for now.").  Never of a whole
        category, nor of an interest a drift moved the exposure to (answers showed wellness journaling, not the
        tai chi it became: 10 of 165 in 1,500 LongTerm episodes); the records hold it as the satiation events of
        earlier sessions and the intensity that time away left (recovery events)."""
        exposure, interests, paths = self.state.exposure, self.state.interests, self.taxonomy.paths
        sated = [n for n, x in exposure.items() if x >= SATED_EXPOSURE and len(paths[n]) > 1
                 and n in interests and interests[n].polarity > 0]
        if sated:
            drifted = {e.after for e in self.events if e.kind == "drift"}
            sated = [n for n in sated if n not in drifted]
        if sated:
            self._memory.tastes.append(("had_enough", max(sated, key=exposure.__getitem__), None))

    def _note_tried(self) -> None:
        """After a content goodbye, the user may have tried one of the things last recommended and liked it
        (through an interest above it): something to report, first of what changed.  (One they dislike
        never precedes a content goodbye: the answer naming it let them down.)

        Only in the very next session: a report not told there is dropped, as its words say "last time" and
        "after we talked" (told two sessions on, they named a suggestion the last session never made: 14 of 280
        reports in 600 LongTerm episodes).  Never twice of one thing, and never of a whole category ("the visual
        arts & design suggestion was a great one").  Only of something new to the user: not one of their
        interests, now or at the start, nor a liked thing they had named ("I looked into Europe after last time.
        Really liked what I found." from a user who had opened with "I feel like I've run out of things to explore
        in Europe": 255 of 284 reports in 600 LongTerm episodes of the tracker, which recommends back what it has
        learnt)."""
        mem = self._memory
        mem.tastes = [t for t in mem.tastes if t[0] != "tried"]
        tried, mem.to_try = mem.to_try, ()
        paths, interests = self.taxonomy.paths, self.state.interests
        worth = [n for n in tried if len(paths[n]) > 1 and n not in mem.told_tried
                 and n not in interests and n not in self._first_interests and n not in mem.expressed
                 and (i := self._interest_of(n)) is not None and i.polarity > 0]
        if worth and self.draws.random() < self.config.report_rate:
            mem.tastes.insert(0, ("tried", self.draws.choice(worth), None))

    def _note_tastes(self, events: list[PreferenceEvent]) -> None:
        """Remember the changes of taste between sessions a user would tell: a liked interest they had talked
        about that drifted to a sibling or was lost (else what the assistant learnt turns silently false), and a
        new one.  Interests lost to a new constraint, or that came with a life event, go with its news ("I'm
        vegan now", "we just had a baby")."""
        mem, nodes, interests = self._memory, self.taxonomy.nodes, self.state.interests
        for e in events:
            if e.kind == "drift" and e.before in mem.expressed:
                old, new = str(e.before), str(e.after)
                polarity = interests[new].polarity if new in interests else 0
                sibling = nodes[old].parent == nodes[new].parent
                # a sibling, or a child (a taste narrowed): what was liked is no taste now ("pet birds" earns
                # nothing for one now into African grey parrots); a parent widens it, still liked: no news
                if polarity > 0 and (sibling or nodes[new].parent == old):
                    mem.tastes.append(("moved_on", new, old))
                    mem.former.add(old)
                elif polarity < 0:  # "I can't stand synth-pop" turned false (K-pop grates now, a sibling, or
                    # only electropop, a child) or too narrow (all of pop, the parent: K-pop would still be offered)
                    reason = "dislike_moved" if sibling else \
                        "dislike_narrowed" if nodes[new].parent == old else "dislike_widened"
                    mem.tastes.append((reason, new, old))
            elif e.kind == "life_event" and e.target in nodes:
                # an interest that came with a life event goes with its news ("we just had a baby"), not as a
                # new taste ("I've gotten into newborn care")
                if e.before is None and e.after is not None and not e.cause.startswith(CAME_WITH):
                    mem.tastes.append(("taken_up", e.target, None))
                elif e.after is None and e.target in mem.expressed and not e.cause.startswith(DROPPED):
                    mem.tastes.append(("gone_off", e.target, None))
                    mem.former.add(e.target)
        mem.former -= self.state.interests.keys()  # a taste that came back is no former one

    # -- deciding --------------------------------------------------------------------------
    def _decide(self, features: ResponseFeatures | None, assessment: Assessment | None) -> Intent:
        """What the user does next.

        Whether they leave is drawn first, from their patience, the turn count
        and how satisfied they are, and only then what they would say if they
        stay.  A complaint or a question must not hold a user who is done:
        rewards are summed over turns, so an answer that kept the user talking
        would earn more turns (an oracle that missed an emoji preference on
        purpose scored 9.4 against its own 8.6, and a trailing "Anything
        else?" raised the tracker by 60%).  Only a question put before any
        answer served the request is answered first, as a person asked
        something about what they asked would: the user leaves on their next
        message (48 of 600 tracker Chat-v0 episodes ended right after its
        opening question, unanswered, at -1 each).
        """
        d, cfg, state = self.draws, self.config, self.state
        mem = self._memory
        leaving, mem.leaving = mem.leaving, False
        slip, mem.slip = mem.slip, None  # corrected on the very next message or never: corrections read as immediate
        praised, mem.praised = mem.praised, ()  # a run of praise ends with any other message
        if mem.repeated and mem.said_repeated:  # the same list a third time: they give up ("I give up.")
            return self._goodbye()
        p_end = cfg.end_base + cfg.end_per_turn * state.turn
        if self.state.attributes.get("patience") == "low":
            p_end += 0.05
        if state.satisfaction < 0.3:
            p_end += 0.2
        if leaving or d.random() < p_end:
            if not leaving and not mem.served and features is not None and (
                    features.questions > 0 or features.asked_about):
                mem.leaving = True
                return self._clarification(features)
            return self._goodbye()
        if assessment is not None:
            if assessment.violations:
                return self._complaint(assessment.violated_tags)
            if assessment.disliked:
                node = assessment.disliked[0][0]
                interest = self._interest_of(node)
                level = "high" if interest and interest.intensity >= 0.7 else "medium"
                topic = interest.node if interest else node
                # said now, all of it: no "Quick update: please skip team sports altogether, not only rugby." after
                # "I really don't want team sports." (a moved or narrowed one still has news: the old one is fine)
                mem.tastes = [t for t in mem.tastes if t[:2] != ("dislike_widened", topic)]
                return Intent(kind="feedback", polarity=-1, level=level, reason="disliked_item", topic=topic)
            if (lost := mem.lost_offered) is not None and mem.lost_told.get(lost, 0) < LOST_TOLD_MAX:
                # said now: no news about it later ("I've moved on from swing." after "Not into swing anymore.")
                mem.tastes = [t for t in mem.tastes if lost not in (t[1], t[2])]
                mem.lost_told[lost] = mem.lost_told.get(lost, 0) + 1
                return Intent(kind="feedback", polarity=-1, level="medium", reason="no_longer_into", topic=lost)
            if not assessment.answered:  # "Ok." is too short; 200 words of warnings answer nothing either; the
                # list before again, to a new request, is said as what it is ("That's the same list as last time.")
                short = features is None or features.word_count < NOT_AN_ANSWER_WORDS
                return Intent(kind="feedback", polarity=-1, level="medium",
                              reason="repeated" if mem.repeated else "too_short" if short else "not_answered")
        if slip is not None and d.random() < cfg.correct_rate:
            right, wrong, polarity, stated = slip
            return Intent(kind="correction", topic=right, wrong=wrong, polarity=polarity,
                          reason=None if stated else "request_topic")
        if mem.tastes and d.random() < cfg.news_rate and (news := self._taste_news()) is not None:
            return news  # what changed comes first, as life-event news does
        if features is not None and (features.questions > 0 or features.asked_about):
            return self._clarification(features)
        missed: list[str] = []
        if assessment is not None:
            # what the user had said and the answer ignored is always objected to, never praised past
            # ("Brilliant, this is spot on!" right after a second answer without the emoji asked for)
            if mem.ignored:
                return self._style_complaint(d.choice(mem.ignored))
            if mem.repeated:  # praise for the same list again, after asking for more, read as a bot's
                return Intent(kind="feedback", polarity=-1, level="medium", reason="repeated")
            missed = [k for k, ok in assessment.style_checks.items() if not ok]
            if missed and d.random() < 0.6:
                return self._style_complaint(d.choice(missed))
        # praise only for liked things the request was about: favourites whatever was asked earned "Helpful,
        # appreciate it." (half the tracker's praise followed answers mostly off the request)
        liked = self._liked_on_request(assessment) if assessment is not None else frozenset()
        if liked and d.random() < 0.5:
            if praised and (len(praised) >= PRAISES_IN_A_ROW or liked <= frozenset().union(*praised)):
                # praised already, and nothing new since (or praised enough): a person asks the next thing or
                # leaves, content if nothing let them down
                goodbye = self._goodbye()
                return goodbye if goodbye.polarity == 1 and d.random() < PRAISED_LEAVE_RATE else self._request()
            mem.praised = (*praised, liked)
            level = "high" if state.satisfaction > 0.8 else "medium" if state.satisfaction > 0.5 else "low"
            reason = None
            if missed:  # not how they wanted it, let pass: no "Wonderful, you totally got what I meant."
                level, reason = "low" if level == "low" else "medium", "missed_style"
            return Intent(kind="feedback", polarity=1, level=level, reason=reason)
        if d.random() < cfg.disclose_rate:
            disclosure = self._disclosure()
            if disclosure is not None:
                return disclosure
        return self._request()

    def _former_offered(self, features: ResponseFeatures | None) -> str | None:
        """An interest the user had talked about and has since lost that the answer recommends (or something
        under it), if any: not one still liked through an interest above or below it, nor what the request is
        about."""
        former = self._memory.former
        if not former or features is None:
            return None
        paths, interests, asked = self.taxonomy.paths, self.state.interests, self._echoed
        for m in features.mentions:
            if m.stance == "recommend" and m.node not in asked:
                path = paths[m.node]
                lost = next((a for a in reversed(path) if a in former), None)
                if lost is not None and not any(a in interests for a in path) \
                        and not any(lost in paths[n] for n in interests):
                    return lost
        return None

    def _taste_news(self) -> Intent | None:
        """The first change of taste still to tell that still holds, as a disclosure."""
        mem, interests = self._memory, self.state.interests
        while mem.tastes:
            reason, node, left = mem.tastes.pop(0)
            if reason == "tried":  # still liked (a drift may have taken the interest away since)
                if (interest := self._interest_of(node)) is not None and interest.polarity > 0:
                    mem.told_tried.add(node)
                    return Intent(kind="preference_disclosure", topic=node, polarity=1, reason=reason)
                continue
            if reason == "gone_off" and node not in interests:
                return Intent(kind="preference_disclosure", topic=node, polarity=-1, reason=reason)
            if reason == "had_enough":  # still sated: exposure only grows within a session
                if node in interests and interests[node].polarity > 0:
                    mem.had_enough.add(node)
                    return Intent(kind="preference_disclosure", topic=node, polarity=1, level="low", reason=reason)
                continue
            if reason in DISLIKE_NEWS:  # still disliked; the dislike left is none now, nor one above it, or, widened,
                # it is disliked through the new one
                former = self._interest_of(str(left))
                if node in interests and interests[node].polarity < 0 and (
                        former is interests[node] if reason == "dislike_widened"
                        else former is None or former.polarity > 0):
                    mem.disclosed.add(("interest", node))
                    return Intent(kind="preference_disclosure", topic=node, wrong=left, polarity=-1,
                                  level=self._level(interests[node].intensity), reason=reason)  # type: ignore[arg-type]
                continue
            if reason != "gone_off" and node in interests and interests[node].polarity > 0:
                mem.disclosed.add(("interest", node))
                return Intent(kind="preference_disclosure", topic=node, wrong=left, polarity=1,
                              level=self._level(interests[node].intensity), reason=reason)  # type: ignore[arg-type]
        return None

    def _liked_on_request(self, assessment: Assessment) -> frozenset[str]:
        """The liked things the answer puts forward that the request is about (`on_request`)."""
        about, paths = self._memory.about, self.taxonomy.paths
        return frozenset(node for node, _ in assessment.liked if on_request(paths[node], about))

    def _goodbye(self) -> Intent:
        """Leaving, content or not, as the session went for the user, not only its last answer.

        Content when served (an answer gave them something their last request asked for: "that answers my
        question" right after a clarifying question only was paid +1 efficiency in 1.2% of the tracker's
        episodes), satisfied overall (`CONTENT_SATISFACTION`) and the last answer failed nothing they asked for
        (`_Memory.let_down`: no "Perfect, I'm all set." right after the fault they had just complained about);
        a style they never said, missed at the end, is then said mildly ("Thanks, that'll do, even if it's not
        quite how I like it.").  Else unhappy, said mildly while still satisfied overall ("I'll leave it there
        for now.").  Any let-down of the last answer, a style miss included, had made the goodbye unhappy and
        worded as a failure: 70 of the tracker's 224 unhappy goodbyes on Chat-v0 were at satisfaction 0.6 or more
        ("That's enough for today, I'm frustrated.", -1 efficiency, as for a user never answered).
        """
        mem, satisfied = self._memory, self.state.satisfaction >= CONTENT_SATISFACTION
        content = satisfied and mem.served and mem.let_down != "asked"
        mild = mem.let_down is not None if content else satisfied
        return Intent(kind="goodbye", polarity=1 if content else -1, level="low" if mild else None)

    def _interest_of(self, node: str):
        for ancestor in reversed(self.taxonomy.paths[node]):
            if ancestor in self.state.interests:
                return self.state.interests[ancestor]
        return None

    def _refresh_facts(self) -> None:
        """What the user could disclose and ask about in this session.

        Interests and attributes change only between sessions, so what is
        derived from them for every turn is derived once per session: the
        facts (all, and those about attributes), the request details that
        fit the user's length and format preferences, the task domains they
        ask about (`domain_needs`: no trip from one who cannot travel), the nodes their attributes rule
        out liking (asked about by nobody like them), the liked and disliked
        nodes, and the liked nodes per task domain (filled as domains come up).
        """
        self._facts = self._disclosable_facts()
        self._attribute_facts = [f for f in self._facts if f[0] != "interest"]
        attrs = self.state.attributes
        bank = self.renderer.bank
        self._slot_values = self._at_home(bank.fitting_slot_values(*wanted_shape(attrs), attrs))
        self._domain_names = bank.domain_needs.fitting(bank.domain_names, bank.domain_needs.excluded(attrs))
        #: what the user's attributes rule out liking (`PersonaSchema.unfit_interests`): no request is about it
        self._unfit = self.schema.unfit_interests(attrs)
        self._likes = [n for n, i in self.state.interests.items() if i.polarity > 0]
        self._dislikes = {n for n, i in self.state.interests.items() if i.polarity < 0}
        self._liked: dict[str, list[str]] = {}
        #: the facts a request may attach, per domain and top-level category of its topic (`_fitting_facts`)
        self._request_facts: dict[tuple[str, str | None], list[tuple[str, str]]] = {}

    def _at_home(self, values: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        """`values` (`TemplateBank.fitting_slot_values`) with each home slot's details narrowed to the user's own
        home, kept while it still fits them (a life event may rule it out).  Drawn per request, one user asked
        about things to do "near the Lake District" and, two turns on, "in Santiago" (2 of 9 place details a
        reader met).  The home is the persona's, picked by its id among the details that fit, not drawn: the
        same persona lives in the same place in every episode.  A domain with `destinations` still asks about
        places anywhere (`TemplateBank.request_slot_values`)."""
        homes = self.renderer.bank.home_slots
        if not homes:
            return values
        out = dict(values)
        for slot in sorted(homes):
            options = values[slot]
            home = self._home.get(slot)
            if home not in options:
                pick = zlib.crc32(f"{self.persona.persona_id}/{slot}".encode())
                home = self._home[slot] = options[pick % len(options)] if options else None
            out[slot] = (home,) if home is not None else ()
        return out

    def _disclosable_facts(self) -> list[tuple[str, str]]:
        facts = [("interest", n) for n in self.state.interests]
        phrased = self.schema.phrased
        for name, value in self.state.attributes.items():
            values = phrased.get(name)
            if not values:
                continue
            if isinstance(value, list):
                facts.extend((name, v) for v in value if v in values)
            elif value in values:
                facts.append((name, value))
        return facts

    def _level(self, intensity: float) -> str:
        return "high" if intensity >= 0.7 else "medium" if intensity >= 0.45 else "low"

    def _fact_intent(self, kind: str, fact: tuple[str, str]) -> Intent:
        self._memory.disclosed.add(fact)
        if fact[0] == "interest":
            interest = self.state.interests[fact[1]]
            return Intent(kind=kind, topic=fact[1], polarity=interest.polarity,  # type: ignore[arg-type]
                          level=self._level(interest.intensity))  # type: ignore[arg-type]
        return Intent(kind=kind, attribute=fact[0], value=fact[1])  # type: ignore[arg-type]

    def _disclosure(self) -> Intent | None:
        fresh = [f for f in self._facts if f not in self._memory.disclosed
                 and (f[0] != "interest" or f[1] in self.state.interests)]
        if not fresh:
            return None
        if self.state.restate_level > 0:
            constraints = [f for f in fresh if f[0] != "interest"
                           and self.schema.attributes[f[0]].role == "constraint"]
            fresh = constraints or fresh
        return self._fact_intent("preference_disclosure", self.draws.choice(fresh))

    def _clarification(self, features: ResponseFeatures) -> Intent:
        """The answer to the assistant's question: what the user knows about what was asked.

        Its value of an asked attribute (one of them, for a multi-valued one
        such as food allergies), or an interest under or above an asked
        category.  Asked about attributes it has no value for, the user names
        one of its constraints not said yet (asked about diet, a user with a
        nut allergy says so) or has no preference; only a question about
        nothing in particular ("Anything else?") gets any fact not said yet.  The request's topic said back
        ("You want to get into combat sports?") is not asked about (see `_addresses`).  A user who dislikes
        being asked answers impatiently (reason ``impatient``: "Vegan. Can you just answer now?").
        """
        intent = self._answer_to(features)
        if self._memory.asked_instead:  # "Vegan. Can you just answer now?"
            intent.reason = "impatient"
        return intent

    def _answer_to(self, features: ResponseFeatures) -> Intent:
        """`_clarification`'s intent, before the user's patience with being asked is read."""
        d = self.draws
        attributes = self.schema.attributes
        asked_attributes = False
        for asked in _asked(features, self._echoed):
            if asked in attributes:
                asked_attributes = True
                value = self.state.attributes.get(asked)
                phrases = attributes[asked].phrases
                if isinstance(value, str) and phrases.get(value):
                    return self._fact_intent("clarification_answer", (asked, value))
                if isinstance(value, list) and (phrased := [v for v in value if phrases.get(v)]):
                    return self._fact_intent("clarification_answer", (asked, d.choice(phrased)))
            elif asked in self.taxonomy:
                known = [n for n in self.state.interests
                         if self.taxonomy.is_ancestor(asked, n) or self.taxonomy.is_ancestor(n, asked)]
                if known:
                    return self._fact_intent("clarification_answer", ("interest", d.choice(known)))
        fresh = [f for f in self._facts if f not in self._memory.disclosed
                 and (f[0] != "interest" or f[1] in self.state.interests)]
        if asked_attributes:
            fresh = [f for f in fresh if f[0] != "interest" and attributes[f[0]].role == "constraint"]
        if fresh and d.random() < 0.8:
            return self._fact_intent("clarification_answer", d.choice(fresh))
        return Intent(kind="clarification_answer")

    def _complaint(self, violated_tags: set[str]) -> Intent:
        """Object to a violation by restating a constraint that forbids what was offered (none sayable: just object)."""
        attributes = self.schema.attributes
        facts = [(a, v) for a, v in self._attribute_facts
                 if not attributes[a].forbids.get(v, frozenset()).isdisjoint(violated_tags)]
        if not facts:
            return Intent(kind="feedback", polarity=-1, level="high")
        fact = self.draws.choice(facts)
        told = fact in self._memory.disclosed  # "I already told you: I'm vegan."
        self._memory.disclosed.add(fact)
        return Intent(kind="feedback", polarity=-1, level="high",
                      reason="violated_again" if told else "constraint_violation", attribute=fact[0], value=fact[1])

    def _style_complaint(self, attribute: str) -> Intent:
        value = self.state.attributes.get(attribute)
        reason = {"length_pref": "too_long", "format_pref_primary": "wrong_format",
                  "formality_level": "wrong_tone"}.get(attribute, "ignored_preference")
        if attribute == "length_pref" and value in ("detailed", "exhaustive"):
            reason = "too_short"
        if isinstance(value, str) and self.schema.attributes[attribute].phrases.get(value):
            told = (attribute, value) in self._memory.disclosed  # "Like I said, keep it short."
            self._memory.disclosed.add((attribute, value))
            return Intent(kind="feedback", polarity=-1, level="high" if told else "medium",
                          reason="ignored_again" if told else "ignored_preference", attribute=attribute, value=value)
        return Intent(kind="feedback", polarity=-1, level="medium", reason=reason)

    def _request(self) -> Intent:
        """A new task request; a slip not corrected by now is let go (the conversation has moved on).

        Its topic is a liked one, or another the user could like: nothing their constraints forbid, preferably
        nothing under a dislike, and never what the rules on interests rule out for someone like them
        (`PersonaSchema.unfit_interests`: "long-distance grandparenting" from a twenty-year-old, toddler
        tantrums from a user without children read as someone else's question), nor anything the domain's
        templates do not fit (`TaskDomain.not_with_tags`: no job "in" algebra), nor what they said this session they
        have had enough of (`_Memory.had_enough`).  A place it names fits the
        topic where the bank can tell (`TemplateBank.places_for`: no skiing somewhere warm).
        """
        d, cfg = self.draws, self.config
        self._memory.slip = None
        bank = self.renderer.bank
        tax = self.taxonomy
        hint = DOMAIN_HINTS.get(str(self.state.attributes.get("domain")))
        names = self._domain_names  # the domains this user asks about at all
        news = self._memory.news
        tell = bool(news) and d.random() < cfg.news_rate
        if tell and news[0][0] in bank.fact_domains:  # the news goes with a request it bears on
            names = [n for n in names if n in bank.fact_domains[news[0][0]]] or names
            hint = None
        domain_name = hint if hint in names and d.random() < cfg.domain_hint_rate else d.choice(names)
        domain = bank.domains[domain_name]
        liked = self._liked.get(domain_name)
        kinds, unfit_tags = domain.topic_kinds, domain.not_with_tags
        if liked is None:
            categories, kind, tags = domain.categories, tax.kinds, tax.tags
            liked = self._liked[domain_name] = [
                n for n in self._likes if tax.paths[n][0] in categories and (kinds is None or kind[n] in kinds)
                and tags[n].isdisjoint(unfit_tags)  # no deals on the pandas library, no job "in" algebra
                and tax.nodes[n].depth > 1]  # a whole category is no topic ("my pets & animals setup")
        if sated := self._memory.had_enough:  # said this session to have had enough of: not asked about now
            liked = [n for n in liked if sated.isdisjoint(tax.paths[n])]
        topic, polarity = None, None
        if liked and d.random() < cfg.interest_topic_rate:
            topic, polarity = d.choice(liked), 1
        else:
            topic = self._unliked_topic(domain, d)
            if topic is None:  # every category of the domain is one the user dislikes as a whole
                domain_name = d.choice([n for n in names if self._open_categories(bank.domains[n])] or names)
                domain = bank.domains[domain_name]
                topic = self._unliked_topic(domain, d)
        slots = {}
        slot_values = self._details(domain_name, topic)
        rand, slot_rate = d.random, cfg.slot_rate
        for name in SLOTS:
            if rand() < slot_rate:
                values = slot_values[name]
                if values:  # no place of the user's region: the request names none
                    slots[name] = values[int(rand() * len(values))]  # d.choice(values), inlined
        attribute = value = reason = None
        rate = cfg.attach_preference_rate * (1 + self.state.restate_level)
        if self.state.attributes.get("feedback_explicitness") == "explicit":
            rate *= 1.5
        if tell:  # news not told yet waits for a later request: "I quit drinking" must not get lost
            (attribute, value), self._memory.news = news[0], news[1:]
            # said as news ("Quick update on my end: ..."), not as if always so; as late news ("I forgot to
            # mention last time: ...") once a session has gone by without it
            reason = "late_news" if (attribute, value) in self._memory.late_news else "life_event"
            self._memory.disclosed.add((attribute, value))
        elif d.random() < rate:
            where = (domain_name, tax.paths[topic][0] if topic else None)
            facts = self._request_facts.get(where)  # type: ignore[assignment]
            if facts is None:  # no "I don't drink alcohol" tacked onto a TypeScript question
                facts = self._request_facts[where] = self._fitting_facts(*where)
            told = self._memory.disclosed
            if facts and not self.state.restate_level:  # nothing has gone wrong: no reason to say a fact again
                facts = [f for f in facts if f not in told]
            if facts:
                attribute, value = d.choice(facts)
                if (attribute, value) in told:
                    reason = "restated"  # "As I said, ...", not "Small thing: ..." a second time
                told.add((attribute, value))
        self._memory.topic, self._memory.details = topic, slot_values
        self._memory.focus = frozenset(domain.categories)
        self._memory.about = None if topic else self._memory.focus  # with a topic, its template's (`_turn`)
        self._memory.around = self._memory.about
        self._memory.itself = None
        return Intent(kind="task_request", domain=domain_name, topic=topic, polarity=polarity,
                      slots=slots, attribute=attribute, value=value, reason=reason)

    def _fitting_facts(self, domain: str, category: str | None) -> list[tuple[str, str]]:
        """The user's facts a request in `domain` about a topic under the top-level `category` may attach (None:
        a request without a topic, under any of the domain's categories): those whose attribute bears on the
        domain (`TemplateBank.fact_domains`) and on the category (`TemplateBank.fact_categories`, by value where
        the values differ: "no pork" bears on food, "no gambling" on Las Vegas).  "What are common beginner
        mistakes in card games? Just a heads-up: I'm a homeowner." had only the domain to go by."""
        bank = self.renderer.bank
        domains, categories = bank.fact_domains, bank.fact_categories
        around = frozenset((category,)) if category else frozenset(bank.domains[domain].categories)
        facts = []
        for fact in self._attribute_facts:
            attribute = fact[0]
            if attribute in domains and domain not in domains[attribute]:
                continue
            bears = categories.get(fact) or categories.get(attribute)
            if bears is None or not bears.isdisjoint(around):
                facts.append(fact)
        return facts

    def _details(self, domain: str, topic: str | None) -> Mapping[str, tuple[str, ...]]:
        """The details this user may ask for in a request in `domain` about `topic`
        (`TemplateBank.request_slot_values`: a place of their region and climate that fits the topic, a budget in
        the domain's range): what the request names, and what a mind change on one of them settles on (those its
        template takes: `TemplateBank.template_slot_values`)."""
        bank = self.renderer.bank
        tags = self.taxonomy.nodes[topic].tags if topic else frozenset()
        return bank.request_slot_values(self._slot_values, bank.domains[domain], tags, topic)

    def _unliked_topic(self, domain: TaskDomain, d: Draws) -> str | None:
        """A request topic of `domain` that is none of the user's likes: nothing their constraints forbid, nothing
        their attributes rule out liking (no toddler tantrums from a user without children), nothing they said
        this session they have had enough of, nothing they have moved on from or lost (`_Memory.former`: "These
        days I'm more into true crime podcasts than true crime books." and then "Write a fun explainer on true crime
        books"), and nothing under a dislike; None if every category of the domain is one the user dislikes as a
        whole.

        Four draws from the domain's categories first; where all four fall under a dislike, one from the
        categories the user does not dislike as a whole, away from every dislike: a user who dislikes business &
        finance asked "What does all that mean for regular people?" of investing (1 in 11,343 LongTerm requests,
        a finance request from such a user drawing four times from its one category).
        """
        tax = self.taxonomy
        paths, disliked, kinds = tax.paths, self._dislikes, domain.topic_kinds
        forbidden = frozenset(self.state.forbidden_tags) | domain.not_with_tags  # no job "in" algebra
        unfit = self._unfit | self._memory.had_enough | self._memory.former
        topic = None
        for _ in range(4):
            topic = tax.sample_anchor(d, under=d.choice(domain.categories), exclude_tags=forbidden, kinds=kinds,
                                      exclude_under=unfit)
            if topic and disliked.isdisjoint(paths[topic]):  # not under a disliked node
                return topic
        categories = self._open_categories(domain)
        if not categories:
            return None
        return tax.sample_anchor(d, under=d.choice(categories), exclude_tags=forbidden, kinds=kinds,
                                 exclude_under=unfit | disliked) or topic

    def _open_categories(self, domain: TaskDomain) -> list[str]:
        """The categories of `domain` the user does not dislike as a whole."""
        return [c for c in domain.categories if c not in self._dislikes]

    # -- rendering -------------------------------------------------------------------------
    def _asked(self, draft: Draft, clean: str) -> list[str]:
        """What a request says that a later session does not say again word for word (`_Memory.asked`): its
        sentences proper, and its closer unless that is short thanks; `clean` is the draft's finished text."""
        closer = self.renderer.closer(draft)
        return [*self.renderer.request_sentences(draft, clean), *([closer] if closer else [])]

    def _turn(self, intent: Intent, opens: int | None = None) -> UserTurn:
        d = self.draws
        gap = self._memory.gap  # the session's, said in its greeting and dating news told later in it too
        topic = intent.topic
        recent = topic is not None and topic not in self._first_interests and topic in self.state.interests
        late = intent.kind == "preference_disclosure" and (intent.reason, topic) in self._memory.late_tastes
        named = topic is not None and topic in self._memory.expressed  # "that thing again, the tea thing" of it
        draft = self.renderer.render(intent, d, opens, self.state.attributes, gap, recent, late, named)
        clean, _ = draft.finish()
        openers, asked, session = self._memory.openers, self._memory.asked, self.state.session
        in_session, distinctive = self._memory.session_sentences, self.renderer.distinctive_sentences
        request = intent.kind == "task_request"
        # not the very words of an earlier message ("Nice one." twice reads as a bot), nor a sentence said already
        # this session ("I still need an actual answer." after "That misses the mark. I still need an actual
        # answer.", a second "What advice should I give them?": 151 in 1,500 LongTerm episodes), nor a session
        # opened as an earlier one was ("Hello again, it's been a while." a month on and again a month later: 55
        # of 600 LongTerm episodes), nor a request that asks what an earlier session asked in the same words ("What
        # advice should I give them?" a week apart: 56 sentences in 1,500 LongTerm episodes), nor closes one as an
        # earlier session did, but for short thanks ("Looking forward to it!" a week apart: 26)
        for _ in range(20):
            sentences = self._asked(draft, clean) if request else []
            spoken = distinctive(clean)
            if clean not in self._memory.said and (opens is None or self.renderer.opener(draft) not in openers) \
                    and all(asked.get(s, session) == session for s in sentences) and in_session.isdisjoint(spoken):
                break
            draft = self.renderer.render(intent, d, opens, self.state.attributes, gap, recent, late, named)
            clean, _ = draft.finish()
        else:
            sentences = self._asked(draft, clean) if request else []
            spoken = distinctive(clean)
        self._memory.said.add(clean)
        in_session.update(spoken)
        for sentence in sentences:
            asked.setdefault(sentence, session)
        if opens is not None and (opener := self.renderer.opener(draft)) is not None:
            openers.add(opener)
        if intent.attribute is not None and intent.reason not in NEWS_REASONS:
            # a fact said plainly (a disclosure, an answer, a request's aside) is no news to tell later: "I live
            # in a big city." then "FYI, this is new: I just moved to a big city." told it twice
            self._memory.news = [f for f in self._memory.news if f != (intent.attribute, intent.value)]
        if request:
            self._memory.served, self._memory.offered, self._memory.picks = False, (), True
        if request and topic is not None and intent.domain is not None:  # what answers it depends on its template
            domain = self.renderer.bank.domains[intent.domain]
            leaf = not self.taxonomy.children[topic]
            itself = domain.about_itself(draft.template, leaf)
            path, answers = self.taxonomy.paths[topic], domain.answers(draft.template)
            self._memory.about = request_about(path, answers, itself)
            self._memory.picks = domain.asks_picks(draft.template)
            self._memory.around = request_about(path, answers) if itself else self._memory.about
            self._memory.itself = topic if itself and leaf else None
        if intent.slots:  # keep the details the chosen template states: the intent records what was asked
            said = {s.slot for s in draft.segments if s.kind == SLOT}
            if len(said) < len(intent.slots):
                intent.slots = {k: v for k, v in intent.slots.items() if k in said}
        if intent.slots and draft.template is not None and intent.domain is not None:
            # a mind change on a detail settles on one the user could have asked for (the request's, from
            # `_request`: the only maker of task requests), and the template takes
            bank = self.renderer.bank
            draft.details = bank.template_slot_values(bank.domains[intent.domain], draft.template,
                                                      self._memory.details, intent.slots)
        layer, strategies = self.noise.apply(draft, d)
        text, pkis = draft.finish() if layer != "none" else (clean, [p for p in draft.pkis if p.start >= 0])
        for pki in pkis:
            if pki.certainty == "mistaken" and pki.intended:
                self._memory.slip = (pki.intended, pki.key, pki.polarity, pki.explicit)
            elif pki.kind == "interest" and pki.certainty == "clear":
                self._memory.expressed.add(pki.key)
        if intent.kind == "goodbye":
            self.ended = True
            self.left_content = intent.polarity == 1
            self._memory.to_try = self._memory.recommended if self.left_content else ()
        praise = intent.kind == "feedback" and intent.polarity == 1
        self._memory.said_repeated = intent.reason == "repeated"
        self._memory.restyle = (intent.kind == "feedback" and intent.polarity == -1 and intent.reason in STYLE_REASONS
                                ) or (intent.attribute in STYLE_CHECKED and intent.kind != "task_request")
        self._memory.awaiting = None if praise else _AWAITING.get(intent.kind)
        # one validation builds the nested noise record too (faster than building it first)
        return UserTurn.model_validate({
            "session": self.state.session, "turn": self.state.turn, "intent": intent, "text": text,
            "clean_text": clean, "noise": {"layer": layer, "strategies": strategies, "clean": clean, "noisy": text},
            "pkis": pkis, "rendered_by": self.renderer.name,
        })


class UserFactory(SharedOnCopy):
    """Makes the users of an env, one per episode, sharing their stateless parts.

    A user's `NoiseModel` and `PreferenceProcess` depend only on the configs;
    building them for every user was ~30 µs of each reset.  They are built
    again when a config object changes (a reset option can replace the noise
    config).
    """

    def __init__(self, schema: PersonaSchema, renderer: TemplateRenderer) -> None:
        self.schema = schema
        self.renderer = renderer
        self._noise: tuple[NoiseConfig | None, NoiseModel] | None = None
        self._process: tuple[PreferenceConfig | None, PreferenceProcess] | None = None

    def __call__(self, persona: Persona, *, seed: np.random.Generator, noise: NoiseConfig | None,
                 preferences: PreferenceConfig | None, config: UserConfig | None) -> UserSimulator:
        """A new user of `persona`, drawing from `seed`, with these configs."""
        if self._noise is None or self._noise[0] is not noise:
            self._noise = noise, _noise_model(self.schema, noise, self.renderer)
        if self._process is None or self._process[0] is not preferences:
            self._process = preferences, PreferenceProcess(self.schema, preferences)
        return UserSimulator(persona, seed=seed, noise=self._noise[1], preferences=self._process[1],
                             config=config, schema=self.schema, renderer=self.renderer)
