"""Text handling: normalisation for matching, word tokens for BM25, sentence spans with offsets.

Matching always runs on a normalised copy (NFKC, one dash, two quote marks, case and
spacing folded); quotes are always cut from the original text at original offsets.
Sentence boundaries come from syntok, with rules on top for what it misses in news
copy: a line is never merged with the next (headlines, list items), a stop glued to
an opening quote ("treaty.“Hale") is a boundary, and page furniture ("Thumbnail",
"fec/fz/jj", photo credits) is dropped.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from types import ModuleType
from typing import Any, Literal

from rag.analysis.lexicon import VARIANTS
from rag.types import Sentence, SentenceKind

# The quotation marks news copy uses, as written (matching folds them to " and '). What
# ends a quotation at a sentence's end; rag.speakers reads the same set.
QUOTE_MARKS = "\"'\u201c\u201d\u2018\u2019"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u00b4`"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"
_TRANSLATE = {ord(c): "-" for c in _DASHES}
_TRANSLATE.update({ord(c): "'" for c in _SINGLE_QUOTES})
_TRANSLATE.update({ord(c): '"' for c in _DOUBLE_QUOTES})
_TRANSLATE[0x00A0] = " "
_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """NFKC with dashes and quote marks unified, case kept; a 1:1 map is not promised."""
    return unicodedata.normalize("NFKC", text).translate(_TRANSLATE)


def normalize(text: str) -> str:
    """The form used for matching: folded, case-folded, with runs of space made one."""
    return _SPACE.sub(" ", fold(text).casefold()).strip()


STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "say",
        "says",
        "said",
        "saying",
        "also",
    ]
)

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*", re.UNICODE)


@lru_cache(maxsize=1)
def _stemmer() -> Any:  # PyStemmer has no type hints
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Normalised words, spelling variants unified, possessive 's dropped; stopwords kept."""
    out = []
    for w in _WORD.findall(normalize(text).replace("-", " ")):
        if w.endswith("'s"):
            w = w[:-2]
        w = w.replace("'", "")
        out.append(VARIANTS.get(w, w))
    return out


def tokenize(text: str) -> list[str]:
    """BM25 terms: normalised, variant-unified, stopwords removed, Snowball-stemmed."""
    kept = [w for w in words(text) if w not in STOPWORDS]
    return _stemmer().stemWords(kept)


# --- Sentences -------------------------------------------------------------------------------

TITLE_MAX_WORDS = 20
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u2023\u25e6\u2043]|\d{1,3}[.)])\s+")
_TERMINAL = re.compile(r"[.!?\u2026][" + QUOTE_MARKS + r")\]]*\s*$")
_CREDIT = re.compile(r"\([^()]*/[^()]*\)|\b(?:AFP|Reuters|Getty Images|AP Photo)\b\)?\s*$")
_INITIALS = re.compile(r"^[a-z]{1,4}(?:/[a-z]{1,4})+$")
# A stop followed straight by an opening quote and a capital: "treaty.“Hale".
_GLUED = re.compile(r"(?<=[a-z0-9][.!?])(?=[\"\u201c\u2018'][A-Z])")
# A stop and a quote mark, then space and a capital or an opening quote: "ball.“ He".
_AFTER_QUOTE = re.compile(r"(?<=[.!?][" + QUOTE_MARKS + r"])\s+(?=[A-Z\u201c\"])")
_DQ = re.compile(r"[\"\u201c\u201d\u201e]")
# A single quote counts as a quotation mark only at a word edge, never inside "let's".
_SQ_OPEN = re.compile(r"(?<![\w])['\u2018](?=\w)")
_SQ_CLOSE = re.compile(r"(?<=[\w.,!?\u2026])['\u2019](?!\w)")


def _line_kind(
    line: str, is_first: bool, title: str | None, next_line: str = ""
) -> SentenceKind | Literal["furniture"]:
    stripped = line.strip()
    n_words = len(stripped.split())
    if is_first:
        # Publisher names and section labels stand first in some copy ("Harbour News"),
        # with the headline after them; a short headline followed by its story is kept.
        short = n_words <= 3 and not _TERMINAL.search(stripped)
        headline_next = bool(next_line.strip()) and not _TERMINAL.search(next_line.strip())
        return "furniture" if short and headline_next else "title"
    if _INITIALS.match(stripped) or _CREDIT.search(stripped):
        return "furniture"
    if _BULLET.match(line):
        return "list"
    if _TERMINAL.search(stripped):
        return "body"
    if title is not None and stripped == title:
        return "heading"
    if n_words <= 3 or stripped.endswith(":"):
        return "furniture"
    return "heading"


@lru_cache(maxsize=1)
def _segmenter() -> ModuleType:
    from syntok import segmenter

    return segmenter


def _syntok_spans(line: str) -> list[tuple[int, int]]:
    spans = []
    for paragraph in _segmenter().analyze(line):
        for sentence in paragraph:
            if not sentence:
                continue
            start = sentence[0].offset
            last = sentence[-1]
            spans.append((start, last.offset + len(last.value)))
    return spans


def _resplit(line: str, start: int, end: int) -> list[tuple[int, int]]:
    """Apply the boundary rules syntok misses inside one of its spans."""
    cuts = {start, end}
    piece = line[start:end]
    for m in _GLUED.finditer(piece):
        cuts.add(start + m.start())
    for m in _AFTER_QUOTE.finditer(piece):
        cuts.add(start + m.start())
    points = sorted(cuts)
    return [(a, b) for a, b in zip(points, points[1:], strict=False) if line[a:b].strip()]


def _strip(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


_DQ_OPEN = re.compile(r"\u201c|\u201e|(?:^|(?<=[\s(\[\u2014-]))\"(?=\S)")


def quote_marks(text: str) -> list[tuple[int, bool]]:
    """(position, opens) of each quotation mark: curly marks say which they are; a
    straight one opens after a space or at the start and closes elsewhere. News copy
    reopens a quotation that runs on ('"…age. "I wish…'), so an opening mark inside a
    quotation keeps it open rather than closing it. Single marks count only in text
    with no double ones: elsewhere they are quotations inside quotations, or
    apostrophes ("Ives' shop").
    """
    marks = [(m.start(), bool(_DQ_OPEN.match(text, m.start()))) for m in _DQ.finditer(text)]
    if not marks:
        marks += [(m.start(), True) for m in _SQ_OPEN.finditer(text)]
        marks += [(m.start(), False) for m in _SQ_CLOSE.finditer(text)]
    return sorted(marks)


def inside_after(text: str, inside: bool) -> bool:
    """Whether a quotation is open after `text`, given whether one was open before it."""
    for _, opens in quote_marks(text):
        inside = opens
    return inside


def split_sentences(text: str) -> list[Sentence]:
    """Sentence spans of an article, furniture left out, with offsets into `text`.

    The first non-empty line is the title. Lines are never joined: a headline or a
    list item is a sentence of its own even with no final stop.
    """
    sentences: list[Sentence] = []
    title: str | None = None
    paragraph = -1
    lines = [m for m in re.finditer(r"[^\n\r]+", text) if m.group().strip()]
    for n, m in enumerate(lines):
        line = m.group()
        paragraph += 1
        following = lines[n + 1].group() if n + 1 < len(lines) else ""
        kind = _line_kind(line, title is None, title, following)
        if title is None:
            title = line.strip()
        if kind == "furniture":
            continue
        base = m.start()
        bullet = _BULLET.match(line) if kind == "list" else None
        offset = bullet.end() if bullet else 0
        body = line[offset:]
        # A headline stays whole ("Will Lund Pay? – Ana Holm on …"); a long first
        # line is a lead paragraph standing in for a title, and is split like one.
        whole = kind == "heading" or (kind == "title" and len(body.split()) <= TITLE_MAX_WORDS)
        spans = [(0, len(body))] if whole else _syntok_spans(body)
        inside = False
        group = -1
        for s0, s1 in spans:
            for a, b in _resplit(body, s0, s1):
                a, b = _strip(body, a, b)
                if a == b:
                    continue
                index = len(sentences)
                if not inside:
                    group = index
                sentences.append(
                    Sentence(base + offset + a, base + offset + b, kind, paragraph, group)
                )
                inside = inside_after(body[a:b], inside)
    return sentences


def title_of(text: str) -> str:
    """The first non-empty line, stripped."""
    for line in text.splitlines():
        if line.strip(" \t\ufeff\u00a0"):
            return line.strip().lstrip("\ufeff").strip()
    return ""
