"""Template renderer: what the simulated user says reads as English and does not contradict itself."""

from __future__ import annotations

import copy
import re
from collections import Counter
from itertools import pairwise

import numpy as np
import pytest

from personagym.records import Intent
from personagym.rng import Draws
from personagym.simulators.draft import SLOT
from personagym.simulators.persona import PersonaSchema
from personagym.simulators.renderers import (
    PREFERENCE_SLOTS,
    REQUEST_DETAILS_CACHED,
    SLOT_VALUES_CACHED,
    TemplateBank,
    TemplateRenderer,
)
from personagym.simulators.sampler import PersonaSampler

#: A third-person-singular verb right after the item ("{item} is the worst"): wrong for "Board Games".
_SINGULAR_VERB = re.compile(
    r"^(?:,? (?:usually|just|really|honestly|broadly|in general),?)* "
    r"(?:is|isn't|has|does|doesn't|tends|makes|drives|rubs|sounds|seems|puts|leaves)\b"
)


@pytest.fixture(scope="module")
def renderer(schema: PersonaSchema) -> TemplateRenderer:
    return TemplateRenderer(schema)


def test_item_templates_agree_with_plural_names(renderer: TemplateRenderer) -> None:
    """Many taxonomy names are plural ("Board Games", "Pasta Dishes"), and noise swaps names: no "{item} is"."""
    bank = renderer.bank
    pools = [*bank.interest.values(), bank.clarify["interest"],
             bank.reasons["disliked_item"]]
    bad = []
    for pool in pools:
        for template in pool:
            for (before, name), (after, _) in pairwise(template):
                subject = not before.strip() or before.rstrip()[-1] in ".?!,:"  # not "Anything with {item}"
                if name == "item" and subject and _SINGULAR_VERB.match(after):
                    bad.append("".join(lit + (f"{{{n}}}" if n else "") for lit, n in template))
    assert not bad, bad


def test_the_article_before_a_topic_agrees_with_it(renderer: TemplateRenderer, taxonomy) -> None:
    """Templates say "a {topic} theme": with "energy drinks" that is "an energy drinks theme"."""
    vowel = next(n for n in taxonomy.ids if taxonomy.name(n) == "energy drinks")
    d = Draws(np.random.default_rng(0))
    seen = 0
    for domain in renderer.bank.domains:
        for _ in range(200):
            intent = Intent(kind="task_request", domain=domain, topic=vowel, polarity=1, slots={})
            text, pkis = renderer.render(intent, d).finish()
            assert not re.search(r"\ba energy\b", text, re.IGNORECASE), text
            # "Energy drinks" starting a sentence; "an energy drink theme" after "a" (see test_draft)
            assert text[pkis[0].start:pkis[0].end].lower() in ("energy drinks", "energy drink")
            seen += " an energy drink" in text
    assert seen > 10


def test_a_request_never_contradicts_the_preference_it_attaches(renderer: TemplateRenderer, taxonomy) -> None:
    """"... in a table. Also, plain text only, no markdown.": the slot the preference speaks to is left out."""
    d = Draws(np.random.default_rng(1))
    topic = next(n for n in taxonomy.ids if taxonomy.name(n) == "jazz")
    slots = {"format": "in a table", "length": "in around 1,000 words", "time": "by Friday"}
    cases = [("markdown_pref", "plain_text"), ("length_pref", "terse"), ("format_pref_primary", "bullets")]
    for attribute, value in cases:
        for domain in renderer.bank.domains:
            for _ in range(30):
                intent = Intent(kind="task_request", domain=domain, topic=topic, polarity=1, slots=slots,
                                attribute=attribute, value=value)
                draft = renderer.render(intent, d)
                said = {s.slot for s in draft.segments if s.kind == SLOT}
                assert PREFERENCE_SLOTS[attribute] not in said, draft.text()


def _sentences(text: str) -> list[str]:
    return [s.strip(" .!?").lower() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip(" .!?")]


def test_a_goodbye_never_says_the_same_thing_twice(renderer: TemplateRenderer) -> None:
    """Prefix, goodbye and suffix are drawn apart: "Never mind. Bye. Bye." and "Okay. Okay, forget it." are not said."""
    d = Draws(np.random.default_rng(2))
    for polarity in (1, -1):
        for _ in range(3000):
            text, _ = renderer.render(Intent(kind="goodbye", polarity=polarity), d).finish()
            sentences = _sentences(text)
            for i, a in enumerate(sentences):
                for b in sentences[i + 1:]:
                    short, long = sorted((a, b), key=len)
                    assert not re.search(rf"\b{re.escape(short)}\b", long), text


def test_only_a_user_with_a_job_goes_back_to_work_after_a_goodbye(renderer: TemplateRenderer) -> None:
    d = Draws(np.random.default_rng(4))
    said = {}
    for status in ("retired", "employed_full_time"):
        texts = [renderer.render(Intent(kind="goodbye", polarity=1), d, speaker={"employment_status": status})
                 .finish()[0] for _ in range(1500)]
        said[status] = sum("Back to work for me." in text for text in texts)
    assert said["retired"] == 0 and said["employed_full_time"] > 0, said
    raw = copy.deepcopy(renderer.bank.raw)
    raw["goodbye_suffix_needs"] = {"Back to work for me!": {"employment_status": ["part_time"]}}
    with pytest.raises(ValueError, match=r"goodbye_suffix_needs names 'Back to work for me!', which is no goodbye"):
        TemplateBank(raw, renderer.taxonomy)


def test_every_length_and_format_detail_says_what_it_fits(renderer: TemplateRenderer, schema: PersonaSchema) -> None:
    """A slot value added to the bank without its `slot_fit` entry fails when the bank loads, naming it."""
    raw = copy.deepcopy(renderer.bank.raw)
    raw["slot_values"]["length"].append("in exactly 42 words")
    with pytest.raises(ValueError, match="slot_fit.length has no entry for the slot value 'in exactly 42 words'"):
        TemplateBank(raw, schema.taxonomy)
    terse = renderer.bank.fitting_slot_values((0, 40), "narrative")
    assert "in a single sentence" in terse["length"] and "in around 1,000 words" not in terse["length"]
    assert "in plain paragraphs" in terse["format"] and "in a table" not in terse["format"]
    assert renderer.bank.fitting_slot_values(None, None) == renderer.bank.slot_values


def test_attribute_phrases_write_proper_nouns_capitalised(renderer: TemplateRenderer, schema: PersonaSchema) -> None:
    """Phrases are lowercase but for proper nouns: languages, programming languages, "Sabbath", "AI", "PhD"
    ("Oh right, I have a phd." was audited)."""
    languages = {v for name in ("native_language", "other_languages", "response_language")
                 for v in schema.attributes[name].values}
    proper = {w: w.capitalize() for w in languages | {"python", "rust", "sabbath"}}
    proper |= {"ai": "AI", "dr": "DR", "phd": "PhD"}
    for attribute in schema.attributes.values():
        for value, phrases in attribute.phrases.items():
            for phrase in phrases:
                for word in re.findall(r"[A-Za-z]+", phrase):
                    assert proper.get(word.lower(), word) == word, (attribute.name, value, phrase)
    d = Draws(np.random.default_rng(0))
    said = {renderer.phrase("response_language", "spanish", d) for _ in range(20)}
    assert said == {"I'd rather get answers in Spanish", "please reply in Spanish"}


def test_please_is_said_once(renderer: TemplateRenderer, schema: PersonaSchema, taxonomy) -> None:
    """"Please adjust: please keep a professional register." drops the phrase's "please"; the tracker still reads it."""
    from personagym.envs.knowledge import WorldKnowledge
    from personagym.simulators.analyzer import ResponseAnalyzer

    knowledge = WorldKnowledge(schema, ResponseAnalyzer(taxonomy))
    pleading = [(a.name, v) for a in schema.attributes.values() for v, ps in a.phrases.items()
                if any(p.lower().startswith("please ") for p in ps)]
    assert pleading
    d = Draws(np.random.default_rng(11))
    topic = taxonomy.resolve("jazz")
    dropped = 0
    for _ in range(600):
        attribute, value = d.choice(pleading)
        intent = d.choice([
            Intent(kind="task_request", domain="recommendation", topic=topic, polarity=1, slots={},
                   attribute=attribute, value=value),
            Intent(kind="feedback", polarity=-1, level="medium", reason="ignored_preference",
                   attribute=attribute, value=value),
        ])
        text, pkis = renderer.render(intent, d).finish()
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            assert sentence.lower().count("please") <= 1, text
        stated = [p for p in pkis if p.kind == "attribute"]
        if stated:
            dropped += not stated[0].evidence.lower().startswith("please")
            assert (attribute, value, 1) in knowledge.statements(text), text
    assert dropped > 20


def test_about_me_lead_ins_only_introduce_facts_about_the_speaker(renderer: TemplateRenderer,
                                                                    schema: PersonaSchema) -> None:
    """"A bit of background: keep the tone neutral." — an instruction is no background; "I live alone" is."""
    leads = {"".join(lit for lit, _ in t).split("{")[0].strip(" .,:") for t in renderer.bank.attribute_about_me
             if t not in renderer.bank.attribute}
    assert len(leads) == 4
    facts = [(a.name, v) for a in schema.attributes.values() for v in a.phrases]
    d = Draws(np.random.default_rng(12))
    led = Counter()
    for _ in range(4000):
        attribute, value = d.choice(facts)
        intent = Intent(kind="preference_disclosure", attribute=attribute, value=value)
        text, pkis = renderer.render(intent, d).finish()
        lead = next((lead for lead in leads if text.startswith(lead)), None)
        if lead is not None:
            evidence = pkis[0].evidence.lower()
            about_me = evidence.split()[0] in {"i", "i'm", "i've", "i'd", "i'll", "my", "we", "we're", "we've", "our"}
            assert about_me, text
            led[lead] += 1
    assert len(led) == 4 and min(led.values()) > 10


def test_a_flat_list_of_disclosure_templates_still_loads(renderer: TemplateRenderer, schema: PersonaSchema) -> None:
    """A bank written before the "about me" split uses its templates for any phrase."""
    raw = copy.deepcopy(renderer.bank.raw)
    raw["disclosure_attribute"] = ["Just so you know, {phrase}.", "A bit of background: {phrase}."]
    bank = TemplateBank(raw, schema.taxonomy)
    assert bank.attribute == bank.attribute_about_me and len(bank.attribute) == 2


def test_a_goodbye_names_no_time_of_day(renderer: TemplateRenderer) -> None:
    """A session opened with "Morning!" must not close with "Have a good evening!": only greetings name the time."""
    bank = renderer.bank
    times = re.compile(r"\b(?:morning|afternoon|evening|night|tonight)\b", re.IGNORECASE)
    assert any(times.search(o) for o in bank.openers[1])  # greetings do
    said = [*(t for pool in bank.goodbye_prefixes.values() for t in pool),
            *("".join(lit for lit, _ in t) for pool in bank.goodbyes.values() for t in pool),
            *(t for pool in bank.goodbye_suffixes.values() for t in pool)]
    assert said and not [t for t in said if times.search(t)]


def test_request_details_fit_the_user(renderer: TemplateRenderer, schema: PersonaSchema) -> None:
    """No "for my kids" from a user without children, no "for my manager" from a retiree, no "under $5,000" on a
    tight budget, no "in markdown" from a plain-text user (the audits found all four)."""
    bank = renderer.bank
    assert {"for my kids", "under $5,000", "in markdown"} <= set(bank.slot_needs.needs)
    for value, needs in bank.slot_needs.needs.items():
        for attribute, allowed in needs.items():
            spec = schema.attributes[attribute]
            assert spec.type in ("categorical", "multi") and allowed <= set(spec.values), (value, attribute)
    childless = bank.fitting_slot_values(None, None, {"children": "none", "employment_status": "retired",
                                                      "budget_level": "tight", "markdown_pref": "plain_text"})
    assert {"for my kids", "for my teenage son", "for my manager"}.isdisjoint(childless["audience"])
    assert "for my book club" in childless["audience"] and "under $50" in childless["budget"]
    assert "under $5,000" not in childless["budget"] and "in markdown" not in childless["format"]
    parent = bank.fitting_slot_values(None, None, {"children": "teenagers", "pets_owned": ["cat"]})
    assert {"for my kids", "for my teenage son"} <= set(parent["audience"])
    assert "under $5,000" in parent["budget"]  # no budget known: nothing it presupposes is contradicted
    # a detail that states a fact is said only by a user whose profile holds it: "for my manager" says they
    # have a job (144 of 193 such details came from profiles without the attribute, and no PKI said it)
    assert "for my manager" not in parent["audience"] and "for my kids" not in childless["audience"]
    assert "for my kids" not in bank.fitting_slot_values(None, None, {"pets_owned": ["cat"]})["audience"]
    raw = copy.deepcopy(bank.raw)
    raw["slot_fit"]["needs"]["audience"]["for my cat"] = {"pets_owned": ["cat"]}
    with pytest.raises(ValueError, match="slot_fit.needs.audience names 'for my cat', which is no audience slot"):
        TemplateBank(raw, schema.taxonomy)


def test_praise_claims_no_layout(renderer: TemplateRenderer) -> None:
    """"That's a good list, thanks." followed answers with no list in 38 of 45 uses: praise says nothing of layout."""
    layout = re.compile(r"\b(?:list|table|bullets?|steps|headings)\b", re.IGNORECASE)
    praise = [t for name, pool in renderer.bank.feedback.items() if name.startswith("positive") for t in pool]
    assert praise and not [t for t in praise if layout.search("".join(lit for lit, _ in t))]


def test_a_request_template_fits_its_topic_and_its_speaker(renderer: TemplateRenderer, schema: PersonaSchema,
                                                          taxonomy) -> None:
    """No honeymoon from a single user; a template not for a category is never used with a topic under it."""
    bank = renderer.bank
    for domain in bank.domains.values():
        for needs in domain.needs.needs.values():
            for attribute, allowed in needs.items():
                assert allowed <= set(schema.attributes[attribute].values), (domain.name, attribute)
    travel = bank.domains["travel"]
    honeymoon = next(t for t in travel.texts if "honeymoon" in t)
    single = {"relationship_status": "single"}
    assert travel.templates[travel.texts.index(honeymoon)] not in travel.fitting(None, single)
    assert travel.templates[travel.texts.index(honeymoon)] in travel.fitting(None, {"relationship_status": "married"})
    fitness = bank.domains["fitness"]  # "I'm over 50 and curious about trail riding." from a teenager read false
    over_50 = fitness.templates[next(i for i, t in enumerate(fitness.texts) if "over 50" in t)]
    assert over_50 not in fitness.fitting(None, {"age_band": "u18"})
    assert over_50 in fitness.fitting(None, {"age_band": "60p"})
    d = Draws(np.random.default_rng(13))
    topic = taxonomy.resolve("jazz")
    for _ in range(300):
        intent = Intent(kind="task_request", domain="travel", topic=topic, polarity=1, slots={})
        text, _ = renderer.render(intent, d, speaker=single).finish()
        assert "honeymoon" not in text, text
    # not_for: a template said only of the topics it fits
    raw = copy.deepcopy(bank.raw)
    pack = next(t for t in raw["task_requests"]["travel"]["templates"] if t.startswith("What should I pack"))
    raw["task_requests"]["travel"]["not_for"] = {pack: ["History & Culture"]}
    strict = TemplateBank(raw, taxonomy).domains["travel"]
    history, places = taxonomy.resolve_path("History & Culture"), taxonomy.resolve_path("Travel & Places")
    assert strict.templates[strict.texts.index(pack)] not in strict.fitting(history, None)
    assert strict.templates[strict.texts.index(pack)] in strict.fitting(places, None)
    raw["task_requests"]["travel"]["not_for"] = {pack: ["Music"]}
    with pytest.raises(ValueError, match=r"task_requests.travel.not_for\[.*\] names 'Music'; expected one of"):
        TemplateBank(raw, taxonomy)
    raw["task_requests"]["travel"]["not_for"] = {"Pack my bags for {topic}.": ["Travel & Places"]}
    with pytest.raises(ValueError, match="task_requests.travel.not_for names 'Pack my bags for {topic}.', which is"):
        TemplateBank(raw, taxonomy)


def test_a_need_the_persona_schema_cannot_meet_fails_when_the_renderer_is_made(renderer: TemplateRenderer,
                                                                               schema: PersonaSchema) -> None:
    """A typo in a need ("childrn", "married_") would silently exclude nothing or everything: it fails by name."""
    raw = copy.deepcopy(renderer.bank.raw)
    raw["slot_fit"]["needs"]["audience"]["for my grandma"] = {"age_bnd": ["u18"]}
    with pytest.raises(ValueError, match=r"templates: slot_fit.needs\['for my grandma'\] needs age_bnd=\['u18'\], "
                                         "which the persona schema does not have"):
        TemplateRenderer(schema, TemplateBank(raw, schema.taxonomy))
    raw = copy.deepcopy(renderer.bank.raw)
    raw["slot_fit"]["states"]["for my kids"] = "childrn"  # a detail states only what it needs
    with pytest.raises(ValueError, match=r"templates: slot_fit.states\['for my kids'\] = 'childrn'; expected an "
                                         "attribute slot_fit.needs gives that detail"):
        TemplateBank(raw, schema.taxonomy)
    raw = copy.deepcopy(renderer.bank.raw)
    honeymoon = next(t for t in raw["task_requests"]["travel"]["templates"] if "honeymoon" in t)
    raw["task_requests"]["travel"]["needs"] = {honeymoon: {"relationship_status": ["married_"]}}
    with pytest.raises(ValueError, match=r"templates: task_requests.travel.needs\[.*\] needs relationship_status"):
        TemplateRenderer(schema, TemplateBank(raw, schema.taxonomy))


def test_a_name_that_takes_the_gets_it_in_a_request(renderer: TemplateRenderer, taxonomy) -> None:
    """"What should I pack for a trip centered on Canadian Rockies?" (194 audited messages): "on the Canadian
    Rockies", and still "a Cold War theme", "a list of Cold War recommendations" where the name is a modifier."""
    d = Draws(np.random.default_rng(5))
    bare = re.compile(r"\b(?:about|on|of|for|with|into|around|in|like|behind|involving) (?:Cold War|cold war)\b"
                      r"(?! (?:stuff|events|recommendations|trivia)\b)")
    doubled = re.compile(r"\b(?:the|a|an) the\b", re.IGNORECASE)
    topic = taxonomy.resolve("Cold War")
    with_the = modifier = 0
    for domain in renderer.bank.domains:
        for _ in range(60):
            intent = Intent(kind="task_request", domain=domain, topic=topic, polarity=1, slots={})
            text, pkis = renderer.render(intent, d).finish()
            assert not bare.search(text) and not doubled.search(text), text
            assert pkis[0].evidence.lower() == "cold war"
            with_the += "the Cold War" in text
            modifier += bool(re.search(r"\b(?:a|some|my|of|for) Cold War\b", text))
    assert with_the > 300 and modifier > 0


def test_a_template_that_names_its_deliverable_takes_no_detail_against_it(renderer: TemplateRenderer,
                                                                         taxonomy) -> None:
    """"Lay out a to-do list ... in plain paragraphs" (22 of 419 audited), "a short list ... in about 800
    words" (10 of 359): the detail is left out, and the intent records only what was said."""
    planning = renderer.bank.domains["planning"]
    todo = next(t for t in planning.texts if "to-do list" in t)
    shape = planning.shapes[planning.templates[planning.texts.index(todo)]]
    assert shape.layouts == {"list"}
    details = {"format": "in plain paragraphs", "time": "by Friday"}
    assert shape.details(details, renderer.bank.length_words, renderer.bank.format_layout) == {"time": "by Friday"}
    kept = {"format": "as a checklist", "time": "by Friday"}
    assert shape.details(kept, renderer.bank.length_words, renderer.bank.format_layout) == kept
    short = renderer.bank.domains["recommendation"]
    picks = next(t for t in short.texts if "short list" in t)
    assert short.shapes[short.templates[short.texts.index(picks)]].details(
        {"length": "in about 800 words"}, renderer.bank.length_words, renderer.bank.format_layout) == {}
    d = Draws(np.random.default_rng(2))
    topic = taxonomy.resolve("camping")
    for _ in range(400):
        intent = Intent(kind="task_request", domain="planning", topic=topic, polarity=1,
                        slots={"format": "in plain paragraphs", "length": "in about 800 words"})
        text = renderer.render(intent, d).finish()[0]
        assert not ("list" in text and "in plain paragraphs" in text), text


def test_a_user_asks_for_no_deliverable_against_their_own_preferences(renderer: TemplateRenderer) -> None:
    """A user who wants prose does not ask for a checklist, nor a terse one for a guide of hundreds of words:
    the reward would count the answer that obeyed against it."""
    planning, career = renderer.bank.domains["planning"], renderer.bank.domains["career"]
    lists = {p for p, s in planning.shapes.items() if s.layouts == {"list"}}
    assert lists and lists.isdisjoint(planning.fitting(None, {"format_pref_primary": "narrative"}))
    assert lists <= set(planning.fitting(None, {"format_pref_primary": "checklist"}))
    short = {p for p, s in career.shapes.items() if s.words and s.words[1] <= 300}
    assert short and short.isdisjoint(career.fitting(None, {"length_pref": "exhaustive"}))
    assert short <= set(career.fitting(None, {"length_pref": "brief"}))


def test_a_malformed_shape_fails_by_name(renderer: TemplateRenderer, taxonomy) -> None:
    raw = copy.deepcopy(renderer.bank.raw)
    todo = next(t for t in raw["task_requests"]["planning"]["templates"] if "to-do list" in t)
    for shape, message in [({"layouts": ["lists"]}, r"shapes\[.*\].layouts: expected a non-empty list of list, "
                                                    r"table, narrative, got \['lists'\]"),
                           ({"words": [300, 100]}, r"shapes\[.*\].words: expected \[lo, hi\], whole numbers"),
                           ({"size": 3}, r"shapes\[.*\]: expected an object with 'layouts' and/or 'words'")]:
        raw["task_requests"]["planning"]["shapes"] = {todo: shape}
        with pytest.raises(ValueError, match=r"templates: task_requests.planning." + message):
            TemplateBank(raw, taxonomy)
    raw["task_requests"]["planning"]["shapes"] = {"Make a list.": {"layouts": ["list"]}}
    with pytest.raises(ValueError, match="task_requests.planning.shapes names 'Make a list.', which is no template"):
        TemplateBank(raw, taxonomy)
    raw["task_requests"]["planning"]["shapes"] = {}
    raw["task_requests"]["planning"]["states_liking"] = raw["task_requests"]["planning"]["states_no_liking"] = [todo]
    with pytest.raises(ValueError, match=r"task_requests.planning: .* is in both states_liking and states_no_liking"):
        TemplateBank(raw, taxonomy)
    raw["task_requests"]["planning"]["states_no_liking"] = ["Make a list."]
    with pytest.raises(ValueError, match="planning.states_no_liking names 'Make a list.', which is no template"):
        TemplateBank(raw, taxonomy)


def test_a_user_who_wants_no_citations_asks_for_no_sources(renderer: TemplateRenderer) -> None:
    """"Give me credible sources on X. Oh right, no need for citations." contradicted itself."""
    research = renderer.bank.domains["research"]
    sources = {p for t, p in zip(research.texts, research.templates, strict=True) if "sources" in t}
    assert len(sources) == 2
    assert sources.isdisjoint(research.fitting(None, {"citation_pref": "none"}))
    assert sources <= set(research.fitting(None, {"citation_pref": "required"}))


def test_openers_and_closers_fit_the_request_and_the_speaker(schema: PersonaSchema, taxonomy) -> None:
    """"Question for you: I could use some advice about goats." (76 of 199 audited), "Cheers, mate." from a
    professional (48 formal users), "You are a lifesaver." before any answer (72)."""
    renderer = TemplateRenderer(schema, opener_rate=1.0, closer_rate=1.0)
    bank = renderer.bank
    assert {"Question for you:", "Okay, question:"} <= bank.question_only and "Yo!" in bank.casual_only
    assert not {"You are a lifesaver.", "Thanks, you're the best."} & set(bank.closers)
    d = Draws(np.random.default_rng(4))
    topic = taxonomy.resolve("jazz")
    casual_said = 0
    for formality in ("highly_formal", "professional", "very_casual"):
        speaker = {"formality_level": formality}
        for domain in bank.domains:
            for opens in (None, 0, 1):
                for _ in range(12):
                    intent = Intent(kind="task_request", domain=domain, topic=topic, polarity=1, slots={})
                    text = renderer.render(intent, d, opens=opens, speaker=speaker).finish()[0]
                    said = {o for o in bank.openers[2] if text.startswith(o + " ")}
                    said |= {c for c in bank.closers if text.endswith(" " + c)}
                    if said & bank.question_only:
                        assert "?" in text, text
                    if formality != "very_casual":
                        assert not said & bank.casual_only, text
                    casual_said += bool(said & bank.casual_only)
    assert casual_said > 20
    raw = copy.deepcopy(bank.raw)
    raw["casual_only"] = ["Yo!", "Sup."]
    with pytest.raises(ValueError, match="templates: casual_only names 'Sup.', which is no opener, closer or goodbye"):
        TemplateBank(raw, taxonomy)


def test_nothing_is_said_after_bye(renderer: TemplateRenderer) -> None:
    """"Let's drop it. Bye. Not helpful, sorry." (54 of 2,168 audited goodbyes went on after taking leave)."""
    farewell = re.compile(r"\b(?:bye|goodbye|see you|see ya|take care|catch you later|talk later|i'm out)\b",
                          re.IGNORECASE)
    d = Draws(np.random.default_rng(8))
    suffixed = 0
    for polarity in (1, -1):
        for _ in range(600):
            text = renderer.render(Intent(kind="goodbye", polarity=polarity), d).finish()[0]
            sentences = re.split(r"(?<=[.!?])\s+", text)
            assert not any(farewell.search(s) for s in sentences[:-1]), text
            suffixed += len(sentences) > 2
    assert suffixed > 200


def test_a_domain_draws_its_topics_from_the_kinds_its_templates_fit(schema: PersonaSchema, taxonomy) -> None:
    """"Is a degree necessary to work in Charles Darwin?", "a job in the Higgs boson", "shopping for backend
    development" (at least 543 of 4,813 audited requests): a career request's topic is a field, a shopping
    request's something to buy or do, and no request is about a whole category ("my pets & animals setup")."""
    from personagym.simulators.noise import NoiseConfig
    from personagym.simulators.simulate import simulate_turns

    bank = TemplateRenderer(schema).bank
    assert bank.domains["career"].topic_kinds == {"field", "language", "occupation"}
    assert bank.domains["writing"].topic_kinds is None
    # "a budget-friendly getaway built around the Bronze Age" (41 of 197 audited trips), "the downsides of
    # working in product manager" (28 of 307 career requests): eras are periods, job titles occupations
    assert taxonomy.kind(taxonomy.resolve("Bronze Age")) == "period"
    assert "period" not in bank.domains["travel"].topic_kinds
    assert taxonomy.kind(taxonomy.resolve("product manager")) == "occupation"
    working = "What are the downsides of working in {topic} that nobody mentions?"
    occupations = [t for t, c in zip(bank.domains["career"].texts, bank.domains["career"].templates, strict=True)
                   if c in bank.domains["career"].fitting(taxonomy.resolve("careers_work"), None)]
    assert occupations and working not in occupations
    seen: Counter = Counter()
    for _, turn in simulate_turns(6000, 5, noise=NoiseConfig(rate=0.0)):
        intent = turn.intent
        if intent.kind != "task_request" or intent.topic is None:
            continue
        kinds = bank.domains[intent.domain].topic_kinds
        assert kinds is None or taxonomy.kind(intent.topic) in kinds, (intent.domain, intent.topic)
        assert taxonomy.nodes[intent.topic].depth > 1, turn.clean_text
        seen[intent.domain] += 1
    assert seen["career"] > 100 and seen["shopping"] > 100
    raw = copy.deepcopy(bank.raw)
    raw["task_requests"]["career"]["kinds"] = ["field", "job"]
    with pytest.raises(ValueError, match=r"task_requests.career.kinds: expected a non-empty list of activity, .*"
                                         r"got \['field', 'job'\]"):
        TemplateBank(raw, taxonomy)
    raw["task_requests"]["career"]["kinds"] = ["food_drink"]
    with pytest.raises(ValueError, match=r"task_requests.career.kinds: 'Careers & Work' holds no topic of the kinds "
                                         r"\['food_drink'\]"):
        TemplateBank(raw, taxonomy)


def test_a_stray_not_with_tags_entry_fails_by_name(renderer: TemplateRenderer, taxonomy) -> None:
    """A domain's `not_with_tags` names taxonomy tags: a misspelt one would silently leave its topics in."""
    raw = copy.deepcopy(renderer.bank.raw)
    raw["task_requests"]["shopping"]["not_with_tags"] = ["nothing_to_by"]
    with pytest.raises(ValueError, match=r"task_requests.shopping.not_with_tags names 'nothing_to_by' "
                                         r"\(did you mean 'nothing_to_buy'\?\); expected taxonomy tags \(adult_only, "):
        TemplateBank(raw, taxonomy)
    raw["task_requests"]["shopping"]["not_with_tags"] = "nothing_to_buy"
    with pytest.raises(ValueError, match=r"task_requests.shopping.not_with_tags: expected a list of taxonomy tags, "
                                         r"got 'nothing_to_buy'"):
        TemplateBank(raw, taxonomy)


def test_things_to_make_involve_an_ingredient_not_a_dish_made_as_it_is(renderer: TemplateRenderer,
                                                                         taxonomy) -> None:
    """"What are three beginner-friendly things to make that involve hot chocolate?" (38 of 50,000 requests, a
    dish or drink made as it is: `made_as_is`); avocados and espresso go into other things, and are still asked so
    though nothing is under them to pick from."""
    make = "things to make that involve"
    d = Draws(np.random.default_rng(17))
    said = Counter()
    for name in ("hot chocolate", "lasagna", "negroni", "avocados", "espresso"):
        topic = taxonomy.resolve(name)
        for _ in range(400):
            intent = Intent(kind="task_request", domain="cooking", topic=topic, polarity=1, slots={})
            said[name] += make in renderer.render(intent, d).finish()[0]
    assert said["hot chocolate"] == said["lasagna"] == said["negroni"] == 0, said
    assert said["avocados"] > 0 and said["espresso"] > 0, said
    assert not taxonomy.children[taxonomy.resolve("avocados")]


@pytest.mark.parametrize(("name", "unsaid", "said"), [
    # a dish made as it is is no ingredient: "What can I cook with Buddha bowls in under thirty minutes?"
    ("Buddha bowls", ("cook with", "cook something with", "Make me something with"), ("recipe card for",)),
    # a country's cooking is no dish: "Write me a simple recipe card for Thai cuisine"
    ("Thai cuisine", ("cook with", "recipe card for", "healthier version of", "things to make that involve"),
     ("a week of meals inspired by",)),
    # an ingredient is no dish, drink or craft: "What should I order if I want to try authentic mushrooms?"
    ("mushrooms", ("healthier version of", "try authentic", "techniques behind", "recipe card for",
                   "stock up on for"), ("cook with",)),
])
def test_cooking_requests_take_their_topic_for_what_it_is(renderer: TemplateRenderer, taxonomy, name: str,
                                                          unsaid: tuple[str, ...], said: tuple[str, ...]) -> None:
    """A cooking request takes a cuisine, a dish and an ingredient each for what it is (found reading episodes:
    "What can I cook with Buddha bowls in under thirty minutes for less than 30 dollars?"), while the domain's
    other templates still ask about it."""
    d = Draws(np.random.default_rng(23))
    topic = taxonomy.resolve(name)
    texts = [renderer.render(Intent(kind="task_request", domain="cooking", topic=topic, polarity=1, slots={}),
                             d).finish()[0] for _ in range(1500)]
    assert not [t for t in texts if any(words in t for words in unsaid)], name
    assert all(any(words in t for t in texts) for words in said), name


def test_a_stray_not_with_tags_for_entry_fails_by_name(renderer: TemplateRenderer, taxonomy) -> None:
    """A template's `not_with_tags_for` names one of its domain's templates and taxonomy tags: a misspelt one would
    silently leave "a kid-friendly take on cognac" in."""
    raw = copy.deepcopy(renderer.bank.raw)
    kid = "Can you give me a kid-friendly take on {topic}?"
    raw["task_requests"]["cooking"]["not_with_tags_for"] = {kid: ["alcohl"]}
    with pytest.raises(ValueError, match=r"task_requests.cooking.not_with_tags_for\['Can you give me a kid-friendly "
                                         r"take on \{topic\}\?'\] names 'alcohl' \(did you mean 'alcohol'\?\)"):
        TemplateBank(raw, taxonomy)
    raw["task_requests"]["cooking"]["not_with_tags_for"] = {kid: "alcohol"}
    with pytest.raises(ValueError, match=r"not_with_tags_for\[.*\]: expected a list of taxonomy tags, got 'alcohol'"):
        TemplateBank(raw, taxonomy)
    raw["task_requests"]["cooking"]["not_with_tags_for"] = {"A kid-friendly take on {topic}?": ["alcohol"]}
    with pytest.raises(ValueError, match=r"task_requests.cooking.not_with_tags_for names 'A kid-friendly take on "
                                         r"\{topic\}\?', which is no template of cooking"):
        TemplateBank(raw, taxonomy)


def test_no_first_date_from_a_married_user_and_no_twenties_from_a_minor(renderer: TemplateRenderer) -> None:
    """"Summarize the history of epigenetics for a first date." (married), "look into index funds in your
    twenties" (under 18): both audited."""
    bank = renderer.bank
    married = bank.fitting_slot_values(None, None, {"relationship_status": "married"})
    assert "for a first date" not in married["audience"] and "for my partner" in married["audience"]
    assert "for a first date" in bank.fitting_slot_values(None, None, {"relationship_status": "single"})["audience"]
    finance = bank.domains["finance"]
    twenties = finance.templates[next(i for i, t in enumerate(finance.texts) if "twenties" in t)]
    assert twenties not in finance.fitting(None, {"age_band": "u18"})
    assert twenties in finance.fitting(None, {"age_band": "2534"})


def test_words_that_imply_an_age_or_a_life_fit_what_else_the_user_has(renderer: TemplateRenderer) -> None:
    """A user without the attribute a phrase needs may say it, but not when their other attributes belie it
    (audited): "Create a practice exercise on Esperanto for my grandma." from an empty nester, "Could you
    suggest a starter kit for growing tomatoes for my grandma?" from a retiree, "Does it make sense to look
    into house flipping in your twenties?" after fifteen years of work, "I'm over 50 and curious about infrared
    sauna." early in a career, "How do I find time for chai with a full-time job?" with no work experience,
    "Can you recommend something in the Premier League that's good to share with kids?" then "I don't have kids."
    """
    bank = renderer.bank
    for speaker in ({"life_stage": "empty_nester"}, {"employment_status": "retired"}):
        assert "for my grandma" not in bank.fitting_slot_values(None, None, speaker)["audience"], speaker
    assert "for my grandma" in bank.fitting_slot_values(None, None, {"life_stage": "early_career"})["audience"]

    def template(domain_name: str, words: str):
        domain = bank.domains[domain_name]
        return domain, domain.templates[next(i for i, t in enumerate(domain.texts) if words in t)]

    # each with the attribute its template states, which a speaker without it does not say (`states`)
    twenties, over_50, working = {"age_band": "2534"}, {"age_band": "60p"}, {"employment_status": "employed_full_time"}
    for (domain_name, words), belying, fitting, stated in (
            (("finance", "in your twenties"), {"years_experience": "15p"}, {"years_experience": "1_3"}, twenties),
            (("finance", "in your twenties"), {"children": "teenagers"}, {"children": "none"}, twenties),
            (("fitness", "over 50"), {"life_stage": "early_career"}, {"life_stage": "empty_nester"}, over_50),
            (("hobby", "full-time job"), {"years_experience": "none"}, {"years_experience": "3_7"}, working),
            (("hobby", "full-time job"), {"currently_studying": "full_time"}, {"currently_studying": "no"}, working),
            (("entertainment", "share with kids"), {"children": "none"}, {"children": "school_age"}, {})):
        domain, parsed = template(domain_name, words)
        assert parsed not in domain.fitting(None, belying | stated), (words, belying)
        assert parsed in domain.fitting(None, fitting | stated), (words, fitting)
        assert not stated or parsed not in domain.fitting(None, fitting), (words, "said without", stated)


def test_words_that_say_a_topic_is_new_to_the_user_are_not_said_of_a_liked_one(renderer: TemplateRenderer) -> None:
    """"I keep hearing about open-world games. Where should a beginner begin?" then "Open-world games? My
    absolute favorite." two turns on; "Any tips for someone dealing with body scan meditation for the first
    time?" a session after "I gave body scan meditation a go after we talked.": audited."""
    bank = renderer.bank
    for domain_name, words in (("recommendation", "I keep hearing about"), ("advice", "for the first time"),
                               ("entertainment", "totally new to"), ("hobby", "I want to get into")):
        domain = bank.domains[domain_name]
        parsed = domain.templates[next(i for i, t in enumerate(domain.texts) if words in t)]
        assert parsed not in domain.fitting(None, None, liked=True), words
        assert parsed in domain.fitting(None, None, liked=False), words


def test_a_stray_opener_or_fit_claim_fails_by_name(renderer: TemplateRenderer, taxonomy) -> None:
    """A typo in openers.question_only or fit_claims would silently mark nothing: it fails by name."""
    raw = copy.deepcopy(renderer.bank.raw)
    raw["openers"]["question_only"] = ["Question for you:", "Quick q:"]
    with pytest.raises(ValueError, match="templates: openers.question_only names 'Quick q:', which is no opener"):
        TemplateBank(raw, taxonomy)
    raw = copy.deepcopy(renderer.bank.raw)
    raw["fit_claims"] = ["Wow, that's exactly what I needed!", "Spot on!"]
    with pytest.raises(ValueError, match="templates: fit_claims names 'Spot on!', which is no positive feedback"):
        TemplateBank(raw, taxonomy)


def test_a_report_on_what_was_tried_fits_what_it_was(renderer: TemplateRenderer, taxonomy) -> None:
    """One gives a sport, a dish or a genre "a go", not Fiji, cats, dark matter or the 20th century (15 of 111
    such reports in 600 LongTerm episodes); whatever the thing, one "looked into" it."""
    d = Draws(np.random.default_rng(0))
    by_name = {taxonomy.nodes[n].name: n for n in taxonomy.ids}
    said: dict[str, set[str]] = {}
    for name in ("Fiji", "cats", "dark matter", "20th century", "Italian cuisine"):
        intent = Intent(kind="preference_disclosure", topic=by_name[name], polarity=1, reason="tried")
        said[name] = {renderer.render(intent, d).finish()[0] for _ in range(60)}
    food = said.pop("Italian cuisine")
    assert any(" a go " in t for t in food) and any("checked out" in t for t in food), food
    for node, texts in said.items():
        assert len(texts) >= 3 and not [t for t in texts if " a go " in t or "checked out" in t], (node, texts)


def test_a_stray_interest_news_kind_fails_by_name(renderer: TemplateRenderer, taxonomy) -> None:
    raw = copy.deepcopy(renderer.bank.raw)
    raw["interest_news_kinds"] = {"I gave {item} a whirl.": ["activity"]}
    with pytest.raises(ValueError, match="interest_news_kinds names 'I gave {item} a whirl.', which is no "
                                         "interest_news template"):
        TemplateBank(raw, taxonomy)
    raw["interest_news_kinds"] = {"I gave {item} a go after we talked. Good call.": ["hobby"]}
    with pytest.raises(ValueError, match=r"interest_news_kinds\[.*\]: expected a non-empty list of activity, "):
        TemplateBank(raw, taxonomy)


def _goodbye_parts(bank: TemplateBank, mood: str, text: str) -> list[str]:
    """A rendered goodbye split back into its prefix, goodbye and suffix (the texts of the bank)."""
    goodbyes = ["".join(lit for lit, _ in t) for t in bank.goodbyes[mood]]
    for prefix in ("", *bank.goodbye_prefixes[mood]):
        rest = text[len(prefix) + 1:] if prefix and text.startswith(prefix + " ") else None if prefix else text
        for goodbye in goodbyes if rest is not None else ():
            if rest == goodbye:
                return [p for p in (prefix, goodbye) if p]
            if rest.startswith(goodbye + " ") and rest[len(goodbye) + 1:] in bank.goodbye_suffixes[mood]:
                return [p for p in (prefix, goodbye, rest[len(goodbye) + 1:]) if p]
    raise AssertionError(f"{text!r} is no {mood} goodbye of the bank")


def test_a_goodbye_says_each_thing_once_in_words_that_fit_the_speaker(renderer: TemplateRenderer) -> None:
    """"Not really what I wanted. Not what I needed." said it twice in other words (40 audited goodbyes), and
    "Meh. I'm out." or "Done and dusted." came from formal users: a prefix or suffix says no move the goodbye
    says (`goodbye_moves`), and casual goodbye words are a casual user's."""
    bank = renderer.bank
    moves = {mood: [[re.compile(rf"\b{re.escape(c)}\b") for c in cues] for cues in by_move.values()]
             for mood, by_move in bank.raw["goodbye_moves"].items()}
    d = Draws(np.random.default_rng(12))
    casual_said = three_parts = 0
    for formality in ("very_casual", "professional"):
        for polarity, mood in ((1, "satisfied"), (-1, "unsatisfied")):
            for _ in range(1500):
                text = renderer.render(Intent(kind="goodbye", polarity=polarity), d,
                                       speaker={"formality_level": formality}).finish()[0]
                parts = _goodbye_parts(bank, mood, text)
                three_parts += len(parts) == 3
                for cues in moves[mood]:
                    saying = [p for p in parts if any(c.search(p.lower()) for c in cues)]
                    assert len(saying) <= 1, (text, saying)
                casual = [p for p in parts if p in bank.casual_only]
                assert formality == "very_casual" or not casual, text
                casual_said += bool(casual)
    assert casual_said > 300 and three_parts > 300


def test_a_goodbye_move_that_guards_nothing_fails_by_name(renderer: TemplateRenderer, taxonomy) -> None:
    raw = copy.deepcopy(renderer.bank.raw)
    raw["goodbye_moves"]["unsatisfied"]["elsewhere"].append("ask my cat")
    with pytest.raises(ValueError, match="goodbye_moves.unsatisfied.elsewhere lists 'ask my cat', which no "
                                         "unsatisfied goodbye, prefix or suffix says"):
        TemplateBank(raw, taxonomy)
    raw = copy.deepcopy(renderer.bank.raw)
    raw["casual_only"].append("Later, gator.")
    with pytest.raises(ValueError, match="casual_only names 'Later, gator.', which is no opener, closer or goodbye"):
        TemplateBank(raw, taxonomy)


def test_request_details_fit_the_request(renderer: TemplateRenderer, schema: PersonaSchema, taxonomy) -> None:
    """Audited (3,196 requests): a trip "for around $75" and recipes "under $1,000" (50 of 221 budgets), a
    drinking game "for a class of eighth graders", "thirty red flags" from a user who wants terse answers."""
    from personagym.simulators.user import UserConfig, UserSimulator

    bank = renderer.bank
    sampler = PersonaSampler(schema)
    config = UserConfig(slot_rate=1.0, attach_preference_rate=0.0, disclose_rate=0.0)
    seen = Counter()
    for seed in range(1200):
        persona = sampler.sample(seed)
        user = UserSimulator(persona, seed=seed, schema=schema, renderer=renderer, config=config)
        intent = user.open_session().intent
        domain, slots = bank.domains[intent.domain], intent.slots
        if "budget" in slots and domain.budget:
            lo, hi = domain.budget
            assert lo <= bank.budget_usd[slots["budget"]] <= hi, (intent.domain, slots)
            seen["budget"] += 1
        tags = taxonomy.nodes[intent.topic].tags if intent.topic else frozenset()
        if slots.get("audience") in bank.not_with_tags:
            assert bank.not_with_tags[slots["audience"]].isdisjoint(tags), (intent.topic, slots)
        if "quantity" in slots and persona.attributes.get("length_pref") == "terse":
            assert bank.quantity_items[slots["quantity"]] <= 3, slots
            seen["terse quantity"] += 1
    assert seen["budget"] > 40 and seen["terse quantity"] > 6, seen
    young = bank.request_slot_values(bank.slot_values, bank.domains["entertainment"], frozenset({"alcohol"}))
    assert "for my kids" in bank.slot_values["audience"] and "for my kids" not in young["audience"]
    # no "How would I set up a coffee tasting at home for a ten-year-old?" (found reading episodes); a teenager
    # may drink coffee, and a child may have bubble tea, which has caffeine too
    cooking = bank.domains["cooking"]
    coffee = bank.request_slot_values(bank.slot_values, cooking, taxonomy.tags[taxonomy.resolve("espresso")])
    assert {"for a ten-year-old", "for my kids", "for a class of eighth graders"}.isdisjoint(coffee["audience"])
    assert "for my teenage son" in coffee["audience"]
    boba = bank.request_slot_values(bank.slot_values, cooking, taxonomy.tags[taxonomy.resolve("bubble tea")])
    assert "caffeine" in taxonomy.tags[taxonomy.resolve("bubble tea")] and "for a ten-year-old" in boba["audience"]


def test_a_document_kind_format_goes_only_with_its_templates(renderer: TemplateRenderer, taxonomy) -> None:
    """"What's the difference between the main options in Xbox as a day-by-day schedule?": 80 of 91 audited
    formats that name a kind of document did not fit their template."""
    raw = copy.deepcopy(renderer.bank.raw)
    timeline = "Could you make me a study plan for {topic} {format}?"
    options = "What's the difference between the main options in {topic} {format}?"
    assert timeline in raw["slot_fit"]["genres"]["as a timeline"]
    assert options not in raw["slot_fit"]["genres"]["as a timeline"]
    raw["task_requests"]["research"]["templates"] = [timeline, options]
    for key in ("shapes", "not_for", "needs", "not_with_tags_for", "no_picks"):
        raw["task_requests"]["research"].pop(key, None)
    raw["slot_fit"]["genres"] = {g: [t for t in ts if t in (timeline, options)]
                                 for g, ts in raw["slot_fit"]["genres"].items()}
    kept = {t for dom in raw["task_requests"].values() for t in dom["templates"]}  # the research ones are gone
    for key in ("time_spans", "time_not"):
        raw["slot_fit"][key] = {t: v for t, v in raw["slot_fit"][key].items() if t in kept}
    one = TemplateRenderer(renderer.schema, bank=TemplateBank(raw, taxonomy), opener_rate=0.0, closer_rate=0.0)
    d = Draws(np.random.default_rng(3))
    said = Counter()
    for _ in range(60):
        intent = Intent(kind="task_request", domain="research", topic=taxonomy.resolve("jazz"), polarity=1,
                        slots={"format": "as a timeline"})
        text = one.render(intent, d).finish()[0]
        said[text.startswith("Could you make me a study plan"), "as a timeline" in text] += 1
    assert said[True, False] == said[False, True] == 0 and said[True, True] > 10 and said[False, False] > 10


def test_a_request_detail_rule_that_names_nothing_fails_by_name(renderer: TemplateRenderer, taxonomy) -> None:
    raw = copy.deepcopy(renderer.bank.raw)
    raw["slot_fit"]["genres"]["as a timeline"].append("Write me a sonnet about {topic} {format}.")
    with pytest.raises(ValueError, match="slot_fit.genres\\['as a timeline'\\] names 'Write me a sonnet"):
        TemplateBank(raw, taxonomy)
    raw = copy.deepcopy(renderer.bank.raw)
    del raw["slot_fit"]["budget_usd"]["under $50"]
    with pytest.raises(ValueError, match="slot_fit.budget_usd has no entry for the budget slot value 'under \\$50'"):
        TemplateBank(raw, taxonomy)
    raw = copy.deepcopy(renderer.bank.raw)
    raw["slot_fit"]["not_with_tags"]["for my kids"].append("tobacco")
    with pytest.raises(ValueError, match="not_with_tags\\['for my kids'\\] names the tag 'tobacco', which is no"):
        TemplateBank(raw, taxonomy)
    raw = copy.deepcopy(renderer.bank.raw)
    raw["task_requests"]["travel"]["budget_usd"] = [500, 100]
    with pytest.raises(ValueError, match="task_requests.travel.budget_usd: expected \\[lo, hi\\]"):
        TemplateBank(raw, taxonomy)


def test_a_fact_or_domain_rule_that_names_nothing_fails_by_name(renderer: TemplateRenderer, schema, taxonomy) -> None:
    raw = copy.deepcopy(renderer.bank.raw)
    raw["fact_domains"]["diet"] = ["cooking", "baking"]
    with pytest.raises(ValueError, match="templates: fact_domains.diet names 'baking'; expected task domains"):
        TemplateBank(raw, taxonomy)
    raw = copy.deepcopy(renderer.bank.raw)
    raw["fact_domains"]["diett"] = ["cooking"]
    with pytest.raises(ValueError, match="templates: fact_domains names 'diett', which is no persona attribute"):
        TemplateRenderer(schema, bank=TemplateBank(raw, taxonomy))
    raw = copy.deepcopy(renderer.bank.raw)
    raw["fact_categories"]["housing"] = ["Home & Garden", "Home and Garden"]
    with pytest.raises(ValueError, match="templates: fact_categories.housing names 'Home and Garden'; expected a "
                                         "top-level taxonomy category such as 'Food & Cooking' .*home & garden"):
        TemplateBank(raw, taxonomy)
    raw["fact_categories"]["housing"] = ["Food & Cooking/Cuisines"]
    with pytest.raises(ValueError, match="fact_categories.housing names 'Food & Cooking/Cuisines'; expected a top"):
        TemplateBank(raw, taxonomy)
    for key, said in (("housin", "'housin', which is no persona attribute$"),
                      ("diet=paleo", "'diet=paleo', which is no persona attribute value$")):
        raw = copy.deepcopy(renderer.bank.raw)
        raw["fact_categories"][key] = ["Food & Cooking"]
        with pytest.raises(ValueError, match="templates: fact_categories names " + said):
            TemplateRenderer(schema, bank=TemplateBank(raw, taxonomy))
    raw = copy.deepcopy(renderer.bank.raw)
    raw["domain_needs"]["space_travel"] = {"travel_flexibility": ["flexible"]}
    with pytest.raises(ValueError, match="templates: domain_needs names 'space_travel', which is no task domain"):
        TemplateBank(raw, taxonomy)


def test_a_mild_dislike_is_no_dealbreaker(renderer: TemplateRenderer, taxonomy) -> None:
    """"... would be a dealbreaker for me." of a mild dislike (15 of 64 audited complaints about a disliked item
    said it more strongly than the user felt): the strong words are said only in a high-level complaint."""
    bank = renderer.bank
    strong = {"".join(lit for lit, _ in t) for t in bank.strong_reasons["disliked_item"]} - {
        "".join(lit for lit, _ in t) for t in bank.reasons["disliked_item"]}
    assert any("dealbreaker" in t for t in strong)
    cues = ("dealbreaker", "can't stand", "of all things", "really don't want", "Anything but")
    d = Draws(np.random.default_rng(9))
    said = Counter()
    for level in ("medium", "high"):
        for _ in range(300):
            intent = Intent(kind="feedback", polarity=-1, level=level, reason="disliked_item",
                            topic=taxonomy.resolve("jazz"))
            text = renderer.render(intent, d).finish()[0]
            said[level] += any(c in text for c in cues)
    assert said["medium"] == 0 and said["high"] > 40, said
    raw = copy.deepcopy(bank.raw)
    raw["negative_reasons"]["too_long_high"] = ["Way, way too long."]
    assert TemplateBank(raw, taxonomy).strong_reasons["too_long"][-1] == (("Way, way too long.", None),)
    raw["negative_reasons"]["rambling_high"] = ["Stop rambling."]
    with pytest.raises(ValueError, match="negative_reasons.rambling_high has no 'rambling' pool to add to"):
        TemplateBank(raw, taxonomy)


def test_a_life_events_news_is_told_in_news_words_that_the_tracker_reads(renderer: TemplateRenderer,
                                                                         schema: PersonaSchema, taxonomy) -> None:
    """"Since last time, I have little kids at home." told a baby's birth as if the kids had always been there:
    news is told in the schema's news words ("we just had a baby"), a request's plain aside in the usual ones,
    and the world knowledge policies read both as the same value."""
    from personagym.envs.knowledge import WorldKnowledge
    from personagym.simulators.analyzer import ResponseAnalyzer

    knowledge = WorldKnowledge(schema, ResponseAnalyzer(taxonomy))
    d = Draws(np.random.default_rng(13))
    topic = taxonomy.resolve("jazz")
    news = [(a.name, v) for a in schema.attributes.values() for v in a.news]
    assert ("children", "young_children") in news and len(news) > 20
    for attribute, value in news:
        words = {reason: renderer.render(Intent(kind="task_request", domain="recommendation", topic=topic,
                                                polarity=1, slots={}, attribute=attribute, value=value,
                                                reason=reason), d).finish()[0].lower()
                 for reason in ("life_event", None)}
        said = schema.attributes[attribute]
        assert any(p in words["life_event"] for p in said.news[value]), words
        assert any(p in words[None] for p in said.phrases[value]), words
        for text in words.values():
            assert (attribute, value, 1) in knowledge.statements(text), text


def test_news_says_we_only_of_what_no_one_living_alone_has(schema: PersonaSchema) -> None:
    """"News on my side: we got a cat." and "... we moved out to the countryside." from users who live alone (16
    of 2,000 LongTerm episodes).  As "we're expecting a baby" is said with a partner (the schema's rule
    expecting_together), news words say "we" or "our" only of a value no one living alone can have (a baby,
    a wedding); a new pet or a move is told in the first person."""
    we = re.compile(r"\b(?:we|our|us)\b")
    alone = {"household": "lives_alone"}
    plural = [(a.name, v) for a in schema.attributes.values() for v, ps in a.news.items()
              if any(we.search(p) for p in ps)]
    assert ("children", "young_children") in plural
    for attribute, value in plural:
        assert not schema.could_have(alone, attribute, value), (attribute, value, schema.attributes[attribute].news)


def test_an_interest_taken_up_lately_is_never_told_as_long_held(renderer: TemplateRenderer, taxonomy) -> None:
    """"I've been passionate about dogs for years." a session after adopting the first dog (41 of 2,000 LongTerm
    episodes told an interest taken up during the episode as long held): of a `recent` topic no disclosure or
    request says so (`long_held`); of another, those words are still said."""
    bank = renderer.bank
    long_held = ("always have been", "for years", "always enjoyed", "die-hard", "whole personality",
                 "for a while and feel stuck", "after a long break", "run out of things")
    assert len(bank.long_held) == len(bank.raw["long_held"]) >= 8
    dogs = taxonomy.resolve_path("Pets & Animals/Pets/Dogs")
    d = Draws(np.random.default_rng(0))
    said = Counter()
    for recent in (True, False):
        for level in ("high", "medium"):
            intent = Intent(kind="preference_disclosure", topic=dogs, polarity=1, level=level)
            for _ in range(300):
                text = renderer.render(intent, d, recent=recent).finish()[0]
                said[recent] += any(words in text for words in long_held)
        for domain in ("hobby", "fitness", "recommendation"):
            intent = Intent(kind="task_request", domain=domain, topic=dogs, polarity=1)
            for _ in range(300):
                text = renderer.render(intent, d, recent=recent).finish()[0]
                said[recent] += any(words in text for words in long_held)
    assert said[True] == 0 and said[False] > 40, said


def test_a_stray_long_held_template_fails_by_name(renderer: TemplateRenderer, taxonomy) -> None:
    """A typo in long_held would silently let "I've always loved X" through: it fails by name."""
    raw = copy.deepcopy(renderer.bank.raw)
    raw["long_held"] = ["I've always enjoyed {item}.", "I've loved {item} forever."]
    with pytest.raises(ValueError, match="templates: long_held names \"I've loved {item} forever.\", which is no "
                                         "disclosure_interest or task request template"):
        TemplateBank(raw, taxonomy)


def test_a_change_of_taste_told_late_is_not_dated_to_since_the_last_session(renderer: TemplateRenderer,
                                                                             taxonomy) -> None:
    """"Since we last talked, I've gotten into Irish dance." a session after the one the new interest preceded (5
    of 47 changes of taste told late in 2,000 LongTerm episodes): told `late`, a change of taste says no
    "since we last talked", as late news says no "just"."""
    d = Draws(np.random.default_rng(1))
    dance = taxonomy.resolve_path("Performing Arts/Dance/Folk Dance/Irish Dance")
    said = Counter()
    for late in (True, False):
        intent = Intent(kind="preference_disclosure", topic=dance, polarity=1, level="high", reason="taken_up")
        for _ in range(200):
            said[late] += "since we last talked" in renderer.render(intent, d, late=late).finish()[0].lower()
    assert said[True] == 0 and said[False] > 20, said


def test_a_concern_is_followed_or_avoided_not_loved(renderer: TemplateRenderer, schema: PersonaSchema,
                                                     taxonomy) -> None:
    """An interest in a condition, a cause or the news is said as one ("I follow climate change closely"), not as a
    taste ("I can get behind celiac disease now and then"), and the tracker reads each saying's polarity; a taste
    is still said as one."""
    from personagym.envs.knowledge import WorldKnowledge
    from personagym.simulators.analyzer import ResponseAnalyzer

    knowledge = WorldKnowledge(schema, ResponseAnalyzer(taxonomy))
    bank = renderer.bank
    celiac, jazz = taxonomy.resolve("celiac disease"), taxonomy.resolve("jazz")
    assert taxonomy.kinds[celiac] == "issue" and taxonomy.kinds[jazz] != "issue"
    d = Draws(np.random.default_rng(0))

    def said(topic: str, pool: tuple) -> set[str]:  # the pool's templates filled with the topic, lowercased
        name = taxonomy.nodes[topic].name
        return {"".join(lit + (name if n else "") for lit, n in t).lower() for t in pool}

    for polarity, key in ((1, "likes"), (-1, "dislikes")):
        for level in ("high", "medium", "low"):
            pool = f"{'like' if polarity > 0 else 'dislike'}_{level}"
            concern, taste = said(celiac, bank.concern[pool]), said(jazz, bank.interest[pool])
            heard = set()
            for _ in range(60):
                intent = Intent(kind="preference_disclosure", topic=celiac, polarity=polarity, level=level)
                text, [pki] = renderer.render(intent, d).finish()
                heard.add(text.lower())
                assert pki.key == celiac and pki.polarity == polarity
                assert (key, celiac, polarity) in knowledge.statements(text), text
            assert heard == concern
            for _ in range(20):
                intent = Intent(kind="preference_disclosure", topic=jazz, polarity=polarity, level=level)
                assert renderer.render(intent, d).finish()[0].lower() in taste


def test_a_moved_dislike_of_a_concern_is_a_topic_not_talked_about(renderer: TemplateRenderer, schema: PersonaSchema,
                                                                   taxonomy) -> None:
    """A dislike of a condition or a cause that moved is told as a topic the user would rather not get into
    ("These days it's just asthma I'd rather not get into, not chronic illness in general."), not as a thing
    they mind or can't stand ("I don't mind chronic illness on the whole anymore, only asthma."), and the tracker
    reads the new dislike; a taste's moved dislike is told as before."""
    from personagym.envs.knowledge import WorldKnowledge
    from personagym.simulators.analyzer import ResponseAnalyzer

    knowledge = WorldKnowledge(schema, ResponseAnalyzer(taxonomy))
    bank = renderer.bank
    d = Draws(np.random.default_rng(0))
    asthma, jazz = taxonomy.resolve("asthma"), taxonomy.resolve("jazz")
    assert taxonomy.kinds[asthma] == "issue" and taxonomy.kinds[jazz] != "issue"
    for reason in ("dislike_moved", "dislike_narrowed", "dislike_widened"):
        for node, pool in ((asthma, bank.concern_news[reason]), (jazz, bank.interest_news[reason])):
            parent = taxonomy.nodes[node].parent
            new, old = (parent, node) if reason == "dislike_widened" else (node, parent)
            names = {"item": taxonomy.nodes[new].name, "old": taxonomy.nodes[old].name}
            filled = {"".join(lit + (names[n] if n else "") for lit, n in t) for t in pool}
            intent = Intent(kind="preference_disclosure", topic=new, wrong=old, polarity=-1, level="medium",
                            reason=reason)
            heard = {renderer.render(intent, d).finish()[0] for _ in range(60)}
            assert heard == filled, (reason, heard - filled)
            if node == asthma:
                assert not [t for t in heard if re.search(r"can't stand|mind|could do without|fine with", t)], heard
                for text in heard:
                    assert ("dislikes", new, -1) in knowledge.statements(text), text


def test_a_stray_concern_news_pool_fails_by_name(renderer: TemplateRenderer, taxonomy) -> None:
    raw = copy.deepcopy(renderer.bank.raw)
    raw["interest_news_concern"] = {"dislike_shifted": ["I'd rather not get into {item} now."]}
    with pytest.raises(ValueError, match="interest_news_concern has the pool 'dislike_shifted'; expected one of "
                                         "interest_news's: dislike_moved, "):
        TemplateBank(raw, taxonomy)


def test_other_taste_news_of_a_concern_or_a_news_story_is_a_topic_followed(
        renderer: TemplateRenderer, schema: PersonaSchema, taxonomy) -> None:
    """A change of taste about a condition, a cause or a news story is told as a topic the user follows, reads up
    on or has dropped ("These days I follow refugee crises more closely than the war in Ukraine."), not as a taste
    ("I'm into presidential elections now, not so much midterm elections.", "Your police reform suggestion last
    time was spot on.": 18 of 20 such news over 1,500 LongTerm episodes), and the tracker reads it as the taste's:
    the new or tried one liked, the one left or gone off taken back; a taste's news is told as before."""
    from personagym.envs.knowledge import WorldKnowledge
    from personagym.simulators.analyzer import ResponseAnalyzer

    knowledge = WorldKnowledge(schema, ResponseAnalyzer(taxonomy))
    bank = renderer.bank
    d = Draws(np.random.default_rng(0))
    asthma, elections, jazz = (taxonomy.resolve(n) for n in ("asthma", "presidential elections", "jazz"))
    assert [taxonomy.kinds[n] for n in (asthma, elections)] == ["issue", "news"] and taxonomy.kinds[jazz] == "genre"
    taste = re.compile(r"(?<!looked )\binto\b|suggestion|gave .* a go|checked out|gone off|had my fill|had enough|"
                       r"moved on")
    for reason in ("moved_on", "gone_off", "taken_up", "tried", "had_enough"):
        told = "narrowed" if reason == "moved_on" else reason  # moved on to a child: a narrower taste
        for node, pool in ((asthma, bank.concern_news[told]), (elections, bank.concern_news[told]),
                           (jazz, bank.news_pool(told, "genre"))):
            old = taxonomy.nodes[node].parent if reason == "moved_on" else None
            names = {"item": taxonomy.nodes[node].name, "old": taxonomy.nodes[old].name if old else ""}
            filled = {"".join(lit + (names[n] if n else "") for lit, n in t) for t in pool}
            intent = Intent(kind="preference_disclosure", topic=node, wrong=old, polarity=-1 if reason == "gone_off"
                            else 1, level="medium", reason=reason)
            heard = {renderer.render(intent, d).finish()[0] for _ in range(60)}
            assert heard == filled, (reason, heard - filled)
            if node == jazz:
                continue
            assert not [t for t in heard if taste.search(t)], heard
            for text in heard:
                read = knowledge.statements(text)
                if reason == "gone_off":
                    assert read == [] and knowledge.retractions(text) == [node], text
                else:
                    assert ("likes", node, 1) in read and not [s for s in read if s[1] == old], text


def test_a_news_story_is_disclosed_as_followed_and_a_lost_one_as_no_longer_followed(
        renderer: TemplateRenderer, taxonomy) -> None:
    """"Big fan of the Middle East conflict here. Like, really big." and "I used to like immigration policy, but not
    anymore." read absurd (25 of 26 disclosures of a news story, and 25 of 26 complaints about a lost news story or
    condition over 1,500 LongTerm episodes): a news story is disclosed as a condition is (`disclosure_concern`: "I
    follow everything about presidential elections closely."), and a lost one, or a lost condition, is no longer
    followed ("I don't really follow presidential elections anymore."); a taste keeps its own wording."""
    bank = renderer.bank
    d = Draws(np.random.default_rng(1))
    elections, asthma, jazz = (taxonomy.resolve(n) for n in ("presidential elections", "asthma", "jazz"))

    def heard(intent: Intent) -> set[str]:
        return {renderer.render(intent, d).finish()[0] for _ in range(80)}

    def said(pool, node: str, lead: str = "") -> set[str]:
        return {lead + "".join(lit + (taxonomy.nodes[node].name if n else "") for lit, n in t) for t in pool}

    for level in ("high", "medium", "low"):
        liked = Intent(kind="preference_disclosure", topic=elections, polarity=1, level=level)
        assert heard(liked) <= {t[0].upper() + t[1:] for t in said(bank.concern[f"like_{level}"], elections)}
    assert not heard(Intent(kind="preference_disclosure", topic=jazz, polarity=1, level="high")) & said(
        bank.concern["like_high"], jazz)
    followed, taste = bank.concern_reasons["no_longer_into"], bank.reasons["no_longer_into"]
    for node, pool in ((elections, followed), (asthma, followed), (jazz, taste)):
        lost = Intent(kind="feedback", polarity=-1, level="medium", reason="no_longer_into", topic=node)
        ends = tuple(said(pool, node))
        assert all(text.endswith(ends) for text in heard(lost)), (node, heard(lost))


def test_a_war_or_a_plague_is_read_about_not_loved_or_followed(renderer: TemplateRenderer, schema: PersonaSchema,
                                                                taxonomy) -> None:
    """"I'd say I'm a fan of the American Revolution", "My favorite thing ever? The Black Death, no contest." (117
    of 20,000 disclosures of seeds 101-1170 named a war, a plague or a fall as a taste): a calamity of history is
    disclosed, told as news and dropped as a topic read about or not talked about ("I take a real interest in World
    War II"), never loved, a fan's, followed or kept up with, and the tracker reads each saying's polarity; a period
    that is no calamity keeps a taste's wording."""
    from personagym.envs.knowledge import WorldKnowledge
    from personagym.simulators.analyzer import ResponseAnalyzer

    knowledge = WorldKnowledge(schema, ResponseAnalyzer(taxonomy))
    d = Draws(np.random.default_rng(0))
    calamities = [taxonomy.resolve(n) for n in ("World War II", "Black Death", "Crusades", "Cold War")]
    renaissance = taxonomy.resolve("Renaissance era")
    assert {taxonomy.kinds[n] for n in calamities} == {"calamity"} and taxonomy.kinds[renaissance] == "period"
    fandom = re.compile(r"\b(?:love|fan|favou?rite|adore|enjoy|hooked|crazy|obsessed|nerd|follow|keep(?:ing)? up|"
                        r"care|into|like (?!reading))\b", re.IGNORECASE)
    for node in calamities:
        for polarity, key in ((1, "likes"), (-1, "dislikes")):
            for level in ("high", "medium", "low"):
                intent = Intent(kind="preference_disclosure", topic=node, polarity=polarity, level=level)
                for text in {renderer.render(intent, d).finish()[0] for _ in range(40)}:
                    assert not (polarity > 0 and fandom.search(text)), text
                    assert (key, node, polarity) in knowledge.statements(text), text
        for reason in ("taken_up", "gone_off", "moved_on"):
            intent = Intent(kind="preference_disclosure", topic=node, polarity=-1 if reason == "gone_off" else 1,
                            level="medium", reason=reason, wrong=calamities[node == calamities[0]])
            for text in {renderer.render(intent, d).finish()[0] for _ in range(40)}:
                assert not re.search(r"follow|keep up|care about", text), text
        lost = Intent(kind="feedback", polarity=-1, level="medium", reason="no_longer_into", topic=node)
        for text in {renderer.render(lost, d).finish()[0] for _ in range(40)}:
            assert not re.search(r"follow|keeping up", text), text
    liked = Intent(kind="preference_disclosure", topic=renaissance, polarity=1, level="high")
    assert any(fandom.search(renderer.render(liked, d).finish()[0]) for _ in range(40))


def test_a_stray_followed_unfit_kind_fails_by_name(renderer: TemplateRenderer, taxonomy) -> None:
    raw = copy.deepcopy(renderer.bank.raw)
    raw["followed_unfit_kinds"] = {"I adore {item}.": ["calamity"]}
    with pytest.raises(ValueError, match="followed_unfit_kinds names 'I adore {item}.', which is no "
                                         "disclosure_concern, interest_news_concern or negative_reasons"):
        TemplateBank(raw, taxonomy)
    raw["followed_unfit_kinds"] = {"I follow {item} a little.": ["war"]}
    with pytest.raises(ValueError, match=r"followed_unfit_kinds\['I follow \{item\} a little.'\]: expected a "
                                         "non-empty list of"):
        TemplateBank(raw, taxonomy)


def test_a_stray_concern_reason_fails_by_name(renderer: TemplateRenderer, taxonomy) -> None:
    raw = copy.deepcopy(renderer.bank.raw)
    raw["negative_reasons"]["lost_interest_concern"] = ["I don't follow {item} anymore."]
    with pytest.raises(ValueError, match="negative_reasons.lost_interest_concern has no 'lost_interest' pool to "
                                         "stand in for"):
        TemplateBank(raw, taxonomy)


def test_a_format_detail_does_not_repeat_its_request(renderer: TemplateRenderer) -> None:
    """"What are the pros and cons of mortgages as a pros and cons table?", "Can you build me a checklist for camping
    as a checklist?", "Design a weekly schedule for yoga as a day-by-day schedule.": a document the request names
    already is given no format naming it again (`slot_fit.genres`)."""
    genres = renderer.bank.raw["slot_fit"]["genres"]
    said_twice = []
    for detail, templates in genres.items():
        document = re.sub(r"^(?:as|in) an? (?:quick |short |one-page |day-by-day |step-by-step )?", "", detail)
        for template in templates:
            if document != "Q&A format" and document.split()[-1] in template.replace("{format}", ""):
                said_twice.append((detail, template))
    assert not said_twice, said_twice
    # the domains' genre lists are the bank's: the career request "... if I work in calculus" is no more either
    career = renderer.bank.domains["career"]
    raise_template = next(t for t in career.texts if t.startswith("How do I ask for a raise"))
    assert renderer.taxonomy.resolve_path("Education & Learning") in career.not_for[raise_template]


def test_a_detail_that_presupposes_a_fact_is_said_only_by_who_has_it(renderer: TemplateRenderer) -> None:
    """"... for my running club" from a user with limited mobility, "... for a bunch of college friends" from a
    high-school student."""
    bank = renderer.bank
    for phrase, lacks, has in (("for my running club", {"mobility": "limited_mobility"}, {"mobility": "full_mobility"}),
                               ("for a bunch of college friends", {"age_band": "u18"}, {"age_band": "2534"})):
        assert phrase not in bank.fitting_slot_values(None, None, lacks)["audience"]
        assert phrase in bank.fitting_slot_values(None, None, has)["audience"]


def test_a_dislike_is_not_said_as_a_taste_worn_out(renderer: TemplateRenderer) -> None:
    """"I'm kind of over dietary fiber." of a dislike the user always had: a disliking said as satiety claims a
    history the ground truth does not hold (changes of taste are told by `interest_news`)."""
    worn = re.compile(r"\b(?:kind of over|kinda over|tired of|sick of|any ?more|used to|no longer|gone off)\b")
    pools = renderer.bank.raw["disclosure_interest"]
    said = [t for level in ("low", "medium", "high") for t in pools[f"dislike_{level}"] if worn.search(t.lower())]
    assert not said, said


def test_a_place_near_home_is_one_of_the_users_region(renderer: TemplateRenderer) -> None:
    """"... yin yoga near Manchester?" from a user in the Middle East, "... personal finance in a small town outside
    Leeds?" from one in Southeast Asia (20 of 320 audited conversations): a request names a place of the user's
    region, a user of a region with none names no place, and a trip goes anywhere."""
    bank = renderer.bank
    mideast = bank.fitting_slot_values(None, None, {"region": "middle_east", "settlement_type": "big_city"})
    assert mideast["location"] and "near Manchester" not in mideast["location"]
    assert all(bank.slot_needs.needs[v]["region"] == {"middle_east"} for v in mideast["location"])
    assert "in a small town outside Leeds" not in bank.fitting_slot_values(
        None, None, {"region": "western_europe", "settlement_type": "big_city"})["location"]
    unknown = bank.fitting_slot_values(None, None, {})
    assert set(unknown["location"]) == set(bank.slot_values["location"])  # no region known: any place
    raw = copy.deepcopy(bank.raw)
    raw["slot_fit"]["needs"]["location"] = {v: {"region": ["oceania"]} for v in raw["slot_values"]["location"]}
    none = TemplateBank(raw, renderer.taxonomy).fitting_slot_values(None, None, {"region": "africa"})
    assert none["location"] == ()  # none of the user's region: no place, not any place
    travel, hobby = bank.domains["travel"], bank.domains["hobby"]
    assert set(bank.request_slot_values(mideast, travel, frozenset())["location"]) == set(bank.slot_values["location"])
    assert bank.request_slot_values(mideast, hobby, frozenset())["location"] == mideast["location"]


def test_a_place_near_home_has_the_users_climate(renderer: TemplateRenderer) -> None:
    """"Where can I do snow & ice activities around Budapest? Bear in mind: I live in the tropics." (786 of 1,138
    home places named to users with a climate clashed with it): a place near home has the user's climate as it has
    their region (`slot_fit.needs`), a user whose region has no place of their climate names none, and a trip
    still goes anywhere."""
    bank = renderer.bank
    cold = {"in rural Vermont", "around Budapest", "in Warsaw", "in Chicago", "in Seoul", "in downtown Toronto"}
    tropics = bank.fitting_slot_values(None, None, {"climate": "tropical"})["location"]
    assert {"around Manila", "around Mumbai", "around Lagos"} <= set(tropics) and cold.isdisjoint(tropics)
    assert all("tropical" in bank.slot_needs.needs[v]["climate"] for v in tropics)
    asia = bank.fitting_slot_values(None, None, {"region": "south_asia", "climate": "tropical"})["location"]
    assert set(asia) == {"in Bangalore", "around Mumbai", "near Colombo", "in Delhi"}
    europe = bank.fitting_slot_values(None, None, {"region": "eastern_europe", "climate": "tropical"})
    assert europe["location"] == ()  # none of the user's region and climate: no place, not any place
    travel = bank.domains["travel"]
    assert set(bank.request_slot_values(europe, travel, frozenset())["location"]) == set(bank.slot_values["location"])
    raw = copy.deepcopy(bank.raw)
    raw["slot_fit"]["needs"]["location"]["in Lisbon"]["climate"] = ["mediterranean"]
    with pytest.raises(ValueError, match=r"slot_fit.needs\['in Lisbon'\] needs climate=\['mediterranean'\]"):
        TemplateRenderer(renderer.schema, TemplateBank(raw, renderer.taxonomy))


def test_a_time_detail_fits_the_deliverable(renderer: TemplateRenderer, taxonomy) -> None:
    """"Could you outline a six-month plan to move into TypeScript in the next hour?", "a weekend escape ...
    by 5pm today" (6 of 320 audited): a long plan or a trip takes no deadline hours away, a last-minute request
    no date months away; the detail is left out and the intent records only what was said."""
    bank = renderer.bank
    assert set(bank.time_days) == set(bank.slot_values["time"])
    d = Draws(np.random.default_rng(3))
    cases = (("career", "software development", "in the next hour", "six-month plan"),
             ("travel", "beaches", "by 5pm today", "weekend escape"),
             ("shopping", "camping", "over the summer", "last-minute gift"),
             # a text written in seconds due days off, an hour to make ahead, "right away" next week, results
             # before a birthday, picks due by a deadline, a six-month plan due by Friday (time_spans, time_not)
             ("career", "UX design", "before spring", "elevator pitch"),
             ("career", "UX design", "before my sister's birthday on the 12th", "elevator pitch"),
             ("cooking", "pasta", "in the next hour", "make-ahead ideas"),
             ("advice", "low-FODMAP diet", "next week", "act on right away"),
             ("fitness", "cave diving", "before my sister's birthday on the 12th", "to see results"),
             ("recommendation", "cultural travel", "by 5pm today", "solid picks"),
             ("recommendation", "visual novels", "by the 20th", "recommendations my way"),
             ("career", "cryptography", "by Friday", "six-month plan"))
    for domain, topic, time, words in cases:
        seen = 0
        node = taxonomy.resolve(topic)
        for _ in range(600):
            intent = Intent(kind="task_request", domain=domain, topic=node, slots={"time": time})
            text = renderer.render(intent, d).finish()[0]
            if words in text:
                seen += 1
                assert time not in text, text
        assert seen, (domain, words)
    six = next(p for p in bank.time_spans if "six-month plan" in _said(p))
    assert bank.time_spans[six][0] >= 1


def test_a_length_detail_fits_the_format_and_the_deliverable(renderer: TemplateRenderer) -> None:
    """"Write a research brief on evangelical Christianity as a numbered list in a single sentence", "Write a
    friendly explainer about populism with clear headings in a couple of lines", "Walk me through CRISPR step by
    step in a couple of lines" (0.4% of requests): a length that counts sentences, lines or paragraphs is never
    said with a list, a table or headings (`length_not_with`), nor one too short for the deliverable (`shapes`).
    A `length_not_with` entry of no detail fails by name."""
    bank = renderer.bank
    sentences = {"in a single sentence", "in a couple of lines", "in two or three sentences"}
    structured = {"as a numbered list", "with clear headings", "in a table", "as flashcards"}
    checked = 0
    for domain in bank.domains.values():
        for template in domain.templates:
            text = "".join(literal + (f"{{{name}}}" if name else "") for literal, name in template)
            for length in sentences:
                for fmt in (*structured, "in plain paragraphs"):
                    kept = bank.template_details(domain, template, {"length": length, "format": fmt})
                    assert "length" not in kept or kept.get("format") not in structured, (text, length, fmt)
                    checked += 1
                brief = bank.template_details(domain, template, {"length": length})
                deliverable = ("blog post", "research brief", "step by step", "friendly explainer", "crash course")
                assert "length" not in brief or not any(d in text for d in deliverable), (text, length)
    assert checked > 1000
    raw = copy.deepcopy(bank.raw)
    raw["slot_fit"]["length_not_with"]["in a single sentence"] = ["as a sonnet"]
    with pytest.raises(ValueError, match="slot_fit.length_not_with names 'as a sonnet'; expected a length detail"):
        TemplateBank(raw, renderer.taxonomy)


def test_every_time_template_has_a_span_and_time_not_names_what_it_takes(renderer: TemplateRenderer) -> None:
    """A request template with a {time} slot but no `slot_fit.time_spans` entry (42 of 66 had none: "picks ... by
    the 20th") fails when the bank loads, naming it; so does a `time_not` entry of no time detail, or of one out of
    its template's span, or of no template with a span."""
    raw = copy.deepcopy(renderer.bank.raw)
    pitch = "I'm moving into {topic}. Write me a short elevator pitch {time}."
    del raw["slot_fit"]["time_spans"][pitch]
    raw["slot_fit"]["time_not"].pop(pitch, None)
    with pytest.raises(ValueError, match=re.escape(f"the request template {pitch!r} has a {{time}} slot but no "
                                                   "entry in slot_fit.time_spans")):
        TemplateBank(raw, renderer.taxonomy)
    picks = "Give me {quantity} solid picks in {topic} {time}."
    for values, said in ((["by noon"], "names 'by noon'; expected a time slot value within the template's span"),
                         (["over the summer"], "names 'over the summer'; expected a time slot value within"),
                         ("by Friday", "= 'by Friday'; expected a non-empty list of time slot values")):
        raw = copy.deepcopy(renderer.bank.raw)
        raw["slot_fit"]["time_not"][picks] = values
        with pytest.raises(ValueError, match=re.escape(f"slot_fit.time_not[{picks!r}] {said}")):
            TemplateBank(raw, renderer.taxonomy)
    raw = copy.deepcopy(renderer.bank.raw)
    raw["slot_fit"]["time_not"]["Give me picks {time}."] = ["by Friday"]
    with pytest.raises(ValueError, match=re.escape("slot_fit.time_not names 'Give me picks {time}.', which has no "
                                                   "slot_fit.time_spans entry")):
        TemplateBank(raw, renderer.taxonomy)


def _said(template) -> str:
    return "".join(lit + ("{" + name + "}" if name else "") for lit, name in template)


def test_a_shopping_template_that_needs_a_product_gets_one(renderer: TemplateRenderer, taxonomy) -> None:
    """"What's worth spending money on for giraffes", "Which features actually matter when shopping for reef
    snorkeling?": a template that presupposes a purchase fits only topics of the kinds it names (`kinds_for`)."""
    shopping = renderer.bank.domains["shopping"]
    features = next(p for p, t in zip(shopping.templates, shopping.texts, strict=True) if "features actually" in t)
    worth = next(p for p, t in zip(shopping.templates, shopping.texts, strict=True) if "worth spending money" in t)
    category = taxonomy.resolve_path("Pets & Animals")
    assert features not in shopping.fitting(category, None, True, "activity")
    assert worth not in shopping.fitting(category, None, True, "creature")
    assert {features, worth} <= set(shopping.fitting(category, None, True, "product"))
    raw = copy.deepcopy(renderer.bank.raw)
    raw["task_requests"]["shopping"]["kinds_for"] = {shopping.texts[0]: ["person"]}
    with pytest.raises(ValueError, match="kinds_for"):
        TemplateBank(raw, renderer.taxonomy)


def test_a_place_detail_fits_the_topic_where_the_bank_can_tell(renderer: TemplateRenderer, taxonomy) -> None:
    """"Are there guided tours related to snowmobiling worth booking around Melbourne?", "Where's the best place to
    shop for sledding in Kuala Lumpur?", "the Appalachian Trail ... in Lisbon": a place detail fits the request's
    topic by what the bank's vague place phrases and regions tell (`place_fit`), at home or on a trip; a topic
    they say nothing of takes any place, and a home with no fitting place names none."""
    bank = renderer.bank

    def fits(phrase: str) -> set[str]:
        return {v for v, phrases in bank.vague_slot_values["location"].items() if phrase in phrases}

    warm, coast, city = fits("somewhere warm"), fits("somewhere by the coast"), fits("in a big city")
    skiing = taxonomy.resolve("backcountry skiing")
    snowy_peaks = {v for v, t in bank.place_terrain.items() if {"snow", "mountains"} <= t}
    assert bank.places_for(skiing) == frozenset(snowy_peaks - warm) and "around Manila" in warm
    assert bank.places_for(taxonomy.resolve("reef snorkeling")) == warm & coast
    assert bank.places_for(taxonomy.resolve("city breaks")) == city and "in rural Vermont" not in city
    trail = bank.places_for(taxonomy.resolve("Appalachian Trail"))
    assert trail and all(bank.slot_needs.needs[v]["region"] == {"north_america"} for v in trail)
    assert bank.places_for(taxonomy.resolve("jazz")) is None and bank.places_for(None) is None
    travel, hobby = bank.domains["travel"], bank.domains["hobby"]
    assert set(bank.request_slot_values(bank.slot_values, travel, frozenset(), skiing)["location"]) == \
        snowy_peaks - warm
    home = bank.fitting_slot_values(None, None, {"region": "southeast_asia"})
    assert home["location"] and set(home["location"]) <= warm
    assert bank.request_slot_values(home, hobby, frozenset(), skiing)["location"] == ()
    assert bank.request_slot_values(home, hobby, frozenset(), taxonomy.resolve("jazz"))["location"] == home["location"]
    for spec, error in (({"in": ["somewhere cold"]}, "somewhere cold"), ({"near": ["somewhere warm"]}, "expected an"),
                        ({"region": "north_america"}, "non-empty list of regions")):
        raw = copy.deepcopy(bank.raw)
        raw["slot_fit"]["place_fit"] = {"Outdoor Recreation/Snow & Ice Activities": spec}
        with pytest.raises(ValueError, match=error):
            TemplateBank(raw, taxonomy)
    raw = copy.deepcopy(bank.raw)
    raw["slot_fit"]["place_fit"] = {"Outdoor Recreation/Snow Sports": {"not_in": ["somewhere warm"]}}
    with pytest.raises(ValueError, match="place_fit"):
        TemplateBank(raw, taxonomy)
    raw["slot_fit"]["place_fit"] = {"Outdoor Recreation/Snow & Ice Activities": {"region": ["atlantis"]}}
    with pytest.raises(ValueError, match="atlantis"):
        TemplateRenderer(renderer.schema, TemplateBank(raw, taxonomy))


def test_a_place_has_the_terrain_its_topic_needs(renderer: TemplateRenderer, taxonomy) -> None:
    """"What brands do people actually trust for snowboarding in Kathmandu?", "mountaineering in Kuala Lumpur",
    "summit hikes ... in Lisbon" (10 of 36 requests of seeds 101-120 naming a place for a terrain topic): a topic
    that needs mountains, snow, desert or surf names only a place with it within a day trip (`place_terrain`,
    through `place_fit`'s terrain need), as every place of the hand lists below has it and none lacking it does."""
    bank = renderer.bank
    every = set(bank.slot_values["location"])

    def places(topic: str) -> frozenset[str]:
        fits = bank.places_for(taxonomy.resolve(topic))
        assert fits, topic  # somewhere still fits: the topic is not left with no place at all
        return fits

    def having(terrain: str) -> set[str]:
        return {v for v in every if terrain in bank.place_terrain.get(v, ())}

    for topic in ("mountaineering", "summit hikes", "via ferrata", "alpine ecosystems", "mountains"):
        assert places(topic) <= having("mountains") and {"in Kuala Lumpur", "in Lisbon"}.isdisjoint(places(topic))
        assert {"near Denver", "in Kathmandu", "around Cape Town"} <= places(topic)
    for topic in ("skiing", "snowboarding", "ski trips", "sledding", "cross-country skiing"):
        assert places(topic) <= having("snow") and {"in Kathmandu", "in Berlin", "near Amman"}.isdisjoint(places(topic))
        assert {"near Denver", "around Sapporo", "in Winnipeg"} <= places(topic)
    assert "in Winnipeg" not in places("backcountry skiing")  # snow, but no mountains to tour
    for topic in ("desert ecosystems", "deserts"):
        assert places(topic) == having("desert") and {"in Dubai", "in Lima", "in Tehran"} <= places(topic)
    surf = places("surfing")
    assert {"in Lisbon", "near Sydney", "in Lima"} <= surf
    assert {"around Doha", "near Cairns", "in Oslo"}.isdisjoint(surf)  # a coast with no waves
    assert bank.places_for(taxonomy.resolve("ice skating")) is None  # a rink is anywhere
    hobby = bank.domains["hobby"]
    tropics = bank.fitting_slot_values(None, None, {"region": "southeast_asia", "climate": "tropical"})
    assert tropics["location"]
    assert bank.request_slot_values(tropics, hobby, frozenset(), taxonomy.resolve("snowboarding"))["location"] == ()
    for where, change, error in (
            ("place_fit", {"terrain": ["glaciers"]}, r"terrain names 'glaciers', which is no terrain; expected one of "
                                                     r"mountains, snow, desert, surf"),
            ("place_terrain", {"in Lisbon": ["waves"]},
             r"place_terrain\['in Lisbon'\] names 'waves', which is no terrain"),
            ("place_fit", {"terrain": "snow"}, r"\.terrain: expected a non-empty list of terrains, got 'snow'"),
            ("place_terrain", {"in Atlantis": ["surf"]}, r"place_terrain names 'in Atlantis', which is no location"),
            ("place_terrain", {"in Lisbon": "surf"}, r"place_terrain\['in Lisbon'\]: expected a non-empty list")):
        raw = copy.deepcopy(bank.raw)
        if where == "place_fit":
            raw["slot_fit"]["place_fit"]["Sports/Water Sports/Surfing"] = change
        else:
            raw["slot_fit"]["place_terrain"].update(change)
        with pytest.raises(ValueError, match=error):
            TemplateBank(raw, taxonomy)


def test_every_sampled_persona_names_a_home_place(renderer: TemplateRenderer, schema: PersonaSchema) -> None:
    """140 of 6,000 sampled personas named no place near home, of rare region/climate pairs (a cold Latin America,
    a continental South Asia): every sampled persona names one of their region and climate, the places added have
    the climates they are given, and the pairs no place on Earth has (a continental Latin America, Africa or
    Oceania, a tropical Middle East) are no longer drawn (coherence rules `south_not_continental`,
    `middle_east_not_tropical`)."""
    bank = renderer.bank
    no_place_on_earth = {("latin_america", "continental"), ("africa", "continental"), ("oceania", "continental"),
                         ("middle_east", "tropical")}
    for region, climate in no_place_on_earth:
        assert not bank.fitting_slot_values(None, None, {"region": region, "climate": climate})["location"]
    pairs: Counter[tuple[object, object]] = Counter()
    for persona in PersonaSampler(schema).sample_batch(3000, seed=17):
        a = persona.attributes
        pair = (a.get("region"), a.get("climate"))
        pairs[pair] += 1
        places = bank.fitting_slot_values(None, None, a)["location"]
        assert places and pair not in no_place_on_earth, (pair, places)
        assert all(a.get("climate") in bank.slot_needs.needs[v]["climate"] for v in places if "climate" in a)
    rare = {("south_asia", "cold"), ("south_asia", "continental"), ("latin_america", "cold"),
            ("eastern_europe", "dry"), ("southeast_asia", "dry")}
    assert all(pairs[pair] for pair in rare), pairs  # the pairs that named no place are among those sampled
    cold_andes = bank.fitting_slot_values(None, None, {"region": "latin_america", "climate": "cold"})["location"]
    assert set(cold_andes) == {"in Ushuaia", "in Punta Arenas"}


def test_somewhere_warm_is_what_the_places_climates_tell(renderer: TemplateRenderer, taxonomy) -> None:
    """"Somewhere warm" and the climates of `slot_fit.needs` are one truth: every place whose climates are all
    tropical is somewhere warm without being listed, no place with a continental or cold winter is (listing Oslo
    is an error), and its hand list names only places the climates leave open (temperate Lisbon is warm,
    temperate Edinburgh not); so no skiing near Cairns, and skiing in Santiago or Oslo."""
    bank = renderer.bank
    climates = {v: bank.slot_needs.needs[v]["climate"] for v in bank.slot_values["location"]}
    warm = {v for v, phrases in bank.vague_slot_values["location"].items() if "somewhere warm" in phrases}
    tropical = {v for v, c in climates.items() if c == {"tropical"}}
    assert {"near Cairns", "around Manila", "around Rio de Janeiro"} <= tropical <= warm
    assert all(c.isdisjoint({"continental", "cold"}) for v, c in climates.items() if v in warm)
    assert {"in Lisbon", "near Sydney", "in Dubai"} <= warm  # temperate and dry: the hand list says
    assert {"in Edinburgh", "near Amman", "in Lima"}.isdisjoint(warm)
    entry = next(e for e in bank.raw["vague_slot_values"]["location"] if isinstance(e, dict)
                 and e["text"] == "somewhere warm")
    assert tropical.isdisjoint(entry["fits"]) and warm == tropical | set(entry["fits"])  # said in one place only
    skiing = bank.places_for(taxonomy.resolve("backcountry skiing"))
    assert "near Cairns" not in skiing and {"in Santiago", "in Oslo"} <= skiing
    for change, error in ((lambda e: e["fits"].append("in Oslo"), r"'in Oslo', whose climates .* include 'cold'"),
                          (lambda e: e["fits"].append("near Cairns"), r"'near Cairns', whose climates .* are all in "),
                          (lambda e: e.update(not_climate=["tropical"]), r"'tropical' both in climate and in not_"),
                          (lambda e: e.update(climate="tropical"), r"\.climate: expected a list of climates"),
                          (lambda e: e.update(warm=True), r"has the entry .*expected a phrase")):
        raw = copy.deepcopy(bank.raw)
        change(next(e for e in raw["vague_slot_values"]["location"] if isinstance(e, dict)
                    and e["text"] == "somewhere warm"))
        with pytest.raises(ValueError, match=r"vague_slot_values\.location.*" + error):
            TemplateBank(raw, taxonomy)
    raw = copy.deepcopy(bank.raw)
    raw["vague_slot_values"]["location"][0]["climate"] = ["mediterranean"]
    with pytest.raises(ValueError, match="names the climate 'mediterranean', which the persona schema's climate"):
        TemplateRenderer(renderer.schema, TemplateBank(raw, taxonomy))


def test_a_template_takes_only_details_within_its_own_limits(renderer: TemplateRenderer) -> None:
    """"Could you outline a six-month plan to move into X by Friday, erm, in the next hour?": the details a mind
    change may settle on (`template_slot_values`) are those the request template takes, as a request is drawn
    (`template_details`): a time in its `time_spans`, a format its `genres` list it for, a format and length its
    deliverable can be; the rendered draft says which template it is; a slot no rule limits keeps every value."""
    bank, d = renderer.bank, Draws(np.random.default_rng(3))
    career = bank.domains["career"]
    plan = next(t for t in career.templates if t in bank.time_spans and "six-month plan" in t[0][0])
    times = bank.slot_values["time"]
    kept = bank.template_slot_values(career, plan, bank.slot_values, ["time", "format", "budget"])
    assert set(kept) == {"time", "format", "budget"} and kept["budget"] == bank.slot_values["budget"]
    assert "in the next hour" not in kept["time"] and "over the summer" in kept["time"]
    assert set(kept["time"]) == {t for t in times if 30 <= bank.time_days[t] <= 365}  # begun a month off or more
    assert "as a timeline" in kept["format"] and "as flashcards" not in kept["format"]  # genres
    assert all(bank.template_details(career, plan, {"time": t}) == {} for t in set(times) - set(kept["time"]))
    intent = Intent(kind="task_request", domain="career", topic=renderer.taxonomy.resolve("web development"),
                    slots={"time": "in the next hour", "format": "as flashcards"})
    said: Counter[str] = Counter()
    for _ in range(300):
        draft = renderer.render(intent, d)
        assert draft.template in career.templates, draft.template
        fields = {name for _, name in draft.template}
        taken = bank.template_details(career, draft.template, dict(intent.slots))
        details = {s.text for s in draft.segments if s.kind == SLOT}
        assert details == {v for k, v in taken.items() if k in fields}, draft.finish()[0]
        said.update(k for k in intent.slots if k in fields and k not in taken)
    assert said["time"] > 10 and said["format"] > 10, said  # templates with a span or a genre left them out


def test_a_count_noun_takes_the_article_a_noun_needs(renderer: TemplateRenderer, taxonomy) -> None:
    """"I gave iPhone a go after we talked.", "What are the pros and cons of Roth IRA?": a product, account or
    device named in the singular takes "the" where it stands as a noun (the taxonomy's "(the)" marker), and none
    where a word before it is a determiner or it modifies another ("Your iPhone suggestion")."""
    d = Draws(np.random.default_rng(5))
    for name in ("iPhone", "Raspberry Pi", "Roth IRA", "home gym"):
        node = taxonomy.resolve(name)
        said = Counter()
        for _ in range(300):
            intent = Intent(kind="preference_disclosure", topic=node, polarity=1, reason="tried")
            text = renderer.render(intent, d).finish()[0]
            if "a go after" in text:
                said["a go"] += 1
                assert f"I gave the {name} a go after" in text, text
            elif text.startswith("Your "):
                said["your"] += 1
                assert text.startswith(f"Your {name} suggestion"), text
        assert said["a go"] and said["your"], (name, said)


def test_a_teaching_audience_comes_with_a_teaching_job(renderer: TemplateRenderer, schema: PersonaSchema) -> None:
    """"For my students" or "for a class of eighth graders" came from founders, engineers and full-time students
    (0.75% of 50,000 requests): a teacher says both, a researcher only "for my students", and someone with another
    job, none or no job known neither; the request's PKI says the job."""
    bank = renderer.bank
    teaching = {"for my students", "for a class of eighth graders"}

    def audiences(**attributes: object) -> set[str]:
        return teaching & set(bank.fitting_slot_values(None, None, attributes)["audience"])

    assert audiences(role="teacher", employment_status="employed_full_time") == teaching
    assert audiences(role="researcher", employment_status="part_time") == {"for my students"}
    for speaker in ({"role": "founder", "employment_status": "self_employed"}, {"role": "student"},
                    {"employment_status": "employed_full_time"}, {"role": "teacher", "employment_status": "retired"},
                    {"role": "teacher"}):
        assert not audiences(**speaker), speaker
    said = Counter()
    for persona in PersonaSampler(schema).sample_batch(3000, seed=5):
        a = persona.attributes
        heard = audiences(**a)
        said.update(heard)
        assert a.get("role") == "teacher" or heard <= ({"for my students"} if a.get("role") == "researcher" else set())
    assert said["for a class of eighth graders"] and said["for my students"]
    pki = renderer._slot_pki("for a class of eighth graders", {"role": "teacher", "employment_status": "part_time"})
    assert pki is not None and (pki.key, pki.value, pki.certainty) == ("role", "teacher", "clear")
    pki = renderer._slot_pki("for my students", {"role": "researcher", "employment_status": "part_time"})
    assert pki is not None and (pki.key, pki.value, pki.intended) == ("role", None, "researcher")


def test_a_place_an_era_or_an_event_is_not_loathed_or_dabbled_in(renderer: TemplateRenderer, taxonomy) -> None:
    """"I've never hated anything as much as Africa.", "I'm not against World War II, it can be nice." (77 of 1,485
    disclosures of places, periods and events): those templates disclose only other kinds of thing, which still
    get them; "I'm lukewarm on video game genres, but in a good way." said nothing (171 of 20,016 disclosures)."""
    bank = renderer.bank
    d = Draws(np.random.default_rng(3))
    unfit = {re.compile(".+".join(map(re.escape, _said(t).split("{item}"))), re.IGNORECASE): t
             for t in bank.interest_kinds if "place" not in bank.interest_kinds[t]}
    assert len(unfit) >= 10
    nodes = {name: taxonomy.resolve(name) for name in ("Africa", "Renaissance era", "World Cup", "jazz")}
    assert [taxonomy.kind(n) for n in nodes.values()] == ["place", "period", "event", "genre"]
    for name, node in nodes.items():
        said = Counter()
        for level in ("high", "low"):
            for polarity in (1, -1):
                intent = Intent(kind="preference_disclosure", topic=node, polarity=polarity, level=level)
                for _ in range(150):
                    text = renderer.render(intent, d).finish()[0]
                    said.update(t for pattern, t in unfit.items() if pattern.fullmatch(text))
                    assert "in a good way" not in text, text
        assert (not said) == (name != "jazz"), (name, said)
    assert bank.disclosure_pool("dislike_high", None) == bank.interest["dislike_high"]
    raw = copy.deepcopy(bank.raw)
    raw["disclosure_interest_unfit_kinds"] = {"I've never hated anything as much as {item}.": ["continent"]}
    with pytest.raises(ValueError, match=r"disclosure_interest_unfit_kinds\[.*\]: expected a non-empty list of "):
        TemplateBank(raw, taxonomy)


def test_a_complaint_about_the_style_alone_opens_with_no_verdict_on_the_content(renderer: TemplateRenderer,
                                                                                taxonomy) -> None:
    """"This is worse than useless. You missed it again: I prefer professional language." (43 of 986 style
    complaints of the generic policy's users followed an answer with preference >= 0.5): a complaint about how an
    answer is written opens with no `content_verdicts`; one about what it offers still may."""
    verdicts = tuple(renderer.bank.raw["content_verdicts"])
    assert len(verdicts) >= 10
    d = Draws(np.random.default_rng(7))
    opened: Counter = Counter()
    for reason in ("wrong_tone", "too_long", "ignored_again", "not_answered", "constraint_violation"):
        for level in ("high", "medium"):
            intent = Intent(kind="feedback", polarity=-1, level=level, reason=reason)
            for _ in range(100):
                opened[reason] += renderer.render(intent, d).finish()[0].startswith(verdicts)
    assert opened["wrong_tone"] == opened["too_long"] == opened["ignored_again"] == 0, opened
    assert opened["not_answered"] >= 20 and opened["constraint_violation"] >= 20, opened
    raw = copy.deepcopy(renderer.bank.raw)
    raw["content_verdicts"] = ["This is a mess.", "Total rubbish."]
    with pytest.raises(ValueError, match="templates: content_verdicts names 'Total rubbish.', which is no negative"):
        TemplateBank(raw, taxonomy)


def test_a_language_a_people_or_a_place_is_liked_not_taken_as_an_identity(renderer: TemplateRenderer,
                                                                           taxonomy) -> None:
    """"You should know I'm a die-hard Korean person." of the Korean language, "...a die-hard Vikings person." (7 of
    1,818 interest disclosures): a language, a script, a period or people, a place, an event or a person is never
    liked as who one is; jazz still is."""
    d = Draws(np.random.default_rng(5))
    identity = re.compile(r"die-hard .+ person|I'm a .+ fan\.$")
    for name in ("Korean", "Sanskrit", "Vikings", "Africa", "jazz"):
        node = taxonomy.resolve(name)
        said = 0
        for level in ("high", "medium"):
            intent = Intent(kind="preference_disclosure", topic=node, polarity=1, level=level)
            said += sum(bool(identity.search(renderer.render(intent, d).finish()[0])) for _ in range(300))
        assert (said > 0) == (name == "jazz"), (name, taxonomy.kind(node), said)


def test_the_banks_caches_of_users_details_stay_bounded(renderer: TemplateRenderer) -> None:
    """A user's attributes and requests make keys of their own, and the bank cached every one: 12,893 slot-value
    sets and 28,523 request details after 20,000 episodes (~90 MiB, growing with every user).  More users than
    the caches hold leave them at their bound, and a user whose entry was dropped gets the same details again."""
    bank = TemplateBank(renderer.bank.raw, renderer.taxonomy)
    first = bank.fitting_slot_values((0, 0), None)
    kept = dict(first)
    for most in range(1, SLOT_VALUES_CACHED + 50):  # a wanted length of its own, as each user's may be
        bank.fitting_slot_values((0, most), None)
    assert len(bank._fitting) == SLOT_VALUES_CACHED
    again = bank.fitting_slot_values((0, 0), None)
    assert again is not first and again == kept  # dropped, and worked out again the same
    travel = bank.domains["travel"]
    users = [dict(bank.slot_values) for _ in range(REQUEST_DETAILS_CACHED + 50)]
    details = [dict(bank.request_slot_values(user, travel, frozenset({"alcohol"}))) for user in users]
    assert len(bank._for_request) == REQUEST_DETAILS_CACHED
    assert bank.request_slot_values(users[0], travel, frozenset({"alcohol"})) == details[0]
    assert details[0] != dict(bank.slot_values)  # the tag ruled details out: a result worth caching
