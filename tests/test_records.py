"""Compact records: articles kept as arrays read back exactly; older segments; checked hashes."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag import Assistant, IndexSettings
from rag.checksum import sha256_bytes, sha256_file
from rag.store import CURRENT, FORMAT_VERSION, analyse, load
from rag.store.records import Records, byte_offsets
from rag.store.segment_files import VERIFIED
from rag.types import Document

# Invented places and people; accents, a non-Latin script and characters beyond the
# Basic Multilingual Plane, so that character and byte offsets differ.
ARTICLES = {
    "quay.txt": (
        "Quay fees rise in Målsund\n\n"
        "Harbourmaster Åsa Lindqvist said the fees would rise “by a fifth” in spring.\n"
        "She added that the ferries 🚢 to Ørvik would keep their winter timetable.\n"
    ),
    "ice.txt": (
        "Ice road opens early\n\n"
        '"The ice is thick enough," road engineer Pavel Drozd said on Tuesday.\n'
        "Лёд crossing opened to cars; trucks wait until January.\n"
    ),
    "plain.txt": "A plain ASCII note\n\nMayor Tom Reed said the library would stay open.\n",
}


def _records(embedder):
    settings = IndexSettings()
    return [
        analyse(Document(name, "", text, sha256_bytes(text.encode())), settings, embedder)
        for name, text in ARTICLES.items()
    ]


def test_byte_offsets_follow_utf8():
    text = "aé🚢ж"
    offsets = byte_offsets(text)
    assert offsets is not None and byte_offsets("ascii only") is None
    assert [len(text[:i].encode()) for i in range(len(text) + 1)] == offsets.tolist()


def test_records_read_back_exactly_what_was_packed(embedder):
    analysed = _records(embedder)
    packed = Records.pack(analysed)
    assert len(packed) == 3 and list(packed) == analysed
    assert packed[-1] == analysed[-1] and packed[0:2] == analysed[0:2]
    with pytest.raises(IndexError):
        packed[3]
    g = 0
    for r, record in enumerate(analysed):
        assert packed.document(r) == record.document
        for i, s in enumerate(record.sentences):
            assert packed.sentence_text(g) == record.sentence_text(i)
            assert packed.speaker(g) == s.speaker
            g += 1
    spoken = {(packed.sources[doc], who): ids.tolist() for doc, who, ids in packed.spoken()}
    expected: dict = {}
    g = 0
    for record in analysed:
        for s in record.sentences:
            if s.speaker:
                expected.setdefault((record.document.source, s.speaker), []).append(g)
            g += 1
    assert spoken == expected and expected  # someone speaks in these articles


def _as_format_3(index):
    """Rewrite the live generation's segments as the previous format wrote them."""
    name = (index / CURRENT).read_text()
    manifest = json.loads((index / name).read_text())
    for entry in manifest["segments"]:
        folder = index / entry["name"]
        loaded = load(index)
        assert loaded is not None
        segment = next(s for s in loaded.segments if s.name == entry["name"])
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
        meta = json.loads((folder / "segment.json").read_text())
        for gone in ("articles.json", "people.json", "text.bin", "articles.npy"):
            (folder / gone).unlink()
            del meta["files"][gone]
        for gone in ("sentences.npy", "passages.npy", "passage_terms.npz"):
            (folder / gone).unlink()
            del meta["files"][gone]
        (folder / "documents.json").write_text(json.dumps(documents))
        meta["files"]["documents.json"] = {
            "sha256": sha256_file(folder / "documents.json"),
            "bytes": (folder / "documents.json").stat().st_size,
        }
        meta["format"] = 3
        data = json.dumps(meta).encode()
        (folder / "segment.json").write_bytes(data)
        entry["sha256"] = sha256_bytes(data)
    manifest["format"] = 3
    (index / name).write_text(json.dumps(manifest))


def test_an_index_of_the_previous_format_answers_and_is_rewritten_without_embedding(
    corpus, fresh_index, embedder, assistant
):
    _as_format_3(fresh_index)
    live = Assistant(corpus, fresh_index, embedder=embedder, build=False)
    q = "What did Rutte say about China?"
    assert live.ask(q).quotes == assistant.ask(q).quotes
    assert len(live.people()) == len(assistant.people())
    again = Assistant(corpus, fresh_index, embedder=embedder)
    assert again.report.embedded_sentences == 0 and not again.report.changed
    assert {s.format for s in again._index.segments} == {FORMAT_VERSION}
    assert again.ask(q).quotes == assistant.ask(q).quotes
    assert again.sentences(again.documents()[0].source) == assistant.sentences(
        assistant.documents()[0].source
    )


def _counting(hashed: list[str]):
    """sha256_file, noting the name of each file it hashes."""

    def sha256(path: Path) -> str:
        hashed.append(path.name)
        return sha256_file(path)

    return sha256


def test_a_checked_file_is_not_hashed_again_until_it_changes(
    corpus, fresh_index, embedder, monkeypatch
):
    import rag.store.segment_files as files

    hashed: list[str] = []
    monkeypatch.setattr(files, "sha256_file", _counting(hashed))
    assert load(fresh_index) is not None and hashed  # a copy: other inodes, hashed anew
    hashed.clear()
    assert load(fresh_index) is not None
    assert hashed == []  # hashed once, and not changed since
    loaded = load(fresh_index)
    assert loaded is not None
    (segment,) = loaded.segments
    vectors = fresh_index / segment.name / "sentence_vectors.npy"
    stat = vectors.stat()
    data = bytearray(vectors.read_bytes())
    data[-100] ^= 0xFF
    vectors.write_bytes(bytes(data))
    os.utime(vectors, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # its old time: still hashed
    again = Assistant(corpus, fresh_index, embedder=embedder)
    assert "garbled" in (again.report.rebuilt_because or "")
    # Without the record of checked hashes, every file is hashed and found sound.
    (fresh_index / VERIFIED).unlink()
    hashed.clear()
    assert load(fresh_index) is not None and "sentence_vectors.npy" in hashed


def test_an_index_copied_elsewhere_is_hashed_anew(fresh_index, tmp_path, monkeypatch):
    import rag.store.segment_files as files

    copy = tmp_path / "copy"
    shutil.copytree(fresh_index, copy)
    hashed: list[str] = []
    monkeypatch.setattr(files, "sha256_file", _counting(hashed))
    assert load(copy) is not None and "text.bin" in hashed  # other inodes: checked again
    index = load(copy)
    assert index is not None and np.asarray(index.sentence_vectors).shape[0] == index.size
