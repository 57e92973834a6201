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
