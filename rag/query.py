"""Reading the question: limits, and what a follow-up borrows from the turn before.

"And about tariffs?" after "What did Hale say about exports?" means "What did Hale say
about tariffs?"; "What did he say about tariffs?" borrows the person the same way, and a
follow-up that names a person of its own is a new question. The
rules are plain patterns over the question's words: no model rewrites anything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.analysis.lexicon import (
    DEMONYMS,
    HONORIFICS,
    NAME_PARTICLES,
    NATIONAL_ADJECTIVES,
    NOT_NAMES,
    ORGANISATION_WORDS,
    ROLE_NOUNS,
    SPEECH_VERBS,
    TITLE_WORDS,
    alternation,
    speech_forms,
    words,
)
from rag.analysis.registry import People, closing_capitals
from rag.config import Settings
from rag.text import normalize, tokenize

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
    own = re.sub(r"^\s*(?:and|but|so)\s+", "", q, flags=re.IGNORECASE)
    if split_frame(own)[0] is not None or according_after(own) is not None:
        # "And what did Varga say about the meeting?" names its own person: a new question.
        return own[:1].upper() + own[1:]
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

# A person as asked: capitalised words ("Ana Lind", "Ms Lind"), or a role the articles
# give someone ("the finance minister", "the harbour chief").
_ROLE_WORDS = alternation({*ROLE_NOUNS, *TITLE_WORDS})
_NAME = (
    # (case-blind, as the whole frame: "HVB economist Ana Lind", "Ana Lind of Orchard Bank")
    r"(?:the\s+)?(?P<who>[A-Z][\w'’.-]*(?:\s[A-Z][\w'’.-]*){0,7}?"
    rf"|(?<=the\s)(?:[\w'’.-]+\s){{0,3}}?(?:{_ROLE_WORDS}))"
    # "Ana Lind of the Orchard Savings Bank": where they are from, in capitals, is no
    # part of the name (`split_frame` drops it)
    r"(?P<where>\s+(?-i:of|from|at)\s+(?:the\s+)?(?-i:[A-Z])[\w'’.&-]*"
    r"(?:\s(?-i:[A-Z])[\w'’.&-]*){0,4})?"
)
# The verbs of "What did X <verb> about Y?" and "What has X warned about Y?": speech
# verbs in their base form and their other forms but the -ing one, and a few of opinion
# and reaction. Phrasal ones only with their particle: "When do Lund play Varna?" and
# "What did Lund Shipping make last year?" ask no one's words ("make of" does).
_PHRASAL = {"play", "point", "rule", "sum", "make", "hit", "single", "confident"}
_ASKED = (
    {v for v in SPEECH_VERBS if v not in _PHRASAL}
    | {f for v in SPEECH_VERBS for f in speech_forms(v) if not f.split()[0].endswith("ing")}
    | {"react", "reacted", "mean", "meant", "want", "wanted", "make of", "made of", "see", "view"}
)
# Verbs whose subject is as often a firm, a team or a rate as a person ("How much did
# Lund Shipping make?", "Which players did Varna call up?"): not after the longer openings.
_LOOSE = {
    f
    for v in words(
        "make see view mean want react hit call single play point rule sum continue "
        "confident counter slate thank welcome signal express voice refer accept indicate "
        "highlight"
    )
    for f in (v, *speech_forms(v))
}


def _alternation(verbs: set[str]) -> str:
    """`alternation` of these verbs, a space in one standing for any run of spaces."""
    return alternation(verbs).replace(re.escape(" "), r"\s+")


_ROLES = frozenset({*ROLE_NOUNS, *TITLE_WORDS})
_AUX = r"(?:did|does|do|has|had|have|would|will)"
_ADVERB = r"(?:(?-i:[a-z]+ly|also|then|later|now|first|once|ever)\s+)?"  # "Hale really say"
_ON = r"(?:\s+(?:about|of|on|to|at|regarding|concerning|that)\b)?"
_TAIL = r"\s*(?P<topic>.*?)\s*[?.!]*\s*$"
_FRAMES = [
    re.compile(
        rf"^\s*(?:what|how|why|when|where)\s+{_AUX}\s+{_NAME}\s+{_ADVERB}"
        rf"(?:{_alternation(_ASKED)})\b{_ON}{_TAIL}",
        re.IGNORECASE,
    ),
    # "How did Ana Lind rate their chances?", "How does she justify it?"
    re.compile(
        rf"^\s*how\s+{_AUX}\s+{_NAME}\s+{_ADVERB}(?:rate|rated|justify|justified|assess|"
        rf"assessed)\b{_TAIL}",
        re.IGNORECASE,
    ),
    # "How much did Hale say…", "Which ferries did Hale say…", "What sort of deal did Hale
    # predict?": the noun asked for belongs to the topic; the verb must be one of speech.
    re.compile(
        r"^\s*(?:how\s+(?:much|many|long|far|often|well|big|soon)|(?:what|which)"
        r"(?:\s+(?:sort|kind|type)s?\s+of)?\s+(?P<asked>[\w'’-]+))"
        rf"\s+{_AUX}\s+{_NAME}\s+{_ADVERB}(?:{_alternation(_ASKED - _LOOSE)})\b{_ON}{_TAIL}",
        re.IGNORECASE,
    ),
    re.compile(rf"^\s*according\s+to\s+{_NAME}\s*,{_TAIL}", re.IGNORECASE),
    re.compile(
        rf"^\s*(?:what|how)\s+(?:is|was|are|were)\s+{_NAME}(?:'s|’s)\s+(?:view|position|stance|"
        r"opinion|take|message|warning|assessment|reaction|response|verdict|explanation|"
        r"prediction|comment|criticism|advice|plan)s?\s+(?:on|of|about|regarding|to|for)\s+"
        r"(?P<topic>.*?)\s*[?.!]*\s*$",
        re.IGNORECASE,
    ),
]
# Words after "What" or "Which" that ask for no noun: "What else did Hale say?"
_NOT_ASKED = frozenset(
    words("else exactly precisely really actually kind sort type then more next also further")
)
_ACCORDING = re.compile(r"\baccording\s+to\b", re.IGNORECASE)
_DETERMINERS = ("the", "its", "their", "his", "her", "a", "an")


def according_after(question: str) -> tuple[str, str] | None:
    """(the person, the question before "according to") for "Why did tolls rise,
    according to its chief economist Ana Lind?" (Ana Lind; "the finance minister" as a
    role); None for no such ending, for two people ("Ana Lind and Ivo Rask"), or for the
    role of a body ("the head of Orchard Bank"). The caller takes it only for someone the
    articles name: "according to the Lund Gazette" names a newspaper, no person."""
    found = list(_ACCORDING.finditer(question))
    if not found:
        return None
    topic = question[: found[-1].start()].strip(" ,;:")
    who = question[found[-1].end() :].strip().rstrip("?.! ").strip(" '‘’\"“”")
    if not topic or not who or "," in who:
        return None
    parts = who.split()
    if any(w.lower() in ("and", "or", "&") for w in parts):
        return None
    of = next((i for i, w in enumerate(parts) if w.lower() in ("of", "from", "at")), len(parts))
    if 0 < of < len(parts) and parts[of - 1][:1].islower():
        return None  # "the head of Orchard Bank": whoever that is, the articles say by name
    parts = parts[:of]  # "Ana Lind of Orchard Bank"
    if parts and parts[-1].lower() in _ROLES and not parts[-1][:1].isupper():
        while parts and parts[0].lower() in _DETERMINERS:
            parts = parts[1:]
    else:
        parts = closing_capitals(parts)
    name = _without_nationality(" ".join(parts)) if parts else ""
    return (name, topic) if name else None


def _name_shaped(who: str) -> bool:
    """A name, perhaps after what the person is: after its first capitalised word, lower-
    case words only in a description that ends in a role or before a full name ("Orchard
    Bank chief economist Ana Lind", "UN envoy Ana Lind", "Ana de Souza"). "Hale see for
    the Varna" (of "What role does Hale see for the Varna States in the talks?", "States"
    read as the verb) is no name. Two words pass as they are ("Ana lind")."""
    words = who.split()
    if len(words) <= 2:
        return True
    first = next((i for i, w in enumerate(words) if w[:1].isupper()), len(words))
    lower = [
        i
        for i in range(first + 1, len(words))
        if not words[i][:1].isupper() and words[i].lower() not in NAME_PARTICLES
    ]
    after = len(words) - 1 - lower[-1] if lower else 0
    return not lower or (after >= 1 and words[lower[-1]].lower() in _ROLES) or after >= 2


def split_frame(question: str) -> tuple[str | None, str]:
    """("Hale", "exports") for "What did Hale say about exports?"; (None, question)
    otherwise.

    The person must start with a capital letter, after what they are in lower case
    ("songwriter Ana Lind" asks for Ana Lind), or be a role ("the finance minister"),
    and be shaped as a name (`_name_shaped`: "Where will the new Orchard Motors engines
    be made?" names no one). A noun the question opens with ("Which ferries did Hale
    say…") joins the topic. The topic may be empty ("What did Hale say?"), and then the
    question itself stands for it.
    """
    question = " ".join(question.split())  # no pattern backtracks over a run of spaces
    for frame in _FRAMES:
        m = frame.match(question)
        if not m:
            continue
        raw = m.group("who").strip()
        who = _without_nationality(_without_description(raw))
        last = who.split()[-1]
        if (who[:1].isupper() and _name_shaped(raw)) or last.lower() in _ROLES:
            topic = m.group("topic").strip()
            asked = m.groupdict().get("asked")
            if asked and (asked.lower() in _NOT_ASKED or asked.lower().endswith("ly")):
                # "What else did Hale say?" asks what "What did Hale say?" asks
                question = question.replace(f" {asked}", "", 1)
                asked = None
            if asked and topic:
                topic = f"{asked} {topic}"
            return who, topic or asked or question.strip()
    return None, question.strip()


_NATIONALITIES = DEMONYMS | NATIONAL_ADJECTIVES


def _without_nationality(who: str) -> str:
    """ "Swede Ivo Rask", "the Norwegian Rask" -> the name: the nationality describes them."""
    parts = who.split()
    while len(parts) > 1 and parts[0].lower() in _NATIONALITIES:
        parts = parts[1:]
    return " ".join(parts)


_FUNCTION_WORDS = frozenset(words("in of at from for to on by with and or the a an who"))


def _without_description(who: str) -> str:
    """ "songwriter Ana Lind" -> "Ana Lind": lower-case words before a name describe the
    person; words such as "in" or "of" make it a phrase ("officials in Lund") instead."""
    parts = who.split()
    k = next((i for i, w in enumerate(parts) if w[:1].isupper()), None)
    if not k or any(w.lower() in _FUNCTION_WORDS for w in parts[:k]):
        return who
    return " ".join(parts[k:])


# --- The person and the topic, read against the corpus's people -----------------------------


@dataclass(frozen=True, slots=True)
class Reading:
    """A question as the engine reads it: whose words it wants, on what, of what kind."""

    resolved: str  # the question as understood, follow-ups resolved
    who: str | None  # the person as asked ("Hale", "Ms Hale"), None if nobody is asked
    people: tuple[str, ...]  # the corpus's people `who` may mean, most quoted first
    unknown: bool  # `who` reads as a person's name, and no one of that name is in the corpus
    topic: str
    dense_texts: tuple[str, ...]  # embedded, averaged for ranking; the last is the topic's
    terms: list[str]  # BM25 tokens
    topic_terms: set[str]  # the tokens whose coverage counts as evidence
    wanted: AnswerType | None
    # The question's names as BM25 tokens ("How big a loss did Orchard Bank make?":
    # orchard, bank; "What did Ana Lind say…": ana, lind): an article that names none of
    # them is about something else.
    question_names: frozenset[str] = frozenset()


def _looks_like_a_name(who: str) -> bool:
    """ "Ana Lind" or "Ms Lind" reads as a person; "Orchard" alone, or "the Lund Times",
    may be a firm."""
    words = who.split()
    if any(w.lower() in ORGANISATION_WORDS for w in words):
        return False
    caps = [w for w in words if w[:1].isupper()]
    return len(caps) >= 2 or (len(words) >= 2 and normalize(words[0]).rstrip(".") in HONORIFICS)


def mentioned_person(question: str, people: People) -> tuple[tuple[str, ...], str, str] | None:
    """(people, question without the mention, the mention) when the question names
    exactly one known person (perhaps of a shared surname) outside a "What did X say"."""
    found = people.named_in(question[1:])  # the first word is capitalised anyway
    if len(found) != 1:
        return None
    start, end, names = found[0]
    start, end = start + 1, end + 1
    rest = re.sub(r"\s+", " ", question[:start] + question[end:]).strip()
    rest = re.sub(r"\s+([?.!,'])", r"\1", rest)
    return (names, rest, question[start:end]) if len(rest.split()) >= 2 else None


def read_question(
    question: str, history: Sequence[str], people: People, settings: Settings
) -> Reading:
    """Resolve a follow-up, split off the person asked about, and say what to embed."""
    resolved = resolve(question, history)
    who, topic = split_frame(resolved)
    after = according_after(resolved) if who is None else None
    if after is not None and people.resolve(after[0]):
        who, topic = after
    names: tuple[str, ...] = ()
    unknown = False
    unnamed = None
    named_words: list[str] = []
    if who is not None:
        names = people.resolve(who)
        unknown = not names and _looks_like_a_name(who)
        named_words = tokenize(who)
    elif settings.person_from_mention or settings.dense_without_names:
        mention = mentioned_person(resolved, people)
        if mention is not None:
            named_words = tokenize(mention[2])
            if settings.person_from_mention:
                names, topic, who = mention[0], mention[1], mention[2]
            else:
                # "On which show was Hale interviewed?": the name would draw the question
                # to every sentence about Hale; it is left out of what is embedded, and
                # BM25 still has it.
                unnamed = mention[1]
    dense: tuple[str, ...]
    if unnamed is not None:
        dense = (unnamed,)
    elif who is not None:
        dense = (f"{who} on {topic}", topic)
    else:
        dense = (topic,)
    terms = tokenize(topic)
    return Reading(
        resolved=resolved,
        who=who,
        people=names,
        unknown=unknown,
        topic=topic,
        dense_texts=dense,
        terms=terms,
        topic_terms=set(terms) - set(named_words) or set(terms),
        wanted=answer_type(resolved),
        question_names=frozenset(names_in(resolved)),
    )


_CAPITALISED = re.compile(r"(?<![\w'’])[A-Z][\w'’&-]*")


def names_in(question: str) -> set[str]:
    """BM25 tokens of the capitalised words of a question that are names: not its first
    word, nor a weekday, month, pronoun or function word, nor a nationality ("the
    American leader" is as often "the US president")."""
    found = [m for m in _CAPITALISED.finditer(question) if m.start() > 0]
    kept = [
        m.group()
        for m in found
        if (w := normalize(m.group()).strip("'’")) not in NOT_NAMES
        and w not in NATIONAL_ADJECTIVES
        and w not in DEMONYMS
    ]
    return set(tokenize(" ".join(kept)))


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
# "£3.5m", "700m euros", "$6bn"; a bare "1.8m" is as often metres ("a 1.8m fence",
# "the 400m final") as millions, and is no money by itself.
_HAS_MONEY = re.compile(
    r"[$€£¥]|\b(?:euros?|dollars?|pounds?|yen|yuan|rupees?|francs?|usd|eur)\b|\b\d[\d,.]*\s*bn\b",
    re.IGNORECASE,
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
