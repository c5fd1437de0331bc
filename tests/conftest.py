"""Shared fixtures: the real model, loaded once, and the real seeds in throwaway folders."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag import Assistant  # noqa: E402
from rag.embedding import Embedder  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    e = Embedder()
    e._sentence_transformer()  # load once for the whole session
    return e


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> tuple[Path, Path]:
    """A corpus copy and its built index, shared read-only by the tests that only ask."""
    base = tmp_path_factory.mktemp("shared")
    corpus = base / "corpus"
    shutil.copytree(SEEDS, corpus)
    Assistant(corpus, base / "index", embedder=embedder)
    return corpus, base / "index"


@pytest.fixture(scope="session")
def assistant(seeds_index: tuple[Path, Path], embedder: Embedder) -> Assistant:
    corpus, index = seeds_index
    return Assistant(corpus, index, embedder=embedder)


@pytest.fixture(scope="session")
def write_articles() -> Callable[[Path, dict[str, str]], Path]:
    """Writes articles (file name -> text, UTF-8) into a folder, made as needed; the
    folder comes back."""

    def write(folder: Path, articles: dict[str, str]) -> Path:
        for name, text in articles.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return folder

    return write


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A private, writable copy of the seeds."""
    target = tmp_path / "corpus"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def fresh_index(tmp_path: Path, seeds_index: tuple[Path, Path]) -> Path:
    """A private copy of the built seeds index, to damage or update."""
    target = tmp_path / "index"
    shutil.copytree(seeds_index[1], target)
    return target
