"""Assistant: the API users call. Opens (and updates) the index, answers questions.

    assistant = Assistant(corpus_dir="seeds", index_dir="index")
    answer = assistant.ask("What did Rutte say about China?")

One Assistant serves many threads: a question reads an immutable snapshot of the
index, and adding an article swaps in a new snapshot under a lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from rag import store
from rag.answer import make_answer, select_quotes
from rag.config import Settings
from rag.corpus import check_article, make_document, safe_name, scan
from rag.embedding import Embedder
from rag.errors import CorpusError
from rag.query import PEOPLE, aliases, answer_type, mentioned_person, resolve, split_frame
from rag.retrieval import boost, search, typed
from rag.search import (
    CONFIDENCE_DEPTH,
    confidence,
    evidence,
    speaker_present,
    spoken_by,
    topic_cosines,
)
from rag.speakers import canonical
from rag.text import fold, tokenize
from rag.types import Answer, Document, Sentence, SyncReport

log = logging.getLogger(__name__)

# Words that name people: they say whose words are wanted, not what about.
_PERSON_TERMS = set(tokenize(" ".join(f for forms in PEOPLE.values() for f in forms)))


class Assistant:
    """Question answering over a folder of articles, with verbatim, cited quotes only."""

    def __init__(
        self,
        corpus_dir: str | Path = "seeds",
        index_dir: str | Path = "index",
        settings: Settings | None = None,
        *,
        progress: bool = False,
        embedder: Embedder | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.corpus_dir = Path(corpus_dir)
        self.index_dir = Path(index_dir)
        if (
            embedder is not None
            and settings is not None
            and settings.model not in (None, embedder.name)
        ):
            raise ValueError(
                f"settings.model is {settings.model!r} but the embedder given is {embedder.name!r}"
            )
        self.embedder = embedder or Embedder(self.settings.model)
        self._progress = progress
        self._write_lock = threading.Lock()
        self._index: store.Index
        self.report: SyncReport = self.sync()

    # -- the index ----------------------------------------------------------------------------
    def sync(self) -> SyncReport:
        """Bring the index in line with the corpus folder; embed only what changed."""
        with self._write_lock:
            found = scan(self.corpus_dir, self.settings.max_file_bytes)
            index, report = store.sync(
                self.index_dir,
                found.documents,
                self.embedder,
                self.settings.index,
                skipped=found.skipped,
                progress=self._progress,
                current=getattr(self, "_index", None),
            )
            self._index = index
            self.report = report
            return report

    def add_article(self, name: str, data: bytes) -> SyncReport:
        """Check an article, save it into the corpus folder, index it; CorpusError if refused.

        An existing article of the same name is refused rather than overwritten.
        """
        file_name = safe_name(name)
        text = check_article(data, file_name, self.settings.max_file_bytes)
        target = self.corpus_dir / file_name
        root = self.corpus_dir.resolve()
        if target.resolve().parent != root:
            raise CorpusError(f"{name!r}: would be written outside the corpus folder")
        try:
            with target.open("xb") as fh:
                fh.write(data)
        except FileExistsError as exc:
            raise CorpusError(
                f"{file_name}: an article of that name is already in the corpus"
            ) from exc
        document = make_document(file_name, text)
        with self._write_lock:  # index this article alone when the live index allows
            done = store.add(
                self.index_dir, [document], self.embedder, self.settings.index, current=self._index
            )
            if done is not None:
                self._index, self.report = done
                return self.report
        report = self.sync()
        if any(source == file_name for source, _ in report.skipped):
            raise CorpusError(f"{file_name}: saved but not indexed; see the log")
        return report

    def documents(self) -> list[Document]:
        """The articles in the index, in corpus order (sorted by path)."""
        records = sorted(self._index.records, key=lambda r: PurePosixPath(r.document.source).parts)
        return [r.document for r in records]

    def document(self, source: str) -> Document:
        """One article by its path relative to the corpus folder; KeyError if unknown."""
        return self._record(source).document

    def sentences(self, source: str) -> tuple[Sentence, ...]:
        """An article's sentences as indexed: spans, kind, speaker and speech; KeyError if unknown."""
        return self._record(source).sentences

    def _record(self, source: str) -> store.DocRecord:
        record = self._index.record(source)
        if record is None:
            raise KeyError(f"no article {source!r} in the index")
        return record

    # -- questions ----------------------------------------------------------------------------
    def ask(self, question: str, *, k: int | None = None, history: Sequence[str] = ()) -> Answer:
        """Answer with verbatim quotes, best first; no quotes when the corpus has no support.

        `history` holds earlier questions of the same conversation (as resolved, oldest
        first), so that a follow-up such as "And about Iran?" is understood. Raises
        ValueError for an empty question or one over `settings.max_question_chars`.
        """
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
        resolved = resolve(question, history)
        index = self._index  # one snapshot for the whole question
        # "What did Rutte say about China?": retrieve on the topic, prefer Rutte's sentences.
        who, topic = split_frame(resolved)
        # A known person named elsewhere ("On which talk show was Rutte interviewed?") is
        # taken as whose words are wanted (person_from_mention), or else left out of what
        # is embedded, since the name would pull the dense query to every sentence about
        # them; BM25 still gets the name then.
        s = self.settings
        mention = None
        if who is None and (s.person_from_mention or s.dense_without_names):
            mention = mentioned_person(resolved)
        unnamed = None
        if mention is not None:
            if s.person_from_mention:
                who, topic = mention
            else:
                unnamed = mention[1]
        dense_text = topic
        if who is not None and s.dense_query in ("person+topic", "blend"):
            dense_text = f"{who} on {topic}"
        elif s.dense_query == "question":
            dense_text = resolved
        if unnamed is not None:
            texts = [fold(unnamed)]
        else:
            # Ranking may lean on the person; the evidence for abstaining is the topic's alone.
            texts = [fold(dense_text)] if dense_text == topic else [fold(dense_text), fold(topic)]
        vectors = self.embedder.encode_queries(texts)
        vector, topic_vector = vectors[0], vectors[-1]
        if self.settings.dense_query == "blend":
            vector = vectors
        terms = tokenize(topic)
        hits = search(index, vector, terms, self.settings)
        # "When…", "How long…": a sentence with no date or duration cannot be the answer.
        wanted = answer_type(resolved)
        if wanted is not None and self.settings.weights.answer_type:
            hits = boost(hits, ~typed(index, hits.ids, wanted), -self.settings.weights.answer_type)
        lacking = None if wanted is None else ~typed(index, hits.ids[:CONFIDENCE_DEPTH], wanted)
        # Abstain on the evidence for the topic; when a person is named, on that
        # person's sentences only ("What did Merz say about China?" has none).
        topic_terms = set(terms) - _PERSON_TERMS or set(terms)
        topic_dense = topic_cosines(index, hits, topic_vector)
        values = evidence(index, hits, topic_terms, self.settings.confidence, topic_dense, lacking)
        score = confidence(values)
        if score < self.settings.abstain_below:
            return make_answer(question, resolved, [], score)
        note, found = "", None
        if who is not None:
            name = canonical(who)
            # Known people by attribution; anyone else by being named at the sentence.
            mask = (
                spoken_by(index, hits.ids, name)
                if name is not None
                else speaker_present(index, hits.ids, aliases(who))
            )
            # The person's own sentence must carry the topic: a neighbour naming China
            # does not make Merz's words about China.
            own = evidence(
                index, hits, topic_terms, self.settings.confidence, topic_dense, lacking, own=True
            )
            score = confidence(own, mask)
            found = score >= self.settings.abstain_below
            if found and self.settings.weights.speaker:
                hits = boost(hits, mask, self.settings.weights.speaker)
            elif not found:
                note = (
                    f"{name or who} is not quoted on this in the articles; "
                    "the closest quotes follow."
                )
        quotes = select_quotes(index, hits, self.settings, k or self.settings.max_quotes)
        return make_answer(question, resolved, quotes, score, note, found)
