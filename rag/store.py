"""The saved index: sentences and passages, their vectors in FAISS, BM25 beside them.

Layout of the index folder:

    CURRENT          the name of the live generation, replaced atomically
    gen-<id>/        one complete build: manifest.json, documents.json, *.npy
    .lock            held while a process opens, builds or updates the index

A build writes a new generation into a temporary folder, fsyncs it, renames it and
then swaps CURRENT, so a crash at any moment leaves the previous generation live.
The manifest records the format version, the model (name and weights hash), the
index settings and a SHA-256 per file and per article: a garbled, truncated or
mismatched index is reported and rebuilt, and an unchanged article is never
re-embedded. The FAISS index type follows the size: exact inner product below 50k
vectors (rebuilt from the saved vectors on load), HNSW up to 500k, IVF with 8-bit
codes above (both saved); the manifest records which. But: BM25 is rebuilt on every
load and a change rewrites the whole generation, which suits corpora up to some
hundred thousand passages, not a million.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from rag.config import IndexSettings
from rag.embedding import Embedder
from rag.errors import IndexCorruptError, RagError
from rag.speakers import attribute
from rag.text import fold, split_sentences, tokenize
from rag.types import Document, Sentence, SyncReport

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
CURRENT = "CURRENT"
LOCK = ".lock"
LOCK_TIMEOUT_S = 900
SPLITTER = "syntok+rules-1, speakers-1"  # change it when splitting or attribution changes
_FILES = ("documents.json", "sentence_vectors.npy", "passage_vectors.npy")
# Exact search while it is fast enough, approximate after; bench/scale.py measured the
# figures behind these bounds (exact p50 15 ms at 100k vectors, 150 ms at 1M).
HNSW_FROM = 50_000
IVF_FROM = 500_000
_SEED = 1234


def index_type(n: int) -> str:
    """The FAISS index kind for n vectors: "flat-ip", "hnsw32" or "ivf-sq8"."""
    if n < HNSW_FROM:
        return "flat-ip"
    return "hnsw32" if n < IVF_FROM else "ivf-sq8"


def build_faiss(vectors: np.ndarray, kind: str):  # noqa: ANN201 - faiss has no type hints
    """A FAISS inner-product index of `kind` holding `vectors` (unit rows)."""
    import faiss

    dim = vectors.shape[1]
    if kind == "flat-ip":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw32":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
    elif kind == "ivf-sq8":
        nlist = int(min(4096, max(64, 4 * np.sqrt(len(vectors)))))
        index = faiss.IndexIVFScalarQuantizer(
            faiss.IndexFlatIP(dim),
            dim,
            nlist,
            faiss.ScalarQuantizer.QT_8bit,
            faiss.METRIC_INNER_PRODUCT,
        )
        rng = np.random.default_rng(_SEED)
        sample = vectors[rng.choice(len(vectors), min(len(vectors), 200_000), replace=False)]
        index.train(sample)
    else:
        raise IndexCorruptError(f"unknown FAISS index type {kind!r}")
    index.add(vectors)
    _tune(index, kind)
    return index


def _tune(index, kind: str) -> None:  # noqa: ANN001
    """Search-time parameters; measured in bench/scale.py (recall@10 ≥ 0.98)."""
    if kind == "hnsw32":
        index.hnsw.efSearch = 64
    elif kind == "ivf-sq8":
        index.nprobe = 48


@dataclass(frozen=True, slots=True)
class DocRecord:
    """An article as indexed: its sentences and its passages (sentence ranges [a, b))."""

    document: Document
    sentences: tuple[Sentence, ...]
    passages: tuple[tuple[int, int], ...]

    def sentence_text(self, i: int) -> str:
        s = self.sentences[i]
        return self.document.text[s.start : s.end]

    def passage_text(self, p: int) -> str:
        a, b = self.passages[p]
        return " ".join(self.sentence_text(i) for i in range(a, b))


def split_passages(
    record_sentences: Sequence[str], settings: IndexSettings, count_tokens: Callable[[str], int]
) -> tuple[tuple[int, int], ...]:
    """Windows of consecutive sentences, each within the model's token budget."""
    n = len(record_sentences)
    windows: list[tuple[int, int]] = []
    start = 0
    while start < n:
        end = start + 1
        while end < min(n, start + settings.passage_sentences):
            text = " ".join(record_sentences[start : end + 1])
            if count_tokens(text) > settings.passage_max_tokens:
                break
            end += 1
        windows.append((start, end))
        if end >= n:
            break
        start = min(start + settings.passage_stride, end)
    return tuple(windows)


def analyse(document: Document, settings: IndexSettings, embedder: Embedder) -> DocRecord:
    spans = split_sentences(document.text)
    sentences = tuple(
        replace(s, speaker=who, speech=mode)
        for s, (who, mode) in zip(spans, attribute(document.text, spans), strict=True)
    )
    texts = [document.text[s.start : s.end] for s in sentences]
    passages = split_passages(texts, settings, embedder.count_tokens)
    return DocRecord(document, sentences, passages)


@dataclass
class Index:
    """An opened index: immutable once built; searches read it from many threads."""

    records: tuple[DocRecord, ...]
    sentence_vectors: np.ndarray
    passage_vectors: np.ndarray
    manifest: dict
    sentence_doc: np.ndarray = field(init=False)  # record index per global sentence
    sentence_local: np.ndarray = field(init=False)  # sentence index within its record
    passage_doc: np.ndarray = field(init=False)
    passage_first: np.ndarray = field(init=False)  # global index of first sentence
    passage_last: np.ndarray = field(init=False)  # global index one past the last
    sentence_passages: list[list[int]] = field(init=False)  # passages holding each sentence
    prebuilt: dict = field(default_factory=dict, repr=False)  # FAISS indexes read from disk

    def __post_init__(self) -> None:
        s_doc, s_local, p_doc, p_first, p_last = [], [], [], [], []
        offset = 0
        for r, record in enumerate(self.records):
            n = len(record.sentences)
            s_doc += [r] * n
            s_local += list(range(n))
            for a, b in record.passages:
                p_doc.append(r)
                p_first.append(offset + a)
                p_last.append(offset + b)
            offset += n
        self.sentence_is_heading = np.asarray(
            [s.kind != "body" for r in self.records for s in r.sentences], dtype=bool
        )
        self.sentence_doc = np.asarray(s_doc, dtype=np.int32)
        self.sentence_local = np.asarray(s_local, dtype=np.int32)
        self.passage_doc = np.asarray(p_doc, dtype=np.int32)
        self.passage_first = np.asarray(p_first, dtype=np.int32)
        self.passage_last = np.asarray(p_last, dtype=np.int32)
        self.sentence_passages = [[] for _ in range(offset)]
        for p, (a, b) in enumerate(zip(p_first, p_last, strict=True)):
            for g in range(a, b):
                self.sentence_passages[g].append(p)
        if self.sentence_vectors.shape[0] != offset:
            raise IndexCorruptError(
                f"{self.sentence_vectors.shape[0]} sentence vectors for {offset} sentences"
            )
        if self.passage_vectors.shape[0] != len(p_doc):
            raise IndexCorruptError(
                f"{self.passage_vectors.shape[0]} passage vectors for {len(p_doc)} passages"
            )
        dim = int(self.manifest["model"]["dim"])
        for name, vectors in (
            ("sentence", self.sentence_vectors),
            ("passage", self.passage_vectors),
        ):
            if vectors.ndim != 2 or vectors.shape[1] != dim or vectors.dtype != np.float32:
                raise IndexCorruptError(
                    f"{name} vectors have shape {vectors.shape}, not (*, {dim})"
                )
            if not np.isfinite(vectors).all():
                raise IndexCorruptError(f"{name} vectors hold NaN or infinity")
        kinds = self.manifest.setdefault("index_type", {})
        for name, vectors in (
            ("sentences", self.sentence_vectors),
            ("passages", self.passage_vectors),
        ):
            kind = kinds.setdefault(name, index_type(len(vectors)))
            built = self.prebuilt.get(name)
            if built is None:
                built = build_faiss(vectors, kind)
            elif built.ntotal != len(vectors) or built.d != dim:
                raise IndexCorruptError(
                    f"{name}.faiss holds {built.ntotal} vectors, not {len(vectors)}"
                )
            setattr(self, f"{name[:-1]}_faiss", built)
        self.sentence_tokens = [
            tokenize(record.sentence_text(i))
            for record in self.records
            for i in range(len(record.sentences))
        ]
        self.passage_tokens = [
            [t for g in range(a, b) for t in self.sentence_tokens[g]]
            for a, b in zip(p_first, p_last, strict=True)
        ]
        df: dict[str, int] = {}
        for tokens in self.sentence_tokens:
            for t in set(tokens):
                df[t] = df.get(t, 0) + 1
        n_sentences = max(len(self.sentence_tokens), 1)
        self.idf = {t: float(np.log(1 + n_sentences / (c + 0.5))) for t, c in df.items()}
        self.bm25_sentences = _bm25(self.sentence_tokens)
        self.bm25_passages = _bm25(self.passage_tokens)

    @property
    def size(self) -> int:
        return len(self.sentence_doc)

    def sentence_text(self, g: int) -> str:
        return self.records[self.sentence_doc[g]].sentence_text(int(self.sentence_local[g]))

    def record(self, source: str) -> DocRecord | None:
        return next((r for r in self.records if r.document.source == source), None)


def _bm25(corpus_tokens: list[list[str]]):  # noqa: ANN202 - bm25s has loose types
    """A BM25 index over pre-tokenised texts (bm25s, Lucene scoring), None when empty."""
    import bm25s

    # bm25s sets its own logger to DEBUG on import; its per-build messages are noise here.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    if not any(corpus_tokens):
        return None
    retriever = bm25s.BM25()
    retriever.index(corpus_tokens, show_progress=False)
    return retriever


def bm25_scores(retriever, tokens: list[str], size: int) -> np.ndarray:  # noqa: ANN001
    """BM25 score of every indexed text for the query terms (zeros when nothing matches)."""
    if retriever is None or size == 0:
        return np.zeros(size, dtype=np.float32)
    known = [t for t in tokens if t in retriever.vocab_dict]
    if not known:
        return np.zeros(size, dtype=np.float32)
    return np.asarray(retriever.get_scores(known), dtype=np.float32)


# --- Saving and loading --------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write(path: Path, data: bytes) -> None:
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _save_npy(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as fh:
        np.save(fh, array, allow_pickle=False)
        fh.flush()
        os.fsync(fh.fileno())


def save(index_dir: Path, index: Index) -> Path:
    """Write `index` as a new generation and make it live; returns its folder."""
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = index_dir / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    documents = [
        {
            "source": r.document.source,
            "title": r.document.title,
            "sha256": r.document.sha256,
            "text": r.document.text,
            "sentences": [
                [s.start, s.end, s.kind, s.paragraph, s.group, s.speaker, s.speech]
                for s in r.sentences
            ],
            "passages": [list(p) for p in r.passages],
        }
        for r in index.records
    ]
    _write(tmp / "documents.json", json.dumps(documents, ensure_ascii=False).encode("utf-8"))
    _save_npy(tmp / "sentence_vectors.npy", index.sentence_vectors)
    _save_npy(tmp / "passage_vectors.npy", index.passage_vectors)
    names = list(_FILES)
    for kind_of in ("sentences", "passages"):
        if index.manifest["index_type"][kind_of] != "flat-ip":  # flat is rebuilt in a blink
            import faiss

            built = getattr(index, f"{kind_of[:-1]}_faiss")
            _write(tmp / f"{kind_of}.faiss", faiss.serialize_index(built).tobytes())
            names.append(f"{kind_of}.faiss")
    manifest = dict(index.manifest)
    manifest["files"] = {
        name: {"sha256": _sha256_file(tmp / name), "bytes": (tmp / name).stat().st_size}
        for name in names
    }
    _write(tmp / "manifest.json", json.dumps(manifest, indent=1).encode("utf-8"))
    _fsync_dir(tmp)
    generation = index_dir / f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    os.rename(tmp, generation)
    pointer = index_dir / f".{CURRENT}.{uuid.uuid4().hex}"
    _write(pointer, generation.name.encode("utf-8"))
    os.replace(pointer, index_dir / CURRENT)
    _fsync_dir(index_dir)
    index.manifest = manifest
    _remove_stale(index_dir, keep=generation.name)
    return generation


def _remove_stale(index_dir: Path, keep: str) -> None:
    for path in index_dir.iterdir():
        if path.name == keep or path.name in (CURRENT, LOCK):
            continue
        if path.name.startswith(("gen-", ".tmp-", f".{CURRENT}.")):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def load(index_dir: Path) -> Index | None:
    """The live generation, fully checked; None when there is none; IndexCorruptError if bad."""
    pointer = index_dir / CURRENT
    if not pointer.exists():
        return None
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"{pointer} is unreadable: {exc}") from exc
    generation = index_dir / name
    if not name.startswith("gen-") or "/" in name or not generation.is_dir():
        raise IndexCorruptError(f"{pointer} names {name!r}, which is not a generation folder")
    try:
        manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"manifest of {generation.name} is unreadable: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise IndexCorruptError(f"index format {found!r}, this version reads {FORMAT_VERSION}")
    try:
        files = manifest["files"]
        kinds = manifest["index_type"]
        wanted = list(_FILES) + [
            f"{k}.faiss" for k in ("sentences", "passages") if kinds[k] != "flat-ip"
        ]
        for file_name in wanted:
            path = generation / file_name
            expected = files[file_name]
            if not path.is_file():
                raise IndexCorruptError(f"{file_name} is missing")
            if path.stat().st_size != expected["bytes"]:
                raise IndexCorruptError(
                    f"{file_name} has {path.stat().st_size} bytes, the manifest says "
                    f"{expected['bytes']} (truncated?)"
                )
            if _sha256_file(path) != expected["sha256"]:
                raise IndexCorruptError(f"{file_name} does not match its checksum (garbled)")
        documents = json.loads((generation / "documents.json").read_text(encoding="utf-8"))
        records = tuple(_record(d) for d in documents)
        sentence_vectors = np.load(generation / "sentence_vectors.npy", allow_pickle=False)
        passage_vectors = np.load(generation / "passage_vectors.npy", allow_pickle=False)
        prebuilt = {}
        for kind_of in ("sentences", "passages"):
            if kinds[kind_of] != "flat-ip":
                import faiss

                data = np.frombuffer((generation / f"{kind_of}.faiss").read_bytes(), dtype=np.uint8)
                prebuilt[kind_of] = faiss.deserialize_index(data)
                _tune(prebuilt[kind_of], kinds[kind_of])
        return Index(records, sentence_vectors, passage_vectors, manifest, prebuilt=prebuilt)
    except IndexCorruptError:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError, RuntimeError) as exc:
        # RuntimeError: what FAISS raises for a file it cannot deserialise.
        raise IndexCorruptError(f"{generation.name} cannot be read: {exc}") from exc


def _record(d: dict) -> DocRecord:
    text = d["text"]
    document = Document(d["source"], d["title"], text, d["sha256"])
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != document.sha256:
        raise IndexCorruptError(f"stored text of {document.source} does not match its hash")
    sentences = tuple(
        Sentence(int(a), int(b), str(k), int(p), int(g), who, mode)
        for a, b, k, p, g, who, mode in d["sentences"]
    )
    for s in sentences:
        if not 0 <= s.start < s.end <= len(text):
            raise IndexCorruptError(f"sentence span {s.start}:{s.end} outside {document.source}")
    passages = tuple((int(a), int(b)) for a, b in d["passages"])
    for a, b in passages:
        if not 0 <= a < b <= len(sentences):
            raise IndexCorruptError(f"passage {a}:{b} outside {document.source}")
    return DocRecord(document, sentences, passages)


# --- Opening with an update ----------------------------------------------------------------


def _manifest(embedder: Embedder, settings: IndexSettings, records: Sequence[DocRecord]) -> dict:
    return {
        "format": FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "model": embedder.identity(),
        "index_settings": settings.as_dict(),
        "splitter": SPLITTER,
        "documents": {
            r.document.source: {
                "sha256": r.document.sha256,
                "title": r.document.title,
                "sentences": len(r.sentences),
                "passages": len(r.passages),
            }
            for r in records
        },
    }


def _mismatch(manifest: dict, embedder: Embedder, settings: IndexSettings) -> str | None:
    model = manifest.get("model", {})
    if model.get("weights_sha256") != embedder.weights_sha256:
        return (
            f"it was built with model {model.get('name')!r} "
            f"(weights {str(model.get('weights_sha256'))[:12]}), "
            f"this run uses {embedder.name!r} (weights {embedder.weights_sha256[:12]})"
        )
    if manifest.get("index_settings") != settings.as_dict():
        return (
            f"it was built with settings {manifest.get('index_settings')}, "
            f"this run uses {settings.as_dict()}"
        )
    if manifest.get("splitter") != SPLITTER:
        return f"it was split by {manifest.get('splitter')!r}, this version splits by {SPLITTER}"
    return None


def sync(
    index_dir: Path,
    documents: Sequence[Document],
    embedder: Embedder,
    settings: IndexSettings,
    *,
    skipped: Sequence[tuple[str, str]] = (),
    progress: bool = False,
) -> tuple[Index, SyncReport]:
    """Open the index, bringing it in line with `documents`; embed only what changed."""
    from filelock import FileLock, Timeout

    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(index_dir / LOCK), timeout=LOCK_TIMEOUT_S):
            return _sync_locked(index_dir, documents, embedder, settings, skipped, progress)
    except Timeout as exc:
        raise RagError(
            f"another process has held the index lock {index_dir / LOCK} for "
            f"{LOCK_TIMEOUT_S} s; is a build stuck?"
        ) from exc


def _sync_locked(
    index_dir: Path,
    documents: Sequence[Document],
    embedder: Embedder,
    settings: IndexSettings,
    skipped: Sequence[tuple[str, str]],
    progress: bool,
) -> tuple[Index, SyncReport]:
    rebuilt_because = None
    old: Index | None = None
    try:
        old = load(index_dir)
    except IndexCorruptError as exc:
        rebuilt_because = f"the saved index is unusable: {exc}"
    if old is not None:
        reason = _mismatch(old.manifest, embedder, settings)
        if reason:
            rebuilt_because = f"the saved index does not fit: {reason}"
            old = None
    if rebuilt_because:
        log.warning("rebuilding the index: %s", rebuilt_because)

    previous: dict[str, tuple[int, DocRecord]] = {}
    if old is not None:
        previous = {r.document.source: (i, r) for i, r in enumerate(old.records)}
    wanted = {d.source for d in documents}
    added, updated, reused = [], [], []
    for d in documents:
        hit = previous.get(d.source)
        if hit is None:
            added.append(d.source)
        elif hit[1].document.sha256 != d.sha256:
            updated.append(d.source)
        else:
            reused.append(d.source)
    removed = sorted(set(previous) - wanted)
    report_args = dict(
        added=tuple(added),
        updated=tuple(updated),
        removed=tuple(removed),
        skipped=tuple(skipped),
        rebuilt_because=rebuilt_because,
        documents=len(documents),
    )
    if old is not None and not (added or updated or removed):
        return old, SyncReport(**report_args)

    # Vectors of unchanged articles are copied from the old index, in the new order.
    records: list[DocRecord] = []
    sentence_parts: list[np.ndarray] = []
    passage_parts: list[np.ndarray] = []
    fresh: list[int] = []
    for d in documents:
        hit = previous.get(d.source)
        if hit is not None and hit[1].document.sha256 == d.sha256 and old is not None:
            i, record = hit
            s0 = int(np.searchsorted(old.sentence_doc, i, side="left"))
            s1 = int(np.searchsorted(old.sentence_doc, i, side="right"))
            p0 = int(np.searchsorted(old.passage_doc, i, side="left"))
            p1 = int(np.searchsorted(old.passage_doc, i, side="right"))
            records.append(record)
            sentence_parts.append(old.sentence_vectors[s0:s1])
            passage_parts.append(old.passage_vectors[p0:p1])
        else:
            records.append(analyse(d, settings, embedder))
            sentence_parts.append(None)  # type: ignore[arg-type]
            passage_parts.append(None)  # type: ignore[arg-type]
            fresh.append(len(records) - 1)

    texts: list[str] = []
    for i in fresh:
        r = records[i]
        texts += [fold(r.sentence_text(j)) for j in range(len(r.sentences))]
        texts += [fold(r.passage_text(p)) for p in range(len(r.passages))]
    vectors = embedder.encode(texts, progress=progress) if texts else None
    at = 0
    n_sent = n_pass = 0
    for i in fresh:
        r = records[i]
        ns, npas = len(r.sentences), len(r.passages)
        sentence_parts[i] = vectors[at : at + ns]
        passage_parts[i] = vectors[at + ns : at + ns + npas]
        at += ns + npas
        n_sent += ns
        n_pass += npas
    dim = embedder.dim
    sentence_vectors = (
        np.concatenate(sentence_parts) if sentence_parts else np.zeros((0, dim), np.float32)
    )
    passage_vectors = (
        np.concatenate(passage_parts) if passage_parts else np.zeros((0, dim), np.float32)
    )
    index = Index(
        tuple(records),
        np.ascontiguousarray(sentence_vectors, dtype=np.float32),
        np.ascontiguousarray(passage_vectors, dtype=np.float32),
        _manifest(embedder, settings, records),
    )
    save(index_dir, index)
    report_args.update(embedded_sentences=n_sent, embedded_passages=n_pass)
    return index, SyncReport(**report_args)
