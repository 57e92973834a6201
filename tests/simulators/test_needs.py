"""`personagym.simulators.needs`: which phrases a speaker may say."""

from __future__ import annotations

import pytest

from personagym.simulators.needs import FITTING_CACHED, Presuppositions


def test_the_pools_filtered_for_speakers_stay_bounded() -> None:
    """The pools a speaker may not say all of were cached for every (pool, exclusion) met: 16,876 over 20,000
    episodes, growing with every user.  More of them than the cache holds leave it at its bound, and a pool
    dropped from it is filtered again to the same phrases."""
    needs = Presuppositions({"for my kids": {"children": ["teenagers"]}})
    excluded = needs.excluded({"children": "none"})
    assert excluded == {"for my kids"}
    pools = [("for my kids", f"for my friend {n}") for n in range(FITTING_CACHED + 50)]
    for pool in pools:
        assert needs.fitting(pool, excluded) == pool[1:]
    assert len(needs._fitting) == FITTING_CACHED
    assert needs.fitting(pools[0], excluded) == (pools[0][1],)
    assert needs.fitting(("for my kids",), excluded) == ("for my kids",)  # none left: all of them


def test_a_phrase_that_states_a_fact_needs_the_attribute_it_states_and_only_that_one() -> None:
    """"I'm over 50" states an age: a speaker with no age does not say it, while one with no `children` (which the
    phrase needs only to rule out some values) still may; a phrase that states nothing is said by anyone who lacks
    the attribute."""
    raw = {"I'm over 50": {"age_band": ["60p"], "children": ["none", "adult_children"]},
           "for someone over 50": {"age_band": ["60p"]}}
    needs = Presuppositions(raw, {"I'm over 50": "age_band"})
    assert needs.excluded({}) == {"I'm over 50"}
    assert needs.excluded({"age_band": "60p"}) == frozenset()
    assert needs.excluded({"age_band": "2534"}) == {"I'm over 50", "for someone over 50"}
    assert needs.excluded({"children": "none"}) == {"I'm over 50"}
    assert needs.excluded({"age_band": "60p", "children": "young_children"}) == {"I'm over 50"}


def test_a_stated_attribute_the_phrase_does_not_need_fails_by_name() -> None:
    with pytest.raises(ValueError, match="fragment_states: 'walking the dog' states 'children'; expected an "
                                         "attribute its needs name \\(pets_owned\\)"):
        Presuppositions({"walking the dog": {"pets_owned": ["dog"]}}, {"walking the dog": "children"},
                        "fragment_states")
    with pytest.raises(ValueError, match="'walking the cat' states 'pets_owned'; expected .* \\(none\\)"):
        Presuppositions({}, {"walking the cat": "pets_owned"})
