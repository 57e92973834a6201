"""Assistant policies: the `Policy` protocol, a registry, and the built-in baselines."""

from personagym.policies import builtin as _builtin  # noqa: F401 - registers the built-ins
from personagym.policies import llm_policy as _llm_policy  # noqa: F401 - registers "llm" and "llm-profile"
from personagym.policies import popular as _popular  # noqa: F401 - registers "popular"
from personagym.policies.base import (
    BatchedPolicy,
    Knowledge,
    Observation,
    Observations,
    Policy,
    check_policy_name,
    make_policy,
    observation_list,
    policy_names,
    register_policy,
)

__all__ = [
    "BatchedPolicy",
    "Knowledge",
    "Observation",
    "Observations",
    "Policy",
    "check_policy_name",
    "make_policy",
    "observation_list",
    "policy_names",
    "register_policy",
]
