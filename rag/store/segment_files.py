"""A segment on disk: its folder of files, their checksums, and loading it back checked.

    seg-<id>/segment.json          format, counts, FAISS types, SHA-256 and size of each file
             articles.json         per article: source, title, text hash; speakers' names
             people.json           per article: the people it names (read on first use)
             text.bin              every article's text, UTF-8, end to end (memory-mapped)
             articles.npy          per article: byte range, first sentence, first passage
             sentences.npy         per sentence: span, paragraph, group, speaker, kind, mode
             passages.npy          per passage: its article and sentence range
             sentence_vectors.npy  one unit row per sentence (rows read as asked for)
             passage_vectors.npy   one unit row per passage
             sentence_terms.npz    term counts of the sentences, by sentence and by term
             passage_terms.npz     term counts of the passages, by term only (BM25)
             *.faiss               the FAISS indexes, for approximate ones only

Format 3 kept the articles as one documents.json (texts, sentences, passages, people);
it is still read, and `pipeline` writes its articles anew in this format on the next
update, with their vectors.

A segment is written into a temporary folder and renamed into place, so a folder
named seg-* is always whole; every file is checked against its size and hash on load.
Hashing gigabytes of vectors on every start would take longer than the rest of
opening, so a file's hash, once checked (or computed when it was written), is
remembered in `<index>/verified.json` with the file's size, inode and modification
and change times (as git remembers its work tree); a file whose stat differs in any
of them is hashed again.
"""

from __future__ import annotations

import json
import mmap
import os
import re
import threading
import uuid
from pathlib import Path

import numpy as np

from rag.analysis.registry import ArticlePerson
from rag.checksum import sha256_bytes, sha256_file, sha256_text
from rag.errors import IndexCorruptError
from rag.lexical import TermCounts
from rag.store.faiss_index import tune
from rag.store.files import (
    StoredRows,
    fsync_dir,
    save_arrays,
    save_npy,
    synced,
    write_synced,
)
from rag.store.records import ARTICLE, PASSAGE, SENTENCE, DocRecord, Records
from rag.store.segment import ROW_KINDS, Segment
from rag.types import SENTENCE_KINDS, SPEECHES, Document, Sentence

FORMAT_VERSION = 4
READABLE = (3, 4)  # the segment formats this version loads
_FILES = {
    3: ("documents.json", "sentence_vectors.npy", "passage_vectors.npy", "sentence_terms.npz"),
    4: (
        "articles.json",
        "people.json",
        "text.bin",
        "articles.npy",
        "sentences.npy",
        "passages.npy",
        "sentence_vectors.npy",
        "passage_vectors.npy",
        "sentence_terms.npz",
        "passage_terms.npz",
    ),
}
VERIFIED = "verified.json"  # in the index folder: hashes checked, by file and stat
_ARRAYS = {"articles.npy": ARTICLE, "sentences.npy": SENTENCE, "passages.npy": PASSAGE}
_SEGMENT = re.compile(r"seg-[0-9a-f]{16}")


def write_segment(index_dir: Path, segment: Segment) -> dict:
    """Save a segment into its own folder (written aside, then renamed); its manifest entry."""
    import faiss

    tmp = index_dir / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    records = segment.records
    articles = {
        "source": list(records.sources),
        "title": list(records.titles),
        "sha256": list(records.sha256),
        "speakers": list(records.speakers),
    }
    write_synced(tmp / "articles.json", json.dumps(articles, ensure_ascii=False).encode("utf-8"))
    people = [[p.to_list() for p in named] for named in records.people]
    write_synced(tmp / "people.json", json.dumps(people, ensure_ascii=False).encode("utf-8"))
    write_synced(tmp / "text.bin", bytes(records.text))
    save_npy(tmp / "articles.npy", np.asarray(records.articles))
    save_npy(tmp / "sentences.npy", np.asarray(records.sentences))
    save_npy(tmp / "passages.npy", np.asarray(records.passages))
    save_npy(tmp / "sentence_vectors.npy", np.asarray(segment.sentence_vectors))
    save_npy(tmp / "passage_vectors.npy", np.asarray(segment.passage_vectors))
    for which in ROW_KINDS:
        with synced(tmp / f"{which[:-1]}_terms.npz") as fh:
            save_arrays(fh, segment.terms(which).to_arrays())
    names = list(_FILES[FORMAT_VERSION])
    for which in ROW_KINDS:
        if segment.kinds[which] != "flat-ip":  # flat is rebuilt from the vectors in a blink
            built = segment.faiss[which]
            write_synced(tmp / f"{which}.faiss", faiss.serialize_index(built).tobytes())
            names.append(f"{which}.faiss")
    files = {
        name: {"sha256": sha256_file(tmp / name), "bytes": (tmp / name).stat().st_size}
        for name in names
    }
    meta = {
        "format": FORMAT_VERSION,
        "sentences": segment.sentences,
        "passages": segment.passages,
        "index_type": segment.kinds,
        "files": files,
    }
    data = json.dumps(meta, indent=1).encode("utf-8")
    write_synced(tmp / "segment.json", data)
    fsync_dir(tmp)
    os.rename(tmp, index_dir / segment.name)
    segment.format = FORMAT_VERSION
    _Verified(index_dir).remember(
        {f"{segment.name}/{n}": index_dir / segment.name / n for n in names}, files
    )
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
    version = meta.get("format", 3)
    if version not in READABLE:
        raise IndexCorruptError(f"segment {name} is of format {version!r}, not one of {READABLE}")
    kinds = meta["index_type"]
    _check_files(index_dir, name, meta["files"])
    wanted = set(_FILES[version]) | {f"{w}.faiss" for w in ROW_KINDS if kinds[w] != "flat-ip"}
    if missing := wanted - set(meta["files"]):
        raise IndexCorruptError(f"segment {name} lacks {', '.join(sorted(missing))}")
    n_sentences, n_passages = int(meta["sentences"]), int(meta["passages"])
    with np.load(folder / "sentence_terms.npz", allow_pickle=False) as arrays:
        terms = TermCounts.from_arrays(dict(arrays), n_sentences)
    passage_terms = None
    if version == 3:
        documents = json.loads((folder / "documents.json").read_text(encoding="utf-8"))
        records = Records.pack([_record(d) for d in documents])
    else:
        records = _records(folder, n_sentences, n_passages)
        with np.load(folder / "passage_terms.npz", allow_pickle=False) as arrays:
            passage_terms = TermCounts.from_arrays(dict(arrays), n_passages)
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
        _rows(folder / "sentence_vectors.npy"),
        _rows(folder / "passage_vectors.npy"),
        terms,
        dim=dim,
        kinds=kinds,
        prebuilt=prebuilt,
        passage_terms=passage_terms,
        format=version,
    )
    segment.entry = dict(entry)
    return segment


def _check_files(index_dir: Path, name: str, files: dict) -> None:
    """IndexCorruptError unless every file of the segment has its recorded size and hash
    (hashed anew unless `verified.json` holds that hash for the file as it stands)."""
    verified = _Verified(index_dir)
    checked = {}
    for file_name, expected in files.items():
        path = index_dir / name / file_name
        if not path.is_file():
            raise IndexCorruptError(f"{name}/{file_name} is missing")
        if path.stat().st_size != expected["bytes"]:
            raise IndexCorruptError(
                f"{name}/{file_name} has {path.stat().st_size} bytes, the manifest says "
                f"{expected['bytes']} (truncated?)"
            )
        key = f"{name}/{file_name}"
        if verified.holds(key, path, expected["sha256"]):
            continue
        if sha256_file(path) != expected["sha256"]:
            raise IndexCorruptError(f"{name}/{file_name} does not match its checksum (garbled)")
        checked[key] = path
    if checked:
        verified.remember(checked, files)


def _records(folder: Path, n_sentences: int, n_passages: int) -> Records:
    """A format-4 segment's articles, checked for consistency (the hashes say the bytes
    are as written; this says the rows fit together)."""
    strings = json.loads((folder / "articles.json").read_text(encoding="utf-8"))
    arrays = {}
    for file_name, dtype in _ARRAYS.items():
        array = np.load(folder / file_name, mmap_mode="r", allow_pickle=False)
        if array.dtype != dtype or array.ndim != 1:
            raise IndexCorruptError(f"{folder.name}/{file_name} holds {array.dtype}, not {dtype}")
        arrays[file_name] = array
    articles, sentences, passages = (arrays[f] for f in _ARRAYS)
    text = _mapped(folder / "text.bin")
    n = len(articles)
    if not all(len(strings[k]) == n for k in ("source", "title", "sha256")):
        raise IndexCorruptError(f"{folder.name}: articles.json does not list {n} articles")
    if len(sentences) != n_sentences or len(passages) != n_passages:
        raise IndexCorruptError(f"{folder.name}: the rows do not match segment.json's counts")
    docs, local = np.asarray(sentences["doc"]), np.asarray(sentences["local"])
    ok = (
        (np.diff(docs) >= 0).all()
        and (docs[:1] >= 0).all()
        and (docs < n).all()
        and (np.asarray(sentences["bstart"]) >= 0).all()
        and (np.asarray(sentences["bend"]) <= len(text)).all()
        and (np.asarray(sentences["speaker"]) < len(strings["speakers"])).all()
        and (np.asarray(sentences["kind"]) < len(SENTENCE_KINDS)).all()
        and (np.asarray(sentences["speech"]) <= len(SPEECHES)).all()
        and (np.asarray(passages["first"]) < np.asarray(passages["last"])).all()
        and (np.asarray(passages["last"]) <= n_sentences).all()
        and (np.asarray(articles["bend"]) <= len(text)).all()
        and (local == np.arange(len(local)) - np.asarray(articles["sentence"])[docs]).all()
    )
    if not ok:
        raise IndexCorruptError(f"{folder.name}: its article, sentence and passage rows disagree")

    named = _mapped(folder / "people.json")  # mapped now: read after the folder has gone

    def people() -> list[tuple[ArticlePerson, ...]]:
        try:
            rows = json.loads(bytes(named).decode("utf-8"))
            return [tuple(ArticlePerson.from_list(p) for p in named) for named in rows]
        except (ValueError, TypeError) as exc:
            raise IndexCorruptError(f"{folder.name}/people.json cannot be read: {exc}") from exc

    return Records(
        strings["source"],
        strings["title"],
        strings["sha256"],
        strings["speakers"],
        text,
        articles,
        sentences,
        passages,
        people,
    )


def _rows(path: Path) -> StoredRows:
    try:
        return StoredRows(path)
    except ValueError as exc:
        raise IndexCorruptError(f"{path.parent.name}/{path.name}: {exc}") from exc


def _mapped(path: Path) -> bytes | memoryview:
    """A file's bytes, memory-mapped (read-only) unless it is empty."""
    if path.stat().st_size == 0:
        return b""
    with path.open("rb") as fh:
        return memoryview(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ))


class _Verified:
    """`<index>/verified.json`: the hashes already checked, by file and stat."""

    _lock = threading.Lock()

    def __init__(self, index_dir: Path) -> None:
        self.path = index_dir / VERIFIED

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _stat(path: Path) -> list[int]:
        st = path.stat()
        return [st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns]

    def holds(self, key: str, path: Path, sha256: str) -> bool:
        """Whether the file was hashed to `sha256` and has not changed since."""
        if not hasattr(self, "_data"):
            self._data = self._read()
        return self._data.get(key) == [*self._stat(path), sha256]

    def remember(self, paths: dict[str, Path], files: dict) -> None:
        """Record the hashes of these files (key -> path; `files`: name -> its entry),
        dropping the entries of segments that no longer exist. Best effort: an index
        folder that cannot be written is hashed in full each time."""
        with self._lock:
            data = {k: v for k, v in self._read().items() if (self.path.parent / k).parent.is_dir()}
            for key, path in paths.items():
                data[key] = [*self._stat(path), files[path.name]["sha256"]]
            tmp = self.path.with_name(f".tmp-{uuid.uuid4().hex}")
            try:
                write_synced(tmp, json.dumps(data).encode("utf-8"))
                os.replace(tmp, self.path)
            except OSError:
                tmp.unlink(missing_ok=True)


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
