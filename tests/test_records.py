"""Records: JSON-encoded fields decode only when read back from their serialised form."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from personagym.records import SCHEMA_VERSION, SERIALIZED, Intent, Persona, PreferenceEvent, PreferenceState


def _event(before: object, after: object) -> PreferenceEvent:
    return PreferenceEvent(kind="life_event", session=1, turn=0, day=7.0, time_label="next_week",
                           target="age_band", before=before, after=after, cause="test")


def test_values_that_look_like_json_stay_strings_in_memory() -> None:
    event = _event("2534", "true")
    assert event.before == "2534" and event.after == "true"


def test_serialised_round_trip_keeps_types() -> None:
    for before, after in [("2534", "true"), (["peanut", "egg"], None), (0.5, 0.75), ("vegan", "omnivore")]:
        event = _event(before, after)
        data = json.loads(event.model_dump_json())
        assert isinstance(data["before"], str)  # JSON-encoded in serialised form
        back = PreferenceEvent.model_validate(data, context=SERIALIZED)
        assert back == event, (before, after)
        assert PreferenceEvent.model_validate_json(event.model_dump_json(), context=SERIALIZED) == event


def test_json_text_round_trips_without_a_context() -> None:
    """JSON text is always the serialised form, so `model_validate_json(model_dump_json())` needs no context."""
    for before, after in [(0.6107, 0.5), (["peanut", "egg"], None), ("2534", {"node": "music/jazz"})]:
        event = _event(before, after)
        back = PreferenceEvent.model_validate_json(event.model_dump_json())
        assert back == event and type(back.before) is type(before), (before, after)


def test_unknown_schema_version_is_refused_by_name() -> None:
    data = Persona(persona_id="p", attributes={"diet": "vegan"}, interests=[], summary="s").model_dump(mode="json")
    assert Persona.model_validate({**data, "schema_version": SCHEMA_VERSION}).schema_version == SCHEMA_VERSION
    with pytest.raises(ValidationError, match=r"schema_version\n.*schema version '9\.9' cannot be read by this "
                                              r"personagym, which reads 1\.0"):
        Persona.model_validate({**data, "schema_version": "9.9"})


@pytest.mark.parametrize(("attributes", "message"), [
    ([{"name": "diet", "values": [], "multi": False}],
     r"single-valued attribute 'diet' should have exactly one value, got \[\]"),
    ([{"name": "diet", "values": ["vegan", "halal"], "multi": False}],
     r"single-valued attribute 'diet' should have exactly one value, got \['vegan', 'halal'\]"),
    ([{"values": ["vegan"], "multi": False}], r"entry 0 should be an object with a string 'name', 'values', 'multi'"),
    (["diet"], r"entry 0 should be an object with a string 'name', 'values', 'multi', got 'diet'"),
    ([{"name": "diet", "values": "vegan", "multi": False}], r"attribute 'diet' should have a list of 'values'"),
    ([{"name": "diet", "values": ["vegan"], "multi": False}, {"name": "diet", "values": ["halal"], "multi": False}],
     r"attribute 'diet' appears twice \(entries 0 and 1\)"),
])
def test_damaged_attribute_entries_are_validation_errors_at_the_field(attributes: list[Any], message: str) -> None:
    """They used to escape as a bare IndexError/KeyError/TypeError, or to drop values without a word."""
    with pytest.raises(ValidationError, match=rf"attributes\n.*{message}"):
        Persona.model_validate({"persona_id": "p", "attributes": attributes, "interests": [], "summary": "s"})


def test_damaged_state_and_slot_entries_are_validation_errors_at_the_field() -> None:
    state = {"persona_id": "p", "interests": [], "attributes": [], "forbidden_tags": []}
    with pytest.raises(ValidationError, match=r"exposure\n.*entry 0 should be an object with a string 'node', 'value'"):
        PreferenceState.model_validate({**state, "exposure": [{"node": "music/jazz"}]})
    with pytest.raises(ValidationError, match=r"interests\n.*entry 0 should be an object with a string 'node', got"):
        PreferenceState.model_validate({**state, "interests": ["music/jazz"]})
    interest = {"node": "music/jazz", "polarity": 1, "intensity": 0.5}
    with pytest.raises(ValidationError, match=r"interest in node 'music/jazz' appears twice \(entries 0 and 1\)"):
        PreferenceState.model_validate({**state, "interests": [interest, {**interest, "intensity": 0.9}]})
    with pytest.raises(ValidationError, match=r"slots\n.*entry 0 should be an object with a string 'name', 'value'"):
        Intent.model_validate({"kind": "task_request", "slots": [{"name": "budget"}]})


def test_non_finite_numbers_are_refused() -> None:
    """JSON has no NaN: pydantic wrote it as null, a line that could not be read back."""
    with pytest.raises(ValidationError, match=r"day\n\s+Input should be a finite number"):
        PreferenceEvent.model_validate({**_event(None, None).model_dump(), "day": float("nan")}, context=SERIALIZED)
