"""A segment on disk: its folder of files, their checksums, and loading it back checked.

    seg-<id>/segment.json          format, counts, FAISS types, SHA-256 and size of each file
             documents.json        the articles: text, title, hash, sentences, passages
             sentence_vectors.npy  one unit row per sentence (memory-mapped on load)
             passage_vectors.npy   one unit row per passage
             sentence_terms.npz    term counts of the sentences (BM25)
             *.faiss               the FAISS indexes, for approximate ones only

A segment is written into a temporary folder and renamed into place, so a folder
named seg-* is always whole; every file is checked against its size and hash on load.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path

import numpy as np

from rag.analysis.registry import ArticlePerson
from rag.checksum import sha256_bytes, sha256_file, sha256_text
from rag.errors import IndexCorruptError
from rag.lexical import TermCounts
from rag.store.faiss_index import tune
from rag.store.files import fsync_dir, save_npy, synced, write_synced
from rag.store.segment import ROW_KINDS, DocRecord, Segment
from rag.types import SENTENCE_KINDS, SPEECHES, Document, Sentence

FORMAT_VERSION = 3
_FILES = ("documents.json", "sentence_vectors.npy", "passage_vectors.npy", "sentence_terms.npz")
_SEGMENT = re.compile(r"seg-[0-9a-f]{16}")


def write_segment(index_dir: Path, segment: Segment) -> dict:
    """Save a segment into its own folder (written aside, then renamed); its manifest entry."""
    import faiss

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
            "people": [p.to_list() for p in r.people],
        }
        for r in segment.records
    ]
    write_synced(tmp / "documents.json", json.dumps(documents, ensure_ascii=False).encode("utf-8"))
    save_npy(tmp / "sentence_vectors.npy", np.asarray(segment.sentence_vectors))
    save_npy(tmp / "passage_vectors.npy", np.asarray(segment.passage_vectors))
    with synced(tmp / "sentence_terms.npz") as fh:
        terms = segment.sentence_terms.to_arrays()
        np.savez(
            fh,
            vocab=terms["vocab"],
            indptr=terms["indptr"],
            indices=terms["indices"],
            data=terms["data"],
        )
    names = list(_FILES)
    for which in ROW_KINDS:
        if segment.kinds[which] != "flat-ip":  # flat is rebuilt from the vectors in a blink
            built = segment.faiss[which]
            write_synced(tmp / f"{which}.faiss", faiss.serialize_index(built).tobytes())
            names.append(f"{which}.faiss")
    meta = {
        "format": FORMAT_VERSION,
        "sentences": segment.sentences,
        "passages": segment.passages,
        "index_type": segment.kinds,
        "files": {
            name: {"sha256": sha256_file(tmp / name), "bytes": (tmp / name).stat().st_size}
            for name in names
        },
    }
    data = json.dumps(meta, indent=1).encode("utf-8")
    write_synced(tmp / "segment.json", data)
    fsync_dir(tmp)
    os.rename(tmp, index_dir / segment.name)
    return _entry(segment, sha256_bytes(data))


def _entry(segment: Segment, sha256: str) -> dict:
    return {
        "name": segment.name,
        "sha256": sha256,
        "sentences": segment.sentences,
        "passages": segment.passages,
        "index_type": segment.kinds,
    }


def load_segment(index_dir: Path, entry: dict, dim: int) -> Segment:
    name = entry["name"]
    if not isinstance(name, str) or not _SEGMENT.fullmatch(name):
        raise IndexCorruptError(f"the generation names {name!r}, which is not a segment")
    folder = index_dir / name
    try:
        data = (folder / "segment.json").read_bytes()
    except OSError as exc:
        raise IndexCorruptError(f"segment {name} is missing or unreadable: {exc}") from exc
    if sha256_bytes(data) != entry["sha256"]:
        raise IndexCorruptError(f"segment.json of {name} does not match its checksum (garbled)")
    meta = json.loads(data)
    kinds = meta["index_type"]
    for file_name, expected in meta["files"].items():
        path = folder / file_name
        if not path.is_file():
            raise IndexCorruptError(f"{name}/{file_name} is missing")
        if path.stat().st_size != expected["bytes"]:
            raise IndexCorruptError(
                f"{name}/{file_name} has {path.stat().st_size} bytes, the manifest says "
                f"{expected['bytes']} (truncated?)"
            )
        if sha256_file(path) != expected["sha256"]:
            raise IndexCorruptError(f"{name}/{file_name} does not match its checksum (garbled)")
    wanted = set(_FILES) | {f"{w}.faiss" for w in ROW_KINDS if kinds[w] != "flat-ip"}
    if missing := wanted - set(meta["files"]):
        raise IndexCorruptError(f"segment {name} lacks {', '.join(sorted(missing))}")
    documents = json.loads((folder / "documents.json").read_text(encoding="utf-8"))
    records = tuple(_record(d) for d in documents)
    with np.load(folder / "sentence_terms.npz", allow_pickle=False) as arrays:
        terms = TermCounts.from_arrays(dict(arrays), int(meta["sentences"]))
    prebuilt = {}
    for which in ROW_KINDS:
        if kinds[which] != "flat-ip":
            import faiss

            raw = np.frombuffer((folder / f"{which}.faiss").read_bytes(), dtype=np.uint8)
            prebuilt[which] = faiss.deserialize_index(raw)
            tune(prebuilt[which], kinds[which])
    segment = Segment(
        name,
        records,
        np.load(folder / "sentence_vectors.npy", mmap_mode="r", allow_pickle=False),
        np.load(folder / "passage_vectors.npy", mmap_mode="r", allow_pickle=False),
        terms,
        dim=dim,
        kinds=kinds,
        prebuilt=prebuilt,
    )
    segment.entry = dict(entry)
    return segment


def _record(d: dict) -> DocRecord:
    text = d["text"]
    document = Document(d["source"], d["title"], text, d["sha256"])
    if sha256_text(text) != document.sha256:
        raise IndexCorruptError(f"stored text of {document.source} does not match its hash")
    sentences = tuple(_sentence(row, document.source) for row in d["sentences"])
    for s in sentences:
        if not 0 <= s.start < s.end <= len(text):
            raise IndexCorruptError(f"sentence span {s.start}:{s.end} outside {document.source}")
    passages = tuple((int(a), int(b)) for a, b in d["passages"])
    for a, b in passages:
        if not 0 <= a < b <= len(sentences):
            raise IndexCorruptError(f"passage {a}:{b} outside {document.source}")
    try:
        people = tuple(ArticlePerson.from_list(p) for p in d.get("people", ()))
    except (TypeError, ValueError) as exc:
        raise IndexCorruptError(f"people of {document.source} cannot be read: {exc}") from exc
    return DocRecord(document, sentences, passages, people)


def _sentence(row: list, source: str) -> Sentence:
    a, b, kind, paragraph, group, speaker, speech = row
    if kind not in SENTENCE_KINDS or speech not in (None, *SPEECHES):
        raise IndexCorruptError(f"a sentence of {source} is of kind {kind!r}, speech {speech!r}")
    return Sentence(int(a), int(b), kind, int(paragraph), int(group), speaker, speech)
