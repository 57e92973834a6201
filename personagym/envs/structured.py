"""`StructuredChatEnv`: the chat env with a discrete action menu and numeric features, for classic RL.

Every action is rendered to assistant text by the template machinery of the
built-in policies (`personagym.policies.compose`) and sent to a wrapped
`PersonaChatEnv`, so rewards, user reactions and trajectories are exactly the
text env's.  The menu and the features are built deterministically from the
taxonomy; what an action says depends only on the user's messages so far
(`DialogueState`), never on the hidden profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from personagym.envs.chat import MAX_MESSAGE_CHARS, PersonaChatEnv
from personagym.envs.dialogue_state import FORMALITIES, LAYOUTS, LENGTHS, DialogueState
from personagym.envs.knowledge import WorldKnowledge
from personagym.envs.spaces import UnicodeText
from personagym.policies.compose import LENGTH_ITEMS, AnswerPlan, compose
from personagym.records import Trajectory
from personagym.rng import Draws
from personagym.suggest import did_you_mean

#: Register of each formality choice, as `compose` names it.
_REGISTERS = {"casual": "casual", "neutral": "business_casual", "formal": "professional"}

ASK_STYLE = ("How long should my answers be, and which format and tone do you prefer: "
             "bullet points, a table or prose, formal or casual?")
ASK_CONSTRAINTS = "Do you follow any diet, have any intolerances, or a budget I should keep to?"
ASK_CATEGORY = "When it comes to {category}, what do you like most?"
ASK_OPEN = "What are you into these days?"


@dataclass(frozen=True)
class Content:
    """What one menu entry does: ``kind`` is recommend, warn or ask; ``target`` says about what."""

    kind: str
    target: str

    @property
    def label(self) -> str:
        """``kind:target``, e.g. ``ask:music`` or ``recommend:personal``."""
        return f"{self.kind}:{self.target}"


@dataclass(frozen=True)
class StructuredAction:
    """A decoded action: what to say and in which style."""

    content: Content
    length: str
    layout: str
    formality: str

    @property
    def label(self) -> str:
        """``content|length|layout|formality``, e.g. ``recommend:request|standard|narrative|neutral``."""
        return f"{self.content.label}|{self.length}|{self.layout}|{self.formality}"


class ActionMenu:
    """The menu: every content entry crossed with every style (length x layout x formality).

    Action ``a`` is ``np.ravel_multi_index((content, length, layout, formality), factors)``,
    so a learner may treat it as four independent choices (`factors`) or as one.

    Content entries, in order:

    * ``recommend:request`` — what `generic` says: a few entities related to
      the first entity of the last message that named one, nothing personal;
    * ``recommend:personal`` — the stated likes in the area of the entity in
      focus (its second-level ancestor: what the reward counts as on the
      request), then entities related to it, leaving out stated dislikes,
      what stated constraints forbid and what the user said they are done
      with ("I'm past X");
    * ``recommend:liked`` — the stated likes of any category, most recent
      first (related entities when none is known), safe as above;
    * ``warn:avoid`` — recommend the entities related to the focus offered as
      above, and warn against those that stated dislikes or constraints rule
      out;
    * ``ask:style`` / ``ask:constraints`` — a clarifying question about answer
      length, format and tone / about diet, intolerances and budget;
    * ``ask:focus`` — a question about the area of the entity in focus (its
      second-level ancestor, as ``recommend:personal`` and the reward read the
      request): the likes it draws out are on the request;
    * ``ask:<category>`` — one question per top-level taxonomy category.

    No entry recommends the request's own topic or an ancestor of it: said back
    to the request, it tells the user nothing (and earns nothing).  Asks carry
    no recommendation.  Recommendations hold as many entities as the
    length allows (`compose.LENGTH_ITEMS`), except ``recommend:request``,
    which mirrors `generic` exactly.
    """

    def __init__(self, categories: list[str]) -> None:
        fixed = [Content("recommend", "request"), Content("recommend", "personal"), Content("recommend", "liked"),
                 Content("warn", "avoid"), Content("ask", "style"), Content("ask", "constraints"),
                 Content("ask", "focus")]
        self.contents: tuple[Content, ...] = (*fixed, *(Content("ask", c) for c in categories))
        self.factors: tuple[int, int, int, int] = (len(self.contents), len(LENGTHS), len(LAYOUTS), len(FORMALITIES))
        self.size = int(np.prod(self.factors))
        self._content_index = {c.label: i for i, c in enumerate(self.contents)}

    def encode(self, content: str, length: str = "standard", layout: str = "narrative",
               formality: str = "neutral") -> int:
        """The action index of a content label and a style (the defaults are `generic`'s style)."""
        choices = []
        for name, value, options in (("content", content, list(self._content_index)), ("length", length, LENGTHS),
                                     ("layout", layout, LAYOUTS), ("formality", formality, FORMALITIES)):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a str (a label such as {options[0]!r}), got {type(value).__name__} "
                                f"{value!r}; decode(action) turns an index into its labels")
            if value not in options:
                raise ValueError(f"unknown {name} {value!r}{did_you_mean(value, list(options))}; "
                                 f"expected one of {', '.join(options)}")
            choices.append(list(options).index(value))
        return int(np.ravel_multi_index(choices, self.factors))

    def decode(self, action: int) -> StructuredAction:
        """The content and style of an action index (an int in [0, size): 2.7 or True is no index)."""
        if isinstance(action, bool | np.bool_) or not isinstance(action, int | np.integer) \
                or not 0 <= action < self.size:
            hint = "; encode(...) gives the index of a label" if isinstance(action, str) else ""
            raise ValueError(f"action {action!r} is no action index: expected an int in [0, {self.size}){hint}")
        content, length, layout, formality = np.unravel_index(int(action), self.factors)
        return StructuredAction(self.contents[content], LENGTHS[length], LAYOUTS[layout], FORMALITIES[formality])

    def labels(self) -> list[str]:
        """The label of every action, in index order."""
        return [self.decode(a).label for a in range(self.size)]


class StructuredChatEnv(gym.Env[dict[str, Any], int]):
    """The chat env for classic RL: a discrete menu of answers, numeric features of the dialogue.

    ## Description
    Wraps a `PersonaChatEnv` (built from the keyword arguments, or given as
    ``env``).  Each action is rendered to assistant text by templates and
    passed to the wrapped env; what it says depends on a `DialogueState` built
    from the user's messages only.  The wrapped env is reset with the same
    seed, so seed ``s`` meets the same user as ``PersonaGym/Chat-v0`` with
    seed ``s``.

    ## Observation Space
    ``Dict(message=UnicodeText(4096), features=Box(0, 1, (F,), float32))``:
    the user's last message and the `DialogueState` features (named by
    ``feature_names``): bias, turn and session, reaction cues of the last
    message (positive, negative, question, style complaints), what is known
    (likes, dislikes, constraints, focus, stated length/layout/formality), the
    previous action's style, and bags of top-level categories mentioned in the
    last message and in the dialogue so far.

    ## Action Space
    ``Discrete(N)`` over `ActionMenu` (``env.menu``): 37 content entries
    (recommend / warn / ask, see `ActionMenu`) x 5 lengths x 3 layouts
    (narrative, bullets, table) x 3 formality registers = 1665 actions.
    Emoji are added only when the user said they like them often.

    ## Rewards
    Exactly the wrapped env's: preference, constraint, style, profile (always 0
    here: no profile is stated) and efficiency, in ``info["reward_components"]``.

    ## Episode End
    As the wrapped env: ``terminated`` when the user says goodbye in the last
    session, ``truncated`` at ``max_turns``.

    ## Arguments
    ``env`` (a `PersonaChatEnv`, used as it is; else one is built from
    ``chat_kwargs``, e.g. ``noise_rate``, ``max_turns``, ``sessions``, and from
    ``env_id`` (recorded in trajectories) and ``render_mode`` ("ansi" or "human")).
    """

    metadata: ClassVar[dict] = {"render_modes": ["ansi", "human"], "render_fps": 1}

    def __init__(self, env: PersonaChatEnv | None = None, *, env_id: str = "PersonaGym/Structured-v0",
                 render_mode: str | None = None, **chat_kwargs: Any) -> None:
        if env is not None:
            if not isinstance(env, PersonaChatEnv):
                raise TypeError(f"env must be a PersonaChatEnv, got {type(env).__name__}")
            given = sorted(chat_kwargs) + (["render_mode"] if render_mode is not None else [])
            if given:
                raise ValueError(f"pass either env or PersonaChatEnv keyword arguments, not both (got env and "
                                 f"{', '.join(given)}); configure the env you pass instead")
            self.chat_env = env
        else:
            self.chat_env = PersonaChatEnv(env_id=env_id, render_mode=render_mode, **chat_kwargs)
        self.render_mode = self.chat_env.render_mode
        self.categories = self.chat_env.taxonomy.top_level()
        self.menu = ActionMenu(self.categories)
        self._knowledge = self.chat_env.knowledge()
        self.feature_names = DialogueState(self._knowledge, self.categories).names
        self.action_space = spaces.Discrete(self.menu.size)
        self.observation_space = spaces.Dict({
            "message": UnicodeText(MAX_MESSAGE_CHARS),
            "features": spaces.Box(0.0, 1.0, (len(self.feature_names),), np.float32),
        })
        self.state: DialogueState | None = None
        self._draws: Draws | None = None
        self._done = True

    # -- Gymnasium API ---------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start an episode of the wrapped env (same seed, same options) with an empty dialogue state.

        The wrapped env is reset first: it checks the seed and the options, and
        a rejected reset must leave this env's generator as it was too.
        """
        obs, info = self.chat_env.reset(seed=seed, options=options)
        super().reset(seed=seed)
        self._draws = Draws(self.np_random)
        self.state = DialogueState(self._knowledge, self.categories)
        self._done = False
        return self._observe(obs, self.state), info

    def step(self, action: int):
        """Render the action to text, send it to the wrapped env, and read the user's reply."""
        if isinstance(action, bool | np.bool_) or not self.action_space.contains(action):
            shown = repr(action) if len(repr(action)) <= 60 else repr(action)[:57] + "..."
            hint = "; text actions belong on the text envs (PersonaGym/Chat-v0)" if isinstance(action, str) else ""
            raise ValueError(f"action {shown} is not in the action space Discrete({self.menu.size}): expected an "
                             f"int in [0, {self.menu.size}); see env.menu.labels() or env.menu.encode(...){hint}")
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        if self._done:
            raise RuntimeError("the episode is over (terminated or truncated); call reset()")
        choice = self.menu.decode(action)
        obs, reward, terminated, truncated, info = self.chat_env.step(self._render(choice, self._draws))
        self.state.acted(choice.content.kind == "ask", choice.length, choice.layout, choice.formality)
        self._done = terminated or truncated
        info["action"] = choice.label
        return self._observe(obs, self.state), reward, terminated, truncated, info

    def render(self) -> str | None:
        """The conversation so far as text (render_mode="ansi")."""
        return self.chat_env.render()

    def close(self) -> None:
        """Close the wrapped env."""
        self.chat_env.close()

    # -- records ---------------------------------------------------------------------------
    def trajectory(self, policy: str | None = None) -> Trajectory:
        """The episode so far as a `Trajectory` record (the rendered texts as the assistant's turns)."""
        return self.chat_env.trajectory(policy=policy)

    def knowledge(self) -> WorldKnowledge:
        """The wrapped env's world knowledge (so text policies can be built on this env too)."""
        return self._knowledge

    # -- rendering -------------------------------------------------------------------------
    def action_text(self, action: int | StructuredAction) -> str:
        """The text `step(action)` would send now; a preview that changes nothing (no draw is used up)."""
        if self.state is None or self._draws is None:
            raise RuntimeError("call reset() before action_text()")
        choice = action if isinstance(action, StructuredAction) else self.menu.decode(action)
        return self._render(choice, self._draws.fork(), remember=False)

    def _render(self, choice: StructuredAction, draws: Draws, remember: bool = True) -> str:
        """The assistant text of an action in the current dialogue state, drawing from `draws`; what it
        recommends is remembered (`DialogueState.lists`) unless `remember` is False."""
        return compose(self._plan(choice, self.state, draws, remember), draws.index)  # type: ignore[arg-type]

    def _plan(self, choice: StructuredAction, state: DialogueState, draws: Draws, remember: bool) -> AnswerPlan:
        k = self._knowledge
        style = {"length": choice.length, "layout": choice.layout,
                 "formality": _REGISTERS[choice.formality], "emoji": state.stated("emoji_use") == "often"}
        kind, target = choice.content.kind, choice.content.target
        if kind == "ask":
            return AnswerPlan(question=self._question(target, state), **style)
        if target == "request":
            return AnswerPlan(**self._generic_content(state, draws), followed=k.followed, **style)
        focus, room = state.focus, LENGTH_ITEMS[choice.length]
        topic = k.noun(focus) if focus else None
        itself = focus is not None and k.leaf(focus)  # a leaf is answered by itself (`AnswerPlan.itself`)
        echoed = set(k.lineage(state.request_topic)) if state.request_topic else set()
        if focus:
            echoed.update(k.lineage(focus))
        related = k.related(focus) if focus else []
        if kind == "warn":
            recommend = [n for n in related if state.offerable(n)][:room]
            avoid = [n for n in related if not state.safe(n)][:room]
            return AnswerPlan(topic=topic, recommend=[k.noun(n) for n in recommend],
                              avoid=[k.noun(n) for n in avoid], itself=itself, followed=k.followed, **style)
        likes = [n for n in reversed(state.likes) if n not in echoed]  # most recent first
        if target == "personal" and focus:  # the likes on the request: in the focus's area, as the reward reads it
            area = k.area(focus)
            wanted = [*(n for n in likes if area in k.lineage(n)), *related]
        else:
            wanted = likes or related
        # never a list given since the request (the same list again is a repeat): the next ones take its place
        picks = state.lists.pick(focus, [n for n in dict.fromkeys(wanted) if n not in echoed and state.offerable(n)],
                                 room, remember)
        return AnswerPlan(topic=topic, recommend=[k.noun(n) for n in picks], itself=itself, followed=k.followed,
                          spent=not picks and state.lists.spent(focus), **style)

    def _generic_content(self, state: DialogueState, draws: Draws) -> dict[str, Any]:
        """Topic and recommendations as the `generic` policy chooses them (the same kind of draws): nothing beside
        a topic with nothing under it that the request asks about itself."""
        k, topic = self._knowledge, state.request_topic
        if topic is None:
            return {"topic": None, "recommend": []}
        alone = state.request_itself and k.leaf(topic)
        return {"topic": k.noun(topic), "recommend": [] if alone else k.suggestions(topic, draws.index),
                "itself": k.leaf(topic)}

    def _question(self, target: str, state: DialogueState) -> str:
        if target == "style":
            return ASK_STYLE
        if target == "constraints":
            return ASK_CONSTRAINTS
        k = self._knowledge
        category = target if target != "focus" else (k.area(state.focus) if state.focus else None)
        return ASK_CATEGORY.format(category=k.name(category)) if category else ASK_OPEN

    def _observe(self, obs: dict[str, Any], state: DialogueState) -> dict[str, Any]:
        state.observe(obs["message"])
        features = state.features(obs["turn"], self.chat_env.max_turns, obs["session"], self.chat_env.sessions)
        return {"message": obs["message"], "features": features}
