"""Template answers for the built-in (non-LLM) policies.

An `AnswerPlan` says what to recommend, what to warn against, and in which
style (length, list/table/prose, formality, emoji); `compose` writes it.  The
filler sentences name no taxonomy entity, so only the planned items count as
mentions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

#: Target words per length preference (inside the ranges users accept).
LENGTH_WORDS = {"terse": 22, "brief": 55, "standard": 140, "detailed": 300, "exhaustive": 460}
#: How many items fit an answer of each length.
LENGTH_ITEMS = {"terse": 1, "brief": 2, "standard": 3, "detailed": 4, "exhaustive": 5}
LIST_FORMATS = {"bullets": "- ", "checklist": "- [ ] ", "outline": "- ", "pros_cons": "- ",
                "qa": "- ", "numbered_steps": "{n}. "}

_OPENERS = {
    "casual": ["Sure thing! Here's what I'd go with for {topic}.", "Oh nice, {topic}! Here's my take."],
    "neutral": ["Here are a few suggestions for {topic}.", "Happy to help with {topic}."],
    "formal": ["Certainly. Please find below my recommendations regarding {topic}.",
               "Thank you for your question regarding {topic}; my recommendations follow."],
}
_FILLERS = {
    "casual": [
        "Honestly, you can't really go wrong here!",
        "Just pick whatever feels fun and go from there.",
        "It's totally fine to start small and see what sticks.",
        "Don't stress about getting it perfect, you'll figure it out as you go.",
        "If something doesn't click, just swap it out, no big deal!",
        "Give it a week or so and you'll know what you're into.",
    ],
    "neutral": [
        "It helps to start with one option and adjust as you learn what works for you.",
        "A good next step is to set aside a little time to try the first suggestion.",
        "Keep a short note of what you enjoyed so the next round of ideas fits even better.",
        "If you want, I can narrow these down further based on your time and budget.",
        "Each of these can be tried at your own pace, one step at a time.",
        "Small, regular steps usually work better than one big push.",
    ],
    "formal": [
        "Furthermore, it is advisable to evaluate each option against your specific requirements.",
        "Please note that a gradual approach generally yields more reliable results.",
        "Consequently, I would recommend documenting your observations for subsequent refinement.",
        "Additionally, these recommendations may be adjusted according to your circumstances.",
        "It is therefore prudent to prioritise the option that best satisfies your objectives.",
        "Should further clarification be required, I would be pleased to elaborate.",
    ],
}
#: Word counts of the filler sentences, per register.
_FILLER_WORDS = {register: [len(sentence.split()) for sentence in fillers] for register, fillers in _FILLERS.items()}
_RECOMMEND = {
    "casual": "You'd probably love {item}.", "neutral": "I'd suggest {item}.",
    "formal": "I would recommend {item}.",
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
    lines = [_OPENERS[register][draw(2)].format(topic=topic)]
    items = [_RECOMMEND[register].format(item=i) for i in plan.recommend]
    items += [_AVOID[register].format(item=i) for i in plan.avoid]
    if plan.layout == "table" and plan.recommend:
        lines += ["", "| option | why |", "| --- | --- |"]
        lines += [f"| {i} | a good fit |" for i in plan.recommend]
        lines += [_AVOID[register].format(item=i) for i in plan.avoid]
    elif plan.layout in LIST_FORMATS and items:
        if len(items) == 1:  # one bullet is not a list (readers and the analyzer need two): add a tip
            items.append(_FILLERS[register][draw(len(_FILLERS[register]))])
        bullet = LIST_FORMATS[plan.layout]
        lines += [bullet.format(n=n + 1) + text for n, text in enumerate(items)]
    else:
        lines.append(" ".join(items))
    target = LENGTH_WORDS.get(plan.length, LENGTH_WORDS["standard"])
    fillers, filler_words = _FILLERS[register], _FILLER_WORDS[register]
    words = sum(len(line.split()) for line in lines)
    start = draw(len(fillers))
    i = 0
    while words < target - 6:
        k = (start + i) % len(fillers)
        lines.append(fillers[k])
        words += filler_words[k]
        i += 1
    if plan.question:
        lines.append(plan.question)
    return "\n".join(lines).strip() + emoji
