"""Registered, versioned env ids (`gym.make("PersonaGym/Chat-v0")`)."""

from __future__ import annotations

from typing import Any

ENTRY_POINT = "personagym.envs.chat:PersonaChatEnv"

#: id -> (description, kwargs); envs of another class are in `ENTRY_POINTS`.
ENV_SPECS: dict[str, tuple[str, dict[str, Any]]] = {
    "PersonaGym/Chat-v0": ("one session, default noise (25% of utterances)", {}),
    "PersonaGym/ChatClean-v0": ("one session, no noise", {"noise_rate": 0.0}),
    "PersonaGym/ChatNoisy-v0": ("one session, heavy noise (60% of utterances)", {"noise_rate": 0.6}),
    "PersonaGym/LongTerm-v0": (
        "four sessions with preference drift and life events between them",
        {"sessions": 4, "max_turns": 6},
    ),
    "PersonaGym/Structured-v0": (
        "Chat-v0 with a discrete action menu and numeric features (for classic RL agents)",
        {},
    ),
}

#: id -> entry point, for ids whose class is not `PersonaChatEnv`.
ENTRY_POINTS: dict[str, str] = {"PersonaGym/Structured-v0": "personagym.envs.structured:StructuredChatEnv"}

MAX_EPISODE_TURNS = 64


def register_envs() -> None:
    """Register every PersonaGym id with Gymnasium (idempotent)."""
    import gymnasium as gym

    for env_id, (_, kwargs) in ENV_SPECS.items():
        if env_id in gym.registry:
            continue
        gym.register(id=env_id, entry_point=ENTRY_POINTS.get(env_id, ENTRY_POINT), kwargs={**kwargs, "env_id": env_id},
                     disable_env_checker=False)
