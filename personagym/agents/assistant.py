"""`AssistantPolicyAgent`: a PersonaGym policy or any chat model as an AutoGen AgentChat agent.

The agent answers the latest message it may see: the distractor's *observed*
message (or, in a team without PersonaGym's user side, the latest untagged
text message).  The simulated user's *intended* message never reaches the
policy or the model, so the agent sees exactly what the env's observation
holds and nothing of the hidden profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from autogen_agentchat.agents import BaseChatAgent
from autogen_agentchat.base import Response
from autogen_agentchat.messages import BaseChatMessage, BaseTextChatMessage, TextMessage
from autogen_core import CancellationToken
from autogen_core.models import AssistantMessage, ChatCompletionClient, LLMMessage, SystemMessage, UserMessage

from personagym.agents.messages import INTENDED, OBSERVED, SESSION_KEY, TURN_KEY, check_agent_name, role_of
from personagym.llm.types import ChatMessage, ChatRequest, LLMBackend, LLMError, Sampling
from personagym.policies import Observation, Policy
from personagym.rollout import reset_policy

DEFAULT_SYSTEM_MESSAGE = (
    "You are a helpful personal assistant. Pay attention to what the user tells you about themselves "
    "and personalise your answers to it."
)


class AssistantPolicyAgent(BaseChatAgent):
    """The assistant side of a PersonaGym conversation, usable in any AutoGen team.

    Give exactly one of:

    * ``policy``: a PersonaGym `Policy`.  It receives the env's observation
      (``message``, ``turn``, ``session``, rebuilt from the observed message's
      metadata) and keeps its own memory; an ``aact_batch`` coroutine is
      awaited when the policy has one, else ``act`` is called.
    * ``model_client``: an AutoGen ``ChatCompletionClient`` (e.g. autogen-ext's
      ``OpenAIChatCompletionClient`` against ``vllm serve``) or a PersonaGym
      `LLMBackend`.  The agent keeps the chat history (the messages it saw and
      its answers) and sends it with ``system_message`` on every turn.

    Args:
        name: agent name (an identifier, not "user").
        policy: a PersonaGym policy.
        model_client: an AutoGen chat completion client or a PersonaGym LLM backend.
        system_message: system prompt of the model (model_client only).
        sampling: sampling parameters (LLMBackend only; an AutoGen client uses its own settings).
        policy_name: recorded as the trajectory's ``policy`` (default: derived from the policy or client).
        description: what the agent does (AutoGen uses it to pick speakers).
    """

    def __init__(
        self,
        name: str = "assistant",
        *,
        policy: Policy | None = None,
        model_client: ChatCompletionClient | LLMBackend | None = None,
        system_message: str = DEFAULT_SYSTEM_MESSAGE,
        sampling: Sampling | None = None,
        policy_name: str | None = None,
        description: str = "A personal assistant that answers the user's messages.",
    ) -> None:
        super().__init__(check_agent_name(name), description)
        if (policy is None) == (model_client is None):
            raise ValueError("AssistantPolicyAgent needs exactly one of policy= or model_client=, got "
                             + ("both" if policy is not None else "neither"))
        if policy is not None and not isinstance(policy, Policy):
            raise TypeError(f"policy must be a PersonaGym Policy (with act(observation) and act_batch(observations)),"
                            f" got {type(policy).__name__}")
        if model_client is not None and not isinstance(model_client, ChatCompletionClient | LLMBackend):
            raise TypeError("model_client must be an autogen_core.models.ChatCompletionClient or a PersonaGym "
                            f"LLMBackend, got {type(model_client).__name__}")
        if sampling is not None and not isinstance(model_client, LLMBackend):
            raise ValueError("sampling applies to an LLMBackend model_client only; configure an AutoGen client's "
                             "sampling when creating it")
        self.policy = policy
        self.model_client = model_client
        self.system_message = system_message
        self.sampling = sampling or Sampling()
        self.policy_name = policy_name or _default_policy_name(policy, model_client)
        self._history: list[tuple[str, str]] = []  # (role, text), role "user" | "assistant"
        self._answers = 0

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (TextMessage,)

    @property
    def chat_history(self) -> list[tuple[str, str]]:
        """The (role, text) messages the model has seen and written since the last reset (model_client only)."""
        return list(self._history)

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        """Answer the latest message the assistant may see."""
        message = self._visible(messages)
        observation = self._observation(message)
        if self.policy is not None:
            text = await self._act(observation)
        else:
            self._history.append(("user", observation["message"]))
            text = await self._complete(cancellation_token)
            self._history.append(("assistant", text))
        self._answers += 1
        return Response(chat_message=TextMessage(content=text, source=self.name))

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Forget the conversation: the policy's memory (its ``reset()``) and the chat history."""
        if self.policy is not None:
            reset_policy(self.policy, None)
        self._history.clear()
        self._answers = 0

    # -- helpers ---------------------------------------------------------------------------
    def _visible(self, messages: Sequence[BaseChatMessage]) -> BaseTextChatMessage:
        """The observed message to answer; else the latest untagged text message from someone else."""
        texts = [m for m in messages if isinstance(m, BaseTextChatMessage) and m.source != self.name]
        for wanted in (OBSERVED, None):
            for message in reversed(texts):
                if role_of(message) == wanted:
                    return message
        hidden = any(role_of(m) == INTENDED for m in texts)
        raise ValueError(
            f"agent {self.name!r} got no message it may answer"
            + ("; the simulated user's intended message is hidden from the assistant: put a DistractorAgent "
               "between the UserSimulatorAgent and the assistant" if hidden else "")
        )

    def _observation(self, message: BaseTextChatMessage) -> Observation:
        """The env observation the message stands for (untagged messages: turn counted here, session 0)."""
        meta = message.metadata
        if role_of(message) == OBSERVED:
            return {"message": message.content, "turn": int(meta[TURN_KEY]), "session": int(meta[SESSION_KEY])}
        return {"message": message.content, "turn": self._answers, "session": 0}

    async def _act(self, observation: Observation) -> str:
        policy: Any = self.policy
        if callable(getattr(policy, "aact_batch", None)):
            (text,) = await policy.aact_batch([observation])
        else:
            text = policy.act(observation)
        if not isinstance(text, str):
            raise TypeError(f"policy {self.policy_name!r} returned {type(text).__name__}, expected str")
        return text

    async def _complete(self, cancellation_token: CancellationToken) -> str:
        client = self.model_client
        if isinstance(client, ChatCompletionClient):
            messages: list[LLMMessage] = [SystemMessage(content=self.system_message)]
            messages += [UserMessage(content=text, source="user") if role == "user"
                         else AssistantMessage(content=text, source=self.name) for role, text in self._history]
            result = await client.create(messages, cancellation_token=cancellation_token)
            if not isinstance(result.content, str):
                raise TypeError(f"model_client of {self.name!r} returned {type(result.content).__name__} "
                                "(function calls), expected text; create the client without tools")
            return result.content
        request = ChatRequest(
            messages=(ChatMessage(role="system", content=self.system_message),
                      *(ChatMessage(role=role, content=text) for role, text in self._history)),  # type: ignore[arg-type]
            sampling=self.sampling, tag=f"{self.name} answer {self._answers}",
        )
        (completion,) = await client.generate([request])  # type: ignore[union-attr]
        if not completion.ok:
            raise LLMError(f"{request.tag}: {completion.error}")
        return completion.text


def _default_policy_name(policy: Policy | None, model_client: object) -> str:
    """The policy's ``name``, or the client's class (and model, for a PersonaGym backend)."""
    if policy is not None:
        return str(getattr(policy, "name", type(policy).__name__))
    if isinstance(model_client, LLMBackend):
        return f"llm:{model_client.model}"
    return f"autogen:{type(model_client).__name__}"
