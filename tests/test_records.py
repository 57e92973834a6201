"""Records: JSON-encoded fields decode only when read back from their serialised form."""

from __future__ import annotations

import json

from personagym.records import SERIALIZED, PreferenceEvent


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
