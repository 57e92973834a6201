"""Multi-objective reward, computed from the hidden structured truth.

Components (all in `info["reward_components"]`):

* ``preference``: intensity-weighted liked topics minus disliked topics the
  answer puts forward (names with any stance but a warning), in [-1, 1]; each
  liked interest counts once however many things under it the answer names; an
  answer naming more than a handful of entities has each liked one count less
  (`personagym.simulators.preferences.ATTENTION`), so listing the taxonomy
  does not pay; a liked one merely named (no recommendation cue) counts
  half (`NAMED_CREDIT`; all those only named at most half together), as a
  recommended one does in answer to a request that asks for no picks (an
  explainer, a draft, tips: `TaskDomain.asks_picks`), and
  one off the request (outside its topic's area, or the topic itself for a
  template about the topic itself, and the areas that answer its template's
  requests, `on_request`) or one the answer refuses or advises against
  nothing: favourites padding an answer never make it worth more than the
  same answer without them;
* ``constraint``: 0 when the answer respects every hard constraint, -1 per
  violation (a forbidden item offered) — a hard penalty;
* ``style``: fraction of the user's style preferences the answer met, in [0, 1];
  0 for an answer that gives the user nothing, as the user reads it: none at
  all, the same list again after anything but a call for another style, or
  a question put instead of an answer to a user who would rather be answered
  (`Assessment.style_match`);
* ``profile``: F1 of the profile the policy emitted (`<profile>` block) against
  the user's style/constraint attributes and interests (RLPA's profile
  reward); 0 when no profile was emitted.  An item counts as a hit only if
  it is true *and* the user has expressed it in this episode (their
  messages' PKIs): recall is over the whole hidden profile, so it grows as
  the user reveals more, but a guess is a false positive even when it
  happens to be true.  Else a constant profile of the population's most
  common items (about a sixth of each is true of anyone) scored 0.81 per
  episode, against 0.51 for a policy inferring from what it heard;
* ``efficiency``: +1 when the user leaves satisfied (their goodbye is
  content: `UserSimulator.left_content`), -1 when they leave unsatisfied,
  otherwise -1/max_turns per turn.

The scalar reward is their weighted sum.  The user's reaction is driven by the
same `Assessment`, so the simulator and the reward agree, and no text the
assistant writes can change how the truth is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict, Field, model_validator

from personagym.profile_format import parse_profile
from personagym.records import PKI, PreferenceState
from personagym.simulators.persona import PersonaSchema
from personagym.simulators.preferences import Assessment
from personagym.simulators.taxonomy import Taxonomy
from personagym.suggest import ConfigFloat, did_you_mean

COMPONENTS = ("preference", "constraint", "style", "profile", "efficiency")
ProfileItem = tuple[str, str]
TARGET_ROLES = ("style", "constraint")  # the attributes a profile is scored on, with the interests


class RewardWeights(BaseModel):
    """Weights of the reward components in the scalar reward."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    preference: ConfigFloat = Field(1.0, ge=0.0)
    constraint: ConfigFloat = Field(2.0, ge=0.0)
    style: ConfigFloat = Field(0.5, ge=0.0)
    profile: ConfigFloat = Field(0.5, ge=0.0)
    efficiency: ConfigFloat = Field(0.25, ge=0.0)

    @model_validator(mode="before")
    @classmethod
    def _known_names(cls, data: object) -> object:
        return check_component_names(data, COMPONENTS, "reward component")


def check_component_names(data: object, names: Sequence[str], what: str) -> object:
    """Weights given as a dict must name known components; the error suggests the closest."""
    if isinstance(data, dict):
        for key in data:
            if key not in names:
                raise ValueError(f"unknown {what} {key!r}{did_you_mean(key, names)}; expected {', '.join(names)}")
    return data


def target_profile(state: PreferenceState, schema: PersonaSchema) -> set[ProfileItem]:
    """The profile items a personalizing assistant should infer: style, constraints, interests."""
    items: set[ProfileItem] = set()
    for name, value in state.attributes.items():
        if schema.attributes[name].role in TARGET_ROLES:
            items.update((name, v) for v in (value if isinstance(value, list) else [value]))
    for node, interest in state.interests.items():
        items.add(("likes" if interest.polarity > 0 else "dislikes", node))
    return items


def resolve_profile(text: str, schema: PersonaSchema) -> set[ProfileItem]:
    """Profile items of a `<profile>` text; interest names are resolved to taxonomy ids.

    Unresolvable names and unknown keys stay as written, so they count as
    wrong predictions.  Attributes the target leaves out (age, pets, ...:
    neither style nor constraint) are dropped: stating a true one must not
    count against the profile, as in the user's fidelity score.
    """
    items: set[ProfileItem] = set()
    attributes = schema.attributes
    for key, value in parse_profile(text):
        if key in ("likes", "dislikes"):  # lookup, not resolve: no "did you mean" is worked out to be dropped
            value = schema.taxonomy.lookup(value) or value
        elif key in attributes and attributes[key].role not in TARGET_ROLES:
            continue
        else:
            value = value.lower().replace(" ", "_")
        items.add((key, value))
    return items


def stated_items(pkis: Iterable[PKI], state: PreferenceState, taxonomy: Taxonomy) -> set[ProfileItem]:
    """The profile items a user's PKIs express: attribute values, and liked or disliked nodes.

    A named node counts for its nearest ancestor-or-self the state holds an
    interest in ("I love bebop" expresses liking jazz), as `assess` reads an
    assistant's mentions.  Vague attribute PKIs (no value) and retracted mentions express no item.
    """
    items: set[ProfileItem] = set()
    for pki in pkis:
        if pki.certainty == "retracted":  # "I love alternative rock, sorry, make that funk" states no rock
            continue
        if pki.kind == "attribute":
            if pki.value is not None:
                items.add((pki.key, pki.value))
            continue
        items.add(("likes" if pki.polarity > 0 else "dislikes", interest_node(pki.key, state, taxonomy)))
    return items


def interest_node(node: str, state: PreferenceState, taxonomy: Taxonomy) -> str:
    """The nearest ancestor-or-self of `node` the state holds an interest in; `node` itself if none."""
    return next((a for a in reversed(taxonomy.paths.get(node, ())) if a in state.interests), node)


def profile_f1(predicted: set[ProfileItem], target: set[ProfileItem], stated: set[ProfileItem]) -> float:
    """F1 of predicted profile items against the target items, a hit being a target item the user stated.

    Precision is over the predicted items and recall over the whole target;
    0 when there is no hit.
    """
    hits = len(predicted & target & stated)
    if not hits:
        return 0.0
    precision, recall = hits / len(predicted), hits / len(target)
    return 2 * precision * recall / (precision + recall)


def reward_components(
    assessment: Assessment,
    *,
    profile: float,
    ended: bool,
    satisfied: bool,
    max_turns: int,
) -> dict[str, float]:
    """The reward vector of one step."""
    efficiency = (1.0 if satisfied else -1.0) if ended else -1.0 / max_turns
    return {
        "preference": round(float(assessment.alignment), 6),
        "constraint": float(-len(assessment.violations)),  # 0.0, never -0.0
        "style": round(float(assessment.style_match), 6),
        "profile": round(profile, 6),
        "efficiency": round(efficiency, 6),
    }


def scalar_reward(components: dict[str, float], weights: RewardWeights) -> float:
    """Weighted sum of the components."""
    return round(sum(getattr(weights, k) * v for k, v in components.items()), 6)
