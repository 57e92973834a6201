"""The user side of a PersonaGym conversation as AutoGen agents: `UserSimulatorAgent` and `DistractorAgent`.

PersonaGym/PPOpt's pipeline in three speakers:

1. `UserSimulatorAgent` hears the assistant's answer, lets the env score it
   and the simulated user react and decide (``env.advance``: structured
   truth only; the step is finished at once in the template's words, so a
   team stopped here leaves no half step), and says what the user *means*:
   the clean utterance (the template's, or the env's LLM renderer's).  Its
   message is tagged "intended" and is hidden from the assistant.
2. `DistractorAgent` turns that into the message the assistant actually sees:
   the noise model already chose what to distort; the template noise or the
   env's LLM distractor writes how.  It makes the final turn current
   (``env.finish`` again) and emits the observation's message, tagged "observed"
   with the observation's turn and session.
3. The assistant (`AssistantPolicyAgent`) answers the observed message.

Rewards and records come from the env's structured truth, never from the
agents' text.  In template mode a team run produces exactly the trajectory of
``env.step`` with the same answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from autogen_agentchat.agents import BaseChatAgent
from autogen_agentchat.base import Response
from autogen_agentchat.messages import BaseChatMessage, BaseTextChatMessage, StopMessage, TextMessage
from autogen_core import CancellationToken

from personagym.agents.messages import (
    CLOSING_KEY,
    END_KEY,
    INTENDED,
    OBSERVED,
    ROLE_KEY,
    SESSION_KEY,
    TURN_KEY,
    check_agent_name,
    role_of,
)
from personagym.envs.llm_mode import PendingStep, judge_steps, surface_item
from personagym.records import UserTurn
from personagym.simulators.llm_renderer import LanguageSurface, SurfaceItem

#: What a PersonaGym env must offer the user-side agents (`PersonaChatEnv` does).
ENV_HOOKS = ("areset", "advance", "finish", "last_user", "llm", "trajectory")


@dataclass
class _Utterance:
    """What the user agent hands to the distractor: one user turn in the making.

    ``pending`` is the env step to finish (None for the opening turn, which
    ``areset`` already completed, with its ``observation``); ``item`` the
    turn for the LLM stages (None in template mode); ``clean`` the user's clean
    words for the distractor, None when the LLM renderer failed (the turn
    then falls back to its template words).
    """

    pending: PendingStep | None = None
    item: SurfaceItem | None = None
    clean: str | None = None
    observation: dict[str, Any] | None = None


def unwrap_env(env: Any) -> Any:
    """The PersonaGym env under Gymnasium wrappers, or a TypeError naming what is missing."""
    base = getattr(env, "unwrapped", env)
    # looked up on the class and the instance dict: reading a property like last_user may raise before reset
    missing = [hook for hook in ENV_HOOKS if not (hasattr(type(base), hook) or hook in getattr(base, "__dict__", {}))]
    if missing:
        raise TypeError(f"env must be a PersonaChatEnv (or a Gymnasium wrapper of one: the text envs Chat-v0, "
                        f"ChatClean-v0, ChatNoisy-v0, LongTerm-v0), got {type(base).__name__} "
                        f"without {', '.join(missing)}")
    return base


class UserSimulatorAgent(BaseChatAgent):
    """The simulated user: reacts to the assistant's answers and says what it means.

    On its first turn (and the first after ``on_reset``) it starts an episode
    with ``env.areset(seed=seed, options=options)``, unless `start` opened it
    before the team ran; the seed is used for the
    first episode only, later episodes continue the env's random stream (as
    Gymnasium's ``reset`` does).  On each later turn it reads the assistant's
    latest answer (the latest untagged text message) and advances the env.
    After the episode ended it answers with a `StopMessage`.

    Args:
        env: a `PersonaChatEnv` (or a Gymnasium wrapper of one); its LLM mode, if any, writes the words.
        name: agent name (an identifier, not "user").
        seed: seed of the first episode.
        options: reset options of every episode.
        description: what the agent does (AutoGen uses it to pick speakers).
    """

    def __init__(
        self,
        env: Any,
        *,
        name: str = "simulated_user",
        seed: int | None = None,
        options: dict[str, Any] | None = None,
        description: str = "A simulated user with a hidden profile; says what it means (hidden from the assistant).",
    ) -> None:
        super().__init__(check_agent_name(name), description)
        self.env = unwrap_env(env)
        self.seed = seed
        self.options = options
        self._started = False
        self._ended = False
        self._utterance: _Utterance | None = None
        self._opening: _Utterance | None = None  # the episode `start` opened, not said yet

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (TextMessage, StopMessage)

    @property
    def ended(self) -> bool:
        """Whether the episode is over (the last message has been said)."""
        return self._ended

    @property
    def surface(self) -> LanguageSurface | None:
        """The env's LLM language surface (None in template mode)."""
        return self.env.llm.surface if self.env.llm is not None else None

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        """Open the episode, or react to the assistant's latest answer; say what the user means."""
        if self._ended:
            return Response(chat_message=StopMessage(
                content="The simulated user has left the conversation.", source=self.name,
                metadata={END_KEY: "over"}))
        if not self._started:
            await self.start()
            self._utterance, self._opening, self._started = self._opening, None, True
            return self._say(self.env.last_user.clean_text, end=None)
        pending = self.env.advance(self._answer(messages).content)
        if self.env.llm is not None:  # the judge's term belongs to the step's reward, before it is finished
            await judge_steps(self.env.llm, [(self.env, pending)])
        # finished at once with the template turn, so the env is never left mid-step if the team stops here;
        # the distractor finishes it again with the final words
        self.env.finish(pending)
        self._utterance = await self._render(pending)
        end = "terminated" if pending.terminated else "truncated" if pending.truncated else None
        self._ended = end is not None
        clean = self._utterance.clean
        return self._say(pending.reply.clean_text if clean is None else clean, end=end,
                         closing=pending.closing.clean_text if pending.closing is not None else None)

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Start a new episode on the next turn."""
        self._started = self._ended = False
        self._utterance = self._opening = None

    async def start(self) -> None:
        """Open the episode now (``env.areset(seed=seed, options=options)``), not on this agent's first turn.

        `arun_team` calls it before the team runs, so a bad seed or reset
        option raises the env's own error to the caller instead of failing
        inside AutoGen's run (a RuntimeError around the message and a
        traceback).  The opening is said on the agent's next turn.  Once the
        episode is open (and until ``on_reset``) a call does nothing, so it
        never restarts an episode under way.
        """
        if self._started or self._opening is not None:
            return
        observation, _ = await self.env.areset(seed=self.seed, options=self.options)
        self.seed = None
        self._opening = _Utterance(observation=observation)

    def take_utterance(self) -> _Utterance | None:
        """The turn said last, handed over once (to the distractor)."""
        utterance, self._utterance = self._utterance, None
        return utterance

    # -- helpers ---------------------------------------------------------------------------
    def _answer(self, messages: Sequence[BaseChatMessage]) -> BaseTextChatMessage:
        """The assistant's latest answer: the latest text message no user-side agent tagged.

        Messages from "user" are tasks AutoGen injected (``team.run(task=...)``), not answers.
        """
        for message in reversed(messages):
            if (isinstance(message, BaseTextChatMessage) and role_of(message) is None
                    and message.source not in (self.name, "user")):
                return message
        raise ValueError(f"{self.name!r} has no assistant answer to react to among {len(messages)} new messages; "
                         "put the assistant between this agent's turns (user -> distractor -> assistant)")

    async def _render(self, pending: PendingStep) -> _Utterance:
        """The user's clean words for the pending reply: the LLM renderer's, else the template's.

        Mirrors `LanguageSurface.realize`: a noised turn without the LLM
        distractor keeps its template words, so it is not rendered.
        """
        reply, surface = pending.reply, self.surface
        if surface is None:
            return _Utterance(pending=pending, clean=reply.clean_text)
        item = surface_item(self.env, reply, new_session=pending.new_session)
        clean: str | None = reply.clean_text
        if surface.render_enabled and (reply.noise.layer == "none" or surface.distract_enabled):
            clean = (await surface.render([item])).texts[0]
        return _Utterance(pending=pending, item=item, clean=clean)

    def _say(self, clean: str, end: str | None, closing: str | None = None) -> Response:
        metadata = {ROLE_KEY: INTENDED} | ({END_KEY: end} if end else {}) | ({CLOSING_KEY: closing} if closing else {})
        return Response(chat_message=TextMessage(content=clean, source=self.name, metadata=metadata))


class DistractorAgent(BaseChatAgent):
    """Turns the simulated user's clean utterance into the noisy message the assistant sees.

    It works on the turn its `UserSimulatorAgent` handed over: the noise
    model's choice (layer, strategies) is made; the template noise or the
    env's LLM distractor writes it.  It then makes that turn the env's current one and emits
    the observation's message, tagged "observed" with the observation's turn
    and session (and ``episode_end`` on the last message).

    Args:
        user: the `UserSimulatorAgent` whose utterances this agent distorts.
        name: agent name (an identifier, not "user").
        description: what the agent does (AutoGen uses it to pick speakers).
    """

    def __init__(
        self,
        user: UserSimulatorAgent,
        *,
        name: str = "distractor",
        description: str = "Turns what the simulated user means into what it actually types (semantic-aware noise).",
    ) -> None:
        super().__init__(check_agent_name(name), description)
        if not isinstance(user, UserSimulatorAgent):
            raise TypeError(f"user must be the UserSimulatorAgent whose utterances to distort, "
                            f"got {type(user).__name__}")
        self.user = user

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (TextMessage, StopMessage)

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        """The observed message of the user's latest utterance."""
        utterance = self.user.take_utterance()
        if utterance is None:
            if self.user.ended:
                return Response(chat_message=StopMessage(
                    content="The simulated user has left the conversation.", source=self.name,
                    metadata={END_KEY: "over"}))
            raise ValueError(f"{self.name!r} has no utterance of {self.user.name!r} to distort; the user simulator "
                             "must speak right before the distractor (user -> distractor -> assistant)")
        end = None
        if utterance.pending is None:
            observation = utterance.observation
        else:
            utterance.pending.reply = await self._distort(utterance)
            observation, _, terminated, truncated, _ = self.user.env.finish(utterance.pending)
            end = "terminated" if terminated else "truncated" if truncated else None
        metadata = {ROLE_KEY: OBSERVED, TURN_KEY: str(observation["turn"]), SESSION_KEY: str(observation["session"])}
        if end:
            metadata[END_KEY] = end
        return Response(chat_message=TextMessage(content=observation["message"], source=self.name, metadata=metadata))

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Nothing to forget: the state of a turn lives in the user agent's hand-over."""

    async def _distort(self, utterance: _Utterance) -> UserTurn:
        """The final user turn: the template turn, or the clean words with the LLM distractor's noise.

        Mirrors `LanguageSurface.realize`: a failed stage falls back to the template turn, so after a failed
        LLM distractor the record's clean text is the template's, not the words the user agent said.
        """
        reply, surface, item, clean = utterance.pending.reply, self.user.surface, utterance.item, utterance.clean
        if surface is None or item is None:
            return reply
        if clean is None:
            return surface.assemble(item, None, None)
        if reply.noise.layer == "none":
            return surface.assemble(item, clean, clean)
        if not surface.distract_enabled:
            return reply
        noisy = (await surface.distract([item], [clean])).texts[0]
        return surface.assemble(item, clean, noisy)
