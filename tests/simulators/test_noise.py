"""Semantic-aware noise: layer rates, strategies, PKI bookkeeping, bad configs."""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest
import yaml
from pydantic import ValidationError

from personagym.records import PKI, Intent
from personagym.rng import Draws
from personagym.simulators.noise import DEFAULT_STRATEGIES, LEXICON_PATH, NoiseConfig, NoiseModel, load_lexicon
from personagym.simulators.persona import PersonaSchema, SchemaError
from personagym.simulators.renderers import TEMPLATES_PATH, TemplateBank, TemplateRenderer
from personagym.suggest import describe_validation


@pytest.fixture(scope="module")
def renderer(schema: PersonaSchema) -> TemplateRenderer:
    return TemplateRenderer(schema)


def _model(schema: PersonaSchema, renderer: TemplateRenderer, **kw) -> NoiseModel:
    bank = renderer.bank
    return NoiseModel(schema, NoiseConfig(**kw), slot_values=bank.slot_values,
                      vague_slot_values=bank.vague_slot_values)


def _request(taxonomy, d: Draws, attribute: str | None = None, value: str | None = None,
             branch: bool = False) -> Intent:
    """A recommendation request about a node three levels deep or more (with things under it: `branch`)."""
    topic = d.choice([n for n in taxonomy.ids if taxonomy.nodes[n].depth >= 3 and (taxonomy.children[n] or not branch)])
    return Intent(kind="task_request", domain="recommendation", topic=topic, polarity=1,
                  slots={"time": "by Friday", "budget": "under $50", "quantity": "three"},
                  attribute=attribute, value=value)


def test_layer_rates_match_config(schema: PersonaSchema, renderer: TemplateRenderer, taxonomy) -> None:
    model = _model(schema, renderer)
    d = Draws(np.random.default_rng(0))
    n = 20_000
    layers = Counter()
    for _ in range(n):
        draft = renderer.render(_request(taxonomy, d), d)
        layer, strategies = model.apply(draft, d)
        layers[layer] += 1
        assert (layer == "none") == (not strategies)
    expected = {"none": 0.75, "surface": 0.125, "incomplete": 0.075, "ambiguity": 0.05}
    for layer, p in expected.items():
        assert abs(layers[layer] / n - p) < 0.02, (layer, layers[layer] / n)


def test_custom_rates(schema: PersonaSchema, renderer: TemplateRenderer, taxonomy) -> None:
    model = _model(schema, renderer, rate=0.6, layer_weights={"surface": 0.2, "incomplete": 0.2, "ambiguity": 0.6})
    d = Draws(np.random.default_rng(1))
    layers = Counter(model.apply(renderer.render(_request(taxonomy, d), d), d)[0] for _ in range(20_000))
    assert abs(layers["ambiguity"] / 20_000 - 0.36) < 0.02
    assert abs(layers["none"] / 20_000 - 0.4) < 0.02


def test_every_strategy_fires_and_keeps_evidence_exact(schema: PersonaSchema, renderer: TemplateRenderer,
                                                     taxonomy) -> None:
    model = _model(schema, renderer, rate=1.0)
    d = Draws(np.random.default_rng(2))
    attr = next(a for a in schema.attributes.values() if a.role == "style" and a.phrases and a.vague)
    value = next(v for v in attr.values if attr.phrases.get(v) and attr.vague_phrases(v))
    seen = Counter()
    for _ in range(3000):
        draft = renderer.render(_request(taxonomy, d, attr.name, value), d)
        layer, strategies = model.apply(draft, d)
        text, pkis = draft.finish()
        seen.update(strategies)
        for pki in pkis:
            assert text[pki.start:pki.end] == pki.evidence and pki.evidence
    for layer, strategies in DEFAULT_STRATEGIES.items():
        for name in strategies:
            assert seen[name] > 0, f"{layer}/{name} never fired"


def test_vague_and_mind_change_pkis(schema: PersonaSchema, renderer: TemplateRenderer, taxonomy) -> None:
    """A mind change on an interest ends on the truth ("motorsports, oops, make that college football"; it ended
    on the wrong thing, which a reader takes as what holds) or says the wrong thing alone, a slip to correct."""
    model = _model(schema, renderer, rate=1.0, layer_weights={"surface": 0, "incomplete": 0, "ambiguity": 1},
                   strategies={"ambiguity": {"multiple_intents": 0, "unclear_intent": 0,
                                             "self_contradiction": 0, "mind_change": 1}})
    d = Draws(np.random.default_rng(3))
    near, rand, forms = [], [], Counter()
    for _ in range(500):
        topic = d.choice([n for n in taxonomy.ids if taxonomy.nodes[n].depth >= 3])
        intent = Intent(kind="preference_disclosure", topic=topic, polarity=d.choice([1, -1]), level="high")
        draft = renderer.render(intent, d)
        model.apply(draft, d)
        text, pkis = draft.finish()
        wrong = [p for p in pkis if p.certainty in ("mistaken", "retracted")]
        assert len(wrong) == 1, text
        other = wrong[0].key  # another thing, not a refinement ("rock music, make that classic rock")
        right = [p for p in pkis if p.key == intent.topic]
        if wrong[0].certainty == "retracted":  # "X, oops, make that Y": the truth last, as said before
            assert len(right) == 1 and right[0].certainty == "clear" and right[0].start > wrong[0].end, text
            assert "make that" in text[wrong[0].end:right[0].start] and wrong[0].intended is None, text
            assert (right[0].polarity, right[0].explicit) == (wrong[0].polarity, wrong[0].explicit)
        else:  # a slip alone, the truth in `intended`, for the user to correct later
            assert not right and wrong[0].intended == intent.topic and "make that" not in text, text
        forms[wrong[0].certainty] += 1
        assert not taxonomy.is_ancestor(other, intent.topic) and not taxonomy.is_ancestor(intent.topic, other)
        near.append(taxonomy.distance(intent.topic, other))
        rand.append(taxonomy.distance(intent.topic, d.choice(taxonomy.ids)))
    assert min(forms.values()) > 150, forms
    assert len(near) > 400 and np.mean(near) < np.mean(rand) / 2
    vague = _model(schema, renderer, rate=1.0, layer_weights={"surface": 0, "incomplete": 1, "ambiguity": 0},
                   strategies={"incomplete": {"missing_slot": 0, "vague_value": 1, "context_dependency": 0,
                                              "unclear_priority": 0}})
    got_vague, groups = 0, 0
    for _ in range(300):
        intent = _request(taxonomy, d)
        draft = renderer.render(intent, d)
        vague.apply(draft, d)
        text, pkis = draft.finish()
        for p in pkis:
            if p.certainty == "vague":
                got_vague += 1
                assert p.key == taxonomy.parent(intent.topic) and p.intended == intent.topic
                parent = taxonomy.nodes[p.key]
                if parent.group:  # "certain cuisines", never a heading on its own ("Please leave out cuisines.")
                    groups += 1
                    assert p.evidence.lower() in {f"certain {parent.name}".lower(), f"some {parent.name}".lower()}, text
                else:
                    assert p.evidence.lower() == parent.name.lower(), text
    assert got_vague > 50 and groups > 5


def test_a_mind_change_never_changes_a_requests_topic(schema: PersonaSchema, renderer: TemplateRenderer,
                                                       taxonomy) -> None:
    """"Where's the best place to shop for hardscaping, let me change that, make that patio & deck building?"
    asked about what the request the user judges answers by was not (243 of 50,000 requests): a request's mind
    change is of a detail ("three, wait, five picks"), its topic said once and clear; a disclosure may still slip
    ("I really like portrait painting, hold on, make that digital art")."""
    model = _model(schema, renderer, rate=1.0, layer_weights={"surface": 0, "incomplete": 0, "ambiguity": 1},
                   strategies={"ambiguity": {"multiple_intents": 0, "unclear_intent": 0,
                                             "self_contradiction": 0, "mind_change": 1}})
    d = Draws(np.random.default_rng(5))
    details = slips = 0
    slots = {"time": "this weekend", "budget": "under $50", "quantity": "three"}  # picks take no "by Friday"
    for _ in range(400):
        intent = _request(taxonomy, d).model_copy(update={"slots": slots})
        draft = renderer.render(intent, d)
        strategies = model.apply(draft, d)[1]
        text, pkis = draft.finish()
        assert not any(p.certainty in ("mistaken", "retracted") for p in pkis), text
        assert "make that" not in text, text
        details += "mind_change" in strategies
        topic = d.choice([n for n in taxonomy.ids if taxonomy.nodes[n].depth >= 3])
        disclosure = renderer.render(Intent(kind="preference_disclosure", topic=topic, polarity=1, level="high"), d)
        model.apply(disclosure, d)
        slips += any(p.certainty == "mistaken" for p in disclosure.finish()[1])
    assert details > 150 and slips > 100, (details, slips)


def test_a_mind_change_on_a_detail_settles_on_one_the_user_could_ask_for(schema: PersonaSchema,
                                                                          renderer: TemplateRenderer) -> None:
    """"... in Lisbon, wait, around Manila" from a user in Warsaw, "around Budapest" from one in the tropics: a
    detail changed to is one of the draft's `details` (the places of the user's region and climate that fit the
    topic), never the one taken back; a slot with no other left is not changed; a draft without details takes any
    of the bank's."""
    model = _model(schema, renderer, rate=1.0, layer_weights={"surface": 0, "incomplete": 0, "ambiguity": 1},
                   strategies={"ambiguity": {"multiple_intents": 0, "unclear_intent": 0,
                                             "self_contradiction": 0, "mind_change": 1}})
    intent = Intent(kind="task_request", domain="hobby", topic=renderer.taxonomy.resolve("pottery"),
                    slots={"location": "in Lisbon", "time": "by Friday"})
    places, times = renderer.bank.slot_values["location"], renderer.bank.slot_values["time"]
    d = Draws(np.random.default_rng(11))
    settled: Counter[str] = Counter()
    for details in ({"location": ("in Lisbon", "near Manchester"), "time": ("by Friday",)}, None):
        changed = 0
        for _ in range(1000):
            draft = renderer.render(intent, d)
            draft.details = details
            if "mind_change" not in model.apply(draft, d)[1]:
                continue
            text = draft.finish()[0]
            named = [v for v in places if v in text and v != "in Lisbon"]
            changed += bool(named) or text.count("in Lisbon") > 1
            if details is not None:
                assert named in ([], ["near Manchester"]) and text.count("in Lisbon") == 1, text
                assert [v for v in times if v in text] in ([], ["by Friday"]), text  # no other time to settle on
            else:
                settled.update(named)
        assert changed > 20, details  # a template without a {location} slot has none to change
    assert len(settled) > 5, settled


def test_a_correction_keeps_the_entity_it_corrects(schema: PersonaSchema, renderer: TemplateRenderer,
                                                   taxonomy) -> None:
    """Vague values and mind changes leave a correction's entity alone.

    A vague parent in its place could be the very entity corrected ("I said
    retro fashion but I meant retro fashion").
    """
    swaps = _model(schema, renderer, rate=1.0, layer_weights={"surface": 0, "incomplete": 0.5, "ambiguity": 0.5},
                   strategies={"incomplete": {"missing_slot": 0, "vague_value": 1, "context_dependency": 0,
                                              "unclear_priority": 0},
                               "ambiguity": {"multiple_intents": 0, "unclear_intent": 0,
                                             "self_contradiction": 0, "mind_change": 1}})
    d = Draws(np.random.default_rng(5))
    deep = [n for n in taxonomy.ids if taxonomy.nodes[n].depth >= 3]
    for _ in range(300):
        right = d.choice(deep)
        intent = Intent(kind="correction", topic=right, wrong=taxonomy.parent(right))
        draft = renderer.render(intent, d)
        swaps.apply(draft, d)
        _, pkis = draft.finish()
        assert [(p.key, p.certainty) for p in pkis] == [(right, "clear")]


def test_an_unclear_request_keeps_the_constraint_it_attaches(schema: PersonaSchema, renderer: TemplateRenderer,
                                                             taxonomy) -> None:
    """ "Sort this out, the X thing" still says "Side note: I have a peanut allergy", as the user's memory holds."""
    unclear = _model(schema, renderer, rate=1.0, layer_weights={"surface": 0, "incomplete": 0, "ambiguity": 1},
                     strategies={"ambiguity": {"multiple_intents": 0, "unclear_intent": 1,
                                               "self_contradiction": 0, "mind_change": 0}})
    d = Draws(np.random.default_rng(6))
    for _ in range(200):
        draft = renderer.render(_request(taxonomy, d, "food_allergies", "peanut"), d, named=True)
        assert unclear.apply(draft, d) == ("ambiguity", ["unclear_intent"])
        text, pkis = draft.finish()
        asked = text.lower().startswith(("can you", "could you"))  # a question stays one: "Can you ..., the X thing?"
        assert (" thing?" if asked else " thing.") in text and "peanut" in text.lower(), text
        assert [p.value for p in pkis if p.kind == "attribute"] == ["peanut"], text


def test_an_unclear_complaint_asks_what_it_asks(schema: PersonaSchema, renderer: TemplateRenderer) -> None:
    """ "Can you tidy this up. I don't think this works." reads as a statement: it is a question."""
    unclear = _model(schema, renderer, rate=1.0, layer_weights={"surface": 0, "incomplete": 0, "ambiguity": 1},
                     strategies={"ambiguity": {"multiple_intents": 0, "unclear_intent": 1,
                                               "self_contradiction": 0, "mind_change": 0}})
    d = Draws(np.random.default_rng(10))
    asked = 0
    for _ in range(300):
        draft = renderer.render(Intent(kind="feedback", polarity=-1, level="medium"), d)
        unclear.apply(draft, d)
        text, _ = draft.finish()
        first = re.split(r"(?<=[.?!]) ", text)[0]
        if first.lower().startswith(("can you", "could you")):
            asked += 1
            assert first.endswith("?"), text
    assert asked > 30


def test_noise_never_touches_truth_spans(schema: PersonaSchema, renderer: TemplateRenderer, taxonomy) -> None:
    """Typos and segmentation land outside entity names."""
    model = _model(schema, renderer, rate=1.0, layer_weights={"surface": 1, "incomplete": 0, "ambiguity": 0},
                   strategies={"surface": {"typo": 1, "word_segmentation": 1, "synonym_rewrite": 0,
                                           "colloquial_speech": 0}})
    d = Draws(np.random.default_rng(4))
    for _ in range(500):
        intent = _request(taxonomy, d)
        draft = renderer.render(intent, d)
        model.apply(draft, d)
        _text, pkis = draft.finish()
        topic = [p for p in pkis if p.key == intent.topic]
        assert topic and topic[0].evidence == taxonomy.name(intent.topic)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rate": 1.2}, r"noise rate must be in \[0, 1\], got 1.2"),
        ({"rate": -0.1}, r"noise rate must be in \[0, 1\], got -0.1"),
        ({"layer_weights": {"surface": 0.5, "incomplete": 0.3, "ambiguity": 0.3}},
         "layer_weights must sum to 1, got 1.1"),
        ({"layer_weights": {"surfce": 0.5, "incomplete": 0.3, "ambiguity": 0.2}},
         r"unknown layer 'surfce' \(did you mean 'surface'\?\)"),
        ({"strategies": {"surface": {"tpyo": 0.3}}}, r"unknown strategy 'tpyo' \(did you mean 'typo'\?\)"),
        ({"strategies": {"surface": {"typo": 2}}}, r"strategies\['surface'\]\['typo'\] must be in \[0, 1\]"),
    ],
)
def test_bad_noise_config(kwargs: dict, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        NoiseConfig(**kwargs)


def test_word_regex_matches_like_a_longest_first_alternation() -> None:
    """The trie-compiled matcher finds exactly what a plain longest-first alternation finds."""
    import re

    from personagym.simulators.noise import _word_regex, load_lexicon

    lex = load_lexicon()
    rng = np.random.default_rng(0)
    for table in ("synonyms", "contractions"):
        words = [w.lower() for w in lex[table]]
        flat = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b",
                          re.IGNORECASE)
        trie = _word_regex(words)
        pieces = words + [w[: 1 + len(w) // 2] for w in words] + ["a", "THE", "'", "-", "_", "é", "7", ",", "Ok"]
        for _ in range(3000):
            text = str(rng.choice(["", " ", "-"])).join(pieces[i] for i in rng.integers(0, len(pieces), 6))
            text = text.upper() if rng.random() < 0.2 else text
            assert [m.span() for m in trie.finditer(text)] == [m.span() for m in flat.finditer(text)], text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rate": True}, "rate: expected a number, not a bool (got True)"),
        ({"rate": "0.3"}, "rate: expected a number, not a string (got '0.3')"),
        ({"rate": None}, "rate: expected a number, not None (got None)"),
        ({"rate": np.True_}, f"rate: expected a number, not a bool (got {np.True_!r})"),
        ({"confusion_decay": False}, "confusion_decay: expected a number, not a bool (got False)"),
        ({"layer_weights": {"surface": True, "incomplete": 0, "ambiguity": 0}},
         "layer_weights.surface: expected a number, not a bool (got True)"),
        ({"strategies": {"surface": {"typo": "0.5"}}},
         "strategies.surface.typo: expected a number, not a string (got '0.5')"),
    ],
)
def test_numeric_noise_fields_refuse_bools_and_strings(kwargs: dict, message: str) -> None:
    """Lax pydantic would read True as 1.0 and "0.3" as 0.3: a mistake that silently configures the noise."""
    with pytest.raises(ValidationError) as info:
        NoiseConfig(**kwargs)
    assert describe_validation(info.value) == message


def test_noise_config_takes_ints_numpy_numbers_json_and_yaml() -> None:
    assert NoiseConfig(rate=1).rate == 1.0 and isinstance(NoiseConfig(rate=0).rate, float)
    assert NoiseConfig(rate=np.float32(0.5), confusion_decay=np.int64(2)).confusion_decay == 2.0
    weights = {"surface": 1, "incomplete": 0, "ambiguity": 0}
    from_json = NoiseConfig.model_validate_json('{"rate": 1, "layer_weights": ' + json.dumps(weights) + "}")
    from_yaml = NoiseConfig(**yaml.safe_load("rate: 1\nlayer_weights: {surface: 1, incomplete: 0, ambiguity: 0}\n"))
    assert from_json == from_yaml == NoiseConfig(rate=1.0, layer_weights={k: float(v) for k, v in weights.items()})
    config = NoiseConfig(rate=0.4)
    assert NoiseConfig.model_validate_json(config.model_dump_json()) == config


def test_a_rate_out_of_range_names_the_rate_field() -> None:
    """The range check is a field check, so a caller can say which option the rate came from."""
    with pytest.raises(ValidationError) as info:
        NoiseConfig(rate=2)
    assert [e["loc"] for e in info.value.errors()] == [("rate",)]
    message = describe_validation(info.value, {"rate": "--noise-rate"})
    assert message == "--noise-rate: noise rate must be in [0, 1], got 2.0"  # the value once, not twice


def _noisy_turns(n: int, seed: int, **config) -> list:
    """`n` simulated user turns (all intent kinds), every one noised with this config."""
    from personagym.simulators.simulate import simulate_turns

    return [turn for _, turn in simulate_turns(n, seed, noise=NoiseConfig(rate=1.0, **config))]


_REQUEST_ONLY = {"context_dependency", "unclear_priority", "self_contradiction", "unclear_intent", "emotional_tone"}


_ASKING_STARTERS = tuple(json.loads(LEXICON_PATH.read_text(encoding="utf-8"))["asking_starters"])


def test_request_noise_stays_in_requests() -> None:
    """A goodbye or a disclosure gets no "like last time", "your call", contradiction or "sort this out"."""
    turns = _noisy_turns(3000, 5)
    noised = Counter()
    for turn in turns:
        kind = turn.intent.kind
        asks = kind == "task_request" or (kind == "feedback" and (turn.intent.polarity or 1) < 0)
        used = _REQUEST_ONLY & set(turn.noise.strategies)
        if not asks:
            assert not used, (kind, turn.clean_text, turn.text)
        if kind != "task_request":
            assert "unclear_priority" not in used, turn.text
        if kind == "goodbye":  # a side request after "bye" is never answered
            assert "multiple_intents" not in turn.noise.strategies, turn.text
        if not asks:  # "Question: thanks!" asks nothing
            assert not turn.text.lower().startswith(_ASKING_STARTERS), turn.text
        noised[kind] += turn.noise.layer != "none"
        assert (turn.noise.layer == "none") == (not turn.noise.strategies)
    assert noised["goodbye"] > 100 and noised["preference_disclosure"] > 100  # still noised, by what fits


def test_delegation_never_replaces_a_fact_about_the_user(schema: PersonaSchema, renderer: TemplateRenderer,
                                                       taxonomy) -> None:
    """unclear_priority leaves a stated style preference to the assistant in its place, saying which ("Small
    thing: any length is fine."); an allergy or a job stays said, and a request stating no style preference gets
    no "your call": "How do I network with people in academic philosophy? Whatever you'd go with." left nothing to
    choose (2,833 of 50,000 requests)."""
    model = _model(schema, renderer, rate=1.0, layer_weights={"surface": 0, "incomplete": 1, "ambiguity": 0},
                   strategies={"incomplete": {"missing_slot": 0, "vague_value": 0, "context_dependency": 0,
                                              "unclear_priority": 1}})
    d = Draws(np.random.default_rng(6))
    facts = [(a.name, v) for a in schema.attributes.values() for v in a.phrases]
    leave = model.lex["delegation_for"]
    delegations = [p.lower() for phrases in leave.values() for p in phrases]
    replaced = Counter()
    for _ in range(1500):
        attribute, value = d.choice(facts)
        draft = renderer.render(_request(taxonomy, d, attribute, value), d)
        clean = draft.finish()[0]
        model.apply(draft, d)
        text, pkis = draft.finish()
        kept = any(p.kind == "attribute" and p.key == attribute for p in pkis)
        role = schema.attributes[attribute].role
        replaced[role] += not kept
        lower = text.lower()
        if role != "style":
            assert kept, (attribute, value, draft.text())
            assert not any(p in lower for p in delegations), text
        elif not kept:  # said in the preference's place, of that preference, the rest of the message as it was
            said = next(p for p in leave[attribute] if p.lower() in lower)
            start = lower.index(said.lower())
            assert clean[:start].lower() == lower[:start] and text[start + len(said):] in clean, (clean, text)
    assert replaced["style"] > 300
    for _ in range(300):  # no preference at all: nothing to leave to the assistant
        draft = renderer.render(_request(taxonomy, d), d)
        assert "unclear_priority" not in model.apply(draft, d)[1]
        assert not any(p in draft.text().lower() for p in delegations), draft.text()


def test_a_delegation_for_anything_but_a_style_preference_fails_by_name(schema: PersonaSchema) -> None:
    """A misspelt attribute in `delegation_for` would silently never be delegated."""
    lex = copy.deepcopy(load_lexicon())
    lex["delegation_for"]["lenght_pref"] = lex["delegation_for"].pop("length_pref")
    with pytest.raises(ValueError, match=r"delegation_for names 'lenght_pref'.*did you mean 'length_pref'"):
        NoiseModel(schema, lexicon=lex)
    lex = copy.deepcopy(load_lexicon())
    lex["delegation_for"]["diet"] = ["eat whatever"]
    with pytest.raises(ValueError, match=r"delegation_for names 'diet'; expected a style attribute"):
        NoiseModel(schema, lexicon=lex)
    lex = copy.deepcopy(load_lexicon())
    lex["delegation_for"]["length_pref"] = "any length"
    with pytest.raises(ValueError, match=r"delegation_for\['length_pref'\] must be a non-empty list of phrases, "
                                         r"got 'any length'"):
        NoiseModel(schema, lexicon=lex)


def test_clauses_go_before_the_sign_off_and_after_a_question_stand_alone(schema: PersonaSchema, taxonomy) -> None:
    """"Thanks!" and an emoji stay last; a clause after a question is its own sentence, not part of the question."""
    renderer = TemplateRenderer(schema, closer_rate=1.0)
    strategies = {"surface": {name: 0 for name in DEFAULT_STRATEGIES["surface"]}}
    strategies["surface"].update(emotional_tone=1, punctuation=1)
    model = _model(schema, renderer, rate=1.0, layer_weights={"surface": 1, "incomplete": 0, "ambiguity": 0},
                   strategies=strategies)
    closers = renderer.bank.closers
    markers = [m.lower() for ms in model.lex["emotional_markers"].values() for m in ms]
    d = Draws(np.random.default_rng(7))
    emoji = tuple({e for pool in model.lex["emoji"].values() for e in pool})
    asked = 0
    for _ in range(1500):
        draft = renderer.render(_request(taxonomy, d), d)
        model.apply(draft, d)
        text, _ = draft.finish()
        if any(e in text for e in emoji):
            assert text.endswith(emoji) and not any(f"{e}," in text for e in emoji), text
        body = text.rstrip(" " + "".join(emoji))
        assert any(body.endswith(c.rstrip(".!")) for c in closers), text
        lower = text.lower()
        for marker in markers:
            if re.search(rf"\b{re.escape(marker)}\b", lower):
                assert not re.search(rf"\b{re.escape(marker)}\b[^.!]*\?", lower), text
                asked += bool(re.search(rf"\? {re.escape(marker)}\b", lower))
    assert asked > 50


def test_surface_noise_keeps_sentences_and_pronouns_tidy() -> None:
    """A fragment starts the sentence ("on the bus rn, what ..."), "I" stays "I", no typo doubles an apostrophe."""
    turns = _noisy_turns(3000, 8, layer_weights={"surface": 1, "incomplete": 0, "ambiguity": 0})
    fragments = 0
    for turn in turns:
        text = turn.text
        assert "''" not in text, text
        if "colloquial_speech" not in turn.noise.strategies:
            assert not re.search(r"\bi\b", text), text
        if "real_life_fragment" in turn.noise.strategies:
            fragments += 1
            entity_starts = {p.start for p in turn.pkis}
            for m in re.finditer(r", ([A-Z]\w*)", text):
                assert m.group(1).startswith("I") or m.start(1) in entity_starts, text
    assert fragments > 100


def test_negation_rewrites_an_instruction_not_a_phrase_in_passing(schema: PersonaSchema,
                                                                  renderer: TemplateRenderer) -> None:
    """ "be honest" becomes "don't sugarcoat it"; "to be honest" stays ("Not great, to don't sugarcoat it")."""
    from personagym.simulators.draft import Draft

    model = _model(schema, renderer)
    d = Draws(np.random.default_rng(0))
    aside, instruction = Draft(), Draft()
    aside.plain("Not great, to be honest.")
    instruction.plain("Please be honest with me.")
    assert not model._negation(aside, d) and aside.text() == "Not great, to be honest."
    assert model._negation(instruction, d) and instruction.text() == "Please don't sugarcoat it with me."


def test_a_negated_preference_is_said_vaguely(schema: PersonaSchema, renderer: TemplateRenderer) -> None:
    """"use bullet points" -> "don't give me a wall of text" was labelled format = bullets, clear: the words no
    longer say which layout; the PKI is vague, the value in ``intended``."""
    from personagym.simulators.draft import Draft

    model = _model(schema, renderer)
    draft = Draft()
    draft.plain("Also, ")
    draft.entity("use bullet points", PKI(kind="attribute", key="format_pref_primary", value="bullets"))
    assert model._negation(draft, Draws(np.random.default_rng(0)))
    assert draft.text() == "Also, don't give me a wall of text"
    pki = draft.pkis[0]
    assert (pki.value, pki.intended, pki.certainty) == (None, "bullets", "vague")


def test_an_emoji_fits_the_mood(schema: PersonaSchema, renderer: TemplateRenderer) -> None:
    """No "This is great. 😭", no "Completely off the mark. 😊", no "🔥" on a plain request."""
    strategies = {"surface": {name: 0 for name in DEFAULT_STRATEGIES["surface"]}}
    strategies["surface"].update(punctuation=1)
    model = _model(schema, renderer, rate=1.0, layer_weights={"surface": 1, "incomplete": 0, "ambiguity": 0},
                   strategies=strategies)
    pools = {mood: set(model.lex["emoji"][name]) for mood, name in ((1, "positive"), (-1, "negative"), (0, "any"))}
    d = Draws(np.random.default_rng(8))
    seen = Counter()
    for _ in range(1500):
        polarity = d.choice([1, -1])
        kind = d.choice(["feedback", "goodbye"])
        intent = Intent(kind=kind, polarity=polarity, level="medium")
        text, _ = _with_noise(model, renderer, intent, d)
        tail = text.split()[-1]
        if tail in pools[1] | pools[-1] | pools[0]:
            assert tail in pools[polarity], (text, polarity)
            seen[polarity] += 1
    assert seen[1] > 50 and seen[-1] > 50


def _with_noise(model: NoiseModel, renderer: TemplateRenderer, intent: Intent, d: Draws) -> tuple[str, list]:
    draft = renderer.render(intent, d)
    model.apply(draft, d)
    return draft.finish()


def test_a_real_life_fragment_fits_the_speaker(schema: PersonaSchema, renderer: TemplateRenderer, taxonomy) -> None:
    """No "walking the dog rn" from someone without a dog, no "kids are finally asleep" without kids."""
    strategies = {"surface": {name: 0 for name in DEFAULT_STRATEGIES["surface"]}}
    strategies["surface"].update(real_life_fragment=1)
    model = _model(schema, renderer, rate=1.0, layer_weights={"surface": 1, "incomplete": 0, "ambiguity": 0},
                   strategies=strategies)
    needing = set(model.lex["fragment_needs"])
    assert {"walking the dog rn", "kids are finally asleep"} <= needing
    lonely = {"pets_owned": [], "children": "none", "employment_status": "retired"}
    d = Draws(np.random.default_rng(9))
    said = Counter()
    for speaker in (lonely, {"pets_owned": ["dog", "cat"], "children": "young_children"}):
        for _ in range(600):
            draft = renderer.render(_request(taxonomy, d), d, speaker=speaker)
            model.apply(draft, d)
            text, _ = draft.finish()
            said.update(f for f in needing if text.lower().startswith(f))
            if speaker is lonely:
                assert not any(text.lower().startswith(f) for f in needing), text
    assert said["walking the dog rn"] and said["kids are finally asleep"]
    lexicon = {**model.lex, "fragment_needs": {"walking the cat rn": {"pets_owned": ["cat"]}}, "fragment_states": {}}
    with pytest.raises(ValueError, match="fragment_needs names 'walking the cat rn', which is no real_life_fragment"):
        NoiseModel(schema, lexicon=lexicon)
    lexicon = {**model.lex, "fragment_needs": {"walking the dog rn": {"pets_owned": ["dogs"]}}, "fragment_states": {}}
    with pytest.raises(ValueError, match=r"noise lexicon: fragment_needs\['walking the dog rn'\] needs pets_owned"):
        NoiseModel(schema, lexicon=lexicon)


def test_a_side_request_fits_the_speaker(schema: PersonaSchema, renderer: TemplateRenderer, taxonomy) -> None:
    """No "can you help me word a text to my landlord?" from a homeowner, no out-of-office reply or team-meeting
    icebreaker from a retiree, no "is it weird to text back after three days?" from the married (3-5% of side
    requests read): side requests follow `side_request_needs` as fragments follow theirs."""
    strategies = {"ambiguity": {name: 0 for name in DEFAULT_STRATEGIES["ambiguity"]}}
    strategies["ambiguity"].update(multiple_intents=1)
    model = _model(schema, renderer, rate=1.0, layer_weights={"surface": 0, "incomplete": 0, "ambiguity": 1},
                   strategies=strategies)
    needing = set(model.lex["side_request_needs"])
    assert {"can you help me word a text to my landlord?", "can you draft a quick out-of-office reply?"} <= needing
    settled = {"housing": "homeowner", "employment_status": "retired", "relationship_status": "married",
               "work_arrangement": "remote"}
    d = Draws(np.random.default_rng(9))
    said = Counter()
    blank: dict[str, str] = {}  # no attribute known: nothing ruled out but what a request states
    for speaker in (settled, {"housing": "renter", "employment_status": "employed_full_time"}, blank):
        for _ in range(500):
            draft = renderer.render(_request(taxonomy, d), d, speaker=speaker)
            model.apply(draft, d)
            text = draft.finish()[0].lower()
            asked = [s for s in needing if s in text]
            said.update(asked)
            assert speaker is not settled or not asked, text
            assert speaker is not blank or "landlord" not in text, text  # stated: said by a renter only
    assert said["can you help me word a text to my landlord?"] and said["can you draft a quick out-of-office reply?"]
    lexicon = {**model.lex, "side_request_needs": {"walk my dog?": {"pets_owned": ["dog"]}}, "side_request_states": {}}
    with pytest.raises(ValueError, match="side_request_needs names 'walk my dog\\?', which is no side_request"):
        NoiseModel(schema, lexicon=lexicon)


def test_a_real_life_fragment_fits_what_else_the_speaker_says(schema: PersonaSchema, renderer: TemplateRenderer,
                                                               taxonomy) -> None:
    """A speaker without the attribute a fragment needs was no obstacle, though their other attributes rule it
    out: "Sneaking this in before class" from a user not studying, "sorry, kid yelling in the background" from a
    retiree (2 of 6 audited such fragments)."""
    strategies = {"surface": {name: 0 for name in DEFAULT_STRATEGIES["surface"]}}
    strategies["surface"].update(real_life_fragment=1)
    model = _model(schema, renderer, rate=1.0, layer_weights={"surface": 1, "incomplete": 0, "ambiguity": 0},
                   strategies=strategies)
    kids = ("sorry, kid yelling in the background", "kids are finally asleep")
    d = Draws(np.random.default_rng(9))
    for speaker, ruled_out in (({"currently_studying": "no", "life_stage": "retired"},
                                ("sneaking this in before class", *kids)), ({"household": "lives_alone"}, kids)):
        for _ in range(600):
            draft = renderer.render(_request(taxonomy, d), d, speaker=speaker)
            model.apply(draft, d)
            text = draft.finish()[0].lower()
            assert not any(text.startswith(f) for f in ruled_out), (speaker, text)


def test_a_vague_statement_never_misstates_the_value(schema: PersonaSchema, renderer: TemplateRenderer,
                                                    taxonomy) -> None:
    """ "Not too long, not too short" is no terse user's, "I have to watch what I spend" no wealthy one's."""
    vague = _model(schema, renderer, rate=1.0, layer_weights={"surface": 0, "incomplete": 1, "ambiguity": 0},
                   strategies={"incomplete": {"missing_slot": 0, "vague_value": 1, "context_dependency": 0,
                                              "unclear_priority": 0}})
    length = schema.attributes["length_pref"]
    assert length.vague_phrases("standard") and not length.vague_phrases("terse")
    facts = [(a.name, v) for a in schema.attributes.values() if a.vague for v in a.phrases]
    d = Draws(np.random.default_rng(14))
    vagued = Counter()
    for _ in range(3000):
        attribute, value = d.choice(facts)
        intent = Intent(kind="preference_disclosure", attribute=attribute, value=value)
        draft = renderer.render(intent, d)
        vague.apply(draft, d)
        _, pkis = draft.finish()
        for p in pkis:
            if p.certainty == "vague":
                assert p.evidence.lower() in schema.attributes[attribute].vague_phrases(value), (attribute, value)
                vagued[attribute] += 1
    assert vagued["length_pref"] and vagued["diet"]


def test_vague_for_names_values_of_its_attribute(schema: PersonaSchema) -> None:
    raw = copy.deepcopy(schema.raw)
    spec = next(a for t in raw["tiers"] for c in t["categories"] for a in c["attributes"] if a["name"] == "length_pref")
    spec["vague_for"] = ["standrd"]
    with pytest.raises(SchemaError, match="attribute 'length_pref': vague_for names unknown value 'standrd'"):
        PersonaSchema(raw, schema.taxonomy)


def test_surface_noise_fits_how_the_speaker_types(schema: PersonaSchema, renderer: TemplateRenderer, taxonomy) -> None:
    """No typos from a careful typist ("Try agin?": 87 audited), no emoji from a user who wants none (60)."""
    strategies = {"surface": {name: 0 for name in DEFAULT_STRATEGIES["surface"]}}
    strategies["surface"].update(typo=1, word_segmentation=1, punctuation=1)
    model = _model(schema, renderer, rate=1.0, layer_weights={"surface": 1, "incomplete": 0, "ambiguity": 0},
                   strategies=strategies)
    emoji = tuple({e for pool in model.lex["emoji"].values() for e in pool})
    d = Draws(np.random.default_rng(11))
    applied: dict[str, Counter] = {}
    careful = {"typing_style": "careful", "emoji_use": "never"}
    sloppy = {"typing_style": "sloppy", "emoji_use": "often"}
    for speaker in (careful, sloppy):
        counts = applied[speaker["typing_style"]] = Counter()
        for _ in range(400):
            draft = renderer.render(_request(taxonomy, d), d, speaker=speaker)
            _, names = model.apply(draft, d)
            counts.update(names)
            counts["emoji"] += any(e in draft.finish()[0] for e in emoji)
    assert applied["careful"]["typo"] == applied["careful"]["word_segmentation"] == applied["careful"]["emoji"] == 0
    assert applied["sloppy"]["typo"] > 300 and applied["sloppy"]["emoji"] > 50


def test_a_formal_user_adds_no_slang(schema: PersonaSchema, renderer: TemplateRenderer, taxonomy) -> None:
    """"Awesome, thanks" became "Sick, thx" for a formal persona: the words noise adds (substitutes, starters,
    emotional markers, fragments, connectors, mind-change markers) come from the lexicon's `casual_only` list
    only for a casual speaker."""
    model = _model(schema, renderer, rate=1.0)
    slang = [re.compile(rf"(?<![\w']){re.escape(w.lower())}(?![\w'])") for w in model.lex["casual_only"]]
    d = Draws(np.random.default_rng(21))
    added: Counter = Counter()
    for formality in ("professional", "very_casual"):
        for _ in range(1500):
            kind = d.choice(["task_request", "feedback", "goodbye"])
            intent = _request(taxonomy, d) if kind == "task_request" else Intent(
                kind=kind, polarity=d.choice([1, -1]), level="medium")
            draft = renderer.render(intent, d, speaker={"formality_level": formality, "typing_style": "careful"})
            clean = draft.finish()[0].lower()
            model.apply(draft, d)
            noisy = draft.finish()[0].lower()
            new = [p.pattern for p in slang if p.search(noisy) and not p.search(clean)]
            assert formality == "very_casual" or not new, (clean, noisy, new)
            added[formality] += bool(new)
    assert added["very_casual"] > 300


def test_a_casual_only_word_no_noise_adds_fails_by_name(schema: PersonaSchema) -> None:
    lex = copy.deepcopy(json.loads(LEXICON_PATH.read_text(encoding="utf-8")))
    lex["casual_only"].append("yeet")
    with pytest.raises(ValueError, match="noise lexicon: casual_only names 'yeet', which is no synonym"):
        NoiseModel(schema, lexicon=lex)


def test_a_formal_user_speaking_colloquially_only_contracts(schema: PersonaSchema, renderer: TemplateRenderer,
                                                             taxonomy) -> None:
    """"Please adjust: i like detailed answers" from a highly formal careful typist (36 of 517 audited highly
    formal messages were all lowercase): a formal speaker's colloquial speech keeps its case and adds no
    starter; a casual one's is lowercase.  The topics have things under them: of the templates a formal speaker's
    words may contract in, only "What is the best entry point into X?" asks for things in a topic."""
    strategies = {"surface": {name: 0 for name in DEFAULT_STRATEGIES["surface"]}}
    strategies["surface"].update(colloquial_speech=1)
    model = _model(schema, renderer, rate=1.0, layer_weights={"surface": 1, "incomplete": 0, "ambiguity": 0},
                   strategies=strategies)
    d = Draws(np.random.default_rng(5))
    contracted = lowered = 0
    for formality in ("highly_formal", "very_casual"):
        for _ in range(200):
            draft = renderer.render(_request(taxonomy, d, "length_pref", "detailed", branch=True), d,
                                    speaker={"formality_level": formality, "typing_style": "careful"})
            clean = draft.finish()[0]
            if model.apply(draft, d)[1] != ["colloquial_speech"]:
                continue  # nothing to contract: another strategy stood in
            noisy = draft.finish()[0]
            if formality == "very_casual":
                lowered += re.search(r"\bi\b", noisy) is not None
                continue
            assert re.search(r"\bi\b", noisy) is None, noisy  # the pronoun stays "I"
            assert noisy[0].isupper() and sum(c.isupper() for c in noisy) >= sum(c.isupper() for c in clean) - 1
            contracted += noisy != clean
    assert contracted > 0 and lowered > 100


def test_a_synonym_rewrite_says_only_aliases_that_read_as_the_name(schema: PersonaSchema, renderer: TemplateRenderer,
                                                                     taxonomy) -> None:
    """An alias swap says another name for the thing: not the name plus a word ("Kyoto trip"), a person who does
    it ("geocacher", "trumpeter"), the name in the plural ("I rly like coffees", "trumpets": 84 of 50,000 requests)
    or another script ("русский"); the swap still happens where a name reads ("hot cocoa")."""
    model = _model(schema, renderer, rate=1.0, layer_weights={"surface": 1, "incomplete": 0, "ambiguity": 0},
                   strategies={"surface": {"typo": 0, "word_segmentation": 0, "synonym_rewrite": 1,
                                           "colloquial_speech": 0}})
    unreadable = {"Kyoto temples", "Kyoto trip", "geocacher", "trumpeter", "русский", "Russian language",
                  "learning Russian", "poker night", "trumpets", "coffees"}
    nodes = ["travel_places/destinations/asia/kyoto", "outdoor_recreation/outdoor_activities/orienteering/geocaching",
             "music/musical_instruments/wind_instruments/trumpet",
             "languages_linguistics/world_languages/slavic_languages/russian", "gaming/tabletop_games/card_games/poker",
             "drinks_beverages/hot_drinks/coffee", "drinks_beverages/hot_drinks/hot_chocolate"]
    d = Draws(np.random.default_rng(7))
    said: Counter[str] = Counter()
    for i in range(400):
        intent = _request(taxonomy, d).model_copy(update={"topic": nodes[i % len(nodes)]})
        draft = renderer.render(intent, d)
        model.apply(draft, d)
        _text, pkis = draft.finish()
        said.update(p.evidence for p in pkis if p.key == intent.topic)
    assert not unreadable & set(said), said
    assert {"hot cocoa", "drinking chocolate"} & set(said), said  # names that read are still said
    # and nothing the taxonomy marks as something else ("~gelato" for ice cream, "~geocache" for geocaching)
    sayable = {a for n in nodes for a in (taxonomy.nodes[n].name, *taxonomy.nodes[n].sayable)}
    assert set(said) <= sayable, set(said) - sayable


def test_word_segmentation_joins_or_splits_as_people_type(schema: PersonaSchema, renderer: TemplateRenderer,
                                                          taxonomy) -> None:
    """A missed space between two short words ("alot", "ofthe") or a compound split into its words ("some
    thing"); it split at any letter ("sh ould", "Ple ase") or doubled the last one ("thankss")."""
    strategies = {"surface": {name: 0 for name in DEFAULT_STRATEGIES["surface"]}}
    strategies["surface"]["word_segmentation"] = 1
    model = _model(schema, renderer, rate=1.0, layer_weights={"surface": 1, "incomplete": 0, "ambiguity": 0},
                   strategies=strategies)
    d = Draws(np.random.default_rng(5))
    kinds = Counter()
    for _ in range(400):
        draft = renderer.render(_request(taxonomy, d), d)
        clean = draft.finish()[0]
        if model.apply(draft, d)[1] != ["word_segmentation"]:
            continue  # nothing to join or split: another strategy stood in
        noisy = draft.finish()[0]
        assert noisy.replace(" ", "") == clean.replace(" ", ""), (clean, noisy)  # spaces only
        before, after = clean.split(" "), noisy.split(" ")
        if len(after) < len(before):  # joined: two short words
            i = next(i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b)
            assert len(before[i]) <= 3 and len(before[i + 1].strip(".,?!")) <= 4, (clean, noisy)
            kinds["join"] += 1
        else:  # split: a compound into two words
            i = next(i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b)
            assert after[i].lower() in ("some", "any", "every", "no", "with", "over", "under", "out", "up", "in",
                                        "to"), (clean, noisy)
            kinds["split"] += 1
    assert kinds["join"] > 100 and kinds["split"] > 5, kinds


def test_casual_lowercasing_survives_and_a_formal_tone_gets_none() -> None:
    """A casual user's lowercase message kept its capitals at sentence starts ("What should i know?"; 15
    colloquial rewrites changed nothing at all); a user who asks for a formal tone speaks no slang even with
    no formality level known ("Thx so much")."""
    from personagym.simulators.draft import casual_speaker

    turns = _noisy_turns(2000, 9, layer_weights={"surface": 1, "incomplete": 0, "ambiguity": 0},
                         strategies={"surface": {"colloquial_speech": 1.0}})
    casual = [t for t in turns if "colloquial_speech" in t.noise.strategies and t.text != t.text.lower()
              and not any(p.kind == "interest" for p in t.pkis)]
    assert all(t.text != t.clean_text for t in turns if "colloquial_speech" in t.noise.strategies)
    # the pronoun, not the end of "Hi again, it's been a few weeks." (a business-casual user's capitals)
    assert not [t.text for t in casual if re.search(r"(?:^|[.!?] )[A-Z]", t.text) and re.search(r"\bi\b", t.text)][:1]
    assert casual_speaker({}) and not casual_speaker({"tone_pref": "formal"})
    assert not casual_speaker({"tone_pref": "professional", "formality_level": "casual"})


def test_how_a_user_behaves_sets_how_often_their_noise_does_it() -> None:
    """"Often changes their mind" changed it as often as "rarely" (1.8% and 2.4%); so did multiple intents."""
    from personagym.simulators.simulate import simulate_turns

    seen: dict[tuple[str, str], Counter] = {}
    for persona, turn in simulate_turns(30_000, 13, noise=NoiseConfig(rate=1.0)):
        for attribute, strategy in (("multi_intent_rate", "multiple_intents"),
                                    ("mind_changing_tendency", "mind_change")):
            value = persona.attributes.get(attribute)
            if isinstance(value, str) and turn.intent.kind == "task_request":
                counts = seen.setdefault((attribute, value), Counter())
                counts["turns"] += 1
                counts["used"] += strategy in turn.noise.strategies

    def rate(attribute: str, value: str) -> float:
        counts = seen[attribute, value]
        return counts["used"] / counts["turns"]

    assert rate("multi_intent_rate", "often_multi") > 3 * rate("multi_intent_rate", "single")
    assert rate("mind_changing_tendency", "often") > 3 * rate("mind_changing_tendency", "rarely")


def test_a_complaint_refers_to_no_shared_history(schema: PersonaSchema, renderer: TemplateRenderer) -> None:
    """"There's a problem: I stay away from gambling, like the list you gave me before.": "like last time" ends
    a request; after a complaint it qualified what the user had just said (9 of 15 audited)."""
    strategies = {"incomplete": {name: 0 for name in DEFAULT_STRATEGIES["incomplete"]}}
    strategies["incomplete"]["context_dependency"] = 1
    model = _model(schema, renderer, rate=1.0, layer_weights={"surface": 0, "incomplete": 1, "ambiguity": 0},
                   strategies=strategies)
    d = Draws(np.random.default_rng(2))
    for reason, attribute, value in (("ignored_preference", "gambling_stance", "avoids"), ("too_long", None, None)):
        for _ in range(50):
            draft = renderer.render(Intent(kind="feedback", polarity=-1, level="medium", reason=reason,
                                           attribute=attribute, value=value), d)
            assert "context_dependency" not in model.apply(draft, d)[1], draft.finish()[0]
    draft = renderer.render(Intent(kind="task_request", domain="recommendation", topic="music/music_genres/jazz",
                                   polarity=1), d)
    assert model.apply(draft, d)[1] == ["context_dependency"]


def test_an_incomplete_sentence_drops_a_frame_and_a_mind_change_ends_a_phrase(renderer: TemplateRenderer) -> None:
    """"Could you recommend X?" -> "recommend X" (296 of 333 only dropped the final stop, which is `punctuation`;
    11 left "Recommend X? Thanks"); "X, wait, make that Y" only where X ends its phrase ("I'm a safaris, oops,
    make that wine tasting trips fan" spliced it into a noun phrase)."""
    from personagym.simulators.noise import _FRAME, _PHRASE_STARTS

    details = {v.lower() for values in renderer.bank.slot_values.values() for v in values}
    turns = _noisy_turns(4000, 12)
    seen = Counter()
    for turn in turns:
        if "incomplete_sentence" in turn.noise.strategies:
            assert _FRAME.match(turn.clean_text) and not _FRAME.match(turn.text), (turn.clean_text, turn.text)
            frame = re.match(r"[^.?!]*[.?!]?", turn.clean_text).group()  # the frame's own sentence
            assert turn.text.count("?") < turn.clean_text.count("?") or not frame.endswith("?"), turn.text
            seen["incomplete"] += 1
        for pki in turn.pkis:
            if pki.certainty == "retracted" and pki.kind == "interest":  # "X, oops, make that Y": Y ends a phrase
                right = min((p for p in turn.pkis if p.start > pki.end), key=lambda p: p.start)
                assert "make that" in turn.text[pki.end:right.start], turn.text
                rest = turn.text[right.end:].lstrip(" ")
                word = rest.split(maxsplit=1)[0].lower() if rest else ""
                assert not rest or not rest[0].isalnum() or word in _PHRASE_STARTS or any(
                    rest.lower().startswith(v) for v in details), turn.text
                seen["mind change"] += 1
    assert seen["incomplete"] > 20 and seen["mind change"] > 15, seen  # a request's topic no longer changes


def test_how_pressed_for_time_a_user_is_sets_how_often_they_sound_urgent() -> None:
    """An exploratory user sounded urgent more often than an urgent one (7.3% against 2.7% of requests)."""
    from personagym.simulators.simulate import simulate_turns

    markers = json.loads(LEXICON_PATH.read_text(encoding="utf-8"))["emotional_markers"]
    urgent = tuple(m.lower() for m in markers["urgent"])
    seen: dict[str, Counter] = {}
    for persona, turn in simulate_turns(20_000, 3, noise=NoiseConfig(rate=1.0)):
        value = persona.attributes.get("time_sensitivity")
        if turn.intent.kind == "task_request" and isinstance(value, str):
            counts = seen.setdefault(value, Counter())
            counts["requests"] += 1
            counts["urgent"] += "emotional_tone" in turn.noise.strategies and any(
                m in turn.text.lower() for m in urgent)
    rate = {value: c["urgent"] / c["requests"] for value, c in seen.items()}
    # by design 0.7 against the markers' own share (14 of 46): 2.3x, measured on ~2,000 requests a value (+-10%)
    assert rate["exploratory"] == 0 and rate["urgent"] > 1.5 * rate["normal"] > 0, rate


def test_a_vague_detail_is_true_of_the_detail(schema: PersonaSchema, renderer: TemplateRenderer, taxonomy) -> None:
    """ "for my manager" may become "for someone at work", never "for the family"; "ten" never "a couple of"."""
    vague = _model(schema, renderer, rate=1.0, layer_weights={"surface": 0, "incomplete": 1, "ambiguity": 0},
                   strategies={"incomplete": {"missing_slot": 0, "vague_value": 1, "context_dependency": 0,
                                              "unclear_priority": 0}})
    forms = renderer.bank.vague_slot_values
    assert "for the family" not in forms["audience"]["for my manager"]
    assert "a couple of" in forms["quantity"]["two"] and "a couple of" not in forms["quantity"]["ten"]
    d = Draws(np.random.default_rng(21))
    said: Counter = Counter()
    for slot in ("quantity", "audience", "budget", "location", "length"):
        for value in renderer.bank.slot_values[slot]:
            for _ in range(20):
                intent = _request(taxonomy, d).model_copy(update={"slots": {slot: value}})
                draft = renderer.render(intent, d)
                seg = next((s for s in draft.segments if s.slot == slot and s.text == value), None)
                if seg is None:
                    continue  # the template drew has no place for this detail
                vague.apply(draft, d)
                if seg.text != value:
                    assert seg.text in forms[slot][value], (slot, value, seg.text)
                    said[slot] += 1
    assert min(said.values()) >= 5 and len(said) == 5, said


def test_vague_slot_values_must_fit_slot_values(schema: PersonaSchema) -> None:
    raw = json.loads(TEMPLATES_PATH.read_text())
    raw["vague_slot_values"]["quantity"].append({"text": "a few", "fits": ["thre"]})
    with pytest.raises(ValueError, match=r"vague_slot_values.quantity\['a few'\] fits 'thre', which is no quantity"):
        TemplateBank(raw, schema.taxonomy)


def test_only_a_complaint_is_fed_up_with_the_answers() -> None:
    """ "Recommend three jazz albums, sick of going in circles" opened conversations; a complaint may say it."""
    from personagym.rollout import rollout

    markers = json.loads(LEXICON_PATH.read_text(encoding="utf-8"))["emotional_markers"]
    fed_up = tuple(m.lower() for m in markers["fed_up"])
    said: Counter = Counter()
    for trajectory in rollout("PersonaGym/Chat-v0", "random", episodes=300, seed=5, noise_rate=1.0):
        for turn in trajectory.turns:
            user = turn.user
            if "emotional_tone" in user.noise.strategies and any(m in user.text.lower() for m in fed_up):
                said[user.intent.kind] += 1
    assert said["feedback"] > 0 and said["task_request"] == 0, said


def test_a_self_contradicting_message_leaves_the_contradicted_preference_vague(schema: PersonaSchema) -> None:
    """"... be exhaustive. One paragraph max, but make it really long and detailed" was labelled length_pref =
    exhaustive, clear (52 of 1,872 stated items of an audited export): the words pin down no length.  A message
    that contradicts itself about length (formality, ...) states those attributes only vaguely."""
    lexicon = json.loads(LEXICON_PATH.read_text(encoding="utf-8"))
    about = {c: frozenset(lexicon["contradiction_attributes"][kind])
             for kind, said in lexicon["contradictions"].items() for c in said}
    turns = _noisy_turns(6000, 11, layer_weights={"surface": 0, "incomplete": 0, "ambiguity": 1},
                         strategies={"ambiguity": {"multiple_intents": 0, "unclear_intent": 0,
                                                   "self_contradiction": 1, "mind_change": 0}})
    vague = 0
    for turn in turns:
        said = [c for c in about if c.lower() in turn.text.lower()]
        if not said:
            continue
        unsaid = about[said[0]]
        for pki in turn.pkis:
            if pki.kind == "attribute" and pki.key in unsaid:
                assert pki.value is None and pki.certainty == "vague" and pki.intended, (turn.text, pki)
                vague += 1
    assert vague >= 10, vague


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.pop("detail"), r"contradiction_attributes has no entry for 'detail'; expected the attributes"),
    (lambda t: t.update(length=["lenght_pref"]), r"contradiction_attributes\['length'\] names 'lenght_pref', which"),
    (lambda t: t.update(mood=[]), r"contradiction_attributes names 'mood', which is no kind of contradiction"),
])
def test_a_bad_contradiction_attributes_table_is_named(schema: PersonaSchema, change, message: str) -> None:
    lexicon = json.loads(LEXICON_PATH.read_text(encoding="utf-8"))
    change(lexicon["contradiction_attributes"])
    with pytest.raises(ValueError, match=message):
        NoiseModel(schema, lexicon=lexicon)


def test_an_incomplete_sentence_asks_the_question_after_its_frame(schema: PersonaSchema,
                                                                   renderer: TemplateRenderer) -> None:
    """Dropping "I want to" makes an order of that sentence only: "I want to make a plan around budgeting. Can
    you help?" became "Make a plan around budgeting. Can you help." (70 of 482 audited)."""
    from personagym.simulators.draft import Draft

    model = _model(schema, renderer)
    d = Draws(np.random.default_rng(0))
    statement, question = Draft(intent="task_request", asks=True), Draft(intent="task_request", asks=True)
    statement.plain("I want to make a plan around ")
    statement.entity("budgeting", None)
    statement.plain(" in the next hour. Can you help? Oh right, the more humor the better.")
    question.plain("Could you recommend ")
    question.entity("Node.js", None)
    question.plain(" courses? Thanks.")
    assert model._incomplete_sentence(statement, d) and model._incomplete_sentence(question, d)
    assert statement.finish()[0] == "Make a plan around budgeting in the next hour. Can you help? Oh right, the " \
                                    "more humor the better"
    assert question.finish()[0] == "Recommend Node.js courses. Thanks"


def test_word_segmentation_splits_only_what_people_split() -> None:
    """"some thing", "with out", "over all"; not "up date", "under stand", "out line", "to night", "to day",
    "no thing", "no body" (38 of 207 audited splits)."""
    from personagym.simulators.noise import _COMPOUND

    split = {m.group(0) for m in _COMPOUND.finditer(
        "something anyone everyday without overall somewhere update understand outline tonight today nothing "
        "nobody overtime")}
    assert split == {"something", "anyone", "everyday", "without", "overall", "somewhere"}, split


def test_a_casual_starter_says_no_word_twice(schema: PersonaSchema, renderer: TemplateRenderer) -> None:
    """"mkay so so, quick thing" and "alright so alright." (14 in 60,000 turns): a starter that ends in the
    message's first word is left out; "ok ok" is a starter of its own."""
    from personagym.simulators.draft import Draft

    model = _model(schema, renderer)
    d = Draws(np.random.default_rng(3))
    starts = Counter()
    for opening in ("So, quick thing. Help me plan a trip.", "Alright. Help me plan a trip."):
        for _ in range(300):
            draft = Draft(intent="task_request", asks=False)
            draft.plain(opening)
            assert model._colloquial_speech(draft, d)
            text = draft.finish()[0]
            first = opening.split()[0].strip(",.").lower()
            starts[text.split()[0] != first] += 1
            assert not re.search(rf"\b{first}\b,? {first}\b", text), text
    assert starts[True] > 150, starts  # starters are still said


@pytest.mark.parametrize(
    ("text", "seed", "holds"),
    [
        # "Oh, I LpVE roses": the key next to a capital is typed with Shift still down
        pytest.param("Oh, I LOVE THESE", 4, lambda typed: typed[3:] == typed[3:].upper(),
                     id="in-capitals-stays-in-capitals"),
        # a swap of two letters alike ("worried", "appreciated") left the words as they were, yet the turn was
        # labelled a typo (2 of 320 audited conversations): a slip always shows
        pytest.param("Sooo good", 6, lambda typed: typed != "Sooo good", id="changes-the-word"),
    ],
)
def test_a_typo(schema: PersonaSchema, renderer: TemplateRenderer, text: str, seed: int,
                holds: Callable[[str], bool]) -> None:
    """Every typo of `text` shows, as `holds` says it should (300 of them a case)."""
    from personagym.simulators.draft import Draft

    model = _model(schema, renderer)
    d = Draws(np.random.default_rng(seed))
    for _ in range(300):
        draft = Draft()
        draft.plain(text)
        assert model._typo(draft, d)
        assert holds(draft.text()), draft.text()


def test_a_vague_group_mention_says_some_once(schema: PersonaSchema, renderer: TemplateRenderer, taxonomy) -> None:
    """"Entertain me with some some book genres trivia": after a template's own "some", "certain book genres"."""
    from personagym.simulators.draft import Draft

    model = _model(schema, renderer)
    d = Draws(np.random.default_rng(5))
    node = next(n for n in taxonomy.ids if (p := taxonomy.parent(n)) is not None and taxonomy.nodes[p].group)
    for _ in range(50):
        draft = Draft(intent="task_request", asks=True)
        draft.plain("Entertain me with some ")
        draft.entity(taxonomy.nodes[node].name, PKI(kind="interest", key=node))
        draft.plain(" trivia.")
        assert model._vague_value(draft, d)
        assert draft.finish()[0].startswith("Entertain me with some certain "), draft.finish()[0]


def test_a_language_is_said_by_its_english_name(schema: PersonaSchema, renderer: TemplateRenderer,
                                                taxonomy) -> None:
    """A user writing English said "I'm head over heels for íslenska", "I want to learn about français", "I love
    Hangugeo" or "British Sign" for British Sign Language (47 in 60,000 turns): endonyms still recognise the
    language, and are never said for it."""
    endonyms = {"español", "français", "italiano", "português", "limba română", "Deutsch", "Nederlands", "íslenska",
                "język polski", "čeština", "Putonghua", "Nihon-go", "Hangugeo", "Ivrit", "tlhIngan Hol",
                "British Sign"}
    languages = [n for n in taxonomy.ids if n.startswith("languages_linguistics/")]
    said = {a for n in languages for a in taxonomy.nodes[n].sayable}
    assert not endonyms & said, endonyms & said
    assert {taxonomy.resolve(e) for e in endonyms} <= set(languages)
    assert {"Mandarin", "Elvish", "ASL"} <= said  # other names that are English are still said


def _pointing_back(lexicon: dict) -> dict[str, str]:
    """Lowercased phrase -> what it points back at (`history_needs`)."""
    return {p.lower(): need for need, phrases in lexicon["history_needs"].items() for p in phrases}


def _needs_said(text: str, needs: dict[str, str]) -> set[str]:
    return {need for phrase, need in needs.items() if phrase in text.lower()}


_POINTING_CONFIG = {
    "layer_weights": {"surface": 0, "incomplete": 0.5, "ambiguity": 0.5},
    "strategies": {"incomplete": {**{n: 0 for n in DEFAULT_STRATEGIES["incomplete"]}, "context_dependency": 1},
                   "ambiguity": {**{n: 0 for n in DEFAULT_STRATEGIES["ambiguity"]}, "unclear_intent": 1}},
}


def test_words_point_back_only_at_a_conversation_that_happened() -> None:
    """"Like I explained earlier", "The one from the other day", "Can you do that thing again" and "Make it a bit
    less bad" opened a first-time user's first message (36 of 69 context references in 600 Chat-v0 episodes):
    a session's first message points at nothing of its session, the first session's at nothing at all, and no
    message of the first session at an earlier one; later messages and sessions still do.  Same seed, same words."""
    needs = _pointing_back(json.loads(LEXICON_PATH.read_text(encoding="utf-8")))
    turns = _noisy_turns(3000, 11, **_POINTING_CONFIG)
    said = Counter()
    for turn in turns:
        pointed = _needs_said(turn.text, needs)
        said.update((turn.session > 0, turn.turn > 0, need) for need in pointed)
        if turn.turn == 0:
            assert "request" not in pointed and (turn.session > 0 or not pointed), turn.text
        if turn.session == 0:
            assert not pointed & {"session", "week"}, turn.text
    assert said[False, True, "request"] and said[False, True, "earlier"]  # mid-session in the first session
    assert said[True, False, "session"] and said[True, False, "earlier"]  # a later session's first message
    assert [t.text for t in _noisy_turns(300, 11, **_POINTING_CONFIG)] == [t.text for t in turns[:300]]


def test_that_thing_again_names_only_a_topic_the_conversation_named() -> None:
    """"Can you do that thing again, the tea thing?" mid-session of a topic no earlier message had named (24 of
    50,000 Chat-v0 requests of seeds 101-...), and "Just figure it out, the classical ballet thing" as a whole
    first message (1.8% of Chat-v0 episodes): "the X thing" points back at its topic, which an earlier message of
    the user, this session or an earlier one, named; a request about a new topic is said vaguely with its words
    kept ("Just figure it out. What's a good ...?"), never led by words that work on an answer ("Make it a bit less
    bad. I'd love a simple plan to ..."). So do words that point at a particular earlier request like this one:
    "Where can I do soccer? Same deal as before.", "Can you make me a career plan for teaching careers? Like the
    list you gave me before." (19 of 21 read context references pointed at no such request). Same seed, same
    words."""
    from personagym.simulators.simulate import simulate_turns

    config = NoiseConfig(rate=1.0, **_POINTING_CONFIG)
    needs = _pointing_back(json.loads(LEXICON_PATH.read_text(encoding="utf-8")))
    reworking = {phrase: need for phrase, need in needs.items() if need in ("request", "topic")}
    particular = {phrase: need for phrase, need in needs.items() if need == "topic" or phrase in (
        "same deal as before", "like the list you gave me before", "you know the one", "the way you did it before")}
    user, said = None, set()  # the persona speaking (personas come in sequence), the topics it has named so far
    again = shrunk = vague_new = pointed = 0
    texts = []
    for persona, turn in simulate_turns(3000, 5, noise=config):
        if persona is not user:
            user, said = persona, set()
        texts.append(turn.text)
        topic = turn.intent.topic
        strategies = turn.noise.strategies
        if re.search(r", the [^,.?!]+ thing\b", turn.text) and topic is not None and (
                "unclear_intent" in strategies or "context_dependency" in strategies):
            again += "do that thing again" in turn.text.lower()
            shrunk += "do that thing again" not in turn.text.lower()
            assert topic in said, turn.text
        elif topic is not None and turn.intent.kind == "task_request" and "unclear_intent" in strategies:
            vague_new += topic not in said
            if topic not in said:  # led by vague words, none that work on an answer ("Make it a bit less bad.")
                assert not _needs_said(turn.text, reworking), turn.text
        if _needs_said(turn.text, particular):  # "Same deal as before", "Like the list you gave me before"
            pointed += 1
            assert topic in said, turn.text
        said.update(p.key for p in turn.pkis if p.kind == "interest" and p.certainty == "clear")
    assert again and shrunk and vague_new and pointed > again, (again, shrunk, vague_new, pointed)
    assert [t.text for _, t in simulate_turns(300, 5, noise=config)] == texts[:300]


def test_that_thing_again_needs_its_topic_named(schema: PersonaSchema, renderer: TemplateRenderer,
                                                taxonomy) -> None:
    """Mid-session, "Can you do that thing again, the X thing?" is said of a topic an earlier message named, and of
    no other (`Draft.history` holds "topic")."""
    model = _model(schema, renderer, rate=1.0, **_POINTING_CONFIG)
    d = Draws(np.random.default_rng(3))
    said = Counter()
    for named in (False, True):
        for _ in range(600):
            draft = renderer.render(_request(taxonomy, d), d, named=named)
            model.apply(draft, d)
            said[named] += "do that thing again" in draft.finish()[0].lower()
    assert said[False] == 0 and said[True] > 5, said


def test_i_think_about_keeps_its_words(schema: PersonaSchema, renderer: TemplateRenderer, taxonomy) -> None:
    """"Honestly, I feel like about refugee crises a lot.": casual wording swaps "I think" for an opinion's
    "I reckon" or "I feel like", and leaves "I think about" as it is."""
    config = {"layer_weights": {"surface": 1, "incomplete": 0, "ambiguity": 0},
              "strategies": {"surface": {**{n: 0 for n in DEFAULT_STRATEGIES["surface"]}, "synonym_rewrite": 1}}}
    model = _model(schema, renderer, rate=1.0, **config)
    d = Draws(np.random.default_rng(2))
    refugees = taxonomy.resolve("refugee crises")
    bank = renderer.bank
    thinks = [t for t in bank.concern["like_high"] if "I think about" in "".join(lit for lit, _ in t)]
    assert thinks
    kept = 0
    for _ in range(200):
        intent = Intent(kind="preference_disclosure", topic=refugees, polarity=1, level="high")
        draft = renderer.render(intent, d, speaker={"formality_level": "very_casual"})
        model.apply(draft, d)
        text = draft.finish()[0]
        assert not re.search(r"(?i)(?:reckon|feel like) about", text), text
        kept += "think about refugee crises" in text.lower()
    assert kept > 5, kept


def test_the_other_day_is_at_most_a_week_back(schema: PersonaSchema, renderer: TemplateRenderer, taxonomy) -> None:
    """"Same style as last week" or "the one from the other day" opens a session a week after the last, not a
    month or a year after it; "like you did last time" opens either."""
    model = _model(schema, renderer, rate=1.0, **_POINTING_CONFIG)
    needs = _pointing_back(model.lex)
    d = Draws(np.random.default_rng(4))
    for gap in ("next_week", "next_month", "next_year"):
        said = Counter()
        for _ in range(400):
            draft = renderer.render(_request(taxonomy, d), d, opens=1, gap=gap)
            model.apply(draft, d)
            said.update(_needs_said(draft.finish()[0], needs))
        assert said["session"] and "request" not in said, (gap, said)
        assert bool(said["week"]) == (gap == "next_week"), (gap, said)


def test_a_stray_history_need_fails_by_name(schema: PersonaSchema) -> None:
    lexicon = load_lexicon()
    needs = lexicon["history_needs"]
    for bad, message in (
            ({**needs, "yesterday": ["like you did last time"]}, "history_needs names 'yesterday'; expected one of "
                                                                 "request, earlier, session, week"),
            ({**needs, "week": [*needs["week"], "like the week before"]},
             "history_needs.week names 'like the week before', which is no context_references or ambiguous_rewrites "
             "phrase"),
            ({**needs, "session": [p for p in needs["session"] if p != "similar to last time"]},
             "the context reference 'similar to last time' has no history_needs entry")):
        with pytest.raises(ValueError, match=re.escape(message)):
            NoiseModel(schema, lexicon={**lexicon, "history_needs": bad})
