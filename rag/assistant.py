"""Assistant: the API users call. Opens (and updates) the index, answers questions.

    assistant = Assistant(corpus_dir="seeds")  # its index in index/seeds-<hash>
    answer = assistant.ask("What did the minister say about the budget?")

One Assistant serves many threads: a question reads an immutable snapshot of the
index, and adding an article swaps in a new snapshot under a lock.

Uploaded articles (`add_article`) are saved in the index folder's `uploads/`, never in
the corpus folder (which may be a repository's tracked files); they are indexed with
the corpus under the sources `uploads/<name>`, so they outlive a restart and a rescan.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

import numpy as np

from rag import store
from rag.analysis.registry import bare_name
from rag.answer import after_the_first, make_answer, select_quotes
from rag.config import Settings
from rag.corpus import (
    check_article,
    default_index_dir,
    make_document,
    safe_name,
    scan,
    text_key,
)
from rag.embedding import Embedder
from rag.errors import CorpusError, IndexNotReady
from rag.query import Reading, read_question
from rag.reader import Reader
from rag.retrieval import Hits, boost, search, typed
from rag.search import (
    CONFIDENCE_DEPTH,
    confidence,
    evidence,
    speaker_present,
    spoken_by,
    topic_cosines,
    unnamed_share,
    utterance_cosines,
)
from rag.text import fold, normalize, tokenize
from rag.types import Answer, Document, PersonInfo, Progress, Sentence, SyncReport

log = logging.getLogger(__name__)

UPLOADS = "uploads"  # the folder of uploads inside the index folder, and their sources' prefix


class Assistant:
    """Question answering over a folder of articles, with verbatim, cited quotes only."""

    def __init__(
        self,
        corpus_dir: str | Path = "seeds",
        index_dir: str | Path | None = None,
        settings: Settings | None = None,
        *,
        progress: bool = False,
        listener: Callable[[Progress], None] | None = None,
        build: bool = True,
        embedder: Embedder | None = None,
        reader: Reader | None = None,
    ) -> None:
        """Open the index of `corpus_dir` in `index_dir`, building or updating it.

        Without `index_dir`, the corpus folder's own: `rag.corpus.default_index_dir`.
        ForeignIndexError if `index_dir` holds another corpus folder's index. `progress`
        shows bars on stderr while indexing; `listener` is told how far it has got.

        `build=False` opens the last complete index as it is, without reading the corpus
        folder, and returns at once: questions are answered from it while `sync()` (in
        another thread, say) brings it up to date; with no index yet, `ask` raises
        IndexNotReady until the first `sync()` ends. `ready` tells which.
        """
        self.settings = settings or Settings()
        self.corpus_dir = Path(corpus_dir)
        self.index_dir = Path(index_dir) if index_dir is not None else default_index_dir(corpus_dir)
        self.uploads_dir = self.index_dir / UPLOADS
        if (
            embedder is not None
            and settings is not None
            and settings.model not in (None, embedder.name)
        ):
            raise ValueError(
                f"settings.model is {settings.model!r} but the embedder given is {embedder.name!r}"
            )
        self.embedder = embedder or Embedder(self.settings.model)
        self._reader = reader
        if self.settings.reader:
            self.reader  # noqa: B018 - a missing or damaged reading model fails here, not mid-question
        self._progress = progress
        self._listener = listener
        self._write_lock = threading.Lock()
        self._index: store.Index
        self._keys: dict[str, str] = {}  # an article's sha256 -> text_key of its text
        self.progress: Progress | None = None  # the stage of the sync running, if any
        self.ready = False  # whether the corpus folder has been read into the index
        self.failure: str | None = None  # why the last sync failed, if it did
        self.report: SyncReport
        if build:
            self.sync()
        else:
            found = store.open_live(
                self.index_dir, self.embedder, self.settings.index, corpus=self.corpus_dir
            )
            self._index = found or store.Index([], {}, self.embedder.dim)
            self.report = SyncReport(documents=len(self._index.records))
            if found is not None:  # who is who, read while the first question is typed
                threading.Thread(target=found.warm, name="people", daemon=True).start()

    @property
    def reader(self) -> Reader:
        """The reading model (loaded on first use; ModelError if missing or damaged)."""
        if self._reader is None:
            self._reader = Reader.load()
        return self._reader

    # -- the index ----------------------------------------------------------------------------
    def sync(self) -> SyncReport:
        """Bring the index in line with the corpus folder; embed only what changed."""
        with self._write_lock:
            try:
                return self._sync()
            except Exception as exc:
                self.failure = f"{type(exc).__name__}: {exc}"
                raise

    def _sync(self) -> SyncReport:
        """The sync itself, under the write lock."""
        documents, skipped = self._scan()
        index, report = store.sync(
            self.index_dir,
            documents,
            self.embedder,
            self.settings.index,
            skipped=skipped,
            progress=self._progress,
            current=getattr(self, "_index", None),
            corpus=self.corpus_dir,
            listener=self._heard,
        )
        self._index = index
        self.report = report
        self.progress = None
        self.ready = True
        self.failure = None
        return report

    def _heard(self, progress: Progress) -> None:
        self.progress = progress
        if self._listener is not None:
            self._listener(progress)

    def building(self) -> str:
        """What indexing is doing now, for people ("analysing articles: 120 of 1,807,
        about 1 min left"); "" when the index is up to date."""
        if self.ready:
            return ""
        if self.failure is not None:
            return f"Indexing the articles failed ({self.failure}); see the log."
        return f"The articles are being indexed ({self._stage()})."

    def _stage(self) -> str:
        now = self.progress
        return now.describe() if now is not None else "reading the corpus folder"

    def _scan(self) -> tuple[list[Document], list[tuple[str, str]]]:
        """The corpus folder's articles and the uploads, sorted by source; and what failed.

        A corpus file whose path is an upload's source (a corpus folder with an
        uploads/ of its own) wins; the upload is reported as skipped.
        """
        limit = self.settings.max_file_bytes
        found = scan(self.corpus_dir, limit, exclude=self.index_dir)
        documents = list(found.documents)
        skipped = list(found.skipped)
        if self.uploads_dir.is_dir():
            uploads = scan(self.uploads_dir, limit, prefix=f"{UPLOADS}/")
            taken = {d.source for d in documents} | {s for s, _ in skipped}
            for d in uploads.documents:
                if d.source in taken:
                    skipped.append((d.source, "the corpus folder has a file of that path"))
                    log.warning("skipped the upload %s: the corpus has that path", d.source)
                else:
                    documents.append(d)
            skipped += uploads.skipped
        documents.sort(key=lambda d: PurePosixPath(d.source).parts)
        return documents, skipped

    def source_path(self, source: str) -> Path:
        """The file an article's source names: in the corpus folder, or an upload.

        `source_path(q.source).read_text(encoding="utf-8")[q.start:q.end] == q.text`
        for every quote.
        """
        path = self.corpus_dir / source
        head, _, rest = source.partition("/")
        if head == UPLOADS and rest and not path.is_file():
            return self.uploads_dir / rest
        return path

    def add_article(self, name: str, data: bytes) -> SyncReport:
        """Check an uploaded article, save it in the index folder's uploads/, index it as
        `uploads/<name>`; CorpusError if refused.

        Refused: an unsafe name, a file too large, not UTF-8 or binary, a name an
        article already has (an upload, or a file at the top of the corpus folder), and
        a text the corpus already holds (`rag.corpus.text_key`), which is named.
        The corpus folder is never written to.
        """
        file_name = safe_name(name)
        text = check_article(data, file_name, self.settings.max_file_bytes)
        source = f"{UPLOADS}/{file_name}"
        with self._write_lock:  # index this article alone when the live index allows
            index = self._index
            taken = index.record(source) or index.record(file_name)
            if taken is not None or (self.corpus_dir / source).exists():
                raise CorpusError(f"{file_name}: an article of that name is already in the corpus")
            holder = self._holder(index, text)
            if holder is not None:
                raise CorpusError(
                    f"{file_name}: the same text is already in the corpus as {holder}"
                )
            self.uploads_dir.mkdir(parents=True, exist_ok=True)
            target = self.uploads_dir / file_name
            if target.resolve().parent != self.uploads_dir.resolve():
                raise CorpusError(f"{name!r}: would be written outside the uploads folder")
            try:
                with target.open("xb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
            except FileExistsError as exc:  # saved before, not indexed (see below)
                raise CorpusError(f"{file_name}: an upload of that name is already saved") from exc
            document = make_document(source, text)
            done = store.add(
                self.index_dir,
                [document],
                self.embedder,
                self.settings.index,
                current=self._index,
                corpus=self.corpus_dir,
            )
            if done is not None:
                self._index, self.report = done
                return self.report
        report = self.sync()
        if any(s == source for s, _ in report.skipped):
            raise CorpusError(f"{file_name}: saved but not indexed; see the log")
        return report

    def _holder(self, index: store.Index, text: str) -> str | None:
        """The source of an indexed article with the same text (`text_key`), if any."""
        key = text_key(text)
        for source, sha256 in index.hashes():
            known = self._keys.get(sha256)
            if known is None:
                d = index.document(source)
                known = self._keys[sha256] = text_key(d.text) if d is not None else ""
            if known == key:
                return source
        return None

    def documents(self) -> list[Document]:
        """The articles in the index, in corpus order (sorted by path)."""
        return sorted(self._index.documents(), key=lambda d: PurePosixPath(d.source).parts)

    def document(self, source: str) -> Document:
        """One article by its source (its path in the corpus folder, or `uploads/<name>`);
        KeyError if unknown."""
        return self._record(source).document

    def _record(self, source: str) -> store.DocRecord:
        record = self._index.record(source)
        if record is None:
            raise KeyError(f"no article {source!r} in the index")
        return record

    def sentences(self, source: str) -> tuple[Sentence, ...]:
        """An article's sentences as indexed, each with its speaker (the corpus-wide name)
        and mode; KeyError if the article is unknown."""
        record = self._record(source)
        people = self._index.people
        return tuple(
            replace(s, speaker=people.canonical(source, s.speaker)) if s.speaker else s
            for s in record.sentences
        )

    def resolve_person(self, name: str) -> tuple[str, ...]:
        """The people of the corpus a name may mean ("Lind", "Ms Lind", "Ana Lind", "the
        finance minister"), by canonical name, most quoted first; () for no one."""
        return self._index.people.resolve(name)

    def people(self) -> tuple[PersonInfo, ...]:
        """Everyone the articles name, most quoted first: canonical name, the forms and
        roles the articles use, sentences attributed to them, and their articles."""
        return tuple(sorted(self._index.people, key=lambda p: (-p.sentences, p.name)))

    # -- questions ----------------------------------------------------------------------------
    def ask(self, question: str, *, k: int | None = None, history: Sequence[str] = ()) -> Answer:
        """Answer with verbatim quotes, best first; no quotes when the corpus has no support.

        `history` holds earlier questions of the same conversation (as resolved, oldest
        first), so that a follow-up such as "And about tariffs?" is understood. Raises
        ValueError for an empty question or one over `settings.max_question_chars`.
        """
        self._check(question, k)
        index = self._index  # one snapshot for the whole question
        if not self.ready and not index.records:
            if self.failure is not None:
                raise IndexNotReady(self.building())
            raise IndexNotReady(
                f"The articles are being indexed ({self._stage()}); ask again when it is done."
            )
        reading = read_question(question, history, index.people, self.settings)
        if reading.unknown and _named_in_text(index, reading.who or ""):
            # The articles use the name, though the engine found no person of it ('"…,"
            # said Orchard Bank analyst Ana Lind', unread): no one the articles lack. Their
            # words are then the sentences that name them, as for a firm.
            reading = replace(reading, unknown=False, who=bare_name(reading.who or ""))
        if reading.unknown:
            note = f"No one called {reading.who} is named in the articles."
            return make_answer(question, reading.resolved, [], 0.0, note, False)
        hits, topic_vector = self._retrieve(index, reading)
        hits, read = self._read(index, hits, reading)
        lacking = self._lacking(index, hits, reading)
        topic_dense = topic_cosines(index, hits, topic_vector)
        values = evidence(
            index,
            hits,
            reading.topic_terms,
            self.settings.confidence,
            topic_dense,
            lacking,
            read,
            unnamed=self._unnamed(index, hits, reading),
        )
        score = confidence(values)
        if score < self.settings.abstain_below:
            # Nothing in the articles answers; of a person they name, say so by name.
            note = f"{_whom(reading)} is not quoted on this in the articles." if reading.who else ""
            return make_answer(question, reading.resolved, [], score, note)
        note, found, own, theirs = "", None, None, None
        if reading.who is not None:
            hits, own, found, note, theirs = self._prefer_speaker(
                index, hits, reading, topic_vector
            )
        limit = k or self.settings.max_quotes
        people = frozenset(reading.people)
        quotes = select_quotes(index, hits, self.settings, limit, people if found else frozenset())
        if theirs is not None and self.settings.their_closest:
            closest = select_quotes(
                index, theirs, self.settings, self.settings.their_closest, people
            )
            quotes = after_the_first(quotes, closest, limit)
        return make_answer(question, reading.resolved, quotes, score, note, found, own)

    def _check(self, question: str, k: int | None) -> None:
        """ValueError (TypeError) naming what is wrong with a question or its k."""
        if not isinstance(question, str):
            raise TypeError(f"question must be a string, got {type(question).__name__}")
        if not question.strip():
            raise ValueError("the question is empty; ask something about the articles")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise ValueError(
                f"the question has {len(question):,} characters; the limit is {limit:,}"
            )
        if k is not None and not 1 <= k <= 20:
            raise ValueError(f"k must be between 1 and 20, got {k}")

    def _retrieve(self, index: store.Index, reading: Reading) -> tuple[Hits, np.ndarray]:
        """Candidate sentences for the question, ranked; and the topic's own vector.

        Ranking may lean on the person ("Hale on exports" beside "exports"); the
        evidence for abstaining is the topic's alone.
        """
        vectors = self.embedder.encode_queries([fold(t) for t in reading.dense_texts])
        # The asked person's own sentences are candidates whatever their rank: a person
        # quoted once in a big corpus is otherwise lost among sentences on the topic.
        spoken = index.spoken_by(reading.people)
        hits = search(index, vectors, reading.terms, self.settings, also=spoken)
        wanted = reading.wanted
        if wanted is not None and self.settings.weights.answer_type:
            # "When…", "How long…": a sentence with no date or duration cannot answer.
            hits = boost(hits, ~typed(index, hits.ids, wanted), -self.settings.weights.answer_type)
        return hits, vectors[-1]

    def _read(
        self, index: store.Index, hits: Hits, reading: Reading
    ) -> tuple[Hits, np.ndarray | None]:
        """The leading candidates re-ranked by the reading model's P(answers), and that
        probability per hit (0 for those it did not read); (hits, None) when it is off."""
        s = self.settings
        if not s.reader or not len(hits):
            return hits, None
        depth = min(s.reader_depth, len(hits))
        texts = [index.sentence_text(int(g)) for g in hits.ids[:depth]]
        read = np.zeros(len(hits), dtype=np.float32)
        read[:depth] = self.reader.score(reading.resolved, texts)
        scores = hits.scores + s.weights.reader * read
        order = np.argsort(-scores, kind="stable")
        return Hits(hits.ids[order], scores[order], hits.dense[order]), read[order]

    def _lacking(self, index: store.Index, hits: Hits, reading: Reading) -> np.ndarray | None:
        """Per leading hit: does it lack the date or quantity the question asks for?"""
        if reading.wanted is None:
            return None
        return ~typed(index, hits.ids[:CONFIDENCE_DEPTH], reading.wanted)

    def _unnamed(self, index: store.Index, hits: Hits, reading: Reading) -> np.ndarray | None:
        """Per leading hit: the share of the question's names its article never uses."""
        if not reading.question_names or not self.settings.confidence.names:
            return None
        return unnamed_share(index, hits, reading.question_names)

    def _prefer_speaker(
        self, index: store.Index, hits: Hits, reading: Reading, topic_vector: np.ndarray
    ) -> tuple[Hits, float, bool, str, Hits | None]:
        """Rank the asked person's own words first when they speak on the topic; else
        say they are not quoted on it. (hits, confidence, found, note, their hits: the
        person's candidates when none is on the topic, for the closest of them to be
        shown after the closest quote; else None)."""
        s = self.settings
        if reading.people:
            mask = spoken_by(index, hits.ids, set(reading.people))
        else:  # someone the articles name but never as a person ("What did Orchard Bank say?")
            mask = speaker_present(index, hits.ids, (normalize(reading.who or ""),))
        # Their own words must carry the topic: a neighbour of someone else's naming it
        # does not make their words about it (their own next sentence does: one
        # statement). The evidence is weighed over their best sentences.
        theirs = Hits(hits.ids[mask], hits.scores[mask], hits.dense[mask])
        theirs, read = self._read(index, theirs, reading)
        lacking = self._lacking(index, theirs, reading)
        dense = utterance_cosines(index, theirs, topic_vector, s.confidence.headline)
        own = evidence(
            index,
            theirs,
            reading.topic_terms,
            s.confidence,
            dense,
            lacking,
            read,
            own=True,
            unnamed=self._unnamed(index, theirs, reading),
        )
        score = confidence(own)
        if score >= s.speaker_below:
            if s.weights.speaker:
                hits = boost(hits, mask, s.weights.speaker)
            return hits, score, True, "", None
        note = f"{_whom(reading)} is not quoted on this in the articles; the closest quotes follow."
        # A journalist asking for someone's words wants to see what they did say: the
        # closest of them, after the quote that comes closest to the topic, which stays
        # first (it may answer: "Ana Lind praised the fjords." is nobody's words).
        return hits, score, False, note, (theirs if reading.people else None)


def _named_in_text(index: store.Index, who: str) -> bool:
    """Does some sentence use every word of the name ("Orchard Bank analyst Ana Lind":
    ana, lind)?"""
    terms = tokenize(bare_name(who) or who)
    return bool(terms) and all(index.bm25_sentences.df(t) > 0 for t in terms)


def _whom(reading: Reading) -> str:
    """The person a question asks about, as the articles name them ("Ana Lind or Eva Lind"
    for a surname two people share)."""
    return " or ".join(reading.people) if reading.people else reading.who or ""
