"""Profile fidelity: what the user says, recovered and scored against its hidden profile."""

from __future__ import annotations

import pytest

from personagym.envs.fidelity import PER_UTTERANCE, FidelityScore, ProfileFidelity, UserRewardWeights, user_reward
from personagym.envs.knowledge import WorldKnowledge
from personagym.records import Persona, PreferenceState
from personagym.simulators.analyzer import ResponseAnalyzer
from personagym.simulators.persona import PersonaSchema
from personagym.simulators.preferences import initial_state

JAZZ = "music/music_genres/jazz"
HORROR = "movies_tv/film_genres/horror_movies"


@pytest.fixture(scope="module")
def fidelity(schema: PersonaSchema) -> ProfileFidelity:
    return ProfileFidelity(WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy)), schema)


@pytest.fixture(scope="module")
def state(schema: PersonaSchema) -> PreferenceState:
    persona = Persona(
        persona_id="p_test", summary="",
        attributes={"diet": "vegan", "food_allergies": ["egg"], "length_pref": "brief", "age_band": "3544"},
        interests=[{"node": JAZZ, "polarity": 1, "intensity": 0.8},
                   {"node": HORROR, "polarity": -1, "intensity": 0.6}],
    )
    return initial_state(persona, schema)


def _score(fidelity: ProfileFidelity, state: PreferenceState, *utterances: str) -> FidelityScore:
    fidelity.clear()
    score = FidelityScore()
    for utterance in utterances:
        score = fidelity.hear(utterance, state)
    return score


def test_the_target_is_the_expressible_profile(fidelity: ProfileFidelity, state: PreferenceState) -> None:
    assert fidelity.expressible(state) == {
        ("diet", "vegan"), ("food_allergies", "egg"), ("length_pref", "brief"),
        ("likes", JAZZ), ("dislikes", HORROR),
    }


def test_stating_the_whole_profile_scores_one(fidelity: ProfileFidelity, state: PreferenceState) -> None:
    score = _score(fidelity, state, "I'm vegan and I'm allergic to eggs.", "Keep it short.",
                   "I love jazz. I can't stand horror movies.")
    assert score == FidelityScore(f1=1.0, precision=1.0, recall=1.0, contradictions=0)


def test_a_message_reciting_the_profile_is_credited_for_a_users_share(fidelity: ProfileFidelity,
                                                                        state: PreferenceState) -> None:
    """The built-in simulator states at most 3 new items in all but ~1 of 4,600 messages; reciting the whole
    profile in the opening message scored F1 1.0 (the simulator's sessions: 0.16)."""
    recital = "I'm vegan and I'm allergic to eggs. Keep it short. I love jazz. I can't stand horror movies."
    score = _score(fidelity, state, recital)
    assert (score.precision, score.recall) == (1.0, PER_UTTERANCE / 5)
    assert fidelity.stated == fidelity.expressible(state)  # all of it was said (and told), a share is credited
    # a recital every message is credited one new item a message after the first burst
    score = _score(fidelity, state, recital, recital)
    assert score.recall == (PER_UTTERANCE + 1) / 5


def test_a_recitals_contradictions_still_count(fidelity: ProfileFidelity, state: PreferenceState) -> None:
    """Items past the credited share earn nothing, but a lie among them is still a lie."""
    score = _score(fidelity, state, "I'm vegan and I'm allergic to eggs. Keep it short. I love horror movies.")
    assert score.contradictions == 1 and score.precision == 1.0


def test_a_session_credits_at_most_its_share(schema: PersonaSchema, state: PreferenceState) -> None:
    capped = ProfileFidelity(WorldKnowledge(schema, ResponseAnalyzer(schema.taxonomy)), schema, per_session=2)
    score = _score(capped, state, "I'm vegan.", "I'm allergic to eggs.", "Keep it short.", "I love jazz.")
    assert (score.precision, score.recall) == (1.0, 2 / 5)


def test_a_specific_instance_counts_for_its_liked_category(fidelity: ProfileFidelity, state: PreferenceState) -> None:
    score = _score(fidelity, state, "I could listen to bebop all day.")
    assert (score.precision, score.recall, score.contradictions) == (1.0, 0.2, 0)


@pytest.mark.parametrize(
    "lie",
    ["I love horror movies.",  # likes what the profile dislikes
     "I hate jazz.",  # dislikes what the profile likes
     "I eat pretty much everything.",  # another diet than the true one
     "I'm allergic to peanuts.",  # an allergy it does not have
     "Steak is my favourite dinner."],  # likes what its own diet forbids
)
def test_contradictions_of_the_truth_are_counted(fidelity: ProfileFidelity, state: PreferenceState,
                                                 lie: str) -> None:
    score = _score(fidelity, state, lie)
    assert score.contradictions == 1 and score.f1 == 0.0


def test_the_object_of_a_stated_constraint_is_not_a_like(fidelity: ProfileFidelity, state: PreferenceState) -> None:
    assert _score(fidelity, state, "I'm allergic to eggs.").contradictions == 0


def test_a_stated_constraint_hides_no_like_in_another_sentence(fidelity: ProfileFidelity,
                                                               state: PreferenceState) -> None:
    """ "I'm vegan. Steak is my favourite dinner." likes steak: a constraint in the message hid it (130 of 131
    forbidden likes said beside a true constraint went uncounted)."""
    assert _score(fidelity, state, "I'm vegan. Steak is my favourite dinner.").contradictions == 1


def test_other_attributes_neither_help_nor_hurt(fidelity: ProfileFidelity, state: PreferenceState) -> None:
    assert _score(fidelity, state, "I'm vegan. I'm in my late thirties.").precision == 1.0


def test_reward_is_the_weighted_change_of_the_score() -> None:
    before, after = FidelityScore(f1=0.25, contradictions=1), FidelityScore(f1=0.5, contradictions=2)
    components = after.components(before)
    assert components == {"fidelity": 0.25, "contradiction": -1.0}
    assert user_reward(components, UserRewardWeights(contradiction=0.5)) == pytest.approx(-0.25)


def test_asking_about_a_topic_outside_the_profile_claims_nothing(fidelity: ProfileFidelity,
                                                                 state: PreferenceState) -> None:
    """People ask about what they do not (yet) care for: a request about hiking was an unsupported claim of
    liking it, 76% of the built-in simulator's false positives (precision 0.69 over 300 sessions)."""
    assert _score(fidelity, state, "Can you help me plan a hiking trip?") == FidelityScore()
    assert not fidelity.credited and fidelity.stated  # heard (an assistant reads it as liked), not claimed
    score = _score(fidelity, state, "I love jazz. Can you help me plan a hiking trip?")
    assert (score.precision, score.recall) == (1.0, 0.2)


def test_asking_about_a_liked_topic_expresses_the_liking(fidelity: ProfileFidelity, state: PreferenceState) -> None:
    score = _score(fidelity, state, "Any tips on bebop?")
    assert (score.precision, score.recall, score.contradictions) == (1.0, 0.2, 0)


@pytest.mark.parametrize("question", [
    "Can you recommend something about country music, bebop and opera?",  # its topic is the first it names
    "Any tips on opera? Any tips on bebop?",  # its topic is the first request's
])
def test_only_a_requests_topic_implies_a_liking(fidelity: ProfileFidelity, state: PreferenceState,
                                                question: str) -> None:
    """A message asking about everything would be credited for whatever the profile holds, without a word of it
    claimed: only the request's topic implies a liking."""
    assert _score(fidelity, state, question) == FidelityScore() and not fidelity.credited


@pytest.mark.parametrize("asked", [
    "Can you recommend some horror movies?",  # a topic the profile dislikes
    "I'm vegan. Totally different question: how long should I grill a steak?",  # one its diet forbids
])
def test_asking_contradicts_nothing(fidelity: ProfileFidelity, state: PreferenceState, asked: str) -> None:
    assert _score(fidelity, state, asked).contradictions == 0


def test_a_liking_said_in_a_request_is_a_claim(fidelity: ProfileFidelity, state: PreferenceState) -> None:
    """Words that say the user likes a thing claim it, in a question too: a lie told so is still a lie."""
    assert _score(fidelity, state, "Since I love horror movies, what should I watch?").contradictions == 1
    assert _score(fidelity, state, "What should I listen to if I like jazz?").recall == 0.2
