"""World knowledge for policies, built from the taxonomy, schema and analyzer.

This is what a well-informed assistant may know about the world: entity names
and their relations, which tags a diet or allergy forbids, which phrases state
a preference.  It never holds a user's profile.  Policies receive it through
`PersonaChatEnv.knowledge()` and use it through the `Knowledge` protocol.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from functools import cached_property
from itertools import chain, pairwise

from personagym.shared import SharedOnCopy
from personagym.simulators.analyzer import ResponseAnalyzer
from personagym.simulators.persona import PersonaSchema
from personagym.simulators.taxonomy import FOLLOWED_KINDS

#: A sentence: up to a full stop, "!", "?" or a line end; a dot inside a word ("Node.js", "3.5") ends none.
_SENTENCE = re.compile(r"(?:[^.!?\n]|\.(?=\w))+")
_CLAUSE = re.compile(r"[^,;:()]+")
#: (key, value, polarity): a like, a dislike or an attribute value a message states.
Statement = tuple[str, str, int]
#: How many first characters of an attribute phrase index it (`WorldKnowledge._phrase_index`).
_GRAM = 4
#: A message's statements, the nodes it takes back, the indices of the statements read from requests alone, the
#: nodes it says the user no longer cares for (taken back too), what its requests are about (`subjects`) and the
#: likes it names in place of a slip with no words of liking (`corrected`).
_Reading = tuple[list[Statement], list[str], list[int], list[str], list[str], list[str]]
#: The words before an entity's name that make a user's statement name no such thing: "it's not my cup of tea", and
#: "a cup of tea" too, which says how the user takes it rather than a taste for it.  ("head over heels" and the other
#: idioms that name nothing anywhere are the analyzer's: `personagym.simulators.analyzer._IDIOMS`.)
_IDIOM_HEADS = ("cup of ",)
#: Stands for one entity mention in a sentence whose mentions are masked, so cues can be bound to an entity.
_SLOT = "\x00"
_NT = r"(?:n'?t| not)"  # "don't", "dont", "do not" (noisy text drops apostrophes)
#: Dislike cues that hold wherever they are in the entity's clause (or in a clause naming no entity).
_DISLIKE = re.compile(
    r"\b(?:hate[sd]?|hating|loathe|despise|detest|(?:strongly )?dislike[sd]?|can'?t stand|cannot stand|can'?t bear|"
    r"cannot bear|zero tolerance|hard no|deal ?breaker|the worst|least (?:favou?rite|fave)|"
    r"not (?:a |the )?(?:big |huge |massive )?fan|not (?:really |super |totally |that |very |too |so )?"
    r"(?:into|keen|big on|crazy about|sold on|fond of|much of an? )|less keen|"
    r"never (?:really )?(?:been into|warmed to|liked|cared for)|"
    rf"(?:do{_NT}|did{_NT}) (?:really |much |particularly |actually )?(?:like|enjoy|love|want|care (?:much )?for|"
    r"appeal)|"
    rf"does{_NT} (?:really |quite |much |just )?(?:do (?:much|anything) for me|excite|click|appeal|interest)|"
    rf"(?:is{_NT}|not|never) (?:really |quite |exactly |ever |always )?(?:my (?:thing|favou?rite|scene|style|"
    r"cup of tea|kind of thing)|for me)|not happening|wouldn'?t be my first|"
    r"drives? me (?:up the wall|crazy|nuts)|makes? me (?:want to|wanna) scream|rubs? me the wrong way|puts? me off|"
    r"turns? me off|leaves? me cold|bores? me|tiresome|tired of|sick of|fed up with|(?:kind of|kinda) over|"
    r"steer clear|stay away|far away from me|lean away|rather (?:not|skip|avoid|pass)|"
    r"rather do (?:literally )?anything|"
    r"(?:could|can) take (?:it )?or leave|can live without|(?:could|can) do without|indifferent|meh|lukewarm about|"
    r"hit or miss|tune out|"
    r"never again|no thanks)"
)
#: A pseudo-cleft's opening ("What's lovely is X", "What's not great is X"), the like words it may have
#: (`_LIKE_BEFORE`) and its second "is".
_CLEFT = r"\bwhat(?:'s| is| was)"
_CLEFT_GOOD = r"(?:lovely|great|amazing|awesome|wonderful|fantastic|brilliant|beautiful|nice|cool|fun|best)"
_CLEFT_IS = r" (?:is|was|are|were)"
#: Dislike cues that hold only right before an entity: "avoid X", "no X", "as long as it's not X", a pseudo-cleft
#: with a like word negated or a word of dislike ("What's not great is X", "What's annoying is X"); elsewhere they
#: are about something else ("how do I avoid injuries when doing X", "for no more than $60", "What's not great
#: about X is the price").
_DISLIKE_BEFORE_CUES = (
    r"\b(?:avoid(?:ing)?|skip(?:ping)?|pass on|drop|leave out|take out|swap out|cut out|remove|without|no|no more|"
    rf"{_CLEFT}(?:n't| not) (?:(?:so|that|very|too|really|all that) )?{_CLEFT_GOOD}{_CLEFT_IS}|"
    rf"{_CLEFT} (?:(?:really|so|truly|just|most|the most) )?(?:annoying|awful|terrible|bad|boring|irritating|"
    rf"overrated|tiresome|unbearable|dreadful|horrible){_CLEFT_IS}|"
    rf"anything but|alternative to|away from|clear of|(?:as|so) long as it(?:'?s| is) not|"
    rf"(?:do{_NT}|never) (?:suggest|recommend|include|mention)) "
)
_DISLIKE_BEFORE = re.compile(
    rf"{_DISLIKE_BEFORE_CUES}(?:the (?:whole )?|any |all |some |certain |(?:some|certain) (?:kinds?|types?|sorts?) "
    rf"of )?{_SLOT}$"
)
#: Dislike cues that hold only right after an entity: "X is exactly what I wanted to avoid".
_DISLIKE_AFTER_CUES = r" is (?:exactly |precisely |just )?what i (?:wanted|want|was trying) to avoid"
_DISLIKE_AFTER = re.compile(rf"^(?: stuff| things)?{_DISLIKE_AFTER_CUES}")
#: A negated dislike is a (mild) like: "I don't mind X", "I'm not against X", "I wouldn't say no to X".  It holds
#: for the entities of its own clause, and overrules a cue in a clause naming no entity; a cue of another entity's
#: own clause stands: "I don't mind X anymore, but please skip Y" and "I'm fine with X; it's Y I could do without"
#: dislike Y (read as liking it: 26 dislike_moved news over 1,500 LongTerm episodes, with "could do without", which
#: was no dislike cue).
_NOT_AGAINST = re.compile(rf"\b(?:do{_NT} mind|not against|not opposed|wouldn'?t say no|in a good way|"
                          r"could be worse)")
#: A clause that is only "only Y" after a clause with `_NOT_AGAINST`: what the user still minds ("I don't mind X
#: on the whole anymore, only Y"): Y is disliked.
_ONLY_MINDED = re.compile(rf"^ ?(?:but )?(?:only|just) (?:the )?{_SLOT}(?: now| these days)? ?$")
#: A sentence naming nothing that rejects what the sentence before named: "Why is X in there? I'm not into it."
_FOLLOW_UP_CUES = (r"(?:absolutely not|not my \w+|i'?m not (?:into|a fan of) it|i (?:can'?t|cannot) stand it|"
                   r"i (?:really )?(?:hate|dislike) it|no way|hard pass)\b")
_FOLLOW_UP = re.compile(rf"^\W*{_FOLLOW_UP_CUES}")
#: Any cue a dislike is read by, anywhere in a lowercase message (`_DISLIKE`, `_DISLIKE_BEFORE`, `_DISLIKE_AFTER`,
#: `_FOLLOW_UP`, and `_NOT_AGAINST`, which "only Y" after it needs): a message with none, its cue words mended
#: (`_mend`), states no dislike, and `WorldKnowledge.named` need not read it.
_MAY_DISLIKE = re.compile("|".join((_DISLIKE.pattern, _DISLIKE_BEFORE_CUES, _DISLIKE_AFTER_CUES, _FOLLOW_UP_CUES,
                                    _NOT_AGAINST.pattern)))
#: What every `_MAY_DISLIKE` match holds, a test far cheaper than the search (~3 against ~16 us a message; 78% of the
#: messages `generic` reads for dislikes fail it, 1.9% of a step's instructions): one of `_MAY_DISLIKE_WORDS` as a
#: whole word (`_WORD`: a cue's word between blanks or an apostrophe, "no", "not", the "don" of "don't"), or one of
#: `_MAY_DISLIKE_PARTS` anywhere (a cue whose last word may run on, "hate" of "hateful", or may follow a letter, "no
#: way"; the words of a cue that are common alone, "can't stand", "take out", "anything but").
_MAY_DISLIKE_WORDS = frozenset((
    "zero", "hard", "least", "not", "never", "don", "dont", "didn", "didnt", "doesn", "doesnt", "isn", "isnt", "wasn",
    "sn", "wouldn", "wouldnt", "drive", "drives", "rub", "rubs", "bore", "bores", "tired", "sick", "fed", "kinda",
    "steer", "rather", "lukewarm", "hit", "tune", "no", "skip", "skipping", "pass", "drop", "remove", "annoying",
    "awful", "terrible", "bad", "boring", "irritating", "overrated", "unbearable", "dreadful", "horrible",
    "alternative"))
_MAY_DISLIKE_PARTS = ("hate", "hating", "loathe", "despise", "detest", "dislike", "t stand", "t bear", "breaker",
                      "worst", "keen", "scream", "me off", "me cold", "tiresome", "kind of over", "away", "without",
                      "indifferent", "meh", "avoid", "not ", "no way", "good way", "worse", "or leave", "leave out",
                      "take out", "swap out", "cut out", "anything but", "clear of")
#: Before an entity the user takes back: "I meant Y, not X", "Y instead of X", "scratch X" (not "as long as it's not
#: X", a dislike: `_DISLIKE_BEFORE`).
_RETRACT_BEFORE = re.compile(
    r"(?:(?<!why )(?<!long as it's )(?<!long as its )(?<!long as it is )\bnot|\binstead of|\brather than|"
    r"\bmixed (?:it|them) up with|\bscratch) (?:the )?$")
#: Before an entity the user no longer cares for, which is no dislike either: "I've moved on from X", "I've gone off
#: X", "more into Y than X" (or "then X", as it is often misspelt), "less X".  What was noted of it is void, as
#: after a slip.
_NO_LONGER_BEFORE = re.compile(
    r"(?:moved on from|gone off|drifted away from|lost (?:all |my )?interest in|"
    r"(?:i'?m|am) (?:kind of |kinda |so )?past|used to (?:like|love|enjoy|be into)|\bless|not so much|\bthan|"
    rf"\bmore into {_SLOT} then) "
    r"(?:the )?$")
#: After an entity the user no longer cares for: "I'm not really into X anymore" forgets X, it states no dislike.
_NO_LONGER_AFTER = re.compile(r"^(?: stuff| things)? any ?more\b")
#: Before and after an entity: a lack of interest said with a time word, "I don't care much for X these days": an
#: interest lost, as with "anymore", not a dislike (read as one: 2 of 6 gone_off news over 1,500 LongTerm episodes).
#: Without the time word it is a dislike ("I don't much care for X").
_UNCARING_BEFORE = re.compile(
    rf"\b(?:do{_NT} (?:really )?care (?:much |all that much )?for|(?:i'?m|am) not (?:really |that )?(?:into|"
    r"interested in)) (?:the )?$")
_NOW_AFTER = re.compile(r"^(?: stuff| things)? (?:these days|lately|nowadays)\b")
#: Before and after an entity named as part of what the sentence says of another: "I can't stand pop now, not just
#: K-pop", "Lately I could do without team sports, rugby included", "I love jazz, bebop included".  It takes that
#: other's stance: read alone, K-pop and rugby were liked (4 of 4 widened dislikes over 1,500 LongTerm episodes).
_PART_BEFORE = re.compile(r"\b(?:not (?:just|only)|including) (?:the )?$")
_PART_AFTER = re.compile(r"^ included\b")
#: After an entity the user takes back: "X was a slip".
_RETRACT_AFTER = re.compile(r"^ (?:was|is) (?:a |my )?(?:slip|typo|mistake|wrong)")
#: "X, wait, make that Y": X is taken back and Y said as X was (read as liked: 5 noisy "I can't stand X, sorry, make
#: that Y" over 1,500 LongTerm episodes).
_MIND_CHANGE = "make that"
#: The words of the stance cues a slip of the finger may hit (four letters or more: shorter ones are typed right),
#: and the cue phrases whose short words a missed space may join ("moved onfrom", "notso much", "faraway from me").
#: Misspelt or joined, the cue was missed: 20 "I've moved on from X" / "I'm past X" news and complaints over 1,500
#: LongTerm episodes read as liking X, 13 dislikes as likes ("I'm notinto that", "I despsie X").
_CUE_WORDS = ("moved", "from", "past", "used", "much", "less", "than", "gone", "lost", "interest", "drifted",
              "anymore", "keen", "into", "enjoy", "care", "dislike", "despise", "hate", "loathe", "detest", "stand",
              "skip", "avoid", "hard", "scream", "wanna", "away", "favorite", "lukewarm")
_JOINABLE = ("moved on from", "not so much", "far away", "not into", "not keen", "not a fan", "i dont", "i do not",
             "but not")
#: A slip that makes another word is that word: "form" is no "from", "slip" no "skip", "had" no "hard".
_REAL_WORDS = frozenset({"form", "pat", "pats", "list", "lot", "lots", "hare", "lathe", "sand", "sip", "slip", "avid",
                         "had", "scram", "leds"})
_KEY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _slips(word: str) -> set[str]:
    """The word as a slip of the finger types it: one inner letter (never the first) swapped with the next, left
    out, doubled or hit as the key beside it."""
    out = set()
    for i in range(1, len(word) - 1):
        row = next((r for r in _KEY_ROWS if word[i] in r), "")
        j = row.find(word[i])
        near = {row[j - 1] if j > 0 else "", row[j + 1:j + 2]} - {""}
        out |= {word[:i] + word[i + 1] + word[i] + word[i + 2:], word[:i] + word[i + 1:], word[:i] + word[i] + word[i:],
                *(word[:i] + n + word[i + 1:] for n in near)}
    return out - {word}


def _mending() -> dict[str, str]:
    """A misspelt or joined cue word -> the cue's words (`_CUE_WORDS`, `_JOINABLE`), less what is a word itself."""
    mend = {slip: word for word in _CUE_WORDS for slip in _slips(word) - _REAL_WORDS}
    for phrase in _JOINABLE:
        mend.update({a + b: f"{a} {b}" for a, b in pairwise(phrase.split()) if len(a) <= 3 and 2 <= len(b) <= 4})
    return mend


_MENDED = _mending()
_WORD = re.compile(r"[a-z]+")
#: How much of a masked sentence before and after an entity its bound cues are looked for in: longer than the
#: longest bound cue (`_DISLIKE_BEFORE`, `_RETRACT_BEFORE`, `_NO_LONGER_BEFORE`, `_LIKE_BEFORE` and the cues
#: after an entity, with the words a look-behind or `\b` needs before it), so the window finds what the whole
#: sentence would.
_CUE_WINDOW = 80
#: Words of a request for things like its topic rather than about the topic itself: "things worth checking out if I
#: like X", "something related to X", "What else should I try?", "a playlist inspired by X", "exercises that help
#: with X" (`WorldKnowledge.asks_for_like`).
_LIKE_REQUEST = re.compile(
    r"\bif i(?:'m| am)? (?:like|love|enjoy|into)\b|\b(?:something|pick|positions)\b[^.?!]*\brelated to\b|"
    r"\bwhat else\b|\blineup inspired by\b|\bbinge-worthy\b|\bexercises that help with\b|\bwarm up before\b|"
    r"\btraining for something\b|\bsimilar to\b|\bhooked on\b")
#: Words one of which every `_LIKE_REQUEST` match holds: most messages hold none, and testing for them (2-3 us a
#: message) is far faster than the search (20-70 us, against ~70 us for `generic`'s whole step).
_LIKE_WORDS = ("if i", "related", "what else", "inspired by", "binge-worthy", "help with", "warm up before",
               "training for something", "similar to", "hooked on")
#: A complaint that the answer repeats an earlier one: "That's the same list as last time.", "I've seen these".
_SAME_AGAIN = re.compile(r"\bsame (?:list|suggestions?|answer|ones|things|stuff)\b|\balready (?:seen|suggested|said|"
                         r"got|had) (?:these|those|them|this|that)\b|\bsuggested (?:exactly )?these already\b")


#: Openings with a question word that state rather than ask: a pseudo-cleft, whose "what" clause is the subject of a
#: second "is" ("What is lovely is jazz", "What's great about jazz is the sound"; a question's copula takes a
#: noun phrase: "What is the best album", "What are some albums that are short"), and a relative "which" going on
#: from what was said before ("Which is why I asked", "You included sushi, which I can't stand": its subject
#: follows it, or what it is explains or judges).
_STATES = (
    r"what(?:'s| is| was)(?: (?!(?:the|a|an|it|this|that|these|those|there|your|my|some|any|which|who)\b)[^\s,;:]+)"
    r"{1,5} (?:is|was|are|were)\b|"
    r"which (?:(?:is|was|'s) (?:why|how|when|where|what|because|exactly|just|also|not|fine|great|nice|ok|okay|cool|"
    r"perfect|annoying|a shame|a pity|too bad)|i|i'm|i've|i'd|i'll|we|we're|he|she|they|(?:also |really |just )?"
    r"(?:means|meant|makes|made|explains|explained))\b")
#: A sentence that asks for something by its opening, after any lead-in ("Okay, question: ", "Also, "): "Can you
#: ...", "Recommend ...", "I need ...", "I'm looking for ...", "What's a good ..." (not `_STATES`).  A question mark
#: says so too.
_REQUEST_OPENING = re.compile(
    r"^ *(?:[\w' ]{1,30}[,:] )*(?:(?:and|so|but|also|now|then|oh|ok(?:ay)?|please|just|hi|hey|hello|right|alright|"
    r"well|lol|mkay|yeah) )*"
    r"(?:(?:can|could|would|will) (?:you|i|we)\b|please\b|any\b|got any\b|"
    r"(?:recommend|suggest|give|tell|show|help|find|write|plan|list|make|share|explain|describe|draft|create|"
    r"compare|name|pick|teach|summari[sz]e|sum up|walk|talk|map|put|point|throw|hit me|sketch|design|build|break down|"
    r"lay out|outline|compile|entertain|sort|turn|get me|prepare|organi[sz]e|brainstorm|quiz|do|handle|fix|"
    r"improve|tweak|clean|tidy|figure)\b|"
    r"(?:i'?m |i am |we'?re )?(?:looking|searching|hoping) for\b|(?:i'?m|i am|we'?re) planning\b|i (?:need|want)\b|"
    r"i(?:'d| would) (?:like|love|appreciate)\b|i could use\b|"
    # a pseudo-cleft of a request: "What I need is ...", "What I'd like is ...", "What I'm looking for is ..."
    r"what (?:i|we) (?:really )?(?:need|want)\b|what (?:i|we)(?:'d| would) (?:really )?(?:like|love|appreciate)\b|"
    r"what (?:i'?m|i am|we'?re) (?:looking|hoping|searching) for\b|"
    rf"(?!{_STATES})(?:which\b|(?:what|where|how|who|why|when)(?:'s|'re|'d|'ll| is| are| was| were| do| does| did|"
    r" can| could| should| would| will| to| kind| sort| type| much| many| long| often| about| else| exactly| if)\b)|"
    r"(?:is|are) there\b|do you\b|should i\b)")
#: Before an entity in its clause, words that say the user likes it, in a request too: "if I like X", "since I'm
#: into X", "my passion for X", "I'm a big fan of X", a pseudo-cleft "What's lovely is X".  Asking about X alone says
#: no such thing.
_LIKE_BEFORE = re.compile(
    r"\bi (?:really |absolutely |also |just |do |totally |genuinely |truly )?(?:love|adore|enjoy|like)\b|"
    r"\b(?:i'?m|i am|i'?ve (?:always )?been|i have (?:always )?been)(?: (?:really|so|totally|also|just|still|"
    r"getting|back|big|huge|very))* (?:into|hooked on|obsessed with|passionate about|crazy about|mad about|"
    r"(?:an? )?(?:big |huge |massive )?fan of|big on|keen on|doing)\b|"
    r"\b(?:my|our) (?:\w+ )?(?:interest|passion|love) (?:in|for)\b|\bpassion for\b|\bhooked on\b|\bfan of\b|"
    r"\bmy (?:absolute |all-time )?favou?rite\b|"
    rf"{_CLEFT} (?:(?:really|so|truly|just|most|the most) )?{_CLEFT_GOOD}{_CLEFT_IS}\b")
#: After an entity, words that say the user likes it: "a jazz fan", "jazz is my favourite".
_LIKE_AFTER = re.compile(r"^(?: (?:fan|lover|nerd|enthusiast|buff|person)s?\b| (?:is|are) my (?:\w+ )?"
                         r"(?:favou?rite|thing|jam|passion|obsession)\b)")
#: The opening of a sentence that asks aside from the conversation ("Unrelated, but what rhymes with orange?",
#: "Btw what's the best way to keep basil alive?"): what it names is no topic of the conversation.
_ASIDE = re.compile(r"^\W*(?:(?:oh|and|so),? )*(?:one other thing|btw|by the way|also quick thing|while i have you|"
                    r"unrelated|not related|totally different question|random(?:ly)? but|separately|(?<=and )hey,|ps\b|"
                    r"side question|while i'?m thinking of it|(?<=oh )also\b|(?<=oh, )also\b|wait,? and|plus,)")
#: After an entity, the words that make it the frame of a request about the next entity rather than its subject:
#: "a practice exercise on Y", "the history behind Y", "mentoring someone who's interested in Y", "a game night
#: with a Y twist", "the logistics for a Y outing", "teaching myself Y" (read as the subject, the frame's entity
#: headed 5% of the tracker's answers to requests: "Happy to help with fitness & exercise." to a C++ exercise);
#: not who the request is for ("the economy for my book club", "for a bunch of college friends") nor where ("jazz
#: around Cape Town", "see jazz live in Kyoto").
_FRAME_AFTER = re.compile(
    rf"^(?:(?:[ -][\w'-]+){{0,8}}? (?:on|about|behind|(?<!bunch )(?<!group )(?<!couple )of|for|(?:help|in|make) with|"
    rf"with an?)|(?:[ -][\w'-]+){{1,8}}?(?<! live) (?:around|in))? (?:(?:an?|the|some) )?{_SLOT}")
#: Before an entity, the words that make it what a request is about, which no frame after it undoes ("a practice
#: exercise on Y for a bunch of college friends", "a short guide to Y in Dubai").
_SUBJECT_BEFORE = re.compile(
    r"\b(?:on|about|around|behind|of|for|in|with|into|to|by|myself) (?:(?:an?|the|my|some) )?$")
#: A question that only names things ("Jazz?", "The Premier League?", as in "Jazz? My absolute favourite.") puts
#: them up front for the sentence after it; it asks for nothing.
_ONLY_NAMES = re.compile(rf"^(?:\W|{_SLOT}|\band\b|\bor\b|\bthe\b)*$")


#: A clause that only goes on with a list begun in the clause before: "B and C" in "I dislike A, B and C".
_LIST_GOES_ON = re.compile(rf"^ ?(?:(?:and|or|nor|&) )?{_SLOT}(?: ?(?:,|and|or|nor|&) {_SLOT})*"
                           r"(?: (?:please|thanks|either|too|at all|etc))? ?$")
#: A clause that starts with an entity: " C and D are the worst" in "A, B, C and D are the worst".
_STARTS_WITH_ENTITY = re.compile(rf"^ ?(?:(?:and|or|nor|&) )?{_SLOT}")


def _one_stance_a_list(said: list[tuple[str, int, bool]], clauses: list[str]) -> list[tuple[str, bool]]:
    """(node, disliked) of a sentence's entities, a list split over clauses having one stance.

    `said` holds each entity's clause and the stance read from its own clause; `clauses` the masked clause
    texts.  A clause that is only a list (`_LIST_GOES_ON`) joins the clause before it, and a clause that
    starts with an entity joins a list clause before it: in such a run, a list clause takes the stance of the
    nearest clause before it that is more than a list ("I dislike A, B and C", "no A, B or C"), else of the
    nearest after it ("A, B and C are the worst").  Read clause by clause, B and C were liked.
    """
    pure = [_LIST_GOES_ON.match(c) is not None for c in clauses]
    run = [0] * len(clauses)  # each clause's run, numbered by its first clause
    for k in range(1, len(clauses)):
        joins = pure[k] or (pure[k - 1] and _STARTS_WITH_ENTITY.match(clauses[k]) is not None)
        run[k] = run[k - 1] if joins else k
    ends: dict[int, tuple[bool, bool]] = {}  # clause -> (stance of its first entity, of its last)
    for _, clause, disliked in said:
        ends[clause] = (ends.get(clause, (disliked,))[0], disliked)
    # each clause's nearest clause before (after) it in its run that is more than a list and names an entity:
    # found in one pass each way (looked up per entity, a sentence listing n entities took n**2 steps)
    stated = [not pure[k] and k in ends for k in range(len(clauses))]
    before: list[int | None] = [None] * len(clauses)
    after: list[int | None] = [None] * len(clauses)
    for k in range(1, len(clauses)):
        if run[k] == run[k - 1]:
            before[k] = k - 1 if stated[k - 1] else before[k - 1]
    for k in range(len(clauses) - 2, -1, -1):
        if run[k] == run[k + 1]:
            after[k] = k + 1 if stated[k + 1] else after[k + 1]
    out = []
    for node, clause, disliked in said:
        if pure[clause]:
            if before[clause] is not None:
                disliked = ends[before[clause]][1]
            elif after[clause] is not None:
                disliked = ends[after[clause]][0]
        out.append((node, disliked))
    return out


def _as_the_whole(stances: list[tuple[str, bool]], parts: list[bool]) -> list[tuple[str, bool]]:
    """(node, disliked) of a sentence's entities, each named as part of another (`_PART_BEFORE`, `_PART_AFTER`)
    taking the stance of the nearest entity before it that is not such a part, else of the nearest after it;
    with none, it keeps its own."""
    wholes = [k for k, part in enumerate(parts) if not part]
    if not wholes:
        return stances
    out = []
    for k, (node, disliked) in enumerate(stances):
        if parts[k]:
            whole = max((w for w in wholes if w < k), default=None)
            disliked = stances[whole if whole is not None else min(w for w in wholes if w > k)][1]
        out.append((node, disliked))
    return out


def _masked(chunk: str, spans: list[tuple[int, int]]) -> tuple[str, list[int]]:
    """`chunk` with each mention span replaced by `_SLOT` (whitespace normalised, cue words mended: `_mend`), and
    each slot's offset."""
    parts, pos = [], 0
    for start, end in spans:
        parts += [chunk[pos:start], f" {_SLOT} "]
        pos = end
    text = _mend(" ".join(("".join(parts) + chunk[pos:]).split()))
    return text, [i for i, ch in enumerate(text) if ch == _SLOT]


def _mend(masked: str) -> str:
    """A masked sentence with its misspelt and joined cue words typed right (`_MENDED`), so its cues read."""
    return _mended(masked)[0]


def _mended(masked: str) -> tuple[str, list[str]]:
    """`_mend`'s sentence and its words (`_WORD`)."""
    words = _WORD.findall(masked)
    if _MENDED.keys().isdisjoint(words):  # most sentences: nothing to mend
        return masked, words
    masked = _WORD.sub(lambda m: _MENDED.get(m.group(0), m.group(0)), masked)
    return masked, _WORD.findall(masked)


def _may_dislike(lower: str) -> bool:
    """Whether a lowercase message holds a cue a dislike is read by (`_MAY_DISLIKE`), its cue words mended
    (`_mend`); the search runs only on a message with a word or part every cue holds."""
    lower, words = _mended(lower)
    if _MAY_DISLIKE_WORDS.isdisjoint(words) and not any(part in lower for part in _MAY_DISLIKE_PARTS):
        return False
    return _MAY_DISLIKE.search(lower) is not None


def _clause_cues(masked: str) -> tuple[list[tuple[int, int]], list[bool]]:
    """Each clause's span in a masked sentence and whether it holds a dislike cue."""
    clauses = [(m.start(), m.end()) for m in _CLAUSE.finditer(masked)]
    return clauses, [_DISLIKE.search(masked[a:b]) is not None for a, b in clauses]


def _corrected(before: str, after: str) -> bool:
    """True for X in "swap X for Y" ("swap out X" is a dislike) and in "I said X but I meant Y"."""
    return (before.endswith("swap ") and after.startswith(f" for {_SLOT}")) or (
        before.endswith("i said ") and after.startswith((" but i meant", " but meant")))


def _asks(masked: str, question: bool) -> bool:
    """Whether a sentence (lowercase, its mentions masked) asks for something: a question that does more than name
    things, or a request's opening (after a lead-in that names nothing: "Jazz, any day." asks for nothing)."""
    return (question and not _ONLY_NAMES.match(masked)) or _REQUEST_OPENING.match(masked) is not None


def asks(text: str) -> bool:
    """Whether a message asks for something (an answer is then awaited): one of its sentences is a question or
    opens as a request does (`_REQUEST_OPENING`: "Recommend ...", "I need ...", "What's a good ..."), wherever
    it stands ("I love jazz. Recommend some albums." asks).  A statement ("I tend to enjoy archery.") asks
    nothing."""
    lower = text.lower()
    return any(_asks(m.group(0), lower.startswith("?", m.end())) for m in _SENTENCE.finditer(lower))


def sentences(text: str) -> list[str]:
    """The sentences of a text as `WorldKnowledge` reads them (`_SENTENCE`), without their end marks."""
    return _SENTENCE.findall(text)


class WorldKnowledge(SharedOnCopy):
    """Implements `personagym.policies.base.Knowledge` over the shipped data."""

    def __init__(self, schema: PersonaSchema, analyzer: ResponseAnalyzer) -> None:
        self.schema = schema
        self.taxonomy = schema.taxonomy
        self.analyzer = analyzer
        self._related: dict[str, tuple[str, ...]] = {}  # node -> `related(node)`, filled as policies ask
        self._last_read: tuple[str, _Reading] | None = None

    @cached_property
    def followed(self) -> frozenset[str]:
        """The nouns (`noun`) of the nodes one reads up on rather than enjoys, the concerns, news stories and
        calamities of history (`FOLLOWED_KINDS`): what answers recommend as reading (`AnswerPlan.followed`)."""
        kind = self.taxonomy.kinds
        return frozenset(self.noun(n) for n in self.taxonomy.ids if kind[n] in FOLLOWED_KINDS)

    @cached_property
    def _phrases(self) -> list[tuple[str, str, str]]:
        """(lowercase phrase, attribute, value), longest first so specific phrases win; news phrases ("we just
        had a baby") state their value too.

        A phrase that starts with "please" also counts without it: a template
        that already says "please" drops the phrase's ("Please adjust: keep a
        professional register.").
        """
        out = []
        for attr in self.schema.attributes.values():
            for value, phrases in (*attr.phrases.items(), *attr.news.items()):
                for p in phrases:
                    lower = p.lower()
                    out.append((lower, attr.name, value))
                    if lower.startswith("please "):
                        out.append((lower[7:], attr.name, value))
        return sorted(out, key=lambda x: -len(x[0]))

    @cached_property
    def _phrase_index(self) -> tuple[dict[str, list[int]], list[int]]:
        """Where to look for the attribute phrases a text may hold (`_phrases`): their indices by their first
        `_GRAM` characters, and those of the phrases shorter than that.  A phrase can be in a text only if its
        first characters are: looking up the text's own `_GRAM`-grams finds every phrase that `str.find` over all
        of them would (455 finds a message were two thirds of reading it)."""
        index: dict[str, list[int]] = {}
        short = []
        for i, (phrase, _, _) in enumerate(self._phrases):
            if len(phrase) < _GRAM:
                short.append(i)
            else:
                index.setdefault(phrase[:_GRAM], []).append(i)
        return index, short

    def _phrases_in(self, lower: str) -> list[int]:
        """The indices in `_phrases` of the phrases that may be in the lowercase text, in their order."""
        index, short = self._phrase_index
        grams = {lower[i:i + _GRAM] for i in range(len(lower) - _GRAM + 1)}
        return sorted(chain(short, *(index[g] for g in grams if g in index)))

    def mentions(self, text: str) -> list[tuple[str, str]]:
        """(node id, stance) of taxonomy entities a text mentions."""
        return self.analyzer.mentions(text)

    def named(self, text: str) -> list[str]:
        """The entities a text mentions (`mentions`), less those it says the user dislikes: what an assistant may
        take for a topic ("Do not suggest horror movies." names none: taken for one, `generic` headed 15 of 15
        answers to such a disclosure with "Happy to help with horror movies.")."""
        mentioned = [node for node, _ in self.mentions(text)]
        if not mentioned or not _may_dislike(text.lower()):  # most messages: no dislike to read for
            return mentioned
        disliked = {value for key, value, _ in self.statements(text) if key == "dislikes"}
        return [node for node in mentioned if node not in disliked]

    def name(self, node: str) -> str:
        """A node's name as it reads mid-sentence."""
        return self.taxonomy.nodes[node].name

    def noun(self, node: str) -> str:
        """A node's name as a noun in running text: "the Cold War" for a name that takes the article."""
        name = self.taxonomy.nodes[node].name
        return f"the {name}" if name.lower() in self.taxonomy.definite else name

    def suggestions(self, topic: str, draw: Callable[[int], int], picks: int = 3) -> list[str]:
        """What the `generic` policy suggests on a topic, as nouns: up to `picks` related entities drawn with
        `draw(n)` (an index in [0, n)), in case-blind name order; not the topic itself, which answers no
        question about it.  Structured-v0's generic analogue suggests the same from the same draws."""
        related = self.related(topic)
        drawn = {related[draw(len(related))] for _ in range(picks)} if related else set()
        return [self.noun(n) for n in sorted(drawn, key=lambda n: self.name(n).lower())]

    def lineage(self, node: str) -> tuple[str, ...]:
        """The node and its ancestors: what recommending back to a request about the node says nothing new
        ("I'd suggest jazz." to a question about jazz albums earns nothing)."""
        return tuple(self.taxonomy.paths[node])

    def related(self, node: str) -> list[str]:
        """Children of the node, or its siblings for a leaf, grouping nodes left out ("cuisines" is no
        suggestion); a fresh list: callers may change it."""
        related = self._related.get(node)
        if related is None:  # the taxonomy never changes, so each node's answer is worked out once
            tax = self.taxonomy
            near = tax.children[node] or tax.siblings(node)
            related = self._related[node] = tuple(n for n in near if not tax.nodes[n].group)
        return list(related)

    def suggestible(self, node: str) -> bool:
        """Whether a node names something to try: not a whole top-level category ("food & cooking") nor a
        grouping node ("cuisines")."""
        return len(self.taxonomy.paths[node]) > 1 and not self.taxonomy.nodes[node].group

    def leaf(self, node: str) -> bool:
        """Whether nothing is under a node: a request about it itself ("an overview of the Black Death") is
        answered by it, not by the things beside it."""
        return not self.taxonomy.children[node]

    def category(self, node: str) -> str:
        """Top-level category id."""
        return self.taxonomy.top_category(node)

    def area(self, node: str) -> str:
        """The node's area (`taxonomy.area_of`): what the reward counts as on a request about it."""
        return self.taxonomy.area(node)

    def tags(self, node: str) -> frozenset[str]:
        """Constraint tags of a node."""
        return self.taxonomy.nodes[node].tags

    def multi_valued(self, attribute: str) -> bool:
        """Whether an attribute holds several values at once (food allergies, pets): a new one adds, not replaces."""
        attr = self.schema.attributes.get(attribute)
        return attr is not None and attr.type == "multi"

    def forbidden_tags(self, attribute: str, value: str) -> frozenset[str]:
        """Tags an attribute value forbids."""
        attr = self.schema.attributes.get(attribute)
        return attr.forbidden_tags(value) if attr is not None else frozenset()

    def statements(self, text: str) -> list[Statement]:
        """Preferences a user message states, as (key, value, polarity).

        Attribute phrases are matched verbatim (case-insensitive).  An entity
        is liked by default (people ask about what they care for) and
        disliked when a dislike cue is in its clause, in a clause of its
        sentence that names no other entity, or bound to it ("no X", "avoid
        X"); a negated dislike ("I don't mind X") is a like in its clause
        ("I don't mind X, but skip Y" dislikes Y).  Entities the message
        takes back (see `retractions`) state nothing.  The likes read
        from requests alone are in `asked` too.
        """
        return list(self._read(text)[0])

    def retractions(self, text: str) -> list[str]:
        """Nodes a user message takes back as said by mistake.

        A correction ("I meant Y, not X", "Y instead of X", "X was a slip",
        "swap X for Y") or a change of mind ("X, wait, make that Y") names X
        without stating anything about it: an assistant should forget what it
        noted about X from the earlier message.
        """
        return list(self._read(text)[1])

    def lost(self, text: str) -> list[str]:
        """Nodes a user message says the user no longer cares for: "I'm past X", "I've moved on from X", "more
        into Y than X", "I'm not really into X anymore", "I don't care much for X these days".

        They are among `retractions` (what was noted of them is void, and no
        dislike is stated), but unlike a slip they are no thing to offer:
        the user has just said they are done with it.
        """
        return list(self._read(text)[3])

    def corrected(self, text: str) -> list[str]:
        """Nodes a message that takes back a slip names in its place with no words of liking: "Sorry, I meant Y,
        not X", "No, Y. I mixed it up with X".

        `statements` reads them as liked (people ask about what they care
        for), but a correction says Y as the slip said X: after "I can't
        stand X", Y is disliked.  A message alone cannot tell which, so the
        memory of what was said does (`StatedProfile.hear`).
        """
        return list(self._read(text)[5])

    def asked(self, text: str) -> list[str]:
        """Entities a user message names only in asking for something, in text order: its request's topic first.

        `statements` reads them as liked, as an assistant should (people ask
        about what they care for), but asking claims nothing: "Can you help me
        plan a hiking trip?" comes from hikers and from people who never hiked.
        A sentence asks when a question mark ends it (unless it only names
        things: "Jazz? My favourite."), when it opens as a request does
        (`_REQUEST_OPENING`: "Recommend ...", "I need ...", "What's a good
        ..."), or when it sets up a question that names nothing ("I keep
        hearing about X. Where should a beginner begin?").  Words that say the
        user likes an entity ("if I like X", "as a jazz fan") make it a claim
        (`claims`), in a request too.
        """
        out, _, asked, *_ = self._read(text)
        return [out[i][1] for i in asked]

    def subjects(self, text: str) -> list[str]:
        """What a user message asks about, its request's subject first: the entities its requests name that it
        neither dislikes nor takes back, liked or not ("Since I'm into jazz, what should I try?" asks about jazz).

        A request's own noun, which frames an entity after it ("a practice
        exercise on C++", "the history behind X", "mentoring someone who's
        interested in X"), comes after the entities it frames; a question
        asked aside ("Btw what time is it in Tokyo?") is about nothing the
        conversation is.  Empty for a message that asks nothing (a
        disclosure, an answer to a question, a complaint): it keeps the
        conversation on its topic.
        """
        return list(self._read(text)[4])

    def claims(self, text: str) -> list[Statement]:
        """`statements` less the likes read from requests alone (`asked`): what a message says the user is."""
        out, _, asked, *_ = self._read(text)
        from_requests = set(asked)
        return [statement for i, statement in enumerate(out) if i not in from_requests]

    def _read(self, text: str) -> _Reading:
        """Statements and retractions of a message, and which statements are read only from requests (the last
        message's are kept: callers ask for several)."""
        if self._last_read is not None and self._last_read[0] == text:
            return self._last_read[1]
        lower = text.lower()
        out: list[Statement] = []
        taken: list[tuple[int, int]] = []
        phrases = self._phrases
        for i in self._phrases_in(lower):
            phrase, attribute, value = phrases[i]
            pos = lower.find(phrase)
            if pos >= 0 and not any(a <= pos < b for a, b in taken):
                taken.append((pos, pos + len(phrase)))
                out.append((attribute, value, 1))
        retracted: list[str] = []
        lost: list[str] = []  # of `retracted`, what the user no longer cares for
        asked: list[int] = []  # indices in `out` of likes read from a request alone
        #: (index in `out`, masked sentence, where its like words would start and end, what follows) of each like
        unworded: list[tuple[int, str, int, int, str]] = []
        about: list[tuple[bool, str]] = []  # (a request's frame, node) of what requests name (`subjects`)
        previous: list[int] = []  # indices in `out` of the last sentence's liked entities
        parts = []  # (sentence, its mentions, whether a question mark ends it)
        for sentence in _SENTENCE.finditer(lower):
            chunk, base = sentence.group(0), sentence.start()
            # "not my cup of tea" names no tea, and an attribute's own words no
            # entity ("I can't really travel right now" likes no travel, "I live in a big city" no big cities)
            found = [f for f in self.analyzer.find_mentions(chunk) if not chunk[: f[1]].endswith(_IDIOM_HEADS)
                     and not any(a < base + f[2] and base + f[1] < b for a, b in taken)]
            parts.append((chunk, found, lower.startswith("?", sentence.end())))
        for k, (chunk, found, question) in enumerate(parts):
            if not found:
                if previous and _FOLLOW_UP.match(chunk):  # "Why is X in there? I'm not into it."
                    for i in previous:
                        out[i] = ("dislikes", out[i][1], -1)
                previous = []
                continue
            masked, slots = _masked(chunk, [(start, end) for _, start, end, _ in found])
            # it asks, or sets up a question that names nothing ("I keep hearing about X. Where do I begin?")
            asking = _asks(masked, question)
            sets_up = k + 1 < len(parts) and not parts[k + 1][1] and _asks(parts[k + 1][0], parts[k + 1][2])
            request = asking or sets_up
            # what it names is what a request is about, unless it asks aside or only comes before an aside: "I can
            # travel whenever. Unrelated, but what rhymes with orange?" asks nothing about travel
            on_request = not _ASIDE.match(chunk) and (asking or (sets_up and not _ASIDE.match(parts[k + 1][0])))
            change = masked.rfind(_MIND_CHANGE)
            changed_after = bool(slots) and slots[-1] > change  # an entity follows "make that"
            clauses, cued = _clause_cues(masked)
            clause_starts = [a for a, _ in clauses]
            # a cue in a clause naming no entity is about every entity of the sentence
            lone_cue = any(cue and _SLOT not in masked[a:b] for cue, (a, b) in zip(cued, clauses, strict=True))
            # a negated dislike holds in its own clause (`_NOT_AGAINST`); "only Y" after it is what is still minded
            against = [_NOT_AGAINST.search(masked[a:b]) is not None for a, b in clauses]
            minded = [k > 0 and against[k - 1] and _ONLY_MINDED.match(masked[a:b]) is not None
                      for k, (a, b) in enumerate(clauses)]
            said: list[tuple[str, int, bool]] = []  # (node, clause, disliked) of what is not taken back
            claimed: list[bool] = []  # of each in `said`: words say the user likes it
            part_of: list[bool] = []  # of each in `said`: named as part of another (`_PART_BEFORE`, `_PART_AFTER`)
            framed: list[bool] = []  # of each in `said`: the frame of a request about an entity after it
            plain: list[tuple[str, int, int, str] | None] = []  # of each in `said`: where its like words would be
            replaced: bool | None = None  # whether what "make that" replaces was disliked (`_MIND_CHANGE`)
            for (node, *_), slot in zip(found, slots, strict=True):
                # the cues before and after an entity are short and anchored to it: read in a window around it
                # (the whole sentence before each entity made a sentence of n entities take n**2 steps)
                before, after = masked[max(0, slot - _CUE_WINDOW):slot], masked[slot + 1:slot + 1 + _CUE_WINDOW]
                gone = _NO_LONGER_BEFORE.search(before) or _NO_LONGER_AFTER.match(after) or (
                    _UNCARING_BEFORE.search(before) and _NOW_AFTER.match(after))
                if gone:
                    lost.append(node)
                own = bisect_right(clause_starts, slot) - 1  # a slot is never a clause mark: it is in a clause
                disliked = ((cued[own] or _DISLIKE_BEFORE.search(before + _SLOT) is not None
                             or _DISLIKE_AFTER.match(after) is not None) and not against[own]) or (
                    lone_cue and not any(against)) or minded[own]
                changed = 0 <= slot < change and changed_after
                if gone or changed or _RETRACT_BEFORE.search(before) or (
                        _RETRACT_AFTER.match(after)) or _corrected(before, after):
                    retracted.append(node)
                    if changed:  # the last entity before "make that" is the one replaced
                        replaced = disliked
                    continue
                said.append((node, own, disliked))
                if replaced is not None and slot > change:  # "I can't stand X, wait, make that Y": Y as X was said
                    said[-1], replaced = (node, own, replaced), None
                    plain.append(None)  # its stance is said, in its own sentence
                else:
                    plain.append((masked, max(clauses[own][0], slot - _CUE_WINDOW), slot, after))
                part_of.append(_PART_BEFORE.search(before) is not None or _PART_AFTER.match(after) is not None)
                framed.append(_FRAME_AFTER.match(after) is not None and _SUBJECT_BEFORE.search(before) is None)
                claimed.append(request and (
                    _LIKE_BEFORE.search(masked, max(clauses[own][0], slot - _CUE_WINDOW), slot) is not None
                    or _LIKE_AFTER.match(after) is not None))
            previous = []
            stances = _as_the_whole(_one_stance_a_list(said, [masked[a:b] for a, b in clauses]), part_of)
            # a request implies a liking of what it is about, not of the words around it: "a practice exercise on
            # Ancient China for a bunch of college friends" likes Ancient China, not fitness & exercise nor
            # university (read as likes, the tracker recommended such words back in 8% of its answers); one that
            # says what it likes ("a LinkedIn bio that highlights my interest in C++") implies nothing more
            only_asked = [j for j, ((_, disliked), likes) in enumerate(zip(stances, claimed, strict=True))
                          if request and not disliked and not likes]
            says_likes = any(likes and not disliked for (_, disliked), likes in zip(stances, claimed, strict=True))
            subject = None if says_likes else next((j for j in only_asked if not framed[j]),
                                                   only_asked[0] if only_asked else None)
            for j, ((node, disliked), likes, frame) in enumerate(zip(stances, claimed, framed, strict=True)):
                if on_request and not disliked:
                    about.append((frame, node))
                if j != subject and j in only_asked:
                    continue
                if not disliked:
                    if plain[j] is not None:
                        unworded.append((len(out), *plain[j]))
                    previous.append(len(out))
                    if request and not likes:
                        asked.append(len(out))
                out.append(("dislikes", node, -1) if disliked else ("likes", node, 1))
        stated = {value for key, value, _ in out if key in ("likes", "dislikes")}
        disliked = {value for key, value, _ in out if key == "dislikes"}  # a follow-up may have made one a dislike
        slipped = set(retracted) - set(lost) - stated
        # what a correction names in place of a slip, with no words of liking: it says it as the slip was said
        corrected = [out[i][1] for i, masked, start, slot, after in unworded if slipped and out[i][0] == "likes"
                     and _LIKE_BEFORE.search(masked, start, slot) is None and _LIKE_AFTER.match(after) is None]
        result = (out, [node for node in dict.fromkeys(retracted) if node not in stated],
                  [i for i in asked if out[i][0] == "likes"],
                  [node for node in dict.fromkeys(lost) if node not in stated],
                  [node for node in dict.fromkeys(n for _, n in sorted(about, key=lambda a: a[0]))
                   if node not in disliked], corrected)
        self._last_read = (text, result)
        return result

    def asks_for_like(self, text: str) -> bool:
        """Whether a user message asks for things like its topic (`_LIKE_REQUEST`: "things worth checking out if I
        like fencing", "something related to fencing"), which the things beside a topic with nothing under it
        answer, rather than about the topic itself ("a quick session focused on fencing"), which they do not."""
        lower = text.lower()
        return any(word in lower for word in _LIKE_WORDS) and _LIKE_REQUEST.search(lower) is not None

    def asks_about_itself(self, text: str) -> bool:
        """Whether a user message asks (`asks`) and not for things like what it names (`asks_for_like`): a request
        about the thing itself ("a quick session focused on fencing"), which the things beside a thing with nothing
        under it do not answer."""
        return asks(text) and not self.asks_for_like(text)

    def asks_for_new(self, text: str) -> bool:
        """Whether a user message says the answer repeats an earlier one ("That's the same list as last time.")."""
        return _SAME_AGAIN.search(text.lower()) is not None

    def random_nodes(self, draw: Callable[[int], int], k: int) -> list[str]:
        """`k` nodes drawn with `draw(n)`."""
        ids = self.taxonomy.ids
        return [ids[draw(len(ids))] for _ in range(k)]
