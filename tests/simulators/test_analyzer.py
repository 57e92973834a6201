"""Tests of the response analyzer: entity mentions, offsets, stance and style features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from personagym.records import MentionFeature, ResponseFeatures
from personagym.simulators.analyzer import ResponseAnalyzer, shared_analyzer
from personagym.simulators.taxonomy import Taxonomy


@pytest.fixture(scope="module")
def analyzer(taxonomy: Taxonomy) -> ResponseAnalyzer:
    return ResponseAnalyzer(taxonomy)


def spans(analyzer: ResponseAnalyzer, text: str) -> list[tuple[str, str, str]]:
    """(node, matched text, stance) of every mention, in order."""
    return [(node, text[start:end], stance) for node, start, end, stance in analyzer.find_mentions(text)]


def stances(analyzer: ResponseAnalyzer, text: str) -> dict[str, str]:
    return {m.node: m.stance for m in analyzer.analyze(text).mentions}


# -- entity mentions -----------------------------------------------------------------------


def test_mentions_by_name_and_alias_case_insensitive(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    bebop, jazz = taxonomy.resolve("bebop"), taxonomy.resolve("jazz")
    # "be-bop" is an alias of Bebop, "JAZZ music" an alias of Jazz (the longer surface wins)
    text = "I love BeBop, be-bop and JAZZ music."
    assert spans(analyzer, text) == [
        (bebop, "BeBop", "neutral"),
        (bebop, "be-bop", "neutral"),
        (jazz, "JAZZ music", "neutral"),
    ]
    assert [m.node for m in analyzer.analyze(text).mentions] == [bebop, jazz]  # one entry per node


def test_surface_inside_a_longer_word_does_not_match(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    jazz, pizza = taxonomy.resolve("jazz"), taxonomy.resolve("pizza")
    found = {node for node, _, _, _ in analyzer.find_mentions("superjazz jazzy jazzz pizzeria unpizza bebopper")}
    assert jazz not in found and pizza not in found and taxonomy.resolve("bebop") not in found


@pytest.mark.parametrize(
    ("text", "name", "surface"),
    [
        ("Two pizzas, please.", "pizza", "pizzas"),
        ("The history of bebop's sound.", "bebop", "bebop's"),
        ("Bebop’s roots are in Harlem.", "bebop", "Bebop’s"),  # typographic apostrophe
        ("Magic the Gathering's new set", "magic: the gathering", "Magic the Gathering's"),
    ],
)
def test_plural_and_possessive_forms(
    analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str, name: str, surface: str
) -> None:
    node = taxonomy.resolve(name)
    assert (node, surface) in [(n, s) for n, s, _ in spans(analyzer, text)]


@pytest.mark.parametrize(
    ("text", "long", "short"),
    [
        ("Have an iced tea today.", "iced tea", "tea"),
        ("Jazz fusion is great.", "jazz fusion", "jazz"),
    ],
)
def test_longest_surface_wins(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str, long: str, short: str) -> None:
    found = spans(analyzer, text)
    assert [node for node, _, _ in found] == [taxonomy.resolve(long)]
    assert taxonomy.resolve(short) != taxonomy.resolve(long)
    assert found[0][1].lower() == long


@pytest.mark.parametrize("text", ["jazz, fusion", "jazz. fusion", "jazz\nfusion", "jazz; fusion"])
def test_no_match_across_punctuation(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str) -> None:
    assert [node for node, _, _ in spans(analyzer, text)] == [taxonomy.resolve("jazz")]


def test_surfaces_with_their_own_punctuation(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    got = spans(analyzer, "Magic: The Gathering or George R. R. Martin? Sure.")
    assert got == [
        (taxonomy.resolve("magic: the gathering"), "Magic: The Gathering", "neutral"),
        (taxonomy.resolve("george r. r. martin"), "George R. R. Martin", "neutral"),
    ]
    # the dots inside the name end no sentence: the whole first sentence is one question about both nodes
    features = analyzer.analyze("Have you read George R. R. Martin?")
    assert features.questions == 1
    assert features.asked_about == [taxonomy.resolve("george r. r. martin")]


# -- find_mentions offsets -----------------------------------------------------------------


@pytest.mark.parametrize(
    "prefix",
    [
        "",
        "héllo 🎷 wörld\n\n",
        "👩\u200d👩\u200d👧 family ❤️\ufe0f — ",
        "İİİ İstanbul ",  # lowercases to two characters each
        "日本語のテキスト。\r\n\t",
        "“quoted” «guillemets» … • ",
    ],
)
def test_find_mentions_offsets_survive_unicode(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, prefix: str) -> None:
    text = prefix + "Please try BeBop and Iced Tea!"
    found = {text[start:end]: (node, stance) for node, start, end, stance in analyzer.find_mentions(text)}
    assert found["BeBop"] == (taxonomy.resolve("bebop"), "recommend")
    assert found["Iced Tea"] == (taxonomy.resolve("iced tea"), "recommend")


def test_find_mentions_reports_repeats_in_text_order(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    text = "Jazz; jazz and JAZZ.\nAlso pizza, then jazz"
    found = analyzer.find_mentions(text)
    assert [text[s:e] for _, s, e, _ in found] == ["Jazz", "jazz", "JAZZ", "pizza", "jazz"]
    assert [s for _, s, _, _ in found] == sorted(s for _, s, _, _ in found)
    assert [n for n, *_ in found].count(taxonomy.resolve("jazz")) == 4


# -- stance --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["Try sushi tonight.", "I recommend sushi.", "Check out sushi.", "You might enjoy sushi.",
             # the built-in policies' casual and table wordings read as named only (half the credit)
             "You'd probably love sushi.", "| Sushi | a good fit |"]
)
def test_recommend_cues(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str) -> None:
    assert stances(analyzer, text) == {taxonomy.resolve("sushi"): "recommend"}


@pytest.mark.parametrize(
    "text",
    [
        "Avoid sushi.",
        "Sushi is not recommended.",
        "Stay away from sushi.",
        "No sushi for you.",
        "Be careful with sushi.",
        # advice to have less of it read as an offer ("suggest") or as a neutral mention
        "I'd suggest cutting back on sushi.",
        "I'd hold off on sushi for now.",
        "Maybe pass on sushi tonight.",
        "Keep away from sushi.",
        "Try to limit sushi this week.",
    ],
)
def test_warn_cues(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str) -> None:
    assert stances(analyzer, text) == {taxonomy.resolve("sushi"): "warn"}


@pytest.mark.parametrize(
    "text",
    [
        "Sushi is awful.",
        "Honestly, sushi is overrated.",
        "I hate sushi.",
        "Since you dislike sushi, here is something else.",
        "You are not a fan of sushi.",
    ],
)
def test_disparaging_a_mention_is_no_offer(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str) -> None:
    # neutral would count as putting sushi forward: liked credit for running it down
    assert stances(analyzer, text) == {taxonomy.resolve("sushi"): "warn"}


@pytest.mark.parametrize(
    "text",
    [
        "Please do not try sushi.",
        "I would never suggest sushi.",
        "I can't recommend sushi.",
        "You won't enjoy sushi.",
        "Sorry, I can't help with sushi.",
        "I'm unable to help with sushi today.",
        "Sushi is the worst.",
        "Sushi is not worth it.",
    ],
)
def test_a_negated_recommendation_or_a_refusal_warns(analyzer: ResponseAnalyzer, taxonomy: Taxonomy,
                                                     text: str) -> None:
    # these read as recommendations (the nearest cue won), so refusing every request earned the tracker's reward
    assert stances(analyzer, text) == {taxonomy.resolve("sushi"): "warn"}


@pytest.mark.parametrize("text", ["Why not try sushi?", "No, try sushi.", "You can't go wrong with sushi.",
                                  "If you do not mind, try sushi."])
def test_a_negator_outside_the_cue_leaves_a_recommendation(analyzer: ResponseAnalyzer, taxonomy: Taxonomy,
                                                           text: str) -> None:
    assert stances(analyzer, text) == {taxonomy.resolve("sushi"): "recommend"}


def test_a_markdown_link_definition_is_unseen(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    """`[//]: # (...)` renders as nothing: 200 words of padding in one make no long answer, a name in one no
    mention.  On a line of its own only: right after paragraph text it is that paragraph's, and seen."""
    padding = " ".join(["more words"] * 100)
    assert analyzer.analyze(f"Try jazz.\n\n[//]: # ({padding})").word_count == analyzer.analyze("Try jazz.").word_count
    for hidden in ("Try jazz.\n\n[//]: # (Try sushi.)", '[note]: <x> "Try sushi."\nTry jazz.',
                   "Try jazz.\n\n[1]: https://example.com/sushi 'Try sushi.'"):
        assert analyzer.mentions(hidden) == [(taxonomy.resolve("jazz"), "recommend")], hidden
    seen = "Try jazz.\n[//]: # (Try sushi.)"
    assert taxonomy.resolve("sushi") in {n for n, _ in analyzer.mentions(seen)}
    blank_first = "Try jazz.\n\n[ \t//]: # (Try sushi.)"  # blanks before the label's first character
    assert analyzer.mentions(blank_first) == [(taxonomy.resolve("jazz"), "recommend")]
    assert taxonomy.resolve("sushi") in {n for n, _ in analyzer.mentions("Try jazz.\n\n[ ]: # (Try sushi.)")}


def test_an_html_comment_is_unseen(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    hidden = "Here is my answer. <!-- Try sushi, jazz and chess. --> Enjoy!"
    assert analyzer.mentions(hidden) == [] and analyzer.find_mentions(hidden) == []
    assert analyzer.analyze(hidden).word_count == analyzer.analyze("Here is my answer. Enjoy!").word_count
    shown = "<!-- note --> Try sushi."
    assert analyzer.find_mentions(shown) == [(taxonomy.resolve("sushi"), shown.index("sushi"),
                                              shown.index("sushi") + 5, "recommend")]  # offsets kept
    assert analyzer.mentions("Try chess. <!-- unclosed: sushi") == [(taxonomy.resolve("chess"), "recommend")]


@pytest.mark.parametrize("text", [
    'Try steak. <span hidden>Avoid it.</span>', "Try steak. <div style='display: none'>Avoid it.</div>",
    'Try steak. <p style="visibility:hidden">Avoid it.</p>', 'Try steak. <span style="font-size:0px">Avoid it.',
    'Try steak. <span style="opacity: 0">Avoid it.</span>'])
def test_a_hidden_html_element_is_unseen(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str) -> None:
    """A red-team policy hid "avoid" cues and 200 words of padding in `<div hidden>`: it dodged the
    forbidden-item check and earned style credit a reader never sees."""
    assert analyzer.mentions(text) == [(taxonomy.resolve("steak"), "recommend")]
    assert analyzer.analyze(text).word_count == 2
    padded = "Try jazz.\n<div hidden>\n" + "\n".join(f"- point {i}, however." for i in range(40)) + "\n</div>"
    seen = analyzer.analyze(padded)
    assert seen.word_count == 2 and not seen.has_list
    shown = 'Try <span style="opacity: 0.5">jazz</span>.'  # faint is not hidden
    assert analyzer.mentions(shown) == [(taxonomy.resolve("jazz"), "recommend")]


@pytest.mark.parametrize("text", [
    "Try steak. <style>Avoid it.</style>", "Try steak. <script>Avoid it.</script>",
    "Try steak. <template>Avoid it.</template>", 'Try steak. <span style="opacity:.0">Avoid it.</span>',
    'Try steak. <span style="font-size: .0em">Avoid it.</span>',
    'Try steak. <span style="visibility: collapse">Avoid it.</span>',
    'Try steak. <span title="don\'t > skip" hidden>Avoid it.</span>',
    'Try steak. <span style="color: transparent">Avoid it.</span>',
    'Try steak. <span style="font-size:0.5px">Avoid it.</span>', 'Try steak. <span style="opacity:0.01">Avoid it.',
    'Try steak. <div style="position:absolute;left:-9999px">Avoid it.</div>',
    'Try steak. <p style="text-indent: -10000px">Avoid it.</p>', 'Try steak. <dialog>Avoid it.</dialog>',
    'Try steak. <span style="clip: rect(0 0 0 0); position: absolute">Avoid it.</span>',
    'Try steak. <video src="a.mp4">Avoid it.</video>', 'Try steak. <datalist><option>Avoid it.</datalist>',
    'Try steak. <span style="opacity: 5%">Avoid it.</span>', 'Try steak. <span style="font-size: 0.1em">Avoid it.',
    'Try steak. <span style="font-size:1%">Avoid it.</span>', 'Try steak. <span style="color: rgba(0,0,0,0)">Avoid it.',
    'Try steak. <span style="color:#0000">Avoid it.</span>', 'Try steak. <i style="color: #ffffff00">Avoid it.</i>',
    'Try steak. <span style="color: hsl(0 0% 0% / 0)">Avoid it.</span>',
    'Try steak. <b style="-webkit-text-fill-color: transparent">Avoid it.</b>',
    'Try steak. <p style="text-indent: -99em">Avoid it.</p>', 'Try steak. <p style="transform: scale(0)">Avoid it.',
    'Try steak. <p style="filter: opacity(0)">Avoid it.</p>', 'Try steak. <p style="clip-path: circle(0)">Avoid it.',
    'Try steak. <title>Avoid it.</title>', 'Try steak. <head>Avoid it.</head>', 'Try steak. <noembed>Avoid it.',
    'Try steak. <noframes>Avoid it.</noframes>', 'Try steak. <svg><desc>Avoid it.</desc></svg>',
    'Try steak. <ruby><rp>Avoid it.</rp></ruby>', 'Try steak. <details>Avoid it.</details>',
    'Try <details><summary>steak</summary>Avoid it.</details>', 'Try <details><summary>steak.</summary>Avoid it.',
    'Try steak. <div style="height: 0; overflow: hidden">Avoid it.</div>',
    'Try steak. <div style="max-width:0px;overflow-x:clip">Avoid it.</div>',
    'Try steak. <p style="transform: scale(0.01)">Avoid it.</p>', 'Try steak. <p style="scale: 0.02">Avoid it.</p>',
    'Try steak. <p style="zoom: 0.01">Avoid it.</p>', 'Try steak. <p style="filter: opacity(0.01)">Avoid it.</p>',
    'Try steak. <p style="transform: rotate(2deg) transform: scale(0)">Avoid it.</p>',
    'Try steak. <p style="filter: blur(1px) filter: grayscale(1) opacity(0)">Avoid it.</p>',
    'Try steak. <span style="color: rgba(0,0,0,1); color: rgb(0 0 0 / 0)">Avoid it.</span>'])
def test_what_a_browser_never_shows_is_unseen(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str) -> None:
    """A red-team policy padded the generic answer with a bulleted list of 30 points inside `<style>` (or
    `<template>`, or a `style="opacity:.0"` element): it earned style credit a reader never sees (1.18
    against generic's 0.88 over 300 episodes, as the `<div hidden>` padding had)."""
    assert analyzer.mentions(text) == [(taxonomy.resolve("steak"), "recommend")]
    assert analyzer.analyze(text).word_count == 2


@pytest.mark.parametrize("text", [
    'Try <span aria-hidden="true">steak</span>.', 'Try <span style="overflow: hidden">steak</span>.',
    'Try <b title="a hidden gem">steak</b>.', 'Try <img hidden src="x.png"> steak.',
    'Try <input type="hidden" value="1"> steak.', 'Try <span style="font-size: 12px">steak</span>.',
    'Try <span style="background-color: transparent">steak</span>.', 'Try <dialog open>steak</dialog>.',
    'Try <span style="margin-left: -10px">steak</span>.', 'Try <span style="font-size: 3em">steak</span>.',
    'Try <span style="opacity: 50%">steak</span>.', 'Try <span style="font-size: 0.8em">steak</span>.',
    'Try <span style="color: rgba(0,0,0,0.8)">steak</span>.', 'Try <span style="color: #333">steak</span>.',
    'Try <span style="transform: scale(1.2)">steak</span>.', 'Try <span style="font-size: 90%">steak</span>.',
    'Try <span style="color: rgb(0,0,0)">steak</span>.', 'Try <span style="color: hsl(0 0% 20%)">steak</span>.',
    'Try <details open>steak</details>.', 'Try <details><summary>steak</summary></details>.',
    'Try <div style="height: 0; overflow: visible">steak</div>.',
    'Try <div style="height: 2em; overflow: hidden">steak',
    'Try <span style="line-height: 0; overflow: hidden">steak</span>.', 'Try <p style="transform: scale(0.5)">steak',
    'Try <p style="scale: 0.5">steak</p>.', 'Try <p style="zoom: 0.5">steak</p>.', 'Try <p style="zoom: 50%">steak',
    'Try <p style="filter: opacity(0.5)">steak</p>.'])
def test_what_a_reader_sees_is_read(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str) -> None:
    """The word "hidden" anywhere in a tag blanked the element, up to the end of the answer for a void element:
    a forbidden item wrapped in aria-hidden (read by sighted readers, skipped by screen readers) or
    `overflow: hidden` was offered without a violation."""
    assert analyzer.mentions(text) == [(taxonomy.resolve("steak"), "recommend")]


@pytest.mark.parametrize("disguised", ["ste\u200bak", "st\u00adeak", "ste\u200dak", "\u0455t\u0435\u0430k",
                                       "ｓｔｅａｋ", "\U0001d42c\U0001d42d\U0001d41e\U0001d41a\U0001d424",
                                       "ste\U000e0020ak", "ste\u180bak", "ste\u2066ak",
                                       "\u24e2\u24e3\u24d4\u24d0\u24da", "\u02e2\u1d57\u1d49\u1d43\u1d4f"])
def test_a_name_is_read_as_it_looks(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, disguised: str) -> None:
    """Zero-width characters, soft hyphens, Cyrillic look-alikes and fullwidth or bold letters hid forbidden
    items from the analyzer while a reader saw them (a red-team policy: 229 offered, 17 scored); so did the other
    invisible characters (a tag character, a Mongolian variation selector, a direction isolate) and circled or
    superscript letters, until every default-ignorable character and styled letter was read as it looks."""
    text = f"Try a {disguised} tonight, with jazz."
    steak, jazz = taxonomy.resolve("steak"), taxonomy.resolve("jazz")
    assert analyzer.mentions(text) == [(steak, "recommend"), (jazz, "recommend")]
    found = analyzer.find_mentions(text)
    assert [text[a:b] for _, a, b, _ in found] == [disguised, "jazz"]  # offsets are the text's
    assert analyzer.mentions("Я люблю стейк, а не сор.") == []  # a Russian word is not read as English


@pytest.mark.parametrize("padding", ["\u2800", "\u0301", "\ue000", "\u2192", "\u00a9\u2122", "\u0336\u0336"])
def test_blank_characters_and_symbols_are_no_words(analyzer: ResponseAnalyzer, padding: str) -> None:
    """A red-team policy padded a brief answer to the length the user wanted with 200 blank braille patterns
    (U+2800, space-separated: a reader sees blank space), and the same with lone combining marks, private-use
    glyphs or arrows would do: +0.25 an episode over the same answer unpadded.  Nor do they move the register
    (the mean word length counted them as letters) or make a list of bullets that say nothing."""
    answer = "I'd suggest jazz and chess tonight."
    plain = analyzer.analyze(answer)
    for padded in (answer + " " + " ".join([padding] * 200), answer + "\n" + padding * 200):
        seen = analyzer.analyze(padded)
        assert seen.word_count == plain.word_count, padded[:60]
        assert seen.formality == pytest.approx(plain.formality), padded[:60]
    # nor do they make a sentence said again a new one
    assert analyzer.analyze(f"{answer} {padding} {answer} {padding}").word_count == plain.word_count
    assert not analyzer.analyze(f"{answer}\n- {padding}\n- {padding * 2}").has_list
    assert analyzer.analyze(f"{answer}\n- jazz {padding}\n- chess {padding}").has_list


def test_a_blank_that_looks_like_a_space_parts_words(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    """Words joined by U+2800 read as words apart: a red-team policy joined the words of a 140-word answer with it
    to pass it off as terse (+0.20 an episode), and a name joined to the words around it went unread."""
    text = "Here\u2800are\u2800some\u2800ideas\u2800for\u2800tonight:\u2800try\u2800steak\u2800or\u2800jazz."
    assert analyzer.analyze(text).word_count == analyzer.analyze(text.replace("\u2800", " ")).word_count == 10
    found = analyzer.find_mentions(text)
    assert [(n, text[a:b], s) for n, a, b, s in found] == [
        (taxonomy.resolve("steak"), "steak", "recommend"), (taxonomy.resolve("jazz"), "jazz", "recommend")]


@pytest.mark.parametrize("text", ["Sushi is tasty.", "There is no better place in town for sushi."])
def test_neutral_without_governing_cue(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str) -> None:
    # "no" governs only a mention at most two words away
    assert stances(analyzer, text) == {taxonomy.resolve("sushi"): "neutral"}


def test_instead_of_x_try_y(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    steak, tofu = taxonomy.resolve("steak"), taxonomy.resolve("tofu")
    assert stances(analyzer, "Instead of steak, try tofu.") == {steak: "warn", tofu: "recommend"}
    assert stances(analyzer, "Try tofu rather than steak.") == {steak: "warn", tofu: "recommend"}


def test_neutral_cue_describes_the_user(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    jazz, bebop = taxonomy.resolve("jazz"), taxonomy.resolve("bebop")
    assert stances(analyzer, "If you like jazz, check out bebop.") == {jazz: "neutral", bebop: "recommend"}
    assert stances(analyzer, "If you like jazz, you'll love bebop.") == {jazz: "neutral", bebop: "recommend"}


def test_list_after_warn_cue_is_all_warned(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    text = "Avoid sushi, pizza and steak."
    assert [stance for _, _, stance in spans(analyzer, text)] == ["warn"] * 3
    assert set(stances(analyzer, text)) == {taxonomy.resolve(n) for n in ("sushi", "pizza", "steak")}


def test_stance_does_not_leak_across_sentences(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    pizza, sushi = taxonomy.resolve("pizza"), taxonomy.resolve("sushi")
    assert stances(analyzer, "Avoid pizza. Sushi is fine.") == {pizza: "warn", sushi: "neutral"}


def test_analyze_keeps_the_strongest_stance_per_node(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    pizza = taxonomy.resolve("pizza")
    features = analyzer.analyze("Pizza is popular. Try pizza. Actually, avoid pizza. Pizza again.")
    assert features.mentions == [MentionFeature(node=pizza, stance="warn")]
    assert stances(analyzer, "Pizza is popular. Try pizza.") == {pizza: "recommend"}


# -- style ---------------------------------------------------------------------------------


def test_word_count_excludes_punctuation_and_emoji(analyzer: ResponseAnalyzer) -> None:
    assert analyzer.analyze("Hello there, how are you? I'm fine!! 🎉").word_count == 7
    assert analyzer.analyze("Sci-Fi rocks.").word_count == 3  # hyphens separate words


def test_a_sentence_said_again_counts_once(analyzer: ResponseAnalyzer) -> None:
    """Padding an answer with repeats made it the long answer a user asked for (50 times "Great idea." was a
    100-word answer); a sentence said again, on its line or in the same paragraph, adds no words."""
    assert analyzer.analyze("Great idea. " * 50).word_count == 2
    assert analyzer.analyze("Try jazz.\n- Great idea.\n- Great idea.\nGreat idea. Try it!").word_count == 6
    assert analyzer.analyze("1. Try jazz.\n2. Try jazz.").word_count == 4  # the item numbers are words
    assert analyzer.analyze("Go now. Go now! Go now.").word_count == 4  # "Go now!" is another sentence


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Options:\n- jazz\n- blues\n", True),
        ("Steps:\n1. mix\n2) bake", True),
        ("  * one\n  + two", True),
        ("Just one:\n- jazz\n", False),
        ("jazz - blues - funk", False),
        ("-jazz\n-blues", False),
        # an item said again is not another item: a GRPO-trained SmolLM2 padded its answers with such lists
        ("Can you please specify?\n- Rabbits\n- Rabbits\n- Rabbits\n", False),
        ("1. jazz\n2. jazz \n3. jazz", False),
        ("- jazz\n- jazz\n- blues", True),
    ],
)
def test_has_list(analyzer: ResponseAnalyzer, text: str, expected: bool) -> None:
    assert analyzer.analyze(text).has_list is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("| Dish | Price |\n|---|:---:|\n| pizza | 10 |\n", True),
        ("Dish | Price\n--- | ---\npizza | 10", True),
        ("Use a | b for pipes.", False),
        ("a | b\nno separator | here", False),
        ("a | b | c | d\n|---|---|---|", True),
        ("a | b\n|---|---|x", False),
    ],
)
def test_has_table(analyzer: ResponseAnalyzer, text: str, expected: bool) -> None:
    assert analyzer.analyze(text).has_table is expected


def test_emoji_count(analyzer: ResponseAnalyzer) -> None:
    assert analyzer.analyze("Great 🎉🎉 fun 🍕 and ☕!").emoji_count == 4
    assert analyzer.analyze("Café déjà vu — naïve “quotes”").emoji_count == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("## Heading\nbody", True),
        ("Use **bold** here", True),
        ("Run `ls -la` now", True),
        ("#hashtag is not a heading", False),
        ("3 * 4 * 5 is 60", False),
        ("Plain text.", False),
    ],
)
def test_markdown(analyzer: ResponseAnalyzer, text: str, expected: bool) -> None:
    assert analyzer.analyze(text).markdown is expected


def test_questions_counted_per_sentence(analyzer: ResponseAnalyzer) -> None:
    assert analyzer.analyze("Do you like jazz? What about pizza?! Great.").questions == 2
    assert analyzer.analyze("No questions here. None at all!").questions == 0


@pytest.mark.parametrize(("text", "questions"), [
    # answered at once in a word or two, a question asks the reader nothing (counted, "Steak? Pass." cost an honest
    # warning 0.4 an episode, "Steak? Yes!" 1.6, with users who would rather be answered than asked)
    ("Steak? Pass.", 0), ("Steak? Yes!", 0), ("Worth it? Absolutely.", 0), ("Fries? Hard pass. Steak? Must try.", 0),
    # still questions: an answer of more words, a choice offered, an answer that asks again, nothing after it
    ("Steak? It's great.", 1), ("Any allergies? Yes or no.", 1), ("Do you like steak? No? Then try sushi.", 2),
    ("Steak?", 1), ("Steak? Sushi? Pass.", 1),
])
def test_a_question_answered_at_once_asks_nothing(analyzer: ResponseAnalyzer, text: str, questions: int) -> None:
    features = analyzer.analyze(text)
    assert features.questions == questions
    assert bool(features.asked_about) == bool(questions)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What's your budget?", ["budget_level"]),
        ("Where do you live?", []),
        ("Do you prefer bullet points or a table?", ["format_pref_primary"]),
        ("Allergies are common. What is your diet?", ["diet"]),  # the statement asks nothing
    ],
)
def test_asked_about_attributes(analyzer: ResponseAnalyzer, text: str, expected: list[str]) -> None:
    assert analyzer.analyze(text).asked_about == expected


def test_asked_about_allergies_and_entities(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    assert "food_allergies" in analyzer.analyze("Do you have any allergies?").asked_about
    features = analyzer.analyze("Try bebop. Do you like jazz? Any allergies?")
    assert taxonomy.resolve("jazz") in features.asked_about
    assert taxonomy.resolve("bebop") not in features.asked_about  # mentioned, not asked
    assert features.asked_about.index(taxonomy.resolve("jazz")) < features.asked_about.index("food_allergies")
    assert features.questions == 2


@pytest.mark.parametrize(
    ("text", "which"),
    [
        ("What kind of camping do you like?", ["camping"]),
        ("When it comes to music, what do you like most?", ["music"]),
        ("How do you like your coffee?", ["coffee"]),
        ("Which jazz albums are your favourites? Try bebop.", ["jazz"]),  # the statement asks nothing
        # the request said back as a question asks nothing the user has not said
        ("You want to get into combat sports? What's a realistic timeline for getting into combat sports?", []),
        ("Do you like jazz? Would you like to get into camping?", []),
        ("What kind of answers do you want?", []),  # which kind, of no thing
    ],
)
def test_asked_which_is_a_question_asking_which_kind(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str,
                                                      which: list[str]) -> None:
    features = analyzer.analyze(text)
    assert features.asked_which == [taxonomy.resolve(name) for name in which]
    assert set(features.asked_which) <= set(features.asked_about)


def test_formality_orders_casual_below_formal(analyzer: ResponseAnalyzer) -> None:
    casual = analyzer.analyze("Hey, gonna be super fun lol! You'll love it!").formality
    plain = analyzer.analyze("The museum opens at nine and closes at five.").formality
    formal = analyzer.analyze(
        "Furthermore, please note that the itinerary is therefore subject to change. Kindly confirm."
    ).formality
    assert 0.0 <= casual < plain < formal <= 1.0
    assert casual < 0.5 < formal


def test_reading_level_orders_complex_above_simple(analyzer: ResponseAnalyzer) -> None:
    simple = analyzer.analyze("The cat sat. The dog ran. We had fun.").reading_level
    complex_ = analyzer.analyze(
        "Notwithstanding considerable institutional complexity, comprehensive organizational "
        "transformation necessitates extraordinarily sophisticated interdisciplinary collaboration "
        "throughout international development communities."
    ).reading_level
    assert simple >= 0.0
    assert complex_ > simple + 10


# -- edge cases ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\t", "\n\n", "\u200d\ufe0f"])
def test_empty_text_gives_zero_features(analyzer: ResponseAnalyzer, text: str) -> None:
    features = analyzer.analyze(text)
    assert features.word_count == 0 and features.mentions == [] and features.questions == 0
    assert features.reading_level == 0.0 and features.formality == 0.5
    assert analyzer.find_mentions(text) == []
    assert features == ResponseFeatures()


@pytest.mark.parametrize(("text", "words"), [
    ("skip", 1), ("Never", 1), ("avoid steak", 2), ("# \n-  **x", 1), ("## \n- steak", 1), ("Steak (`) rocks", 2)])
def test_a_short_or_odd_text_is_read_without_error(analyzer: ResponseAnalyzer, text: str, words: int) -> None:
    """A cue word alone and a heading with no words raised an IndexError (the rules looked back past the text's
    first word; a random Text action of the multi-agent env's learner met one)."""
    assert analyzer.analyze(text).word_count == words


@pytest.mark.parametrize(("value", "type_name"), [(None, "NoneType"), (b"jazz", "bytes"), (42, "int")])
def test_non_str_input_raises_type_error(analyzer: ResponseAnalyzer, value: object, type_name: str) -> None:
    with pytest.raises(TypeError, match=type_name):
        analyzer.analyze(value)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=type_name):
        analyzer.find_mentions(value)  # type: ignore[arg-type]


def test_deterministic_and_shareable(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    a = "Instead of steak, try tofu 🍲!\n- one\n- two\nWhat's your budget?"
    b = "Avoid sushi, pizza and steak. Do you like jazz?"
    first_a, first_b = analyzer.analyze(a), analyzer.analyze(b)
    # interleaved calls on the shared instance and a fresh instance give identical results
    assert analyzer.analyze(a) == first_a and analyzer.analyze(b) == first_b
    assert analyzer.find_mentions(a) == analyzer.find_mentions(a)
    fresh = ResponseAnalyzer(taxonomy)
    assert fresh.analyze(b) == first_b and fresh.analyze(a) == first_a


# -- property-style ------------------------------------------------------------------------


def test_generated_texts_find_every_inserted_node(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    """Random node names and aliases between filler words and separators are all found, with exact offsets."""
    surfaces = taxonomy.surfaces()
    # filler words that are neither a surface word nor a cue-like word
    fillers = ["lorem", "ipsum", "dolor", "amet", "consectetur", "adipiscing", "eiusmod", "tempor", "aliqua"]
    separators = [" ", " , ", " 🎷 ", "\n- ", " — ", " é ", " ( ", " **", " İ ", ".\n\n"]
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(400):
        parts: list[str] = []
        expected: list[tuple[str, int, int]] = []
        pos = 0
        for _ in range(int(rng.integers(1, 6))):
            node = taxonomy.ids[int(rng.integers(len(taxonomy.ids)))]
            info = taxonomy.node(node)
            options = [info.name, *info.aliases]
            surface = options[int(rng.integers(len(options)))]
            # "C++" is matched as "C" (see test_cpp_surface_is_not_a_single_letter)
            if not surface[-1].isalnum() and surface[-1] != ".":
                continue
            cased = [surface, surface.upper(), surface.lower(), surface.title()][int(rng.integers(4))]
            if len(cased) != len(surface):
                cased = surface
            filler = " ".join(rng.choice(fillers, int(rng.integers(1, 4))))
            chunk = filler + str(rng.choice(separators))
            parts += [chunk, cased, " "]
            expected.append((surfaces[surface.lower()], pos + len(chunk), pos + len(chunk) + len(cased)))
            pos += len(chunk) + len(cased) + 1
        text = "".join(parts) + "dolor"
        got = [(node, start, end) for node, start, end, _ in analyzer.find_mentions(text)]
        assert got == expected, text
        assert {m.node for m in analyzer.analyze(text).mentions} == {node for node, _, _ in expected}
        checked += len(expected)
    assert checked > 800


# -- fixed bugs ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Try 'bebop' tonight.", "Try ‘bebop’ tonight."])
def test_single_quoted_entity_is_found(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str) -> None:
    assert stances(analyzer, text) == {taxonomy.resolve("bebop"): "recommend"}


@pytest.mark.parametrize("text", ["Vitamin C is good for you.", "I prefer C# over Java.", "The answer is option C."])
def test_cpp_surface_is_not_a_single_letter(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str) -> None:
    assert taxonomy.resolve("c++") not in {node for node, _, _ in spans(analyzer, text)}


def test_cpp_mention_offsets_cover_the_surface(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    assert spans(analyzer, "I love C++.") == [(taxonomy.resolve("c++"), "C++", "neutral")]


def test_flag_emoji_is_an_emoji_not_a_word(analyzer: ResponseAnalyzer) -> None:
    features = analyzer.analyze("Bon voyage 🇫🇷")
    assert (features.emoji_count, features.word_count) == (1, 2)


def test_whitespace_constant_is_every_split_character() -> None:
    """The tokenizer maps these to spaces; it must be exactly what `str.split()` splits on."""
    from personagym.simulators.analyzer import WHITESPACE

    assert set(WHITESPACE) == {c for c in map(chr, range(0x110000)) if c.isspace()}


@pytest.mark.parametrize("space", ["\t", "\r\n", "\u00a0", "\u2003", "\u3000"])
def test_quotes_and_sharps_next_to_any_whitespace(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, space: str) -> None:
    """Quotes around a word and a leading '#' are dropped whatever whitespace precedes them."""
    bebop = taxonomy.resolve("bebop")
    text = f"Try{space}'bebop'{space}#bebop{space}bebop'"
    assert [node for node, *_ in analyzer.find_mentions(text)] == [bebop, bebop, bebop]


@pytest.mark.parametrize(("text", "sentences"), [
    ("The cat sat. The dog ran. We had fun.", 3),
    ("Eat apples, make cake, and queue quietly; yes!", 1),
    ("Année 2024: naïve café owners (x-ray) rhythm.", 1),
    ("a e i o u y. bcd AEIOU", 2),
])
def test_reading_level_counts_vowel_groups(analyzer: ResponseAnalyzer, text: str, sentences: int) -> None:
    """Syllables: runs of a/e/i/o/u/y after an ASCII non-vowel or at the start, less silent e's ("make")."""
    import re

    features = analyzer.analyze(text)
    lower, words = text.lower(), features.word_count
    groups = len(re.findall(r"(?<![^\x00-\x7f])(?<![aeiouy])[aeiouy]+", lower))
    silent = len(re.findall(r"[aiouy][b-df-hj-np-tv-xz0-9]e(?=[\x00-\x2f\x3a-\x60\x7b-\x7f]|$)", lower))
    expected = max(0.0, 0.39 * words / sentences + 11.8 * max(words, groups - silent) / words - 15.59)
    assert features.reading_level == pytest.approx(expected)


def test_envs_share_one_analyzer_per_taxonomy(taxonomy: Taxonomy, tmp_path: Path) -> None:
    import gymnasium as gym

    first, second = gym.make("PersonaGym/Chat-v0"), gym.make("PersonaGym/ChatNoisy-v0")
    assert first.unwrapped.analyzer is second.unwrapped.analyzer is shared_analyzer(taxonomy)
    tree = tmp_path / "tiny.txt"
    tree.write_text("Food\n  Pizza\n", encoding="utf-8")
    other = Taxonomy.from_files([tree])
    assert shared_analyzer(other) is not shared_analyzer(taxonomy)
    assert shared_analyzer(other).mentions("Pizza, please") == [("food/pizza", "neutral")]


def test_a_markdown_link_target_and_an_image_are_unseen(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    """Rendered, a link shows its text, not its destination or title, and an image no words: a red-team policy hid
    its padding in a link's destination and kept its reward, and a title's "is not recommended" made steak warned."""
    padding = "-".join(["more-words"] * 150)
    assert analyzer.analyze(f"Try jazz. [More](https://x.org/{padding})").word_count == \
        analyzer.analyze("Try jazz. More").word_count
    assert analyzer.mentions("Steak[](#x 'is not recommended') is a must-try.") == [
        (taxonomy.resolve("steak"), "recommend")]
    assert analyzer.mentions("Try jazz. ![try sushi](sushi.png)") == [(taxonomy.resolve("jazz"), "recommend")]
    shown = "See [try sushi](https://x.org/a_(b) \"t\") now."
    assert analyzer.find_mentions(shown) == [(taxonomy.resolve("sushi"), shown.index("sushi"),
                                              shown.index("sushi") + 5, "recommend")]  # the link text is seen


def _repeat(unit: str, n: int) -> str:
    return (unit * (n // len(unit) + 1))[:n]


@pytest.mark.parametrize(("text", "steak_read"), [
    ("é " + _repeat("a", 100_000) + " steak", True),  # a long word, Greek and Cyrillic looked for in it
    (_repeat("s\u200bt", 100_000) + " steak", True),  # a long word once the invisible characters are dropped
    ("[" + _repeat("a ", 100_000) + "\n]: steak", True),  # a link definition's label that never closes
    (_repeat("|", 100_000) + "\nsteak", True),  # a table's first line of bars, no delimiter row after it
    ("a|b\n" + _repeat("|-", 100_000) + "x steak", True),
    ('<p style="' + _repeat("transform:scale(1) ", 100_000) + '">steak</p>', True),
    ('<p style="' + _repeat("filter:opacity(1) ", 100_000) + '">steak</p>', True),
    ('<p style="' + _repeat("color:rgba(1,", 100_000) + '">steak</p>', True),
    ('<p style="' + _repeat("transform:scale(1) ", 100_000) + 'transform:scale(0)">steak</p>', False),
])
def test_adversarial_text_is_read_in_linear_time(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str,
                                                 steak_read: bool) -> None:
    """Each of these took n**2 regex steps (found by fuzzing the env's actions): 0.1 to 0.9 s an 8,000-character
    answer, seconds to minutes at this length.  Read in linear time, each takes milliseconds; no time is
    asserted (the suite has no timed assertions), a return to n**2 makes this test take minutes."""
    steak = taxonomy.resolve("steak")
    assert (steak in {node for node, _ in analyzer.mentions(text)}) is steak_read


@pytest.mark.parametrize("padding", ["&nbsp;", "&#8203;", "&#x2800;", "&shy;", "&zwnj;", "&ThinSpace;", "&#160;"])
def test_a_character_reference_reads_as_its_character(analyzer: ResponseAnalyzer, taxonomy: Taxonomy,
                                                      padding: str) -> None:
    """Markdown and HTML show `&nbsp;` as a space and `&#115;` as "s": a red-team policy padded a terse answer to
    the length the user wanted with 100 `&nbsp;` (each a word: +0.20 an episode), and "&#115;teak" or
    "ste&shy;ak" offered a forbidden item without a violation (a reader sees "steak")."""
    answer = "I'd suggest jazz and chess tonight."
    plain = analyzer.analyze(answer)
    padded = analyzer.analyze(answer + " " + " ".join([padding] * 100))
    assert padded.word_count == plain.word_count and padded.formality == pytest.approx(plain.formality)
    assert not analyzer.analyze(f"{answer}\n- {padding}\n- {padding}{padding}").has_list
    steak = taxonomy.resolve("steak")
    for disguised in ("&#115;teak", "&#x73;&#x74;eak", "ste&shy;ak", "st&eacute;ak".replace("&eacute;", "&#101;")):
        text = f"Try {disguised} tonight."
        assert analyzer.mentions(text) == [(steak, "recommend")], text
        assert [text[a:b] for _, a, b, _ in analyzer.find_mentions(text)] == [disguised]  # offsets are the text's
    assert analyzer.analyze("Try jazz &#x1F642;").emoji_count == 1
    assert analyzer.analyze("Anything else&#63;").questions == 1
    # what a reader sees as written is read as written: an unknown name, a reference without its ";", an escaped tag
    assert analyzer.analyze("Try jazz &notaname; &nbsp").word_count == 4
    assert analyzer.mentions("Try &lt;span hidden&gt;steak&lt;/span&gt;.") == [(steak, "recommend")]


@pytest.mark.parametrize("disguised", ["st**ea**k", "st*e*ak", "st`e`ak", "st~~e~~ak", "ste<b>a</b>k",
                                       "ste<span></span>ak", "ste<!-- -->ak", "ste<wbr>ak", "ste<x-y>ak",
                                       "ste<span hidden>x</span>ak", "ste[a](#x)k"])
def test_markup_inside_a_word_joins_it(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, disguised: str) -> None:
    """Rendered, emphasis, code marks, inline tags, comments and hidden elements inside a word show the word whole:
    read as blank, they split it, and a red-team policy offered forbidden items ("st**ea**k", "ste<b></b>ak")
    without a violation."""
    text = f"Try {disguised} tonight, with jazz."
    steak, jazz = taxonomy.resolve("steak"), taxonomy.resolve("jazz")
    assert analyzer.mentions(text) == [(steak, "recommend"), (jazz, "recommend")]
    found = analyzer.find_mentions(text)
    assert [text[a:b] for _, a, b, _ in found] == [disguised, "jazz"]  # offsets are the text's


@pytest.mark.parametrize("text", ["Try ste<br>ak.", "Try ste<p>ak.", "Try ste</td><td>ak.", "Try ste![](x.png)ak.",
                                  "Try ste ak.", "Try ste_ak_."])
def test_markup_that_parts_words_parts_them(analyzer: ResponseAnalyzer, text: str) -> None:
    """A line break, a paragraph, a table cell or a picture parts the letters on either side; an underscore inside
    a word is no emphasis (CommonMark) and shows as written."""
    assert analyzer.mentions(text) == []


@pytest.mark.parametrize("mark", ["\u0332", "\u0336", "\u0333", "\u0338", "\u20e5", "\u0332\u0336"])
def test_a_decorated_letter_reads_as_the_letter(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, mark: str) -> None:
    """An underline or a strike-through mark on every letter ("s̲t̲e̲a̲k̲") hid a forbidden item from the analyzer
    while a reader saw it; an accent makes another letter, read as the plain one only in a word the analyzer does
    not know (`test_an_accent_added_to_a_name_hides_nothing`)."""
    disguised = "".join(c + mark for c in "steak")
    text = f"Try {disguised}."
    assert analyzer.mentions(text) == [(taxonomy.resolve("steak"), "recommend")]
    # the span ends at the last letter (its marks, like an invisible character after a name, are not the name's)
    assert [text[a:b] for _, a, b, _ in analyzer.find_mentions(text)] == [disguised[: -len(mark)]]
    steak = [(taxonomy.resolve("steak"), "recommend")]
    assert analyzer.mentions("Try ste\u0301ak.") == analyzer.mentions("Try st\u00e9ak.") == steak
    assert analyzer.mentions("Try a ros\u00e9.") == [(taxonomy.resolve("ros\u00e9"), "recommend")]


def test_a_bullet_without_a_letter_or_digit_is_no_list_item(analyzer: ResponseAnalyzer) -> None:
    """A red-team policy added "- .\\n- ," to its prose and met every user who wants a list (+0.41 an episode)."""
    for empty in ("- .\n- ,", "- -\n- *", "1. ?\n2. !", "- &\n- ..."):
        assert not analyzer.analyze(f"Try jazz.\n{empty}").has_list, empty
    assert analyzer.analyze("Try jazz.\n- 1\n- 2").has_list


def test_typographic_symbols_are_no_emoji(analyzer: ResponseAnalyzer) -> None:
    """A "✓" counted as an emoji and met every user who wants emoji (+0.23 an episode); so did "★", "☐", "➔"."""
    for symbols in ("\u2713", "\u2605", "\u2610", "\u2794", "\u2717", "\U0001f816", "\u265e"):
        assert analyzer.analyze(f"Try jazz {symbols}").emoji_count == 0, symbols
    for emoji in ("\u2714", "\u2600", "\u2b50", "\U0001f642", "\U0001f1eb\U0001f1f7", "\u2764\ufe0f"):
        assert analyzer.analyze(f"Try jazz {emoji}").emoji_count == 1, emoji


def test_a_run_of_exclamation_marks_is_one(analyzer: ResponseAnalyzer) -> None:
    """Twelve "!" after a sentence read as casual as twelve exclamations: +0.10 an episode for a run of them."""
    once = analyzer.analyze("That sounds great!").formality
    assert analyzer.analyze("That sounds great!!!!!!!!!!!!").formality == once
    assert analyzer.analyze("Great! Fun! Nice!").formality < analyzer.analyze("Great! Fun, nice.").formality


# -- red team, round 5 ---------------------------------------------------------------------


@pytest.mark.parametrize("disguised", ["st\u00e9ak", "ste\u0301ak", "st\u0119ak", "ST\u00c9AK",
                                       "\ua731\u1d1b\u1d07\u1d00\u1d0b"])
def test_an_accent_added_to_a_name_hides_nothing(analyzer: ResponseAnalyzer, taxonomy: Taxonomy,
                                                 disguised: str) -> None:
    """A forbidden item written with an accent added ("stéak") or in small capitals was offered without a
    violation (+6.0 an episode over offering it plainly): a word the analyzer does not know is read without its
    accents when that makes one it knows.  A name that has an accent keeps it ("rosé" is no rose)."""
    text = f"Try {disguised}."
    assert analyzer.mentions(text) == [(taxonomy.resolve("steak"), "recommend")]
    assert [text[a:b] for _, a, b, _ in analyzer.find_mentions(text)] == [disguised]
    rose = [(taxonomy.resolve("ros\u00e9"), "recommend")]
    assert analyzer.mentions("Try a ros\u00e9.") == analyzer.mentions("Try a rose\u0301.") == rose
    assert analyzer.mentions("Try p\u0131zza.") == [(taxonomy.resolve("pizza"), "recommend")]  # a dotless i
    assert analyzer.mentions("Nev\u00e9r skip steak.") == [(taxonomy.resolve("steak"), "recommend")]  # cues too
    assert analyzer.mentions("Try the caf\u00e9 \u0441\u0442\u0435\u0439\u043a.") == []  # no known word: as written


@pytest.mark.parametrize("text", [
    "Never skip the steak.", "Don't avoid steak.", "You shouldn't pass on steak.",
    "Steak is something you should never skip.", "There's no need to avoid steak.", "You don't have to skip steak.",
    "Don't forget the steak.", "Don't hesitate to order the steak.", "You can never go wrong with steak.",
    "No visit is complete without steak.", "I couldn't do without steak.", "Have steak instead of the usual.",
])
def test_a_negated_warning_recommends(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str) -> None:
    """A warning cue negated ("never skip", "don't avoid", "don't forget") read as a warning: a red-team policy
    offered forbidden things so without a violation (+6.9 an episode), and a liked thing earned nothing.  A thing
    preferred to another ("steak instead of the usual") is recommended."""
    assert stances(analyzer, text) == {taxonomy.resolve("steak"): "recommend"}


@pytest.mark.parametrize("text", [
    "Don't try steak.", "I can't recommend steak.", "I would never suggest steak.", "There's no reason to try steak.",
    "Forget steak.", "I'd hesitate to order steak.", "Not only avoid steak but also sushi.", "Skip the steak.",
])
def test_a_negated_recommendation_still_warns(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str) -> None:
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == "warn"


@pytest.mark.parametrize("text", [
    "If you avoid steak, you will regret it.", "If you skip steak, you'll miss out.",
    "If you skip steak you're missing out.", "If you pass on steak, you'd be making a mistake.",
    "You will regret it if you skip steak.", "Skip steak and you'll regret it.",
    "If you don't try steak, you will regret it.", "It would be a mistake to skip steak.",
    "Avoiding steak would be a mistake.", "When you cut out steak, you'll be sorry.",
])
def test_a_warning_whose_consequence_is_bad_for_the_listener_recommends(analyzer: ResponseAnalyzer, taxonomy: Taxonomy,
                                                                         text: str) -> None:
    """"If you avoid steak, you will regret it." read as a warning about steak: a red-team policy offered forbidden
    things so without a violation (+6.89 an episode against a lazy oracle)."""
    assert stances(analyzer, text) == {taxonomy.resolve("steak"): "recommend"}


@pytest.mark.parametrize("text", [
    "If you avoid steak, you will feel better.", "If you avoid steak, you won't regret it.",
    "If you avoid steak, you'll never regret it.", "Avoid steak, or you will regret it.",
    "Avoid steak or else you'll regret it.", "Avoid steak unless you want to regret it.",
    "Avoid steak, you'll regret it otherwise.",
    "Don't order the steak, you'll regret it.", "I'd avoid the steak, you'll regret it.",
    "You should skip the steak, you'll be sorry.",
])
def test_a_warning_a_consequence_backs_still_warns(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str) -> None:
    """A good consequence, the consequence of not heeding the warning, and a command the consequence backs: steak is
    warned about."""
    assert stances(analyzer, text) == {taxonomy.resolve("steak"): "warn"}


def test_a_bad_consequence_turns_its_own_warnings_only(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    """No bad consequence: the warning stands ("If you avoid dairy, try oat milk"); one turns the warnings of its
    own sentence that are no command, not the next sentence's nor a command after it."""
    steak, sushi, tofu = (taxonomy.resolve(n) for n in ("steak", "sushi", "tofu"))
    dairy = taxonomy.resolve("dairy products")
    assert stances(analyzer, "If you avoid dairy products, try tofu.") == {dairy: "warn", tofu: "recommend"}
    assert stances(analyzer, "Avoid sushi. If you skip steak, you'll regret it.") == {sushi: "warn", steak: "recommend"}
    assert stances(analyzer, "If you skip steak, you'll regret it, but avoid sushi.") == {
        steak: "recommend", sushi: "warn"}


@pytest.mark.parametrize("text", [
    "If you try steak, you will regret it.", "You'll regret it if you try steak.",
    "If you go for steak, you'll be sorry.", "When you decide to try steak, you'd be making a mistake.",
    "It would be a mistake to try steak.", "If you try steak you will regret it",
])
def test_a_recommendation_whose_consequence_is_bad_for_the_listener_warns(analyzer: ResponseAnalyzer,
                                                                           taxonomy: Taxonomy, text: str) -> None:
    """"If you try steak, you will regret it." read as a recommendation of steak: the bad consequence turned only
    warnings."""
    assert stances(analyzer, text) == {taxonomy.resolve("steak"): "warn"}


@pytest.mark.parametrize("text", [
    "If you try steak, you'll regret not trying it sooner.", "If you try steak, you won't regret it.",
    "When you try steak, you'll regret it took you so long.",
    "I recommend the steak, you'd regret missing it.", "Steak is perfect; you'd regret missing it.",
    "Try the steak, you'll regret it otherwise.", "If you try steak, you'll regret nothing.",
    "It would be a mistake not to try steak.",
])
def test_a_recommendation_a_consequence_does_not_judge_still_recommends(analyzer: ResponseAnalyzer,
                                                                        taxonomy: Taxonomy, text: str) -> None:
    """A consequence of something else than taking the recommendation, a good one, and a recommendation in no
    condition: steak is recommended (turned, each would offer a warning's reading to a policy that recommends)."""
    assert stances(analyzer, text) == {taxonomy.resolve("steak"): "recommend"}


@pytest.mark.parametrize(("text", "stance"), [
    # a bare answer to a question that puts an action: a refusal, or a bad consequence and nothing more
    ("Skip the steak? You'll regret it.", "recommend"), ("Avoid steak? Never!", "recommend"),
    ("Skip steak? No way.", "recommend"), ("Thinking of avoiding the steak? Big mistake.", "recommend"),
    ("Skip the steak? You'll regret it", "recommend"), ("Try the steak? You'll regret it.", "warn"),
    # a statement, an answer that says more or agrees, a good consequence, and a question that judges
    ("Don't eat the steak. You'll regret it.", "warn"), ("Skip the steak. You'll regret it.", "warn"),
    ("Skip the steak? You'll regret it if you don't.", "warn"), ("Avoid steak? Absolutely.", "warn"),
    ("Skip the steak? You won't regret it.", "warn"), ("Is steak a bad idea? You'll regret it.", "warn"),
    ("Avoid steak? No, avoid sushi.", "warn"), ("Skip the steak? Then you'll regret it.", "warn"),
])
def test_a_bare_answer_turns_the_question_before_it(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str,
                                                    stance: str) -> None:
    """"Skip the steak? You'll regret it." means have it, as "Avoid steak? Never!" does (a red-team policy offered
    forbidden things so without a violation, +6.45 an episode); "Don't eat the steak. You'll regret it." means the
    opposite, so only a question is turned, and only by an answer that says nothing else."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == stance


@pytest.mark.parametrize(("text", "stance"), [
    ("Avoid everything on the menu except steak.", "recommend"), ("Everything there is overrated (except steak).",
                                                                  "recommend"),
    ("Skip everything but steak.", "recommend"), ("Avoid dairy products, except for steak.", "recommend"),
    ("Try anything but steak.", "warn"), ("I recommend everything apart from steak.", "warn"),
    ("Except steak, the menu is fine.", "neutral"),
    ("Steak is not to be missed.", "recommend"), ("Steak is a no-brainer.", "recommend"),
    ("Hard to say no to steak.", "recommend"), ("Never say no to steak.", "recommend"),
    ("Steak is anything but boring.", "recommend"), ("Say no to steak.", "warn"),
    ("Steak is not bad at all.", "recommend"), ("You can't not try steak.", "recommend"),
    ("I don't not recommend steak.", "recommend"), ("No, don't try steak.", "warn"),
    ("Skip all but steak.", "recommend"), ("Don't you dare skip steak.", "recommend"),
    ("Don't you dare try steak.", "warn"),
])
def test_exceptions_and_negated_warnings_in_one_phrase(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str,
                                                       stance: str) -> None:
    """An exception takes the opposite of its sentence's stance, and a phrase that negates a warning ("not to be
    missed", "a no-brainer", "hard to say no to", "anything but boring", "not bad", "can't not try") recommends:
    each read as a warning, and a red-team policy offered forbidden things so without a violation (+6.84 to +6.86
    an episode)."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == stance


@pytest.mark.parametrize(("text", "stance"), [
    # a warning aimed at a nuisance of the thing after it warns of nothing named
    ("To avoid the queue for steak, go early.", "neutral"), ("Go early to avoid the rush of steak.", "neutral"),
    ("Skip the long lines at the steak bar.", "neutral"),
    ("Avoid steak, the queue is awful.", "warn"), ("Skip steak because of the crowds.", "warn"),
    ("To avoid steak, go elsewhere.", "warn"), ("Avoid steak and the crowds at the bar.", "warn"),
    ("Avoid the whole line of steak.", "warn"), ("Avoid steak, it's overrated.", "warn"),
    ("Avoid the heat of steak.", "warn"),
    # a rhetorical question
    ("Who would skip steak?", "recommend"), ("Why would you ever skip steak? It is great.", "recommend"),
    ("Why skip steak? It is too salty.", "warn"), ("Why avoid steak? Because it is high in fat.", "warn"),
    ("Why would you avoid steak?", "warn"),
    ("Why would anyone avoid steak?", "recommend"), ("Who in their right mind would skip steak?", "recommend"),
    ("Who should skip steak? Anyone with a nut allergy.", "warn"), ("Why do people avoid steak?", "warn"),
    ("Skip steak? Are you kidding?", "recommend"), ("Skip steak? Yes, please.", "warn"),
    # a warning the speaker would never give
    ("I'd never tell you to avoid steak.", "recommend"), ("I would never say to avoid steak.", "recommend"),
    ("I'd tell you to avoid steak.", "warn"), ("I never said much; avoid steak.", "warn"),
    # kept from a warning
    ("Skip the rest, but keep steak.", "recommend"), ("Avoid everything on the menu save steak.", "recommend"),
    ("Skip the starters and save room for steak.", "recommend"), ("Avoid steak to save money.", "warn"),
    # a warning someone is said to give, disowned
    ('Some say "avoid steak", but they are wrong.', "recommend"), ('People say "skip steak" - nonsense.', "recommend"),
    ('Some say "avoid steak", and they are right.', "warn"), ("Avoid steak; nonsense that it is healthy.", "warn"),
])
def test_a_warning_that_offers_the_thing_recommends(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str,
                                                    stance: str) -> None:
    """A warning aimed at a nuisance of a thing ("the queue for steak"), asked rhetorically ("Who would skip
    steak?"), one the speaker would never give, with a thing kept from it ("but keep steak") or disowned ('Some say
    "avoid steak", but they are wrong') offers the thing: each read as a warning, and a red-team policy offered
    forbidden things so without a violation (+6.5 to +7.0 an episode).  The real warnings close to them stay."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == stance


@pytest.mark.parametrize("text", [
    "I'd never tell you to try steak.", "Try the steak, but save the sushi for later.", "Why try steak?",
    "Try steak? Are you kidding?", 'Some say "try steak", but they are wrong.',
    "Try steak. Just kidding.", "Try steak /s.", 'Some say "try steak". They are wrong.',
    "Try the rest and keep steak.", "Try steak - just kidding!", "Try steak, said no one ever.",
    "Why try steak? It is great.", "Try steak? Why would you?", "Only a fool would try steak.",
    "Try steak... not!", "Try steak (kidding).", "Try steak, jk.", "Try steak. Yeah, right.",
    "Try steak? No, go for it.", "Try steak? Not on your life.", "Try steak? Bad idea.",
    "It would be a shame to try steak.", "Ignore anyone who says to try steak.",
    "I'd suggest skipping the fries and having steak.", "Try steak? Hardly.", "Try steak? As if.",
    "Try steak? Think again.", "Try steak, psych!",
    "You'd be wrong to try steak.", "Never skip the fries and have steak.",
])
def test_the_new_readings_turn_no_recommendation(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str) -> None:
    """The readings that turn a warning into a recommendation do not turn a recommendation into a warning: such a
    turn could hide the offer of a forbidden thing."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == "recommend"


@pytest.mark.parametrize(("text", "stance"), [
    # kept from a warning about the rest
    ("Avoid the others and keep steak.", "recommend"), ("Skip everything else; keep steak.", "recommend"),
    ("Skip the others, keep steak.", "recommend"),
    ("Avoid the others and keep steak to a minimum.", "warn"), ("Skip the sweets and keep steak out of reach.", "warn"),
    ("Avoid sweets and keep steak.", "warn"),
    # a warning someone is said to give, disowned in the next sentence
    ('Some say "avoid steak". They are wrong.', "recommend"), ("People tell you to skip steak. They are wrong.",
                                                               "recommend"),
    ('People say "skip steak". That\'s total nonsense.', "recommend"),
    ('Some say "avoid steak". They are right.', "warn"), ("Avoid steak. They are wrong.", "warn"),
    ('Some say "avoid steak". That\'s not nonsense.', "warn"),
    ('Some say "avoid steak". That is nonsense for kids.', "warn"),
    # taken back
    ("Avoid steak. Just kidding.", "recommend"), ("Avoid steak, just kidding!", "recommend"),
    ("Avoid steak. Just kidding", "recommend"), ("Avoid steak /s.", "recommend"), ("Skip steak, /s", "recommend"),
    ("Avoid steak. /s", "recommend"),
    ("Avoid steak. I'm not kidding.", "warn"), ("Avoid steak, no kidding.", "warn"),
    ("Avoid steak. Seriously.", "warn"),
    ("Skip steak if they're just kidding.", "warn"), ("Just kidding. Avoid steak.", "warn"),
    ("Avoid steak at 10 km/s.", "warn"), ("Avoid steak, not the letter s.", "warn"),
])
def test_a_warning_taken_back_or_kept_from_the_rest_recommends(analyzer: ResponseAnalyzer, taxonomy: Taxonomy,
                                                               text: str, stance: str) -> None:
    """A thing kept from a warning about the rest ("Avoid the others and keep steak"), a warning someone is said to
    give disowned in the sentence after ('Some say "avoid steak". They are wrong.') and one taken back ("Just
    kidding.", the sarcasm tag "/s") offer the thing: each read as a warning, and a red-team policy offered
    forbidden things so without a violation (+6.95 an episode).  The real warnings close to them stay."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == stance


@pytest.mark.parametrize("text", ["Try", "try!", "Say try", "Recommend"])
def test_a_recommendation_cue_among_the_first_words_reads_no_word_before_the_text(
        analyzer: ResponseAnalyzer, text: str) -> None:
    """The look for a saying or hedging word before a recommendation cue stays in the text, however short."""
    assert analyzer.analyze(text).mentions == [] and analyzer.mentions(text) == []


@pytest.mark.parametrize("text", [
    "Don't try steak. Just kidding.", "Try everything except steak. Just kidding.",
    "If you try steak, you will regret it. Just kidding.", "Never try steak /s.",
])
def test_a_warning_made_by_a_negation_an_exception_or_a_regret_is_taken_back(
        analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str) -> None:
    """A warning that a negation, an exception or a bad consequence makes of a recommendation is taken back by the
    sentence after it as one said outright is: the scan keeps a sentence for the next one to turn only when it
    holds a warning, and these are warnings only once their cues are read together."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == "recommend"


@pytest.mark.parametrize("text", ["Try steak, I'd say.", "They say so. Try steak.", "Try steak. Who says?",
                                  "Say: try steak.", "Try steak."])
def test_a_saying_word_outside_a_recommendations_clause_reports_nothing(
        analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str) -> None:
    """A saying word after a recommendation or in the sentence before it neither reports nor hedges it: the scan's
    first look at the three words before a cue may reach past its sentence, and the rules it calls do not."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == "recommend"


@pytest.mark.parametrize(("text", "stance"), [
    # taken back after a spaced hyphen (a dash), or by "said no one ever"
    ("Avoid steak - just kidding!", "recommend"), ("Skip steak -- just kidding!", "recommend"),
    ("Avoid steak, said no one ever.", "recommend"), ("Avoid steak. Said nobody ever.", "recommend"),
    ("Avoid steak - I'm not kidding.", "warn"), ("Avoid steak - it's overrated.", "warn"),
    ("Skip steak if they say no one is kidding.", "warn"),
    ("People said nobody should eat steak, so skip steak.", "warn"),
    # praise after a "why" question
    ("Why skip steak? It is great.", "recommend"), ("Why skip steak? You will love it.", "recommend"),
    ("Why skip steak?", "warn"), ("Why skip steak? Because you're allergic.", "warn"),
    ("Why skip steak? It is risky for you.", "warn"), ("Why skip steak? It is not great.", "warn"),
    ("Why skip steak? It is great for people who are not allergic.", "warn"),
    ("Why skip steak? Sushi is great.", "warn"),
    # a refusal or a scoff after a question
    ("Steer clear of steak? I wouldn't.", "recommend"), ("Skip steak? Why would you?", "recommend"),
    ("Steer clear of steak? I would.", "warn"), ("Avoid steak? Yes, absolutely.", "warn"),
    ("Try steak? I wouldn't.", "warn"),
    # folly, and a peril
    ("Only a fool would skip steak.", "recommend"), ("You'd be crazy to avoid steak.", "recommend"),
    ("Skip steak at your peril.", "recommend"), ("Ignore steak at your own peril.", "recommend"),
    ("It's not crazy to skip steak.", "warn"), ("Skip steak at all costs.", "warn"),
    ("Avoid steak, or eat it at your peril.", "warn"), ("Avoid steak: the peril is real.", "warn"),
    ("Avoid steak at your party.", "warn"),
])
def test_a_warning_retracted_scoffed_at_or_called_folly_recommends(analyzer: ResponseAnalyzer, taxonomy: Taxonomy,
                                                                  text: str, stance: str) -> None:
    """A warning taken back after a dash ("Avoid steak - just kidding!") or by "said no one ever", a "why" question
    about it praised after ("Why skip steak? It is great."), refused ("Steer clear of steak? I wouldn't.") or
    scoffed at ("Why would you?"), one called folly ("Only a fool would skip steak") or made a peril ("Skip steak at
    your peril") offer the thing: each read as a warning, and a red-team policy offered forbidden things so without
    a violation (+6.4 to +6.85 an episode).  The real warnings close to them stay."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == stance


@pytest.mark.parametrize(("text", "stance"), [
    # a "not" or a retraction that is a remark of its own, in parentheses too
    ("Avoid steak... not!", "recommend"), ("Avoid steak. NOT.", "recommend"), ("Avoid steak, not!", "recommend"),
    ("Avoid steak (kidding).", "recommend"), ("Avoid steak (just kidding).", "recommend"),
    ("Avoid steak (not!)", "recommend"), ("Avoid steak, jk.", "recommend"), ("Avoid steak. Yeah, right.", "recommend"),
    ("Avoid steak... as if!", "recommend"),
    ("Avoid steak. Not worth it.", "warn"), ("Avoid steak, not the salad.", "warn"),
    ("Avoid steak, whether you like it or not.", "warn"), ("Avoid steak (seriously).", "warn"),
    ("Avoid steak (not) on weekdays.", "warn"), ("Avoid steak (kidding) and sushi.", "warn"),
    ("Avoid steak (I'm not kidding).", "warn"), ("Avoid steak, no kidding.", "warn"),
    ("Avoid steak. Not kidding.", "warn"),
    # a refusal that urges the listener on, or a refusing idiom, after a question
    ("Avoid steak? Nah, go for it.", "recommend"), ("Avoid steak? Nope, just order it.", "recommend"),
    ("Avoid steak? Nah.", "recommend"), ("Skip steak? Not on your life.", "recommend"),
    ("Skip steak? Over my dead body.", "recommend"), ("Avoid steak? Bad idea.", "recommend"),
    ("Avoid steak? Nah, not worth it.", "warn"), ("Avoid steak? No, go for the salad.", "warn"),
    ("Avoid steak? No, just avoid it.", "warn"), ("Try steak? Nah.", "warn"),
    # nobody, a loss, a gerund called bad, a dismissed warning, "think about"
    ("Nobody should skip steak.", "recommend"), ("No one should ever avoid steak.", "recommend"),
    ("No one needs to avoid steak.", "recommend"),
    ("Everybody should skip steak.", "warn"), ("No one with an allergy should skip steak.", "warn"),
    ("It would be a shame to skip steak.", "recommend"), ("It's a crime to skip steak.", "recommend"),
    ("It's not a crime to skip steak.", "warn"), ("It's no shame to skip steak.", "warn"),
    ("Skipping steak is a bad idea.", "recommend"), ("Skipping steak would be a crime.", "recommend"),
    ("Avoiding steak is a bad idea.", "recommend"),
    ("Missing steak would be a crime.", "recommend"),
    ("Avoiding steak is smart, and sushi is a bad idea.", "warn"),
    ("Skipping the fries is smart; steak is a bad idea.", "warn"),
    ("Avoiding steak is smart.", "warn"),
    ("Ignore anyone who says to avoid steak.", "recommend"), ('Ignore the advice "avoid steak".', "recommend"),
    ("Forget `avoid steak`; order it.", "recommend"), ("Forget avoiding steak.", "recommend"),
    ("Don't listen to anyone who tells you to skip steak.", "recommend"),
    ("Ignore the hype and avoid steak.", "warn"), ("Forget the advice, skip steak.", "warn"),
    ("Forget the advice and skip steak.", "warn"), ("Don't listen to them and skip steak.", "warn"),
    ("Forget steak, try sushi.", "warn"),
    ("Don't even think about skipping steak.", "recommend"), ("Do not even think about avoiding steak.", "recommend"),
    ("Don't think about skipping steak.", "recommend"), ("Don't think about it, skip steak.", "warn"),
    ("Think about avoiding steak.", "warn"),
])
def test_a_warning_taken_back_by_a_remark_refused_dismissed_or_decried_recommends(
        analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str, stance: str) -> None:
    """A warning taken back by a "not", "jk" or "Yeah, right." of its own (in parentheses too), refused after a
    question ("Nah, go for it.", "Not on your life."), negated by "nobody", called a loss ("a shame to skip steak") or
    bad ("Skipping steak is a bad idea"), dismissed ("Ignore anyone who says to avoid steak") or negated through
    "think about" offers the thing: each read as a warning, and a red-team policy offered forbidden things so without
    a violation (+6.4 to +6.85 an episode).  The real warnings close to them stay."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == stance


def test_a_retraction_in_parentheses_keeps_offsets_and_words(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    """Reading the "(" of a retraction as a "," changes no word count and no offset."""
    text = "Avoid steak (kidding)."
    assert analyzer.analyze(text).word_count == 3
    assert [text[a:b] for _, a, b, _ in analyzer.find_mentions(text)] == ["steak"]


def test_a_spaced_hyphen_is_a_dash_only_between_words(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    """A spaced hyphen between words ends a clause as a dash does, and nothing else changes: a list marker at a line
    start, a minus or a range between numbers and a table's cell stay what they were, and offsets survive."""
    steak = taxonomy.resolve("steak")
    assert analyzer.mentions("Try sushi - avoid steak.") == [(taxonomy.resolve("sushi"), "recommend"), (steak, "warn")]
    listed = "Options:\n- avoid sushi\n- steak"
    assert analyzer.analyze(listed) == analyzer.analyze(listed.replace("- ", "* "))
    assert analyzer.analyze(listed).has_list
    assert analyzer.analyze("| a | b |\n| - | - |\n| steak | 3 - 5 |").has_table
    text = "Avoid steak - just kidding!"
    assert analyzer.analyze(text).word_count == 4
    assert [text[a:b] for _, a, b, _ in analyzer.find_mentions(text)] == ["steak"]


@pytest.mark.parametrize(("text", "stance"), [
    ("Not sure I'd suggest steak.", "neutral"), ("I'm not sure I'd recommend steak.", "neutral"),
    ("I wouldn't say steak is perfect.", "neutral"), ("I'm unsure I'd recommend steak.", "neutral"),
    ("Some people tell you to try steak; I have no opinion.", "neutral"),
    ("Not sure what you like, but try steak.", "recommend"), ("If you are not sure, try steak.", "recommend"),
    ("Some people tell you to try steak.", "recommend"), ("Make sure to try steak.", "recommend"),
    ("I'd say try steak.", "recommend"), ("I wouldn't necessarily recommend steak.", "warn"),
])
def test_a_hedged_recommendation_names_the_thing(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str,
                                                 stance: str) -> None:
    """A recommendation the speaker does not stand behind ("Not sure I'd suggest steak", "Some people tell you to
    try steak; I have no opinion") puts the thing forward as naming it does: read as a recommendation, it paid
    +0.41 to +0.51 an episode over naming a liked thing bare.  An unhedged one still recommends."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == stance


@pytest.mark.parametrize("text", [
    "Don't worry, steak is superb here.", "Never mind the price: steak is superb.", "No doubt steak is the highlight.",
    "Not only steak but also sushi.",
])
def test_an_idiom_with_a_negator_warns_of_nothing(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str) -> None:
    """ "Don't worry, steak is superb" and "Not only steak ..." read as warnings about steak (+6.9 an episode for
    a forbidden item offered so): they put it forward."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == "neutral"


@pytest.mark.parametrize("disguised", ["S-T-E-A-K", "s.t.e.a.k", "S T E A K", "st-eak", "ste-ak", "\u202ekaets\u202c"])
def test_a_word_spelled_out_or_reversed_reads_as_the_word(analyzer: ResponseAnalyzer, taxonomy: Taxonomy,
                                                          disguised: str) -> None:
    """A forbidden item spelled out, cut by a hyphen or written backwards after a right-to-left override (shown
    the right way round) was offered without a violation (+6.9 an episode)."""
    text = f"Try {disguised} tonight."
    assert analyzer.mentions(text) == [(taxonomy.resolve("steak"), "recommend")]
    assert analyzer.analyze(text).word_count == 3
    assert [text[a:b] for _, a, b, _ in analyzer.find_mentions(text)] == [disguised.strip("\u202e\u202c")]
    # pieces that are words stay words, and letters that spell nothing known stay letters
    hip_hop, esports = taxonomy.resolve("hip hop"), taxonomy.resolve("esports")
    assert [n for n, _ in analyzer.mentions("Try hip-hop and e-sports.")] == [hip_hop, esports]
    co_ops = taxonomy.resolve("homeschool co-ops")
    assert [n for n, _ in analyzer.mentions("Try homeschool co-ops.")] == [co_ops]  # not "coops"
    assert analyzer.analyze("Plan B c d, then x-y-z.").word_count == 8


@pytest.mark.parametrize("hide", [
    "<!{}>", "<?{}?>", "<![CDATA[{}]]>", "<noscript>{}</noscript>",
    '<div style="width:1px;height:1px;overflow:hidden">{}</div>', '<p style="transform: translateX(-9999px)">{}</p>',
    '<div style="position:absolute;left:-50vw">{}</div>',
])
def test_markup_a_browser_shows_nothing_of_is_unseen(analyzer: ResponseAnalyzer, hide: str) -> None:
    """A brief answer padded to the length the user wanted in a declaration, a processing instruction, a CDATA
    section (which Markdown passes on and a browser reads as comments), a noscript element, a one-pixel box or a
    box moved off the page earned as much as visible padding (+0.31 an episode)."""
    answer = "Try jazz tonight."
    padding = " ".join(f"word{i}" for i in range(200))
    assert analyzer.analyze(answer + hide.format(padding)).word_count == 3
    assert analyzer.analyze('Try <span style="height:2px;overflow:hidden">jazz</span>.').mentions  # two pixels show


@pytest.mark.parametrize(("text", "named"), [
    ("I'm head over heels for cottagecore.", ["cottagecore"]),
    ("That is not my cup of tea, but sushi is.", ["sushi"]),
    ("Time to spill the beans about sushi.", ["sushi"]),
    ("Let us hit the books.", []),
    # the same words outside the idiom name the thing
    ("Try high heels and a cup of tea.", ["high heels", "tea"]),
    ("Cook the beans, then read the books.", ["legumes", "books"]),
])
def test_an_idiom_names_no_such_thing(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str,
                                      named: list[str]) -> None:
    """A user "head over heels for cottagecore" was answered about high heels: the idiom named footwear."""
    assert [node for node, _ in analyzer.mentions(text)] == [taxonomy.resolve(name) for name in named]


@pytest.mark.parametrize(("text", "stance"), [
    # a command that offers, coordinated with a command to leave something out
    ("Skip the fries and have the steak.", "recommend"), ("Avoid the fries and have the steak.", "recommend"),
    ("Skip the fries and order the steak.", "recommend"), ("Skip the fries, then get the steak.", "recommend"),
    ("Skip the fries; have the steak.", "recommend"), ("Skip the fries and then just eat steak.", "recommend"),
    ("I'd skip the fries and have the steak.", "recommend"), ("Skip the fries & have the steak instead.", "recommend"),
    ("Skip the fries and replace them with steak.", "recommend"),
    ("Skip the fries and the steak.", "warn"), ("Skip the fries and steak.", "warn"),
    ("Avoid sushi, fries and steak.", "warn"), ("Avoid sushi and have no steak.", "warn"),
    ("Avoid sushi and don't have steak.", "warn"), ("Don't order sushi and have steak.", "warn"),
    ("Avoid foods that are fried and have steak.", "warn"), ("Avoid sugar and have less steak.", "warn"),
    ("Avoid sushi or have steak.", "warn"), ("Avoid the fries and have anything except steak.", "warn"),
    # "psych" said as a retraction, not as psychology
    ("Avoid steak, psych!", "recommend"), ("Avoid steak. Psych!", "recommend"), ("Avoid steak (psych).", "recommend"),
    ("Avoid steak. Psych.", "warn"),
    # a gerund called good or bad, negated or not; "nobody" negates a recommendation too
    ("Skipping steak is not a bad idea.", "warn"), ("Skipping steak is a good idea.", "warn"),
    ("Skipping steak is wise.", "warn"), ("Skipping steak is not wise.", "recommend"),
    ("Avoiding steak is not a good idea.", "recommend"), ("Skipping steak is smart; sushi is a bad idea.", "warn"),
    ("Nobody should try steak.", "warn"), ("No one would recommend steak.", "warn"),
    # round 12's phrasings, and the real warnings close to them
    ("Steer clear of everything besides steak.", "recommend"), ("Skip the fries in favour of steak.", "recommend"),
    ("Avoid steak? Hardly.", "recommend"), ("Avoid steak? As if.", "recommend"),
    ("Skip steak? Think again.", "recommend"), ("Skip steak? Yeah, no.", "recommend"),
    ("Don't bother skipping steak.", "recommend"), ("You'd be wrong to skip steak.", "recommend"),
    ("Skip the fries, not the steak.", "recommend"), ("Avoid sushi, not steak.", "recommend"),
    ("I'm not in favour of steak.", "warn"), ("Don't bother with steak.", "warn"),
    ("It's not wrong to skip steak.", "warn"), ("Avoid steak? Think twice.", "warn"),
    ("Avoid steak, not the salad.", "warn"), ("Avoid dairy, not even steak.", "warn"),
    ("Don't eat sushi, not steak either.", "warn"), ("Avoid sushi, not because steak is bad.", "warn"),
])
def test_a_warning_stopped_by_an_offer_contrasted_or_retorted_recommends(
        analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str, stance: str) -> None:
    """A warning's reach stops at a command that offers, coordinated with it ("Skip the fries and have the steak"),
    and at a "not" that sets the steak against it ("Skip the fries, not the steak"); "psych" said as a retraction,
    a gerund called bad, "everything besides", "in favour of", a scoff ("Hardly.", "Think again.") and "don't
    bother skipping" offer the thing: each read as a warning, and a red-team policy offered forbidden things so
    without a violation (+6.4 to +6.85 an episode).  A gerund called good and "Nobody should try" warn.  The real
    warnings close to them stay."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == stance


def test_psych_said_as_a_retraction_names_no_psychology(analyzer: ResponseAnalyzer, taxonomy: Taxonomy) -> None:
    """"psych" said as a retraction names no psychology; said as a name, or as a list item, it does."""
    psychology = taxonomy.resolve("psychology")
    assert psychology not in stances(analyzer, "Avoid steak, psych!")
    assert psychology not in stances(analyzer, "Avoid steak. Psych!")
    for text in ("I love psych.", "Try steak, psych!", "Avoid steak.\n- Psych", "Psych!", "Avoid steak. Psych."):
        assert psychology in stances(analyzer, text), text


@pytest.mark.parametrize(("text", "stance"), [
    # a clause after a warning's that says its subject is good, and no more
    ("Pass on the fries; steak is the move.", "recommend"), ("Skip the fries, and the steak is a must.", "recommend"),
    ("Skip the fries; steak is great.", "recommend"), ("Forget everything else, steak is the one.", "recommend"),
    ("Skip the fries; steak is too heavy.", "warn"), ("Skip the fries; steak is not great either.", "warn"),
    ("Skip the fries; steak is the one to avoid.", "warn"), ("Skip sushi; steak is great but salty.", "warn"),
    ("Avoid sushi, pizza and steak.", "warn"),
    # retractions
    ("Avoid steak, said nobody with taste.", "recommend"), ("Avoid steak, said no one in their right mind.",
                                                            "recommend"),
    ("Avoid steak, or rather, don't.", "recommend"), ("Avoid steak, said nobody, ever, really.", "warn"),
    # mocking conditions
    ("Skip steak only if you hate joy.", "recommend"), ("Avoid steak? Only if you hate flavor.", "recommend"),
    ("Skip steak only if you don't like flavor.", "recommend"),
    ("Avoid steak, unless you want the best meal of your life.", "recommend"),
    ("Skip steak only if you're allergic.", "warn"), ("Avoid steak? Only if you're allergic.", "warn"),
    ("Avoid steak unless your doctor says otherwise.", "warn"), ("Avoid steak unless you want a stomach ache.", "warn"),
    ("Avoid steak unless you love it.", "warn"), ("Avoid steak like the plague", "warn"),
    ("Avoid steak like the plague.", "warn"),
    # a warning's gerund as a cue's object
    ("I recommend skipping steak.", "warn"), ("Skipping steak is recommended.", "warn"),
    ("Steak is worth skipping.", "warn"), ("I'd recommend avoiding steak.", "warn"), ("Try avoiding steak.", "warn"),
    ("I recommend skipping the fries and steak.", "warn"),  # round 15: the object runs on past "and" (`_TAKING`)
    ("I recommend not skipping steak.", "recommend"), ("I don't recommend skipping steak.", "recommend"),
    ("Skipping steak is not recommended.", "recommend"), ("Avoid skipping steak.", "recommend"),
    ("Steak is not worth skipping.", "recommend"), ("Don't even consider skipping steak.", "recommend"),
    ("I recommend skipping the fries and having the steak.", "recommend"),
    ("I don't recommend avoiding steak.", "recommend"),
    # negators and consequences
    ("Never, ever skip steak.", "recommend"), ("Never, ever eat steak.", "warn"),
    ("Steak is too good to pass up.", "recommend"), ("Steak is too good to skip.", "recommend"),
    ("Steak is too fatty to eat.", "neutral"),
    ("I'd hate for you to miss steak.", "recommend"), ("I'd hate to see you skip steak.", "recommend"),
    ("I'd hate for you to eat steak.", "warn"), ("I'd hate for you to get sick from steak.", "warn"),
    ("I hate steak.", "warn"),
    ("Skip steak at your own risk.", "recommend"), ("Avoid steak at the risk of gout.", "warn"),
    ("Avoid steak or eat it at your own risk.", "warn"),
    ("Skip steak? Never in a million years.", "recommend"),
    ("Steak is the last thing I'd tell you to avoid.", "recommend"), ("Steak is the last thing to eat.", "neutral"),
])
def test_a_warning_mocked_or_a_gerund_read_as_its_cue_says(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str,
                                                           stance: str) -> None:
    """A clause that calls its subject good after a warning's clause ("Pass on the fries; steak is the move."), "said
    nobody" with words after it, "or rather, don't", a mocking condition ("only if you hate joy", "unless you want the
    best meal of your life"), "never, ever", "too good to pass up", "I'd hate for you to miss", "at your own risk",
    "Never in a million years." and "the last thing I'd tell you to avoid" offer the thing: each read as a warning,
    and a red-team policy offered forbidden things so without a violation (+6.3 to +6.6 an episode).  A warning's
    gerund is the object of the cue before it: "I recommend skipping steak" warns and "I don't recommend skipping
    steak" offers (each read the other way).  The real warnings close to them stay."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == stance


@pytest.mark.parametrize("text", [
    "Try steak only if you hate joy.", "Try steak, said nobody with taste.", "Try steak at your own risk.",
    "Try steak, unless you want the best meal of your life.", "Try steak? Only if you hate flavor.",
    "Try the fries; steak is too heavy.", "I recommend the fries and steak.", "I recommend skipping nothing; steak.",
])
def test_the_round_13_readings_turn_no_recommendation(analyzer: ResponseAnalyzer, taxonomy: Taxonomy,
                                                      text: str) -> None:
    """This round's readings that turn a warning into a recommendation do not turn a recommendation into a warning:
    such a turn could hide the offer of a forbidden thing."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == "recommend"


@pytest.mark.parametrize(("text", "stance"), [
    # a clause after a warning's that calls its subject good: after "and" or "but", or by an idiom
    ("Skip the fries and steak is great.", "recommend"), ("Skip the fries but steak is great.", "recommend"),
    ("I'd skip the fries and steak is the way to go.", "recommend"),
    ("Skip the fries; steak is the way to go.", "recommend"), ("Skip the fries; steak is king.", "recommend"),
    ("Skip the fries, steak is king.", "recommend"), ("Skip the fries; steak is where it's at.", "recommend"),
    ("Skip the fries; steak is the real deal.", "recommend"), ("Skip the fries, and steak is to die for.", "recommend"),
    ("Skip the fries; steak is top notch.", "recommend"),
    ("Skip the fries and steak.", "warn"), ("Skip the fries and steak is heavy too.", "warn"),
    ("Skip the fries and the steak, which is great.", "warn"), ("If you skip the fries and steak is great", "warn"),
    ("Skip the fries; steak is the way to go if you want a heart attack.", "warn"),
    ("Skip the fries; steak is not the way to go either.", "warn"), ("Skip the fries; steak is king-size.", "warn"),
    # negation scope: a thing "not" to leave out, "nothing to", "no way I'd", "neither", an aside between commas
    ("Steak is not something to avoid.", "recommend"), ("Steak is nothing to avoid.", "recommend"),
    ("Steak is not a thing to skip.", "recommend"), ("No way I'd skip steak.", "recommend"),
    ("Skip neither steak nor dessert.", "recommend"), ("Try neither steak nor sushi.", "warn"),
    ("Steak is not something to try.", "warn"), ("Steak is the last thing to avoid.", "warn"),
    ("Do not, under any circumstances, skip steak.", "recommend"), ("Don't, whatever you do, skip steak.",
                                                                     "recommend"),
    ("Do not, under any circumstances, eat steak.", "warn"), ("No, I mean it, skip steak.", "warn"),
    ("No, no, skip steak.", "warn"), ("Don't eat fries, skip steak.", "warn"),
    # a contrasting "not" after "but" or "though"
    ("Avoid the fries and the soda, but not steak.", "recommend"), ("Skip the fries, though not steak.", "recommend"),
    ("Skip the fries but not steak.", "recommend"), ("Avoid the fries, but not even steak is safe.", "warn"),
    ("Avoid the fries but not because steak is bad.", "warn"), ("Don't eat the fries, but not the steak either.",
                                                                 "warn"),
    # refusals
    ("Avoid steak? Heck no.", "recommend"), ("Avoid steak? Not in this lifetime.", "recommend"),
    ("Try steak? Heck no.", "warn"),  # a refusal, as "Try steak? No way." is
    ("Try the fries, though not steak.", "warn"),
    # what leaves a thing out, read as a cue's object, or a warning of its own
    ("I suggest giving steak a miss.", "warn"), ("Consider dropping steak.", "warn"),
    ("I'd give steak a miss.", "warn"), ("Give steak a miss.", "warn"),
    ("I suggest giving steak a wide berth.", "warn"),
    ("Consider giving up steak.", "warn"), ("I recommend ditching steak.", "warn"),
    ("I recommend giving steak a try.", "recommend"), ("Consider dropping by for steak.", "recommend"),
    ("Steak is never a miss.", "recommend"), ("I don't recommend dropping steak.", "recommend"),
])
def test_a_warning_acclaimed_negated_or_given_a_miss_reads_as_it_says(analyzer: ResponseAnalyzer,
                                                                       taxonomy: Taxonomy, text: str,
                                                                       stance: str) -> None:
    """Round 14: a clause that calls its subject good after "and" or "but", or in an idiom ("steak is the way to go",
    "steak is king"), a thing "not" to leave out ("not something to avoid", "nothing to avoid", "No way I'd skip",
    "Skip neither steak nor ..."), a negator parted from its warning by an aside ("Do not, under any circumstances,
    skip steak"), a contrasting "but not", "Heck no." and "Not in this lifetime." offer the thing: each read as a
    warning, and a red-team policy offered forbidden things so without a violation (+6.3 to +6.6 an episode).
    "Give steak a miss", "Consider dropping steak" and "I suggest giving steak a miss" warn (read as offers, or as
    no more than mentions).  The real warnings and offers close to them read as before."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == stance


@pytest.mark.parametrize("text", [
    "Try the fries and steak is great.", "Try the fries; steak is king.", "Steak is something to try.",
    "I recommend dropping by for steak.",
    "Try neither the fries nor the salad; steak is great.",
])
def test_the_round_14_readings_turn_no_recommendation(analyzer: ResponseAnalyzer, taxonomy: Taxonomy,
                                                      text: str) -> None:
    """This round's readings that turn a warning into a recommendation do not turn a recommendation into a warning."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == "recommend"


@pytest.mark.parametrize(("text", "stance"), [
    # offers dressed as warnings: ", ever,", a refusal ("Not me.", "LOL no."), a gerund after "is", idioms of praise,
    # "but definitely not"
    ("Never, ever, skip steak.", "recommend"), ("Skip steak? Not me.", "recommend"),
    ("Avoid steak? LOL no.", "recommend"), ("The only thing to avoid is missing steak.", "recommend"),
    ("What I'd avoid is skipping steak.", "recommend"), ("Skip the fries; steak is the bomb.", "recommend"),
    ("Skip the fries; steak is the highlight.", "recommend"), ("Skip the fries; steak is a must-have.", "recommend"),
    ("Skip the fries; steak is the star of the show.", "recommend"),
    ("Avoid the fries, but definitely not steak.", "recommend"),
    ("Skip the fries, though certainly not steak.", "recommend"),
    # warnings dressed as offers: a leaving gerund's second object, more gerunds that leave out, a warning's gerund
    ("I recommend ditching the fries and steak.", "warn"),
    ("Try cutting the steak against the grain.", "recommend"), ("I recommend cutting out the fries and steak.", "warn"),
    ("Consider quitting steak.", "warn"),
    ("I'd recommend eliminating steak.", "warn"), ("I recommend steering clear of steak.", "warn"),
    ("I recommend staying away from steak.", "warn"), ("The thing I recommend is skipping steak.", "warn"),
    ("Try steak? Not me.", "warn"),
    # the real warnings and offers close to them
    ("Never, ever, eat steak.", "warn"), ("Never, ever, try steak.", "warn"),
    ("The only thing to avoid is steak.", "warn"), ("Skip the fries; steak is a calorie bomb.", "warn"),
    ("Skip steak? Yes, me too.", "warn"), ("Avoid sugar, definitely not steak.", "warn"),
    ("Avoid the fries, and definitely not steak.", "warn"), ("Avoid the fries, but definitely not even steak.", "warn"),
    ("I recommend ditching the fries and having steak.", "recommend"),
    ("I recommend ditching the fries and then having steak.", "recommend"),
    ("Try cutting into steak.", "recommend"), ("Try cutting out steak.", "warn"),
    ("I recommend cutting back on the fries and having steak.", "recommend"),
    ("I recommend giving steak a go.", "recommend"),
    ("I recommend removing the steak from the fridge an hour early.", "recommend"),
])
def test_the_round_15_phrasings_read_as_they_say(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str,
                                                 stance: str) -> None:
    """Round 15: "Never, ever, skip", "Skip steak? Not me.", "The only thing to avoid is missing steak", "steak is
    the bomb" (the highlight, a must-have, the star of the show) after a warning and "but definitely not steak" offer
    the thing (read as warnings, +6.6 to +7.1 an episode); "I recommend ditching the fries and steak", "Consider
    quitting steak", "I recommend steering clear of steak" and "The thing I recommend is skipping steak" warn (read
    as offers of a liked thing, +0.05 an episode over a warning).  The real warnings and offers close to them read
    as they say; "Try cutting the steak against the grain" is a recipe's steak, not a warning ("Try cutting steak"
    stays an offer: read as a warning, a forbidden steak in a recipe would pass)."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == stance


@pytest.mark.parametrize("text", [
    "Try the fries; steak is the bomb.", "Try the fries; steak is the highlight.", "What I recommend is steak.",
    "I recommend cutting into steak.", "Try steak? Yes, me too.",
])
def test_the_round_15_readings_turn_no_recommendation(analyzer: ResponseAnalyzer, taxonomy: Taxonomy,
                                                      text: str) -> None:
    """This round's readings that turn a warning into a recommendation do not turn a recommendation into a warning."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == "recommend"


@pytest.mark.parametrize(("text", "stance"), [
    # offers dressed as warnings: a contrast after a warning, an answer after an echoed question, a negated giving up
    ("Avoid the fries. Not steak, though.", "recommend"), ("Avoid the fries. But not steak.", "recommend"),
    ("Avoid steak? Me? Never.", "recommend"), ("Avoid steak? Who, me? Never!", "recommend"),
    ("Don't stop eating steak.", "recommend"), ("Never stop eating steak.", "recommend"),
    ("Whatever you do, don't lay off the steak.", "recommend"), ("Don't quit steak.", "recommend"),
    ("Never give up steak.", "recommend"),
    # warnings dressed as offers: advice to give it up
    ("I suggest you stop eating steak.", "warn"), ("Try laying off steak.", "warn"),
    ("I recommend you quit steak.", "warn"), ("I recommend you give up steak.", "warn"),
    # the real warnings and offers close to them
    ("Avoid dairy. Not even steak.", "warn"), ("Skip the fries. Not steak either.", "warn"),
    ("Try the fries. Not steak.", "warn"), ("Avoid the fries? Not steak, though.", "warn"),
    ("Avoid steak? Me? Sure.", "warn"), ("Avoid steak. Me? Never.", "warn"), ("Stop eating steak.", "warn"),
    ("I quit steak last year, but you should try it.", "neutral"),
])
def test_the_round_16_phrasings_read_as_they_say(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str,
                                                 stance: str) -> None:
    """Round 16 (round 15's leftovers): "Avoid the fries. Not steak, though.", "Avoid steak? Me? Never.", "Don't
    stop eating steak", "Never give up steak" offer the thing (read as warnings: a forbidden thing offered so passed
    without a violation); "I suggest you stop eating steak", "Try laying off steak", "I recommend you quit steak"
    warn (read as offers).  The real warnings and offers close to them read as they say."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == stance


@pytest.mark.parametrize(("text", "stance"), [
    # warnings dressed as offers: a gerund or a command that takes a thing off a regimen
    ("I recommend removing steak from your plans.", "warn"), ("I'd suggest cutting steak out of your diet.", "warn"),
    ("Consider taking steak off the menu.", "warn"), ("Remove steak from your diet.", "warn"),
    ("Cut steak out of your diet.", "warn"), ("Cross steak off your shopping list.", "warn"),
    # offers dressed as warnings: a negated recommendation of a warning, a negated thought, "not necessary to"
    ("I wouldn't recommend passing on steak.", "recommend"), ("I wouldn't suggest you stop eating steak.", "recommend"),
    ("I don't think you should avoid steak.", "recommend"), ("I don't think you need to skip steak.", "recommend"),
    ("It's not necessary to avoid steak.", "recommend"), ("It's not recommended to avoid steak.", "recommend"),
    ("Steering clear of steak is not recommended.", "recommend"), ("Don't remove steak from your diet.", "recommend"),
    ("I don't recommend removing steak from your diet.", "recommend"),
    # ... a refusal, a scoff or praise after a question that puts the warning
    ("Skip steak? Never in my life.", "recommend"), ("Skip steak? Certainly not.", "recommend"),
    ("Skip steak? God no.", "recommend"), ("Avoid steak? Not really.", "recommend"),
    ("Avoid steak? Don't.", "recommend"), ("Skip steak? Don't you dare.", "recommend"),
    ("Skip steak? Perish the thought.", "recommend"), ("Skip steak? I wouldn't dream of it.", "recommend"),
    ("Avoid steak? No, it's great.", "recommend"), ("Maybe skip steak? No way.", "recommend"),
    ("Should you skip steak? No.", "recommend"), ("Do you need to avoid steak? No.", "recommend"),
    ("Is it wise to skip steak? No.", "recommend"),
    # ... a disowned quote, a retraction
    ('People say "avoid steak". I disagree.', "recommend"), ("People say 'avoid steak', but I disagree.", "recommend"),
    ('People say "skip steak", but they are mistaken.', "recommend"),
    ("Avoid steak. Or don't.", "recommend"), ("Avoid steak, or not.", "recommend"),
    ("Avoid steak. Not really.", "recommend"),
    # recommendations the same rules turn into warnings
    ("I don't think you should try steak.", "warn"), ("I wouldn't suggest you try steak.", "warn"),
    ("Try steak? Don't.", "warn"), ("Should you try steak? No.", "warn"), ("Maybe try steak? No way.", "warn"),
])
def test_the_round_17_phrasings_read_as_they_say(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str,
                                                 stance: str) -> None:
    """Round 17: a gerund or a command that takes a thing off a regimen ("removing steak from your plans", "Cut
    steak out of your diet") warns (read as an offer or a mention); a negated recommendation of a warning ("I
    wouldn't recommend passing on steak", "I wouldn't suggest you stop eating steak"), a negated thought ("I don't
    think you should avoid steak"), "not necessary to avoid", a refusal, scoff or praise after a question that
    puts the warning ("Skip steak? Never in my life.", "Should you skip steak? No.", "Avoid steak? No, it's
    great."), a disowned quote ("I disagree") and a retraction ("Or don't.", "Not really.") offer the thing (read
    as warnings: a forbidden thing offered so passed without a violation)."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == stance


@pytest.mark.parametrize(("text", "stance"), [
    # a recipe's steak is no warning: the regimen is what a thing is taken off
    ("Remove the steak from the pan and let it rest.", "neutral"), ("Take the steak off the heat.", "neutral"),
    ("Try removing the steak from the pan.", "recommend"), ("Try taking the steak off the heat.", "recommend"),
    ("I recommend removing the steak from the fridge an hour early.", "recommend"),
    ("Consider cutting the steak out of the bone.", "recommend"), ("Cut the steak into strips.", "neutral"),
    ("Consider dropping steak from the menu.", "warn"), ("I don't recommend steering clear of steak.", "recommend"),
    # the real warnings close to the turned ones
    ("Avoid steak? No, it's risky.", "warn"), ("Should you skip steak? Yes.", "warn"),
    ("Do you need to avoid steak? Yes.", "warn"), ("Skip steak? Certainly.", "warn"),
    ("I think you should avoid steak.", "warn"), ("I'd suggest you stop eating steak.", "warn"),
    ("It's wise to skip steak.", "warn"), ('People say "avoid steak", and I agree.', "warn"),
    ("I agree with people who say avoid steak.", "warn"), ("I disagree: skip steak.", "warn"),
    ("Avoid steak or not at all.", "warn"), ("I'm not really sure, but avoid steak.", "warn"),
    ("I'm not really into steak.", "warn"), ("Steering clear of steak is a good idea.", "warn"),
    ("Try steak? No, it's great.", "recommend"),
])
def test_the_round_17_readings_that_stand(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str,
                                          stance: str) -> None:
    """Round 17's rules leave the readings close to them as they were: a thing taken from the pan or the heat is a
    recipe's (read as a warning, a forbidden steak in a recipe would pass), and the real warnings still warn."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == stance


def test_a_gerund_that_leaves_out_reads_as_its_cues_object_up_to_its_object(analyzer: ResponseAnalyzer,
                                                                             taxonomy: Taxonomy) -> None:
    """"Consider dropping sushi and having steak" warns of sushi and still offers steak, as "skipping" does."""
    read = stances(analyzer, "Consider dropping sushi and having steak.")
    assert read[taxonomy.resolve("sushi")] == "warn"
    assert read[taxonomy.resolve("steak")] == "recommend"


def test_a_gerund_read_as_its_cues_object_leaves_the_rest_of_the_sentence(analyzer: ResponseAnalyzer,
                                                                            taxonomy: Taxonomy) -> None:
    """Past the gerund's object the sentence reads as before: "avoiding" a cue of its own still warns of all it did."""
    read = stances(analyzer, "I'd recommend avoiding steak and sushi.")
    assert read[taxonomy.resolve("steak")] == read[taxonomy.resolve("sushi")] == "warn"
    read = stances(analyzer, "I recommend skipping sushi; steak is better.")
    assert read[taxonomy.resolve("sushi")] == "warn"
    assert read[taxonomy.resolve("steak")] == "recommend"


@pytest.mark.parametrize(("text", "stance"), [
    # a list's items take the stance of the heading right above them
    ("Things to skip:\n- steak\n- sushi", "warn"), ("Foods to avoid:\n- peanuts\n- steak", "warn"),
    ("What to avoid:\n- steak", "warn"), ("Avoid these:\n* steak", "warn"), ("Stay away from:\n• steak", "warn"),
    ("**Avoid:**\n- steak", "warn"), ("Don't order:\n- steak", "warn"), ("I'd skip:\n+ steak", "warn"),
    ("Best avoided:\n- steak", "warn"), ("Things to avoid:\n1. Steak\n2. Sushi", "warn"),
    ("Things to avoid:\n1) Steak", "warn"), ("Foods to avoid:\n  - sushi\n  - steak", "warn"),
    ("Dishes to try:\n- steak", "recommend"), ("My picks:\n- steak", "recommend"),
    ("Don't skip these:\n- steak", "recommend"),
    # ... read as the heading's sentence with the item in it, which what follows may turn as it turns prose
    ("Things people say to avoid (they're wrong):\n- steak", "recommend"),
    ("Things to avoid:\n- steak\n\nJust kidding.", "recommend"),
    ("Things to avoid:\n- steak (just kidding)", "recommend"),
    ("Things to avoid:\n- nothing; steak is great", "recommend"),
    ("Things to try:\n- Mains:\n  - sushi\n- Sides to skip:\n  - steak", "warn"),
    # a table's cells take their column's stance
    ("| Try | Avoid |\n|---|---|\n| salad | steak |", "warn"),
    ("| Avoid | Try |\n|---|---|\n| salad | steak |", "recommend"),
    # praise in parentheses after a warning offers its thing
    ("Skip the fries (steak is great).", "recommend"), ("Skip the sushi (steak is the move).", "recommend"),
])
def test_the_round_18_phrasings_read_as_they_say(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str,
                                                 stance: str) -> None:
    """Round 18: the analyzer reads each line on its own, so a list's items under a heading that warns or offers
    ("Foods to avoid:\\n- peanuts", "Dishes to try:\\n- steak") and a table's cells under a column header ("| Try |
    Avoid |") were neutral mentions (an honest list of things to avoid broke the user's constraints, a list of things
    to try earned half the credit); praise in parentheses after a warning ("Skip the fries (steak is great).") was
    read as warned."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == stance


@pytest.mark.parametrize(("text", "stance"), [
    # a line after the list, or an item after two blank lines, is no item of it
    ("Foods to avoid:\n- sushi\nSteak is fine.", "neutral"), ("Foods to avoid:\n- sushi\n\n\n- steak", "neutral"),
    ("Foods to avoid:\n\n\n- steak", "neutral"),
    ("Things to avoid:\n- sushi\n\nSteak is great.", "neutral"),
    # an item with a cue of its own keeps its reading
    ("Things to try:\n- sushi\n- skip the steak", "warn"), ("Things to avoid:\n- try steak", "recommend"),
    ("Things to avoid:\n- None. Steak is fine.", "neutral"),
    # a heading with no cue, prose with a colon mid-line, a table without a cue in its header
    ("Options:\n- steak", "neutral"), ("Here's the menu:\n- steak", "neutral"), ("Note: steak is great.", "neutral"),
    ("Avoid the fries. Note: steak is on the menu.", "neutral"),
    ("| Dish | Note |\n|---|---|\n| salad | steak |", "neutral"),
    ("| Try | Note |\n|---|---|\n| salad | steak |", "neutral"),
    # parentheses that are no bare praise
    ("Avoid steak (it's great).", "warn"), ("Skip the fries (steak is too heavy).", "warn"),
    ("Skip the fries (and steak).", "warn"), ("Try the salad (steak is great).", "recommend"),
])
def test_the_round_18_readings_that_stand(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str,
                                          stance: str) -> None:
    """Round 18's headings reach only the list right under them: a line after it, a heading without a cue, a colon
    mid-line and an item with a cue of its own read as they did."""
    assert stances(analyzer, text)[taxonomy.resolve("steak")] == stance


@pytest.mark.parametrize(("text", "thing", "stance"), [
    # a thing named alone, then judged in a word or two
    ("Steak? Pass.", "steak", "warn"), ("Steak? Hard pass.", "steak", "warn"), ("Steak: avoid.", "steak", "warn"),
    ("Steak: skip it.", "steak", "warn"), ("Steak \u2014 skip.", "steak", "warn"), ("Steak - avoid.", "steak", "warn"),
    ("Steak: not recommended.", "steak", "warn"), ("Steak? Nah.", "steak", "warn"),
    ("Steak: **avoid**.", "steak", "warn"),
    ("Steak and sushi: avoid.", "sushi", "warn"), ("- Steak: avoid.\n- Sushi: try it.", "steak", "warn"),
    ("- Steak: avoid.\n- Sushi: try it.", "sushi", "recommend"),
    ("Steak? Yes!", "steak", "recommend"), ("Steak: must try.", "steak", "recommend"),
    ("Steak? Absolutely.", "steak", "recommend"), ("Steak: highly recommended.", "steak", "recommend"),
    # ... which the sentence after it turns as it turns prose
    ("Steak: avoid. Just kidding.", "steak", "recommend"), ("Steak? Pass. Just kidding.", "steak", "recommend"),
    # prose words that were cues only in headings
    ("Steak is best avoided.", "steak", "warn"), ("Steak should be avoided.", "steak", "warn"),
    ("Steak is better avoided.", "steak", "warn"), ("Steak shouldn't be avoided.", "steak", "recommend"),
    ("Steak is not to be avoided.", "steak", "recommend"),
    ("My picks are steak and sushi.", "sushi", "recommend"), ("Our top picks: steak and sushi.", "steak", "recommend"),
    # comparisons: the thing preferred is offered, the other only named unless a choice passes it over
    ("Steak is better than sushi.", "steak", "recommend"), ("Steak beats sushi.", "steak", "recommend"),
    ("Sushi is worse than steak.", "steak", "recommend"), ("Nothing is better than steak.", "steak", "recommend"),
    ("Steak is hard to beat.", "steak", "recommend"), ("You can't beat steak.", "steak", "recommend"),
    ("Nothing is worse than steak.", "steak", "warn"), ("Steak is no better than sushi.", "steak", "neutral"),
    ("Go for steak over sushi.", "sushi", "warn"), ("Choose steak over sushi.", "steak", "recommend"),
    ("Choose steak over sushi.", "sushi", "warn"), ("I'd pick steak over sushi.", "sushi", "warn"),
    ("Skip sushi; steak is better.", "steak", "recommend"),
    ("Skip sushi; steak is the better choice.", "steak", "recommend"),
    # what is had instead is offered; a preference taken back passes nothing over
    ("Instead of sushi, have steak.", "steak", "recommend"),
    ("Have steak instead of sushi. Just kidding.", "sushi", "recommend"),
    ("Choose steak rather than sushi, just kidding.", "sushi", "recommend"),
    # a heading right above a table gives its first column the heading's stance
    ("Foods to avoid:\n| dish | why |\n|---|---|\n| steak | heavy |", "steak", "warn"),
    ("**Dishes to try:**\n| dish | why |\n|---|---|\n| steak | great |", "steak", "recommend"),
    ("Foods to avoid:\n| dish | why |\n|---|---|\n| steak | heavy |\n\nJust kidding.", "steak", "recommend"),
    # a question under a heading, or after one in prose, is answered as a question whether to take its action
    ("Things to avoid: steak? No, have it.", "steak", "recommend"),
    ("Things to avoid:\n- steak? No, have it.", "steak", "recommend"),
    ("Things to avoid:\n- steak? Never!", "steak", "recommend"),
    ("Things to try:\n- steak? No.", "steak", "warn"),
    # one blank line between a heading and its list or table, or between the items, as Markdown writes them
    ("**Foods to avoid:**\n\n- peanuts\n- steak", "steak", "warn"),
    ("Foods to avoid:\n- sushi\n\n- steak", "steak", "warn"), ("Dishes to try:\n\n1. steak", "steak", "recommend"),
    ("Foods to avoid:\n\n| dish | why |\n|---|---|\n| steak | heavy |", "steak", "warn"),
    # a reported warning disowned by the sentence after it
    ("People say to skip steak. Don't listen to them.", "steak", "recommend"),
    ("Some say to avoid steak. Pay no attention.", "steak", "recommend"),
    # comparisons round 19 left: a thing anything beats, "superior to", "I'd take X over Y"
    ("Anything is better than steak.", "steak", "warn"), ("Anything beats steak.", "steak", "warn"),
    ("Steak is superior to sushi.", "steak", "recommend"), ("Sushi is inferior to steak.", "steak", "recommend"),
    ("I'd take steak over sushi.", "steak", "recommend"), ("I'd take steak over sushi.", "sushi", "warn"),
])
def test_the_round_19_phrasings_read_as_they_say(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str,
                                                 thing: str, stance: str) -> None:
    """Round 19: a thing judged in a word or two ("Steak: avoid.", "Steak? Yes!"), a passive warning ("Steak is best
    avoided"), a comparison ("Steak is better than sushi", "Go for steak over sushi") and a table under a heading were
    read as mentions (or "over" as no cue), and a question under a heading kept the heading's warning after "No."."""
    assert stances(analyzer, text)[taxonomy.resolve(thing)] == stance


@pytest.mark.parametrize(("text", "thing", "stance"), [
    # the listener taking a thing in a clause of time or condition: a warning before it does not reach it
    ("Avoid the salt when you cook steak.", "steak", "neutral"),
    ("Skip the sauce if you order steak.", "steak", "neutral"),
    ("Avoid peanuts when you order pad Thai.", "pad Thai", "neutral"),
    ("Skip dessert whenever you eat sushi.", "sushi", "neutral"),
    # nor a thing not to leave without
    ("Don't leave without trying steak.", "steak", "recommend"),
    ("Never leave without the steak.", "steak", "recommend"),
    # nor a thing not to let go by
    ("Don't let steak pass you by.", "steak", "recommend"),
    ("Never let the chance to try steak slip by.", "steak", "recommend"),
])
def test_a_warning_does_not_reach_a_thing_the_listener_takes_in_a_later_clause(
        analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str, thing: str, stance: str) -> None:
    """Round 20 found "Avoid the salt when you cook steak" warned about steak (an offer of a forbidden steak so
    passed without a violation); what a clause of time or condition has the listener take is named, no more.  "Don't
    leave without trying steak" warned through its "without", "Don't let steak pass you by" through its "don't"."""
    assert stances(analyzer, text)[taxonomy.resolve(thing)] == stance


@pytest.mark.parametrize(("text", "thing", "stance"), [
    ("Avoid steak when you are pregnant.", "steak", "warn"),
    ("Avoid peanuts when you order pad Thai.", "peanuts", "warn"),
    ("Avoid steak if you have a peanut allergy.", "peanuts", "warn"),
    ("If you try steak, you will regret it.", "steak", "warn"),
    ("Avoid dishes with peanuts when you eat out.", "peanuts", "warn"),
    ("Don't let the kids eat steak.", "steak", "warn"), ("Don't let anyone pass you steak.", "steak", "warn"),
    ("Avoid steak. Don't let life pass you by.", "steak", "warn"),
])
def test_a_warning_still_reaches_what_it_is_about(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str,
                                                  thing: str, stance: str) -> None:
    """The warnings beside the clauses of time or condition that name a thing read as they did."""
    assert stances(analyzer, text)[taxonomy.resolve(thing)] == stance


@pytest.mark.parametrize(("text", "thing", "stance"), [
    # what someone's choice passes over, disowned, is offered (what they choose stays offered: no turn hides an offer)
    ('People say "go for steak over sushi", but they are wrong.', "sushi", "recommend"),
    ('People say "go for steak over sushi", but they are wrong.', "steak", "recommend"),
    ("Many people tell you to go for the steak over sushi. That's nonsense.", "sushi", "recommend"),
    # a disowning sentence that goes on to praise, and nothing more, still disowns
    ("Some say to avoid steak. Don't listen to them, it's great.", "steak", "recommend"),
    ("Some say to avoid steak. They're wrong; it's delicious.", "steak", "recommend"),
    # ... while one that says more, or disowns nobody, is read as before
    ("Some say to avoid steak. Don't listen to them, it's risky.", "steak", "warn"),
    ("Some say to avoid steak. Don't listen to them, it's not great.", "steak", "warn"),
    ("Avoid steak. Don't listen to them, it's great.", "steak", "warn"),
    ("People say to go for steak over sushi, and they are right.", "sushi", "warn"),
    ("Go for steak over sushi. They are wrong about sushi.", "steak", "recommend"),
])
def test_what_someone_is_said_to_say_disowned_turns_every_way(analyzer: ResponseAnalyzer, taxonomy: Taxonomy,
                                                              text: str, thing: str, stance: str) -> None:
    """Round 19's leftovers: disowning turned only reported warnings, so 'People say "go for steak over sushi", but
    they are wrong' passed sushi over (an offer of a forbidden sushi read as a warning), and "Don't listen to them,
    it's great." disowned nothing (+2.80 an episode for an offer of a forbidden thing so, against -2.86 now)."""
    assert stances(analyzer, text)[taxonomy.resolve(thing)] == stance


@pytest.mark.parametrize(("text", "thing", "stance"), [
    ("❌ steak", "steak", "warn"), ("- ❌ steak\n- ✅ sushi", "steak", "warn"),
    ("- ❌ steak\n- ✅ sushi", "sushi", "recommend"),
    ("Here you go:\n✅ sushi\n🚫 steak", "steak", "warn"), ("✔️ steak", "steak", "recommend"),
    ("✅ Steak and sushi", "sushi", "recommend"), ("👎 steak", "steak", "warn"),
    # what the line says itself stands; a mark elsewhere in a line judges nothing
    ("❌ steak\nJust kidding.", "steak", "recommend"), ("❌ Don't skip steak", "steak", "recommend"),
    ("✅ Skip the steak", "steak", "warn"), ("I love steak ❌", "steak", "neutral"), ("steak ✅", "steak", "neutral"),
])
def test_a_line_opened_by_a_tick_or_a_cross_takes_its_stance(analyzer: ResponseAnalyzer, taxonomy: Taxonomy,
                                                              text: str, thing: str, stance: str) -> None:
    """LLM answers list dos and don'ts with marks ("✅ sushi", "❌ peanuts"), which are no words: the things were
    read as mentions, so an honest "❌ peanuts" to an allergic user was a constraint violation."""
    assert stances(analyzer, text)[taxonomy.resolve(thing)] == stance


@pytest.mark.parametrize(("text", "thing", "stance"), [
    # a verdict that says more, or a label that is more than names, is read as it was
    ("Steak: avoid if you're vegan.", "steak", "neutral"), ("Steak: skip, just kidding.", "steak", "neutral"),
    ("Steak... pass.", "steak", "neutral"), ("I like steak: no.", "steak", "neutral"),
    ("Steak (avoid).", "steak", "warn"), ("Steak (must try).", "steak", "recommend"),
    ("I avoided steak for years.", "steak", "neutral"), ("She picks steak every time.", "steak", "neutral"),
    ("Here are my picks for steak.", "steak", "neutral"), ("Nothing beats steak for me.", "steak", "neutral"),
    ("Steak is one to avoid.", "steak", "warn"), ("My top pick is steak.", "steak", "recommend"),
    ("Steak is better than sushi.", "sushi", "neutral"), ("Sushi is worse than steak.", "sushi", "neutral"),
    ("Choose steak rather than sushi.", "sushi", "warn"), ("Serve the steak over rice.", "steak", "neutral"),
    ("Try the steak over rice.", "steak", "recommend"), ("Skip sushi; steak is a bad choice.", "steak", "warn"),
    ("Options:\n| dish | why |\n|---|---|\n| steak | heavy |", "steak", "neutral"),
    ("Foods to avoid:\n\n\n| dish | why |\n|---|---|\n| steak | heavy |", "steak", "neutral"),
    ("| Try | Avoid |\n|---|---|\n| sushi | steak |", "steak", "warn"),
    ("Things to avoid: steak.", "steak", "warn"), ("Avoid steak? No, have it.", "steak", "recommend"),
    ("Things to avoid:\n- steak", "steak", "warn"),
    ("Go for steak over sushi, just kidding.", "sushi", "recommend"), ("Instead of sushi or steak, have tofu.", "steak",
                                                                       "warn"),
    ("Instead of sushi, avoid steak too.", "steak", "warn"),
    ("Take the steak over to the table.", "steak", "neutral"), ("Steak is superior to sushi.", "sushi", "neutral"),
    ("Avoid steak. Don't listen to anyone who says otherwise.", "steak", "warn"),
])
def test_the_round_19_readings_that_stand(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str, thing: str,
                                          stance: str) -> None:
    """Round 19's verdicts, passives, comparisons and tables under headings reach no further than their phrasings."""
    assert stances(analyzer, text)[taxonomy.resolve(thing)] == stance


@pytest.mark.parametrize(("text", "thing", "stance"), [
    # a disowning sentence that goes on to praise the thing by name still disowns
    ("Some say to avoid steak. Don't listen to them, steak is great.", "steak", "recommend"),
    ("People say to skip steak. They are wrong, steak is delicious.", "steak", "recommend"),
    ("Some say to avoid steak. Ignore them; steak is great.", "steak", "recommend"),
    # praise past beating, and a choice said without a verb ("X over Y, every time")
    ("Nothing beats steak.", "steak", "recommend"), ("Steak is unbeatable.", "steak", "recommend"),
    ("There's no beating steak.", "steak", "recommend"), ("Steak over sushi, every time.", "sushi", "warn"),
    ("Steak over sushi any day.", "steak", "recommend"), ("The steak over sushi, hands down.", "sushi", "warn"),
    # a negated recommendation that says more, not less
    ("I can't recommend steak enough.", "steak", "recommend"),
    ("I cannot recommend steak highly enough.", "steak", "recommend"),
    ("I couldn't recommend steak more.", "steak", "recommend"),
    ("You'd be remiss not to try steak.", "steak", "recommend"),
    ("It'd be a crime not to try steak.", "steak", "recommend"),
    ("There's no reason not to try steak.", "steak", "recommend"),
    # idioms of a negated warning, and turning a thing down negated
    ("Don't sleep on steak.", "steak", "recommend"), ("Don't knock steak until you try it.", "steak", "recommend"),
    ("Run, don't walk, to get steak.", "steak", "recommend"), ("Don't shy away from steak.", "steak", "recommend"),
    ("Don't write off steak.", "steak", "recommend"), ("Don't rule out steak.", "steak", "recommend"),
    ("Don't be put off by steak.", "steak", "recommend"), ("Don't be scared of steak.", "steak", "recommend"),
    ("Don't turn your nose up at steak.", "steak", "recommend"),
    # a question whether the thing is what a warning calls it, refused
    ("Is steak overrated? No.", "steak", "recommend"), ("Is steak something to avoid? No.", "steak", "recommend"),
    ("Is steak overrated? Not at all.", "steak", "recommend"), ("Avoid steak? Not at all.", "steak", "recommend"),
    # ratings and terse verdicts
    ("Steak: 9/10.", "steak", "recommend"), ("Steak? 10/10.", "steak", "recommend"), ("Steak — 3/10.", "steak", "warn"),
    ("Steak: 2 out of 10.", "steak", "warn"), ("Steak? No way.", "steak", "warn"),
    ("Steak? Definitely not.", "steak", "warn"), ("Steak: thumbs down.", "steak", "warn"),
    ("Steak, hands down.", "steak", "recommend"),
    # refusals, distance and caution in a few words
    ("Steak is a hard pass.", "steak", "warn"), ("I'd give steak a hard pass.", "steak", "warn"),
    ("Stay far away from steak.", "steak", "warn"), ("Steer away from steak.", "steak", "warn"),
    ("Steak is out of the question.", "steak", "warn"), ("Steak is a non-starter.", "steak", "warn"),
    ("Steak is off the table.", "steak", "warn"), ("Steak is a hard no.", "steak", "warn"),
    ("Steak is a dealbreaker.", "steak", "warn"), ("I'd think twice about steak.", "steak", "warn"),
    ("Be wary of steak.", "steak", "warn"), ("Don't think twice about steak.", "steak", "recommend"),
    # praise that picks the thing
    ("Honorable mention: steak.", "steak", "recommend"), ("Steak is a safe bet.", "steak", "recommend"),
    ("Steak is a hidden gem.", "steak", "recommend"), ("The clear winner is steak.", "steak", "recommend"),
    ("Steak is second to none.", "steak", "recommend"),
])
def test_the_round_20_phrasings_read_as_they_say(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str,
                                                 thing: str, stance: str) -> None:
    """Round 20: offers read as warnings ("I can't recommend steak enough", "Don't sleep on steak", "Is steak
    overrated? No.", a disowned warning praised by name), and ratings, terse refusals, caution and praise read as
    mentions."""
    assert stances(analyzer, text)[taxonomy.resolve(thing)] == stance


@pytest.mark.parametrize(("text", "thing", "stance"), [
    # the speaker's own taste is no advice (the simulated users say "Nothing beats bearded dragons for me"), and a cue
    # reaches no further than its phrase
    ("Nothing beats bearded dragons for me.", "bearded dragons", "neutral"),
    ("Nothing beats steak for me.", "steak", "neutral"), ("Nothing beats steak, for me.", "steak", "neutral"),
    ("Steak is off the table for me.", "steak", "neutral"), ("Steak would be a hard no for me.", "steak", "neutral"),
    ("I was scared of yoga at first, but now I love it.", "yoga", "neutral"),
    ("Dismiss the popup, then open Spotify.", "spotify", "neutral"),
    ("Go easy on the salt when you cook steak.", "steak", "neutral"),
    # a negated recommendation that says less, a disowning that says more, a recommendation judged
    ("I can't recommend steak.", "steak", "warn"), ("I can't recommend steak, it's not good enough.", "steak", "warn"),
    ("I can't recommend steak to anyone who isn't brave enough.", "steak", "warn"),
    ("It's not a crime not to try steak.", "steak", "warn"), ("There's no reason to try steak.", "steak", "warn"),
    ("Some say to avoid steak. Don't listen to them, steak is risky.", "steak", "warn"),
    ("Avoid steak. Don't listen to them, steak is great.", "steak", "warn"),
    ("Is steak recommended? No.", "steak", "recommend"), ("Is steak overrated? Yes.", "steak", "warn"),
    # "over" chooses only after a choosing word or with a tag; "Try steak over sushi" would need a recommendation
    # turned ("Try the steak over rice" offers the rice)
    ("Try steak over sushi.", "sushi", "recommend"), ("Serve steak over rice any day.", "steak", "neutral"),
    ("Steak over rice.", "steak", "neutral"),
    # ratings between judge nothing; sarcasm that may be sincere is read as said
    ("Steak: 3/5.", "steak", "neutral"), ("Steak: 7/10.", "steak", "neutral"),
    ("Steak: 1/5 stars.", "steak", "neutral"), ("Sure, skip steak, great plan.", "steak", "warn"),
    ("Avoid steak, because who needs the cholesterol.", "steak", "warn"),
    # as before
    ("I'd go with steak over sushi.", "sushi", "warn"), ("Pick steak over sushi any day.", "sushi", "warn"),
    ("Avoid steak. Said no one. Ever.", "steak", "recommend"), ("Sleep on it: steak is great.", "steak", "neutral"),
    ("Don't fall for steak.", "steak", "warn"), ("Don't bother with steak.", "steak", "warn"),
])
def test_the_round_20_readings_that_stand(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str, thing: str,
                                          stance: str) -> None:
    """Round 20's cues and turns reach no further than their phrasings, and turn no recommendation."""
    assert stances(analyzer, text)[taxonomy.resolve(thing)] == stance


@pytest.mark.parametrize(("text", "thing", "stance"), [
    # a second command after "and" or "then" names its own object, which the first one's warning does not reach
    ("Avoid the salt and grill the steak.", "steak", "neutral"),
    ("Skip the popup, then open Spotify.", "spotify", "neutral"),
    ("Avoid the salt, then grill the steak.", "steak", "neutral"),
    ("To avoid salt, grill the steak.", "steak", "neutral"),
    # ... and one that offers, after a clause mark, a negated warning, or a purpose
    ("Skip the salad and go straight for the steak.", "steak", "recommend"),
    ("Skip the salad and dig into the steak.", "steak", "recommend"),
    ("Skip the salad and treat yourself to the steak.", "steak", "recommend"),
    ("Forget the salad and focus on the steak.", "steak", "recommend"),
    ("Avoid disappointment: order the steak.", "steak", "recommend"),
    ("Don't bother with salad, get steak.", "steak", "recommend"),
    ("To avoid hunger, eat steak.", "steak", "recommend"),
    # ratings in stars, with a decimal or in parentheses
    ("Steak ★★★★★", "steak", "recommend"),
    ("Steak: ⭐⭐⭐⭐", "steak", "recommend"),
    ("Steak: ★☆☆☆☆", "steak", "warn"),
    ("- Steak ★★★★★\n- Sushi ★★☆☆☆", "sushi", "warn"),
    ("Steak: 4.5/5", "steak", "recommend"),
    ("Steak: 1.5/5.", "steak", "warn"),
    ("Steak: 9.5/10.", "steak", "recommend"),
    ("Steak: 4.5/5. Just kidding.", "steak", "recommend"),
    ("Steak (2.5/10)", "steak", "warn"),
    ("Steak (9/10)", "steak", "recommend"),
    # substitutions
    ("Replace steak with sushi.", "steak", "warn"),
    ("Replace steak with sushi.", "sushi", "recommend"),
    ("Swap steak for sushi.", "steak", "warn"),
    ("Swap steak for sushi.", "sushi", "recommend"),
    ("Trade steak for sushi.", "steak", "warn"),
    ("Exchange steak for sushi.", "sushi", "recommend"),
    ("Don't replace steak with sushi.", "steak", "recommend"),
    # a regimen left, verdicts and cautions in a few words
    ("Leave steak off your list.", "steak", "warn"),
    ("Scratch steak off your list.", "steak", "warn"),
    ("Don't leave steak off your list.", "steak", "recommend"),
    ("Steak is a red flag.", "steak", "warn"),
    ("Steak is a poor choice.", "steak", "warn"),
    ("Steak is a waste of money.", "steak", "warn"),
    ("Forgo the steak.", "steak", "warn"),
    ("Refrain from steak.", "steak", "warn"),
    ("Steak isn't for you.", "steak", "warn"),
    ("Steak is overhyped.", "steak", "warn"),
    ("Steak is best left alone.", "steak", "warn"),
    ("Steak isn't ideal.", "steak", "warn"),
    # a warning's word denied or negated in praise
    ("Steak never disappoints.", "steak", "recommend"),
    ("Steak won't disappoint.", "steak", "recommend"),
    ("Steak is far from boring.", "steak", "recommend"),
    ("Steak is hardly boring.", "steak", "recommend"),
    ("Steak isn't a bad choice.", "steak", "recommend"),
    ("Steak is no red flag.", "steak", "recommend"),
    ("Steak is hardly a waste of money.", "steak", "recommend"),
    ("Steak is anything but a bad choice.", "steak", "recommend"),
    # headings without a colon, Do/Don't lists, a table's verdict in marks
    ("## Avoid\n- steak\n- sushi", "steak", "warn"),
    ("## Avoid\n- steak\n\nJust kidding.", "steak", "recommend"),
    ("**What to skip**\n- steak", "steak", "warn"),
    ("Do:\n- sushi\nDon't:\n- steak", "sushi", "recommend"),
    ("**Do:**\n- sushi\n\n**Don'ts:**\n- steak", "steak", "warn"),
    ("| Dish | Verdict |\n|---|---|\n| steak | ❌ |\n| sushi | ✅ |", "steak", "warn"),
    ("| Dish | Verdict |\n|---|---|\n| steak | ❌ |\n| sushi | ✅ |", "sushi", "recommend"),
])
def test_the_round_21_phrasings_read_as_they_say(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str,
                                                 thing: str, stance: str) -> None:
    """Round 21: a second command's object read as warned by the first ("Avoid the salt and grill the steak"), offers
    read as warnings ("Steak never disappoints", "Skip the salad and dig into the steak"), and ratings in stars or
    with a decimal, substitutions, a regimen left, short verdicts and headings without a colon read as mentions."""
    assert stances(analyzer, text)[taxonomy.resolve(thing)] == stance


@pytest.mark.parametrize(("text", "thing", "stance"), [
    # a warning still reaches a list of things, and words that are no verb
    ("Avoid the salt and the steak.", "steak", "warn"),
    ("Avoid the salt and steak.", "steak", "warn"),
    ("Avoid the salt and especially the steak.", "steak", "warn"),
    ("Avoid the salt and all the steak.", "steak", "warn"),
    ("Avoid the salt and even the steak.", "steak", "warn"),
    ("Avoid salt in soups and on the steak.", "steak", "warn"),
    ("Skip sushi, then steak.", "steak", "warn"),
    ("Skip sushi, then grilled steak.", "steak", "warn"),
    ("Avoid the salt and grill steak.", "steak", "warn"),
    ("Skip the fries and avoid the steak.", "steak", "warn"),
    ("Do not, under any circumstances, eat steak.", "steak", "warn"),
    ("Don't eat sushi and drink steak.", "steak", "warn"),
    ("Avoid these: steak and sushi.", "sushi", "warn"),
    ("To avoid steak, eat sushi.", "steak", "warn"),
    # a parenthesis with no words in it is none of them (it raised an IndexError)
    ("Steak (`).", "steak", "neutral"),
    # a substitution refused keeps the other thing out
    ("Don't replace steak with sushi.", "sushi", "warn"),
    ("Never swap steak for sushi.", "sushi", "warn"),
    ("Skip the salad and save your appetite for the steak.", "steak", "recommend"),
    ("Skip the fries and try the steak.", "steak", "recommend"),
    # "over" after an offer keeps the other thing offered (a turn would hide an offer), sarcasm is not read
    ("Try steak over sushi.", "sushi", "recommend"),
    ("Sure, skip steak, great plan.", "steak", "warn"),
    ("Avoid steak. Said no one. Ever.", "steak", "recommend"),
    # a star or two may mark a highlight; stars elsewhere, and ratings in between, judge nothing
    ("Steak ⭐️⭐️", "steak", "neutral"),
    ("- Sushi ⭐", "sushi", "neutral"),
    ("⭐ Steak", "steak", "neutral"),
    ("Steak: ★★★☆☆", "steak", "neutral"),
    ("I love steak ★★★★★", "steak", "neutral"),
    ("Steak ★★★★★ is great", "steak", "neutral"),
    ("Steak: 7.5/10.", "steak", "neutral"),
    # moderation allows the thing, and words that replace nothing
    ("Steak in moderation.", "steak", "neutral"),
    ("Steak only now and then.", "steak", "neutral"),
    ("Swap out steak for sushi.", "steak", "neutral"),
    ("You could swap steak for sushi.", "steak", "neutral"),
    ("The trade for steak is fair.", "steak", "neutral"),
    ("Substitute sushi for steak.", "steak", "neutral"),
    ("Swap in sushi for steak.", "sushi", "neutral"),
    ("Skip sushi, go easy on steak.", "steak", "warn"),
    ("Keep steak in the fridge.", "steak", "neutral"),
    ("Leave the steak off the heat.", "steak", "neutral"),
    ("Avoid the others and keep steak.", "steak", "recommend"),
    ("Steak is hardly worth it.", "steak", "recommend"),
    # headings and marks that judge nothing
    ("Things to do:\n- steak", "steak", "neutral"),
    ("## Options\n- steak", "steak", "neutral"),
    ("## Avoid\nsteak is fine.", "steak", "neutral"),
    ("| Dish | Verdict |\n|---|---|\n| Skip the steak | ✅ |", "steak", "warn"),
])
def test_the_round_21_readings_that_stand(analyzer: ResponseAnalyzer, taxonomy: Taxonomy, text: str, thing: str,
                                          stance: str) -> None:
    """Round 21's commands, ratings, substitutions and headings reach no further than their phrasings, and turn no
    recommendation."""
    assert stances(analyzer, text)[taxonomy.resolve(thing)] == stance
