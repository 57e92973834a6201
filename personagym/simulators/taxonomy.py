"""The interest taxonomy: a tree of things people like, dislike or ask about.

Authored as indented text files in `data/taxonomy/` (one per top-level
category; a line is `name | alias; alias | tag, tag`, two spaces per level;
names and aliases are written as they read mid-sentence, "dry needling",
"Italian cuisine", "JavaScript") and loaded into a networkx DiGraph rooted
at ``ROOT``.  Node ids are the slugged name path
(``music/music_genres/jazz/bebop``).  Tags mark what
hard constraints exclude (``animal_product``, ``alcohol``, ...) and are
inherited by descendants; a tag written ``-strenuous`` drops an inherited
tag from a node and its descendants (outdoor kitchens under patio & deck
building are no exertion).  A name in square brackets (``[cuisines]``) is a
grouping node: a heading that sorts its children, not a thing anyone likes
or asks about ("Please leave out cuisines."), so samplers never draw it as
an interest or a topic and a vague mention says "certain cuisines".  A name
or alias written ``(the) Cold War`` takes "the" where it stands as a noun
("a documentary about the Cold War") but not as a modifier ("a Cold War
theme"): its text is "Cold War", and `Draft.finish` adds the article where
the words meet.  ``kinds.json`` says what kind of thing each subtree holds
(a field, a food, a place, a person, ...; `KINDS`): a request template that
says "a career in {topic}" takes fields, not particles, so each task domain
draws its topics from the kinds it takes.

Hot-path queries (distance, anchor sampling, near-node sampling) run on plain
Python arrays built at load time; the graph is there for users and analysis.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from personagym.rng import Draws
from personagym.shared import SharedOnCopy
from personagym.simulators.draft import capitalized
from personagym.suggest import did_you_mean

if TYPE_CHECKING:
    import networkx as nx

ROOT = "root"
DATA_DIR = Path(__file__).parent / "data" / "taxonomy"

#: Tags a node may carry; constraints forbid nodes by these.
TAGS = frozenset(
    {
        "meat", "red_meat", "pork", "beef", "poultry", "fish", "shellfish", "dairy", "egg",
        "gluten", "peanut", "tree_nut", "soy", "alcohol", "caffeine", "animal_product",
        "high_cost", "strenuous", "adult_only", "gambling",
        # what no one gives a child, though it is no adults-only thing (coffee, energy drinks, pre-workout: no "How
        # would I set up a coffee tasting at home for a ten-year-old?"; bubble tea and dark chocolate are for anyone)
        "not_for_children",
        # what a pastime takes that a blind or deaf persona lacks ("I'm blind. I love watercolor.")
        "needs_sight", "needs_hearing",
        # what a request template may not fit (task_requests.<domain>.not_with_tags): nothing anyone buys for it
        # (free software, wild animals: no "deals for the pandas library"), no line of work anyone is "in" (a
        # school subject, a programming language: no "Is a degree necessary to work in algebra?"), no advice on
        # keeping or handling it and no hobby made of it (a wild animal: no "How should I approach hippos?"), no
        # workout for it (camping, fishing, journaling, massage: no "exercises that help with hammock camping"), a
        # tool people code with, not a subject anyone researches (a programming language or framework: no "What
        # methods do researchers usually use to study Django?"), nothing anyone cooks (eating out, fine dining: no
        # "I want to cook something with eating out tonight"), nothing that goes on at a place one could go to (a
        # video game genre: no "Can you find anything related to hack and slash happening near Colombo?"), a
        # discipline, not a thing anyone sets up, uses or fixes (cybersecurity, AI ethics, web development: no "What
        # settings should I change when I start using cybersecurity?"), a continent or a country, too big for a day
        # out (no "Can you put together a plan for a day focused on South America?"), a subject to think about, not
        # one worked at with tools (AI ethics: no "Is there any way to automate the boring parts of AI ethics?"), the
        # economy at large, nothing anyone takes up, holds or budgets for (interest rates, recessions:
        # no "What's a realistic first step into recessions?"), a dessert, no meal (cheesecake, ice cream: no "What can
        # I cook with ice cream in under thirty minutes?"), a live event or a holiday, gone to or kept, not a subject
        # studied (no "Could you make me a study plan for Christmas?"), a sport watched, not one anyone keeps fit by
        # (motorsports: no "Could you put together a home routine for motorsports?"), a dish or drink that is made
        # as it is, no ingredient of other things (lasagna, hot chocolate, a negroni; not avocados, eggs or
        # espresso: no "What are three beginner-friendly things to make that involve hot chocolate?"), a country's
        # cooking, no dish or ingredient (Thai cuisine: no "What can I cook with Thai cuisine in under thirty
        # minutes?"), an ingredient, no dish, drink or craft (avocados, tofu: no "What's a healthier version of
        # avocados that still tastes good?").  Nothing to pick from is no tag: a node with nothing under it has
        # none (`TaskDomain.fitting`)
        "nothing_to_buy", "not_a_job", "wild_animal", "not_a_workout", "programming_tool", "not_cooked",
        "no_live_events", "nothing_to_set_up", "too_big_for_a_day", "not_hands_on",
        "nothing_to_take_up", "not_a_meal", "not_a_subject", "spectator_sport", "made_as_is", "cuisine",
        "ingredient",
    }
)  # fmt: skip

_SLUG_RE = re.compile(r"[^a-z0-9]+")

#: What a node can be, for the requests it can be the topic of (see `Taxonomy.kind`).  Some kinds are split from
#: another only so that a persona's summary can say them right, and the templates that take the one take the
#: other too: a language (Tamil, the Romance languages) from the fields and a script (Hangul, kanji) from the
#: concepts ("I'm interested in Tamil", not "I like Tamil"); a news story (elections, a war, climate summits)
#: from the events ("I follow midterm elections") and so a religious observance (Easter, Hajj, Lent: "I'm
#: interested in Hajj"); a therapy (CBT, physiotherapy, acupuncture) from the practices ("I'm interested in
#: cognitive behavioral therapy", not liked as a taste); a drink had one at a time (a mojito, a latte) from the
#: food and drink ("I like mojitos", not "I like mojito"); a calamity of history (a war, a plague, a fall: World
#: War II, the Black Death) from the periods ("I'm interested in World War II", not "I'm a fan of World War II").
KINDS = ("activity", "food_drink", "serving", "product", "place", "person", "work", "genre", "field", "language",
         "concept", "script", "event", "news", "observance", "issue", "practice", "therapy", "organization",
         "creature", "belief", "period", "calamity", "occupation")
#: Kinds of node a person follows, cares about or would rather not talk about, rather than loves or loathes:
#: conditions, hardships, causes, the news ("I can get behind celiac disease now and then" read absurd).
CONCERN_KINDS = frozenset({"issue"})
#: Kinds of node a user's messages say they follow, care about, read about or would rather not talk about (the
#: templates' `disclosure_concern`, `interest_news_concern`, `negative_reasons.no_longer_into_concern`), not love or
#: loathe: the concerns, the news, which a summary says as followed already ("Big fan of the Middle East conflict
#: here." and "I'm into presidential elections now, not so much midterm elections." read absurd), and the calamities
#: of history, read about but never followed (`followed_unfit_kinds`: "I'd say I'm a fan of World War II" and "I try
#: to keep up with World War II" read absurd).
FOLLOWED_KINDS = CONCERN_KINDS | {"news", "calamity"}
#: How many filtered tables an `AnchorSampler` keeps, the least recently used dropped first.  Over 20,000 sampled
#: personas the busiest sampler met 306 sets of excluded tags; keeping 128 built 146 tables more than keeping all
#: (0.8 ms each).
FILTERED_TABLES = 128
#: The file beside the taxonomy files that gives subtrees their kind (node id -> kind, inherited downwards).
KINDS_FILE = "kinds.json"


def area_of(path: Sequence[str]) -> str:
    """The area of the node at `path` (ids from its top-level category down to it): its ancestor at the taxonomy's
    second level, or the node itself at the first or second (kettlebell training's is workout types).  A request
    is about its topic's area (`personagym.simulators.user.request_about`), and the policies offer what is in it
    first: a top-level category was too wide a bound (body scan meditation for a kettlebell plan)."""
    return path[:2][-1]


class TaxonomyError(ValueError):
    """A taxonomy file or a node reference is malformed."""


def slugify(name: str) -> str:
    """The id component of a display name: lowercase words joined by underscores ("C++": c_plus_plus, not c)."""
    return _SLUG_RE.sub("_", name.lower().replace("'", "").replace("+", " plus ")).strip("_")


@dataclass(frozen=True, slots=True)
class TaxonomyNode:
    """One node of the taxonomy.

    ``name`` and ``aliases`` read as they do mid-sentence ("dry needling",
    "Italian cuisine"), because templates put them there; `title` is the
    name as a heading.
    """

    id: str
    name: str
    aliases: tuple[str, ...]
    tags: frozenset[str]
    depth: int
    parent: str
    group: bool = False  # a heading that sorts its children ("cuisines"), never an interest itself
    definite: frozenset[str] = frozenset()  # its name or aliases that take "the" as a noun ("Cold War")
    #: aliases that recognise the node in text but name something else, narrower ("gelato" for ice cream),
    #: broader or related ("DNA" for genetics), or read wrong in its place ("sports car" for sports cars):
    #: never said for it (`sayable`)
    loose: frozenset[str] = frozenset()
    #: inherited tags its line drops ("-strenuous": outdoor kitchens under patio & deck building), so that
    #: neither it nor anything below it carries them
    dropped: frozenset[str] = frozenset()

    @property
    def sayable(self) -> tuple[str, ...]:
        """The aliases a user can say in the name's place and still mean exactly this node."""
        return tuple(a for a in self.aliases if a not in self.loose and stands_in(self.name, a))

    @property
    def title(self) -> str:
        """The name as a heading or a list entry: its first letter capitalised ("Dry needling", but "iPhone")."""
        return capitalized(self.name)


#: Endings that make a person of a thing or an activity ("geocaching": "geocacher", "trumpet": "trumpeter").
_PERSON_ENDINGS = ("er", "ers", "ist", "ists", "ka", "kas")


def stands_in(name: str, alias: str) -> bool:
    """Whether `alias` can take the place of a node's `name` in a sentence about the node.

    Aliases are there to recognise the node, and not all of them are other
    names for it: the name plus a word ("Kyoto trip", "poker night": "plan a
    trip to Kyoto trip"), a person who does it ("geocacher": "plan around
    geocacher"), the name in the plural ("coffees", "tequilas": "I rly like
    coffees", "I'm not against tequilas, it can be nice": a mass noun or a
    name pluralised, the sentence built for it in the singular) or another
    script ("русский") reads wrong in its place.
    """
    if any(ord(c) >= 0x250 for c in alias):  # beyond the Latin letters
        return False
    lower_name, lower_alias = name.lower(), alias.lower()
    if lower_alias.startswith(lower_name + " ") or lower_alias.endswith(" " + lower_name):
        return False
    if lower_alias in (lower_name + "s", lower_name + "es") or (
            lower_name.endswith("y") and lower_alias == lower_name[:-1] + "ies"):
        return False
    last, alias_last = lower_name.rsplit(" ", 1)[-1], lower_alias.rsplit(" ", 1)[-1]
    return not (alias_last[:4] == last[:4] and alias_last.endswith(_PERSON_ENDINGS)
                and not last.endswith(_PERSON_ENDINGS))


def _singular_forms(node: TaxonomyNode) -> dict[str, str]:
    """The node's plural name and sayable plural aliases, lowercased -> the alias that is each in the singular
    ("sports cars": "sports car", "motorbikes": "motorbike")."""
    if node.group:
        return {}
    aliases = {a.lower(): a for a in node.aliases}
    out = {}
    for surface in (node.name, *node.sayable):
        if not surface.endswith("s") or surface.endswith("ss"):
            continue
        forms = [surface[:-1].lower()]
        if surface.endswith("es"):
            forms.append(surface[:-2].lower())
        if surface.endswith("ies"):
            forms.append(surface[:-3].lower() + "y")
        singular = next((aliases[f] for f in forms if f in aliases), None)
        if singular is not None:
            out[surface.lower()] = singular
    return out


def _without_the(surface: str, definite: set[str], where: str) -> str:
    """`surface` without a leading "(the)", which adds it to `definite`."""
    if not surface.startswith("(the)"):
        return surface
    bare = surface[5:].strip()
    if not bare or surface[5:6] != " ":
        raise TaxonomyError(f"{where}: '(the)' is written before a name, as in '(the) Cold War', got {surface!r}")
    definite.add(bare)
    return bare


def _parse_line(line: str, where: str) -> tuple[int, str, tuple[str, ...], frozenset[str], frozenset[str], bool,
                                               frozenset[str], frozenset[str]]:
    """(level, name, aliases, tags, dropped, group, definite, loose) of one `Name | aliases | tags` line, two
    spaces per level.

    A name in square brackets is a grouping node's (`group` is then True and the brackets are dropped).
    A name or alias written "(the) Cold War" is "Cold War", and in `definite`.  An alias written "~gelato" is
    "gelato", and in `loose` (see `TaxonomyNode.loose`).  A tag written "-strenuous" is in `dropped`: the node
    does not inherit it (`Taxonomy.from_files` checks that its parent carries it).

    Any other leading whitespace (a tab) is refused: read as part of the name, it would turn a child into a
    top-level node and every node below it into that node's children.
    """
    stripped = line.lstrip(" ")
    indent = len(line) - len(stripped)
    if stripped[:1].isspace():
        raise TaxonomyError(f"{where}: indent with spaces (two per level), got {line[:indent + 1]!r} "
                            "at the start of the line")
    if indent % 2:
        raise TaxonomyError(f"{where}: indentation must be a multiple of 2 spaces, got {indent}")
    parts = [p.strip() for p in stripped.split("|")]
    if len(parts) > 3 or not parts[0]:
        raise TaxonomyError(f"{where}: expected 'Name | aliases | tags', got {stripped!r}")
    definite: set[str] = set()
    written = [a.strip() for a in parts[1].split(";") if a.strip()] if len(parts) > 1 else []
    aliases = tuple(_without_the(a.lstrip("~").strip(), definite, where) for a in written)
    loose = frozenset(alias for alias, a in zip(aliases, written, strict=True) if a.startswith("~"))
    written_tags = [t.strip() for t in parts[2].split(",") if t.strip()] if len(parts) > 2 else []
    tags = frozenset(t for t in written_tags if not t.startswith("-"))
    dropped = frozenset(t[1:].strip() for t in written_tags if t.startswith("-"))
    unknown = (tags | dropped) - TAGS
    if unknown:
        tag = sorted(unknown)[0]
        raise TaxonomyError(
            f"{where}: unknown tag {tag!r}{did_you_mean(tag, TAGS)}; "
            f"expected one of {', '.join(sorted(TAGS))}"
        )
    if tags & dropped:
        raise TaxonomyError(f"{where}: tag {sorted(tags & dropped)[0]!r} is both given and dropped ('-'); "
                            "expected one or the other")
    name, group = parts[0], parts[0].startswith("[")
    if group or name.endswith("]"):
        if not (group and name.endswith("]") and name[1:-1].strip()):
            raise TaxonomyError(f"{where}: a grouping node's name is written in square brackets, '[name]', "
                                f"got {name!r}")
        name = name[1:-1].strip()
    name = _without_the(name, definite, where)
    return indent // 2, name, aliases, tags, dropped, group, frozenset(definite), loose


class Taxonomy(SharedOnCopy):
    """A tree of interest nodes with names, aliases and constraint tags."""

    def __init__(self, nodes: list[TaxonomyNode], kinds: Mapping[str, str] | None = None) -> None:
        self.nodes: dict[str, TaxonomyNode] = {n.id: n for n in nodes}
        self.ids: list[str] = [n.id for n in nodes]
        self.index: dict[str, int] = {nid: i for i, nid in enumerate(self.ids)}
        self.children: dict[str, list[str]] = {ROOT: []}
        for n in nodes:
            self.children.setdefault(n.id, [])
            self.children[n.parent].append(n.id)
        self._paths: dict[str, tuple[str, ...]] = {}
        for n in nodes:
            parent_path = self._paths.get(n.parent, ())
            self._paths[n.id] = (*parent_path, n.id)
        #: Node id -> its tags (inherited ones included): the hot-loop view of `nodes[id].tags`.
        self.tags: dict[str, frozenset[str]] = {n.id: n.tags for n in nodes}
        #: Lowercased names and aliases that take "the" as a noun ("cold war"): see `Draft.finish`.
        self.definite: frozenset[str] = frozenset(s.lower() for n in nodes for s in n.definite)
        #: Lowercased plural names and sayable aliases -> the singular alias the node has ("salads" -> "salad",
        #: "motorbikes" -> "motorbike"): see `Draft.finish`.
        self.singular: dict[str, str] = {k: v for n in nodes for k, v in _singular_forms(n).items()}
        self._name_index: dict[str, str] = {}
        for n in nodes:
            for surface in (n.name, *n.aliases):
                self._name_index.setdefault(surface.lower(), n.id)
        #: Node id -> its kind (one of `KINDS`, its own or its nearest ancestor's), None without kinds data.
        self.kinds: dict[str, str | None] = self._inherit_kinds(kinds or {})
        self._subtree_cache: dict[tuple[str, frozenset[str] | None], tuple[list[list[str]], list[str]]] = {}
        self._near_cache: dict[tuple[str, float, int, bool], tuple[list[str], list[float]]] = {}
        self._depth_weights: dict[tuple[int, float], list[float]] = {}
        self._anchor_samplers: dict[tuple[str | None, float, float], AnchorSampler] = {}
        self._graph: nx.DiGraph | None = None

    def _inherit_kinds(self, kinds: Mapping[str, str]) -> dict[str, str | None]:
        unknown = [n for n in kinds if n not in self.nodes]
        if unknown:
            raise TaxonomyError(f"{KINDS_FILE}: no taxonomy node {unknown[0]!r}"
                                f"{did_you_mean(unknown[0], self.ids)}")
        wrong = [(n, k) for n, k in kinds.items() if k not in KINDS]
        if wrong:
            raise TaxonomyError(f"{KINDS_FILE}: {wrong[0][0]!r} has the kind {wrong[0][1]!r}; "
                                f"expected one of {', '.join(KINDS)}")
        out: dict[str, str | None] = {}
        for node_id in self.ids:  # parents come before their children
            out[node_id] = kinds.get(node_id) or out.get(self.nodes[node_id].parent)
        return out

    def kind(self, node_id: str) -> str | None:
        """What the node is ("field", "food_drink", "place", ...; see `KINDS`), None without kinds data."""
        if node_id not in self.nodes:
            raise self._unknown(node_id)
        return self.kinds[node_id]

    # -- loading ---------------------------------------------------------------------------
    @classmethod
    def from_files(cls, paths: list[Path], kinds: Mapping[str, str] | None = None) -> Taxonomy:
        """Parse taxonomy text files (each holding one or more top-level trees); `kinds` maps node ids to
        their kind (inherited by their descendants)."""
        nodes: list[TaxonomyNode] = []
        seen: set[str] = set()
        for path in paths:
            stack: list[TaxonomyNode] = []
            for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if not raw.strip() or raw.lstrip().startswith("#"):
                    continue
                where = f"{path.name}:{lineno}"
                level, name, aliases, tags, dropped, group, definite, loose = _parse_line(raw.rstrip(), where)
                if level > len(stack):
                    raise TaxonomyError(f"{where}: indented {level} levels under a level-{len(stack) - 1} node")
                del stack[level:]
                parent = stack[-1] if stack else None
                node_id = f"{parent.id}/{slugify(name)}" if parent else slugify(name)
                if node_id in seen:
                    raise TaxonomyError(f"{where}: duplicate node {node_id!r}")
                seen.add(node_id)
                inherited = parent.tags if parent else frozenset()
                if dropped - inherited:
                    tag = sorted(dropped - inherited)[0]
                    holder = (f"its parent {parent.name!r} carries {', '.join(sorted(inherited)) or 'none'}"
                              if parent else "a top-level node inherits none")
                    raise TaxonomyError(f"{where}: '-{tag}' drops an inherited tag, but {holder}; "
                                        "expected a tag the parent carries")
                node = TaxonomyNode(
                    id=node_id,
                    name=name,
                    aliases=aliases,
                    tags=tags | (inherited - dropped),
                    depth=level + 1,
                    parent=parent.id if parent else ROOT,
                    group=group,
                    definite=definite,
                    loose=loose,
                    dropped=dropped,
                )
                nodes.append(node)
                stack.append(node)
        if not nodes:
            raise TaxonomyError(f"no taxonomy nodes found in {[str(p) for p in paths]}")
        return cls(nodes, kinds)

    # -- structure -------------------------------------------------------------------------
    @property
    def graph(self) -> nx.DiGraph:
        """The tree as a networkx DiGraph (edges parent -> child), built on first use."""
        if self._graph is None:
            import networkx as nx  # deferred: importing networkx costs ~0.1 s

            g = nx.DiGraph()
            g.add_node(ROOT, name="(root)", aliases=(), tags=frozenset(), depth=0)
            for n in self.nodes.values():
                g.add_node(n.id, name=n.name, aliases=n.aliases, tags=n.tags, depth=n.depth)
                g.add_edge(n.parent, n.id)
            self._graph = g
        return self._graph

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.nodes

    def node(self, node_id: str) -> TaxonomyNode:
        """The node with this id; a clear error with a suggestion otherwise."""
        try:
            return self.nodes[node_id]
        except KeyError:
            raise self._unknown(node_id) from None

    def _unknown(self, node_id: object) -> TaxonomyError:
        """The error for a node id that is not in the taxonomy, with the closest id as a suggestion."""
        return TaxonomyError(f"unknown taxonomy node {node_id!r}{did_you_mean(str(node_id), self.ids)}")

    def name(self, node_id: str) -> str:
        """A node's name as it reads mid-sentence ("dry needling", "Italian cuisine")."""
        return self.node(node_id).name

    def top_level(self) -> list[str]:
        """Ids of the top-level categories."""
        return list(self.children[ROOT])

    def parent(self, node_id: str) -> str | None:
        """Parent id, or None for a top-level category."""
        p = self.node(node_id).parent
        return None if p == ROOT else p

    def path_to_root(self, node_id: str) -> list[str]:
        """Ids from the node up to its top-level category (node first)."""
        self.node(node_id)
        return list(reversed(self._paths[node_id]))

    def anchor_path(self, node_id: str) -> list[str]:
        """Ids from the top-level category down to the node (the CSP anchor path)."""
        self.node(node_id)
        return list(self._paths[node_id])

    @property
    def paths(self) -> Mapping[str, tuple[str, ...]]:
        """Node id -> ids from its top-level category down to it (read-only; for hot loops)."""
        return self._paths

    def top_category(self, node_id: str) -> str:
        """Id of the node's top-level category."""
        try:
            return self._paths[node_id][0]
        except KeyError:
            raise self._unknown(node_id) from None

    def area(self, node_id: str) -> str:
        """Id of the node's area (`area_of`): what a request about it is about."""
        try:
            return area_of(self._paths[node_id])
        except KeyError:
            raise self._unknown(node_id) from None

    def siblings(self, node_id: str) -> list[str]:
        """Other children of the node's parent."""
        return [c for c in self.children[self.node(node_id).parent] if c != node_id]

    def descendants(self, node_id: str) -> list[str]:
        """All nodes below this one, depth-first."""
        self.node(node_id)
        out: list[str] = []
        stack = list(reversed(self.children[node_id]))
        while stack:
            nid = stack.pop()
            out.append(nid)
            stack.extend(reversed(self.children[nid]))
        return out

    def is_ancestor(self, ancestor: str, node_id: str) -> bool:
        """True if `ancestor` lies on the path from `node_id` to the root (or is it)."""
        try:
            return ancestor in self._paths[node_id]
        except KeyError:
            raise self._unknown(node_id) from None

    def distance(self, a: str, b: str) -> int:
        """Number of tree edges between two nodes (through the root across categories)."""
        pa, pb = self._paths.get(a), self._paths.get(b)
        if pa is None or pb is None:
            self.node(a if pa is None else b)
        common = 0
        for x, y in zip(pa, pb, strict=False):
            if x != y:
                break
            common += 1
        return len(pa) + len(pb) - 2 * common

    def resolve(self, text: str) -> str:
        """A node id from an id, a display name or an alias (case-insensitive)."""
        hit = self.lookup(text)
        if hit is None:
            raise TaxonomyError(
                f"no taxonomy node named {text!r}{did_you_mean(text.lower(), list(self._name_index))}"
            )
        return hit

    def lookup(self, text: str) -> str | None:
        """`resolve` without the error: the node id of an id, a name or an alias, or None.

        For names that may well be unknown (a policy's `<profile>` block):
        `resolve`'s error suggests the closest of some 10,000 names, about
        30 ms each, so a profile of 4,000 unknown names took two minutes a step.
        """
        if text in self.nodes:
            return text
        return self._name_index.get(text.strip().lower())

    def resolve_path(self, display_path: str) -> str:
        """A node id from a display-name path such as 'Food & Cooking/Cuisines'."""
        node_id = "/".join(slugify(part) for part in display_path.split("/"))
        self.node(node_id)
        return node_id

    def surfaces(self) -> dict[str, str]:
        """Lowercased name or alias -> node id (first node wins on a clash)."""
        return dict(self._name_index)

    # -- sampling --------------------------------------------------------------------------
    def _subtree(self, under: str | None, exclude_tags: frozenset[str], kinds: frozenset[str] | None = None,
                 exclude_under: frozenset[str] = frozenset()) -> tuple[list[list[str]], list[str]]:
        """The nodes below `under` (all nodes for None) without `exclude_tags` or grouping nodes, at or under none
        of `exclude_under`, and of one of `kinds` (None: any), by depth and flat.

        Only the subtree of each `under` and `kinds` is cached: the exclusions are a user's own (their
        constraints' tags, what their attributes rule out, their dislikes), and a cache keyed by them grew with
        every user met (`AnchorSampler` keeps the filtered tables it used last).  Filtering keeps the cached
        order and drops a depth it leaves empty, as filtering before grouping by depth did.
        """
        key = (under or ROOT, kinds)
        cached = self._subtree_cache.get(key)
        if cached is None:
            pool = [n for n in (self.descendants(under) if under else self.ids) if not self.nodes[n].group]
            if kinds is not None:
                pool = [n for n in pool if self.kinds[n] in kinds]
            base = self.nodes[under].depth if under else 0
            by_depth: dict[int, list[str]] = {}
            for n in pool:
                by_depth.setdefault(self.nodes[n].depth - base, []).append(n)
            cached = ([by_depth[d] for d in sorted(by_depth)], pool)
            self._subtree_cache[key] = cached
        if not exclude_tags and not exclude_under:
            return cached
        tags, paths = self.tags, self._paths
        kept = [n for n in cached[1] if tags[n].isdisjoint(exclude_tags) and exclude_under.isdisjoint(paths[n])]
        left = set(kept)
        return [level for level in ([n for n in nodes if n in left] for nodes in cached[0]) if level], kept

    def _level_weights(self, levels: int, specificity: float) -> list[float]:
        """Cumulative weights of `levels` depths, tilted shallow (0) .. uniform (0.5) .. deep (1)."""
        key = (levels, specificity)
        cum = self._depth_weights.get(key)
        if cum is None:
            cum = list(np.cumsum([(1.0 - specificity) * (levels - i) + specificity * (i + 1)
                                  for i in range(levels)]))
            self._depth_weights[key] = cum
        return cum

    def anchor_sampler(self, under: str | None = None, *, stratified: float = 0.5,
                       specificity: float = 0.5, kinds: frozenset[str] | None = None) -> AnchorSampler:
        """The (cached) sampler `sample_anchor` uses for these arguments; for hot loops."""
        key = (under, stratified, specificity, kinds)
        sampler = self._anchor_samplers.get(key)
        if sampler is None:
            for knob, value in (("stratified", stratified), ("specificity", specificity)):
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"{knob} must be in [0, 1], got {value}")
            sampler = self._anchor_samplers[key] = AnchorSampler(self, under, stratified, specificity, kinds)
        return sampler

    def sample_anchor(
        self,
        draws: Draws | np.random.Generator,
        *,
        under: str | None = None,
        stratified: float = 0.5,
        specificity: float = 0.5,
        exclude_tags: frozenset[str] | set[str] = frozenset(),
        kinds: frozenset[str] | None = None,
        exclude_under: frozenset[str] = frozenset(),
    ) -> str | None:
        """Sample one anchor node (CSP anchor-path sampling).

        With probability ``1 - stratified`` the node is uniform over the subtree
        (breadth: most nodes are deep leaves).  Otherwise a depth is chosen
        first, with weights that tilt from shallow (``specificity=0``) through
        uniform over depths (0.5) to deep (1), and then a node at that depth.
        Grouping nodes, nodes carrying any of ``exclude_tags`` and nodes at or
        under any of ``exclude_under`` (what a persona cannot like: no toddler
        tantrums from a user without children) are never drawn (the draw is
        repeated; after 8 misses it is made from the filtered subtree).  With
        `kinds`, only nodes of those kinds are drawn (a career request's topic
        is a field).  Returns None if nothing is left to draw from.
        """
        d = draws if isinstance(draws, Draws) else Draws(draws, block=64)
        sampler = self.anchor_sampler(under, stratified=stratified, specificity=specificity, kinds=kinds)
        return sampler(d, exclude_tags, exclude_under)

    def _near_candidates(self, node_id: str, decay: float, max_distance: int,
                         lineage: bool) -> tuple[list[str], list[float]]:
        key = (node_id, decay, max_distance, lineage)
        cached = self._near_cache.get(key)
        if cached is None:
            dist = {node_id: 0}
            frontier = [node_id]
            while frontier:
                nxt = []
                for n in frontier:
                    parent = self.nodes[n].parent
                    for m in (*self.children[n], *(() if parent == ROOT else (parent,))):
                        if m not in dist and dist[n] + 1 <= max_distance:
                            dist[m] = dist[n] + 1
                            nxt.append(m)
                frontier = nxt
            cands = [n for n in dist if n != node_id and not self.nodes[n].group]  # reached through, never drawn
            if not lineage:
                paths = self._paths
                cands = [n for n in cands if n not in paths[node_id] and node_id not in paths[n]]
            cum = list(np.cumsum([math.exp(-decay * (dist[n] - 1)) for n in cands]))
            cached = (cands, cum)
            self._near_cache[key] = cached
        return cached

    def sample_near(
        self, node_id: str, draws: Draws, *, decay: float = 1.0, max_distance: int = 4, lineage: bool = True
    ) -> str:
        """A node likely to be confused with `node_id`: weight exp(-decay * (distance - 1)).

        Siblings (distance 2) are far likelier than second cousins (distance 4);
        nodes beyond `max_distance` and grouping nodes are never drawn, nor,
        with ``lineage=False``, the node's ancestors and descendants (rock
        music for classic rock is a refinement, not a different thing).  Falls
        back to a uniform node when the neighbourhood is empty.
        """
        if node_id not in self.nodes:
            raise self._unknown(node_id)
        cands, cum = self._near_candidates(node_id, decay, max_distance, lineage)
        if not cands:
            return draws.choice(self._subtree(None, frozenset())[1])
        return cands[draws.weighted(cum)]

    # -- summary ---------------------------------------------------------------------------
    def stats(self) -> dict[str, object]:
        """Node count, top-level categories, depth histograms and alias count."""
        depth = Counter(n.depth for n in self.nodes.values())
        leaves = Counter(n.depth for n in self.nodes.values() if not self.children[n.id])
        return {
            "nodes": len(self.ids),
            "top_level_count": len(self.children[ROOT]),
            "top_level": [self.nodes[t].title for t in self.children[ROOT]],
            "depth_histogram": {str(k): depth[k] for k in sorted(depth)},
            "leaf_depth_histogram": {str(k): leaves[k] for k in sorted(leaves)},
            "aliases": sum(len(n.aliases) for n in self.nodes.values()),
            "tagged_nodes": sum(1 for n in self.nodes.values() if n.tags),
            "grouping_nodes": sum(1 for n in self.nodes.values() if n.group),
            "definite_surfaces": len(self.definite),
            "kinds": dict(Counter(k for n, k in self.kinds.items() if k and not self.nodes[n].group).most_common()),
        }


class AnchorSampler:
    """What `Taxonomy.sample_anchor` draws with, for one subtree and fixed knobs.

    Its tables (nodes by depth, depth weights, and the subtree filtered by each
    set of excluded tags met) are built once, so a call costs a few uniforms
    and look-ups.  Get one from `Taxonomy.anchor_sampler`, which caches them.
    The filtered tables are kept for the `FILTERED_TABLES` exclusions used
    last: exclusions are a user's own (their constraints' tags, what they
    cannot like, their dislikes), so a cache of all of them grew with every
    user met.
    """

    __slots__ = ("_cum", "_filtered", "_kinds", "_levels", "_paths", "_pool", "_specificity", "_stratified",
                 "_tags", "_taxonomy", "_under")

    def __init__(self, taxonomy: Taxonomy, under: str | None, stratified: float, specificity: float,
                 kinds: frozenset[str] | None = None) -> None:
        self._taxonomy = taxonomy
        self._under = under
        self._kinds = kinds
        self._stratified = stratified
        self._specificity = specificity
        self._tags = taxonomy.tags
        self._paths = taxonomy.paths
        self._levels, self._pool, self._cum = self._tables(frozenset(), frozenset())
        self._filtered = lru_cache(maxsize=FILTERED_TABLES)(self._tables)

    def _tables(self, exclude_tags: frozenset[str],
                exclude_under: frozenset[str]) -> tuple[list[list[str]], list[str], list[float]]:
        levels, pool = self._taxonomy._subtree(self._under, exclude_tags, self._kinds, exclude_under)
        return levels, pool, self._taxonomy._level_weights(len(levels), self._specificity)

    def __call__(self, d: Draws, exclude_tags: frozenset[str] | set[str] = frozenset(),
                 exclude_under: frozenset[str] = frozenset()) -> str | None:
        """One anchor node, never carrying any of `exclude_tags` nor at or under any of `exclude_under`; None if
        none is left."""
        pool = self._pool
        if not pool:
            return None
        tags, paths, levels, cum, stratified = self._tags, self._paths, self._levels, self._cum, self._stratified
        # The draws of `Draws.choice` and `Draws.weighted`, inlined: this runs for every interest drawn.
        # Rejection from the unfiltered subtree is the common fast path (few nodes carry tags, few are ruled out);
        # a subtree the exclusions mostly leave out is filtered once and cached.
        for _ in range(8):
            if d.random() >= stratified:
                node = pool[int(d.random() * len(pool))]
            else:
                level = levels[bisect_right(cum, d.random() * cum[-1])]
                node = level[int(d.random() * len(level))]
            if (not exclude_tags or tags[node].isdisjoint(exclude_tags)) and (
                    not exclude_under or exclude_under.isdisjoint(paths[node])):
                return node
        levels, pool, cum = self._filtered(frozenset(exclude_tags), frozenset(exclude_under))
        if not pool:
            return None
        if d.random() >= stratified:
            return d.choice(pool)
        return d.choice(levels[d.weighted(cum)])


@cache
def load_taxonomy(data_dir: Path | None = None) -> Taxonomy:
    """Load (once per directory) the taxonomy shipped with PersonaGym or one in `data_dir`."""
    directory = Path(data_dir) if data_dir else DATA_DIR
    files = sorted(directory.glob("*.txt"))
    if not files:
        raise TaxonomyError(f"no taxonomy files (*.txt) in {directory}")
    kinds_file = directory / KINDS_FILE
    kinds = json.loads(kinds_file.read_text(encoding="utf-8"))["nodes"] if kinds_file.exists() else None
    return Taxonomy.from_files(files, kinds)
