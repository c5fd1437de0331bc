"""Reading a folder of articles into Documents, and checking new ones before they are saved.

Every `.txt` and `.md` file below the folder is an article; its first non-empty line
is its title. A file that cannot be an article (not UTF-8, binary, empty, too large,
a link that leads out of the folder) is reported by name and skipped; the rest load.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from rag.checksum import sha256_text
from rag.errors import CorpusError
from rag.text import title_of
from rag.types import Document

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md")
INDEX_BASE = Path("index")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE = re.compile(r"\s+")
_UNSAFE = re.compile(r"[^\w.-]+")


def default_index_dir(corpus_dir: str | Path, base: str | Path = INDEX_BASE) -> Path:
    """The index folder of a corpus folder when none is given: `<base>/<name>-<hash>`.

    The hash is of the folder's resolved absolute path, so the same folder always gets
    the same index folder, whatever working directory or spelling names it, and two
    folders never share one (two corpora both called "news" included).
    """
    real = Path(corpus_dir).resolve()
    digest = hashlib.sha256(str(real).encode("utf-8")).hexdigest()[:10]
    name = _UNSAFE.sub("_", real.name).strip("._") or "corpus"
    return Path(base) / f"{name[:60]}-{digest}"


def text_key(text: str) -> str:
    """What makes two articles the same text: equal after NFC and with every run of
    white space (line breaks included) made one space, ends stripped. Case, wording
    and punctuation still count."""
    flat = _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return hashlib.sha256(flat.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Scan:
    documents: tuple[Document, ...]
    skipped: tuple[tuple[str, str], ...]  # (source, reason)


def check_article(data: bytes, name: str, max_bytes: int) -> str:
    """Decode an article's bytes, or raise CorpusError saying what is wrong with it."""
    if len(data) > max_bytes:
        raise CorpusError(f"{name}: {len(data):,} bytes is over the limit of {max_bytes:,}")
    if b"\x00" in data:
        raise CorpusError(f"{name}: binary file (it holds NUL bytes), not a text article")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    # Offsets must match what Path.read_text(encoding="utf-8") gives, which turns
    # "\r\n" and "\r" into "\n" (universal newlines).
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise CorpusError(f"{name}: empty, nothing to index")
    if len(_CONTROL.findall(text[:65536])) > 8:
        raise CorpusError(f"{name}: binary file (control characters), not a text article")
    return text


def make_document(source: str, text: str) -> Document:
    """An article as the index knows it: its title is its first line, its hash its identity."""
    return Document(source, title_of(text), text, sha256_text(text))


def safe_name(name: str) -> str:
    """A file name for an uploaded article, or CorpusError: no folders, no tricks."""
    base = unicodedata.normalize("NFC", name).strip()
    if not base or base != os.path.basename(base) or "/" in base or "\\" in base:
        raise CorpusError(f"{name!r}: give a plain file name, without folders")
    if base in (".", "..") or base.startswith("."):
        raise CorpusError(f"{name!r}: names starting with a dot are not accepted")
    if _CONTROL.search(base) or len(base.encode("utf-8")) > 200:
        raise CorpusError(f"{name!r}: the name has control characters or is too long")
    if not base.lower().endswith(SUFFIXES):
        raise CorpusError(f"{name!r}: only {' and '.join(SUFFIXES)} files are articles")
    return base


def scan(
    folder: str | Path, max_bytes: int, *, prefix: str = "", exclude: Path | None = None
) -> Scan:
    """Load every article below `folder`, sorted by path; report the ones that fail.

    Each article's source is its path below the folder, after `prefix` ("uploads/").
    Nothing below `exclude` (the index folder, should it lie inside the corpus) is read.
    """
    root = Path(folder)
    if not root.is_dir():
        raise CorpusError(f"corpus folder {folder} does not exist or is not a folder")
    real_root = root.resolve()
    skip = exclude.resolve() if exclude is not None else None
    if skip is not None and not skip.is_relative_to(real_root):
        skip = None  # the usual case: nothing to leave out
    documents: list[Document] = []
    skipped: list[tuple[str, str]] = []
    paths = sorted(
        p
        for p in root.rglob("*")
        if p.suffix.lower() in SUFFIXES
        and not _hidden(p, root)
        and (skip is None or not p.resolve().is_relative_to(skip))
    )
    for path in paths:
        source = prefix + path.relative_to(root).as_posix()
        try:
            if path.is_symlink() and not path.resolve().is_relative_to(real_root):
                raise CorpusError(f"{source}: a link that leads outside the corpus folder")
            if not path.is_file():
                continue
            text = check_article(path.read_bytes(), source, max_bytes)
        except CorpusError as exc:
            skipped.append((source, str(exc).removeprefix(f"{source}: ")))
            log.warning("skipped %s", exc)
            continue
        except OSError as exc:
            skipped.append((source, f"cannot be read: {exc.strerror or exc}"))
            log.warning("skipped %s: cannot be read: %s", source, exc)
            continue
        documents.append(make_document(source, text))
    return Scan(tuple(documents), tuple(skipped))


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)
