"""Drafts: joining segments, tidying, and exact PKI spans."""

from __future__ import annotations

from personagym.records import PKI
from personagym.simulators.draft import Draft


def _pki(key: str) -> PKI:
    return PKI(kind="interest", key=key)


def test_spans_survive_tidying() -> None:
    d = Draft()
    d.plain("can you recommend ")
    d.slot("quantity", "")
    d.plain(" albums of ")
    d.entity("Bebop", _pki("bebop"))
    d.plain(" ,  please ?")
    text, pkis = d.finish()
    assert text == "Can you recommend albums of Bebop, please?"
    assert text[pkis[0].start:pkis[0].end] == "Bebop" == pkis[0].evidence


def test_removed_entity_drops_its_pki_and_sentences_are_capitalised() -> None:
    d = Draft()
    d.entity("i'm vegan", _pki("diet"))
    d.plain(". thanks! ")
    d.entity("jazz", _pki("jazz"))
    d.segments[0].text = ""
    text, pkis = d.finish()
    assert text == ". Thanks! Jazz"
    assert [p.key for p in pkis] == ["jazz"] and pkis[0].evidence == "Jazz"


def test_the_article_before_an_entity_agrees_with_it() -> None:
    """A template's "a {topic}" becomes "an" before a vowel, and the entity's span moves with it."""
    d = Draft()
    d.plain("Suggest a dessert that fits a ")
    d.entity("Energy Drinks", _pki("energy_drinks"))
    d.plain(" theme, or an ")
    d.entity("Cocktails", _pki("cocktails"))
    d.plain(" night for Panama ")
    d.entity("Oysters", _pki("oysters"))
    d.plain(" and a ")
    d.entity("SUVs", _pki("suvs"))
    d.plain(" show.")
    text, pkis = d.finish()
    assert text == ("Suggest a dessert that fits an Energy Drinks theme, or a Cocktails night "
                    "for Panama Oysters and a SUVs show.")
    assert [p.evidence for p in pkis] == ["Energy Drinks", "Cocktails", "Oysters", "SUVs"]
    assert all(text[p.start:p.end] == p.evidence for p in pkis)


def test_a_name_that_takes_the_gets_it_as_a_noun_and_not_as_a_modifier() -> None:
    """"a trip centered on Cold War" lacked its article, "a the economy theme" had one too many."""
    said = {}
    for before, after in [("Tell me about ", "."), ("", " will do it for me."), ("Honestly? ", ", no contest."),
                          ("Oops, make that ", "."), ("Host a ", " theme."), ("I'm a massive ", " nerd."),
                          ("Please, no ", "."), ("Some ", " trivia."), ("Something ", "-themed."),
                          ("Sort this out, the ", " thing."), ("Tickets for ", " events?"),
                          ("I'm shopping for ", " stuff."), ("A list of ", " recommendations.")]:
        d = Draft(definite=frozenset({"cold war"}))
        d.plain(before)
        d.entity("Cold War", _pki("cold_war"))
        d.plain(after)
        text, pkis = d.finish()
        said[before] = text
        assert pkis[0].evidence == "Cold War" == text[pkis[0].start:pkis[0].end]  # the span is the name alone
    assert said["Tell me about "] == "Tell me about the Cold War."
    assert said[""] == "The Cold War will do it for me."
    assert said["Honestly? "] == "Honestly? The Cold War, no contest."
    assert said["Oops, make that "] == "Oops, make that the Cold War."
    assert said["Host a "] == "Host a Cold War theme." and said["I'm a massive "] == "I'm a massive Cold War nerd."
    assert said["Please, no "] == "Please, no Cold War." and said["Some "] == "Some Cold War trivia."
    assert said["Something "] == "Something Cold War-themed."
    assert said["Tickets for "] == "Tickets for Cold War events?"  # a modifier of the noun after it
    assert said["I'm shopping for "] == "I'm shopping for Cold War stuff."
    assert said["A list of "] == "A list of Cold War recommendations."
    assert said["Sort this out, the "] == "Sort this out, the Cold War thing."
    plain = Draft()  # a name nobody marked is said as written
    plain.plain("Tell me about ")
    plain.entity("Cold War", None)
    assert plain.finish()[0] == "Tell me about Cold War"


def test_a_plural_name_after_a_is_said_in_the_singular(taxonomy) -> None:
    """"a salads theme", "a SUVs show" (30 of 93 audited modifiers): after "a" a plural name is a modifier, and
    the node's singular alias is said, also for an alias said in the name's place ("a motorbikes theme"); elsewhere
    the name stays as it is."""
    said = []
    for before, name in [("Host a ", "salads"), ("Plan an ", "SUVs"), ("I'm a die-hard ", "salads"),
                         ("I love ", "salads"), ("Some ", "salads"), ("Host a ", "motorbikes")]:
        d = Draft(definite=taxonomy.definite, singular=taxonomy.singular)
        d.plain(before)
        d.entity(name, _pki("x"))
        d.plain(" theme.")
        text, pkis = d.finish()
        said.append(text)
        assert text[pkis[0].start:pkis[0].end] == pkis[0].evidence
    assert said == ["Host a salad theme.", "Plan an SUV theme.", "I'm a die-hard salad theme.",
                    "I love salads theme.", "Some salads theme.", "Host a motorbike theme."]
    assert taxonomy.singular["sports cars"] == "sports car" and "mathematics" not in taxonomy.singular
    # a sayable alias a user says in the name's place ("motorbikes" for motorcycles) has its singular too
    assert taxonomy.singular["motorbikes"] == "motorbike" and taxonomy.singular["motorcycles"] == "motorcycle"
