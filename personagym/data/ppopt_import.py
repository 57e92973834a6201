"""PPOpt / PersonaAtlas conversation files -> trajectory records, to replay or evaluate them.

A PPOpt interaction file holds the persona's features, the conversation
(user and assistant messages, each user message with its clean version) and
the distractor's record of each user message (layer and strategies).  Each
file becomes one `Trajectory`: the persona is mapped into our schema (see
`personagym.simulators.ppopt`), every user/assistant exchange becomes a `Turn`
whose assistant text is analysed and scored with the env's reward against
the persona's known attributes.  PPOpt records no ground-truth PKIs and no
interests, so turns carry none and the preference component is 0: the
constraint and style components are what such a replay measures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from personagym import __version__
from personagym.envs.rewards import RewardWeights, reward_components, scalar_reward
from personagym.records import Intent, NoiseLayer, NoiseRecord, Trajectory, Turn, UserTurn
from personagym.simulators.analyzer import ResponseAnalyzer, shared_analyzer
from personagym.simulators.persona import PersonaSchema, load_schema
from personagym.simulators.ppopt import (
    PPOptImportError,
    describe,
    field_of,
    parse_document,
    persona_from_ppopt,
    read_text,
    strings_of,
)
from personagym.simulators.preferences import assess, initial_state
from personagym.simulators.sampler import PersonaSampler
from personagym.suggest import did_you_mean

ENV_ID = "ppopt/import"

#: PPOpt distractor layer names -> our noise layers.  PPOpt's semantic distractor
#: writes `surface_noise`, `incomplete_info` or `semantic_ambiguity`, and, with
#: the text left as it was, `none` (distractor off), `skipped` (not activated)
#: or `error` (generation failed); our own layer names are accepted too.
_LAYERS: dict[str, NoiseLayer] = {
    "none": "none", "skipped": "none", "error": "none",
    "surface_noise": "surface", "surface": "surface",
    "incomplete_info": "incomplete", "incomplete": "incomplete",
    "semantic_ambiguity": "ambiguity", "ambiguity": "ambiguity",
}  # fmt: skip
#: PPOpt's `layer_index` -> our noise layer, for a record without a layer name.
_LAYER_INDICES: dict[int, NoiseLayer] = {0: "none", 1: "surface", 2: "incomplete", 3: "ambiguity"}

#: Per user turn index: the noise layer and the strategies PPOpt applied.
_Noise = dict[int, tuple[NoiseLayer, list[str]]]


@dataclass
class ConversationImport:
    """Trajectories imported from PPOpt files, and what happened to each file."""

    trajectories: list[Trajectory] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Files that could not be mapped, each with its reason."""
        return [f for f in self.files if f["status"] == "failed"]


def import_conversations(paths: list[Path], schema: PersonaSchema | None = None) -> ConversationImport:
    """Import PPOpt interaction files; a file that cannot be mapped is reported, the others still import."""
    schema = schema or load_schema()
    sampler = PersonaSampler(schema)
    analyzer = shared_analyzer(schema.taxonomy)
    result = ConversationImport()
    seen: dict[str, Path] = {}  # trajectory id -> the file it came from
    for path in paths:
        try:
            text = read_text(path)
            try:
                doc = parse_document(text)
            except PPOptImportError:
                if _is_bank(text):
                    raise PPOptImportError("not a JSON interaction file (a PPOpt persona bank: check it with "
                                           "`personagym personas import`)") from None
                raise
            trajectory = conversation_to_trajectory(doc, schema, sampler, analyzer, source=str(path))
            if (first := seen.setdefault(trajectory.trajectory_id, path)) is not path:
                # two records with one id: a reader keyed by it would keep one of them
                raise PPOptImportError(f"sample_id {trajectory.trajectory_id!r} is that of {first} too; "
                                       "expected one file per conversation")
        except (OSError, PPOptImportError) as exc:
            result.files.append({"file": str(path), "status": "failed", "reason": str(exc)})
            continue
        result.trajectories.append(trajectory)
        result.files.append({"file": str(path), "status": "imported", "trajectory_id": trajectory.trajectory_id,
                             "turns": len(trajectory.turns)})
    return result


def _is_bank(text: str) -> bool:
    """Whether text (that is not JSON) is a PPOpt persona bank, which `personas import` checks."""
    try:
        doc = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError):  # RecursionError: a deeply nested file, refused as such already
        return False
    return isinstance(doc, dict) and "dimensions" in doc


def conversation_to_trajectory(doc: Any, schema: PersonaSchema, sampler: PersonaSampler,
                               analyzer: ResponseAnalyzer, source: str = "") -> Trajectory:
    """One PPOpt interaction document as a trajectory (errors name the field at fault)."""
    if not isinstance(doc, dict):
        raise PPOptImportError(f"top level: expected an object (a PPOpt interaction), got {describe(doc)}")
    messages = doc.get("full_conversation")
    if not isinstance(messages, list) or not messages:
        hint = " (a PPOpt persona file: import it with `personagym personas import`)" \
            if "features" in doc and "persona_features" not in doc else ""
        raise PPOptImportError(f"no 'full_conversation' list of messages{hint}")
    persona = persona_from_ppopt(doc, schema, sampler)
    sample_id = field_of(doc, "sample_id", "a string")
    meta = field_of(doc, "metadata", "an object") or {}
    ended = field_of(meta, "conversation_ended", "true or false", "metadata.") is not False  # unrecorded: ended
    model = field_of(meta, "assistant_model", "an object", "metadata.") or {}
    policy = field_of(model, "model", "a string", "metadata.assistant_model.")
    state = initial_state(persona, schema)
    noise = _noise_records(meta)
    weights = RewardWeights()
    pairs = _exchanges(messages)
    turns: list[Turn] = []
    for step, (user, assistant) in enumerate(pairs):
        features = analyzer.analyze(assistant)
        # PPOpt records no verdict of the user's: a conversation ends at its planned length, with no goodbye, so
        # every answer costs the per-turn efficiency and none earns a goodbye's bonus or penalty
        components = reward_components(assess(state, features, schema), profile=0.0, ended=False,
                                       satisfied=False, max_turns=len(pairs))
        turns.append(Turn(step=step, session=0, turn=step, user=_user_turn(user, 2 * step, step, noise),
                          assistant=assistant, features=features, reward=scalar_reward(components, weights),
                          reward_components=components))
    final_user = None
    if len(messages) % 2 == 1:  # the user spoke last and got no answer
        final_user = _user_turn(messages[-1], len(messages) - 1, len(pairs), noise)
    return Trajectory(
        trajectory_id=sample_id or f"ppopt_{persona.persona_id}",
        env_id=ENV_ID,
        policy=policy or None,
        persona=persona,
        initial_state=state,
        final_state=state,
        turns=turns,
        final_user=final_user,
        total_reward=round(sum(t.reward for t in turns), 6),
        terminated=ended,
        truncated=False,
        config={"source": source, "original_query": doc.get("original_query")},
        versions={"personagym": __version__},
    )


def _exchanges(messages: list[Any]) -> list[tuple[dict[str, Any], str]]:
    """(user message, the assistant's reply) pairs, in order; roles must alternate, user first."""
    for i, msg in enumerate(messages):
        role = "user" if i % 2 == 0 else "assistant"
        if not isinstance(msg, dict) or msg.get("role") != role or not isinstance(msg.get("content"), str):
            raise PPOptImportError(f"full_conversation[{i}]: expected {'a' if role == 'user' else 'an'} {role} "
                                   "message with text content, "
                                   f"got {str(msg)[:80]!r}")
    return [(messages[i], messages[i + 1]["content"]) for i in range(0, len(messages) - 1, 2)]


def _noise_records(meta: dict[str, Any]) -> _Noise:
    """User turn index -> (layer, strategies) from the distractor's records in the file's metadata.

    The first user message's record is `semantic_noise.initial_query`, each
    follow-up's is in `noisy_versions.followups`; a follow-up without a
    `semantic_noise` record (PPOpt's older rule-based distractor) has none.
    """
    out: _Noise = {}
    semantic = field_of(meta, "semantic_noise", "an object", "metadata.") or {}
    initial = field_of(semantic, "initial_query", "an object", "metadata.semantic_noise.")
    if initial is not None:
        out[0] = _noise_record(initial, "metadata.semantic_noise.initial_query")
    versions = field_of(meta, "noisy_versions", "an object", "metadata.") or {}
    followups = field_of(versions, "followups", "a list", "metadata.noisy_versions.") or []
    for i, followup in enumerate(followups):
        where = f"metadata.noisy_versions.followups[{i}]"
        if not isinstance(followup, dict):
            raise PPOptImportError(f"{where}: expected an object, got {describe(followup)}")
        record = field_of(followup, "semantic_noise", "an object", f"{where}.")
        if record is not None:
            turn = field_of(followup, "turn", "an integer", f"{where}.")
            if turn is None:
                raise PPOptImportError(f"{where}.turn: missing; expected the user turn index (an integer)")
            out[turn] = _noise_record(record, f"{where}.semantic_noise")
    return out


def _noise_record(record: dict[str, Any], where: str) -> tuple[NoiseLayer, list[str]]:
    """One distractor record as (our layer, strategies); an unknown layer is an error naming the known ones."""
    name = field_of(record, "layer", "a string", f"{where}.")
    strategies = strings_of(record, "applied_strategies", f"{where}.")
    if name is not None:
        layer = _LAYERS.get(name.lower())
        if layer is None:
            raise PPOptImportError(f"{where}.layer: unknown noise layer {name!r}{did_you_mean(name, _LAYERS)}; "
                                   f"expected one of {', '.join(_LAYERS)}")
        return layer, strategies
    index = field_of(record, "layer_index", "an integer", f"{where}.")
    if index not in _LAYER_INDICES:
        got = "no layer_index" if index is None else f"layer_index {index}"
        raise PPOptImportError(f"{where}: no 'layer' and {got}; expected a layer (one of {', '.join(_LAYERS)}) "
                               f"or a layer_index (one of {', '.join(map(str, _LAYER_INDICES))})")
    return _LAYER_INDICES[index], strategies


def _user_turn(message: dict[str, Any], index: int, turn: int, noise: _Noise) -> UserTurn:
    """The user message at `full_conversation[index]` as user turn `turn`, with its noise record.

    PPOpt's distractor writes the noisy text with an LLM, so a noised turn's
    `written_by` is "llm"; an unnoised one keeps the default, as our own turns do.
    """
    text = message["content"]
    where = f"full_conversation[{index}]."
    meta = field_of(message, "metadata", "an object", where) or {}
    clean = field_of(meta, "clean_version", "a string", f"{where}metadata.") or text
    layer, strategies = noise.get(turn, ("none", []))
    record = NoiseRecord(layer=layer, strategies=strategies, clean=clean, noisy=text,
                         written_by="template" if layer == "none" else "llm")
    return UserTurn(session=0, turn=turn, intent=Intent(kind="task_request" if turn == 0 else "feedback"),
                    text=text, clean_text=clean, noise=record, pkis=[], rendered_by="ppopt")
