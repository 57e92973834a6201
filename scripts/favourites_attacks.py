"""The preference reward against assistants that recommend the user's favourites whatever was asked, as in
docs/training.md.

    .venv/bin/python scripts/favourites_attacks.py       # the documented run (docs/training.md)

A liked thing off the request (outside its topic's area and the areas that
answer its template's requests) earns nothing, and an answer of nothing but
such things, or with more of them far from the request than things on it,
answers nothing.  Each policy below plays the assistant on the
same users (seeds from 1,000,000,000) of Chat-v0 and LongTerm-v0, beside the
built-in `oracle`, `tracker`, `popular` and `generic`:

* ``oracle_favourites``: the oracle's style and profile, recommending the
  user's strongest likes whatever the request is about;
* ``oracle_off_request``: the same with only the likes off the request;
* ``tracker_likes``: the tracker with nothing near the topic to suggest,
  recommending only the likes it has heard (those in the request's area
  while a request is open, as the tracker does);
* ``oracle_padded``: the oracle's answer plus the user's two strongest
  likes off the request (padding a focused answer);
* ``oracle_rotating_pad``: the oracle's answer plus one like off the
  request, a different one each answer (the list is never the same twice).

Prints each policy's mean episode return with its 95% CI per env and writes
``<out>/favourites_attacks.json`` (per env and policy: the mean return and
each reward component's mean).
"""

from __future__ import annotations

from argparse import Namespace
from typing import Any

from personagym.eval.script_args import episodes_and_out, write_summary
from personagym.policies.base import register_policy
from personagym.policies.builtin import OraclePolicy, TrackerPolicy
from personagym.rollout import compare_policies

ENVS = ("PersonaGym/Chat-v0", "PersonaGym/LongTerm-v0")
SEED = 1_000_000_000  # the seeds docs/training.md's tables are measured on
BUILT_IN = ("popular", "generic", "tracker", "oracle")


class OracleFavourites(OraclePolicy):
    """The oracle recommending the user's strongest likes, whatever the request is about."""

    name = "oracle_favourites"
    off_request_only = False

    def _choose(self, view: dict[str, Any], n: int) -> list[str]:
        """The user's `n` strongest likes but the request's topic and what is above it (with `off_request_only`,
        those off the request only)."""
        k, about = self.knowledge, frozenset(view["about"])
        echoed = set(k.lineage(view["topic"])) if view["topic"] else set()
        liked = [i for i in view["state"].interests.values() if i.polarity > 0 and i.node not in echoed
                 and not (self.off_request_only and about and not about.isdisjoint(k.lineage(i.node)))]
        return [i.node for i in sorted(liked, key=lambda i: -i.intensity)[:n]]


class OracleOffRequest(OracleFavourites):
    """The oracle recommending the user's strongest likes off the request only."""

    name = "oracle_off_request"
    off_request_only = True


class OraclePadded(OraclePolicy):
    """The oracle's answer plus the user's strongest likes off the request (`padding` of them)."""

    name = "oracle_padded"
    padding = 2
    rotate = False

    def _choose(self, view: dict[str, Any], n: int) -> list[str]:
        """The oracle's things, then `padding` likes off the request: the strongest, or (`rotate`) those
        shown least."""
        k, about = self.knowledge, frozenset(view["about"])
        off = [i for i in view["state"].interests.values() if i.polarity > 0 and about
               and about.isdisjoint(k.lineage(i.node))]
        off.sort(key=lambda i: (self._shown.get(i.node, 0) if self.rotate else 0, -i.intensity))
        return [*super()._choose(view, n), *(i.node for i in off[: self.padding])]


class OracleRotatingPad(OraclePadded):
    """The oracle's answer plus one like off the request, a different one each answer."""

    name = "oracle_rotating_pad"
    padding = 1
    rotate = True


class _NoNeighbours:
    """The world knowledge with no related things: the tracker fills its answers with heard likes only."""

    def __init__(self, knowledge: Any) -> None:
        self._k = knowledge

    def related(self, node: str) -> list[str]:
        return []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._k, name)


class TrackerLikes(TrackerPolicy):
    """The tracker with nothing near the topic to suggest: only the likes it has heard."""

    name = "tracker_likes"

    def __init__(self, env: Any = None, seed: int | None = None) -> None:
        super().__init__(env, seed)
        self.knowledge = _NoNeighbours(self.knowledge)


ATTACKS = (OracleFavourites, OracleOffRequest, TrackerLikes, OraclePadded, OracleRotatingPad)


def parse_args() -> Namespace:
    """Command-line options (the defaults are the documented run)."""
    return episodes_and_out(__doc__, __file__, 300, f"episodes per env and policy (env seeds {SEED:,}, ...)")


def main() -> None:
    args = parse_args()
    for cls in ATTACKS:
        register_policy(cls.name, cls)
    summary: dict[str, Any] = {"seed": SEED, "episodes": args.episodes, "envs": {}}
    for env_id in ENVS:
        result = compare_policies(env_id, [*BUILT_IN, *(cls.name for cls in ATTACKS)], args.episodes, SEED)
        rows = summary["envs"][env_id] = {
            name: {"return": [p["reward"]["mean"], p["reward"]["ci95"]],
                   **{k: c["mean"] for k, c in p["components"].items()}}
            for name, p in result["policies"].items()}
        for name, row in rows.items():
            mean, ci = row["return"]
            print(f"{env_id:>22} {name:>19}: return {mean:.2f} ± {ci:.2f}; preference {row['preference']:.2f}, "
                  f"style {row['style']:.2f}, efficiency {row['efficiency']:.2f}")
    print(f"wrote {write_summary(args.out, 'favourites_attacks.json', summary)}")


if __name__ == "__main__":
    main()
