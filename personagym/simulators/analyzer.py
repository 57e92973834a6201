"""Response analyzer: what a simulated user perceives in an assistant message.

`ResponseAnalyzer.analyze` turns assistant text into `ResponseFeatures`: which
taxonomy entities it mentions and with what stance, its style (length,
formality, lists, tables, emoji, markdown, reading level) and what it asks the
user.  It runs on every env step, so it avoids per-word regex work (a regex
pass costs about as much as the rest of the analysis): the text is lowercased
and tokenized once with `str.translate` and `str.split`, and one pass over the
few tokens that matter (entity first words, cue words, punctuation) finds
mentions, stance cues, sentences and questions.

Tokens.  Letters, digits, ``&``, apostrophes inside a word and a trailing
``+`` or ``#`` (C++, C#) make words; ``. ! ? , ; :`` and line breaks are
tokens of their own, and so are dashes (a hyphen or two with a space on either
side between words, "avoid steak - just kidding", is one; a list marker at a
line start and "3 - 5" are none); all other punctuation (hyphens, quotes,
markdown, emoji) separates words.  So "Sci-Fi" is "sci fi" and 'bebop' is
"bebop".

Entities.  Every name and alias is tokenized the same way and looked up
as a word n-gram, whole-word and case-insensitive; the plural and possessive
of the last word ("pizzas", "bebop's") and the surface without its
punctuation ("magic the gathering") are keys too.  At each token the longest
surface wins and the tokens it covers are skipped, so "iced tea" does not also
report "tea", and a match never spans punctuation the surface lacks ("jazz,
funk" is not "jazz funk").

Stance.  Cue phrases (`WARN_CUES`, `RECOMMEND_CUES`, `NEUTRAL_CUES`,
`NEAR_CUES`) are found in the sentence around a mention.  The stance is that
of the nearest cue before the mention in its clause (clauses end at ``, ; :``
and dashes); failing that, of the first cue after it in the clause ("Steak is
not recommended"); failing that, of the nearest cue before it in the sentence
("Avoid sushi, pizza and steak").  The negators in `NEAR_CUES` govern only a
mention at most two words away in the same clause.  So "Instead of steak, try
tofu" warns about steak and recommends tofu, and "Have tofu instead of steak"
recommends tofu (`INSTEAD_CUES` after a mention prefer it).  A cue up to two
words after a negator (`NEGATORS`), or three with "need to", "have to" between,
is negated: a recommendation warns ("don't try X", "I would never suggest X",
"I can't recommend X") and a warning recommends ("never skip X", "don't avoid
X", "don't forget X", "no need to avoid X", "Nobody should skip X", "Don't even
think about skipping X"); refusals ("can't help with X") warn too; two negators
cancel ("You can't not try X").  A negator in an idiom ("don't worry", "no
doubt", "not only") is a neutral cue and negates nothing, and a warning negated
in one phrase recommends ("not to be missed", "a no-brainer", "not bad").  An
exception (`EXCEPT_CUES`) takes the opposite of the cue before it in its
sentence: "Avoid everything except X" recommends X.  A consequence bad for the
listener (`REGRET_CUES`: "you will regret it", "you'd be making a mistake") says
the warned action of its sentence is one to take: "If you avoid X, you will
regret it" and "Skip X and you'll miss out" recommend X, while a command it
backs ("Don't order X, you'll regret it"), its alternative ("Avoid X or you'll
regret it") and a good consequence ("you won't regret it") still warn; a
recommended action it judges warns ("If you try X, you will regret it"); "at
your peril" backs no command, it turns it ("Skip X at your peril" recommends X).
A question that puts an action is turned the same way by a bare answer after
it: "Skip X? You'll regret it.", "Avoid X? Never!" and "Steer clear of X? I
wouldn't." recommend X, while "Don't eat X. You'll regret it." warns; so does a
scoff or a refusal that urges the listener on, but it turns only warnings ("Skip
X? Are you kidding?", "Skip X? Why would you?", "Skip X? Not on your life.",
"Avoid X? Nah, go for it."), and so does bare praise after a "why" question
("Why skip X? It is great."; "Why skip X? Because you're allergic." warns).
Some warnings offer the thing, and recommend it: one the speaker would never
give ("I'd never tell you to avoid X"), one called folly ("Only a fool would
skip X", "You'd be crazy to avoid X", "It would be a shame to skip X") or bad
("Skipping X is a bad idea"), one dismissed ("Ignore anyone who says to avoid
X", "Forget `avoid X`"), a rhetorical one ("Who would skip X?", "Why would
anyone skip X?"; "Who should skip X?" still warns), one someone is said to give
and the sentence, or a bare sentence after it, disowns ('Some say "avoid X", but
they are wrong', 'Some say "avoid X". They are wrong.'), one taken back at the
end of its sentence or by a sentence of its own (`RETRACT_CUES`: "Avoid X, just
kidding!", "Avoid X. Just kidding.", "Avoid X - just kidding!", "Avoid X, said
no one ever", "Avoid X, jk.", "Avoid X. Yeah, right.", "Avoid X, psych!" (a
name said as a retraction names nothing), a "not" of its own: "Avoid X...
not!", one in parentheses: "Avoid X (kidding).", the sarcasm tag "Avoid X /s"),
one a keeping cue (`KEEP_CUES`) exempts X from ("Skip the rest, but keep X",
"Avoid the others and keep X"), and one whose reach stops at a command that
offers, coordinated with it ("Skip the fries and have X", "Avoid the fries,
then get X"; "Skip the fries and X" warns of both), or at a "not" that sets X
against it ("Skip the fries, not X"), or at a clause that calls its subject
good and says no more ("Pass on the fries; X is the move", "Skip the fries, and
X is a must"; "Skip the fries; X is too heavy" warns of both), one a condition
mocks ("Skip X only if you hate joy", "Avoid X? Only if you hate flavor.",
"Avoid X, unless you want the best meal of your life"), "Never, ever skip X",
"X is too good to pass up", "I'd hate for you to miss X", "Skip X at your own
risk", "X is the last thing I'd tell you to avoid", "Avoid X, or rather, don't"
and "Avoid X, said nobody with taste", and "Skip the fries and X is great",
"Skip the fries; X is the way to go" (or "king", "to die for", ...), "X is
not something to avoid", "X is nothing to avoid", "No way I'd skip X", "Skip
neither X nor dessert", "Do not, under any circumstances, skip X", "Avoid the
fries, but not X", "Avoid X? Heck no.", and "Never, ever, skip X", "Skip X? Not
me.", "The only thing to avoid is missing X", "Skip the fries; X is the bomb"
(the highlight, a must-have, the star of the show), "Avoid the fries, but
definitely not X".  A warning aimed at a nuisance of a thing
("To avoid the queue for X, go early") warns of nothing named.  None of these
turns a recommendation into a warning, but for what a coordinated command
says ("Avoid the fries and have anything except X" warns).  A warning's gerund
that opens a sentence called good warns ("Skipping X is a good idea",
"Skipping X is not a bad idea"), and "Nobody should try X" does.  A warning's
gerund right after a cue is that cue's object, of the opposite stance: "I
recommend skipping X" and "Skipping X is recommended" warn, "I don't recommend
skipping X", "I recommend not skipping X" and "Avoid skipping X" recommend;
so do gerunds that leave a thing out and are no cue ("Consider dropping X",
"I suggest giving X a miss", "Consider quitting X"), up to a
joiner that starts a new action ("I recommend ditching the fries and X" warns
of both, "... and having X" offers X), and a gerund after "is" ("The thing I
recommend is skipping X" warns); "Give X a miss" warns, and so do a gerund or a
command that takes X off a regimen ("I recommend removing X from your plans", "Cut X out of your diet"; "Remove
the X from the pan" is a recipe's).  A negated thought negates the cue it thinks ("I don't think you should avoid
X" offers X), a negated recommendation negates a cue after "you" ("I wouldn't suggest you stop eating X" offers
X), and a question whether to take a warned action is turned by a bare answer as a command is ("Should you skip
X? No." offers X), and so is a question whether X is what a warning calls it, by a
bare refusal ("Is X overrated? No." offers X).  A negated recommendation that says more, not less, offers ("I can't
recommend X enough", "You'd be remiss not to try X"), and a verdict said as the speaker's own taste is none
("Nothing beats X" offers X, "Nothing beats X for me" names it).  A
recommendation the speaker does not stand behind, hedged ("Not sure I'd suggest
X", "I wouldn't say X is perfect") or said by others and disclaimed ("People
tell you to try X; I have no opinion"), is neutral: it names X, and no more.

What a reader sees.  HTML comments (and the declarations, processing
instructions and CDATA sections a browser reads as comments), hidden
elements (the `hidden` attribute, inline CSS that shows nothing, a box of a
pixel or less whose overflow is cut, `<script>`, `<style>`, `<noscript>`,
`<template>`, `<title>` and the other elements a browser never displays, a
closed `<details>` but for its summary), tags and Markdown link reference
definitions (`[//]: # (a comment)`) are read as blank, and nothing else is:
aria-hidden and `overflow: hidden` hide nothing from a sighted reader.  What
renders as nothing at all inside a word joins it, as it does on screen: a
comment, a hidden element, an inline tag ("ste<b>a</b>k"; a tag that starts a
block or a line, `<br>`, `<p>`, `<td>`, parts words), emphasis or code marks
("st**ea**k") and a link's brackets and destination.  Character references
read as the characters they stand for ("&#115;teak", "&nbsp;").  Invisible
(default-ignorable) characters such as zero-width spaces, soft hyphens and tag
characters are dropped, the blank braille pattern reads as the space it looks
like, a combining mark that decorates a letter rather than accents it (an
underline, a strike-through) is dropped, and fullwidth, mathematical, circled
or superscript letters and Greek or Cyrillic look-alikes read as the Latin they
look like, so a name cannot be hidden from the analyzer while a reader sees it
("ste\u200bak", "ѕtеаk", "ⓢⓣⓔⓐⓚ", "s\u0332t\u0332e\u0332a\u0332k\u0332").
A word the analyzer does not know (no word of a surface or cue) is read
without its accents, and with small capitals and other Latin look-alikes plain,
when that makes one it knows: "stéak" and "ꜱᴛᴇᴀᴋ" are steak, "rosé" stays
rosé.  A word spelled out or cut by hyphens ("S-T-E-A-K", "s.t.e.a.k",
"st-eak") reads whole when it makes a word it knows and its pieces are no
surface ("hip-hop" stays), and text after a right-to-left override reads the
way it is shown, reversed.  A token without a letter or digit beyond ASCII (an
arrow, a lone combining mark, a private-use glyph) is no word, and a list item
without a letter or digit ("- .") is none.  An emoji is a character with Unicode's Emoji property ("✓" and "★"
are none).
"""

from __future__ import annotations

import functools
import html
import re
import string
import unicodedata
from bisect import bisect_left
from collections.abc import Container
from itertools import compress, count, pairwise
from operator import not_

from personagym.records import ResponseFeatures
from personagym.shared import SharedOnCopy
from personagym.simulators.taxonomy import Taxonomy

#: Cues that mark a mention as something to avoid.
WARN_CUES = (
    "not recommended", "don't recommend", "do not recommend", "wouldn't recommend", "would not recommend",
    "don't suggest", "do not suggest", "avoid", "avoiding", "don't", "do not", "skip", "stay away from",
    "steer clear", "allergic", "unsafe", "not safe", "isn't safe", "never",
    "cut out", "be careful with", "watch out for", "bad idea", "not a good idea",
    # advice to have less of it ("I'd suggest cutting back on coffee": the nearest cue was "suggest", an offer)
    "hold off on", "holding off on", "pass on", "keep away from", "stay clear of", "keep clear of", "cut back on",
    "cut down on", "cutting back on", "cutting down on", "cutting out", "limit", "limiting",
    # the same advice as a gerund, a recommendation's object ("I recommend steering clear of steak" offered it, +0.05
    # an episode over a warning on a liked thing)
    "steering clear", "staying away from", "staying clear of", "keeping away from",
    # disparagement and the user's own dislikes ("Jazz is awful", "since you dislike jazz"): not an offer
    "dislike", "dislikes", "hate", "hates", "can't stand", "not a fan of", "not into", "awful", "terrible",
    "overrated", "boring", "worst", "dreadful", "horrible", "disappointing", "mediocre", "not worth",
    # refusals: what the answer will not help with is not offered
    "can't help with", "cannot help with", "can't help you with", "cannot help you with", "unable to help with",
    "won't help with", "not able to help with",
    # what one would rather not do, which reads as a recommendation once negated ("Don't forget the steak", "You
    # can never go wrong with steak", "I couldn't do without it": a red-team policy offered forbidden things so)
    "forget", "ignore", "overlook", "neglect", "hesitate", "pass up", "go wrong with", "do without", "live without",
    "say no to",
    # what one gives a thing one leaves out ("Give steak a miss", "I'd give steak a wide berth": read as no more than
    # mentions; `_gerund_cues` reads "I suggest giving steak a miss")
    "a miss", "a wide berth",
    # giving a thing up ("I suggest you stop eating steak", "Lay off the steak", "I recommend you quit steak" read as
    # offers or mentions), which a negator turns into an offer ("Don't stop eating steak", "Never give up steak" read
    # as warnings: a red-team policy offered forbidden things so without a violation)
    "stop eating", "stop drinking", "stop having", "stop ordering", "stop buying", "stop playing", "stop watching",
    "lay off", "laying off", "give up", "you quit",
    # the gerunds of "pass on" and "pass up", a recommendation's object ("I wouldn't recommend passing on steak" warned:
    # the negated recommendation was the nearest cue; round 17)
    "passing on", "passing up",
    # the other way round from "worse than" (`WORSE_CUES`): "Nothing is worse than steak"
    "nothing is worse than", "nothing's worse than",
    # a thing anything beats ("Anything is better than steak", "Anything beats steak": read as mentions)
    "anything is better than", "anything's better than", "anything beats",
    # a passive that says to avoid it ("Steak is best avoided", "Steak should be avoided": round 19, read as mentions;
    # "Steak is not to be avoided" warned through its "not", and offers now: the negator turns the cue)
    "be avoided", "best avoided", "better avoided",
    # a refusal or distance in a few words ("Steak is a hard pass", "Stay far away from steak", "Steer away from
    # steak", "Steak is out of the question": round 20, read as mentions)
    "hard pass", "stay far away from", "stay well away from", "steer away from", "steer well clear of",
    "keep your distance from", "out of the question", "non starter",
    # caution ("I'd think twice about steak", "Be wary of steak": round 20, read as mentions)
    "think twice about", "think twice before", "wary of", "cautious with", "cautious about",
    # a verdict or a caution in a few words ("Steak is a red flag", "Steak is a poor choice", "Steak is a waste of
    # money", "Forgo the steak": round 21, read as mentions); not "go easy on", which the built-in policies say
    # of "yourself" 0.09 times an answer, each a warning's work
    "red flag", "poor choice", "bad choice", "poor fit", "bad fit", "not ideal", "isn't ideal", "far from ideal",
    "waste of money", "waste of time", "overhyped", "letdown", "tourist trap", "best left alone",
    "proceed with caution", "forgo", "forego", "abstain from", "refrain from", "isn't for you", "won't suit you",
    "doesn't suit you", "won't work for you",
)  # fmt: skip
#: Cues that prefer another thing: they warn about what follows them ("Instead of steak, try tofu"), and a thing
#: before them is the one preferred ("Have steak instead of the usual" offers steak: a red-team policy offered
#: forbidden things so, read as warned about).
INSTEAD_CUES = ("instead of", "rather than")
#: Comparisons: the thing before "better than" or "beats" is the one preferred, and offered; the thing after it is only
#: named, for a reader hears no warning in "Steak is better than sushi" ("worse than" the other way round: "Sushi is
#: worse than steak" offers steak).  Round 19: read as mentions, praise of a liked thing earned half its credit.
BETTER_CUES = ("better than", "beats", "superior to")
WORSE_CUES = ("worse than", "inferior to")
#: What a choice passes over ("Go for steak over sushi", "Choose steak over sushi"): an "over" right after a thing
#: chosen with one of these words is read as "instead of" (`_passed_over`); any other "over" is no cue ("Serve the
#: steak over rice").  Round 19: "Go for steak over sushi" offered sushi.
OVER_CUES = ("over",)
#: Cues that exempt what follows them from the stance of their sentence's cue before them: "Avoid everything except
#: steak" offers steak, "Try anything but steak" warns about it.  Read as no cue, "except" left steak warned about
#: in the first: a red-team policy offered forbidden things so without a violation (+6.86 an episode).
EXCEPT_CUES = ("except", "except for", "apart from", "other than", "everything but", "anything but", "all but",
               "everything besides", "anything besides")
#: Cues that keep what follows them from the warning before them in their sentence, and nothing else: "Skip the rest,
#: but keep steak", "Avoid everything save steak", "Skip the starters and save room for steak" offer steak.  Read as no
#: cue, they left steak warned about: a red-team policy offered forbidden things so without a violation (+6.96 an
#: episode).  Unlike an exception, they turn no recommendation ("Try the steak, but save the sushi for later" still
#: offers sushi).  A bare "keep" is no cue: it keeps only from a warning about the rest right before it
#: (`_kept_from_rest`): "Avoid the others and keep steak" offers steak, "Avoid sweets and keep steak" does not.
KEEP_CUES = ("save", "but keep")
#: Cues that disown what someone is said to say before them in their sentence: 'Some say "avoid steak", but they
#: are wrong' offers steak (`_disowned`).  Read as no cue, the quoted warning warned about steak: a red-team policy
#: offered forbidden things so without a violation (+6.95 an episode).
DISOWN_CUES = ("they're wrong", "they are wrong", "they were wrong", "that's wrong", "nonsense", "rubbish", "a myth",
               "not true", "ignore them",
               # 'People say "avoid steak", but I disagree.', 'People say "skip steak". I disagree.' (round 17: read as
               # warnings)
               "disagree", "they're mistaken", "they are mistaken", "that's false",
               # "People say to skip steak. Don't listen to them." (read as a warning)
               "don't listen", "do not listen", "never listen", "don't listen to them", "do not listen to them",
               "never listen to them", "pay no attention", "pay no attention to them", "don't believe them",
               "don't believe it")
#: Cues that take back what was said before them, as the last words of its sentence or as a sentence of their own
#: (`_remark`): "Avoid steak, just kidding!", "Avoid steak. Just kidding." offer steak, and so does the sarcasm tag
#: "Avoid steak /s" (`_SARCASM_TAG`).  Read as no cue, the warning stood: a red-team policy offered forbidden things
#: so without a violation (+6.96 an episode).  They turn only warnings: "Try steak. Just kidding." is read as it was.
#: "Avoid steak, said no one ever." takes it back too (+6.84 an episode, read as a warning), and so do "Yeah, right."
#: and "As if!" (+6.82), a bare "kidding" and "jk" ("Avoid steak, jk.", "Avoid steak (kidding)."; +6.84, read as
#: warnings): "Avoid steak, no kidding." and "I'm not kidding" are no remark of their own, and warn.  A "not" that is
#: a remark of its own takes it back as well ("Avoid steak... not!", "Avoid steak. NOT."; +6.85 an episode, read as a
#: warning), but not after "or" ("Avoid steak, whether you like it or not.").  "Psych" is one too, though a name
#: (`_RETORTS`), and so is "or rather, don't" ("Avoid steak, or rather, don't."; +6.53, read as a warning).  "Said
#: nobody" ("said no one") may run on to the end of its clause: "Avoid steak, said nobody with taste." (`_said_end`;
#: +6.57, read as a warning).  "Or don't." and "Or not." as remarks of their own take it back too ("Avoid steak. Or
#: don't.", "Avoid steak, or not."; round 17, read as warnings), and so does "Not really." (`_not_really`).
RETRACT_CUES = ("just kidding", "only kidding", "just joking", "only joking", "i'm kidding", "i'm joking",
                "i'm just kidding", "i'm only kidding", "i'm just joking", "said no one ever", "said nobody ever",
                "said no one", "said nobody", "kidding", "joking", "jk", "yeah, right", "yeah right", "as if", "psych",
                "or rather, don't", "or rather don't", "or don't", "or not")
#: The retraction cues that are names as well ("psych" is psychology): a name wins over a cue at the same word, and
#: "Avoid steak, psych!" warned (+6.84 an episode); said as a retraction (`_retort`), they are one.
_RETORTS = frozenset(cue for cue in RETRACT_CUES if " " not in cue)
#: Conditions that mock the warning before them, and so offer its thing (`_mocked`): "Skip steak only if you hate joy",
#: "Avoid steak? Only if you hate flavor.", "Avoid steak, unless you want the best meal of your life" (+6.3 to +6.6
#: an episode, read as warnings).  Any other condition leaves the warning ("Avoid steak unless your doctor says
#: otherwise", "Skip steak only if you're allergic").
MOCK_CUES = ("only if", "unless")
#: Commands that take a thing away, which warn only when they take it off a regimen (`_off_regimen`): "Remove steak
#: from your diet", "Cut steak out of your diet", "Take steak off the menu", "Cross steak off your list" warn (round
#: 17: read as mentions, a warning of a liked thing earned half its credit); "Remove the steak from the pan" and "Take
#: the steak off the heat" are a recipe's steak, and no cue at all.  "Don't remove steak from your diet" offers it.
LEAVE_CUES = ("remove", "drop", "cut", "take", "eliminate", "cross", "strike", "ditch",
              # "Leave steak off your list", "Scratch steak off your list" (round 21: read as mentions); not "keep",
              # a word of 0.46 an answer of the built-in policies, each a look for a regimen ("Keep steak off the
              # menu" is left a mention)
              "leave", "scratch")
#: Commands that put one thing in another's place (`_replaced`): "Replace steak with sushi", "Swap steak for sushi",
#: "Trade steak for sushi" warn about steak and offer sushi (round 21: read as mentions).  Not "substitute" or "sub",
#: which are said both ways round ("Substitute sushi for steak", "Substitute steak with sushi"), nor "swap out": the
#: simulated users say "Swap out Americana for something else", which the world knowledge reads as it was.
REPLACE_CUES = ("replace", "swap", "trade", "exchange")
#: Cues that mark a mention as a recommendation.
RECOMMEND_CUES = (
    "don't miss", "do not miss", "can't go wrong with", "try", "recommend", "recommended",
    "recommendation", "suggest", "check out", "consider", "you'll love", "you will love", "you'd love",
    "you'd probably love", "you'll probably love", "you would love", "you'd really love", "you'd probably enjoy",
    "you'd enjoy", "you might like", "you might enjoy", "enjoy", "great option", "great choice",
    "good option", "good choice", "good fit", "great fit", "go for", "go with", "opt for", "how about", "perfect",
    "pick",
    "must-try", "worth", "why not try", "why not", "complete without", "don't underestimate", "never underestimate",
    # a negated warning in one phrase, read as a negator governing the mention before it ("Steak is not to be
    # missed", "Steak is a no-brainer", "Hard to say no to steak", "Steak is not bad at all": a red-team policy offered
    # forbidden things so)
    "not to be missed", "not to miss", "no brainer", "hard to say no to", "not bad", "not too bad", "not half bad",
    # what is preferred to the thing before it ("Skip the fries in favour of steak": read as warned, +6.8 an episode)
    "in favour of", "in favor of",
    # a thing not to give up ("Don't quit yoga" read as a warning; "I recommend you quit steak" warns, `WARN_CUES`)
    "don't quit", "do not quit", "never quit",
    # a thing not to leave without ("Don't leave without trying steak": round 20's leftover, read as a warning
    # through "without")
    "don't leave without", "do not leave without", "never leave without",
    # nothing compares ("Nothing is better than steak", "Steak is hard to beat": round 19, read as mentions; "Nothing
    # beats steak" is left a mention: the simulated users say "Nothing beats bearded dragons for me")
    "nothing is better than", "nothing's better than", "nothing compares to", "can't beat",
    "cannot beat", "hard to beat", "tough to beat",
    # one's choices named ("My picks are steak and sushi", "Our top picks: steak and sushi": round 19, read as
    # mentions); a bare "picks" is a verb too ("She picks the steak"), and "my picks for jazz" names the topic
    "my picks are", "my picks:", "our picks are", "our picks:", "top picks are", "top picks:",
    # idioms of a warning negated in one phrase ("Don't sleep on steak", "Don't knock steak until you try it", "Run,
    # don't walk, to get steak": round 20, read as warnings through their "don't"), and praise past beating ("There's
    # no beating steak" read as a warning, "Steak is unbeatable" as a mention)
    "don't sleep on", "do not sleep on", "don't knock", "do not knock", "run, don't walk", "no beating", "unbeatable",
    # turning a thing down, negated ("Don't shy away from steak", "Don't write off steak", "Don't be put off by steak":
    # round 20, read as warnings through the bare "don't"); not warnings bare, which may be of a past ("I was scared
    # of yoga at first, but now I love it")
    *(f"{no} {down}" for no in ("don't", "do not", "never") for down in (
        "shy away from", "write off", "rule out", "turn your nose up at", "be put off by", "be scared of",
        "be afraid of")),
    # one named among recommendations ("Honorable mention: steak": round 20, read as a mention)
    "honorable mention", "honourable mention", "honorable mentions", "honourable mentions",
    # praise that picks the thing ("Steak is a safe bet", "Steak is a hidden gem", "The clear winner is steak": round
    # 20, read as mentions)
    "safe bet", "solid choice", "solid option", "solid pick", "hidden gem", "second to none", "top notch",
    "gets my vote", "clear winner",
    # a warning's word negated in praise after the thing ("Steak never disappoints" warned through "never": an offer
    # of a forbidden thing so passed; "Steak won't disappoint" was a mention; round 21)
    "never disappoints", "never disappoint", "never fails", "never gets old", "won't disappoint", "doesn't disappoint",
    "never lets you down", "never let you down", "won't let you down",
)  # fmt: skip
#: Cues of a verdict that may be the speaker's own taste: advice, but with "for me" after them a taste no more than "I
#: love steak" is one (`_for_me`).  "Nothing beats steak", "Steak is off the table", "Steak is a hard no" and "Steak
#: is a dealbreaker" were read as mentions (round 20); the simulated users say "Nothing beats bearded dragons for me"
#: and "pork is off the table for me", which are read as they were.
OWN_RECOMMEND_CUES = ("nothing beats",)
OWN_WARN_CUES = ("off the table", "hard no", "dealbreaker", "deal breaker")
#: Cues that describe the user rather than advise ("If you enjoy jazz, ..."): neutral.
#: So are idioms whose negator negates nothing offered ("Don't worry, steak is superb here", "No doubt steak is the
#: highlight", "Not only steak but ..."): read as warnings, they let a red-team policy offer forbidden things.
NEUTRAL_CUES = (
    "if you like", "if you enjoy", "if you love", "if you're into", "since you like",
    "don't worry", "do not worry", "not to worry", "no worries", "never mind", "no doubt", "no wonder", "no matter",
    "not only", "not just",
    # the listener taking a thing in a clause of time or condition after a warning: "Avoid the salt when you cook
    # steak", "Skip the sauce if you order steak" warned about steak (round 20's leftover: an offer of a forbidden
    # thing so passed); the clause names the thing and no more.  No "have" or "use" ("Avoid steak if you have a
    # peanut allergy" warns about no peanut), nor "try" or "enjoy", cues of their own ("If you try steak, you will
    # regret it" warns)
    *(f"{when} you {take}" for when in ("when", "while", "whenever", "if", "once", "before", "after")
      for take in ("cook", "make", "grill", "eat", "order", "prepare", "serve", "visit", "watch", "play", "buy",
                   "drink", "bake", "roast", "fry", "book")),
)  # fmt: skip
#: Consequences bad for the listener ("If you skip steak, you will regret it", "you'd be making a mistake", "you're
#: missing out"): they say the action their sentence puts is one to take, so its warnings recommend (`_regretted`).
#: Read as no more than mentions, "If you avoid steak, you will regret it." warned about steak: a red-team policy
#: offered forbidden things so without a violation (+6.89 an episode).  "At your peril" is the peril of the command it
#: follows: "Skip steak at your peril" recommends steak (`_consequence`; +6.84 an episode, read as a warning).  Its
#: cue is the rare "peril" (`_PERIL`), not the common "at"; "at your own risk" is one too (+6.56 an episode, read as a
#: warning), and a "risk" not the listener's (`_PERIL`) turns nothing.
REGRET_CUES = ("regret", "regrets", "regretted", "regretting", "miss out", "missing out", "mistake", "be sorry",
               "peril", "risk")
#: Negators that govern only a mention at most two words after (or before) them.
NEAR_CUES = ("no", "not", "without")
#: Words that turn a recommendation cue up to two words after them into a warning, in the same clause
#: ("don't try X", "I would never suggest X", "you won't enjoy X").
NEGATORS = frozenset((
    "no", "not", "never", "don't", "can't", "cannot", "won't", "wouldn't", "shouldn't", "couldn't", "doesn't",
    "didn't", "isn't", "needn't",
))  # fmt: skip
#: Words a negator may stand before with "to" between it and a cue: "no need to avoid X", "you don't have to skip
#: X" (permission, an offer), "there's no reason to try X" (a warning).
_TO_WORDS = frozenset(("need", "have", "reason", "want", "got", "something", "anything", "thing",
                       # "It's not necessary to avoid steak", "It's not recommended to avoid steak", "not wise to skip"
                       # (round 17: read as warnings)
                       "necessary", "recommended", "advisable", "wise"))

#: Question words -> persona attribute they ask about.  A cue matches at the start of
#: a word ("allerg" covers "allergy" and "allergic"); None marks questions recognised
#: as being about something with no attribute (where the user lives).
ATTRIBUTE_CUES: dict[str, str | None] = {
    "how long": "length_pref", "length": "length_pref", "short or long": "length_pref",
    "format": "format_pref_primary", "bullet": "format_pref_primary", "table": "format_pref_primary",
    "formal": "formality_level", "casual": "formality_level", "tone": "tone_pref",
    "diet": "diet", "vegetarian": "diet", "vegan": "diet", "eat": "diet",
    "allerg": "food_allergies", "intoleran": "food_allergies",
    "budget": "budget_level", "afford": "budget_level", "price": "budget_level", "cost": "budget_level",
    "emoji": "emoji_use", "example": "example_pref", "detail": "detail_orientation",
    "experience": "tech_proficiency", "beginner": "tech_proficiency", "skill level": "tech_proficiency",
    "where": None, "located": None, "live": None,
}  # fmt: skip
#: Words by which a question about a thing asks which kind of it ("What kind of camping?", "Which cuisine?", "Any
#: favourite band?"), and the open question about the user's taste in it ("When it comes to music, what do you
#: like most?", "How do you like your coffee?"): asked about the request's own topic, only these ask the user
#: something new.  "You want to get into combat sports?" asks nothing the user has not said (SmolLM2 trained by
#: GRPO learned to say every request back as a question and was paid the user's style preferences).
WHICH_WORDS = frozenset((
    "which", "kind", "kinds", "type", "types", "sort", "sorts", "particular", "specific", "specifically",
    "favorite", "favourite", "favorites", "favourites",
))  # fmt: skip
_OPEN_WORDS = frozenset(("what", "what's", "how"))
_YOU_WORDS = frozenset(("you", "your"))
_TASTE_WORDS = frozenset(("like", "enjoy", "prefer", "love"))

#: Words that make a text read casual (each distinct one counts).
CASUAL_WORDS = frozenset((
    "hey", "hiya", "yo", "gonna", "wanna", "gotta", "kinda", "sorta", "lol", "lmao", "omg", "btw", "tbh",
    "imo", "yeah", "yep", "yup", "nope", "dude", "y'all", "haha", "awesome", "cool", "super", "totally",
    "stuff", "ok", "okay", "cuz", "tho",
    # conversational markers ("Honestly, the first try is always the awkward one", "Snap a pic"): a casual answer
    # with nothing else of the kind read 0.31-0.36, short of what a very casual user wants (0.3)
    "honestly", "seriously", "pic", "pics", "lowdown",
))  # fmt: skip
#: Words and phrases that make a text read formal.
FORMAL_WORDS = frozenset((
    "therefore", "furthermore", "moreover", "however", "thus", "hence", "consequently", "nevertheless",
    "additionally", "accordingly", "regards", "sincerely", "respectfully", "kindly", "regarding",
    "whereas", "herein", "pursuant", "shall",
    # the vocabulary of formal advice: "Certainly. Please find below an overview of cricket. - It should be
    # anticipated that initial attempts may proceed more slowly." read 0.59, short of a highly formal user's 0.7,
    # and the user asked for formality right after it
    "certainly", "prudent", "advisable", "subsequent", "subsequently", "facilitate", "warrant", "anticipated",
    "considerably", "thereby", "wherein", "aforementioned", "notwithstanding", "ascertain", "endeavour", "endeavor",
    "commence", "preferable",
))  # fmt: skip
FORMAL_PHRASES = ("please note", "in addition", "it is advisable", "one may", "with regard to", "please find",
                  "it should be", "it is recommended", "it is prudent", "i would recommend", "i would advise",
                  "i would suggest", "should you", "do not hesitate", "it would be")


def _by_longest_word(phrases: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Phrases by their longest word, which a text holds as a word wherever it says the phrase."""
    out: dict[str, tuple[str, ...]] = {}
    for phrase in phrases:
        word = max(phrase.split(), key=len)
        out[word] = (*out.get(word, ()), phrase)
    return out


#: Only the formal phrases whose longest word a text holds are looked for in it: looking for all 15 in every text
#: was ~2% of a step.
_FORMAL_PHRASES_BY_WORD = _by_longest_word(FORMAL_PHRASES)
_CONTRACTION_ENDINGS = ("n't", "'re", "'ll", "'ve")
_CONTRACTION_WORDS = frozenset((
    "it's", "that's", "what's", "here's", "there's", "let's", "he's", "she's", "who's", "i'm", "i'd",
    "you'd", "we'd", "they'd",
))  # fmt: skip

_TERMINATORS = ".!?"
_CLAUSE_MARKS = ",;:"
_PUNCT = frozenset(_TERMINATORS + _CLAUSE_MARKS)
_FLAG_RANGE = (0x1F1E6, 0x1F1FF)  # regional indicators: two of them make one flag
_EMOJI_RANGES = ((0x1F300, 0x1FAFF), (0x2600, 0x27BF), (0x2B50, 0x2B50), (0x2B55, 0x2B55), _FLAG_RANGE)
#: What of those ranges is an emoji (Unicode's Emoji property): the pictographs but for the blocks of ornaments,
#: alchemical symbols, geometric shapes (the coloured circles and squares are emoji), arrows and chess symbols,
#: and the emoji among the miscellaneous symbols and dingbats.  A "✓", "★", "☐" or "➔" is typography: counted, a
#: "✓" met every user who wants emoji (+0.23 an episode, as much as an emoji).
_SYMBOL_EMOJI = (
    "2600-2604 260E 2611 2614-2615 2618 261D 2620 2622-2623 2626 262A 262E-262F 2638-263A 2640 2642 2648-2653 "
    "265F-2660 2663 2665-2666 2668 267B 267E-267F 2692-2697 2699 269B-269C 26A0-26A1 26A7 26AA-26AB 26B0-26B1 "
    "26BD-26BE 26C4-26C5 26C8 26CE-26CF 26D1 26D3-26D4 26E9-26EA 26F0-26F5 26F7-26FA 26FD 2702 2705 2708-270D "
    "270F 2712 2714 2716 271D 2721 2728 2733-2734 2744 2747 274C 274E 2753-2755 2757 2763-2764 2795-2797 27A1 "
    "27B0 27BF 2B50 2B55")


def _hex_ranges(spec: str) -> tuple[tuple[int, int], ...]:
    """("2600-2604 260E" ->) ((0x2600, 0x2604), (0x260E, 0x260E))."""
    return tuple((int(a, 16), int(b or a, 16)) for a, _, b in (r.partition("-") for r in spec.split()))


_EMOJI_CHARS = ((0x1F300, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F7E0, 0x1F7FF), (0x1F900, 0x1F9FF), (0x1FA70, 0x1FAFF),
                *_hex_ranges(_SYMBOL_EMOJI))
_EMOJI = re.compile(
    f"[{chr(_FLAG_RANGE[0])}-{chr(_FLAG_RANGE[1])}]{{2}}|["
    + "".join(f"{chr(a)}-{chr(b)}" for a, b in _EMOJI_CHARS) + "]"
)
#: Every character `str.split()` splits on (`str.isspace`); the tokenizer makes them all plain spaces.
WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) \
    + "\u2028\u2029\u202f\u205f\u3000"
# One character in, one out, so offsets survive (find_mentions needs them).
_TOKEN_TABLE = str.maketrans(
    {c: " " for c in string.punctuation if c not in _PUNCT and c not in "&'+#"}
    | {c: " " for a, b in _EMOJI_RANGES for c in map(chr, range(a, b + 1))}
    | dict.fromkeys("\u200d\ufe0f“”‘«»•·¿¡" + WHITESPACE, " ")
    | {"\n": ".", "’": "'", "—": ",", "–": ",", "…": "."}
)
# Letter classes for syllables: vowel groups start where a non-vowel meets a vowel.
_VOWEL_TABLE = str.maketrans(
    {chr(i): " " for i in range(128)}
    | dict.fromkeys(string.ascii_lowercase + string.digits, "b")
    | dict.fromkeys("aiouy", "a")
    | {"e": "e"}
)
# The same classes with "e" a vowel like the others and spaces a non-vowel: a vowel group starts at each "ba".
_ONSET_TABLE = str.maketrans(
    {chr(i): "b" for i in range(128)} | dict.fromkeys("aeiouy", "a")
)
_ATTRIBUTE_RE = re.compile(
    r"\b(" + "|".join(re.escape(c) for c in sorted(ATTRIBUTE_CUES, key=len, reverse=True)) + r")[a-z]*"
)
# A list item at the start of the text, and one at the start of a later line.  Searching for the
# latter from its literal newline is several times faster than a MULTILINE "^" pattern.
_LIST_ITEM = re.compile(r"[ \t]*(?:[-*•+]|\d+[.)])[ \t]+(\S[^\n]*)")
_NEXT_LIST_ITEM = re.compile(r"\n[ \t]*(?:[-*•+]|\d+[.)])[ \t]+(\S[^\n]*)")
#: A hyphen or two with a space on either side, after a word or a mark and before one (`_as_dash`): "Avoid steak -
#: just kidding!"  Not a list marker at a line start ("- steak": a space or nothing before it), a minus or a range
#: between numbers ("3 - 5") or a table's cell ("| - |").  Read as no mark, a retraction after one stood in the
#: warning's clause, and the warning stood: a red-team policy offered forbidden things so (+6.85 an episode).
_SPACED_DASH = re.compile(r"(?<=[^\s\d|] )--?(?= +[^\s\d|-])")
#: The "(" of a retraction in parentheses that ends its sentence ("Avoid steak (kidding).", "Avoid steak (not!)"): read
#: as a "," (`ResponseAnalyzer._scan`), so the retraction is a remark of its own (`_remark`).  The tokenizer drops
#: parentheses, and the warning stood: a red-team policy offered forbidden things so (+6.84 an episode).
_RETRACTION_IN_PARENS = re.compile(
    r"\((?=(?:" + "|".join(map(re.escape, sorted((*RETRACT_CUES, "not"), key=len, reverse=True)))
    + r")[.!]*\)[ \t]*(?:[.!\n]|$))")
#: A table: a line with a "|", then a delimiter row ("|---|:--:|").  The first line is read up to its first "|"
#: (`[^\n|]*`): read up to any of them, a line of n bars took n**2 steps (72 ms an 8,000-character answer).
_TABLE = re.compile(
    r"^[^\n|]*\|[^\n]*\n[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|)+(?:[ \t]*:?-+:?[ \t]*)?$", re.MULTILINE
)
#: The end of a list's heading: a line that ends with ":" (emphasis marks may follow it: "**Avoid:**"), and a list
#: item on the next line, or after one blank line as Markdown writes it ("Foods to avoid:\n- peanuts",
#: "**Avoid:**\n\n- peanuts").  Searched for from its ":" (`ResponseAnalyzer._headed`).
_HEADING_END = re.compile(r":[ \t*_]*\n(?:[ \t]*\n)?(?=[ \t]*(?:[-*•+]|\d+[.)])[ \t]+\S)")
#: A list's heading without a ":", a Markdown heading or a line in bold, and its list ("## Avoid\n- steak",
#: "**What to skip**\n- steak"); one with a ":" is `_HEADING_END`'s.
_MARKED_HEADING = re.compile(r"^(?:#{1,6}[ \t]+[^\n:]*|\*\*[^*\n:]+\*\*)[ \t]*\n(?:[ \t]*\n)?"
                             r"(?=[ \t]*(?:[-*•+]|\d+[.)])[ \t]+\S)", re.M)
#: A list item's marker at a line start: its indent, and the item's words from its end.
_ITEM_MARKER = re.compile(r"([ \t]*)(?:[-*•+]|\d+[.)])[ \t]+(?=\S)")
#: Praise in parentheses that ends its clause: "Skip the fries (steak is great)."  Its "(" is read as a ","
#: (`ResponseAnalyzer._scan`) when its words call their subject good and say no more (`_acclaimed`), so that the praise
#: is a clause of its own, which a warning before it does not reach.  Read as the warning's clause (the tokenizer drops
#: parentheses), the praise warned about its thing.
_PARENTHESES = re.compile(r"\(([^()\n]{1,200})\)(?=[ \t]*(?:[.!;,\n]|$))")
_MARKDOWN = re.compile(r"^#{1,6}[ \t]+\S|\*\*[^*\n]+\*\*|__[^_\n]+__|`[^`\n]+`", re.MULTILINE)

# What a token can be (a bit set): the first word of an entity surface, of a cue, punctuation.
_ENTITY, _CUE, _END, _CLAUSE, _LETTER = 1, 2, 4, 8, 16
_RANK = {"neutral": 0, "recommend": 1, "warn": 2}

Mention = tuple[str, int, int, str]  # (node id, first token, end token, stance)
Cue = tuple[int, int, str]  # (first token, end token, stance or "near")
Marks = dict[str, tuple[int, frozenset[str] | None]]


def _tokens(lower: str) -> list[str]:
    """Word and punctuation tokens of lowercased text (see the module docstring)."""
    padded = lower.translate(_TOKEN_TABLE)
    for mark in _PUNCT:
        if mark in padded:
            padded = padded.replace(mark, f" {mark} ")
    words = padded.split()
    if "'" not in padded and "+" not in padded and "#" not in padded:
        return words
    # Quotes around a word are not part of it ('bebop'); "+" and "#" belong to a
    # word only at its end (C++, C#), so "a + b" and "#tag" stay plain words.
    # Only a word that starts with one of them or ends with a quote changes; the
    # table made all whitespace plain spaces, so four substring tests find one.
    edged = f" {padded} "
    if " '" not in edged and "' " not in edged and " +" not in edged and " #" not in edged:
        return words
    out = []
    for w in words:
        w = w.strip("'").lstrip("+#")
        if w:
            out.append(w)
    return out


def _as_dash(match: re.Match[str]) -> str:
    """A spaced hyphen (`_SPACED_DASH`) as the clause mark a dash is ("—" and "–" are ","), its length kept so that
    offsets survive."""
    return ",".ljust(len(match[0]))


def _dropped(seen: str) -> str:
    """`_seen`'s text without what no reader sees (`_DROP`): the words on either side of it join."""
    return seen.replace(_DROP, "") if _DROP in seen else seen


#: Stands in `_seen` for a character a reader does not see at all (an invisible character, the markup inside a
#: word, the rest of a character reference): `_dropped` drops it, so the words on either side join.
_DROP = "\x00"


def _seen(text: str) -> str:
    """Lowercase text as a reader sees it, one character for each of the text's (a few lowercase to two), so
    offsets survive: what no reader sees at all is `_DROP`.

    Unseen text earns nothing and hides nothing: HTML comments, hidden
    elements and tags are dropped or blanked (an answer could hide a list of
    likes, or 200 words of padding, in one), markup inside a word joins it,
    character references read as the characters they stand for, and words
    are read as they look (`_as_seen`).
    """
    lower = text.lower()
    if len(lower) != len(text):
        lower = "".join(c.lower()[:1] for c in text)
    if "]:" in lower:  # before tags: a definition's destination may be written <like this>
        lower = _blank_link_definitions(lower)
    if "](" in lower:  # an inline link shows its text, not its destination or title; an image shows no words
        lower = _INLINE_LINK.sub(_blank_link_target, lower)
    if "<" in lower:
        if "<!" in lower or "<?" in lower:
            lower = _COMMENT.sub(_drop, lower)
        if _MAY_HIDE.search(lower):
            lower = _blank_unseen_elements(lower)
        lower = _TAG.sub(_blank_tag, lower)  # a tag is markup, not words ("opacity: 0.5" ends no sentence)
    if "*" in lower or "`" in lower or "~~" in lower:
        lower = _INNER_EMPHASIS.sub(_drop, lower)
    if "&" in lower and ";" in lower:
        lower = _decode_references(text, lower)
    return lower if lower.isascii() else _as_seen(lower)


def _drop(match: re.Match[str]) -> str:
    return _DROP * len(match.group())


#: Emphasis or code marks inside a word ("st**ea**k", "st`e`ak", "st~~e~~ak"): rendered, the letters on either
#: side join (a red-team policy offered a forbidden "st**ea**k" without a violation).
_INNER_EMPHASIS = re.compile(r"(?<=[^\W_])(?:\*+|`+|~~)(?=[^\W_])")
#: A character reference as Markdown and HTML decode it: named (`&nbsp;`), decimal (`&#160;`) or hex (`&#xa0;`).
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _decode_references(text: str, lower: str) -> str:
    """`lower` with the character references still in it read as the characters they stand for (then as
    `_as_seen` reads them): a red-team policy padded a terse answer to the length the user wanted with 100
    `&nbsp;` (each a word, +0.20 an episode), and "&#115;teak" or "ste&shy;ak" offered a forbidden item a reader
    sees without a violation.  Found in `text`, whose names are case-sensitive (`&ThinSpace;`); one whose text
    was blanked or dropped as markup is no reference.  A reference is longer than what it stands for: the rest
    is `_DROP`, so offsets survive."""
    parts: list[str] = []
    pos = 0
    for ref in _REFERENCE.finditer(text):
        start, end = ref.span()
        source = ref.group()
        if lower[start] != "&" or lower[end - 1] != ";":
            continue
        char = html.unescape(source)
        if char == source:  # an unknown name: read as written
            continue
        char = "".join(c.lower()[:1] for c in char)
        parts += (lower[pos:start], char, _DROP * (end - start - len(char)))
        pos = end
    return "".join(parts) + lower[pos:] if parts else lower


#: A Markdown link reference definition on one line, `[label]: destination "title"`: rendered as nothing, so
#: `[//]: # (...)` is Markdown's comment.  The label's blanks before its first character are `[^\S\n]*`: read by
#: `[^\]\n]*` as well, a line "[a a a ..." of n characters with no "]" took n**2 steps (0.15 s at 8,000).
_LINK_DEFINITION = re.compile(
    r""" {0,3}\[[^\S\n]*[^\]\s][^\]\n]*\]:[ \t]*(?:<[^>\n]*>|\S+)"""
    r"""(?:[ \t]+(?:"[^"\n]*"|'[^'\n]*'|\([^)\n]*\)))?[ \t]*""")


def _blank_link_definitions(lower: str) -> str:
    """`lower` with its Markdown link reference definitions blanked: a reader of the rendered answer sees
    none (a policy could hide 200 words of padding in `[//]: # (...)`).  A definition cannot interrupt a
    paragraph: a line right after paragraph text is that paragraph's, and seen."""
    lines = lower.split("\n")
    in_paragraph = False
    for i, line in enumerate(lines):
        if not in_paragraph and _LINK_DEFINITION.fullmatch(line):
            lines[i] = " " * len(line)
            continue
        in_paragraph = bool(line.strip()) and not line.lstrip().startswith("#")
    return "\n".join(lines)


#: A Markdown inline link or image: `[text](destination "title")`, `![alt](src)`.  Rendered, the destination
#: and the title (shown on hover only) are unseen, and an image shows a picture, not its alt text: a red-team
#: policy hid 300 words of padding in a link's destination (`[More](https://x.org/tip-one-tip-two-...)`), and
#: "Steak[](#x 'is not recommended') is a must-try." read as a warning about steak.
_INLINE_LINK = re.compile(
    r"""(!?)\[([^\[\]\n]*)\]\([ \t]*(?:<[^<>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)"""
    r"""(?:[ \t]+(?:"[^"\n]*"|'[^'\n]*'|\([^()\n]*\)))?[ \t]*\)""")


def _blank_link_target(match: re.Match[str]) -> str:
    """An inline link with its brackets, destination and title dropped (its text kept where it stood: "ste[a](#)k"
    reads "steak"); an image blanked (a picture parts the words around it)."""
    if match.group(1):
        return " " * len(match.group())
    text = match.group(2)
    return _DROP + text + _DROP * (len(match.group()) - len(text) - 1)


#: An HTML comment (an unclosed one hides the rest), and what Markdown passes on as raw HTML that a browser reads
#: as a comment: a processing instruction (`<?...?>`), a declaration (`<!x ...>`), a CDATA section (a red-team
#: policy padded a brief answer to the length the user wanted in `<!pad pad ...>`: +0.31 an episode).
_COMMENT = re.compile(r"<!--.*?(?:-->|$)|<\?[^>]*\?>|<![a-z][^>]*>|<!\[cdata\[.*?\]\]>", re.DOTALL)
_MAY_HIDE = re.compile(r"hidden|none|font-size|opacity|collapse|transparent|-\d{2}|clip|color|scale|zoom"
                       r"|<script|<style|<template|<dialog|<datalist|<video|<audio|<canvas|<object|<iframe"
                       r"|<title|<head|<noembed|<noframes|<noscript|<rp|<desc|<metadata|<details")
#: An opening tag: its name and attributes (a quoted value may hold ">").
_OPEN_TAG = re.compile(r"""<([a-z][a-z0-9]*)\b((?:[^<>"']|"[^"]*"|'[^']*')*)>""")
#: An attribute of an opening tag: its name and value (a quoted value is one token: no name is found inside it).
_ATTRIBUTE = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
#: Inline CSS that shows nothing: zero opacity or font size however written ("0", ".0", "0.0px"), no display,
#: no visibility; opacity under 0.1 (or 10%), a font under 4px, 0.3em or 30%, transparent text (or a colour
#: with no alpha), a box moved 100px (10em, 10vw) or more off the page (by an offset or a translate), clipped away,
#: scaled to nothing.  A faint "opacity: 0.5" and a small "font-size: 10px" are seen.  A `transform:` or `filter:`
#: is read up to the next one, and an `rgb(` up to the next "(": read to the end of the declaration from each of n
#: of them, a style attribute of n repeats took n**2 steps (0.1 s at 10,000 characters).
_HIDING_CSS = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)|(?:font-size|opacity)\s*:\s*[0.]+(?![\d.]*[1-9])"
    r"|opacity\s*:\s*(?:0?\.0\d*|\d(?:\.\d*)?%)|font-size\s*:\s*(?:(?:[0-3](?:\.\d*)?|\.\d+)\s*(?:px|pt)"
    r"|(?:0?\.[0-2]\d*)\s*r?em|(?:[0-2]?\d(?:\.\d*)?)%)"
    r"|(?<![-\w])color\s*:\s*(?:transparent|#[0-9a-f]{3}0\b|#[0-9a-f]{6}00\b|(?:rgb|hsl)a?\((?:[^,)]*,){3}\s*0?\.?0*%?\s*\)"
    r"|(?:rgb|hsl)a?\([^()/]*/\s*0?\.?0*%?\s*\))"
    r"|text-fill-color\s*:\s*transparent"
    r"|(?:left|top|right|bottom|text-indent|margin-left|margin-top)\s*:\s*-(?:\d{3,}|\d{2,}\s*(?:r?em|vw|vh))"
    r"|transform\s*:(?:[^;t]|t(?!ransform\s*:))*\btranslate(?:[xy]|3d)?\(\s*(?:[^,)]*,\s*)?-(?:\d{3,}|\d{2,}\s*(?:r?em|vw|vh))"
    r"|clip\s*:\s*rect\(\s*0|clip-path\s*:\s*(?:inset\(\s*(?:50|100)%|circle\(\s*0)"
    r"|transform\s*:(?:[^;t]|t(?!ransform\s*:))*\bscale[xy]?\(\s*(?:0?\.0\d*|0)\s*[,)]|(?<![-\w])scale\s*:\s*(?:0?\.0\d*|0)(?![\d.])"
    r"|(?<![-\w])zoom\s*:\s*(?:0?\.0\d*|\d(?:\.\d*)?%)"
    r"|filter\s*:(?:[^;f]|f(?!ilter\s*:))*\bopacity\(\s*(?:0?\.0\d*|0|\d(?:\.\d*)?%)\s*\)")
#: A box of no height (or width) whose overflow is cut: it shows nothing of its content.  One pixel (or point) is
#: as good as none: a red-team policy padded an answer in `width:1px;height:1px;overflow:hidden` (+0.31).
_ZERO_BOX = re.compile(
    r"(?<![-\w])(?:max-)?(?:height|width)\s*:\s*(?:0?\.?0+(?:px|r?em|%|pt|vh|vw)?|(?:0?\.\d+|1(?:\.0*)?)(?:px|pt))"
    r"\s*(?:;|!|$)")
_OVERFLOW_CUT = re.compile(r"overflow(?:-[xy])?\s*:\s*(?:hidden|clip)")
#: Elements whose content a browser never renders as text: code, styles, templates, a datalist's options, the
#: fallback text of media, canvas, objects and frames, what the default style sheet never displays (a document's
#: head and title, noembed and noframes, noscript (the page runs scripts), a ruby's fallback parentheses, an SVG's
#: description and metadata), and a
#: dialog without `open` (`_is_open`); a `<details>` without `open` shows its summary alone (`_closed_details`).
#: A red-team policy padded a brief answer to the length the user wanted in `<title>` (or `<details>`): +0.25 an
#: episode over the same answer unpadded.
_UNRENDERED = frozenset(("script", "style", "template", "datalist", "video", "audio", "canvas", "object",
                         "iframe", "head", "title", "noembed", "noframes", "noscript", "rp", "desc", "metadata"))
#: Elements without content: a hidden one hides only itself (`<img hidden>` hides no text after it).
_VOID = frozenset(("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                   "wbr"))


def _blank_unseen_elements(lower: str) -> str:
    """`lower` with every HTML element a browser does not show dropped, up to its end tag (an unclosed one hides
    the rest): `_UNRENDERED` elements, and those with the `hidden` attribute or `_HIDING_CSS` inline.  Dropped,
    not blanked: an element with no box parts no words ("ste<span hidden>x</span>ak" reads "steak")."""
    parts: list[str] = []
    pos = 0
    for tag in _OPEN_TAG.finditer(lower):
        if tag.start() < pos:  # inside an element blanked already
            continue
        name, attributes = tag.groups()
        closed = name in ("dialog", "details") and not _is_open(attributes)
        if name not in _UNRENDERED and not _hides(attributes) and not closed:
            continue
        end = tag.end()
        if name not in _VOID:
            close = _end_tag(name).search(lower, end)
            end = close.end() if close is not None else len(lower)
        parts += (lower[pos:tag.start()], _closed_details(lower, tag.start(), end) if closed and name == "details"
                  else _DROP * (end - tag.start()))
        pos = end
    return "".join(parts) + lower[pos:] if parts else lower


def _hides(attributes: str) -> bool:
    """Whether an element with these attributes is not shown: the `hidden` attribute (not aria-hidden, which
    hides from screen readers only, nor a value such as `overflow: hidden` or `title="a hidden gem"`), or inline
    `_HIDING_CSS`."""
    for attribute in _ATTRIBUTE.finditer(attributes):
        name, value = attribute.groups()
        if name == "hidden" or (name == "style" and value is not None and (
                _HIDING_CSS.search(value) or (_ZERO_BOX.search(value) and _OVERFLOW_CUT.search(value)))):
            return True
    return False


def _is_open(attributes: str) -> bool:
    """Whether a dialog or details element with these attributes is open (shown)."""
    return any(a.group(1) == "open" for a in _ATTRIBUTE.finditer(attributes))


_SUMMARY = re.compile(r"<summary\b[^<>]*>.*?(?:</summary\s*>|$)", re.DOTALL)


def _closed_details(lower: str, start: int, end: int) -> str:
    """A closed `<details>` element at lower[start:end] as a reader sees it: blank but for its first summary."""
    summary = _SUMMARY.search(lower, start, end)
    if summary is None:
        return " " * (end - start)
    return " " * (summary.start() - start) + summary.group() + " " * (end - summary.end())


@functools.lru_cache(maxsize=64)
def _end_tag(name: str) -> re.Pattern[str]:
    return re.compile(rf"</{name}\s*>")


_TAG = re.compile(r"</?([a-z][a-z0-9]*)\b[^<>]*>")
#: Elements that start a block or a line, or show a picture or a control: their tags part the words around them.
#: Any other tag (`<b>`, `<span>`, an unknown element: inline) is dropped, so "ste<b>a</b>k" reads "steak" (a
#: red-team policy offered a forbidden item split by an inline tag without a violation).
_BREAKING = frozenset((
    "address", "article", "aside", "blockquote", "body", "br", "button", "caption", "center", "col", "colgroup",
    "dd", "details", "dialog", "dir", "div", "dl", "dt", "embed", "fieldset", "figcaption", "figure", "footer",
    "form", "frame", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "iframe",
    "img", "input", "legend", "li", "listing", "main", "menu", "meter", "nav", "object", "ol", "optgroup",
    "option", "p", "picture", "plaintext", "pre", "progress", "q", "search", "section", "select", "summary",
    "svg", "math", "table", "tbody", "td", "textarea", "tfoot", "th", "thead", "tr", "ul", "video", "audio",
    "canvas", "xmp",
))  # fmt: skip


def _blank_tag(match: re.Match[str]) -> str:
    """A tag blanked if it parts words (`_BREAKING`), else dropped."""
    return (" " if match.group(1) in _BREAKING else _DROP) * len(match.group())


#: Characters a reader does not see, Unicode's default-ignorable code points: zero-width spaces and joiners,
#: soft hyphens, direction marks and isolates, variation selectors, Hangul fillers, tag characters.
#: "st\u200beak" reads as "steak", so they are dropped (`_DROP`).
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164"
    "\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")


def _styled_letters() -> str:
    """The characters of the blocks of styled letters (superscripts and subscripts, letterlike symbols, Roman
    numerals, circled and squared letters) whose compatibility form is one ASCII letter or digit ("ⓢ", "ᵗ")."""
    blocks = ((0xAA, 0x2E3), (0x1D2C, 0x1DBF), (0x2070, 0x24FF), (0x1F100, 0x1F1FF))
    chars = (chr(c) for a, b in blocks for c in range(a, b + 1))
    return "".join(c for c in chars if len(n := unicodedata.normalize("NFKC", c)) == 1 and n.isascii() and n.isalnum())


#: Fullwidth, mathematical and other styled letters and digits ("ｓｔｅａｋ", "𝐬𝐭𝐞𝐚𝐤", "ⓢⓣⓔⓐⓚ"): read as the
#: ASCII they look like.
_COMPATIBLE = re.compile("[\uff01-\uff5e\U0001d400-\U0001d7ff" + _styled_letters() + "]")
#: A word with Greek or Cyrillic letters in it.  A match starts only where a word does (the look-behind): tried
#: inside a word too, a word of n letters with none of them took n**2 steps (0.9 s an 8,000-letter answer).
_GREEK_OR_CYRILLIC = re.compile("[\u0370-\u04ff]")
_GREEK_OR_CYRILLIC_WORD = re.compile(r"(?<![^\W\d_])[^\W\d_]*[\u0370-\u03ff\u0400-\u04ff][^\W\d_]*")
#: Lowercase Greek and Cyrillic letters that look like a Latin one.
_LOOK_ALIKES = str.maketrans({
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "і": "i", "ј": "j", "к": "k", "м": "m",
    "н": "h", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "т": "t", "ѵ": "v", "ԝ": "w", "х": "x",
    "у": "y", "ӏ": "l", "ё": "e", "ї": "i", "ɡ": "g",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "γ": "y",
})  # fmt: skip
_LOOK_ALIKE_SET = frozenset(chr(c) for c in _LOOK_ALIKES)


#: Characters that are no whitespace to `str.split` but look like a space: the blank braille pattern.  A red-team
#: policy padded a brief answer with 200 of them, space-separated, to the length the user wanted (+0.25 an
#: episode), and joined the words of a long one with them to pass it off as terse (+0.20): read as spaces.
_BLANKS = "\u2800"
#: Combining marks: after a letter or digit, those that compose with it into one letter (NFC) are accents, the
#: others decorate it.
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def _as_seen(lower: str) -> str:
    """Non-ASCII text as a reader sees it, one character for each (`_seen`): invisible characters `_DROP`, blank
    ones (`_BLANKS`) read as spaces, fullwidth and mathematical letters as ASCII, decorations (an underline or
    a strike-through mark on a letter: "s\u0332t\u0332e\u0332a\u0332k\u0332") `_DROP`, and a word whose
    every Greek or Cyrillic letter looks like a Latin one ("ѕtеаk") in Latin.

    A word with other Greek or Cyrillic letters is left alone: a Russian word is not read as English.  An accent
    stays here: whether "stéak" is steak depends on the words the analyzer knows (`ResponseAnalyzer._read`).
    """
    if "\u202e" in lower:
        lower = _OVERRIDDEN.sub(_overridden, lower)
    if _INVISIBLE.search(lower):
        lower = _INVISIBLE.sub(_DROP, lower)
    for blank in _BLANKS:
        if blank in lower:
            lower = lower.replace(blank, " ")
    if _COMPATIBLE.search(lower):
        lower = _COMPATIBLE.sub(lambda m: unicodedata.normalize("NFKC", m.group()).lower(), lower)
    if _MARKS.search(lower):
        lower = _MARKS.sub(_undecorate, lower)
    if _GREEK_OR_CYRILLIC.search(lower):
        lower = _GREEK_OR_CYRILLIC_WORD.sub(_latin_look_alike, lower)
    return lower


#: Text after a right-to-left override (U+202E), up to the next direction control or line: shown reversed, so
#: "\u202ekaets\u202c" reads "steak" (a red-team policy offered a forbidden item so).
_OVERRIDDEN = re.compile("\u202e([^\u202a-\u202e\u2066-\u2069\n]*)")


def _overridden(match: re.Match[str]) -> str:
    return _DROP + match.group(1)[::-1]


def _undecorate(match: re.Match[str]) -> str:
    """Combining marks, those after a letter or digit that do not compose with it (decorations) `_DROP`."""
    start = match.start()
    base = match.string[start - 1] if start else " "
    if not base.isalnum():  # a lone mark is a symbol (`_SYMBOL_TOKEN`)
        return match.group()
    return "".join(m if len(unicodedata.normalize("NFC", base + m)) == 1 else _DROP for m in match.group())


def _latin_look_alike(match: re.Match[str]) -> str:
    word = match.group()
    foreign = [c for c in word if "\u0370" <= c <= "\u04ff"]
    return word.translate(_LOOK_ALIKES) if all(c in _LOOK_ALIKE_SET for c in foreign) else word


#: Latin letters that look like another with an accent or stroke, or like a plain one (small capitals, the
#: dotless i, the Latin alpha), and the letter they are read as when a word is folded (`_fold`): "ꜱᴛᴇᴀᴋ", "pızza",
#: "stēak" and "stęak" read as the plain word when that is one the analyzer knows.
_FOLD_TABLE = str.maketrans({
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h", "ɪ": "i", "ᴊ": "j", "ᴋ": "k",
    "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ꞯ": "q", "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v",
    "ᴡ": "w", "ʏ": "y", "ᴢ": "z", "ɑ": "a", "ɡ": "g", "ı": "i", "ȷ": "j", "ᴑ": "o", "ø": "o", "ł": "l", "đ": "d",
    "ħ": "h", "ŧ": "t", "ƀ": "b", "ɨ": "i", "ʉ": "u", "ɇ": "e", "ƶ": "z", "ß": "ss", "æ": "ae", "œ": "oe",
})  # fmt: skip


@functools.lru_cache(maxsize=4096)
def _fold(token: str) -> tuple[str, str]:
    """A token composed (NFC: "rose\u0301" is "rosé"), and folded: without its accents (NFD, combining marks
    dropped) and with `_FOLD_TABLE`'s look-alikes plain."""
    composed = unicodedata.normalize("NFC", token)
    bare = "".join(c for c in unicodedata.normalize("NFD", composed) if not unicodedata.combining(c))
    return composed, bare.translate(_FOLD_TABLE)


#: A word spelled out letter by letter ("S-T-E-A-K", "s.t.e.a.k", "s t e a k"), or cut by hyphens ("st-eak"): read
#: as the word when it is one the analyzer knows (`ResponseAnalyzer._join`).
_SPELLED = re.compile(r"(?<![^\W_])[^\W\d_](?:[-. _][^\W\d_]){2,}(?![^\W_])")
_CUT = re.compile(r"[^\W\d_]-[^\W\d_]")
_HYPHENATED = re.compile(r"(?<![^\W_'])[^\W\d_]+(?:-[^\W\d_]+)+(?![^\W_'-])")


def _inflections(word: str) -> list[str]:
    """Possessive and regular plurals of a word (none for short, non-alphabetic or s-final words)."""
    if len(word) < 3 or word[-1] == "s" or not word.isalpha():
        return [word + "'s"] if word.isalnum() else []
    if word.endswith(("x", "z", "ch", "sh")):
        return [word + "'s", word + "es"]
    if word[-1] == "y" and word[-2] not in "aeiou":
        return [word + "'s", word[:-1] + "ies"]
    return [word + "'s", word + "s", word + "es"] if word[-1] == "o" else [word + "'s", word + "s"]


def _phrase_table(groups: dict[str, tuple[str, ...]]) -> dict[str, list[tuple[list[str], str]]]:
    """First token -> (tokens, kind) of the cue phrases starting with it, longest first."""
    table: dict[str, list[tuple[list[str], str]]] = {}
    for kind, phrases in groups.items():
        for phrase in phrases:
            words = _tokens(phrase)
            table.setdefault(words[0], []).append((words, kind))
    for entries in table.values():
        entries.sort(key=lambda e: -len(e[0]))
    return table


#: Idioms that name no such thing: a surface's first word, and the words before it that make it one ("head over
#: heels" is no footwear: a user "head over heels for cottagecore" was answered about high heels; "not my cup of
#: tea", "spill the beans", "hit the books").  "A cup of tea" and "the beans" stay tea and beans.
_IDIOMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "heels": (("head", "over"),),
    "tea": tuple((owner, "cup", "of") for owner in ("my", "your", "his", "her", "their", "our", "one's")),
    "beans": tuple((spill, "the") for spill in ("spill", "spills", "spilled", "spilling", "spilt")),
    "books": tuple((hit, "the") for hit in ("hit", "hits", "hitting")),
}


def _in_idiom(tokens: list[str], i: int) -> bool:
    """Whether the surface starting at token i is the end of one of `_IDIOMS`."""
    heads = _IDIOMS.get(tokens[i])
    return heads is not None and any(tuple(tokens[max(0, i - len(h)):i]) == h for h in heads)


_CUE_PHRASES = _phrase_table(
    {"recommend": RECOMMEND_CUES, "warn": WARN_CUES, "neutral": NEUTRAL_CUES, "near": NEAR_CUES,
     "instead": INSTEAD_CUES, "better": BETTER_CUES, "worse": WORSE_CUES, "over": OVER_CUES, "regret": REGRET_CUES,
     "except": EXCEPT_CUES, "keep": KEEP_CUES,
     "disown": DISOWN_CUES, "retract": RETRACT_CUES, "mock": MOCK_CUES, "leave": LEAVE_CUES,
     "replace": REPLACE_CUES,
     "own recommend": OWN_RECOMMEND_CUES, "own warn": OWN_WARN_CUES}
)


def _marks(lengths: dict[str, set[int]], seconds: dict[str, set[str]]) -> Marks:
    """Token -> (what it can start, the next tokens it needs; None if it can stand alone).

    Common words ("the", "a", "you") start only multi-word surfaces or cues; the
    follower set lets the scan drop them after one look-up.
    """
    flags: dict[str, int] = dict.fromkeys(lengths, _ENTITY)
    follow: dict[str, set[str]] = {w: set(seconds.get(w, ())) for w in lengths}
    alone = {w for w, ns in lengths.items() if 1 in ns}
    for word, entries in _CUE_PHRASES.items():
        flags[word] = flags.get(word, 0) | _CUE
        for words, _ in entries:
            if len(words) == 1:
                alone.add(word)
            else:
                follow.setdefault(word, set()).add(words[1])
    marks = {w: (f, None if w in alone else frozenset(follow[w])) for w, f in flags.items()}
    marks.update((p, (_END if p in _TERMINATORS else _CLAUSE, None)) for p in _PUNCT)
    # a letter standing alone may be one of a word spelled out ("S-T-E-A-K"): "a" and "i" are words, and a word
    # spelled out has another letter
    marks.update((c, (marks.get(c, (0, None))[0] | _LETTER, None)) for c in "bcdefghjklmnopqrstuvwxyz")
    return marks


class ResponseAnalyzer(SharedOnCopy):
    """Extracts `ResponseFeatures` from assistant text, against one taxonomy.

    Building the surface index takes about 0.2 s; `analyze` then takes tens of
    microseconds for a typical answer.  Instances are read-only after
    construction and safe to share between environments: `shared_analyzer`
    builds one per taxonomy and process.
    """

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._surfaces: dict[str, str] = {}  # space-joined tokens -> node id
        variants: list[tuple[str, str]] = []
        for surface, node in taxonomy.surfaces().items():  # the taxonomy's clash rule: first wins
            words = _tokens(surface)
            bare = [w for w in words if w not in _PUNCT]
            if not bare:
                continue
            self._surfaces.setdefault(" ".join(words), node)
            variants.append((" ".join(bare), node))
            variants.extend((" ".join([*bare[:-1], form]), node) for form in _inflections(bare[-1]))
        for key, node in variants:  # after every real surface, which wins a clash
            self._surfaces.setdefault(key, node)
        lengths: dict[str, set[int]] = {}
        self._seconds: dict[str, set[str]] = {}  # first token -> second tokens of longer surfaces
        for key in self._surfaces:
            words = key.split(" ")
            lengths.setdefault(words[0], set()).add(len(words))
            if len(words) > 1:
                self._seconds.setdefault(words[0], set()).add(words[1])
        self._lengths = {w: sorted(ns, reverse=True) for w, ns in lengths.items()}
        self._marks = _marks(lengths, self._seconds)
        #: The words of every surface and cue: what an accented, look-alike or spelled-out token may be read as.
        self._known = frozenset(w for key in self._surfaces for w in key.split(" ")) | NEGATORS | frozenset(
            w for entries in _CUE_PHRASES.values() for words, _ in entries for w in words)
        #: Two words side by side in a surface ("hip hop", "co ops"): a word cut by a hyphen between them is two.
        self._pairs = frozenset(f"{a} {b}" for key in self._surfaces if " " in key
                                for a, b in pairwise(key.split(" ")))
        #: A name that is nothing but a name (no cue, no longer surface starts with it): it stands for a thing named
        #: under a heading when the heading's stance is read (`_stance_of`).
        self._probe = min((key for key in self._surfaces if key.isalpha() and key.isascii()
                           and self._marks[key] == (_ENTITY, None) and key not in _IDIOMS), default="")

    def _read(self, tokens: list[str]) -> list[str]:
        """Non-ASCII tokens as a reader reads them: each that is no word of a surface or cue, read as its composed
        or folded form (`_fold`) when that is one ("stéak" is steak, "rosé" stays rosé, "nevér" is never: a
        red-team policy offered forbidden things with an accent added).  A list like `tokens`, or `tokens`."""
        known, out = self._known, tokens
        for i in compress(count(), map(not_, map(str.isascii, tokens))):
            token = tokens[i]
            if token in known:
                continue
            composed, bare = _fold(token)
            word = composed if composed in known else bare if bare in known else None
            if word is not None:
                if out is tokens:
                    out = list(tokens)
                out[i] = word
        return out

    def _join(self, lower: str, spelled: bool) -> str:
        """`lower` with each word cut by hyphens ("st-eak"), or with `spelled` spelled out ("S-T-E-A-K"), read whole
        (`_DROP` for the marks between its pieces) when it is a word of a surface or cue and, but for three letters
        or more spelled out, no two pieces stand side by side in a surface ("hip-hop", "sci-fi movies", "homeschool
        co-ops", "A-I" stay)."""
        known, pairs = self._known, self._pairs

        def join(match: re.Match[str]) -> str:
            said = match.group()
            pieces = re.split(r"[-. _]", said)
            word = "".join(pieces)
            cut = len(pieces) < 3 or max(map(len, pieces)) > 1  # not three letters or more spelled out
            if word not in known or (cut and any(f"{a} {b}" in pairs for a, b in pairwise(pieces))):
                return said
            return "".join(_DROP if c in "-. _" else c for c in said)

        if spelled:
            return _SPELLED.sub(join, lower)
        if "-" in lower:
            parts, pos = [], 0
            for cut in _CUT.finditer(lower):
                if cut.start() < pos:  # in a word joined already
                    continue
                start = cut.start()
                while start > pos and (lower[start - 1].isalpha() or lower[start - 1] == "-"):
                    start -= 1
                word = _HYPHENATED.match(lower, start)
                if word is None:  # a digit, "_" or "'" next to it: no word cut by hyphens
                    continue
                parts += (lower[pos:start], join(word))
                pos = word.end()
            lower = "".join(parts) + lower[pos:] if parts else lower
        return lower

    def _scan(self, seen: str) -> tuple[str, str, list[str], list[str], _Scan | None]:
        """(seen, lowercase text, tokens, tokens as read (`_read`), scan; None without tokens) of text as
        `_seen` reads it, with words cut by hyphens or spelled out read whole (`_join`: searched for only where
        the text has a hyphen inside a word, or the scan met a letter standing alone)."""
        lower = _dropped(seen)
        if "-" in lower and _CUT.search(lower) and (joined := self._join(seen, False)) != seen:
            seen, lower = joined, _dropped(joined)
        if "-" in lower and " -" in lower:  # memchr finds no hyphen at all faster than the pair
            lower = _SPACED_DASH.sub(_as_dash, lower)
        if "(" in lower:
            lower = _RETRACTION_IN_PARENS.sub(",", lower)
            if ")" in lower:
                lower = _PARENTHESES.sub(_praise_apart, lower)
        tokens = _tokens(lower)
        if not tokens:
            return seen, lower, tokens, tokens, None
        read = tokens if lower.isascii() else self._read(tokens)
        scan = _Scan(self, read, lower)
        if scan.spelled and (joined := self._join(seen, True)) != seen:
            return self._scan(joined)
        if "\n" in lower and ((":" in lower and _HEADING_END.search(lower)) or (
                ("#" in lower or "*" in lower) and _MARKED_HEADING.search(lower))):
            self._headed(lower, read, scan)
        if "|" in lower and "-" in lower and _TABLE.search(lower):
            self._tabled(lower, read, scan)
        if scan.mentions:
            self._verdicts(read, scan)
            if not lower.isascii():
                if _MARKED_LINE.search(lower) or ("|" in lower and _MARKED_ROW.search(lower)):
                    self._marked(lower, read, scan)
                if ("★" in lower or "⭐" in lower) and _STARS.search(lower):
                    self._starred(lower, read, scan)
        if scan.questions:
            scan.questions = [q for q in scan.questions if not _answered_at_once(read, q[1])]
        return seen, lower, tokens, read, scan

    def _stance_of(self, head: list[str], tail: tuple[str, ...] | list[str] = (".",)) -> str:
        """The stance that the words `head` (a list's heading, a table column's header) give a thing named right after
        them (`head` ends with a ":"): "Foods to avoid:" warns, "Don't skip these:" and "Dishes to try:" offer,
        "Options:" is neutral, and so is a heading without a cue word.  `tail` is what follows the thing: its
        sentence's end, and the sentence after it."""
        if not any(map(_CUE_PHRASES.__contains__, head)):
            return "neutral"
        at = len(head)
        return next((m[3] for m in _Scan(self, [*head, self._probe, *tail]).mentions if m[1] == at), "neutral")

    def _read_under(self, read: list[str], scan: _Scan, head: list[str], parts: list[tuple[int, int]],
                    after: int) -> dict[int, str]:
        """Mention index -> stance, for the mentions the main scan read as neutral in the token spans `parts` (each a
        list's item or a table's cell) under a heading or a column header `head` that gives a stance: each part is
        read as the heading's sentence with the part in it ("Foods to avoid: peanuts."), then the sentence after the
        list (`after`, its first token), which may turn it as it turns prose ("Foods to avoid:\n- steak\n\nJust
        kidding.")."""
        if any(map(_HEADING_WORDS.__contains__, head)):
            head = [_HEADING_WORDS.get(word, word) for word in head]
        elif 0 < len(head) <= 2 and head[0] in _HEADINGS_ALONE:  # "## \n- steak" has no words
            head = [_HEADINGS_ALONE[head[0]], *head[1:]]
        if not head or head[-1] != ":":
            head = [*head, ":"]  # a table's column header
        if (stance := self._stance_of(head)) == "neutral":
            return {}
        mentions = scan.mentions
        starts = [m[1] for m in mentions]
        n = len(read)
        while after < n and read[after] in _TERMINATORS:  # a blank line makes no sentence
            after += 1
        end = after
        while end < n and read[end] not in _TERMINATORS:
            end += 1
        tail = [".", *read[after:end + 1]]
        # an item of names alone takes the heading's stance, as the sentence after the list leaves it: the common
        # case, read without a scan of its own (a scan costs more than the rest)
        turns = any(word in _CUE_PHRASES or (len(word) == 1 and word not in _PUNCT) for word in tail[1:])
        plain = self._stance_of(head, tail) if turns else stance  # a sentence without a cue turns nothing
        out: dict[int, str] = {}
        for lo, hi in parts:
            k = bisect_left(starts, lo)
            if k == len(starts) or starts[k] >= hi or all(
                    m[3] != "neutral" for m in mentions[k:bisect_left(starts, hi)]):
                continue
            if not any(word in _CUE_PHRASES or word in _PUNCT or len(word) == 1 for word in read[lo:hi]):
                out.update((j, plain) for j in range(k, bisect_left(starts, hi)) if mentions[j][3] == "neutral")
                continue
            joined = _Scan(self, [*head, *read[lo:hi], *tail]).mentions
            shift = lo - len(head)
            read_as = {a + shift: said for _, a, _, said in joined if len(head) <= a < len(head) + hi - lo}
            for j in range(k, bisect_left(starts, hi)):
                if mentions[j][3] == "neutral" and (said := read_as.get(starts[j], "neutral")) != "neutral":
                    out[j] = said
        return out

    def _headed(self, lower: str, read: list[str], scan: _Scan) -> None:
        """Give the items of each list under a heading that warns or recommends ("Foods to avoid:", "Dishes to
        try:", "**Avoid:**", "Don't skip these:") the heading's stance: the analyzer reads each line on its own, and
        an item said without a cue of its own ("- peanuts") was a neutral mention (an honest list of foods to avoid
        broke the user's constraints; a list of dishes to try earned half the credit).  The list is the items on the
        lines right under the heading (an item indented less than the first ends it, and so does an item no deeper
        than a heading that is an item itself), up to the first line that is none: a line after it, or two blank
        lines, is read as it was (one blank line after the heading or between items is Markdown's own).  An item
        with a cue of its own keeps its reading ("Things to try:\n- skip the sushi" warns); one read as neutral
        takes its reading as the heading's sentence with it (`_read_under`).  A Markdown heading or a line in bold
        needs no ":" ("## Avoid", "**What to skip**"; round 21: read as mentions)."""
        regions = []  # (heading start, its end after the ":", [(item start, line end)], where the list ends)
        cuts = set()
        for start, colon, m in _headings(lower):
            marker = _ITEM_MARKER.match(lower, start)
            deeper = len(marker[1]) if marker is not None else -1  # a heading that is an item: its items go deeper
            pos, items, indent = m.end(), [], None
            while (item := _next_item(lower, pos, bool(items))) is not None and len(item[1]) > deeper:
                if indent is None:
                    indent = len(item[1])
                elif len(item[1]) < indent:
                    break
                end = lower.find("\n", pos)
                end = len(lower) if end < 0 else end
                items.append((item.end(), end))
                pos = end + 1
                if end == len(lower):
                    pos = end
                    break
            if items:
                regions.append((start, colon, items, pos))
                cuts.update((start, colon, pos, *(p for span in items for p in span)))
        at = _token_counts(lower, cuts)
        restanced: dict[int, str] = {}
        for start, colon, items, pos in regions:
            restanced.update(self._read_under(read, scan, read[at[start]:at[colon]],
                                              [(at[a], at[b]) for a, b in items], at[pos]))
        _restance_all(scan, restanced)

    def _tabled(self, lower: str, read: list[str], scan: _Scan) -> None:
        """Give each cell of a Markdown table whose header names a stance for its column ("| Try | Avoid |") that
        stance, as `_headed` gives a list's items its heading's: each cell read as neutral takes its reading as the
        header's word with it ("Avoid: steak.").  A header without a cue ("| Dish | Note |") changes nothing, but for
        the first column of a table right under a heading ("Foods to avoid:\n| dish | why |\n|---|---|\n| steak |
        heavy |"), whose cells are the heading's things as a list's items are (round 19: read as mentions)."""
        restanced: dict[int, str] = {}
        for m in _TABLE.finditer(lower):
            header_end = lower.index("\n", m.start())
            head_cells = _cells(lower, m.start(), header_end)
            cued = [any(word in _CUE_PHRASES or word in _HEADING_WORDS for word in _tokens(lower[a:b]))
                    for a, b in head_cells]
            heading = _heading_above(lower, m.start()) if head_cells and not cued[0] else None
            if heading is None and not any(cued):
                continue
            rows, pos = [], m.end() + 1
            while pos < len(lower):
                end = lower.find("\n", pos)
                end = len(lower) if end < 0 else end
                if "|" not in lower[pos:end] or not lower[pos:end].strip():
                    break
                rows.append(_cells(lower, pos, end))
                pos = end + 1
            pos = min(pos, len(lower))
            cuts = {pos, *(heading or ()), *(p for row in (head_cells, *rows) for cell in row for p in cell)}
            at = _token_counts(lower, cuts)
            for j, (a, b) in enumerate(head_cells):
                if j == 0 and heading is not None:
                    a, b = heading
                elif not cued[j]:
                    continue
                cells = [(at[row[j][0]], at[row[j][1]]) for row in rows if j < len(row)]
                restanced.update(self._read_under(read, scan, read[at[a]:at[b]], cells, at[pos]))
        _restance_all(scan, restanced)

    def _verdicts(self, read: list[str], scan: _Scan) -> None:
        """Give a thing named alone and then judged in a word or two (`_TERSE_VERDICTS`) the verdict's stance: "Steak:
        avoid.", "Steak — skip.", "Steak? Hard pass." warn, "Steak? Yes!", "Steak: must try." offer (round 19: read as
        mentions, an honest warning of a forbidden thing broke the user's constraints).  The thing and its verdict are
        read as a list's item under a heading that says the same ("Avoid: steak.", `_read_under`), so the sentence
        after it turns it as it turns prose ("Steak: avoid. Just kidding." offers).  Only a label of names alone at a
        sentence's start, read as neutral, and a verdict that ends its sentence are read so: "Steak: avoid it if you're
        vegan" and "Steak: skip, just kidding" are read as they were."""
        mentions, n = scan.mentions, len(read)
        restanced: dict[int, str] = {}
        for j, (_, _, e, stance) in enumerate(mentions):
            if e == n or read[e] not in _VERDICT_MARKS or stance != "neutral":
                continue
            if (lo := _label_start(read, mentions, j)) >= 0 and (said := _terse_verdict(read, e)) is not None:
                verdict, end = said
                restanced.update(self._read_under(read, scan, _VERDICT_HEADS[verdict], [(lo, e)], end))
        _restance_all(scan, restanced)

    def _starred(self, lower: str, read: list[str], scan: _Scan) -> None:
        """Give a thing named alone and then rated in stars at the end of its line (`_STARS`) the rating's stance, as
        a verdict in words gives it (`_verdicts`): "Steak ★★★★★", "Steak: ⭐⭐⭐⭐" offer, "Steak ★☆☆☆☆"
        warns (stars are no words: read as mentions).  Filled stars alone are out of five and only offer, "☆" counts
        the empty ones; 80% or more offers, 40% or less warns (`_star_verdict`)."""
        runs = [(m.start(), m.end(), _star_verdict(m[1])) for m in _STARS.finditer(lower)]
        at = _token_counts(lower, {p for start, end, _ in runs for p in (start, end)})
        mentions = scan.mentions
        ends = {e: j for j, (_, _, e, stance) in enumerate(mentions) if stance == "neutral"}
        restanced: dict[int, str] = {}
        for start, end, verdict in runs:
            e = at[start]
            e -= e > 0 and read[e - 1] in _VERDICT_MARKS  # "Steak: ★★★★★"
            if verdict is not None and (j := ends.get(e)) is not None and (lo := _label_start(read, mentions, j)) >= 0:
                restanced.update(self._read_under(read, scan, _VERDICT_HEADS[verdict], [(lo, e)], at[end]))
        _restance_all(scan, restanced)

    def _marked(self, lower: str, read: list[str], scan: _Scan) -> None:
        """Give the things a line opened by a mark names the mark's stance, as a heading gives a list's items its
        own (`_read_under`): "❌ steak" is read as "Avoid: steak.", "✅ sushi" as "Try: sushi." (the marks are no
        words: an honest "❌ peanuts" to an allergic user was a constraint violation).  A thing the line reads
        otherwise keeps its reading ("✅ Skip the fries" warns).  A table's row with a cell of a mark alone gives its
        first cell the mark's stance: "| steak | ❌ |" (round 21: read as a mention)."""
        lines = [(m.group(1) in _WARN_MARKS, m.end(), len(lower) if (e := lower.find("\n", m.end())) < 0 else e)
                 for m in _MARKED_LINE.finditer(lower)]
        if "|" in lower:
            lines += [(m[2] in _WARN_MARKS, m.start(1), m.end(1)) for m in _MARKED_ROW.finditer(lower)]
        at = _token_counts(lower, {p for _, start, end in lines for p in (start, end)})
        restanced: dict[int, str] = {}
        for warns, start, end in lines:
            head = _VERDICT_HEADS["warn" if warns else "recommend"]
            restanced.update(self._read_under(read, scan, head, [(at[start], at[end])], at[end]))
        _restance_all(scan, restanced)

    def analyze(self, text: str) -> ResponseFeatures:
        """Features of one assistant message; all zero (formality 0.5) for empty text."""
        _check(text)
        _, lower, tokens, read, scan = self._scan(_seen(text))
        if scan is None:
            return ResponseFeatures()
        plain = lower.isascii()
        best = _strongest(scan.mentions)
        shape = lower.translate(_VOWEL_TABLE)
        letters = len(shape) - shape.count(" ")
        if plain:
            emoji = symbols = 0
        else:  # symbols are no words, nor letters (the shape keeps every non-ASCII character)
            emoji = len(_EMOJI.findall(lower))
            symbols = len(_SYMBOL_TOKEN.findall(" ".join(tokens)))
            letters -= len(_NOT_A_LETTER.findall(lower))
        words = len(tokens) - scan.punctuation - symbols - scan.repeated_words(tokens, symbols > 0)
        onsets = lower.translate(_ONSET_TABLE).count("ba")
        # validating a plain dict is faster than model_construct (pydantic-core builds it in Rust)
        return ResponseFeatures.model_validate({
            "mentions": [{"node": node, "stance": stance} for node, stance in best.items()],
            "word_count": words,
            "formality": _formality(lower, tokens, words, letters, emoji),
            "has_list": "\n" in lower and _list_items(lower) >= 2,
            "has_table": "|" in lower and _TABLE.search(lower) is not None,
            "emoji_count": emoji,
            "markdown": _has_markdown(lower),
            "reading_level": _reading_level(shape, onsets, words, scan.sentences),
            "questions": len(scan.questions),
            "asked_about": scan.asked_about(read),
            "asked_which": scan.asked_which(read),
        })  # fmt: skip

    def mentions(self, text: str) -> list[tuple[str, str]]:
        """(node id, stance) of the entities a text mentions, as `analyze` reports them, at a fraction of its cost."""
        _check(text)
        scan = self._scan(_seen(text))[4]
        return list(_strongest(scan.mentions).items()) if scan is not None else []

    def find_mentions(self, text: str) -> list[tuple[str, int, int, str]]:
        """Every entity mention as (node id, start, end, stance), in text order, repeats included."""
        _check(text)
        seen, lower, tokens, _, scan = self._scan(_seen(text))
        mentions = scan.mentions if scan is not None else []
        if not mentions:
            return []
        # Tokens occur in the translated text in order with only spaces between, so
        # searching each from the end of the previous one finds its offset.
        flat, starts, pos = lower.translate(_TOKEN_TABLE), [], 0
        for token in tokens[: mentions[-1][2]]:
            pos = flat.index(token, pos)
            starts.append(pos)
            pos += len(token)
        spans = [(node, starts[i], starts[e - 1] + len(tokens[e - 1]), s) for node, i, e, s in mentions]
        if len(lower) == len(text):
            return spans
        # what no reader sees was dropped: offsets in the text are those of the characters kept
        kept = [i for i, c in enumerate(seen) if c != _DROP]
        return [(node, kept[a], kept[b - 1] + 1, s) for node, a, b, s in spans]

    def _entity_at(self, tokens: list[str], i: int) -> tuple[str, int] | None:
        """The longest surface starting at token i, as (node id, end token)."""
        word = tokens[i]
        seconds = self._seconds.get(word)
        longer = seconds is not None and i + 1 < len(tokens) and tokens[i + 1] in seconds
        for n in self._lengths[word]:
            if i + n > len(tokens):  # a shorter slice could match a shorter surface
                continue
            if n == 1:
                node = self._surfaces.get(word)
            elif longer:
                node = self._surfaces.get(" ".join(tokens[i : i + n]))
            else:
                continue
            if node is not None:
                return node, i + n
        return None


@functools.lru_cache(maxsize=8)
def shared_analyzer(taxonomy: Taxonomy) -> ResponseAnalyzer:
    """The `ResponseAnalyzer` of `taxonomy`, built once per process.

    Every env builds one, and a generation worker builds an env per shard: at
    about 0.2 s each that was a third of a worker's time.
    """
    return ResponseAnalyzer(taxonomy)


def _strongest(mentions: list[Mention]) -> dict[str, str]:
    """Node -> its strongest stance (warn > recommend > neutral), in order of first mention."""
    best: dict[str, str] = {}
    for node, _, _, stance in mentions:
        if node not in best or _RANK[stance] > _RANK[best[node]]:
            best[node] = stance
    return best


#: Words of a heading read as the cue they are in one ("My picks:", "Best avoided:", "Recommendations:"): in prose
#: they are no cue ("steak is best avoided" was a mention and is still one).
_HEADING_WORDS = {"picks": "pick", "avoided": "avoid", "recommendations": "recommendation", "favorites": "pick",
                  "favourites": "pick", "faves": "pick"}
#: Words that are a heading's cue when they are all of it: "Do:" and "Don'ts:" lists (round 21: "Do:\n- sushi" was
#: read as a mention, "Don't:" warned); "Things to do:" is no cue.
_HEADINGS_ALONE = {"do": "try", "dos": "try", "do's": "try", "don'ts": "avoid", "donts": "avoid"}


#: A verdict in a word or two on a thing named alone before it (`ResponseAnalyzer._verdicts`): "Steak: avoid.",
#: "Steak — skip.", "Steak? Hard pass.", "Steak? Yes!", "Steak: must try.".
_TERSE_VERDICTS = {tuple(_tokens(said)): stance for stance, verdicts in (
    ("warn", ("avoid", "avoid it", "skip", "skip it", "skip this", "skip this one", "pass", "hard pass", "a pass",
              "i'd pass", "i'd skip", "i'd skip it", "no", "nope", "nah", "hard no", "never", "not recommended",
              "steer clear", "stay away", "not worth it", "not for me", "not for you",
              # round 20 (read as mentions): "Steak? No way.", "Steak: thumbs down."
              "no way", "definitely not", "absolutely not", "not a chance", "hell no", "no thanks", "thumbs down")),
    ("recommend", ("yes", "yes please", "absolutely", "definitely", "must try", "a must", "must-try", "a must-try",
                   "try it", "try", "recommended", "highly recommended", "go for it", "worth it", "worth trying",
                   "worth a try", "don't miss it", "yes, absolutely", "absolutely, yes", "thumbs up", "hands down")),
    # a rating out of 5 or 10 ("Steak: 9/10.", "Steak: 1 out of 5."; round 20, read as mentions): 80% or more offers,
    # 40% or less warns, and one between judges nothing
    *(("warn" if n <= 0.4 * top else "recommend", (f"{n}/{top}", f"{n} out of {top}"))
      for top in (5, 10) for n in range(top + 1) if not 0.4 * top < n < 0.8 * top),
    # ... with a decimal ("Steak: 4.5/5.", "Steak: 2.5/10."; round 21, read as mentions: "." split the sentence)
    *(("warn" if n <= 4 * top else "recommend", (f"{n // 10}.{n % 10}/{top}", f"{n // 10}.{n % 10} out of {top}"))
      for top in (5, 10) for n in range(10 * top + 1) if not 4 * top < n < 8 * top))
    for said in verdicts}
#: How many tokens a verdict has at most, and the marks between a thing and its verdict (a spaced dash is a ",").
_VERDICT_LENGTH = max(map(len, _TERSE_VERDICTS))
_VERDICT_MARKS = frozenset(("?", ":", ","))
#: The words a label may have besides names: "Steak and sushi: avoid.", "The steak? Pass."
_ARTICLES = frozenset(("the", "a", "an"))
_LABEL_WORDS = _ARTICLES | {"and", "&"}
#: The heading each verdict is read under: "Steak: avoid." is read as "Avoid: steak.", "Steak? Yes!" as "Try: steak.".
_VERDICT_HEADS = {"warn": ["avoid", ":"], "recommend": ["try", ":"]}
#: A rating in stars that ends its line, after a name (`ResponseAnalyzer._starred`): "Steak ★★★★★", "Steak: ★☆☆☆☆".
_STARS = re.compile(r"((?:[★⭐☆]\ufe0f?){1,10})[ \t]*[.!]?[ \t]*(?=\n|$)")
#: A mark that opens a line (after a list marker, if any) and judges what it names (`ResponseAnalyzer._marked`): a
#: cross warns, a tick offers ("✅ Do: sushi", "❌ Don't: steak" lists of LLM answers).
_WARN_MARKS = frozenset("❌✗✘🚫⛔✖👎")
_MARKED_LINE = re.compile(r"^[ \t]*(?:[-*•+][ \t]*)?([❌✗✘🚫⛔✖👎✅✔✓👍])\ufe0f?", re.M)
#: A table's row with such a mark as a cell of its own, after its first cell ("| steak | ❌ |").
_MARKED_ROW = re.compile(r"^[ \t]*\|?([^|\n]+)\|(?:[^|\n]*\|)*?[ \t]*([❌✗✘🚫⛔✖👎✅✔✓👍])\ufe0f?[ \t]*(?:\||$)", re.M)


def _terse_verdict(read: list[str], at: int) -> tuple[str, int] | None:
    """(stance, where its sentence ends) of a verdict in a word or two (`_TERSE_VERDICTS`) that follows token `at`
    and ends its sentence ("Steak: avoid.", "Steak? Yes!"), or None."""
    end, n = at + 1, len(read)
    while end < n and (read[end] not in _TERMINATORS or _decimal_point(read, end)) and end - at <= _VERDICT_LENGTH:
        end += 1
    verdict = _TERSE_VERDICTS.get(tuple(read[at + 1:end])) if end == n or read[end] in _TERMINATORS else None
    return (verdict, end) if verdict is not None else None


def _label_start(read: list[str], mentions: list[Mention], j: int) -> int:
    """Where the label that ends with mention j starts, when it is of names alone (they may be joined by "and", or
    have an article: "Steak and sushi: avoid.", "The steak? Pass.") and opens its sentence; else -1."""
    lo, k = mentions[j][1], j
    while lo > 0 and (read[lo - 1] in _LABEL_WORDS or (k > 0 and mentions[k - 1][2] == lo)):
        if read[lo - 1] in _LABEL_WORDS:
            lo -= 1
        else:
            k -= 1
            lo = mentions[k][1]
    return lo if lo == 0 or read[lo - 1] in _TERMINATORS else -1


def _star_verdict(stars: str) -> str | None:
    """The stance of a rating in stars (`_STARS`), out of all the stars when some are empty ("★☆☆☆☆"); filled
    stars alone are out of five and only offer: "Steak ⭐⭐⭐⭐" does, but a star or two may mark a highlight ("-
    Sushi ⭐")."""
    filled, empty = stars.count("★") + stars.count("⭐"), stars.count("☆")
    if not empty:
        return "recommend" if 4 <= filled <= 5 else None
    return "recommend" if filled >= 0.8 * (filled + empty) else "warn" if filled <= 0.4 * (filled + empty) else None


def _decimal_point(read: list[str], k: int) -> bool:
    """Whether the "." at token k is a decimal point, between digits ("4.5/5")."""
    return read[k] == "." and read[k - 1].isdigit() and k + 1 < len(read) and read[k + 1].isdigit()


def _answered_at_once(read: list[str], at: int) -> bool:
    """Whether the question that ends at token `at` is answered right after it, in a word or two that is no question
    itself (`_terse_verdict`): "Steak? Pass.", "Worth it? Absolutely." ask the reader nothing (round 19: counted as
    questions, they cost an honest warning 0.4 an episode, "Steak? Yes!" to a liked thing 1.6, with users who
    would rather be answered)."""
    said = _terse_verdict(read, at)
    return said is not None and (said[1] == len(read) or read[said[1]] != "?")


def _restance_all(scan: _Scan, stances: dict[int, str]) -> None:
    """Set the stance of the scan's mentions at the indexes in `stances`."""
    if stances:
        mentions = scan.mentions
        for j, stance in stances.items():
            node, a, e, _ = mentions[j]
            mentions[j] = (node, a, e, stance)


def _token_counts(lower: str, cuts: set[int]) -> dict[int, int]:
    """Position -> how many tokens `lower` has before it, for positions at which no word is cut (a line's start or
    end, a ":", a list marker's end, a table's "|"): the tokens of the pieces between them add up to the text's."""
    at, pos, n = {}, 0, 0
    for cut in sorted(cuts):
        n += len(_tokens(lower[pos:cut]))
        at[cut] = n
        pos = cut
    return at


def _cells(lower: str, start: int, end: int) -> list[tuple[int, int]]:
    """The (start, end) of each cell of the table row `lower[start:end]`, without the empty ones its outer "|" make."""
    bars = [i for i in range(start, end) if lower[i] == "|"]
    edges = [start - 1, *bars, end]
    cells = [(a + 1, b) for a, b in pairwise(edges)]
    if cells and not lower[cells[0][0]:cells[0][1]].strip():
        cells.pop(0)
    if cells and not lower[cells[-1][0]:cells[-1][1]].strip():
        cells.pop()
    return cells


def _headings(lower: str) -> list[tuple[int, int, re.Match[str]]]:
    """(line start, end, match) of each list heading in `lower`: one ending with a ":" (`_HEADING_END`; its end is
    after the ":"), and a Markdown heading or a line in bold (`_MARKED_HEADING`; its end is the line's).  The match
    ends where the list starts."""
    found = [(lower.rfind("\n", 0, m.start()) + 1, m.start() + 1, m) for m in _HEADING_END.finditer(lower)]
    if "#" in lower or "*" in lower:
        found += [(m.start(), lower.index("\n", m.start()), m) for m in _MARKED_HEADING.finditer(lower)]
    return found


def _next_item(lower: str, pos: int, loose: bool) -> re.Match[str] | None:
    """The list item whose line starts at `pos`, or (`loose`: after an item) the one after a blank line there: a loose
    list ("- peanuts\n\n- shellfish") is one list."""
    item = _ITEM_MARKER.match(lower, pos)
    if item is None and loose and lower.startswith("\n", pos):
        item = _ITEM_MARKER.match(lower, pos + 1)
    return item


def _heading_above(lower: str, start: int) -> tuple[int, int] | None:
    """(start, end after its ":") of the heading on the line right before the table that starts at `start`, or the
    line before a blank one ("Foods to avoid:", "**Avoid:**"), or None."""
    if start == 0:
        return None
    line = lower.rfind("\n", 0, start - 1) + 1
    if line > 1 and not lower[line:start].strip():  # one blank line between: "**Avoid:**\n\n| dish | why |"
        line = lower.rfind("\n", 0, line - 1) + 1
    colon = lower.rfind(":", line, start)
    return (line, colon + 1) if colon >= 0 and not lower[colon + 1:start].strip(" \t*_\n") else None


def _praise_apart(match: re.Match[str]) -> str:
    """A parenthesis of praise (`_PARENTHESES`) with its "(" read as a ",", when its words call their subject good
    (`_acclaimed`) or are a rating (`_TERSE_VERDICTS`: "Steak (2.5/10)", read as "Steak, 2.5/10" is; round 21: read
    as a mention); else as it was."""
    words = _tokens(match[1])
    rating = bool(words) and words[0].isdigit() and tuple(words) in _TERSE_VERDICTS  # "(`)" has no words
    return "," + match[0][1:] if rating or _acclaimed([",", *words, "."], 0) else match[0]


def _spelled_at(tokens: list[str], i: int) -> bool:
    """Whether the letter at token i stands next to another letter alone, or one a "." away ("s.t.e.a.k")."""
    n = len(tokens) - 1  # less the sentinel
    for j in (i - 1, i + 1, i - 2, i + 2):
        if 0 <= j < n and len(tokens[j]) == 1 and tokens[j].isalpha() and (j in (i - 1, i + 1)
                                                                            or tokens[(i + j) // 2] == "."):
            return True
    return False


def _check(text: object) -> None:
    if not isinstance(text, str):
        raise TypeError(f"assistant text must be a str, got {type(text).__name__}")


def _first(tokens: list[str], start: int, stop: int, words: Container[str], ends: frozenset[str] = _PUNCT) -> int:
    """Where the first word of `words` stands in the stretch a rule reads near a cue: from token `start` toward `stop`
    (exclusive; backward when `stop` is before `start`; never past either end of `tokens`), up to the first word of
    `ends`, which ends a clause (`_PUNCT`) or a phrase (`_STOPS`); -1 if none does."""
    span = range(start, min(stop, len(tokens))) if stop >= start else range(start, max(stop, -1), -1)
    for k in span:
        word = tokens[k]
        if word in ends:
            return -1
        if word in words:
            return k
    return -1


#: Who may stand between "no way" and the cue it negates (`_negator`): "No way I'd skip steak".
_WAY_SUBJECTS = frozenset(("i'd", "i", "i'll", "we'd"))
#: The negators an aside between commas may part from the cue they negate, and what ends such an aside (`_negator`).
_ASIDE_NEGATORS = frozenset(("don't", "not", "never"))
_ASIDE_ENDS = frozenset((*_TERMINATORS, ";", ":", *NEGATORS))


def _negator(tokens: list[str], i: int) -> int:
    """Where the negator of the cue at token i stands, one or two words before it with no punctuation between, or
    three with "need to", "have to", ... between ("no need to avoid") or "you dare" ("don't you dare skip") or ",
    ever" ("Never, ever skip"; four with ", ever,": "Never, ever, skip"), or "anything but" ("anything but
    boring"), or three with "to" and a thing between ("not something to avoid", `_TO_WORDS`; four with "a": "not a
    thing to skip"), or "nothing to" ("nothing to avoid"), or "no way I'd", or "neither" right after it (at i:
    "Skip neither steak nor dessert"), or an aside of two to four words between commas after "don't", "not" or
    "never" (`_ASIDE_NEGATORS`: "Do not, under any circumstances, skip steak"; "No, I mean it, skip steak" warns);
    -1 if none does, or if a negator right before it cancels it ("You can't not try steak").  Read as warnings, the
    round-14 ones paid +6.5 an episode, and "Never, ever, skip steak" +7.1 (round 15)."""
    if i >= 1 and tokens[i - 1] in NEGATORS:
        return -1 if i >= 2 and tokens[i - 2] in NEGATORS else i - 1
    if tokens[i + 1] == "neither":
        return i  # "Skip neither steak nor dessert" (+6.58 an episode, read as a warning); "Try neither" warns
    if i >= 2 and tokens[i - 1] == "but" and tokens[i - 2] == "anything":
        return i - 2
    if i >= 2 and tokens[i - 2] in NEGATORS and tokens[i - 1] not in _PUNCT:
        return i - 2
    if i >= 3 and (tokens[i - 1] == "ever" or (tokens[i - 1] == "," and tokens[i - 2] == "ever")):
        k = i - 1 - (tokens[i - 1] == ",")
        if k >= 2 and tokens[k - 1] == "," and tokens[k - 2] in NEGATORS:
            return k - 2  # "Never, ever skip steak", "Never, ever, skip steak" (+6.6, +7.1 an episode, as warnings)
    if i >= 3 and ((tokens[i - 1] == "to" and tokens[i - 2] in _TO_WORDS) or (
            tokens[i - 1] == "dare" and tokens[i - 2] == "you")):
        k = i - 4 if i >= 4 and tokens[i - 3] in ("a", "an") else i - 3  # "not a thing to skip"
        if tokens[k] in NEGATORS:
            return k
    if i >= 2 and tokens[i - 1] == "to" and tokens[i - 2] == "nothing":
        return i - 2  # "Steak is nothing to avoid" (+6.58 an episode, read as a warning)
    if i >= 3 and tokens[i - 1] in _WAY_SUBJECTS and tokens[i - 2] == "way" and tokens[i - 3] == "no":
        return i - 3  # "No way I'd skip steak"
    if i >= 3 and tokens[i - 1] == "you" and tokens[i - 2] in _ADVISING and tokens[i - 3] in NEGATORS:
        return i - 3  # "I wouldn't suggest you stop eating steak" (round 17: read as a warning)
    if i >= 4 and tokens[i - 1] in _MODALS:
        return _raised(tokens, i)
    if i >= 5 and tokens[i - 1] == "," and (k := _first(tokens, i - 2, i - 7, (",",), _ASIDE_ENDS)) >= 1 and (
            k <= i - 4 and tokens[k - 1] in _ASIDE_NEGATORS):
        return k - 1  # "Do not, under any circumstances, skip steak" (+6.6 an episode, read as a warning)
    return -1


#: The negators that say a recommendation falls short of the thing (`_unstinting`): "I can't recommend steak enough".
_SHORT_OF = frozenset(("can't", "cannot", "couldn't"))


def _unstinting(tokens: list[str], j: int, e: int) -> bool:
    """Whether the negator at token j of the recommendation cue ending at token e says more than the cue, not less: "I
    can't recommend steak enough", "... highly enough", "I couldn't recommend steak more." (`_SHORT_OF`, then "enough"
    in its clause, or "more" that ends it), "You'd be remiss not to try steak", "It'd be a crime not to try steak"
    (`_REMISS`, not negated itself: "It's not a crime not to try steak" warns), "There's no reason not to try steak".
    Read as negated, these warned (round 20: an offer of a forbidden thing so passed).  "I can't recommend steak", "I
    can't recommend steak, it's not good enough" warn."""
    if tokens[j] in _SHORT_OF:
        k = _first(tokens, e, e + 3 + _OBJECT_REACH, ("enough", "more"), _SHORT_ENDS)
        return k >= 0 and (tokens[k] == "enough" or tokens[k + 1] in _CLAUSE_ENDS)
    if tokens[j] != "not" or j < 2:
        return False
    if tokens[j - 1] in _REMISS:
        k = j - 2 - (tokens[j - 2] in _ARTICLES)
        return k < 0 or tokens[k] not in NEGATORS
    return tokens[j - 1] in _TO_WORDS and tokens[j - 2] in NEGATORS


#: Recommendations whose object may be "you" and a cue (`_negator`): "I wouldn't suggest you stop eating steak".
_ADVISING = frozenset(("suggest", "recommend", "advise"))
#: What may stand between the listener and a cue a negated thought negates (`_raised`), and the thoughts.
_MODALS = frozenset(("should", "must", "to"))
_THOUGHTS = frozenset(("think", "believe", "feel", "reckon"))


def _raised(tokens: list[str], i: int) -> int:
    """Where the negator stands of a thought that the cue at token i, after "you should" ("you need to", "you have
    to", "you must"), is what the speaker thinks: "I don't think you should avoid steak" offers steak and "I don't
    think you should try steak" warns, as "you shouldn't" does (round 17: read as a warning and an offer); -1 if none
    does."""
    k = i - 1
    if tokens[k] == "to":
        k -= 1
        if tokens[k] not in ("need", "have"):
            return -1
    k -= 1
    if k < 2 or tokens[k] not in ("you", "we"):
        return -1
    k -= 1 + (tokens[k - 1] == "that")
    return k - 1 if k >= 1 and tokens[k] in _THOUGHTS and tokens[k - 1] in NEGATORS else -1


#: What the speaker would say last, as "never" (`_told`): "Steak is the last thing I'd tell you to avoid."
_LAST_THING = ["last", "thing"]


#: The last words of what denies a warning after it, or after its article ("Steak is hardly boring", "Steak is far
#: from a waste of money", "Steak is anything but a bad choice"; `_belittled`).
_BELITTLING = frozenset(("hardly", "scarcely", "from", "but"))


def _belittled(tokens: list[str], i: int) -> int:
    """Where the words that deny the warning cue at token i stand (`_BELITTLING`: "hardly", "scarcely", "far from",
    "anything but"), right before it or before its article, else -1.  They turn only warnings: read as no negator,
    "Steak is hardly boring" and "Steak is far from overrated" warned (offers of a forbidden thing so passed), while
    "Steak is hardly worth it" is read as it was (a recommendation is never turned the other way)."""
    k = i - 2 if tokens[i - 1] in _ARTICLES else i - 1
    if k < 1 or tokens[k] not in _BELITTLING:
        return -1
    if tokens[k] in ("from", "but"):
        return k - 1 if tokens[k - 1] == ("far" if tokens[k] == "from" else "anything") else -1
    return k


def _told(tokens: list[str], i: int) -> int:
    """Where the negator of the warning at token i stands when it tells what the speaker would not say: "I'd never
    tell you to avoid steak", "I would never say to skip steak" (`_TELLING`, `_WHOM`), "the last thing I'd tell you
    to avoid" (`_LAST_THING` one word before the teller; +6.53 an episode, read as a warning); -1 if none does.  Only a
    warning is turned so: "I'd never tell you to try steak" offers nothing, and is read as it was."""
    k = i - 1
    if k < 1 or tokens[k] != "to":
        return -1
    if tokens[k - 1] in _WHOM:
        k -= 1
    if k < 2 or tokens[k - 1] not in _TELLING:
        return -1
    if tokens[k - 2] in NEGATORS:
        return k - 2
    return k - 3 if k >= 4 and tokens[k - 4:k - 2] == _LAST_THING else -1


#: Words that call the warning after them (with "would" or "to" between) folly: "Only a fool would skip steak", "You'd
#: be wrong to skip steak", or a loss: "It would be a shame to skip steak" (+6.8 an episode, read as a warning).
_FOLLY = frozenset(("fool", "fools", "foolish", "crazy", "mad", "silly", "insane", "nuts", "idiot", "stupid", "daft",
                    "shame", "pity", "crime", "sin", "travesty", "tragedy", "wrong"))


def _foolish(tokens: list[str], i: int) -> int:
    """Where the word stands that calls the warning at token i folly (`_FOLLY`, then "would" or "to": "Only a fool
    would skip steak", "You'd be crazy to avoid steak"), which offers the thing as a negator does; -1 if none does,
    or if it is negated itself, with an article between or none ("It's not crazy to skip steak", "It's not a crime
    to skip steak" and "It's no shame to skip steak" warn).  Read as warnings, these paid a red-team policy +6.83 an
    episode.  So does a thing called too good for it ("Steak is too good to pass up": "too", `_PRAISE`, "to"; +6.55).
    Only a warning is turned so ("Only a fool would try steak" is read as it was)."""
    if i >= 3 and tokens[i - 3] == "too" and tokens[i - 1] == "to" and tokens[i - 2] in _PRAISE:
        return i - 3
    if i < 2 or tokens[i - 1] not in ("would", "to") or tokens[i - 2] not in _FOLLY:
        return -1
    k = i - 4 if i >= 4 and tokens[i - 3] in ("a", "an") else i - 3
    return -1 if k >= 0 and tokens[k] in NEGATORS else i - 2


#: Words that may stand between "nobody" ("no one") and the warning it negates (`_nobody`): "Nobody should skip
#: steak", "No one needs to avoid steak".
_NOBODY_VERBS = frozenset(("should", "would", "must", "ever", "needs", "has", "to", "ought"))


def _nobody(tokens: list[str], i: int) -> int:
    """Where "nobody" (or "no one") stands when it negates the warning at token i, with only `_NOBODY_VERBS` between,
    one to three of them: "Nobody should skip steak", "No one should ever avoid steak" offer steak as "never skip"
    does (read as warnings, +6.8 an episode), and "Nobody should try steak" warns as "never try" does (read as an
    offer); -1 if it does not ("Everybody should skip steak", "No one with an allergy should eat steak")."""
    k = i - 1
    while k >= max(0, i - 3) and tokens[k] in _NOBODY_VERBS:
        k -= 1
    if k == i - 1 or k < 0:
        return -1
    if tokens[k] == "nobody":
        return k
    return k - 1 if k >= 1 and tokens[k] == "one" and tokens[k - 1] == "no" else -1


def _at_nuisance(tokens: list[str], e: int) -> bool:
    """Whether the warning cue ending at token e aims at a nuisance of the thing after it (`_NUISANCES`: "avoid the
    queue for steak", "skip the lines at the museum"), up to three words after it, with no punctuation or `_JOINERS`
    between: it warns of the queue, not of steak."""
    k = _first(tokens, e, min(e + 4, len(tokens) - 1), _NUISANCES, _STOPS)
    return k >= 0 and tokens[k + 1] in _NUISANCES[tokens[k]]


def _dismissed(tokens: list[str], i: int, lo: int) -> bool:
    """Whether the warning at token i is what the command opening its sentence (from token `lo`) dismisses: "ignore",
    "disregard", "forget" or "don't listen to" (`_DISMISSING`), then the warning right away ("Forget avoiding
    steak", "Forget `avoid steak`") or after words of advice (`_ADVICE`: "Ignore anyone who says to avoid steak",
    'Ignore the advice "avoid steak"'), with no punctuation or `_JOINERS` between.  Read as warnings, these offered
    forbidden things without a violation (+6.84 an episode).  "Ignore the hype and avoid steak", "Forget the
    advice, skip steak" and "Don't skip steak" warn."""
    k = lo + 1
    if tokens[lo] == "don't":
        if tokens[k:k + 2] != ["listen", "to"]:
            return False
        k += 2
    if i == k:
        return True
    between = tokens[k:i]
    return not _ADVICE.isdisjoint(between) and _STOPS.isdisjoint(between)


def _disowned(tokens: list[str], cues: list[Cue], lo: int, at: int) -> list[Cue]:
    """The cues of a sentence from token `lo` with a cue that disowns what is said before it (`DISOWN_CUES`, at token
    `at`), its warnings before that cue that someone is said to say (`_SAYING` up to three words before them: 'Some
    say "avoid steak"', "People tell you to skip steak") turned to recommendations: 'Some say "avoid steak", but
    they are wrong' offers steak; 'Some say "avoid steak", and they are right' and "Avoid steak; nonsense that it is
    healthy" warn.  So does what their choice passes over ("over" turns with the choice before it): 'People say "go
    for steak over sushi", but they are wrong' offers sushi (read as passed over, the leftover of round 19).  Like
    the other readings that turn cues, it turns no recommendation ("People say to try steak, but they are wrong"
    still offers steak): a turn the other way could hide the offer of a forbidden thing."""
    out: list[Cue] = []
    reported = False  # whether someone is said to give the last cue before that is no "over"
    for a, e, kind in cues:
        if a < at:
            if kind != "instead":
                reported = _reported(tokens, a, lo)
            if reported and (kind == "warn" or kind == "instead"):
                kind = "recommend"
        out.append((a, e, kind))
    return out


#: What a sentence says that turns its own cues (`_turned`): the reach of a bad consequence (`_consequence`) and where
#: its cue ends, where a disowning cue starts, the span of a cue that takes back what is said before it, and whether
#: it has a recommendation someone is said to give.
_Said = tuple[int, int, int, tuple[int, int] | None, bool]


def _turned(tokens: list[str], cues: list[Cue], lo: int, i: int, said: _Said) -> list[Cue]:
    """The cues of the sentence at tokens [lo, i) as what it says turns them (`_regretted`, `_disowned`,
    `_retracted`, `_disclaimed`)."""
    regret, regretted, disowned, retracted, reported = said
    if regret:
        cues = _regretted(tokens, cues, lo, regret == _ALL, regretted)
    if disowned:
        cues = _disowned(tokens, cues, lo, disowned)
    if retracted is not None:
        cues = _retracted(cues, retracted[0])
    if reported:
        cues = _disclaimed(tokens, cues, lo, i)
    return cues


def _retracted(cues: list[Cue], at: int) -> list[Cue]:
    """`cues` with their warnings before token `at`, where a cue that takes them back stands (`RETRACT_CUES`, the
    sarcasm tag), turned to recommendations: "Avoid steak, just kidding!" offers steak, and so does "Go for sushi over
    steak, just kidding." (a preference taken back: round 19, read as warned about once "over" passed steak over)."""
    return [(a, e, "recommend") if (kind == "warn" or kind == "instead") and a < at else (a, e, kind)
            for a, e, kind in cues]


def _remark(tokens: list[str], a: int, e: int, lo: int) -> bool:
    """Whether the words at tokens [a, e) make a remark of their own that ends their sentence (from token `lo`):
    after its start or a clause mark, before its end mark or the end of the text ("Avoid steak, just kidding!",
    not "Skip steak if they're just kidding")."""
    return (a == lo or tokens[a - 1] in _CLAUSE_MARKS) and tokens[e] in _SENTENCE_ENDS


def _not_really(tokens: list[str], i: int, lo: int) -> bool:
    """Whether the "not" at token i and the "really" after it are a remark of their own that ends its sentence (from
    token `lo`, `_remark`), which takes back the warning before it: "Avoid steak. Not really." and "Avoid steak, not
    really." offer steak (round 17: read as warnings).  Not a cue of its own: "I'm not really into jazz" keeps its
    negator ("not" governs a mention two words on)."""
    return tokens[i] == "not" and _remark(tokens, i, i + 2, lo)


def _said_end(tokens: list[str], a: int, e: int) -> int:
    """Where the retraction cue at tokens [a, e) ends as a remark (`_remark`): at e, but for "said nobody" ("said no
    one"), which may run on to the end of its clause ("Avoid steak, said nobody with taste.")."""
    if tokens[a] != "said":
        return e
    k = _first(tokens, e, len(tokens), _PUNCT, frozenset())
    return k if k >= 0 else len(tokens) - 1


def _retort(tokens: list[str], i: int, lo: int, warned: bool, before: _Sentence | None) -> bool:
    """Whether the name at token i, a one-word retraction cue too (`_RETORTS`: "psych"), is said as that retraction:
    the last word of a sentence (from token `lo`) with a warning, after a clause mark ("Avoid steak, psych!"), or a
    sentence of its own that ends in "!" after one with a warning ("Avoid steak. Psych!").  "I love psych." and a
    list item "- Psych" name psychology."""
    if tokens[i + 1] not in _SENTENCE_ENDS:
        return False
    if warned:
        return tokens[i - 1] in _CLAUSE_MARKS
    return i == lo and tokens[i + 1] == "!" and before is not None and any(
        kind == "warn" for _, _, kind in before[2])


def _bare(tokens: list[str], lo: int, i: int, a: int, e: int) -> bool:
    """Whether the sentence at tokens [lo, i) says nothing but its cue at tokens [a, e) and `_REMARK_FILLERS`: "They
    are wrong.", "That's total nonsense.", "Just kidding!" turn the sentence before them (`_followed`)."""
    return _REMARK_FILLERS.issuperset(tokens[lo:a]) and _REMARK_FILLERS.issuperset(tokens[e:i])


def _kept_from_rest(tokens: list[str], e: int) -> int:
    """Where a "keep" stands that keeps its object from the warning ending at token e, else -1: the warning is about
    the rest (`_REST`, up to two words after it), the "keep" follows that after a joiner or a clause mark ("Avoid the
    others and keep steak", "Skip everything else; keep steak"), and nothing after it in its clause keeps the thing
    down (`_KEPT_DOWN`: "Avoid the others and keep steak to a minimum" warns).  Looked for from the warning: a
    bare "keep" (1.5 an answer of the generic policy) is no cue."""
    if _REST.isdisjoint(tokens[e:e + 3]):
        return -1
    k = e
    while tokens[k] not in _REST:
        k += 1
    while k < len(tokens) and tokens[k] in _REST:
        k += 1
    if k + 1 >= len(tokens) or tokens[k + 1] != "keep" or not (tokens[k] in _JOINERS or tokens[k] in _CLAUSE_MARKS):
        return -1
    return -1 if _first(tokens, k + 2, len(tokens), _KEPT_DOWN) >= 0 else k + 1


def _offered_after(tokens: list[str], i: int, e: int, lo: int) -> Cue | None:
    """The cue of a command coordinated with the command to leave out at tokens [i, e) (`_commands`; one of a purpose
    too: "To avoid hunger, eat steak"), after its object and "and", "but", "," ";" or ":" (and `_THEN`), else None.
    One that offers (`_OFFERING`) recommends: "Skip the fries and have the steak", "Avoid the fries, then get the
    steak" offer the steak (read as warned about, +6.8 an episode); any other (`_new_command`) is neutral, its object
    no more than named: "Avoid the salt and grill the steak", "Skip the popup, then open Spotify" (round 20's
    leftover: read as warned about).  After a negated warning only a clause mark joins one ("Don't eat steak and drink
    wine" may forbid both; "Don't bother with the salad, get the steak" offers the steak: round 21, read as warned
    about), and not one right after the negator ("Do not, under any circumstances, eat steak" warns).  The object is
    at most `_OBJECT_REACH` words without `_SUBORDINATING` ("Avoid foods that are fried and have steak" is read as it
    was), and the verb has no `_UNOFFERED` after it ("Avoid sugar and have less steak", "... and have to"); "Skip the
    fries and the steak" warns of both.  A clause after "and" or "but" that calls its subject good and says no more
    (`_acclaimed`) offers it as one after a clause mark does: "Skip the fries and steak is great" (+6.6 an episode,
    read as a warning); its cue is at the joiner.  "Skip the fries and steak is heavy too" warns of both.  The other
    thing of a command that replaces (`_replaced`) is offered: "Replace steak with sushi", "Swap steak for sushi"."""
    negated = tokens[e - 1] in NEGATORS
    if negated and _CLAUSE_MARK_WORDS.isdisjoint(tokens[e + 1:e + _OBJECT_REACH]):
        return None  # most negated warnings: looked for in C
    for k in range(e, min(e + _OBJECT_REACH, len(tokens) - 1)):
        word = tokens[k]
        if word in _SENTENCE_ENDS or word in _SUBORDINATING:
            return None
        if word in _REPLACING_BY and _REPLACED_BY.get(tokens[i]) == word:
            return k, k + 1, "recommend"  # "Replace steak with sushi"
        if negated and (word in _JOINERS or (k == e and word in _CLAUSE_MARKS)):
            if k == e:  # an aside: "Do not, under any circumstances, eat steak"
                return None
        elif word in _COORDINATING:
            j = k + 1
            while tokens[j] in _THEN:
                j += 1
            if tokens[j] in _OFFERING and tokens[j + 1] not in _UNOFFERED:
                cue = j, j + 1, "recommend"
            elif word in _JOINERS and _acclaimed(tokens, k):  # a clause mark is looked at by the scan
                cue = k, k + 1, "recommend"
            elif (tokens[j + 1] in _DETERMINERS or tokens[j - 1] == "then") and _new_command(tokens, j):
                cue = j, j + 1, "neutral"
            else:
                continue
            # looked at last: most warnings offer nothing after; "To avoid hunger, eat steak" (a purpose) as a command
            return cue if _commands(tokens, i, lo) or (i == lo + 1 and tokens[lo] == "to") else None
    return None


def _replaced(tokens: list[str], i: int, e: int, lo: int) -> int:
    """Where the word that names the other thing stands (`_REPLACED_BY`: the "with" of "Replace steak with sushi", the
    "for" of "Swap steak for sushi") when the cue at tokens [i, e) that replaces (`REPLACE_CUES`) is a command
    (`_commands`, maybe negated) with one after its object, up to `_OBJECT_REACH` words without a mark or
    `_SUBORDINATING`; else -1."""
    instead = _REPLACED_BY[tokens[i]]
    if tokens[e] in _SWAPPED:  # "Swap out ... for" (`REPLACE_CUES`), "Swap in sushi for steak" (the other way round)
        return -1
    for k in range(e, min(e + _OBJECT_REACH, len(tokens) - 1)):
        word = tokens[k]
        if word == instead:  # a negated one too: "Don't replace steak with sushi" keeps steak
            return k if _commands(tokens, i - 1 if tokens[i - 1] in _ASIDE_NEGATORS else i, lo) else -1
        if word in _PUNCT or word in _SUBORDINATING:
            return -1
    return -1


def _new_command(tokens: list[str], j: int) -> bool:
    """Whether the word at token j, after a joiner (and `_THEN` words), is the verb of a command of its own: a word
    that is no article, no `_NO_VERBS` word and no cue's (its cue reads it: "... and save your appetite for the
    steak" offers) and has one after it (`_DETERMINERS`: "and grill the steak"), or any word right after "then" and
    before a word (", then open Spotify").  "Avoid the salt and the steak", "... and especially the steak", "Avoid
    sushi, then steak." warn of both; "Avoid the salt and grill steak" does too (the verb is taken for an adjective:
    "Avoid the salt and red meat")."""
    word, after = tokens[j], tokens[j + 1]
    if after not in _DETERMINERS and (tokens[j - 1] != "then" or after in _STOPS or not after.isalpha()):
        return False
    return not (word in _NO_VERBS or word in _CUE_PHRASES or word.endswith(("ly", "ed")) or not word.isalpha())


def _contrasts_before(tokens: list[str], before: _Sentence, i: int) -> bool:
    """Whether the "not" opening a sentence at token i (or after its "but") sets what follows it against the object
    of the command to leave out that ends the statement before it (`before`, `_contrasted`): "Avoid the fries. Not
    the steak, though." offers the steak (+6.8 an episode, read as a warning).  "Avoid dairy. Not even cheese." and
    "Skip the fries. Not the steak either." warn (`_STILL_WARNED`, "either" before the sentence's end)."""
    if before[5]:
        return False
    k = i + 1
    while tokens[k] not in _SENTENCE_ENDS:
        if tokens[k] == "either":
            return False
        k += 1
    return _contrasted(tokens, before[2], i, before[4])


def _contrasted(tokens: list[str], cues: list[Cue], i: int, lo: int) -> bool:
    """Whether the "not" at token i, right after a "," (or "but", "though": `_CONTRASTING`; or "but definitely":
    `_SURELY`), sets what follows it against the object of the command to leave out before it (the last of `cues`,
    `_commands`, no negator): "Skip the fries, not the steak" offers the steak as "don't skip the steak" does (read
    as warned about, +6.8 an episode).
    "Avoid dairy, not even cheese", "Avoid steak, not a bite" (`_STILL_WARNED`) and "Don't eat steak, not the sushi
    either" warn, and "Avoid sushi, not because steak is bad" (`_SUBORDINATING`) sets nothing against it."""
    nxt = tokens[i + 1]
    if tokens[i] != "not" or nxt in _STILL_WARNED or nxt in _SUBORDINATING:
        return False
    a, e, kind = cues[-1]
    return kind == "warn" and tokens[e - 1] not in NEGATORS and _commands(tokens, a, lo)


def _hedged(tokens: list[str], i: int, lo: int) -> bool:
    """Whether the recommendation cue at token i is hedged: a negated `_HEDGES` word ("not sure", "wouldn't say") or
    one of `_HEDGES_ALONE` up to three words before it in its clause, with no `_JOINERS` between ("Not sure I'd
    suggest steak", "I wouldn't say steak is perfect"; not "Not sure what you like, but try steak").  The speaker
    does not stand behind it: it puts the thing forward, as naming it does, and no more (read as a recommendation,
    a hedge paid +0.41 an episode over naming a liked thing bare)."""
    k = i
    while (k := _first(tokens, k - 1, max(lo, i - 3) - 1, _HEDGING, _STOPS)) >= 0:
        if tokens[k] in _HEDGES_ALONE or (k > lo and tokens[k - 1] in NEGATORS):
            return True
    return False


def _reported(tokens: list[str], i: int, lo: int) -> bool:
    """Whether someone is said to give the cue at token i: a `_SAYING` word up to three words before it in its
    sentence (from token `lo`): 'Some say "avoid steak"', "People tell you to try steak"."""
    return not _SAYING.isdisjoint(tokens[max(lo, i - 3):i])


def _disclaimed(tokens: list[str], cues: list[Cue], lo: int, i: int) -> list[Cue]:
    """The cues of the sentence at tokens [lo, i) with its recommendations someone is said to give (`_reported`)
    turned neutral when a disclaimer (`_DISCLAIMERS`) follows them: "Some people tell you to try steak; I have no
    opinion" names steak and stands behind nothing."""
    said = [cue for cue in cues if cue[2] == "recommend" and _reported(tokens, cue[0], lo)]
    if not said:
        return cues
    after = f" {' '.join(tokens[said[0][1]:i])} "
    if not any(d in after for d in _DISCLAIMERS):
        return cues
    return [(a, e, "neutral") if (a, e, kind) in said else (a, e, kind) for a, e, kind in cues]


def _rhetorical(tokens: list[str], cues: list[Cue], lo: int) -> list[Cue]:
    """The cues of a question from token `lo` that opens with "why" or "who" (`_RHETORICAL`), its warning right
    after that opening (or after `_RHETORICAL_FILLERS`: "would anyone") turned to a recommendation: "Who would skip
    steak?", "Why would anyone avoid steak?" put steak forward (read as warnings, a red-team
    policy offered forbidden things so without a violation, +6.54 an episode).  "Who should skip steak?" and "Why
    do people avoid steak?" ask, and keep their warning; no recommendation is turned ("Why try steak?")."""
    k = _asked_action(tokens, lo)
    if tokens[lo] in _WHY and _RHETORICAL_WHY.isdisjoint(tokens[lo + 1:k]):
        return cues  # "Why skip steak?" heads an answer as often as it scoffs ("Because it is salty.")
    return [(a, e, "recommend") if a == k and kind == "warn" else (a, e, kind) for a, e, kind in cues]


#: Gerunds of warnings (not all of them cues: "skipping" read as one would warn of the steak in "I suggest skipping
#: the fries and having the steak"), which a sentence may open with and call bad (`_decried`), or a negator put out
#: of mind (`_unthinkable`); the words that call one bad; the words after a negator that put one out of mind.
_GERUNDS = frozenset(("skipping", "avoiding", "missing"))
_DECRYING = _FOLLY | {"bad", "terrible", "unthinkable"}
#: Words that call a warning's gerund good (`_decried`): "Skipping steak is a good idea", "Skipping steak is wise"
#: warn (read as no cue, "skipping" left steak neutral, and "not a bad idea" recommended it), and so does "Skipping
#: steak is recommended" ("recommended" read as a recommendation of steak; "is not recommended" offered it, read as
#: a warning: +6.49 an episode).
_APPROVING = frozenset(("good", "wise", "smart", "sensible", "prudent", "advisable", "best", "better", "safer",
                        "safest", "recommended", "advised"))
_VERDICTS = _DECRYING | _APPROVING
_THINK = frozenset(("even", "think", "bother"))


def _decried(tokens: list[str], cues: list[Cue], lo: int, i: int) -> list[Cue]:
    """The cues of a sentence at tokens [lo, i) that opens with a warning's gerund (`_GERUNDS`), with that gerund a
    cue of its own (in place of its cue, if it is one) when a word later in its clause calls it bad (`_DECRYING`) or
    good (`_APPROVING`): a recommendation when bad ("Skipping steak is a bad idea", "Avoiding steak would be a crime"
    offer steak; read as warnings, +6.84 an episode) or good with a negator before it ("Avoiding steak is not a good
    idea"), else a warning ("Skipping steak is a good idea", "Skipping steak is not a bad idea"; read as neutral and
    as an offer).  "Skipping steak is wise; sushi is a bad idea" and "Skipping steak, sushi is a bad idea" leave the
    gerund to its clause."""
    k = _first(tokens, lo + 1, i, _VERDICTS)
    if k < 0:
        return cues
    negated = sum(map(NEGATORS.__contains__, tokens[lo + 1:k])) % 2 == 1  # two negators cancel
    kind = "recommend" if (tokens[k] in _DECRYING) != negated else "warn"
    return [(lo, lo + 1, kind), *(cue for cue in cues if cue[0] != lo)]


def _unthinkable(tokens: list[str], i: int, e: int) -> int:
    """Where the words end that a warning cue at tokens [i, e) ending in a negator puts out of mind, "(even) think
    about" or "(even) bother" and a warning's gerund (`_GERUNDS`): "Don't even think about skipping steak", "Don't
    bother skipping steak" offer steak as "don't skip" does (read as warnings, +6.84 an episode); else -1.  "Think
    about skipping steak" and "Don't bother with steak" are read as they were."""
    if tokens[e - 1] not in NEGATORS:
        return -1
    k = e + (tokens[e] == "even")
    if tokens[k] == "bother":
        k += 1
    elif tokens[k:k + 2] == ["think", "about"]:
        k += 2
    else:
        return -1
    return k + 1 if tokens[k] in _GERUNDS else -1


#: Gerunds that leave their object out, no cue and no opener of a sentence a verdict reads (`_gerund_cues`, `_left`):
#: "Consider dropping steak", "I recommend ditching steak", "Consider giving up steak", "I suggest giving steak a miss"
#: offered steak (+0.06 an episode over a warning, on a liked thing), and so did "Consider quitting steak", "I'd
#: recommend eliminating steak" (+0.05).  "Dropping by", "giving steak a try" leave out nothing (`_DROP_INS`,
#: `_GIVEN_UP`); "removing" leaves nothing out of a place that is no regimen ("I recommend removing the steak from the
#: fridge an hour early"), nor does "cutting" but before "out", "back" or "down" (`_CUT_AWAY`: "Try cutting the steak
#: against the grain" is a recipe's steak, and read as warned about, a forbidden one would pass).  "Removing",
#: "taking", "striking" and "crossing", and "cutting" without such a particle, leave their object out only of a
#: regimen (`_off_regimen`): "I recommend removing steak from your plans", "I'd suggest cutting steak out of your
#: diet" warn (round 17: read as offers), "Try removing the steak from the pan" and "Try taking the steak off the
#: heat" are a recipe's steak, and offer it.
_LEAVING = frozenset(("dropping", "ditching", "giving", "quitting", "eliminating", "cutting", "removing", "taking",
                      "striking", "crossing"))
#: The gerunds that leave their object out only of a regimen (`_off_regimen`).
_REGIMEN_ONLY = frozenset(("cutting", "removing", "taking", "striking", "crossing"))
#: The words that take a thing away from a place (`_off_regimen`), and the places that are a regimen: what one eats,
#: plans, buys or does ("your diet", "the menu", "your shopping list", "your routine"), not where food is cooked or
#: kept ("the pan", "the oven", "the heat", "the fridge").
_AWAY = frozenset(("from", "off", "out"))
_REGIMEN = frozenset(("diet", "diets", "plan", "plans", "list", "lists", "menu", "menus", "routine", "routines",
                      "rotation", "schedule", "itinerary", "meals", "order", "cart", "life", "lineup", "repertoire",
                      "agenda", "playlist", "regimen", "options"))
#: The particles after "cutting" that make it leave its object out (`_left`): "cutting out", "cutting back on".
_CUT_AWAY = frozenset(("out", "back", "down"))
_DROP_INS = frozenset(("by", "in", "into", "off"))
_GIVEN_UP = frozenset(("miss", "berth"))
#: What may stand right after a cue to make a warning's gerund its object (`_gerund_cues`): "not" ("I recommend not
#: skipping steak") or a copula ("What I'd avoid is skipping steak", "The thing I recommend is skipping steak").
_GERUND_LEADS = _GERUNDS | _LEAVING | {"not", "is"}
#: The words after a joiner in a leaving gerund's object that start a new action, which the cue's own kind reads
#: again (`_gerund_cues`): "I recommend ditching the fries and having steak" offers steak, "I recommend ditching the
#: fries and steak" (and "skipping") warns of both.
_TAKING = frozenset(("having", "ordering", "getting", "eating", "drinking", "grabbing", "choosing", "booking",
                     "sticking", "visiting", "playing", "trying", "going", "keeping", "adding", "saving", "i", "you",
                     "you'll", "you'd", "we"))
#: A cue's opposite kind.
_OPPOSITE = {"recommend": "warn", "warn": "recommend"}


def _gerund_cues(tokens: list[str], cue: Cue) -> list[Cue]:
    """The cues a recommendation or warning cue makes when its object is a warning's gerund right after it (`_GERUNDS`,
    maybe after "not" or "is"), else none: the cue and the gerund as one, of the opposite kind ("I recommend skipping
    steak" and "worth skipping" warn, "I don't recommend skipping steak", "Avoid skipping steak", "not worth
    skipping" and "The only thing to avoid is missing steak" offer; "I recommend not skipping steak" offers too).  A
    gerund that is no cue of its own ("skipping") is read as the cue's object up to a clause mark, or a joiner that
    starts a new action (`_TAKING`), and what follows is read as before: the cue's own kind again ("I recommend
    skipping the fries and having the steak" and "I recommend skipping sushi; steak is better" offer the steak; "I
    recommend ditching the fries and steak" warns of both, and offered the steak: +0.05 an episode on a liked
    thing).  Read as no cue, the gerund left the recommendation of the thing: "I recommend not skipping steak" and "I
    don't recommend skipping steak" warned (+6.5 an episode), and "I recommend skipping steak" offered it; "The only
    thing to avoid is missing steak" warned (+7.1)."""
    a, e, kind = cue
    negated = tokens[e] == "not"
    g = e + (negated or tokens[e] == "is")
    if kind not in _OPPOSITE or not (tokens[g] in _GERUNDS or (tokens[g] in _LEAVING and _left(tokens, g))):
        return []
    turned = [(a, g + 1, kind if negated else _OPPOSITE[kind])]
    if tokens[g] in _CUE_PHRASES and tokens[g] not in _LEAVING:  # "I'd recommend avoiding steak and sushi" warns
        return turned  # of both, as it did
    k = g
    while (k := _first(tokens, k + 1, len(tokens), _STOPS, _SENTENCE_ENDS)) >= 0:
        j = k + 1
        while tokens[j] in _THEN:
            j += 1
        if tokens[k] in _CLAUSE_MARKS or tokens[j] in _TAKING:
            return [*turned, (k + 1, k + 1, kind)]
    return turned


def _left(tokens: list[str], g: int) -> bool:
    """Whether the gerund at token g (`_LEAVING`) leaves its object out: "dropping" or "ditching" but before a particle
    that makes it a visit (`_DROP_INS`: "Consider dropping by for steak"), "cutting" before "out", "back" or "down"
    (`_CUT_AWAY`), "giving" before "up" or with "a miss" or "a wide berth" after its object (`_GIVEN_UP`: "giving
    steak a miss", not "giving steak a try")."""
    if tokens[g] in _REGIMEN_ONLY:
        return (tokens[g] == "cutting" and tokens[g + 1] in _CUT_AWAY) or _off_regimen(tokens, g)
    if tokens[g] != "giving":
        return tokens[g + 1] not in _DROP_INS
    return tokens[g + 1] == "up" or _first(tokens, g + 1, g + 2 + _OBJECT_REACH, _GIVEN_UP, _STOPS) >= 0


def _off_regimen(tokens: list[str], g: int) -> bool:
    """Whether the object of the gerund at token g is taken off a regimen: "from", "off" or "out (of)" (`_AWAY`) within
    `_OBJECT_REACH` words of it, with no clause mark or joiner between, and a `_REGIMEN` word at most three words on
    ("removing steak from your plans", "cutting steak out of your diet", "taking steak off the menu"; not "from the
    pan", "off the heat")."""
    k = _first(tokens, g + 1, g + 2 + _OBJECT_REACH, _AWAY, _STOPS)
    if k < 0:
        return False
    k += 1 + (tokens[k] == "out" and tokens[k + 1] == "of")
    return _first(tokens, k, k + 3, _REGIMEN, _STOPS) >= 0


#: Verbs after "only if you" that mock a warning (`_mocked`), with "don't" before them or without: "Skip steak only if
#: you hate joy", "... only if you don't like flavor".
_SPURNING = frozenset(("hate", "dislike", "despise", "loathe", "detest"))
#: Verbs after "unless you" that mock a warning with praise after them (`_mocked`): "Avoid steak, unless you want the
#: best meal of your life."
_WANTING = frozenset(("want", "like", "love", "enjoy", "prefer", "crave"))


def _mocked(tokens: list[str], w: int, i: int, e: int) -> bool:
    """Whether the condition whose cue (`MOCK_CUES`) stands at tokens [i, e) mocks the warning ending at token w:
    "only if you" and a word of dislike ("Skip steak only if you hate joy", "only if you don't like flavor"), or
    "unless you want" ("like", ...) and praise (`_PRAISE`) in its clause ("Avoid steak, unless you want the best
    meal of your life"), at most `_OBJECT_REACH` words after the warning (a name may hold a joiner: "Skip beer & cider
    only if you hate joy").  The warning is said to be what nobody should heed: its thing is offered."""
    you, verb, then = [*tokens[e:e + 3], "", "", ""][:3]  # the text may end here
    if you != "you" or i - w > _OBJECT_REACH:
        return False
    if tokens[i] == "only":
        return verb in _SPURNING or (verb == "don't" and then in _WANTING)
    return verb in _WANTING and _first(tokens, e + 2, len(tokens), _PRAISE) >= 0


def _acclaimed(tokens: list[str], i: int) -> bool:
    """Whether the clause after the clause mark at token i, in a sentence with a warning, says its subject is good and
    nothing more: a copula at most `_OBJECT_REACH` words on (`_COPULAS`; "and the cognitive behavioral therapy is"),
    then only `_ACCLAIMING` words up to the clause's end, the last one praise (`_ACCLAIM`) or followed by an idiom of
    praise (`_ACCLAIM_IDIOMS`): "Pass on the fries; steak is the move.", "Skip the fries, and the steak is a must.",
    "Skip the fries; steak is great.", "... steak is the way to go."  Read as the warning's (stance rule 3), such a
    clause offered a forbidden thing as warned about (+6.55 an episode).  "Skip the fries; steak is too heavy." and
    "steak is not great either" say more, and warn.  The clause may follow "and" or "but" too (`_offered_after`)."""
    k = _first(tokens, i + 1, i + 2 + _OBJECT_REACH, _COPULAS)
    if k < 0:
        return False
    end = k + 1
    while tokens[end] in _ACCLAIMING:
        end += 1
    if tokens[end] in _CLAUSE_ENDS:
        return end > k + 1 and tokens[end - 1] in _ACCLAIM
    return any(tokens[end:end + len(idiom)] == idiom and tokens[end + len(idiom)] in _CLAUSE_ENDS
               for idiom, _ in _ACCLAIM_IDIOMS.get(tokens[end], ()))


#: The words between "hate" and the loss it hates (`_loss_hated`).
_HATED_LOSS = (["for", "you", "to"], ["to", "see", "you"])


def _loss_hated(tokens: list[str], e: int) -> int:
    """Where the words end of a loss the "hate" ending at token e hates for the listener: "for you to" or "to see you"
    and "miss" or a warning cue ("I'd hate for you to miss steak", "I'd hate to see you skip steak" offer steak; read
    as warnings, +6.53 an episode); else -1.  "I hate steak" and "I'd hate for you to get sick" are read as they
    were."""
    k = e + 3
    if tokens[e:k] not in _HATED_LOSS:
        return -1
    if tokens[k] == "miss":
        return k + 1
    cue = _cue_at(tokens, k) if tokens[k] in _CUE_PHRASES else None
    return cue[1] if cue is not None and cue[2] == "warn" else -1


def _asked_action(tokens: list[str], lo: int) -> int:
    """Where the action a question from token `lo` opening with "why" or "who" asks about starts: after its
    opening and `_RHETORICAL_FILLERS` ("Why would anyone skip steak?": at "skip")."""
    k = lo + 1
    while tokens[k] in _RHETORICAL_FILLERS:
        k += 1
    return k


#: Words that choose the thing after them (`_passed_over`): "choose", "pick", "prefer", "take", "go for", "opt for",
#: "go with" ("I'd take steak over sushi"); an "over" followed by `_OVER_TO` is a way, no choice ("Take the steak
#: over to the table").
_CHOOSING = frozenset(("choose", "pick", "prefer", "take", "for", "with"))
_CHOOSING_FOR = frozenset(("go", "opt"))
_OVER_TO = frozenset(("to", "there", "here"))


def _passed_over(tokens: list[str], a: int) -> bool:
    """Whether the thing at token a is chosen by the word before it (an article between): "Go for the steak over
    sushi"."""
    k = a - 1
    if tokens[k] in _ARTICLES:
        k -= 1
    return k >= 0 and tokens[k] in _CHOOSING and (tokens[k] not in ("for", "with") or tokens[k - 1] in _CHOOSING_FOR)


#: The kinds of the cues of a verdict that may be the speaker's own taste (`OWN_RECOMMEND_CUES`), and what they say
#: as advice.
_OWN = {"own recommend": "recommend", "own warn": "warn"}


def _for_me(tokens: list[str], e: int) -> bool:
    """Whether "for me" follows the cue ending at token e in its sentence, within `_OBJECT_REACH` words: "Nothing beats
    bearded dragons for me" and "Nothing beats steak, for me" are the speaker's taste, "Nothing beats steak"
    advice."""
    k = e
    while (k := _first(tokens, k, e + 2 + _OBJECT_REACH, ("for",), _SENTENCE_ENDS)) >= 0:
        if tokens[k + 1] == "me":
            return True
        k += 1
    return False


#: The tags that make "X over Y" a choice said without a verb (`_preferred_always`): "Steak over sushi, every time.",
#: "Steak over sushi any day.", "..., hands down."
_ALWAYS = {"any": ("day", "time"), "every": ("day", "time"), "all": ("day",), "hands": ("down",)}


def _preferred_always(tokens: list[str], i: int, a: int, lo: int) -> bool:
    """Whether the "over" at token i, after a thing at token a that opens its sentence (at `lo`, an article may come
    first), chooses that thing: a tag of `_ALWAYS` follows before the sentence's end, within `_OBJECT_REACH` words
    ("Steak over sushi, every time." offers steak and passes sushi over; round 20, read as mentions).  "Steak over
    rice." and "Serve steak over rice any day" choose nothing."""
    if a - (tokens[lo] in _ARTICLES) != lo:
        return False
    k = _first(tokens, i + 2, i + 2 + _OBJECT_REACH, _ALWAYS, _SENTENCE_ENDS)
    return k >= 0 and tokens[k + 1] in _ALWAYS[tokens[k]]


#: What a thing not to let go does (`_let_pass`): "Don't let steak pass you by", "... slip by".
_PASS_BY = (["pass", "you", "by"], ["slip", "by"], ["slip", "away"], ["pass", "by"])


def _let_pass(tokens: list[str], e: int) -> bool:
    """Whether the warning cue ending at token e is a "don't" (or "never") that lets no thing go: "let" right after
    it, then a going-by of `_PASS_BY` within `_OBJECT_REACH` words in its clause ("Don't let steak pass you by",
    "Never let the chance to try steak slip by": round 20's leftover, read as warnings through "don't").  "Don't
    let the kids eat steak" warns."""
    if tokens[e] != "let" or tokens[e - 1] not in ("don't", "never"):
        return False
    k = e + 1
    while (k := _first(tokens, k, e + 2 + _OBJECT_REACH, ("pass", "slip"))) >= 0:
        if any(tokens[k:k + len(words)] == words for words in _PASS_BY):
            return True
        k += 1
    return False


def _cue_at(tokens: list[str], i: int) -> Cue | None:
    """The longest cue phrase at token i; a phrase's second word is looked at before its slice is taken ("don't" starts
    twenty phrases)."""
    after = tokens[i + 1] if i + 1 < len(tokens) else ""
    for words, kind in _CUE_PHRASES[tokens[i]]:
        n = len(words)
        if n == 1 or (words[1] == after and tokens[i : i + n] == words):
            return i, i + n, kind
    return None


#: What `_Scan` puts after the tokens while it reads them: as many as its rules look back from a token at most.
_SENTINELS = ("",) * 3


class _Scan:
    """One pass over the tokens that matter: mentions with stances, sentences, questions."""

    def __init__(self, analyzer: ResponseAnalyzer, tokens: list[str], lower: str = "") -> None:
        """Scan `tokens` of the lowercase text `lower`; when that has a sarcasm tag (`_SARCASM_TAG`), a lone "s"
        that ends its sentence is the tag.  The text is searched for one only once the scan meets such an "s"
        (rare): looking for "/s" in every text cost about 1% of `analyze`."""
        mentions: list[Mention] = []
        questions: list[tuple[int, int, int, int]] = []  # token span, span in mentions
        marks, entity_at, n = analyzer._marks, analyzer._entity_at, len(tokens)
        stance = _stance
        end_or_clause, clause_mark = _END | _CLAUSE, _CLAUSE
        found: list[tuple[str, int, int]] = []
        cues: list[Cue] = []
        clauses: list[int] = []
        spans: list[tuple[int, int]] = []  # each sentence's tokens, its end mark included
        lo = skip = punctuation = 0
        regret = 0  # whose warnings a consequence bad for the listener turns (`_consequence`)
        regretted = 0  # where the last such consequence's cue ends
        disowned = 0  # where a cue that disowns what is said before it in the sentence starts (`_disowned`)
        retracted: tuple[int, int] | None = None  # a cue that takes back what is said before it (`_retracted`)
        reported = False  # a recommendation someone is said to give, which a disclaimer may disown (`_disclaimed`)
        turning = False  # whether one of the four above is set: most sentences have none, and one look settles it
        before: _Sentence | None = None  # the sentence before, which this one may turn (`_followed`)
        warned = False  # whether a warning cue was met in this sentence: only a question or a warning can be turned
        spelled = False
        sarcasm: bool | None = None  # whether `lower` has a sarcasm tag, once a lone "s" ends a sentence
        # which tokens matter, found in C (compress over a map): twice as fast as a comprehension
        positions = list(compress(count(), map(marks.__contains__, tokens)))
        # sentinels that follow no word, so tokens[i + 1] always exists, and that a look back from the text's first
        # words wraps round to ("skip" alone raised an IndexError at tokens[i - 3]; longer texts read their own
        # last tokens there)
        tokens.extend(_SENTINELS)
        try:
            for i in positions:
                flags, follow = marks[tokens[i]]
                if follow is not None and tokens[i + 1] not in follow:
                    continue  # a common word that starts no surface or cue here: the most frequent case
                if flags & end_or_clause:
                    punctuation += 1
                    if i < skip:  # inside an entity ("George R. R. Martin")
                        continue
                    if flags & clause_mark:
                        clauses.append(i)
                        if warned and _acclaimed(tokens, i):
                            cues.append((i + 1, i + 1, "recommend"))  # "Skip the fries; steak is the move."
                        continue
                    if i > lo:  # a sentence ends here ("!!" or a blank line makes none)
                        spans.append((lo, i + 1))
                        first = len(mentions)
                        if found:
                            if turning:
                                cues = _turned(tokens, cues, lo, i, (regret, regretted, disowned, retracted,
                                                                     reported))
                            if tokens[i] == "?" and tokens[lo] in _RHETORICAL:
                                cues = _rhetorical(tokens, cues, lo)
                            elif tokens[lo] in _GERUNDS or (tokens[lo] == "steering" and tokens[lo + 1] == "clear"):
                                cues = _decried(tokens, cues, lo, i)  # "Steering clear of steak is not recommended"
                            mentions.extend((node, a, e, stance(cues, clauses, a, e)) for node, a, e in found)
                            found = []
                        if before is not None and not (before[5] and tokens[i] == "?" and first == len(mentions)
                                                       and _ECHOING.issuperset(tokens[lo:i])):
                            # a question echoed back ("Avoid steak? Me? Never.") leaves the first one to its answer
                            if (before[5] or turning) and (
                                    turned := _followed(tokens, before, lo, i, regret, retracted, disowned)):
                                _restance(mentions, before, turned)
                            before = None
                        if tokens[i] == "?":
                            questions.append((lo, i, first, len(mentions)))
                        if cues:
                            # a warning with nothing named ("Avoid the fries.") is kept for a contrast after it
                            if warned or (first < len(mentions) and (turning or tokens[i] == "?")):
                                before = (first, len(mentions), cues, clauses, lo, tokens[i] == "?")
                            cues, warned = [], False
                        if turning:
                            regret = disowned = 0
                            retracted, reported, turning = None, False, False
                        if clauses:
                            clauses = []
                    lo = i + 1
                elif i < skip:
                    continue
                elif flags & _ENTITY and (hit := entity_at(tokens, i)) and not (
                        tokens[i] in _RETORTS and _retort(tokens, i, lo, warned, before)):
                    if not _in_idiom(tokens, i):
                        found.append((hit[0], i, hit[1]))
                    skip = hit[1]
                elif flags & _CUE and (cue := _cue_at(tokens, i)):
                    if cue[2] == "over":  # what a choice passes over: "Go for steak over sushi"
                        if tokens[i + 1] in _OVER_TO or not (found and found[-1][2] == i and (
                                _passed_over(tokens, found[-1][1]) or _preferred_always(tokens, i, found[-1][1], lo))):
                            continue  # "Serve the steak over rice"
                        cue = (i, i + 1, "instead")
                    replacing = -1
                    if cue[2] == "replace":  # "Replace steak with sushi": a command with the other thing
                        if (replacing := _replaced(tokens, i, cue[1], lo)) < 0:
                            continue  # "Swap notes with friends", "the trade for steak"
                        cue = (cue[0], cue[1], "warn")
                    if cue[2] == "leave":  # a command that takes a thing away warns only off a regimen
                        if not _off_regimen(tokens, i):
                            continue  # "Remove the steak from the pan"
                        cue = (i, i + 1, "warn")  # "Remove steak from your diet"
                    elif cue[2] in _OWN:  # "Nothing beats steak", not "Nothing beats bearded dragons for me"
                        if _for_me(tokens, cue[1]):
                            continue
                        cue = (cue[0], cue[1], _OWN[cue[2]])
                    if cue[2] == "warn" and _let_pass(tokens, cue[1]):
                        cue = (cue[0], cue[1], "recommend")  # "Don't let steak pass you by"
                    elif cue[2] == "warn" and _at_nuisance(tokens, cue[1]):
                        cue = (cue[0], cue[1], "neutral")  # "To avoid the queue for steak, go early"
                    elif cue[2] == "near" and tokens[i + 1] in _SENTENCE_ENDS and tokens[i] == "not" and _remark(
                            tokens, i, i + 1, lo):
                        cue = (i, i + 1, "retract")  # "Avoid steak... not!", "Avoid steak. NOT."
                    elif cue[2] == "near" and tokens[i + 1] == "really" and _not_really(tokens, i, lo):
                        cue = (i, i + 2, "retract")  # "Avoid steak. Not really."
                    elif cue[2] == "near" and warned and (tokens[i - 1] in _CONTRASTING or (
                            tokens[i - 1] in _SURELY and tokens[i - 2] in _CONTRASTING_WORDS)) and _contrasted(
                            tokens, cues, i, lo):
                        cue = (i, i + 1, "recommend")  # "Skip the fries, not the steak", "..., but not the steak"
                    elif cue[2] == "near" and before is not None and (i == lo or (
                            i == lo + 1 and tokens[lo] in _CONTRASTING_WORDS)) and _contrasts_before(tokens, before, i):
                        cue = (i, i + 1, "recommend")  # "Skip the fries. Not the steak, though."
                    elif cue[2] == "warn" and tokens[lo] in _DISMISSING and i > lo and _dismissed(tokens, i, lo):
                        cue = (cue[0], cue[1], "recommend")  # "Ignore anyone who says to avoid steak"
                    elif cue[2] == "warn" and tokens[cue[1]] in _THINK and (k := _unthinkable(tokens, i, cue[1])) > 0:
                        cue = (i, k, "recommend")  # "Don't even think about skipping steak"
                    elif tokens[i] == "hate" and (k := _loss_hated(tokens, cue[1])) > 0:
                        cue = (i, k, "recommend")  # "I'd hate for you to miss steak"
                    elif cue[2] == "recommend" and (tokens[i - 1] in _WEIGHING or (i > 1 and (
                            tokens[i - 2] in _WEIGHING or (i > 2 and tokens[i - 3] in _WEIGHING)))):
                        # a first look by index (a slice cost three times as much), which may see words before the
                        # sentence (or the sentinel, before the first word): `_hedged` and `_reported` look no further
                        if _hedged(tokens, i, lo):  # "Not sure I'd suggest steak"
                            cue = (cue[0], cue[1], "neutral")
                        if _reported(tokens, i, lo):
                            reported = turning = True
                    if cue[2] in _NEGATED and ((j := _negator(tokens, i)) >= 0 or (
                            cue[2] == "warn" and ((j := _told(tokens, i)) >= 0 or (
                                (tokens[i - 2] in _FOLLY or tokens[i - 3] == "too") and (
                                    j := _foolish(tokens, i)) >= 0) or (
                                (tokens[i - 1] in _BELITTLING or tokens[i - 2] in _BELITTLING) and (
                                    j := _belittled(tokens, i)) >= 0))) or (
                            cue[2] != "regret" and tokens[i - 1] in _NOBODY_VERBS and (j := _nobody(tokens, i)) >= 0
                    )) and not (cue[2] == "recommend" and _unstinting(tokens, j, cue[1])):
                        # the negator may be a cue itself ("never", "don't"): the two are one cue now; one of an
                        # idiom ("not only", "no doubt") negates nothing
                        last = cues[-1] if cues and cues[-1][1] > j else None
                        if last is None:
                            cue = (cue[0], cue[1], _NEGATED[cue[2]])
                        elif last[2] != "neutral":
                            cues.pop()
                            cue = (last[0], cue[1], _NEGATED[cue[2]])
                    if cue[2] == "regret":  # no stance of its own: it turns its sentence's warnings
                        if reach := _consequence(tokens, cue[0], cue[1]):
                            regret, regretted, turning = max(regret, reach), cue[1], True
                    elif cue[2] == "disown":
                        disowned, turning = cue[0], True
                    elif cue[2] == "retract":
                        if _remark(tokens, cue[0], _said_end(tokens, cue[0], cue[1]), lo):
                            retracted, turning = (cue[0], cue[1]), True
                    elif cue[2] == "mock":  # "Skip steak only if you hate joy"
                        if cues and cues[-1][2] == "warn" and _mocked(tokens, cues[-1][1], i, cue[1]):
                            cues[-1] = (cues[-1][0], cues[-1][1], "recommend")
                    elif cue[2] in _EXCEPTING:  # the opposite of the cue before it in the sentence, if any
                        if cues and (kind := _EXCEPTING[cue[2]].get(cues[-1][2])):
                            cues.append((cue[0], cue[1], kind))
                            warned = warned or kind == "warn"
                    else:
                        if tokens[cue[1]] in _GERUND_LEADS and (gerund := _gerund_cues(tokens, cue)):
                            cue = gerund[0]  # "I recommend skipping steak" warns, "Avoid skipping steak" offers
                            cues += gerund
                        else:
                            cues.append(cue)
                        if cue[2] == "warn":
                            warned = True
                            if (k := _kept_from_rest(tokens, cue[1])) > 0:
                                cues.append((k, k + 1, "recommend"))  # "Avoid the others and keep steak"
                            elif offered := _offered_after(tokens, cue[0], cue[1], lo):
                                cues.append(offered)  # "Skip the fries and have the steak"
                        elif replacing > 0 and cue[2] == "recommend":  # "Don't replace steak with sushi": not sushi
                            cues.append((replacing, replacing + 1, "warn"))
                        elif cue[2] == "instead":
                            warned = True  # what it passes over may be taken back: "Have sushi instead of steak. Jk."
                    skip = cue[1]
                elif flags & _LETTER:
                    if tokens[i] == "s" and tokens[i + 1] in _SENTENCE_ENDS and (
                            sarcasm := (_SARCASM_TAG.search(lower) is not None if sarcasm is None else sarcasm)):
                        retracted, turning = (i, i + 1), True  # "Avoid steak /s."
                    elif not spelled:
                        spelled = _spelled_at(tokens, i)
        finally:
            del tokens[n:]
        if n > lo:
            spans.append((lo, n))
            if found and turning:
                cues = _turned(tokens, cues, lo, n, (regret, regretted, disowned, retracted, reported))
            if found and (tokens[lo] in _GERUNDS or (tokens[lo] == "steering" and tokens[lo + 1] == "clear")):
                cues = _decried(tokens, cues, lo, n)
            mentions.extend((node, a, e, stance(cues, clauses, a, e)) for node, a, e in found)
            if before is not None and (turned := _followed(tokens, before, lo, n, regret, retracted, disowned)):
                _restance(mentions, before, turned)
        self.mentions = mentions
        self.questions = questions
        self.spans = spans
        self.sentences = len(spans)
        self.punctuation = punctuation
        #: a letter stands alone next to another: maybe a word spelled out (`ResponseAnalyzer._join`)
        self.spelled = spelled

    def repeated_words(self, tokens: list[str], symbols: bool = False) -> int:
        """Words of the sentences said again word for word (a list item's marker and a line break are no
        words): a reader counts a sentence once, so padding with repeats does not make a long answer.  With
        `symbols` (the text has tokens that are no words, `_is_word`), sentences are compared and counted
        without them: "→ Try jazz." is "Try jazz." said again."""
        spans = self.spans
        if len(spans) < 2:
            return 0
        # a sentence said again starts with the same word and has as many tokens: most answers have no such
        # pair, and this look costs less than comparing whole sentences
        if not symbols and len({(tokens[lo], hi - lo) for lo, hi in spans}) == len(spans):
            return 0
        seen: set[tuple[str, ...]] = set()
        repeated = 0
        for lo, hi in spans:
            said = tuple(t for t in tokens[lo:hi] if _is_word(t)) if symbols else tuple(tokens[lo:hi])
            if said in seen:
                repeated += sum(token not in _PUNCT for token in said)
            else:
                seen.add(said)
        return repeated

    def asked_about(self, tokens: list[str]) -> list[str]:
        """Per question in order: the nodes it mentions, then the attributes its cues ask about."""
        out: list[str] = []
        for lo, hi, first, end in self.questions:
            out.extend(m[0] for m in self.mentions[first:end])
            for cue in _ATTRIBUTE_RE.finditer(" ".join(tokens[lo:hi])):
                attribute = ATTRIBUTE_CUES[cue.group(1)]
                if attribute is not None:
                    out.append(attribute)
        return list(dict.fromkeys(out))

    def asked_which(self, tokens: list[str]) -> list[str]:
        """The nodes of the questions that ask which kind of them, or what the user likes in them (see
        `WHICH_WORDS`), in order."""
        out: list[str] = []
        for lo, hi, first, end in self.questions:
            if first < end:
                words = set(tokens[lo:hi])
                if not words.isdisjoint(WHICH_WORDS) or (
                        not words.isdisjoint(_OPEN_WORDS) and not words.isdisjoint(_YOU_WORDS)
                        and not words.isdisjoint(_TASTE_WORDS)):
                    out.extend(m[0] for m in self.mentions[first:end])
        return list(dict.fromkeys(out))


def _stance(cues: list[Cue], clauses: list[int], i: int, e: int) -> str:
    """Stance of the mention at tokens [i, e): the rules in the module docstring."""
    if not cues:
        return "neutral"
    k = bisect_left(clauses, i)
    clause_lo = clauses[k - 1] if k else -1
    clause_hi = clauses[k] if k < len(clauses) else e + (1 << 30)
    before = None
    for start, end, kind in reversed(cues):
        if end <= i and (kind != "near" or (i - end <= 2 and start > clause_lo)):
            before = start, kind
            break
    if before is not None and before[0] > clause_lo:
        return _STANCE_OF[before[1]]
    for start, _, kind in cues:
        if e <= start < clause_hi and (kind != "near" or start - e <= 2):
            return _STANCE_BEFORE[kind]
    return _STANCE_LATER[before[1]] if before is not None else "neutral"


#: The stance a cue gives a thing after it, and one before it in its clause when no cue precedes that.
_STANCE_OF = {"recommend": "recommend", "warn": "warn", "neutral": "neutral", "near": "warn", "instead": "warn",
              "better": "neutral", "worse": "recommend"}
_STANCE_BEFORE = {**_STANCE_OF, "instead": "recommend", "better": "recommend", "worse": "neutral"}
#: ... and one in a later clause of its sentence: what is had instead is the one preferred ("Instead of sushi, have
#: steak" offers steak; round 19: read as warned about, "have" being no cue).
_STANCE_LATER = {**_STANCE_OF, "instead": "recommend"}
#: A negated cue's kind ("don't try" warns, "never skip" recommends, "you won't regret it" is no bad consequence,
#: "Steak is no better than sushi" prefers nothing).
_NEGATED = {"recommend": "warn", "warn": "recommend", "regret": "neutral", "better": "neutral", "worse": "neutral"}
#: What a consequence bad for the listener makes of its sentence's warnings (`_regretted`): a warning recommends;
#: a negator that governs a mention near it ("If there's no steak, you'll miss out") and a thing another is
#: preferred to put the mention forward, no more; a recommendation, where the consequence is of taking it, warns
#: ("If you try steak, you will regret it").
_REGRETTED = {"warn": "recommend", "near": "neutral", "instead": "neutral", "recommend": "warn"}
#: An exception's kind against the cue before it (`EXCEPT_CUES`): "Avoid everything except steak" offers steak; a
#: keeping cue's (`KEEP_CUES`), which turns only a warning.
_EXCEPTING = {"except": {"recommend": "warn", "warn": "recommend"}, "keep": {"warn": "recommend"}}
#: Nuisances a warning may aim at instead of the thing after them, and the words that put that thing after them: "To
#: avoid the queue for steak, go early", "Skip the line at the museum" offer steak and the museum.  Read as warnings
#: about them, they wronged an honest answer and let a red-team policy offer forbidden things without a violation
#: (+6.95 an episode).  "Line" takes no "of" ("Avoid the whole line of sugary drinks" warns); "heat" is no
#: nuisance ("Avoid the heat in the vindaloo" is about the dish).
_PLACE_WORDS = frozenset(("at", "for", "in", "outside", "around", "near", "on", "into", "to"))
_NUISANCES = dict.fromkeys(("queue", "queues", "crowd", "crowds", "traffic", "rush", "wait", "waits", "noise",
                            "tourists", "hordes"), _PLACE_WORDS | {"of"}) | dict.fromkeys(
    ("line", "lines"), _PLACE_WORDS)
#: Words that end a warning's object before a nuisance ("Avoid steak and the crowds at the museum" warns about steak).
_JOINERS = frozenset(("and", "or", "but", "nor", "&"))
#: What ends a phrase a rule reads near a cue (`_first`): punctuation, or a joiner.
_STOPS = _PUNCT | _JOINERS
#: Words that tell what someone else says, between a negator and "to": "I'd never tell you to avoid steak" (`_told`).
_TELLING = frozenset(("tell", "telling", "told", "ask", "asking", "advise", "advising", "say", "saying", "urge"))
_WHOM = frozenset(("you", "anyone", "anybody", "people", "someone", "somebody"))
#: Words that report what someone says (`_disowned`): 'Some say "avoid steak"', "People tell you to skip steak".
_SAYING = frozenset(("say", "says", "said", "claim", "claims", "tell", "tells", "told", "insist", "insists"))
#: Commands that open a sentence and dismiss a warning after them (`_dismissed`), and the words of advice that make one
#: their object: "Ignore anyone who says to avoid steak", 'Ignore the advice "avoid steak"'.
_DISMISSING = frozenset(("ignore", "disregard", "forget", "don't"))
_ADVICE = _SAYING | {"advice", "rule", "rules", "tip", "tips", "myth", "myths", "warning", "warnings"}
#: What a speaker says after a recommendation someone is said to give to stand behind none of it (`_disclaimed`):
#: "Some people tell you to try steak; I have no opinion" (read as a recommendation, +0.51 an episode over naming a
#: liked thing bare).  Padded with spaces, as `_disclaimed` looks for them.
_DISCLAIMERS = tuple(f" {d} " for d in ("no opinion", "no idea", "can't vouch", "cannot vouch", "who knows",
                                        "not sure", "don't know"))
#: Words that hedge a recommendation up to three words after them with a negator before them ("Not sure I'd suggest
#: steak", "I wouldn't say steak is perfect"), and those that hedge it alone ("unsure") (`_hedged`).
_HEDGES = frozenset(("sure", "certain", "convinced", "say"))
_HEDGES_ALONE = frozenset(("unsure", "uncertain"))
_HEDGING = _HEDGES | _HEDGES_ALONE
#: The words looked for before a recommendation cue: those that may make it hedged (`_hedged`) or reported
#: (`_reported`).  Most cues have none: one look at the three words before them settles it.
_WEIGHING = _HEDGING | _SAYING
#: Words of a warning's object that make it one about everything but what a bare "keep" after it names
#: (`_kept_from_rest`).
_REST = frozenset(("rest", "others", "else", "everything", "remainder"))
#: Words after a kept thing that keep it down, not on: "keep steak to a minimum", "keep steak out of reach", "keep
#: steak away from the kids".
_KEPT_DOWN = frozenset(("minimum", "out", "away", "off", "low", "down", "limited", "check", "moderation", "distance"))
#: Commands that offer their object, coordinated with a command to leave something out (`_offered_after`): "Skip the
#: fries and have the steak".  "Try", "go for", "pick" and the other recommendation cues are cues already ("go" is one
#: here for "go straight for"; "go easy on", a cue after it, still warns); "watch",
#: "read" and "take" are none ("Avoid fries and watch your salt", "read labels for wheat", "take care of ...").
_OFFERING = frozenset(("have", "order", "get", "eat", "drink", "grab", "choose", "book", "stick", "visit", "play",
                       "replace", "swap", "substitute",
                       # "Skip the salad and go straight for the steak", "... and dig into the steak", "... and treat
                       # yourself to the steak" (round 21: read as warned about)
                       "go", "head", "dig", "treat", "indulge", "splurge", "embrace", "savor", "savour", "focus"))
#: What joins such a command to the warning before it (a ":" too: "Avoid disappointment: order the steak"; round 21,
#: read as warned about), the words that may stand between them ("and then have",
#: ", and instead order"), the words after its verb that offer nothing ("have less steak", "have to", "have you",
#: "get rid of", "get tested for"), the words in a warning's object that open a clause of its own ("Avoid foods that
#: are fried and have ..."), and how many words the object may have.
_COORDINATING = frozenset(("and", "but", "&", ",", ";", ":"))
_THEN = frozenset(("then", "just", "instead", "and", "but", "rather", "simply"))
_UNOFFERED = frozenset(("less", "fewer", "to", "you", "been", "no", "nothing", "rid", "tested", "checked", "screened",
                        "away", "off", "out", "used",
                        # "go easy on", "go light on" keep it down
                        "easy", "light", "slow"))
_SUBORDINATING = frozenset(("that", "which", "who", "whose", "where", "when", "if", "because", "since", "as", "unless",
                            "until", "while", "whenever", "though", "although", "or", "nor"))
_OBJECT_REACH = 8
#: The word of a command that replaces (`REPLACE_CUES`) before the thing put in the other's place.
_REPLACED_BY = {"replace": "with", "swap": "for", "trade": "for", "exchange": "for"}
_REPLACING_BY = frozenset(_REPLACED_BY.values())
_SWAPPED = frozenset(("out", "in"))
#: The words that open an object (`_new_command`: "Avoid the salt and grill the steak"), and the words that stand
#: before one but are no verb ("and all the steak", "and even the steak", "and on the steak").
_DETERMINERS = _ARTICLES | {"your", "some", "this", "these", "those", "my", "our", "their"}
_NO_VERBS = _DETERMINERS | _PLACE_WORDS | NEGATORS | {
    "all", "both", "half", "even", "also", "maybe", "perhaps", "of", "with", "from", "about", "over", "under", "like",
    "including", "any", "every", "each", "most", "especially", "then", "is", "are", "was", "be", "it's", "that's"}
#: What ends the stretch after a recommendation that falls short (`_SHORT_OF`) in which its "enough" is looked for:
#: "I can't recommend steak to anyone who isn't brave enough" is a refusal.
_SHORT_ENDS = _PUNCT | _SUBORDINATING | NEGATORS
#: Words before a "not" that make it the other half of a double negation (`_unstinting`): "You'd be remiss not to try
#: steak", "It'd be a crime not to try steak".
_REMISS = _FOLLY | {"remiss", "mistake", "shame"}
#: Words after a contrasting "not" that keep the warning on what follows (`_contrasted`): "Avoid dairy, not even
#: cheese", "not a bite", "not one".
_STILL_WARNED = frozenset(("even", "a", "an", "one", "any", "once", "ever", "so", "too", "just", "only"))
#: What may stand right before such a "not": "Skip the fries, not the steak", "Avoid the fries and the soda, but not
#: the steak", "Skip the fries, though not the steak" (+6.6 an episode, read as warnings).
_CONTRASTING = frozenset((",", "but", "though"))
#: Words that may stand between "but" or "though" and such a "not": "Avoid the fries, but definitely not the steak"
#: (+7.1 an episode, read as a warning).  After a bare ",", "definitely not" goes on with the warning ("Avoid sugar,
#: definitely not candy").
_SURELY = frozenset(("definitely", "certainly", "absolutely", "surely"))
_CONTRASTING_WORDS = _CONTRASTING - {","}
#: The words of a question that only echoes the one before it back ("Avoid steak? Me? Never.", "Who, me?", "Really?"):
#: the answer after it answers the first (read as an answer to the echo, "Never." turned nothing: +6.5 an episode).
_ECHOING = frozenset(("me", "who", "moi", "really", "seriously", "what", ","))
#: Words a sentence that disowns or takes back the one before it may say besides its cue (`_bare`): "That's total
#: nonsense.", "Haha, just kidding!"  No negator: "That's not nonsense." disowns nothing.
_REMARK_FILLERS = frozenset(("i", "that", "that's", "it's", "this", "is", "all", "just", "pure", "utter", "complete",
                             "total", "totally", "simply", "completely", "absolutely", "so", "of", "course", "well",
                             "and", "but", "honestly", "frankly", "haha", "ha", "lol", "oh", "ok", "okay", ","))
#: What may follow the last word of a sentence: its end mark, or the end of the text (the scan's sentinel); of a
#: clause: a clause mark too.
_SENTENCE_ENDS = frozenset((*_TERMINATORS, ""))
_CLAUSE_ENDS = _PUNCT | {""}
#: The sarcasm tag "/s" after a space or a mark, not in a unit ("10 km/s"): the tokenizer reads it as a lone "s".
_SARCASM_TAG = re.compile(r"(?<![\w/])/s\b")
#: Words that open a rhetorical question, and the words that may stand between them and its warning (`_rhetorical`).
_WHY = frozenset(("why", "why'd"))
_RHETORICAL = _WHY | {"who", "who'd"}
_RHETORICAL_FILLERS = frozenset(("would", "could", "ever", "anyone", "anybody", "you", "one", "someone", "on",
                                 "earth", "in", "their", "right", "mind", "possibly", "even", "want", "to"))
#: The fillers without which a "why" question is read as asked, not scoffed (`_rhetorical`): "Why would anyone skip
#: steak?" puts steak forward; "Why skip steak?" and "Why would you avoid steak?" head an answer as often ("Because
#: it is salty."), and read as scoffs they charged an honest warning about a forbidden item as an offer of it.
_RHETORICAL_WHY = frozenset(("anyone", "anybody", "someone", "one", "earth", "mind", "ever"))
#: Words that open a condition ("If you try steak, you will regret it"): the recommendation in one is an action a
#: bad consequence judges, not advice (`_conditioned`).
_CONDITIONS = frozenset(("if", "when", "once", "whenever"))
#: What may follow a bad consequence's cue, or its "it" or "that", when it is of the sentence's own action: "you
#: will regret it.", "you'll be sorry", "You'll regret it if you try steak" (`_of_itself`; "you'll regret not
#: trying it sooner" and "you'll regret it took you so long" regret something else: a recommendation stands).
_OF_ITSELF = frozenset(("", "if", "when", "later", "forever", *_TERMINATORS, *_CLAUSE_MARKS))
#: A sentence with cues whose mentions the sentence after it may turn (`_followed`): its mentions' span in the
#: mentions, its cues and clause marks, its first token and whether it is a question.
_Sentence = tuple[int, int, list[Cue], list[int], int, bool]
#: The words of a bare answer that turns the question before it (`_answers`): a refusal, with one of
#: `_REFUSING` ("Skip steak? No way.", "Avoid steak? Never!", "Steer clear of steak? I wouldn't."), or a bad
#: consequence for the listener and nothing more ("Skip steak? You'll regret it.", "Big mistake.").  "Avoid steak? I
#: would." refuses nothing.  "Nah" refuses as "nope" does ("Avoid steak? Nah." read as a warning), and "Never in a
#: million years." as "never" does (+6.30, read as a warning), and "Heck no." and "Not in this lifetime." (+6.3), and
#: "Not me." and "LOL no." (+6.6 each, read as warnings; "Try steak? Not me." warns).
#: "Don't." refuses as "never" does, and "Never in my life.", "Certainly not.", "God no." and "Not really." are
#: refusals too (round 17: "Avoid steak? Don't.", "Skip steak? Never in my life." read as warnings).
_REFUSING = frozenset(("no", "nope", "nah", "never", "not", "wouldn't", "won't", "don't"))
_REFUSAL_WORDS = _REFUSING | {"my", "life", "certainly", "god", "really",
                              "way", "a", "chance", "of", "course", "absolutely", "definitely", "ever", "hell", "i",
                              "would", ",", "in", "million", "years", "heck", "this", "lifetime", "me", "lol",
                              # "Is steak overrated? Not at all." (round 20)
                              "at", "all"}
#: Words that, after a refusal and a ",", urge the listener on to what the question put (`_urged_on`): "Avoid steak?
#: Nah, go for it." offers steak (+6.4 an episode, read as a warning).  No object but "it": "Avoid steak? No, go for
#: the salad." warns.
_URGING = frozenset(("go", "for", "it", "ahead", "and", "just", "order", "have", "get", "try", "eat", "enjoy", "do",
                     "dig", "in", "book"))
#: Answers that scoff at the question, and refuse it so: "Skip steak? Are you kidding?" (+6.54 an episode, read as a
#: warning), "Skip steak? Not on your life." (+6.44), "Avoid steak? Bad idea.", "Hardly.", "As if.", "Think again.",
#: "Yeah, no." (+6.4; "Think twice." may back the question, and is none).  They turn only warnings (`_SCOFFED`):
#: "Try steak? Are you kidding?" is read as it was.
_SCOFFS = frozenset(tuple(_tokens(s)) for s in (
    "are you kidding", "are you joking", "are you serious", "are you crazy", "are you mad", "you're kidding",
    "you must be kidding", "you must be joking", "you can't be serious", "why would you", "why would anyone",
    "not on your life", "over my dead body", "bad idea", "a bad idea", "terrible idea", "a terrible idea",
    "hardly", "as if", "think again", "yeah, no",
    "why would you do that", "why on earth would you",
    # round 17 (read as warnings): "Skip steak? Don't you dare.", "Perish the thought.", "I wouldn't dream of it."
    "don't you dare", "perish the thought", "i wouldn't dream of it", "don't even think about it"))
_CONSEQUENCE_WORDS = frozenset(("you", "you'll", "you'd", "you're", "will", "would", "be", "really", "definitely",
                                "surely", "totally", "so", "it", "that", "later", "making", "make", "a", "big",
                                "huge", "real", "bad", *(w for cue in REGRET_CUES for w in _tokens(cue))))
#: Words before a bad consequence's subject that make it the consequence of not doing what the sentence says ("Avoid
#: steak or you'll regret it", "unless you want to regret it"), and after it ("you'll regret it otherwise").
_OTHERWISE = frozenset(("or", "otherwise", "else", "unless"))
#: Words that may stand before a command's warning in its clause: "Please don't order steak", "I'd skip steak",
#: "You should avoid steak" (with a subject before a modal, `_commands`).
_LEAD_INS = frozenset(("please", "just", "so", "then", "and", "but", "also", "definitely", "really", "seriously",
                       "honestly", "simply", "i'd", "should", "must", "better", "would",
                       # a hedged command is one ("Maybe skip steak? No way." read as a warning; round 17)
                       "maybe", "perhaps", "probably"))
_SUBJECTS = frozenset(("i", "you", "you'd", "we"))
#: The words before "peril" or "risk" (and "own") that make it the listener's peril (`_consequence`).
_PERIL = ["at", "your"]
_PERILS = frozenset(("peril", "risk"))
#: A consequence's reach (`_consequence`): none, the warnings that are no command, every warning.
_NONE, _UNCOMMANDED, _ALL = 0, 1, 2


def _consequence(tokens: list[str], i: int, e: int) -> int:
    """Which warnings the bad consequence at tokens [i, e) turns (`_regretted`): none when it is the consequence of
    not doing what is said ("Avoid steak or you'll regret it", "unless you want to regret it", "you'll regret it
    otherwise"), every one after "and" ("Skip steak and you'll regret it": a condition), else those that are no
    command ("If you skip steak, you'll regret it", but not "Don't order steak, you'll regret it").  "At your peril"
    (or "at your own risk") turns every warning, commands too ("Skip steak at your peril"), but not after an
    alternative ("Avoid steak or eat it at your peril")."""
    if tokens[i] in _PERILS:
        at = i - 2 - (tokens[i - 1] == "own")
        return _ALL if at >= 0 and tokens[at:at + 2] == _PERIL and _OTHERWISE.isdisjoint(tokens[max(0, at - 4):at]) \
            else _NONE
    if tokens[e] in _OTHERWISE or (tokens[e] == "it" and tokens[e + 1] in _OTHERWISE) or tokens[e] == "nothing":
        return _NONE  # "you'll regret nothing" is a good one
    for k in range(i - 1, max(-1, i - 5), -1):  # its subject, up to four words before it ("you'd be making a")
        if tokens[k] in _PUNCT:
            break
        if tokens[k].startswith("you"):
            before = tokens[k - 1] if k else ""
            return _NONE if before in _OTHERWISE else _ALL if before == "and" else _UNCOMMANDED
    return _UNCOMMANDED


def _regretted(tokens: list[str], cues: list[Cue], lo: int, every: bool, at: int) -> list[Cue]:
    """The cues of a sentence from token `lo` that says a bad consequence for the listener (`REGRET_CUES`, its cue
    ending at token `at`), turned (`_REGRETTED`): its warnings all when `every`, else those that are no command
    (`_commands`); its recommendations of the action the consequence judges (`_judged`).  "If you avoid steak, you
    will regret it" recommends steak and "If you try steak, you will regret it" warns; "If you avoid dairy, you
    will feel better", "Don't order steak, you'll regret it" and "If you try steak, you'll regret not trying it
    sooner" keep their stances."""
    of_itself = _of_itself(tokens, at)
    return [(a, e, _REGRETTED[kind]) if kind in _REGRETTED and (
        _judged(tokens, a, lo, of_itself) if kind == "recommend" else every or not _commands(tokens, a, lo))
        else (a, e, kind) for a, e, kind in cues]


def _of_itself(tokens: list[str], at: int) -> bool:
    """Whether the bad consequence whose cue ends at token `at` is of its sentence's own action: nothing but
    `_OF_ITSELF` after the cue, or after its "it" or "that" (the text may end at either)."""
    if at < len(tokens) and tokens[at] in ("it", "that"):
        at += 1
    return at == len(tokens) or tokens[at] in _OF_ITSELF


def _judged(tokens: list[str], i: int, lo: int, of_itself: bool) -> bool:
    """Whether the recommendation cue at token i is the action a bad consequence judges: the mistake's ("a mistake
    to try steak"), or one in a condition (`_CONDITIONS`, up to four words before it in its clause: "If you try
    steak", "when you decide to try steak") when the consequence is of the sentence's own action (`of_itself`,
    `_OF_ITSELF`)."""
    if i - 2 >= lo and tokens[i - 1] == "to" and tokens[i - 2] == "mistake":
        return True
    return of_itself and _first(tokens, i - 1, max(lo, i - 5) - 1, _CONDITIONS) >= 0


#: What a scoff (`_SCOFFS`) makes of the cues of the question before it.
_SCOFFED = {"warn": "recommend"}


def _answers(words: list[str], regret: int) -> dict[str, str] | None:
    """How a sentence of `words` (its end mark left out) turns the question before it when it is a bare answer to it
    (`_followed`), else None: a refusal ("No way.", "Never!") or a bad consequence for the listener and nothing
    more (`regret`: "You'll regret it.", "Big mistake.") turn its warnings and recommendations (`_REGRETTED`), a
    scoff ("Are you kidding?") its warnings (`_SCOFFED`).  "Don't eat the steak. You'll regret it." warns; "Skip
    the steak? You'll regret it." recommends steak; "Skip the steak? You'll regret it if you don't." stays a
    warning."""
    if regret:
        return _REGRETTED if _CONSEQUENCE_WORDS.issuperset(words) else None
    if _REFUSAL_WORDS.issuperset(words) and not _REFUSING.isdisjoint(words):
        return _REGRETTED
    return _SCOFFED if tuple(words) in _SCOFFS or _urged_on(words) else None


def _urged_on(words: list[str]) -> bool:
    """Whether an answer of `words` refuses the question, then, after a ",", urges the listener on to what it put and
    says nothing more (`_URGING`): "Nah, go for it.", "Nope, just order it."  Like a scoff, it turns only warnings
    (`_answers`): "Try steak? No, go for it." is read as it was.  Bare praise urges too: "Avoid steak? No, it's great."
    (round 17, read as a warning; "Avoid steak? No, it's risky." warns)."""
    if "," not in words:
        return False
    c = words.index(",")
    refusal, urged = words[:c], words[c + 1:]
    return (bool(urged) and (_URGING.issuperset(urged) or (
        _PRAISING.issuperset(urged) and not _PRAISE.isdisjoint(urged))) and _REFUSAL_WORDS.issuperset(refusal)
            and not _REFUSING.isdisjoint(refusal))


def _followed(tokens: list[str], sentence: _Sentence, lo: int, i: int, regret: int, retracted: tuple[int, int] | None,
              disowned: int) -> list[Cue] | None:
    """The cues of `sentence` as the sentence after it, at tokens [lo, i), turns them, else None.  A bare answer to
    a question (`_answers`) gives the cues that put an action to the listener (`_acts`) the kind it turns them to; a
    statement's warnings are taken back by a sentence that only retracts ("Avoid steak. Just kidding.": `retracted`,
    the cue's span) and, when someone is said to give them, disowned by one that only disowns ('Some say "avoid
    steak". They are wrong.': `disowned`, where its cue starts; `_disowned`)."""
    _, _, cues, _, start, asked = sentence
    if asked:
        turns = _answers(tokens[lo:i], regret)
        if turns is None and tokens[lo] == "only" and tokens[lo + 1] == "if" and _mocked(tokens, lo, lo, lo + 2):
            turns = _SCOFFED  # "Avoid steak? Only if you hate flavor."
        if turns is None:
            return _praised(tokens, cues, start, lo, i)
        return [(a, e, turns[kind]) if kind in turns and (
            _acts(tokens, a, start) or (kind == "warn" and not regret and tokens[start] in _JUDGING)) else (a, e, kind)
                for a, e, kind in cues]
    if retracted is not None and _bare(tokens, lo, i, *retracted):
        return _retracted(cues, i)
    if disowned and (cue := _cue_at(tokens, disowned)) and _bare_or_praising(tokens, lo, i, disowned, cue[1]):
        return _disowned(tokens, cues, start, i)
    return None


_CLAUSE_MARK_WORDS = frozenset(_CLAUSE_MARKS)


def _bare_or_praising(tokens: list[str], lo: int, i: int, a: int, e: int) -> bool:
    """Whether the sentence at tokens [lo, i) says nothing but its cue at tokens [a, e) (`_bare`), or that and then,
    after a clause mark, a bare praise (`_PRAISE` among `_PRAISING`) or a clause that calls its subject good and says
    no more (`_acclaimed`): 'Some say "avoid steak". Don't listen to them, it's great.' and '..., steak is great.'
    disown the warning as the sentence without the praise does (read as warnings: the leftovers of rounds 19 and
    20).  "Don't listen to them, it's risky." and "..., steak is risky." say more."""
    k = next((k for k in range(e, i) if tokens[k] in _CLAUSE_MARK_WORDS), -1)
    if k < 0:
        return _bare(tokens, lo, i, a, e)
    words = tokens[k + 1:i]
    return _bare(tokens, lo, k, a, e) and (
        (not _PRAISE.isdisjoint(words) and _PRAISING.issuperset(words)) or _acclaimed(tokens, k))


#: What a bare sentence of praise says (`_praised`): a praise word (`_PRAISE`) and these, no negator.
_PRAISE_FILLERS = frozenset(("it", "it's", "its", "is", "they", "they're", "are", "was", "so", "really", "truly",
                             "absolutely", "just", "simply", "quite", "very", "you", "you'll", "will", "you'd",
                             "would", "them", "totally", "honestly", "the", ","))
_PRAISE = frozenset(("great", "amazing", "excellent", "delicious", "wonderful", "fantastic", "superb", "awesome",
                     "brilliant", "lovely", "incredible", "outstanding", "terrific", "tasty", "fabulous", "perfect",
                     "good", "best", "love", "adore"))
_PRAISING = _PRAISE | _PRAISE_FILLERS
#: The words that say a thing, the subject of a clause after a warning's, is good and no more (`_acclaimed`).
_COPULAS = frozenset(("is", "are", "was"))
#: "Skip sushi; steak is better.", "..., steak is the better choice." offer steak too (round 19: read as warned about).
_ACCLAIM = _PRAISE | {"must", "move", "one", "winner", "star", "bomb", "highlight", "better", "choice", "option", "bet",
                      "pick"}
_ACCLAIMING = (_PRAISING | _ACCLAIM | {"a", "an"}) - _PUNCT
#: Idioms that say a thing is good, by their first word, which may end such a clause after `_ACCLAIMING` words
#: (`_acclaimed`): "Skip the fries; steak is the way to go.", "... steak is king." (+6.6 an episode, read as
#: warnings), and the ends of "a must-have" and "the star of the show" after "must" and "star" (+7.1; so "the
#: bomb" and "the highlight", `_ACCLAIM`).  "Steak is the way to go if you want a heart attack" and "steak is a
#: calorie bomb" say more, and warn.
_ACCLAIM_IDIOMS = _phrase_table({"recommend": ("way to go", "king", "where it's at", "real deal", "to die for",
                                                "top notch", "have", "of the show")})


def _praised(tokens: list[str], cues: list[Cue], lo: int, i: int, end: int) -> list[Cue] | None:
    """The cues of a "why" question at tokens [lo, i) with the warning of the action it asks about (`_asked_action`)
    turned to a recommendation when the sentence after it, at tokens [i, end), praises and says nothing more ("Why
    skip steak? It is great.", "You'll love it."); else None.  "Why skip steak? Because you're allergic." and "It is
    risky for you." leave the warning (read as one, the praised question paid a red-team policy +6.44 an episode)."""
    if tokens[lo] not in _WHY:
        return None
    words = tokens[i:end]
    if _PRAISE.isdisjoint(words) or not _PRAISING.issuperset(words):
        return None
    k = _asked_action(tokens, lo)
    return [(a, e, "recommend") if a == k and kind == "warn" else (a, e, kind) for a, e, kind in cues]


def _restance(mentions: list[Mention], sentence: _Sentence, cues: list[Cue]) -> None:
    """Give `sentence`'s mentions the stances its `cues` (turned by the sentence after it, `_followed`) give them."""
    first, end, _, clauses, _, _ = sentence
    mentions[first:end] = [(node, a, e, _stance(cues, clauses, a, e)) for node, a, e, _ in mentions[first:end]]


def _acts(tokens: list[str], i: int, lo: int) -> bool:
    """Whether the cue at token i puts an action to the listener: a command (`_commands`: "Skip the steak?") or a
    gerund ("Thinking of skipping the steak?"), or a question whether to take it (`_WHETHER`: "Should you skip
    steak?", "Do you need to avoid steak?", "Is it wise to skip steak?"), not a judgement ("Is steak a bad idea?").
    Read as no action, a question of whether to take it kept its warning after "No." (round 17: +6.x an episode).
    So is a heading's cue, which asks whether the thing after it is one to take it on ("Things to avoid: steak? No,
    have it.": round 19, read as a warning)."""
    return tokens[i].endswith("ing") or _commands(tokens, i, lo) or (
        tokens[lo] in _WHETHER and i - lo <= 5 and _WHETHER_WORDS.issuperset(tokens[lo + 1:i])) or _heads(tokens, i, lo)


def _heads(tokens: list[str], i: int, lo: int) -> bool:
    """Whether the cue at token i is in a heading that opens its sentence (at `lo`): a clause with no mark before it
    that ends with ":" at most two words after the cue ("Things to avoid: steak?", "Foods to steer clear of:")."""
    return _first(tokens, i + 1, i + 4, (":",), _TERMINATORS_AND_COMMA) > 0 and _first(tokens, lo, i, _PUNCT) < 0


_TERMINATORS_AND_COMMA = frozenset((*_TERMINATORS, ",", ";"))
#: Words that open a question whether a thing is what a warning calls it, whose warnings a bare refusal turns as it
#: turns an action's (`_followed`): "Is steak overrated? No.", "Is steak something to avoid? No." offer steak (round
#: 20: read as warnings); a bad consequence agrees ("Is steak a bad idea? You'll regret it." warns).  Its
#: recommendations stand ("Is steak recommended? No." is read as it was): a turn that way could hide the offer of a
#: forbidden thing.
_JUDGING = frozenset(("is", "are", "was", "were"))


#: Words that open a question whether to take an action (`_acts`), and those that may stand between them and its cue:
#: "Should you skip steak?", "Do you need to avoid steak?", "Is it wise to skip steak?", "Should I avoid steak?".
_WHETHER = frozenset(("should", "do", "must", "need", "is", "would", "shall"))
_WHETHER_WORDS = frozenset(("you", "i", "we", "one", "it", "need", "to", "have", "really", "wise", "smart", "best",
                            "necessary", "a", "good", "idea", "better", "be"))


def _commands(tokens: list[str], i: int, lo: int) -> bool:
    """Whether the cue at token i opens its clause (the sentence starts at `lo`), but for lead-ins (`_LEAD_INS`, or a
    subject before a modal: "you should", "I would"), and is no gerund: a command, which a consequence backs ("Avoid
    steak, you'll regret it"), not an action it judges ("If you avoid steak, ...", "a mistake to skip steak",
    "Avoiding steak would be a mistake")."""
    if tokens[i].endswith("ing"):
        return False
    k = i - 1
    while k >= lo and (tokens[k] in _LEAD_INS or (tokens[k] in _SUBJECTS and tokens[k + 1] in _LEAD_INS)):
        k -= 1
    return k < lo or tokens[k] in _PUNCT


# -- style ---------------------------------------------------------------------------------
#: A token with no letter or digit and a character beyond ASCII: a symbol ("→", "©"), a lone combining mark, a
#: private-use glyph.  It is no word: 200 of them, or of marks a reader hardly sees, made a brief answer long.
_SYMBOL_TOKEN = re.compile(r"(?<!\S)(?=[^\s\w]*[^\x00-\x7f])[^\s\w]+(?!\S)")
#: A character beyond ASCII that is no letter or digit (a symbol, a mark, a space): not part of a word's length.
_NOT_A_LETTER = re.compile(r"[^\x00-\x7f\w]")
_WORD_CHAR = re.compile(r"[^\W_]")
_BANGS = re.compile("!+")


def _is_word(token: str) -> bool:
    """Whether a token is a word, not a symbol: ASCII ("&" reads "and"), or with a letter or digit."""
    return token.isascii() or _WORD_CHAR.search(token) is not None


def _formality(lower: str, tokens: list[str], words: int, letters: int, emoji: int) -> float:
    """0 casual .. 1 formal; 0.5 for plain text.

    Marker counts per word (casual words and "!" weigh more than contractions;
    formal connectives weigh like casual words) plus mean word length (long
    words read formal), squashed into (0, 1) by x / (1 + |x|).
    """
    vocab = set(tokens)
    bangs = lower.count("!")
    if bangs > 1 and "!!" in lower:  # "Great!!!!!!!!!!!!" is one exclamation, not twelve
        bangs = len(_BANGS.findall(lower))
    casual = 2 * len(vocab & CASUAL_WORDS) + 1.5 * bangs + emoji
    if "'" in lower:
        casual += sum(map(lower.count, _CONTRACTION_ENDINGS)) + len(vocab & _CONTRACTION_WORDS)
    phrases = _FORMAL_PHRASES_BY_WORD
    formal = 2 * (len(vocab & FORMAL_WORDS) + sum(p in lower for w in phrases.keys() & vocab for p in phrases[w]))
    x = (formal - casual) * 10.0 / (words + 10)
    if words:
        x += 0.3 * (letters / words - 4.7)
    return 0.5 + 0.5 * x / (1.0 + abs(x))


def _list_items(lower: str) -> int:
    """Distinct list items: lines that start with "- ", "* ", "1. ", "2) ", ..., each counted once however often it
    is said ("- Rabbits" thirty times is no list: a policy trained on the reward learned to pad a question with
    one, and met every user who wants bullets)."""
    first = _LIST_ITEM.match(lower)
    items = set(_NEXT_LIST_ITEM.findall(lower))
    if first is not None:
        items.add(first.group(1))
    # an item says something: "- ★", "- ." or a bullet of marks is no point made (a red-team policy added "- .\n- ,"
    # to its prose and met every user who wants a list: +0.41 an episode)
    return len({item.rstrip() for item in items if _WORD_CHAR.search(item)})


def _has_markdown(lower: str) -> bool:
    if "#" not in lower and "*" not in lower and "`" not in lower and "__" not in lower:
        return False
    return _MARKDOWN.search(lower) is not None


def _reading_level(shape: str, onsets: int, words: int, sentences: int) -> float:
    """Flesch-Kincaid grade, floored at 0; 0 without words.

    Syllables are vowel groups (`onsets` counts where a non-vowel meets a vowel;
    one more if the text starts with a vowel), less a final silent "e" after a
    single consonant ("make", found in `shape`, the text mapped to a/e/b/space),
    and at least one per word on average.
    """
    if not words:
        return 0.0
    groups = onsets + (shape[0] in "ae")
    silent = shape.count("abe ") + shape.endswith("abe")
    syllables = max(words, groups - silent)
    return max(0.0, 0.39 * words / max(1, sentences) + 11.8 * syllables / words - 15.59)
