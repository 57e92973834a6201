"""Implicit-profile extraction: inputs, bounded schemas, coherence repair, and the real model end to end."""

from __future__ import annotations

import asyncio
from collections import Counter

import gymnasium as gym
import pytest

import personagym  # noqa: F401 - registers the envs
from personagym.envs.chat import parse_persona
from personagym.llm.types import ChatMessage
from personagym.policies import make_policy
from personagym.records import Persona
from personagym.rollout import make_env, run_episode
from personagym.simulators.extract import (
    INTEREST_SCHEMA,
    UNKNOWN,
    attribute_schema,
    coherent_persona,
    extract,
    extract_persona,
    extract_persona_sync,
)

JAZZ = "music/music_genres/jazz"
BEBOP = "music/music_genres/jazz/bebop"


# -- inputs and schemas (no model) ---------------------------------------------------------------
@pytest.mark.parametrize(("conversations", "error", "match"), [
    ([], ValueError, "conversations hold no user message"),
    ([[{"role": "assistant", "content": "Hello!"}]], ValueError, "conversations hold no user message"),
    ([[{"role": "robot", "content": "hi"}]], ValueError, r"conversations\[0\]\[0\] must have role .* role='robot'"),
    ([[{"role": "user", "content": 3}]], ValueError, r"content of type int"),
    (["hello"], TypeError, r"conversations\[0\] must be a Trajectory or a list of messages, got str"),
    ([[("user", "hi")]], TypeError, r"conversations\[0\]\[0\] must be a ChatMessage or a role/content dict"),
])
def test_bad_conversations_are_named(conversations, error, match) -> None:
    with pytest.raises(error, match=match):
        asyncio.run(extract(None, conversations))  # fails before any request is made


def test_bad_options_are_named() -> None:
    chat = [[ChatMessage(role="user", content="I'm vegan.")]]
    with pytest.raises(ValueError, match=r"unknown persona attribute 'diett' \(did you mean 'diet'\?\)"):
        asyncio.run(extract(None, chat, attributes=["diett"]))
    with pytest.raises(ValueError, match="'favorite_cuisine' is a taxonomy attribute"):
        asyncio.run(extract(None, chat, attributes=["favorite_cuisine"]))
    with pytest.raises(TypeError, match="must be a list of attribute names, got the string 'diet'"):
        asyncio.run(extract(None, chat, attributes="diet"))
    with pytest.raises(ValueError, match="group_size must be a positive int, got 0"):
        asyncio.run(extract(None, chat, group_size=0))
    with pytest.raises(ValueError, match="max_chars must be an int >= 200, got True"):
        asyncio.run(extract(None, chat, max_chars=True))


def test_attribute_schema_is_bounded_with_an_unknown_option(schema) -> None:
    group = [schema.attribute("diet"), schema.attribute("food_allergies")]
    spec = attribute_schema(group)
    assert spec["required"] == ["diet", "food_allergies"] and spec["additionalProperties"] is False
    assert spec["properties"]["diet"]["enum"] == [UNKNOWN, *schema.attribute("diet").values]
    allergies = spec["properties"]["food_allergies"]
    assert allergies["maxItems"] == schema.attribute("food_allergies").max_items
    assert allergies["items"]["enum"] == list(schema.attribute("food_allergies").values)
    assert INTEREST_SCHEMA["properties"]["likes"]["items"]["maxLength"] == 40


# -- coherence repair (no model) ---------------------------------------------------------------
def test_coherent_persona_drops_the_weaker_side_of_every_conflict(schema) -> None:
    steak = next(n for n in schema.taxonomy.ids if "red_meat" in schema.taxonomy.tags[n])
    persona, dropped = coherent_persona(
        schema,
        attribute_votes={"length_pref": Counter({("brief",): 3}),
                         "detail_orientation": Counter({("exhaustive_detail",): 1}),  # a rule forbids it with brief
                         "diet": Counter({("vegan",): 2, ("omnivore",): 1})},
        interest_votes={JAZZ: Counter({1: 2}), BEBOP: Counter({-1: 1}),  # a dislike under a better supported like
                        steak: Counter({1: 3})},  # a like the vegan diet forbids
        chunks=2,
    )
    assert persona.attributes["length_pref"] == "brief" and persona.attributes["diet"] == "vegan"
    assert "detail_orientation" not in persona.attributes
    assert [(i.node, i.polarity) for i in persona.interests] == [(JAZZ, 1)]
    assert persona.interests[0].intensity == 1.0 and persona.interests[0].source == "favorite_music_genre"
    assert persona.attributes["favorite_music_genre"] == JAZZ
    assert len(dropped) == 3 and any("detail_orientation=exhaustive_detail" in d for d in dropped)
    assert persona.source == "extracted" and not schema.violations(persona.attributes, persona.interests)
    assert "I like jazz" in persona.summary
    assert parse_persona(persona.model_dump(mode="json")) == persona  # what an env accepts


def test_coherent_persona_rejects_votes_outside_the_schema(schema) -> None:
    with pytest.raises(ValueError, match="unknown value 'carnivore'"):
        coherent_persona(schema, {"diet": Counter({("carnivore",): 1})}, {}, 1)
    with pytest.raises(ValueError, match="not a taxonomy node id"):
        coherent_persona(schema, {}, {"music/nope": Counter({1: 1})}, 1)


# -- with a real model ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trajectories():
    """Three template-mode episodes of one persona, as a user's logs would be."""
    env = make_env("PersonaGym/ChatClean-v0", max_turns=4)
    persona = env.unwrapped.sampler.sample(21)
    policy = make_policy("tracker", env=env, seed=0)
    out = [run_episode(env, policy, seed=s, options={"persona": persona}) for s in range(3)]
    env.close()
    return out


@pytest.mark.llm
def test_extraction_from_trajectories_gives_a_persona_an_env_accepts(vllm_backend, llm_runner, schema,
                                                                     trajectories) -> None:
    attributes = ["diet", "length_pref", "formality_level", "budget_level", "format_pref_primary"]
    extraction = llm_runner.run(extract(vllm_backend, trajectories, attributes=attributes, group_size=5))
    persona = extraction.persona
    assert isinstance(persona, Persona) and persona.source == "extracted"
    assert extraction.chunks >= 3
    schema.validate_attributes(persona.attributes)
    assert not schema.violations(persona.attributes, persona.interests)
    assert set(persona.attributes) <= set(attributes) | {a.name for a in schema.attributes.values()
                                                          if a.type == "taxonomy"}
    # every interest kept is grounded: some log mentions it
    texts = " ".join(turn.text.lower() for t in trajectories for turn in t.user_turns())
    for interest in persona.interests:
        node = schema.taxonomy.nodes[interest.node]
        assert any(s.lower() in texts for s in (node.name, *node.aliases)), interest.node
    assert len(extraction.failed) < extraction.chunks * 2  # most answers parse
    env = gym.make("PersonaGym/Chat-v0", max_turns=2)
    obs, _ = env.reset(seed=0, options={"persona": persona})
    assert obs["message"]
    assert env.unwrapped.trajectory().persona == persona
    env.step("Here is a short answer.")


@pytest.mark.llm
def test_extraction_from_chat_messages_and_the_sync_wrapper(replaying_vllm_backend, llm_runner, schema) -> None:
    backend = replaying_vllm_backend
    chats = [[{"role": "user", "content": "I'm vegan, so no meat or dairy please. I love jazz and hate horror films."},
              {"role": "assistant", "content": "Noted!"},
              {"role": "user", "content": "Keep it brief: bullet points only."}]]
    persona = extract_persona_sync(backend, chats, attributes=["diet", "length_pref"], runner=llm_runner)
    # the async call replays the sync call's words: it must send the very same requests, and build the same persona
    requests, cached = backend.usage.requests, backend.usage.cached
    assert persona == llm_runner.run(extract_persona(backend, chats, attributes=["diet", "length_pref"]))
    assert backend.usage.requests - requests == backend.usage.cached - cached > 0
    assert all(schema.attribute(name).type == "taxonomy" for name in set(persona.attributes) - {"diet", "length_pref"})
    gym.make("PersonaGym/Chat-v0").reset(seed=1, options={"persona": persona.model_dump(mode="json")})


def test_coherent_persona_drops_a_like_a_rule_on_interests_rules_out(schema) -> None:
    """Logs that say "my kids are small" and "I'm into college planning" give no persona liking college planning
    with young children: the rule on interests that the sampler keeps is kept here too."""
    planning = "parenting_family/parenting_stages/teenagers/college_planning"
    persona, dropped = coherent_persona(schema, {"children": Counter({("young_children",): 2})},
                                        {planning: Counter({1: 2}), JAZZ: Counter({1: 1})}, chunks=2)
    assert [i.node for i in persona.interests] == [JAZZ]
    assert dropped == [f"likes {planning}: the rule 'likes_teenagers' rules it out "
                       f"({schema.like_rules['parenting_family/parenting_stages/teenagers'].why})"]
