"""How PersonaGym's agents mark their messages, and the termination condition that reads the marks.

In an AutoGen team every message reaches every participant, so what the
simulated user *means* (its clean utterance) would reach the assistant too.
The user-side agents therefore tag their messages in ``metadata``:

* ``personagym.role = "intended"``: the simulated user's clean utterance, hidden
  from the assistant (`AssistantPolicyAgent` never reads it);
* ``personagym.role = "observed"``: the noisy message the assistant actually
  sees, with the observation's ``personagym.turn`` and ``personagym.session``;
* ``personagym.closing``: on the simulated user's message that opens a later
  session, the goodbye that closed the one before (the assistant never sees
  it, as in `PersonaChatEnv`, but the transcript keeps what was said);
* ``personagym.episode_end = "terminated" | "truncated"`` on the messages that
  close the episode, which `EpisodeEndTermination` stops the team on, and
  ``"over"`` on the `StopMessage` a user-side agent answers with afterwards.

Metadata values are strings (AutoGen's ``Dict[str, str]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from autogen_agentchat.base import TerminatedException, TerminationCondition
from autogen_agentchat.messages import BaseAgentEvent, BaseChatMessage, StopMessage
from autogen_core import Component
from pydantic import BaseModel

ROLE_KEY = "personagym.role"
TURN_KEY = "personagym.turn"
SESSION_KEY = "personagym.session"
END_KEY = "personagym.episode_end"
CLOSING_KEY = "personagym.closing"
INTENDED = "intended"
OBSERVED = "observed"
RESERVED_NAMES = ("user",)


def check_agent_name(name: object) -> str:
    """The agent name, or a ValueError: it must be an identifier and not "user".

    AutoGen's ``team.run(task=...)`` injects the task as ``source="user"``;
    an agent of that name would make the transcript ambiguous.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"agent name must be a Python identifier (AutoGen's rule), got {name!r}")
    if name in RESERVED_NAMES:
        raise ValueError(f"agent name {name!r} is reserved: AutoGen's team.run injects the task as "
                         f"source='user'; use e.g. 'simulated_user'")
    return name


def role_of(message: BaseChatMessage) -> str | None:
    """"intended", "observed", or None for a message no PersonaGym user-side agent tagged."""
    return message.metadata.get(ROLE_KEY)


def episode_end_of(message: BaseChatMessage) -> str | None:
    """"terminated"/"truncated" when the message closes the episode, "over" after it, else None."""
    return message.metadata.get(END_KEY)


class EpisodeEndTerminationConfig(BaseModel):
    """`EpisodeEndTermination` has no settings."""


class EpisodeEndTermination(TerminationCondition, Component[EpisodeEndTerminationConfig]):
    """Stop the team when the assistant has nothing left to answer: the episode is over.

    It fires on the *observed* message that closes the episode (the one the
    distractor writes last), so the transcript ends with the user's final
    message as the assistant would have seen it, left unanswered as in the
    trajectory's ``final_user``.
    """

    component_config_schema = EpisodeEndTerminationConfig
    component_provider_override = "personagym.agents.EpisodeEndTermination"

    def __init__(self) -> None:
        self._terminated = False

    @property
    def terminated(self) -> bool:
        return self._terminated

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self._terminated:
            raise TerminatedException("the episode has already ended")
        for message in messages:
            if isinstance(message, BaseChatMessage) and role_of(message) == OBSERVED and episode_end_of(message):
                self._terminated = True
                return StopMessage(content=f"The episode ended ({episode_end_of(message)}).",
                                   source="EpisodeEndTermination")
        return None

    async def reset(self) -> None:
        self._terminated = False

    def _to_config(self) -> EpisodeEndTerminationConfig:
        return EpisodeEndTerminationConfig()

    @classmethod
    def _from_config(cls, config: EpisodeEndTerminationConfig) -> Self:
        return cls()
