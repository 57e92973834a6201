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
