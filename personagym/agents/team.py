"""Run a PersonaGym episode as an AutoGen team: simulated user -> distractor -> assistant.

`arun_team` builds a ``RoundRobinGroupChat`` of the three agents that stops
when the episode ends (`EpisodeEndTermination`) and returns the env's
`Trajectory`: rewards and ground truth come from the env, the agents only
carry the words.  `run_team` is the same from sync code, on the env's own
event loop (AutoGen is async-only; one persistent loop per env).
"""

from __future__ import annotations

from typing import Any

from autogen_agentchat.agents import BaseChatAgent
from autogen_agentchat.teams import RoundRobinGroupChat
from autogen_core import CancellationToken
from autogen_core.models import ChatCompletionClient

from personagym.agents.assistant import AssistantPolicyAgent
from personagym.agents.messages import EpisodeEndTermination
from personagym.agents.user import DistractorAgent, UserSimulatorAgent, unwrap_env
from personagym.checks import check_int
from personagym.llm.runner import LoopRunner
from personagym.llm.types import LLMBackend
from personagym.policies import Policy
from personagym.records import Trajectory
from personagym.rollout import reset_policy

Assistant = AssistantPolicyAgent | Policy | ChatCompletionClient | LLMBackend


def as_assistant_agent(assistant: object) -> AssistantPolicyAgent:
    """An `AssistantPolicyAgent` from itself, a PersonaGym policy, an AutoGen client or a PersonaGym backend."""
    if isinstance(assistant, AssistantPolicyAgent):
        return assistant
    if isinstance(assistant, BaseChatAgent):
        raise TypeError(f"assistant must be an AssistantPolicyAgent, not another AutoGen agent "
                        f"({type(assistant).__name__}): it would read the simulated user's hidden, unnoised "
                        "messages; wrap its model client instead: AssistantPolicyAgent(model_client=...)")
    if isinstance(assistant, ChatCompletionClient | LLMBackend):
        return AssistantPolicyAgent(model_client=assistant)
    if isinstance(assistant, Policy):
        return AssistantPolicyAgent(policy=assistant)
    raise TypeError(f"assistant must be an AssistantPolicyAgent, a PersonaGym Policy, an AutoGen "
                    f"ChatCompletionClient or a PersonaGym LLMBackend, got {type(assistant).__name__}")


def build_team(env: Any, assistant: Assistant, *, seed: int | None = None,
               options: dict[str, Any] | None = None, max_turns: int | None = None) -> RoundRobinGroupChat:
    """The three-agent team of one episode (reset with ``seed`` and ``options`` on its first turn).

    ``assistant`` is what `arun_team` takes (an `AssistantPolicyAgent` or what
    one wraps); another AutoGen agent is refused, as there: it would read the
    simulated user's hidden messages.  ``max_turns`` caps the assistant's
    answers (None: until the episode ends).
    """
    return _round_robin(UserSimulatorAgent(env, seed=seed, options=options), as_assistant_agent(assistant), max_turns)


def _round_robin(user: UserSimulatorAgent, assistant: AssistantPolicyAgent, max_turns: int | None,
                 ) -> RoundRobinGroupChat:
    """User -> distractor -> assistant, stopped at the episode's end or after ``max_turns`` answers."""
    if max_turns is not None:
        max_turns = check_int("max_turns", max_turns, 1, why=" or None")
    distractor = DistractorAgent(user)
    taken = {user.name, distractor.name} & {assistant.name}
    if taken:
        raise ValueError(f"assistant name {assistant.name!r} is taken by the user side; choose another name")
    # each answer is one round of three agent turns; then the user reacts to the last answer and the distractor
    # writes that reaction, which is left unanswered (the trajectory's final_user)
    team_turns = 3 * max_turns + 2 if max_turns is not None else None
    return RoundRobinGroupChat([user, distractor, assistant], termination_condition=EpisodeEndTermination(),
                               max_turns=team_turns)


async def arun_team(
    env: Any,
    assistant: Assistant,
    *,
    seed: int | None = None,
    options: dict[str, Any] | None = None,
    max_turns: int | None = None,
    policy_name: str | None = None,
) -> Trajectory:
    """One episode of ``env`` played by an AutoGen team, returned as the env's trajectory record.

    Args:
        env: a `PersonaChatEnv` (or a Gymnasium wrapper of one), template or LLM mode.
        assistant: an `AssistantPolicyAgent`, or what one wraps (a Policy, an AutoGen
            ChatCompletionClient, a PersonaGym LLMBackend).  Its memory is reset first.
        seed, options: passed to the env's reset.
        max_turns: cap on the assistant's answers (None: until the episode ends).
        policy_name: recorded as the trajectory's ``policy`` (default: the agent's ``policy_name``).
    """
    base = unwrap_env(env)
    agent = as_assistant_agent(assistant)
    user = UserSimulatorAgent(base, seed=seed, options=options)
    team = _round_robin(user, agent, max_turns)
    await agent.on_reset(CancellationToken())
    await user.start()  # a bad seed or reset option raises here, as env.reset raises it
    if agent.policy is not None:
        reset_policy(agent.policy, seed)  # the episode's seed, as `run_episode` gives it
    await team.run()
    return base.trajectory(policy=policy_name or agent.policy_name)


def run_team(
    env: Any,
    assistant: Assistant,
    *,
    seed: int | None = None,
    options: dict[str, Any] | None = None,
    max_turns: int | None = None,
    policy_name: str | None = None,
    runner: LoopRunner | None = None,
) -> Trajectory:
    """`arun_team` from sync code, on ``runner`` (default: the env's own event loop, which its LLM backend uses)."""
    base = unwrap_env(env)
    loop = runner if runner is not None else base.loop  # the loop its LLM backend is bound to
    return loop.run(arun_team(base, assistant, seed=seed, options=options, max_turns=max_turns,
                              policy_name=policy_name),
                    async_alternative="personagym.agents.arun_team(...)")
