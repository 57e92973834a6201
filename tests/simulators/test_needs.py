"""`personagym.simulators.needs`: which phrases a speaker may say."""

from __future__ import annotations

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
