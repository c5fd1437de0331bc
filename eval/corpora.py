"""The corpora the harness scores, and where each one's articles, index and eval files are.

Paths are relative to the repository root. A corpus is scored when its folder and
its question–answer file are there, and skipped with the reason otherwise; its
speaker labels are optional. To add a corpus, add a line to CORPORA, its eval files
under eval/<name>/, and its floors to tests/test_eval.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Corpus:
    name: str
    corpus_dir: Path  # the articles
    index_dir: Path  # its index, under index/
    qa: Path  # question–answer rows (JSONL)
    speakers: Path  # hand-labelled speakers of sentences (JSONL), if any

    def missing(self) -> str | None:
        """Why this corpus cannot be scored here; None when it can."""
        if not (ROOT / self.corpus_dir).is_dir():
            return f"no corpus folder at {self.corpus_dir.as_posix()}"
        if not (ROOT / self.qa).is_file():
            return f"no question-answer pairs at {self.qa.as_posix()}"
        return None


CORPORA = (
    Corpus(
        "seeds",
        Path("seeds"),
        Path("index/eval-seeds"),
        Path("eval/qa.jsonl"),
        Path("eval/speakers.jsonl"),
    ),
    Corpus(
        "bbc",
        Path("../shared/corpora/bbc"),
        Path("index/eval-bbc"),
        Path("eval/bbc/qa.jsonl"),
        Path("eval/bbc/speakers.jsonl"),
    ),
)


def corpus(name: str) -> Corpus:
    """The corpus of that name; KeyError naming the known ones."""
    for c in CORPORA:
        if c.name == name:
            return c
    raise KeyError(f"no corpus {name!r}; the harness knows {', '.join(c.name for c in CORPORA)}")


def present(corpora: Sequence[Corpus] = CORPORA) -> tuple[list[Corpus], dict[str, str]]:
    """The corpora that can be scored here, and why each of the others cannot."""
    found, skipped = [], {}
    for c in corpora:
        why = c.missing()
        if why is None:
            found.append(c)
        else:
            skipped[c.name] = why
    return found, skipped
