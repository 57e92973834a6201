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

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from personagym import __version__
from personagym.envs.rewards import RewardWeights, reward_components, scalar_reward
from personagym.records import Intent, NoiseLayer, NoiseRecord, Trajectory, Turn, UserTurn
from personagym.simulators.analyzer import ResponseAnalyzer, shared_analyzer
from personagym.simulators.persona import PersonaSchema, load_schema
from personagym.simulators.ppopt import PPOptImportError, persona_from_ppopt
from personagym.simulators.preferences import assess, initial_state
from personagym.simulators.sampler import PersonaSampler

ENV_ID = "ppopt/import"

#: PPOpt distractor layer names (and 1-based indices) -> our noise layers.
_LAYERS: dict[str, NoiseLayer] = {
    "skipped": "none", "none": "none", "": "none",
    "surface_noise": "surface", "surface": "surface", "1": "surface",
    "incomplete_info": "incomplete", "incomplete": "incomplete", "2": "incomplete",
    "semantic_ambiguity": "ambiguity", "ambiguity": "ambiguity", "3": "ambiguity",
}  # fmt: skip


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
    for path in paths:
        try:
            try:
                doc = json.loads(Path(path).read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise PPOptImportError(f"not a JSON interaction file ({exc})") from None
            trajectory = conversation_to_trajectory(doc, schema, sampler, analyzer, source=str(path))
        except (OSError, UnicodeDecodeError, PPOptImportError) as exc:
            result.files.append({"file": str(path), "status": "failed", "reason": str(exc)})
            continue
        result.trajectories.append(trajectory)
        result.files.append({"file": str(path), "status": "imported", "trajectory_id": trajectory.trajectory_id,
                             "turns": len(trajectory.turns)})
    return result


def conversation_to_trajectory(doc: Any, schema: PersonaSchema, sampler: PersonaSampler,
                               analyzer: ResponseAnalyzer, source: str = "") -> Trajectory:
    """One PPOpt interaction document as a trajectory (errors name the field at fault)."""
    if not isinstance(doc, dict):
        raise PPOptImportError(f"expected a JSON object, got {type(doc).__name__}")
    messages = doc.get("full_conversation")
    if not isinstance(messages, list) or not messages:
        hint = " (a PPOpt persona file: import it with `personagym personas import`)" \
            if "features" in doc and "persona_features" not in doc else ""
        raise PPOptImportError(f"no 'full_conversation' list of messages{hint}")
    persona = persona_from_ppopt(doc, schema, sampler)
    state = initial_state(persona, schema)
    noise = _noise_records(doc)
    weights = RewardWeights()
    pairs = _exchanges(messages)
    turns: list[Turn] = []
    for step, (user, assistant) in enumerate(pairs):
        features = analyzer.analyze(assistant)
        last = step == len(pairs) - 1
        ended = last and bool(doc.get("metadata", {}).get("conversation_ended", True))
        components = reward_components(assess(state, features, schema), profile=0.0, ended=ended,
                                       satisfied=ended, max_turns=len(pairs))
        turns.append(Turn(step=step, session=0, turn=step, user=_user_turn(user, step, noise), assistant=assistant,
                          features=features, reward=scalar_reward(components, weights),
                          reward_components=components))
    final_user = None
    if len(messages) % 2 == 1:  # the user spoke last and got no answer
        final_user = _user_turn(messages[-1], len(pairs), noise)
    model = doc.get("metadata", {}).get("assistant_model", {})
    return Trajectory(
        trajectory_id=str(doc.get("sample_id") or f"ppopt_{persona.persona_id}"),
        env_id=ENV_ID,
        policy=str(model.get("model")) if isinstance(model, dict) and model.get("model") else None,
        persona=persona,
        initial_state=state,
        final_state=state,
        turns=turns,
        final_user=final_user,
        total_reward=round(sum(t.reward for t in turns), 6),
        terminated=bool(doc.get("metadata", {}).get("conversation_ended", True)),
        truncated=False,
        config={"source": source, "original_query": doc.get("original_query")},
        versions={"personagym": __version__},
    )


def _exchanges(messages: list[Any]) -> list[tuple[dict[str, Any], str]]:
    """(user message, the assistant's reply) pairs, in order; roles must alternate, user first."""
    for i, msg in enumerate(messages):
        role = "user" if i % 2 == 0 else "assistant"
        if not isinstance(msg, dict) or msg.get("role") != role or not isinstance(msg.get("content"), str):
            raise PPOptImportError(f"full_conversation[{i}]: expected a {role} message with text content, "
                                   f"got {str(msg)[:80]!r}")
    return [(messages[i], messages[i + 1]["content"]) for i in range(0, len(messages) - 1, 2)]


def _noise_records(doc: dict[str, Any]) -> dict[int, tuple[NoiseLayer, list[str]]]:
    """User turn index -> (layer, strategies) from the distractor's metadata."""
    meta = doc.get("metadata", {})
    out: dict[int, tuple[NoiseLayer, list[str]]] = {}
    records = [(0, meta.get("semantic_noise", {}).get("initial_query"))]
    records += [(f.get("turn"), f.get("semantic_noise")) for f in meta.get("noisy_versions", {}).get("followups", [])
                if isinstance(f, dict)]
    for turn, record in records:
        if isinstance(turn, int) and isinstance(record, dict):
            name = str(record.get("layer", "none")).lower()
            layer = _LAYERS.get(name) or _LAYERS.get(str(record.get("layer_index", "")), "none")
            out[turn] = (layer, [str(s) for s in record.get("applied_strategies") or []])
    return out


def _user_turn(message: dict[str, Any], turn: int, noise: dict[int, tuple[NoiseLayer, list[str]]]) -> UserTurn:
    text = message["content"]
    clean = (message.get("metadata") or {}).get("clean_version") or text
    layer, strategies = noise.get(turn, ("none", []))
    return UserTurn(session=0, turn=turn, intent=Intent(kind="task_request" if turn == 0 else "feedback"),
                    text=text, clean_text=clean, noise=NoiseRecord(layer=layer, strategies=strategies, clean=clean,
                                                                   noisy=text),
                    pkis=[], rendered_by="ppopt")
