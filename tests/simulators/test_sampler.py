"""Persona sampling: coherence, partial observability, diversity, determinism."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest
import yaml
from pydantic import ValidationError

from personagym.records import Interest, Persona
from personagym.simulators.persona import PersonaSchema, load_schema
from personagym.simulators.sampler import PersonaSampler, SamplerConfig
from personagym.simulators.taxonomy import DATA_DIR, KINDS_FILE, Taxonomy, TaxonomyError
from personagym.suggest import describe_validation


@pytest.fixture(scope="module")
def sampler(schema: PersonaSchema) -> PersonaSampler:
    return PersonaSampler(schema)


def test_ten_thousand_personas_are_coherent(sampler: PersonaSampler, schema: PersonaSchema) -> None:
    for i in range(10_000):
        p = sampler.sample(i)
        assert not schema.violations(p.attributes, p.interests), (i, schema.violations(p.attributes, p.interests))
        schema.validate_attributes(p.attributes)


def test_rules_bite(schema: PersonaSchema, sampler: PersonaSampler) -> None:
    """The coherence rules are not vacuous: hand-made incoherent personas are caught."""
    assert len(schema.rules) >= 20
    broken = 0
    for (attr, value), others in list(schema.incompatible.items())[:200]:
        other, bad = next(iter(others.items()))
        if schema.attributes[attr].type == "multi" or schema.attributes[other].type == "multi":
            continue
        assert schema.violations({attr: value, other: sorted(bad)[0]})
        broken += 1
    assert broken > 20


def test_constraints_forbid_interests(schema: PersonaSchema, taxonomy) -> None:
    vegan_attr = next(a for a in schema.attributes.values() if a.forbids and "vegan" in a.forbids)
    steak = next(n for n in taxonomy.ids if "beef" in taxonomy.nodes[n].tags)
    from personagym.records import Interest

    problems = schema.violations({vegan_attr.name: "vegan"}, [Interest(node=steak, polarity=1, intensity=0.9)])
    assert problems and "forbids" in problems[0]
    assert not schema.violations({vegan_attr.name: "vegan"}, [Interest(node=steak, polarity=-1, intensity=0.9)])


def test_no_persona_dislikes_a_whole_category_of_everyday_life(sampler: PersonaSampler) -> None:
    """"I despise parenting & family, no exceptions" and "I can't stand food & cooking" are no taste (9 of 919
    dislikes over 300 LongTerm personas were whole categories): a whole category disliked is one a person can
    opt out of ("I can't stand sports"), never one of `NO_WHOLE_DISLIKE`; such a category may still be liked."""
    from personagym.simulators.sampler import NO_WHOLE_DISLIKE

    roots = [(i.node, i.polarity) for seed in range(2000) for i in sampler.sample(seed).interests if "/" not in i.node]
    assert not [node for node, polarity in roots if polarity < 0 and node in NO_WHOLE_DISLIKE]
    assert sum(polarity < 0 for _, polarity in roots) >= 20  # other whole categories are disliked
    assert sum(polarity > 0 and node in NO_WHOLE_DISLIKE for node, polarity in roots) >= 20


def test_partial_observability(sampler: PersonaSampler, schema: PersonaSchema) -> None:
    counts = []
    for i in range(300):
        p = sampler.sample(i)
        assert "query_length_pref" in p.attributes
        styleish = [a for a in p.attributes if schema.attributes[a].role in ("style", "constraint")]
        assert len(styleish) >= 5
        counts.append(len(p.attributes))
    assert min(counts) >= 15 and max(counts) <= 60  # the default cap: PPOpt's 15-of-33 share of 130
    uncapped = PersonaSampler(schema, SamplerConfig(max_attributes=None))
    frac = np.mean([len(uncapped.sample(i).attributes) for i in range(300)]) / len(schema.attributes)
    assert 0.55 < frac < 0.75  # availability 0.7, minus draws blocked by coherence rules
    sparse = PersonaSampler(schema, SamplerConfig(availability=0.1, min_attributes=15, max_attributes=15))
    for i in range(50):
        p = sparse.sample(i)
        assert len(p.attributes) <= 15
        assert sum(schema.attributes[a].role in ("style", "constraint") for a in p.attributes) >= 5


def test_same_seed_same_persona_and_id(sampler: PersonaSampler) -> None:
    a, b = sampler.sample(42), sampler.sample(42)
    assert a == b and a.persona_id == b.persona_id
    assert sampler.sample(43).persona_id != a.persona_id
    assert [p.persona_id for p in sampler.sample_batch(20, seed=5)] == [
        p.persona_id for p in sampler.sample_batch(20, seed=5)
    ]


def test_batch_diversity(schema: PersonaSchema) -> None:
    strict = PersonaSampler(schema, SamplerConfig(availability=0.05, min_attributes=6,
                                                  max_attributes=6, min_hamming=4, max_attempts=200,
                                                  latent_interests=0))
    batch = strict.sample_batch(60, seed=0)
    codes = np.stack([strict._encode(p.attributes) for p in batch])
    dists = [(codes[i] != codes[j]).sum() for i in range(len(batch)) for j in range(i)]
    assert min(dists) >= 4


def test_a_batch_that_cannot_meet_min_hamming_says_so(schema: PersonaSchema) -> None:
    """`personas sample --min-hamming 100` exited 0 with pairs 89 to 97 attributes apart, saying nothing."""
    far = PersonaSampler(schema, SamplerConfig(min_hamming=100, max_attempts=3))
    with pytest.warns(UserWarning, match=r"^2 of 3 personas differ from an earlier one in fewer than min_hamming=100 "
                                         r"attributes \(the closest in \d+\), after 3 draws each"):
        batch = far.sample_batch(3, seed=0)
    assert len(batch) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PersonaSampler(schema, SamplerConfig(min_hamming=3)).sample_batch(20, seed=0)  # met: no warning


def _batch_comparing_with_every_earlier(sampler: PersonaSampler, n: int, seed: int) -> list[str]:
    """The ids of `sample_batch` as it was before `_Neighbours`: each candidate against every earlier code."""
    from personagym.rng import Draws, seed_sequence
    from personagym.simulators.sampler import _UNIFORMS

    codes = np.empty((n, len(sampler._order)), dtype=np.int32)
    ids = []
    for i, child in enumerate(seed_sequence(seed).spawn(n)):
        d = Draws(np.random.Generator(np.random.PCG64(child)), block=512, first=_UNIFORMS)
        best, best_dist = None, -1
        for _ in range(sampler.config.max_attempts):
            attributes, interests = sampler._draw(d)
            code = sampler._encode(attributes)
            dist = int((codes[:i] != code).sum(axis=1).min()) if i else len(code)
            if dist > best_dist:
                best, best_dist = (attributes, interests, code), dist
            if dist >= sampler.config.min_hamming:
                break
        attributes, interests, codes[i] = best  # type: ignore[misc]
        ids.append(sampler._drawn(attributes, interests).persona_id)
    return ids


@pytest.mark.parametrize(("config", "n", "seed"), [
    ({}, 300, 0),
    ({}, 200, 11),
    ({"min_hamming": 40}, 150, 3),
    ({"availability": 0.05, "min_attributes": 6, "max_attributes": 6, "min_hamming": 6, "max_attempts": 20,
      "latent_interests": 0}, 200, 1),  # candidates redrawn, some kept short
])
def test_batch_is_the_one_comparing_with_every_earlier_persona(schema: PersonaSchema, config: dict, n: int,
                                                               seed: int) -> None:
    """Comparing a candidate only with the personas it could be too close to leaves the batch as it was."""
    sampler = PersonaSampler(schema, SamplerConfig(**config))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ids = [p.persona_id for p in sampler.sample_batch(n, seed=seed)]
    assert ids == _batch_comparing_with_every_earlier(sampler, n, seed)


@pytest.mark.parametrize("min_hamming", [3, 25, 45])
def test_every_pair_of_a_batch_is_min_hamming_apart(schema: PersonaSchema, min_hamming: int) -> None:
    sampler = PersonaSampler(schema, SamplerConfig(min_hamming=min_hamming))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batch = sampler.sample_batch(250, seed=min_hamming)
    codes = np.stack([sampler._encode(p.attributes) for p in batch])
    assert min((codes[:i] != codes[i]).sum(axis=1).min() for i in range(1, len(codes))) >= min_hamming
    assert [p.persona_id for p in batch] == [p.persona_id for p in sampler.sample_batch(250, seed=min_hamming)]


@pytest.mark.parametrize("h", [1, 3, 5, 9])
def test_neighbours_find_the_closest_code_exactly_below_h(h: int) -> None:
    """`_Neighbours` by block index, and by scan past 4,096 codes, against a brute force on random codes."""
    from personagym.simulators.sampler import _Neighbours

    rng = np.random.default_rng(h)
    base = rng.integers(-1, 3, size=(40, 12), dtype=np.int32)
    codes = base[rng.integers(0, 40, size=5000)]  # many codes a few attributes from others
    codes[rng.random(codes.shape) < 0.15] = 7
    near = _Neighbours(len(codes), 12, h)
    for i, code in enumerate(codes):
        got = near.closest(code)
        want = int((codes[:i] != code).sum(axis=1).min()) if i else 12
        assert got == want if want < h else got >= h, (i, got, want)
        near.add(code)
    for code in codes[rng.integers(0, len(codes), size=30)] + (rng.random((30, 12)) < 0.2):  # the scan alone
        got, want = near._scan(code), int((codes != code).sum(axis=1).min())
        assert got == want if want < h else got >= h, (got, want)


def test_a_strict_batch_stops_at_the_first_persona_that_falls_short(schema: PersonaSchema) -> None:
    from personagym.simulators.sampler import DiversityError

    far = PersonaSampler(schema, SamplerConfig(min_hamming=130, max_attempts=3))
    done: list[int] = []
    with pytest.raises(DiversityError, match=r"^persona 2 of 100,000 differs from an earlier one in only \d+ "
                                             r"attributes after 3 draws, fewer than min_hamming=130"):
        far.sample_batch(100_000, seed=0, strict=True, progress=done.append)
    assert done == [1]
    ok = PersonaSampler(schema).sample_batch(5, seed=0, strict=True, progress=done.append)
    assert len(ok) == 5 and done == [1, 1, 2, 3, 4, 5]


def test_summary_is_natural_language(sampler: PersonaSampler, taxonomy) -> None:
    p = sampler.sample(7)
    assert isinstance(p, Persona) and len(p.summary) > 40
    assert p.summary.endswith(".")
    liked = [i for i in p.interests if i.polarity > 0]
    if liked:
        assert "I like" in p.summary


def test_a_summary_cares_about_a_concern_rather_than_liking_it(sampler: PersonaSampler, taxonomy) -> None:
    """"I dislike French cuisine and grandparents.": conditions, causes and the news are cared about or not talked
    about, tastes liked or disliked."""
    from personagym.records import Interest

    def interest(name: str, polarity: int) -> Interest:
        return Interest(node=taxonomy.resolve(name), polarity=polarity, intensity=0.8)

    interests = [interest("jazz", 1), interest("climate change", 1), interest("French cuisine", -1),
                 interest("family relationships", -1)]
    assert [taxonomy.kinds[i.node] == "issue" for i in interests] == [False, True, False, True]
    assert sampler.summary({}, interests) == ("I like jazz. I care about climate change. I dislike French cuisine. "
                                              "I'd rather not talk about family relationships.")


def test_a_summary_says_the_before_a_name_that_takes_it(sampler: PersonaSampler, taxonomy) -> None:
    """"I care about housing market.", "I like ... Large Hadron Collider and iPhone." (audited): a name that
    takes "the" as a noun (`Taxonomy.definite`) gets it in the summary as in the user's words."""
    interests = [Interest(node=taxonomy.resolve(name), polarity=polarity, intensity=0.8)
                 for name, polarity in (("Super Bowl", 1), ("jazz", 1), ("housing market", 1),
                                        ("Renaissance era", -1))]
    assert sampler.summary({}, interests) == ("I like the Super Bowl and jazz. I care about the housing market. "
                                              "I dislike the Renaissance era.")


def test_a_summary_is_interested_in_a_war_rather_than_liking_it(sampler: PersonaSampler, taxonomy) -> None:
    """"I like World War II and jazz": a calamity of history (a war, a plague) is of interest or not, as a language
    is, while a period that is none is still liked."""
    interests = [Interest(node=taxonomy.resolve(name), polarity=polarity, intensity=0.8)
                 for name, polarity in (("World War II", 1), ("jazz", 1), ("Renaissance era", 1), ("Black Death", -1))]
    assert sampler.summary({}, interests) == ("I like jazz and the Renaissance era. I'm interested in World War II. "
                                              "I'm not interested in the Black Death.")


def test_a_summary_is_interested_in_a_language_rather_than_liking_it(sampler: PersonaSampler, taxonomy) -> None:
    """"I like Tamil", "I dislike ... Latin" (70 and 9 of 500 summaries): a language (or a family of them) is of
    interest or not, in a sentence of its own, after the tastes."""
    interests = [Interest(node=taxonomy.resolve(name), polarity=polarity, intensity=0.8)
                 for name, polarity in (("Tamil", 1), ("jazz", 1), ("Romance languages", 1), ("Latin", -1),
                                        ("French cuisine", -1))]
    assert sampler.summary({}, interests) == ("I like jazz. I'm interested in Tamil and Romance languages. "
                                              "I dislike French cuisine. I'm not interested in Latin.")


def test_a_summary_says_a_whole_category_as_all_things_in_it(sampler: PersonaSampler, taxonomy) -> None:
    """"I like ... shopping & consumer goods", "I dislike health & medicine" (35 of 500 summaries): a top-level
    category is a broad taste, liked as "all things" in it (without the "the" its name takes as a noun) and not
    talked about when disliked, in one sentence with the concerns."""
    interests = [Interest(node=taxonomy.resolve(name), polarity=polarity, intensity=0.8)
                 for name, polarity in (("shopping & consumer goods", 1), ("performing arts", 1), ("jazz", 1),
                                        ("health & medicine", -1), ("family relationships", -1))]
    assert "performing arts" in taxonomy.definite  # "the performing arts" as a noun, but not after "all things"
    assert sampler.summary({}, interests) == ("I like jazz. I'm into all things shopping & consumer goods and "
                                              "performing arts. I'd rather not talk about health & medicine and "
                                              "family relationships.")


def test_a_summary_follows_the_news_rather_than_liking_it(sampler: PersonaSampler, taxonomy) -> None:
    """"I like the war in Ukraine", "I dislike midterm elections" (20 and 42 of 500 summaries): a news story is
    followed, or not talked about."""
    interests = [Interest(node=taxonomy.resolve(name), polarity=polarity, intensity=0.8)
                 for name, polarity in (("war in Ukraine", 1), ("jazz", 1), ("midterm elections", -1))]
    assert sampler.summary({}, interests) == ("I like jazz. I follow the war in Ukraine. "
                                              "I'd rather not talk about midterm elections.")


def test_sampled_summaries_like_no_language_category_or_news(sampler: PersonaSampler, taxonomy) -> None:
    """In 300 sampled personas (about 100 of them with one of these), every language, top-level category and news
    story they like or dislike is said after its own words, never after a plain "I like" or "I dislike"."""
    from personagym.simulators.taxonomy import ROOT

    said_apart = 0
    for seed in range(300):
        persona = sampler.sample(seed)
        plain = [s for s in persona.summary.split(". ") if s.startswith(("I like ", "I dislike "))]
        for i in persona.interests:
            node = taxonomy.nodes[i.node]
            if node.parent == ROOT or taxonomy.kinds[i.node] in ("language", "news"):
                assert not any(node.name in s.split(" ", 2)[2] for s in plain), (node.name, persona.summary)
                said_apart += node.name in persona.summary
    assert said_apart > 50


def test_a_summary_says_a_drink_had_one_at_a_time_in_the_plural(sampler: PersonaSampler, taxonomy) -> None:
    """"I like mojito", "I dislike latte" (33 of 500 summaries): a cocktail or a coffee drink is said in the plural
    its aliases list ("old fashioneds", "pina coladas"), a drink said as a mass noun (whiskey, tea) as it is."""
    interests = [Interest(node=taxonomy.resolve(name), polarity=polarity, intensity=0.8)
                 for name, polarity in (("mojito", 1), ("old fashioned cocktail", 1), ("whiskey", 1),
                                        ("pina colada", 1), ("latte", -1), ("tea", -1))]
    assert sampler.summary({}, interests) == ("I like mojitos, old fashioneds, whiskey and pina coladas. "
                                              "I dislike lattes and tea.")


@pytest.mark.parametrize(
    ("liked", "disliked"),
    [
        (("cognitive behavioral therapy", "acupuncture"), ("physical therapy",)),  # 26 of 500 summaries
        (("Hajj", "Hanukkah"), ("Easter", "Lent")),  # 7
        (("Hangul", "kanji"), ("Chinese characters",)),  # 3
        (("Sikhism", "anarchism"), ("Reform Judaism", "Wicca")),  # 9
    ],
)
def test_a_summary_is_interested_in_a_therapy_an_observance_a_script_or_a_belief(
        sampler: PersonaSampler, taxonomy, liked: tuple[str, ...], disliked: tuple[str, ...]) -> None:
    """"I like cognitive behavioral therapy", "I like Hajj", "I like Hangul", "I dislike Reform Judaism": a therapy,
    a religious observance, a writing system or a belief is of interest or not, after the tastes, as a language."""
    interests = [Interest(node=taxonomy.resolve(name), polarity=polarity, intensity=0.8)
                 for names, polarity in ((("jazz", *liked), 1), (("hamburgers", *disliked), -1)) for name in names]
    assert sampler.summary({}, interests) == (f"I like jazz. I'm interested in {' and '.join(liked)}. "
                                              f"I dislike hamburgers. I'm not interested in {' and '.join(disliked)}.")


def test_sampled_summaries_say_no_drink_in_the_singular_and_like_no_therapy_observance_script_or_belief(
        sampler: PersonaSampler, taxonomy) -> None:
    """In 300 sampled personas, no cocktail or coffee drink is named in the singular and no therapy, religious
    observance, script or belief after a plain "I like" or "I dislike"; each is still said, in its own words."""
    said_apart = 0
    for seed in range(300):
        persona = sampler.sample(seed)
        plain = [s.split(" ", 2)[2] for s in persona.summary.split(". ") if s.startswith(("I like ", "I dislike "))]
        for i in persona.interests:
            node, kind = taxonomy.nodes[i.node], taxonomy.kinds[i.node]
            if kind == "serving":
                assert not any(re.search(rf"\b{re.escape(node.name)}\b(?!s)", s) for s in plain), persona.summary
                said_apart += re.search(rf"\b{re.escape(node.name)}s\b", persona.summary) is not None
            elif kind in ("therapy", "observance", "script", "belief"):
                assert not any(node.name in s for s in plain), (node.name, persona.summary)
                said_apart += node.name in persona.summary
    assert said_apart > 20


def test_a_drink_had_one_at_a_time_without_a_plural_is_refused() -> None:
    """The summary says a serving in the plural its aliases list; a node of that kind without one is an error that
    names it, not a summary that says "I like cold brews" made up or "I like cold brew" after all."""
    kinds = json.loads((DATA_DIR / KINDS_FILE).read_text(encoding="utf-8"))["nodes"]
    kinds["drinks_beverages/hot_drinks/coffee/cold_brew"] = "serving"  # aliases: cold-brew coffee, cold brew coffee
    taxonomy = Taxonomy.from_files(sorted(DATA_DIR.glob("*.txt")), kinds)
    with pytest.raises(TaxonomyError, match=r"'drinks_beverages/hot_drinks/coffee/cold_brew' \('cold brew'\) is of "
                                            r"the kind serving but lists no plural among its aliases"):
        PersonaSampler(load_schema(taxonomy=taxonomy))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"availability": 1.5}, "availability"),
        ({"min_attributes": 20, "max_attributes": 10}, "max_attributes .10. must be >= min_attributes"),
        ({"availabilty": 0.5}, "availabilty"),
    ],
)
def test_bad_sampler_config(kwargs: dict, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        SamplerConfig(**kwargs)


def test_unknown_required_attribute(schema: PersonaSchema) -> None:
    expected = r"unknown persona attribute 'query_lenght_pref' \(did you mean 'query_length_pref'\?\)"
    with pytest.raises(ValueError, match=expected):
        PersonaSampler(schema, SamplerConfig(required=["query_lenght_pref"]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_hamming": True}, "min_hamming: expected an integer, not a bool (got True)"),
        ({"min_hamming": "3"}, "min_hamming: expected an integer, not a string (got '3')"),
        ({"min_hamming": 3.5}, "min_hamming: expected an integer, not a float (got 3.5)"),
        ({"max_attributes": False}, "max_attributes: expected an integer, not a bool (got False)"),
        ({"availability": True}, "availability: expected a number, not a bool (got True)"),
        ({"availability": "0.5"}, "availability: expected a number, not a string (got '0.5')"),
    ],
)
def test_numeric_sampler_fields_refuse_bools_strings_and_fractions(kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        SamplerConfig(**kwargs)
    assert describe_validation(info.value) == message


def test_sampler_config_takes_ints_numpy_numbers_and_yaml() -> None:
    config = SamplerConfig(availability=1, min_hamming=np.int64(4), specificity=np.float32(0.25))
    assert (config.availability, config.min_hamming, config.specificity) == (1.0, 4, 0.25)
    assert type(config.min_hamming) is int
    assert SamplerConfig(**yaml.safe_load("availability: 0.5\nmax_attributes: null\nmin_hamming: 2\n")) == \
        SamplerConfig(availability=0.5, max_attributes=None, min_hamming=2)
    assert SamplerConfig.model_validate_json(config.model_dump_json()) == config


def test_more_required_attributes_than_the_cap_is_refused(schema: PersonaSchema) -> None:
    """The cap would otherwise silently drop required attributes (16 required, 15 kept)."""
    names = [a for a in schema.attributes if schema.attributes[a].type != "taxonomy"][:16]
    with pytest.raises(ValidationError, match=r"required names 16 attributes, more than max_attributes \(15\)"):
        SamplerConfig(required=names, min_attributes=15, max_attributes=15)
    fits = PersonaSampler(schema, SamplerConfig(required=names, min_attributes=16, max_attributes=16))
    assert all(set(names) <= set(p.attributes) for p in fits.sample_batch(5, seed=0))


def test_audited_incoherent_personas_are_ruled_out(schema: PersonaSchema) -> None:
    """78 of 1,504 audited personas contradicted themselves ("I'm under 18" from someone early in their career,
    "I'm retired age, over sixty" from someone expecting a child)."""
    for attributes in ({"age_band": "u18", "life_stage": "early_career"},
                       {"life_stage": "retired", "children": "young_children"},
                       {"employment_status": "retired", "age_band": "3544"},
                       {"age_band": "60p", "children": "expecting"},
                       {"life_stage": "parent_of_young", "children": "teenagers"}):
        assert schema.violations(attributes), attributes
    assert not schema.violations({"life_stage": "retired", "children": "adult_children", "age_band": "60p"})


def test_personas_that_say_both_sides_are_ruled_out(schema: PersonaSchema, sampler: PersonaSampler) -> None:
    """About 50 of 1,000 audited persona summaries contradicted themselves: "I live alone. I have teenagers.",
    "I run my own startup. I'm between jobs right now.", "I'm single. We're expecting a baby."."""
    for attributes in ({"household": "lives_alone", "children": "teenagers"},
                       {"role": "founder", "employment_status": "unemployed"},
                       {"relationship_status": "single", "children": "expecting"},
                       {"household": "with_partner", "relationship_status": "single"}):
        assert schema.violations(attributes), attributes
    assert not schema.violations({"household": "lives_alone", "children": "adult_children"})
    for i in range(2000):
        summary = sampler.sample(i).summary.lower()
        assert not ("i live alone" in summary and "teenagers" in summary), summary
        assert not ("i'm single" in summary and "we're expecting" in summary), summary


#: Parenting stage -> the `children` values a persona who likes it can have (the schema's rules on interests).
_STAGE_CHILDREN = {"pregnancy": {"expecting"}, "newborn_care": {"expecting", "young_children"},
                   "toddlerhood": {"young_children"}, "school_age_kids": {"school_age"}, "teenagers": {"teenagers"},
                   "empty_nest": {"adult_children"}}


def test_a_sampled_persona_likes_no_parenting_stage_its_life_rules_out(sampler: PersonaSampler) -> None:
    """Unchecked, 6 of 12 liked parenting stages in 600 personas contradicted the persona (pregnancy with young
    children, a 60-year-old's toddlerhood with grown ones), and 2% of personas were minors who drink."""
    under = "parenting_family/parenting_stages/"
    for seed in range(600):
        persona = sampler.sample(seed)
        attributes = persona.attributes
        minor = attributes.get("age_band") == "u18"
        assert not (minor and attributes.get("alcohol_stance") in ("drinks", "occasional")), seed
        for interest in persona.interests:
            if interest.polarity > 0 and interest.node.startswith(under):
                stage = interest.node[len(under):].split("/")[0]
                assert not minor, (seed, interest.node)
                assert attributes.get("children", next(iter(_STAGE_CHILDREN[stage]))) in _STAGE_CHILDREN[stage], \
                    (seed, interest.node, attributes.get("children"))


def test_a_rule_on_interests_is_met_by_a_value_the_persona_has_or_could_have(schema: PersonaSchema) -> None:
    """A persona who does not say whether they have children may like college planning, unless what it does
    say rules teenagers out by the rules on attributes (a 20-year-old has none); a like under the rule counts."""
    from personagym.records import Interest

    planning = Interest(node="parenting_family/parenting_stages/teenagers/college_planning", polarity=1,
                        intensity=0.8)
    assert not schema.violations({"age_band": "4560"}, [planning])
    assert not schema.violations({"children": "teenagers"}, [planning])
    assert not schema.violations({"children": "none"}, [planning.model_copy(update={"polarity": -1})])
    for attributes in ({"age_band": "1824"}, {"children": "young_children"}, {"household": "lives_alone"}):
        assert any("likes_teenagers" in p for p in schema.violations(attributes, [planning])), attributes


def test_unfit_interests_check_each_rule_on_what_the_persona_has_or_could_have(schema: PersonaSchema) -> None:
    """What an attribute has or could have is worked out once per call and shared by the rules that require it:
    the nodes are those whose rule, checked on its own, no stated value meets nor, unstated, a value the
    persona could have (sampled personas, with some attributes left unsaid)."""
    rng = np.random.default_rng(3)
    teenagers = "parenting_family/parenting_stages/teenagers"
    assert teenagers in schema.unfit_interests({"age_band": "1824"})
    assert teenagers not in schema.unfit_interests({"age_band": "4560"})
    assert teenagers not in schema.unfit_interests({"children": ["teenagers", "adult_children"]})
    for persona in PersonaSampler(schema).sample_batch(200, seed=4):
        attributes = {k: v for k, v in persona.attributes.items() if rng.random() < 0.6}
        expected = set()
        for node, rule in schema.like_rules.items():
            for name, allowed in rule.require.items():
                current = attributes.get(name)
                if current is None:
                    met = any(schema.could_have(attributes, name, v) for v in allowed)
                else:
                    met = not allowed.isdisjoint(current if isinstance(current, list) else (current,))
                if not met:
                    expected.add(node)
                    break
        assert schema.unfit_interests(attributes) == expected, attributes


def test_a_bad_rule_on_interests_is_named(schema: PersonaSchema) -> None:
    from personagym.simulators.persona import PersonaSchema as Schema
    from personagym.simulators.persona import SchemaError

    raw = {**schema.raw, "rules": [{"id": "r", "if_likes": "Parenting & Family/Parenting Styles",
                                    "require": {"children": ["twins"]}}]}
    with pytest.raises(SchemaError, match="rule 'r': 'children' has no value 'twins'"):
        Schema(raw, schema.taxonomy)
    raw["rules"] = [{"id": "r", "if_likes": "Parenting & Family/Parenting Styles",
                     "require": {"favorite_cuisine": ["food_cooking/cuisines"]}}]
    with pytest.raises(SchemaError, match="'require' names the interest attribute 'favorite_cuisine'"):
        Schema(raw, schema.taxonomy)
    raw["rules"] = [{"id": "r", "if_likes": "Parenting & Family/Parenting Styles"}]
    with pytest.raises(SchemaError, match="rule 'r': 'if_likes' needs a 'require'"):
        Schema(raw, schema.taxonomy)


#: Attribute combinations a 3,000-persona audit found and no real person has, with how many personas had each.
_AUDITED_CONTRADICTIONS = [
    {"employment_status": "retired", "team_role": "manager"},  # 31: "I'm retired. I manage a team."
    {"employment_status": "unemployed", "seniority": "lead"},  # 64: "I'm between jobs right now. I'm a team lead."
    {"employment_status": "student", "seniority": "director_plus"},  # 61
    {"seniority": "intern", "team_role": "team_lead"},  # 50
    {"life_stage": "retired", "employment_status": "employed_full_time"},  # 21
    {"life_stage": "retired", "team_role": "manager"},  # 77 in retirement leading a team
    {"life_stage": "empty_nester", "children": "teenagers"},  # 30
    {"age_band": "u18", "housing": "renter"},  # 40: "I'm still in high school. I rent my place."
    {"age_band": "u18", "household": "with_roommates"},  # 37
    {"age_band": "u18", "work_arrangement": "onsite"},  # 83 with a workplace: "I go into the office every day"
    {"age_band": "u18", "specialization": "growth_pm"},  # 100
    {"age_band": "60p", "children": "young_children"},  # 14: "I'm retired age, over sixty. I have little kids."
    {"relationship_status": "married", "household": "lives_alone"},  # 56: "I'm married. I live alone."
    {"housing": "student_housing", "age_band": "60p"},  # 121 in student housing long past their studies
    {"field_of_study": "none", "education_level": "phd"},  # 20
    {"vision": "blind", "transport_access": "car"},  # 85: "I'm blind and use a screen reader. I have a car."
    {"region": "western_europe", "climate": "tropical"},  # 79 with a climate their region does not have
    {"native_language": "german", "other_languages": ["german"]},  # 28
    {"native_language": "hindi", "response_language": "japanese"},  # 430 wanting answers in a language they lack
    # 320 audited conversations: a student with a senior post, a long career early in one, a junior leading a team
    {"life_stage": "student", "seniority": "director_plus"},  # 91 of 4,000 sampled: a student leading or senior
    {"life_stage": "student", "currently_studying": "no"},  # 70 at the student stage not studying
    {"life_stage": "early_career", "years_experience": "15p"},  # 30 early in a career of fifteen years and more
    {"life_stage": "early_career", "team_role": "executive"},
    {"seniority": "junior", "team_role": "manager"},  # 68 juniors managing or leading a team
    {"life_stage": "parent_of_young", "household": "lives_alone"},  # 17 raising little ones alone or with roommates
]


@pytest.mark.parametrize("attributes", _AUDITED_CONTRADICTIONS, ids=lambda a: "+".join(map(str, a.values())))
def test_audited_contradictions_are_ruled_out(schema: PersonaSchema, attributes: dict) -> None:
    assert schema.violations(attributes), attributes


def test_rules_leave_the_ordinary_combinations_alone(schema: PersonaSchema) -> None:
    """The new rules do not overreach: a retiree with grown children, a Hindi speaker who wants English
    answers, a blind user on public transit, a teenager studying at home."""
    for attributes in ({"employment_status": "retired", "children": "adult_children", "age_band": "60p"},
                       {"native_language": "hindi", "other_languages": ["english"], "response_language": "english"},
                       {"native_language": "hindi", "response_language": "hindi"},
                       {"vision": "blind", "transport_access": "public_transit"},
                       {"age_band": "u18", "household": "with_family", "currently_studying": "full_time"},
                       {"relationship_status": "married", "household": "with_family"}):
        assert not schema.violations(attributes), attributes


@pytest.mark.parametrize(("attribute", "value", "liked"), [
    ("vision", "blind", "visual_arts_design/art_forms/painting/watercolor"),  # 194 of 3,000 audited
    ("hearing", "deaf", "music/music_genres/jazz/bebop"),  # 214
    ("mobility", "wheelchair_user", "sports/individual_sports/running_athletics/jogging"),  # 198 liked a
    ("mobility", "limited_mobility", "sports/individual_sports/climbing"),  # pastime their body rules out
])
def test_senses_and_mobility_rule_out_pastimes_that_need_them(schema: PersonaSchema, attribute: str, value: str,
                                                              liked: str) -> None:
    like = Interest(node=liked, polarity=1, intensity=0.8)
    assert schema.violations({attribute: value}, [like])
    assert not schema.violations({attribute: value}, [Interest(node=liked, polarity=-1, intensity=0.8)])


def test_blind_personas_may_still_love_sculpture(schema: PersonaSchema) -> None:
    """Touch is how a blind person meets sculpture: it is no sight-only art form."""
    carving = Interest(node="visual_arts_design/art_forms/sculpture/wood_carving", polarity=1, intensity=0.8)
    assert not schema.violations({"vision": "blind"}, [carving])


def test_sampled_personas_answer_in_a_language_they_speak(sampler: PersonaSampler) -> None:
    """A persona with a known first language wants answers in it or in English, and never lists it twice."""
    seen = 0
    for i in range(1500):
        attrs = sampler.sample(i).attributes
        native = attrs.get("native_language")
        if native in (None, "other"):
            continue
        seen += 1
        assert attrs.get("response_language", native) in (native, "english"), attrs
        assert native not in attrs.get("other_languages", []), attrs
    assert seen > 500


@pytest.mark.parametrize(("attributes", "liked", "allowed"), [
    ({"children": "none"}, "parenting_family/family_activities/playground_outings/playdates", False),
    ({"children": "teenagers"}, "parenting_family/family_activities/arts_crafts_with_kids", False),
    ({"children": "adult_children"}, "parenting_family/family_activities/baking_with_kids", True),  # grandkids
    ({"religious_observance": "none"}, "religion_spirituality/spiritual_practices/prayer/contemplative_prayer", False),
    ({"religious_observance": "none"}, "religion_spirituality/spiritual_practices/religious_fasting", False),
    ({"religious_observance": "light"}, "religion_spirituality/spiritual_practices/prayer", True),
])
def test_family_activities_with_kids_need_kids_and_prayer_a_faith(schema: PersonaSchema, attributes: dict,
                                                                  liked: str, allowed: bool) -> None:
    """10 of 3,000 sampled personas liked playdates with no young children, or a rosary or Yom Kippur with no
    religious observance."""
    problems = schema.violations(attributes, [Interest(node=liked, polarity=1, intensity=0.8)])
    assert (not problems) == allowed, problems


#: Pairs of statements a 2,000-persona summary audit found in one persona, with how many personas said each.
_SAID_BOTH = [
    {"age_band": "u18", "education_level": "high_school"},  # 33: "I'm still in high school. I finished high school."
    {"age_band": "u18", "currently_studying": "part_time"},  # 40: "... I'm taking classes part-time."
    {"age_band": "60p", "children": "school_age"},  # 14 over sixty with school-age or younger kids
    {"employment_status": "retired", "children": "school_age"},  # 16: "My kids are in school. I'm retired."
    {"age_band": "1824", "children": "school_age"},  # "I'm in my early twenties. My kids are in school."
    {"household": "with_roommates", "children": "young_children"},  # 40 with roommates and children at home
    {"employment_status": "freelancer", "seniority": "manager"},  # 22: "I manage a team. I freelance."
    {"employment_status": "freelancer", "seniority": "intern"},  # "I'm an intern. I freelance."
    {"currently_studying": "full_time", "team_role": "manager"},  # 42 full-time students leading a team
    {"currently_studying": "full_time", "work_arrangement": "onsite"},  # 37: "... I go into the office every day."
    {"role": "student", "work_arrangement": "onsite"},  # 5: "I'm a student. I go into the office every day."
    {"employment_status": "retired", "role": "teacher"},  # 29: "I'm retired. I'm a teacher."
    {"employment_status": "unemployed", "availability_schedule": "irregular"},  # 5: "I'm between jobs. I work shifts"
    {"age_band": "4560", "seniority": "intern"},  # 13: "I'm in my fifties. I'm an intern."
    {"age_band": "4560", "children": "expecting"},  # 9, which the expecting life event already rules out
    {"role": "founder", "seniority": "intern"},  # 3: "I run my own startup. I'm an intern."
    {"mobility": "limited_mobility", "transport_access": "walk_bike_only"},  # 48
    {"vision": "blind", "transport_access": "walk_bike_only"},  # 53: "I'm blind ... I only walk or bike everywhere."
    {"availability_schedule": "very_busy", "free_time_per_week": "over_10h"},  # 16
    {"travel_flexibility": "flexible", "availability_schedule": "evenings_only"},  # 102 who "can travel whenever"
    {"travel_flexibility": "flexible", "free_time_per_week": "under_2h"},
    {"tone_pref": "concise", "length_pref": "exhaustive"},  # 13
    {"jargon_tolerance": "avoid", "reading_level_pref": "advanced"},  # 115 wanting it plain yet technical
    {"reading_accessibility": "plain_language", "jargon_tolerance": "fine"},
    {"reading_level_pref": "simple", "jargon_tolerance": "fine"},  # 45
    {"tech_proficiency": "beginner", "reading_level_pref": "advanced"},  # 48
    {"tone_pref": "playful", "humor_pref": "none"},  # 15
    {"tone_pref": "blunt", "feedback_style": "gentle_suggestion"},  # 12
    {"tone_pref": "empathetic", "empathy_pref": "low"},  # 13
    {"deliverable_type": "answer_only", "explanation_depth": "full_reasoning"},  # 18
    {"numeracy": "low", "decision_style": "analytical"},  # 49
    {"tone_pref": "formal", "humor_pref": "playful"},  # 15
    # 2,000 sampled personas (seed 3), read from their attribute values
    {"currently_studying": "full_time", "employment_status": "retired"},  # 5: "I'm a full-time student. I'm retired."
    {"religious_restrictions": ["no_gambling"], "gambling_stance": "fine_with_it"},  # 26
    {"deliverable_type": "answer_only", "length_pref": "exhaustive"},  # 2: "... I want everything, the longer ..."
]


@pytest.mark.parametrize("attributes", _SAID_BOTH, ids=lambda a: "+".join(map(str, a.values())))
def test_statements_that_contradict_each_other_are_ruled_out(schema: PersonaSchema, attributes: dict) -> None:
    assert schema.violations(attributes), attributes


def test_the_new_rules_leave_the_merely_unusual_alone(schema: PersonaSchema) -> None:
    """A retiree with teenagers, a sixty-year-old with a teenager, grown children with roommates, a full-time
    student with a remote part-time job, a self-employed manager, a knee problem and a car."""
    for attributes in ({"employment_status": "retired", "children": "teenagers", "age_band": "4560"},
                       {"age_band": "60p", "children": "teenagers"},
                       {"household": "with_roommates", "children": "adult_children"},
                       {"currently_studying": "full_time", "employment_status": "part_time",
                        "work_arrangement": "remote"},
                       {"employment_status": "self_employed", "team_role": "manager", "seniority": "manager"},
                       {"mobility": "limited_mobility", "transport_access": "car"},
                       {"tone_pref": "concise", "length_pref": "standard"},
                       {"employment_status": "unemployed", "role": "teacher"},
                       {"life_stage": "student", "employment_status": "part_time", "seniority": "junior"},
                       {"life_stage": "early_career", "years_experience": "3_7", "team_role": "team_lead"}):
        assert not schema.violations(attributes), attributes


def test_pairs_that_only_read_oddly_stay_allowed(schema: PersonaSchema) -> None:
    """Pairs a reader of 500 summaries flagged that a real person can hold: an omnivore with a food allergy,
    celiac included ("I eat pretty much everything. I'm celiac."; a rule would also stop the new-allergy life
    event for omnivores), five free evenings or a free weekend that add up to more than ten hours, a well-off
    person who spends little, a homeowner who lets rooms, a retiree studying part-time, one whose religion bans
    gambling and who avoids it.  What clashes there is the wording, not the persona."""
    for attributes in ({"diet": "omnivore", "food_allergies": ["gluten"]},
                       {"diet": "omnivore", "food_allergies": ["peanut", "dairy"]},
                       {"availability_schedule": "evenings_only", "free_time_per_week": "over_10h"},
                       {"availability_schedule": "weekends_only", "free_time_per_week": "over_10h"},
                       {"budget_level": "comfortable", "spending_style": "frugal"},
                       {"household": "with_roommates", "housing": "homeowner"},
                       {"currently_studying": "part_time", "employment_status": "retired"},
                       {"religious_restrictions": ["no_gambling"], "gambling_stance": "avoids"},
                       {"deliverable_type": "answer_only", "length_pref": "detailed"}):
        assert not schema.violations(attributes), attributes


def test_sampled_personas_hold_none_of_the_newly_ruled_out_pairs(sampler: PersonaSampler) -> None:
    """Over 3,000 seeds no persona is a retired full-time student, fine with the gambling its religion bans, or
    wants just the answer at the greatest length (8, 26 and 5 did before the rules), while each value alone is
    still drawn: the rules rule out the pair, not the values."""
    pairs = [("currently_studying", "full_time", "employment_status", "retired"),
             ("religious_restrictions", "no_gambling", "gambling_stance", "fine_with_it"),
             ("deliverable_type", "answer_only", "length_pref", "exhaustive")]
    personas = [sampler.sample(i).attributes for i in range(3000)]

    def holds(attributes: dict, name: str, value: str) -> bool:
        held = attributes.get(name)
        return value in held if isinstance(held, list) else held == value

    for a, va, b, vb in pairs:
        assert not [p for p in personas if holds(p, a, va) and holds(p, b, vb)], (a, va, b, vb)
        assert sum(holds(p, a, va) for p in personas) > 30 and sum(holds(p, b, vb) for p in personas) > 30


def test_no_value_rules_out_a_whole_attribute_drawn_before_it(schema: PersonaSchema,
                                                              sampler: PersonaSampler) -> None:
    """Retirees were 0.7% of personas (1.6% of those stating an employment status, 1 in 8 uniform): role and
    seniority were drawn before employment status, and "retired" rules out every value of both, so a retiree
    needed both absent; "unemployed", which rules out every seniority, was halved."""
    order = {name: i for i, name in enumerate(schema.attributes)}
    late = [(name, value, other) for (name, value), others in schema.incompatible.items()
            for other, bad in others.items()
            if schema.attributes[other].type != "taxonomy" and set(schema.attributes[other].values) <= bad
            and order[other] < order[name]]
    assert not late, late
    statuses = [s for i in range(2000) if (s := sampler.sample(i).attributes.get("employment_status"))]
    assert statuses.count("retired") / len(statuses) > 0.05


def test_an_age_band_is_said_as_an_age(schema: PersonaSchema) -> None:
    """"I'm retired age, over sixty." claimed a retirement the persona need not have (105 of 2,000 audited
    personas then said they work or study), and "I'm still in high school." a schooling."""
    for value, phrases in schema.attributes["age_band"].phrases.items():
        for phrase in phrases:
            assert not any(word in phrase for word in ("retire", "school", "student")), (value, phrase)


def _shares(personas: list[Persona], attribute: str, when: dict | None = None) -> dict[str, float]:
    """Each value's share among the personas that state `attribute` (and every attribute=value of `when`)."""
    said = [p.attributes[attribute] for p in personas if attribute in p.attributes
            and all(p.attributes.get(k) == v for k, v in (when or {}).items())]
    return {v: said.count(v) / len(said) for v in set(said)} if said else {}


def test_values_are_as_common_as_in_a_population(schema: PersonaSchema) -> None:
    """With every value equally likely, 15% of personas were blind, 15% deaf, 15% wheelchair users (67% had one
    of the three), a quarter nonbinary, 14% held a PhD, 70% of the over-sixties studied and a retiree was 1 in
    60: the schema's weights and weight rules make a persona population look like one; `value_weights="uniform"`
    keeps the old draws for who wants every value alike."""
    weighted = [PersonaSampler(schema).sample(i) for i in range(3000)]
    uniform = [PersonaSampler(schema, SamplerConfig(value_weights="uniform")).sample(i) for i in range(3000)]
    for attribute, value, most in [("vision", "blind", 0.05), ("hearing", "deaf", 0.05), ("diet", "vegan", 0.06),
                                   ("mobility", "wheelchair_user", 0.05), ("gender_identity", "nonbinary", 0.05),
                                   ("education_level", "phd", 0.08)]:
        assert _shares(weighted, attribute).get(value, 0) < most < _shares(uniform, attribute)[value], value
    over_sixty = {"age_band": "60p"}
    assert _shares(weighted, "employment_status", over_sixty)["retired"] > 0.5
    assert _shares(weighted, "currently_studying", over_sixty).get("full_time", 0) < 0.05
    assert _shares(weighted, "children", {"age_band": "1824"})["none"] > 0.75
    assert _shares(weighted, "life_stage", {"employment_status": "retired"})["retired"] > 0.7
    assert 0.08 < _shares(weighted, "employment_status")["retired"] < 0.2  # age unstated: the marginal
    assert not [p for p in weighted if schema.violations(p.attributes, p.interests)]


def _holding(personas: list[Persona], attribute: str, value: str, when: dict | None = None) -> float:
    """The share of the personas stating the multi-valued `attribute` (and every attribute=value of `when`) who
    hold `value`."""
    said = [p.attributes[attribute] for p in personas if attribute in p.attributes
            and all(p.attributes.get(k) == v for k, v in (when or {}).items())]
    return sum(value in items for items in said) / len(said)


def test_multi_valued_values_are_as_common_as_their_shares(schema: PersonaSchema) -> None:
    """Drawn as a count and then values alike, 41% of the personas stating their food allergies had one (as many
    allergic to soy as to dairy), a reptile was as common as a dog, 8% of non-native English speakers spoke
    English, and the Middle East kept no pork as seldom as North America: each value now comes with its share
    of people, which the region's and the observance's weight rules scale."""
    weighted = [PersonaSampler(schema).sample(i) for i in range(3000)]
    uniform = [PersonaSampler(schema, SamplerConfig(value_weights="uniform")).sample(i) for i in range(3000)]

    def allergic(personas: list[Persona]) -> float:
        said = [p.attributes["food_allergies"] for p in personas if "food_allergies" in p.attributes]
        return sum(bool(items) for items in said) / len(said)

    assert 0.12 < allergic(weighted) < 0.3 < 0.35 < allergic(uniform)
    assert _holding(weighted, "food_allergies", "dairy") > 3 * _holding(weighted, "food_allergies", "soy")
    assert _holding(weighted, "pets_owned", "dog") > 5 * _holding(weighted, "pets_owned", "reptile")
    foreign = [p for p in weighted if p.attributes.get("native_language") not in (None, "english")]
    assert _holding(foreign, "other_languages", "english") > 0.3
    assert _holding(weighted, "religious_restrictions", "no_pork", {"region": "middle_east"}) > 3 * _holding(
        weighted, "religious_restrictions", "no_pork", {"region": "north_america"})
    assert _holding(weighted, "religious_restrictions", "no_beef", {"region": "south_asia"}) > 0.2
    assert all(len(p.attributes.get(a, ())) <= schema.attributes[a].max_items for p in weighted
               for a in ("pets_owned", "other_languages", "food_allergies", "religious_restrictions"))
    assert not [p for p in weighted if schema.violations(p.attributes, p.interests)]


def test_a_multi_valued_value_scales_what_is_drawn_after_it(schema: PersonaSchema) -> None:
    """A weight rule may read a multi-valued attribute: each value drawn applies its rule (here a gluten allergy
    makes nearly everyone who states their drinking abstain)."""
    import copy

    from personagym.simulators.persona import PersonaSchema as Schema

    raw = copy.deepcopy(schema.raw)
    raw["weight_rules"] = [{"id": "w", "if": {"food_allergies": ["gluten"]},
                            "scale": {"alcohol_stance": {"abstains": 10_000}}}]
    sampler = PersonaSampler(Schema(raw, schema.taxonomy))
    personas = [sampler.sample(i) for i in range(3000)]
    gluten = [p for p in personas if "gluten" in p.attributes.get("food_allergies", ())]
    stances = [p.attributes["alcohol_stance"] for p in gluten if "alcohol_stance" in p.attributes]
    others = [p.attributes.get("alcohol_stance") for p in personas if p not in gluten]
    assert len(stances) >= 20 and set(stances) == {"abstains"}
    assert others.count("abstains") < 0.5 * sum(s is not None for s in others)


def test_odds_of_zero_and_one_pick_as_a_uniform_draw_does() -> None:
    """A sampler without weights draws exactly as before they existed: the k-th allowed value for u in
    [k/n, (k+1)/n)."""
    from personagym.simulators.sampler import _weighted_index

    odds = [1.0, 0.0, 1.0, 1.0, 0.0]
    allowed = [0, 2, 3]
    for u in np.linspace(0, 1, 200, endpoint=False):
        assert _weighted_index(odds, float(u)) == allowed[int(u * len(allowed))]
    assert _weighted_index([0.0, 0.0], 0.5) is None
    assert _weighted_index([1.0, 3.0], 0.2) == 0 and _weighted_index([1.0, 3.0], 0.3) == 1


_ALLERGIES = ("peanut", "tree_nut", "shellfish", "dairy", "gluten", "egg", "soy", "fish")


@pytest.mark.parametrize(("attributes", "rule", "message"), [
    ({"vision": {"weights": {"typical": 9, "low_vision": 1}}}, None,
     r"attribute 'vision': weights must give each of \['typical', 'low_vision', 'blind'\] a weight"),
    ({"vision": {"weights": {"typical": 9, "low_vision": 1, "blind": 0}}}, None,
     r"weights\['blind'\] = 0; expected a positive"),
    ({"vision": {"weights": {"typical": 9, "low_vision": 1, "blind": True}}}, None,
     r"weights\['blind'\] = True; expected a posit"),
    ({"food_allergies": {"weights": dict.fromkeys(_ALLERGIES, 1)}}, None,
     r"attribute 'food_allergies': weights are for categorical attributes, got type 'multi'"),
    ({"vision": {"shares": {"typical": 0.9, "low_vision": 0.06, "blind": 0.02}}}, None,
     r"attribute 'vision': shares are for multi-valued attributes \(categorical ones take weights\)"),
    ({"food_allergies": {"shares": dict.fromkeys(_ALLERGIES[:-1], 0.1)}}, None,
     r"attribute 'food_allergies': shares must give each of \['peanut', .*'fish'\] a share"),
    ({"food_allergies": {"shares": dict.fromkeys(_ALLERGIES, 1)}}, None,
     r"shares\['peanut'\] = 1; expected a number between 0 and 1 \(the share of people with the value\)"),
    ({"food_allergies": {"shares": dict.fromkeys(_ALLERGIES, 0)}}, None, r"shares\['peanut'\] = 0; expected"),
    ({}, {"if": {"vision": ["blind"]}, "scale": {"age_band": {"60p": 2}}},
     r"weight rule 'w': scales 'age_band'; expected a categorical attribute, or a multi-valued one with shares, "
     r"that the schema lists after 'vision'"),
    ({}, {"if": {"age_band": ["60p"]}, "scale": {"vision": {"blnd": 2}}},
     r"weight rule 'w': 'vision' has no value 'blnd' \(did you mean 'blind'\?\)"),
    ({}, {"if": {"age_band": ["60p"]}, "scale": {"vision": {"blind": 0}}},
     r"scale\['vision'\]\['blind'\] = 0; expected a positive finite number \(a rule's 'forbid' rules a value out\)"),
    ({}, {"if": {"age_band": ["old"]}, "scale": {"vision": {"blind": 2}}}, r"'age_band' has no value 'old'"),
    ({"pets_owned": {"shares": None}}, {"if": {"age_band": ["60p"]}, "scale": {"pets_owned": {"dog": 2}}},
     r"scales 'pets_owned'; expect"),
])
def test_a_bad_weight_is_named(schema: PersonaSchema, attributes: dict[str, dict], rule: dict | None,
                               message: str) -> None:
    """A bad weight, share or weight rule is refused by name (`None` removes a key from the attribute)."""
    import copy

    from personagym.simulators.persona import PersonaSchema as Schema
    from personagym.simulators.persona import SchemaError

    raw = copy.deepcopy(schema.raw)
    for name, changes in attributes.items():
        spec = next(a for t in raw["tiers"] for c in t["categories"] for a in c["attributes"] if a["name"] == name)
        for key, value in changes.items():
            if value is None:
                del spec[key]
            else:
                spec[key] = value
    if rule is not None:
        raw["weight_rules"] = [{"id": "w", **rule}]
    with pytest.raises(SchemaError, match=message):
        Schema(raw, schema.taxonomy)


def test_the_schema_lists_its_weights(schema: PersonaSchema) -> None:
    data = schema.as_data()
    vision = next(a for t in data["tiers"] for c in t["categories"] for a in c["attributes"] if a["name"] == "vision")
    assert vision["weights"] == {"typical": 92, "low_vision": 6, "blind": 2}
    allergies = next(a for t in data["tiers"] for c in t["categories"] for a in c["attributes"]
                     if a["name"] == "food_allergies")
    assert allergies["shares"]["dairy"] == 0.07 and "weights" not in allergies
    assert {r["id"] for r in data["weight_rules"]} >= {"over_sixty_retire", "minors_study"}
