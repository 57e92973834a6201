"""What the env's world knowledge suggests on a topic."""

from __future__ import annotations

from personagym.envs.knowledge import WorldKnowledge
from personagym.simulators.analyzer import ResponseAnalyzer
from personagym.simulators.persona import PersonaSchema


def test_grouping_nodes_are_no_suggestion(schema: PersonaSchema) -> None:
    """A request about food gets desserts and eating out, not "cuisines" or "dishes" (headings, not things)."""
    knowledge = WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy))
    tax = schema.taxonomy
    related = knowledge.related("food_cooking")
    assert related and all(not tax.nodes[n].group for n in related)
    assert set(tax.children["food_cooking"]) - set(related) >= {"food_cooking/cuisines", "food_cooking/dishes"}
    # under a heading, its children are the suggestions
    assert knowledge.related("food_cooking/cuisines") == tax.children["food_cooking/cuisines"]
    names = knowledge.suggestions("food_cooking", lambda n: 0, picks=1)
    assert names == ["food & cooking", tax.nodes[related[0]].name]
