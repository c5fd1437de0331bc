"""Who said what: every sentence's speaker and mode, from the article's own text.

Why: "What did X say about Y?" must quote X's words first, and a quote must show whose
words it is. News copy marks speech in a handful of ways, and these rules read them
over the people `rag.analysis.people` found:

- a quotation with its attribution after it ("…," Hale said. / "…," said Ms Hale. /
  "…," the minister said.) or before it (Hale said: "…") is that person's, *direct*;
- reported speech ("Hale warned that…", "according to Hale,…", "Hale told reporters
  the plan would fail") is theirs, *reported*;
- a pronoun subject ("he added") or an epithet ("said the 74-year-old comedian") is
  someone named earlier in the sentence, else the one person the sentence before names
  (when no one speaks in it), else whoever spoke in the three sentences before, else the
  subject of the sentence before; the gender must fit, and a pronoun that settles it
  teaches it;
- a quotation running over several sentences is its attributed speaker's throughout,
  and a quotation opening right after someone's words (the same paragraph or the next)
  goes on with them;
- words attributed to anyone but a named person ("the firm said", "a spokesman said")
  are nobody's: the sentence gets no speaker, and it stops a quotation from running on.

When a sentence reports one person quoting another ("Hale said there must be 'a fair
deal', Varga noted"), the speaker is the one whose attribution closes the sentence;
otherwise the first. But: a sentence gets one speaker; no model is involved, and a name
the people finder missed cannot speak.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.analysis.lexicon import (
    HONORIFICS,
    NAMING_FORMS,
    PRONOUNS,
    ROLE_NOUNS,
    SPEECH_FORMS,
    UNNAMED_SOURCES,
    alternation,
    speech_forms,
    words,
)
from rag.analysis.people import EPITHET, Mention, Person, find_people, with_role
from rag.text import quote_marks
from rag.types import Sentence

DIRECT = "direct"
REPORTED = "reported"

_ROLE_ALT = alternation(ROLE_NOUNS)
_VERB = re.compile(rf"\b(?:{alternation(SPEECH_FORMS)})\b", re.IGNORECASE)
# What may stand between a subject and its verb ("will" may not: "Hale will announce the
# team on Friday" reports no words yet): "Hale has since repeatedly said",
# "Hale, head of the fund, said", "Hale - a former minister - said", "Hale was quoted as
# saying".
_BETWEEN = re.compile(
    r"^(?:\s*,(?:[^,\"“”]{1,150},){1,3}|\s*,|(?:\s*,)?\s+(?:from|of|at)\s+[^,\"“”]{1,60}?,?"
    r"|\s+[-–—]\s+[^-–—\"“”]{1,100}?\s+[-–—])?"
    # "Hale on Friday told…", "Hale last week said…"
    r"(?:\s+(?:on|last|this|late|early)\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|"
    r"sunday|week|month|year|night|morning|afternoon|evening))?"
    r"(?:\s+(?:went\s+on\s+to|goes\s+on\s+to|continued\s+to|has|have|had|also|would|could|did|does|do|then|later|"
    r"since|again|still|once|earlier|previously|recently|further|himself|herself|however|"
    r"afterwards?|yesterday|today|soon|first|too|"
    r"(?:was|were|is|are)\s+quoted\s+as|always|never|not|\w+ly))*\s*$",
    re.IGNORECASE,
)
_ACCORDING = re.compile(r"\baccording\s+to\s*$", re.IGNORECASE)
# Between an inverted verb and its subject: '…," said union leader Ana Varga'.
_AFTER_VERB = re.compile(r"^\s+(?:[\w'’-]+\s+){0,6}$")
# …or with a comma after the role: '…," said the charity's technology director, Ana Varga'.
_AFTER_VERB_ROLE = re.compile(r"^\s+(?:[\w'’-]+\s+){0,5}(?P<role>[\w'’-]+),\s+$")
_DOUBLE = '"“”„'


@dataclass(frozen=True, slots=True)
class _Who:
    person: int | None  # None: the words are someone's who is no named person
    at: int  # where the attribution's verb stands in the sentence
    trailing: bool = False  # "…, Hale said." closing the sentence: its main attribution
    opens: bool = False  # "…, but Hale explained: "…"": it opens the sentence's quotation


def _quoted_mask(text: str, sentences: Sequence[Sentence]) -> list[bool]:
    """Per character of the article: is it inside double quotation marks?

    A paragraph starts outside a quotation (news copy reopens a quotation that runs on
    into the next paragraph); `rag.text.quote_marks` says which marks open and close.
    """
    mask = [False] * len(text)
    paragraph = None
    inside = False
    for s in sentences:
        if s.paragraph != paragraph:
            inside, paragraph = False, s.paragraph
        at = s.start
        for pos, opens in quote_marks(text[s.start : s.end]):
            pos += s.start
            mask[at:pos] = [inside] * (pos - at)
            mask[pos] = True
            inside, at = opens, pos + 1
        mask[at : s.end] = [inside] * (s.end - at)
    return mask


def _has_quote(text: str, mask: list[bool], s: Sentence) -> bool:
    """Does the sentence carry quoted words (two or more, or a quotation running on)?"""
    inside = "".join(c if mask[i] else " " for i, c in enumerate(text[s.start : s.end], s.start))
    words = re.findall(r"[^\W_]+", inside)
    if len(words) >= 2 or (words and mask[s.start]):
        return True
    # A short quotation in single marks ("called it 'a disgrace'"), not a nickname inside
    # a name ("Tomas 'Tomi' Vell").
    said = text[s.start : s.end]
    return any(
        not (
            _NICKNAME.fullmatch(m.group())
            and re.search(
                r"(?:^|[^\w\s]\s*|\b[^\W\d_A-Z][\w'’-]*\s+)[A-Z][\w'’-]* $", said[: m.start()]
            )
            and re.match(r" [A-Z]", said[m.end() :])
        )
        for m in re.finditer(r"(?<!\w)['‘][^'‘’]{3,}?[’'](?!\w)", said)
    )


_NICKNAME = re.compile(r"['‘][A-Z][^\s'‘’]*['’]")


class _Article:
    """One article's text, people, mentions and quotation marks, read once."""

    def __init__(self, text: str, sentences: Sequence[Sentence]) -> None:
        self.text = text
        self.sentences = sentences
        self.people, mentions = find_people(text)
        self.mentions = [m for m in mentions if m.person != EPITHET]
        self.epithets = [m for m in mentions if m.person == EPITHET]
        self.mask = _quoted_mask(text, sentences)
        # Sentences whose words are a person's the article does not name ("a spokesman
        # said…"): a "he said" right after is theirs, not the last named speaker's.
        self.unnamed: set[int] = set()
        # Sentences whose words are someone's, even if no named person's (as attribution
        # goes on).
        self.claimed: set[int] = set()

    def outside(self, s: Sentence) -> str:
        """The sentence with quoted words blanked: where attributions stand."""
        t = self.text
        return "".join(" " if self.mask[i] else t[i] for i in range(s.start, s.end))

    def mentions_in(self, s: Sentence, speakers: dict[int, int]) -> list[Mention]:
        """The sentence's mentions outside quotation marks; "the 74-year-old comedian"
        stands for whoever the story is about there (see `pronoun`)."""
        found = [
            m
            for m in self.mentions
            if s.start <= m.start < s.end and not self.mask[m.start] and m.end <= s.end
        ]
        for m in self.epithets:
            if s.start <= m.start < s.end and not self.mask[m.start] and m.end <= s.end:
                who = self.pronoun("", m.start, speakers)
                if who is not None:
                    found.append(Mention(m.start, m.end, who, "epithet"))
        return sorted(found, key=lambda m: m.start)

    def pronoun(self, gender: str, at: int, speakers: dict[int, int]) -> int | None:
        """Who "he" or "she" at `at` is: someone named before it in its own sentence, else
        the one person the sentence before names (`_last_named`), else the speaker of the
        sentence before, else the first person named in it (its subject), going back up
        to three sentences; the gender must fit, and once a pronoun settles it, the
        person keeps it."""

        def fits(i: int) -> bool:
            p = self.people[i]
            gendered = not gender or not p.gender or p.gender == gender
            return gendered and (p.evidence or i in spoke)

        spoke = set(speakers.values())

        here = next(k for k, s in enumerate(self.sentences) if s.start <= at < s.end + 1)
        own = [
            m.person
            for m in self.mentions
            if self.sentences[here].start <= m.start < at and not self.mask[m.start]
        ]
        found = next((i for i in own if fits(i)), None)
        if found is None and here - 1 in self.unnamed:
            return None
        back = range(here - 1, max(-1, here - 4), -1)
        if found is None:
            found = self._last_named(here, gender, speakers, fits)
        if found is None:  # someone who spoke just before
            found = next((speakers[k] for k in back if k in speakers and fits(speakers[k])), None)
        for k in back:  # else the subject of the sentence before
            if found is not None:
                break
            s = self.sentences[k]
            found = next(
                (
                    m.person
                    for m in self.mentions
                    if s.start <= m.start < s.end and not self.mask[m.start] and fits(m.person)
                ),
                None,
            )
        if found is None:  # the last to speak before, however far back
            found = next(
                (
                    speakers[k]
                    for k in sorted(speakers, reverse=True)
                    if k < here and fits(speakers[k])
                ),
                None,
            )
        if found is not None and gender and not self.people[found].gender:
            self.people[found].gender = gender
        return found

    def _last_named(
        self, here: int, gender: str, speakers: dict[int, int], fits: Callable[[int], bool]
    ) -> int | None:
        """The one person the sentence before names, speaking or not ("The deal did little
        for Ms Hale. "…," she said."), looking past sentences that only go on about someone
        as "he" or "she" ("One woman, Ana Lind, found her sister. She had not seen her for
        years. "…," she said."). None where the sentence before is anyone's words or names
        more than one person, or where the words at `here` name the person. A speaker two
        sentences back yields to the person named in between even as an object ('"…," said
        Tom Ray. The strike began after owner Per Holm cut wages. "…," he said.' goes to
        Per Holm): over the BBC stories that reading was right far more often than not."""
        k = here - 1
        while k >= 0 and here - k <= 3 and k not in speakers and k not in self.claimed:
            s = self.sentences[k]
            mentions = [
                m for m in self.mentions if s.start <= m.start < s.end and not self.mask[m.start]
            ]
            named = {m.person for m in mentions}
            if named:
                one = next(iter(named))
                if len(named) != 1 or not fits(one) or not self.people[one].evidence:
                    return None
                return None if self._named_in(here, one) else one
            opening = re.match(r"\W*(\w+)", self.text[s.start : s.end])
            if not gender or opening is None or PRONOUNS.get(opening[1].lower()) != gender:
                return None
            k -= 1
        return None

    def _named_in(self, here: int, person: int) -> bool:
        """Does sentence `here` name the person, even inside its quotation ("Ana can play
        anywhere," he said: not Ana's words)?"""
        s = self.sentences[here]
        p = self.people[person]
        said = self.text[s.start : s.end]
        first = p.name.split()[0]
        names = {*p.forms, p.surname} | ({first} if first.lower() not in HONORIFICS else set())
        return any(re.search(rf"\b{re.escape(f)}\b", said) for f in names)


def _attributions(art: _Article, s: Sentence, speakers: dict[int, int]) -> list[_Who]:
    """Every attribution of speech in the sentence, in order."""
    frame = art.outside(s)
    found: list[_Who] = []
    mentions = art.mentions_in(s, speakers)
    colon = re.search(r":\s*[\"“]", art.text[s.start : s.end])
    for verb in _VERB.finditer(frame):
        if verb.group()[0].isupper() and s.kind == "body" and verb.start() > 0:
            continue  # "Says" mid-sentence is a name or a title, not the verb
        no_words = _NO_WORDS_AFTER.get(verb.group().lower())
        if no_words is not None and no_words.match(frame, verb.end()):
            continue  # "Lind was ruled out for a month", "Hale wrote a memoir": no words given
        if verb.group().lower().startswith("continu") and not re.search(
            r"[\"“”]", art.text[s.start : s.end]
        ):
            continue  # "Lind continued, despite the pain": speech only with a quotation
        head = frame[: verb.start()]
        tail = frame[verb.end() :]
        if verb.group().lower().endswith("ing") and re.search(r",\s*$", head):
            # "…, warning that…": the participle's subject is the sentence's.
            first = _sentence_subject(art, s, mentions)
            if first is not None:
                found.append(_Who(first[0], verb.start(), False))
            continue
        who = None
        # "is confident", "made it clear" are never inverted: their subject stands before
        # ("The club, however, is confident Ana Lind will stay" is not Ana Lind's).
        inverts = not verb.group().lower().startswith(_NOT_INVERTED)
        for other in (False, True):
            who = _subject_before(art, s, head, mentions, speakers, other)
            if inverts:
                who = who or _subject_after(
                    art, s, head, tail, verb.end(), mentions, speakers, other
                )
            if who is not None:
                break
        if who is not None:
            rest = re.sub(r"^[^,.;:!?]*", "", tail) if who.at >= verb.start() else tail
            # The attribution closes the sentence when its clause (subject and verb)
            # follows a comma or a quotation and little comes after it.
            before = art.text[s.start : s.start + min(who.at, verb.start())]
            trailing = (
                bool(re.search(r"[,\"”’]\s*$", before)) and len(re.findall(r"\w+", rest)) <= 8
            )
            opens = (
                colon is not None
                and _JUST_BEFORE.fullmatch(frame, verb.end(), colon.start()) is not None
                and not _COORDINATED.search(head)  # "…, and added: "…"": the clause's subject
            )
            found.append(_Who(who.person, verb.start(), trailing, opens))
    first = _sentence_subject(art, s, mentions)
    if (
        first is not None
        and colon
        and not found
        and (
            colon.start() > first[1]
            # after a name and its colon alone ("Harbour chief Ana Lind: "We…""), words
            # that speak as someone (a rating, "Goalkeeper Ana Lind: "Solid."", does not)
            or colon.start() == first[1]
            and (
                _speaks_as_someone(art, s.start + colon.end())
                or _VERB.match(frame) is not None  # "Said Mr Hale: "…""
            )
        )
    ):
        # "Hale was at a loss to explain it: "I suppose…"": the subject's words.
        found.append(_Who(first[0], colon.start(), False))
    for by in re.finditer(r"\b\w+(?:ed|en)\s+(?:[\w'’\"“”-]+\s+){0,6}?by\s+", frame):
        # "…was dismissed as "ridiculous" by Judge Ana Lind": a passive's agent.
        said = _VERB.match(frame, by.start())
        if not said or _PARTICIPLE.search(frame, said.end(), by.end()):
            continue  # "recalled the eulogy delivered by Davis": Davis delivered, not recalled
        if not _PASSIVE_BEFORE.search(frame, 0, by.start()):
            continue  # "Lind blamed her defeat by Ana Holm on…": active, with an object
        m = next((m for m in mentions if m.start - s.start >= by.end()), None)
        gap = art.text[s.start + by.end() : m.start] if m else "x"
        if m is not None and re.fullmatch(r"(?:[\w'’-]+\s+){0,5}", gap):
            found.append(_Who(m.person, by.start(), True))
    for acc in re.finditer(r"\baccording\s+to\s+", frame, re.IGNORECASE):
        after = [m for m in mentions if m.start - s.start >= acc.end()]
        m = after[0] if after else None
        gap = art.text[s.start + acc.end() : m.start] if m else ""
        if (
            m is not None
            and art.people[m.person].evidence
            and re.fullmatch(r"(?:[\w'’-]+\s+){0,6}", gap)
        ):
            found.append(_Who(m.person, acc.start(), acc.start() > 0))
        else:
            found.append(_Who(None, acc.start(), acc.start() > 0))
    found.sort(key=lambda w: w.at)
    return found


def _speaks_as_someone(art: _Article, at: int) -> bool:
    """Whether the quotation opening at `at` (it may run over several sentences) says
    "I", "we" or "you"."""
    close = _QUOTE_END.search(art.text, at, at + 600)
    return bool(_FIRST_PERSON.search(art.text, at, close.start() if close else at + 600))


_QUOTE_END = re.compile(r"[\"”\n]")
_FIRST_PERSON = re.compile(
    r"\b(?:I|I'm|I’m|I've|I’ve|me|my|we|we're|we’re|us|our|you|your)\b", re.I
)


# Verbs that give no words when these follow them: "was ruled out for a month" (he was
# ruled out; "ruled out a return" and "ruled out of hand" are his words), "wrote a
# memoir" (a work, not words: "wrote an email saying…" is).
_WORKS = (
    "book|novel|account|song|story|part|script|memoir|play|biography|column|piece|history"
    "|screenplay|album|opera|poem|film|series|episode|chapter|report|thesis|musical"
)
_NO_WORDS_AFTER = {
    form: re.compile(after, re.IGNORECASE)
    for base, after in (
        ("rule", r"\s+(?:of(?!\s+hand)|for|through|with)\b"),
        ("plead", r"\s+(?:not\s+)?(?:guilty|innocent)\b"),
        # "continued to rise", "continued his run": no words (and none at all in a
        # sentence without a quotation: see _attributions)
        ("continue", r"\s+(?![\"“])\S"),
        ("urge", r"\s+to\b"),  # "Lind urged to stay" (a headline's passive): no words
        # "claimed the title", "claimed victory": a prize, not words
        (
            "claim",
            r"\s+(?:(?:the|a|an|his|her|their|its)\s+)?"
            r"(?:(?!(?:that|they|he|she|it|we|i|you|would|could|will|should|had|has)\b)"
            r"[a-z][\w'’-]*\s+){0,2}?"
            r"(?:award|title|prize|victory|win|trophy|medal|crown|record|lead|place|spot|"
            r"seat|scalp|honours?|gold|silver|bronze|points?|wickets?|goals?)s?\b"
            r"(?!\s+(?:was|is|were|are|had|has|have|should|would|could|will|might|must|did)\b)",
        ),
        # "agreed to help", "agreed to a deal": no words ("agreed to some extent that" is)
        ("agree", r"\s+to\s+(?!that\b|(?:some|an?|a\s+large|a\s+certain)\s+(?:extent|degree)\b)"),
        (
            "confident",
            r"\s*(?:[.,;:!?)]|$)|\s+(?:of|about|with|by|in|for|at|after|to|and|but|over|on)\b",
        ),
        ("write", rf"\s+(?:a|an|the|his|her|their)\s+(?:[\w'’-]+\s+){{0,3}}?(?:{_WORKS})s?\b"),
    )
    for form in speech_forms(base)
}


_NOT_INVERTED = ("is ", "was ", "remains ", "remained ", "made ", "makes ", "make ", "making ")


def _main(found: list[_Who]) -> _Who:
    """The attribution that governs the sentence: a person's closing it ("…, Varga
    noted."), else the one opening its quotation ("Hale denied it, but Varga said:
    "…"" is Varga's, and no one's when Varga is no named person), else a person's first
    ("Hale said he thought…" is Hale's); words given to no named person ("the firm
    said") only when no person is given any."""
    people = [w for w in found if w.person is not None]
    trailing = [w for w in people if w.trailing]
    opens = [w for w in found if w.opens]
    if trailing:
        return trailing[-1]
    return opens[-1] if opens else people[0] if people else found[0]


# Between a verb and the colon of the quotation it opens: "explained to reporters:".
_JUST_BEFORE = re.compile(r"(?:\s+[\w'’-]+){0,3}\s*")
# A verb with no subject of its own: "…, and added", "…, simply adding".
_COORDINATED = re.compile(r"(?:\b(?:and|but|then)|,)(?:\s+\w+ly)?\s*$", re.IGNORECASE)


_PRONOUN_SUBJECT = re.compile(r"\b(he|she)" + _BETWEEN.pattern[1:], re.IGNORECASE)
_OTHER = re.compile(
    r"(?:^|[,\"”’]\s*|\b(?:the|a|an|its|his|her|their)\s+)"
    r"(?:[\w'’-]+\s+){0,3}?[\w'’-]+" + _BETWEEN.pattern[1:],
    re.IGNORECASE,
)
_INSIDE_PHRASE = re.compile(r"\b(?:of|from|at|for|with|by|to|in|on|visiting)\s*$", re.IGNORECASE)
# "…, the daughter of activist Ana Lind, said": a name inside a phrase, after its role.
_INSIDE_ROLE_PHRASE = re.compile(
    rf"\b(?:{_ROLE_ALT})\s+of\s+(?:(?:the|a|an|his|her|their|its)\s+)?(?:[\w'’-]+\s+){{0,2}}"
    rf"(?:{_ROLE_ALT})\s+$",
    re.IGNORECASE,
)
# "The Harbour Trust, which acts for Ana Lind and Tom Ray, said": a name after "which",
# "who" or "whom" is inside a relative clause, not the subject of the verb after it.
# "Whose" and "where" may open a clause whose subject the name is ("Sorvik Rovers, whose
# striker Ana Lind, 24, said…"), and so may not.
_INSIDE_RELATIVE = re.compile(r",\s+(?:which|who|whom)\b[^,;:\"“”]*$", re.IGNORECASE)
_PARTICIPLE = re.compile(r"\b\w+(?:ed|en)\b")
# What stands before a passive participle: a form of "be" ("was", "has been widely"),
# a comma opening a reduced clause ("…, described as "ridiculous" by Lind"), or a noun
# it follows ("the figure announced by Lind").
_PASSIVE_BEFORE = re.compile(
    r"(?:\b(?:is|are|was|were|be|been|being|get|gets|got)|,"
    r"|\b(?:the|a|an|this|that|these|those|his|her|its|their)\s+[\w'’-]+)(?:\s+\w+ly)?\s+$",
    re.IGNORECASE,
)


def _subject_before(
    art: _Article,
    s: Sentence,
    head: str,
    mentions: list[Mention],
    speakers: dict[int, int],
    other: bool,
) -> _Who | None:
    """The subject standing before a verb: a person or a pronoun, or (`other`) someone
    who is no named person ("the firm")."""
    fallback = None
    for m in reversed(mentions):
        end = m.end - s.start
        before = head[: m.start - s.start]
        if (
            end > len(head)
            or _INSIDE_PHRASE.search(before)
            or _INSIDE_ROLE_PHRASE.search(before)
            or _INSIDE_RELATIVE.search(before)
            and head[end:].lstrip().startswith(",")
        ):
            continue
        gap = head[end:]
        if gap.startswith(("'", "’")):
            gap = gap[1:]  # "Ives' shop"
        # …unless someone told as a person is named in it: ", coach Ana Lind has had to".
        if _BETWEEN.match(gap) or (
            _open_apposition(gap)
            and not any(
                m.end <= o.start < s.start + len(head)
                and o.kind in ("name", "surname")
                and art.people[o.person].evidence
                for o in mentions
            )
        ):
            if art.people[m.person].evidence:
                lead = _joined_before(art, s, m, mentions)
                return _Who(lead.person, lead.start - s.start)
            # A name of capitals alone may end an apposition ("Ada Holm, vice president,
            # Harbour Systems, said"): a person named before it with more to go on wins.
            fallback = fallback or _Who(m.person, m.start - s.start)
    if fallback is not None:
        return fallback
    # "Hale likened the plan to a race and said…", "…but admitted…": the subject of the
    # first verb.
    first = _sentence_subject(art, s, mentions)
    if (
        first is not None
        and re.search(r"\b(?:and|but)\s+$", head)
        and not re.search(r"[;\"“”]", head[first[1] :])
        # "Hale, of the Lund Players, was away but said…": commas too, when no one
        # else is named on the way and no new subject follows the last comma ("…, and her
        # coach was furious but said", "…, the organisers confirmed and added")
        and (
            "," not in head[first[1] :]
            or not any(first[1] <= m.start - s.start < len(head) for m in mentions)
            and not _NEW_SUBJECT.search(head.rsplit(",", 1)[-1])
        )
    ):
        return _Who(first[0], first[1])
    p = _PRONOUN_SUBJECT.search(head)
    if (
        p
        and not _ACCORDING.search(head[: p.start()])
        and not _relative(
            art.text[s.start : s.start + p.start()], art.text[s.start + p.end() : s.end]
        )
    ):
        who = art.pronoun(PRONOUNS[p.group(1).lower()], s.start + p.start(), speakers)
        if who is not None:
            return _Who(who, p.start())
    found = _OTHER.search(head) if other else None
    if found and _names_no_one(head[found.start() :]):
        return _Who(None, found.start())
    return None


# "…is suing the club over a fee he says he was promised", "…and other firms she
# named": a pronoun right after a noun its determiner opens, inside a clause that has
# its own subject and verb, starts a relative clause, whose verb is not the sentence's.
# Not after an opening phrase ("At the weekend he said", "In a statement she said"),
# nor where a colon follows ("…left the house she told them: "…"").
_NOUN_BEFORE = re.compile(
    r"\b(?:a|an|the|other|some|any|all|every|each|these|those)\s+(?:[a-z][\w'’-]*\s+)?"
    r"(?P<noun>[a-z][\w'’-]*)\s+$"
)
_CLAUSE_OPENERS = frozenset(
    words("and but or nor so yet that because as when while if although though since after")
    + words("before until unless where whereas what how why who whom which whether then")
    + words("now also once even only still than time way moment day year half season")
    + words("week month night minute hour morning evening afternoon game match round")
)


def _relative(before: str, after: str) -> bool:
    """Whether a pronoun between `before` and `after` opens a relative clause."""
    m = _NOUN_BEFORE.search(before)
    if m is None:
        return False
    noun = m.group("noun")
    if noun in _CLAUSE_OPENERS or noun in SPEECH_FORMS or noun.endswith("ly"):
        return False
    clause = re.split(r"[,;:\"“”(]", before[: m.start()])[-1].split()
    if len(clause) < 3 or clause[-1].lower() in _ADVERBIAL or _OPENING_WORD.match(clause[0]):
        return False  # "At the weekend he…", "Asked about the deal he…", "…that at the end he"
    return ":" not in after


# Prepositions that open a phrase of time or place before a clause ("… that at the end he
# said"), and the first words of an opening phrase ("After the final whistle he said").
_ADVERBIAL = frozenset(
    words("at in on during after before since until by from with throughout following within for")
)
_OPENING_WORD = re.compile(
    r"(?:at|in|on|during|after|before|since|until|by|from|with|for|following|speaking|asked|"
    r"when|while|as|once|if|but|and|so|then|now|\w+ing|\w+ed)$",
    re.IGNORECASE,
)


# What may come before a sentence's subject: a conjunction, capitalised words of the
# same noun phrase ("UN Secretary General Ana Lind"), a role noun.
_OPENING = re.compile(
    r"\W*(?:(?:[Bb]ut|[Aa]nd|[Yy]et|[Ss]o|[Hh]owever|[Mm]eanwhile)\W+)?(?:[A-Z][\w.'’-]*\s+){0,3}"
    # …and the role between them ("Ireland hooker Ana Lind"), in lower case
    rf"(?:(?:{_ROLE_ALT})\s+)?"
)


# A clause with a subject of its own after a comma: "…, and her coach was furious but",
# "…, where the crowd cheered and".
_NEW_SUBJECT = re.compile(
    r"^\s*(?:where|which|who|whom|whose|when|while)\b"
    r"|\b(?:the|a|an|his|her|their|its|our|my|this|that|these|those)\s+(?:[\w'’-]+\s+){0,2}?"
    r"(?:is|was|are|were|has|had|have|\w+ed)\b",
    re.IGNORECASE,
)


def _open_apposition(gap: str) -> bool:
    """ ", Lund's chief executive said", ", economist at Lund Capital said": an apposition
    whose closing comma is missing, told by the role noun it ends or opens with."""
    m = re.fullmatch(r"\s*,\s+([^,\"“”]{2,80}?)\s*", gap)
    words = m.group(1).lower().split() if m else []
    owner = re.match(r"the\s+([\w-]+)['’]s?\s", m.group(1).lower()) if m else None
    if owner and owner.group(1) in ROLE_NOUNS:
        return False  # "Ana Lind, the actor's spokesman has confirmed": someone else
    return any(w in ROLE_NOUNS for w in words[-3:] + words[:3])


def _sentence_subject(
    art: _Article, s: Sentence, mentions: list[Mention]
) -> tuple[int, int] | None:
    """(person, end) of a person standing first in the sentence ("But Hale …")."""
    if not mentions:
        return None
    m = mentions[0]
    opening = art.text[s.start : m.start]
    if re.fullmatch(_OPENING, opening):
        return m.person, m.end - s.start
    return None


def _names_no_one(subject: str) -> bool:
    """A subject made of words (no quotation) that could be someone's: "the firm"."""
    words = re.findall(r"[^\W\d_][\w'’-]*", subject)
    return 0 < len(words) <= 6 and not re.search(r"[\"“”]", subject)


def _joined_before(art: _Article, s: Sentence, m: Mention, mentions: list[Mention]) -> Mention:
    """The first of two people joined as one subject ("Chancellor Ana Lind and Prime
    Minister Tom Ray voiced concerns"): their words are given to the first named. Not
    when the first is the object of a verb before it ("The board sacked manager Ana Lind
    and chairman Tom Ray said…" is Tom Ray's)."""
    earlier = [o for o in mentions if o.end <= m.start]
    if not earlier or m.start - earlier[-1].end > 60:
        return m
    o = earlier[-1]
    if o.person == m.person or not art.people[o.person].evidence:
        return m
    # The first must open its clause: after the sentence's start, a comma or a quotation,
    # with only capitals and a role before it ("At the same time, Chancellor Ana Lind").
    clause = max(s.start, *(art.text.rfind(c, s.start, o.start) + 1 for c in ',;:"“”'))
    if not _CLAUSE_OPENING.fullmatch(art.text[clause : o.start].lstrip()):
        return m
    return o if _JOINED.fullmatch(art.text, o.end, m.start) else m


# What may open a clause before its subject: a conjunction, capitals, role nouns
# ("JP Harbour chief executive Ana Lind").
_CLAUSE_OPENING = re.compile(
    r"(?:(?:[Bb]ut|[Aa]nd|[Yy]et|[Ss]o|[Hh]owever|[Mm]eanwhile)\W+)?(?:[A-Z][\w.'’-]*\s+){0,3}"
    rf"(?:(?:{_ROLE_ALT})\s+){{0,3}}"
)
# " and ", " and Prime Minister ", " and Italian coach ", " and chief operating officer ":
# two subjects joined.
_JOINED = re.compile(
    rf"\s+and\s+(?:[A-Z][\w'’-]*\s+){{0,3}}(?:(?:[a-z][\w'’-]*\s+){{0,2}}?(?:{_ROLE_ALT})\s+)?"
)


def _subject_after(
    art: _Article,
    s: Sentence,
    head: str,
    tail: str,
    verb_end: int,
    mentions: list[Mention],
    speakers: dict[int, int],
    other: bool,
) -> _Who | None:
    """The subject after an inverted verb: '"…," said Hale' / ', said the minister'."""
    before = art.text[s.start : s.start + len(head)]
    if not re.search(r"[,\"“”’]\s*$", before):
        return _closing_name(art, s, head, verb_end, mentions)
    for m in mentions:
        gap = art.text[s.start + verb_end : m.start]
        if m.start < s.start + verb_end or art.text.startswith(("'", "’"), m.end):
            continue  # before the verb, or "said Lind's agent Tom Ray": Lind's is not who
        later = next((o for o in mentions if o.start > m.end), None)
        if (
            later is not None
            and later.start - m.end <= 60
            and _ROLE_BETWEEN.fullmatch(art.text, m.end, later.start)
        ):
            continue  # "said Dorsey Kell economist Ana Lind": a firm, then its economist
        role = _AFTER_VERB_ROLE.match(gap)
        if _AFTER_VERB.match(gap) or role and role.group("role").lower() in ROLE_NOUNS:
            return _Who(m.person, verb_end)
    p = re.match(r"\s+(he|she)\b", tail, re.IGNORECASE)
    if p:
        who = art.pronoun(PRONOUNS[p.group(1).lower()], s.start + verb_end, speakers)
        if who is not None:
            return _Who(who, verb_end)
    # A headline's bare role: "Tolls to rise, says minister".
    role = re.match(r"\s+((?:[\w'’-]+\s+){0,2}[\w'’-]+)\s*[.!?]?\s*$", tail)
    if role and s.kind in ("title", "heading"):
        who = with_role(art.people, art.mentions, role.group(1).lower().split(), s.start)
        if who is not None:
            return _Who(who, verb_end)
    if other and re.match(r"\s+(?:the|a|an|its|his|her|their)?\s*[\w'’-]+", tail):
        return _Who(None, verb_end)
    return None


# Between two names, the second's role, maybe after capitals: " boss ", " equity
# strategist ", " Motors chief executive " (not "said Ana Lind of captain Tom Ray").
_ROLE_BETWEEN = re.compile(
    r"\s+(?:[A-Z][\w'’-]*\s+){0,2}"
    r"(?:(?!(?:of|after|to|with|for|by|from|at|in|on|and|or|the|a|an|his|her|their|its)\b)"
    rf"[a-z][\w'’-]*\s+)?(?:{_ROLE_ALT})\s+"
)


def _closing_name(
    art: _Article, s: Sentence, head: str, verb_end: int, mentions: list[Mention]
) -> _Who | None:
    """ "…there is no reason to wait said Mr Hale.": an inverted "said" whose comma the
    copy dropped, told by the name right after it closing the sentence (alone, or with a
    role in apposition)."""
    verb = art.text[s.start + len(head) : s.start + verb_end].lower()
    if verb not in ("said", "says") or len(re.findall(r"\w+", head)) < 6:
        return None
    after = [m for m in mentions if m.start >= s.start + verb_end]
    if not after or not re.fullmatch(r"\s+", art.text[s.start + verb_end : after[0].start]):
        return None
    rest = art.text[after[0].end : s.end]
    if re.fullmatch(r"[.!?]?\s*", rest):
        return _Who(after[0].person, verb_end)
    # …or a role in apposition closes it ("…said Tom Ray, head of the guild."), with no
    # verb of its own ("…said Ana Lind, 45, had been charged" reports about her).
    role = re.fullmatch(r",\s+([^,;:\"“”]{2,80}?)[.!?]\s*", rest)
    if role is None or _VERB_AFTER_ROLE.search(role.group(1)):
        return None
    if not any(w in ROLE_NOUNS for w in re.findall(r"[\w'’-]+", role.group(1).lower())):
        return None
    return _Who(after[0].person, verb_end)


_VERB_AFTER_ROLE = re.compile(
    r"\b(?:is|was|are|were|has|had|have|will|would|could|can|may|must)\b|\b\w+ed\b", re.I
)


def _quoted_before(
    art: _Article,
    i: int,
    step: int,
    direct: set[int],
    speakers: dict[int, int],
    claimed: set[int],
    quoted: list[bool],
) -> int | None:
    """The sentence whose quotation sentence i goes on with: the one next to it, or the
    one before a single sentence of narration between them ('"…," Hale told reporters.
    The show opens today. "Buyers are…' is still Hale; so is a quotation opening the
    next paragraph after a sentence about Hale)."""
    sentences = art.sentences
    j = i - step
    if 0 <= j < len(sentences) and (j in direct or j in speakers and step == 1):
        return j
    k = j - step
    if (
        step == 1
        and 0 <= k < len(sentences)
        and k in direct
        and j not in claimed
        and not quoted[j]
        and (
            sentences[j].paragraph == sentences[i].paragraph
            or sentences[j].paragraph == sentences[i].paragraph - 1
            and _opens_quote(art.text, art.mask, sentences[i])
            and _names(art, sentences[j], speakers[k])
        )
    ):
        return k
    return None


def _names(art: _Article, s: Sentence, person: int) -> bool:
    """Whether the sentence is about the person: they are its subject ("Hale left the
    ground early."), not only named in it ("Lind, who sacked Hale, disagrees")."""
    first = _sentence_subject(art, s, art.mentions_in(s, {}))
    return first is not None and first[0] == person


def _closes_on_quote(art: _Article, s: Sentence) -> bool:
    """Whether the sentence ends on a quoted clause of three words or more in lower case,
    names no one who might have said it, and does not name a thing with it: 'The port
    is a "harbour that must grow".', not '…, the Lund Courier calling it "a bridge too
    far"', '…dubbed it a "white elephant"' or 'The film is titled "Grey Harbour".'"""
    text = art.text[s.start : s.end]
    tail = text.rstrip(" .!?")
    if not (tail[-1:] in '"”' and len(tail) >= 2 and art.mask[s.start + len(tail) - 2]):
        return False
    opened = len(tail) - 1
    while opened > 0 and art.mask[s.start + opened - 1]:
        opened -= 1
    quoted = re.findall(r"[^\W\d_][\w'’-]*", tail[opened:])
    if len(quoted) < 3 or not quoted[0][0].islower():
        return False
    if any(s.start <= m.start < s.end and not art.mask[m.start] for m in art.mentions):
        return False
    frame = _DETERMINER_FIRST.sub("", art.outside(s))
    return not (_TWO_CAPITALS.search(frame) or _NAMING.search(frame))


_TWO_CAPITALS = re.compile(r"\b[A-Z][\w'’-]*\s+[A-Z][\w'’-]*")
_DETERMINER_FIRST = re.compile(r"^\s*(?:The|A|An|This|That|These|Those|Its|Their|His|Her)\s+")
_NAMING = re.compile(rf"\b(?:{alternation(NAMING_FORMS)})\b|\bknown\s+as\b", re.IGNORECASE)


def _opens_quote(text: str, mask: list[bool], s: Sentence) -> bool:
    return mask[s.start] or text[s.start : s.start + 1] in _DOUBLE


# "A spokesman said…", "one senior official told…", "one trader, speaking anonymously,
# told…": a person, left unnamed. Roles of people who speak for a market or a
# firm; not every role noun ("an international consortium", "a host of firms", "the
# bank, a partner in the venture,").
_UNNAMED_ROLES = frozenset(
    words(
        """dealer trader broker banker economist strategist executive director manager
        insider witness resident"""
    )
)
_UNNAMED_PERSON = re.compile(
    rf"\b(?:a|an|one|another)\s+(?:[\w'’-]+\s+){{0,3}}?"
    rf"(?:{alternation(UNNAMED_SOURCES | _UNNAMED_ROLES)})s?\b",
    re.IGNORECASE,
)


def attribute(
    text: str, sentences: Sequence[Sentence]
) -> tuple[list[tuple[str | None, str | None]], list[Person], list[Mention]]:
    """(speaker, "direct" | "reported" | None) per sentence, and the article's people."""
    art = _Article(text, sentences)
    n = len(sentences)
    speakers: dict[int, int] = {}  # sentence -> person
    quoted = [_has_quote(text, art.mask, s) for s in sentences]
    for i, s in enumerate(sentences):
        found = _attributions(art, s, speakers)
        if not found:
            continue
        art.claimed.add(i)
        main = _main(found)
        if main.person is not None:
            speakers[i] = main.person
        elif _UNNAMED_PERSON.search(art.outside(s)[: main.at]):
            art.unnamed.add(i)
    direct = {i for i in speakers if quoted[i]}
    # A quotation running over several sentences is its speaker's throughout; a
    # quotation opening right after someone's quote (the same paragraph or the next)
    # goes on with their words. Backwards too: '"A. B," said Hale.' gives A to Hale.
    for order in (range(n), range(n - 1, -1, -1)):
        step = 1 if order.step == 1 else -1
        for i in order:
            if i in speakers or i in art.claimed or not quoted[i]:
                continue
            j = _quoted_before(art, i, step, direct, speakers, art.claimed, quoted)
            if j is None:
                continue
            s, other = sentences[i], sentences[j]
            same_group = s.group == other.group and abs(i - j) == 1
            follows = (
                step == 1
                and _opens_quote(text, art.mask, s)
                and (0 <= s.paragraph - other.paragraph <= 1)
            )
            # '…," said Hale. The port is a "harbour that must grow".': a partial quotation
            # closing the next sentence of the paragraph is still Hale's.
            closes = (
                step == 1
                and i - j == 1
                and j in direct
                and s.paragraph == other.paragraph
                and _closes_on_quote(art, s)
            )
            if same_group or follows or closes:
                speakers[i] = speakers[j]
                direct.add(i)
    out: list[tuple[str | None, str | None]] = []
    for i in range(n):
        if i in speakers:
            out.append((art.people[speakers[i]].name, DIRECT if quoted[i] else REPORTED))
        else:
            out.append((None, None))
    return out, art.people, art.mentions
