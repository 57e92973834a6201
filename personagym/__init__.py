"""PersonaGym: simulated users with hidden, evolving profiles for LLM personalization.

The public API is imported lazily so that `import personagym` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "load_taxonomy": "personagym.simulators.taxonomy",
    "Taxonomy": "personagym.simulators.taxonomy",
    "load_schema": "personagym.simulators.persona",
    "PersonaSchema": "personagym.simulators.persona",
    "PersonaSampler": "personagym.simulators.sampler",
    "SamplerConfig": "personagym.simulators.sampler",
    "PreferenceProcess": "personagym.simulators.preferences",
    "PreferenceConfig": "personagym.simulators.preferences",
    "NoiseModel": "personagym.simulators.noise",
    "NoiseConfig": "personagym.simulators.noise",
    "TemplateRenderer": "personagym.simulators.renderers",
    "UserSimulator": "personagym.simulators.user",
    "UserConfig": "personagym.simulators.user",
    "simulate_turns": "personagym.simulators.simulate",
    "PersonaChatEnv": "personagym.envs.chat",
    "PersonaChatParallelEnv": "personagym.envs.multi_agent",
    "RewardWeights": "personagym.envs.rewards",
    "make_policy": "personagym.policies",
    "Policy": "personagym.policies",
    "rollout": "personagym.rollout",
    "Trajectory": "personagym.records",
    "Persona": "personagym.records",
    "PreferenceState": "personagym.records",
    "PreferenceEvent": "personagym.records",
    "PKI": "personagym.records",
    "UserTurn": "personagym.records",
    "ResponseFeatures": "personagym.records",
}

__all__ = ["__version__", *_EXPORTS]

from personagym.envs.registration import register_envs  # noqa: E402 - after __version__

register_envs()


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'personagym' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
