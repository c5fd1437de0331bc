"""From scored sentences to an answer: quotes of one to three sentences, deduplicated, cited.

A quote starts from a high-scoring sentence. It grows to cover the rest of a quotation
that runs over several sentences (so "'…test. Let's see…,' he said." stays whole and
keeps its attribution), to a neighbour in the same paragraph that scores nearly as
well, and, when the question asks for a person, over the rest of their words next to it
(the same paragraph or the next), never past three sentences. Quotes that say the same
thing (cosine of their vectors above a threshold, or the same words), and a sentence
repeating one sentence of a chosen quote, become one quote listing every place.
Nothing here writes text of its own beyond the citation lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from rag.config import Settings
from rag.retrieval import Hits
from rag.store import Index
from rag.text import words
from rag.types import Answer, Citation, Quote

MAX_SENTENCES = 3
NEIGHBOUR_SHARE = 0.92  # a neighbour joins a quote when it scores this share of the seed
NO_ANSWER = "No supporting quote in the corpus for this question."


def _extent(
    index: Index, g: int, score_of: dict[int, float], whole_words: bool = False
) -> tuple[int, int]:
    """Global sentence range [a, b) of the quote grown from sentence g; with
    `whole_words`, also over the rest of its speaker's words around it (the question
    asked for that speaker: their statement is the answer, not one sentence of it)."""
    record, local = index.place(g)
    first = g - local
    sentences = record.sentences
    me = sentences[local]
    a, b = g, g + 1
    group = [i for i, s in enumerate(sentences) if s.group == me.group]
    if len(group) > 1:
        lo, hi = min(group), max(group) + 1
        if hi - lo <= MAX_SENTENCES:
            a, b = first + lo, first + hi
        else:  # a long quotation: a window of three around g, kept inside the quotation
            start = min(max(lo, local - 1), hi - MAX_SENTENCES)
            a, b = first + start, first + start + MAX_SENTENCES
    if whole_words and me.speaker is not None:
        for step in (1, -1):  # what they went on to say first, then what led to it
            while b - a < MAX_SENTENCES:
                n = b if step > 0 else a - 1
                if not first <= n < first + len(sentences):
                    break
                other = sentences[n - first]
                if other.speaker != me.speaker or abs(other.paragraph - me.paragraph) > 1:
                    break
                a, b = min(a, n), max(b, n + 1)
    seed = score_of.get(g, 0.0)
    for step in (-1, 1):
        if b - a >= MAX_SENTENCES:
            break
        n = (a - 1) if step < 0 else b
        if not first <= n < first + len(sentences):
            continue
        other = sentences[n - first]
        # One voice a quote: its speaker is shown for all of it, so narration does not
        # join someone's words, nor their words a narrated sentence.
        if other.paragraph != me.paragraph or other.speaker != me.speaker:
            continue
        if score_of.get(n, -1.0) >= NEIGHBOUR_SHARE * seed:
            a, b = min(a, n), max(b, n + 1)
    return a, b


class _Spans:
    """The mean vector and the words of each span, read once per answer (a span is
    compared with every quote chosen before it)."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._vectors: dict[tuple[int, int], np.ndarray] = {}
        self._words: dict[tuple[int, int], set[str]] = {}

    def vector(self, span: tuple[int, int]) -> np.ndarray:
        if span not in self._vectors:
            v = self.index.sentence_vectors[span[0] : span[1]].mean(0)
            self._vectors[span] = v / (np.linalg.norm(v) + 1e-12)
        return self._vectors[span]

    def words(self, span: tuple[int, int]) -> set[str]:
        if span not in self._words:
            text = " ".join(self.index.sentence_text(g) for g in range(*span))
            self._words[span] = set(words(text))
        return self._words[span]

    def repeats(self, quote: tuple[int, int], g: int, cosine: float) -> bool:
        """Whether sentence g says what the quote, or one sentence of it, says (a summary
        repeating one sentence of someone's statement)."""
        return any(self.same(s, (g, g + 1), cosine) for s in [quote, *_sentences(quote)])

    def same(self, x: tuple[int, int], y: tuple[int, int], cosine: float) -> bool:
        """Near-duplicates: close in meaning, or sharing four fifths of their words."""
        if float(self.vector(x) @ self.vector(y)) >= cosine:
            return True
        wx, wy = self.words(x), self.words(y)
        return bool(wx and wy) and len(wx & wy) / len(wx | wy) >= 0.8


def _sentences(span: tuple[int, int]) -> list[tuple[int, int]]:
    """A span's sentences, each as a span of one (none when it is one sentence)."""
    return [(g, g + 1) for g in range(*span)] if span[1] - span[0] > 1 else []


def _citation(index: Index, span: tuple[int, int]) -> Citation:
    """Where the sentences [a, b) stand: their article and character span."""
    a, b = span
    record, first = index.place(a)
    start = record.sentences[first].start
    end = record.sentences[first + b - 1 - a].end
    return Citation(record.document.source, record.document.title, start, end)


def _quote(index: Index, span: tuple[int, int], score: float, also: tuple[Citation, ...]) -> Quote:
    a, b = span
    record, first_local = index.place(a)
    last_local = first_local + b - 1 - a
    where = _citation(index, span)
    spoken = [
        (g, s)
        for g, s in zip(range(a, b), record.sentences[first_local : last_local + 1], strict=True)
        if s.speaker
    ]
    before = record.sentence_text(first_local - 1) if first_local > 0 else ""
    after = record.sentence_text(last_local + 1) if last_local + 1 < len(record.sentences) else ""
    return Quote(
        text=record.document.text[where.start : where.end],
        source=where.source,
        title=where.title,
        start=where.start,
        end=where.end,
        score=round(float(score), 4),
        also=also,
        context_before=before,
        context_after=after,
        speaker=index.speaker(spoken[0][0]) if spoken else None,
        speech=spoken[0][1].speech if spoken else None,
    )


def _spoken_item(index: Index, g: int) -> bool:
    """Whether sentence g is a list item attributed to someone."""
    record, local = index.place(g)
    sentence = record.sentences[local]
    return sentence.kind == "list" and sentence.speaker is not None


def after_the_first(quotes: Sequence[Quote], inserted: Sequence[Quote], k: int) -> list[Quote]:
    """`inserted` placed after the first of `quotes`, the rest after them, at most k. A
    quote standing where one already taken stands (in any of its places) is left out,
    unless it holds all of that one: then it takes its place ("Tom Ray said the mill
    would close." grown over his next sentence, his words)."""
    taken: list[Quote] = []

    def places(q: Quote) -> list[Citation]:
        return [q.citation, *q.also]

    def meets(a: Quote, b: Quote) -> bool:
        return any(
            x.source == y.source and x.start < y.end and y.start < x.end
            for x in places(a)
            for y in places(b)
        )

    def holds(a: Quote, b: Quote) -> bool:
        return a.source == b.source and a.start <= b.start and b.end <= a.end

    for q in (*quotes[:1], *inserted, *quotes[1:]):
        met = [i for i, t in enumerate(taken) if meets(t, q)]
        if not met:
            if len(taken) < k:
                taken.append(q)
        elif len(met) == 1 and holds(q, taken[met[0]]):
            taken[met[0]] = q
    return taken


def select_quotes(
    index: Index, hits: Hits, settings: Settings, k: int, speakers: frozenset[str] = frozenset()
) -> list[Quote]:
    """Best-first quotes from the hits: grown, deduplicated, at most k. A quote of one
    of `speakers` (the people the question asks for) grows over the rest of their words.

    Headlines, headings and list items are quoted only when no body sentence within the
    relative floor of the best hit is: a headline names the story, the body says it. A
    list item that is someone's words ("- Rovers boss Tom Ray: "We…"") is quoted as
    body is.
    """
    if not len(hits):
        return []
    score_of = {int(g): float(s) for g, s in zip(hits.ids, hits.scores, strict=True)}
    floor = settings.relative_floor * float(hits.scores[0])
    kept = [(int(g), float(s)) for g, s in zip(hits.ids, hits.scores, strict=True) if s >= floor]
    # With body text to quote, a headline can only be another place of a chosen quote.
    body_first = any(not index.sentence_is_heading[g] for g, _ in kept)
    # Per quote: its span, score, and the spans of its other places.
    chosen: list[tuple[tuple[int, int], float, list[tuple[int, int]]]] = []
    used: set[int] = set()
    spans = _Spans(index)
    for g, score in kept:
        if g in used:
            continue
        heading = body_first and bool(index.sentence_is_heading[g]) and not _spoken_item(index, g)
        if len(chosen) >= k and not heading:
            break
        # A sentence repeating one of a chosen quote's is another place of it, as it
        # stands (not grown: what grew around it is not what the quote says).
        span = (g, g + 1)
        twin = next((c for c in chosen if spans.repeats(c[0], g, settings.duplicate_cosine)), None)
        if twin is None:
            span = _extent(index, g, score_of, bool(speakers) and index.speaker(g) in speakers)
            if any(i in used for i in range(*span)):
                span = (g, g + 1)
            twin = next(
                (c for c in chosen if spans.same(c[0], span, settings.duplicate_cosine)), None
            )
        if twin is None and heading:
            continue
        used.update(range(*span))
        if twin is not None:
            _add_place(index, twin[2], span)
            continue
        chosen.append((span, score, []))
    return [
        _quote(index, span, score, tuple(_citation(index, p) for p in places))
        for span, score, places in chosen
    ]


def _add_place(index: Index, places: list[tuple[int, int]], span: tuple[int, int]) -> None:
    """Another place of a quote; next to one it has in the same article (its two
    sentences repeated one by one), the two become one place."""
    for k, (a, b) in enumerate(places):
        same_article = index.sentence_doc[a] == index.sentence_doc[span[0]]
        if same_article and (span[0] == b or span[1] == a):
            places[k] = (min(a, span[0]), max(b, span[1]))
            return
    places.append(span)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def escape_markdown(text: str) -> str:
    """Text shown as itself in Markdown: no emphasis, links, HTML or images."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def short_title(title: str, max_chars: int = 80) -> str:
    """A title for display: some articles' first line is a whole lead paragraph."""
    if len(title) <= max_chars:
        return title
    cut = title[: max_chars - 1].rsplit(" ", 1)[0]
    return f"{cut}…"


def to_markdown(quotes: list[Quote] | tuple[Quote, ...], note: str = "") -> str:
    """The quotes as a cited answer: block quotes, each with a numbered citation."""
    if not quotes:
        return f"*{escape_markdown(note)}*\n\n{NO_ANSWER}" if note else NO_ANSWER
    parts = [f"*{escape_markdown(note)}*"] if note else []
    for n, q in enumerate(quotes, 1):
        places = [q.citation, *q.also]
        cites = "; ".join(
            f"*{escape_markdown(short_title(c.title))}* ({escape_markdown(c.source)}, "
            f"characters {c.start}–{c.end})"
            for c in places
        )
        body = "\n> ".join(escape_markdown(line) for line in q.text.split("\n"))
        who = f"— {escape_markdown(q.speaker)}, in " if q.speaker else ""
        parts.append(f"> {body}\n\n[{n}] {who}{cites}")
    return "\n\n".join(parts)


# What a terminal would act on rather than show: C0 and C1 controls but tab and newline.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    """Text safe to print to a terminal: a control character (an escape sequence that
    would recolour or move the cursor) is shown as U+FFFD."""
    return _UNPRINTABLE.sub("\ufffd", text)


def citation_text(c: Citation) -> str:
    """A citation in plain words: `Title (file, characters 2191–2427)`."""
    return f"{short_title(c.title)} ({c.source}, characters {c.start}–{c.end})"


def to_text(quotes: list[Quote] | tuple[Quote, ...], note: str = "") -> str:
    """The quotes as a cited answer in plain text, for a terminal: no Markdown.

    Each quote is numbered and indented, its lines as in the article; under it, who
    said it and where it stands (every place, when near-duplicates were folded).
    """
    head = [_printable(note)] if note else []
    if not quotes:
        return "\n\n".join([*head, NO_ANSWER])
    parts = head
    for n, q in enumerate(quotes, 1):
        label = f"[{n}] "
        pad = " " * len(label)
        lines = _printable(q.text).split("\n")
        body = label + f"\n{pad}".join(lines)
        who = f"— {_printable(q.speaker)}, in " if q.speaker else "— "
        places = [q.citation, *q.also]
        cites = f";\n{pad}  ".join(_printable(citation_text(c)) for c in places)
        parts.append(f"{body}\n{pad}{who}{cites}")
    return "\n\n".join(parts)


def make_answer(
    question: str,
    resolved: str,
    quotes: list[Quote],
    confidence: float,
    note: str = "",
    speaker_found: bool | None = None,
    speaker_confidence: float | None = None,
) -> Answer:
    return Answer(
        question=question,
        resolved_question=resolved,
        quotes=tuple(quotes),
        markdown=to_markdown(quotes, note),
        text=to_text(quotes, note),
        abstained=not quotes,
        confidence=round(float(confidence), 4),
        note=note,
        speaker_found=speaker_found if quotes else None,
        speaker_confidence=None if speaker_confidence is None else round(speaker_confidence, 4),
    )
