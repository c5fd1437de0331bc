"""A segment's articles kept compactly: arrays and one UTF-8 text, not Python objects.

An index of a million passages holds two million sentences; as `Sentence` objects and
article strings they would take gigabytes and many seconds to read back. `Records`
keeps them as

    sources, titles, sha256   one string per article (and the speakers' names, once each)
    text                      every article's text as UTF-8, end to end (memory-mapped
                              when loaded, so only the pages read are resident)
    articles                  per article: its byte range in `text`, its length in
                              characters, its first sentence and first passage
    sentences                 per sentence: article, number in it, character span, byte
                              span, paragraph, quotation group, speaker, kind, mode
    passages                  per passage: article, first sentence, one past its last

and gives a `DocRecord` back when one is asked for (`records[i]`, a few per question),
remembering the last few thousand. The people each article names are read only when
first needed (the people registry, or moving articles to another segment).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import overload

import numpy as np

from rag.analysis.registry import ArticlePerson
from rag.types import SENTENCE_KINDS, SPEECHES, Document, Sentence

ARTICLE = np.dtype(
    [("bstart", "<i8"), ("bend", "<i8"), ("chars", "<i8"), ("sentence", "<i4"), ("passage", "<i4")]
)
SENTENCE = np.dtype(
    [
        ("doc", "<i4"),
        ("local", "<i4"),
        ("start", "<i4"),
        ("end", "<i4"),
        ("bstart", "<i8"),
        ("bend", "<i8"),
        ("paragraph", "<i4"),
        ("group", "<i4"),
        ("speaker", "<i4"),  # into `speakers`; -1: nobody's words
        ("kind", "u1"),  # into SENTENCE_KINDS
        ("speech", "u1"),  # 0: none, else 1 + its place in SPEECHES
    ]
)
PASSAGE = np.dtype([("doc", "<i4"), ("first", "<i4"), ("last", "<i4")])
BODY = SENTENCE_KINDS.index("body")
CACHED = 4096  # DocRecords remembered per segment

People = Sequence[tuple[ArticlePerson, ...]]


@dataclass(frozen=True, slots=True)
class DocRecord:
    """An article as indexed: its sentences, its passages (sentence ranges [a, b)) and
    the people it names."""

    document: Document
    sentences: tuple[Sentence, ...]
    passages: tuple[tuple[int, int], ...]
    people: tuple[ArticlePerson, ...] = ()  # whom the article names, as it names them

    def sentence_text(self, i: int) -> str:
        s = self.sentences[i]
        return self.document.text[s.start : s.end]

    def passage_text(self, p: int) -> str:
        a, b = self.passages[p]
        return " ".join(self.sentence_text(i) for i in range(a, b))


def byte_offsets(text: str) -> np.ndarray | None:
    """For each character offset of `text` (and its end), the UTF-8 byte offset; None
    when the text is ASCII and the two are the same."""
    if text.isascii():
        return None
    points = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    width = 1 + (points >= 0x80).astype(np.int64) + (points >= 0x800) + (points >= 0x10000)
    return np.concatenate([[0], np.cumsum(width)])


class RecordSequence(Sequence[DocRecord]):
    """Records read back one at a time: a length and `_item(i)` (0 <= i < length) make it
    a sequence that takes negative indexes and slices."""

    def __len__(self) -> int:
        raise NotImplementedError

    def _item(self, i: int) -> DocRecord:
        raise NotImplementedError

    @overload
    def __getitem__(self, i: int) -> DocRecord: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[DocRecord]: ...
    def __getitem__(self, i: int | slice) -> DocRecord | Sequence[DocRecord]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(f"article {i} of {len(self)}")
        return self._item(int(i) % len(self))

    def __iter__(self) -> Iterator[DocRecord]:
        return (self._item(i) for i in range(len(self)))


class Records(RecordSequence):
    """The articles of one segment, as arrays; `records[i]` is article i as a DocRecord."""

    def __init__(
        self,
        sources: Sequence[str],
        titles: Sequence[str],
        sha256: Sequence[str],
        speakers: Sequence[str],
        text: bytes | memoryview,
        articles: np.ndarray,
        sentences: np.ndarray,
        passages: np.ndarray,
        people: People | Callable[[], People],
    ) -> None:
        self.sources = tuple(sources)
        self.titles = tuple(titles)
        self.sha256 = tuple(sha256)
        self.speakers = tuple(speakers)
        self.text = text
        self.articles = articles
        self.sentences = sentences
        self.passages = passages
        self._people = people
        self._record = lru_cache(maxsize=CACHED)(self._build)

    @classmethod
    def pack(cls, records: Sequence[DocRecord]) -> Records:
        """Records of articles as analysed."""
        n_sentences = sum(len(r.sentences) for r in records)
        n_passages = sum(len(r.passages) for r in records)
        articles = np.zeros(len(records), ARTICLE)
        sentences = np.zeros(n_sentences, SENTENCE)
        passages = np.zeros(n_passages, PASSAGE)
        speakers: dict[str, int] = {}
        chunks: list[bytes] = []
        size = g = p = 0
        for i, record in enumerate(records):
            text = record.document.text
            data = text.encode("utf-8")
            chunks.append(data)
            articles[i] = (size, size + len(data), len(text), g, p)
            offsets = byte_offsets(text)
            n = len(record.sentences)
            rows = sentences[g : g + n]
            rows["doc"] = i
            rows["local"] = np.arange(n)
            spans = np.array([(s.start, s.end) for s in record.sentences], np.int64).reshape(n, 2)
            rows["start"], rows["end"] = spans[:, 0], spans[:, 1]
            if offsets is not None:
                spans = offsets[spans]
            rows["bstart"], rows["bend"] = spans[:, 0] + size, spans[:, 1] + size
            rows["paragraph"] = [s.paragraph for s in record.sentences]
            rows["group"] = [s.group for s in record.sentences]
            rows["speaker"] = [
                -1 if s.speaker is None else speakers.setdefault(s.speaker, len(speakers))
                for s in record.sentences
            ]
            rows["kind"] = [SENTENCE_KINDS.index(s.kind) for s in record.sentences]
            rows["speech"] = [
                0 if s.speech is None else 1 + SPEECHES.index(s.speech) for s in record.sentences
            ]
            for a, b in record.passages:
                passages[p] = (i, g + a, g + b)
                p += 1
            g += n
            size += len(data)
        return cls(
            [r.document.source for r in records],
            [r.document.title for r in records],
            [r.document.sha256 for r in records],
            list(speakers),
            b"".join(chunks),
            articles,
            sentences,
            passages,
            [r.people for r in records],
        )

    def __len__(self) -> int:
        return len(self.sources)

    def _item(self, i: int) -> DocRecord:
        return self._record(i)

    @property
    def people(self) -> People:
        """The people each article names (read on first use)."""
        if callable(self._people):
            self._people = self._people()
        return self._people

    def document(self, r: int) -> Document:
        """Article r's source, title, text and hash (without its sentences)."""
        a = self.articles[r]
        text = bytes(self.text[int(a["bstart"]) : int(a["bend"])]).decode("utf-8")
        return Document(self.sources[r], self.titles[r], text, self.sha256[r])

    def sentence_text(self, g: int) -> str:
        """The text of the segment's sentence g."""
        row = self.sentences[g]
        return bytes(self.text[int(row["bstart"]) : int(row["bend"])]).decode("utf-8")

    def speaker(self, g: int) -> str | None:
        """The speaker of sentence g as its article names them, None for nobody."""
        who = int(self.sentences[g]["speaker"])
        return None if who < 0 else self.speakers[who]

    def spoken(self) -> Iterator[tuple[int, str, np.ndarray]]:
        """Per article and speaker: (article, speaker as the article names them, the
        segment's sentence ids of their words), articles in order."""
        who = np.asarray(self.sentences["speaker"])
        ids = np.flatnonzero(who >= 0)
        if not len(ids):
            return
        docs = np.asarray(self.sentences["doc"])[ids].astype(np.int64)
        keys = docs * (len(self.speakers) + 1) + who[ids]
        order = np.argsort(keys, kind="stable")
        keys, ids = keys[order], ids[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        for a, b in zip(starts, np.r_[starts[1:], len(keys)], strict=True):
            doc, speaker = divmod(int(keys[a]), len(self.speakers) + 1)
            yield doc, self.speakers[speaker], ids[a:b]

    def bounds(self, r: int) -> tuple[int, int, int, int]:
        """Article r's sentences [a, b) and passages [c, d), numbered across the segment."""
        a = self.articles[r]
        last = r + 1 == len(self)
        following = None if last else self.articles[r + 1]
        return (
            int(a["sentence"]),
            len(self.sentences) if following is None else int(following["sentence"]),
            int(a["passage"]),
            len(self.passages) if following is None else int(following["passage"]),
        )

    def _build(self, r: int) -> DocRecord:
        a, b, c, d = self.bounds(r)
        rows = self.passages[c:d]
        passages = tuple(
            zip((rows["first"] - a).tolist(), (rows["last"] - a).tolist(), strict=True)
        )
        return DocRecord(
            self.document(r), self._sentences(self.sentences[a:b]), passages, tuple(self.people[r])
        )

    def _sentences(self, rows: np.ndarray) -> tuple[Sentence, ...]:
        out = []
        for start, end, kind, paragraph, group, speaker, speech in zip(
            rows["start"].tolist(),
            rows["end"].tolist(),
            rows["kind"].tolist(),
            rows["paragraph"].tolist(),
            rows["group"].tolist(),
            rows["speaker"].tolist(),
            rows["speech"].tolist(),
            strict=True,
        ):
            out.append(
                Sentence(
                    start,
                    end,
                    SENTENCE_KINDS[kind],
                    paragraph,
                    group,
                    None if speaker < 0 else self.speakers[speaker],
                    None if speech == 0 else SPEECHES[speech - 1],
                )
            )
        return tuple(out)
