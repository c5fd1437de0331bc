"""The engine's data: frozen, typed records with character offsets into the original text.

Stdlib only, so that every layer (UI, eval, tests) can import them cheaply.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

# What a line of an article is: its title, a heading, a list item, or body text.
SentenceKind = Literal["title", "heading", "list", "body"]
SENTENCE_KINDS: tuple[SentenceKind, ...] = get_args(SentenceKind)
# How a sentence reports a person: their words in quotation marks, or reported.
Speech = Literal["direct", "reported"]
SPEECHES: tuple[Speech, ...] = get_args(Speech)


@dataclass(frozen=True, slots=True)
class Document:
    """One article: its path relative to the corpus folder, its title and its full text."""

    source: str
    title: str
    text: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence (or headline, or list item) as a span of its document's text.

    `paragraph` numbers the line it stands on; `group` is the index of the first sentence of the quotation it belongs
    to when a quotation runs over several sentences, else its own index. `speaker` and
    `speech` come from `rag.analysis.speakers` at index time.
    """

    start: int
    end: int
    kind: SentenceKind
    paragraph: int
    group: int
    speaker: str | None = None  # canonical name of the person whose words it reports
    speech: Speech | None = None


@dataclass(frozen=True, slots=True)
class PersonInfo:
    """A person of the corpus, as `Assistant.people()` lists them.

    `name` is canonical (the full name most of their sentences are attributed under);
    `forms` are the ways the articles write them ("Ana Lind", "Ms Lind", "Lind");
    `roles` what the articles call them ("finance minister"), the role most of their
    articles give first; `sentences` counts the sentences attributed to them;
    `articles` the files that name them.
    """

    name: str
    forms: tuple[str, ...]
    roles: tuple[str, ...]
    sentences: int
    articles: tuple[str, ...]

    def to_dict(self) -> dict:
        """The JSON form `rag people --json` prints (and the UI's people panel reads)."""
        return {
            "name": self.name,
            "forms": list(self.forms),
            "roles": list(self.roles),
            "sentences": self.sentences,
            "articles": list(self.articles),
        }


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a quote stands: `text[start:end]` of the article `source` (its path relative
    to the corpus folder, or `uploads/<name>` for an upload)."""

    source: str
    title: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Quote:
    """A verbatim quote: `Assistant.source_path(source).read_text()[start:end] == text`,
    always (the file is `Path(corpus, source)` but for uploads).

    `also` lists the other places that say the same thing (near-duplicates folded
    into this quote). `context_before` and `context_after` are the neighbouring
    sentences, verbatim, for display.
    """

    text: str
    source: str
    title: str
    start: int
    end: int
    score: float
    also: tuple[Citation, ...] = ()
    context_before: str = ""
    context_after: str = ""
    speaker: str | None = None  # whose words these are (canonical name), None for narration
    speech: Speech | None = None

    @property
    def citation(self) -> Citation:
        return Citation(self.source, self.title, self.start, self.end)


@dataclass(frozen=True, slots=True)
class Answer:
    """The reply to one question: quotes best first, and the same as cited Markdown
    (`markdown`, for a chat window) and as plain text (`text`, for a terminal).

    `quotes` is empty when the corpus holds nothing that supports an answer; then
    `abstained` is true and `markdown` and `text` say so. `resolved_question` is the question
    as understood, after borrowing from earlier turns ("And about tariffs?").
    """

    question: str
    resolved_question: str
    quotes: tuple[Quote, ...]
    markdown: str
    abstained: bool
    confidence: float = 0.0  # best topic score before any speaker preference; abstains below
    note: str = ""  # said before the quotes, e.g. that the person asked about is not quoted
    speaker_found: bool | None = None  # None: no person asked about
    # How well the asked person's own words support an answer on the topic (None: no
    # person asked about, or it abstained first); `speaker_found` is it at or above
    # `Settings.speaker_below`.
    speaker_confidence: float | None = None
    text: str = ""  # the same answer as `markdown`, in plain text

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain JSON data (lists, not tuples): what `rag ask --json` prints
        and what the UI's `ask` API returns."""
        return _plain(asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What opening or updating the index did, for the CLI, the UI and the logs."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (source, reason)
    rebuilt_because: str | None = None
    embedded_sentences: int = 0
    embedded_passages: int = 0
    documents: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.rebuilt_because)


@dataclass(frozen=True, slots=True)
class Progress:
    """How far indexing has got: one stage, counted in what it counts."""

    stage: str  # what is being done and counted: "analysing articles", "embedding sentences"
    done: int
    total: int
    elapsed_s: float  # since the stage began

    @property
    def left_s(self) -> float | None:
        """Seconds the stage has still to go at its pace so far; None before any is done."""
        if self.done <= 0 or self.elapsed_s <= 0:
            return None
        return self.elapsed_s / self.done * max(self.total - self.done, 0)

    def describe(self) -> str:
        """One line for people: "analysing articles: 1,200 of 1,807, about 40 s left"."""
        line = f"{self.stage}: {self.done:,} of {self.total:,}"
        left = self.left_s
        if left is not None and self.done < self.total:
            line += f", about {_duration(left)} left"
        return line


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{round(seconds / 60)} min"
