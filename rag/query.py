"""Reading the question: limits, and what a follow-up borrows from the turn before.

"And about Iran?" after "What did Rutte say about China?" means "What did Rutte say
about Iran?"; "What did he say about Iran?" borrows the person the same way. The
rules are plain patterns over the question's words: no model rewrites anything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_FOLLOW_UP = re.compile(
    r"^\s*(?:and|but|what|how|and what|so what)?\s*(?:about|of|regarding|on)\s+(?P<topic>.+?)\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_BARE_AND = re.compile(r"^\s*and\s+(?P<topic>[^?]{1,60}?)\s*\?*\s*$", re.IGNORECASE)
_ABOUT = re.compile(
    r"(?P<head>.*?\b(?:about|on|regarding|of)\s+)(?P<topic>[^?]+?)(?P<tail>\s*\?*\s*)$",
    re.IGNORECASE,
)
_PRONOUN = re.compile(r"\b(he|she|they|him|her|them)\b", re.IGNORECASE)
_PERSON = re.compile(
    r"\b(?:did|does|do|has|had|was|is|would|will)\s+(?P<who>(?:[A-Z][\w'’.-]+\s?){1,3})\s+"
    r"(?:say|said|think|tell|claim|argue|warn|describe|mean|believe|want|call)",
)


def resolve(question: str, history: Sequence[str] = ()) -> str:
    """The question as understood, given earlier questions of the same chat (oldest first)."""
    if not history:
        return question.strip()
    previous = history[-1].strip()
    q = question.strip()
    m = _FOLLOW_UP.match(q) or _BARE_AND.match(q)
    if m and len(q.split()) <= 8:
        topic = m.group("topic").strip()
        about = _ABOUT.match(previous)
        if about:
            return f"{about.group('head')}{topic}{about.group('tail') or '?'}".strip()
        return f"{previous.rstrip('?.! ')} {topic}?"
    who = _PERSON.search(previous)
    if who and _PRONOUN.search(q):
        name = who.group("who").strip()
        return _PRONOUN.sub(name, q, count=1)
    return q


# --- The person and the topic of a question ------------------------------------------------

_NAME = r"(?:the\s+)?(?P<who>(?:[A-Z][\w'’.-]*\s?){1,4}?)"
_FRAMES = [
    re.compile(
        rf"^\s*(?:what|how|why|when|where)\s+(?:did|does|do|has|had|would|will)\s+{_NAME}\s+"
        r"(?:say|said|think|tell|claim|argue|warn|describe|mean|believe|want|call|characteri[sz]e"
        r"|note|stress|emphasi[sz]e|suggest|hope|say\s+of|feel)(?:\s+(?:about|of|on|regarding|"
        r"concerning|that))?\s*(?P<topic>.*?)\s*[?.!]*\s*$",
        re.IGNORECASE,
    ),
    re.compile(rf"^\s*according\s+to\s+{_NAME}\s*,\s*(?P<topic>.*?)\s*[?.!]*\s*$", re.IGNORECASE),
    re.compile(
        rf"^\s*(?:what|how)\s+(?:is|was|are|were)\s+{_NAME}(?:'s|’s)\s+(?:view|position|stance|"
        r"opinion|take|message|warning|assessment)s?\s+(?:on|of|about|regarding)\s+"
        r"(?P<topic>.*?)\s*[?.!]*\s*$",
        re.IGNORECASE,
    ),
]


def split_frame(question: str) -> tuple[str | None, str]:
    """("Rutte", "China") for "What did Rutte say about China?"; (None, question) otherwise.

    The person must start with a capital letter; the topic may be empty ("What did
    Merz say?"), and then the question itself stands for it.
    """
    for frame in _FRAMES:
        m = frame.match(question)
        if m and m.group("who")[:1].isupper():
            who = m.group("who").strip()
            topic = m.group("topic").strip()
            return who, topic or question.strip()
    return None, question.strip()


# People the seed corpus names in several ways; any other person is matched by the words
# of the name as asked. Keys are canonical names, values the forms met in the articles.
PEOPLE: dict[str, tuple[str, ...]] = {
    "Mark Rutte": (
        "mark rutte",
        "rutte",
        "rutten",
        "nato chief",
        "nato secretary general",
        "secretary general",
        "nato's top official",
        "dutch prime minister",
        "prime minister",
    ),
    "Volodymyr Zelensky": ("volodymyr zelensky", "zelensky", "zelenskyy", "president of ukraine"),
    "Donald Trump": ("donald trump", "trump", "american president", "president trump"),
    "Friedrich Merz": ("friedrich merz", "merz", "german chancellor"),
    "Marco Rubio": ("marco rubio", "rubio", "secretary of state"),
    "Vladimir Putin": ("vladimir putin", "putin"),
}


def aliases(who: str) -> tuple[str, ...]:
    """Normalised forms that name the person `who` in an article."""
    from rag.text import normalize

    key = normalize(who)
    for forms in PEOPLE.values():
        if key in forms or any(key == f.split()[-1] for f in forms if " " in f):
            return forms
    parts = [p for p in key.split() if len(p) > 2 and p not in ("the", "nato")]
    return (key, *parts[-1:]) if parts else (key,)


def mentioned_person(question: str) -> tuple[str, str] | None:
    """(canonical name, question without the mention) when exactly one known person is named."""
    from rag.text import fold

    text = fold(question)
    found: list[tuple[str, re.Match]] = []
    for name, forms in PEOPLE.items():
        pattern = re.compile(
            r"\b(?:"
            + "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
            + r")\b",
            re.IGNORECASE,
        )
        m = pattern.search(text)
        if m:
            found.append((name, m))
    if len(found) != 1:
        return None
    name, m = found[0]
    rest = re.sub(r"\s+", " ", text[: m.start()] + text[m.end() :]).strip()
    rest = re.sub(r"\s+([?.!,'])", r"\1", rest)
    return (name, rest) if len(rest.split()) >= 2 else None


# --- The kind of answer a question wants ---------------------------------------------------

TIME = "time"  # when, on what date, which year…
DURATION = "duration"  # how long
AGE = "age"  # how old
MONEY = "money"  # how much money, in euros…
COUNT = "count"  # how many <things>
NUMBER = "number"  # any other quantity: how much, how far, what percentage…


@dataclass(frozen=True, slots=True)
class AnswerType:
    """What a question asks for, when it asks for a moment or a quantity."""

    kind: str
    noun: str | None = None  # for COUNT: what is counted ("troops")


_WANTS_TIME = re.compile(
    r"^\W*(?:since\s+|until\s+)?when\b|\b(?:what|which)\s+(?:date|day|year|month|week|decade)\b",
    re.IGNORECASE,
)
_WANTS_DURATION = re.compile(r"\bhow\s+long\b", re.IGNORECASE)
_WANTS_AGE = re.compile(r"\bhow\s+old\b", re.IGNORECASE)
_WANTS_COUNT = re.compile(r"\bhow\s+many\s+(?P<noun>[^\W\d_]+)", re.IGNORECASE)
_WANTS_MONEY = re.compile(
    r"\b(?:money|euros?|dollars?|pounds?|cost|costs|price|budget|fund(?:s|ing)?|earn|earns|"
    r"spend|spent|pay|paid|pledged?|worth)\b",
    re.IGNORECASE,
)
_WANTS_NUMBER = re.compile(
    r"\bhow\s+(?:much|many|far|often|big|large|high)\b"
    r"|\bwhat\s+(?:percentage|share|amount|number|sum|proportion|size)\b",
    re.IGNORECASE,
)
_NOT_NOUNS = frozenset(
    [
        "have",
        "has",
        "had",
        "are",
        "were",
        "is",
        "was",
        "do",
        "does",
        "did",
        "will",
        "would",
        "can",
        "could",
        "should",
        "of",
        "more",
    ]
)
_UNITS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    "forty|fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?|billions?|"
    "trillions?|dozens?|half|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|"
    "tenth|twice|single|double"
)
_NUM = rf"(?:\d[\d,.]*|\b(?:{_UNITS})\b)"
_HAS_NUMBER = re.compile(_NUM, re.IGNORECASE)
_HAS_TIME = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|"
    r"tomorrow|tonight|weekend|(?:last|next|this|past|coming|previous)\s+"
    r"(?:week|month|year|decade|spring|summer|autumn|fall|winter)|decades?|century|"
    r"(?:early|mid|late)-?\s?\d{2,4}s?)\b",
    re.IGNORECASE,
)
_HAS_DURATION = re.compile(
    rf"(?:{_NUM}|\b(?:a|an|several|few|many)\b)[\s-]*"
    r"(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?)\b",
    re.IGNORECASE,
)
_HAS_AGE = re.compile(
    r"\b\d{1,3}[\s-]years?[\s-]old\b|\baged?\s+\d{1,3}\b|\bage\s+of\s+\d{1,3}\b",
    re.IGNORECASE,
)
_HAS_MONEY = re.compile(
    r"[$€£]|\b(?:euros?|dollars?|pounds?|usd|eur)\b|\b\d[\d,.]*\s*(?:bn|m)\b", re.IGNORECASE
)


def answer_type(question: str) -> AnswerType | None:
    """What kind of moment or quantity the question asks for; None for anything else."""
    if _WANTS_TIME.search(question):
        return AnswerType(TIME)
    if _WANTS_DURATION.search(question):
        return AnswerType(DURATION)
    if _WANTS_AGE.search(question):
        return AnswerType(AGE)
    m = _WANTS_COUNT.search(question)
    if m and m.group("noun").lower() not in _NOT_NOUNS:
        return AnswerType(COUNT, m.group("noun").lower())
    if _WANTS_NUMBER.search(question):
        return AnswerType(MONEY if _WANTS_MONEY.search(question) else NUMBER)
    return None


def has_answer_type(text: str, wanted: AnswerType) -> bool:
    """Can `text` hold an answer of this kind ("30-day" for how long, "six months" for
    how many months, a currency for how much money)?"""
    from rag.text import normalize

    text = normalize(text)
    kind = wanted.kind
    if kind == TIME:
        return bool(_HAS_NUMBER.search(text) or _HAS_TIME.search(text))
    if kind == DURATION:
        return bool(_HAS_DURATION.search(text))
    if kind == AGE:
        return bool(_HAS_AGE.search(text))
    if kind == MONEY:
        return bool(_HAS_MONEY.search(text))
    if kind == COUNT and wanted.noun:
        stem = re.escape(wanted.noun[: max(4, len(wanted.noun) - 2)])
        return bool(re.search(rf"{_NUM}[\s-]+(?:[^\W_]+\s+){{0,2}}{stem}", text))
    return bool(_HAS_NUMBER.search(text))
