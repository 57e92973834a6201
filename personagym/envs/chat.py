"""`PersonaChatEnv`: a Gymnasium env where the action is the assistant's message."""

from __future__ import annotations

import hashlib
import inspect
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pydantic import ValidationError

from personagym import __version__
from personagym.checks import as_config, check_int
from personagym.envs.knowledge import WorldKnowledge
from personagym.envs.llm_mode import LLMMode, LLMOptions, PendingStep, build_llm_mode, speak, speak_first
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
from personagym.profile_format import split_profile
from personagym.records import (
    Persona,
    PreferenceEvent,
    Trajectory,
    Turn,
    UserTurn,
    session_marker,
)
from personagym.rng import MAX_SEED
from personagym.simulators.analyzer import shared_analyzer
from personagym.simulators.noise import NoiseConfig
from personagym.simulators.persona import load_schema
from personagym.simulators.preferences import PreferenceConfig, initial_state, snapshot
from personagym.simulators.renderers import TemplateRenderer
from personagym.simulators.sampler import PersonaSampler, SamplerConfig
from personagym.simulators.user import UserConfig, UserFactory, UserSimulator
from personagym.suggest import describe_validation, did_you_mean

MAX_MESSAGE_CHARS = 4096
RESET_OPTIONS = ("persona", "noise_rate", "sessions", "max_turns", "reward_weights", "reveal_oracle")


class PersonaChatEnv(gym.Env[dict[str, Any], str]):
    """A simulated user with a hidden, evolving profile, talking to the agent.

    ## Description
    Each episode samples a persona (or uses the one given) and opens a session
    with the user's task request.  The agent answers in text; the user reacts
    (feedback, disclosures, clarifications, corrections, new requests) and
    eventually says goodbye.  With ``sessions > 1`` time passes between
    sessions and the user's preferences drift and change (PersonaMem-style).

    ## Observation Space
    ``Dict(message=UnicodeText(4096), turn=Discrete(max_turns + 1),
    session=Discrete(sessions))``: only what a real assistant would see.

    ## Action Space
    ``UnicodeText(max_action_chars)``: the assistant's message.  It may start
    with a ``<profile>...</profile>`` block stating the inferred profile
    (see `personagym.profile_format`), which is scored and not shown to the
    user.  A longer action is cut at ``max_action_chars`` before it is read
    and ``info["action_truncated"]`` is set.

    ## Rewards
    A weighted sum of preference alignment, constraint compliance (a hard
    penalty), style match, profile-inference F1 and efficiency, all computed
    from the hidden structured truth; components in ``info["reward_components"]``.

    ## Episode End
    ``terminated`` when the user says goodbye in the last session;
    ``truncated`` when the last session reaches ``max_turns`` answers.  A
    session that hits ``max_turns`` before the last one moves to the next:
    the user takes the last answer in (the preferences react) without a reply,
    and the observation is the next session's first request.

    ## Arguments
    ``sessions`` (1), ``max_turns`` (8), ``noise_rate`` (0.25) or a full
    ``noise`` config, ``reward_weights``, ``persona`` (a Persona or dict; else
    sampled), ``sampler``, ``preferences``, ``user`` configs, ``reveal_oracle``
    (False: put the hidden state in ``info["oracle"]``), ``max_action_chars``
    (8000), ``env_id`` (recorded in trajectories), ``render_mode`` ("ansi":
    `render` returns the conversation; "human": reset and step print each new
    message as it comes).
    Most can be changed per episode through ``reset(options=...)``.
    LLM mode: ``backend`` ("template" by default; "local", "vllm", "openai" or
    an `LLMBackend`), ``model``, ``base_url`` and ``llm`` (`LLMOptions`: LLM
    renderer, LLM distractor, judge).  The LLM only writes the user's words;
    rewards stay computed from the structured truth.  ``areset``/``astep``
    serve callers already inside an event loop.
    """

    metadata: ClassVar[dict] = {"render_modes": ["ansi", "human"], "render_fps": 1}

    def __init__(
        self,
        *,
        sessions: int = 1,
        max_turns: int = 8,
        noise_rate: float | None = None,
        noise: NoiseConfig | dict | None = None,
        reward_weights: RewardWeights | dict | None = None,
        persona: Persona | dict | None = None,
        sampler: SamplerConfig | dict | None = None,
        preferences: PreferenceConfig | dict | None = None,
        user: UserConfig | dict | None = None,
        reveal_oracle: bool = False,
        max_action_chars: int = 8000,
        env_id: str = "PersonaGym/Chat-v0",
        render_mode: str | None = None,
        backend: str | LLMBackend | None = None,
        model: str | None = None,
        base_url: str | None = None,
        llm: LLMOptions | dict | None = None,
        **unknown: Any,
    ) -> None:
        check_no_unknown_options(PersonaChatEnv, unknown)
        check_render_mode(render_mode, self.metadata["render_modes"])
        check_positive("sessions", sessions)
        check_positive("max_turns", max_turns)
        check_positive("max_action_chars", max_action_chars)
        if not isinstance(env_id, str):
            raise TypeError(f"env_id must be a str (the id recorded in trajectories), got {type(env_id).__name__} "
                            f"{env_id!r:.60}")
        self.schema = load_schema()
        self.taxonomy = self.schema.taxonomy
        self.sessions = sessions
        self.max_turns = max_turns
        self.noise_config, self.weights, self.persona_given, sampler_config, self.preference_config, \
            self.user_config = parse_simulation(noise=noise, noise_rate=noise_rate, reward_weights=reward_weights,
                                                persona=persona, sampler=sampler, preferences=preferences, user=user)
        self.sampler = PersonaSampler(self.schema, sampler_config)
        self.reveal_oracle = check_bool("reveal_oracle", reveal_oracle)
        #: the settings `reset(options=...)` may change for one episode, as the env was made
        self._made_with: dict[str, Any] = {
            "persona_given": self.persona_given, "noise_config": self.noise_config, "weights": self.weights,
            "reveal_oracle": self.reveal_oracle, "sessions": sessions, "max_turns": max_turns}
        self.max_action_chars = max_action_chars
        self.env_id = env_id
        self.render_mode = render_mode
        self.renderer = TemplateRenderer(self.schema)
        self._users = UserFactory(self.schema, self.renderer)
        self.analyzer = shared_analyzer(self.taxonomy)
        self.llm: LLMMode | None = build_llm_mode(backend, model=model, base_url=base_url, options=llm,
                                                  analyzer=self.analyzer)
        self._loop = LoopRunner()
        self.observation_space = spaces.Dict({
            "message": UnicodeText(MAX_MESSAGE_CHARS),
            "turn": spaces.Discrete(max_turns + 1),
            "session": spaces.Discrete(sessions),
        })
        self.action_space = UnicodeText(max_action_chars)
        self.user: UserSimulator | None = None
        self._done = True
        self._turns: list[Turn] = []
        self._session_events: list[PreferenceEvent] = []
        self._episode_seed: int | None = None
        self._knowledge: WorldKnowledge | None = None
        self._shown = 0  # transcript lines printed so far (render_mode="human")

    # -- Gymnasium API ---------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start an episode: a persona, a fresh preference state, the first request."""
        self._reset_core(seed, options)
        if self.llm is not None:
            self._last_user = self._loop.run(speak_first(self.llm, [self]), async_alternative="env.areset()")[0]
        return self._shown_after((self._observation(), self._info(reward_components=None)))

    def _reset_core(self, seed: int | None, options: dict[str, Any] | None) -> None:
        settings = self._episode_settings(options or {})
        check_seed_not_bool(seed)
        if isinstance(seed, int) and seed > MAX_SEED:  # Gymnasium takes it; its record could not be stored
            raise ValueError(f"seed must be at most 2**63 - 1 (records keep seeds as int64), got {seed}")
        super().reset(seed=seed)  # a bad seed raises here, before anything of this env changed
        for name, value in settings.items():  # a rejected reset (option or seed) leaves the env as it was
            setattr(self, name, value)
        self._episode_seed = seed
        self.user, entropy = draw_user(self.np_random, self.persona_given, self.sampler, self._users,
                                       noise=self.noise_config, preferences=self.preference_config,
                                       config=self.user_config)
        self._turns, self._session_events = [], []
        self._done = False
        self._session_turns = 0
        self._shown = 0
        self._last_user = self.user.open_session()
        self._trajectory_id = "t_" + hashlib.sha1(
            f"{self.user.persona.persona_id}:{entropy}".encode()).hexdigest()[:16]

    def step(self, action: str):
        """Answer the user: score the answer against the truth, get the user's reaction."""
        pending = self.advance(action)
        if self.llm is not None:
            self._loop.run(speak(self.llm, [(self, pending)]), async_alternative="env.astep(action)")
        return self._shown_after(self.finish(pending))

    async def areset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """`reset` for callers inside an event loop: LLM calls are awaited, not run on the env's own loop."""
        self._reset_core(seed, options)
        if self.llm is not None:
            self._last_user = (await speak_first(self.llm, [self]))[0]
        return self._shown_after((self._observation(), self._info(reward_components=None)))

    async def astep(self, action: str):
        """`step` for callers inside an event loop (an async trainer, Jupyter, an AutoGen team)."""
        pending = self.advance(action)
        if self.llm is not None:
            await speak(self.llm, [(self, pending)])
        return self._shown_after(self.finish(pending))

    def check_step(self, action: object) -> None:
        """Raise if `step(action)` cannot run now: the action is not a str, or no episode is running."""
        if not isinstance(action, str):
            raise TypeError(f"action must be a str (the assistant's message), got {type(action).__name__}")
        problem = unicode_problem(action)
        if problem is not None:
            raise ValueError(f"action must be Unicode text: {problem}")
        if self.user is None:
            raise RuntimeError("call reset() before step()")
        if self._done:
            raise RuntimeError("the episode is over (terminated or truncated); call reset()")

    def advance(self, action: str) -> PendingStep:
        """The structured part of a step: score the answer, let the user react and decide (template words)."""
        self.check_step(action)
        user = self.user
        truncated_action = len(action) > self.max_action_chars
        if truncated_action:
            action = action[: self.max_action_chars]
        profile_text, answer = split_profile(action)
        features = self.analyzer.analyze(answer)
        state_before = user.state
        profile = 0.0
        if profile_text is not None:
            profile = profile_f1(resolve_profile(profile_text, self.schema),
                                 target_profile(state_before, self.schema), self._stated())
        n_events = len(user.events)
        asked = self._last_user
        self._session_turns += 1
        last_session = user.state.session >= self.sessions - 1
        if self._session_turns >= self.max_turns and not last_session:
            user.react(features)  # the session is cut here: the next one opens, no reply is heard
            reply = None
        else:
            reply = user.respond(answer, features)
        assessment = user.last_assessment
        components = reward_components(
            assessment,  # type: ignore[arg-type]
            profile=profile, ended=user.ended, satisfied=user.left_content,
            max_turns=self.max_turns,
        )
        reward = scalar_reward(components, self.weights)
        self._turns.append(Turn(
            step=len(self._turns), session=asked.session, turn=asked.turn, user=asked,
            assistant=answer, profile=profile_text, features=features, reward=reward,
            reward_components=components, events=user.events[n_events:],
        ))
        terminated = truncated = new_session = False
        closing = None
        if user.ended or self._session_turns >= self.max_turns:
            if last_session:
                terminated, truncated = user.ended, not user.ended
            else:
                if user.ended:  # the goodbye that closes this session is kept with the answer it followed
                    self._turns[-1].closing = closing = reply
                self._session_events += user.next_session()
                self._session_turns = 0
                reply = user.open_session()
                new_session = True
        return PendingStep(reply, reward, components, terminated, truncated, truncated_action, new_session, closing)

    def finish(self, pending: PendingStep):
        """Make the (possibly LLM-written) reply current and return the step's 5-tuple.

        May be called again for the same step with a rewritten ``pending.reply``
        (a pipeline that commits the template words first, then the final ones).
        """
        self._last_user = pending.reply
        self._done = pending.terminated or pending.truncated
        info = self._info(reward_components=pending.components)
        if pending.truncated_action:
            info["action_truncated"] = True
        return self._observation(), pending.reward, pending.terminated, pending.truncated, info

    def render(self) -> str | None:
        """The conversation so far as text (render_mode="ansi"); "human" prints the lines not printed yet."""
        if self.render_mode is None:
            return None
        lines: list[str] = []
        session = None if self.sessions > 1 else 0  # of several sessions (LongTerm), the first is marked too

        def said(user: UserTurn) -> None:
            nonlocal session
            if user.session != session:  # a session starts: say so, as the exports do
                session = user.session
                lines.append(session_marker(session))
            lines.append(f"user: {user.text}")

        for t in self._turns:
            said(t.user)
            lines += [f"assistant: {t.assistant}", f"  reward {t.reward:+.3f}"]
            if t.closing is not None:
                said(t.closing)
        if self.user is not None:
            said(self._last_user)
        text, self._shown = render_lines(self.render_mode, lines, self._shown)
        return text

    def _shown_after(self, result: tuple) -> tuple:
        """`result`, after printing the new lines of a reset or step (render_mode="human")."""
        if self.render_mode == "human":
            self.render()
        return result

    @property
    def last_user(self) -> UserTurn:
        """The user's current message as a record (with its hidden PKIs: for pipelines, not for policies)."""
        if self.user is None:
            raise RuntimeError("call reset() before last_user")
        return self._last_user

    @property
    def loop(self) -> LoopRunner:
        """The env's event loop for sync callers: the backend's async clients are bound to it."""
        return self._loop

    @property
    def backend(self) -> LLMBackend | None:
        """The LLM backend of LLM mode (None in template mode); LLM policies may share it."""
        return self.llm.backend if self.llm is not None else None

    def close(self) -> None:
        """Release the LLM backend if this env created it, and the env's event loop."""
        if self.llm is not None and self.llm.owned:
            self._loop.run(self.llm.backend.aclose(), async_alternative="env.aclose()")
        self._loop.close()
        super().close()

    async def aclose(self) -> None:
        """`close` for callers inside an event loop (those that use `areset`/`astep`)."""
        if self.llm is not None and self.llm.owned:
            await self.llm.backend.aclose()
        self._loop.close()
        super().close()

    # -- records ---------------------------------------------------------------------------
    def trajectory(self, policy: str | None = None) -> Trajectory:
        """The episode so far as a `Trajectory` record, with its ground truth."""
        if self.user is None:
            raise RuntimeError("call reset() before trajectory()")
        return Trajectory(
            trajectory_id=self._trajectory_id, env_id=self.env_id, policy=policy,
            seed=self._episode_seed, persona=self.user.persona,
            # the state at reset is a function of the persona: rebuilt here, not copied at every reset
            initial_state=initial_state(self.user.persona, self.schema), final_state=snapshot(self.user.state),
            turns=list(self._turns), final_user=self._last_user,
            session_events=list(self._session_events),
            total_reward=round(sum(t.reward for t in self._turns), 6),
            terminated=self._done and self.user.ended, truncated=self._done and not self.user.ended,
            config=self.config(), versions={"personagym": __version__, "gymnasium": gym.__version__},
        )

    def config(self) -> dict[str, Any]:
        """The settings that shape episodes (recorded in every trajectory)."""
        return {
            "sessions": self.sessions, "max_turns": self.max_turns,
            "noise": self.noise_config.model_dump(), "reward_weights": self.weights.model_dump(),
            "preferences": self.preference_config.model_dump(), "user": self.user_config.model_dump(),
            "sampler": self.sampler.config.model_dump(), "persona_given": self.persona_given is not None,
        } | ({"llm": self.llm.describe()} if self.llm is not None else {})

    def oracle_view(self) -> dict[str, Any]:
        """The hidden truth now: persona, preference state, this turn's PKIs, and the profile.

        ``profile`` is the whole target profile; ``stated`` the part of it the
        user has expressed so far, the best profile an assistant can state
        (the profile reward credits nothing else); ``focus`` the top-level
        categories of the request being answered (its domain's), ``about``
        the nodes things on the request are at or under (its topic's area, or
        the topic itself for a template about the topic itself, and the areas
        that answer its template's requests, `request_about`; things
        elsewhere are off the request and answer nothing), ``topic`` the node it is about
        (recommending it, or an ancestor, back earns nothing), ``itself`` the
        topic when the topic itself answers the request (a leaf asked about
        itself, "an overview of the Black Death"; else None).  For the oracle
        policy and for analysis; never part of an observation.
        """
        if self.user is None:
            raise RuntimeError("call reset() before oracle_view()")
        target = target_profile(self.user.state, self.schema)
        return {
            "persona": self.user.persona,
            "state": self.user.state,
            "pkis": self._last_user.pkis,
            "intent": self._last_user.intent,
            "profile": sorted(target),
            "stated": sorted(target & self._stated()),
            "focus": sorted(self.user.focus or ()),
            "about": sorted(self.user.about or ()),
            "topic": self.user.topic,
            "itself": self.user.itself,
        }

    def knowledge(self) -> WorldKnowledge:
        """World knowledge for policies (entities, relations, constraint tags; no profile)."""
        if self._knowledge is None:
            self._knowledge = WorldKnowledge(self.schema, self.analyzer)
        return self._knowledge

    # -- helpers ---------------------------------------------------------------------------
    def _stated(self) -> set[ProfileItem]:
        """The profile items the user's messages of this episode have expressed, the current one included."""
        pkis = [pki for turn in self._turns for pki in turn.user.pkis] + list(self._last_user.pkis)
        return stated_items(pkis, self.user.state, self.taxonomy)  # type: ignore[union-attr] - reset() ran

    def _observation(self) -> dict[str, Any]:
        last: UserTurn = self._last_user
        return {
            "message": last.text[:MAX_MESSAGE_CHARS],
            "turn": min(self._session_turns, self.max_turns),
            "session": last.session,
        }

    def _info(self, reward_components: dict[str, float] | None) -> dict[str, Any]:
        info: dict[str, Any] = {"turn": self._session_turns, "session": self._last_user.session}
        if reward_components is not None:
            info["reward_components"] = reward_components
        if self.reveal_oracle:
            info["oracle"] = self.oracle_view()
        return info

    def _episode_settings(self, options: dict[str, Any]) -> dict[str, Any]:
        """This episode's settings: the constructor's, with `options` over them; all checked, none applied.

        Options last one episode (a plain `reset(seed=s)` afterwards is the
        env as made).
        """
        check_options(options)
        for key in options:
            if key not in RESET_OPTIONS:
                made_only = key != "unknown" and key in inspect.signature(type(self)).parameters
                hint = " (an option of gym.make, fixed when the env is made)" if made_only else \
                    did_you_mean(str(key), RESET_OPTIONS)
                raise ValueError(f"unknown reset option {key!r}{hint}; expected one of {', '.join(RESET_OPTIONS)}")
        settings = dict(self._made_with)
        if "persona" in options:
            settings["persona_given"] = parse_persona(options["persona"])
        if "noise_rate" in options:
            settings["noise_config"] = as_config(NoiseConfig, {**settings["noise_config"].model_dump(),
                                                                  "rate": options["noise_rate"]}, "noise_rate")
        if "reward_weights" in options:
            settings["weights"] = as_config(RewardWeights, options["reward_weights"], "reward_weights")
        if "reveal_oracle" in options:
            settings["reveal_oracle"] = check_bool("reveal_oracle", options["reveal_oracle"])
        for key in ("sessions", "max_turns"):
            if key in options:
                check_positive(key, options[key])
                if options[key] > self._made_with[key]:
                    raise ValueError(f"reset option {key}={options[key]} exceeds the env's {key} "
                                     f"({self._made_with[key]}), which fixes the observation space")
                settings[key] = options[key]
        return settings


def render_lines(render_mode: str, lines: list[str], shown: int) -> tuple[str | None, int]:
    """`render` of a transcript: its text ("ansi"), or print the lines after the first `shown` ("human").

    Returns what `render` returns and how many lines have been shown now.
    """
    if render_mode == "ansi":
        return "\n".join(lines), shown
    if len(lines) > shown:
        print("\n".join(lines[shown:]), flush=True)
    return None, len(lines)


def parse_simulation(
    *, noise: object, noise_rate: float | None, reward_weights: object, persona: object, sampler: object,
    preferences: object, user: object,
) -> tuple[NoiseConfig, RewardWeights, Persona | None, SamplerConfig, PreferenceConfig, UserConfig]:
    """The simulation options every PersonaGym env takes, parsed; errors name the option.

    ``noise_rate`` overrides the rate of ``noise``.
    """
    noise_config = as_config(NoiseConfig, noise, "noise")
    if noise_rate is not None:
        noise_config = as_config(NoiseConfig, {**noise_config.model_dump(), "rate": noise_rate}, "noise_rate")
    return (noise_config, as_config(RewardWeights, reward_weights, "reward_weights"),
            parse_persona(persona),  # type: ignore[arg-type]
            as_config(SamplerConfig, sampler, "sampler"), as_config(PreferenceConfig, preferences, "preferences"),
            as_config(UserConfig, user, "user"))


def check_no_unknown_options(env_class: type, unknown: dict[str, Any]) -> None:
    """Raise a TypeError naming the first of the `unknown` keyword arguments an env of `env_class` was given (its
    ``**unknown``), the closest of its options and all of them: for ``gym.make("...", noise_rte=0.3)``, Python's
    own error names no option that exists."""
    if unknown:
        key = sorted(unknown)[0]
        known = [p for p in inspect.signature(env_class).parameters if p != "unknown"]
        raise TypeError(f"unknown option {key!r}{did_you_mean(key, known)}; expected one of {', '.join(known)}")


def check_render_mode(render_mode: object, render_modes: list[str]) -> None:
    """Raise a ValueError unless `render_mode` is None or one of the env's `render_modes`."""
    if render_mode is not None and render_mode not in render_modes:
        raise ValueError(f"render_mode must be one of {render_modes} or None, got {render_mode!r}")


def draw_user(
    np_random: np.random.Generator, persona: Persona | None, sampler: PersonaSampler, users: UserFactory, *,
    noise: NoiseConfig, preferences: PreferenceConfig, config: UserConfig,
) -> tuple[UserSimulator, int]:
    """An episode's simulated user, and the draw of the env's `np_random` it derives from (which names the
    episode): `persona` (None: one `sampler` draws) and the simulator's own generator come from that draw.
    Every text env draws its users here, so that the same seed meets the same user in each of them.
    """
    # the two children `SeedSequence(entropy).spawn(2)` would give, built directly (faster)
    entropy = np_random.integers(0, 2**63, dtype=np.int64).item()
    persona_ss, user_ss = (np.random.SeedSequence(entropy, spawn_key=(k,)) for k in range(2))
    user = users(persona or sampler.sample(persona_ss), seed=np.random.Generator(np.random.PCG64(user_ss)),
                 noise=noise, preferences=preferences, config=config)
    return user, entropy


def check_options(options: object) -> None:
    """Raise unless reset `options` is a dict (a list of pairs or a string would be read key by key)."""
    if not isinstance(options, dict):
        raise TypeError(f"options must be a dict, got {type(options).__name__} {options!r:.60}")


def check_seed_not_bool(seed: object) -> None:
    """Refuse a bool seed: Gymnasium reads ``reset(seed=True)`` as seed 1 (a bool is no number, as in configs)."""
    if isinstance(seed, bool):
        raise TypeError(f"seed must be an int or None, got bool {seed!r}")


def check_bool(name: str, value: object) -> bool:
    """`value` if it is a bool (numpy's included); a string such as "false" is refused, not read as true."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r:.60}")
    return bool(value)


#: The largest count an env takes (`max_turns`, `sessions`, character limits): the spaces it sizes hold int64, and
#: ``max_turns + 1`` is one (10**30 failed deep in numpy with "Python int too large to convert to C long").
MAX_COUNT = 2**63 - 2


def check_positive(name: str, value: object) -> int:
    """`value` as an int if it is a positive int (`check_int`'s rule and words) of at most `MAX_COUNT`; the error
    names the option, the value and what is expected."""
    number = check_int(name, value, 1)
    if number > MAX_COUNT:
        raise ValueError(f"{name} must be a positive int of at most 2**63 - 2 (the env's spaces hold int64), "
                         f"got {value!r}")
    return number


def parse_persona(value: Persona | dict | None) -> Persona | None:
    """A Persona from None, an instance or a dict; errors name the field and value."""
    if value is None or isinstance(value, Persona):
        return value
    if isinstance(value, dict):
        try:
            persona = Persona.model_validate(value)
        except ValidationError as exc:
            raise ValueError(f"invalid persona: {describe_validation(exc)}") from None
        schema = load_schema()
        schema.validate_attributes(persona.attributes)
        schema.validate_interests(i.node for i in persona.interests)
        return persona
    raise TypeError(f"persona must be a Persona or dict, got {type(value).__name__}")

