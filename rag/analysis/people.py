"""The people an article names, found from its text alone, and every mention of them.

Why rules and not a list: a newsroom's corpus names thousands of people the engine has
never seen. News copy introduces each one in a few fixed ways — an honorific or a title
("Mr Hale", "Chancellor Ines Varga"), a role before the name ("finance chief Tomas
Brenner"), an apposition after it ("Ada Holm, head of the Lund Institute,"), or simply a
first name and a surname — and then refers back by surname, by "Mr"/"Ms" and surname,
by role ("the minister") or by pronoun. This module reads those patterns:

- a *person* is a run of capitalised words with at least a first name and a surname, or
  an honorific or title and a surname, none of whose words names an organisation or a
  place ("Orchard Bank", "Harbour Street");
- within an article, a surname, "Mr/Ms + surname", or a full name that drops a middle
  initial is the person the article introduced with it; two people sharing a surname
  are told apart by which was named last;
- a role ("the minister", "the finance chief") is the person the article gave that role;
- pronouns are left to `rag.analysis.speakers`, which knows who spoke last.

But: a two-word company whose words look like names ("Coral Weston said") passes for a
person; only names are found, so a mononym ("Kestra") is nobody unless titled.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rag.analysis.lexicon import (
    DEMONYMS,
    FIRST_NAME_HONORIFICS,
    HONORIFICS,
    MONTHS,
    NAME_PARTICLES,
    NAMING_FORMS,
    NATIONAL_ADJECTIVES,
    NOT_NAMES,
    OPENERS,
    ORGANISATION_NOUNS,
    ORGANISATION_WORDS,
    ROLE_NOUNS,
    SPEECH_FORMS,
    TITLE_WORDS,
    UNNAMED_SOURCES,
    alternation,
    words,
)
from rag.text import fold

_VERB_FORMS = frozenset(f for f in SPEECH_FORMS if " " not in f)

# A word with its offsets: letters, inner hyphens and apostrophes ("O'Neill", "Jean-Luc").
_TOKEN = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_POSSESSIVE = re.compile(r"['’]s?$")
_INITIAL_GAP = re.compile(r"^\.?\s$")  # "Ana E. Lind", "Tomas K Vell"
_NICKNAME_OPEN = re.compile(r" [\"“'‘]")
# What follows a name standing alone: punctuation, a possessive, or a verb.
_NAME_THEN = re.compile(
    r"(?:['’]s?\b|\s*[,.;:!?)\"”]|\s*$|\s+(?:is|was|has|had|have|will|would|could|can|did|does|"
    rf"also|then|later|said|told|{alternation(_VERB_FORMS)}|\w+s|\w+ed)\b)",
    re.IGNORECASE,
)
_NICKNAME_CLOSE = re.compile(r"[\"”'’] ")
_ROLE_BEFORE_STOP = frozenset(
    words(
        "the a an of to in on at by for from with and or but as said says told that this is "
        "was be been has have had who which when his her its their our my your like "
        "including having against between after before over under than may might will "
        "would can could should must also not without out up off down while whilst since "
        "during include includes alongside aka where whose how what why do does did are were "
        "being then now only just even still again he she they we him them himself herself "
        "beat beats face faces meet meets eye eyes join joins replace replaces succeed "
        "succeeds sign signs marry marries defeat defeats won lost gave"
    )
)
# "spokeswoman for women", "director of rugby": a role may end on one of these and a word.
_ROLE_OF = frozenset(("for", "of"))
# Where an apposition's role ends and a clause about something else begins (", a former
# international before switching codes,").
_ROLE_CLAUSE = re.compile(
    r"\s+(?:before|after|since|while|when|until|despite|following|because|who|which|that)\b.*$",
    re.IGNORECASE | re.DOTALL,
)
_SUBJECT_PRONOUNS = frozenset(words("i you he she it we they who"))


@dataclass(slots=True)
class Person:
    """One person of an article: the name it introduces them by, and what it calls them."""

    name: str
    gender: str = ""  # "m", "f" or "" when the article does not tell
    forms: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    # Told as a person by more than capitals: an honorific, a role, a surname used alone.
    evidence: bool = False

    @property
    def surname(self) -> str:
        return self.name.split()[-1]


EPITHET = -1  # a Mention's person for "the 74-year-old comedian": whoever the story is about


@dataclass(frozen=True, slots=True)
class Mention:
    """A span of the article that names a person (index into the article's people)."""

    start: int
    end: int
    person: int
    kind: str  # "name", "surname", "role"


@dataclass(frozen=True, slots=True)
class Run:
    """Consecutive capitalised words: the raw material of names."""

    start: int
    end: int
    words: tuple[str, ...]
    starts: tuple[int, ...]
    possessive: bool
    nickname: str = ""  # "Tomas 'Tomi' Vell": Tomi


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and not (len(word) > 1 and word.isupper())


def _name_follows(tokens: list[tuple[int, int, str]], k: int, text: str) -> bool:
    """Whether tokens k and k + 1 are two capitalised words: a name of its own (not
    "Kennedy Airport" after "John F.")."""
    if k + 1 >= len(tokens) or text[tokens[k][1] : tokens[k + 1][0]] != " ":
        return False
    first, second = tokens[k][2], tokens[k + 1][2]
    return _capitalised(first) and _capitalised(second) and second.lower() not in ORGANISATION_WORDS


# After a surname that is a verb form: a verb of its own ("Ivo Voice said", "… has").
_SAID_AFTER = re.compile(
    r"\s+(?:said|says|told|added|has|had|is|was|will|would|also|then|later)\b|['’]s\b"
)


def _headline(text: str, at: int) -> bool:
    """Whether the line holding `at` is a headline: no stop at its end."""
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    line = text[start : end if end >= 0 else len(text)].rstrip()
    return not line.endswith((".", "!", "?", '"', "”", "’", "'"))


def _runs(text: str) -> list[Run]:
    """Runs of capitalised words joined by single spaces (particles and initials allowed)."""
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    runs: list[Run] = []
    i = 0
    while i < len(tokens):
        if not _capitalised(tokens[i][2]):
            i += 1
            continue
        j = i
        kept = [i]
        nickname = ""
        while j + 1 < len(tokens):
            gap = text[tokens[j][1] : tokens[j + 1][0]]
            word, nxt = tokens[j][2], tokens[j + 1][2]
            if (
                not nickname
                and _NICKNAME_OPEN.fullmatch(gap)
                and j + 2 < len(tokens)
                and len(nxt) >= 2
                and nxt[:1].isupper()
                and _NICKNAME_CLOSE.fullmatch(text, tokens[j + 1][1], tokens[j + 2][0])
                and _capitalised(tokens[j + 2][2])
                and _capitalised(word)
                # right after a first name (a role or an honorific may open the run),
                # and the surname ends it: not inside a headline's capitals ("Lind
                # 'Happy' With Win")
                and all(_is_role(t[2].lower()) or t[2].lower() in HONORIFICS for t in tokens[i:j])
                and not _name_follows(tokens, j + 2, text)
            ):
                # "Tomas 'Tomi' Vell", 'Lena "LV" Varga': a nickname inside a name.
                nickname = nxt
                j += 2
                kept.append(j)
                continue
            # An initial joins what follows ("Ana E. Lind"), unless a full stop there
            # ends a sentence before another name ("…Malcolm X. Ana Lind said").
            joined = gap == " " or (
                len(word) == 1
                and _INITIAL_GAP.match(gap)
                and not _name_follows(tokens, j + 1, text)
            )
            if not joined or _POSSESSIVE.search(word) and word[-2:] in ("'s", "’s"):
                break
            if nxt.lower() in _VERB_FORMS and (
                nxt.lower().endswith("ing")  # "Harbour Warning" names no one either
                or not _SAID_AFTER.match(text, tokens[j + 1][1])
                or _headline(text, tokens[j + 1][0])
            ):
                # "Hale Says Talks Will Go On", "Talks Resume, Ana Lind Says": in a
                # headline the name stops at the verb; in the body a surname that is a
                # verb is a name when a verb in lower case follows ("Ivo Voice said").
                break
            if _capitalised(nxt) or (
                nxt in NAME_PARTICLES
                and j + 2 < len(tokens)
                and _capitalised(tokens[j + 2][2])
                and text[tokens[j + 1][1] : tokens[j + 2][0]] == " "
            ):
                j += 1
                kept.append(j)
                continue
            break
        # An initial keeps its full stop, as written: "Ana E. Lind".
        words = [
            tokens[k][2] + "."
            if len(tokens[k][2]) == 1 and k < j and text.startswith(".", tokens[k][1])
            else tokens[k][2]
            for k in kept
        ]
        possessive = words[-1][-2:] in ("'s", "’s")
        if possessive:
            words[-1] = words[-1][:-2]
        end = tokens[j][1] - (2 if possessive else 0)
        starts = tuple(tokens[k][0] for k in kept)
        runs.append(Run(tokens[i][0], end, tuple(words), starts, possessive, nickname))
        i = j + 1
    return runs


def _role_before(text: str, start: int) -> str:
    """The lower-case role phrase just before a name ("finance chief", "spokeswoman for
    women"), or "" when the words before it are no role.

    The phrase ends on its role noun, or on "for"/"of" and one word after it: in "a lawyer
    representing Ana Lind", "… at scrum-half while Lind" or "Tom Ray and Lind" the words
    before the name are about something else."""
    words = re.findall(r"[^\W_][\w'’-]*|[,.;:!?\"“”()\n]", text[max(0, start - 80) : start])
    phrase: list[str] = []
    for at in range(len(words) - 1, -1, -1):
        w = words[at]
        low = w.lower()
        if (
            low in _ROLE_OF
            and len(phrase) == 1
            and phrase[0].islower()
            and phrase[0] not in ORGANISATION_NOUNS
            and at
            and _is_role(words[at - 1].lower())
        ):
            phrase.insert(0, w)  # "spokeswoman for women Ana Lind", not "head of the firm"
            continue
        if not w[0].isalnum() or low in _ROLE_BEFORE_STOP and low != "and":
            break
        if low in _VERB_FORMS and not _is_role(low):
            break  # "… believes coach Ana Lind": a verb, not part of the role
        # A role noun is in lower case or an acronym ("UN envoy"); what stands before it
        # may be capitalised ("Harbour Games 200m champion").
        acronym = w.isupper() and len(w) > 1
        if not phrase and w[0].isupper() and not acronym and not _is_role(low):
            break
        phrase.insert(0, w)
        if len(phrase) >= 6:
            break
    # "Hale defended coach Ana Lind", "…impressed manager Ana Lind": a verb ends what
    # came before; "the toll and coach Ana Lind": what is joined must be a role too; and
    # "captain Tom Ray and coach Ana Lind": a name before "and" is someone else's.
    cut = [
        k + 1 for k, w in enumerate(phrase) if w.lower().endswith("ed") and not _is_role(w.lower())
    ]
    joined = [
        k + 1
        for k, w in enumerate(phrase)
        if w.lower() == "and"
        and (
            not any(x.lower() in ROLE_NOUNS for x in phrase[:k])
            or (k >= 2 and phrase[k - 1][0].isupper() and phrase[k - 2][0].isupper())
        )
    ]
    phrase = phrase[max([0, *cut, *joined]) :]
    lows = [w.lower() for w in phrase]
    heads = [k for k, w in enumerate(lows) if _is_role(w)]
    if not heads:
        return ""
    if heads[-1] != len(lows) - 1 and lows[heads[-1] + 1] not in _ROLE_OF:
        return ""
    return " ".join(lows)


_APPOSITION = re.compile(
    r"^,\s+(?:the\s+|a\s+|an\s+)?([^,.;:\"“”()]{2,90}?)(?=[,.;:]|\s+(?:said|says)\b)"
)


def _apposition(text: str, end: int) -> tuple[str, bool] | None:
    """The apposition after a name, cut before any relative clause (", a former
    international before switching codes,"), and whether a comma closes it; None for
    none, or for a comma's noun phrase with a verb of its own (", the club's lawyer has
    confirmed."): the subject of a clause, no apposition."""
    m = _APPOSITION.match(text[end : end + 120])
    if not m:
        return None
    phrase = _ROLE_CLAUSE.sub("", m.group(1).strip())
    if _VERB_AFTER.search(phrase):
        return None
    return phrase, text.startswith(",", end + m.end())


def _role_after(text: str, end: int) -> str:
    """The role phrase of an apposition after a name (", head of the Lund Institute,")."""
    found = _apposition(text, end)
    if found is None:
        return ""
    phrase = found[0]
    words = [w.lower() for w in re.findall(r"[^\W\d_][\w'’-]*", phrase)]
    if words and (words[0] in _CLAUSE_FIRST or words[0] in _SPOKE):
        return ""  # ", which was to star Ada Holm,", ", said the coach": a clause
    if _SUBJECT_PRONOUNS.intersection(words):
        return ""  # ", the player he beat in the final,": a clause, not a role
    listed = _ROLE_THEN_NAME.search(phrase)
    if listed and not _OF_BEFORE.search(phrase, 0, listed.start()):
        return ""  # ", actor Tom Ray and writer Ada Holm": other people, listed
    return phrase.lower() if any(w in ROLE_NOUNS for w in words[:6]) else ""


# Finite verbs: after a comma's noun phrase (", the song was written by …") they make it
# the subject of a clause; opening it (", was fined …"), they make it a clause.
_FINITE = frozenset(words("is was are were has had have will"))
_SPOKE = frozenset(f for f in _VERB_FORMS if f.endswith("ed") or f in ("said", "says", "told"))
_CLAUSE_FIRST = frozenset(words("which where when whose")) | _FINITE
_VERB_AFTER = re.compile(rf"\s+(?:{alternation(_FINITE | _SPOKE)})\b.*$", re.IGNORECASE | re.DOTALL)
_ROLE_THEN_NAME = re.compile(rf"\b(?:{alternation(ROLE_NOUNS)})\s+[A-Z][\w'’-]+\s+[A-Z]")
# ", the daughter of activist Ada Holm,": a role of its own, naming someone else.
_OF_BEFORE = re.compile(r"\bof\s+(?:the\s+)?$")


def role_heads(phrase: str) -> set[str]:
    """The role nouns of a role phrase: "chairman and chief executive" -> chairman, chief, executive."""
    return {w for w in re.findall(r"[^\W\d_][\w'’-]*", phrase.lower()) if w in ROLE_NOUNS}


@dataclass(frozen=True, slots=True)
class _Named:
    run: Run
    honorific: str  # "" or the honorific, lower case
    title: str  # "" or the title words, lower case
    name: tuple[str, ...]  # the words of the name itself
    name_start: int


_NUMBER = re.compile(
    r"^(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    r"fifty|sixty|seventy|eighty|ninety|hundred|thousand)(?:-|$)",
    re.IGNORECASE,
)
# A noun that introduces an organisation's name ("investment bank Orchard Weston").
_ORGANISATION_BEFORE = re.compile(rf"(?<![\w'’-])(?:{alternation(ORGANISATION_NOUNS)}) $")
_PLACE_BEFORE = re.compile(r"\b(?:in|to|from|into|across|at|near|with|against|of)\s+$", re.I)
_DETERMINER = re.compile(r"\b(?:the|a|an)\s+$", re.IGNORECASE)


def _parse(run: Run, text: str) -> _Named | None:
    """Split a run into honorific, title and name; None for a run that names no person
    ("the Harbour Singers", "a Republican Senator" are no one's names)."""
    words = list(run.words)
    k = 0
    while (
        k < len(words)
        and (words[k].lower() in NOT_NAMES or k == 0 and words[k].lower() in OPENERS)
        and words[k].lower() not in HONORIFICS
    ):
        k += 1
    determined = bool(_DETERMINER.search(text[max(0, run.start - 5) : run.start])) or any(
        w.lower() in ("the", "a", "an") for w in words[:k]
    )
    honorific = ""
    # "Answering Mr Hale said…": a participle opening the sentence is no part of the name
    # that starts at the honorific after it ("the comedy Little Miss Varna" is no
    # one's; "Crown Prince Ivo" keeps its title).
    if (
        k + 2 < len(words)
        and words[k].lower().endswith(("ing", "ed"))
        and words[k + 1].lower().rstrip(".") in HONORIFICS
        and words[k + 1].lower() not in FIRST_NAME_HONORIFICS
        and _SENTENCE_START.search(text[max(0, run.start - 3) : run.start])
    ):
        k += 1
    if k < len(words) and words[k].lower().rstrip(".") in HONORIFICS:
        honorific = words[k].lower().rstrip(".")
        k += 1
    title: list[str] = []
    while k < len(words) - 1:
        word = words[k].lower()
        if _is_role(word):
            title.append(word)
        elif not (
            len(words) - k >= 3
            and _modifier(word)
            or word in NATIONAL_ADJECTIVES
            or word[-1:] == "s"
            and word[:-1] in NATIONAL_ADJECTIVES  # "Americans Ana Lind"
            or word.endswith(_HYPHENED_MODIFIERS)  # "Varna-based Kestrel" names no one
        ):
            break
        k += 1
    # A title further in ends what comes before the name: "Dutch Prime Minister Ana Lind".
    inner = [j for j in range(k, len(words) - 1) if _is_role(words[j].lower())]
    if inner and not honorific:
        title = [w.lower() for w in words[k : inner[-1] + 1]]
        k = inner[-1] + 1
    if (
        title
        and not honorific
        and k < len(words) - 1
        and words[k].lower().rstrip(".") in HONORIFICS
    ):
        honorific = words[k].lower().rstrip(".")  # "Boss Sir Tom Ray"
        k += 1
    name = tuple(words[k:])
    if determined and not honorific and not title:
        return None
    if not name or any(w.lower() in ORGANISATION_WORDS for w in name[1:]):
        return None
    if name[0].lower() in ORGANISATION_WORDS and not (
        len(name) > 1 and _role_before(text, run.start)
    ):
        return None  # "Harbour Street", but "coach Lake Ostby" is a person
    if _is_role(name[-1].lower()) and not _surname_used(text, name[-1]):
        return None  # "a Republican Senator": a role, not a name ("Mei Wing said" is)
    if any(
        w.lower() in NOT_NAMES and not (j and w.lower() in MONTHS) or _NUMBER.search(w)
        for j, w in enumerate(name)
    ):
        return None  # "Tova May" is a name, "May Day" no one's
    if name[-1].lower().endswith(("ish", "ese")) and name[-1].lower() in NATIONAL_ADJECTIVES:
        # "Young Danish", "Many Maltese": a nationality ends no name, but "Tom Kellish",
        # "Ada Lorese" and "Ada French" are names.
        return None
    if (
        not (honorific or title)
        and (
            _ORGANISATION_BEFORE.search(text[max(0, run.start - 30) : run.start])
            or len(name) >= 2
            and name[0].lower() in ORGANISATION_NOUNS  # "Consultancy Tova Reed said"
        )
        and not _surname_used(text, name[-1])
    ):
        return None  # "the insurer Tova Reed said": an organisation's name
    if (
        not (honorific or title)
        and _organisation_after(text, run.end)
        and not _surname_used(text, name[-1])
    ):
        return None  # "Tova Reed, the Varna insurer, said": an organisation's name too
    if len(name) == 1 and not (honorific or title):
        return None
    return _Named(run, honorific, " ".join(title), name, run.starts[k])


def _organisation_after(text: str, end: int) -> bool:
    """Whether an apposition after the name, closed by a comma, says it is an
    organisation: ", the Varna insurer,", ", a firm of lawyers," (its head noun, before
    any "of …" or clause, is one), not ", head of the firm," or ", a Varna bank analyst,"."""
    found = _apposition(text, end)
    if found is None or not found[1]:
        return False  # ", the firm says …", ", hired the band …": no apposition
    phrase = found[0]
    if not phrase:
        return False
    first = phrase.split(maxsplit=1)[0].lower()
    if first in _CLAUSE_FIRST or first in _SPOKE or _HEAD_ENDS.match(" " + first):
        return False  # ", told the Courier's news desk:", ", from the Varna bank,"
    head = _HEAD_ENDS.split(phrase, maxsplit=1)[0]
    nouns = re.findall(r"[^\W\d_][\w'’-]*", head.lower())
    return bool(nouns) and nouns[-1] in ORGANISATION_NOUNS and not any(map(_is_role, nouns))


_HEAD_ENDS = re.compile(
    r"\s+(?:of|for|at|in|with|from|to|on|that|which|who|whose)\b", re.IGNORECASE
)


def _surname_used(text: str, word: str) -> bool:
    """Whether the article calls someone by this word as a surname: after an honorific
    ("Ms Reed") or alone before a speech verb ("Reed said")."""
    return bool(
        re.search(rf"\b(?:{_HONORIFIC_ALT})\.?\s+{re.escape(word)}\b", text)
        or re.search(rf"(?<![\w'’-]\s){re.escape(word)}\s+(?:{_SAID})\b", text)
    )


_HONORIFIC_ALT = alternation(h.capitalize() for h in HONORIFICS)
_SAID = "said|says|told|added|adds|explained|insisted"


def _is_role(word: str) -> bool:
    """A title or role word, hyphened ones too ("vice-president", "songwriter")."""
    return (
        word in ROLE_NOUNS
        or word in TITLE_WORDS
        or all(part in TITLE_WORDS or part in ROLE_NOUNS for part in word.split("-"))
    )


_HYPHENED_MODIFIERS = ("-born", "-based", "-year-old")
_MODIFIER_ENDINGS = ("ic", "ian", "ish", "ese", "ean", *_HYPHENED_MODIFIERS)
_AGENT_ENDINGS = ("er", "or", "ist")


def _modifier(word: str) -> bool:
    """What stands before a first name and a surname without being part of them: an
    adjective ("Democratic", "Yugoslavian-born") or an agent noun ("Songwriter")."""
    return word.endswith(_MODIFIER_ENDINGS + _AGENT_ENDINGS)


def _same_person(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """ "Tomas Vell" and "Tomas K Vell"; "Vell" alone is matched elsewhere."""
    if a[-1] != b[-1] or len(a) < 2 or len(b) < 2:
        return False
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return short[0] == long_[0]


def find_people(text: str) -> tuple[list[Person], list[Mention]]:
    """The people of an article and their mentions by name, surname and role, in order."""
    runs = [_drop_opener(r, text) for r in _runs(text)]
    people: list[Person] = []
    full: list[tuple[str, ...]] = []  # the words of each person's name
    named: list[tuple[_Named, int]] = []

    surnamed: set[int] = set()  # people known so far only as "Mr Lund Berg"

    def person_for(words: tuple[str, ...], surname: bool = False) -> int:
        """The person of these name words; `surname`: they follow "Mr", "Ms"…, and may
        be a surname of two words ("Mr Lund Berg" for Piet van Lund Berg)."""
        for i, known in enumerate(full):
            tail = len(known) < len(words) and i in surnamed and words[-len(known) :] == known
            if known == words or _same_person(known, words) or tail:
                if len(words) > len(known):
                    full[i] = words
                    people[i].name = " ".join(words)
                    surnamed.discard(i)
                return i
            if surname and len(known) > len(words) and known[-len(words) :] == words:
                return i
        full.append(words)
        people.append(Person(" ".join(words)))
        if surname:
            surnamed.add(len(people) - 1)
        return len(people) - 1

    def full_name(parsed: _Named) -> int:
        return person_for(parsed.name, parsed.honorific not in ("", *FIRST_NAME_HONORIFICS))

    # First the full names, so that a surname met earlier (a headline) still resolves.
    nicknames: dict[str, int] = {}  # "Tomi" -> the person written "Tomas 'Tomi' Vell"
    for run in runs:
        parsed = _parse(run, text)
        if parsed is None or len(parsed.name) < 2:
            continue
        named.append((parsed, full_name(parsed)))
        if run.nickname:
            nicknames.setdefault(run.nickname, named[-1][1])
    kin = _kin(text, runs, named, full, people, person_for)
    mentions: list[Mention] = []
    for run in runs:
        parsed = _parse(run, text)
        first = False  # "Sir Tom": a first name after the honorific
        if run.start in kin:
            index, kind, words = kin[run.start], "name", run.words
        elif parsed is not None and len(parsed.name) >= 2:
            index = full_name(parsed)
            kind = "name"
        else:
            words = parsed.name if parsed is not None else _bare_surname(run)
            if not words and _month_surname(run, text, full):
                words = run.words  # "May said": Tova May, not the month
            if not words:
                continue
            first = parsed is not None and parsed.honorific in FIRST_NAME_HONORIFICS
            # A lone nickname is the person where it stands as a name does: before a
            # verb or a stop ("Tomi said", "Tomi signs for Lund"), not before a
            # noun ("Head coach Per Holm" for Tom "Head" Ray).
            found = (
                nicknames.get(words[-1])
                if len(words) == 1 and _NAME_THEN.match(text, run.end)
                else None
            )
            if found is None:
                found = _by_surname(words[-1], full, mentions, run.start, first)
            if found is None:
                if parsed is None:
                    continue
                # "Mr Hale" with no full name anywhere: the honorific form is the name.
                found = person_for(_label(run, parsed))
            index = found
            kind = "surname"
        person = people[index]
        # A surname standing alone tells a person, unless it follows "in", "to"…: then
        # it is as likely a place ("talks in Lund").
        person.evidence |= kind == "surname" and not _PLACE_BEFORE.search(
            text[max(0, run.start - 8) : run.start]
        )
        if parsed is not None:
            person.evidence |= bool(parsed.honorific or parsed.title)
            if parsed.honorific:
                person.gender = person.gender or HONORIFICS[parsed.honorific]
                # "Mr Hale", but "Sir Tom" and "Queen Ada": these take the first name; and
                # "Mr Lund Berg" a surname of two words, as written.
                which = 0 if parsed.honorific in FIRST_NAME_HONORIFICS else -1
                two_words = which == -1 and 1 < len(parsed.name) < len(full[index])
                surname = " ".join(parsed.name) if two_words else parsed.name[which]
                person.forms.add(f"{parsed.honorific.capitalize()} {surname}")
            if parsed.title:
                person.roles.add(parsed.title)
        if run.nickname and kind == "name":
            person.forms.add(run.nickname)
        if not (kind == "surname" and first):  # "Sir Tom" is the form, not "Tom"
            person.forms.add(
                " ".join(words if kind == "surname" or parsed is None else parsed.name)
            )
        before = _role_before(text, run.start)
        after = _role_after(text, run.end)
        for role in (before, after):
            if role:
                person.roles.add(role)
                person.evidence = True
                genders = {ROLE_NOUNS[w] for w in role_heads(role)} - {""}
                if len(genders) == 1 and not person.gender:
                    person.gender = genders.pop()
        mentions.append(Mention(run.start, run.end, index, kind))
    people, mentions = _without_organisations(text, people, mentions)
    mentions.extend(_role_mentions(text, people, mentions))
    mentions.sort(key=lambda m: m.start)
    return people, mentions


# "Kestrel Oil said it would grow", "… told the Courier that its profit fell".
_SAID_IT = re.compile(
    r"\s+(?:has\s+|had\s+)?(?:said|says|added|told\s+[^.\"“”]{0,60}?)(?:\s+on\s+\w+)?"
    r"(?:\s+that)?\s+its?\b"
)


def _without_organisations(
    text: str, people: list[Person], mentions: list[Mention]
) -> tuple[list[Person], list[Mention]]:
    """Drop the names told as people by nothing but their capitals (no honorific, role or
    surname used alone) that the article has speak of themselves as "it": "Kestrel Oil
    said it would grow" is an organisation's statement."""
    gone = {
        m.person
        for m in mentions
        if m.kind == "name" and not people[m.person].evidence and _SAID_IT.match(text, m.end)
    }
    if not gone:
        return people, mentions
    kept = [i for i in range(len(people)) if i not in gone]
    renumber = {old: new for new, old in enumerate(kept)}
    return [people[i] for i in kept], [
        Mention(m.start, m.end, renumber[m.person], m.kind)
        for m in mentions
        if m.person not in gone
    ]


_KIN_NOUNS = "wife|husband|son|daughter|brother|sister|father|mother|widow"
_KIN = re.compile(
    rf"(?:\b([Hh]is|[Hh]er)|(?<![\w'’-])([A-Z][\w'’-]*?)(?:['’]s|['’]))\s+({_KIN_NOUNS})\s+$"
)


def _kin(
    text: str,
    runs: Sequence[Run],
    named: Sequence[tuple[_Named, int]],
    full: list[tuple[str, ...]],
    people: list[Person],
    person_for: Callable[[tuple[str, ...]], int],
) -> dict[int, int]:
    """People named by a first name after a relation ("Mr Hale's daughter Ana", "his
    wife Ada"): the first name with the surname of the person they are kin to, named
    last before them ("his": the last man or person of no known gender). Run start ->
    person."""
    out: dict[int, int] = {}
    for run in runs:
        if len(run.words) != 1 or run.words[0].lower() in NOT_NAMES:
            continue
        m = _KIN.search(text[max(0, run.start - 60) : run.start])
        if m is None:
            continue
        earlier = [(p, i) for p, i in named if p.run.start < run.start]
        if m.group(2):
            surname = m.group(2)
            found = [i for _, i in earlier if full[i][-1] == surname]
        else:
            gender = "m" if m.group(1).lower() == "his" else "f"
            found = [i for p, i in earlier if HONORIFICS.get(p.honorific, "") in ("", gender)]
        if not found or full[found[-1]][-1] == run.words[0]:
            continue
        index = person_for((run.words[0], full[found[-1]][-1]))
        person = people[index]
        person.evidence = True
        person.gender = person.gender or ROLE_NOUNS[m.group(3)]
        out[run.start] = index
    return out


def _one_edit(a: str, b: str) -> bool:
    """Whether two words differ by one inserted, deleted or changed letter."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = next((k for k in range(len(a)) if a[k] != b[k]), len(a))
    return (
        a[i + (len(a) < len(b)) - (len(a) < len(b)) :] == b[i + 1 :]
        if len(a) < len(b)
        else a[i + 1 :] == b[i + 1 :]
    )


_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“”‘’'(\n–—-]\s*|\n)$")


def _drop_opener(run: Run, text: str) -> Run:
    """ "Will Lund Fall?" at a sentence's start: a first word the article also writes in
    lower case ("will") opens the sentence; it is no first name. Nor is one before a full
    name the article writes without it ("Defiant Ana Lind" where "Ana Lind" stands
    elsewhere), nor a speech verb opening an inverted attribution ("Said Hale: "…"") of a
    name the article uses without it."""
    if len(run.words) < 2 or not _SENTENCE_START.search(text[max(0, run.start - 3) : run.start]):
        return run
    first = run.words[0]
    lower = re.search(rf"(?<![\w'’]){re.escape(first.lower())}(?![\w'’])", text)
    # "Said Hale: "…"": an inverted speech verb, where the article names Hale elsewhere
    spoken = (
        first.lower() in _VERB_FORMS
        and _VERB_OPENS.match(text, run.end) is not None
        and _named_without(run, text)
    )
    if not (lower or spoken or _derived(first) or len(run.words) > 2 and _named_without(run, text)):
        return run
    return Run(run.starts[1], run.end, run.words[1:], run.starts[1:], run.possessive)


_VERB_OPENS = re.compile(r"\s*[:,]|\s*[\"“]")  # "Said Hale: "…"", "Added Hale, …"
_ADVERB_ENDINGS = ("ally", "tely", "ntly", "edly", "ously", "ably", "ibly")


def _derived(word: str) -> bool:
    """A word whose shape says it is no first name: a compound made with a participle
    ("Second-placed", "Family-owned", "Music-loving"), a long adverb ("Fortunately"),
    or a naming verb ("Called Lantern, the film…")."""
    low = word.lower()
    last = word.rsplit("-", 1)[-1]
    return (
        "-" in word
        and last.islower()
        and last.endswith(("ed", "ing"))
        or len(low) >= 8
        and low.endswith(_ADVERB_ENDINGS)
        or low in NAMING_FORMS
    )


_WORD_BEFORE = re.compile(r"([^\W\d_][\w'’.-]*)\s+$")  # the word a text ends on


def _named_without(run: Run, text: str) -> bool:
    """Whether the article writes the run's words after the first as a name elsewhere:
    not after it, nor after an honorific ("Mr Saar Berg" is no full name), and not
    opening with a particle ("van Lund")."""
    if run.words[1].lower() in NAME_PARTICLES or run.words[0].rstrip(".").lower() in HONORIFICS:
        return False
    rest = re.compile(rf"(?<![\w'’]){re.escape(' '.join(run.words[1:]))}(?![\w'’])")
    for m in rest.finditer(text):
        word = _WORD_BEFORE.search(text[max(0, m.start() - 30) : m.start()])
        if word is None or (
            word[1] != run.words[0] and word[1].rstrip(".").lower() not in HONORIFICS
        ):
            return True
    return False


def _bare_surname(run: Run) -> tuple[str, ...]:
    """A lone capitalised word that may be a surname ("Hale said"), stripped of sentence
    openers ("But Hale")."""
    words = [
        w
        for k, w in enumerate(run.words)
        if w.lower() not in NOT_NAMES and not (k == 0 and w.lower() in OPENERS)
    ]
    return tuple(words[-1:]) if len(words) == 1 else ()


def _month_surname(run: Run, text: str, full: list[tuple[str, ...]]) -> bool:
    """A month standing alone that is the surname of someone of the article, right
    before a speech verb ("May said:")."""
    word = run.words[0] if len(run.words) == 1 else ""
    if word.lower() not in MONTHS or not any(len(f) > 1 and f[-1] == word for f in full):
        return False
    return _next_word(text, run.end) in _VERB_FORMS


def _by_surname(
    surname: str,
    full: list[tuple[str, ...]],
    mentions: list[Mention],
    at: int,
    first: bool = False,
) -> int | None:
    """The person of this surname (`first`: of this first name, "Sir Tom", else of this
    surname, "Prince Ivo" for Crown Prince Ivo): the one named last before `at`, else
    the only one."""
    matches = [i for i, words in enumerate(full) if first and words[0] == surname]
    matches = matches or [i for i, words in enumerate(full) if words[-1] == surname]
    if not matches and len(surname) >= 4:
        # A slip of one letter ("Mr Vel's" for Vell) is the same person.
        matches = [i for i, words in enumerate(full) if _one_edit(words[-1], surname)]
    if not matches:
        return None
    if len(matches) == 1:
        return matches[0]
    earlier = [m for m in mentions if m.start < at and m.person in matches]
    return earlier[-1].person if earlier else matches[0]


_ROLE_MENTION = re.compile(r"\b(?:[Tt]he|[Hh]is|[Hh]er|[Ii]ts|[Tt]heir)\s+")
_WORDS_AFTER = re.compile(r"(?:\d+-)?[^\W\d_][\w'’-]*")  # "74-year-old" too
# After "the American": the phrase ends there ("said the American.", "the Scot, who…").
_PHRASE_END = re.compile(r"\s*(?:[,.;:!?\"”’)]|$)")


def _label(run: Run, parsed: _Named) -> tuple[str, ...]:
    """ "Mr Hale" (or "President Hale") as a name, for someone never named in full."""
    first = run.starts.index(parsed.name_start)
    return run.words[max(0, first - 1) :]


def _role_mentions(text: str, people: list[Person], named: list[Mention]) -> list[Mention]:
    """ "The minister", "the finance chief": the person the article gave that role."""
    out: list[Mention] = []
    taken = [(m.start, m.end) for m in named]
    starts = {a for a, _ in taken}
    for m in _ROLE_MENTION.finditer(text):
        words: list[tuple[str, int]] = []
        end = m.end()
        for w in _WORDS_AFTER.finditer(text, m.end(), min(len(text), m.end() + 60)):
            if text[end : w.start()].strip() or len(words) == 4:
                break
            words.append((w.group().lower(), w.end()))
            end = w.end()
        # The phrase ends at its last role noun: "the finance chief" (not "the finance").
        last = max(
            (k for k, (w, _) in enumerate(words) if _is_role(w) or w.endswith("-year-old")),
            default=-1,
        )
        if (
            last < 0
            and words
            and words[0][0] in DEMONYMS
            and (
                _PHRASE_END.match(text, words[0][1])
                or _next_word(text, words[0][1]) in _AFTER_DEMONYM
            )
        ):
            last = 0  # "said the American.
        if last < 0 or any(w in _ROLE_BEFORE_STOP for w, _ in words[: last + 1]):
            continue
        phrase = [w for w, _ in words[: last + 1]]
        if phrase[-1].endswith("-year-old"):
            phrase[-1] = "year-old"  # "the 30-year-old": an epithet like any other
        stop = words[last][1]
        after = _skip_spaces(text, stop)
        if text.startswith(",", after):
            after = _skip_spaces(text, after + 1)
        if any(a < stop and m.start() < b for a, b in taken) or after in starts:
            continue  # "the chief executive (,) Tom Ray": the name itself is the mention
        index = with_role(people, named, phrase, m.start())
        if index is not None:
            out.append(Mention(m.start(), stop, index, "role"))
        elif (
            m.group().strip().lower() == "the"
            and phrase[-1] not in UNNAMED_SOURCES
            and not any(w.endswith(("'s", "’s")) for w in phrase[:-1])
        ):  # "the mayor's lawyer" is someone else than the mayor
            out.append(Mention(m.start(), stop, EPITHET, "epithet"))
    return out


# What may follow "the American" when it is the subject: a speech verb or an auxiliary.
_AFTER_DEMONYM = _VERB_FORMS | frozenset(words("who has had was is would will also then"))
_SPACES = re.compile(r"\s*")


def _skip_spaces(text: str, at: int) -> int:
    m = _SPACES.match(text, at)
    return m.end() if m else at


def _next_word(text: str, at: int) -> str:
    m = re.match(r"\s+([^\W\d_][\w'’-]*)", text[at : at + 40])
    return m.group(1).lower() if m else ""


def with_role(
    people: Sequence[Person], named: Sequence[Mention], phrase: Sequence[str], at: int
) -> int | None:
    """The person a role stands for at `at` ("minister", "finance chief"): among those the
    article gave that role (all its words, else its head noun), the one named last
    before, else the only one."""
    heads = [w for w in phrase if w in ROLE_NOUNS]
    if not heads:
        return None
    fits = [i for i, p in enumerate(people) if any(heads[-1] in role_heads(r) for r in p.roles)]
    exact = [i for i in fits if any(_modifies(phrase, r) for r in people[i].roles)]
    if len(phrase) > 1 and not exact:
        return None  # "the Two Harbours star": the head alone would be a guess
    fits = exact or fits
    if not fits:
        return None
    before = [n for n in named if n.start < at and n.person in fits]
    return before[-1].person if before else (fits[0] if len(fits) == 1 else None)


def _modifies(phrase: Sequence[str], role: str) -> bool:
    """Whether a role phrase ("world record holder") is said by a role the article gave:
    its head noun in the role, and each word before the head there before it too
    ("world champion" is not "champion and world indoor record holder")."""
    tokens = re.findall(r"[^\W_][\w'’-]*", role)
    at = [k for k, w in enumerate(tokens) if w == phrase[-1]]
    return bool(at) and all(w in tokens[: at[-1]] for w in phrase[:-1])


@lru_cache(maxsize=1 << 16)
def name_key(name: str) -> str:
    """The form a name is compared in across articles: folded, case-folded, plain spaces.
    (Remembered: a corpus names the same people in thousands of articles.)"""
    return re.sub(r"\s+", " ", fold(name).casefold().replace(".", "")).strip()
