"""Running counts over trajectories for a dataset's statistics: one pass, mergeable.

A `Tally` keeps only counters and vocabulary sets, never trajectories.  Tallies
of disjoint shards merge exactly, so generation workers count the trajectories
they write and the parent merges their tallies as it commits the shards: the
dataset card then needs no second read of the data (`personagym.data.stats`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import pairwise

from personagym.records import PreferenceEvent, Trajectory
from personagym.simulators.persona import PersonaSchema
from personagym.simulators.preferences import FRESH_START, drawn_life_event
from personagym.simulators.taxonomy import Taxonomy

_WORD = re.compile(r"\w+")
#: How the population counts a multi-valued attribute stated as empty ("no pets", "no allergies").
NO_VALUE = "(none)"


def life_event_subject(event: PreferenceEvent, taxonomy: Taxonomy) -> str:
    """What a drawn life event changed, as the card counts it: the attribute, or a new or lost interest."""
    if event.target in taxonomy:
        return "new interest" if event.before is None else "lost interest"
    return event.target


def node_valued_attributes(schema: PersonaSchema) -> frozenset[str]:
    """Names of the attributes whose values are taxonomy nodes (their PKIs count toward category coverage)."""
    return frozenset(a.name for a in schema.attributes.values() if a.type == "taxonomy")


class Tally:
    """Counts over the trajectories of some shards of one generation run.

    `shards` names the shards counted and `config_hash` the run, so a tally is
    never merged twice into the same count nor used for another directory.
    """

    def __init__(self) -> None:
        self.shards: set[int] = set()
        self.config_hash: str | None = None
        self.personas: set[str] = set()
        self.turns: list[int] = []
        self.pkis: list[int] = []
        self.rewards: list[float] = []
        self.utterances = 0
        self.pki_kinds: Counter[str] = Counter()
        self.certainty: Counter[str] = Counter()
        self.pki_categories: Counter[str] = Counter()
        self.interest_categories: Counter[str] = Counter()
        self.noise: Counter[str] = Counter()
        # how preferences evolved: per dialog, its sessions, drifts and drawn life events; over all, each gap's
        # length and what each life event changed
        self.sessions: list[int] = []
        self.drifts: list[int] = []
        self.life_events: list[int] = []
        self.gaps: Counter[str] = Counter()
        self.life_event_subjects: Counter[str] = Counter()
        self.unigrams: set[str] = set()
        self.bigrams: set[tuple[str, str]] = set()
        self.unigram_total = 0
        self.bigram_total = 0
        # who the personas are: per attribute (not taxonomy-valued) the personas who state it and each value's
        # count among them; and the sampler config each trajectory records (canonical JSON -> trajectories), so
        # the card says how personas were drawn and a run mixing two samplers shows
        self.attribute_stated: Counter[str] = Counter()
        self.attribute_values: Counter[tuple[str, str]] = Counter()
        self.samplers: Counter[str] = Counter()

    @classmethod
    def of_shard(cls, index: int, config_hash: str) -> Tally:
        """An empty tally for shard `index` of the run with `config_hash`."""
        tally = cls()
        tally.shards.add(index)
        tally.config_hash = config_hash
        return tally

    def counting(self, trajectories: Iterable[Trajectory], taxonomy: Taxonomy,
                 node_valued: frozenset[str]) -> Iterator[Trajectory]:
        """Yield `trajectories` unchanged, counting each (so a writer's stream is counted as it is written)."""
        for trajectory in trajectories:
            self.add(trajectory, taxonomy, node_valued)
            yield trajectory

    def add(self, trajectory: Trajectory, taxonomy: Taxonomy, node_valued: frozenset[str]) -> None:
        """Count one trajectory; `taxonomy` maps nodes to categories, `node_valued` names node-valued attributes."""
        persona = trajectory.persona
        if persona.persona_id not in self.personas:
            self.personas.add(persona.persona_id)
            for interest in persona.interests:
                self.interest_categories[taxonomy.top_category(interest.node)] += 1
            for name, value in persona.attributes.items():
                if name in node_valued:
                    continue
                self.attribute_stated[name] += 1
                for v in ([value] if isinstance(value, str) else value or [NO_VALUE]):
                    self.attribute_values[name, v] += 1
        self.samplers[json.dumps(trajectory.config.get("sampler"), sort_keys=True)] += 1
        self.turns.append(len(trajectory.turns))
        self.rewards.append(trajectory.total_reward)
        sessions = drifts = life_events = 0
        for event in trajectory.session_events:
            if event.kind == "recovery" and event.cause == FRESH_START:
                sessions += 1
                self.gaps[event.time_label] += 1
            elif event.kind == "drift":
                drifts += 1
            elif drawn_life_event(event):
                life_events += 1
                self.life_event_subjects[life_event_subject(event, taxonomy)] += 1
        self.sessions.append(1 + sessions)
        self.drifts.append(drifts)
        self.life_events.append(life_events)
        n_pkis = 0
        for user in trajectory.user_turns():
            self.utterances += 1
            self.noise[user.noise.layer] += 1
            words = _WORD.findall(user.text.lower())
            self.unigrams.update(words)
            self.bigrams.update(pairwise(words))
            self.unigram_total += len(words)
            self.bigram_total += max(len(words) - 1, 0)
            for pki in user.pkis:
                n_pkis += 1
                self.pki_kinds[pki.kind] += 1
                self.certainty[pki.certainty] += 1
                node = pki.key if pki.kind == "interest" else pki.value if pki.key in node_valued else None
                if node is not None and node in taxonomy:
                    self.pki_categories[taxonomy.top_category(node)] += 1
        self.pkis.append(n_pkis)

    def merge(self, other: Tally) -> Tally:
        """Add the counts of other shards of the same run (a persona's episodes share a shard); returns self.

        Raises ValueError if `other` counts a shard this tally already counts,
        or belongs to another run: either would make the figures wrong.
        """
        if other.config_hash is not None:
            if self.config_hash not in (None, other.config_hash):
                raise ValueError(f"cannot merge tallies of two runs (config hashes {self.config_hash[:12]} "
                                 f"and {other.config_hash[:12]})")
            self.config_hash = other.config_hash
        if overlap := self.shards & other.shards:
            raise ValueError(f"shards {sorted(overlap)[:5]} are counted twice")
        self.shards |= other.shards
        self.personas |= other.personas
        self.turns += other.turns
        self.pkis += other.pkis
        self.rewards += other.rewards
        self.utterances += other.utterances
        self.sessions += other.sessions
        self.drifts += other.drifts
        self.life_events += other.life_events
        for name in ("pki_kinds", "certainty", "pki_categories", "interest_categories", "noise", "gaps",
                     "life_event_subjects", "attribute_stated", "attribute_values", "samplers"):
            getattr(self, name).update(getattr(other, name))
        self.unigrams |= other.unigrams
        self.bigrams |= other.bigrams
        self.unigram_total += other.unigram_total
        self.bigram_total += other.bigram_total
        return self
