"""What the env's world knowledge suggests on a topic."""

from __future__ import annotations

import random
import re
import string
from collections import Counter

import pytest

from personagym.envs.knowledge import WorldKnowledge
from personagym.simulators.analyzer import ResponseAnalyzer
from personagym.simulators.persona import PersonaSchema


def test_grouping_nodes_are_no_suggestion(schema: PersonaSchema) -> None:
    """A request about food gets desserts and eating out, not "cuisines" or "dishes" (headings, not things)."""
    knowledge = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    tax = schema.taxonomy
    related = knowledge.related("food_cooking")
    assert related and all(not tax.nodes[n].group for n in related)
    assert set(tax.children["food_cooking"]) - set(related) >= {"food_cooking/cuisines", "food_cooking/dishes"}
    # under a heading, its children are the suggestions
    assert knowledge.related("food_cooking/cuisines") == tax.children["food_cooking/cuisines"]
    names = knowledge.suggestions("food_cooking", lambda n: 0, picks=1)
    assert names == [tax.nodes[related[0]].name]  # not the topic: said back, it answers nothing


def test_assistants_say_the_before_a_name_that_takes_it(schema: PersonaSchema) -> None:
    """"I'd suggest the Cold War.", not "I'd suggest Cold War.": the built-in answers use names as nouns."""
    from personagym.policies.compose import AnswerPlan, compose

    knowledge = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    tax = schema.taxonomy
    cold_war, jazz = tax.resolve("Cold War"), tax.resolve("jazz")
    assert knowledge.noun(cold_war) == "the Cold War" and knowledge.noun(jazz) == "jazz"
    era = tax.nodes[cold_war].parent  # "20th century": the suggestions are its children, in name order
    suggested = knowledge.suggestions(era, lambda n: n - 1, picks=1)
    assert len(suggested) == 1 and suggested[0].startswith("the ")
    text = compose(AnswerPlan(topic=knowledge.noun(era), recommend=[knowledge.noun(cold_war)],
                              formality="casual"), lambda n: 0)
    assert "my picks for the 20th century." in text and "You'd probably love the Cold War!" in text
    assert [n for n, _ in knowledge.mentions(text)] == [era, cold_war]  # the analyzer reads "the X" as X


def test_what_a_message_states_follows_its_words(schema: PersonaSchema) -> None:
    """A tracker audit's misreadings: an attribute's own words read as a liked entity, "the" between a cue and
    its entity, a dot inside a name, vague dislikes read as likes, "not into X anymore" read as a dislike."""
    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    liked = {v for key, v, _ in k.statements("I can't really travel right now.") if key == "likes"}
    assert not liked  # travel_flexibility=cannot_travel, and no liking of travel & places
    assert k.statements("I live in a big city.") == [("settlement_type", "big_city", 1)]
    middle_ages = schema.taxonomy.resolve("Middle Ages")
    for text in ("I'm past the Middle Ages these days.", "I used to like the Middle Ages, but not anymore."):
        assert k.statements(text) == [] and k.retractions(text) == [middle_ages], text
    assert k.statements("I love Node.js.") == [("likes", schema.taxonomy.resolve("Node.js"), 1)]
    assert k.statements("Please leave out certain cuisines.") == [("dislikes", "food_cooking/cuisines", -1)]
    jazz = schema.taxonomy.resolve("jazz")
    assert k.statements("I'm not really into jazz anymore.") == [] and k.retractions(
        "I'm not really into jazz anymore.") == [jazz]
    # an idiom names nothing: "head over heels" read as liking high heels
    assert k.statements("I'm head over heels for jazz.") == [("likes", jazz, 1)]


def test_what_an_impatient_user_adds_states_nothing(schema: PersonaSchema) -> None:
    """"Just give me the answer, please." read as wanting answers only, whatever the user wants (a user wanting a
    study plan was charged a contradiction, and a tracker noted the wrong deliverable)."""
    from personagym.simulators.renderers import TemplateRenderer

    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    said = {text: k.statements(text) for text in TemplateRenderer(schema).bank.impatient}
    assert not {text: st for text, st in said.items() if st}


def test_every_stated_value_has_two_phrases_the_tracker_reads_as_it(schema: PersonaSchema) -> None:
    """A value users state has at least two distinct phrases (with one, every user said it in the same words,
    and a recall question had to give those words back as its answer); the tracker reads each phrase, alone
    or after a request, as that value and nothing else: no other value of its attribute, no liking."""
    from personagym.simulators.draft import fix_pronoun

    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    jazz = schema.taxonomy.resolve("jazz")
    single, misread = [], []
    for attr in schema.attributes.values():
        for value, phrases in attr.phrases.items():
            if phrases and len({p.lower() for p in phrases}) < 2:
                single.append((attr.name, value))
            for phrase in phrases:
                said = fix_pronoun(phrase)
                for text, stated in ((f"Just so you know, {said}.", [(attr.name, value, 1)]),
                                     (f"Could you recommend some jazz albums? Also, {said}.",
                                      [(attr.name, value, 1), ("likes", jazz, 1)])):
                    if sorted(k.statements(text)) != sorted(stated):
                        misread.append((text, k.statements(text)))
    assert not single, f"{len(single)} values with one phrase, e.g. {single[:5]}"
    assert not misread, misread[:5]


@pytest.mark.parametrize(("text", "disliked"), [
    ("I dislike jazz, sushi and chess.", "jazz sushi chess"),
    ("No jazz, sushi or chess please.", "jazz sushi chess"),
    ("I'm not into jazz, sushi, chess, or golf.", "jazz sushi chess golf"),
    ("Jazz, sushi and chess are the worst.", "jazz sushi chess"),
    ("I love jazz, sushi and chess.", ""),
    ("I love jazz, sushi, and I hate chess.", "chess"),
    ("I hate jazz, but sushi and chess are great.", "jazz"),
])
def test_a_list_over_clauses_has_one_stance(schema: PersonaSchema, text: str, disliked: str) -> None:
    """"I dislike A, B and C" was read as disliking A and liking B and C (each clause on its own): a multi-agent
    learner copying its honest persona summary was charged 1.35 contradictions an episode, and a tracker
    reading such a user noted likes the user had just ruled out."""
    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    names = {schema.taxonomy.resolve(n): n for n in ("jazz", "sushi", "chess", "golf")}
    read = {names[node]: key for key, node, _ in k.statements(text)}
    assert {n for n, key in read.items() if key == "dislikes"} == set(disliked.split())
    assert set(read) == {n for n in names.values() if n in text.lower()}


@pytest.mark.parametrize(("text", "disliked"), [
    ("These days I can't stand team sports in general, not just rugby.", "team sports, rugby"),
    ("Quick update: please skip team sports altogether, not only rugby.", "team sports, rugby"),
    ("These days it's not just rugby: I can't stand team sports in general.", "team sports, rugby"),
    ("Lately I could do without team sports in general, rugby included.", "team sports, rugby"),
    ("I'd rather avoid team sports now, including rugby.", "team sports, rugby"),
    ("I love team sports, not just rugby.", ""),
    ("I'm into team sports now, rugby included.", ""),
    ("I'm really into team sports, including rugby.", ""),
    ("Can you recommend something fun, not just rugby?", ""),
])
def test_a_thing_named_as_part_of_another_takes_its_stance(schema: PersonaSchema, text: str, disliked: str) -> None:
    """"Heads up, it's chronic illness as a whole I'd rather avoid now, not just asthma." and "... asthma
    included." were read as liking asthma (4 of 4 widened dislikes over 1,500 LongTerm episodes), so the tracker
    offered what the user had just widened a dislike over.  What "not just", "not only" or "including" come
    before, or "included" after, takes the stance of the other thing the sentence names, liked or disliked; with
    nothing else named, it keeps its own."""
    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    names = {schema.taxonomy.resolve(n): n for n in ("team sports", "rugby")}
    read = {names[node]: key for key, node, _ in k.statements(text)}
    assert set(read) == {n for n in names.values() if n in text.lower()}, read
    assert {n for n, key in read.items() if key == "dislikes"} == set(filter(None, disliked.split(", "))), read


@pytest.mark.parametrize(("text", "liked", "disliked"), [
    ("Quick update: I don't mind soccer anymore, but please skip rugby.", "", "rugby"),
    ("Lately I'm fine with soccer; it's rugby I could do without.", "soccer", "rugby"),
    ("Quick update: I don't mind soccer on the whole anymore, only rugby.", "soccer", "rugby"),
    ("Heads up, I'm fine with soccer now, as long as it's not rugby.", "soccer", "rugby"),
    ("Lately it's only rugby I could do without, not soccer as a whole.", "", "rugby"),
    ("It's rugby I could do without.", "", "rugby"),
    ("I don't mind soccer, as long as there's no rugby.", "soccer", "rugby"),
    # a negated dislike still reads as a liking in its own clause, and where no other clause says otherwise
    ("I don't mind rugby.", "rugby", ""), ("I wouldn't say no to rugby.", "rugby", ""),
    ("I'm not against rugby, it can be nice.", "rugby", ""), ("I don't mind, honestly, rugby is fine.", "rugby", ""),
    ("I don't mind soccer or rugby.", "soccer, rugby", ""), ("I don't mind soccer, rugby too.", "soccer, rugby", ""),
    ("I don't mind soccer, but I'm not fond of rugby.", "soccer", "rugby"),
    ("It's rugby, not soccer.", "rugby", ""),  # a correction's "not" takes back, as before
])
def test_a_negated_dislike_holds_in_its_own_clause(schema: PersonaSchema, text: str, liked: str,
                                                   disliked: str) -> None:
    """"Quick update: I don't mind soccer anymore, but please skip rugby." read rugby as liked: "I don't mind"
    held for the whole sentence, and "could do without" was no dislike ("it's Mexican cuisine I could do without"):
    26 of the 26 misread dislike_moved news over 1,500 LongTerm episodes, so the tracker offered what the user had
    just said grates.  A negated dislike holds in its own clause; "only Y" after it is what is still minded, and so
    is "as long as it's not Y"."""
    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    names = {schema.taxonomy.resolve(n): n for n in ("soccer", "rugby")}
    read = {names[node]: key for key, node, _ in k.statements(text)}
    assert {n for n, key in read.items() if key == "likes"} == set(filter(None, liked.split(", "))), read
    assert {n for n, key in read.items() if key == "dislikes"} == set(filter(None, disliked.split(", "))), read


def test_a_lost_interest_is_told_apart_from_a_slip(schema: PersonaSchema) -> None:
    """What the user says they no longer care for is taken back, as a slip is, but is also `lost`: the tracker kept
    offering pet reptiles after "I'm past pet reptiles these days." (a slip's thing is no such thing); "I don't
    care much for X these days" says an interest is gone (read as a dislike: 2 of 6 gone_off news over 1,500
    LongTerm episodes), "I don't much care for X" is still a dislike."""
    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    rugby, soccer = (schema.taxonomy.resolve(n) for n in ("rugby", "soccer"))
    for text in ("I'm past rugby these days.", "I don't care much for rugby these days.",
                 "I'm not really into rugby lately.", "I used to like rugby, but not anymore.",
                 "I've moved on from rugby, actually.", "These days I'm more into soccer than rugby."):
        assert k.lost(text) == k.retractions(text) == [rugby], text
        assert [s for s in k.statements(text) if s[1] == rugby] == [], text
    for text in ("Sorry, I meant soccer, not rugby.", "Scratch rugby. I meant soccer.", "It's soccer, not rugby."):
        assert k.retractions(text) == [rugby] and k.lost(text) == [], text
    assert k.statements("I don't much care for rugby.") == [("dislikes", rugby, -1)]
    assert k.statements("These days I can't stand rugby.") == [("dislikes", rugby, -1)]
    assert k.lost("I love rugby.") == [] and k.statements("These days I'm into soccer.") == [("likes", soccer, 1)]


@pytest.mark.parametrize(("text", "liked", "disliked", "lost"), [
    # the noise layer's slips of a cue word (a letter swapped, left out, doubled or its neighbour's) and missed
    # spaces between short words: 20 lost interests over 1,500 LongTerm episodes read as liked, 13 dislikes as likes
    ("I've moved onfrom rugby, actually.", "", "", "rugby"), ("I've movde on froom rugby, actually.", "", "", "rugby"),
    ("I'm psat rugby these days.", "", "", "rugby"), ("I'm padt rugby these days.", "", "", "rugby"),
    ("I useed to like rugby, butnot anymore.", "", "", "rugby"),
    ("Quick update: I'm into soccer now, notso muhc rugby.", "soccer", "", "rugby"),
    ("These days I'm more into soccer then rugby.", "soccer", "", "rugby"),
    ("I'm a bit lukewam about rugby.", "", "rugby", ""),
    ("Keep rugby faraway from me.", "", "rugby", ""), ("Why include rugby when I'm notinto that?", "", "rugby", ""),
    ("idont enjoy rugby very much", "", "rugby", ""), ("I despsie rugby, no exceptions.", "", "rugby", ""),
    ("I'd maybe skp rugby if possible.", "", "rugby", ""), ("Rugby would be a hrad no for me.", "", "rugby", ""),
    # the noise layer's colloquial and synonym wording of a cue
    ("Rugby would make me wana scream.", "", "rugby", ""),
    ("Rugby would be my least fave thing ever.", "", "rugby", ""),
    # a slip that makes another word is that word, as before: "avid" is no "avoid", "had" no "hard", "slip" no "skip"
    ("I had rugby on my mind.", "rugby", "", ""), ("I meant soccer. Rugby was a slip.", "soccer", "", ""),
    ("I'm an avid rugby watcher.", "rugby", "", ""), ("I'm past the point of doubting rugby.", "rugby", "", ""),
    ("I watch rugby, then soccer.", "rugby, soccer", "", ""),
])
def test_a_cue_the_noise_misspells_or_joins_is_read(schema: PersonaSchema, text: str, liked: str, disliked: str,
                                                  lost: str) -> None:
    """"I've moved onfrom X" and "I'm psat X" read as liking X, "I'm notinto X" too: a stance cue's words are read
    through the slips a typist makes, and a word the slip makes is left as that word."""
    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    names = {schema.taxonomy.resolve(n): n for n in ("soccer", "rugby")}
    read = {names[node]: key for key, node, _ in k.statements(text)}
    assert {n for n, key in read.items() if key == "likes"} == set(filter(None, liked.split(", "))), read
    assert {n for n, key in read.items() if key == "dislikes"} == set(filter(None, disliked.split(", "))), read
    assert {names[n] for n in k.lost(text)} == set(filter(None, lost.split(", "))), text


@pytest.mark.parametrize(("text", "liked", "disliked"), [
    ("I really can't stand rugby, sorry, make that soccer.", "", "soccer"),
    ("I'm just not into rugby, thinking about it more, make that soccer.", "", "soccer"),
    ("I love rugby, wait, make that soccer.", "soccer", ""),
])
def test_what_a_change_of_mind_names_is_said_as_what_it_replaces(schema: PersonaSchema, text: str, liked: str,
                                                                  disliked: str) -> None:
    """"I can't stand X, sorry, make that Y" read Y as liked (5 noisy disclosures over 1,500 LongTerm episodes): Y
    is said as X was, liked or disliked."""
    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    names = {schema.taxonomy.resolve(n): n for n in ("soccer", "rugby")}
    read = {names[node]: key for key, node, _ in k.statements(text)}
    assert {n for n, key in read.items() if key == "likes"} == set(filter(None, liked.split(", "))), read
    assert {n for n, key in read.items() if key == "dislikes"} == set(filter(None, disliked.split(", "))), read
    assert [names[n] for n in k.retractions(text)] == ["rugby"] and k.corrected(text) == []


def test_a_correction_names_what_a_slip_meant_with_or_without_words_of_liking(schema: PersonaSchema) -> None:
    """`corrected`: what a correction names in place of a slip, when it says no liking of its own."""
    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    soccer = schema.taxonomy.resolve("soccer")
    for text in ("Sorry, I meant soccer, not rugby.", "No, soccer. I mixed it up with rugby.",
                 "Oops, I said rugby but I meant soccer.", "Hold on, I got that wrong. It's soccer, not rugby."):
        assert k.corrected(text) == [soccer], text
    for text in ("Sorry, I meant I love soccer, not rugby.", "I love soccer.", "I'm more into soccer than rugby."):
        assert k.corrected(text) == [], text


def test_every_phrasing_the_simulator_fills_with_a_thing_is_read_as_it_states(schema: PersonaSchema) -> None:
    """Each template the user simulator says a liking, a dislike, a change of taste, a complaint about a thing, a
    correction or a choice with, filled with a taste, a condition and a news story, is read with the stance it
    states: a liking liked, a dislike disliked, what was left or lost neither, a dislike that moved no longer
    disliked (six templates were read wrong: "I don't mind X anymore, but please skip Y" liked Y)."""
    from personagym.simulators.renderers import TemplateRenderer

    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    raw = TemplateRenderer(schema).bank.raw
    news = {"moved_on": ("like", "none"), "narrowed": ("like", "none"), "gone_off": ("none", None),
            "taken_up": ("like", None), "tried": ("like", None), "had_enough": ("no dislike", None),
            "dislike_moved": ("dislike", "no dislike"), "dislike_narrowed": ("dislike", "no dislike"),
            "dislike_widened": ("dislike", "dislike")}
    cases = [(t, "like" if level.startswith("like") else "dislike", None)
             for pool in ("disclosure_interest", "disclosure_concern") for level, ts in raw[pool].items()
             if not level.startswith("_") for t in ts]
    cases += [(t, *news[reason]) for pool in ("interest_news", "interest_news_concern")
              for reason, ts in raw[pool].items() if not reason.startswith("_") for t in ts]
    cases += [(t, "none" if reason.startswith("no_longer_into") else "dislike", None)
              for reason, ts in raw["negative_reasons"].items() if not reason.startswith("_")
              for t in ts if "{item}" in t]
    cases += [(t.replace("{right}", "{item}").replace("{wrong}", "{old}"), "like", "none") for t in raw["corrections"]]
    cases += [(t, "like", None) for t in raw["clarification_answers"]["interest"]]
    assert len(cases) > 250
    wrong = []
    for template, item_reads, old_reads in cases:
        for item, old in (("rugby", "soccer"), ("asthma", "diabetes"), ("presidential elections", "midterm elections")):
            text = template.replace("{item}", item).replace("{old}", old)
            read = {node: polarity for key, node, polarity in k.statements(text[0].upper() + text[1:])
                    if key in ("likes", "dislikes")}
            for name, reads in ((item, item_reads), (old, old_reads)):
                got = read.get(schema.taxonomy.resolve(name))
                if reads is not None and not {"like": got == 1, "dislike": got == -1, "none": got is None,
                                              "no dislike": got != -1}[reads]:
                    wrong.append((text, name, got))
    assert not wrong, wrong


def test_a_sentence_after_one_naming_three_things_is_read(schema: PersonaSchema) -> None:
    """A sentence naming no more entities than its index, after one naming three, raised a TypeError (the reader's
    list of sentences was shadowed by a list of flags)."""
    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    text = "I love rugby, soccer and golf. I like sushi. Thanks."
    assert [node.split("/")[-1] for _, node, _ in k.statements(text)] == ["rugby", "soccer", "golf", "sushi"]


@pytest.mark.parametrize("text", [
    "Can you recommend some jazz albums?", "I need help with jazz.", "What's a good jazz album", "Recommend some jazz.",
    "Okay, question: any tips on jazz?", "I keep hearing about jazz. Where should a beginner begin?",
    "I am a bit lost when it comes to jazz. What would you do?", "Do your magic, the jazz thing.",
    "What I need is a jazz album.",
])
def test_a_request_names_its_topic_without_claiming_a_liking(schema: PersonaSchema, text: str) -> None:
    """The tracker reads a request's topic as liked (people ask about what they care for), and still does; but
    asking claims nothing (`asked`, not `claims`): the fidelity reward charged a user for asking about a topic
    outside its profile."""
    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    jazz = schema.taxonomy.resolve("jazz")
    assert k.statements(text) == [("likes", jazz, 1)]
    assert k.asked(text) == [jazz] and k.claims(text) == []


@pytest.mark.parametrize("text", [
    "I love jazz. Any tips?", "Can you recommend things worth checking out if I like jazz?", "Jazz? My favourite.",
    "I'm a huge jazz fan, what should I listen to?", "Since I'm into jazz, what should I try?", "Jazz, any day.",
    "What should I read, given my passion for jazz?", "I could listen to jazz all day.",
    "What is lovely is jazz.", "What is lovely is jazz. Any tips?", "What I love is jazz. Any tips?",
])
def test_words_that_say_the_user_likes_it_are_a_claim_in_a_request_too(schema: PersonaSchema, text: str) -> None:
    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    jazz = schema.taxonomy.resolve("jazz")
    assert k.claims(text) == k.statements(text) == [("likes", jazz, 1)] and k.asked(text) == []


@pytest.mark.parametrize(("text", "key"), [
    ("What's not great is jazz.", "dislikes"), ("What isn't great is jazz.", "dislikes"),
    ("What is not so great is the jazz.", "dislikes"), ("What's annoying is jazz.", "dislikes"),
    ("What's really boring is jazz.", "dislikes"), ("What's great is jazz.", "likes"),
])
def test_a_pseudo_cleft_with_a_like_word_negated_is_a_dislike(schema: PersonaSchema, text: str, key: str) -> None:
    """"What's not great is jazz" read as a like of jazz: the pseudo-cleft rule read the like word, not its
    negation."""
    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    assert k.statements(text) == [(key, schema.taxonomy.resolve("jazz"), 1 if key == "likes" else -1)]


def test_every_request_template_asks_about_its_topic(schema: PersonaSchema) -> None:
    """Each of the simulator's request templates, its topic jazz, asks about jazz; those that say the user likes
    the topic ("My friend got me hooked on {topic}.") claim it, or ask about it (a liked topic only)."""
    from personagym.simulators.renderers import TemplateRenderer

    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    jazz = schema.taxonomy.resolve("jazz")
    misread = []
    for domain in TemplateRenderer(schema).bank.domains.values():
        for template, parsed in zip(domain.texts, domain.templates, strict=True):
            text = re.sub(r"\s*\{(?!topic\})\w+\}", "", template).replace("{topic}", "jazz")
            claimed = ("likes", jazz, 1) in k.claims(text)
            if jazz not in k.asked(text) and not (claimed and parsed in domain.states_liking):
                misread.append(text)
    assert not misread, misread[:5]


@pytest.mark.parametrize(("text", "asking"), [
    ("I love jazz. Recommend some albums.", True),  # a request after a statement asks (a learner's message
    ("Hey can you help with my garden", True),      # awaited no answer unless it opened with its request)
    ("how long does it take to learn jazz", True),  # noise drops question marks
    ("Jazz?", True),
    ("I tend to enjoy archery.", False),
    ("When I was young I loved jazz.", False),      # a wh-word opens statements too
    ("What a day. Thanks, that was great.", False),
    # a pseudo-cleft states; a relative "which" goes on from what was said (the last, a complaint template)
    ("What is lovely is jazz.", False), ("What's great about jazz is the sound.", False),
    ("What I love is jazz.", False), ("Which is why I asked.", False),
    ("You included jazz, which I can't stand.", False),
    # questions that open the same way, their question marks dropped as noise drops them
    ("What is the best entry point into jazz", True), ("What are some albums that are short", True),
    ("Which is better, jazz or blues", True), ("What I need is a jazz album.", True),
])
def test_a_message_asks_when_one_of_its_sentences_does(text: str, asking: bool) -> None:
    from personagym.envs.knowledge import asks

    assert asks(text) == asking


@pytest.mark.parametrize(("text", "disliked"), [
    ("I dislike " + "jazz, sushi, chess, " * 1000 + "and golf.", True),  # one list of 3,001 entities, one stance
    ("I love " + "jazz, sushi, chess, " * 1000 + "and golf.", False),
    ("no jazz " * 2500, True),
    ("Can you recommend " + "jazz sushi chess " * 1000 + "or golf?", False),  # a request: it likes its subject
])
def test_a_sentence_of_many_entities_is_read_in_linear_time(schema: PersonaSchema, text: str, disliked: bool) -> None:
    """Each entity of a sentence looked at the whole sentence before it, and each list clause at every clause of
    its run: n entities took n**2 steps, and a multi-agent learner's 4,096-character utterance (the tracker reads
    the user's messages the same way) 0.5 s a step; found by fuzzing.  Read in windows and in one pass, this takes
    a few tens of milliseconds; no time is asserted (a return to n**2 makes it take tens of seconds)."""
    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    keys = {key for key, _, _ in k.statements(text)}
    assert keys == {"dislikes" if disliked else "likes"}
    named = sum(text.count(name) for name in ("jazz", "sushi", "chess", "golf"))
    assert len(k.statements(text)) == (1 if text.startswith("Can you") else named)
    assert len(k.subjects(text)) == (4 if text.startswith("Can you") else 0)  # jazz, sushi, chess, golf


def test_every_request_template_is_about_its_topic_before_its_own_words(schema: PersonaSchema) -> None:
    """A request's own nouns name things too ("a practice exercise on {topic}": fitness & exercise, "I'm mentoring
    someone who's interested in {topic}": mentoring, "for a bunch of college friends": university), and the first
    thing named was the tracker's topic: it headed 5% of its answers to requests with such a word.  What each
    request template asks about (`subjects`) starts with its topic, with who it is for and where filled in."""
    from personagym.simulators.renderers import TemplateRenderer

    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    fills = {"audience": "for a bunch of college friends", "location": "around Cape Town"}
    misread, framed = [], 0
    for topic in ("jazz", "C++"):
        node = schema.taxonomy.resolve(topic)
        for domain in TemplateRenderer(schema).bank.domains.values():
            for template in domain.texts:
                for slot, value in fills.items():
                    template = template.replace(f"{{{slot}}}", value)
                text = re.sub(r"\s*\{(?!topic\})\w+\}", "", template).replace("{topic}", topic)
                framed += k.mentions(text)[0][0] != node  # the case: a word before the topic names a thing
                if k.subjects(text)[:1] != [node]:
                    misread.append(text)
                # a request implies a liking of what it is about, not of its own words: read as likes, fitness &
                # exercise and university were recommended back in 8% of the tracker's answers
                liked = [value for key, value, _ in k.statements(text) if key == "likes"]
                if liked != [node]:
                    misread.append(f"likes {liked}: {text}")
    assert framed > 50 and not misread, (framed, misread[:5])


@pytest.mark.parametrize("text", [
    "I have a soft spot for geometry.", "I'm a fan of Italian cuisine.", "I can only do short trips.",
    "I run on coffee.", "Do not suggest horror movies. I mean it.", "Why did you include jazz when I'm not into that?",
    "I'm pretty into parakeets. Side question: what time is it in Tokyo right now?",
    "Oh, I can travel whenever. Unrelated, but what rhymes with orange?",
    "Nothing beats medieval history for me. Oh, also how do I reset my router?",
    "The Premier League? My absolute favorite.", "Can you recommend anything but horror movies?",
])
def test_a_message_that_asks_nothing_of_a_thing_is_about_none(schema: PersonaSchema, text: str) -> None:
    """A disclosure, an answer to a question, a complaint, a question asked aside or a dislike in a request names
    no subject: the conversation stays on its request ("I have a soft spot for geometry." during a request about
    Oceania got "Happy to help with geometry.")."""
    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    assert k.mentions(text) and k.subjects(text) == []


def test_a_request_names_its_subject_liked_or_not(schema: PersonaSchema) -> None:
    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    jazz, sushi = schema.taxonomy.resolve("jazz"), schema.taxonomy.resolve("sushi")
    assert k.subjects("Since I'm into jazz, what should I try?") == [jazz]
    assert k.subjects("I love jazz. Any tips?") == [jazz]
    assert k.subjects("I like sushi. Recommend some jazz albums.") == [jazz]
    assert k.subjects("Any jazz albums, wait, make that sushi places?") == [sushi]


def test_a_thing_named_as_disliked_is_not_named_as_a_topic(schema: PersonaSchema) -> None:
    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    horror, jazz = schema.taxonomy.resolve("horror movies"), schema.taxonomy.resolve("jazz")
    assert [n for n, _ in k.mentions("Do not suggest horror movies. I mean it.")] == [horror]  # the case
    assert k.named("Do not suggest horror movies. I mean it.") == []
    assert k.named("No horror movies, but I love jazz.") == [jazz]


def test_a_message_read_for_no_dislike_states_none(schema: PersonaSchema) -> None:
    """`named` reads a message for dislikes only when it holds a cue one is read by (`_MAY_DISLIKE`): reading
    every message that names something cost the `generic` policy 56 µs a step.  Over simulated users' messages,
    every one the reader finds a dislike in has such a cue, and `named` is what the full reading gives."""
    from personagym.envs.knowledge import _MAY_DISLIKE, _may_dislike, _mend
    from personagym.simulators.noise import NoiseConfig
    from personagym.simulators.simulate import simulate_turns

    k = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    disliking = skipped = 0
    for _, turn in simulate_turns(3000, 9, noise=NoiseConfig(rate=0.3)):
        text = turn.text
        disliked = {value for key, value, _ in k.statements(text) if key == "dislikes"}
        cued = _MAY_DISLIKE.search(_mend(text.lower())) is not None
        assert _may_dislike(text.lower()) == cued, text
        assert cued or not disliked, text
        disliking += bool(disliked)
        skipped += not cued and bool(k.mentions(text))
        assert k.named(text) == [node for node, _ in k.mentions(text) if node not in disliked], text
    assert disliking > 50 and skipped > 500, (disliking, skipped)


def test_the_dislike_cue_test_misses_no_cue() -> None:
    """`_may_dislike` searches a message for a dislike cue only when it holds a word or part every cue holds: it
    agrees with the search on each kind of cue, where a cue's last word runs on ("hateful", "standing") or its
    first follows a letter ("casino way"), on a slip it mends ("I despsie jazz"), and where there is none."""
    from personagym.envs.knowledge import _MAY_DISLIKE, _may_dislike, _mend

    texts = ["I hate jazz", "a hateful genre", "I can't standing it", "cannot bear jazz", "jazz is a dealbreaker",
             "the worst", "not a big fan of jazz", "I didnt really enjoy it", "what isn't great is jazz",
             "what's boring is jazz", "it wouldnt be my first pick", "it puts me off", "kind of over jazz",
             "stay awayyy", "I'd rather skip it", "could take it or leave it", "meh", "meh-ish", "leave out the jazz",
             "anything but jazz", "jazz is what i wanted to avoid", "cannot my thing", "casino way", "hard pass",
             "I don't mind jazz", "in a good way", "could be worse", "I despsie jazz", "no jazz", "Absolutely not.",
             "Any jazz albums you would recommend?", "Thanks, that helps!", "I understand, go on", "Take out pizza"]
    for text in texts:
        lower = text.lower()
        assert _may_dislike(lower) == (_MAY_DISLIKE.search(_mend(lower)) is not None), text
    assert not _may_dislike("any jazz albums you would recommend?")


def _drawn_from(items: list, rng: random.Random, out: list[str]) -> list[str]:
    """A random string that the parsed regular expression `items` (`re._parser.parse`) may match, lowercase."""
    from re import _constants as c

    letters = string.ascii_lowercase
    for op, arg in items:
        if op is c.LITERAL:
            out.append(chr(arg))
        elif op is c.NOT_LITERAL or op is c.ANY:
            out.append(rng.choice([ch for ch in letters + " '" if op is c.ANY or ord(ch) != arg]))
        elif op is c.IN:  # a set: its letters and ranges, else (a negated set, a class) a letter or a blank
            chars = [chr(v) for kind, v in arg if kind is c.LITERAL]
            chars += [chr(x) for kind, v in arg if kind is c.RANGE for x in range(v[0], v[1] + 1)]
            negated = any(kind is c.NEGATE for kind, _ in arg)
            out.append(rng.choice(chars if chars and not negated else list(letters + " ")))
        elif op is c.BRANCH:
            _drawn_from(rng.choice(arg[1]), rng, out)
        elif op is c.SUBPATTERN:
            _drawn_from(arg[-1], rng, out)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            for _ in range(rng.randint(arg[0], min(arg[1], arg[0] + 3))):
                _drawn_from(arg[2], rng, out)
        elif op is c.CATEGORY:
            out.append(rng.choice(letters) if arg is c.CATEGORY_WORD else " ")
    return out


def test_every_dislike_cue_the_search_finds_passes_the_cheap_test() -> None:
    """`_may_dislike`'s word and part lists are a necessary condition of `_MAY_DISLIKE`, kept by hand: strings drawn
    from the regular expression's own parse tree, in random surroundings, that it matches all pass them (a cue added
    to the expression and not to the lists fails here)."""
    from re import _parser

    from personagym.envs.knowledge import _MAY_DISLIKE, _MAY_DISLIKE_PARTS, _MAY_DISLIKE_WORDS, _WORD

    rng = random.Random(5)
    tree = _parser.parse(_MAY_DISLIKE.pattern)
    around = ["", " ", "x", "the ", "a", ".", "'", "3", "é", "so ", " it", "s", "ing", "!"]
    matched = 0
    for _ in range(30_000):
        text = rng.choice(around) + "".join(_drawn_from(list(tree), rng, [])) + rng.choice(around)
        if _MAY_DISLIKE.search(text):
            matched += 1
            assert not _MAY_DISLIKE_WORDS.isdisjoint(_WORD.findall(text)) or any(
                part in text for part in _MAY_DISLIKE_PARTS), text
    assert matched > 10_000, matched


def test_a_request_for_things_like_a_leaf_is_told_from_one_about_it(schema: PersonaSchema) -> None:
    """The things beside a thing with nothing under it answer "things worth checking out if I like fencing", not "a
    quick session focused on fencing": `asks_for_like` tells the two apart in the words of every opening request
    about such a thing, as the user bounds it (`UserSimulator.itself`)."""
    from personagym.simulators.noise import NoiseConfig
    from personagym.simulators.sampler import PersonaSampler
    from personagym.simulators.user import UserSimulator

    knowledge = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    sampler, children, read = PersonaSampler(schema), schema.taxonomy.children, Counter()
    for seed in range(1000):
        user = UserSimulator(sampler.sample(seed), seed=seed, noise=NoiseConfig(rate=0.0))
        turn = user.open_session()
        if user.topic is None or children[user.topic]:
            continue
        like = user.itself is None
        assert knowledge.asks_for_like(turn.clean_text) == like, turn.clean_text
        read[like] += 1
    assert read[True] >= 20 and read[False] >= 300, read
