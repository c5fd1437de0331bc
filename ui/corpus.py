"""What the corpus panels show, made from the corpus itself: people, articles, examples.

Plain data over an Assistant, no gradio: `ui.app` formats it. The lists are built once
per index snapshot (a new `assistant.report` means a new snapshot), so typing in a
filter or turning a page only scans a prepared list.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TypeVar

from rag import Assistant, Document
from rag.text import normalize
from rag.types import PersonInfo, SyncReport

PAGE_SIZE = 20
EXAMPLES = 4  # questions offered under the chat
TRIES = 8  # questions asked, at most, to find examples the engine answers with quotes

T = TypeVar("T")
_WORD = re.compile(r"[^\W_][\w-]*")


def search_key(text: str) -> str:
    """The form filters match on: normalised, case and accents folded ("José" finds "Jose")."""
    decomposed = unicodedata.normalize("NFKD", normalize(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def person_question(name: str) -> str:
    """What choosing a person asks."""
    return f"What did {name} say?"


def topic_question(topic: str) -> str:
    """What an example about a name the headlines share asks."""
    return f"What about {topic}?"


def main_role(person: PersonInfo) -> str:
    """The role most of a person's articles give them (`PersonInfo.roles` comes so ordered)."""
    return person.roles[0] if person.roles else ""


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of a filtered list: its rows, where it stands, and how many matched."""

    rows: tuple[tuple, ...]
    page: int  # 1-based; 1 when nothing matches
    pages: int  # at least 1
    matches: int
    total: int


def paginate(items: Sequence[T], page: int, size: int = PAGE_SIZE) -> tuple[list[T], int, int]:
    """The items of page `page` (clamped to the pages there are), the page, and the pages."""
    pages = max(1, -(-len(items) // size))
    page = min(max(1, page), pages)
    return list(items[(page - 1) * size : page * size]), page, pages


class Catalogue:
    """The people and articles of one index snapshot, ready to filter and page.

    A person's row is (name, main role, sentences, articles); an article's is
    (title, file). Filters match every word typed, anywhere in a person's name, the
    forms and roles the articles use, or in an article's title or file name.
    """

    def __init__(self, documents: Sequence[Document], people: Sequence[PersonInfo]) -> None:
        self.documents = tuple(documents)
        self.people = tuple(people)
        self._people = [
            (
                (p.name, main_role(p), p.sentences, len(p.articles)),
                search_key(" ".join((p.name, *p.forms, *p.roles))),
            )
            for p in self.people
        ]
        self._articles = [
            ((d.title, d.source), search_key(f"{d.title} {d.source}")) for d in self.documents
        ]
        self.quoted = sum(1 for p in self.people if p.sentences)

    def find_people(self, query: str = "", page: int = 1, size: int = PAGE_SIZE) -> Listing:
        return _listing(self._people, query, page, size)

    def find_articles(self, query: str = "", page: int = 1, size: int = PAGE_SIZE) -> Listing:
        return _listing(self._articles, query, page, size)


def _listing(entries: Sequence[tuple[tuple, str]], query: str, page: int, size: int) -> Listing:
    words = search_key(query or "").split()
    rows = [row for row, key in entries if all(w in key for w in words)]
    shown, page, pages = paginate(rows, page, size)
    return Listing(tuple(shown), page, pages, len(rows), len(entries))


# --- Examples ---------------------------------------------------------------------------------


def _folder(source: str) -> str:
    parts = PurePosixPath(source).parts
    return parts[0] if len(parts) > 1 else ""


def spread_people(people: Sequence[PersonInfo]) -> list[PersonInfo]:
    """The quoted people, most quoted first, taken in turn from each top-level folder of
    the corpus (a person belongs where most of their articles are), so that the first
    few examples are not all from one section."""
    by_folder: dict[str, list[PersonInfo]] = {}
    for p in sorted(people, key=lambda p: (-p.sentences, p.name)):
        if p.sentences:
            folder = Counter(_folder(a) for a in p.articles).most_common(1)[0][0]
            by_folder.setdefault(folder, []).append(p)
    queues = list(by_folder.values())  # folders in the order of their most quoted person
    out: list[PersonInfo] = []
    while any(queues):
        out += [q.pop(0) for q in queues if q]
    return out


def headline_topics(documents: Sequence[Document], limit: int = 8) -> list[str]:
    """Names the headlines share: capitalised words past a title's first word that the
    articles' own text also writes capitalised (a name, not a word of a title-case
    headline), in the most titles first."""
    titles: Counter[str] = Counter()
    holders: dict[str, list[Document]] = {}
    for d in documents:
        words = _WORD.findall(d.title)[1:]
        for w in dict.fromkeys(w for w in words if len(w) > 1 and w[0].isupper()):
            titles[w] += 1
            holders.setdefault(w, []).append(d)
    out = []
    for word, _ in sorted(titles.items(), key=lambda kv: (-kv[1], kv[0])):
        if _is_a_name(word, holders[word]):
            out.append(word)
        if len(out) == limit:
            break
    return out


def _is_a_name(word: str, documents: Iterable[Document]) -> bool:
    exact = lower = 0
    pattern = re.compile(rf"\b{re.escape(word)}\b", re.IGNORECASE)
    for d in documents:
        for m in pattern.finditer(d.text, len(d.title)):
            if m.group() == word:
                exact += 1
            elif m.group().islower():
                lower += 1
    return exact > 0 and lower <= exact // 10


def make_examples(
    assistant: Assistant,
    people: Sequence[PersonInfo],
    documents: Sequence[Document],
    n: int = EXAMPLES,
    tries: int = TRIES,
) -> list[str]:
    """Questions the engine answers with quotes on this corpus, each checked by asking it.

    Up to n - 1 ask what the most quoted people said (the first quote must be theirs);
    one asks about a name the headlines share (its first quote must name it, as written,
    and the quotes must not all be headlines).
    A corpus without quotes gets topics alone; one with no articles, nothing.
    """
    budget = [tries]

    def answered(question: str, speaker: str | None = None, topic: str = "") -> bool:
        if budget[0] <= 0:
            return False
        budget[0] -= 1
        answer = assistant.ask(question)
        if not answer.quotes:
            return False
        first = answer.quotes[0]
        if speaker is not None:
            return bool(answer.speaker_found) and first.speaker == speaker
        named = re.search(rf"(?<!\w){re.escape(topic)}(?!\w)", first.text) is not None
        return named and any(q.text.strip() != q.title.strip() for q in answer.quotes)

    speakers = spread_people(people)
    topics = headline_topics(documents)
    out: list[str] = []
    for p in speakers:
        if len(out) >= (n - 1 if topics else n) or budget[0] <= 0:
            break
        if answered(person_question(p.name), speaker=p.name):
            out.append(person_question(p.name))
    for topic in topics:
        if len(out) >= n or budget[0] <= 0:
            break
        if answered(topic_question(topic), topic=topic):
            out.append(topic_question(topic))
    return out


def placeholder(examples: Sequence[str]) -> str:
    """The question box's hint: the first example, when there is one."""
    return f"Ask about the articles, e.g. {examples[0]}" if examples else "Ask about the articles"


# --- One snapshot at a time ---------------------------------------------------------------------


class CorpusView:
    """The catalogue and examples of the assistant's current snapshot, each made once.

    Thread-safe: the page's events run in several threads at once.
    """

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self._lock = threading.Lock()
        self._report: SyncReport | None = None
        self._catalogue: Catalogue | None = None
        self._examples: list[str] | None = None

    def _current(self) -> None:
        report = self.assistant.report  # replaced whenever the index is
        if report is not self._report or self._catalogue is None:
            self._catalogue = Catalogue(self.assistant.documents(), self.assistant.people())
            self._examples = None
            self._report = report

    def catalogue(self) -> Catalogue:
        with self._lock:
            self._current()
            assert self._catalogue is not None
            return self._catalogue

    def examples(self) -> list[str]:
        with self._lock:
            self._current()
            assert self._catalogue is not None
            if self._examples is None:
                c = self._catalogue
                self._examples = make_examples(self.assistant, c.people, c.documents)
            return list(self._examples)
