"""The user simulator: determinism, diversity, PKIs, reactions to the assistant."""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterator

import pytest

from personagym.records import Interest, MentionFeature, Persona, ResponseFeatures, UserTurn
from personagym.simulators.draft import SLOT
from personagym.simulators.life_events import LIFE_EVENTS
from personagym.simulators.noise import NoiseConfig
from personagym.simulators.persona import PersonaSchema
from personagym.simulators.preferences import (
    FORMALITY_TARGET,
    LENGTH_RANGES,
    LIST_FORMATS,
    NAMED_CREDIT,
    on_request,
)
from personagym.simulators.renderers import TemplateBank, TemplateRenderer, parse_template
from personagym.simulators.sampler import PersonaSampler
from personagym.simulators.simulate import simulate_turns
from personagym.simulators.taxonomy import area_of
from personagym.simulators.user import ITSELF_WORDS, QUESTION_PENALTY, REPEAT_PENALTY, UserSimulator, request_about


def _texts(n: int, seed: int, **kw) -> list[str]:
    return [t.text for _, t in simulate_turns(n, seed, **kw)]


def test_same_seed_same_turns_different_seed_different() -> None:
    a = [t.model_dump_json() for _, t in simulate_turns(300, 11)]
    b = [t.model_dump_json() for _, t in simulate_turns(300, 11)]
    assert a == b
    assert _texts(300, 12) != _texts(300, 11)


def test_ten_thousand_utterances_are_diverse() -> None:
    texts = _texts(10_000, 0)
    assert len(set(texts)) / len(texts) >= 0.9


def test_every_turn_carries_valid_pkis(schema: PersonaSchema) -> None:
    kinds = set()
    n_pkis = 0
    for persona, turn in simulate_turns(3000, 3):
        kinds.add(turn.intent.kind)
        assert turn.noise.clean == turn.clean_text and turn.noise.noisy == turn.text
        if turn.noise.layer == "none":
            assert turn.text == turn.clean_text
        for pki in turn.pkis:
            n_pkis += 1
            assert turn.text[pki.start:pki.end] == pki.evidence
            if pki.kind == "attribute" and pki.certainty == "clear":
                truth = persona.attributes.get(pki.key)
                assert pki.value == truth or (isinstance(truth, list) and pki.value in truth) \
                    or turn.session > 0  # life events may have changed it since
    assert {"task_request", "preference_disclosure", "goodbye"} <= kinds
    assert n_pkis > 1000


def test_a_requests_slots_are_the_details_its_clean_text_states() -> None:
    requests = [t for _, t in simulate_turns(2000, seed=5) if t.intent.kind == "task_request"]
    stated = [(v, t) for t in requests for v in t.intent.slots.values()]
    assert len(stated) > 100  # most templates have room for a detail or two
    for value, turn in stated:
        assert value.lower() in turn.clean_text.lower(), (value, turn.clean_text)
    # the noise may drop a stated detail from the message: the clean text keeps it
    assert any(v.lower() not in t.text.lower() for v, t in stated if t.noise.layer != "none")


def test_clean_mode_has_no_noise() -> None:
    for _, turn in simulate_turns(500, 4, noise=NoiseConfig(rate=0.0)):
        assert turn.noise.layer == "none" and turn.text == turn.clean_text


def _session(user: UserSimulator, opener: UserTurn, messages: int) -> list[UserTurn]:
    """`opener` and the user's replies after it: `messages` messages at most, fewer if the user leaves."""
    turns = [opener]
    while len(turns) < messages and not user.ended:
        turns.append(user.respond())
    return turns


def _persona_with(schema: PersonaSchema, predicate) -> Persona:
    sampler = PersonaSampler(schema)
    # a rare pair (over sixty and working full time: the first is seed 507) is looked for past the first 500
    return next(p for i in range(2000) if predicate(p := sampler.sample(i)))


def _vegan_offered_steak(schema: PersonaSchema, taxonomy) -> tuple[Persona, ResponseFeatures]:
    """A vegan user, and a 60-word answer that recommends steak."""
    persona = _persona_with(schema, lambda p: p.attributes.get("diet") == "vegan")
    steak = next(n for n in taxonomy.ids if "beef" in taxonomy.nodes[n].tags)
    return persona, ResponseFeatures(word_count=60, mentions=[MentionFeature(node=steak, stance="recommend")])


def _on_the_request(user: UserSimulator, candidates) -> list[str]:
    """Those of `candidates` the request being answered is about (`on_request`), past what it names itself (the
    user's own words answer nothing)."""
    paths = user.taxonomy.paths
    return [n for n in candidates if on_request(paths[n], user.about) and n not in paths.get(user.topic or "", ())]


def _plain_on_the_request(user: UserSimulator) -> str | None:
    """Something untagged the request is about that is none of the user's interests, nor under or above one: an
    answer to it that pleases or displeases by nothing else.  A leaf asked about itself has nothing else on the
    request: the leaf (`UserSimulator.itself`), which answers it in `ITSELF_WORDS` words and, named by the
    user, earns nothing."""
    if user.itself is not None and not user.taxonomy.nodes[user.itself].tags:
        return user.itself
    tax, interests = user.taxonomy, {i.node for i in user.persona.interests}
    cared = {a for n in interests for a in tax.paths[n]}
    return next(iter(_on_the_request(user, (n for n in tax.ids if not tax.nodes[n].tags and n not in cared
                                            and interests.isdisjoint(tax.paths[n])))), None)


def test_violation_makes_user_complain_and_restate(schema: PersonaSchema, taxonomy) -> None:
    persona = _persona_with(schema, lambda p: p.attributes.get("diet") == "vegan")
    user = UserSimulator(persona, seed=0, noise=NoiseConfig(rate=0.0))
    user.open_session()
    steak = next(n for n in taxonomy.ids if "beef" in taxonomy.nodes[n].tags)
    features = ResponseFeatures(word_count=3, mentions=[MentionFeature(node=steak, stance="recommend")])
    turn = user.respond("Try a steak!", features)
    assert turn.intent.kind == "feedback" and turn.intent.polarity == -1
    assert turn.intent.reason == "constraint_violation"
    assert user.state.restate_level == 1 and user.state.satisfaction < 0.7
    assert any(p.kind == "attribute" for p in turn.pkis)


def test_a_violation_complaint_restates_a_constraint_that_forbids_what_was_offered(schema: PersonaSchema,
                                                                                      taxonomy) -> None:
    """A user with several constraints names one the offer breaks ("I'm vegan" to a steak), not another."""
    sampler, forbids = PersonaSampler(schema), {a.name: a.forbids for a in schema.attributes.values()}
    complaints = 0
    for seed in range(300):
        persona = sampler.sample(seed)
        user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0))
        constraints = {a for a, v in user._attribute_facts if forbids[a].get(v)}
        forbidden = set(user.state.forbidden_tags)
        tag = min(forbidden, default=None)
        offer = next((n for n in taxonomy.ids if taxonomy.nodes[n].tags & forbidden == {tag}), None)
        if len(constraints) < 2 or offer is None:
            continue
        user.open_session()
        intent = user.respond("Try this!", ResponseFeatures(
            word_count=3, mentions=[MentionFeature(node=offer, stance="recommend")])).intent
        if intent.reason == "constraint_violation":
            complaints += 1
            assert tag in forbids[intent.attribute][intent.value], (seed, offer, intent)
    assert complaints >= 30


def test_whether_the_user_leaves_does_not_depend_on_what_they_would_complain_about(schema: PersonaSchema,
                                                                                     taxonomy) -> None:
    # a missed style preference draws a complaint only from a user who stays: else the miss kept users
    # talking, and the summed reward paid for the extra turns
    persona = _persona_with(schema, lambda p: p.attributes.get("emoji_use") == "never")
    attrs = persona.attributes
    fmt = attrs.get("format_pref_primary")
    lo, hi = LENGTH_RANGES.get(attrs.get("length_pref"), (1, 10))
    complaints = 0
    for seed in range(300):
        users = [UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0)) for _ in range(2)]
        for user in users:
            user.open_session()
        offer = _plain_on_the_request(users[0])  # something to take
        if offer is None:
            continue
        met = ResponseFeatures(word_count=(lo + hi) // 2, has_table=fmt == "table", has_list=fmt in LIST_FORMATS,
                               formality=FORMALITY_TARGET.get(attrs.get("formality_level"), 0.5),
                               mentions=[MentionFeature(node=offer, stance="recommend")])
        missed = met.model_copy(update={"emoji_count": 1})
        replies = []
        for user, features in zip(users, (met, missed), strict=True):
            replies.append(user.respond("Here you go.", features).intent)
        assert all(users[0].last_assessment.style_checks.values())
        assert [c for c, ok in users[1].last_assessment.style_checks.items() if not ok] == ["emoji_use"]
        assert (replies[0].kind == "goodbye") == (replies[1].kind == "goodbye"), seed
        complaints += replies[1].reason == "ignored_preference"
    assert complaints > 50  # the miss was noticed, and voiced by many who stayed


def test_a_session_opens_with_the_news_of_a_life_event(schema: PersonaSchema) -> None:
    """What a life event changed ("went vegan") is what a user tells first in the next session."""
    from personagym.simulators.preferences import PreferenceConfig
    from personagym.simulators.user import UserConfig

    sampler, told = PersonaSampler(schema), 0
    news_leads = [template[0][0].strip() for template in TemplateRenderer(schema).bank.news_connectors]
    for seed in range(60):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0),
                             preferences=PreferenceConfig(event_rate=1.0, drift_rate=0.0),
                             config=UserConfig(news_rate=1.0))
        user.open_session()
        events = user.next_session()
        news = [(e.target, e.after) for e in events if e.kind == "life_event" and e.target in schema.attributes
                and isinstance(e.after, str) and schema.attributes[e.target].phrases.get(e.after)]
        opener = user.open_session()
        if news:
            told += 1
            assert news[0] in {(p.key, p.value) for p in opener.pkis if p.kind == "attribute"}, (seed, opener.text)
            # told as news ("Quick update on my end: ..."), not as if always so ("Oh right, ...")
            assert opener.intent.reason == "life_event"
            assert any(lead in opener.clean_text for lead in news_leads), opener.clean_text
    assert told >= 10


def test_question_gets_an_answer(schema: PersonaSchema) -> None:
    persona = _persona_with(schema, lambda p: "length_pref" in p.attributes)
    user = UserSimulator(persona, seed=1, noise=NoiseConfig(rate=0.0))
    user.open_session()
    features = ResponseFeatures(word_count=5, questions=1, asked_about=["length_pref"])
    turn = user.respond("How long should answers be?", features)
    assert turn.intent.kind == "clarification_answer"
    assert turn.pkis[0].key == "length_pref" and turn.pkis[0].value == persona.attributes["length_pref"]


def test_a_user_who_dislikes_questions_would_rather_be_answered(schema: PersonaSchema, taxonomy) -> None:
    """`clarification_tolerance` was drawn and never acted on: a question cost nothing, whoever was asked.  A
    user who dislikes questions is let down by one put instead of an answer (not by an answer that also asks),
    says so, and praises no question; one who does not mind is not let down."""
    features = ResponseFeatures(word_count=6, questions=1, asked_about=["length_pref"])
    camping = taxonomy.resolve("camping")
    answered = ResponseFeatures(word_count=30, questions=1, asked_about=["length_pref"],
                                mentions=[{"node": camping, "stance": "recommend"}])
    for tolerance in ("dislikes_questions", "ok_with_questions"):
        persona = _persona_with(schema, lambda p, t=tolerance: p.attributes.get("clarification_tolerance") == t
                                and "length_pref" in p.attributes)
        let_down, impatient = [], []
        for seed in range(30):
            user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0))
            user.open_session()
            turn = user.respond("How long should answers be?", features)
            let_down += [round(e.before - e.after, 6) for e in user.events
                         if e.cause == "a question instead of an answer"]
            if turn.intent.kind == "clarification_answer":
                impatient.append(turn.intent.reason == "impatient")
                assert not re.search(r"(?i)good question|fair question|good point", turn.text) or \
                    tolerance != "dislikes_questions", turn.text
            user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0))
            user.open_session()
            events = len(user.events)
            user.respond("Try camping. How long should answers be?", answered)
            assert not [e for e in user.events[events:] if e.cause == "a question instead of an answer"]
        assert impatient and all(impatient) == (tolerance == "dislikes_questions") == any(impatient)
        assert let_down == ([QUESTION_PENALTY] * 30 if tolerance == "dislikes_questions" else []), let_down


def test_a_question_instead_of_an_answer_earns_a_user_who_dislikes_questions_no_style(schema: PersonaSchema) -> None:
    """The reward read a question put instead of an answer as meeting the style of a user who would rather be
    answered, while the user was let down by it and said "Can you just answer now?" (96 answers of 11,251 in
    an audit of 15 policies; the style paid, 0.56 of the component, went with a satisfaction drop of 0.15)."""
    question = ResponseFeatures(word_count=6, questions=1, asked_about=["length_pref"])
    for tolerance in ("dislikes_questions", "ok_with_questions"):
        persona = _persona_with(schema, lambda p, t=tolerance: p.attributes.get("clarification_tolerance") == t
                                and p.attributes.get("length_pref") == "terse")  # six words meet its length
        for seed in range(10):
            user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0))
            user.open_session()
            user.respond("How long should answers be?", question)
            assessment = user.last_assessment
            assert (assessment.style_match == 0.0) == (tolerance == "dislikes_questions"), (tolerance, seed)
            assert assessment.answered and assessment.asked_instead == (tolerance == "dislikes_questions")


def test_goodbye_ends_the_session(schema: PersonaSchema) -> None:
    user = UserSimulator(PersonaSampler(schema).sample(0), seed=2)
    user.open_session()
    for _ in range(200):
        turn = user.respond()
        if user.ended:
            break
    assert turn.intent.kind == "goodbye"
    with pytest.raises(RuntimeError, match="session has ended"):
        user.respond()
    user.next_session()
    assert user.open_session().intent.kind == "task_request"
    assert user.state.session == 1 and user.state.day > 0


def test_simulate_turns_over_given_personas(schema: PersonaSchema) -> None:
    personas = PersonaSampler(schema).sample_batch(3, seed=8)
    seen = [p.persona_id for p, _ in simulate_turns(200, seed=1, personas=personas)]
    assert set(seen) == {p.persona_id for p in personas}
    assert seen[0] == personas[0].persona_id
    with pytest.raises(ValueError, match="personas must not be empty"):
        next(simulate_turns(5, personas=[]))


def test_a_question_gets_an_answer_about_what_was_asked(schema: PersonaSchema) -> None:
    """Asked about diet, a user with food allergies (a list) and no diet names an allergy, never an unrelated fact.

    Multi-valued attributes were skipped, and a user with no value for what was
    asked volunteered any fact ("Fair question. Technical jargon is fine with
    me." to a question about diet and budget).
    """
    sampler, phrases = PersonaSampler(schema), schema.attributes["food_allergies"].phrases
    allergic = [p for p in map(sampler.sample, range(300))  # "none" is a value too, with no phrase
                if any(map(phrases.get, p.attributes.get("food_allergies", ()))) and "diet" not in p.attributes]
    features = ResponseFeatures(word_count=8, questions=1, asked_about=["diet", "food_allergies"])
    answered = []
    for seed, persona in enumerate(allergic[:20]):
        user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0))
        user.open_session()
        turn = user.respond("Do you follow any diet or have allergies?", features)
        if turn.intent.kind == "clarification_answer":
            assert turn.intent.attribute == "food_allergies", turn.text
            assert turn.intent.value in persona.attributes["food_allergies"]
            answered.append(turn)
    assert len(answered) >= 15  # the rest said goodbye: a question does not hold a user who is done
    features = ResponseFeatures(word_count=8, questions=1, asked_about=["diet"])
    for seed, persona in enumerate(allergic[:20]):
        user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0))
        user.open_session()
        intent = user.respond("Do you follow any diet?", features).intent
        if intent.kind == "clarification_answer" and intent.attribute is not None:
            assert schema.attributes[intent.attribute].role == "constraint", intent


def test_request_details_fit_the_users_length_and_format_preferences(schema: PersonaSchema) -> None:
    """A user who wants terse answers does not ask for "around 1,000 words", nor a narrative one for a table.

    The reward checks answers against those preferences, so a detail that
    contradicted them made the answer that obeyed the request lose style credit.
    """
    from personagym.simulators.preferences import LENGTH_RANGES, LIST_FORMATS
    from personagym.simulators.renderers import TemplateRenderer

    bank = TemplateRenderer(schema).bank
    sampler = PersonaSampler(schema)
    lengths = formats = 0
    for seed in range(400):
        persona = sampler.sample(seed)
        user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0))
        turns = [user.open_session() for _ in range(10)]
        length, fmt = persona.attributes.get("length_pref"), persona.attributes.get("format_pref_primary")
        for intent in (t.intent for t in turns):
            if "length" in intent.slots and isinstance(length, str):
                (a, b), (lo, hi) = bank.length_words[intent.slots["length"]], LENGTH_RANGES[length]
                assert a <= hi and b >= lo, (length, intent.slots["length"])
                lengths += 1
            if "format" in intent.slots and fmt in (*LIST_FORMATS, "table", "narrative"):
                wanted = "list" if fmt in LIST_FORMATS else fmt
                assert bank.format_layout[intent.slots["format"]] in (wanted, "any"), (fmt, intent.slots["format"])
                formats += 1
    assert lengths > 40 and formats > 40


def test_the_focus_is_the_domain_of_the_request_being_answered(schema: PersonaSchema) -> None:
    user = UserSimulator(PersonaSampler(schema).sample(3), seed=3, noise=NoiseConfig(rate=0.0))
    domains = user.renderer.bank.domains
    opening = user.open_session()
    assert user.focus == frozenset(domains[opening.intent.domain].categories)
    for _ in range(30):  # the focus moves with each new request, and stays through the other turns
        focus = user.focus
        turn = user.respond("Here you go.", ResponseFeatures(word_count=5))
        if turn.intent.kind == "goodbye":
            break
        expected = frozenset(domains[turn.intent.domain].categories) if turn.intent.kind == "task_request" else focus
        assert user.focus == expected


def test_a_request_is_about_its_topics_area_and_its_domains_own(schema: PersonaSchema, taxonomy) -> None:
    """"Tips for retinol" answered with pet birds (advice's categories both) was paid in full and praised as
    "exactly what I needed", and so was "a plan for kettlebell training" answered with body scan meditation
    (Fitness & Wellness both): the tracker earned 38% of its preference reward from liked things outside the
    request's area.  A liked thing in the topic's area (its second-level ancestor) or in an area that answers
    the template's requests (a workout type for a workout plan around via ferrata) counts in full; one
    elsewhere is no answer: a quarter of the credit in the list, none in the reward, and no praise.  No domain
    names areas that answer all its templates: the Swiss Alps answered a beach-holiday getaway, camping a Rome
    one, to-do lists a question on entry-level backend jobs (a reader judged 13 of 17 such credited likes off)."""
    sampler = PersonaSampler(schema)
    domains = TemplateRenderer(schema).bank.domains
    assert not any(d.answers_in for d in domains.values())
    getaway = parse_template("Find me a weekend escape that's all about {topic} {budget} {time}.")
    assert domains["travel"].answers(getaway) == ()
    fitness = domains["fitness"].answers(parse_template("Can you build me a workout plan around {topic} {time}?"))
    exercise = taxonomy.resolve_path("Sports/Fitness & Exercise")
    assert fitness == (taxonomy.resolve_path("Fitness & Wellness/Workout Types"), exercise)
    kettlebell = taxonomy.paths[taxonomy.resolve_path("Fitness & Wellness/Workout Types/Kettlebell Training")]
    assert request_about(kettlebell, fitness) == {kettlebell[1], exercise}
    via_ferrata = taxonomy.paths[taxonomy.resolve_path(
        "Outdoor Recreation/Outdoor Activities/Canyoneering/Via Ferrata")]
    about = request_about(via_ferrata, fitness)
    assert about == {via_ferrata[1], *fitness}
    assert on_request(taxonomy.paths[taxonomy.resolve_path("Sports/Fitness & Exercise/Weightlifting")], about)
    assert not on_request(taxonomy.paths[taxonomy.resolve_path("Fitness & Wellness/Mind & Body")], about)
    credit: dict[str, list[float]] = {"on": [], "off": []}
    praise: dict[str, int] = {"on": 0, "off": 0}
    for seed in range(2500):
        persona = sampler.sample(seed)
        user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0))
        opening = user.open_session()
        if user.topic is None:
            continue
        domain = domains[opening.intent.domain]
        leaf = not taxonomy.children[user.topic]
        assert user.about in {request_about(taxonomy.paths[user.topic], domain.answers(t),
                                            domain.about_itself(t, leaf)) for t in (None, *domain.templates)}
        likes = [i for i in persona.interests if i.polarity > 0 and user.topic not in taxonomy.paths[i.node]
                 and i.node not in taxonomy.paths[user.topic] and not taxonomy.nodes[i.node].tags]
        for where in ("on", "off"):
            picks = [i for i in likes if on_request(taxonomy.paths[i.node], user.about) == (where == "on")]
            if not picks:
                continue
            probe = copy.deepcopy(user)
            turn = probe.respond("Try this!", ResponseFeatures(
                word_count=60, mentions=[MentionFeature(node=picks[0].node, stance="recommend")]))
            [(_, weight)] = probe.last_assessment.liked
            credit[where].append(weight / picks[0].intensity)
            assert probe.last_assessment.answered == (where == "on")
            assert (probe.last_assessment.alignment > 0) == (where == "on")
            praise[where] += turn.intent.kind == "feedback" and turn.intent.polarity == 1
    # in full, or as named where the request asks for no picks (`no_picks`: an explainer, a draft, tips)
    assert len(credit["on"]) > 12 and set(credit["on"]) == {1.0, NAMED_CREDIT}, credit["on"]
    assert len(credit["off"]) > 20 and set(credit["off"]) == {0.0}
    assert praise["on"] >= 2 and praise["off"] == 0, praise


def test_what_answers_a_request_follows_its_template(schema: PersonaSchema, taxonomy) -> None:
    """"What ingredients do I need to stock up on for garden salad?" answered with vegetables was refused as
    "This doesn't fit what I asked", while any dish answered a latte recipe: a template may name the areas that
    answer its requests (`answers_in_for`), and the user bounds the request by the template it was asked with."""
    sampler = PersonaSampler(schema)
    ingredients = taxonomy.resolve_path("Food & Cooking/Ingredients")
    dishes = taxonomy.resolve_path("Food & Cooking/Dishes")
    seen = Counter()
    for seed in range(3000):
        persona = sampler.sample(seed)
        user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0))
        opening = user.open_session()
        if opening.intent.domain != "cooking" or user.topic is None:
            continue
        area = taxonomy.paths[user.topic][1]
        stock = "ingredients do I need to stock up on" in opening.clean_text
        if stock:  # about the dish itself: burgers' own kinds, not pizza
            assert user.about == request_about(taxonomy.paths[user.topic], (ingredients,), True), \
                opening.clean_text
        elif area not in (ingredients, dishes) and "shopping list" not in opening.clean_text:
            assert ingredients not in user.about, opening.clean_text
        seen[stock] += 1
        if seen[True] >= 3 and seen[False] >= 20:
            break
    assert seen[True] >= 3 and seen[False] >= 20, seen


def test_a_liked_thing_recommended_to_a_request_for_no_picks_earns_what_it_earns_named(
        schema: PersonaSchema) -> None:
    """"Can you give me an analogy that makes microbiology click?" answered "I'd suggest virology." earned a
    recommendation's full credit (about 17% of the oracle's answers to analogies, summaries, drafts and tips were
    suggestion lines): to a request whose template asks for no picks (`no_picks`) a liked thing on the request
    earns the same recommended or only named, to one that asks for picks more recommended.  Every writing template
    asks for none, every recommendation template for picks, and `no_picks` names only the domain's templates."""
    bank = TemplateRenderer(schema).bank
    assert all(not bank.domains["writing"].asks_picks(t) for t in bank.domains["writing"].templates)
    assert all(bank.domains["recommendation"].asks_picks(t) for t in bank.domains["recommendation"].templates)
    patterns = {name: [re.compile(".*".join(map(re.escape, re.split(r"\s*\{\w+\}", text))))
                       for text in spec.get("no_picks", ())] for name, spec in bank.raw["task_requests"].items()}
    sampler = PersonaSampler(schema)
    seen: Counter[bool] = Counter()
    for seed in range(1500):
        persona = sampler.sample(seed)
        user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0))
        opening = user.open_session()
        liked = _on_the_request(user, [*(i.node for i in persona.interests if i.polarity > 0),
                                       *_new_things_they_like(schema, persona)])
        if not liked or opening.intent.domain is None:
            continue
        picks = not any(p.search(opening.clean_text) for p in patterns[opening.intent.domain])
        credit = {}
        for stance in ("recommend", "neutral"):
            listener = copy.deepcopy(user)
            listener.respond("...", ResponseFeatures(word_count=40, mentions=[MentionFeature(node=liked[0],
                                                                                           stance=stance)]))
            credit[stance] = listener.last_assessment.alignment
        assert credit["neutral"] > 0, (seed, opening.clean_text)
        if picks:
            assert credit["recommend"] > credit["neutral"], (seed, opening.clean_text)
        else:
            assert credit["recommend"] == credit["neutral"], (seed, opening.clean_text)
        seen[picks] += 1
    assert seen[True] >= 120 and seen[False] >= 80, seen
    raw = copy.deepcopy(bank.raw)
    raw["task_requests"]["writing"]["no_picks"].append("Write me a kettlebell.")
    with pytest.raises(ValueError, match=r"writing\.no_picks names 'Write me a kettlebell\.', which is no template"):
        TemplateBank(raw, schema.taxonomy)


def test_recommendations_for_a_thing_are_things_in_it_not_beside_it(schema: PersonaSchema, taxonomy) -> None:
    """"I'm looking for recommendations related to Indian cuisine." answered with Italian, Japanese and Mexican
    cuisine, "Any recommendations for cheesecake?" with chocolate cake (14% of the oracle's answers to
    recommendation requests): a request for recommendations for a thing, or in the mood for it, is about the thing
    itself, so only what is in it answers (a thing with nothing in it, by itself); only "things worth checking out
    if I like X", "something related to X" and "hooked on X. What else should I try?" take the things beside it."""
    beside = ("if I like", "something related to", "hooked on")
    sampler = PersonaSampler(schema)
    seen: Counter[bool] = Counter()
    for seed in range(3000):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0))
        opening = user.open_session()
        if opening.intent.domain != "recommendation" or user.topic is None:
            continue
        like = any(words in opening.clean_text for words in beside)
        bank = user.renderer.bank
        answers = bank.domains["recommendation"].answers_in
        path = taxonomy.paths[user.topic]
        assert user.about == request_about(path, answers, not like), opening.clean_text
        seen[like] += 1
    assert seen[True] >= 20 and seen[False] >= 60, seen


def test_a_request_for_a_kind_of_thing_the_taxonomy_lacks_asks_for_no_picks(schema: PersonaSchema, taxonomy) -> None:
    """"Name two influential people in the Renaissance era" answered by "the Age of Exploration", "Recommend
    three books or videos to get inspired about small pets" by rabbits, "Help me pick the right setup for
    Node.js" by wearables, eco-friendly options for roses by flash sales: the reward paid a pick's credit (6 of
    42 credited answers to 361 of the oracle's requests read).  A request for people, sources, books or videos,
    tutorials, certifications, companies or clubs asks for no picks, and the things that answer a setup, eco-friendly
    options or a foot in the door are those."""
    bank = TemplateRenderer(schema).bank
    lacking = {"research": ("Name {quantity} influential people in {topic}.",
                            "Give me {quantity} credible sources on {topic} {format}."),
               "hobby": ("Recommend {quantity} books or videos to get inspired about {topic}.",),
               "tech_help": ("Recommend {quantity} good tutorials or guides for {topic}.",),
               "career": ("What certifications matter most in {topic} {budget}?",
                          "Which companies are known for being good places to work in {topic} {location}?")}
    for domain, texts in lacking.items():
        for text in texts:
            assert not bank.domains[domain].asks_picks(parse_template(text)), text

    def answers(domain: str, text: str) -> set[str]:
        return set(bank.domains[domain].answers(parse_template(text)))

    eco = answers("shopping", "Can you suggest eco-friendly options for {topic} {location}?")
    flash = taxonomy.resolve("flash sales")
    assert eco and not any(n in eco for n in taxonomy.paths[flash]), eco
    assert taxonomy.resolve_path("Shopping & Consumer Goods/Consumer Trends/Ethical Shopping") in eco
    setup = answers("tech_help", "Help me pick the right setup for {topic} {budget}.")
    assert not any(n in setup for n in taxonomy.paths[taxonomy.resolve("wearables")]), setup
    door = answers("career", "What should I learn first to get a foot in the door in {topic}?")
    assert taxonomy.resolve_path("Education & Learning/Learning Formats") not in door, door


def test_a_template_answered_in_an_unknown_area_is_refused(schema: PersonaSchema) -> None:
    """A misspelt area in `answers_in_for` would leave its template's requests answered by nothing but the
    topic's own area, and a template not in the domain would bound nothing: loading fails, naming them."""
    raw = copy.deepcopy(TemplateRenderer(schema).bank.raw)
    answers = raw["task_requests"]["cooking"]["answers_in_for"]
    answers["What ingredients do I need to stock up on for {topic} {budget}?"] = ["Food & Cooking/Ingredientz"]
    with pytest.raises(ValueError, match=r"cooking\.answers_in_for\[.*stock up on.*\]: unknown taxonomy node "
                                         r"'food_cooking/ingredientz'.*display paths"):
        TemplateBank(raw, schema.taxonomy)
    raw = copy.deepcopy(TemplateRenderer(schema).bank.raw)
    raw["task_requests"]["cooking"]["answers_in_for"]["Cook me a kettlebell."] = ["Food & Cooking/Ingredients"]
    with pytest.raises(ValueError, match=r"cooking\.answers_in_for names 'Cook me a kettlebell\.', which is no "
                                         r"template of cooking"):
        TemplateBank(raw, schema.taxonomy)


def test_a_request_about_a_thing_itself_is_answered_by_it_not_its_siblings(schema: PersonaSchema, taxonomy) -> None:
    """Siblings answered every request: credible sources on jazz with hip hop, what a JavaScript learner is
    missing with Python.  A template asking about its topic itself (`about`) is answered by what is under the
    topic (bebop, not hip hop); a leaf, with nothing under it, by its nearest kin under its parent (Tokyo for
    Thailand, not Paris); one asking for things like it still by the topic's whole area (things worth checking
    out if I like jazz: hip hop too)."""
    bank = TemplateRenderer(schema).bank
    research, recommendation = bank.domains["research"], bank.domains["recommendation"]
    sources = research.templates[research.texts.index("Give me {quantity} credible sources on {topic} {format}.")]
    like = recommendation.templates[recommendation.texts.index(
        "Can you recommend {quantity} things worth checking out if I like {topic}?")]
    assert research.about_itself(sources) and not recommendation.about_itself(like)
    paths = taxonomy.paths
    jazz, bebop, hip_hop = (paths[taxonomy.resolve_path(f"Music/Music Genres/{n}")]
                            for n in ("Jazz", "Jazz/Bebop", "Hip Hop Music"))
    itself = request_about(jazz, research.answers(sources), True)
    assert on_request(bebop, itself) and not on_request(hip_hop, itself)
    assert on_request(hip_hop, request_about(jazz, recommendation.answers(like), False))
    # a leaf has nothing under it: the things beside it answer nothing asked about it (`_addresses`: it does)
    thailand, tokyo = (paths[taxonomy.resolve_path(f"Travel & Places/Destinations/{n}")]
                       for n in ("Asia/Thailand", "Asia/Tokyo"))
    leaf = request_about(thailand, (), True)
    assert on_request(thailand, leaf) and not on_request(tokyo, leaf)
    # the user: a sibling outside the bound answers nothing ("That doesn't answer what I asked."), inside it does
    sampler, answered = PersonaSampler(schema), Counter()
    for seed in range(1200):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0))
        user.open_session()
        topic = user.topic
        if topic is None or not taxonomy.children[topic] or user.about is None:
            continue
        itself = topic in user.about
        sibling = next((n for n in taxonomy.descendants(paths[topic][1]) if topic not in paths[n]
                        and n not in paths[topic] and not taxonomy.nodes[n].group
                        and not any(c in paths[n] for c in user.about if c != paths[topic][1])), None)
        if sibling is None:
            continue
        probe = copy.deepcopy(user)
        turn = probe.respond("Try this!", ResponseFeatures(
            word_count=60, mentions=[MentionFeature(node=sibling, stance="recommend")]))
        assert probe.last_assessment.answered == (not itself), (topic, sibling, user.about)
        answered[(itself, probe.last_assessment.answered)] += 1
        if itself:
            assert not (turn.intent.kind == "feedback" and turn.intent.polarity == 1)
    assert answered[(True, False)] > 20 and answered[(False, True)] > 4, answered


def test_a_request_for_things_in_a_topic_is_asked_only_of_a_topic_with_things_in_it(schema: PersonaSchema,
                                                                                    taxonomy) -> None:
    """"Looking for something new in the Clue board game. Ideas?", "eight picks from negroni": a leaf has nothing
    in it to pick, and an overview of it or the things beside it answered such a request.  A template asking for
    things in its topic ("under") is drawn only for a topic with things under it, and bounded by the topic (bebop
    answers underrated gems in jazz, hip hop does not); the domain's other templates still ask about a leaf."""
    bank = TemplateRenderer(schema).bank
    recommendation = bank.domains["recommendation"]
    gems = recommendation.templates[recommendation.texts.index("What are {quantity} underrated gems in {topic}?")]
    assert recommendation.about_itself(gems) and not recommendation.about_itself(gems, leaf=True)
    under = {t for t in recommendation.templates if recommendation.about_itself(t)
             and not recommendation.about_itself(t, leaf=True)}
    assert len(under) >= 20
    sampler, paths, seen = PersonaSampler(schema), taxonomy.paths, Counter()
    for seed in range(4000):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0))
        opening = user.open_session()
        if opening.intent.domain != "recommendation" or user.topic is None:
            continue
        leaf = not taxonomy.children[user.topic]
        template = next((t for t in under if _said_with(opening.clean_text, t)), None)
        seen[(leaf, template is not None)] += 1
        if template is not None:
            assert not leaf, opening.clean_text
            assert user.about == request_about(paths[user.topic], recommendation.answers(template), True)
            inside = next(n for n in taxonomy.descendants(user.topic) if n != user.topic)
            beside = next((n for n in taxonomy.siblings(user.topic) if not taxonomy.nodes[n].group), None)
            assert on_request(paths[inside], user.about), opening.clean_text
            if beside is not None:
                assert not on_request(paths[beside], user.about), opening.clean_text
    assert seen[(False, True)] >= 5 and seen[(True, False)] >= 20 and seen[(True, True)] == 0, seen


def _said_with(text: str, template: tuple[tuple[str, str | None], ...]) -> bool:
    """Whether `text` (a request) was rendered from `template`: its literal words, in order."""
    at = 0
    for literal, _ in template:
        words = literal.strip(" .?,")
        if words:
            at = text.find(words, at)
            if at < 0:
                return False
            at += len(words)
    return True


def test_a_request_about_a_leaf_itself_is_answered_by_the_leaf_in_more_than_a_few_words(
        schema: PersonaSchema, taxonomy) -> None:
    """"An overview of the Black Death" was answered by the Vikings and the Crusades (60% of Chat-v0's answers
    were served by siblings only): a leaf asked about itself is answered by the leaf, put forward in an answer of
    `ITSELF_WORDS` words or more, earning no liked credit (the user named it); said back in a few words or as a
    question, advised against, or replaced by a thing beside it, it answers nothing."""
    sampler, paths, seen = PersonaSampler(schema), taxonomy.paths, Counter()
    for seed in range(400):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0))
        user.open_session()
        topic = user.itself
        if topic is None:
            seen["other"] += 1
            continue
        assert not taxonomy.children[topic] and topic in user.about
        sibling = next((n for n in taxonomy.siblings(topic) if not taxonomy.nodes[n].group), None)
        cases = [("said", ITSELF_WORDS, topic, "neutral", True), ("echo", ITSELF_WORDS - 1, topic, "recommend", False),
                 ("warned", 60, topic, "warn", False), ("asked", 60, topic, "neutral", False)]
        if sibling is not None and not any(on_request(paths[sibling], {a}) for a in user.about if a != topic):
            cases.append(("sibling", 60, sibling, "recommend", False))
        for case, words, node, stance, answered in cases:
            probe = copy.deepcopy(user)
            probe.respond("Here you go.", ResponseFeatures(
                word_count=words, mentions=[MentionFeature(node=node, stance=stance)],
                questions=int(case == "asked"), asked_about=[node] if case == "asked" else []))
            assert probe.last_assessment.answered == answered, (case, topic, node)
            assert probe.last_assessment.alignment <= 0, (case, topic)
            seen[case] += 1
    assert seen["said"] >= 100 and seen["sibling"] >= 50 and seen["other"] >= 50, seen


def test_an_answer_recommending_more_things_far_from_the_request_than_on_it_answers_nothing(
        schema: PersonaSchema, taxonomy) -> None:
    """The overview of the Black Death plus glamping and JavaScript: the oracle recommending the user's favourites
    whatever was asked earned more than `generic` on LongTerm-v0.  One thing on the request and two far from it
    (outside the topic's area and its template's) answer nothing; one far thing, or two things beside a leaf in its
    area (the Premier League and the World Cup with the Champions League), leave it answered."""
    sampler, paths, nodes, seen = PersonaSampler(schema), taxonomy.paths, taxonomy.nodes, Counter()
    for seed in range(300):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0))
        user.open_session()
        topic, about = user.topic, user.about
        if topic is None or about is None:
            continue
        area = area_of(paths[topic])
        things = [n for n in taxonomy.ids if not nodes[n].group and not nodes[n].tags and n not in paths[topic]]
        far = [n for n in things if area not in paths[n] and not on_request(paths[n], about)][:2]
        on = user.itself or next((n for n in things if on_request(paths[n], about)), None)
        if on is None or len(far) < 2:
            continue
        beside = [n for n in taxonomy.siblings(on) if not nodes[n].group and not nodes[n].tags
                  and not on_request(paths[n], about)][:2] if user.itself else []
        cases = [("two far", far, False), ("one far", far[:1], True)]
        if len(beside) == 2:
            cases.append(("two beside", beside, True))
        for case, extra, answered in cases:
            probe = copy.deepcopy(user)
            probe.respond("Here you go.", ResponseFeatures(word_count=60, mentions=[
                MentionFeature(node=n, stance="recommend") for n in (on, *extra)]))
            assert probe.last_assessment.answered == answered, (case, topic, on, extra)
            seen[case] += 1
    assert seen["two far"] >= 100 and seen["two beside"] >= 20, seen


@pytest.mark.parametrize(("where", "value", "error"), [
    ("about", "self", r"recommendation\.about: expected one of \['itself', 'under', 'like'\] .*got 'self'"),
    ("about_for", {"Can you recommend {quantity} things worth checking out if I like {topic}?": "likes"},
     r"recommendation\.about_for\[.*if I like.*\]: expected one of \['itself', 'under', 'like'\] .*got 'likes'"),
    ("about_for", {"Recommend me a kettlebell.": "like"},
     r"recommendation\.about_for names 'Recommend me a kettlebell\.', which is no template of recommendation"),
])
def test_an_unknown_about_tag_or_template_is_refused(schema: PersonaSchema, where: str, value: object,
                                                     error: str) -> None:
    """A misspelt tag would silently leave siblings answering a request about a thing itself, and a template not
    in the domain would tag nothing: loading fails, naming the field, the value and what is expected."""
    raw = copy.deepcopy(TemplateRenderer(schema).bank.raw)
    raw["task_requests"]["recommendation"][where] = value
    with pytest.raises(ValueError, match=error):
        TemplateBank(raw, schema.taxonomy)


def test_the_request_said_back_is_not_asked_about(schema: PersonaSchema) -> None:
    # "You want to get into combat sports? How long should my answer be?": the user answers the question
    persona = _persona_with(schema, lambda p: "length_pref" in p.attributes)
    for seed in range(40):
        user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0))
        user.open_session()
        if user.topic is None:
            continue
        turn = user.respond("...", ResponseFeatures(word_count=12, questions=2,
                                                    asked_about=[user.topic, "length_pref"]))
        if turn.intent.kind == "clarification_answer":
            break
    else:
        pytest.fail("no seed reached a clarification answer")
    assert (turn.intent.attribute, turn.intent.value) == ("length_pref", persona.attributes["length_pref"])


def test_an_answer_that_gives_nothing_meets_no_style_preference(schema: PersonaSchema, taxonomy) -> None:
    # "Ok." met a terse user's length preference and earned two thirds of the generic policy's reward; a bare
    # "Can you please specify?" asks about nothing (SmolLM2 trained by GRPO learned to open every answer with it)
    def opened(persona: Persona) -> tuple[UserSimulator, str | None]:
        """The user who has made their first request, and an untagged thing on it past its topic, if any."""
        user = UserSimulator(persona, seed=0, noise=NoiseConfig(rate=0.0))
        user.open_session()
        return user, next((n for n in taxonomy.ids if not taxonomy.nodes[n].tags and n not in taxonomy.paths.get(
            user.topic, ()) and on_request(taxonomy.paths[n], user.about)), None)

    persona = _persona_with(schema, lambda p: "length_pref" in p.attributes and opened(p)[1] is not None)
    focus, offer = opened(persona)
    answers = {
        "ok": ResponseFeatures(word_count=1),
        "refusal": ResponseFeatures(word_count=6, mentions=[MentionFeature(node=offer, stance="warn")]),
        "question": ResponseFeatures(word_count=6, questions=1, asked_about=["length_pref"]),
        "question about the topic": ResponseFeatures(word_count=6, questions=1, asked_about=[offer]),
        "bare question": ResponseFeatures(word_count=4, questions=1),
        # "You want to get into combat sports?" to a request about combat sports; "What kind of ...?" asks
        "request said back": ResponseFeatures(word_count=8, questions=1, asked_about=[focus.topic]),
        "which kind of the request's topic": ResponseFeatures(word_count=6, questions=1, asked_about=[focus.topic],
                                                              asked_which=[focus.topic]),
        "offer": ResponseFeatures(word_count=6, mentions=[MentionFeature(node=offer, stance="recommend")]),
    }
    assert focus.topic is not None, "pick a seed whose request names a topic"
    answered = {}
    for name, features in answers.items():
        user = UserSimulator(persona, seed=0, noise=NoiseConfig(rate=0.0))
        user.open_session()  # a request: an answer or a clarifying question will do
        user.respond("...", features)
        answered[name] = user.last_assessment.answered
    assert answered == {"ok": False, "refusal": False, "question": True, "question about the topic": True,
                        "bare question": False, "request said back": False,
                        "which kind of the request's topic": True, "offer": True}
    # after the user answers the assistant's question, only an answer will do
    user = UserSimulator(persona, seed=1, noise=NoiseConfig(rate=0.0))
    user.open_session()
    for _ in range(40):
        turn = user.respond("How long should answers be?", ResponseFeatures(word_count=5, questions=1,
                                                                            asked_about=["length_pref"]))
        if turn.intent.kind == "clarification_answer":
            break
        assert turn.intent.kind != "goodbye", "pick a seed whose user stays"
    user.respond("And what else?", ResponseFeatures(word_count=3, questions=1))
    assert user.last_assessment.answered is False


def test_a_random_name_off_the_request_answers_nothing(schema: PersonaSchema, taxonomy) -> None:
    """ "I'd suggest NFTs." to a question about river cruises gives the user nothing: a red-team policy that named
    one random entity whenever `popular` had nothing to suggest was read as answering (it met the user's style
    and left them content: 0.28 a Chat-v0 episode above `popular`).  Nor do the user's favourites off the request
    (the tracker listed its known likes whatever was asked); something on the request answers."""
    seen = {"off": 0, "on": 0, "liked": 0}
    for seed in range(120):
        persona = PersonaSampler(schema).sample(seed)
        probe = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0))
        opening = probe.open_session()
        cared = {a for i in persona.interests for a in taxonomy.paths[i.node]}
        plain = [n for n in taxonomy.ids if not taxonomy.nodes[n].tags and cared.isdisjoint(taxonomy.paths[n])]
        liked = [i.node for i in persona.interests if i.polarity > 0 and not taxonomy.nodes[i.node].tags
                 and not on_request(taxonomy.paths[i.node], probe.about)]
        offers = {
            "off": next((n for n in plain if not on_request(taxonomy.paths[n], probe.about)), None),
            "on": next((n for n in plain if on_request(taxonomy.paths[n], probe.about)
                        and n not in taxonomy.paths.get(probe.topic, ())), None),
            "liked": liked[0] if liked else None,
        }
        for name, offer in offers.items():
            if offer is None:
                continue
            user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0))
            user.open_session()
            offered = [MentionFeature(node=offer, stance="recommend")]
            user.respond("...", ResponseFeatures(word_count=60, mentions=offered))
            assert user.last_assessment.answered == (name == "on"), (seed, name, offer, opening.text)
            seen[name] += 1
    assert min(seen.values()) >= 10, seen


def test_a_correction_keeps_the_polarity_and_the_explicitness_of_the_slip() -> None:
    """ "Keep X, no wait, make that Y far away from me" corrected later still dislikes X.  A request's topic no
    longer slips (a mind change in a request changes a detail), so every slip corrected was stated, none a request's
    implied topic."""
    slips: dict[tuple[str, str], tuple[int, bool]] = {}
    seen = {1: 0, -1: 0}
    explicit = {True: 0, False: 0}
    for persona, turn in simulate_turns(40_000, 5, noise=NoiseConfig(rate=0.6)):
        for pki in turn.pkis:
            if pki.certainty == "mistaken" and pki.intended:
                slips[persona.persona_id, pki.intended] = pki.polarity, pki.explicit
        if turn.intent.kind == "correction":
            (pki,) = turn.pkis
            assert (pki.polarity, pki.explicit) == slips[persona.persona_id, pki.key], turn.text
            assert (turn.intent.reason == "request_topic") == (not pki.explicit)
            seen[pki.polarity] += 1
            explicit[pki.explicit] += 1
    assert seen[1] and seen[-1] and explicit[True] and not explicit[False], (seen, explicit)


def test_a_slip_is_corrected_on_the_next_message_or_never() -> None:
    """ "Hold on, I got that wrong: X, not Y" reads as immediate: never after a new request, nor after praise or a
    complaint about something else."""
    pending: dict[str, str] = {}
    corrections = 0
    for persona, turn in simulate_turns(40_000, 6, noise=NoiseConfig(rate=0.6)):
        key = persona.persona_id
        slipped = pending.pop(key, None)  # the previous message's slip, if any
        if turn.intent.kind == "correction":
            assert slipped == turn.intent.topic, turn.text
            corrections += 1
        for pki in turn.pkis:
            if pki.certainty == "mistaken" and pki.intended:
                pending[key] = pki.intended
    assert corrections > 20


def test_greetings_open_sessions_and_hello_again_only_a_later_one() -> None:
    """ "Yo morning!" never comes mid-conversation, "Hello again." never in a first session."""
    import json

    from personagym.simulators.renderers import TEMPLATES_PATH

    openers = json.loads(TEMPLATES_PATH.read_text(encoding="utf-8"))["openers"]
    greetings, returning = tuple(openers["greeting"]), tuple(openers["returning"])
    seen = {"greeting": 0, "returning": 0}
    for _, turn in simulate_turns(20_000, 7, noise=NoiseConfig(rate=0.0)):
        text = turn.clean_text
        if text.startswith(returning):
            assert turn.turn == 0 and turn.session > 0, (turn.session, turn.turn, text)
            seen["returning"] += 1
        elif text.startswith(greetings):
            assert turn.turn == 0, (turn.session, turn.turn, text)
            seen["greeting"] += 1
    assert seen["greeting"] > 50 and seen["returning"] > 5, seen


def test_no_happy_goodbye_right_after_an_answer_that_let_the_user_down(schema: PersonaSchema, taxonomy) -> None:
    """A satisfied user handed a steak after saying they are vegan leaves unhappy, not "Perfect, I'm all set."."""
    from personagym.simulators.user import UserConfig

    persona, bad = _vegan_offered_steak(schema, taxonomy)
    moods = []
    for seed in range(20):
        user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0), config=UserConfig(end_base=1.0))
        user.open_session()
        user.state.satisfaction = 0.95  # content so far: one bad answer leaves them above 0.5
        goodbye = user.respond(features=bad)
        assert goodbye.intent.kind == "goodbye" and user.state.satisfaction >= 0.5
        moods.append(goodbye.intent.polarity)
    assert set(moods) == {-1}


def _goodbye_after(schema: PersonaSchema, seed: int, answer: str,
                   told: bool = False) -> tuple[UserSimulator, UserTurn] | None:
    """A user who states nothing with their request and leaves right after one answer to it: a clarifying question
    about their diet (`answer` "question": answered first, the user leaves after the next, another question) or a
    thing on the request that is no interest of theirs ("served"), in 40 words, whose style checks may fail;
    `told`: every style preference had been said.  None if the request has no topic."""
    from personagym.simulators.user import UserConfig

    user = UserSimulator(PersonaSampler(schema).sample(seed), seed=seed, noise=NoiseConfig(rate=0.0),
                         config=UserConfig(end_base=1.0, attach_preference_rate=0.0))
    user.open_session()
    plain = _plain_on_the_request(user)
    if user.topic is None or plain is None:
        return None
    if told:
        user._memory.disclosed.update(user._attribute_facts)
    features = ResponseFeatures(word_count=40, questions=1, asked_about=["diet"]) if answer == "question" else \
        ResponseFeatures(word_count=40, mentions=[MentionFeature(node=plain, stance="recommend")])
    if answer == "question":
        assert user.respond("...", features).intent.kind == "clarification_answer"
    bye = user.respond("...", features)
    assert bye.intent.kind == "goodbye"
    return user, bye


def test_a_user_answers_a_question_put_before_any_answer_and_then_leaves(schema: PersonaSchema) -> None:
    """A user about to leave who was just asked about their request ("Before I suggest anything: what do you
    enjoy?") answers first, as a person would (48 of 600 tracker Chat-v0 episodes ended right after its opening
    question, at -1), and leaves on their next message whatever it gets: a question holds no user for longer.  A
    question after an answer that served the request ("Anything else?") is no reason to stay."""
    from personagym.simulators.user import UserConfig

    answered = 0
    for seed in range(40):
        user = UserSimulator(PersonaSampler(schema).sample(seed), seed=seed, noise=NoiseConfig(rate=0.0),
                             config=UserConfig(end_base=1.0))
        user.open_session()
        plain = _plain_on_the_request(user)
        if plain is None:
            continue
        question = ResponseFeatures(word_count=12, questions=1, asked_about=["diet"])
        assert user.respond("What do you eat?", question).intent.kind == "clarification_answer"
        assert user.respond("And how long should answers be?", question).intent.kind == "goodbye"
        answered += 1
        served = UserSimulator(PersonaSampler(schema).sample(seed), seed=seed, noise=NoiseConfig(rate=0.0),
                               config=UserConfig(end_base=1.0))
        served.open_session()
        offer = ResponseFeatures(word_count=40, questions=1, mentions=[MentionFeature(node=plain, stance="recommend")])
        assert served.respond("Try this. Anything else?", offer).intent.kind == "goodbye"
    assert answered >= 20, answered


def test_a_goodbye_follows_how_the_session_went_not_only_its_last_answer(schema: PersonaSchema) -> None:
    """A user whose request was served and who is satisfied overall leaves content, though the last answer missed a
    style preference they never said ("Thanks, that'll do, even if it's not quite how I like it."): it had left
    70 of the tracker's 224 unhappy goodbyes on Chat-v0 at satisfaction 0.6 or more, worded as from a user never
    answered ("That's enough for today, I'm frustrated.").  One served and let down on a style they had said leaves
    unhappy, and says so mildly while satisfied overall; only one satisfied no more says so in frustration."""
    import json

    from personagym.simulators.renderers import TEMPLATES_PATH

    goodbyes = json.loads(TEMPLATES_PATH.read_text(encoding="utf-8"))["goodbyes"]
    said = {mood: {t.lower() for t in pool} for mood, pool in goodbyes.items()}
    moods: Counter = Counter()
    for seed in range(60):
        left = _goodbye_after(schema, seed, "served")
        if left is None:
            continue
        user, bye = left
        satisfied = user.state.satisfaction >= 0.5
        missed = not all(user.last_assessment.style_checks.values())
        assert (bye.intent.polarity == 1) == satisfied and user.left_content == satisfied, bye.text
        mood = ("mixed" if missed else "satisfied") if satisfied else "unsatisfied"
        assert any(s in bye.clean_text.lower() for s in said[mood]), (mood, bye.text)
        moods[mood] += 1
        user, bye = _goodbye_after(schema, seed, "served", told=True)
        if missed:  # what they had said was ignored: no content goodbye right after it
            mood = "disappointed" if user.state.satisfaction >= 0.5 else "unsatisfied"
            assert bye.intent.polarity == -1 and any(s in bye.clean_text.lower() for s in said[mood]), bye.text
            moods["told " + mood] += 1
    assert moods["mixed"] >= 5 and moods["satisfied"] >= 5 and moods["told disappointed"] >= 5, moods


def test_a_question_alone_serves_no_request_a_user_leaves_content_with(schema: PersonaSchema) -> None:
    """A clarifying question ("Before I suggest anything: what kinds of things do you enjoy?") followed by "Thank
    you, that answers my question." (7 of 600 tracker episodes on Chat-v0, 16 of 500 on ChatNoisy-v0, each paid +1
    efficiency): a user leaving right after it leaves unhappy, mildly while satisfied overall; the same user
    answered with something on the request leaves content."""
    seen = 0
    for seed in range(60):
        left = _goodbye_after(schema, seed, "question")
        if left is None:
            continue
        user, bye = left
        assert bye.intent.polarity == -1 and not user.left_content, bye.text
        assert (bye.intent.level == "low") == (user.state.satisfaction >= 0.5), bye.text
        served, _ = _goodbye_after(schema, seed, "served")
        seen += served.left_content
    assert seen >= 20, seen


def test_a_user_never_says_the_same_words_twice() -> None:
    """ "Nice one." then "Nice one." again read as a bot: the oracle drew 14 such repeats in 150 episodes, and an
    audit found 100 more that were not the message just before ("Wow, that's exactly what I needed!" at turns 1
    and 5)."""
    import gymnasium as gym

    from personagym.policies import make_policy
    from personagym.rollout import run_episode

    env = gym.make("PersonaGym/LongTerm-v0")
    agent = make_policy("oracle", env=env, seed=0)
    praised = 0
    for seed in range(150):
        trajectory = run_episode(env, agent, seed, "oracle")
        turns = [t.user for t in trajectory.turns] + [t.closing for t in trajectory.turns if t.closing]
        said = [u.clean_text for u in turns]
        assert len(set(said)) == len(said), seed
        praised += sum(u.intent.kind == "feedback" and u.intent.polarity == 1 for u in turns)
    assert praised > 100


def test_a_request_attaches_no_unrelated_fact(schema: PersonaSchema) -> None:
    """ "A timeline of key events in TypeScript? Small thing: I don't drink alcohol." (98 of 1,690 attached facts),
    "I need to explain Raspberry Pi to my parents. Important: I don't have kids." (about 30 of 70 audited
    background facts): a fact about a constraint or the user's background goes only with requests of the domains
    `fact_domains` lists for it, and with a topic under a category `fact_categories` lists for it ("What are common
    beginner mistakes in card games? Just a heads-up: I'm a homeowner.", "Where's the best place to shop for yachts?
    One thing though: I run on coffee.": about half the background facts attached went with such topics); how to
    answer goes with any."""
    bank = TemplateRenderer(schema).bank
    fits, bears = bank.fact_domains, bank.fact_categories
    assert "tech_help" not in fits["diet"] and "writing" not in fits["children"] and "length_pref" not in fits
    assert "hobbies_crafts" not in bears["housing"] and "drinks_beverages" not in bears[("religious_restrictions",
                                                                                          "no_gambling")]
    attached: Counter = Counter()
    for _, turn in simulate_turns(20_000, 8, noise=NoiseConfig(rate=0.0)):
        intent = turn.intent
        if intent.kind == "task_request" and intent.attribute and intent.reason != "life_event":
            attached[intent.attribute in fits] += 1
            assert intent.attribute not in fits or intent.domain in fits[intent.attribute], turn.text
            categories = bears.get((intent.attribute, intent.value)) or bears.get(intent.attribute)
            if categories is not None and intent.topic and intent.reason != "late_news":  # news is told anyway
                attached["by category"] += 1
                assert schema.taxonomy.top_category(intent.topic) in categories, turn.text
    assert attached[True] > 150 and attached[False] > 300 and attached["by category"] > 100, attached


def test_a_user_states_no_fact_their_profile_does_not_hold(schema: PersonaSchema) -> None:
    """"I'm over 50 and curious about karate." from a user with no age, "Kids are finally asleep" or "I'd like to
    share bowhunting with my kids." with no children, "Walking the dog rn" with no pets (about 90 of 130 such
    messages in 1,500 ChatNoisy episodes): a template or fragment that states a fact (`states`,
    `fragment_states`) is said only by a user whose profile holds it."""
    from personagym.simulators.noise import load_lexicon

    bank = TemplateRenderer(schema).bank
    stating = {max(re.split(r"\{\w+\}", text), key=len).strip(" ?."): attribute
               for domain in bank.raw["task_requests"].values() for text, attribute in domain.get("states", {}).items()}
    fragments = load_lexicon()["fragment_states"]
    assert len(stating) >= 10 and len(fragments) >= 8
    said: Counter = Counter()
    # one session each: a life event between sessions may give the user what the persona had not (a new cat)
    for persona, turn in simulate_turns(30_000, 21, noise=NoiseConfig(rate=0.6), sessions_per_persona=1):
        for words, attribute in [*((w, a) for w, a in stating.items() if w in turn.clean_text),
                                 *((w, a) for w, a in fragments.items() if w in turn.text.lower())]:
            said[words] += 1
            assert attribute in persona.attributes, (attribute, turn.text)
    assert sum(said.values()) > 40 and len(said) >= 8, said


def test_a_user_who_cannot_travel_asks_for_no_trip(schema: PersonaSchema) -> None:
    """"I'm planning a trip with RV travel ... (Also, I can't really travel right now.)": 41 of 225 audited travel
    requests came from users who cannot travel (`domain_needs`)."""
    grounded = _persona_with(schema, lambda p: p.attributes.get("travel_flexibility") == "cannot_travel")
    free = _persona_with(schema, lambda p: p.attributes.get("travel_flexibility") == "flexible")
    domains: dict[str, Counter] = {"grounded": Counter(), "free": Counter()}
    for name, persona in (("grounded", grounded), ("free", free)):
        for seed in range(300):
            user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0))
            domains[name][user.open_session().intent.domain] += 1
    assert domains["grounded"]["travel"] == 0 and domains["free"]["travel"] > 5, domains


def test_praise_past_a_missed_style_claims_no_fit(schema: PersonaSchema, taxonomy) -> None:
    """"Wonderful, you totally got what I meant." then "Not really helpful, sorry. Also, I prefer plain
    paragraphs.": praise past a missed style preference claims no fit and is not high; an answer on the request
    that meets the user's style may still be "exactly what I needed"."""
    from personagym.simulators.user import UserConfig

    claims = set(TemplateRenderer(schema).bank.raw["fit_claims"])
    sampler = PersonaSampler(schema)
    said: dict[str | None, set[str]] = {"missed_style": set(), None: set()}
    levels: dict[str | None, set[str | None]] = {"missed_style": set(), None: set()}
    for seed in range(2000):
        persona = sampler.sample(seed)
        user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0),
                             config=UserConfig(end_base=0.0, end_per_turn=0.0))
        user.open_session()
        picks = [i.node for i in persona.interests if i.polarity > 0
                 and on_request(taxonomy.paths[i.node], user.about)
                 and i.node not in taxonomy.paths.get(user.topic or "", ())]
        if not picks:
            continue
        turn = user.respond("Try this!", ResponseFeatures(
            word_count=60, mentions=[MentionFeature(node=picks[0], stance="recommend")]))
        if turn.intent.kind == "feedback" and turn.intent.polarity == 1:
            missed = not all(user.last_assessment.style_checks.values())
            assert turn.intent.reason == ("missed_style" if missed else None)
            said[turn.intent.reason].add(turn.clean_text)
            levels[turn.intent.reason].add(turn.intent.level)
    assert len(said["missed_style"]) > 5 and not said["missed_style"] & claims and "high" not in levels["missed_style"]
    assert said[None] & claims  # an answer on the request may still be "exactly what I needed"


def test_a_user_objects_again_to_what_they_had_said_and_the_answer_ignored(schema: PersonaSchema, taxonomy) -> None:
    """"Brilliant, this is spot on!" right after a second answer that ignored the complaint (107 of 988 audited
    cases), and first-mention words for it ("Small thing: ..."): once a user has said how they like answers, an
    answer that ignores it again is objected to with "Like I said, ..." (or the user leaves unhappy)."""
    persona = _persona_with(schema, lambda p: p.attributes.get("length_pref") == "terse")
    reactions = []
    for seed in range(60):
        user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0))
        user.open_session()
        offer = _plain_on_the_request(user)
        if offer is None:
            continue
        essay = ResponseFeatures(word_count=400, formality=FORMALITY_TARGET.get(
            str(persona.attributes.get("formality_level")), 0.5),
            mentions=[MentionFeature(node=offer, stance="recommend")])
        first = user.respond(features=essay)
        if not (first.intent.kind == "feedback" and first.intent.reason == "ignored_preference"):
            continue  # the user has not said it yet
        second = user.respond(features=essay)
        reactions.append((second.intent.kind, second.intent.polarity, second.intent.reason))
        assert second.intent.polarity == -1, second.text
        if second.intent.kind == "feedback":
            assert second.intent.reason == "ignored_again", second.text
            leads = ("I already said", "Again", "Like I said", "As I mentioned", "I've said", "You missed it again",
                     "Still not right", "Once more", "I did mention", "Same problem")
            assert any(lead in second.text for lead in leads), second.text
    assert sum(kind == "feedback" for kind, _, _ in reactions) > 10, reactions


def test_a_violated_constraint_said_before_is_said_again_as_such(schema: PersonaSchema, taxonomy) -> None:
    """A vegan offered steak twice says "I already told you: ..." the second time, not "Heads up, ..."."""
    persona, bad = _vegan_offered_steak(schema, taxonomy)
    seconds = []
    for seed in range(30):
        user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0))
        user.open_session()
        first = user.respond(features=bad)
        if first.intent.reason != "constraint_violation" or first.intent.value != "vegan":
            continue
        second = user.respond(features=bad)
        if second.intent.kind == "feedback" and second.intent.value == "vegan":
            seconds.append(second.intent.reason)
    assert seconds and set(seconds) == {"violated_again"}, seconds


def test_a_request_says_a_told_fact_again_only_after_something_went_wrong(schema: PersonaSchema) -> None:
    """69 audited episodes attached the same fact to five or more requests, each time as news ("Small thing:
    ..."): a fact already told is attached again only once an answer went against the user, and then as such."""
    from personagym.simulators.user import UserConfig

    persona = _persona_with(schema, lambda p: p.attributes.get("diet") == "vegan")
    restate = tuple(c.strip().split("{")[0].strip() for c in TemplateRenderer(schema).bank.raw["restate_connectors"])
    config = UserConfig(attach_preference_rate=1.0, interest_topic_rate=0.0)
    attached = {0: 0, 1: 0}
    for seed in range(40):
        for level in (0, 1):
            user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0), config=config)
            user.open_session()
            user._memory.disclosed.update(user._attribute_facts)  # everything has been told
            user.state.restate_level = level
            request = user._turn(user._request())
            if request.intent.attribute is None:
                continue
            attached[level] += 1
            assert level == 1 and request.intent.reason == "restated", request.text
            assert any(lead in request.text for lead in restate), request.text
    assert attached[0] == 0 and attached[1] > 20, attached


def test_a_user_with_nothing_to_say_hands_back_no_choice_they_were_not_offered(schema: PersonaSchema) -> None:
    """Asked "Do you follow any diet?", a user with nothing to tell says so; "Not sure, you pick." or "Could go
    either way." answers a choice between options, which no yes/no or open question offers."""
    sampler = PersonaSampler(schema)
    features = ResponseFeatures(word_count=5, questions=1, asked_about=["diet"])
    said = []
    for seed in range(300):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0))
        user.open_session()
        turn = user.respond("Do you follow any diet?", features)
        if turn.intent.kind == "clarification_answer" and turn.intent.attribute is None:
            said.append(turn.text)
    assert len(said) >= 20, said
    handed_back = [t for t in said if re.search(r"pick|either|your call|surprise me|leave that|whatever", t, re.I)]
    assert not handed_back, handed_back


def test_news_goes_with_a_request_it_bears_on_and_waits_until_it_is_told(schema: PersonaSchema) -> None:
    """"Since last time, I'm vegan." goes with a request it bears on (not a job-market question), and news the
    session's first request did not tell is told by a later one: it was dropped, and a user who had quit
    drinking and never said so complained "I don't drink alcohol" as if the assistant should have known."""
    from personagym.simulators.preferences import PreferenceConfig
    from personagym.simulators.user import UserConfig

    sampler = PersonaSampler(schema)
    fits = TemplateRenderer(schema).bank.fact_domains
    told, later = 0, 0
    for seed in range(80):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0),
                             preferences=PreferenceConfig(event_rate=1.0, drift_rate=0.0),
                             config=UserConfig(news_rate=0.4, end_base=0.0, end_per_turn=0.0))
        user.open_session()
        user.next_session()
        turns = _session(user, user.open_session(), 9)
        for turn in turns:
            intent = turn.intent
            if intent.reason == "life_event":
                told += 1
                later += turn is not turns[0]
                assert intent.attribute not in fits or intent.domain in fits[intent.attribute], intent
    assert told >= 20 and later >= 5, (told, later)


def test_a_change_of_taste_is_told_and_a_lost_interest_offered_gets_not_anymore(schema: PersonaSchema) -> None:
    """A drift of a liked interest the user had named to a sibling is told in a later session ("These days I'm
    more into bebop than swing."), and an answer recommending the old one gets "I'm not really into swing
    anymore.": else what an assistant had learnt turned silently false, and answers built on it were praised.
    Neither message carries a PKI for the old interest: it is no interest now, liked or disliked.  A drift to a
    child narrows the taste and is told as such (recommending "pet birds" to one now into African grey parrots
    earned nothing, unobjected: 72 times in 1,800 LongTerm episodes); a drift to a parent widens it (the old one is
    still under a like): no news."""
    from personagym.simulators.preferences import PreferenceConfig
    from personagym.simulators.user import UserConfig

    sampler, nodes = PersonaSampler(schema), schema.taxonomy.nodes
    told = objected = widened = narrowed = 0
    for seed in range(400):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0),
                             preferences=PreferenceConfig(drift_rate=1.0, event_rate=0.0),
                             config=UserConfig(end_base=0.0, end_per_turn=0.0, news_rate=1.0))
        opener = user.open_session()
        named = [p.key for p in opener.pkis if p.kind == "interest" and p.polarity > 0]
        moved = {e.before: e.after for e in user.next_session() if e.kind == "drift"}
        if not named or named[0] not in moved:
            continue
        old, new = named[0], moved[named[0]]
        user.open_session()
        # the new taste, beside something the request is about (else the answer answered nothing)
        plain = [MentionFeature(node=n, stance="recommend") for n in [_plain_on_the_request(user)] if n]
        liked = ResponseFeatures(word_count=30, mentions=[MentionFeature(node=new, stance="recommend"), *plain])
        turn = user.respond("...", liked)
        if user.ended or (turn.intent.kind == "feedback" and turn.intent.polarity == -1):
            continue  # a complaint about the answer comes first (it answered nothing of the request)
        if nodes[old].parent == new:
            widened += 1
            assert turn.intent.reason != "moved_on", turn.text
            continue
        assert turn.intent.reason == "moved_on", turn.text
        assert (turn.intent.topic, turn.intent.wrong) == (new, old)
        assert {(p.key, p.polarity) for p in turn.pkis} == {(new, 1)}, turn.pkis
        if nodes[new].parent == old:
            # told as a narrower taste, not as a move away from what it is part of ("I've moved on from combat
            # sports to Brazilian jiu-jitsu", "more into the Cold War than the 20th century")
            assert not re.search(r"moved on|more into|than", turn.text), turn.text
            narrowed += 1  # the old one is above a like: offering it again is no lost interest offered
            continue
        told += 1
        turn = user.respond("...", ResponseFeatures(word_count=30, mentions=[
            MentionFeature(node=old, stance="recommend"), *plain]))
        if user.ended or (turn.intent.reason == "disliked_item" and old in user.state.interests):
            continue  # a dislike drifted onto it since: said as a dislike
        assert turn.intent.reason == "no_longer_into" and turn.intent.topic == old, turn.text
        assert old not in {p.key for p in turn.pkis}, turn.pkis
        objected += 1
    assert told >= 10 and objected >= 10 and widened >= 5 and narrowed >= 3, (told, objected, widened, narrowed)


def test_a_lost_interest_offered_again_and_again_is_objected_to_at_most_twice_a_session(
        schema: PersonaSchema) -> None:
    """An answer that keeps recommending an interest the user has lost gets "I'm not really into swing anymore."
    once or twice in a session, then something else: a third one ran the pool out and repeated a sentence (8 of
    the 9 sentences said twice in a session over 1,500 LongTerm episodes).  A new session may say it again."""
    from personagym.simulators.preferences import PreferenceConfig
    from personagym.simulators.user import LOST_TOLD_MAX, UserConfig

    sampler = PersonaSampler(schema)
    capped = then = again = 0
    for seed in range(400):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0),
                             preferences=PreferenceConfig(drift_rate=1.0, event_rate=0.0),
                             config=UserConfig(end_base=0.0, end_per_turn=0.0, news_rate=0.0))
        named = [p.key for p in user.open_session().pkis if p.kind == "interest" and p.polarity > 0]
        moved = {e.before: e.after for e in user.next_session() if e.kind == "drift"}
        if not named or named[0] not in moved or schema.taxonomy.nodes[named[0]].parent == moved[named[0]]:
            continue
        old, ids = named[0], schema.taxonomy.ids
        for session in range(2):
            user.open_session()
            said: list[UserTurn] = []
            while len(said) < 6 and not user.ended:  # the lost one, with something new each time: no repeat
                other = ids[(7 * seed + len(said)) % len(ids)]
                said.append(user.respond("...", ResponseFeatures(word_count=30, mentions=[
                    MentionFeature(node=old, stance="recommend"), MentionFeature(node=other, stance="recommend")])))
            told = [t for t in said if t.intent.reason == "no_longer_into" and t.intent.topic == old]
            assert len(told) <= LOST_TOLD_MAX, [t.text for t in said]
            if len(told) == LOST_TOLD_MAX:
                capped += 1
                then += len(said) > said.index(told[-1]) + 1  # and the answers went on offering it
                again += session == 1
    assert capped >= 100 and then >= 100 and again >= 50, (capped, then, again)


def _opened_with_a_like(schema: PersonaSchema, seeds: range):
    """(seed, a user who has opened a session, an answer recommending one of their likes the request is about),
    for users with such a like: one of their liked interests, or a thing under one (`_new_things_they_like`)."""
    sampler = PersonaSampler(schema)
    for seed in seeds:
        persona = sampler.sample(seed)
        user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0))
        user.open_session()
        liked = _on_the_request(user, [*(i.node for i in persona.interests if i.polarity > 0),
                                       *_new_things_they_like(schema, persona)])
        if liked:
            yield seed, user, ResponseFeatures(word_count=40, mentions=[MentionFeature(node=liked[0],
                                                                                      stance="recommend")])


def test_the_same_list_again_after_asking_for_more_gets_no_praise(schema: PersonaSchema) -> None:
    """An answer recommending exactly what the one before did, though the user had asked for something since,
    gets "That's the same list as last time." and no happy goodbye right after; it was praised, escalating
    ("This is the best answer I've gotten all week.")."""
    complained = praised = 0
    for seed, user, same in _opened_with_a_like(schema, range(1800)):
        first = user.respond("...", same).intent
        if user.ended or first.kind not in ("task_request", "feedback") or first.polarity == 1:
            continue  # praise asks for nothing: the same list again after it is no repeat
        again = user.respond("...", same).intent
        assessment = user.last_assessment
        assert not assessment.repeated or assessment.alignment <= 0, seed  # the reward agrees: nothing new liked
        assert assessment.repeated or again.reason != "repeated", seed
        if again.kind == "goodbye":
            assert again.polarity == -1, seed
            continue
        if again.reason == "repeated":
            complained += 1
        praised += again.kind == "feedback" and again.polarity == 1
    assert complained >= 20 and praised == 0, (complained, praised)


def test_the_same_list_after_praise_or_a_disclosure_is_a_repeat_but_not_after_a_call_for_another_style(
        schema: PersonaSchema) -> None:
    """"Perfect! Couldn't have asked for better." or "Little detail: the more examples the better.", then the same two
    picks earned full preference again and were praised (27% of the oracle's answers after praise or a disclosure;
    repeats were read only after requests and complaints about content): after praise or a disclosure the same list
    is a repeat, nothing liked in it counts and it gets no praise; after a call for another style (a complaint about
    it, a checked style preference told: `STYLE_CHECKED`) the same things, reworded as asked, are none."""
    from personagym.simulators.preferences import STYLE_CHECKED
    from personagym.simulators.user import STYLE_REASONS

    seen: Counter[str] = Counter()
    for seed, user, same in _opened_with_a_like(schema, range(1500)):
        first = user.respond("...", same).intent
        if user.ended or first.kind in ("task_request", "clarification_answer"):
            continue
        restyle = (first.kind == "feedback" and first.polarity == -1 and first.reason in STYLE_REASONS) or (
            first.attribute in STYLE_CHECKED)
        kind = "restyle" if restyle else "praise" if first.kind == "feedback" and first.polarity == 1 \
            else "disclosure" if first.kind == "preference_disclosure" else "other"
        seen[kind] += 1
        again = user.respond("...", same).intent
        assessment = user.last_assessment
        if kind == "restyle":
            assert not assessment.repeated and again.reason != "repeated", (seed, first)
            continue
        assert assessment.repeated and assessment.alignment <= 0 and assessment.style_match == 0.0, (seed, first)
        assert not (again.kind == "feedback" and again.polarity == 1), (seed, first)
        assert again.kind != "goodbye" or again.polarity == -1, (seed, first)
    assert seen["praise"] >= 40 and seen["disclosure"] >= 15 and seen["restyle"] >= 50, seen


def test_a_thing_given_since_the_request_earns_nothing_again(schema: PersonaSchema) -> None:
    """"Perfect!" answered by the last list with one thing swapped earned the liked credit of the things kept (32
    of 79 of the oracle's credited answers to praise; 14 of 819 to disclosures): a thing recommended since the
    request earns nothing again, beside a new one or not, unless the user called for another style; the
    policies' lists put the things not given first (`RecommendedLists`)."""
    from personagym.envs.stated import RecommendedLists
    from personagym.simulators.preferences import STYLE_CHECKED
    from personagym.simulators.user import STYLE_REASONS

    seen: Counter[str] = Counter()
    tax = schema.taxonomy
    for seed, user, first_answer in _opened_with_a_like(schema, range(1500)):
        old = first_answer.mentions[0].node
        interests = user.state.interests
        beside = [n for n in tax.children[tax.nodes[old].parent] if n != old and not any(
            a in interests and interests[a].polarity < 0 for a in tax.paths[n]) and not tax.nodes[n].tags]
        new = next(iter(_on_the_request(user, beside)), None)  # a thing beside it, not disliked
        first = user.respond("...", first_answer).intent
        if new is None or user.ended or first.kind in ("task_request", "clarification_answer"):
            continue
        assert dict(user.last_assessment.liked)[old] > 0, seed
        restyle = (first.kind == "feedback" and first.polarity == -1 and first.reason in STYLE_REASONS) or (
            first.attribute in STYLE_CHECKED)
        both = ResponseFeatures(word_count=40, mentions=[MentionFeature(node=old, stance="recommend"),
                                                         MentionFeature(node=new, stance="recommend")])
        user.respond("...", both)
        credit = dict(user.last_assessment.liked)
        assert (credit[old] > 0) == restyle, (seed, first, credit)
        seen["restyle" if restyle else "kept"] += 1
    assert seen["kept"] >= 30 and seen["restyle"] >= 15, seen
    lists = RecommendedLists()
    assert lists.pick("jazz", ["bebop", "swing", "cool jazz"], 2) == ["bebop", "swing"]
    assert lists.pick("jazz", ["bebop", "swing", "cool jazz", "fusion"], 2) == ["cool jazz", "fusion"]
    assert lists.pick("rock", ["bebop", "punk"], 2) == ["bebop", "punk"]  # a new request: all new again


def _asks_for_more(turn: UserTurn, user: UserSimulator) -> bool:
    """Whether the user's reply asks for more on the same request: a complaint about what was offered (not about
    the style), not a new request, praise or goodbye."""
    from personagym.simulators.user import STYLE_REASONS

    intent = turn.intent
    return not user.ended and intent.kind == "feedback" and intent.polarity == -1 and intent.reason not in STYLE_REASONS


def test_a_list_given_earlier_for_the_request_is_the_same_list_again(schema: PersonaSchema) -> None:
    """Answers A, B, then A again to one request, the user asking for more after each: A again is the same list
    (only the list right before counted, so a policy alternating two lists never repeated one), while A, B, C is
    no repeat; and a new request starts afresh: a list given for the last one is no repeat of this one's."""
    again = fresh = 0
    for seed, user, _ in _opened_with_a_like(schema, range(400)):
        held = {i.node for i in user.persona.interests}
        things = [n for n in _on_the_request(user, user.taxonomy.ids) if n not in held]
        disliked = [i.node for i in user.persona.interests if i.polarity < 0]
        if len(things) < 3 or not disliked:
            continue
        # each list with a thing they dislike besides: they complain about it, asking for something else
        a, b, c = (ResponseFeatures(word_count=40, mentions=[MentionFeature(node=n, stance="recommend"),
                                                             MentionFeature(node=disliked[0], stance="recommend")])
                   for n in things[:3])
        if not _asks_for_more(user.respond("...", a), user) or not _asks_for_more(user.respond("...", b), user):
            continue
        other = copy.deepcopy(user)
        user.respond("...", a)
        assert user.last_assessment.repeated, seed
        other.respond("...", c)
        assert not other.last_assessment.repeated, seed
        again += 1
    assert again >= 20, again
    for seed, user, first in _opened_with_a_like(schema, range(500)):
        held = {i.node for i in user.persona.interests}
        disliked = [i.node for i in user.persona.interests if i.polarity < 0]
        if not disliked:
            continue
        # everything they hold no interest in, and one thing they dislike: a complaint, asking for something else
        a = ResponseFeatures(word_count=40, mentions=[
            MentionFeature(node=n, stance="recommend") for n in [
                *(n for n in user.taxonomy.ids if n not in held and not user.taxonomy.nodes[n].tags), disliked[0]]])
        if not _asks_for_more(user.respond("...", a), user):
            continue
        kind = None
        for _ in range(3):  # a liked thing on the request, until they praise no more and ask the next thing
            if user.ended or (kind := user.respond("...", first).intent.kind) == "task_request":
                break
        on = _on_the_request(user, [m.node for m in a.mentions])
        if user.ended or kind != "task_request" or not on or on == _on_the_request(user, [first.mentions[0].node]):
            continue  # a new request, which some of that list is about too (not only what the last answer offered)
        user.respond("...", a)
        assert not user.last_assessment.repeated, seed
        fresh += 1
    assert fresh >= 3, fresh


def test_the_same_list_named_without_a_cue_is_the_same_list_and_the_topic_said_back_is_none(
        schema: PersonaSchema) -> None:
    """Only what an answer recommended made a list: "Steak." said again to a user who had asked for more was no
    repeat and earned half a liked thing's credit each time, while "Try Chromebooks." said again to a question
    about Chromebooks (the request's own topic, which tells the user nothing) was one: appending it to the
    oracle's answers cost 0.07 an episode, where naming it bare cost nothing.  An answer that recommends nothing
    lists what it names; the request's topic said back lists nothing."""
    named = echoed = 0
    for seed, user, same in _opened_with_a_like(schema, range(1200)):
        echo = copy.deepcopy(user)
        disliked = [i.node for i in user.persona.interests if i.polarity < 0]
        # a liked thing and a disliked one, named: they complain of the second, asking for something else
        bare = ResponseFeatures(word_count=40, mentions=[MentionFeature(node=n, stance="neutral")
                                                         for n in [same.mentions[0].node, *disliked[:1]]])
        if disliked and _asks_for_more(user.respond("...", bare), user):
            user.respond("...", bare)
            assert user.last_assessment.repeated, seed
            assert user.last_assessment.alignment <= 0 and user.last_assessment.style_match == 0.0, seed
            named += 1
        if echo.topic is None:
            continue
        said_back = ResponseFeatures(word_count=40, mentions=[MentionFeature(node=echo.topic, stance="recommend")])
        if echo.respond("...", said_back).intent.polarity != 1 and not echo.ended:
            echo.respond("...", said_back)
            assert not echo.last_assessment.repeated, seed
            echoed += 1
    assert named >= 20 and echoed >= 20, (named, echoed)


def _praised_then(schema: PersonaSchema, seed: int) -> tuple[UserTurn, list[UserTurn]] | None:
    """For a user whose first answer (one liked thing the request is about) they praised: their reply to the same
    answer again, and their replies to answers that each add one more such thing (up to two more, until they
    leave); None for a user with no such thing, or who did not praise."""
    persona = PersonaSampler(schema).sample(seed)
    user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0))
    user.open_session()
    liked = _on_the_request(user, [*(i.node for i in persona.interests if i.polarity > 0),
                                   *_new_things_they_like(schema, persona)])

    def offering(n: int) -> ResponseFeatures:
        return ResponseFeatures(word_count=40, mentions=[MentionFeature(node=x, stance="recommend")
                                                         for x in liked[:n]])

    if not liked or not _praise(user.respond("...", offering(1))) or user.ended:
        return None
    same = copy.deepcopy(user).respond("...", offering(1))
    more = [user.respond("...", offering(n)) for n in range(2, len(liked[:3]) + 1) if not user.ended]
    return same, more


def _praise(turn: UserTurn) -> bool:
    return turn.intent.kind == "feedback" and turn.intent.polarity == 1


def test_praise_is_followed_by_the_next_request_or_a_goodbye_not_by_praise_after_praise(
        schema: PersonaSchema) -> None:
    """"That's really helpful, thanks." / "This is the best answer I've gotten all week." / "This is exactly what I
    was hoping for, thank you!", to answers with nothing asked in between (82 runs of three or more praises and 193
    of two in 1,500 LongTerm episodes of the tracker): after a praise, the same answer again gets no praise (35 of
    124 such users praised it again): it is a repeat, said as one ("You suggested exactly these already.") or left
    unhappy; one that offers something new may be praised once more (`PRAISES_IN_A_ROW`), never a third time in a
    row.  The same seed gives the same messages."""
    from personagym.simulators.user import PRAISES_IN_A_ROW

    after_same: Counter = Counter()
    praised_new = 0
    for seed in range(3000):
        replies = _praised_then(schema, seed)
        if replies is None:
            continue
        same, more = replies
        assert not _praise(same) and same.intent.reason in ("repeated", None), same.text
        after_same[same.intent.kind, same.intent.polarity] += 1
        run = 1
        for turn in more:
            run = run + 1 if _praise(turn) else 0
            assert run <= PRAISES_IN_A_ROW, [t.text for t in more]
        praised_new += bool(more) and _praise(more[0])
    assert after_same["feedback", -1] >= 30 and set(after_same) <= {("feedback", -1), ("goodbye", -1)}, after_same
    assert praised_new >= 2, praised_new
    for seed in range(40):
        assert _praised_then(schema, seed) == _praised_then(schema, seed), seed


def test_the_same_list_again_pleases_no_more_than_the_reward_pays(schema: PersonaSchema) -> None:
    """Nothing liked in a list seen already counts in the reward, and nothing of it pleases the user: it raised their
    satisfaction (the reaction came before the user knew it was a repeat) while the reward counted none of it, and
    was paid the user's style besides (245 answers of 11,251 in an audit of 15 policies)."""
    repeats = 0
    for seed, user, same in _opened_with_a_like(schema, range(1200)):
        first = user.respond("...", same).intent
        if user.ended or first.kind not in ("task_request", "feedback") or first.polarity == 1:
            continue
        before, events = user.state.satisfaction, len(user.events)
        user.respond("...", same)
        assessment = user.last_assessment
        if not assessment.repeated:
            continue
        repeats += 1
        assert not [e for e in user.events[events:] if e.target == "satisfaction" and e.after > e.before], seed
        assert user.state.satisfaction <= round(max(0.0, before - REPEAT_PENALTY), 4), seed
        assert assessment.alignment <= 0 and assessment.style_match == 0.0, seed
    assert repeats >= 20, repeats


def test_the_same_list_again_with_a_favourite_off_the_request_added_is_still_the_same_list(
        schema: PersonaSchema, taxonomy) -> None:
    """A favourite off the request added to the list before is nothing new to what was asked: the oracle's answer
    plus one favourite off the request, a different one each answer, was never the same list and earned +0.06 an
    episode over the oracle on Chat-v0 (+0.22 on LongTerm-v0) in style and content goodbyes."""
    repeats = 0
    for seed, user, same in _opened_with_a_like(schema, range(2000)):
        first = user.respond("...", same).intent
        if user.ended or first.kind not in ("task_request", "feedback") or first.polarity == 1 \
                or not on_request(taxonomy.paths[same.mentions[0].node], user.about):
            continue  # a new request the list before is not about: that list answers nothing now
        off = [i.node for i in user.state.interests.values()
               if i.polarity > 0 and not on_request(taxonomy.paths[i.node], user.about)]
        if not off:
            continue
        plain = copy.deepcopy(user)
        plain.respond("...", same)
        padded = same.model_copy(update={"mentions": [*same.mentions, MentionFeature(node=off[0], stance="recommend")]})
        user.respond("...", padded)
        assert user.last_assessment.repeated == plain.last_assessment.repeated, seed
        if user.last_assessment.repeated:
            assert user.last_assessment.alignment <= 0 and user.last_assessment.style_match == 0.0, seed
            repeats += 1
    assert repeats >= 3, repeats  # the same list again, read alike with the padding as without (4 of 2,000)


def test_a_later_session_can_open_with_how_long_it_has_been(schema: PersonaSchema) -> None:
    """"Hi again, it's been a few weeks." opens a later session, with the gap it had ("It's been ages." after a
    week read false): 387 of 450 later sessions read like a first meeting, none said the gap."""
    renderer = TemplateRenderer(schema, back_rate=1.0)
    back, said = renderer.bank.back_after, Counter()
    sampler = PersonaSampler(schema)
    for seed in range(40):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0), renderer=renderer)
        first = user.open_session()
        assert not any(first.clean_text.startswith(o) for pool in back.values() for o in pool)
        day = user.state.day
        user.next_session()
        gap = {7.0: "next_week", 30.0: "next_month", 365.0: "next_year"}[user.state.day - day]
        opener = user.open_session().clean_text
        assert any(opener.startswith(o) for o in back[gap]), (gap, opener)
        said[gap] += 1
    assert len(said) == 3


def test_no_session_opens_with_the_words_an_earlier_one_opened_with(schema: PersonaSchema) -> None:
    """"Hey, me again from last week." a week on and again the week after read as a bot (a repeated session
    opener in 55 of 600 LongTerm episodes, with three openers per gap): each session of an episode opens with an
    opener of its own, a greeting or one that says the gap."""
    from personagym.simulators.preferences import PreferenceConfig

    renderer = TemplateRenderer(schema, back_rate=0.9, opener_rate=1.0)
    weekly = PreferenceConfig(gap_weights={"next_week": 1.0, "next_month": 0.0, "next_year": 0.0})
    bank = renderer.bank
    openers = {*bank.openers[2], *(o for pool in bank.back_after.values() for o in pool)}
    sampler = PersonaSampler(schema)
    opened = 0
    for seed in range(40):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0), renderer=renderer,
                             preferences=weekly)
        said: list[str] = []
        for session in range(4):
            if session:
                user.next_session()
            text = user.open_session().clean_text
            opener = max((o for o in openers if text.startswith(o)), key=len, default=None)
            if opener is not None:
                assert opener not in said, (seed, opener, said)
                said.append(opener)
                opened += session > 0
    assert opened >= 100, opened


def test_a_restyled_answer_or_a_new_session_is_no_repeat(schema: PersonaSchema) -> None:
    """The same items again after a complaint about the style ("I prefer a formal style") are what was asked for,
    and the list a session ended with is no repeat in the next one: both got "That's the same list as last
    time." (99 and 115 times in 150 episodes)."""
    from personagym.simulators.user import STYLE_REASONS

    restyled = reopened = 0
    for seed, user, same in _opened_with_a_like(schema, range(700)):
        first = user.respond("...", same).intent
        if user.ended:
            continue
        if first.reason in STYLE_REASONS:
            restyled += 1
            assert user.respond("...", same).intent.reason != "repeated", seed
        user.next_session()
        user.open_session()
        reopened += 1
        assert user.respond("...", same).intent.reason != "repeated", seed
    assert restyled >= 10 and reopened >= 100, (restyled, reopened)


def _new_things_they_like(schema: PersonaSchema, persona: Persona) -> list[str]:
    """Things a persona likes through an interest above them that are none of its interests (bebop for a jazz
    lover): one child of each liked interest that has one, in the order of the interests."""
    tax, interests = schema.taxonomy, {i.node for i in persona.interests}
    return [child for i in persona.interests if i.polarity > 0
            for child in [next((c for c in tax.children[i.node] if not tax.nodes[c].group and c not in interests),
                               None)] if child is not None]


def test_a_user_who_left_content_can_report_on_what_was_recommended(schema: PersonaSchema) -> None:
    """A later session can say that something the last answer recommended was a hit ("Your bebop suggestion
    last time was spot on."), with a PKI liking it, after a content goodbye; "I'll report back." was never
    followed up.  After an unhappy goodbye nothing is reported: they tried nothing."""
    from personagym.simulators.preferences import PreferenceConfig
    from personagym.simulators.user import UserConfig

    sampler = PersonaSampler(schema)
    reported = silent = 0
    for seed in range(400):
        persona = sampler.sample(seed)
        user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0),
                             preferences=PreferenceConfig(drift_rate=0.0, event_rate=0.0),
                             config=UserConfig(end_base=1.0, report_rate=1.0))
        user.open_session()
        liked = _on_the_request(user, _new_things_they_like(schema, persona))
        if not liked:
            continue
        if seed % 3 == 0:  # fed up before this answer: they leave unhappy whatever it offers
            user.state.satisfaction = 0.0
        answer = ResponseFeatures(word_count=40, mentions=[MentionFeature(node=liked[0], stance="recommend")])
        user.respond("...", answer)
        assert user.ended
        content = user.left_content
        user.config = UserConfig(end_base=0.0, end_per_turn=0.0, news_rate=1.0, report_rate=1.0)
        user.next_session()
        user.open_session()
        turns = _stay(user, 3)
        tried = [t for t in turns if t.intent.reason == "tried"]
        if user.ended and not tried:  # left before telling anything: leaving is drawn first
            continue
        if not content:
            assert not tried, seed
            silent += 1
            continue
        assert len(tried) == 1, [t.text for t in turns]
        assert tried[0].intent.topic == liked[0]
        assert {(p.key, p.polarity) for p in tried[0].pkis} == {(liked[0], 1)}, tried[0].text
        reported += 1
    assert reported >= 20 and silent >= 5, (reported, silent)


def _leave_after_a_like(user: UserSimulator) -> str | None:
    """Open a session whose one answer recommends a thing new to the user they like, on the request
    (`_new_things_they_like`), and which the user leaves at once: that thing, if they left content."""
    user.open_session()
    liked = _on_the_request(user, _new_things_they_like(user.schema, user.persona))
    return liked[0] if liked and _end_with(user, liked[0]) else None


def _end_with(user: UserSimulator, *nodes: str) -> bool:
    """An answer that recommends `nodes` (none: nothing), after which the user leaves; whether content."""
    from personagym.simulators.user import UserConfig

    user.config = UserConfig(end_base=1.0, report_rate=1.0, news_rate=1.0)
    mentions = [MentionFeature(node=node, stance="recommend") for node in nodes]
    user.respond("...", ResponseFeatures(word_count=40, mentions=mentions))
    assert user.ended
    return user.left_content


def _stay(user: UserSimulator, replies: int) -> list[UserTurn]:
    """Up to `replies` replies of a user who does not leave of their own accord (`end_base` 0): a user of low
    patience or satisfaction may leave even so."""
    return _session(user, user.respond(), replies)


def _reports(user: UserSimulator, replies: int = 4) -> list[str]:
    """The topics of the "tried" reports in the next session's first `replies` replies (the user stays)."""
    from personagym.simulators.user import UserConfig

    user.next_session()
    user.config = UserConfig(end_base=0.0, end_per_turn=0.0, news_rate=1.0, report_rate=1.0)
    user.open_session()
    return [t.intent.topic for t in _stay(user, replies) if t.intent.reason == "tried"]


def _users(schema: PersonaSchema, n: int) -> Iterator[UserSimulator]:
    """Users of the first `n` sampled personas, with no drift or life event between sessions."""
    from personagym.simulators.preferences import PreferenceConfig

    sampler = PersonaSampler(schema)
    for seed in range(n):
        yield UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0),
                            preferences=PreferenceConfig(drift_rate=0.0, event_rate=0.0))


def test_a_report_on_what_was_tried_is_told_in_the_next_session_or_never(schema: PersonaSchema) -> None:
    """"Your bebop suggestion last time was spot on." names the last session's suggestion: told two sessions
    on, after a session that suggested something else, it was about the wrong one (14 of 280 reports in 600
    LongTerm episodes)."""
    checked = 0
    for user in _users(schema, 300):
        if _leave_after_a_like(user) is None:
            continue
        user.next_session()
        user.open_session()
        _end_with(user)  # a session too short to tell it, which suggested nothing
        assert _reports(user) == [], user.persona.persona_id
        checked += 1
    assert checked >= 20, checked


def test_a_thing_tried_is_reported_once(schema: PersonaSchema) -> None:
    """"I gave ziplining a go after we talked. Good call." came again after the next session suggested ziplining
    again (9 of 280 reports in 600 LongTerm episodes)."""
    checked = 0
    for user in _users(schema, 300):
        if (liked := _leave_after_a_like(user)) is None or _reports(user) != [liked] or user.ended:
            continue
        # the session that told it suggests the same thing again, beside something on its request
        if (plain := _plain_on_the_request(user)) is not None and _end_with(user, liked, plain):
            assert _reports(user) == [], user.persona.persona_id
            checked += 1
    assert checked >= 10, checked


def test_no_report_on_what_the_user_already_had_or_named(schema: PersonaSchema) -> None:
    """"I looked into Europe after last time. Really liked what I found." from a user who had opened with "I feel
    like I've run out of things to explore in Europe": 255 of 284 reports in 600 LongTerm episodes of the tracker
    were of the user's own interests, which it recommends back.  A report is of something new to the user: not
    one of their interests, nor a liked thing they had named, though they liked the suggestion."""
    checked = named = 0
    for user in _users(schema, 900):
        user.open_session()
        liked = _on_the_request(user, _new_things_they_like(user.schema, user.persona))
        if not liked:
            continue
        new, plain = liked[0], _plain_on_the_request(user)  # plain: on the request, no taste of theirs
        own = next(i.node for i in user.persona.interests if new in user.taxonomy.children[i.node])
        if plain is not None and _end_with(user, own, plain):
            assert _reports(user) == [], (user.persona.persona_id, own)
            checked += 1
        user._memory.expressed.add(new)  # as if they had said they like it
        plain = _plain_on_the_request(user)
        if not user.ended and plain is not None and _end_with(user, new, plain):
            assert _reports(user) == [], (user.persona.persona_id, new)
            named += 1
    assert checked >= 10 and named >= 10, (checked, named)


def test_no_report_on_a_whole_category(schema: PersonaSchema) -> None:
    """"The visual arts & design suggestion was a great one." tells of no thing one tries: of an answer that
    suggested a liked category and a thing in it, only the thing is reported."""
    from personagym.records import Interest

    checked = 0
    for user in _users(schema, 30):
        user.open_session()
        plain = _plain_on_the_request(user)  # the answer's other item, on the request and no taste of theirs
        if user.topic is None or plain is None:
            continue
        category = schema.taxonomy.paths[user.topic][0]
        user.state.interests[category] = Interest(node=category, polarity=1, intensity=0.9)
        if _end_with(user, category, plain):
            assert set(_reports(user)) <= {plain}, user.persona.persona_id
            checked += 1
    assert checked >= 10, checked


def test_only_a_liked_topic_is_asked_about_in_words_that_say_so(schema: PersonaSchema) -> None:
    """"My friend got me hooked on X. What else should I try?" says the user likes X: it is said only of a
    liked topic, and its PKI is explicit (it was said of topics the user did not like, with no PKI, and of
    liked ones with a PKI marked implied: the label followed the hidden profile, not the words).  So are "I have
    been doing X for a while and feel stuck" and "I'm getting back into X after a long break" (said of topics
    the user did not like)."""
    bank = TemplateRenderer(schema).bank
    liking = {"".join(lit + ("{" + name + "}" if name else "") for lit, name in t)
              for d in bank.domains.values() for t in d.states_liking}
    for words in ("My friend got me hooked on {topic}. What else should I try?",
                  "I have been doing {topic} for a while and feel stuck. How do I level up?",
                  "I'm getting back into {topic} after a long break. How should I ease in?"):
        assert words in liking, words
    said = Counter()
    for _, turn in simulate_turns(30_000, 3, noise=NoiseConfig(rate=0.0)):
        if turn.intent.kind != "task_request" or turn.intent.topic is None:
            continue
        topic = schema.taxonomy.nodes[turn.intent.topic].name
        if not any(re.sub(r"\s*\{(?!topic)\w+\}", "", t).format(topic=topic).rstrip(".?") in turn.clean_text
                   for t in liking):
            continue
        assert turn.intent.polarity == 1, turn.clean_text
        assert [(p.key, p.explicit) for p in turn.pkis if p.kind == "interest"] == [(turn.intent.topic, True)]
        said[turn.intent.domain] += 1
    assert sum(said.values()) >= 30 and said["hobby"] and said["fitness"], said


def test_a_liked_topic_is_not_asked_about_in_words_that_deny_it(schema: PersonaSchema) -> None:
    """"A friend asked me for advice on X and I have no clue" was said of liked topics, with a PKI saying the
    user likes X: words that disown the topic (`states_no_liking`) are said only of topics the user does not
    like, and carry no interest PKI of it."""
    bank = TemplateRenderer(schema).bank
    denying = {"".join(lit + ("{" + name + "}" if name else "") for lit, name in t): d.name
               for d in bank.domains.values() for t in d.states_no_liking}
    assert "A friend asked me for advice on {topic} and I have no clue. What should I tell them?" in denying
    said = Counter()
    for _, turn in simulate_turns(30_000, 5, noise=NoiseConfig(rate=0.0)):
        if turn.intent.kind != "task_request" or turn.intent.topic is None:
            continue
        topic = schema.taxonomy.nodes[turn.intent.topic].name
        for t, domain in denying.items():
            if re.sub(r"\s*\{(?!topic)\w+\}", "", t).format(topic=topic).rstrip(".?") in turn.clean_text:
                assert turn.intent.polarity != 1, turn.clean_text
                assert not [p for p in turn.pkis if p.kind == "interest" and p.key == turn.intent.topic]
                said[domain] += 1
    assert said["advice"] >= 5 and said["tech_help"] >= 5, said

def test_a_request_detail_that_states_a_fact_carries_its_pki(schema: PersonaSchema) -> None:
    """"... for my teenage son" tells the assistant the user has teenagers: it is said only by a user whose
    profile holds children (144 of 193 such details came from profiles without the attribute) and carries the
    PKI (vague where the words fit several values: "for my kids"); a detail noise rewrote states nothing."""
    states = TemplateRenderer(schema).bank.slot_states
    said = Counter()
    # one session per persona: the persona's attributes are the user's (a life event may change children)
    for persona, turn in simulate_turns(30_000, 4, noise=NoiseConfig(rate=0.5), sessions_per_persona=1):
        lower = turn.text.lower()
        for detail, attribute in states.items():
            if detail not in turn.clean_text.lower():
                continue
            assert attribute in persona.attributes, (detail, persona.attributes.get(attribute))
            pkis = [p for p in turn.pkis if p.kind == "attribute" and p.evidence.lower() == detail]
            if detail not in lower or re.search(rf"{detail}, (?:[^,]+, )+for ", lower):  # rewritten, or taken back
                assert not pkis, turn.text  # ("for my kids, wait, for my book club", "..., no, hmm, for ...")
                continue
            (pki,) = pkis
            assert pki.key == attribute and (pki.value or pki.intended) == persona.attributes[attribute]
            said[pki.certainty] += 1
    assert said["clear"] >= 5 and said["vague"] >= 20, said


def test_an_answer_that_answers_nothing_lets_the_user_down(schema: PersonaSchema) -> None:
    """"Ok." to a request cost no satisfaction and could be followed by "Lovely, I'm done for now." (85 of 1,468
    unanswered answers drew a content goodbye, worth +1 efficiency): it lowers satisfaction, and the goodbye
    right after it is an unhappy one."""
    from personagym.simulators.user import UserConfig

    sampler = PersonaSampler(schema)
    left = 0
    for seed in range(60):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0),
                             config=UserConfig(end_base=1.0))
        user.open_session()
        before = user.state.satisfaction
        bye = user.respond("Ok.", ResponseFeatures(word_count=1))
        assert not user.last_assessment.answered and user.state.satisfaction < before, seed
        assert bye.intent.kind == "goodbye" and bye.intent.polarity == -1 and not user.left_content, bye.text
        left += 1
    assert left == 60


def test_a_change_of_taste_does_not_widen_back_over_what_the_user_just_left(schema: PersonaSchema) -> None:
    """K-pop -> synth-pop one week, synth-pop -> pop music a month later: the user likes K-pop again, weeks after
    "I'm past K-pop these days" (93 such returns in 600 LongTerm episodes of the tracker, 85 episodes; a recall
    question then offered K-pop as a wrong answer to "which of these do they like?"); before that, an interest went
    A -> B -> A in 22% of LongTerm episodes ("more into Japanese than Thai cuisine", then "more into Thai than
    Japanese").  Within `REVISIT_DAYS` neither a drift nor a new interest lands at or above an interest the user
    moved away from or lost."""
    from personagym.simulators.preferences import REVISIT_DAYS, PreferenceConfig

    changing = PreferenceConfig(drift_rate=1.0, event_rate=1.0,
                                gap_weights={"next_week": 1.0, "next_month": 0.0, "next_year": 0.0})
    sampler = PersonaSampler(schema)
    paths = schema.taxonomy.paths
    moves = 0
    for seed in range(20):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0), preferences=changing)
        user.open_session()
        left: set[str] = set()
        for _ in range(6):  # six weeks, well within REVISIT_DAYS
            events = user.next_session()
            for e in events:
                target = e.after if e.kind == "drift" else e.target if (
                    e.kind == "life_event" and e.target in paths and e.before is None
                    and not e.cause.startswith("came with")) else None  # what a life event brings has its cause
                if target is not None:
                    moves += 1
                    assert not any(target in paths[node] for node in left), (seed, e)
            left |= {e.before for e in events if e.kind == "drift"}
            left |= {e.target for e in events if e.kind == "life_event" and e.target in paths and e.after is None}
            user.open_session()
    assert moves > 500
    assert user.state.day < REVISIT_DAYS


def test_an_interest_that_came_with_a_life_event_is_not_told_as_a_new_taste(schema: PersonaSchema) -> None:
    """"Since we last talked, I've gotten into the empty nest.": an interest a life event brings (dogs with a
    dog) goes with the event's news, while one taken up as a hobby is told as a new taste."""
    from personagym.simulators.life_events import LIFE_EVENTS
    from personagym.simulators.preferences import PreferenceConfig, PreferenceProcess
    from personagym.simulators.user import UserConfig

    events = tuple(e for e in LIFE_EVENTS if e.id in ("adopted_pet", "kids_growing", "new_hobby"))
    process = PreferenceProcess(schema, PreferenceConfig(drift_rate=0.0, event_rate=1.0), events=events)
    sampler, came, told = PersonaSampler(schema), 0, Counter()
    for seed in range(120):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0), preferences=process,
                             config=UserConfig(end_base=0.0, end_per_turn=0.0, news_rate=1.0))
        user.open_session()
        new = {e.target: e.cause for e in user.next_session() if e.kind == "life_event" and e.before is None
               and e.target in schema.taxonomy.nodes}
        came += sum(c.startswith("came with") for c in new.values())
        turns = _session(user, user.open_session(), 6)
        for turn in turns:
            if turn.intent.reason == "taken_up":
                told[new[turn.intent.topic].split(":")[0]] += 1
    assert came >= 20 and told["took up a new interest"] >= 10 and not told["came with"], (came, told)


def test_news_said_plainly_first_is_not_told_again_as_news(schema: PersonaSchema) -> None:
    """"One more thing about me: I live in a big city." then, the next turn, "FYI, this is new: I just moved to a
    big city." (2 of 451 pieces of news in 1,000 LongTerm episodes; 6 of 131 here, with news held back half the
    time): a fact a disclosure, an answer or a request's aside has said is no news to tell later, and neither
    is one someone else said for the user (`take_over`)."""
    from personagym.simulators.life_events import LIFE_EVENTS
    from personagym.simulators.preferences import PreferenceConfig, PreferenceProcess
    from personagym.simulators.user import UserConfig

    moved = tuple(e for e in LIFE_EVENTS if e.id == "moved")
    process = PreferenceProcess(schema, PreferenceConfig(drift_rate=0.0, event_rate=1.0), events=moved)
    config = UserConfig(end_base=0.0, end_per_turn=0.0, news_rate=0.5, disclose_rate=0.7)
    sampler, told, twice = PersonaSampler(schema), 0, []
    for seed in range(150):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0), preferences=process,
                             config=config)
        user.open_session()
        user.next_session()
        plain: set[tuple[str, str]] = set()
        turns = _session(user, user.open_session(), 10)
        for turn in turns:
            fact = (turn.intent.attribute, turn.intent.value)
            if turn.intent.reason == "life_event":
                told += 1
                if fact in plain:
                    twice.append(turn.text)
            elif turn.intent.attribute is not None:
                plain.add(fact)
    assert told >= 40 and not twice, (told, twice)

    user = UserSimulator(sampler.sample(0), seed=0, noise=NoiseConfig(rate=0.0), preferences=process,
                         config=UserConfig(news_rate=1.0))
    user.open_session()
    user.next_session()
    news = ("settlement_type", user.state.attributes["settlement_type"])
    user.open_session(tentative=True)
    user.take_over("Any hikes around my new place?", [], asks=True, stated=[news])  # said for the user
    assert user.respond().intent.reason != "life_event"


def test_news_a_session_went_by_without_is_told_as_late(schema: PersonaSchema) -> None:
    """"Big change since we last talked: we got married." a session after the one the wedding preceded, and "News
    on my side: I just moved to a big city." a year on (12 of 194 pieces of news in 400 LongTerm episodes were
    told a session or two late, 4 of them with "since"): news carried past a whole session is told as late ("I
    forgot to mention last time: ...") in words that do not say "just", with its PKI."""
    from personagym.simulators.preferences import PreferenceConfig, PreferenceProcess
    from personagym.simulators.renderers import NEWS_REASONS
    from personagym.simulators.user import UserConfig

    changes = PreferenceProcess(schema, PreferenceConfig(drift_rate=0.0, event_rate=1.0))
    quiet = PreferenceProcess(schema, PreferenceConfig(drift_rate=0.0, event_rate=0.0))
    bank = TemplateRenderer(schema).bank
    news_leads = [template[0][0].strip() for template in bank.news_connectors]
    late_leads = [template[0][0].strip() for template in bank.late_news_connectors]
    sampler, late = PersonaSampler(schema), 0
    for seed in range(80):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0), preferences=changes,
                             config=UserConfig(news_rate=0.0))
        user.open_session()
        user.next_session()
        user.open_session()  # this session goes by without the news
        user.process, user.config = quiet, UserConfig(news_rate=1.0)
        if any(e.kind == "life_event" for e in user.next_session()):
            continue  # one that was due (a birth): news of its own
        opener = user.open_session()
        intent = opener.intent
        if intent.reason not in NEWS_REASONS:
            continue  # the news was said plainly in the session between (or there was none)
        late += 1
        assert intent.reason == "late_news", opener.clean_text
        assert any(lead in opener.clean_text for lead in late_leads), opener.clean_text
        assert not any(lead in opener.clean_text for lead in news_leads), opener.clean_text
        said = [p for p in opener.pkis if (p.key, p.value) == (intent.attribute, intent.value)]
        assert said and not re.search(r"\bjust\b", said[0].evidence, re.IGNORECASE), opener.clean_text
    assert late >= 10, late


def test_news_told_a_year_on_does_not_say_just(schema: PersonaSchema) -> None:
    """"Hi! It's been ages. ... Quick update on my end: I just adopted a dog." (29 of the 70 pieces of news told
    after a year's gap in 600 LongTerm episodes said "just"): after a gap longer than `JUST_DAYS` a life event's
    news, at the session's start or later in it, is told in words that do not date it to the last few days,
    still as news ("I got a dog", not "I have a dog"); a week on it may still say "just"."""
    from personagym.simulators.preferences import PreferenceConfig, PreferenceProcess
    from personagym.simulators.user import UserConfig

    sampler, bank = PersonaSampler(schema), TemplateRenderer(schema).bank
    news_leads = [template[0][0].strip() for template in bank.news_connectors]
    config = UserConfig(end_base=0.0, end_per_turn=0.0, news_rate=1.0)
    just = re.compile(r"\bjust\b", re.IGNORECASE)
    said: Counter = Counter()
    for gap in ("next_year", "next_week"):
        process = PreferenceProcess(schema, PreferenceConfig(
            drift_rate=0.0, event_rate=1.0, gap_weights={g: float(g == gap) for g in ("next_week", "next_month",
                                                                                       "next_year")}))
        for seed in range(120):
            user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0), preferences=process,
                                 config=config)
            user.open_session()
            user.next_session()
            turns = _session(user, user.open_session(), 8)
            for turn in turns:
                if turn.intent.reason != "life_event":
                    continue
                news = [p for p in turn.pkis if (p.key, p.value) == (turn.intent.attribute, turn.intent.value)]
                assert news and any(lead in turn.clean_text for lead in news_leads), turn.clean_text
                value = schema.attributes[turn.intent.attribute].news.get(turn.intent.value, ())
                said[gap] += 1
                said[gap, "just"] += bool(just.search(news[0].evidence))
                said[gap, "news words"] += news[0].evidence.lower() in value
    assert said["next_year"] >= 40 and not said["next_year", "just"], said
    assert said["next_year", "news words"] >= said["next_year"] * 0.8, said  # told as news, not plainly
    assert said["next_week", "just"] >= 10, said


def test_an_interest_taken_up_during_the_episode_is_never_told_as_long_held(schema: PersonaSchema) -> None:
    """"I've been passionate about dogs for years." a session after "I just adopted a dog": an interest the user
    did not have when the episode began (a life event brought it, here) is disclosed in words that do not say
    it is long held; one they had from the start still may be."""
    from personagym.simulators.preferences import PreferenceConfig, PreferenceProcess
    from personagym.simulators.user import UserConfig

    adopted = tuple(e for e in LIFE_EVENTS if e.id == "adopted_pet")
    process = PreferenceProcess(schema, PreferenceConfig(drift_rate=0.0, event_rate=1.0), events=adopted)
    config = UserConfig(end_base=0.0, end_per_turn=0.0, disclose_rate=1.0, news_rate=0.0)
    long_held = ("always have been", "for years", "always enjoyed", "die-hard", "whole personality")
    sampler, said = PersonaSampler(schema), Counter()
    for seed in range(300):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0), preferences=process,
                             config=config)
        first = set(user.state.interests)
        user.open_session()
        user.next_session()
        user.open_session()
        for _ in range(12):
            if user.ended:
                break
            turn = user.respond()
            for pki in turn.pkis:
                if pki.kind == "interest" and turn.intent.kind == "preference_disclosure" and pki.polarity > 0:
                    key = "taken up" if pki.key not in first else "held"
                    said[key] += 1
                    said[key, "long"] += any(w in turn.clean_text for w in long_held)
    assert said["taken up"] >= 40 and not said["taken up", "long"] and said["held", "long"], said


def test_a_retiree_asks_nothing_about_a_career_and_tells_the_news_with_another_request(
        schema: PersonaSchema) -> None:
    """"Can you help me prepare for an interview in data science? Quick update on my end: I just retired.": a
    retiree makes no request of the career domain (`domain_needs`: job hunting, interviews, pay rises), nor says
    "with a full-time job", so the news of retirement goes with a request it bears on (finance, planning,
    advice)."""
    from personagym.simulators.preferences import PreferenceConfig, PreferenceProcess
    from personagym.simulators.user import UserConfig

    retired = tuple(e for e in LIFE_EVENTS if e.id == "retired")
    process = PreferenceProcess(schema, PreferenceConfig(drift_rate=0.0, event_rate=1.0), events=retired)
    worker = _persona_with(schema, lambda p: p.attributes.get("age_band") == "60p"
                           and p.attributes.get("employment_status") == "employed_full_time")
    worker = worker.model_copy(update={"attributes": {**worker.attributes, "domain": "career"}})  # asks about one
    assert not schema.violations(worker.attributes)
    config = UserConfig(end_base=0.0, end_per_turn=0.0, news_rate=1.0, disclose_rate=0.0)
    domains, news = Counter(), Counter()
    for seed in range(100):
        user = UserSimulator(worker, seed=seed, noise=NoiseConfig(rate=0.0), preferences=process, config=config)
        domains["before", user.open_session().intent.domain] += 1
        user.next_session()
        assert user.state.attributes["employment_status"] == "retired"
        opener = user.open_session()
        assert (opener.intent.attribute, opener.intent.value) == ("employment_status", "retired")
        news[opener.intent.domain] += 1
        turns = _session(user, opener, 7)
        for turn in turns:
            if turn.intent.kind == "task_request":
                domains["after", turn.intent.domain] += 1
                assert "full-time job" not in turn.clean_text, turn.clean_text
    assert domains["before", "career"] >= 10, domains  # a career-minded worker asks about careers
    assert not any(when == "after" and d == "career" for when, d in domains), domains
    assert set(news) <= {"finance", "planning", "advice"} and len(news) == 3, news


def test_a_change_of_taste_a_session_went_by_without_is_not_told_as_since_last_time(schema: PersonaSchema) -> None:
    """"Since we last talked, I've gotten into Irish dance." a session after the one the new hobby preceded: a
    change of taste carried past a whole session is told in words that do not date it to the last session."""
    from personagym.simulators.preferences import PreferenceConfig, PreferenceProcess
    from personagym.simulators.user import UserConfig

    hobby = tuple(e for e in LIFE_EVENTS if e.id == "new_hobby")
    changes = PreferenceProcess(schema, PreferenceConfig(drift_rate=0.0, event_rate=1.0), events=hobby)
    quiet = PreferenceProcess(schema, PreferenceConfig(drift_rate=0.0, event_rate=0.0))
    sampler, told = PersonaSampler(schema), Counter()
    for seed in range(200):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0), preferences=changes,
                             config=UserConfig(news_rate=0.0, end_base=0.0, end_per_turn=0.0))
        user.open_session()
        user.next_session()
        user.open_session()  # this session goes by without the news
        user.respond()
        user.process, user.config = quiet, UserConfig(news_rate=1.0, end_base=0.0, end_per_turn=0.0)
        user.next_session()
        user.open_session()
        turn = user.respond()
        if turn.intent.reason == "taken_up":
            told["late"] += 1
            told["since"] += "since we last talked" in turn.clean_text.lower()
    assert told["late"] >= 40 and not told["since"], told


def test_a_request_names_a_place_of_the_users_region_unless_it_is_a_trip(schema: PersonaSchema) -> None:
    """A Middle-East user asked about yin yoga "near Manchester" (20 of 320 audited conversations)."""
    bank = TemplateRenderer(schema).bank
    region_of = {v: next(iter(bank.slot_needs.needs[v]["region"])) for v in bank.slot_values["location"]}
    named = 0
    for persona, turn in simulate_turns(6000, 7):
        place = turn.intent.slots.get("location")
        region = persona.attributes.get("region")
        if turn.intent.kind == "task_request" and place in region_of and region and turn.intent.domain != "travel":
            named += 1
            assert region_of[place] == region, (region, turn.clean_text)
    assert named > 20


def test_a_mind_change_on_a_detail_keeps_to_what_the_template_takes(schema: PersonaSchema) -> None:
    """"Could you outline a six-month plan to move into software engineering careers before my sister's birthday
    on the 12th, erm, by 5pm today?" (213 of 2,954 time swaps, 621 of 1,108 format swaps and 42 of 2,040 length
    swaps in 70,000 requests broke their template's limits): the detail a mind change settles on is one the
    request's template takes (`TemplateBank.template_details`: a time in its span, a format of its genre and
    deliverable), as the detail taken back was; the same seed says the same."""
    renderer = TemplateRenderer(schema)
    bank = renderer.bank
    swaps = NoiseConfig(rate=1.0, layer_weights={"surface": 0, "incomplete": 0, "ambiguity": 1},
                        strategies={"ambiguity": {"multiple_intents": 0, "unclear_intent": 0,
                                                  "self_contradiction": 0, "mind_change": 1}})
    settled: Counter[str] = Counter()
    for seed, persona in enumerate(PersonaSampler(schema).sample_batch(100, seed=7)):
        user = UserSimulator(persona, seed=seed, noise=swaps, renderer=renderer)
        twin = UserSimulator(persona, seed=seed, noise=swaps, renderer=renderer)
        drafts: list = []
        apply = user.noise.apply
        user.noise.apply = lambda draft, d, apply=apply, drafts=drafts: drafts.append(draft) or apply(draft, d)
        for _ in range(20):
            turn = user._turn(user._request())
            assert twin._turn(twin._request()).text == turn.text  # same seed, same words
            draft, domain = drafts[-1], bank.domains[turn.intent.domain]
            for seg in draft.segments:
                if seg.kind != SLOT or seg.slot not in ("time", "format", "length") or ", " not in seg.text:
                    continue
                value = next(v for v in bank.slot_values[seg.slot] if seg.text.endswith(", " + v))
                assert bank.template_details(domain, draft.template, {seg.slot: value}), turn.text
                settled[seg.slot] += 1
    assert min(settled.values()) > 20 and len(settled) == 3, settled


def test_a_place_a_tropical_user_names_near_home_is_in_the_tropics(schema: PersonaSchema, taxonomy) -> None:
    """"Where can I do snow & ice activities around Budapest? Bear in mind: I live in the tropics.": a user who
    lives in the tropics names no cold place near home, over many seeds, in a request or in a mind change on its
    place ("near Colombo, wait, in rural Vermont"); a place changed to fits the topic too (no skiing "around
    Manila"), and the same seed says the same.  A user has one home: a mind change on a place is a trip's."""
    from personagym.simulators.user import UserConfig

    cold = {"in rural Vermont", "around Budapest", "in Warsaw", "near Prague", "in Chicago", "in Seoul",
            "in downtown Toronto", "near Denver", "in Edinburgh", "near the Lake District"}
    bank = TemplateRenderer(schema).bank
    places = bank.slot_values["location"]
    skiing = taxonomy.resolve("cross-country skiing")
    swaps = NoiseConfig(rate=1.0, layer_weights={"surface": 0, "incomplete": 0, "ambiguity": 1},
                        strategies={"ambiguity": {"multiple_intents": 0, "unclear_intent": 0,
                                                  "self_contradiction": 0, "mind_change": 1}})
    config = UserConfig(slot_rate=1.0, interest_topic_rate=0.3)
    named, changed = Counter(), 0
    for seed in range(300):  # personas that differ, and so live in different places
        persona = PersonaSampler(schema).build({"climate": "tropical"},
                                               [Interest(node=skiing, polarity=1, intensity=0.5 + seed / 1000)])
        user = UserSimulator(persona, seed=seed, noise=swaps, config=config)
        twin = UserSimulator(persona, seed=seed, noise=swaps, config=config)
        home: set[str] = set()
        for _ in range(4):
            turn = user._turn(user._request())
            assert twin._turn(twin._request()).text == turn.text  # same seed, same words
            said = [v for v in places if v in turn.text]
            if bank.domains[turn.intent.domain].destinations:  # a trip goes anywhere that fits the topic
                fits = bank.places_for(turn.intent.topic)
                assert fits is None or set(said) <= fits, turn.text
                changed += len(said) > 1
                continue
            named.update(said)
            home.update(said)
            assert len(home) <= 1, home  # one home: no mind change near it ("near Colombo, wait, in Miami") either
            assert cold.isdisjoint(said), turn.text
            assert all("tropical" in bank.slot_needs.needs[v]["climate"] for v in said), turn.text
            assert turn.intent.topic != skiing or not said, turn.text  # every tropical place is warm: none
    assert sum(named.values()) > 40 and len(named) > 5 and changed > 2, (named, changed)


def test_a_user_asks_about_places_near_one_home(schema: PersonaSchema) -> None:
    """"... near the Lake District", then "... in Santiago" two turns on (2 of 9 place details a reader met): a
    user's requests outside travel name one place near home in every session, noise and mind changes included,
    and the same persona lives in the same place whatever the seed; personas differ in where they live."""
    from personagym.simulators.user import UserConfig

    bank = TemplateRenderer(schema).bank
    places = bank.slot_values["location"]
    config = UserConfig(slot_rate=1.0)
    homes: Counter[str] = Counter()
    for persona in PersonaSampler(schema).sample_batch(40, seed=5):
        lived: set[str] = set()
        for seed in range(4):
            user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.6), config=config)
            for session in range(3):
                if session:
                    user.next_session()
                for _ in range(6):
                    turn = user._turn(user._request())
                    topic = schema.taxonomy.nodes[turn.intent.topic].name if turn.intent.topic else ""
                    if not bank.domains[turn.intent.domain].destinations:  # a place the topic names is no home
                        lived.update(v for v in places if v in turn.text and v.split(maxsplit=1)[1] not in topic)
        assert len(lived) <= 1, (persona.persona_id, lived)
        homes.update(lived)
    assert sum(homes.values()) > 15 and len(homes) > 10, homes


def test_a_request_is_about_nothing_the_users_attributes_rule_out(schema: PersonaSchema) -> None:
    """"Put together a rough game plan for toddler music classes." from a user without children, "long-distance
    grandparenting" from an 18-24-year-old, contemplative prayer from one who practises no religion (about 9 of 151
    read conversations): a request's topic is liked, or one the user could like (`PersonaSchema.unfit_interests`,
    the rules the sampler draws likes by), in every domain and over many seeds."""
    from personagym.simulators.user import UserConfig

    attributes = {"age_band": "1824", "children": "none", "religious_observance": "none", "life_stage": "student"}
    assert not schema.violations(attributes)
    unfit = schema.unfit_interests(attributes)
    grandparenting = schema.taxonomy.resolve("long-distance grandparenting")
    assert {grandparenting, schema.taxonomy.resolve("toddlerhood"), schema.taxonomy.resolve("prayer")} <= unfit
    persona = PersonaSampler(schema).build(attributes, [])
    config = UserConfig(interest_topic_rate=0.0)
    asked = Counter()
    for seed in range(300):
        user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0), config=config)
        for _ in range(12):
            topic = user._request().topic
            if topic is None:
                continue
            path = schema.taxonomy.paths[topic]
            asked[path[0]] += 1
            assert unfit.isdisjoint(path), (topic, schema.rule_against(topic, unfit))
    # the categories the rules bear on are still asked about: what the user could like in them
    assert asked["parenting_family"] > 50 and asked["religion_spirituality"] > 50, asked


def test_a_place_a_request_names_fits_its_topic(schema: PersonaSchema, taxonomy) -> None:
    """"Are there guided tours related to snowmobiling worth booking around Melbourne?", "Where's the best place to
    shop for sledding in Kuala Lumpur?": a place detail fits the topic where the bank can tell (`place_fit`). A
    user in Southeast Asia (every place of the region warm) names no place near home for a snow topic; a trip
    about it goes somewhere not warm."""
    from personagym.simulators.user import UserConfig

    skiing = taxonomy.resolve("cross-country skiing")
    bank = TemplateRenderer(schema).bank
    warm = {v for v, phrases in bank.vague_slot_values["location"].items() if "somewhere warm" in phrases}
    attributes = {"region": "southeast_asia", "travel_flexibility": "flexible"}
    assert not schema.violations(attributes)
    assert set(bank.fitting_slot_values(None, None, attributes)["location"]) <= warm  # home is somewhere warm
    persona = PersonaSampler(schema).build(attributes, [Interest(node=skiing, polarity=1, intensity=0.9)])
    config = UserConfig(interest_topic_rate=1.0, slot_rate=1.0)
    named = Counter()
    for seed in range(400):
        user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0), config=config)
        intent = user._request()
        if intent.topic != skiing:
            continue
        place = intent.slots.get("location")
        trip = bank.domains[intent.domain].destinations
        named["trip" if trip else "home", place is not None] += 1
        assert place is None or (trip and place not in warm), (intent.domain, place)
    assert named["home", False] > 50 and named["trip", True] > 20, named


def test_a_place_a_request_names_has_what_its_user_and_topic_need(schema: PersonaSchema, taxonomy) -> None:
    """"What brands do people actually trust for snowboarding in Kathmandu?", "... mountaineering around Manila"
    (10 of 36 requests naming a place for a terrain topic in 50,000): through the whole user turn, noise included,
    a place near home is of the user's region and climate, and any place named, near home or on a trip, has the
    terrain a topic at or under these needs (`place_terrain`); the same seed says the same."""
    from personagym.simulators.user import UserConfig

    bank = TemplateRenderer(schema).bank
    needs = {"snow & ice activities": "snow", "skiing": "snow", "snowboarding": "snow", "ski trips": "snow",
             "summit hikes": "mountains", "mountaineering": "mountains", "mountains": "mountains",
             "deserts": "desert", "surfing": "surf"}
    terrain_of = {taxonomy.resolve(n): t for n, t in needs.items()}
    config = UserConfig(interest_topic_rate=1.0, slot_rate=1.0)
    named: Counter[str] = Counter()
    for region, climate in (("southeast_asia", "tropical"), ("south_asia", "continental"), ("middle_east", "dry"),
                            ("latin_america", "cold"), ("western_europe", "temperate")):
        attributes = {"region": region, "climate": climate, "travel_flexibility": "flexible"}
        assert not schema.violations(attributes)
        for liked in ("sledding", "summit hikes", "ski trips", "deserts", "surfing"):
            for seed in range(80):  # personas that differ, and so live in different places of their region
                persona = PersonaSampler(schema).build(attributes, [Interest(node=taxonomy.resolve(liked), polarity=1,
                                                                             intensity=0.5 + seed / 200)])
                user = UserSimulator(persona, seed=seed, config=config)
                twin = UserSimulator(persona, seed=seed, config=config) if seed < 5 else None
                for _ in range(3):
                    turn = user._turn(user._request())
                    assert twin is None or twin._turn(twin._request()).text == turn.text  # same seed, same words
                    place, path = turn.intent.slots.get("location"), taxonomy.paths.get(turn.intent.topic or "", ())
                    wanted = {terrain_of[n] for n in path if n in terrain_of}
                    if place is None:
                        continue
                    trip = bank.domains[turn.intent.domain].destinations
                    need = bank.slot_needs.needs[place]
                    assert trip or (region in need["region"] and climate in need["climate"]), turn.clean_text
                    if wanted:
                        named["trip" if trip else "home"] += 1
                        assert wanted <= bank.place_terrain.get(place, frozenset()), turn.clean_text
    assert named["home"] > 25 and named["trip"] > 10, named


def test_a_request_template_fits_what_its_topic_is(schema: PersonaSchema, taxonomy) -> None:
    """"Is a degree necessary to work in algebra?", "Any good deals I should know about for the pandas library?",
    "Where can I do box breathing near Amman?", "Are there any clubs or groups for negroni?" (952 of 50,000
    requests of seeds 101-120): a domain draws no topic carrying its `not_with_tags` (no job "in" a school subject
    or a programming language, nothing to buy for free software or wild animals), and a template with `kinds_for`
    is said of those kinds only; the topics are still asked about where they fit (algebra in learning), and the
    same seed gives the same requests."""
    from personagym.simulators.user import UserConfig

    unfit = {"career": "not_a_job", "shopping": "nothing_to_buy"}
    # what a place template starts with -> the kinds of topic there is somewhere to go for
    said_of = {"Where can I do ": {"activity"}, "Suggest a group activity around ": {"activity"},
               "Where can I learn ": {"activity", "practice", "therapy", "field", "language", "genre"},
               "Are there any clubs or groups for ": {"activity", "practice", "therapy", "creature"}}
    likes = [taxonomy.resolve(n) for n in ("algebra", "Django", "pandas library", "giraffes", "box breathing",
                                           "negroni", "Vesak", "cybersecurity", "orchids")]
    persona = PersonaSampler(schema).build({}, [Interest(node=n, polarity=1, intensity=0.9) for n in likes])
    asked: Counter = Counter()
    for seed in range(150):
        texts = []
        for config in (UserConfig(interest_topic_rate=1.0, slot_rate=1.0), UserConfig(slot_rate=1.0)):
            user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0), config=config)
            for _ in range(10):
                turn = user._turn(user._request())
                texts.append(turn.clean_text)
                topic = turn.intent.topic
                if topic is None:
                    continue
                asked[turn.intent.domain, topic] += 1
                assert unfit.get(turn.intent.domain) not in taxonomy.tags[topic], turn.clean_text
                kind = taxonomy.kind(topic)
                assert all(kind in kinds for start, kinds in said_of.items() if start in turn.clean_text), \
                    (kind, turn.clean_text)
        twin = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0), config=UserConfig(slot_rate=1.0))
        assert [twin._turn(twin._request()).clean_text for _ in range(10)] == texts[10:]
    career = sum(n for (domain, _), n in asked.items() if domain == "career")
    shopping = sum(n for (domain, _), n in asked.items() if domain == "shopping")
    assert career > 50 and shopping > 50, asked
    assert asked["learning", likes[0]] > 5 and asked["tech_help", likes[2]] > 5, asked  # asked where they fit
    assert asked["fitness", likes[4]] > 5 and asked["hobby", likes[5]] > 5, asked


def test_a_request_template_fits_a_wild_animal_a_drink_or_a_pastime_that_is_no_workout(
        schema: PersonaSchema, taxonomy) -> None:
    """"How should I approach hippos?", "Can you teach me a basic technique in negroni?", "Can you give me a
    kid-friendly take on cognac?", "Give me four exercises that help with hammock camping", "Where can I find
    reliable information about credit scores around Osaka?", "What methods do researchers usually use to study
    Django?" (546 of 50,000 requests of seeds 101-120): no advice on a wild animal, a hobby template that takes its
    topic for a pastime or a pet only of one, nothing alcoholic for kids, a workout template only of a workout, no
    place to find information in, no study of a programming tool as a field; the topics are still asked about where
    they fit (hippos in hobby, hammock camping in fitness, negroni in hobby, cognac in cooking, Django in research),
    and the same seed gives the same requests."""

    # the words of the templates that do not fit each kind of topic, written here rather than read from the data
    workout = _WORKOUT_WORDS
    pastime = ("basic technique in", "a relaxing hobby", "as a hobby in a small apartment", "to a serious hobby",
               "most satisfying part of", "find time for")
    wild_fits = ("online community for people into", "books or videos to get inspired about",
                 "something surprising I could learn about", "seasonal side to", "low-cost ways to enjoy",
                 "short guide to")
    study = ("current research on", "consensus view on", "literature review outline on", "open questions in",
             "researchers usually use to study", "research questions worth exploring in", "publicly available about",
             "without taking sides", "our understanding of", "archives or libraries for", "thesis statements about",
             "landmark studies or events in", "for and against the popular views on", "schools of thought in")
    renderer = TemplateRenderer(schema)
    places = renderer.bank.slot_values["location"]
    names = ("hippos", "negroni", "cognac", "hammock camping", "wellness journaling", "Django", "credit scores")
    likes = [taxonomy.resolve(n) for n in names]
    persona = PersonaSampler(schema).build({}, [Interest(node=n, polarity=1, intensity=0.9) for n in likes])
    hippos, negroni, cognac, hammock, journaling, django, _ = likes
    tags, kind = taxonomy.tags, taxonomy.kind
    asked: Counter = Counter()
    for text, domain, topic in _requests_of(persona, renderer):
        if topic is None:
            continue
        asked[domain, topic] += 1
        wild = topic == hippos or "wild_animal" in tags[topic]
        no_workout = topic in (hammock, journaling) or "not_a_workout" in tags[topic]
        tool = topic == django or "programming_tool" in tags[topic]
        assert not (domain == "advice" and wild), text
        assert not (domain == "hobby" and wild and not _says(text, wild_fits)), text
        assert not (domain == "hobby" and kind(topic) in ("food_drink", "serving") and _says(text, pastime)), text
        assert not ("kid-friendly take on" in text and "alcohol" in tags[topic]), text
        assert not (domain == "fitness" and no_workout and _says(text, workout)), text
        assert not (domain == "research" and tool and _says(text, study)), text
        info = re.search(r"reliable information about [^?]*\?", text)
        assert info is None or not any(p in info.group() for p in places), text
    assert asked["hobby", hippos] > 5 and asked["hobby", negroni] > 5 and asked["cooking", cognac] > 5, asked
    assert asked["fitness", hammock] > 5 and asked["fitness", journaling] > 5 and asked["research", django] > 5, asked


#: the words of fitness's templates about a workout, written here rather than read from the data
_WORKOUT_WORDS = ("workout plan around", "exercises that help with", "training for something involving",
                  "eat to support", "sore from", "warm up before", "avoid injuries when doing", "with recovery days",
                  "breathe during", "improve my form in", "progression for")


def test_a_workout_template_is_not_for_a_race_a_thrill_ride_cue_sports_or_recovery(
        schema: PersonaSchema, taxonomy) -> None:
    """"What should I eat to support motorsports?", "warm up before ziplining", "workout plan around billiards",
    "Create a plan that mixes recovery & self-care with recovery days" (39 of 50,000 requests): fitness's workout
    templates fit no motor racing, thrill ride, cue sports, darts or recovery as a whole; fitness still asks about
    them otherwise, and stretching, under recovery, still gets a workout template."""
    renderer = TemplateRenderer(schema)
    names = ("motorsports", "skydiving", "bungee jumping", "ziplining", "paragliding", "billiards", "darts",
             "recovery & self-care", "massage", "stretching")
    likes = [taxonomy.resolve(n) for n in names]
    stretching, no_workouts = likes[-1], likes[:-1]
    persona = PersonaSampler(schema).build({"domain": "fitness"},
                                           [Interest(node=n, polarity=1, intensity=0.9) for n in likes])
    paths = taxonomy.paths
    asked: Counter = Counter()
    for text, domain, topic in _requests_of(persona, renderer):
        if domain != "fitness" or topic is None:
            continue
        stretches = stretching in paths[topic]
        if not stretches and any(n in paths[topic] for n in no_workouts):
            assert not _says(text, _WORKOUT_WORDS), text
            asked["no workout"] += 1
        asked["stretching workout"] += stretches and _says(text, _WORKOUT_WORDS)
    assert asked["no workout"] >= 100 and asked["stretching workout"] >= 3, asked


def test_a_request_template_fits_a_drink_a_meal_out_a_place_a_game_genre_or_a_discipline(
        schema: PersonaSchema, taxonomy) -> None:
    """"Summarize the history of the Middle Ages for people who have never tried it", "How much does it cost to get
    started with negroni?", "I want to cook something with eating out tonight", "What's a realistic timeline for
    getting into the Appalachian Trail?", "Can you find anything related to hack and slash happening near Colombo?",
    "What settings should I change when I start using cybersecurity?" (603 of 50,000 requests of seeds 101-120):
    no audience of people who never tried what nobody tries, a hobby template that takes its topic for a pastime
    only of one, no cooking with eating out and no dish made of bread baking, no taking up a place, nothing
    happening in a game genre, no setting up or fixing a discipline; the topics are still asked about where they
    fit (negroni in hobby, bread baking in cooking, the Appalachian Trail in planning, hack and slash in
    entertainment, cybersecurity in tech_help, and Django still set up), and the same seed gives the same
    requests."""

    # the words of the templates that do not fit each kind of topic, written here rather than read from the data
    pastime = ("cost to get started with", "organize all my stuff for", "beginner mistakes in", "small project around",
               "into a side hustle")
    dish = ("recipes featuring", "cook something with", "dinner menu around", "make-ahead ideas using",
            "classic recipe that showcases", "week of meals inspired by", "a craving for", "weeknight recipe based on",
            "goes well with", "healthier version of", "pair with", "cook with", "scale up a recipe",
            "try authentic", "Make me something with", "recipe card for", "that fits a", "potluck dish around")
    get_going = ("to the whole family", "into a busy work week", "timeline for getting into", "steps to get going with",
                 "plan to get started with", "real progress with", "won't burn me out")
    set_up = ("My setup for", "settings should I change", "safest way to use", "work on older hardware",
              "I'm setting up", "to set up", "troubleshooting", "security habits", "help me troubleshoot",
              "fixing a basic issue", "keeps going wrong", "broke something", "back everything up")
    renderer = TemplateRenderer(schema)
    names = ("negroni", "espresso", "eating out", "bread baking", "Appalachian Trail", "South America",
             "hack and slash", "cybersecurity", "AI ethics", "Django")
    likes = [taxonomy.resolve(n) for n in names]
    persona = PersonaSampler(schema).build({}, [Interest(node=n, polarity=1, intensity=0.9) for n in likes])
    negroni, _, eating_out, bread, trail, _, hack, cyber, _, django = likes
    tags, kind = taxonomy.tags, taxonomy.kind
    asked: Counter = Counter()
    django_set_up = 0
    for text, domain, topic in _requests_of(persona, renderer):
        assert "never tried it" not in text, text
        if topic is None:
            continue
        asked[domain, topic] += 1
        django_set_up += topic == django and domain == "tech_help" and _says(text, set_up)
        assert not (domain == "hobby" and kind(topic) in ("food_drink", "serving") and _says(text, pastime)), text
        assert not (domain == "cooking" and (topic == eating_out or "not_cooked" in tags[topic])), text
        assert not (domain == "cooking" and kind(topic) == "activity" and _says(text, dish)), text
        assert not (domain == "planning" and kind(topic) == "place" and _says(text, get_going)), text
        assert not (domain == "entertainment" and "no_live_events" in tags[topic] and "happening" in text), text
        assert not (domain == "tech_help" and "nothing_to_set_up" in tags[topic] and _says(text, set_up)), text
    assert asked["hobby", negroni] > 5 and asked["cooking", bread] > 5 and asked["planning", trail] > 5, asked
    assert asked["entertainment", hack] > 5 and asked["tech_help", cyber] > 5 and django_set_up > 5, asked


def test_a_request_template_fits_a_single_dish_a_dessert_a_continent_the_economy_or_a_subject_to_think_about(
        schema: PersonaSchema, taxonomy) -> None:
    """"Recommend eight picks from negroni", "Can you suggest a dinner menu around herbal tea?", "Write a short
    elevator pitch for someone moving into marketing for my grandma", "Can you put together a plan for a day focused
    on South America?", "Is there any way to automate the boring parts of AI ethics?", "What's a realistic first
    step into recessions?", "What can I cook with cheesecake in under thirty minutes?" (675 of 50,000 requests of
    seeds 101-120): no range to pick from in a single dish or drink, no meal made of a drink or a dessert, no
    audience for a pitch that names its own, no day out in a continent or a country, no hands-on work on a subject
    to think about, no step of one's own into the economy at large; the topics are still asked about where they fit
    (negroni in recommendation, herbal tea and cheesecake in cooking, marketing in career, South America in planning,
    AI ethics in tech_help, recessions in finance), and the same seed gives the same requests."""

    # the words of the templates that do not fit each kind of topic, written here rather than read from the data
    picks = ("solid picks in", "things to explore in", "underrated gems in", "something new in",
             "good starting points for", "must-try picks from", "one thing in", "a recommendation in",
             "entry point into", "Help me find", "something in", "highlights of", "picks from", "beginner begin",
             "favorites in", "classics of", "options in", "things in", "anything in", "big names in", "top picks in",
             "hidden gems in", "crowd-pleaser from")
    meal = ("cook something with", "dinner menu around", "week of meals inspired by", "weeknight recipe based on",
            "cook with", "usual dinners")
    day_out = ("plan for a day focused on", "outing", "doesn't need much prep")
    hands_on = ("getting set up with", "quick fix related to", "automate the boring parts of", "right setup for",
                "beginner project", "tools do I need for", "before giving up on")
    own_step = ("pros and cons of", "beginner tips on", "in your twenties", "with a budget of about",
                "first step into", "I should sort out", "taxes usually come into play", "goals around")
    renderer = TemplateRenderer(schema)
    audiences = renderer.bank.slot_values["audience"]
    names = ("negroni", "avocado toast", "herbal tea", "cheesecake", "marketing", "South America", "Vietnam",
             "AI ethics", "recessions", "interest rates")
    likes = [taxonomy.resolve(n) for n in names]
    persona = PersonaSampler(schema).build({}, [Interest(node=n, polarity=1, intensity=0.9) for n in likes])
    negroni, avocado_toast, herbal_tea, cheesecake, marketing, south_america, vietnam, ai_ethics, recessions, _ = likes
    tags, kind, paths = taxonomy.tags, taxonomy.kind, taxonomy.paths
    asked: Counter = Counter()
    for text, domain, topic in _requests_of(persona, renderer):
        assert not ("elevator pitch" in text and _says(text, audiences)), text
        if topic is None:
            continue
        asked[domain, topic] += 1
        single = topic in (negroni, avocado_toast) or "nothing_to_pick_from" in tags[topic]
        dessert = topic == cheesecake or "not_a_meal" in tags[topic]
        too_big = topic in (south_america, vietnam) or "too_big_for_a_day" in tags[topic]
        economy = topic == recessions or "nothing_to_take_up" in tags[topic]
        assert not (domain == "recommendation" and single and _says(text, picks)), text
        assert not (domain == "cooking" and paths[topic][0] == "drinks_beverages"
                    and _says(text, ("dinner menu around", "make-ahead ideas using"))), text
        assert not (domain == "cooking" and dessert and kind(topic) == "food_drink" and _says(text, meal)), text
        assert not (domain == "planning" and too_big and _says(text, day_out)), text
        assert not (domain == "tech_help" and topic == ai_ethics and _says(text, hands_on)), text
        assert not (domain == "finance" and economy and _says(text, own_step)), text
    assert asked["recommendation", negroni] > 5 and asked["cooking", herbal_tea] > 5, asked
    assert asked["cooking", cheesecake] > 5 and asked["career", marketing] > 5, asked
    assert asked["planning", south_america] > 5 and asked["tech_help", ai_ethics] > 5, asked
    assert asked["finance", recessions] > 5, asked


def test_a_request_template_fits_a_holiday_a_sport_motorsports_an_instrument_a_film_genre_or_a_plural(
        schema: PersonaSchema, taxonomy) -> None:
    """"Could you make me a study plan for Christmas?", "Suggest something from fencing that works as background
    while I clean", "Could you put together a home routine for motorsports?", "How do I avoid injuries when doing
    table tennis for my manager?", "Could you write a listicle on violin?", "What's the best way to get tickets for
    thriller films events?", "When and how can I experience redwoods at its best?" (404 of 50,000 requests of seeds
    101-120): no study of a live event or a holiday, no media picked from a sport, no fitness made of motorsports,
    no audience for a question about the user's own doing, an instrument with "the", no film genre's "events", no
    "its" of a plural; the topics are still asked about where they fit (Christmas and live music in learning, fencing
    in entertainment, the piano in writing, thriller films in entertainment, redwoods in travel), and the same seed
    gives the same requests."""

    # the words of the templates that do not fit each kind of topic, written here rather than read from the data
    study = ("key ideas in", "learning path for", "ready for a test on", "core concepts", "study plan for",
             "flashcard-style", "recommend for learning", "get decent at", "analogy that makes", "crash course in",
             "well enough to explain", "practice exercise on", "teaching myself", "main ideas in",
             "step by step", "teach me", "on my own", "starter syllabus", "unlocks everything else")
    media = ("works as background while I clean", "good to share with kids")
    self_directed = ("avoid injuries when doing", "security habits when dealing with", "should I be asking about")
    renderer = TemplateRenderer(schema)
    audiences = renderer.bank.slot_values["audience"]
    names = ("Christmas", "live music", "fencing", "motorsports", "table tennis", "piano", "violin", "thriller films",
             "redwoods")
    likes = [taxonomy.resolve(n) for n in names]
    persona = PersonaSampler(schema).build({}, [Interest(node=n, polarity=1, intensity=0.9) for n in likes])
    christmas, live_music, fencing, motorsports, _, piano, violin, thrillers, redwoods = likes
    tags, paths = taxonomy.tags, taxonomy.paths
    asked: Counter = Counter()
    for text, domain, topic in _requests_of(persona, renderer):
        assert not (_says(text, self_directed) and _says(text, audiences)), text
        if topic is None:
            continue
        asked[domain, topic] += 1
        event = topic in (christmas, live_music) or "not_a_subject" in tags[topic]
        assert not (domain == "learning" and event and _says(text, study)), text
        assert not (domain == "entertainment" and paths[topic][0] == "sports" and _says(text, media)), text
        assert not (domain == "fitness" and motorsports in paths[topic]), text
        assert not (domain == "entertainment" and paths[topic][0] == "movies_tv" and "events" in text), text
        assert "at its best" not in text, text
        for instrument in (piano, violin):
            assert topic != instrument or f"the {taxonomy.nodes[instrument].name}" in text.lower(), text
    assert asked["learning", christmas] > 5 and asked["learning", live_music] > 5, asked
    assert asked["entertainment", fencing] > 5 and asked["writing", piano] > 5, asked
    assert asked["entertainment", thrillers] > 5 and asked["travel", redwoods] > 5, asked


def _requests_of(persona: Persona, renderer: TemplateRenderer) -> Iterator[tuple[str, str | None, str | None]]:
    """(clean text, domain, topic) of the requests of `persona`, ten a seed for 150 seeds with each of two configs
    (topics from their interests, then drawn at large), every slot filled and no noise; and the same seed gives the
    same requests."""
    from personagym.simulators.user import UserConfig

    for seed in range(150):
        texts = []
        for config in (UserConfig(interest_topic_rate=1.0, slot_rate=1.0), UserConfig(slot_rate=1.0)):
            user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0), config=config, renderer=renderer)
            for _ in range(10):
                turn = user._turn(user._request())
                texts.append(turn.clean_text)
                yield turn.clean_text, turn.intent.domain, turn.intent.topic
        twin = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0), config=UserConfig(slot_rate=1.0),
                             renderer=renderer)
        assert [twin._turn(twin._request()).clean_text for _ in range(10)] == texts[10:]


def _says(text: str, words: tuple[str, ...]) -> bool:
    """Whether `text` says any of `words`."""
    return any(w in text for w in words)


def test_no_request_is_about_a_category_the_user_dislikes_as_a_whole(schema: PersonaSchema) -> None:
    """"I keep seeing investing in the news. What does all that mean for regular people?" from a user who
    dislikes business & finance as a whole (1 in 11,343 LongTerm requests: a finance request, whose one category is
    that, drew four topics under it and kept the last): a request's topic is under none of the user's dislikes,
    and a domain all of whose categories they dislike is asked about no more."""
    from personagym.simulators.user import UserConfig

    tax = schema.taxonomy
    disliked = {"business_finance", "music"}
    persona = PersonaSampler(schema).build(
        {"domain": "finance"}, [Interest(node=n, polarity=-1, intensity=0.9) for n in sorted(disliked)])
    config = UserConfig(interest_topic_rate=0.0)
    domains = Counter()
    for seed in range(200):
        user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0), config=config)
        for _ in range(6):
            intent = user._request()
            domains[intent.domain] += 1
            assert intent.topic is not None and disliked.isdisjoint(tax.paths[intent.topic]), intent
    # the finance domain (business & finance only) is asked about no more; those with other categories still are
    assert domains["finance"] == 0 and domains["entertainment"] > 20 and domains["career"] > 20, domains


def _request_sentences(renderer: TemplateRenderer, turn: UserTurn) -> list[str]:
    """The sentences of a request's clean text of four words or more, less its opener, closer and stated facts."""
    bank = renderer.bank
    said = {*bank.session_openers, *bank.closers}
    facts = [p.evidence for p in turn.pkis if p.kind == "attribute"]
    return [s for s in re.split(r"(?<=[.?!])\s+", turn.clean_text) if len(s.split()) >= 4
            and s not in said and not any(f in s for f in facts)]


def test_no_request_asks_again_in_the_words_of_an_earlier_session(schema: PersonaSchema) -> None:
    """"What should I buy if I'm getting into billiards on a $100 budget?" a week and again a month later, or
    "I'm mentoring someone who's interested in mathematics. What advice should I give them?" and the same advice
    asked of particle physics a session on, read as a bot (56 sentences in 1,500 LongTerm episodes): no sentence of
    a request is one a request of an earlier session said word for word.  Nor does a request close as one of an
    earlier session did ("Looking forward to it!" a week apart: 26 in 1,500 episodes), but for short thanks, which
    people say every time ("Thanks!")."""
    from personagym.simulators.preferences import PreferenceConfig
    from personagym.simulators.user import UserConfig

    renderer = TemplateRenderer(schema)
    bank = renderer.bank
    weekly = PreferenceConfig(gap_weights={"next_week": 1.0, "next_month": 0.0, "next_year": 0.0})
    config = UserConfig(end_base=0.0, end_per_turn=0.0, disclose_rate=0.0)
    sampler, asked, thanked_again, closed = PersonaSampler(schema), 0, 0, 0
    for seed in range(60):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0), renderer=renderer,
                             preferences=weekly, config=config)
        earlier: dict[str, int] = {}
        closers: dict[str, int] = {}
        for session in range(4):
            if session:
                user.next_session()
            for turn in _session(user, user.open_session(), 9):
                if turn.intent.kind != "task_request":
                    continue
                for sentence in _request_sentences(renderer, turn):
                    assert earlier.get(sentence, session) == session, (seed, session, sentence)
                    earlier.setdefault(sentence, session)
                    asked += 1
                closer = next((c for c in bank.closers if turn.clean_text.endswith(" " + c)), None)
                if closer is None:
                    continue
                again = closers.get(closer, session) != session
                assert not again or closer in bank.short_thanks, (seed, session, turn.clean_text)
                thanked_again += again
                closed += closer not in bank.short_thanks
                closers.setdefault(closer, session)
    assert asked >= 1500 and closed >= 100 and thanked_again >= 10, (asked, closed, thanked_again)


def test_no_sentence_is_said_twice_in_a_session(schema: PersonaSchema) -> None:
    """"Hmm, this isn't quite right. I still need an actual answer." and, two answers on, "Not really helpful,
    sorry. I still need an actual answer.", or "I'm mentoring someone who's interested in psychology. What advice
    should I give them?" twice in a session, read as a bot (151 sentences in 1,500 LongTerm episodes): no sentence
    of three words or more, short thanks apart, is said in two messages of one session, requests and complaints
    alike; a later session may say one again ("That misses the mark a bit." a week on)."""
    from personagym.simulators.user import UserConfig

    renderer = TemplateRenderer(schema)
    short = renderer.bank.short_thanks
    config = UserConfig(end_base=0.0, end_per_turn=0.0, disclose_rate=0.0)
    nothing = ResponseFeatures(word_count=60)  # an answer that offers nothing: "That doesn't answer what I asked."
    sampler, said, complaints, again = PersonaSampler(schema), 0, 0, 0
    for seed in range(40):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0), renderer=renderer,
                             config=config)
        earlier: set[str] = set()
        for session in range(2):
            if session:
                user.next_session()
            turns = [user.open_session()]
            while len(turns) < 10 and not user.ended:  # a non-answer, then no answer at all (a new request)
                turns.append(user.respond("Hmm.", nothing) if len(turns) % 2 else user.respond())
            seen: dict[str, str] = {}
            for turn in turns:
                complaints += turn.intent.reason == "not_answered"
                for sentence in re.split(r"(?<=[.?!])\s+", turn.clean_text):
                    if len(sentence.split()) < 3 or sentence in short:
                        continue
                    assert sentence not in seen, (seed, session, seen[sentence], turn.clean_text)
                    seen[sentence] = turn.clean_text
                    said += 1
                    again += session > 0 and sentence in earlier
            earlier |= seen.keys()
    assert said >= 800 and complaints >= 200 and again >= 50, (said, complaints, again)


def _disclosed_all(user: UserSimulator, replies: int = 40) -> None:
    """Let a user who volunteers a fact at every reply tell what they can within one session."""
    _session(user, user.open_session(), replies)


def test_a_dislike_the_user_had_named_that_moved_on_is_told(schema: PersonaSchema) -> None:
    """"I can't stand synth-pop", then a drift moved the dislike to K-pop: what the assistant learnt turned
    silently false (1,742 dislikes drifted to a sibling in 1,500 LongTerm episodes, none said).  A dislike the user
    had named that drifted to a sibling is told in the next session ("These days it's K-pop I can't stand, not
    so much synth-pop."), with a PKI of the new dislike and none of the old one, which the user dislikes no more;
    the words of the old dislike are void in what the conversation states (`test_exports`).  So is one that
    drifted to a child (dislike_narrowed: "These days it's just trap music I can't stand, not hip hop music in
    general.", the old one no dislike now) or to its parent (dislike_widened: "Quick update: please skip team
    sports altogether, not only rugby.", the old one disliked through the new one): 440 in 1,500 episodes, none
    said."""
    told: Counter[str] = Counter()
    for user, moved in _drifted_dislikes(schema):
        for turn in _session(user, user.open_session(), 4):
            if not turn.intent.reason or not turn.intent.reason.startswith("dislike_"):
                continue
            told[turn.intent.reason] += 1
            new, old = turn.intent.topic, turn.intent.wrong
            assert moved.get((old, new)) == turn.intent.reason, (turn.text, moved)
            assert {(p.key, p.polarity) for p in turn.pkis} == {(new, -1)}, turn.pkis
            assert user.state.interests[new].polarity == -1
            if turn.intent.reason == "dislike_widened":
                assert user._interest_of(old) is user.state.interests[new]
            else:
                assert old not in user.state.interests
    assert told["dislike_moved"] >= 10 and told["dislike_narrowed"] >= 2 and told["dislike_widened"] >= 2, told


def _drifted_dislikes(schema: PersonaSchema) -> Iterator[tuple[UserSimulator, dict[tuple[str, str], str]]]:
    """300 users (seeds 0-299) who have told all they would, each after a time of drift only: the user and how each
    dislike they had named drifted, (before, after) -> dislike_moved (to a sibling), dislike_narrowed (to a child)
    or dislike_widened (to the parent)."""
    from personagym.simulators.preferences import PreferenceConfig
    from personagym.simulators.user import UserConfig

    sampler, nodes = PersonaSampler(schema), schema.taxonomy.nodes
    config = UserConfig(end_base=0.0, end_per_turn=0.0, disclose_rate=1.0, news_rate=1.0)
    for seed in range(300):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0),
                             preferences=PreferenceConfig(drift_rate=1.0, event_rate=0.0), config=config)
        _disclosed_all(user)
        named, interests = user._memory.expressed, user.state.interests
        yield user, {(e.before, e.after): "dislike_moved" if nodes[e.before].parent == nodes[e.after].parent
                     else "dislike_narrowed" if nodes[e.after].parent == e.before else "dislike_widened"
                     for e in user.next_session() if e.kind == "drift" and e.before in named
                     and e.after in interests and interests[e.after].polarity < 0}


def test_a_widened_dislike_the_user_has_just_complained_of_is_not_told_again(schema: PersonaSchema) -> None:
    """"Ugh, this is useless. I really don't want team sports." then "Quick update: please skip team sports
    altogether, not only rugby." said the same thing twice (2 of 6 widened dislikes told in 1,500 LongTerm
    episodes): a complaint about the widened dislike tells it, and its news is dropped; a dislike that moved to a
    sibling is still told after a complaint about it, for the old one is no dislike now."""
    complained: Counter[str] = Counter()
    told: Counter[str] = Counter()
    for user, drifted in _drifted_dislikes(schema):
        moved = {after: reason for (_, after), reason in drifted.items() if reason != "dislike_narrowed"}
        if not moved:
            continue
        user.open_session()
        node, reason = next(iter(moved.items()))
        offered = ResponseFeatures(word_count=60, mentions=[MentionFeature(node=node, stance="recommend")])
        complaint = user.respond("Try this.", offered)
        if complaint.intent.reason != "disliked_item" or complaint.intent.topic != node:
            continue
        complained[reason] += 1
        told[reason] += any(t.intent.reason == reason and t.intent.topic == node for t in _stay(user, 4))
    assert complained["dislike_widened"] >= 20 and told["dislike_widened"] == 0, (complained, told)
    assert told["dislike_moved"] >= 100, (complained, told)


def test_a_user_still_sated_with_something_says_they_have_had_enough_of_it(schema: PersonaSchema) -> None:
    """Answers that showed React.js six times in a session leave the user sated with it a week on (satiation
    recovers by half a week): they say so in the next session ("I've had my fill of React.js for now."), with no
    PKI (still liked, less for now); shown it twice, they say nothing of it."""
    from personagym.simulators.preferences import PreferenceConfig
    from personagym.simulators.user import SATED_EXPOSURE, UserConfig

    weekly = PreferenceConfig(gap_weights={"next_week": 1.0, "next_month": 0.0, "next_year": 0.0}, drift_rate=0.0,
                              event_rate=0.0)
    config = UserConfig(end_base=0.0, end_per_turn=0.0, news_rate=1.0)
    sampler, told, quiet = PersonaSampler(schema), 0, 0
    for seed in range(80):
        persona = sampler.sample(seed)
        node = next((i.node for i in persona.interests if i.polarity > 0), None)
        if node is None or len(schema.taxonomy.paths[node]) < 2:
            continue
        features = ResponseFeatures(word_count=40, mentions=[MentionFeature(node=node, stance="recommend")])
        user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0), preferences=weekly, config=config)
        shown = 6 if seed % 2 else 2
        user.open_session()
        for _ in range(shown):
            user.react(features)
        user.next_session()
        turns = _session(user, user.open_session(), 3)
        said = [t for t in turns if t.intent.reason == "had_enough"]
        if shown == 2:
            assert not said, said[0].text
            quiet += 1
            continue
        assert user.state.exposure[node] >= SATED_EXPOSURE
        assert len(said) == 1 and said[0].intent.topic == node and not said[0].pkis, [t.text for t in turns]
        told += 1
    assert told >= 10 and quiet >= 10, (told, quiet)


def test_what_the_user_has_moved_on_from_is_no_request_topic(schema: PersonaSchema) -> None:
    """"Lately it's less true crime books and more philosophy books for me." and, two turns later, "Write a fun,
    casual explainer on true crime books for a ten-year-old.": a request about a topic the user likes is about a
    current interest, but one about any other topic could draw what they had moved on from or lost
    (`_Memory.former`), or something under it.  It draws neither (here with every request about another topic)."""
    from personagym.simulators.user import UserConfig

    sampler, paths = PersonaSampler(schema), schema.taxonomy.paths
    checked = 0
    for seed in range(12):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0),
                             config=UserConfig(interest_topic_rate=0.0))
        user.open_session()
        first = user._request().topic
        if first is None or len(paths[first]) < 3:
            continue
        former = paths[first][1]  # a whole branch the user asks about: what they moved on from
        user._memory.former.add(former)
        for _ in range(150):
            topic = user._request().topic
            assert topic is None or former not in paths[topic], (former, topic)
            checked += 1
    assert checked >= 900, checked


def test_what_the_user_has_had_enough_of_is_not_asked_about_for_the_rest_of_the_session(
        schema: PersonaSchema) -> None:
    """"I'm a bit burnt out on macrame at the moment." then, two turns later, "Plan thirty activities around
    macrame for a class of eighth graders." (9 requests in 1,500 LongTerm episodes): what the user has said they
    have had enough of, and what is under it, is no request topic for the rest of the session; their other likes
    still are, and a later session may ask about it again."""
    from personagym.simulators.preferences import PreferenceConfig
    from personagym.simulators.user import UserConfig

    weekly = PreferenceConfig(gap_weights={"next_week": 1.0, "next_month": 0.0, "next_year": 0.0}, drift_rate=0.0,
                              event_rate=0.0)
    config = UserConfig(end_base=0.0, end_per_turn=0.0, news_rate=1.0, interest_topic_rate=1.0)
    sampler, paths = PersonaSampler(schema), schema.taxonomy.paths
    told = later = again = 0
    for seed in range(80):
        persona = sampler.sample(seed)
        node = next((i.node for i in persona.interests if i.polarity > 0), None)
        if node is None or len(paths[node]) < 2:
            continue
        features = ResponseFeatures(word_count=40, mentions=[MentionFeature(node=node, stance="recommend")])
        user = UserSimulator(persona, seed=seed, noise=NoiseConfig(rate=0.0), preferences=weekly, config=config)
        user.open_session()
        for _ in range(6):
            user.react(features)
        user.next_session()
        turns = _session(user, user.open_session(), 14)
        sated = next((k for k, t in enumerate(turns) if t.intent.reason == "had_enough"), None)
        if sated is None:
            continue
        told += 1
        asked = [t for t in turns[sated + 1:] if t.intent.kind == "task_request"]
        assert all(node not in paths[t.intent.topic] for t in asked if t.intent.topic), [t.text for t in asked]
        later += sum(t.intent.polarity == 1 for t in asked)
        user.next_session()
        turns = _session(user, user.open_session(), 14)
        again += any(t.intent.kind == "task_request" and t.intent.topic and node in paths[t.intent.topic]
                     for t in turns)
    assert told >= 10 and later >= 30 and again >= 3, (told, later, again)


def _time_details(text: str, bank: TemplateBank) -> Iterator[tuple[str, str]]:
    """(request template with a {time} slot, time detail) for each time detail `text` says in such a template's
    {time} place, the template found by its words (a turn does not record its template)."""
    days = bank.time_days
    said = re.compile("|".join(re.escape(v) for v in sorted(days, key=len, reverse=True)), re.I)
    for template in bank.time_spans:
        pattern = "".join(re.escape(literal) + ("(?P<time>.*?)" if name == "time" else ".*?" if name else "")
                          for literal, name in template)
        match = re.search(pattern, text, re.I)
        for value in said.findall(match.group("time")) if match else ():
            yield template, next(v for v in days if v.lower() == value.lower())


def test_a_time_detail_fits_its_request_template(schema: PersonaSchema) -> None:
    """"Write me a short elevator pitch before spring", "half a dozen make-ahead ideas using pasta dishes in the
    next hour", "advice about the low-FODMAP diet next week, ideally something I can act on right away", "How
    often should I practice cave diving to see results before my sister's birthday on the 12th?", "solid picks in
    cultural travel by 5pm today", "recommendations my way by the 20th", "a six-month plan ... by Friday" (110 of
    280 time details in 2,000 Chat-v0 episodes): every request template with a {time} slot has a range of days
    (`time_spans`) and the details within it whose words clash with it (`time_not`), and over 6,000 requests with
    every slot filled no time detail is said out of them, nor any of the cases above (written here rather than
    read from the data) that come up."""
    from personagym.simulators.user import UserConfig

    renderer = TemplateRenderer(schema)
    bank = renderer.bank
    days = bank.time_days
    texts = {text: p for dom in bank.domains.values() for text, p in zip(dom.texts, dom.templates, strict=True)}
    assert all(p in bank.time_spans for text, p in texts.items() if "{time}" in text)
    deadline = ("by ", "in the next hour", "within the next week", "before the end of the day")
    cases = {  # words of a template -> what a time detail said with it must not be
        "elevator pitch": lambda v: days[v] >= 1,
        "make-ahead ideas": lambda v: days[v] < 1,
        "act on right away": lambda v: days[v] > 3,
        "to see results": lambda v: days[v] < 14,
        "solid picks in": lambda v: v.startswith(deadline),
        "recommendations my way": lambda v: v.startswith(deadline),
        "six-month plan": lambda v: days[v] < 30,
    }
    sampler, config = PersonaSampler(schema), UserConfig(slot_rate=1.0)
    said: Counter = Counter()
    seen: Counter = Counter()
    for seed in range(200):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0), config=config,
                             renderer=renderer)
        for _ in range(30):
            text = user._turn(user._request()).clean_text
            for template, value in _time_details(text, bank):
                said[template] += 1
                lo, hi = bank.time_spans[template]
                assert lo <= days[value] <= hi and value not in bank.time_not.get(template, ()), text
                for words, wrong in cases.items():
                    if words in text:
                        seen[words] += 1
                        assert not wrong(value), text
    assert sum(said.values()) >= 300 and len(said) >= 45, said
    assert len(seen) >= 5, seen  # each case on its own: test_renderers.py::test_a_time_detail_fits_the_deliverable
