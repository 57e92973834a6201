"""Template answers for the built-in (non-LLM) policies.

An `AnswerPlan` says what to recommend, what to warn against, and in which
style (length, list/table/prose, formality, emoji); `compose` writes it.  The
filler sentences name no taxonomy entity, so only the planned items count as
mentions.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

#: Target words per length preference (inside the ranges users accept).  An exhaustive answer ends short of it
#: when the filler sentences run out (about 370-440 words, inside its range): no sentence is said twice.
LENGTH_WORDS = {"terse": 22, "brief": 55, "standard": 140, "detailed": 300, "exhaustive": 460}
#: How many items fit an answer of each length.
LENGTH_ITEMS = {"terse": 1, "brief": 2, "standard": 3, "detailed": 4, "exhaustive": 5}
LIST_FORMATS = {"bullets": "- ", "checklist": "- [ ] ", "outline": "- ", "pros_cons": "- ",
                "qa": "- ", "numbered_steps": "{n}. "}

_OPENERS = {
    "casual": ["Sure thing! Here are my picks for {topic}.", "Oh nice, {topic}! Here's my take."],
    "neutral": ["Here are a few suggestions for {topic}.", "Happy to help with {topic}."],
    "formal": ["Certainly. Please find below my recommendations regarding {topic}.",
               "Thank you for your question regarding {topic}; my recommendations follow."],
}
#: An opener for an answer to a request about its topic itself, a thing with nothing under it ("an overview of
#: the Black Death"): suggestions "for" it read as answering something else.
_ABOUT = {
    "casual": "Sure thing! Here's the lowdown on {topic}.",
    "neutral": "Here's an overview of {topic}.",
    "formal": "Certainly. Please find below an overview of {topic}.",
}
#: An opener for an answer with nothing to suggest: "Here are a few suggestions" before none read false.
_NOTHING_YET = {
    "casual": "Not sure yet what fits {topic} best, but here's some general stuff that helps.",
    "neutral": "On {topic}, I have no specific suggestion yet, but here are some general tips.",
    "formal": "Regarding {topic}, I do not yet have a specific recommendation; some general guidance follows.",
}
#: An opener for an answer with nothing left to suggest, its suggestions given since the request
#: (`AnswerPlan.spent`): "no specific suggestion yet" after three lists read false.
_NOTHING_MORE = {
    "casual": "That's about all I've got on {topic} for now, but here's some general stuff that helps.",
    "neutral": "That's all I have on {topic} for now, but here are some general tips.",
    "formal": "I have nothing further to add regarding {topic} at present; some general guidance follows.",
}
#: Filler sentences that pad an answer to its length, per register, presupposing nothing said before them: an
#: answer with nothing to suggest (an overview of a thing with nothing under it, most of the answers to requests
#: with a topic) had "If one suggestion does not suit you, the others still stand on their own." after no suggestion.
_GENERAL = {
    "casual": [
        "Honestly, you can't really go wrong here!",
        "It's totally fine to start small and see what sticks.",
        "Don't stress about getting it perfect, you'll figure it out as you go.",
        "Give it a week or so and you'll know what you're into.",
        "Grab a friend if you can, it's way more fun that way.",
        "No need to do it all at once, one thing at a time is plenty.",
        "Trust your gut on this one, it's usually right.",
        "Keep it chill and don't overthink it.",
        "Half the fun is figuring out what you actually like.",
        "If you get bored, that's a sign to switch things up.",
        "Seriously, even ten minutes here and there adds up.",
        "Snap a pic or jot a note so you remember the good bits.",
        "Go at your own pace, nobody's keeping score.",
        "Worst case, you learn what you don't like, which is still a win.",
        "Don't worry about the fancy stuff until you're hooked.",
        "Have fun with it, that's kind of the whole point!",
        "Honestly, the first try is always the awkward one, so go easy on yourself.",
        "If it feels like a chore, that's your cue to try something else.",
        "A little bit often beats a lot once in a while.",
        "Save the trickier stuff for when you're feeling confident.",
        "Little wins count, so give yourself credit for each one.",
        "You've got this, just take the first step and see what happens!",
        "Honestly, the basics are way easier than they look!",
        "Don't sweat the jargon, it clicks pretty fast.",
        "Once you get the big picture, the rest kinda falls into place.",
        "It's totally normal to feel a bit lost at first.",
        "Watching someone who's done it before helps a ton.",
        "Explaining it to a buddy is a fun way to check you've got it.",
        "Everybody messes up the first time, so no biggie!",
        "Follow whatever grabs your interest, that's the fun part.",
        "Keep it simple at first and build up from there.",
        "Sort out your budget and time early, it saves headaches later.",
        "Real examples beat dry theory every single time!",
        "Don't feel like you need to know it all before you start.",
        "Ask around, people love talking about this stuff.",
        "Knowing how it all got started makes the rest way more fun.",
        "Super normal to forget bits, just circle back when you need to.",
        "Yeah, the details get easier once the main idea sinks in.",
        "You'll pick up the lingo way faster than you'd think.",
        "Go with the flow and see where your curiosity takes you!",
    ],
    "neutral": [
        "Small, regular steps usually work better than one big push.",
        "It is worth checking what you already have before buying anything new.",
        "A realistic plan is one you can repeat without much effort.",
        "Try to notice what you liked about each attempt, not only the result.",
        "Setting a simple goal for the first week keeps things focused.",
        "Many people find it easier to begin on a quiet day.",
        "Reviewing your progress after a couple of weeks helps you decide what to keep.",
        "A short checklist can make the first attempt less daunting.",
        "Local groups and online forums are often a good source of practical tips.",
        "Planning the first session in advance saves time on the day.",
        "Keeping expectations modest at first makes the early results more satisfying.",
        "Trying something new at the same time each week makes it easier to stick with.",
        "It is normal for the first attempt to feel slower than later ones.",
        "Asking someone with more experience can save you a lot of trial and error.",
        "Taking a short break between attempts gives you time to reflect on what worked.",
        "The fundamentals are usually simpler than they first appear.",
        "Most of what matters here comes down to a handful of core ideas.",
        "Learning the common terms early pays off, since they come up often.",
        "A clear overview from a reliable source is a sensible place to begin.",
        "Knowing how something came about makes the details easier to follow.",
        "People often overestimate how much they need to know before starting.",
        "The details make more sense once the big picture is clear.",
        "It helps to connect new information to something you already know well.",
        "Experienced people often disagree on the finer points, which is normal.",
        "Explaining the main points to someone else is a good test of understanding.",
        "It is fine to revisit the basics whenever something feels unclear.",
        "Concrete examples usually teach more than abstract descriptions.",
        "Time and budget are worth settling early, since they shape most other decisions.",
        "Most early problems come from rushing, not from a lack of talent.",
        "Setting aside a fixed time makes it far more likely to happen.",
        "Progress is rarely steady, so a slow week is no reason to stop.",
        "Simple summaries leave things out, so the original sources are worth a look.",
        "Curiosity is a good guide, since the parts that interest you are the easiest to learn.",
    ],
    "formal": [
        "Please note that a gradual approach generally yields more reliable results.",
        "Consequently, I would recommend documenting your observations for subsequent refinement.",
        "Should further clarification be required, I would be pleased to elaborate.",
        "Accordingly, a modest initial commitment is generally preferable to an extensive one.",
        "In addition, periodic review of your progress will inform subsequent adjustments.",
        "It should be noted that individual circumstances may warrant a different sequence.",
        "Furthermore, consulting reputable sources may provide additional assurance.",
        "It is generally advisable to allocate sufficient time for preparation.",
        "Consequently, the initial phase should be regarded as an opportunity for evaluation.",
        "Additionally, maintaining a concise record of outcomes is strongly recommended.",
        "Therefore, I would suggest proceeding incrementally and reassessing as appropriate.",
        "It is, accordingly, prudent to avoid committing substantial resources prematurely.",
        "In conclusion, a deliberate and methodical approach is likely to prove most effective.",
        "Furthermore, comparable experiences of others may offer valuable guidance.",
        "It is recommended that expectations be calibrated modestly during the initial period.",
        "A consistent schedule is likely to support sustained engagement over time.",
        "It should be anticipated that initial attempts may proceed more slowly than later ones.",
        "The counsel of an experienced individual may considerably reduce unnecessary effort.",
        "Recording the rationale for each decision will facilitate a subsequent assessment.",
        "A brief interval between attempts permits a more considered evaluation of the results.",
        "It should be noted that the fundamentals are generally less complex than they initially appear.",
        "Furthermore, a sound grasp of the principal concepts will facilitate subsequent study.",
        "It is advisable to become acquainted with the relevant terminology at an early stage.",
        "Moreover, an understanding of the historical context will clarify many of the particulars.",
        "Additionally, authoritative sources are preferable to simplified secondary accounts.",
        "It is commonly observed that the broader picture renders the details more comprehensible.",
        "Nevertheless, informed opinion frequently diverges on matters of detail.",
        "Consequently, articulating the principal points to another person is a reliable test of comprehension.",
        "Therefore, concrete cases are generally more instructive than abstract description.",
        "It is prudent to determine the available time and resources at the outset.",
        "Furthermore, early difficulties are more often attributable to haste than to any lack of aptitude.",
        "Accordingly, a regular commitment of time is considerably more likely to be sustained.",
        "It should be anticipated that progress will be uneven rather than uniform.",
        "Moreover, returning to the essentials periodically is entirely appropriate.",
        "Thus, one may reasonably allow genuine interest to guide the order of study.",
        "In addition, the experience of knowledgeable practitioners may prove instructive.",
    ],
}
#: Filler sentences about the suggestions an answer has made ("Give each option a fair try"), said only after some.
_ON_OPTIONS = {
    "casual": [
        "Just pick whatever feels fun and go from there.",
        "If something doesn't click, just swap it out, no big deal!",
        "You can always come back and ask me for more ideas!",
        "Try the first one this week and see how it feels.",
        "Mix and match whatever works, there are no rules here.",
        "Tell me how it goes and I'll tweak the list for you.",
        "Pick the one that sounds most exciting right now.",
        "It's cool to skip anything that doesn't sound like you.",
        "Keep whatever you enjoy and drop the rest without a second thought.",
        "There's no wrong order here, so start wherever you like.",
    ],
    "neutral": [
        "It helps to start with one option and adjust as you learn what works for you.",
        "A good next step is to set aside a little time to try the first suggestion.",
        "Keep a short note of what you enjoyed so the next round of ideas fits even better.",
        "If you want, I can narrow these down further based on your time and budget.",
        "Each of these can be tried at your own pace, one step at a time.",
        "Consider which option fits best into your usual week.",
        "Starting with the simplest choice makes it easier to keep going.",
        "You can compare two of them side by side before deciding.",
        "If one suggestion does not suit you, the others still stand on their own.",
        "It is fine to change the order if another option appeals to you more.",
        "Give each option a fair try before ruling it out.",
        "Combining two suggestions can work well if they share the same preparation.",
        "Let me know which one you choose and I can go into more detail.",
        "The best choice is usually the one you will actually enjoy doing.",
        "It can help to decide in advance how much time you want to give each option.",
        "If two options seem equally good, the more convenient one is usually the better start.",
        "Writing down why you picked an option makes it easier to judge it later.",
    ],
    "formal": [
        "Furthermore, it is advisable to evaluate each option against your specific requirements.",
        "Additionally, these recommendations may be adjusted according to your circumstances.",
        "It is therefore prudent to prioritise the option that best satisfies your objectives.",
        "Moreover, a structured comparison of the alternatives may facilitate your decision.",
        "It would be advisable to establish clear criteria before committing to any option.",
        "Nevertheless, each alternative merits careful consideration on its own terms.",
        "Please do not hesitate to request further elaboration on any particular option.",
        "Moreover, the suitability of each option may evolve as your requirements change.",
        "It may also be beneficial to schedule a subsequent review of these recommendations.",
        "Should your circumstances change, these recommendations can be revised accordingly.",
        "Where two alternatives appear equivalent, convenience may reasonably determine the choice.",
        "Ultimately, the most appropriate option is the one that can be sustained with confidence.",
    ],
}
#: The fillers of an answer that suggests something: both kinds.
_FILLERS = {register: [*general, *_ON_OPTIONS[register]] for register, general in _GENERAL.items()}
#: Word counts of the filler sentences, per register (the general pool is their prefix: its counts are the first).
_FILLER_WORDS = {register: [len(sentence.split()) for sentence in fillers] for register, fillers in _FILLERS.items()}
#: The casual register says its suggestions out loud ("!"): "You'd probably love vermicomposting." read formal
#: enough, long nouns and all, to miss a very casual user.
_RECOMMEND = {
    "casual": "You'd probably love {item}!", "neutral": "I'd suggest {item}.",
    "formal": "I would recommend {item}.",
}
#: How a recommended concern, news story or calamity of history is put (`AnswerPlan.followed`): something to read
#: up on, not to love ("You'd probably love anxiety.", "I would recommend the war in Ukraine.": ~1% of the oracle's
#: and the tracker's answers).
_READ_ABOUT = {
    "casual": "Worth reading up on {item}!", "neutral": "I'd suggest reading up on {item}.",
    "formal": "I would recommend reading about {item}.",
}
_AVOID = {
    "casual": "I'd skip {item} though.", "neutral": "I'd avoid {item}.",
    "formal": "I would advise avoiding {item}.",
}
_REGISTER = {"very_casual": "casual", "casual": "casual", "business_casual": "neutral",
             "professional": "formal", "highly_formal": "formal"}


@dataclass
class AnswerPlan:
    """What an answer says and how."""

    topic: str | None = None
    recommend: list[str] = field(default_factory=list)
    avoid: list[str] = field(default_factory=list)
    length: str = "standard"
    layout: str = "narrative"
    formality: str = "business_casual"
    emoji: bool = False
    question: str | None = None
    #: whether the answer is about the topic itself (a leaf: `_ABOUT`), not suggestions for it
    itself: bool = False
    #: the items of `recommend` that are read about rather than enjoyed (`_READ_ABOUT`; `WorldKnowledge.followed`)
    followed: Collection[str] = frozenset()
    #: whether the suggestions for the topic were all given since the request (`RecommendedLists.spent`)
    spent: bool = False


def compose(plan: AnswerPlan, draw: Callable[[int], int]) -> str:
    """The answer text of a plan; `draw(n)` picks an index in [0, n) for variety.

    A plan that only asks is the question alone: no opener announcing
    suggestions and no filler about them.
    """
    emoji = " 🙂" if plan.emoji else ""
    if plan.question and not plan.recommend and not plan.avoid:
        return plan.question + emoji
    register = _REGISTER.get(plan.formality, "neutral")
    topic = plan.topic or "that"
    opener = _OPENERS[register][draw(2)]
    recommend, read_about, followed = _RECOMMEND[register], _READ_ABOUT[register], plan.followed
    items = [(read_about if i in followed else recommend).format(item=i) for i in plan.recommend]
    items += [_AVOID[register].format(item=i) for i in plan.avoid]
    lead = (_ABOUT[register] if plan.itself and plan.topic else opener if items
            else (_NOTHING_MORE if plan.spent else _NOTHING_YET)[register])
    lines = [lead.format(topic=topic)]
    fillers, filler_words = (_FILLERS if plan.recommend else _GENERAL)[register], _FILLER_WORDS[register]
    used: set[str] = set()  # the fillers said already: a sentence said again adds nothing a reader counts
    if not items and plan.layout != "narrative":
        # an answer with nothing to suggest (an overview of the topic itself, general tips) is laid out as asked
        # too: its points as the list's items or the table's rows (said as plain text, it missed every user's
        # preferred layout, and an answer padded with any one liked thing, a one-row table, beat it in style)
        first = draw(len(fillers))
        points = [fillers[first], fillers[(first + 1) % len(fillers)]]
        used.update(points)
        if plan.layout == "table":
            lines += ["", "| point | note |", "| --- | --- |"]
            lines += [f"| {n + 1} | {point} |" for n, point in enumerate(points)]
        else:
            lines += [LIST_FORMATS[plan.layout].format(n=n + 1) + point for n, point in enumerate(points)]
    elif plan.layout == "table" and plan.recommend:
        lines += ["", "| option | why |", "| --- | --- |"]
        mark = "!" if register == "casual" else ""  # a table of nouns reads formal: a casual one says it out loud
        lines += [f"| {i} | {'worth reading up on' if i in followed else 'a good fit'}{mark} |" for i in plan.recommend]
        lines += [_AVOID[register].format(item=i) for i in plan.avoid]
    elif plan.layout in LIST_FORMATS and items:
        if len(items) == 1:  # one bullet is not a list (readers and the analyzer need two): add a tip
            items.append(fillers[draw(len(fillers))])
            used.add(items[-1])
        bullet = LIST_FORMATS[plan.layout]
        lines += [bullet.format(n=n + 1) + text for n, text in enumerate(items)]
    elif items:  # nothing to say is no empty line
        lines.append(" ".join(items))
    target = LENGTH_WORDS.get(plan.length, LENGTH_WORDS["standard"])
    words = sum(len(line.split()) for line in lines)
    start = draw(len(fillers))
    for i in range(len(fillers)):  # each at most once
        if words >= target - 6:
            break
        k = (start + i) % len(fillers)
        if fillers[k] in used:  # a tip or point above
            continue
        lines.append(fillers[k])
        words += filler_words[k]
    if plan.question:
        lines.append(plan.question)
    return "\n".join(lines).strip() + emoji
