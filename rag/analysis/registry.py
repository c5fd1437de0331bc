"""The people of a whole corpus: one person per full name, and who a question means.

Why: each article names its people in its own way ("Ana Lind", "Ms Lind", "the
minister"); `rag.analysis.people` resolves those inside the article. Across articles
the only safe key is the full name: two articles naming "Ana Lind" name one person,
while a bare "Lind" or "Ms Lind" stays inside its article. Spellings of one name that
differ by a letter ("Hallberg", "Hallbergh") with the same first name are one person,
shown under the spelling most sentences use.

A question asks for a person as a user remembers them — full name, surname, title and
surname, a slip of a letter — so `resolve` returns every person who fits: two people
sharing a surname are both candidates, and the answer shows whose words each quote is.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from rag.analysis.lexicon import FIRST_NAME_HONORIFICS, HONORIFICS, ROLE_NOUNS, TITLE_WORDS
from rag.analysis.people import name_key
from rag.types import PersonInfo


@dataclass(frozen=True, slots=True)
class ArticlePerson:
    """A person as one article knows them; saved with the article in the index."""

    name: str
    gender: str = ""
    forms: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()

    def to_list(self) -> list:
        return [self.name, self.gender, list(self.forms), list(self.roles)]

    @classmethod
    def from_list(cls, data: Sequence) -> ArticlePerson:
        name, gender, forms, roles = data
        return cls(str(name), str(gender), tuple(map(str, forms)), tuple(map(str, roles)))


def _edits_one(a: str, b: str) -> bool:
    """Whether two words differ by one inserted, deleted or changed letter."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def bare_name(asked: str) -> str:
    """The capitalised name inside "X's role Ana Lind of Y": "Ana Lind"."""
    text = re.sub(r"\s+of\s+.*$", "", asked.strip())
    text = re.sub(r"^.*?(?:['’]s|s['’])\s+", "", text)  # "Orchard Bank's", "Ladbrokes'"
    words = text.split()
    while words and not words[0][:1].isupper():
        words.pop(0)
    while len(words) > 1 and words[0].isupper():  # "HVB economist Ana Lind"
        words.pop(0)
    return " ".join(closing_capitals(words))


def closing_capitals(words: list[str]) -> list[str]:
    """The capitalised words that end `words` ("chief economist Ana Lind": Ana Lind)."""
    k = len(words)
    while k > 0 and words[k - 1][:1].isupper():
        k -= 1
    return words[k:]


def _deletions(word: str) -> set[str]:
    """The word, and the word with each one of its letters left out."""
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


def _strip_titles(words: list[str]) -> list[str]:
    """ "President Ana Lind" -> Ana Lind; "Ms Lind" -> Lind; "Vice-President Lind" -> Lind."""
    while len(words) > 1 and (
        words[0].rstrip(".") in HONORIFICS
        or all(part in TITLE_WORDS for part in words[0].split("-"))
        or words[0] == "the"
    ):
        words = words[1:]
    return words


class People:
    """Every person of the corpus, keyed by canonical name; built from indexed articles."""

    def __init__(self, articles: Iterable[tuple[str, Sequence[ArticlePerson], Counter]]) -> None:
        # `articles`: (source, the article's people, sentences attributed per name).
        groups: dict[str, list[tuple[str, ArticlePerson, int]]] = defaultdict(list)
        for source, people, spoken in articles:
            for p in people:
                groups[self._key(p.name, source)].append((source, p, spoken.get(p.name, 0)))
        self._merge_spellings(groups)
        self._canonical: dict[tuple[str, str], str] = {}  # (source, article name) -> name
        self._info: dict[str, PersonInfo] = {}
        for members in groups.values():
            spellings: Counter[str] = Counter()
            for _, p, n in members:
                spellings[p.name] += n + 1
            name = spellings.most_common(1)[0][0]
            while name in self._info:  # two article-bound "Mr Hale"s
                name = f"{name} ({members[0][0]})"
            forms = sorted({f for _, p, _ in members for f in (p.name, *p.forms)})
            # The role most articles give first ("finance minister" in three, before
            # "speaker" in one), then the shorter.
            given = Counter(r for _, p, _ in members for r in set(p.roles))
            roles = sorted(given, key=lambda r: (-given[r], len(r), r))
            self._info[name] = PersonInfo(
                name=name,
                forms=tuple(forms),
                roles=tuple(roles),
                sentences=sum(n for _, _, n in members),
                articles=tuple(sorted({s for s, _, _ in members})),
            )
            for source, p, _ in members:
                self._canonical[(source, p.name)] = name
        self._by_surname: dict[str, set[str]] = defaultdict(set)
        self._by_key: dict[str, set[str]] = defaultdict(set)
        for name, info in self._info.items():
            for form in info.forms:
                key = name_key(form).split()
                words = _strip_titles(key)
                if words:
                    self._by_key[" ".join(words)].add(name)
                    if key[0] not in FIRST_NAME_HONORIFICS:  # "Sir Tom": a first name
                        self._by_surname[words[-1]].add(name)

    @staticmethod
    def _key(name: str, source: str) -> str:
        words = name_key(name).split()
        if len(words) < 2 or words[0].rstrip(".") in HONORIFICS or words[0] in TITLE_WORDS:
            return f"{' '.join(words)}\x00{source}"  # a bare "Mr Hale" stays in its article
        return " ".join(words)

    @staticmethod
    def _merge_spellings(groups: dict[str, list]) -> None:
        """Fold "ana hallbergh" into "ana hallberg" (same first name, the
        surname one letter apart), keeping the key that more articles use."""
        keys = sorted((k for k in groups if "\x00" not in k), key=lambda k: -len(groups[k]))
        by_first: dict[str, list[str]] = defaultdict(list)
        for key in keys:
            words = key.split()
            home = next(
                (
                    other
                    for other in by_first[words[0]]
                    if len(other.split()) == len(words)
                    and other.split()[:-1] == words[:-1]
                    and _edits_one(other.split()[-1], words[-1])
                    and len(words[-1]) >= 5
                ),
                None,
            )
            if home is None:
                by_first[words[0]].append(key)
            else:
                groups[home].extend(groups.pop(key))

    def canonical(self, source: str, name: str) -> str:
        """The corpus-wide name of the person an article calls `name`."""
        return self._canonical.get((source, name), name)

    def get(self, name: str) -> PersonInfo | None:
        return self._info.get(name)

    def __iter__(self) -> Iterator[PersonInfo]:
        return iter(self._info.values())

    def __len__(self) -> int:
        return len(self._info)

    def resolve(self, asked: str) -> tuple[str, ...]:
        """The people a question's "X" may mean, most quoted first: a full name, a
        surname, a title and a surname, a role; a slip of one letter in the surname is
        allowed when nothing matches exactly. A name asked with what the person is
        ("HVB economist Ana Lind", "Orchard Bank's Ana Lind", "Ana Lind of Orchard
        Bank") is the name."""
        found = self._resolve(asked)
        bare = bare_name(asked)
        return found or (self._resolve(bare) if bare and bare != asked else ())

    def _resolve(self, asked: str) -> tuple[str, ...]:
        key = name_key(asked).removeprefix("the ")
        words = _strip_titles(key.split())
        if not words:
            return ()
        if all(w in ROLE_NOUNS or w in TITLE_WORDS for w in key.split()[-1:]) and not any(
            w[:1].isupper() for w in asked.split()[-1:]
        ):
            return self._by_role(key)
        found = set(self._by_key.get(" ".join(words), ()))
        if not found and len(words) >= 2:
            found = {
                n for n in self._by_surname.get(words[-1], ()) if name_key(n).split()[0] == words[0]
            }
        if len(words) == 1:  # a surname: everyone who bears it, not only who is called so
            found |= self._by_surname.get(words[0], set())
        if not found and len(words[-1]) >= 5:
            near = {s for k in _deletions(words[-1]) for s in self._near_surnames.get(k, ())}
            for surname in near:
                if _edits_one(surname, words[-1]):
                    found |= {
                        n
                        for n in self._by_surname[surname]
                        if len(words) == 1 or name_key(n).split()[0] == words[0]
                    }
        return tuple(sorted(found, key=lambda n: (-self._info[n].sentences, n)))

    @cached_property
    def _near_surnames(self) -> dict[str, set[str]]:
        """Surnames by each of their spellings with a letter left out, and as they are:
        two words one letter apart share such a key (symmetric deletion), so a slip is
        found without comparing it with every surname of the corpus."""
        near: dict[str, set[str]] = defaultdict(set)
        for surname in self._by_surname:
            if len(surname) >= 4:
                for key in _deletions(surname):
                    near[key].add(surname)
        return near

    def _by_role(self, role: str) -> tuple[str, ...]:
        """The people the articles give this role ("the finance minister"), most
        quoted first; the role's words must all be in one of theirs."""
        words = role.split()
        found = [
            p.name
            for p in self._info.values()
            if any(all(w in r.split() for w in words) for r in p.roles)
        ]
        return tuple(sorted(found, key=lambda n: (-self._info[n].sentences, n)))

    def named_in(self, text: str) -> list[tuple[int, int, tuple[str, ...]]]:
        """(start, end, people) for each span of `text` naming known people: full names
        first, then surnames, in capitals as a person would write them."""
        out: list[tuple[int, int, tuple[str, ...]]] = []
        for m in re.finditer(r"[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*", text):
            words = m.group().split()
            if words[-1].endswith(("'s", "’s")):
                words[-1] = words[-1][:-2]
            # Try the longest stretch first; a sentence opener ("What", "Did") drops off.
            for i in range(len(words)):
                people = self.resolve(" ".join(words[i:]))
                if people:
                    start = m.start() + len(" ".join(words[:i])) + (1 if i else 0)
                    out.append((start, start + len(" ".join(words[i:])), people))
                    break
        return out
