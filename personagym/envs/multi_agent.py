"""`PersonaChatParallelEnv`: the conversation as a PettingZoo ParallelEnv, both sides learnable.

Build it with `parallel_env(**kwargs)` (or `raw_env(**kwargs)` for PettingZoo's
AEC API).  The two agents take turns: a conversation is strictly alternating,
and in a simultaneous-move API only one side can react to the other's last
message per step.  So every step has one *active* agent, named by the
observations' ``your_turn`` flag and by ``info["active_agent"]``; the other
agent's action is ignored (pass ``None``).  The user speaks first.
"""

from __future__ import annotations

import reprlib
import warnings
from typing import Any, ClassVar, Literal

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding

from personagym.checks import as_config, missing_package

try:
    from pettingzoo import AECEnv, ParallelEnv
    from pettingzoo.utils.conversions import parallel_to_aec
except ImportError as err:  # an extra: say which, not only "No module named 'pettingzoo'"
    raise missing_package("pettingzoo", "multiagent", "PersonaChatParallelEnv") from err
from personagym.envs.chat import (
    MAX_MESSAGE_CHARS,
    check_no_unknown_options,
    check_options,
    check_positive,
    check_render_mode,
    check_seed_not_bool,
    draw_user,
    parse_persona,
    parse_simulation,
    render_lines,
)
from personagym.envs.chat import RESET_OPTIONS as CHAT_RESET_OPTIONS
from personagym.envs.fidelity import INTEREST_KEYS, FidelityScore, ProfileFidelity, UserRewardWeights, user_reward
from personagym.envs.knowledge import WorldKnowledge, asks
from personagym.envs.llm_mode import LLMOptions, build_llm_mode
from personagym.envs.rewards import (
    ProfileItem,
    RewardWeights,
    profile_f1,
    resolve_profile,
    reward_components,
    scalar_reward,
    stated_items,
    target_profile,
)
from personagym.envs.spaces import UnicodeText, unicode_problem
from personagym.llm.runner import LoopRunner
from personagym.llm.types import LLMBackend
from personagym.profile_format import format_profile, split_profile
from personagym.records import PKI, Persona, UserTurn, session_marker
from personagym.simulators.analyzer import shared_analyzer
from personagym.simulators.llm_renderer import SurfaceItem
from personagym.simulators.noise import NoiseConfig
from personagym.simulators.persona import load_schema
from personagym.simulators.preferences import Assessment, PreferenceConfig
from personagym.simulators.renderers import TemplateRenderer
from personagym.simulators.sampler import PersonaSampler, SamplerConfig
from personagym.simulators.user import UserConfig, UserFactory, UserSimulator
from personagym.suggest import did_you_mean

ASSISTANT = "assistant"
SIMULATED_USER = "simulated_user"
AGENTS = (ASSISTANT, SIMULATED_USER)
#: A learner user's utterance containing this token ends the session (the token is not shown).
GOODBYE = "<goodbye>"
USER_POLICIES = ("learner", "simulator")
RESET_OPTIONS = ("persona",)

UserPolicy = Literal["learner", "simulator"]
Observations = dict[str, dict[str, Any]]
Infos = dict[str, dict[str, Any]]
StepResult = tuple[Observations, dict[str, float], dict[str, bool], dict[str, bool], Infos]


class PersonaChatParallelEnv(ParallelEnv[str, dict[str, Any], str | None]):
    """A simulated user with a hidden, evolving profile and an assistant, both agents.

    ## Description
    The env of `PersonaChatEnv` with the user as a second agent.  Agents
    alternate, the user first: the user opens each session with a request,
    the assistant answers, the user reacts, ...  On its turn the user agent
    may speak itself or let the built-in `UserSimulator` speak (see Action
    Space); either way the simulator keeps the hidden preference state, which
    reacts to every answer and drifts between sessions.

    ## Agents
    ``"assistant"`` and ``"simulated_user"`` (not ``"user"``, the name of the
    human side in AutoGen transcripts).  Both stay in ``agents`` until the
    episode ends; then ``agents`` is empty.

    ## Observation Space
    Assistant: ``Dict(message=UnicodeText(max_utterance_chars),
    turn=Discrete(max_turns + 1), session=Discrete(sessions), your_turn=Discrete(2))``:
    the user's last utterance and nothing hidden.  Simulated user:
    ``Dict(message=UnicodeText(max_action_chars), persona=UnicodeText(4096),
    profile=UnicodeText(4096), turn, session, your_turn)``: the assistant's last
    answer ("" when a session starts), the persona summary, and the current
    profile as a ``<profile>`` block (`personagym.profile_format`); the user
    may know itself.  ``turn`` counts the assistant's answers in the session.

    ## Action Space
    Assistant: ``UnicodeText(max_action_chars)``, as in `PersonaChatEnv`: an
    optional ``<profile>...</profile>`` block (scored, not shown to the user)
    then the answer.  Simulated user: ``UnicodeText(max_utterance_chars)``, its
    next utterance; one containing ``"<goodbye>"`` ends the session (the token
    is removed from what the assistant sees).  ``None``, ``""`` or blank text lets the
    built-in simulator speak for this turn; with ``user_policy="simulator"``
    it always does.  The inactive agent's action is ignored (``None`` is fine).
    An action outside its space raises an error naming the agent and action.

    ## Rewards
    The user is rewarded on its own turns.  The assistant is rewarded for an
    answer once it is known whether the user leaves after it: on its own turn
    with ``user_policy="simulator"`` (as `PersonaChatEnv`), on the user's next
    turn with ``"learner"`` (the learner decides); 0 on the other turns.
    Assistant: `PersonaChatEnv`'s multi-objective reward (preference,
    constraint, style, profile, efficiency; ``info["reward_components"]``),
    from the hidden truth; efficiency's +-1 is paid once, when the user
    leaves.  When a learner speaks instead of the simulator, the simulator's
    drafted reply was never said, and what the learner said counts
    (`UserSimulator.take_over`): what it states is told, and what it asks sets
    what the next answer is judged on.
    Simulated user: profile fidelity (`personagym.envs.fidelity`), a
    cycle-consistency reward: the change, this turn, of
    ``fidelity * F1(profile recovered from its utterances this session,
    expressible truth) - contradiction * (contradictions of the truth)``,
    where a message is credited for at most 3 new items and a session for one
    a message after that, at most ``max_turns + 1`` (a recital is no user),
    and what a message only asks about claims nothing (its request's topic
    counts as a like only when the profile holds it).
    A session's rewards sum to its final score.

    ## Episode End
    A session ends when the user says goodbye, or at the assistant's
    ``max_turns``-th answer: the user replies to it in the last session, and
    in an earlier one takes it in silently and opens the next session (as
    `PersonaChatEnv`: no reply the assistant never hears).  The last session's end ends the
    episode for both agents: ``terminations`` on a goodbye, ``truncations``
    otherwise.  Stepping a finished episode returns five empty dicts.

    ## Arguments
    As `PersonaChatEnv`: ``sessions`` (1), ``max_turns`` (8), ``noise_rate`` or
    ``noise``, ``reward_weights``, ``persona``, ``sampler``, ``preferences``,
    ``user``, ``max_action_chars`` (8000), ``render_mode`` ("ansi" or "human"); and
    ``user_reward_weights`` (`UserRewardWeights`), ``user_policy``
    ("learner": the user agent's text is used unless None/""; "simulator":
    always the simulator), ``max_utterance_chars`` (4096).
    ``reset(options={"persona": ...})`` sets the persona of that episode;
    `PersonaChatEnv`'s other reset options are refused (pass them here).
    LLM mode as `PersonaChatEnv` (``backend``, ``model``, ``base_url``,
    ``llm``): the simulator's utterances are written by the LLM when spoken.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "personagym_chat_v0", "render_modes": ["ansi", "human"], "is_parallelizable": True,
    }

    def __init__(
        self,
        *,
        sessions: int = 1,
        max_turns: int = 8,
        noise_rate: float | None = None,
        noise: NoiseConfig | dict | None = None,
        reward_weights: RewardWeights | dict | None = None,
        user_reward_weights: UserRewardWeights | dict | None = None,
        persona: Persona | dict | None = None,
        sampler: SamplerConfig | dict | None = None,
        preferences: PreferenceConfig | dict | None = None,
        user: UserConfig | dict | None = None,
        user_policy: UserPolicy = "learner",
        max_action_chars: int = 8000,
        max_utterance_chars: int = MAX_MESSAGE_CHARS,
        render_mode: str | None = None,
        backend: str | LLMBackend | None = None,
        model: str | None = None,
        base_url: str | None = None,
        llm: LLMOptions | dict | None = None,
        **unknown: Any,
    ) -> None:
        check_no_unknown_options(PersonaChatParallelEnv, unknown)
        check_render_mode(render_mode, self.metadata["render_modes"])
        if user_policy not in USER_POLICIES:
            raise ValueError(f"user_policy must be one of {', '.join(map(repr, USER_POLICIES))}, "
                             f"got {user_policy!r}{did_you_mean(str(user_policy), USER_POLICIES)}")
        for name, value in (("sessions", sessions), ("max_turns", max_turns),
                            ("max_action_chars", max_action_chars), ("max_utterance_chars", max_utterance_chars)):
            check_positive(name, value)
        self.schema = load_schema()
        self.sessions, self.max_turns = sessions, max_turns
        self.noise_config, self.weights, self.persona_given, sampler_config, self.preference_config, \
            self.user_config = parse_simulation(noise=noise, noise_rate=noise_rate, reward_weights=reward_weights,
                                                persona=persona, sampler=sampler, preferences=preferences, user=user)
        self.user_weights = as_config(UserRewardWeights, user_reward_weights, "user_reward_weights")
        self.sampler = PersonaSampler(self.schema, sampler_config)
        self.user_policy = user_policy
        #: a learner may speak for the user: the simulator's replies stay tentative until spoken
        self._learner = user_policy == "learner"
        self.max_utterance_chars = max_utterance_chars
        self.render_mode = render_mode
        self.renderer = TemplateRenderer(self.schema)
        self._users = UserFactory(self.schema, self.renderer)
        self.analyzer = shared_analyzer(self.schema.taxonomy)
        self.llm = build_llm_mode(backend, model=model, base_url=base_url, options=llm, analyzer=self.analyzer)
        self._loop = LoopRunner()
        self._knowledge = WorldKnowledge(self.schema, self.analyzer)
        # a session credits the user one profile item per message it can hold (opening + a reply to each answer)
        self._fidelity = ProfileFidelity(self._knowledge, self.schema, per_session=max_turns + 1)
        self.possible_agents = list(AGENTS)
        self.agents: list[str] = []
        common = {"turn": spaces.Discrete(max_turns + 1), "session": spaces.Discrete(sessions),
                  "your_turn": spaces.Discrete(2)}
        self.observation_spaces = {
            ASSISTANT: spaces.Dict({"message": UnicodeText(max_utterance_chars), **common}),
            SIMULATED_USER: spaces.Dict({
                "message": UnicodeText(max_action_chars), "persona": UnicodeText(MAX_MESSAGE_CHARS),
                "profile": UnicodeText(MAX_MESSAGE_CHARS), **common,
            }),
        }
        self.action_spaces = {ASSISTANT: UnicodeText(max_action_chars),
                              SIMULATED_USER: UnicodeText(max_utterance_chars)}
        self._np_random: np.random.Generator | None = None
        self._user: UserSimulator | None = None
        self._transcript: list[tuple[int, str, str]] = []  # (session, speaker, words)
        self._shown = 0  # transcript lines printed so far (render_mode="human")

    # -- PettingZoo API --------------------------------------------------------------------
    def observation_space(self, agent: str) -> spaces.Space:
        """The agent's observation space (the same object on every call)."""
        return self.observation_spaces[self._known(agent)]

    def action_space(self, agent: str) -> spaces.Space:
        """The agent's action space (the same object on every call)."""
        return self.action_spaces[self._known(agent)]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Observations, Infos]:
        """Start an episode: a persona, a fresh preference state; the user's turn to open.

        The persona and the simulator's draws follow `PersonaChatEnv` for the
        same seed, so the two envs meet the same user.  `PersonaChatEnv`'s
        other reset options raise (they are constructor arguments here);
        other unknown keys are warned about and ignored (PettingZoo's API
        test passes one).
        """
        persona = self._episode_persona(options or {})
        check_seed_not_bool(seed)
        if seed is not None or self._np_random is None:
            self._np_random, _ = seeding.np_random(seed)
        self._user, _ = draw_user(self._np_random, persona, self.sampler, self._users, noise=self.noise_config,
                                  preferences=self.preference_config, config=self.user_config)
        self.agents = list(AGENTS)
        self._transcript, self._shown = [], 0
        # what the user's utterances of this episode expressed: the simulator's PKIs, mapped to the interests
        # held when a profile is scored (as `PersonaChatEnv` does: a drift moves the credit), and a learner's words
        self._pkis: list[PKI] = []
        self._learner_stated: set[ProfileItem] = set()
        self._pending: tuple[Assessment, float] | None = None  # an answer whose reward waits for the user's reply
        self._start_session(self._user.open_session(tentative=self._learner))
        return self._observations(), {agent: self._info() for agent in self.agents}

    def step(self, actions: dict[str, str | None]) -> StepResult:
        """The active agent speaks; the turn passes (or the session or episode ends)."""
        if not isinstance(actions, dict):
            raise TypeError(f"actions must be a dict of agent -> action, got {type(actions).__name__}")
        if self._user is None:
            raise RuntimeError("call reset() before step()")
        if not self.agents:
            if any(action is not None for action in actions.values()):
                warnings.warn("step() called after the episode ended; the actions are ignored, call reset()",
                              stacklevel=2)
            return {}, {}, {}, {}, {}
        self._check_actions(actions)
        rewards = dict.fromkeys(self.agents, 0.0)
        infos: Infos = {agent: {} for agent in self.agents}
        terminated = truncated = False
        if self._active == ASSISTANT:
            rewards[ASSISTANT], infos[ASSISTANT] = self._assistant_turn(actions[ASSISTANT])  # type: ignore[arg-type]
            self._active = SIMULATED_USER
        else:
            rewards[SIMULATED_USER], infos[SIMULATED_USER], goodbye = self._user_turn(actions.get(SIMULATED_USER))
            if self._pending is not None:  # the answer before is rewarded now it is known whether the user left
                rewards[ASSISTANT], infos[ASSISTANT] = self._assistant_reward(*self._pending)
                self._pending = None
            if goodbye or self._session_turns >= self.max_turns:
                if self._user.state.session >= self.sessions - 1:
                    terminated, truncated = goodbye, not goodbye
                else:
                    self._user.next_session()
                    self._start_session(self._user.open_session(tentative=self._learner))
            else:
                self._active = ASSISTANT
        observations = self._observations()
        done = terminated or truncated
        for agent in self.agents:
            infos[agent].update(self._info(final=done))
        terminations = dict.fromkeys(self.agents, terminated)
        truncations = dict.fromkeys(self.agents, truncated)
        if done:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return observations, rewards, terminations, truncations, infos

    def render(self) -> str | None:
        """The conversation so far as text (render_mode="ansi"); "human" prints the lines not printed yet."""
        if self.render_mode is None:
            return None
        lines: list[str] = []
        several = self.sessions > 1  # every session is marked, the first too, as `PersonaChatEnv.render` does
        for i, (session, agent, text) in enumerate(self._transcript):
            if several and (i == 0 or session != self._transcript[i - 1][0]):
                lines.append(session_marker(session))
            lines.append(f"{'user' if agent == SIMULATED_USER else agent}: {text}")
        text, self._shown = render_lines(self.render_mode, lines, self._shown)
        return text

    def knowledge(self) -> WorldKnowledge:
        """World knowledge for assistant policies (no profile): built-in policies play the assistant with it."""
        return self._knowledge

    # -- turns -----------------------------------------------------------------------------
    def _assistant_turn(self, action: str) -> tuple[float, dict[str, Any]]:
        """Score the answer against the truth and let the hidden user react (as `PersonaChatEnv.step`)."""
        user = self._user
        profile_text, answer = split_profile(action)
        features = self.analyzer.analyze(answer)
        profile = 0.0
        if profile_text is not None:
            stated = stated_items(self._pkis, user.state, self.schema.taxonomy) | self._learner_stated
            profile = profile_f1(resolve_profile(profile_text, self.schema), target_profile(user.state, self.schema),
                                 stated)
        self._session_turns += 1
        cut = self._session_turns >= self.max_turns and user.state.session < self.sessions - 1
        if cut:  # a session but the last ends at its turn limit: the user takes the answer in, says nothing more
            user.react(features)
        else:  # the simulator's reply; spoken on the user's turn unless the user agent speaks itself
            self._simulator_reply = user.respond(answer, features, tentative=self._learner)
        assessment: Assessment = user.last_assessment  # type: ignore[assignment] - features given: assessed
        self._answer = answer
        self._transcript.append((user.state.session, ASSISTANT, answer))
        if cut:  # as PersonaChatEnv: the next session opens, the user's turn to speak
            reward = self._assistant_reward(assessment, profile)
            user.next_session()
            self._start_session(user.open_session(tentative=self._learner))
            return reward
        if self._learner:  # a learner may speak instead of the simulator: whether the user leaves is not known yet
            self._pending = assessment, profile
            return 0.0, {}
        return self._assistant_reward(assessment, profile)

    def _assistant_reward(self, assessment: Assessment, profile: float) -> tuple[float, dict[str, Any]]:
        """The assistant's reward for its last answer, once the user's reply to it (or the cut) is known."""
        user = self._user
        components = reward_components(assessment, profile=profile, ended=user.ended, satisfied=user.left_content,
                                       max_turns=self.max_turns)
        return scalar_reward(components, self.weights), {"reward_components": components}

    def _user_turn(self, action: str | None) -> tuple[float, dict[str, Any], bool]:
        """The user's utterance (the agent's, or the simulator's), scored for fidelity; True on goodbye."""
        user = self._user
        if self.user_policy == "simulator" or not (action or "").strip():
            reply = self._simulator_reply = self._in_words(self._simulator_reply)
            utterance, goodbye, spoken_by = reply.text, reply.intent.kind == "goodbye", "simulator"
        else:
            utterance, goodbye, spoken_by = action.replace(GOODBYE, "").strip(), GOODBYE in action, "learner"
        self._utterance = utterance[: self.max_utterance_chars]
        self._transcript.append((user.state.session, SIMULATED_USER, self._utterance))
        heard = self._fidelity.stated
        before, self._score = self._score, self._fidelity.hear(self._utterance, user.state)
        # what the assistant's profile may be credited for: the simulator's PKIs, or what a learner's words said
        if spoken_by == "simulator":
            self._pkis += reply.pkis
        else:
            stated = self._fidelity.stated - heard  # this utterance's, not what the simulator said before it
            self._learner_stated |= stated
            # the agent spoke instead of the simulator, whose reply (a goodbye, news, a disclosure) was never
            # said: the user knows what the agent said, and the answer to come is judged on what it asked
            user.take_over(self._utterance, self.analyzer.mentions(self._utterance), asks=asks(self._utterance),
                           stated=[("interest", value) if key in INTEREST_KEYS else (key, value)
                                   for key, value in stated], goodbye=goodbye)
        components = self._score.components(before)
        info = {"reward_components": components, "spoken_by": spoken_by,
                "fidelity": {"f1": self._score.f1, "precision": self._score.precision,
                             "recall": self._score.recall, "contradictions": self._score.contradictions}}
        return user_reward(components, self.user_weights), info, goodbye

    def _in_words(self, turn: UserTurn) -> UserTurn:
        """The simulator's turn as the LLM writes it in LLM mode (unchanged in template mode)."""
        if self.llm is None or self.llm.surface is None:
            return turn
        roles = {ASSISTANT: "assistant", SIMULATED_USER: "user"}
        history = [(roles[agent], text) for _, agent, text in self._transcript][-self.llm.options.history_turns:]
        item = SurfaceItem(turn=turn, history=history,  # not the hidden profile: the LLM would leak it
                           key=f"{self._user.persona.persona_id}/s{turn.session}t{turn.turn}")
        return self._loop.run(self.llm.surface.realize([item]))[0]

    def close(self) -> None:
        """Release the LLM backend if this env created it, and the env's event loop."""
        if self.llm is not None and self.llm.owned:
            self._loop.run(self.llm.backend.aclose())
        self._loop.close()

    def _start_session(self, opening: UserTurn) -> None:
        """A new session: nothing said yet, the simulator's opening request ready, the user to speak."""
        self._simulator_reply = opening
        self._session_turns = 0
        self._answer = self._utterance = ""
        self._active = SIMULATED_USER
        self._fidelity.clear()
        self._score = FidelityScore()
        state, name = self._user.state, self._knowledge.name
        pairs = [(key, name(value) if key in INTEREST_KEYS else value)
                 for key, value in sorted(target_profile(state, self.schema))]
        self._profile_text = format_profile(pairs)[:MAX_MESSAGE_CHARS]

    # -- helpers ---------------------------------------------------------------------------
    def _observations(self) -> Observations:
        turn, session = min(self._session_turns, self.max_turns), self._user.state.session
        return {
            ASSISTANT: {"message": self._utterance, "turn": turn, "session": session,
                        "your_turn": int(self._active == ASSISTANT)},
            SIMULATED_USER: {"message": self._answer, "persona": self._user.persona.summary[:MAX_MESSAGE_CHARS],
                             "profile": self._profile_text, "turn": turn, "session": session,
                             "your_turn": int(self._active == SIMULATED_USER)},
        }

    def _info(self, final: bool = False) -> dict[str, Any]:
        info: dict[str, Any] = {"turn": self._session_turns, "session": self._user.state.session}
        if not final:
            info["active_agent"] = self._active
        return info

    def _known(self, agent: str) -> str:
        if agent not in AGENTS:
            raise ValueError(f"unknown agent {agent!r}{did_you_mean(str(agent), AGENTS)}; "
                             f"expected one of {', '.join(map(repr, AGENTS))}")
        return agent

    def _check_actions(self, actions: dict[str, str | None]) -> None:
        for agent, action in actions.items():
            space = self.action_spaces[self._known(agent)]
            if action is None or space.contains(action):
                continue
            if not isinstance(action, str):
                raise TypeError(f"action for agent {agent!r} must be a str (or None), "
                                f"got {type(action).__name__} {_preview(action)}")
            problem = unicode_problem(action)
            if problem is not None:
                raise ValueError(f"action for agent {agent!r} must be Unicode text: {problem}")
            raise ValueError(f"action for agent {agent!r} is not in its action space {space}: "
                             f"{_preview(action)} has {len(action)} characters")
        if self._active == ASSISTANT and actions.get(ASSISTANT) is None:
            got = "None" if ASSISTANT in actions else f"no {ASSISTANT!r} key in actions {_preview(actions)}"
            raise ValueError(f"it is the assistant's turn: actions[{ASSISTANT!r}] must be a str (its answer), "
                             f"got {got}")

    def _episode_persona(self, options: dict[str, Any]) -> Persona | None:
        """This episode's persona: the option's, else the constructor's (None: sample one)."""
        check_options(options)
        for key in options:
            if key in CHAT_RESET_OPTIONS and key not in RESET_OPTIONS:
                # ignored with a warning, a PersonaChatEnv option would run another experiment than the one asked for
                raise ValueError(_chat_option_error(key, options[key]))
            if key not in RESET_OPTIONS:
                warnings.warn(f"ignoring unknown reset option {key!r}{did_you_mean(str(key), RESET_OPTIONS)}; "
                              f"expected one of {', '.join(RESET_OPTIONS)}", stacklevel=3)
        return parse_persona(options["persona"]) if "persona" in options else self.persona_given


def _chat_option_error(key: str, value: object) -> str:
    """Why a reset option of `PersonaChatEnv` other than ``persona`` is refused here, and what to do instead."""
    expected = f"the multi-agent env takes only {', '.join(map(repr, RESET_OPTIONS))} at reset"
    if key == "reveal_oracle":
        return (f"reset option 'reveal_oracle' is PersonaChatEnv's; {expected} and has no oracle: "
                "the simulated user's observation holds its persona and profile")
    return (f"reset option {key!r} (got {_preview(value)}) is PersonaChatEnv's; {expected}: "
            f"pass {key}= to parallel_env()")


def _preview(action: object) -> str:
    """A short repr of an action or option value for error messages (actions can be thousands of characters)."""
    short = reprlib.Repr()
    short.maxstring = short.maxother = 60
    return short.repr(action)


def parallel_env(**kwargs: Any) -> PersonaChatParallelEnv:
    """The multi-agent env as a PettingZoo ParallelEnv (keyword arguments: see `PersonaChatParallelEnv`)."""
    return PersonaChatParallelEnv(**kwargs)


def raw_env(**kwargs: Any) -> AECEnv:
    """The same env through PettingZoo's AEC API (agents step one at a time, assistant first in each cycle)."""
    return parallel_to_aec(parallel_env(**kwargs))
