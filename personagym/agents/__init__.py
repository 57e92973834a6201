"""AutoGen AgentChat agents for PersonaGym: the simulated user, the distractor and the assistant policy.

``personagym.agents`` imports AutoGen (autogen-agentchat); ``import personagym``
does not import this package.
"""

from personagym.checks import check_installed

check_installed("autogen_agentchat", "llm", "personagym.agents (AutoGen agents)")

# ruff: noqa: E402 - the agents import AutoGen, after the check that names the extra to install
from personagym.agents.assistant import AssistantPolicyAgent
from personagym.agents.backend import ChatCompletionClientBackend
from personagym.agents.messages import EpisodeEndTermination
from personagym.agents.team import arun_team, as_assistant_agent, build_team, run_team
from personagym.agents.user import DistractorAgent, UserSimulatorAgent

__all__ = [
    "AssistantPolicyAgent",
    "ChatCompletionClientBackend",
    "DistractorAgent",
    "EpisodeEndTermination",
    "UserSimulatorAgent",
    "arun_team",
    "as_assistant_agent",
    "build_team",
    "run_team",
]
