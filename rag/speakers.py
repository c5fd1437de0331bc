"""Who said what: attribute each sentence to the person whose words or views it reports.

Rules over quotation marks, cue verbs and names, run once per article at index time:

- a quotation with its attribution ("…,” Rutte said.", "he added", "Rutte stated") is
  that person's, directly, and so is every sentence of a quotation that runs on;
- a quotation with no attribution of its own belongs to the person just named in the
  paragraph ("According to Rutte, … “This is not just a conflict…”");
- reported speech ("Rutte warned that…", "According to Rutte,…", "as Rutte notes")
  is the named person's; "He cautioned that…" is the last named speaker's;
- anything else is narration, with no speaker.

Names are made canonical through `rag.query.PEOPLE` (Rutte, "Rutten", "NATO chief", the
Secretary General…); a person not in that table keeps the name as written. No model is
involved. But: a sentence gets one speaker, the one whose words it mainly carries.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.query import PEOPLE
from rag.text import fold
from rag.types import Sentence

DIRECT = "direct"
REPORTED = "reported"

CUES = (
    r"said|says|say|added|adds|stated|states|noted|notes|note|warned|warns|argued|argues|"
    r"suggested|suggests|cautioned|cautions|stressed|stresses|emphasi[sz]ed|emphasi[sz]es|"
    r"urged|urges|characteri[sz]ed|characteri[sz]es|expressed|expresses|highlighted|highlights|"
    r"questioned|questions|called|calls|congratulated|reiterated|reiterates|hopes|hoped|sees|"
    r"saw|refers|referred|differentiates|praised|praises|announced|announces|told|tells|"
    r"believes|believed|thinks|thought|insisted|insists|asserted|asserts|claimed|claims|"
    r"explained|explains|acknowledged|admitted|described|describes|challenged|challenges|"
    r"raises|raised|makes it clear|made it clear|has warned|has made|pointed out|points out|"
    r"foresees|foresaw|advocated|has long advocated|confirmed|confirms|reacted|viewed|views|"
    r"has mixed feelings|expressed appreciation|outlined|outlines|called for|pleaded|pleads"
)

# Every form that names a person, longest first, mapped to the canonical name.
_FORMS = sorted(
    ((form, name) for name, forms in PEOPLE.items() for form in forms), key=lambda x: -len(x[0])
)
_NAME_RE = re.compile(
    r"(?<![\w])(?:(?:US |U\.S\. |Russian |German |Ukrainian |Dutch )?"
    r"(?:President|Chancellor|Secretary of State|Prime Minister|Secretary General)\s+)?"
    r"(" + "|".join(re.escape(f) for f, _ in _FORMS) + r")(?:['’]s)?(?![\w])",
    re.IGNORECASE,
)
_PRONOUN = r"(?:he|she)"
_QUOTE_CHARS = "\"“”‘’'"


def canonical(text: str) -> str | None:
    """The canonical name for a form met in an article, or None if it names no one known."""
    key = fold(text).lower().strip()
    key = re.sub(r"['’]s$", "", key)
    for form, name in _FORMS:
        if key == form:
            return name
    return None


def _names(text: str) -> list[tuple[int, str]]:
    """(position, canonical name) of each known person named in `text`."""
    folded = fold(text)
    return [(m.start(), canonical(m.group(1)) or m.group(1)) for m in _NAME_RE.finditer(folded)]


_WHO = (
    r"(?P<who>" + _PRONOUN + r"|(?:the\s+)?[A-Za-z][\w'’.-]*(?:\s(?:of\s)?[A-Za-z][\w'’.-]*){0,3})"
)
# "…,” Rutte said." / "…,” the NATO secretary general said on Sunday"
_ATTRIBUTION_AFTER = re.compile(
    r"[,.!?…]?[\"”’'“]\s*,?\s*" + _WHO + r"\s+(?:" + CUES + r")\b", re.IGNORECASE
)
# "Rutte said: “…" / "he added, “…"
_ATTRIBUTION_BEFORE = re.compile(_WHO + r"\s+(?:" + CUES + r")\s*[,:]\s*[\"“‘']", re.IGNORECASE)
_ACCORDING = re.compile(
    r"\b(?i:according to|as)\s+(?P<who>[A-Z][\w'’.-]*(?:\s[A-Z][\w'’.-]*){0,2})"
    r"(?:,|\s+(?:\w+ly\s+)?(?:" + CUES + r")\b)"
)
_CUE = re.compile(
    r"\b(?:" + CUES + r"|talks about|indicated|indicates|hope|warning|emphasi[sz]ing|"
    r"challenging|questioning|stressing|urging|arguing)\b",
    re.IGNORECASE,
)
_GERUND = re.compile(r",\s+(?:warning|emphasi[sz]ing|urging|stressing|arguing)\b", re.IGNORECASE)
# Words that may stand between a subject and its verb: "Rutte has since reportedly said".
_FILLER = re.compile(
    r"(?:\s+(?:also|does|did|has|had|have|since|long|himself|herself|reportedly|directly|"
    r"pointedly|cautiously|further|again|then|still|\w+ly))*\s*$",
    re.IGNORECASE,
)
_APPOSITION = re.compile(r",[^,]{1,60},\s*$")
_HEADLINE_ON = re.compile(r"\b(?P<who>[A-Z][\w'’.-]*(?:\s[A-Z][\w'’.-]*){0,2})\s+on\s+[A-Z]")


def _subject(prefix: str, last: str | None) -> str | None:
    """The person who is the subject of a cue verb, given the text before the verb."""
    head = _FILLER.sub("", prefix)
    head = _APPOSITION.sub("", head).rstrip()
    if re.search(r"(?:^|\s)" + _PRONOUN + r"$", head, re.IGNORECASE):
        return last
    names = _names(head)
    if not names:
        return None
    pos, name = names[-1]
    tail = fold(head)[pos:]
    # The name must close the subject: "Putin’s Tactics Called" is not Putin calling.
    m = _NAME_RE.match(tail)
    return name if m and not tail[m.end() :].strip() else None


def _who(raw: str, last: str | None) -> str | None:
    raw = raw.strip()
    if re.fullmatch(_PRONOUN, raw, re.IGNORECASE):
        return last
    names = _names(raw)
    if names:
        return names[-1][1]
    return None


def _has_quote(text: str) -> bool:
    return bool(re.search(r"[\"“”]|(?<!\w)['‘]\w|\w[.,!?]?['’](?!\w)", text))


def _fully_quoted(text: str) -> bool:
    t = text.strip()
    return len(t) > 2 and t[0] in "\"“”'‘" and t[-1] in "\"“”'’"


def _one(body: str, kind: str, last: str | None, paragraph_speaker: str | None):  # noqa: ANN202
    after = _ATTRIBUTION_AFTER.search(body)
    if after and _has_quote(body[: after.start() + 2]):
        who = _who(after.group("who"), last)
        if who:
            return who, DIRECT
    before = _ATTRIBUTION_BEFORE.search(body)
    if before:
        who = _who(before.group("who"), last)
        if who:
            return who, DIRECT
    according = _ACCORDING.search(body)
    if according:
        who = _who(according.group("who"), last)
        if who:
            return who, REPORTED
    for cue in _CUE.finditer(body):
        who = _subject(body[: cue.start()], last)
        if who:
            return who, REPORTED
    if _GERUND.search(body):
        # "Rutte’s message resonates beyond Ukraine, warning that…"
        m = re.match(r"\W*(" + _NAME_RE.pattern + r")['’]s\b", fold(body), re.IGNORECASE)
        names = _names(body[:40])
        if m and names:
            return names[0][1], REPORTED
    if kind in ("title", "heading"):
        on = _HEADLINE_ON.search(body)
        named = _names(on.group("who")) if on else []
        if named:
            return named[-1][1], REPORTED
    if _fully_quoted(body) and (paragraph_speaker or last):
        # A quotation standing alone: the speaker just named in the paragraph (or article).
        return paragraph_speaker or last, DIRECT
    if body.lstrip(_QUOTE_CHARS) != body and paragraph_speaker:
        return paragraph_speaker, DIRECT
    return None, None


def attribute(text: str, sentences: Sequence[Sentence]) -> list[tuple[str | None, str | None]]:
    """(speaker, "direct" | "reported" | None) for each sentence of an article."""
    out: list[tuple[str | None, str | None]] = []
    last: str | None = None  # the person most recently named as a speaker
    by_paragraph: dict[int, str] = {}
    for s in sentences:
        speaker, mode = _one(text[s.start : s.end], s.kind, last, by_paragraph.get(s.paragraph))
        if speaker is not None:
            last = speaker
            by_paragraph[s.paragraph] = speaker
        out.append((speaker, mode))
    # A quotation running over several sentences is its attributed speaker's throughout.
    groups: dict[int, list[int]] = {}
    for i, s in enumerate(sentences):
        groups.setdefault(s.group, []).append(i)
    for members in groups.values():
        if len(members) < 2:
            continue
        found = next((out[m] for m in reversed(members) if out[m][1] == DIRECT), None)
        found = found or next((out[m] for m in members if out[m][0]), None)
        if found and found[0]:
            for m in members:
                out[m] = (found[0], DIRECT)
    return out
