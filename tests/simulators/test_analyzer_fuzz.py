"""The analyzer, and episodes answered, with random texts made of the analyzer's own cue words, names and marks.

A learner may send any string, and the analyzer's look-arounds (a cue three words back, a heading with no words, a
parenthesis holding only a mark) meet edge cases no hand-written case names: an IndexError of this kind reached CI
through a random pettingzoo action.  The vocabulary comes from the analyzer's own tables, so it follows them as cues
are added.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import personagym  # noqa: F401 - registers the ids
from personagym.records import ResponseFeatures
from personagym.simulators import analyzer as analyzer_module
from personagym.simulators.analyzer import ResponseAnalyzer, shared_analyzer
from personagym.simulators.taxonomy import Taxonomy

#: Markup and symbols the analyzer reads: lists, headings, tables, ratings, emoji, HTML, links, look-alikes, marks.
_MARKS = ("\n", "\n\n", "- ", "* ", "1. ", "## ", "**", "__", "`", "(", ")", "[", "](x)", ":", ";", ",", ".", "!",
          "?", "|", "---", "❌", "✅", "👍", "★", "☆", "⭐", "4.5/5", "(2/10)", "10/10", "<b>", "</b>", "<!--", "-->",
          "<span style=\"display:none\">", "</span>", "&amp;", "&#x41;", "\u202e", "\u0301", "\u200b", "ⓢ", "Ｓ",
          "s-t-e-a-k", "—", " -- ", "\"", "'", "🇫🇷", "I", "you", "for me", "the", "a", "and", "then", "not", "don't")


def _vocabulary(taxonomy: Taxonomy) -> list[str]:
    """Every cue phrase, heading word and terse verdict of the analyzer, a slice of taxonomy names, and `_MARKS`."""
    cues = {phrase for name in dir(analyzer_module) if name.endswith("_CUES")
            for phrase in getattr(analyzer_module, name)}
    cues |= set(analyzer_module._HEADING_WORDS) | set(analyzer_module._HEADINGS_ALONE)
    cues |= {" ".join(words) for words in analyzer_module._TERSE_VERDICTS}
    names = sorted(taxonomy.surfaces())[::97]
    return sorted(cues) + names + list(_MARKS)


def _texts(vocabulary: list[str], seed: int, n: int) -> list[str]:
    """`n` texts of 1-16 pieces of `vocabulary`, spaced or run together, now and then cased or with random bytes."""
    rng = np.random.default_rng(seed)
    texts = []
    for _ in range(n):
        pieces = [vocabulary[i] for i in rng.integers(0, len(vocabulary), size=int(rng.integers(1, 17)))]
        text = "".join(p + (" " if rng.random() < 0.6 else "") for p in pieces)
        if rng.random() < 0.2:
            text = text.upper() if rng.random() < 0.5 else text.capitalize()
        if rng.random() < 0.1:
            text += "".join(chr(int(c)) for c in rng.integers(32, 0x2FFF, size=int(rng.integers(1, 9))))
        texts.append(text)
    return texts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_texts_of_cues_and_marks_read_without_error(taxonomy: Taxonomy, seed: int) -> None:
    analyzer = shared_analyzer(taxonomy)
    for text in _texts(_vocabulary(taxonomy), seed, 4000):
        try:
            features = analyzer.analyze(text)
        except Exception as error:  # name the text: the failure is useless without it
            raise AssertionError(f"analyze({text!r}) raised {error!r}") from error
        nodes = [m.node for m in features.mentions]
        assert len(nodes) == len(set(nodes)), text
        assert all(node in taxonomy.nodes for node in nodes), text
        assert features.word_count >= 0 and features.questions >= 0 and features.emoji_count >= 0, text
        assert math.isfinite(features.reading_level), text
        assert set(features.asked_which) <= set(taxonomy.nodes), text


def test_a_reading_does_not_depend_on_the_texts_read_before(taxonomy: Taxonomy) -> None:
    """The scan reuses buffers between calls (tokens, sentinels); a fresh analyzer must read each text the same."""
    texts = _texts(_vocabulary(taxonomy), 4, 1500)
    used = shared_analyzer(taxonomy)
    before = [used.analyze(t) for t in texts]
    fresh = ResponseAnalyzer(taxonomy)
    after = [fresh.analyze(t) for t in reversed(texts)][::-1]
    changed = [t for t, a, b in zip(texts, before, after, strict=True) if a != b]
    assert not changed, f"{len(changed)} texts read differently, e.g. {changed[0]!r}"
    assert all(isinstance(f, ResponseFeatures) for f in before)


@pytest.mark.parametrize("env_id", ["PersonaGym/ChatNoisy-v0", "PersonaGym/LongTerm-v0"])
def test_episodes_answered_with_random_texts_run_to_their_end(taxonomy: Taxonomy, env_id: str) -> None:
    """The user reacts to whatever the analyzer read (praise, complaints, restating, leaving) without error, and
    every observation and reward stays what the env declares."""
    env = gym.make(env_id)
    answers = iter(_texts(_vocabulary(taxonomy), 5, 100_000))
    for seed in range(6):
        obs, _ = env.reset(seed=seed)
        done, steps = False, 0
        while not done:
            obs, reward, terminated, truncated, info = env.step(next(answers))
            assert obs in env.observation_space, (seed, steps)
            assert math.isfinite(reward) and all(map(math.isfinite, info["reward_components"].values())), (seed, steps)
            done, steps = terminated or truncated, steps + 1
        assert steps >= 1
    env.close()
